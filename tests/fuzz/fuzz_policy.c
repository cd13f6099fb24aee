/* SPDX-License-Identifier: MIT */
/*
 * fuzz_policy.c — libFuzzer harness of the policy file's reader
 * (src/policy/policy_load.c, ipcn__policy_parse): the input is the file.
 *
 * Properties checked besides ASan/UBSan's: the status is 100, 200 or 307;
 * a refusal leaves no policy and says "fuzz.yaml:LINE: reason" (or "out of
 * memory"), one line; an accepted policy keeps the bounds (4096 rules, 256
 * groups, 256 items per list), every rule has verbs, a "who" and a "what"
 * whose patterns are valid, every group a rule or member names is defined
 * (and no member names one), needs_exe is set exactly when a condition is
 * exe: or sha256: (or a component names a sha256), and the decision of a
 * few principals on a few paths answers 100, 201 or 202 without faults.
 * The guard (limits, reputation, detect: guard_load.c) keeps its bounds:
 * 1024 limits, 256 components, rates, bursts, durations and scores in
 * range, ban_below <= quarantine_below < 0, an absent section left as
 * ipcn__guard_defaults() has it.
 *
 * Seeds (corpus/policy/, written by hand): valid policies of each profile
 * and shape, and refused ones (syntax, anchors, tags, nesting, unknown
 * keys and verbs, bad selectors and patterns), with and without the guard
 * sections (guard-*, bad-guard-*).  Dictionary: policy.dict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "policy/policy.h"
#include "util/util.h"

static int fp_needs_exe(const ipcn__selector *s)
{
    for (uint32_t i = 0; i < s->nconds; i++)
        if (s->conds[i].kind == IPCN__C_EXE ||
            s->conds[i].kind == IPCN__C_SHA256)
            return 1;
    return 0;
}

static int fp_group_defined(const ipcn__policy *p, const char *name)
{
    for (uint32_t i = 0; i < p->ngroups; i++)
        if (!strcmp(p->groups[i].name, name))
            return 1;
    return 0;
}

static void fp_check_selector(const ipcn__policy *p, const ipcn__selector *s,
                              int member, int *exe)
{
    char buf[256];
    FUZZ_ASSERT(s->nconds >= 1);
    ipcn__selector_format(s, buf, sizeof buf);
    for (uint32_t q = 0; q < s->nconds; q++) {
        if (s->conds[q].kind != IPCN__C_GROUP)
            continue;
        FUZZ_ASSERT(!member);
        FUZZ_ASSERT(fp_group_defined(p, s->conds[q].text));
    }
    *exe |= fp_needs_exe(s);
}

static void fp_check_selectors(const ipcn__policy *p, const ipcn__selector *s,
                               uint32_t n, int *exe)
{
    FUZZ_ASSERT(n <= 256);
    for (uint32_t i = 0; i < n; i++)
        fp_check_selector(p, &s[i], 0, exe);
}

static void fp_check_rate(const ipcn__rate *r, double max, int bytes)
{
    FUZZ_ASSERT(r->per_s >= 0 && r->per_s <= max);
    if (r->per_s == 0)
        FUZZ_ASSERT(r->burst == 0);
    else if (bytes)
        FUZZ_ASSERT(r->burst == r->per_s);
    else
        FUZZ_ASSERT(r->burst >= 1 && r->burst <= 1e9);
}

static void fp_check_guard(const ipcn__policy *p, int *exe)
{
    const ipcn__guard *g = &p->guard;
    ipcn__guard def;
    ipcn__guard_defaults(&def);
    const uint64_t day30 = 30ull * 24 * 3600 * 1000;
    FUZZ_ASSERT(g->nlimits <= 1024);
    for (uint32_t i = 0; i < g->nlimits; i++) {
        const ipcn__limit *l = &g->limits[i];
        FUZZ_ASSERT(l->line >= 1);
        fp_check_selectors(p, l->who, l->nwho, exe);
        FUZZ_ASSERT(l->nwhat <= 256);
        for (uint32_t j = 0; j < l->nwhat; j++)
            FUZZ_ASSERT(ipcn__pattern_check(l->what[j], strlen(l->what[j])) ==
                        IPCN_OK);
        fp_check_rate(&l->requests, 1e9, 0);
        fp_check_rate(&l->samples, 1e9, 0);
        fp_check_rate(&l->bytes, 1e12, 1);
        fp_check_rate(&l->connections, 1e9, 0);
        FUZZ_ASSERT(l->inflight <= 1000000 && l->subscriptions <= 1000000 &&
                    l->announcements <= 1000000);
    }
    const ipcn__reputation_cfg *r = &g->rep;
    FUZZ_ASSERT(r->ban_below <= r->quarantine_below && r->quarantine_below < 0);
    FUZZ_ASSERT(r->ban_below >= -1000000000);
    FUZZ_ASSERT(r->half_life_ms >= 1 && r->half_life_ms <= day30);
    FUZZ_ASSERT(r->quarantine_ms >= 1 && r->quarantine_ms <= day30);
    FUZZ_ASSERT(r->quarantine_max_ms >= r->quarantine_ms &&
                r->quarantine_max_ms <= day30);
    for (uint32_t k = 0; k < IPCN__OFF_COUNT; k++)
        FUZZ_ASSERT(r->penalty[k] <= 100000);
    FUZZ_ASSERT(r->follow <= IPCN__FOLLOW_ANY);
    FUZZ_ASSERT(r->agree >= 1 && r->agree <= 64);
    FUZZ_ASSERT(r->follow != IPCN__FOLLOW_TRUSTED || r->ntrusted >= 1);
    fp_check_selectors(p, r->white, r->nwhite, exe);
    fp_check_selectors(p, r->black, r->nblack, exe);
    fp_check_selectors(p, r->trusted, r->ntrusted, exe);
    if (!r->enabled)
        FUZZ_ASSERT(memcmp(r, &def.rep, sizeof *r) == 0);
    const ipcn__detect_cfg *d = &g->detect;
    FUZZ_ASSERT(d->action <= IPCN__ACT_SHUTDOWN);
    FUZZ_ASSERT(d->anomaly_factor == 0 ||
                (d->anomaly_factor > 1 && d->anomaly_factor <= 1e6 &&
                 d->anomaly_ms >= 1 && d->anomaly_ms <= day30));
    FUZZ_ASSERT(d->violations >= 1 && d->violations <= 1000000);
    FUZZ_ASSERT(d->violations_ms >= 1 && d->violations_ms <= day30);
    FUZZ_ASSERT(d->ncomponents <= 256);
    for (uint32_t i = 0; i < d->ncomponents; i++) {
        const ipcn__component *k = &d->components[i];
        FUZZ_ASSERT(k->line >= 1 && k->nwho >= 1);
        fp_check_selectors(p, k->who, k->nwho, exe);
        FUZZ_ASSERT(k->action <= IPCN__ACT_SHUTDOWN && k->criticality <= 3);
        *exe |= k->has_sha256;
    }
    if (!d->enabled)
        FUZZ_ASSERT(memcmp(d, &def.detect, sizeof *d) == 0);
}

static void fp_check(const ipcn__policy *p)
{
    int exe = 0;
    FUZZ_ASSERT(p->profile == IPCN__PROFILE_ALLOW ||
                p->profile == IPCN__PROFILE_DENY ||
                p->profile == IPCN__PROFILE_AUDIT);
    FUZZ_ASSERT(p->nrules <= 4096 && p->ngroups <= 256);
    for (uint32_t i = 0; i < p->ngroups; i++) {
        const ipcn__group *g = &p->groups[i];
        FUZZ_ASSERT(g->name && g->name[0] && g->line >= 1);
        FUZZ_ASSERT(g->nmembers >= 1 && g->nmembers <= 256);
        for (uint32_t j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(p->groups[j].name, g->name) != 0);
        for (uint32_t j = 0; j < g->nmembers; j++)
            fp_check_selector(p, &g->members[j], 1, &exe);
    }
    for (uint32_t i = 0; i < p->nrules; i++) {
        const ipcn__rule *r = &p->rules[i];
        FUZZ_ASSERT(r->verbs && !(r->verbs & ~(uint32_t)IPCN__V_ALL));
        FUZZ_ASSERT(r->line >= 1);
        FUZZ_ASSERT(r->nwho >= 1 && r->nwho <= 256);
        FUZZ_ASSERT(r->nwhat >= 1 && r->nwhat <= 256);
        for (uint32_t j = 0; j < r->nwho; j++)
            fp_check_selector(p, &r->who[j], 0, &exe);
        for (uint32_t j = 0; j < r->nwhat; j++)
            FUZZ_ASSERT(ipcn__pattern_check(r->what[j], strlen(r->what[j])) ==
                        IPCN_OK);
    }
    fp_check_guard(p, &exe);
    FUZZ_ASSERT(!!p->needs_exe == !!exe);
}

static void fp_decide(const ipcn__policy *p)
{
    static const char *const paths[] = {"motors/cmd", "camera/front/image",
                                        "a", "tools/x"};
    ipcn__principal who[3] = {
        {.uid = 0, .gid = 0, .creds_known = true, .name = "cam-1",
         .exe = "/usr/bin/true"},
        {.uid = 1000, .gid = 1000, .ngroups = 2, .groups = {27, 44},
         .creds_known = true, .exe_hashed = true},
        {0}, /* nothing known */
    };
    for (size_t w = 0; w < 3; w++) {
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            for (uint32_t v = 1; v <= IPCN__V_PROVIDE; v <<= 1) {
                ipcn__decision d;
                int st = ipcn__policy_decide(p, NULL, &who[w], v, paths[i],
                                             strlen(paths[i]), &d);
                FUZZ_ASSERT(st == IPCN_OK || st == IPCN_UNAUTHORIZED ||
                            st == IPCN_FORBIDDEN);
                FUZZ_ASSERT(d.rule >= -1 && d.rule < (int32_t)p->nrules);
                FUZZ_ASSERT(p->profile != IPCN__PROFILE_AUDIT ||
                            st == IPCN_OK);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan then sees any read past the given length. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    ipcn__policy *p = NULL;
    char why[512];
    why[0] = 0;
    int st = ipcn__policy_parse(copy, size, "fuzz.yaml", &p, why, sizeof why);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_INSUFFICIENT_MEMORY);
    if (st == IPCN_OK) {
        FUZZ_ASSERT(p != NULL);
        fp_check(p);
        fp_decide(p);
        ipcn__policy_free(p);
    } else {
        FUZZ_ASSERT(p == NULL);
        FUZZ_ASSERT(strncmp(why, "fuzz.yaml:", 10) == 0);
        FUZZ_ASSERT(strchr(why, '\n') == NULL);
    }
    free(copy);
    return 0;
}

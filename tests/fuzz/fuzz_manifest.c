/* SPDX-License-Identifier: MIT */
/*
 * fuzz_manifest.c — libFuzzer harness of the supervisor's launch manifest
 * reader (tools/supervisor/manifest*.c, sup_manifest_parse): the input is
 * the file.
 *
 * Properties checked besides ASan/UBSan's: the status is 100, 200 or 307;
 * a refusal leaves *out as it was and says "fuzz.yaml:LINE: reason" (or
 * "out of memory"), one line; an accepted manifest keeps its rules: the
 * robot a name of at most 60 bytes; store, state, the directory and each
 * component's directory absolute and clean (no "//", no "/./", no trailing
 * slash); 1 to 256 components with distinct names and distinct node names,
 * none the supervisor's own ("sup.<robot>"); a command of 1 to 256
 * non-empty words, NULL-terminated; an environment of KEY=VALUE entries,
 * NULL-terminated, none of the supervisor's variables; a dependency is a
 * valid resource pattern or another component, named once; every number
 * within its documented range (backoff_max_ms >= backoff_ms, a health
 * timeout within its interval); the start order a permutation in which
 * every dependency comes before its dependents; sup_manifest_find() finds
 * each component.
 *
 * Seeds (corpus/manifest/, written by hand): valid manifests (the header's
 * example, a minimal one, flow and block styles, resource dependencies, a
 * long chain) and refused ones (cycles, unknown keys, bad numbers, anchors,
 * aliases, tags, nesting, duplicates).  Dictionary: manifest.dict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "manifest.h"
#include "util/util.h"

static int fm_clean_abs(const char *p)
{
    size_t n = strlen(p);
    return p[0] == '/' && !strstr(p, "//") && !strstr(p, "/./") &&
           (n == 1 || p[n - 1] != '/') &&
           !(n >= 2 && !strcmp(p + n - 2, "/."));
}

static int fm_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n <= max && ipcn__name_check(s, n) == IPCN_OK;
}

static void fm_check_numbers(const sup_component *k)
{
    FUZZ_ASSERT(k->criticality >= IPCN_CRIT_OPTIONAL &&
                k->criticality <= IPCN_CRIT_CRITICAL);
    FUZZ_ASSERT(k->ready_timeout_ms >= 1 && k->ready_timeout_ms <= 3600000);
    FUZZ_ASSERT(k->when <= SUP_RESTART_NEVER);
    FUZZ_ASSERT(k->strategy <= SUP_REST_FOR_ONE);
    FUZZ_ASSERT(k->intensity <= 1000);
    FUZZ_ASSERT(k->period_ms >= 1 && k->period_ms <= 86400000);
    FUZZ_ASSERT(k->backoff_ms >= 1 && k->backoff_max_ms <= 3600000);
    FUZZ_ASSERT(k->backoff_max_ms >= k->backoff_ms);
    FUZZ_ASSERT(k->health_interval_ms >= 10 &&
                k->health_interval_ms <= 3600000);
    FUZZ_ASSERT(k->health_timeout_ms >= 1 &&
                k->health_timeout_ms <= k->health_interval_ms);
    FUZZ_ASSERT(k->tries >= 1 && k->tries <= 100);
    FUZZ_ASSERT(k->bless_after_ms <= 86400000);
    FUZZ_ASSERT(k->phase >= SUP_PHASE_PRODUCER && k->phase <= SUP_PHASE_REST);
    FUZZ_ASSERT(k->stop_deadline_ms >= 1 && k->stop_deadline_ms <= 600000);
    FUZZ_ASSERT(k->kill_after_ms >= 1 && k->kill_after_ms <= 600000);
    FUZZ_ASSERT(k->safe_deadline_ms >= 1 && k->safe_deadline_ms <= 600000);
    if (k->safe_request)
        FUZZ_ASSERT(k->has_safe_state);
}

static void fm_check_comp(const sup_manifest *m, size_t i)
{
    static const char *const reserved[] = {
        "IPCNET_COMPONENT=", "IPCNET_ROBOT=", "IPCNET_CRITICALITY=",
        "IPCNET_COMPONENT_VERSION=", "IPCNET_VERSION_DIR=", NULL};
    const sup_component *k = &m->comps[i];
    FUZZ_ASSERT(k->line >= 1);
    FUZZ_ASSERT(fm_name(k->name, SUP_NAME_MAX) && fm_name(k->node, 64));
    FUZZ_ASSERT(strncmp(k->node, "sup.", 4) || strcmp(k->node + 4, m->robot));
    for (size_t j = 0; j < i; j++) {
        FUZZ_ASSERT(strcmp(m->comps[j].name, k->name) != 0);
        FUZZ_ASSERT(strcmp(m->comps[j].node, k->node) != 0);
    }
    FUZZ_ASSERT(sup_manifest_find(m, k->name) == k);
    FUZZ_ASSERT(k->argc >= 1 && k->argc <= 256 && k->argv[k->argc] == NULL);
    for (size_t j = 0; j < k->argc; j++)
        FUZZ_ASSERT(k->argv[j] && k->argv[j][0]);
    FUZZ_ASSERT(k->env && k->nenv <= 256 && k->env[k->nenv] == NULL);
    for (size_t j = 0; j < k->nenv; j++) {
        const char *eq = strchr(k->env[j], '=');
        FUZZ_ASSERT(eq && eq > k->env[j]);
        for (const char *const *r = reserved; *r; r++)
            FUZZ_ASSERT(strncmp(k->env[j], *r, strlen(*r)) != 0);
    }
    FUZZ_ASSERT(fm_clean_abs(k->dir));
    if (k->versioned)
        FUZZ_ASSERT(!strcmp(k->dir, m->dir));
    FUZZ_ASSERT(k->ndeps <= 256);
    for (size_t d = 0; d < k->ndeps; d++) {
        const sup_dep *dep = &k->deps[d];
        if (dep->resource) {
            FUZZ_ASSERT(ipcn__pattern_check(dep->name, strlen(dep->name)) ==
                        IPCN_OK);
        } else {
            FUZZ_ASSERT(dep->index < m->ncomps && dep->index != i);
            FUZZ_ASSERT(!strcmp(dep->name, m->comps[dep->index].name));
        }
        for (size_t e = 0; e < d; e++)
            FUZZ_ASSERT(k->deps[e].resource != dep->resource ||
                        strcmp(k->deps[e].name, dep->name) != 0);
    }
    if (k->health_service)
        FUZZ_ASSERT(ipcn__path_check(k->health_service,
                                     strlen(k->health_service)) == IPCN_OK);
    if (k->safe_request)
        FUZZ_ASSERT(ipcn__path_check(k->safe_request,
                                     strlen(k->safe_request)) == IPCN_OK);
    fm_check_numbers(k);
}

static void fm_check(const sup_manifest *m)
{
    FUZZ_ASSERT(!strcmp(m->path, "fuzz.yaml"));
    FUZZ_ASSERT(!strcmp(m->dir, "/robots/fuzz"));
    FUZZ_ASSERT(fm_name(m->robot, 60));
    FUZZ_ASSERT(fm_clean_abs(m->store) && fm_clean_abs(m->state));
    FUZZ_ASSERT(strcmp(m->store, m->state) != 0);
    FUZZ_ASSERT(m->ncomps >= 1 && m->ncomps <= 256);
    for (size_t i = 0; i < m->ncomps; i++)
        fm_check_comp(m, i);
    /* the order: each component once, after its dependencies */
    size_t *at = malloc(m->ncomps * sizeof *at);
    FUZZ_ASSERT(at);
    for (size_t i = 0; i < m->ncomps; i++)
        at[i] = SIZE_MAX;
    for (size_t o = 0; o < m->ncomps; o++) {
        FUZZ_ASSERT(m->order[o] < m->ncomps && at[m->order[o]] == SIZE_MAX);
        at[m->order[o]] = o;
    }
    for (size_t i = 0; i < m->ncomps; i++)
        for (size_t d = 0; d < m->comps[i].ndeps; d++)
            if (!m->comps[i].deps[d].resource)
                FUZZ_ASSERT(at[m->comps[i].deps[d].index] < at[i]);
    free(at);
    FUZZ_ASSERT(sup_manifest_find(m, "no such component!") == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan then sees any read past the given length. */
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    sup_manifest *m = NULL;
    char why[512];
    why[0] = 0;
    int st = sup_manifest_parse(copy, size, "fuzz.yaml", "/robots/fuzz", &m,
                                why, sizeof why);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_INSUFFICIENT_MEMORY);
    if (st == IPCN_OK) {
        FUZZ_ASSERT(m != NULL);
        fm_check(m);
        sup_manifest_free(m);
    } else {
        FUZZ_ASSERT(m == NULL);
        FUZZ_ASSERT(strncmp(why, "fuzz.yaml:", 10) == 0);
        FUZZ_ASSERT(strchr(why, '\n') == NULL);
    }
    free(copy);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * guard.c — the guard's defaults and its freeing (guard.h); reading it
 * from the policy file is guard_load.c's.
 */
#include <string.h>

#include "policy/guard.h"
#include "policy/policy.h"
#include "util/util.h"

void ipcn__guard_defaults(ipcn__guard *g)
{
    static const uint32_t penalty[IPCN__OFF_COUNT] = {
        [IPCN__OFF_BAD_FRAME] = 20,   [IPCN__OFF_DENIED] = 2,
        [IPCN__OFF_RATE_LIMITED] = 5, [IPCN__OFF_FAILED] = 2,
        [IPCN__OFF_TIMEOUT] = 2,      [IPCN__OFF_VERIFY] = 50,
        [IPCN__OFF_ANOMALY] = 20,     [IPCN__OFF_CONNECTIONS] = 10,
        [IPCN__OFF_COMPROMISE] = 1000, [IPCN__OFF_DISSENT] = 5,
    };
    memset(g, 0, sizeof *g);
    g->rep.quarantine_below = -100;
    g->rep.ban_below = -1000;
    g->rep.half_life_ms = 60000;
    g->rep.quarantine_ms = 10000;
    g->rep.quarantine_max_ms = 3600000;
    memcpy(g->rep.penalty, penalty, sizeof penalty);
    g->rep.follow = IPCN__FOLLOW_AGREE;
    g->rep.agree = 2;
    g->detect.violations = 20;
    g->detect.violations_ms = 1000;
    g->detect.action = IPCN__ACT_REPORT;
}

static void selectors_free(ipcn__selector *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ipcn__selector_clear(&s[i]);
    ipcn__free(s);
}

void ipcn__guard_clear(ipcn__guard *g)
{
    for (uint32_t i = 0; i < g->nlimits; i++) {
        ipcn__limit *l = &g->limits[i];
        selectors_free(l->who, l->nwho);
        for (uint32_t j = 0; j < l->nwhat; j++)
            ipcn__free(l->what[j]);
        ipcn__free(l->what);
    }
    ipcn__free(g->limits);
    selectors_free(g->rep.white, g->rep.nwhite);
    selectors_free(g->rep.black, g->rep.nblack);
    selectors_free(g->rep.trusted, g->rep.ntrusted);
    for (uint32_t i = 0; i < g->detect.ncomponents; i++)
        selectors_free(g->detect.components[i].who,
                       g->detect.components[i].nwho);
    ipcn__free(g->detect.components);
    ipcn__guard_defaults(g);
}

const char *ipcn__offence_name(ipcn__offence k)
{
    static const char *const names[IPCN__OFF_COUNT] = {
        "bad_frame", "denied", "rate_limited", "failed", "timeout",
        "verify_failed", "anomaly", "connections", "compromise", "dissent",
    };
    return (unsigned)k < IPCN__OFF_COUNT ? names[k] : "?";
}

/* SPDX-License-Identifier: MIT */
/*
 * policy.c — the network policy of the rows "100-rule policy" (issue 14:
 * the gate with a 100-rule policy must add at most 5 % to the 64 B round
 * trip and the 64 B throughput).  A default-deny policy of 100 rules as a
 * robot's could be: other users, Unix groups, IPCNet groups, node-name
 * patterns, executables and their hashes, on other resources, allow and
 * deny; the benchmark's own nodes (this user, rtt-* and thr-*) are allowed
 * by the last rule only, and a deny rule before it names their paths
 * (bench/...) for someone else, so that a decision walks the whole list.  Written to the
 * benchmark's own directory, owned by this user, mode 0644, and given to
 * both processes of a row with $IPCNET_POLICY.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

/* First id of a block of 1000 that the benchmark's principal is not in. */
static unsigned free_ids(unsigned base, bool gids)
{
    gid_t g[256];
    int ng = gids ? getgroups(256, g) : 0;
    for (;; base += 1000) {
        bool clash = false;
        unsigned mine = gids ? (unsigned)getegid() : (unsigned)geteuid();
        clash |= mine >= base && mine < base + 1000;
        for (int i = 0; i < ng; i++)
            clash |= (unsigned)g[i] >= base && (unsigned)g[i] < base + 1000;
        if (!clash)
            return base;
    }
}

/* Rule k of the 98 that concern others. */
static void other_rule(FILE *f, int k, unsigned uid0, unsigned gid0)
{
    switch (k % 8) {
    case 0:
        fprintf(f, "  - allow: read\n    who: \"unix_group:%u\"\n"
                   "    what: [\"diag/**\", \"status/%d/*\"]\n", gid0 + k, k);
        break;
    case 1:
        fprintf(f, "  - allow: [read, execute]\n    who: \"group:operators\"\n"
                   "    what: \"motors/%d/cmd\"\n", k);
        break;
    case 2:
        fprintf(f, "  - deny: execute\n    who: \"node:sim-*\"\n"
                   "    what: [\"motors/**\", \"arm/%d/**\"]\n", k);
        break;
    case 3:
        fprintf(f, "  - allow: provide\n    who: \"user:%u node:driver-%d\"\n"
                   "    what: \"drivers/%d/**\"\n", uid0 + k, k, k);
        break;
    case 4:
        fprintf(f, "  - allow: read\n    who: [\"node:cam-%d*\", \"group:perception\"]\n"
                   "    what: \"camera/%d/*\"\n", k, k);
        break;
    case 5:
        fprintf(f, "  - deny: write\n    who: any\n    what: \"params/%d/locked/**\"\n",
                k);
        break;
    case 6:
        fprintf(f, "  - allow: all\n    who: \"exe:/usr/lib/robot/planner-%d\"\n"
                   "    what: \"plan/%d/**\"\n", k, k);
        break;
    default: {
        char hex[65];
        for (int i = 0; i < 4; i++)
            snprintf(hex + 16 * i, 17, "%016llx",
                     (unsigned long long)mix64((uint64_t)k * 4 + (uint64_t)i));
        fprintf(f, "  - allow: [read, write]\n    who: \"sha256:%s user:%u\"\n"
                   "    what: \"params/%d/**\"\n", hex, uid0 + k, k);
        break;
    }
    }
}

int bench_policy_write(const char *dir, char *out, size_t cap, char *err,
                       size_t errcap)
{
    snprintf(out, cap, "%s/policy-100.yaml", dir);
    FILE *f = fopen(out, "w");
    if (!f) {
        snprintf(err, errcap, "%s: %s", out, strerror(errno));
        return -1;
    }
    unsigned uid0 = free_ids(20000, false), gid0 = free_ids(30000, true);
    fprintf(f, "# ipcnet-bench: 100 rules, the benchmark's nodes allowed by the "
               "last\nversion: 1\ndefault: deny\ngroups:\n"
               "  operators: [\"unix_group:%u\", \"user:%u\"]\n"
               "  perception: [\"node:cam-*\", \"node:lidar-*\"]\n"
               "  drivers: [\"node:driver-*\", \"user:%u\"]\nrules:\n",
            gid0 + 999, uid0 + 999, uid0 + 998);
    for (int k = 0; k < 98; k++)
        other_rule(f, k, uid0, gid0);
    fprintf(f, "  - deny: [execute, provide]\n    who: \"user:%u node:thr-*\"\n"
               "    what: \"bench/**\"\n", uid0 + 100);
    fprintf(f, "  - allow: all\n    who: [\"user:%u node:rtt-*\", \"user:%u "
               "node:thr-*\"]\n    what: \"bench/**\"\n",
            (unsigned)geteuid(), (unsigned)geteuid());
    if (fclose(f) != 0 || chmod(out, 0644) != 0) {
        snprintf(err, errcap, "%s: %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

int bench_limits_write(const char *dir, char *out, size_t cap, char *err,
                       size_t errcap)
{
    snprintf(out, cap, "%s/policy-limits.yaml", dir);
    FILE *f = fopen(out, "w");
    if (!f) {
        snprintf(err, errcap, "%s: %s", out, strerror(errno));
        return -1;
    }
    unsigned uid = (unsigned)geteuid(), other = free_ids(20000, false);
    /* Limits that name the benchmark's nodes and paths, per node and per
     * user, far above what it sends: every request and sample goes through
     * the buckets and none is refused.  An entry for someone else first,
     * and the rule bench_policy_check() needs. */
    fprintf(f, "# ipcnet-bench: limits that apply to the benchmark and never "
               "trigger\nversion: 1\ndefault: allow\nrules:\n"
               "  - deny: provide\n    who: any\n    what: \"policy-check/**\"\n"
               "limits:\n"
               "  - who: \"user:%u\"\n    what: \"bench/**\"\n"
               "    requests: 10/s\n    samples: 10/s\n    burst: 10\n"
               "  - who: [\"user:%u node:rtt-*\", \"user:%u node:thr-*\"]\n"
               "    what: \"bench/**\"\n    per: node\n"
               "    requests: 100000000/s\n    samples: 100000000/s\n"
               "    bytes: 100GB/s\n    burst: 10000000\n    inflight: 1000\n"
               "  - who: \"user:%u\"\n    what: [\"bench/**\", \"other/**\"]\n"
               "    per: user\n    requests: 100000000/s\n"
               "    samples: 100000000/s\n    burst: 10000000\n",
            other, uid, uid, uid);
    if (fclose(f) != 0 || chmod(out, 0644) != 0) {
        snprintf(err, errcap, "%s: %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

/* The refusal the check expects is logged as a warning: not printed. */
static void quiet_deny(ipcn_log_level level, const char *id, const char *msg,
                       void *user)
{
    (void)user;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (strcmp(id, "IPCN-POLICY-DENY") != 0)
        fprintf(stderr, "ipcnet[%d] %s %s: %s\n", (int)getpid(),
                names[level <= IPCN_LOG_DEBUG ? level : IPCN_LOG_DEBUG], id,
                msg);
}

int bench_policy_check(ipcn_node *n, char *err, size_t errcap)
{
    /* The policy forbids this path to everyone: a node that enforces it
     * refuses its own announcement with 202. */
    ipcn_set_log(IPCN_LOG_WARN, quiet_deny, NULL);
    int st = ipcn_announce(n, "policy-check/denied", IPCN_STREAM, NULL, NULL, 0);
    ipcn_set_log(IPCN_LOG_WARN, NULL, NULL);
    if (st == IPCN_FORBIDDEN)
        return 0;
    snprintf(err, errcap, "the policy is not in force: a path it forbids was "
             "announced (%d %s)", st, ipcn_status_str(st));
    return -1;
}

void bench_policy_env(const char *file)
{
    if (file && *file)
        setenv("IPCNET_POLICY", file, 1);
    else
        unsetenv("IPCNET_POLICY"); /* in this child process only */
}

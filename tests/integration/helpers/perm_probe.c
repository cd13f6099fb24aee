/* SPDX-License-Identifier: MIT */
/*
 * perm_probe — the processes of the permission matrix
 * (test_permissions.py): a provider, a probe that tries verbs and prints
 * what it got, and an observer that tells which of the probes'
 * announcements it took into its directory.  Run under real uids (setpriv)
 * in a network shared by a Unix group; the network is $IPCNET_DIR and
 * $IPCNET_NETWORK.
 *
 *   ipcn-test-perm_probe provide NAME LIFETIME_S SPEC...
 *     SPECs, applied in this order whatever their order on the line:
 *       group=NAME                       ipcn_group_create
 *       member=NAME|SELECTOR             ipcn_group_add
 *       rule=PATH|allow|VERBS|SELECTOR   a provider rule (VERBS: read,
 *       rule=PATH|deny|VERBS|SELECTOR    write, execute, comma-separated);
 *                                        a path's rules are set with
 *                                        ipcn_resource_set_access()
 *                                        before it is announced
 *       data=PATH     a data resource, value "v" (text/plain)
 *       stream=PATH   a stream, published every round
 *       service=PATH  a service answering 100 with the request's body
 *       tick=PATH     a stream published last in every round
 *     Prints "ready" once everything is announced, then publishes a round
 *     (every stream, then the ticks) every 20 ms until SIGTERM.
 *
 *   ipcn-test-perm_probe probe NAME LIFETIME_S TICK CASE...
 *     CASE is VERB:PATH, VERB one of connect, find, query, sub, request,
 *     set, announce.  Prints "join STATUS" (the status of
 *     ipcn_node_open()) and the connect cases (tried first, without the
 *     library); then, when it joined, "CASE STATUS" per other case in the
 *     order given; then "end"; and stays (its announcements in the
 *     network) until its stdin closes.  STATUS:
 *       connect   connect(2) to the socket of node PATH in the network's
 *                 directory, as a raw client would: 100 when it connects,
 *                 202 when refused (EACCES), 203 when there is no such
 *                 socket, 300 otherwise;
 *       find      100 when the path is in its directory, else 203;
 *       query     ipcn_query()'s status;
 *       sub       100 when a sample of the path came, else 203: all the
 *                 paths are subscribed, then TICK (a stream the provider
 *                 publishes after all others in every round); once two
 *                 ticks have come, the provider knew every subscription
 *                 during a whole round before the second one, so every
 *                 sample it sent of that round has come;
 *       request   ipcn_request()'s status;
 *       set       ipcn_set()'s status (the value "w");
 *       announce  ipcn_announce()'s status as a data resource (101 is
 *                 printed as 100).  After all cases it announces
 *                 p/done/NAME, which tells the observer it may look.
 *
 *   ipcn-test-perm_probe observe NAME LIFETIME_S PROBE...
 *     Prints "ready" once synced; then, for each PROBE, when p/done/PROBE
 *     is in its directory: "seen PROBE PATH" for each path under p/ whose
 *     last segment is PROBE (p/done/ aside), then "done PROBE".  Exits
 *     0 when every probe is done; 1 when stopped (SIGTERM) before, after
 *     "missing PROBE" for each probe not done.
 *
 * Every wait is bounded; each process also ends after LIFETIME_S (SIGALRM)
 * and with its parent (PR_SET_PDEATHSIG).  Exit 0, 2 for a bad argument,
 * 3 when the node cannot be set up (the reason on stderr).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "l_common.h"

#define WAIT_MS 3000     /* a query, request or set */
#define SYNC_MS 5000     /* joining: the whole network synced */
#define TICKS_MS 5000    /* the two ticks of "sub" */
#define ROUND_MS 20      /* the provider's publishing period */
#define MAX_ITEMS 512

static int fail(const char *what, const char *arg, int st)
{
    fprintf(stderr, "perm_probe: %s %s: %d %s\n", what, arg ? arg : "", st,
            ipcn_status_str(st));
    return 3;
}

static ipcn_node *open_node(const char *name, int *st)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    ipcn_node *n = NULL;
    *st = ipcn_node_open(&n, name, &o);
    return *st == IPCN_OK ? n : NULL;
}

/* ---- the provider ---- */

static int on_request(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                      void *user)
{
    (void)n, (void)user;
    return ipcn_reply_set(ctx, req->data, req->len, req->encoding);
}

/* The part of spec after "key=", when spec starts with it. */
static const char *spec_val(const char *spec, const char *key)
{
    size_t k = strlen(key);
    return !strncmp(spec, key, k) && spec[k] == '=' ? spec + k + 1 : NULL;
}

static uint32_t verbs_parse(const char *s)
{
    uint32_t v = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        v |= !strcmp(t, "read")      ? IPCN_ACCESS_READ
             : !strcmp(t, "write")   ? IPCN_ACCESS_WRITE
             : !strcmp(t, "execute") ? IPCN_ACCESS_EXECUTE
                                     : 1u << 30; /* refused by the library */
    return v;
}

/* Set the rules the specs give for path (none: nothing to do). */
static int set_rules(ipcn_node *n, int nspec, char **spec, const char *path)
{
    ipcn_access_rule rules[64];
    char copies[64][512];
    size_t k = 0, pl = strlen(path);
    for (int i = 0; i < nspec && k < 64; i++) {
        const char *v = spec_val(spec[i], "rule");
        if (!v || strncmp(v, path, pl) || v[pl] != '|')
            continue;
        snprintf(copies[k], sizeof copies[k], "%s", v + pl + 1);
        char *kind = copies[k], *verbs = strchr(kind, '|');
        char *who = verbs ? strchr(verbs + 1, '|') : NULL;
        if (!who)
            return fail("bad rule", spec[i], IPCN_BAD_REQUEST);
        *verbs++ = 0;
        *who++ = 0;
        rules[k].deny = !strcmp(kind, "deny");
        rules[k].verbs = verbs_parse(verbs);
        rules[k].who = who;
        k++;
    }
    if (!k)
        return 0;
    int st = ipcn_resource_set_access(n, path, rules, k);
    return st == IPCN_OK ? 0 : fail("ipcn_resource_set_access", path, st);
}

static int provide_main(const char *name, int nspec, char **spec)
{
    int st;
    ipcn_node *n = open_node(name, &st);
    if (!n)
        return fail("ipcn_node_open", name, st);
    const char *streams[MAX_ITEMS], *ticks[MAX_ITEMS];
    size_t ns = 0, nt = 0;
    int rc = 0;
    /* groups and their members first, then rules, then resources: no
     * peer ever sees a resource before its rules */
    for (int i = 0; i < nspec && !rc; i++) {
        const char *g = spec_val(spec[i], "group");
        const char *m = spec_val(spec[i], "member");
        if (g && (st = ipcn_group_create(n, g)) != IPCN_OK)
            rc = fail("ipcn_group_create", g, st);
        if (m) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s", m);
            char *who = strchr(buf, '|');
            if (!who)
                rc = fail("bad member", m, IPCN_BAD_REQUEST);
            else if (*who++ = 0, (st = ipcn_group_add(n, buf, who)) != IPCN_OK)
                rc = fail("ipcn_group_add", m, st);
        }
    }
    static const char *const kinds[] = {"data", "stream", "service", "tick"};
    for (int i = 0; i < nspec && !rc; i++) {
        for (size_t k = 0; k < 4 && !rc; k++) {
            const char *p = spec_val(spec[i], kinds[k]);
            if (p)
                rc = set_rules(n, nspec, spec, p);
        }
    }
    for (int i = 0; i < nspec && !rc; i++) {
        const char *p;
        if ((p = spec_val(spec[i], "data"))) {
            st = ipcn_announce(n, p, IPCN_DATA, "text/plain", NULL, 0);
            if (IPCN_IS_OK(st))
                st = ipcn_publish(n, p, "v", 1);
        } else if ((p = spec_val(spec[i], "service"))) {
            st = ipcn_offer(n, p, "text/plain", on_request, NULL);
        } else if ((p = spec_val(spec[i], "stream")) ||
                   (p = spec_val(spec[i], "tick"))) {
            st = ipcn_announce(n, p, IPCN_STREAM, "text/plain", NULL, 0);
            if (ns < MAX_ITEMS && spec_val(spec[i], "stream"))
                streams[ns++] = p;
            else if (nt < MAX_ITEMS)
                ticks[nt++] = p;
        } else {
            continue;
        }
        if (!IPCN_IS_OK(st))
            rc = fail("announcing", p, st);
    }
    if (!rc && (st = ipcn_node_start_thread(n)) != IPCN_OK)
        rc = fail("ipcn_node_start_thread", name, st);
    if (rc) {
        ipcn_node_close(n);
        return rc;
    }
    printf("ready\n");
    while (!l_term) {
        for (size_t i = 0; i < ns; i++)
            ipcn_publish(n, streams[i], "s", 1);
        for (size_t i = 0; i < nt; i++)
            ipcn_publish(n, ticks[i], "t", 1);
        l_sleep_ms(ROUND_MS);
    }
    ipcn_node_close(n);
    return 0;
}

/* ---- the probe ---- */

typedef struct probe_case {
    const char *arg;  /* VERB:PATH, as given */
    char verb[16];
    const char *path;
    int status;
    ipcn_sub sub;
} probe_case;

static int do_case(ipcn_node *n, probe_case *c)
{
    ipcn_msg *m = NULL;
    int st;
    if (!strcmp(c->verb, "find")) {
        ipcn_resource_list *rl = NULL;
        st = ipcn_find(n, c->path, IPCN_ANY, &rl);
        if (st == IPCN_OK)
            st = rl->count ? IPCN_OK : IPCN_NOT_FOUND;
        ipcn_resource_list_free(rl);
    } else if (!strcmp(c->verb, "query")) {
        st = ipcn_query(n, c->path, &m, WAIT_MS);
    } else if (!strcmp(c->verb, "request")) {
        st = ipcn_request(n, c->path, "x", 1, "text/plain", &m, WAIT_MS);
    } else if (!strcmp(c->verb, "set")) {
        st = ipcn_set(n, c->path, "w", 1, NULL, 0, WAIT_MS, NULL);
    } else if (!strcmp(c->verb, "announce")) {
        st = ipcn_announce(n, c->path, IPCN_DATA, "text/plain", NULL, 0);
        if (st == IPCN_CREATED)
            st = IPCN_OK;
    } else {
        return -1;
    }
    ipcn_msg_free(m);
    return st;
}

/* connect(2) to node's socket, as a client that does not use the library
 * would (see the top). */
static int raw_connect(const char *node)
{
    const char *dir = getenv("IPCNET_DIR"), *net = getenv("IPCNET_NETWORK");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!dir || !net ||
        (size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s/%s.sock", dir,
                         net, node) >= sizeof sa.sun_path)
        return IPCN_BAD_REQUEST;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return IPCN_INTERNAL_ERROR;
    int r = connect(fd, (struct sockaddr *)&sa, sizeof sa), e = errno;
    close(fd);
    return r == 0                          ? IPCN_OK
           : e == EACCES || e == EPERM     ? IPCN_FORBIDDEN
           : e == ENOENT || e == ENOTDIR   ? IPCN_NOT_FOUND
                                           : IPCN_INTERNAL_ERROR;
}

/* Take what the subscriptions have queued (without waiting); a case
 * whose sample came is 100. */
static void drain(ipcn_node *n, probe_case *cs, int nc)
{
    for (int i = 0; i < nc; i++) {
        ipcn_msg *m = NULL;
        if (strcmp(cs[i].verb, "sub"))
            continue;
        while (ipcn_sub_take(n, cs[i].sub, &m, 0) == IPCN_OK) {
            if (!strcmp(m->path, cs[i].path))
                cs[i].status = IPCN_OK;
            ipcn_msg_free(m);
            m = NULL;
        }
    }
}

/* Wait (bounded) for two ticks; then every sample that was coming has
 * come (see the top). */
static int collect_samples(ipcn_node *n, probe_case *cs, int nc, ipcn_sub tick)
{
    int ticks = 0;
    uint64_t end = l_now_ms() + TICKS_MS;
    while (ticks < 2 && l_now_ms() < end) {
        drain(n, cs, nc);
        ipcn_msg *m = NULL;
        if (ipcn_sub_take(n, tick, &m, 10) == IPCN_OK)
            ticks++;
        ipcn_msg_free(m);
    }
    drain(n, cs, nc);
    return ticks >= 2 ? IPCN_OK : IPCN_GATEWAY_TIMEOUT;
}

static int probe_main(const char *name, const char *tick_path, int nargs,
                      char **args)
{
    probe_case *cs = calloc((size_t)nargs + 1, sizeof *cs);
    if (!cs)
        return 3;
    for (int i = 0; i < nargs; i++) {
        const char *colon = strchr(args[i], ':');
        if (!colon || (size_t)(colon - args[i]) >= sizeof cs[i].verb) {
            fprintf(stderr, "perm_probe: bad case %s\n", args[i]);
            free(cs);
            return 2;
        }
        cs[i].arg = args[i];
        memcpy(cs[i].verb, args[i], (size_t)(colon - args[i]));
        cs[i].path = colon + 1;
    }
    for (int i = 0; i < nargs; i++)
        if (!strcmp(cs[i].verb, "connect"))
            cs[i].status = raw_connect(cs[i].path);
    int st;
    ipcn_node *n = open_node(name, &st);
    printf("join %d\n", st);
    for (int i = 0; i < nargs; i++)
        if (!strcmp(cs[i].verb, "connect"))
            printf("%s %d\n", cs[i].arg, cs[i].status);
    if (!n) {
        printf("end\n");
        free(cs);
        return 0;
    }
    int rc = 0;
    if ((st = ipcn_node_start_thread(n)) != IPCN_OK) {
        rc = fail("ipcn_node_start_thread", name, st);
        goto out;
    }
    /* What it finds must be the whole network's: else no outcome at all. */
    if ((st = ipcn_node_wait_synced(n, SYNC_MS)) != IPCN_OK) {
        rc = fail("ipcn_node_wait_synced", name, st);
        goto out;
    }
    /* Every path subscribed, then the tick: see the top. */
    ipcn_sub tick;
    for (int i = 0; i < nargs; i++) {
        if (strcmp(cs[i].verb, "sub"))
            continue;
        cs[i].status = IPCN_NOT_FOUND;
        if ((st = ipcn_subscribe(n, cs[i].path, 64, NULL, NULL, &cs[i].sub)) !=
            IPCN_OK) {
            rc = fail("ipcn_subscribe", cs[i].path, st);
            goto out;
        }
    }
    if ((st = ipcn_subscribe(n, tick_path, 64, NULL, NULL, &tick)) != IPCN_OK) {
        rc = fail("ipcn_subscribe", tick_path, st);
        goto out;
    }
    for (int i = 0; i < nargs; i++) {
        if (!strcmp(cs[i].verb, "sub") || !strcmp(cs[i].verb, "connect"))
            continue;
        if ((cs[i].status = do_case(n, &cs[i])) < 0) {
            fprintf(stderr, "perm_probe: unknown verb in %s\n", cs[i].arg);
            rc = 2;
            goto out;
        }
    }
    char done[256];
    snprintf(done, sizeof done, "p/done/%s", name);
    if (!IPCN_IS_OK(st = ipcn_announce(n, done, IPCN_DATA, "text/plain", NULL,
                                       0))) {
        rc = fail("ipcn_announce", done, st);
        goto out;
    }
    if ((st = collect_samples(n, cs, nargs, tick)) != IPCN_OK) {
        rc = fail("no two ticks of", tick_path, st);
        goto out;
    }
    for (int i = 0; i < nargs; i++)
        if (strcmp(cs[i].verb, "connect"))
            printf("%s %d\n", cs[i].arg, cs[i].status);
    printf("end\n");
    fflush(stdout);
    /* Stay, announcements and all, until told (stdin closed). */
    char b[64];
    struct pollfd pf = {.fd = 0, .events = POLLIN};
    while (!l_term && poll(&pf, 1, 100) >= 0) {
        if ((pf.revents & POLLIN) && read(0, b, sizeof b) <= 0)
            break;
        if (pf.revents & (POLLHUP | POLLERR | POLLNVAL))
            break;
    }
out:
    ipcn_node_close(n);
    free(cs);
    return rc;
}

/* ---- the observer ---- */

static bool found(ipcn_node *n, const char *path)
{
    ipcn_resource_list *rl = NULL;
    bool yes = ipcn_find(n, path, IPCN_ANY, &rl) == IPCN_OK && rl->count;
    ipcn_resource_list_free(rl);
    return yes;
}

static void report(ipcn_node *n, const char *probe)
{
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(n, "p/**", IPCN_ANY, &rl) != IPCN_OK)
        return;
    for (size_t i = 0; i < rl->count; i++) {
        const char *p = rl->items[i].path, *last = strrchr(p, '/');
        if (last && !strcmp(last + 1, probe) && strncmp(p, "p/done/", 7))
            printf("seen %s %s\n", probe, p);
    }
    ipcn_resource_list_free(rl);
    printf("done %s\n", probe);
}

static int observe_main(const char *name, int np, char **probes)
{
    int st;
    ipcn_node *n = open_node(name, &st);
    if (!n)
        return fail("ipcn_node_open", name, st);
    if ((st = ipcn_node_start_thread(n)) != IPCN_OK) {
        ipcn_node_close(n);
        return fail("ipcn_node_start_thread", name, st);
    }
    if ((st = ipcn_node_wait_synced(n, SYNC_MS)) != IPCN_OK) {
        ipcn_node_close(n);
        return fail("ipcn_node_wait_synced", name, st);
    }
    printf("ready\n");
    bool *done = calloc((size_t)np + 1, sizeof *done);
    int left = np;
    while (done && left && !l_term) {
        for (int i = 0; i < np; i++) {
            char marker[256];
            snprintf(marker, sizeof marker, "p/done/%s", probes[i]);
            if (!done[i] && found(n, marker)) {
                report(n, probes[i]);
                done[i] = true;
                left--;
            }
        }
        l_sleep_ms(10);
    }
    for (int i = 0; done && i < np; i++)
        if (!done[i])
            printf("missing %s\n", probes[i]);
    free(done);
    ipcn_node_close(n);
    return left ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s provide|probe|observe NAME LIFETIME_S "
                "ARG...\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *name = argv[2];
    l_helper_setup((unsigned)atoi(argv[3]));
    if (!strcmp(mode, "provide"))
        return provide_main(name, argc - 4, argv + 4);
    if (!strcmp(mode, "probe") && argc >= 5)
        return probe_main(name, argv[4], argc - 5, argv + 5);
    if (!strcmp(mode, "observe"))
        return observe_main(name, argc - 4, argv + 4);
    fprintf(stderr, "perm_probe: unknown mode %s\n", mode);
    return 2;
}

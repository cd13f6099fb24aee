/* SPDX-License-Identifier: MIT */
/*
 * hostile_victim.h — what the test_hostile_*.c programs share: the
 * victim node, the innocent peer, and what every case must show.  A raw,
 * hostile client attacks a victim node.
 *
 * The hostile client (raw_client.h) speaks bytes, not the library: frames
 * are built with a little-endian writer of its own and sealed with XXH3-64
 * straight from xxhash.h, and what the victim sends back is parsed and
 * checked there too (its checksum included).  Nothing of libipcnet is used
 * for it.
 *
 * Each case starts a fresh victim (helpers/h_hostile_victim.c) in its own
 * process and attacks it while an innocent library node in this process
 * keeps using it.  A case passes when:
 *   1. the victim process is still alive;
 *   2. the innocent peer's requests get correct answers during the attack
 *      (a prober thread asks the echo service every 50 ms) and after it
 *      (echo, a query of its data, a sample of its stream);
 *   3. the victim's VmRSS grew by less than MEM_HEADROOM;
 *   4. where the protocol promises an answer, the hostile client got it:
 *      an ERROR frame with the right status, then the connection closed by
 *      the victim — or, for input the victim refuses but survives, the
 *      ERROR and a link that still answers a PING;
 * and the victim, told to stop afterwards, exits 0 (so under ASan it also
 * had no leak).  Everything is seeded and bounded in count and time.
 *
 * The raw client also speaks link rings (protocol 7.4) with its own code:
 * it can write its frames into a ring of its own and read the victim's out
 * of the victim's, so the ring cases attack both sides of a ring.
 */
#ifndef IPCN_HOSTILE_VICTIM_H
#define IPCN_HOSTILE_VICTIM_H

/* Header-only, as testutil.h (whose network directory is one per
 * translation unit): include it once per program, after <cmocka.h>,
 * "ipcnet.h", "raw_client.h" and "testutil.h". */
#include <dirent.h>
#include <pthread.h>
#include <sys/resource.h>

#define MEM_HEADROOM_KB (64 * 1024)

/* ------------------------------------------------------------------ */
/* The victim and the innocent peer                                     */
/* ------------------------------------------------------------------ */

typedef struct vstats {
    unsigned long long bad_frames, links_refused, frames_in, drops, peers_lost,
        samples, events;
    unsigned peers, resources, held;
} vstats;

static struct {
    ipcn_node *inn;     /* the innocent peer, on its own thread */
    int count;          /* victims started */
    char verbose;
    pid_t bystander;    /* a second library node, in its own process */
} G;

static struct victim {
    pid_t pid;
    char name[32];
    char sock[600];
    char echo[64], stats[64], hold[64], data[64], bigdata[64], stream[64];
    ipcn_sub sub;
    long rss0_kb;
    vstats st0;
    bool checked;
} V;

static inline long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Is the victim still running?  Says how it ended when not. */
static inline bool victim_alive(void)
{
    int ws;
    pid_t r = waitpid(V.pid, &ws, WNOHANG);
    if (r == 0)
        return true;
    if (r == V.pid) {
        if (WIFSIGNALED(ws))
            print_error("victim %s killed by signal %d\n", V.name, WTERMSIG(ws));
        else
            print_error("victim %s exited with %d\n", V.name, WEXITSTATUS(ws));
        V.pid = -1;
    }
    return false;
}

static inline void victim_stats(vstats *s)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(G.inn, V.stats, NULL, 0, NULL, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, ST_OK);
    assert_non_null(m);
    memset(s, 0, sizeof *s);
    int k = sscanf((const char *)m->data,
                   "bad_frames=%llu links_refused=%llu frames_in=%llu "
                   "peers=%u resources=%u drops=%llu peers_lost=%llu held=%u "
                   "samples=%llu events=%llu",
                   &s->bad_frames, &s->links_refused, &s->frames_in, &s->peers,
                   &s->resources, &s->drops, &s->peers_lost, &s->held,
                   &s->samples, &s->events);
    if (k != 10)
        print_error("stats: %s\n", (const char *)m->data);
    assert_int_equal(k, 10);
    ipcn_msg_free(m);
}

/* The innocent's echo: a fresh payload, the same bytes back. */
static inline int innocent_echo(ipcn_node *n, int seq, char *why, size_t whylen)
{
    char req[64];
    int len = snprintf(req, sizeof req, "innocent %d", seq);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, V.echo, req, (size_t)len, "text/plain", &m,
                          IO_TIMEOUT_MS);
    int ok = st == ST_OK && m && m->len == (size_t)len &&
             memcmp(m->data, req, (size_t)len) == 0;
    if (!ok && why)
        snprintf(why, whylen, "echo %d: status %d (%s), %s", seq, st,
                 ipcn_status_str(st), m ? "answered" : "no answer");
    ipcn_msg_free(m);
    return ok;
}

/* ---- the prober: the innocent keeps asking during the attack ---- */

static struct prober {
    pthread_t t;
    int stop;
    int ok, fail;
    char why[160];
    bool running;
} P;

static inline void *prober_main(void *arg)
{
    (void)arg;
    for (int i = 0; !__atomic_load_n(&P.stop, __ATOMIC_ACQUIRE); i++) {
        char why[160];
        if (innocent_echo(G.inn, i, why, sizeof why)) {
            __atomic_add_fetch(&P.ok, 1, __ATOMIC_RELAXED);
        } else {
            if (__atomic_add_fetch(&P.fail, 1, __ATOMIC_RELAXED) == 1)
                memcpy(P.why, why, sizeof why);
        }
        usleep(50000);
    }
    return NULL;
}

static inline void prober_start(void)
{
    memset(&P, 0, sizeof P);
    assert_int_equal(pthread_create(&P.t, NULL, prober_main, NULL), 0);
    P.running = true;
}

static inline void prober_stop(void)
{
    if (!P.running)
        return;
    /* At least one probe, however short the attack was. */
    uint64_t end = tu_now_ms() + 2 * IO_TIMEOUT_MS;
    while (__atomic_load_n(&P.ok, __ATOMIC_RELAXED) +
                   __atomic_load_n(&P.fail, __ATOMIC_RELAXED) == 0 &&
           tu_now_ms() < end)
        usleep(5000);
    __atomic_store_n(&P.stop, 1, __ATOMIC_RELEASE);
    pthread_join(P.t, NULL);
    P.running = false;
}

/* ---- one victim per case ---- */

static inline int setup_victim(void **state)
{
    (void)state;
    memset(&V, 0, sizeof V);
    snprintf(V.name, sizeof V.name, "victim-%02d", ++G.count);
    snprintf(V.sock, sizeof V.sock, "%s/default/%s.sock", tu_net_dir(), V.name);
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s", V.sock);
    snprintf(V.echo, sizeof V.echo, "%s/echo", V.name);
    snprintf(V.stats, sizeof V.stats, "%s/stats", V.name);
    snprintf(V.hold, sizeof V.hold, "%s/hold", V.name);
    snprintf(V.data, sizeof V.data, "%s/data", V.name);
    snprintf(V.bigdata, sizeof V.bigdata, "%s/bigdata", V.name);
    snprintf(V.stream, sizeof V.stream, "%s/stream", V.name);
    char ppid[32];
    snprintf(ppid, sizeof ppid, "%d", (int)getpid());
    const char *args[] = {V.name, "120", ppid, NULL};
    V.pid = tu_spawn("h_hostile_victim", args);
    if (V.pid <= 0)
        return -1;
    /* Wait until the innocent knows every resource a case uses: each comes
     * in an announce of its own, and the innocent's thread may have taken
     * in the first (echo) and not yet the others. */
    const char *const need[] = {V.echo, V.stats, V.hold, V.data, V.bigdata, V.stream};
    uint64_t end = tu_now_ms() + 15000;
    for (;;) {
        size_t found = 0;
        for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
            ipcn_resource_list *rl = NULL;
            if (ipcn_find(G.inn, need[i], IPCN_ANY, &rl) == ST_OK && rl->count)
                found++;
            ipcn_resource_list_free(rl);
        }
        if (found == sizeof need / sizeof *need)
            break;
        if (!victim_alive() || tu_now_ms() > end) {
            print_error("victim %s did not come up\n", V.name);
            return -1;
        }
        usleep(10000);
    }
    if (ipcn_subscribe(G.inn, V.stream, 16, NULL, NULL, &V.sub) != ST_OK)
        return -1;
    V.rss0_kb = rss_kb(V.pid);
    prober_start();
    return 0;
}

/* Criteria 1-3, at the end of each case. */
static inline void victim_check(void)
{
    prober_stop();
    if (P.fail)
        print_error("innocent probes during the attack: %d ok, %d failed; "
                    "first: %s\n", P.ok, P.fail, P.why);
    assert_true(victim_alive());
    assert_int_equal(P.fail, 0);
    assert_true(P.ok >= 1);

    char why[160] = "";
    int ok = innocent_echo(G.inn, -1, why, sizeof why);
    if (!ok)
        print_error("after the attack: %s\n", why);
    assert_true(ok);

    ipcn_msg *m = NULL;
    int st = ipcn_query(G.inn, V.data, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, ST_OK);
    assert_int_equal(m->len, 11);
    assert_memory_equal(m->data, "victim-data", 11);
    ipcn_msg_free(m);

    /* Its stream still flows to the innocent: drop what is queued, then a
     * fresh sample must come. */
    while (ipcn_sub_take(G.inn, V.sub, &m, 0) == ST_OK)
        ipcn_msg_free(m);
    m = NULL;
    st = ipcn_sub_take(G.inn, V.sub, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, ST_OK);
    assert_int_equal(m->status, ST_OK);
    assert_string_equal(m->path, V.stream);
    ipcn_msg_free(m);

    long rss = rss_kb(V.pid);
    if (G.verbose || rss - V.rss0_kb >= MEM_HEADROOM_KB)
        print_message("    victim VmRSS %ld kB -> %ld kB\n", V.rss0_kb, rss);
    assert_true(rss > 0);
    assert_true(rss - V.rss0_kb < MEM_HEADROOM_KB);
    V.checked = true;
}

/* ---- a victim short of descriptors ---- */

/* How many descriptors process pid holds. */
static inline unsigned count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    unsigned k = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            k++;
    closedir(d);
    return k;
}

/* The lowest descriptor number free in process pid: the one it gets next. */
static inline int lowest_free_fd(pid_t pid)
{
    static bool used[4096];
    memset(used, 0, sizeof used);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        long k = e->d_name[0] == '.' ? -1 : atol(e->d_name);
        if (k >= 0 && k < (long)(sizeof used / sizeof *used))
            used[k] = true;
    }
    closedir(d);
    int k = 0;
    while (k < (int)(sizeof used / sizeof *used) && used[k])
        k++;
    return k;
}

static struct rlimit victim_nofile; /* the victim's own, while capped */
static bool victim_capped;

/* Let the victim open no descriptor but extra ones past those it holds
 * (its next free number is then the limit), so that it cannot make a ring
 * (memfd_create fails, EMFILE), as when out of memory.  False when this
 * system does not let us. */
static inline bool victim_fd_cap(unsigned extra)
{
    if (!victim_capped && prlimit(V.pid, RLIMIT_NOFILE, NULL, &victim_nofile) != 0)
        return false;
    struct rlimit rl = victim_nofile;
    rl.rlim_cur = (rlim_t)lowest_free_fd(V.pid) + extra;
    if (rl.rlim_cur > rl.rlim_max || prlimit(V.pid, RLIMIT_NOFILE, &rl, NULL) != 0)
        return false;
    victim_capped = true;
    return true;
}

static inline void victim_fd_uncap(void)
{
    if (victim_capped && V.pid > 0)
        (void)prlimit(V.pid, RLIMIT_NOFILE, &victim_nofile, NULL);
    victim_capped = false;
}

static inline int teardown_victim(void **state)
{
    (void)state;
    prober_stop();
    raw_free_all();
    if (G.bystander > 0)
        tu_kill(G.bystander);
    G.bystander = 0;
    ipcn_unsubscribe(G.inn, V.sub);
    hello_caps = 0;
    victim_fd_uncap();
    if (V.pid <= 0)
        return -1;
    int rc = 0;
    if (victim_alive()) {
        kill(V.pid, SIGTERM);
        int st = tu_wait(V.pid, 10000);
        if (st != 0) {
            print_error("victim %s: exit status %d after SIGTERM\n", V.name, st);
            if (st < 0)
                tu_kill(V.pid);
            rc = -1;
        }
    } else {
        rc = -1;
    }
    V.pid = -1;
    return rc;
}


/* ---- the group: the innocent, once per program ---- */

static inline int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    tu_net_dir();
    G.verbose = getenv("IPCN_TEST_VERBOSE") != NULL;
    /* Hostile input makes the victim log one line per refusal. */
    if (!G.verbose && !getenv("IPCNET_LOG"))
        setenv("IPCNET_LOG", "error", 1);
    /* Under AddressSanitizer a sanitized victim keeps freed blocks in a
     * quarantine (256 MiB by default), which VmRSS would count as if the
     * victim held them: keep it small so that RSS measures live memory.
     * (Ignored by builds without ASan.) */
    const char *asan = getenv("ASAN_OPTIONS");
    if (!asan || !strstr(asan, "quarantine_size_mb")) {
        char opt[1024];
        snprintf(opt, sizeof opt, "%s%squarantine_size_mb=8", asan ? asan : "",
                 asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", opt, 1);
    }
    return ipcn_node_open(&G.inn, "innocent", NULL) == ST_OK &&
                   ipcn_node_start_thread(G.inn) == ST_OK
               ? 0
               : -1;
}

static inline int group_teardown(void **state)
{
    (void)state;
    ipcn_node_close(G.inn);
    free(B.p);
    free(C.p);
    return 0;
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup_victim, teardown_victim)

#endif

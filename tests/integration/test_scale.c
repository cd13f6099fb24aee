/* SPDX-License-Identifier: MIT */
/*
 * test_scale.c — many nodes on one host, and many links over time.
 *
 *  - 50 nodes in 10 processes (ipcn-test-l_multi, 5 nodes each, driven
 *    over pipes): every node links to the 49 others and finds all 50
 *    streams; one sample reaches the 49 other subscribers; 10 nodes are
 *    killed with SIGKILL and the 40 left notice (PEER_DOWN 303, a 303
 *    message per stream), their descriptors go back to what 40 nodes
 *    needed, the dead nodes' files are swept, and all close cleanly.
 *  - Link churn: a long-lived node sees 110 nodes come and go gracefully
 *    (ipcn-test-l_churn) and 25 die by SIGKILL; its descriptor count and
 *    resident memory stay bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <string.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

/* ------------------------------------------------------------------ */
/* A helper driven over pipes                                          */
/* ------------------------------------------------------------------ */

typedef struct proc {
    pid_t pid;
    int in, out;   /* its stdin (we write), its stdout (we read) */
    char buf[1024];
    size_t len;
} proc;

static void proc_start(proc *p, const char *prefix, int count)
{
    int to[2], from[2];
    assert_int_equal(pipe2(to, O_CLOEXEC), 0);
    assert_int_equal(pipe2(from, O_CLOEXEC), 0);
    char path[512], cnt[16];
    snprintf(path, sizeof path, "%s/ipcn-test-l_multi", IPCN_TEST_BINDIR);
    snprintf(cnt, sizeof cnt, "%d", count);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        execl(path, path, prefix, cnt, "120", (char *)NULL);
        perror(path);
        _exit(127);
    }
    l_track(pid);
    close(to[0]);
    close(from[1]);
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->in = to[1];
    p->out = from[0];
}

static void proc_close(proc *p)
{
    if (p->in >= 0)
        close(p->in);
    if (p->out >= 0)
        close(p->out);
    p->in = p->out = -1;
}

/* Read one answer line (without its newline) within timeout_ms. */
static bool proc_line(proc *p, char *line, size_t cap, int timeout_ms)
{
    uint64_t end = l_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->len);
        if (nl) {
            size_t k = (size_t)(nl - p->buf);
            snprintf(line, cap, "%.*s", (int)k, p->buf);
            memmove(p->buf, nl + 1, p->len - k - 1);
            p->len -= k + 1;
            return true;
        }
        uint64_t now = l_now_ms();
        if (now >= end || p->len == sizeof p->buf)
            return false;
        struct pollfd pf = {.fd = p->out, .events = POLLIN};
        if (poll(&pf, 1, (int)(end - now)) <= 0)
            continue;
        ssize_t r = read(p->out, p->buf + p->len, sizeof p->buf - p->len);
        if (r <= 0)
            return false;
        p->len += (size_t)r;
    }
}

/* Send a command, return its answer line; fails the test on no answer. */
static void proc_cmd(proc *p, char *reply, size_t cap, int timeout_ms,
                     const char *fmt, ...)
{
    char cmd[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(k > 0 && (size_t)k < sizeof cmd - 1);
    cmd[k++] = '\n';
    assert_int_equal(write(p->in, cmd, (size_t)k), k);
    bool ok = proc_line(p, reply, cap, timeout_ms);
    if (!ok)
        print_error("helper %d: no answer to: %.*s\n", (int)p->pid, k - 1, cmd);
    assert_true(ok);
}

/* A command whose answer must start with "ok". */
static void proc_ok(proc *p, int timeout_ms, const char *cmd)
{
    char reply[256];
    proc_cmd(p, reply, sizeof reply, timeout_ms + 5000, "%s", cmd);
    if (strncmp(reply, "ok", 2) != 0)
        print_error("helper %d: '%s' -> '%s'\n", (int)p->pid, cmd, reply);
    assert_memory_equal(reply, "ok", 2);
}

/* ------------------------------------------------------------------ */
/* Fifty nodes                                                         */
/* ------------------------------------------------------------------ */

#define PROCS 10
#define PER 5
#define KILLED 2 /* processes, PER nodes each */

static proc g_procs[PROCS];

static int scale_teardown(void **state)
{
    for (int i = 0; i < PROCS; i++)
        proc_close(&g_procs[i]);
    return l_teardown(state);
}

static void test_fifty_nodes(void **state)
{
    (void)state;
    const char *net = l_net("scale");
    const int total = PROCS * PER, kept = (PROCS - KILLED) * PER;
    char cmd[128], reply[256];
    for (int i = 0; i < PROCS; i++)
        g_procs[i].in = g_procs[i].out = -1;

    /* The 40 that will survive, first: their descriptor count is the
     * baseline that must come back after the others die. */
    uint64_t t0 = l_now_ms();
    for (int i = 0; i < PROCS - KILLED; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "s%02d", i);
        proc_start(&g_procs[i], prefix, PER);
    }
    snprintf(cmd, sizeof cmd, "wait %d %d 30000", kept - 1, kept);
    for (int i = 0; i < PROCS - KILLED; i++)
        proc_ok(&g_procs[i], 30000, cmd);
    int fd_kept = l_fd_count(g_procs[0].pid);

    for (int i = PROCS - KILLED; i < PROCS; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "s%02d", i);
        proc_start(&g_procs[i], prefix, PER);
    }
    snprintf(cmd, sizeof cmd, "wait %d %d 30000", total - 1, total);
    for (int i = 0; i < PROCS; i++)
        proc_ok(&g_procs[i], 30000, cmd);
    int fd_all = l_fd_count(g_procs[0].pid);
    print_message("[ scale ] %d nodes linked (each to %d) and found %d streams in %llu ms; "
                  "helper fds %d with %d nodes, %d with %d\n",
                  total, total - 1, total, (unsigned long long)(l_now_ms() - t0), fd_kept,
                  kept, fd_all, total);
    assert_true(fd_all >= fd_kept + PER * KILLED * PER); /* a descriptor per link at least */
    assert_int_equal(tu_count_files(net), 2 * total);

    /* One publishes, the 49 others receive. */
    proc_ok(&g_procs[0], 1000, "pub 0 hello-scale");
    int got = 0;
    for (int i = 0; i < PROCS; i++) {
        proc_cmd(&g_procs[i], reply, sizeof reply, 15000, "got hello-scale s00-0 10000");
        int k = -1;
        sscanf(reply, "%*s %d", &k);
        if (strncmp(reply, "ok", 2) != 0)
            print_error("helper %d: got -> %s\n", i, reply);
        got += k;
    }
    assert_int_equal(got, total - 1);

    /* SIGKILL 10 nodes; the 40 others notice. */
    uint64_t t1 = l_now_ms();
    for (int i = PROCS - KILLED; i < PROCS; i++) {
        l_kill(g_procs[i].pid);
        proc_close(&g_procs[i]);
    }
    snprintf(cmd, sizeof cmd, "downs %d 10000", KILLED * PER);
    for (int i = 0; i < PROCS - KILLED; i++)
        proc_ok(&g_procs[i], 10000, cmd);
    snprintf(cmd, sizeof cmd, "wait %d %d 10000", kept - 1, kept);
    for (int i = 0; i < PROCS - KILLED; i++)
        proc_ok(&g_procs[i], 10000, cmd);
    print_message("[ scale ] %d nodes saw the %d killed ones go in %llu ms\n", kept,
                  KILLED * PER, (unsigned long long)(l_now_ms() - t1));
    /* Their descriptors went with them; their files were swept by the
     * nodes that dialled them (every survivor's name sorts lower). */
    int fd_after = -1;
    L_UNTIL(NULL, (fd_after = l_fd_count(g_procs[0].pid)) <= fd_kept, 5000);
    print_message("[ scale ] helper fds after the kills: %d (was %d with %d nodes)\n",
                  fd_after, fd_kept, kept);
    assert_true(fd_after <= fd_kept);
    assert_true(L_UNTIL(NULL, tu_count_files(net) == 2 * kept, 5000));

    /* All leave cleanly. */
    for (int i = 0; i < PROCS - KILLED; i++) {
        proc_cmd(&g_procs[i], reply, sizeof reply, 10000, "quit");
        assert_string_equal(reply, "bye");
    }
    for (int i = 0; i < PROCS - KILLED; i++) {
        assert_int_equal(l_wait(g_procs[i].pid, 10000), 0);
        proc_close(&g_procs[i]);
    }
    assert_int_equal(tu_count_files(net), 0);
}

/* ------------------------------------------------------------------ */
/* Link churn                                                          */
/* ------------------------------------------------------------------ */

static int on_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    (void)n, (void)req, (void)user;
    ipcn_reply_set(ctx, "pong", 4, "text/plain");
    return IPCN_OK;
}

static void churn(int cycles)
{
    char c[16];
    snprintf(c, sizeof c, "%d", cycles);
    pid_t pid = l_spawn("l_churn", "200", c, "a-churn", "z-churn", "base/svc", NULL);
    assert_int_equal(l_wait(pid, 180000), 0);
}

static void kills(ipcn_node *base, l_events *ev, int count)
{
    for (int i = 0; i < count; i++) {
        size_t mark = l_events_mark(ev);
        pid_t pid = l_spawn("l_prov", "k-prov", "60", NULL);
        assert_true(L_UNTIL(NULL, l_peer_pid(base, "k-prov") == pid, 10000));
        l_kill(pid);
        assert_true(L_UNTIL(NULL, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, "k-prov",
                                                NULL) >= 0,
                            5000));
    }
}

static void test_link_churn_no_leak(void **state)
{
    (void)state;
    const char *net = l_net("churn");
    ipcn_node *base = NULL;
    assert_int_equal(ipcn_node_open(&base, "base", NULL), IPCN_OK);
    l_own_node(base);
    l_events *ev = l_new_events();
    ipcn_node_set_event_fn(base, l_event_fn, ev);
    assert_int_equal(ipcn_offer(base, "base/svc", "text/plain", on_echo, NULL), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(base), IPCN_OK);

    /* Warm up (allocator pools, first-use growth), then measure. */
    churn(10);
    kills(base, ev, 5);
    assert_true(L_UNTIL(NULL, l_peer_count(base) == 0, 5000));
    int fd0 = l_fd_count(0);
    long rss0 = l_rss_kib(0);

    uint64_t t0 = l_now_ms();
    churn(100);
    kills(base, ev, 20);
    assert_true(L_UNTIL(NULL, l_peer_count(base) == 0, 5000));
    int fd1 = -1;
    L_UNTIL(NULL, (fd1 = l_fd_count(0)) <= fd0, 3000);
    long rss1 = l_rss_kib(0);
    print_message("[ scale ] 100 graceful + 20 kill -9 link cycles in %llu ms: "
                  "fds %d -> %d, VmRSS %ld -> %ld KiB\n",
                  (unsigned long long)(l_now_ms() - t0), fd0, fd1, rss0, rss1);
    assert_true(fd1 <= fd0);
#if defined(__SANITIZE_ADDRESS__)
    const long rss_slack = 256 * 1024; /* ASan's quarantine keeps freed memory */
#else
    const long rss_slack = 16 * 1024;
#endif
    assert_true(rss0 > 0 && rss1 > 0);
    assert_true(rss1 - rss0 <= rss_slack);

    ipcn_node_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_node_get_stats(base, &st), IPCN_OK);
    assert_int_equal(st.peers, 0);
    assert_int_equal(st.resources, 1); /* its own service, nothing left over */
    assert_int_equal(st.peers_lost, 25);
    size_t ups = l_events_count(ev, 0, IPCN_EV_PEER_UP, NULL);
    size_t downs = l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL);
    assert_int_equal(ups, 135);
    assert_int_equal(downs, 135);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_RESOURCE_UP, NULL),
                     l_events_count(ev, 0, IPCN_EV_RESOURCE_DOWN, NULL));
    /* The last killed node's files: swept when base redials it (a dead
     * node's socket may hang up before its lock is released, so that can
     * take one redial, 100 ms later). */
    if (!L_UNTIL(NULL, tu_count_files(net) == 2, 3000)) {
        char ls[700];
        snprintf(ls, sizeof ls, "ls -la %s/%s >&2", tu_dir, net);
        (void)!system(ls);
    }
    assert_int_equal(tu_count_files(net), 2);
    l_close_node(base);
    assert_int_equal(tu_count_files(net), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fifty_nodes, scale_teardown),
        cmocka_unit_test_teardown(test_link_churn_no_leak, l_teardown),
    };
    return cmocka_run_group_tests_name("scale", tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * test_limits.c — what a node does when others push it to its limits: a
 * flood of connections that never say hello, a node out of file
 * descriptors, peers that make it hold memory.  Each case starts a victim
 * (helpers/h_hostile_victim.c) in its own process, its log going to a
 * file, and checks that an innocent library node still gets through, that
 * the victim's memory and log stay bounded, and that what was refused is
 * counted.  Everything is bounded in count and time; waits are generous
 * bounds, not speed goals.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"

static struct {
    ipcn_node *inn;     /* the innocent peer, on its own thread */
    int count;
    bool verbose;
} G;

static struct victim {
    pid_t pid;
    char name[32];
    char sock[100];
    char log[600];      /* its stderr */
    char echo[64], stats[64];
    long rss0_kb;
} V;

static long rss_kb(pid_t pid)
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

static bool victim_alive(void)
{
    int ws;
    pid_t r = waitpid(V.pid, &ws, WNOHANG);
    if (r == 0)
        return true;
    if (r == V.pid) {
        print_error("victim %s ended (status 0x%x)\n", V.name, ws);
        V.pid = -1;
    }
    return false;
}

/* Lines of the victim's log that hold id. */
static unsigned log_lines(const char *id)
{
    FILE *f = fopen(V.log, "r");
    if (!f)
        return 0;
    char line[1024];
    unsigned k = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, id)) {
            if (G.verbose && k < 5)
                print_message("    log: %s", line);
            k++;
        }
    fclose(f);
    return k;
}

/* The victim's counters, from its stats service. */
static void victim_stats(unsigned long long *links_refused, unsigned *peers)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(G.inn, V.stats, NULL, 0, NULL, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, IPCN_OK);
    unsigned long long bad, in;
    int k = sscanf((const char *)m->data,
                   "bad_frames=%llu links_refused=%llu frames_in=%llu peers=%u",
                   &bad, links_refused, &in, peers);
    assert_int_equal(k, 4);
    ipcn_msg_free(m);
}

static int innocent_echo(ipcn_node *n, int seq)
{
    char req[64];
    int len = snprintf(req, sizeof req, "innocent %d", seq);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, V.echo, req, (size_t)len, "text/plain", &m,
                          IO_TIMEOUT_MS);
    int ok = st == IPCN_OK && m && m->len == (size_t)len &&
             memcmp(m->data, req, (size_t)len) == 0;
    if (!ok && G.verbose)
        print_message("    echo %d: %d %s\n", seq, st, ipcn_status_str(st));
    ipcn_msg_free(m);
    return ok;
}

/* Start the victim with its stderr in V.log, under an RLIMIT_NOFILE of
 * nofile when not 0, and wait until the innocent knows its services (extra:
 * up to 3 more arguments, NULL-terminated). */
static int victim_start_args(rlim_t nofile, const char *const *extra)
{
    memset(&V, 0, sizeof V);
    snprintf(V.name, sizeof V.name, "victim-%02d", ++G.count);
    int k = snprintf(V.sock, sizeof V.sock, "%s/default/%s.sock", tu_net_dir(),
                     V.name);
    if (k < 0 || (size_t)k >= sizeof V.sock)
        return -1;
    snprintf(V.log, sizeof V.log, "%s/%s.log", tu_net_dir(), V.name);
    snprintf(V.echo, sizeof V.echo, "%s/echo", V.name);
    snprintf(V.stats, sizeof V.stats, "%s/stats", V.name);
    char path[512], ppid[32];
    snprintf(path, sizeof path, "%s/ipcn-test-h_hostile_victim", IPCN_TEST_BINDIR);
    snprintf(ppid, sizeof ppid, "%d", (int)getpid());
    V.pid = fork();
    if (V.pid == 0) {
        int fd = open(V.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0)
            _exit(126);
        if (nofile) {
            struct rlimit rl = {nofile, nofile};
            if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                _exit(125);
        }
        const char *argv[8] = {path, V.name, "120", ppid};
        for (int i = 0; extra && extra[i] && i < 3; i++)
            argv[4 + i] = extra[i];
        execv(path, (char *const *)argv);
        _exit(127);
    }
    if (V.pid < 0)
        return -1;
    uint64_t end = tu_now_ms() + 15000;
    for (;;) {
        size_t found = 0;
        const char *need[] = {V.echo, V.stats};
        for (int i = 0; i < 2; i++) {
            ipcn_resource_list *rl = NULL;
            if (ipcn_find(G.inn, need[i], IPCN_SERVICE, &rl) == IPCN_OK)
                found += rl->count > 0;
            ipcn_resource_list_free(rl);
        }
        if (found == 2)
            break;
        if (!victim_alive() || tu_now_ms() > end) {
            print_error("victim %s did not come up\n", V.name);
            return -1;
        }
        usleep(10000);
    }
    V.rss0_kb = rss_kb(V.pid);
    return 0;
}

static int victim_start(rlim_t nofile)
{
    return victim_start_args(nofile, NULL);
}

static int teardown_victim(void **state)
{
    (void)state;
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

/* ------------------------------------------------------------------ */
/* A flood of connections that never say a word (issue 12, bug 11)     */
/* ------------------------------------------------------------------ */

#define FLOOD_MS 6000     /* how long the flooder connects */
#define FLOOD_MAX 2000000 /* and at most this many times (time, not
                             count, should end it: the newcomer needs it) */
#define FLOOD_HOLD 256    /* connections it keeps open at once */

/* The flooder: connect() flat out to the victim's socket, keep the last
 * FLOOD_HOLD connections open (so the backlog stays full), never send a
 * byte.  Exits 0 after FLOOD_MS or FLOOD_MAX connects. */
static pid_t flooder_start(void)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", V.sock);
    int held[FLOOD_HOLD];
    for (int i = 0; i < FLOOD_HOLD; i++)
        held[i] = -1;
    unsigned next = 0;
    uint64_t end = tu_now_ms() + FLOOD_MS;
    for (long i = 0; i < FLOOD_MAX && (i & 255 || tu_now_ms() < end); i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            _exit(2);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            close(fd); /* backlog full: again */
            continue;
        }
        if (held[next] >= 0)
            close(held[next]);
        held[next] = fd;
        next = (next + 1) % FLOOD_HOLD;
    }
    _exit(0);
}

static void t_connect_flood(void **state)
{
    (void)state;
    assert_int_equal(victim_start(0), 0);
    unsigned long long refused0, refused1;
    unsigned peers;
    victim_stats(&refused0, &peers);

    pid_t fl = flooder_start();
    assert_true(fl > 0);
    uint64_t t0 = tu_now_ms();
    /* The innocent's established link keeps being served, and a new node
     * links in, while the flood goes on. */
    int ok = 0, fail = 0, seq = 0;
    bool newcomer = false, flooding = true;
    ipcn_node *n2 = NULL;
    while (flooding) {
        if (innocent_echo(G.inn, seq++))
            ok++;
        else
            fail++;
        if (!n2 && tu_now_ms() - t0 >= 500) {
            assert_int_equal(ipcn_node_open(&n2, "innocent2", NULL), IPCN_OK);
            assert_int_equal(ipcn_node_start_thread(n2), IPCN_OK);
        }
        if (n2 && !newcomer) {
            ipcn_resource_list *rl = NULL;
            if (ipcn_find(n2, V.echo, IPCN_SERVICE, &rl) == IPCN_OK && rl->count)
                newcomer = innocent_echo(n2, -seq);
            ipcn_resource_list_free(rl);
        }
        flooding = waitpid(fl, NULL, WNOHANG) == 0;
        usleep(50000);
    }
    uint64_t secs = (tu_now_ms() - t0) / 1000 + 1;
    ipcn_node_close(n2);
    assert_true(victim_alive());
    long rss = rss_kb(V.pid);
    victim_stats(&refused1, &peers);
    unsigned lines = log_lines("IPCN-RDV-FLOOD");
    if (G.verbose || fail || !newcomer)
        print_message("    %llu s of flood: %d echoes answered, %d not; newcomer "
                      "%s; %llu connections refused; %u log lines; VmRSS %ld "
                      "-> %ld kB\n", (unsigned long long)secs, ok, fail,
                      newcomer ? "linked" : "never linked",
                      refused1 - refused0, lines, V.rss0_kb, rss);
    assert_true(refused1 > refused0); /* there was a flood, and it was seen */
    assert_int_equal(fail, 0);
    assert_true(ok >= 1);
    assert_true(newcomer);
    /* One line per second of flood, give or take. */
    assert_true(lines <= secs + 2);
    assert_true(rss > 0 && rss - V.rss0_kb < 32 * 1024);
}

/* ------------------------------------------------------------------ */
/* Out of file descriptors (issue 12, bug 6)                           */
/* ------------------------------------------------------------------ */

#define NOFD_LIMIT 40  /* the victim's RLIMIT_NOFILE */
#define NOFD_PEERS 16  /* of each side: these dial it, it dials those */

static struct {
    int refused_200, refused_nofd; /* ERROR frames the peers were sent */
    int victim_down;               /* the innocent lost the victim */
} NF;

static void peer_log(ipcn_log_level level, const char *id, const char *msg,
                     void *user)
{
    (void)level, (void)user;
    if (strcmp(id, "IPCN-PEER-ERROR") != 0 || !strstr(msg, V.name))
        return;
    if (strstr(msg, "reports 200"))
        __atomic_add_fetch(&NF.refused_200, 1, __ATOMIC_RELAXED);
    if (strstr(msg, "reports 307") || strstr(msg, "reports 303"))
        __atomic_add_fetch(&NF.refused_nofd, 1, __ATOMIC_RELAXED);
    if (G.verbose && NF.refused_200 + NF.refused_nofd < 4)
        print_message("    peer log: %s\n", msg);
}

static void innocent_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n, (void)user;
    if (ev->type == IPCN_EV_PEER_DOWN && ev->peer && !strcmp(ev->peer, V.name))
        __atomic_add_fetch(&NF.victim_down, 1, __ATOMIC_RELAXED);
}

/* The victim's event count (its event callback counts every event). */
static unsigned long long victim_events(unsigned *peers)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(G.inn, V.stats, NULL, 0, NULL, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, IPCN_OK);
    const char *e = strstr((const char *)m->data, "events=");
    const char *p = strstr((const char *)m->data, "peers=");
    assert_non_null(e);
    assert_non_null(p);
    unsigned long long ev = strtoull(e + 7, NULL, 10);
    *peers = (unsigned)strtoul(p + 6, NULL, 10);
    ipcn_msg_free(m);
    return ev;
}

static void t_out_of_fds(void **state)
{
    (void)state;
    memset(&NF, 0, sizeof NF);
    assert_int_equal(victim_start(NOFD_LIMIT), 0);
    ipcn_node_set_event_fn(G.inn, innocent_event, NULL);
    ipcn_set_log(IPCN_LOG_WARN, peer_log, NULL);
    unsigned peers;
    unsigned long long ev0 = victim_events(&peers);

    /* Names below "victim-" dial it; names above it are dialled by it. */
    ipcn_node *ps[2 * NOFD_PEERS];
    for (int i = 0; i < 2 * NOFD_PEERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s-%02d", i < NOFD_PEERS ? "apeer" : "zpeer", i);
        assert_int_equal(ipcn_node_open(&ps[i], name, NULL), IPCN_OK);
        assert_int_equal(ipcn_node_start_thread(ps[i]), IPCN_OK);
    }
    /* Let it link what it can, then watch it for a while. */
    usleep(3000 * 1000);
    unsigned long long ev1 = victim_events(&peers);
    unsigned peers1 = peers;
    usleep(3000 * 1000);
    unsigned long long ev2 = victim_events(&peers);
    int echo = innocent_echo(G.inn, 1);
    unsigned told = log_lines("IPCN-NODE-NOFD");
    if (G.verbose || ev2 - ev1 > 8 || !echo || NF.refused_200 || !NF.refused_nofd)
        print_message("    victim: %u then %u peers; events %llu while linking, "
                      "%llu after; peers refused 200: %d, 307/303: %d; "
                      "said it %u times\n", peers1, peers, ev1 - ev0, ev2 - ev1,
                      NF.refused_200, NF.refused_nofd, told);
    assert_true(echo);
    assert_int_equal(NF.victim_down, 0);   /* the existing link stayed */
    assert_true(ev1 - ev0 <= 4 * 2 * NOFD_PEERS); /* no flapping ... */
    assert_true(ev2 - ev1 <= 8);                  /* ... and then calm */
    assert_int_equal(NF.refused_200, 0);  /* not blamed on the peers */
    assert_true(NF.refused_nofd >= 1);    /* told why */
    assert_int_equal(told, 1);            /* and said so once */

    /* With the peers gone, it has descriptors again: a newcomer links. */
    for (int i = 0; i < 2 * NOFD_PEERS; i++)
        ipcn_node_close(ps[i]);
    ipcn_set_log(IPCN_LOG_ERROR, NULL, NULL);
    ipcn_node *late = NULL;
    assert_int_equal(ipcn_node_open(&late, "zzlate", NULL), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(late), IPCN_OK);
    bool linked = false;
    uint64_t end = tu_now_ms() + 20000;
    while (!linked && tu_now_ms() < end) {
        ipcn_resource_list *rl = NULL;
        if (ipcn_find(late, V.echo, IPCN_SERVICE, &rl) == IPCN_OK && rl->count)
            linked = innocent_echo(late, 2);
        ipcn_resource_list_free(rl);
        if (!linked)
            usleep(50000);
    }
    ipcn_node_close(late);
    ipcn_node_set_event_fn(G.inn, NULL, NULL);
    assert_true(linked);
}

/* ------------------------------------------------------------------ */
/* Memory peers make a node hold (issue 12, bug 14)                    */
/* ------------------------------------------------------------------ */

/* A raw client (raw_client.h: our own copy of docs/protocol.md, frames
 * by hand, nothing of libipcnet) with a simple reader of its own: it
 * counts ERRORs and answers PINGs. */
typedef struct rawc {
    int fd;
    uint64_t id;
    uint8_t rx[1 << 16];
    size_t rx_len;
    bool eof, wbroken;
    unsigned errors[400]; /* ERROR frames by status */
    int lockfd;           /* the lock of the name it says hello as */
    char lock[1024];
} rawc;

/* A node accepts a hello only from the process that holds the name's lock
 * (protocol 7.3): like a node, a raw peer takes an exclusive flock on
 * "<name>.lock" and writes "pid id fd" into it, and keeps it until closed. */
static void raw_claim(rawc *r, const char *name)
{
    snprintf(r->lock, sizeof r->lock, "%s/default/%s.lock", tu_net_dir(), name);
    r->lockfd = open(r->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    assert_true(r->lockfd >= 0);
    assert_int_equal(flock(r->lockfd, LOCK_EX | LOCK_NB), 0);
    char info[64];
    int k = snprintf(info, sizeof info, "%d %llu %d\n", (int)getpid(),
                     (unsigned long long)r->id, r->lockfd);
    assert_int_equal(write(r->lockfd, info, (size_t)k), k);
}

static void raw_send(rawc *r, buf *b)
{
    size_t off = 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (off < b->len && !r->wbroken && tu_now_ms() < end) {
        ssize_t w = send(r->fd, b->p + off, b->len - off, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR)
            r->wbroken = true; /* what it sent before is still to be read */
        else
            usleep(1000);
    }
    b->len = 0;
}

/* Read what the victim sent: count ERRORs, answer PINGs. */
static void rawc_drain(rawc *r)
{
    while (!r->eof) {
        ssize_t k = recv(r->fd, r->rx + r->rx_len, sizeof r->rx - r->rx_len,
                         MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
            if (G.verbose)
                print_message("    raw %llx: %s after %zu bytes\n",
                              (unsigned long long)r->id,
                              k ? strerror(errno) : "eof", r->rx_len);
            r->eof = true;
        }
        if (k <= 0)
            break;
        r->rx_len += (size_t)k;
        size_t pos = 0;
        buf out = {0};
        while (r->rx_len - pos >= HDR) {
            const uint8_t *h = r->rx + pos;
            size_t len = (size_t)ld32(h + 12);
            if (len > sizeof r->rx - HDR) { /* bigger than we take: skip */
                r->eof = true;
                break;
            }
            if (r->rx_len - pos < HDR + len)
                break;
            unsigned status = ld16(h + 8);
            if (h[5] == T_ERROR && status < 400)
                r->errors[status]++;
            if (h[5] == T_PING && len >= 8) {
                size_t off = f_begin(&out, T_PONG, r->id, 0);
                b_put(&out, h + HDR, 8);
                f_end(&out, off);
            }
            pos += HDR + len;
        }
        memmove(r->rx, r->rx + pos, r->rx_len - pos);
        r->rx_len -= pos;
        if (out.len)
            raw_send(r, &out);
        free(out.p);
    }
}

static rawc *raw_hello(const char *name, uint64_t id)
{
    rawc *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->id = id;
    raw_claim(r, name);
    int e = 0;
    for (int i = 0; i < 100; i++) {
        r->fd = -1;
        e = raw_connect(V.sock, false, &r->fd);
        if (!e)
            break;
        usleep(10000);
    }
    if (r->fd < 0)
        print_error("connect: %s\n", strerror(e));
    assert_true(r->fd >= 0);
    /* caps 0 (no shared memory, no rings), max_payload 16 MiB */
    buf b = {0};
    enc_hello_nolock(&b, id, "default", 7, name, strlen(name), 1, 1);
    raw_send(r, &b);
    free(b.p);
    return r;
}

static void raw_announce(rawc *r, const char *path, size_t meta_len)
{
    buf b = {0};
    size_t off = f_begin(&b, T_ANNOUNCE, r->id, 0);
    b_u8(&b, 1);  /* kind: data */
    b_u64(&b, 1); /* version */
    b_str(&b, path, strlen(path));
    b_str(&b, "", 0);
    /* meta: one CBOR byte string filling meta_len */
    b_u32(&b, (uint32_t)meta_len);
    uint8_t head[3] = {0x59, (uint8_t)((meta_len - 3) >> 8), (uint8_t)(meta_len - 3)};
    b_put(&b, head, 3);
    for (size_t i = 3; i < meta_len; i++)
        b_u8(&b, 'm');
    f_end(&b, off);
    raw_send(r, &b);
    free(b.p);
}

static void raw_close(rawc *r)
{
    if (r->fd >= 0)
        close(r->fd);
    unlink(r->lock);
    close(r->lockfd);
    free(r);
}

/* The victim's usage counters, from its stats service. */
typedef struct usage {
    unsigned peers;
    unsigned long long meta_bytes, meta_refused, peers_refused;
    unsigned long long tx_buffer, tx_peak, tx_queued;
} usage;

static unsigned long long field(const char *t, const char *key)
{
    const char *p = strstr(t, key);
    if (!p) /* the checks on it then fail */
        print_error("no %s in: %s\n", key, t);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void victim_usage(usage *u)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(G.inn, V.stats, NULL, 0, NULL, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, IPCN_OK);
    const char *t = (const char *)m->data;
    const char *p = strstr(t, "peers="), *mb = strstr(t, "meta_bytes="),
               *mr = strstr(t, "meta_refused="), *pr = strstr(t, "peers_refused=");
    if (!mb || !mr || !pr) /* the checks below then fail */
        print_error("no usage counters in: %s\n", t);
    assert_non_null(p);
    u->peers = (unsigned)strtoul(p + 6, NULL, 10);
    u->meta_bytes = mb ? strtoull(mb + 11, NULL, 10) : 0;
    u->meta_refused = mr ? strtoull(mr + 13, NULL, 10) : 0;
    u->peers_refused = pr ? strtoull(pr + 14, NULL, 10) : 0;
    u->tx_buffer = field(t, " tx_buffer=");
    u->tx_peak = field(t, " tx_peak=");
    u->tx_queued = field(t, " tx_queued=");
    ipcn_msg_free(m);
}

#define MEM_PEERS 8                 /* raw peers that announce */
#define MEM_ANNOUNCES 40            /* each, of ... */
#define MEM_META (16u << 10)        /* ... 16 KiB of meta */
#define MEM_PEER_MAX (256u << 10)   /* the victim's peer_meta_max */
#define MEM_BUDGET (1u << 20)       /* its peer_meta_budget */
#define MEM_MAX_PEERS 12            /* its max_peers */

static void t_peer_memory(void **state)
{
    (void)state;
    char a1[16], a2[16], a3[16];
    snprintf(a1, sizeof a1, "%u", MEM_MAX_PEERS);
    snprintf(a2, sizeof a2, "%u", MEM_PEER_MAX);
    snprintf(a3, sizeof a3, "%u", MEM_BUDGET);
    const char *extra[] = {a1, a2, a3, NULL};
    assert_int_equal(victim_start_args(0, extra), 0);
    usage u0, u1, u2, u3;
    victim_usage(&u0);

    /* Each raw peer announces 40 x 16 KiB, more than its cap; together
     * they would take twice the node's budget. */
    rawc *rs[MEM_PEERS + 8];
    for (int i = 0; i < MEM_PEERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "raw-%02d", i);
        rs[i] = raw_hello(name, 0x4d454d0000000000ull + (uint64_t)i + 1);
        for (int k = 0; k < MEM_ANNOUNCES; k++) {
            char path[64];
            snprintf(path, sizeof path, "hostile/%s/%03d", name, k);
            raw_announce(rs[i], path, MEM_META);
            rawc_drain(rs[i]);
        }
    }
    /* Until every one of them was told no (or a generous bound). */
    unsigned told = 0, over_peer = 0, over_node = 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    do {
        usleep(20000);
        told = over_peer = over_node = 0;
        for (int i = 0; i < MEM_PEERS; i++) {
            rawc_drain(rs[i]);
            over_peer += rs[i]->errors[205] > 0;
            over_node += rs[i]->errors[307] > 0;
            told += rs[i]->errors[205] + rs[i]->errors[307] > 0;
        }
    } while (told < MEM_PEERS && tu_now_ms() < end);
    victim_usage(&u1);

    /* More peers than max_peers: the ones past it are refused. */
    int extra_n = MEM_MAX_PEERS + 2 - (int)u1.peers;
    assert_true(extra_n > 2 && extra_n <= 8);
    for (int i = 0; i < extra_n; i++) {
        char name[32];
        snprintf(name, sizeof name, "late-%02d", i);
        rs[MEM_PEERS + i] = raw_hello(name, 0x4c41544500000000ull + (uint64_t)i + 1);
    }
    unsigned refused = 0;
    end = tu_now_ms() + IO_TIMEOUT_MS;
    do {
        usleep(20000);
        refused = 0;
        for (int i = 0; i < MEM_PEERS + extra_n; i++) {
            rawc_drain(rs[i]);
            if (i >= MEM_PEERS)
                refused += rs[i]->errors[205] > 0 && rs[i]->eof;
        }
    } while (refused < 2 && tu_now_ms() < end);
    victim_usage(&u2);
    int echo = innocent_echo(G.inn, 1);
    if (G.verbose || !echo || u1.meta_bytes > MEM_BUDGET || over_node < 1)
        print_message("    victim: %llu bytes of peers' metadata (budget %u), "
                      "%llu announces refused; raw peers told 205: %u, 307: %u; "
                      "%u peers linked, %llu refused\n", u1.meta_bytes,
                      MEM_BUDGET, u1.meta_refused - u0.meta_refused, over_peer,
                      over_node, u2.peers, u2.peers_refused - u0.peers_refused);
    assert_true(echo);
    assert_true(u1.meta_bytes <= MEM_BUDGET);
    assert_true(u1.meta_bytes >= MEM_BUDGET / 2); /* they did fill it */
    assert_int_equal(told, MEM_PEERS);
    assert_true(over_peer >= 1);
    assert_true(over_node >= 1);
    assert_true(u1.meta_refused > u0.meta_refused);
    assert_true(u2.peers <= MEM_MAX_PEERS);
    assert_true(refused >= 2);
    assert_true(u2.peers_refused >= u0.peers_refused + 2);

    /* When they leave, what they cost is given back. */
    for (int i = 0; i < MEM_PEERS + extra_n; i++)
        raw_close(rs[i]);
    end = tu_now_ms() + IO_TIMEOUT_MS;
    do {
        usleep(50000);
        victim_usage(&u3);
    } while (u3.meta_bytes && tu_now_ms() < end);
    assert_int_equal(u3.meta_bytes, 0);
}


/* A requester that reads its answers slowly (issue 12, bug 14): it asks
 * for the victim's 1 MiB bigdata over and over, first reading nothing
 * until the victim has stopped reading from it (its queue past 1.25 x
 * tx_limit: answers with data up to tx_limit, short 205s past it), then
 * taking only a little of what comes back each round while it keeps
 * asking.  The memory holding that queue must stay under the bound
 * ipcnet.h documents: 1.5 x tx_limit + one frame. */
#define SLOW_TX_LIMIT (8ull << 20)   /* h_hostile_victim's tx_limit */
#define SLOW_FRAME ((1ull << 20) + 4096) /* its bigdata answer, framed */
#define SLOW_FILL_ROUNDS 4000        /* at most, to fill its queue */
#define SLOW_ROUNDS 400              /* then, reading slowly */
#define SLOW_QUERIES 32              /* sent per round, at most ... */
#define SLOW_READ (96u << 10)        /* ... and bytes read per round */

/* Queue up to SLOW_QUERIES queries for path, send what the socket takes. */
static void slow_ask(rawc *r, buf *out, const char *path, unsigned long long *sent)
{
    for (int q = 0; q < SLOW_QUERIES && out->len < (64u << 10); q++) {
        uint64_t corr = ++*sent;
        size_t off = f_begin(out, T_QUERY, r->id, corr);
        b_u32(out, 60000); /* timeout_ms */
        b_str(out, path, strlen(path));
        b_str(out, "", 0);
        b_u32(out, 0);     /* no data */
        f_end(out, off);
    }
    ssize_t w = send(r->fd, out->p, out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
        memmove(out->p, out->p + w, out->len - (size_t)w);
        out->len -= (size_t)w;
    }
}

static void t_slow_reader(void **state)
{
    (void)state;
    assert_int_equal(victim_start(0), 0);
    usage u, u2;
    rawc *r = raw_hello("slowpoke", 0x534c4f5700000001ull);
    char path[64];
    snprintf(path, sizeof path, "%s/bigdata", V.name);
    buf out = {0};
    static uint8_t sink[SLOW_READ];
    unsigned long long sent = 0, got = 0, most = 0, filled = 0;
    int echoes = 0, echo_fail = 0;
    uint64_t end = tu_now_ms() + 4 * IO_TIMEOUT_MS;
    for (int round = 0; round < SLOW_FILL_ROUNDS && tu_now_ms() < end; round++) {
        slow_ask(r, &out, path, &sent);
        if (round % 50 == 49) {
            victim_usage(&u);
            if ((filled = u.tx_queued) > SLOW_TX_LIMIT + SLOW_TX_LIMIT / 4)
                break;
        }
        usleep(1000);
    }
    for (int round = 0; round < SLOW_ROUNDS && !r->eof; round++) {
        slow_ask(r, &out, path, &sent);
        ssize_t k = recv(r->fd, sink, sizeof sink, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            r->eof = true;
        got += k > 0 ? (unsigned long long)k : 0;
        if (round % 40 == 39) {
            echoes++;
            echo_fail += !innocent_echo(G.inn, round);
            victim_usage(&u);
            if (u.tx_buffer > most)
                most = u.tx_buffer;
        }
        usleep(2000);
    }
    victim_usage(&u);
    bool linked = !r->eof;
    raw_close(r);
    free(out.p);
    /* Once it is gone, the memory is given back. */
    end = tu_now_ms() + IO_TIMEOUT_MS;
    do {
        usleep(50000);
        victim_usage(&u2);
    } while (u2.tx_buffer > (1u << 20) && tu_now_ms() < end);
    /* The bound, plus what the innocent's own link may hold (small). */
    unsigned long long bound =
        SLOW_TX_LIMIT + SLOW_TX_LIMIT / 2 + SLOW_FRAME + (64u << 10);
    if (G.verbose || u.tx_peak > bound || echo_fail || !linked)
        print_message("    slow reader: %llu queries, %llu bytes queued when "
                      "it started reading, read %llu; victim's queues held up "
                      "to %llu bytes while it read (peak %llu, bound %llu, "
                      "tx_limit %llu), %llu after it left; %d/%d echoes "
                      "failed\n", sent, filled, got, most, u.tx_peak, bound,
                      SLOW_TX_LIMIT, u2.tx_buffer, echo_fail, echoes);
    assert_true(linked);
    assert_int_equal(echo_fail, 0);
    /* It did push the victim past the point where it stops reading ... */
    assert_true(filled > SLOW_TX_LIMIT + SLOW_TX_LIMIT / 4);
    /* ... and the memory for it stayed within the bound, then went. */
    assert_true(u.tx_peak <= bound);
    assert_true(u2.tx_buffer <= (1u << 20));
    assert_true(u2.tx_peak >= u.tx_peak);
}

/* ------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    tu_net_dir();
    G.verbose = getenv("IPCN_TEST_VERBOSE") != NULL;
    setenv("IPCNET_LOG", "warn", 1);
    /* A sanitized victim keeps freed blocks in a quarantine that VmRSS
     * would count as held: keep it small. */
    const char *asan = getenv("ASAN_OPTIONS");
    if (!asan || !strstr(asan, "quarantine_size_mb")) {
        char opt[1024];
        snprintf(opt, sizeof opt, "%s%squarantine_size_mb=8", asan ? asan : "",
                 asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", opt, 1);
    }
    if (ipcn_node_open(&G.inn, "innocent", NULL) != IPCN_OK ||
        ipcn_node_start_thread(G.inn) != IPCN_OK)
        return -1;
    /* The innocent's own log stays quiet: only the victim's is looked at. */
    ipcn_set_log(IPCN_LOG_ERROR, NULL, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ipcn_node_close(G.inn);
    return 0;
}

#define CASE(fn) cmocka_unit_test_teardown(fn, teardown_victim)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_connect_flood),
        CASE(t_out_of_fds),
        CASE(t_peer_memory),
        CASE(t_slow_reader),
    };
    if (getenv("IPCN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("IPCN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

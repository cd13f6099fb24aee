/* SPDX-License-Identifier: MIT */
/*
 * test_name_lock.c — a node name belongs to whoever holds its lock, and the
 * network directory holds only what nodes put there.
 *
 * - Name squatting: a raw client (our own bytes, raw_client.h)
 *   that says HELLO as a name whose lock it does not hold is refused with
 *   201, whether nobody holds the name or another process does (even when
 *   the client opened the lock file and wrote itself into it); the real
 *   node of that name then links and its data answers.
 * - Junk in the directory (a directory named x.sock, a directory named
 *   x.lock, a lock that is a symlink, names no node can have) does not
 *   hold up ipcn_node_wait_synced().
 * - A base directory that another user owns, or that others may write
 *   without the sticky bit, is refused with 202.
 * - In a network shared by a group, a raw client of another uid that says
 *   HELLO as a name is refused with 201 unless that very process holds
 *   the name's lock (its own file, its pid in /proc/locks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>

#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <grp.h>
#include <unistd.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"
#include "helpers/l_common.h"

#define IO_MS 5000

/* ------------------------------------------------------------------ */
/* A raw client: a HELLO of our own, then what the node answers        */
/* ------------------------------------------------------------------ */

/* Connect to the node's socket, say HELLO as name, and read until the node
 * closes or IO_MS pass.  Returns the status of the last ERROR it sent (0
 * when none); *closed tells whether it closed the link. */
static int squat_at(const char *path, const char *net, const char *name,
                    bool *closed);

static int squat(const char *node, const char *name, bool *closed)
{
    char path[600];
    snprintf(path, sizeof path, "%s/default/%s.sock", tu_net_dir(), node);
    int st = squat_at(path, "default", name, closed);
    assert_true(st >= 0);
    return st;
}

/* The same at a socket path, in network net; -1 when it cannot connect or
 * send (no cmocka assertion: it also runs in a child of another uid). */
static int squat_at(const char *path, const char *net, const char *name,
                    bool *closed)
{
    int fd = -1;
    if (raw_connect(path, false, &fd) != 0)
        return -1;
    /* protocol.md 3 and 7.3: a version 1 HELLO as name, the lock not held */
    buf hello = {0};
    hello_max_payload = 1u << 20;
    enc_hello_nolock(&hello, 0x5157415454455200ull, net, strlen(net), name,
                     strlen(name), 1, 1); /* "SQUATTER" */
    bool sent = write(fd, hello.p, hello.len) == (ssize_t)hello.len;
    free(hello.p);
    if (!sent) {
        close(fd);
        return -1;
    }

    static uint8_t rx[1 << 20];
    size_t have = 0, off = 0;
    int last_error = 0;
    *closed = false;
    uint64_t end = tu_now_ms() + IO_MS;
    while (!*closed && tu_now_ms() < end) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        ssize_t r = read(fd, rx + have, sizeof rx - have);
        if (r <= 0) {
            *closed = true;
            break;
        }
        have += (size_t)r;
        while (have - off >= HDR) {
            uint32_t len = ld32(rx + off + 12);
            if (have - off < HDR + (size_t)len)
                break;
            if (rx[off + 5] == T_ERROR)
                last_error = ld16(rx + off + 8);
            off += HDR + len;
        }
        if (off == have)
            have = off = 0;
        if (have >= sizeof rx) { /* a node says little to a stranger */
            close(fd);
            return -1;
        }
    }
    close(fd);
    return last_error;
}

static int setup(void **state)
{
    (void)state;
    tu_net_dir();
    unsetenv("IPCNET_NETWORK");
    return 0;
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK)
        print_error("open %s: %d %s\n", name, st, ipcn_status_str(st));
    assert_int_equal(st, IPCN_OK);
    return l_own_node(n);
}

/* A process that holds the lock of name as a node does, and nothing else;
 * it exits when the pipe it got closes.  Returns its pid, *ctl the pipe. */
static pid_t hold_name(const char *name, int *ctl)
{
    int p[2], ready[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        close(ready[0]);
        char path[600], info[64];
        snprintf(path, sizeof path, "%s/default/%s.lock", tu_net_dir(), name);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
            _exit(3);
        int k = snprintf(info, sizeof info, "%d 1234 %d\n", (int)getpid(), fd);
        if (write(fd, info, (size_t)k) != k || write(ready[1], "r", 1) != 1)
            _exit(3);
        char c;
        (void)!read(p[0], &c, 1); /* until the test closes its end */
        _exit(0);
    }
    close(p[0]);
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    *ctl = p[1];
    return pid;
}

/* ------------------------------------------------------------------ */
/* Name squatting                                                      */
/* ------------------------------------------------------------------ */

static void test_squatter_refused_real_node_links(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/default", tu_net_dir());
    ipcn_node *v = open_node("z-victim");
    assert_int_equal(ipcn_node_start_thread(v), IPCN_OK);
    ipcn_node_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
    assert_int_equal(ipcn_node_get_stats(v, &s0), IPCN_OK);

    /* Nobody holds the name. */
    bool closed;
    assert_int_equal(squat("z-victim", "a-real", &closed), IPCN_UNAUTHORIZED);
    assert_true(closed);
    assert_int_equal(l_peer_count(v), 0);

    /* The real a-real has taken its name (it is starting and has not
     * linked yet); we open its lock file and write ourselves into it, but
     * hold no lock: still refused. */
    int ctl;
    pid_t holder = hold_name("a-real", &ctl);
    char lockpath[700], info[64];
    snprintf(lockpath, sizeof lockpath, "%s/a-real.lock", dir);
    int fd = open(lockpath, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    assert_true(fd >= 0);
    int k = snprintf(info, sizeof info, "%d 5157415454455200 %d\n",
                     (int)getpid(), fd);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, info, (size_t)k, 0), k);
    assert_int_equal(squat("z-victim", "a-real", &closed), IPCN_UNAUTHORIZED);
    assert_true(closed);
    assert_int_equal(l_peer_count(v), 0);
    close(fd);
    close(ctl);
    assert_int_equal(tu_wait(holder, 10000), 0);

    assert_int_equal(ipcn_node_get_stats(v, &s1), IPCN_OK);
    assert_true(s1.links_refused >= s0.links_refused + 2);

    /* The real node links, and what it holds is what a query answers. */
    pid_t real = l_spawn("l_prov", "a-real", "60", NULL);
    assert_true(L_UNTIL(NULL, l_peer_pid(v, "a-real") == real, 10000));
    assert_true(L_UNTIL(NULL, l_count_resources(v, "a-real/data", "a-real") == 1,
                        10000));
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(v, "a-real/data", &m, 10000), IPCN_OK);
    assert_int_equal(m->len, strlen("value-of-a-real"));
    assert_memory_equal(m->data, "value-of-a-real", m->len);
    ipcn_msg_free(m);
    assert_int_equal(l_stop(real, 10000), 0);
}

/* ------------------------------------------------------------------ */
/* Junk in the directory                                               */
/* ------------------------------------------------------------------ */

static void make_file(const char *dir, const char *name)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
}

static void make_subdir(const char *dir, const char *name)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(mkdir(p, 0700), 0);
}

/* A socket that nobody accepts on, as a dead node leaves. */
static int make_socket(const char *dir, const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int k = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, name);
    assert_true(k > 0 && (size_t)k < sizeof sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static bool present(const char *dir, const char *name)
{
    char p[1200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

static void test_junk_does_not_stall_wait(void **state)
{
    (void)state;
    char dir[600], target[700];
    snprintf(dir, sizeof dir, "%s/default", tu_net_dir());
    assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
    make_subdir(dir, "x.sock");               /* a directory, no lock */
    make_file(dir, "y.sock");                 /* a file beside ... */
    make_subdir(dir, "y.lock");               /* ... a directory lock */
    int s1 = make_socket(dir, "w.sock");      /* a socket whose lock ... */
    snprintf(target, sizeof target, "%s/target", tu_net_dir());
    make_file(tu_net_dir(), "target");
    char link[700];
    snprintf(link, sizeof link, "%s/w.lock", dir);
    assert_int_equal(symlink(target, link), 0); /* ... is a symlink */
    int s2 = make_socket(dir, "\x1b[31mred\n.sock"); /* not a node name */
    make_file(dir, "\x1b[31mred\n.lock");
    make_file(dir, "u.sock");                 /* a file with a real lock */
    make_file(dir, "u.lock");

    /* A live node among the junk is still waited for. */
    pid_t peer = l_spawn("l_prov", "p-peer", "60", NULL);
    ipcn_node *n = open_node("m-wait");
    assert_int_equal(ipcn_node_wait_peers(n, 1, 20000), IPCN_OK);
    uint64_t t0 = tu_now_ms();
    int st = ipcn_node_wait_synced(n, 20000);
    uint64_t took = tu_now_ms() - t0;
    if (st != IPCN_OK || took >= 10000)
        print_error("wait_synced: %d after %llu ms\n", st,
                    (unsigned long long)took);
    assert_int_equal(st, IPCN_OK);
    assert_true(took < 10000); /* a bound on a hang, not a speed goal */
    assert_true(l_peer_pid(n, "p-peer") == peer);
    /* Not ours to remove. */
    assert_true(present(dir, "x.sock") && present(dir, "y.lock") &&
                present(dir, "w.lock"));
    assert_int_equal(l_stop(peer, 10000), 0);
    close(s1);
    close(s2);
}

/* ------------------------------------------------------------------ */
/* The base directory                                                  */
/* ------------------------------------------------------------------ */

static int open_in(const char *base)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = base;
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "b-node", &o);
    if (st == IPCN_OK)
        ipcn_node_close(n);
    return st;
}

static void test_base_writable_by_others(void **state)
{
    (void)state;
    char base[600];
    snprintf(base, sizeof base, "%s/open-base", tu_net_dir());
    assert_int_equal(mkdir(base, 0700), 0);
    assert_int_equal(chmod(base, 0777), 0);
    assert_int_equal(open_in(base), IPCN_FORBIDDEN);
    assert_int_equal(chmod(base, 0770), 0);
    assert_int_equal(open_in(base), IPCN_FORBIDDEN);
    assert_int_equal(chmod(base, 01777), 0); /* as /tmp: allowed */
    assert_int_equal(open_in(base), IPCN_OK);
    assert_int_equal(chmod(base, 0755), 0);
    assert_int_equal(open_in(base), IPCN_OK);
}

/* Another user made the base first (needs root to give it away). */
static void test_base_of_another_user(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("    not root: cannot give a directory to another user\n");
        skip();
    }
    char base[600];
    snprintf(base, sizeof base, "%s/their-base", tu_net_dir());
    assert_int_equal(mkdir(base, 0755), 0);
    const uid_t other = 65534; /* nobody; no account needed for a uid */
    assert_int_equal(chown(base, other, other), 0);
    assert_int_equal(open_in(base), IPCN_FORBIDDEN);
    /* Nothing made in it; and refused even with our network directory in
     * it, made and owned by us. */
    char net[700];
    snprintf(net, sizeof net, "%s/default", base);
    assert_int_equal(mkdir(net, 0700), 0);
    assert_int_equal(open_in(base), IPCN_FORBIDDEN);
    assert_int_equal(chown(base, 0, 0), 0);
    assert_int_equal(open_in(base), IPCN_OK);
}

/* ------------------------------------------------------------------ */
/* Name squatting across users, in a shared network                    */
/* ------------------------------------------------------------------ */

#define OTHER_GID 64990 /* ids need no account */
#define SQUAT_UID 64991
#define HOLDER_UID 64992

/* In a child: become uid u, gid and only group OTHER_GID. */
static void become(uid_t u)
{
    gid_t g = OTHER_GID;
    if (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 || setresuid(u, u, u) < 0)
        _exit(90);
}

/* A child of uid u that holds (flock) or, with hold false, only creates
 * dir/name.lock, then waits for *ctl to close. */
static pid_t lock_as(const char *dir, const char *name, uid_t u, bool hold,
                     int *ctl)
{
    int p[2], ready[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        close(ready[0]);
        become(u);
        char path[700];
        snprintf(path, sizeof path, "%s/%s.lock", dir, name);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || (hold && flock(fd, LOCK_EX | LOCK_NB) < 0) ||
            write(ready[1], "r", 1) != 1)
            _exit(3);
        char c;
        (void)!read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    *ctl = p[1];
    return pid;
}

/* A child of uid SQUAT_UID says HELLO as name to the node at sock: its
 * exit status is the ERROR status when the node closed the link (201 fits
 * an exit status), 1 when it did not close, 2 when it could not speak. */
static int squat_as(const char *sock, const char *net, const char *name,
                    bool also_hold, const char *dir)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        become(SQUAT_UID);
        if (also_hold) { /* this very process holds the lock: not refused */
            char path[700];
            snprintf(path, sizeof path, "%s/%s.lock", dir, name);
            int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                _exit(3);
        }
        bool closed = false;
        int st = squat_at(sock, net, name, &closed);
        _exit(st < 0 ? 2 : closed ? (st ? st : 4) : 1);
    }
    return tu_wait(pid, 20000);
}

static void test_squatter_of_another_user(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("    not root: cannot run processes of other users\n");
        skip();
    }
    /* The base, which the other uids must enter; the network, shared by
     * group OTHER_GID, which this process joins. */
    const char *base = tu_net_dir();
    assert_int_equal(chmod(base, 0755), 0);
    char dir[700], sock[800];
    snprintf(dir, sizeof dir, "%s/shared", base);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chown(dir, 0, OTHER_GID), 0);
    assert_int_equal(chmod(dir, 03770), 0);
    gid_t saved[64];
    int nsaved = getgroups(64, saved);
    assert_true(nsaved >= 0);
    gid_t mine[65];
    memcpy(mine, saved, (size_t)nsaved * sizeof *mine);
    mine[nsaved] = OTHER_GID;
    assert_int_equal(setgroups((size_t)nsaved + 1, mine), 0);

    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.network = "shared";
    ipcn_node *v = NULL;
    assert_int_equal(ipcn_node_open(&v, "z-victim", &o), IPCN_OK);
    l_own_node(v);
    assert_int_equal(ipcn_node_start_thread(v), IPCN_OK);
    snprintf(sock, sizeof sock, "%s/z-victim.sock", dir);

    /* A name nobody holds. */
    assert_int_equal(squat_as(sock, "shared", "a-free", false, dir), IPCN_UNAUTHORIZED);
    /* A name another user holds: its lock file is not the squatter's. */
    int ctl;
    pid_t h = lock_as(dir, "a-theirs", HOLDER_UID, true, &ctl);
    assert_int_equal(squat_as(sock, "shared", "a-theirs", false, dir), IPCN_UNAUTHORIZED);
    close(ctl);
    assert_int_equal(tu_wait(h, 10000), 0);
    /* Its own lock file, held by no one, or by another of its processes:
     * /proc/locks does not show the squatter's pid holding it. */
    h = lock_as(dir, "a-mine", SQUAT_UID, false, &ctl);
    assert_int_equal(squat_as(sock, "shared", "a-mine", false, dir), IPCN_UNAUTHORIZED);
    close(ctl);
    assert_int_equal(tu_wait(h, 10000), 0);
    h = lock_as(dir, "a-mine2", SQUAT_UID, true, &ctl);
    assert_int_equal(squat_as(sock, "shared", "a-mine2", false, dir), IPCN_UNAUTHORIZED);
    close(ctl);
    assert_int_equal(tu_wait(h, 10000), 0);
    assert_int_equal(l_peer_count(v), 0);
    /* The control: the squatter holding its own lock is not refused for
     * the name (no ERROR; the link lasts until it leaves, or is dropped
     * later for not answering pings: 1 or 4), nor counted as refused. */
    ipcn_node_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
    assert_int_equal(ipcn_node_get_stats(v, &s0), IPCN_OK);
    int held = squat_as(sock, "shared", "a-held", true, dir);
    assert_true(held == 1 || held == 4);
    assert_int_equal(ipcn_node_get_stats(v, &s1), IPCN_OK);
    assert_int_equal(s1.links_refused, s0.links_refused);

    assert_int_equal(setgroups((size_t)nsaved, saved), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_squatter_refused_real_node_links,
                                        setup, l_teardown),
        cmocka_unit_test_setup_teardown(test_junk_does_not_stall_wait, setup,
                                        l_teardown),
        cmocka_unit_test_setup_teardown(test_base_writable_by_others, setup,
                                        l_teardown),
        cmocka_unit_test_setup_teardown(test_base_of_another_user, setup,
                                        l_teardown),
        cmocka_unit_test_setup_teardown(test_squatter_of_another_user, setup,
                                        l_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * test_rendezvous.c — how nodes find each other through the network
 * directory: where the directory is (IPCNET_DIR, opts.dir,
 * XDG_RUNTIME_DIR), that it is made 0700 and refused when another user
 * owns it or others may write it, that networks are separate, that the
 * files of dead nodes are swept, that a directory longer than sun_path
 * works, that a name is unique, and that nodes started at the same instant
 * link exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

static ipcn_node *open_with(const char *name, const ipcn_node_opts *o)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, o);
    if (st != IPCN_OK)
        print_error("open %s: %d %s\n", name, st, ipcn_status_str(st));
    assert_int_equal(st, IPCN_OK);
    return l_own_node(n);
}

static int open_status(const char *name, const ipcn_node_opts *o)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, o);
    if (st == IPCN_OK)
        ipcn_node_close(n);
    return st;
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    return (unsigned)(st.st_mode & 07777);
}

static bool exists(const char *dir, const char *file)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

static int count_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int k = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            k++;
    closedir(d);
    return k;
}

/* Restore the test binary's own IPCNET_DIR and no network. */
static int reset_env(void **state)
{
    l_teardown(state);
    tu_net_dir();
    unsetenv("XDG_RUNTIME_DIR");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Where the directory is, and its mode                                */
/* ------------------------------------------------------------------ */

static void test_dir_created_0700(void **state)
{
    (void)state;
    tu_net_dir();
    char parts[3][1024], want[1100];
    snprintf(parts[0], sizeof parts[0], "%s/mode", tu_dir);
    snprintf(parts[1], sizeof parts[1], "%.500s/a", parts[0]);
    snprintf(parts[2], sizeof parts[2], "%.800s/b", parts[1]);
    const char *base = parts[2];
    snprintf(want, sizeof want, "%s/default", base);
    setenv("IPCNET_DIR", base, 1);
    umask(022);

    ipcn_node *n = open_with("m-node", NULL);
    assert_string_equal(ipcn_node_dir(n), want);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mode_of(parts[i]), 0700);
    assert_int_equal(mode_of(want), 0700);
    char sock[1200];
    snprintf(sock, sizeof sock, "%s/m-node.sock", want);
    struct stat st;
    assert_int_equal(lstat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_true(exists(want, "m-node.lock"));
    assert_int_equal(count_in(want), 2);
    l_close_node(n);
    assert_int_equal(count_in(want), 0);
}

static void test_xdg_runtime_dir(void **state)
{
    (void)state;
    tu_net_dir();
    unsetenv("IPCNET_DIR");
    char xdg[512], want[600];
    snprintf(xdg, sizeof xdg, "%s/xdg", tu_dir);
    assert_int_equal(mkdir(xdg, 0700), 0);
    setenv("XDG_RUNTIME_DIR", xdg, 1);
    snprintf(want, sizeof want, "%s/ipcnet/default", xdg);
    ipcn_node *n = open_with("x-node", NULL);
    assert_string_equal(ipcn_node_dir(n), want);
    assert_int_equal(mode_of(want), 0700);
    char mid[600];
    snprintf(mid, sizeof mid, "%s/ipcnet", xdg);
    assert_int_equal(mode_of(mid), 0700);
    assert_true(exists(want, "x-node.sock"));
    l_close_node(n);
}

/* opts.dir beats IPCNET_DIR, opts.network beats IPCNET_NETWORK. */
static void test_opts_override_env(void **state)
{
    (void)state;
    tu_net_dir();
    setenv("IPCNET_NETWORK", "envnet", 1);
    char want[600], optdir[512];
    ipcn_node *a = open_with("o-env", NULL);
    snprintf(want, sizeof want, "%s/envnet", tu_dir);
    assert_string_equal(ipcn_node_dir(a), want);

    snprintf(optdir, sizeof optdir, "%s/optdir", tu_dir);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = optdir;
    o.network = "optnet";
    ipcn_node *b = open_with("o-opt", &o);
    snprintf(want, sizeof want, "%s/optdir/optnet", tu_dir);
    assert_string_equal(ipcn_node_dir(b), want);
    assert_true(exists(want, "o-opt.sock"));
    l_close_node(a);
    l_close_node(b);
}

/* ------------------------------------------------------------------ */
/* Networks                                                            */
/* ------------------------------------------------------------------ */

static void test_networks_are_separate(void **state)
{
    (void)state;
    tu_net_dir();
    setenv("IPCNET_NETWORK", "red", 1);
    ipcn_node_opts red, blue;
    ipcn_node_opts_init(&red);
    ipcn_node_opts_init(&blue);
    red.network = "red";
    blue.network = "blue";
    /* The same names in both networks: no conflict. */
    ipcn_node *r1 = open_with("same", NULL); /* red, from the environment */
    ipcn_node *r2 = open_with("other", &red);
    ipcn_node *b1 = open_with("same", &blue);
    ipcn_node *b2 = open_with("other", &blue);
    ipcn_node *all[] = {r1, r2, b1, b2};
    const char *net[] = {"red", "red", "blue", "blue"};
    for (int i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "net/%s/%s", net[i], ipcn_node_name(all[i]));
        assert_int_equal(ipcn_announce(all[i], path, IPCN_DATA, "", NULL, 0), IPCN_CREATED);
        assert_int_equal(ipcn_node_start_thread(all[i]), IPCN_OK);
    }
    /* A helper process in red through IPCNET_NETWORK. */
    pid_t pid = l_spawn("l_prov", "p-red", "60", NULL);
    for (int i = 0; i < 4; i++) {
        unsigned want = i < 2 ? 2 : 1;
        assert_int_equal(ipcn_node_wait_peers(all[i], want, 10000), IPCN_OK);
    }
    assert_true(L_UNTIL(NULL, l_count_resources(r1, "**", NULL) == 5 &&
                                   l_count_resources(r2, "**", NULL) == 5,
                        5000));
    L_UNTIL(NULL, false, 500); /* time for a wrong link to show up */
    for (int i = 0; i < 4; i++) {
        ipcn_peer_list *pl = NULL;
        assert_int_equal(ipcn_peers(all[i], &pl), IPCN_OK);
        if (i == 0) {
            assert_int_equal(pl->count, 2);
            assert_string_equal(pl->items[0].name, "other");
            assert_string_equal(pl->items[1].name, "p-red");
        } else if (i == 1) {
            assert_int_equal(pl->count, 2);
            assert_string_equal(pl->items[0].name, "p-red");
            assert_string_equal(pl->items[1].name, "same");
        } else {
            assert_int_equal(pl->count, 1);
            assert_string_equal(pl->items[0].name, i == 2 ? "other" : "same");
        }
        ipcn_peer_list_free(pl);
    }
    /* Each network's directory holds only its own. */
    assert_int_equal(l_count_resources(r1, "net/blue/**", NULL), 0);
    assert_int_equal(l_count_resources(b1, "net/red/**", NULL), 0);
    assert_int_equal(l_count_resources(b1, "p-red/**", NULL), 0);
    assert_int_equal(l_count_resources(b1, "**", NULL), 2);
    assert_int_equal(tu_count_files("red"), 6);
    assert_int_equal(tu_count_files("blue"), 4);

    assert_int_equal(l_stop(pid, 5000), 0);
    for (int i = 0; i < 4; i++)
        l_close_node(all[i]);
    assert_int_equal(tu_count_files("red"), 0);
    assert_int_equal(tu_count_files("blue"), 0);
}

/* ------------------------------------------------------------------ */
/* Unusable directories                                                */
/* ------------------------------------------------------------------ */

static void test_unusable_dir_refused(void **state)
{
    (void)state;
    tu_net_dir();
    char base[512], d[600];
    snprintf(base, sizeof base, "%s/bad", tu_dir);
    assert_int_equal(mkdir(base, 0700), 0);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = base;

    /* Owned by another uid (as root we can make one). */
    if (geteuid() == 0) {
        snprintf(d, sizeof d, "%s/other-uid", base);
        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(chown(d, 12345, 12345), 0);
        o.network = "other-uid";
        assert_int_equal(open_status("u-node", &o), IPCN_FORBIDDEN);
        assert_int_equal(count_in(d), 0); /* nothing made in it */
        assert_int_equal(chown(d, 0, 0), 0);
        assert_int_equal(open_status("u-node", &o), IPCN_OK);
    } else {
        print_message("[ rendezvous ] not root: the other-uid case is skipped\n");
    }

    /* Writable by everybody, or by the group. */
    const unsigned modes[] = {0777, 0770, 0722, 01777};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char net[32];
        snprintf(net, sizeof net, "mode-%o", modes[i]);
        snprintf(d, sizeof d, "%s/%s", base, net);
        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(chmod(d, modes[i]), 0);
        o.network = net;
        int st = open_status("w-node", &o);
        if (st != IPCN_FORBIDDEN)
            print_error("mode %o: %d\n", modes[i], st);
        assert_int_equal(st, IPCN_FORBIDDEN);
        assert_int_equal(count_in(d), 0);
        assert_int_equal(chmod(d, 0700), 0);
        assert_int_equal(open_status("w-node", &o), IPCN_OK);
    }

    /* Not a directory: a symbolic link to a good one, a regular file. */
    char good[600];
    snprintf(good, sizeof good, "%s/good", base);
    assert_int_equal(mkdir(good, 0700), 0);
    snprintf(d, sizeof d, "%s/link", base);
    assert_int_equal(symlink(good, d), 0);
    o.network = "link";
    assert_int_equal(open_status("s-node", &o), IPCN_FORBIDDEN);
    assert_int_equal(count_in(good), 0);
    snprintf(d, sizeof d, "%s/file", base);
    FILE *f = fopen(d, "w");
    assert_non_null(f);
    fclose(f);
    o.network = "file";
    assert_int_equal(open_status("f-node", &o), IPCN_FORBIDDEN);
}

/* ------------------------------------------------------------------ */
/* Stale files                                                         */
/* ------------------------------------------------------------------ */

/* A child that holds dir/<lock> (flock) and binds dir/<sock>, waiting to
 * be killed; returns when it has done so. */
static pid_t fake_node(const char *dir, const char *lock, const char *sock)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(60);
        char p[600];
        if (lock) {
            snprintf(p, sizeof p, "%s/%s", dir, lock);
            int fd = open(p, O_RDWR | O_CREAT, 0600);
            if (fd < 0 || flock(fd, LOCK_EX) < 0)
                _exit(1);
        }
        if (sock) {
            struct sockaddr_un sa = {.sun_family = AF_UNIX};
            snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, sock);
            int fd = socket(AF_UNIX, SOCK_STREAM, 0);
            if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
                listen(fd, 4) < 0)
                _exit(2);
        }
        (void)!write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    l_track(pid);
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

static void test_stale_files_swept(void **state)
{
    (void)state;
    const char *net = l_net("stale");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", tu_dir, net);
    /* A live node, whose files must stay. */
    pid_t live = l_spawn("l_prov", "live", "60", NULL);
    assert_true(L_UNTIL(NULL, exists(dir, "live.sock"), 5000));

    /* ghost: died holding its lock and socket; ghost2: a socket with no
     * lock; ghost3: a lock with no socket. */
    l_kill(fake_node(dir, "ghost.lock", "ghost.sock"));
    l_kill(fake_node(dir, NULL, "ghost2.sock"));
    l_kill(fake_node(dir, "ghost3.lock", NULL));
    assert_int_equal(tu_count_files(net), 6);

    l_events *ev = l_new_events();
    ipcn_node *n = open_with("newbie", NULL);
    ipcn_node_set_event_fn(n, l_event_fn, ev);
    /* The open swept them all. */
    assert_false(exists(dir, "ghost.sock"));
    assert_false(exists(dir, "ghost.lock"));
    assert_false(exists(dir, "ghost2.sock"));
    assert_false(exists(dir, "ghost3.lock"));
    assert_true(exists(dir, "live.sock"));
    assert_true(exists(dir, "live.lock"));
    assert_int_equal(tu_count_files(net), 4);
    assert_true(L_UNTIL(n, l_peer_pid(n, "live") == live, 5000));

    /* The names are free again. */
    ipcn_node *g = open_with("ghost", NULL);
    assert_int_equal(ipcn_node_start_thread(g), IPCN_OK);
    assert_true(L_UNTIL(n, l_peer_pid(n, "ghost") == getpid(), 5000));
    assert_int_equal(ipcn_node_wait_peers(g, 2, 5000), IPCN_OK);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);

    /* A dead node's files that appear while nodes run (no rename, so no
     * inotify event) are swept by the next node that opens. */
    pid_t zed = fake_node(dir, "zed.lock", "zed.sock");
    l_kill(zed);
    ipcn_node *late = open_with("late", NULL); /* its scan sweeps zed */
    assert_false(exists(dir, "zed.sock"));
    assert_false(exists(dir, "zed.lock"));
    l_close_node(late);

    l_close_node(g);
    assert_int_equal(l_stop(live, 5000), 0);
    l_close_node(n);
    assert_int_equal(tu_count_files(net), 0);
}

/* A live node's name is taken: 207, and the live node is not disturbed. */
static void test_name_in_use(void **state)
{
    (void)state;
    const char *net = l_net("dup");
    l_events *ev = l_new_events();
    ipcn_node *w = open_with("a-watch", NULL);
    ipcn_node_set_event_fn(w, l_event_fn, ev);
    pid_t pid = l_spawn("l_prov", "dup", "60", NULL);
    assert_true(L_UNTIL(w, l_peer_pid(w, "dup") == pid, 5000));

    assert_int_equal(open_status("dup", NULL), IPCN_CONFLICT);
    pid_t second = l_spawn("l_prov", "dup", "60", NULL);
    int rc = l_wait(second, 5000);
    assert_int_equal(rc, 7); /* l_prov: open gave 207 */

    L_UNTIL(w, false, 300);
    assert_int_equal(l_peer_pid(w, "dup"), pid);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);
    assert_int_equal(tu_count_files(net), 4);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(w, "dup/data", &m, 5000), IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(w);
}

/* A node with no inotify watch (IPCNET_NO_INOTIFY, or the per-user limit
 * of inotify instances reached) still dials a newcomer whose name sorts
 * higher, by rescanning the directory. */
static void test_no_inotify_rescans(void **state)
{
    (void)state;
    l_net("rescan");
    ipcn_node *w = open_with("a-watch", NULL);
    setenv("IPCNET_NO_INOTIFY", "1", 1);
    pid_t pid = l_spawn("l_prov", "aaa", "60", NULL);
    unsetenv("IPCNET_NO_INOTIFY");
    /* aaa is up (and past its first scan) once a-watch, which dials it, is
     * linked to it. */
    assert_true(L_UNTIL(w, l_peer_pid(w, "aaa") == pid, 5000));
    ipcn_node *z = open_with("zzz", NULL);
    /* Only aaa can make this link, and only by rescanning. */
    assert_true(L_UNTIL(z, l_peer_pid(z, "aaa") == pid, 5000));
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(z);
    l_close_node(w);
}

/* ------------------------------------------------------------------ */
/* A directory longer than sun_path                                    */
/* ------------------------------------------------------------------ */

static void test_long_dir_path(void **state)
{
    (void)state;
    tu_net_dir();
    char base[1024];
    int k = snprintf(base, sizeof base, "%s/", tu_dir);
    for (int seg = 0; seg < 3; seg++) {
        for (int i = 0; i < 60; i++)
            base[k++] = (char)('d' + seg);
        base[k++] = '/';
    }
    base[--k] = 0;
    setenv("IPCNET_DIR", base, 1);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/default", base);
    assert_true(strlen(dir) + strlen("/p-long.sock") >= sizeof(((struct sockaddr_un *)0)->sun_path));

    l_events *ev = l_new_events();
    ipcn_node *n = open_with("a-long", NULL);
    ipcn_node_set_event_fn(n, l_event_fn, ev);
    assert_string_equal(ipcn_node_dir(n), dir);
    pid_t pid = l_spawn("l_prov", "p-long", "60", NULL);
    assert_true(L_UNTIL(n, l_peer_pid(n, "p-long") == pid &&
                               l_count_resources(n, "p-long/**", NULL) == 3,
                        10000));
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(n, "p-long/data", &m, 5000), IPCN_OK);
    assert_string_equal((const char *)m->data, "value-of-p-long");
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_request(n, "p-long/svc", "hi", 2, NULL, &m, 5000), IPCN_OK);
    assert_string_equal((const char *)m->data, "echo:p-long:hi");
    ipcn_msg_free(m);

    /* Death, sweep (by the dialler, through the long path) and rebirth. */
    size_t mark = l_events_mark(ev);
    l_kill(pid);
    l_event down;
    assert_true(L_UNTIL(n, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, "p-long", &down) >= 0,
                        5000));
    assert_int_equal(down.status, IPCN_SERVICE_UNAVAILABLE);
    assert_true(L_UNTIL(n, !exists(dir, "p-long.sock") && !exists(dir, "p-long.lock"), 3000));
    pid = l_spawn("l_prov", "p-long", "60", NULL);
    assert_true(L_UNTIL(n, l_peer_pid(n, "p-long") == pid, 10000));
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
    assert_int_equal(count_in(dir), 0);
}

/* ------------------------------------------------------------------ */
/* Started at the same instant                                         */
/* ------------------------------------------------------------------ */

/* Start the named twins behind a barrier; each checks that it linked to
 * every other exactly once. */
static void start_together(const char *const *names, int count)
{
    int p[2], done[2];
    assert_int_equal(pipe(p), 0); /* inherited by the twins (no CLOEXEC) */
    assert_int_equal(pipe2(done, O_CLOEXEC), 0);
    int donefd = fcntl(done[1], F_DUPFD, 100); /* an inheritable copy */
    assert_true(donefd >= 0);
    char rfd[16], wfd[16], peers[16], dfd[16];
    snprintf(rfd, sizeof rfd, "%d", p[0]);
    snprintf(wfd, sizeof wfd, "%d", p[1]);
    snprintf(dfd, sizeof dfd, "%d", donefd);
    snprintf(peers, sizeof peers, "%d", count - 1);
    pid_t pids[16];
    for (int i = 0; i < count; i++)
        pids[i] = l_spawn("l_twin", names[i], "60", rfd, wfd, peers, "500", dfd, NULL);
    close(p[0]);
    close(donefd);
    close(done[1]);
    l_sleep_ms(300); /* let them all reach the barrier */
    close(p[1]);     /* go */
    /* Every twin checks, then says so; only then may they leave. */
    int got = 0;
    uint64_t end = l_now_ms() + 20000;
    while (got < count && l_now_ms() < end) {
        struct pollfd pf = {.fd = done[0], .events = POLLIN};
        if (poll(&pf, 1, 100) > 0) {
            char c[16];
            ssize_t r = read(done[0], c, sizeof c);
            if (r <= 0)
                break; /* every twin closed it: some died */
            got += (int)r;
        }
    }
    close(done[0]);
    for (int i = 0; i < count; i++)
        kill(pids[i], SIGTERM);
    for (int i = 0; i < count; i++) {
        int rc = l_wait(pids[i], 20000);
        if (rc != 0)
            print_error("twin %s: exit %d\n", names[i], rc);
        assert_int_equal(rc, 0);
    }
    assert_int_equal(got, count);
}

static void test_simultaneous_start(void **state)
{
    (void)state;
    const char *net = l_net("twins");
    const char *two[] = {"twin-a", "twin-b"};
    for (int round = 0; round < 5; round++) {
        start_together(two, 2);
        assert_int_equal(tu_count_files(net), 0);
    }
    const char *six[] = {"six-0", "six-1", "six-2", "six-3", "six-4", "six-5"};
    for (int round = 0; round < 2; round++) {
        start_together(six, 6);
        assert_int_equal(tu_count_files(net), 0);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_dir_created_0700, reset_env),
        cmocka_unit_test_teardown(test_xdg_runtime_dir, reset_env),
        cmocka_unit_test_teardown(test_opts_override_env, reset_env),
        cmocka_unit_test_teardown(test_networks_are_separate, reset_env),
        cmocka_unit_test_teardown(test_unusable_dir_refused, reset_env),
        cmocka_unit_test_teardown(test_stale_files_swept, reset_env),
        cmocka_unit_test_teardown(test_name_in_use, reset_env),
        cmocka_unit_test_teardown(test_long_dir_path, reset_env),
        cmocka_unit_test_teardown(test_no_inotify_rescans, reset_env),
        cmocka_unit_test_teardown(test_simultaneous_start, reset_env),
    };
    return cmocka_run_group_tests_name("rendezvous", tests, NULL, NULL);
}

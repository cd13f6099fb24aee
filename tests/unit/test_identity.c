/* SPDX-License-Identifier: MIT */
/* test_identity.c — what transport/identity.c and exe.c read of a peer
 * from the kernel: the parser of /proc/locks (lines as the kernel prints
 * them, and hostile or cut ones), a real flock seen in it, and the
 * executable's path and SHA-256 with its cache (one binary: one hash). */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "transport/link.h"

#define LINE(s, pid, maj, min, ino) \
    ipcn__proc_locks_line((s), strlen(s), (pid), (maj), (min), (ino))

static void test_locks_line(void **state)
{
    (void)state;
    /* As the kernel prints them (fs/locks.c, lock_get_status). */
    assert_true(LINE("1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF",
                     4242, 8, 1, 1234567));
    assert_true(LINE("12: FLOCK  ADVISORY  WRITE 7 fd:00:42 0 EOF", 7, 0xfd, 0,
                     42));
    assert_true(LINE("3: FLOCK  ADVISORY  WRITE 7 00:1f:42 0 EOF", 0, 0, 0x1f,
                     42)); /* any pid */
    /* Not a holder of an exclusive flock on that file. */
    assert_false(LINE("1: -> FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF",
                      4242, 8, 1, 1234567));
    assert_false(LINE("1: POSIX  ADVISORY  WRITE 4242 08:01:1234567 0 EOF",
                      4242, 8, 1, 1234567));
    assert_false(LINE("1: OFDLCK ADVISORY  WRITE -1 08:01:1234567 0 EOF",
                      0, 8, 1, 1234567));
    assert_false(LINE("1: FLOCK  ADVISORY  READ  4242 08:01:1234567 0 EOF",
                      4242, 8, 1, 1234567));
    assert_false(LINE("1: FLOCK  ADVISORY  WRITE 4243 08:01:1234567 0 EOF",
                      4242, 8, 1, 1234567));
    assert_false(LINE("1: FLOCK  ADVISORY  WRITE 4242 08:02:1234567 0 EOF",
                      4242, 8, 1, 1234567));
    assert_false(LINE("1: FLOCK  ADVISORY  WRITE 4242 09:01:1234567 0 EOF",
                      4242, 8, 1, 1234567));
    assert_false(LINE("1: FLOCK  ADVISORY  WRITE 4242 08:01:1234568 0 EOF",
                      4242, 8, 1, 1234567));
    assert_false(LINE("1: FLOCK  ADVISORY  WRITE 4242 08:01:12345670 0 EOF",
                      4242, 8, 1, 1234567));
    /* Cut, hostile or malformed. */
    static const char *bad[] = {
        "", ":", "1:", "1: FLOCK", "1: FLOCK  ADVISORY", "1: FLOCK  ADVISORY  WRITE",
        "1: FLOCK  ADVISORY  WRITE 4242", "1: FLOCK  ADVISORY  WRITE 4242 08:01",
        "1: FLOCK  ADVISORY  WRITE 4242 08:01:", "1: FLOCK  ADVISORY  WRITE 4242 08::1234567",
        "1: FLOCK  ADVISORY  WRITE 4242 :01:1234567", "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567x",
        "1: FLOCK  ADVISORY  WRITE +4242 08:01:1234567", "1: FLOCK  ADVISORY  WRITE -4242 08:01:1234567",
        "1: FLOCK  ADVISORY  WRITE 4242x 08:01:1234567", "1 FLOCK  ADVISORY  WRITE 4242 08:01:1234567",
        "1: FLOCK  ADVISORY  WRITE 4242 08:01:123456700000000000000000000000000",
        "1: FLOCK  ADVISORY  WRITE 99999999999999999999999 08:01:1234567",
        "1: FLOCK  ADVISORY  WRITE 4242 08:01:18446744073709551616",
        "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567:9",
        "1: FLOCK  ADVISORY  WRITE 4242 0X8:01:1234567",
        "1: FLOCK  ADVISORY  WRITE 4242 08:0G:1234567",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (LINE(bad[i], 4242, 8, 1, 1234567))
            fail_msg("accepted \"%s\"", bad[i]);
    /* A pid that does not fit: never matches, not even "any pid". */
    assert_false(LINE("1: FLOCK  ADVISORY  WRITE 4294967297 08:01:1 0 EOF", 1, 8, 1, 1));
    /* A line's length is the caller's: bytes past it are not read. */
    const char *full = "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF";
    const char *cut = strstr(full, "1234567");
    assert_false(ipcn__proc_locks_line(full, (size_t)(cut - full) + 3, 4242, 8,
                                       1, 1234));
    assert_true(ipcn__proc_locks_line(full, (size_t)(cut - full) + 7, 4242, 8,
                                      1, 1234567));

    /* A text of lines, the last without its newline. */
    const char text[] = "1: POSIX  ADVISORY  WRITE 1 08:01:5 0 EOF\n"
                        "2: -> FLOCK  ADVISORY  WRITE 9 08:01:5 0 EOF\n"
                        "\n"
                        "3: FLOCK  ADVISORY  WRITE 9 08:01:5 0 EOF";
    assert_true(ipcn__proc_locks_text(text, sizeof text - 1, 9, 8, 1, 5));
    assert_false(ipcn__proc_locks_text(text, sizeof text - 1, 1, 8, 1, 5));
    /* ... and a last line cut before its inode ends. */
    size_t cut_at = (size_t)(strrchr(text, ':') - text) + 1;
    assert_false(ipcn__proc_locks_text(text, cut_at, 9, 8, 1, 5));
    assert_true(ipcn__proc_locks_text(text, cut_at + 1, 9, 8, 1, 5));
}

static void test_locks_real(void **state)
{
    (void)state;
    if (access("/proc/locks", R_OK) < 0)
        skip();
    char path[] = "/tmp/ipcn-test-identity.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(ipcn__proc_locks_held(getpid(), st.st_dev, st.st_ino), 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(ipcn__proc_locks_held(getpid(), st.st_dev, st.st_ino), 1);
    assert_int_equal(ipcn__proc_locks_held(0, st.st_dev, st.st_ino), 1);
    assert_int_equal(ipcn__proc_locks_held(getpid() + 1, st.st_dev, st.st_ino), 0);
    assert_int_equal(ipcn__proc_locks_held(getpid(), st.st_dev, st.st_ino + 1), 0);
    assert_int_equal(flock(fd, LOCK_UN), 0);
    assert_int_equal(flock(fd, LOCK_SH), 0); /* shared: not a name's lock */
    assert_int_equal(ipcn__proc_locks_held(getpid(), st.st_dev, st.st_ino), 0);
    close(fd);
}

/* The SHA-256 of a file, computed here apart from exe.c. */
static void sha_of(const char *path, uint8_t out[32])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    unsigned char buf[8192];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&h, buf, r);
    fclose(f);
    crypto_hash_sha256_final(&h, out);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A child that runs prog (no argument but "60" for sleep) until killed. */
static pid_t spawn(const char *prog)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(prog, prog, "-c", "import time; time.sleep(60)", (char *)NULL);
        _exit(127);
    }
    /* Until it has exec'd, /proc/pid/exe is ours. */
    char self[PATH_MAX], link[64], now[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(k > 0);
    self[k] = 0;
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    for (int i = 0; i < 2000; i++) {
        k = readlink(link, now, sizeof now - 1);
        if (k > 0 && (now[k] = 0, strcmp(now, self) != 0))
            break;
        usleep(1000);
    }
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_exe_cache(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    char self[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0)
        skip(); /* no /proc */
    self[k] = 0;
    uint8_t want[32], got[32], again[32];
    sha_of(self, want);

    ipcn__exe_cache_clear();
    uint64_t before = ipcn__exe_hashes_done();
    char *path = NULL;
    assert_true(ipcn__exe_identify(getpid(), &path, got));
    assert_string_equal(path, self);
    assert_memory_equal(got, want, 32);
    ipcn__free(path);
    assert_int_equal(ipcn__exe_hashes_done(), before + 1);

    /* The same binary again, and in another process (a fork): no hash. */
    assert_true(ipcn__exe_identify(getpid(), &path, again));
    assert_memory_equal(again, want, 32);
    ipcn__free(path);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pause();
        _exit(0);
    }
    assert_true(ipcn__exe_identify(child, &path, again));
    assert_string_equal(path, self);
    assert_memory_equal(again, want, 32);
    ipcn__free(path);
    reap(child);
    assert_int_equal(ipcn__exe_hashes_done(), before + 1);

    /* Through a link's principal (a socketpair: the peer is us): the
     * executable is taken with the name, at hello, not at accept. */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ipcn__principal who = {0};
    ipcn__identity_take(&who, sv[0]);
    assert_true(who.creds_known);
    assert_int_equal(who.pid, getpid());
    assert_null(who.exe);
    assert_int_equal(ipcn__identity_name(&who, "me", 2, 1), IPCN_OK);
    assert_non_null(who.exe);
    assert_string_equal(who.exe, self);
    assert_true(who.exe_hashed);
    assert_memory_equal(who.exe_sha256, want, 32);
    ipcn__identity_free(&who);
    assert_null(who.exe);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(ipcn__exe_hashes_done(), before + 1);

    /* Another binary: one more hash, then none.  The time of the first
     * and of the second is printed, never asserted. */
    const char *py = "/usr/bin/python3";
    if (access(py, X_OK) == 0) {
        char real[PATH_MAX];
        assert_non_null(realpath(py, real));
        sha_of(real, want);
        pid_t p = spawn(py);
        double t0 = now_ms();
        assert_true(ipcn__exe_identify(p, &path, got));
        double t1 = now_ms();
        assert_string_equal(path, real);
        assert_memory_equal(got, want, 32);
        ipcn__free(path);
        assert_true(ipcn__exe_identify(p, &path, again));
        double t2 = now_ms();
        assert_memory_equal(again, want, 32);
        ipcn__free(path);
        reap(p);
        struct stat st;
        stat(real, &st);
        printf("# %s (%lld bytes): first identify %.2f ms (hashed), second "
               "%.3f ms (cached)\n", real, (long long)st.st_size, t1 - t0,
               t2 - t1);
        assert_int_equal(ipcn__exe_hashes_done(), before + 2);
    }

    /* No such process: nothing, no error. */
    assert_false(ipcn__exe_identify(0, &path, got));
    assert_null(path);
    assert_false(ipcn__exe_identify(INT32_MAX, &path, got));
    assert_null(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locks_line),
        cmocka_unit_test(test_locks_real),
        cmocka_unit_test(test_exe_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

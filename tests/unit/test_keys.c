/* SPDX-License-Identifier: MIT */
/*
 * test_keys.c — src/transport/keys.c and keys_parse.c: where the config
 * directory is, the host key file (made 0600 in a 0700 directory, refused
 * when others may read it or it is not ours, malformed files, made once
 * when several processes race), the trust list (add, remove, list,
 * conflicts, comments kept, malformed lines named) and gateway.conf.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ipcnet_hosts.h"
#include "transport/keys.h"
#include "transport/noise.h"

static char tmp[PATH_MAX];

static void put(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static char *get(const char *path)
{
    static char buf[8192];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_true(n >= 0);
    buf[n] = 0;
    close(fd);
    return buf;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/ipcn-keys-XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(tmp);
    return 0;
}

/* A random key as text. */
static void random_key(char out[IPCN_KEY_TEXT_LEN + 1])
{
    uint8_t k[32];
    randombytes_buf(k, sizeof k);
    ipcn__key_to_text(k, out);
}

/* ---- the config directory ---- */

static void expect_dir(const char *want)
{
    char buf[512];
    assert_int_equal(ipcn_config_dir(buf, sizeof buf), IPCN_OK);
    assert_string_equal(buf, want);
}

static void test_config_dir(void **state)
{
    (void)state;
    setenv("IPCNET_CONFIG_DIR", "/srv/conf", 1);
    expect_dir("/srv/conf");
    char small[9];
    assert_int_equal(ipcn_config_dir(small, sizeof small), IPCN_BAD_REQUEST);
    unsetenv("IPCNET_CONFIG_DIR");
    if (geteuid() == 0) {
        expect_dir("/etc/ipcnet");
        /* the rules of other users, in a child that becomes one */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                _exit(3);
            char buf[256];
            setenv("XDG_CONFIG_HOME", "/x/conf", 1);
            if (ipcn_config_dir(buf, sizeof buf) != IPCN_OK || strcmp(buf, "/x/conf/ipcnet"))
                _exit(4);
            setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored */
            setenv("HOME", "/home/h", 1);
            if (ipcn_config_dir(buf, sizeof buf) != IPCN_OK ||
                strcmp(buf, "/home/h/.config/ipcnet"))
                _exit(5);
            setenv("IPCNET_CONFIG_DIR", "/e", 1);
            if (ipcn_config_dir(buf, sizeof buf) != IPCN_OK || strcmp(buf, "/e"))
                _exit(6);
            _exit(0);
        }
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 0);
    } else {
        setenv("XDG_CONFIG_HOME", "/x/conf", 1);
        expect_dir("/x/conf/ipcnet");
        setenv("XDG_CONFIG_HOME", "relative", 1);
        setenv("HOME", "/home/h", 1);
        expect_dir("/home/h/.config/ipcnet");
    }
}

/* ---- the host key ---- */

static void test_host_key_made(void **state)
{
    (void)state;
    char dir[PATH_MAX + 32], path[PATH_MAX + 64], pub[IPCN_KEY_TEXT_LEN + 1], again[45];
    snprintf(dir, sizeof dir, "%s/a/b", tmp);
    assert_int_equal(ipcn_host_key(dir, 0, pub), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_host_key(dir, 1, pub), IPCN_CREATED);
    assert_int_equal(strlen(pub), IPCN_KEY_TEXT_LEN);
    assert_int_equal(mode_of(dir), 0700);
    snprintf(path, sizeof path, "%s/host.key", dir);
    assert_int_equal(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/host.pub", dir);
    assert_int_equal(mode_of(path), 0644);
    char want[64];
    snprintf(want, sizeof want, "%s\n", pub);
    assert_string_equal(get(path), want);
    /* read again: the same key, not made again */
    assert_int_equal(ipcn_host_key(dir, 1, again), IPCN_OK);
    assert_string_equal(again, pub);
    assert_int_equal(ipcn_host_key(dir, 0, again), IPCN_OK);
    assert_string_equal(again, pub);
    /* the private key is the public one's */
    uint8_t priv[32], pk[32], pk2[32];
    assert_int_equal(ipcn__host_key(dir, false, priv, pk), IPCN_OK);
    assert_int_equal(ipcn__noise_public(priv, pk2), IPCN_OK);
    assert_memory_equal(pk, pk2, 32);
    char t[45];
    ipcn__key_to_text(pk, t);
    assert_string_equal(t, pub);
    /* the private key's text is in host.key alone */
    snprintf(path, sizeof path, "%s/host.key", dir);
    ipcn__key_to_text(priv, t);
    assert_non_null(strstr(get(path), t));
    assert_int_equal(ipcn__host_key_load(dir, priv, pk2), IPCN_OK);
    /* the default directory: $IPCNET_CONFIG_DIR */
    setenv("IPCNET_CONFIG_DIR", dir, 1);
    assert_int_equal(ipcn_host_key(NULL, 0, again), IPCN_OK);
    assert_string_equal(again, pub);
    unsetenv("IPCNET_CONFIG_DIR");
    assert_int_equal(ipcn_host_key(dir, 1, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_host_key("", 1, again), IPCN_BAD_REQUEST);
}

static void test_host_key_refused(void **state)
{
    (void)state;
    char path[PATH_MAX + 64], pub[IPCN_KEY_TEXT_LEN + 1];
    assert_int_equal(ipcn_host_key(tmp, 1, pub), IPCN_CREATED);
    snprintf(path, sizeof path, "%s/host.key", tmp);
    static const mode_t open_modes[] = {0640, 0604, 0620, 0602, 0660, 0644, 0700 | 044};
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        assert_int_equal(chmod(path, open_modes[i]), 0);
        assert_int_equal(ipcn_host_key(tmp, 1, pub), IPCN_FORBIDDEN);
    }
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(ipcn_host_key(tmp, 0, pub), IPCN_OK);
    assert_int_equal(chmod(path, 0600), 0);
    if (geteuid() == 0) { /* not ours */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(ipcn_host_key(tmp, 1, pub), IPCN_FORBIDDEN);
        assert_int_equal(chown(path, 0, 0), 0);
    }
    /* a link to a key is not the key file */
    char target[PATH_MAX + 64];
    snprintf(target, sizeof target, "%s/elsewhere.key", tmp);
    assert_int_equal(rename(path, target), 0);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(ipcn_host_key(tmp, 1, pub), IPCN_INTERNAL_ERROR);
    unlink(path);
    /* a directory is not a file */
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(ipcn_host_key(tmp, 1, pub), IPCN_BAD_REQUEST);
    rmdir(path);
}

static void test_host_key_malformed(void **state)
{
    (void)state;
    char path[PATH_MAX + 64], pub[IPCN_KEY_TEXT_LEN + 1], k[IPCN_KEY_TEXT_LEN + 1];
    snprintf(path, sizeof path, "%s/host.key", tmp);
    random_key(k);
    char text[256];
    const char *bad[] = {
        "", "\n", "short\n", "not base64 at all, not base64 at all, not 64!\n",
        /* 44 characters, not canonical: the last one's unused bits set */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",
        /* 33 bytes of base64 */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
        /* no padding */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        NULL, NULL, NULL,
    };
    snprintf(text, sizeof text, "%s\n%s\n", k, k); /* two lines */
    char *two = strdup(text);
    snprintf(text, sizeof text, " %s\n", k); /* a blank before */
    char *lead = strdup(text);
    snprintf(text, sizeof text, "%s\n\n", k); /* a second line, empty */
    char *blank = strdup(text);
    bad[7] = two;
    bad[8] = lead;
    bad[9] = blank;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put(path, bad[i], 0600);
        assert_int_equal(ipcn_host_key(tmp, 1, pub), IPCN_BAD_REQUEST);
        /* a malformed key is not replaced */
        assert_string_equal(get(path), bad[i]);
    }
    free(two);
    free(lead);
    free(blank);
    /* larger than a key file may be */
    char *big = malloc(IPCN__KEYS_FILE_MAX + 2);
    assert_non_null(big);
    memset(big, 'A', IPCN__KEYS_FILE_MAX + 1);
    big[IPCN__KEYS_FILE_MAX + 1] = 0;
    put(path, big, 0600);
    free(big);
    assert_int_equal(ipcn_host_key(tmp, 1, pub), IPCN_BAD_REQUEST);
    /* good ones, with and without a newline, with CRLF */
    const char *ends[] = {"", "\n", "\r\n"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "%s%s", k, ends[i]);
        put(path, text, 0600);
        assert_int_equal(ipcn_host_key(tmp, 0, pub), IPCN_OK);
    }
}

/* Processes making the key at once: one makes it, all read the same. */
static void test_host_key_race(void **state)
{
    (void)state;
    enum { N = 6 };
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/race", tmp);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char pub[IPCN_KEY_TEXT_LEN + 1], line[64];
            int st = ipcn_host_key(dir, 1, pub);
            int n = snprintf(line, sizeof line, "%d %s\n", st, pub);
            _exit(write(fds[1], line, (size_t)n) == n ? 0 : 1);
        }
    }
    close(fds[1]);
    for (int i = 0; i < N; i++) {
        int ws;
        assert_int_equal(waitpid(pids[i], &ws, 0), pids[i]);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    char all[N * 64 + 1];
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], all + len, sizeof all - 1 - len)) > 0)
        len += (size_t)r;
    close(fds[0]);
    all[len] = 0;
    char first[IPCN_KEY_TEXT_LEN + 1] = "";
    int created = 0, lines = 0;
    for (char *save = NULL, *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        int st = atoi(l);
        assert_true(st == IPCN_OK || st == IPCN_CREATED);
        created += st == IPCN_CREATED;
        if (!first[0])
            snprintf(first, sizeof first, "%s", l + 4);
        assert_string_equal(l + 4, first);
        lines++;
    }
    assert_int_equal(lines, N);
    assert_int_equal(created, 1);
    char pub[IPCN_KEY_TEXT_LEN + 1];
    assert_int_equal(ipcn_host_key(dir, 0, pub), IPCN_OK);
    assert_string_equal(pub, first);
}

/* ---- the trust list ---- */

static void test_trust_add_list_remove(void **state)
{
    (void)state;
    char ka[45], kb[45], kc[45], path[PATH_MAX + 64];
    random_key(ka);
    random_key(kb);
    random_key(kc);
    ipcn_trusted *l = NULL;
    size_t n = 9;
    /* none yet */
    assert_int_equal(ipcn_trust_list(tmp, "lab", &l, &n), IPCN_OK);
    assert_int_equal(n, 0);
    ipcn_trust_list_free(l);
    assert_int_equal(ipcn_trust_add(tmp, "lab", ka, "gpu-board"), IPCN_CREATED);
    snprintf(path, sizeof path, "%s/lab/trusted", tmp);
    assert_int_equal(mode_of(path), 0644);
    assert_int_equal(ipcn_trust_add(tmp, "lab", ka, "gpu-board"), IPCN_OK); /* again */
    assert_int_equal(ipcn_trust_add(tmp, "lab", kb, "gpu-board"), IPCN_CONFLICT);
    assert_int_equal(ipcn_trust_add(tmp, "lab", ka, "motor"), IPCN_CONFLICT);
    assert_int_equal(ipcn_trust_add(tmp, "lab", kb, "motor"), IPCN_CREATED);
    /* comments and blank lines are kept; a line without '\n' is ended */
    char text[512];
    snprintf(text, sizeof text, "%s# the lab's hosts\n\n  main\t%s", get(path), kc);
    put(path, text, 0600);
    assert_int_equal(ipcn_trust_add(tmp, "lab", kc, "main"), IPCN_OK);
    char d[45];
    random_key(d);
    assert_int_equal(ipcn_trust_add(tmp, "lab", d, "cam"), IPCN_CREATED);
    assert_int_equal(mode_of(path), 0600); /* its mode kept */
    assert_non_null(strstr(get(path), "# the lab's hosts\n\n  main\t"));
    assert_int_equal(ipcn_trust_list(tmp, "lab", &l, &n), IPCN_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[0].name, "gpu-board");
    assert_string_equal(l[0].key, ka);
    assert_string_equal(l[1].name, "motor");
    assert_string_equal(l[2].name, "main");
    assert_string_equal(l[2].key, kc);
    assert_string_equal(l[3].name, "cam");
    ipcn_trust_list_free(l);
    /* another network has its own list */
    assert_int_equal(ipcn_trust_list(tmp, "other", &l, &n), IPCN_OK);
    assert_int_equal(n, 0);
    ipcn_trust_list_free(l);
    /* remove by name, by key; the rest and the comments stay */
    assert_int_equal(ipcn_trust_remove(tmp, "lab", "motor"), IPCN_OK);
    assert_int_equal(ipcn_trust_remove(tmp, "lab", kc), IPCN_OK);
    assert_int_equal(ipcn_trust_remove(tmp, "lab", "motor"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_trust_remove(tmp, "lab", "nobody"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_trust_remove(tmp, "lab", ""), IPCN_BAD_REQUEST);
    char want[512];
    snprintf(want, sizeof want, "gpu-board %s\n# the lab's hosts\n\ncam %s\n", ka, d);
    assert_string_equal(get(path), want);
    assert_int_equal(ipcn_trust_list(tmp, "lab", &l, &n), IPCN_OK);
    assert_int_equal(n, 2);
    ipcn_trust_list_free(l);
    ipcn_trust_list_free(NULL);
    /* the network as ipcn_node_open() picks it */
    setenv("IPCNET_NETWORK", "lab", 1);
    assert_int_equal(ipcn_trust_list(tmp, NULL, &l, &n), IPCN_OK);
    assert_int_equal(n, 2);
    ipcn_trust_list_free(l);
    unsetenv("IPCNET_NETWORK");
    assert_int_equal(ipcn_trust_add(tmp, NULL, kb, "motor"), IPCN_CREATED);
    snprintf(path, sizeof path, "%s/default/trusted", tmp);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(ipcn_trust_list(tmp, "bad/net", &l, &n), IPCN_BAD_REQUEST);
    /* a list made before the key: the config directory 0700 all the same */
    char fresh[PATH_MAX + 32];
    snprintf(fresh, sizeof fresh, "%s/fresh", tmp);
    assert_int_equal(ipcn_trust_add(fresh, "lab", ka, "gpu-board"), IPCN_CREATED);
    assert_int_equal(mode_of(fresh), 0700);
    snprintf(path, sizeof path, "%s/lab", fresh);
    assert_int_equal(mode_of(path), 0755);
    assert_int_equal(ipcn_trust_add(tmp, "../x", kb, "motor"), IPCN_BAD_REQUEST);
}

static void test_trust_add_refused(void **state)
{
    (void)state;
    char k[45];
    random_key(k);
    char name64[65];
    memset(name64, 'a', 64);
    name64[64] = 0;
    const char *names[] = {"", ".hidden", "a b", "a/b", "x@y", name64, "é"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(ipcn_trust_add(tmp, "lab", k, names[i]), IPCN_BAD_REQUEST);
    name64[63] = 0; /* 63 is the most */
    assert_int_equal(ipcn_trust_add(tmp, "lab", k, name64), IPCN_CREATED);
    char k2[45];
    random_key(k2);
    char shortk[45], badk[45], nopad[45];
    snprintf(shortk, sizeof shortk, "%.43s", k2);
    snprintf(badk, sizeof badk, "%.42s!=", k2);
    snprintf(nopad, sizeof nopad, "%.43sA", k2);
    const char *keys[] = {"", shortk, badk, nopad, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(ipcn_trust_add(tmp, "lab", keys[i], "host"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_trust_add(tmp, "lab", NULL, "host"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_trust_add(tmp, "lab", k2, NULL), IPCN_BAD_REQUEST);
    /* a malformed list is neither read nor changed */
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/lab/trusted", tmp);
    put(path, "just-a-name\n", 0644);
    ipcn_trusted *l = NULL;
    size_t n = 0;
    assert_int_equal(ipcn_trust_list(tmp, "lab", &l, &n), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_trust_add(tmp, "lab", k2, "host"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_trust_remove(tmp, "lab", "just-a-name"), IPCN_BAD_REQUEST);
    assert_string_equal(get(path), "just-a-name\n");
}

/* fmt with K1 and K2 replaced by the keys, K43 by k1's first 43
 * characters. */
static void subst(char *out, size_t cap, const char *fmt, const char *k1, const char *k2)
{
    size_t n = 0;
    for (const char *p = fmt; *p;) {
        const char *rep = NULL;
        size_t rn = 0, skip = 1;
        if (!strncmp(p, "K43", 3)) {
            rep = k1, rn = 43, skip = 3;
        } else if (!strncmp(p, "K1", 2) || !strncmp(p, "K2", 2)) {
            rep = p[1] == '1' ? k1 : k2, rn = strlen(rep), skip = 2;
        } else {
            rep = p, rn = 1;
        }
        assert_true(n + rn < cap);
        memcpy(out + n, rep, rn);
        n += rn;
        p += skip;
    }
    out[n] = 0;
}

/* Lines that are refused, and the number of the line named. */
static void test_trust_parse(void **state)
{
    (void)state;
    char k1[45], k2[45], text[1024];
    random_key(k1);
    random_key(k2);
    ipcn__trust_list t = {0};
    size_t line = 0;
    snprintf(text, sizeof text, "# c\r\n\r\n\t a  %s \r\n#\nb\t%s", k1, k2);
    assert_int_equal(ipcn__trust_parse_text(text, strlen(text), "t", &t, &line), IPCN_OK);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.hosts[0].name, "a");
    assert_string_equal(t.hosts[1].key, k2);
    uint8_t raw[32];
    assert_int_equal(ipcn__key_from_text(k2, 44, raw), IPCN_OK);
    assert_memory_equal(t.keys[1], raw, 32);
    assert_string_equal(ipcn__trust_name(&t, raw), "b");
    raw[0] ^= 1;
    assert_null(ipcn__trust_name(&t, raw));
    struct {
        const char *fmt; /* K1, K2: the keys; K43: K1 cut to 43 characters */
        size_t line;
    } bad[] = {
        {"a K1\na K2\n", 2},                  /* a name twice */
        {"a K1\n\nb K2\n# then\nc K1\n", 5}, /* the same key twice */
        {"a\n", 1},                            /* no key */
        {"a K1 extra\n", 1},                   /* more than two words */
        {"# ok\n.a K1\n", 2},                  /* not a name */
        {"a K1#\n", 1},                        /* not a key */
        {"a K43\n", 1},                        /* 43 characters */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        subst(text, sizeof text, bad[i].fmt, k1, k2);
        line = 0;
        assert_int_equal(ipcn__trust_parse_text(text, strlen(text), "t", &t, &line),
                         IPCN_BAD_REQUEST);
        assert_int_equal(line, bad[i].line);
        assert_int_equal(t.count, 2); /* left as it was */
    }
    /* a NUL byte, a line too long */
    snprintf(text, sizeof text, "a %s\n", k1);
    text[3] = 0;
    assert_int_equal(ipcn__trust_parse_text(text, strlen(k1) + 3, "t", &t, &line),
                     IPCN_BAD_REQUEST);
    char *long_line = malloc(IPCN__KEYS_LINE_MAX + 2);
    assert_non_null(long_line);
    memset(long_line, '#', IPCN__KEYS_LINE_MAX + 1);
    assert_int_equal(ipcn__trust_parse_text(long_line, IPCN__KEYS_LINE_MAX, "t", &t, &line),
                     IPCN_OK); /* a comment of the longest length */
    assert_int_equal(t.count, 0);
    assert_int_equal(ipcn__trust_parse_text(long_line, IPCN__KEYS_LINE_MAX + 1, "t", &t,
                                            &line), IPCN_BAD_REQUEST);
    assert_int_equal(line, 1);
    free(long_line);
    assert_int_equal(ipcn__trust_parse(NULL, 0, &t), IPCN_OK);
    assert_int_equal(t.count, 0);
    ipcn__trust_free(&t);
    ipcn__trust_free(&t);
    /* a file that is not there */
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/none", tmp);
    assert_int_equal(ipcn__trust_load(path, &t), IPCN_NOT_FOUND);
}

static void test_gwconf(void **state)
{
    (void)state;
    ipcn__gwconf c = {0};
    size_t line = 0;
    const char *good = "# the gateway\n"
                       "listen = tcp://0.0.0.0:7447\r\n"
                       "\n"
                       "  peers=tcp://10.0.0.2:7447,tcp://[fe80::1]:7447  \n"
                       "discovery\t=\ton";
    assert_int_equal(ipcn__gwconf_parse_text(good, strlen(good), "g", &c, &line), IPCN_OK);
    assert_string_equal(c.listen, "tcp://0.0.0.0:7447");
    assert_string_equal(c.peers, "tcp://10.0.0.2:7447,tcp://[fe80::1]:7447");
    assert_int_equal(c.discovery, 1);
    assert_int_equal(ipcn__gwconf_parse("discovery = off\nlisten =\n", 25, &c), IPCN_OK);
    assert_int_equal(c.discovery, 0);
    assert_string_equal(c.listen, ""); /* said: none */
    assert_null(c.peers);
    assert_int_equal(ipcn__gwconf_parse("", 0, &c), IPCN_OK);
    assert_int_equal(c.discovery, -1);
    assert_null(c.listen);
    assert_int_equal(c.cipher, 0);
    assert_int_equal(ipcn__gwconf_parse("cipher = chachapoly\n", 20, &c), IPCN_OK);
    assert_int_equal(c.cipher, IPCN_NOISE_CHACHAPOLY);
    assert_int_equal(ipcn__gwconf_parse("cipher=auto", 11, &c), IPCN_OK);
    assert_int_equal(c.cipher, IPCN_NOISE_CHACHAPOLY | IPCN_NOISE_AESGCM);
    struct {
        const char *text;
        size_t line;
    } bad[] = {
        {"listen tcp://a:1\n", 1},
        {"# x\nlisten = a\nlisten = b\n", 3},
        {"discovery = yes\n", 1},
        {"discovery = on\ndiscovery = on\n", 2},
        {"\n\nport = 7447\n", 3},
        {"peers = tcp://a:1, tcp://b:2\n", 1},
        {"Listen = a\n", 1},
        {"= a\n", 1},
        {"listen = caf\xc3\xa9\n", 1},
        {"cipher = aesgcm\n", 1},
        {"cipher = auto\ncipher = chachapoly\n", 2},
        {"cipher =\n", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ipcn__gwconf_parse("discovery = on", 14, &c);
        line = 0;
        assert_int_equal(ipcn__gwconf_parse_text(bad[i].text, strlen(bad[i].text), "g", &c,
                                                 &line), IPCN_BAD_REQUEST);
        assert_int_equal(line, bad[i].line);
        assert_int_equal(c.discovery, 1); /* left as it was */
    }
    assert_int_equal(ipcn__gwconf_parse("listen = a\0", 11, &c), IPCN_BAD_REQUEST);
    /* from a file */
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/gateway.conf", tmp);
    assert_int_equal(ipcn__gwconf_load(path, &c), IPCN_NOT_FOUND);
    put(path, good, 0644);
    assert_int_equal(ipcn__gwconf_load(path, &c), IPCN_OK);
    assert_string_equal(c.listen, "tcp://0.0.0.0:7447");
    put(path, "listen = a\nbad\n", 0644);
    assert_int_equal(ipcn__gwconf_load(path, &c), IPCN_BAD_REQUEST);
    ipcn__gwconf_free(&c);
    ipcn__gwconf_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    unsetenv("IPCNET_CONFIG_DIR");
    unsetenv("IPCNET_NETWORK");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_dir),
        cmocka_unit_test_setup_teardown(test_host_key_made, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_key_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_key_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_add_list_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_add_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gwconf, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

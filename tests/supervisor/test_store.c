/* SPDX-License-Identifier: MIT */
/*
 * test_store.c — the versions store (tools/supervisor/store.h): install,
 * pick before each start with its tries, bless, reject, rollback, hashes,
 * and the calls' refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "store_util.h"

static char root[1024], src[1024];

/* A fresh store and source tree per test. */
static int setup(void **state)
{
    (void)state;
    static int n;
    su_fmt(root, sizeof root, "%s/store%d", su_scratch(), ++n);
    su_fmt(src, sizeof src, "%s/src%d", su_scratch(), n);
    mkdir(src, 0755);
    return 0;
}

/* Install a tree tagged tag as id (NULL: the next number). */
static void install(const char *comp, const char *tag, const char *id, uint32_t tries,
                    const char *want_id)
{
    char dir[1100], got[SUP_VERSION_ID_MAX + 1], err[512];
    su_fmt(dir, sizeof dir, "%s/%s", src, tag);
    su_make_tree(dir, tag, 4);
    int rc = sup_store_install(root, comp, dir, id, tries, got, sizeof got, err, sizeof err);
    if (rc != IPCN_OK)
        fail_msg("install %s: %d %s", tag, rc, err);
    assert_string_equal(got, want_id);
}

static void expect_state(const char *comp, const char *want)
{
    char s[4096], why[512];
    su_state(root, comp, s, sizeof s);
    assert_string_equal(s, want);
    if (!su_invariants(root, comp, why, sizeof why))
        fail_msg("invariant: %s", why);
}

static void expect_pick(const char *comp, const char *id, bool trial, uint32_t left,
                        bool rolled_back)
{
    sup_pick p;
    char err[512] = "", want_dir[1200], text[64] = "";
    int rc = sup_store_pick(root, comp, &p, err, sizeof err);
    if (rc != IPCN_OK)
        fail_msg("pick: %d %s", rc, err);
    assert_string_equal(p.id, id);
    assert_int_equal(p.trial, trial);
    assert_int_equal(p.tries_left, left);
    assert_int_equal(p.rolled_back, rolled_back);
    if (rolled_back)
        assert_non_null(strstr(err, "rejected"));
    char real[1024];
    assert_non_null(realpath(root, real));
    su_fmt(want_dir, sizeof want_dir, "%s/%s/v/%s", real, comp, id);
    assert_string_equal(p.dir, want_dir);
    /* the version's files are there, with their modes and link */
    char f[1300];
    struct stat st;
    su_fmt(f, sizeof f, "%s/bin/run", p.dir);
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    su_fmt(f, sizeof f, "%s/etc", p.dir);
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    su_fmt(f, sizeof f, "%s/run", p.dir);
    assert_int_equal(readlink(f, text, sizeof text - 1), 7);
    assert_string_equal(text, "bin/run");
}

static void test_first_install_is_good(void **state)
{
    (void)state;
    char err[512];
    sup_pick p;
    assert_int_equal(sup_store_pick(root, "arm", &p, err, sizeof err), IPCN_NOT_FOUND);
    assert_int_equal(sup_store_recover(root, "arm", err, sizeof err), IPCN_OK);
    install("arm", "a", NULL, 3, "1");
    expect_state("arm", "1:G..:0:;");
    expect_pick("arm", "1", false, 0, false);
    expect_pick("arm", "1", false, 0, false);
    expect_state("arm", "1:G..:0:;");
    /* the hashes: one line per entry, BLAKE2b-256 in hex */
    char hp[1200], line[512];
    su_fmt(hp, sizeof hp, "%s/arm/v/1.hashes", root);
    FILE *f = fopen(hp, "r");
    assert_non_null(f);
    int entries = 0, files = 0;
    /* bin/run holds "#!/bin/sh\necho a\n": its BLAKE2b-256 is on its line */
    const char run[] = "#!/bin/sh\necho a\n";
    unsigned char h[32];
    char want[65];
    assert_int_equal(sodium_init() < 0, 0);
    crypto_generichash(h, sizeof h, (const unsigned char *)run, strlen(run), NULL, 0);
    for (int i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", h[i]);
    bool run_seen = false;
    while (fgets(line, sizeof line, f)) {
        char mode[8], hex[80], path[256];
        if (line[0] == 'F' || line[0] == 'D' || line[0] == 'L')
            entries++;
        if (line[0] == 'F') {
            files++;
            assert_int_equal(sscanf(line, "F %7s %79s %255s", mode, hex, path), 3);
            assert_int_equal(strlen(hex), 64);
            if (!strcmp(path, "bin/run")) {
                run_seen = true;
                assert_string_equal(mode, "0755");
                assert_string_equal(hex, want);
            }
        }
    }
    fclose(f);
    assert_true(run_seen);
    assert_int_equal(entries, 2 + 4 + 1 + 1);   /* bin etc, 4 files + bin/run, link */
    assert_int_equal(files, 5);
}

static void test_trial_tries_run_out(void **state)
{
    (void)state;
    install("arm", "a", NULL, 3, "1");
    install("arm", "b", NULL, 2, "2");
    expect_state("arm", "1:G..:0:;2:.T.:2:;");
    /* each start takes a try first (durably) */
    expect_pick("arm", "2", true, 1, false);
    expect_state("arm", "1:G..:0:;2:.T.:1:;");
    expect_pick("arm", "2", true, 0, false);
    /* no try left: marked bad, good runs */
    expect_pick("arm", "1", false, 0, true);
    expect_state("arm", "1:G..:0:;2:..B:0:its tries ran out;");
    expect_pick("arm", "1", false, 0, false);
    /* a bad version is never tried again by itself: a new one is */
    install("arm", "c", NULL, 1, "3");
    expect_pick("arm", "3", true, 0, false);
    expect_pick("arm", "1", false, 0, true);
}

static void test_bless(void **state)
{
    (void)state;
    char err[512];
    install("arm", "a", NULL, 3, "1");
    install("arm", "b", NULL, 3, "2");
    expect_pick("arm", "2", true, 2, false);
    assert_int_equal(sup_store_bless(root, "arm", "1", err, sizeof err), IPCN_OK); /* good */
    assert_int_equal(sup_store_bless(root, "arm", "3", err, sizeof err), IPCN_CONFLICT);
    assert_non_null(strstr(err, "the trial is 2"));
    assert_int_equal(sup_store_bless(root, "arm", "2", err, sizeof err), IPCN_OK);
    expect_state("arm", "1:...:0:;2:G..:0:;");
    expect_pick("arm", "2", false, 0, false);
    assert_int_equal(sup_store_bless(root, "arm", "2", err, sizeof err), IPCN_OK);
    assert_int_equal(sup_store_bless(root, "arm", "1", err, sizeof err), IPCN_CONFLICT);
    assert_non_null(strstr(err, "there is no trial"));
    /* a new trial replaces an older one, which keeps no counter */
    install("arm", "c", NULL, 3, "3");
    install("arm", "d", NULL, 2, "4");
    expect_state("arm", "1:...:0:;2:G..:0:;3:...:0:;4:.T.:2:;");
    assert_int_equal(sup_store_bless(root, "arm", "3", err, sizeof err), IPCN_CONFLICT);
}

static void test_reject(void **state)
{
    (void)state;
    char err[512];
    install("arm", "a", NULL, 3, "1");
    install("arm", "b", NULL, 3, "2");
    assert_int_equal(sup_store_reject(root, "arm", "1", "x", err, sizeof err), IPCN_CONFLICT);
    assert_int_equal(sup_store_reject(root, "arm", "2", "restart intensity exceeded", err,
                                      sizeof err), IPCN_OK);
    expect_state("arm", "1:G..:0:;2:..B:0:restart intensity exceeded;");
    /* again: it is bad already */
    assert_int_equal(sup_store_reject(root, "arm", "2", "again", err, sizeof err), IPCN_OK);
    expect_state("arm", "1:G..:0:;2:..B:0:restart intensity exceeded;");
    expect_pick("arm", "1", false, 0, false);
    assert_int_equal(sup_store_bless(root, "arm", "2", err, sizeof err), IPCN_CONFLICT);
}

static void test_rollback(void **state)
{
    (void)state;
    char err[512], id[SUP_VERSION_ID_MAX + 1];
    install("arm", "a", NULL, 3, "1");
    assert_int_equal(sup_store_rollback(root, "arm", id, sizeof id, err, sizeof err),
                     IPCN_NOT_FOUND);
    assert_non_null(strstr(err, "no version was good before 1"));
    install("arm", "b", NULL, 3, "2");
    assert_int_equal(sup_store_bless(root, "arm", "2", err, sizeof err), IPCN_OK);
    install("arm", "c", NULL, 3, "3");
    assert_int_equal(sup_store_bless(root, "arm", "3", err, sizeof err), IPCN_OK);
    /* a trial: rejected, good stays */
    install("arm", "d", NULL, 3, "4");
    assert_int_equal(sup_store_rollback(root, "arm", id, sizeof id, err, sizeof err), IPCN_OK);
    assert_string_equal(id, "3");
    expect_state("arm", "1:...:0:;2:...:0:;3:G..:0:;4:..B:0:rolled back by the operator;");
    /* no trial: good goes back to the one before, marked bad itself */
    assert_int_equal(sup_store_rollback(root, "arm", id, sizeof id, err, sizeof err), IPCN_OK);
    assert_string_equal(id, "2");
    expect_state("arm", "1:...:0:;2:G..:0:;3:..B:0:rolled back by the operator;"
                        "4:..B:0:rolled back by the operator;");
    expect_pick("arm", "2", false, 0, false);
    assert_int_equal(sup_store_rollback(root, "arm", id, sizeof id, err, sizeof err), IPCN_OK);
    assert_string_equal(id, "1");
    assert_int_equal(sup_store_rollback(root, "arm", id, sizeof id, err, sizeof err),
                     IPCN_NOT_FOUND);
    expect_pick("arm", "1", false, 0, false);
    /* a new version blessed, then rolled back: to 1 again */
    install("arm", "e", NULL, 3, "5");
    assert_int_equal(sup_store_bless(root, "arm", "5", err, sizeof err), IPCN_OK);
    assert_int_equal(sup_store_rollback(root, "arm", id, sizeof id, err, sizeof err), IPCN_OK);
    assert_string_equal(id, "1");
}

/* Change version id's files after install; the next pick must notice. */
static void tamper_and_pick(const char *comp, const char *id, const char *what,
                            const char *why_part)
{
    char p[1300], err[512];
    su_fmt(p, sizeof p, "%s/%s/v/%s/%s", root, comp, id, what);
    if (!strcmp(why_part, "is missing"))
        assert_int_equal(unlink(p), 0);
    else
        su_write(p, "changed\n", 0644);
    assert_int_equal(sup_store_verify(root, comp, id, err, sizeof err), IPCN_CONFLICT);
    print_message("%s\n", err);
    assert_non_null(strstr(err, what));
    assert_non_null(strstr(err, why_part));
    sup_pick pk;
    assert_int_equal(sup_store_pick(root, comp, &pk, err, sizeof err), IPCN_OK);
    assert_true(pk.rolled_back);
    assert_false(pk.trial);
    assert_non_null(strstr(err, why_part));
    sup_version *v;
    size_t n;
    assert_int_equal(sup_store_list(root, comp, &v, &n, err, sizeof err), IPCN_OK);
    bool seen = false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].id, id)) {
            seen = true;
            assert_true(v[i].bad);
            assert_false(v[i].trial);
            assert_non_null(strstr(v[i].reason, why_part));
        }
    assert_true(seen);
    free(v);
}

static void test_hashes(void **state)
{
    (void)state;
    char err[512];
    install("arm", "a", NULL, 3, "1");
    assert_int_equal(sup_store_verify(root, "arm", "1", err, sizeof err), IPCN_OK);
    assert_int_equal(sup_store_verify(root, "arm", "9", err, sizeof err), IPCN_NOT_FOUND);
    install("arm", "b", "2.0-rc1", 3, "2.0-rc1");
    tamper_and_pick("arm", "2.0-rc1", "etc/f02.conf", "does not match its hash");
    install("arm", "c", "2.0-rc2", 3, "2.0-rc2");
    tamper_and_pick("arm", "2.0-rc2", "etc/new.conf", "was added");
    install("arm", "d", "2.0-rc3", 3, "2.0-rc3");
    tamper_and_pick("arm", "2.0-rc3", "bin/run", "is missing");
    /* a good version that no longer matches: refused, not run */
    char p[1300];
    su_fmt(p, sizeof p, "%s/arm/v/1/etc/f00.conf", root);
    su_write(p, "changed\n", 0644);
    sup_pick pk;
    assert_int_equal(sup_store_pick(root, "arm", &pk, err, sizeof err), IPCN_CONFLICT);
    assert_non_null(strstr(err, "etc/f00.conf"));
}

static void test_refusals(void **state)
{
    (void)state;
    char err[512], id[SUP_VERSION_ID_MAX + 1], dir[1100];
    su_fmt(dir, sizeof dir, "%s/t", src);
    su_make_tree(dir, "t", 1);
    assert_int_equal(sup_store_install(root, "arm", dir, NULL, 0, id, sizeof id, err,
                                       sizeof err), IPCN_BAD_REQUEST);
    const char *bad_ids[] = {"", ".hidden", "a/b", "x.tmp", "x.bad", "x.tries", "x.hashes",
                             "-x", "a b",
                             "0123456789012345678901234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        assert_int_equal(sup_store_install(root, "arm", dir, bad_ids[i], 1, id, sizeof id,
                                           err, sizeof err), IPCN_BAD_REQUEST);
    const char *bad_comps[] = {"", "..", "../x", "a/b", ".x"};
    for (size_t i = 0; i < sizeof bad_comps / sizeof bad_comps[0]; i++)
        assert_int_equal(sup_store_install(root, bad_comps[i], dir, NULL, 1, id, sizeof id,
                                           err, sizeof err), IPCN_BAD_REQUEST);
    char missing[1200];
    su_fmt(missing, sizeof missing, "%s/nothing-here", src);
    assert_int_equal(sup_store_install(root, "arm", missing, NULL, 1, id, sizeof id, err,
                                       sizeof err), IPCN_NOT_FOUND);
    /* a fifo is no file of a version; nothing is left of the attempt */
    char fifo[1200];
    su_fmt(fifo, sizeof fifo, "%s/pipe", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(sup_store_install(root, "arm", dir, NULL, 1, id, sizeof id, err,
                                       sizeof err), IPCN_BAD_REQUEST);
    assert_non_null(strstr(err, "pipe"));
    expect_state("arm", "-");
    unlink(fifo);
    assert_int_equal(sup_store_install(root, "arm", dir, "v1", 1, id, sizeof id, err,
                                       sizeof err), IPCN_OK);
    assert_int_equal(sup_store_install(root, "arm", dir, "v1", 1, id, sizeof id, err,
                                       sizeof err), IPCN_CONFLICT);
    /* the store itself is not a source */
    char inside[1200];
    su_fmt(inside, sizeof inside, "%s/arm", root);
    assert_int_equal(sup_store_install(root, "arm", inside, NULL, 1, id, sizeof id, err,
                                       sizeof err), IPCN_BAD_REQUEST);
    assert_int_equal(sup_store_install(root, "arm", root, NULL, 1, id, sizeof id, err,
                                       sizeof err), IPCN_BAD_REQUEST);
    sup_version *v;
    size_t n;
    assert_int_equal(sup_store_list(root, "nobody", &v, &n, err, sizeof err), IPCN_NOT_FOUND);
    assert_int_equal(sup_store_bless(root, "arm", "../1", err, sizeof err), IPCN_BAD_REQUEST);
    expect_state("arm", "v1:G..:0:;");
}

/* Configurations are a component of their own: "<component>.config". */
static void test_config(void **state)
{
    (void)state;
    install("arm", "a", NULL, 3, "1");
    install("arm.config", "conf-a", NULL, 3, "1");
    install("arm.config", "conf-b", NULL, 1, "2");
    expect_state("arm", "1:G..:0:;");
    expect_state("arm.config", "1:G..:0:;2:.T.:1:;");
}

/* A journal left by a killed process is finished by the next call. */
static void test_recover_journal(void **state)
{
    (void)state;
    char err[512], p[1200];
    install("arm", "a", NULL, 3, "1");
    install("arm", "b", NULL, 3, "2");
    su_fmt(p, sizeof p, "%s/arm/journal", root);
    su_write(p, "ipcnet-store-journal 1\nop bless\nid 2\nto -\ntries 0\nfirst 0\n"
                "reason \n", 0644);
    assert_int_equal(sup_store_recover(root, "arm", err, sizeof err), IPCN_OK);
    expect_state("arm", "1:...:0:;2:G..:0:;");
    /* debris of a copy that never reached its journal is removed */
    su_fmt(p, sizeof p, "%s/arm/new.7", root);
    su_make_tree(p, "x", 1);
    su_fmt(p, sizeof p, "%s/arm/new.7/etc", root);
    assert_int_equal(chmod(p, 0555), 0);   /* a read-only directory's copy */
    su_fmt(p, sizeof p, "%s/arm/good.tmp", root);
    assert_int_equal(symlink("v/1", p), 0);
    expect_pick("arm", "2", false, 0, false);
    expect_state("arm", "1:...:0:;2:G..:0:;");
    su_fmt(p, sizeof p, "%s/arm", root);
    assert_false(su_exists(p, "new.7"));
    assert_false(su_exists(p, "good.tmp"));
    /* a journal that is not one: refused, never guessed at */
    su_fmt(p, sizeof p, "%s/arm/journal", root);
    su_write(p, "garbage\n", 0644);
    sup_pick pk;
    assert_int_equal(sup_store_pick(root, "arm", &pk, err, sizeof err), IPCN_INTERNAL_ERROR);
    assert_non_null(strstr(err, "journal"));
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_first_install_is_good, setup),
        cmocka_unit_test_setup(test_trial_tries_run_out, setup),
        cmocka_unit_test_setup(test_bless, setup),
        cmocka_unit_test_setup(test_reject, setup),
        cmocka_unit_test_setup(test_rollback, setup),
        cmocka_unit_test_setup(test_hashes, setup),
        cmocka_unit_test_setup(test_refusals, setup),
        cmocka_unit_test_setup(test_config, setup),
        cmocka_unit_test_setup(test_recover_journal, setup),
    };
    unsetenv("IPCNET_SUP_CRASHPOINT");
    return cmocka_run_group_tests(tests, NULL, NULL);
}

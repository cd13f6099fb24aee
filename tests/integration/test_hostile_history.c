/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_history.c — the debug history (docs/protocol.md 10.6) on a
 * live socket, spoken by a raw client: a QUERY with the HISTORY extension
 * is answered from the victim's history (100 with the version's bytes,
 * 203 for one not kept, 204 for a resource that keeps none, 203 for a
 * path it does not provide), the link kept; malformed ones (a version 0,
 * an extension of 7 or 9 bytes) are bad frames: ERROR 200 and the close;
 * the node service "history" refuses a body that is not its own with 200
 * (and a reason), answers 204 and 203 as the query does, and lists the
 * kept versions to a client that may read them; a flood of such asks
 * costs the victim nothing that lasts; a principal the policy denies read
 * gets 203 with no body for a past version and for the listing.  Each case ends with
 * hostile_victim.h's checks: the innocent peer still gets through.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"
#include "hostile_victim.h"

#define CAP_HISTORY 8192u /* protocol 10.6: QUERY's extension */

/* A QUERY of path with ext_len bytes of extension: the version, little
 * endian, cut or grown to ext_len (8 is the valid one). */
static void enc_query_ext(buf *b, uint64_t src, uint64_t corr,
                          const char *path, uint64_t version, size_t ext_len)
{
    size_t off = f_begin(b, T_QUERY, src, corr);
    b_u32(b, 2000);
    b_str(b, path, strlen(path));
    b_str(b, "", 0);
    b_blob(b, "", 0);
    for (size_t i = 0; i < ext_len; i++)
        b_u8(b, i < 8 ? (uint8_t)(version >> (8 * i)) : 0x5a);
    f_end(b, off);
}

static void enc_sys_request(buf *b, uint64_t src, uint64_t corr,
                            const char *path, const char *enc,
                            const void *data, size_t len)
{
    size_t off = f_begin(b, T_REQUEST, src, corr);
    b_u32(b, 2000);
    b_str(b, path, strlen(path));
    b_str(b, enc, strlen(enc));
    b_blob(b, data, len);
    f_end(b, off);
}

/* Read until the answer of corr: its frame (free it). */
static rframe answer_of(raw *r, uint64_t corr)
{
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        rframe f;
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k == 0)
            fail_msg("the victim closed the link (last error %u %s)",
                     r->last_error, r->last_text);
        if (k < 0)
            fail_msg("no answer to %llu", (unsigned long long)corr);
        if ((f.type == T_QUERY_REPLY || f.type == T_REPLY) && f.corr == corr)
            return f;
        rframe_free(&f);
    }
}

/* The CBOR {"path": p}. */
static size_t path_body(uint8_t *out, const char *p)
{
    size_t n = strlen(p), k = 0;
    out[k++] = 0xa1;
    out[k++] = 0x64;
    memcpy(out + k, "path", 4);
    k += 4;
    out[k++] = 0x78; /* text, one-byte length */
    out[k++] = (uint8_t)n;
    memcpy(out + k, p, n);
    return k + n;
}

static void t_history_query(void **state)
{
    (void)state;
    hello_caps = CAP_REDUNDANCY | CAP_HISTORY;
    raw *r = raw_link();
    assert_true(r->victim_caps & CAP_HISTORY);
    /* Version 1 of the victim's data: its exact bytes. */
    B.len = 0;
    enc_query_ext(&B, r->id, 1, V.data, 1, 8);
    raw_send_buf(r);
    rframe f = answer_of(r, 1);
    assert_int_equal(f.type, T_QUERY_REPLY);
    assert_int_equal(f.status, ST_OK);
    assert_int_equal(f.seq, 1);
    assert_int_equal(f.data_len, 11);
    assert_memory_equal(f.data, "victim-data", 11);
    rframe_free(&f);
    /* Not kept, no history, no such path, not data: the link kept. */
    static const struct {
        int which;
        uint64_t version;
        uint16_t want;
    } cases[] = {{0, 2, 203}, {0, UINT64_MAX, 203}, {1, 1, 204},
                 {2, 1, 203}, {3, 1, 204}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = cases[i].which == 0   ? V.data
                        : cases[i].which == 1 ? V.bigdata
                        : cases[i].which == 2 ? "nothing/here"
                                              : V.stream;
        B.len = 0;
        enc_query_ext(&B, r->id, 10 + i, p, cases[i].version, 8);
        raw_send_buf(r);
        f = answer_of(r, 10 + i);
        assert_int_equal(f.status, cases[i].want);
        assert_int_equal(f.data_len, 0);
        rframe_free(&f);
    }
    raw_ping(r, 5);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

/* A malformed extension is a bad frame: ERROR 200 and the close. */
static void t_history_malformed(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    static const struct {
        uint64_t version;
        size_t len;
    } bad[] = {{0, 8}, {1, 7}, {1, 9}, {1, 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hello_caps = CAP_REDUNDANCY | CAP_HISTORY;
        raw *r = raw_link();
        B.len = 0;
        enc_query_ext(&B, r->id, 1, V.data, bad[i].version, bad[i].len);
        raw_send_buf(r);
        raw_expect_close(r, 200);
        raw_free(r);
    }
    hello_caps = 0;
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 4);
    victim_check();
}

/* The node service "history": bodies not its own, 204, 203, and the
 * listing. */
static void t_history_service(void **state)
{
    (void)state;
    raw *r = raw_link();
    char sys[96];
    snprintf(sys, sizeof sys, "@sys/%s/history", V.name);
    uint8_t body[128];
    size_t n;
    static const char *const junk[] = {"", "\xff", "\xa0", "\x80",
                                       "\xa1\x64path\x01",
                                       "\xa1\x64path\x64" "a//b"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        B.len = 0;
        enc_sys_request(&B, r->id, 20 + i, sys, "cbor", junk[i],
                        strlen(junk[i]));
        raw_send_buf(r);
        rframe f = answer_of(r, 20 + i);
        assert_int_equal(f.status, 200);
        rframe_free(&f);
    }
    /* The right body in another encoding: refused too. */
    n = path_body(body, V.data);
    B.len = 0;
    enc_sys_request(&B, r->id, 40, sys, "text/plain", body, n);
    raw_send_buf(r);
    rframe f = answer_of(r, 40);
    assert_int_equal(f.status, 200);
    rframe_free(&f);
    /* No history: 204; not provided here: 203 with no body. */
    n = path_body(body, V.bigdata);
    B.len = 0;
    enc_sys_request(&B, r->id, 41, sys, "cbor", body, n);
    raw_send_buf(r);
    f = answer_of(r, 41);
    assert_int_equal(f.status, 204);
    rframe_free(&f);
    n = path_body(body, "nothing/here");
    B.len = 0;
    enc_sys_request(&B, r->id, 42, sys, "cbor", body, n);
    raw_send_buf(r);
    f = answer_of(r, 42);
    assert_int_equal(f.status, 203);
    assert_int_equal(f.data_len, 0);
    rframe_free(&f);
    /* The listing: one version, decoded by the library's decoder. */
    n = path_body(body, V.data);
    B.len = 0;
    enc_sys_request(&B, r->id, 43, sys, "cbor", body, n);
    raw_send_buf(r);
    f = answer_of(r, 43);
    assert_int_equal(f.status, ST_OK);
    ipcn_history *h = NULL;
    assert_int_equal(ipcn_history_decode(f.data, f.data_len, &h), ST_OK);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->entries[0].version, 1);
    assert_memory_equal(h->entries[0].data, "victim-data", 11);
    assert_string_equal(h->entries[0].setter, V.name);
    ipcn_history_free(h);
    rframe_free(&f);
    raw_ping(r, 6);
    raw_free(r);
    victim_check();
}

/* Many asks at once: each answered, nothing kept of them. */
static void t_history_flood(void **state)
{
    (void)state;
    enum { N = 2000 };
    hello_caps = CAP_REDUNDANCY | CAP_HISTORY;
    raw *r = raw_link();
    B.len = 0;
    for (unsigned i = 1; i <= N; i++)
        enc_query_ext(&B, r->id, i, V.data, 1 + i % 3, 8);
    raw_send_buf(r);
    unsigned got = 0, ok = 0;
    uint64_t end = tu_now_ms() + 4 * IO_TIMEOUT_MS;
    while (got < N) {
        rframe f;
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k <= 0)
            fail_msg("%u of %u history queries answered", got, (unsigned)N);
        if (f.type == T_QUERY_REPLY) {
            got++;
            ok += f.status == ST_OK;
        }
        rframe_free(&f);
    }
    /* Version 1 is kept; 2 and 3 are not (or over its rate: 205). */
    assert_true(ok <= N / 3 + 1);
    raw_ping(r, 4);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

/* A victim under a network policy that denies the raw clients (node
 * hostile-*) read of its data: set up as any victim, with $IPCNET_POLICY
 * naming that policy while it starts. */
static char policy_path[512];

static int setup_denied_victim(void **state)
{
    snprintf(policy_path, sizeof policy_path, "%s/hhist-policy.yaml", tu_net_dir());
    FILE *f = fopen(policy_path, "w");
    if (!f)
        return -1;
    fprintf(f, "version: 1\n"
               "default: allow\n"
               "rules:\n"
               "  - deny: read\n"
               "    who: \"node:hostile-*\"\n"
               "    what: \"*/data\"\n");
    if (fclose(f) != 0 || chmod(policy_path, 0600) != 0)
        return -1;
    setenv("IPCNET_POLICY", policy_path, 1);
    int rc = setup_victim(state);
    unsetenv("IPCNET_POLICY"); /* the victim has read it */
    return rc;
}

static int teardown_denied_victim(void **state)
{
    int rc = teardown_victim(state);
    unlink(policy_path);
    return rc;
}

/* A principal that may not read the data asks a past version of it, by a
 * QUERY with the version extension sent on the wire (a library node would
 * not send it: the path is not in its directory): 203 with no body, as
 * for the value, though version 1 is kept; the listing too. */
static void t_history_denied(void **state)
{
    (void)state;
    hello_caps = CAP_REDUNDANCY | CAP_HISTORY;
    raw *r = raw_link();
    assert_true(r->victim_caps & CAP_HISTORY);
    B.len = 0;
    enc_query_ext(&B, r->id, 1, V.data, 1, 8);
    raw_send_buf(r);
    rframe f = answer_of(r, 1);
    assert_int_equal(f.type, T_QUERY_REPLY);
    assert_int_equal(f.status, 203);
    assert_int_equal(f.data_len, 0);
    rframe_free(&f);
    /* The same QUERY without the extension: 203 as well. */
    B.len = 0;
    enc_query_ext(&B, r->id, 2, V.data, 0, 0);
    raw_send_buf(r);
    f = answer_of(r, 2);
    assert_int_equal(f.status, 203);
    assert_int_equal(f.data_len, 0);
    rframe_free(&f);
    /* The listing: 203 with no body. */
    char sys[96];
    uint8_t body[128];
    snprintf(sys, sizeof sys, "@sys/%s/history", V.name);
    size_t n = path_body(body, V.data);
    B.len = 0;
    enc_sys_request(&B, r->id, 3, sys, "cbor", body, n);
    raw_send_buf(r);
    f = answer_of(r, 3);
    assert_int_equal(f.status, 203);
    assert_int_equal(f.data_len, 0);
    rframe_free(&f);
    raw_ping(r, 4);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_history_query),
        CASE(t_history_malformed),
        CASE(t_history_service),
        CASE(t_history_flood),
        cmocka_unit_test_setup_teardown(t_history_denied, setup_denied_victim,
                                        teardown_denied_victim),
    };
    if (getenv("IPCN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("IPCN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

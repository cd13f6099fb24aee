/* SPDX-License-Identifier: MIT */
/*
 * test_prov_hostile.c — SAMPLE's provenance extension from a raw, hostile
 * client (raw_client.h: bytes by hand, nothing of libipcnet), against a
 * victim node in this process (docs/protocol.md 20.3, 17.35):
 *  - malformed extensions (a blob that runs past the body, an empty one, a
 *    record of version 2, a truncated record, a byte after the blob, bytes
 *    that are not a blob): each is refused with ERROR 200 and the link
 *    closed, counted as a bad frame, and an innocent library peer's
 *    samples still arrive with their records and verify;
 *  - well-formed lies, which are not the wire's to judge: the innocent's
 *    real record on another payload is taken (the link stays up) and
 *    verification says 202; a record changed by one byte, 201 or 203;
 *  - a HELLO claiming a linked node's id under another name: 207.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_prov.h"
#include "raw_client.h"
#include "testutil.h"

#define VICTIM "pvictim"

static ipcn_node *victim, *innocent;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static ipcn_msg *last_ok, *last_raw; /* the latest of h/ok, of h/raw */
static unsigned n_ok, n_raw;

static void on_msg(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)user;
    if (m->status != IPCN_OK)
        return;
    pthread_mutex_lock(&mu);
    ipcn_msg **slot = !strcmp(m->path, "h/ok") ? &last_ok : &last_raw;
    ipcn_msg_free(*slot);
    *slot = ipcn_msg_ref(m);
    if (slot == &last_ok)
        n_ok++;
    else
        n_raw++;
    pthread_mutex_unlock(&mu);
}

static ipcn_msg *wait_msg(ipcn_msg **slot, unsigned *count, unsigned above)
{
    uint64_t end = tu_now_ms() + 10000;
    for (;;) {
        pthread_mutex_lock(&mu);
        ipcn_msg *m = *count > above ? ipcn_msg_ref(*slot) : NULL;
        pthread_mutex_unlock(&mu);
        if (m || tu_now_ms() > end)
            return m;
        if (slot == &last_ok)
            ipcn_publish(innocent, "h/ok", "hello", 5);
        usleep(20000);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, VICTIM);
    assert_int_equal(ipcn_node_open(&victim, VICTIM, NULL), IPCN_OK);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(victim, "h/*", 16, on_msg, NULL, &sub),
                     IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(victim), IPCN_OK);
    assert_int_equal(ipcn_node_open(&innocent, "pinno", NULL), IPCN_OK);
    assert_int_equal(ipcn_announce(innocent, "h/ok", IPCN_STREAM, "", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_prov_enable(innocent, "h/ok", 1), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(innocent), IPCN_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    raw_free_all();
    ipcn_node_close(innocent);
    ipcn_node_close(victim);
    ipcn_msg_free(last_ok);
    ipcn_msg_free(last_raw);
    last_ok = last_raw = NULL;
    return 0;
}

/* A linked raw client that announced the stream h/raw. */
static raw *raw_provider(void)
{
    raw *r = raw_link();
    B.len = 0;
    enc_announce(&B, r->id, 2, 1, "h/raw", 5);
    raw_send_buf(r);
    raw_ping(r, 2);
    return r;
}

/* SAMPLE of h/raw with data, then ext (n bytes) after its last field. */
static void sample_ext(raw *r, uint64_t seq, const void *data, size_t len,
                       const void *ext, size_t n)
{
    B.len = 0;
    size_t off = f_begin(&B, T_SAMPLE, r->id, 0);
    b_u64(&B, seq);
    b_u64(&B, 1700000000000000000ull);
    b_str(&B, "h/raw", 5);
    b_str(&B, "", 0);
    b_blob(&B, data, len);
    b_put(&B, ext, n);
    f_end(&B, off);
    raw_send_buf(r);
}

static void test_malformed(void **state)
{
    (void)state;
    ipcn_msg *ok = wait_msg(&last_ok, &n_ok, 0);
    assert_non_null(ok);
    const uint8_t *rec;
    size_t rl;
    assert_int_equal(ipcn_msg_provenance(ok, &rec, &rl), IPCN_OK);
    ipcn_node_stats before = {.size = sizeof before}, after = {.size = sizeof after};
    assert_int_equal(ipcn_node_get_stats(victim, &before), IPCN_OK);
    uint8_t ext[4096];
    size_t n;
    const int cases = 6;
    for (int c = 0; c < cases; c++) {
        raw *r = raw_provider();
        switch (c) {
        case 0: /* the blob runs past the body */
            st32(ext, (uint32_t)rl + 1);
            memcpy(ext + 4, rec, rl);
            n = 4 + rl;
            break;
        case 1: /* an empty blob */
            st32(ext, 0);
            n = 4;
            break;
        case 2: /* a record of version 2 */
            st32(ext, (uint32_t)rl);
            memcpy(ext + 4, rec, rl);
            ext[4] = 2;
            n = 4 + rl;
            break;
        case 3: /* truncated by one byte */
            st32(ext, (uint32_t)rl - 1);
            memcpy(ext + 4, rec, rl - 1);
            n = 4 + rl - 1;
            break;
        case 4: /* a byte after the blob */
            st32(ext, (uint32_t)rl);
            memcpy(ext + 4, rec, rl);
            ext[4 + rl] = 0;
            n = 5 + rl;
            break;
        default: /* not a blob at all */
            memcpy(ext, "\x01\x02\x03", 3);
            n = 3;
            break;
        }
        sample_ext(r, 1, "x", 1, ext, n);
        raw_expect_close(r, ST_BAD_REQUEST);
    }
    assert_int_equal(ipcn_node_get_stats(victim, &after), IPCN_OK);
    assert_true(after.bad_frames >= before.bad_frames + (uint64_t)cases);
    /* The innocent is not hurt: a new sample, its record, verified. */
    unsigned seen = n_ok;
    ipcn_msg *again = wait_msg(&last_ok, &n_ok, seen);
    assert_non_null(again);
    ipcn_prov_report rep;
    assert_int_equal(ipcn_prov_verify(victim, again, 5000, &rep), IPCN_OK);
    assert_int_equal(rep.records, 1);
    ipcn_msg_free(again);
    ipcn_msg_free(ok);
}

static void test_lies(void **state)
{
    (void)state;
    ipcn_msg *ok = wait_msg(&last_ok, &n_ok, 0);
    assert_non_null(ok);
    const uint8_t *rec;
    size_t rl;
    assert_int_equal(ipcn_msg_provenance(ok, &rec, &rl), IPCN_OK);
    raw *r = raw_provider();
    uint8_t ext[4096];
    st32(ext, (uint32_t)rl);
    memcpy(ext + 4, rec, rl);
    /* The innocent's record on another payload: the wire takes it (a
     * valid record), verification does not. */
    sample_ext(r, 1, "forged", 6, ext, 4 + rl);
    raw_ping(r, 3); /* the link is up */
    ipcn_msg *m = wait_msg(&last_raw, &n_raw, 0);
    assert_non_null(m);
    ipcn_prov_report rep;
    assert_int_equal(ipcn_prov_verify(victim, m, 5000, &rep), IPCN_FORBIDDEN);
    ipcn_msg_free(m);
    /* Its own payload, the record changed in its seq: the producer's
     * record is not this one. */
    ext[4 + 20] ^= 1;
    unsigned seen = n_raw;
    sample_ext(r, 2, ok->data, ok->len, ext, 4 + rl);
    raw_ping(r, 4);
    m = wait_msg(&last_raw, &n_raw, seen);
    assert_non_null(m);
    int st = ipcn_prov_verify(victim, m, 5000, &rep);
    assert_true(st == IPCN_UNAUTHORIZED || st == IPCN_NOT_FOUND);
    assert_int_not_equal(rep.bad_status, IPCN_OK);
    ipcn_msg_free(m);
    ipcn_msg_free(ok);
}

/* A HELLO that claims the node id of a linked node (or the victim's own)
 * under another name is refused with 207 (protocol 7.3): records are
 * attributed by node id, so no one may take the camera's.  Without the
 * check the spoofer links, and a record it serves under the innocent's
 * id would be fetched from it. */
static void test_spoofed_id(void **state)
{
    (void)state;
    ipcn_msg *ok = wait_msg(&last_ok, &n_ok, 0); /* the innocent linked */
    assert_non_null(ok);
    uint64_t ids[2] = {ipcn_node_id(innocent), ipcn_node_id(victim)};
    for (int i = 0; i < 2; i++) {
        raw *r = raw_open();
        char name[32];
        snprintf(name, sizeof name, "spoofer-%d", i);
        B.len = 0;
        enc_hello(&B, ids[i], name);
        raw_send_buf(r);
        raw_expect_close(r, ST_CONFLICT);
    }
    /* The innocent's link was not touched: its next sample verifies. */
    unsigned seen = n_ok;
    ipcn_msg *again = wait_msg(&last_ok, &n_ok, seen);
    assert_non_null(again);
    ipcn_prov_report rep;
    assert_int_equal(ipcn_prov_verify(victim, again, 5000, &rep), IPCN_OK);
    ipcn_msg_free(again);
    ipcn_msg_free(ok);
}

/* The next sample of a path other than h/ok (published by the innocent
 * now), received by the victim: its reference in *ref, the message. */
static ipcn_msg *publish_seen(const char *path, const void *data, size_t len,
                              const ipcn_prov_ref *parents, size_t np,
                              uint32_t flags, ipcn_prov_ref *ref)
{
    unsigned seen = n_raw;
    assert_int_equal(ipcn_publish_derived_ex(innocent, path, data, len,
                                             parents, np, flags),
                     IPCN_OK);
    /* A data resource's value may come first without a record (the one
     * a new subscription is given): the sample is the one with it. */
    for (;;) {
        ipcn_msg *m = wait_msg(&last_raw, &n_raw, seen);
        assert_non_null(m);
        seen++;
        if (!strcmp(m->path, path) && m->len == len &&
            !memcmp(m->data, data, len) &&
            ipcn_msg_prov_ref(m, ref) == IPCN_OK)
            return m;
        ipcn_msg_free(m);
    }
}

/* A diamond: the planner names [detector's boxes, camera's frame], the
 * detector a pass-through of the frame that changed it and said in its
 * reference that the frame's digest was its own payload's.  The frame
 * is fetched once (for the planner); the detector's reference to it must
 * still be checked against it: 202.  A record naming itself: 201. */
static void test_diamond(void **state)
{
    (void)state;
    ipcn_msg *f = wait_msg(&last_ok, &n_ok, 0);
    assert_non_null(f);
    ipcn_prov_ref fr, honest, lie, dr, pr;
    assert_int_equal(ipcn_msg_prov_ref(f, &fr), IPCN_OK);
    const char *paths[] = {"h/det", "h/plan"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ipcn_announce(innocent, paths[i], IPCN_STREAM, "",
                                       NULL, 0),
                         IPCN_CREATED);
        assert_int_equal(ipcn_prov_enable(innocent, paths[i], 1), IPCN_OK);
    }
    ipcn_prov_report rep;
    /* An honest derivation, for the digest of "boxes". */
    ipcn_msg *m = publish_seen("h/det", "boxes", 5, &fr, 1, 0, &honest);
    assert_int_equal(ipcn_prov_verify(victim, m, 5000, &rep), IPCN_OK);
    ipcn_msg_free(m);
    lie = fr;
    memcpy(lie.digest, honest.digest, 32);
    ipcn_msg *d = publish_seen("h/det", "boxes", 5, &lie, 1,
                               IPCN_PROV_PASSTHROUGH, &dr);
    ipcn_prov_ref both[2] = {dr, fr};
    m = publish_seen("h/plan", "go", 2, both, 2, 0, &pr);
    assert_int_equal(ipcn_prov_verify(victim, m, 5000, &rep), IPCN_FORBIDDEN);
    assert_int_equal(rep.bad_status, IPCN_FORBIDDEN);
    assert_int_equal(rep.bad_index, dr.index);
    ipcn_msg_free(m);
    /* The detector's sample alone is caught too (202 or 201). */
    assert_int_not_equal(ipcn_prov_verify(victim, d, 5000, &rep), IPCN_OK);
    ipcn_msg_free(d);
    /* A record that names itself: the next index of the node. */
    ipcn_prov_ref self = pr;
    self.index = pr.index + 1;
    m = publish_seen("h/plan", "me", 2, &self, 1, 0, &pr);
    assert_int_equal(pr.index, self.index);
    assert_int_equal(ipcn_prov_verify(victim, m, 5000, &rep),
                     IPCN_UNAUTHORIZED);
    ipcn_msg_free(m);
    ipcn_msg_free(f);
}

/* A derived publish whose record is refused (a parent of node id 0, of
 * index 0) returns 200 and changes nothing: the data resource keeps its
 * value, and the next sample takes the next seq. */
static void test_refused_record(void **state)
{
    (void)state;
    ipcn_msg *ok = wait_msg(&last_ok, &n_ok, 0); /* the innocent linked */
    assert_non_null(ok);
    ipcn_msg_free(ok);
    const char *paths[] = {"h/val", "h/seq"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ipcn_announce(innocent, paths[i],
                                       i ? IPCN_STREAM : IPCN_DATA, "", NULL,
                                       0),
                         IPCN_CREATED);
        assert_int_equal(ipcn_prov_enable(innocent, paths[i], 1), IPCN_OK);
    }
    ipcn_prov_ref a, bad, c;
    ipcn_msg *m = publish_seen("h/seq", "a", 1, NULL, 0, 0, &a);
    ipcn_msg_free(m);
    assert_int_equal(ipcn_publish_derived(innocent, "h/val", "a", 1, NULL, 0),
                     IPCN_OK);
    for (int i = 0; i < 2; i++) {
        const char *path = paths[i];
        bad = a;
        bad.node_id = 0;
        assert_int_equal(ipcn_publish_derived(innocent, path, "b", 1, &bad, 1),
                         IPCN_BAD_REQUEST);
        bad = a;
        bad.index = 0;
        assert_int_equal(ipcn_publish_derived(innocent, path, "b", 1, &bad, 1),
                         IPCN_BAD_REQUEST);
    }
    ipcn_msg *v = NULL;
    assert_int_equal(ipcn_query(victim, "h/val", &v, 5000), IPCN_OK);
    assert_int_equal(v->len, 1);
    assert_memory_equal(v->data, "a", 1);
    assert_int_equal(v->seq, 1);
    ipcn_msg_free(v);
    m = publish_seen("h/seq", "c", 1, &a, 1, 0, &c);
    assert_int_equal(c.seq, a.seq + 1);
    ipcn_prov_report rep;
    assert_int_equal(ipcn_prov_verify(victim, m, 5000, &rep), IPCN_OK);
    ipcn_msg_free(m);
}

/* A 1 MiB sample of a path with provenance on goes through shared memory,
 * as without provenance, and is counted unrecorded (protocol 20.3). */
static void test_large_shared(void **state)
{
    (void)state;
    ipcn_msg *ok = wait_msg(&last_ok, &n_ok, 0); /* the innocent linked */
    assert_non_null(ok);
    ipcn_msg_free(ok);
    assert_int_equal(ipcn_announce(innocent, "h/big", IPCN_STREAM, "", NULL,
                                   0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_prov_enable(innocent, "h/big", 1), IPCN_OK);
    ipcn_prov_stats before = {.size = sizeof before},
                    after = {.size = sizeof after};
    assert_int_equal(ipcn_prov_get_stats(innocent, &before), IPCN_OK);
    size_t len = 1u << 20;
    uint8_t *big = malloc(len);
    assert_non_null(big);
    memset(big, 0x5a, len);
    ipcn_msg *m = NULL;
    uint64_t end = tu_now_ms() + 10000;
    unsigned seen = n_raw;
    /* The first ones may go before the victim's subscription reached
     * the new path: publish until one arrives. */
    unsigned sent = 0;
    while (!m && tu_now_ms() < end) {
        assert_int_equal(ipcn_publish(innocent, "h/big", big, len), IPCN_OK);
        sent++;
        for (int i = 0; i < 10 && !m; i++) {
            usleep(20000);
            pthread_mutex_lock(&mu);
            if (n_raw > seen && !strcmp(last_raw->path, "h/big"))
                m = ipcn_msg_ref(last_raw);
            pthread_mutex_unlock(&mu);
        }
    }
    assert_non_null(m);
    assert_int_equal(m->len, len);
    assert_true(m->flags & IPCN_MSG_SHARED);
    const uint8_t *rec;
    size_t rl;
    assert_int_equal(ipcn_msg_provenance(m, &rec, &rl), IPCN_NO_DATA);
    ipcn_msg_free(m);
    assert_int_equal(ipcn_prov_get_stats(innocent, &after), IPCN_OK);
    assert_int_equal(after.unrecorded, before.unrecorded + sent);
    assert_int_equal(after.records, before.records);
    ipcn_pool_stats ps = {.size = sizeof ps};
    assert_int_equal(ipcn_pool_get_stats(innocent, "h/big", &ps), IPCN_OK);
    assert_true(ps.published >= 1);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spoofed_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diamond, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_shared, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

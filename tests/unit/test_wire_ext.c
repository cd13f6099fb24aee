/* SPDX-License-Identifier: MIT */
/* test_wire_ext.c — the extensions of capability REDUNDANCY (issue 17,
 * docs/protocol.md 3): the test vectors 17.22..17.24 through the whole
 * receive path, and every malformed row of 17.25 made from them.  The
 * vectors' bytes themselves, their round trips, prefixes and bit flips are
 * checked with all the others in test_wire.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vectors.h"
#include "wire/wire.h"

#define MAXP IPCN_WIRE_MAX_PAYLOAD

/* Recompute the checksum after editing a frame in place. */
static void refix(uint8_t *f, size_t len)
{
    uint64_t c = ipcn__frame_checksum(f, f + IPCN_WIRE_HDR_SIZE,
                                      len - IPCN_WIRE_HDR_SIZE);
    for (int i = 0; i < 8; i++)
        f[40 + i] = (uint8_t)(c >> (8 * i));
}

/* check + decode of a whole buffer holding one frame. */
static int parse(const uint8_t *b, size_t n, ipcn__frame *f)
{
    size_t need = 0;
    int st = ipcn__frame_check(b, n, MAXP, &need);
    if (st != IPCN_OK)
        return st;
    assert_int_equal(need, n);
    return ipcn__frame_decode(b, n, f);
}

/* Decode of a raw payload of a type (checksum made valid). */
static int decode_payload(uint8_t type, const void *payload, size_t n)
{
    ipcn__wbuf w = {0};
    ipcn__hdr h = {.type = type, .ttl = 8, .src = VEC_ID_CAMERA};
    size_t off = ipcn__frame_begin(&w, &h);
    ipcn__wbuf_bytes(&w, payload, n);
    assert_int_equal(ipcn__frame_end(&w, off), IPCN_OK);
    ipcn__frame f;
    int st = parse(w.p, w.len, &f);
    ipcn__wbuf_free(&w);
    return st;
}

static const vec *vec_named(const char *name)
{
    for (size_t i = 0; i < VEC_COUNT; i++)
        if (strcmp(vecs[i].name, name) == 0)
            return &vecs[i];
    fail_msg("no vector %s", name);
    return NULL;
}

/* The extension vectors (protocol 17.22..17.24) and the malformed rows of
 * 17.25 made from them: each through the whole receive path (check, then
 * decode) with its checksum recomputed, as a peer would send it. */
static int vec_patched(const char *name, size_t at_from_end, uint8_t val)
{
    const vec *v = vec_named(name);
    uint8_t b[256];
    assert_true(v->len <= sizeof b && at_from_end >= 1 &&
                at_from_end <= v->len - IPCN_WIRE_HDR_SIZE);
    memcpy(b, v->bytes, v->len);
    b[v->len - at_from_end] = val;
    refix(b, v->len);
    ipcn__frame f;
    return parse(b, v->len, &f);
}

static void test_extension_vectors(void **state)
{
    (void)state;
    ipcn__frame f;
    const vec *v = vec_named("announce_owned");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_true(f.u.announce.has_ext && f.u.announce.strength == 10 &&
                f.u.announce.flags == IPCN_ANN_OWNED);
    v = vec_named("request_id");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_true(f.u.request.request_id == 0x0123456789ABCDEFull);
    v = vec_named("reply_load");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_true(f.u.reply.has_load && f.u.reply.load == 3);
    /* The plain vectors carry none. */
    assert_int_equal(parse(vec_named("announce")->bytes,
                           vec_named("announce")->len, &f), IPCN_OK);
    assert_false(f.u.announce.has_ext);
    assert_int_equal(parse(vec_named("reply")->bytes,
                           vec_named("reply")->len, &f), IPCN_OK);
    assert_false(f.u.reply.has_load);

    /* ANNOUNCE: flags (4th byte from the end) 0 (with keep 0), an unknown
     * bit, ONCE on a stream; the reserved byte not 0.  A negative strength
     * is fine. */
    assert_int_equal(vec_patched("announce_owned", 4, IPCN_ANN_OWNED), IPCN_OK);
    for (unsigned fl = 0; fl < 256; fl++)
        assert_int_equal(vec_patched("announce_owned", 4, (uint8_t)fl),
                         fl == IPCN_ANN_OWNED ? IPCN_OK : IPCN_BAD_REQUEST);
    for (unsigned bit = 1; bit < 256; bit <<= 1)
        assert_int_equal(vec_patched("announce_owned", 3, (uint8_t)bit),
                         IPCN_BAD_REQUEST);
    assert_int_equal(vec_patched("announce_owned", 5, 0x80), IPCN_OK);
    /* keep (the last two bytes, issue 21): up to IPCN_WIRE_KEEP_MAX on a
     * stream, with flags or without. */
    for (unsigned bit = 1; bit < 256; bit <<= 1) {
        assert_int_equal(vec_patched("announce_owned", 2, (uint8_t)bit),
                         IPCN_OK);
        assert_int_equal(vec_patched("announce_owned", 1, (uint8_t)bit),
                         (bit << 8) <= IPCN_WIRE_KEEP_MAX ? IPCN_OK
                                                          : IPCN_BAD_REQUEST);
    }
    /* OWNED on a service (kind, the body's first byte). */
    v = vec_named("announce_owned");
    assert_int_equal(vec_patched("announce_owned",
                                 v->len - IPCN_WIRE_HDR_SIZE, 3),
                     IPCN_BAD_REQUEST);
    assert_int_equal(vec_patched("announce_owned",
                                 v->len - IPCN_WIRE_HDR_SIZE, 1), IPCN_OK);
    /* REQUEST: request_id 0 is refused; any other id is taken. */
    v = vec_named("request_id");
    uint8_t b[256];
    memcpy(b, v->bytes, v->len);
    memset(b + v->len - 8, 0, 8);
    refix(b, v->len);
    assert_int_equal(parse(b, v->len, &f), IPCN_BAD_REQUEST);
    b[v->len - 1] = 0x80;
    refix(b, v->len);
    assert_int_equal(parse(b, v->len, &f), IPCN_OK);
    assert_true(f.u.request.request_id == 0x8000000000000000ull);
    /* REPLY: each reserved byte not 0; any load. */
    for (size_t at = 1; at <= 4; at++)
        assert_int_equal(vec_patched("reply_load", at, 1), IPCN_BAD_REQUEST);
    assert_int_equal(vec_patched("reply_load", 5, 0xFF), IPCN_OK);
    /* QUERY's 8-byte tail is its HISTORY extension (protocol 10.6): any
     * version but 0; a tail of another length is refused. */
    v = vec_named("query");
    memcpy(b, v->bytes + IPCN_WIRE_HDR_SIZE, v->len - IPCN_WIRE_HDR_SIZE);
    memcpy(b + v->len - IPCN_WIRE_HDR_SIZE, "\xef\xcd\xab\x89\x67\x45\x23\x01",
           8);
    assert_int_equal(decode_payload(IPCN_F_QUERY, b,
                                    v->len - IPCN_WIRE_HDR_SIZE + 8),
                     IPCN_OK);
    assert_int_equal(decode_payload(IPCN_F_QUERY, b,
                                    v->len - IPCN_WIRE_HDR_SIZE + 7),
                     IPCN_BAD_REQUEST);
    memset(b + v->len - IPCN_WIRE_HDR_SIZE, 0, 8);
    assert_int_equal(decode_payload(IPCN_F_QUERY, b,
                                    v->len - IPCN_WIRE_HDR_SIZE + 8),
                     IPCN_BAD_REQUEST);
}

/* Issue 21 (protocol 10.3): the keep of ANNOUNCE's extension, and the
 * frames of a replay (SUBSCRIBE, SAMPLE, REPLY with a corr). */
static void test_keep_vectors(void **state)
{
    (void)state;
    ipcn__frame f;
    const vec *v = vec_named("announce_keep");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_true(f.u.announce.has_ext && f.u.announce.keep == 5 &&
                f.u.announce.flags == 0 && f.u.announce.strength == 0);
    /* The kind is the body's first byte; keep the last two. */
    size_t kind_at = v->len - IPCN_WIRE_HDR_SIZE;
    /* keep 0 with flags 0: the extension says nothing, refused. */
    assert_int_equal(vec_patched("announce_keep", 2, 0), IPCN_BAD_REQUEST);
    /* Data keeps 0 or 1 (its current value); a service nothing. */
    assert_int_equal(vec_patched("announce_keep", kind_at, 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(vec_patched("announce_keep", kind_at, 3),
                     IPCN_BAD_REQUEST);
    uint8_t b[256];
    memcpy(b, v->bytes, v->len);
    b[IPCN_WIRE_HDR_SIZE] = 1; /* data */
    b[v->len - 2] = 1;         /* keep 1 */
    refix(b, v->len);
    assert_int_equal(parse(b, v->len, &f), IPCN_OK);
    assert_true(f.u.announce.kind == 1 && f.u.announce.keep == 1);
    /* keep up to IPCN_WIRE_KEEP_MAX, no more. */
    memcpy(b, v->bytes, v->len);
    b[v->len - 2] = (uint8_t)IPCN_WIRE_KEEP_MAX;
    b[v->len - 1] = (uint8_t)(IPCN_WIRE_KEEP_MAX >> 8);
    refix(b, v->len);
    assert_int_equal(parse(b, v->len, &f), IPCN_OK);
    assert_int_equal(f.u.announce.keep, IPCN_WIRE_KEEP_MAX);
    b[v->len - 2]++;
    refix(b, v->len);
    assert_int_equal(parse(b, v->len, &f), IPCN_BAD_REQUEST);
    /* The replay's frames: their corr in the header, bodies as ever. */
    v = vec_named("subscribe_replay");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_true(f.hdr.corr == 0x8000000000000001ull);
    v = vec_named("sample_replay");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_true(f.hdr.corr == 0x8000000000000001ull && f.u.sample.seq == 1);
    v = vec_named("reply_replay");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_true(f.hdr.status == IPCN_OK && f.u.reply.seq == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extension_vectors),
        cmocka_unit_test(test_keep_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

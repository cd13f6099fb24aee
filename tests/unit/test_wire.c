/* SPDX-License-Identifier: MIT */
/* test_wire.c — the frame codec: the test vectors of docs/protocol.md byte
 * for byte, every class of malformed input, round trips and out-of-memory
 * rollback of the encoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/util.h"
#include "vectors.h"
#include "wire/wire.h"

#define MAXP IPCN_WIRE_MAX_PAYLOAD

/* ---- helpers ---- */

/* A frame of the given type around raw payload bytes, with a valid
 * checksum: what a hostile peer that computes checksums can send. */
static void build(ipcn__wbuf *w, uint8_t type, const void *payload, size_t n)
{
    ipcn__hdr h = {.type = type, .ttl = 8, .src = VEC_ID_CAMERA};
    size_t off = ipcn__frame_begin(w, &h);
    ipcn__wbuf_bytes(w, payload, n);
    assert_int_equal(ipcn__frame_end(w, off), IPCN_OK);
}

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
    ipcn__frame f;
    build(&w, type, payload, n);
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

static int str_terminated(ipcn__str s) { return s.p && s.p[s.len] == 0; }

/* The bytes of a vector's extension (protocol 3, capability REDUNDANCY):
 * 8 when it carries one, else 0. */
static size_t vec_ext_len(const vec *v)
{
    const ipcn__frame *f = &v->frame;
    switch (f->hdr.type) {
    case IPCN_F_ANNOUNCE:
        return f->u.announce.has_ext ? 8 : 0;
    case IPCN_F_REQUEST:
        return f->u.request.request_id ? 8 : 0;
    case IPCN_F_QUERY:
        return f->u.request.version ? 8 : 0;
    case IPCN_F_REPLY:
    case IPCN_F_QUERY_REPLY:
        return f->u.reply.has_load ? 8 : 0;
    case IPCN_F_STATE:
        return f->u.state.has_ext ? 8 : 0;
    default:
        return 0;
    }
}

/* ---- the vectors ---- */

static void test_vectors_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < VEC_COUNT; i++) {
        const vec *v = &vecs[i];
        ipcn__wbuf w = {0};
        assert_int_equal(vec_encode(&w, &v->frame), IPCN_OK);
        assert_int_equal(w.len, v->len);
        assert_memory_equal(w.p, v->bytes, v->len);
        /* Appending after other bytes gives the same frame. */
        size_t before = w.len;
        assert_int_equal(vec_encode(&w, &v->frame), IPCN_OK);
        assert_int_equal(w.len, before + v->len);
        assert_memory_equal(w.p + before, v->bytes, v->len);
        ipcn__wbuf_free(&w);
    }
}

static void test_vectors_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < VEC_COUNT; i++) {
        const vec *v = &vecs[i];
        ipcn__frame f;
        size_t need = 0;
        assert_int_equal(ipcn__frame_check(v->bytes, v->len, MAXP, &need),
                         IPCN_OK);
        assert_int_equal(need, v->len);
        assert_int_equal(ipcn__frame_decode(v->bytes, v->len, &f), IPCN_OK);
        assert_true(vec_frame_eq(&f, &v->frame));
        assert_int_equal(f.hdr.len, v->len - IPCN_WIRE_HDR_SIZE);
        uint64_t sum = 0;
        for (int k = 7; k >= 0; k--)
            sum = sum << 8 | v->bytes[40 + k];
        assert_true(f.hdr.checksum == sum);

        ipcn__hdr h;
        ipcn__hdr_read(v->bytes, &h);
        assert_int_equal(h.type, v->frame.hdr.type);
        assert_true(h.src == v->frame.hdr.src && h.corr == v->frame.hdr.corr);
    }
}

/* Strings decode as NUL-terminated views into the frame itself. */
static void test_decoded_strings_point_into_frame(void **state)
{
    (void)state;
    const vec *v = vec_named("sample");
    ipcn__frame f;
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    const char *lo = (const char *)v->bytes, *hi = lo + v->len;
    assert_true(f.u.sample.path.p > lo && f.u.sample.path.p < hi);
    assert_true(str_terminated(f.u.sample.path));
    assert_true(str_terminated(f.u.sample.encoding));
    assert_true((const char *)f.u.sample.data.p > lo &&
                (const char *)f.u.sample.data.p + f.u.sample.data.len == hi);

    v = vec_named("query");
    assert_int_equal(parse(v->bytes, v->len, &f), IPCN_OK);
    assert_int_equal(f.u.request.encoding.len, 0);
    assert_true(str_terminated(f.u.request.encoding));
    assert_int_equal(f.u.request.data.len, 0);
}

/* All vectors back to back, as a link's byte stream, offered one byte more
 * at a time as a reader would see them. */
static void test_stream_byte_by_byte(void **state)
{
    (void)state;
    ipcn__wbuf w = {0};
    for (size_t i = 0; i < VEC_COUNT; i++)
        ipcn__wbuf_bytes(&w, vecs[i].bytes, vecs[i].len);
    size_t pos = 0, avail = 0, frames = 0;
    while (pos < w.len) {
        size_t need = 0;
        int st = ipcn__frame_check(w.p + pos, avail, MAXP, &need);
        if (st == IPCN_WIRE_NEED_MORE) {
            assert_true(need > avail);
            assert_true(need == IPCN_WIRE_HDR_SIZE ||
                        need == vecs[frames].len);
            avail++;
            continue;
        }
        assert_int_equal(st, IPCN_OK);
        assert_int_equal(need, vecs[frames].len);
        assert_int_equal(avail, need); /* never accepted early */
        ipcn__frame f;
        assert_int_equal(ipcn__frame_decode(w.p + pos, need, &f), IPCN_OK);
        assert_true(vec_frame_eq(&f, &vecs[frames].frame));
        pos += need;
        avail = 0;
        frames++;
    }
    assert_int_equal(frames, VEC_COUNT);
    ipcn__wbuf_free(&w);
}

/* ---- the header ---- */

static void test_truncated_header(void **state)
{
    (void)state;
    for (size_t i = 0; i < VEC_COUNT; i++) {
        for (size_t avail = 0; avail < IPCN_WIRE_HDR_SIZE; avail++) {
            size_t need = 0;
            assert_int_equal(
                ipcn__frame_check(vecs[i].bytes, avail, MAXP, &need),
                IPCN_WIRE_NEED_MORE);
            assert_int_equal(need, IPCN_WIRE_HDR_SIZE);
        }
    }
}

static void test_truncated_payload(void **state)
{
    (void)state;
    for (size_t i = 0; i < VEC_COUNT; i++) {
        for (size_t avail = IPCN_WIRE_HDR_SIZE; avail < vecs[i].len;
             avail++) {
            size_t need = 0;
            assert_int_equal(
                ipcn__frame_check(vecs[i].bytes, avail, MAXP, &need),
                IPCN_WIRE_NEED_MORE);
            assert_int_equal(need, vecs[i].len);
        }
    }
}

/* A wrong magic is refused as soon as its first wrong byte is there. */
static void test_bad_magic(void **state)
{
    (void)state;
    const vec *v = vec_named("ping");
    uint8_t b[128];
    for (size_t k = 0; k < 4; k++) {
        memcpy(b, v->bytes, v->len);
        b[k] ^= 0x20; /* 'i' for 'I' and so on */
        for (size_t avail = k + 1; avail <= v->len; avail++) {
            size_t need = 0;
            assert_int_equal(ipcn__frame_check(b, avail, MAXP, &need),
                             IPCN_BAD_REQUEST);
        }
    }
    static const uint8_t junk[4] = {'G', 'E', 'T', ' '};
    size_t need = 0;
    /* an empty (even unallocated) buffer just needs a header */
    assert_int_equal(ipcn__frame_check(NULL, 0, MAXP, &need),
                     IPCN_WIRE_NEED_MORE);
    assert_int_equal(need, IPCN_WIRE_HDR_SIZE);
    assert_int_equal(ipcn__frame_check(junk, 1, MAXP, &need),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__frame_check(junk, 4, MAXP, &need),
                     IPCN_BAD_REQUEST);
    /* Byte-swapped magic (a big-endian writer) is not IPCN either. */
    static const uint8_t ncpi[4] = {'N', 'C', 'P', 'I'};
    assert_int_equal(ipcn__frame_check(ncpi, 4, MAXP, &need),
                     IPCN_BAD_REQUEST);
}

static void test_version(void **state)
{
    (void)state;
    const vec *v = vec_named("hello");
    uint8_t b[256];
    static const uint8_t versions[] = {0, 2, 3, 0x81, 0xFF};
    for (size_t i = 0; i < sizeof versions; i++) {
        memcpy(b, v->bytes, v->len);
        b[4] = versions[i];
        size_t need = 0;
        /* Before the whole header is there the version is not judged. */
        assert_int_equal(ipcn__frame_check(b, 47, MAXP, &need),
                         IPCN_WIRE_NEED_MORE);
        assert_int_equal(ipcn__frame_check(b, 48, MAXP, &need),
                         IPCN_VERSION_NOT_SUPPORTED);
        assert_int_equal(ipcn__frame_check(b, v->len, MAXP, &need),
                         IPCN_VERSION_NOT_SUPPORTED);
        refix(b, v->len);
        assert_int_equal(ipcn__frame_check(b, v->len, MAXP, &need),
                         IPCN_VERSION_NOT_SUPPORTED);
        /* A future version may lay out the rest of its header otherwise:
         * 305 whatever follows the version byte. */
        memset(b + 5, 0xEE, 43);
        assert_int_equal(ipcn__frame_check(b, 48, MAXP, &need),
                         IPCN_VERSION_NOT_SUPPORTED);
    }
}

static void test_unknown_type(void **state)
{
    (void)state;
    const vec *v = vec_named("ping");
    uint8_t b[128];
    static const uint8_t types[] = {0, IPCN_F__MAX + 1, IPCN_F__MAX + 2, 0x7F, 0xFF};
    for (size_t i = 0; i < sizeof types; i++) {
        memcpy(b, v->bytes, v->len);
        b[5] = types[i];
        refix(b, v->len);
        size_t need = 0;
        assert_int_equal(ipcn__frame_check(b, 48, MAXP, &need),
                         IPCN_BAD_REQUEST);
        assert_int_equal(ipcn__frame_check(b, v->len, MAXP, &need),
                         IPCN_BAD_REQUEST);
        /* The decoder refuses it too when called on its own. */
        ipcn__frame f;
        assert_int_equal(ipcn__frame_decode(b, v->len, &f), IPCN_BAD_REQUEST);
    }
}

static void test_flags_and_reserved(void **state)
{
    (void)state;
    const vec *v = vec_named("ping");
    uint8_t b[128];
    static const size_t where[] = {6, 11};
    for (size_t i = 0; i < 2; i++) {
        for (unsigned val = 1; val < 256; val <<= 1) {
            memcpy(b, v->bytes, v->len);
            b[where[i]] = (uint8_t)val;
            refix(b, v->len);
            size_t need = 0;
            assert_int_equal(ipcn__frame_check(b, v->len, MAXP, &need),
                             IPCN_BAD_REQUEST);
        }
    }
}

/* ttl, hops and status are not the wire layer's to judge: any value
 * passes the check (the node refuses ttl 0 with 308). */
static void test_ttl_hops_status_pass(void **state)
{
    (void)state;
    ipcn__hdr h = {.ttl = 0, .hops = 255, .status = 65535, .src = 1,
                   .dst = UINT64_MAX, .corr = UINT64_MAX};
    ipcn__wbuf w = {0};
    assert_int_equal(ipcn__enc_stamp(&w, &h, IPCN_F_PING, 0), IPCN_OK);
    ipcn__frame f;
    assert_int_equal(parse(w.p, w.len, &f), IPCN_OK);
    assert_int_equal(f.hdr.ttl, 0);
    assert_int_equal(f.hdr.hops, 255);
    assert_int_equal(f.hdr.status, 65535);
    assert_true(f.hdr.dst == UINT64_MAX && f.hdr.corr == UINT64_MAX);
    ipcn__wbuf_free(&w);
}

static void set_len(uint8_t *b, uint32_t len)
{
    for (int i = 0; i < 4; i++)
        b[12 + i] = (uint8_t)(len >> (8 * i));
}

/* A payload over the limit is refused from the header alone: no waiting
 * for (or buffering of) bytes that will be refused anyway. */
static void test_payload_limit(void **state)
{
    (void)state;
    uint8_t b[IPCN_WIRE_HDR_SIZE];
    memcpy(b, vec_named("ping")->bytes, sizeof b);
    size_t need = 0;

    set_len(b, 100);
    assert_int_equal(ipcn__frame_check(b, sizeof b, 100, &need),
                     IPCN_WIRE_NEED_MORE);
    assert_int_equal(need, 148);
    set_len(b, 101);
    assert_int_equal(ipcn__frame_check(b, sizeof b, 100, &need),
                     IPCN_BAD_REQUEST);
    set_len(b, 1);
    assert_int_equal(ipcn__frame_check(b, sizeof b, 0, &need),
                     IPCN_BAD_REQUEST);

    /* The ceiling holds whatever limit the caller asks for. */
    set_len(b, MAXP);
    assert_int_equal(ipcn__frame_check(b, sizeof b, UINT32_MAX, &need),
                     IPCN_WIRE_NEED_MORE);
    assert_int_equal(need, (size_t)MAXP + IPCN_WIRE_HDR_SIZE);
    set_len(b, MAXP + 1);
    assert_int_equal(ipcn__frame_check(b, sizeof b, UINT32_MAX, &need),
                     IPCN_BAD_REQUEST);
    set_len(b, UINT32_MAX);
    assert_int_equal(ipcn__frame_check(b, sizeof b, UINT32_MAX, &need),
                     IPCN_BAD_REQUEST);
}

/* Every single-bit flip, and every byte inverted, anywhere in any vector,
 * is refused (or leaves the reader waiting for bytes it will refuse). */
static void test_every_flip_refused(void **state)
{
    (void)state;
    uint8_t b[512];
    for (size_t i = 0; i < VEC_COUNT; i++) {
        const vec *v = &vecs[i];
        assert_true(v->len <= sizeof b);
        for (size_t pos = 0; pos < v->len; pos++) {
            for (int m = 0; m < 9; m++) {
                memcpy(b, v->bytes, v->len);
                b[pos] ^= (uint8_t)(m < 8 ? 1u << m : 0xFFu);
                size_t need = 0;
                int st = ipcn__frame_check(b, v->len, MAXP, &need);
                if (st == IPCN_WIRE_NEED_MORE) {
                    /* only a longer length field can do this */
                    assert_true(pos >= 12 && pos < 16);
                    assert_true(need > v->len);
                } else {
                    assert_true(st == IPCN_BAD_REQUEST ||
                                (st == IPCN_VERSION_NOT_SUPPORTED &&
                                 pos == 4));
                }
            }
        }
    }
}

static void test_checksum_definition(void **state)
{
    (void)state;
    /* XXH3-64, seed 0, over header bytes 0..39 then the payload: one
     * call over the concatenation gives the same value. */
    const vec *v = vec_named("request");
    uint8_t cat[256];
    memcpy(cat, v->bytes, 40);
    memcpy(cat + 40, v->bytes + 48, v->len - 48);
    uint64_t c = XXH3_64bits(cat, v->len - 8);
    assert_true(ipcn__frame_checksum(v->bytes, v->bytes + 48,
                                     v->len - 48) == c);
    /* and the well-known value of the empty input, for implementers */
    assert_true(XXH3_64bits("", 0) == 0x2D06800538D394C2ull);
}

/* SHM_REQUEST (protocol 12.9): its timeout is a u32 in a u64 field; a
 * higher bit set is a malformed frame (200), checksum right. */
static void test_shm_request_timeout(void **state)
{
    (void)state;
    const vec *v = vec_named("shm_request");
    uint8_t b[256];
    assert_true(v->len <= sizeof b);
    memcpy(b, v->bytes, v->len);
    ipcn__frame f;
    assert_int_equal(ipcn__frame_decode(b, v->len, &f), IPCN_OK);
    assert_int_equal(f.u.shm_sample.timestamp_ns, 1000);
    b[48 + 8 + 4] = 1; /* bit 32 of timestamp_ns: the timeout */
    uint64_t c = ipcn__frame_checksum(b, b + 48, v->len - 48);
    for (int i = 0; i < 8; i++)
        b[40 + i] = (uint8_t)(c >> (8 * i));
    size_t need;
    assert_int_equal(ipcn__frame_check(b, v->len, IPCN_WIRE_MAX_PAYLOAD, &need),
                     IPCN_OK);
    assert_int_equal(ipcn__frame_decode(b, v->len, &f), IPCN_BAD_REQUEST);
}

/* A TCP link's queue (no_sum) writes checksum 0, which only the check
 * that skips the checksum (frames from authenticated records) accepts;
 * the same frame from an ordinary queue carries the real one; no_sum
 * survives ipcn__wbuf_free(). */
static void test_no_sum_queue(void **state)
{
    (void)state;
    const vec *v = vec_named("ping");
    ipcn__frame f;
    assert_int_equal(ipcn__frame_decode(v->bytes, v->len, &f), IPCN_OK);
    ipcn__wbuf plain = {0}, tcp = {.no_sum = true};
    for (int round = 0; round < 2; round++) {
        ipcn__hdr h = f.hdr;
        assert_int_equal(ipcn__enc_stamp(&plain, &h, IPCN_F_PING, f.u.stamp), IPCN_OK);
        h = f.hdr;
        assert_int_equal(ipcn__enc_stamp(&tcp, &h, IPCN_F_PING, f.u.stamp), IPCN_OK);
        assert_int_equal(tcp.len, plain.len);
        assert_memory_equal(plain.p, v->bytes, v->len);
        assert_memory_equal(tcp.p, plain.p, 40); /* all but the checksum */
        assert_memory_equal(tcp.p + 48, plain.p + 48, plain.len - 48);
        static const uint8_t zero[8];
        assert_memory_equal(tcp.p + 40, zero, 8);
        size_t need = 0;
        assert_int_equal(ipcn__frame_check(tcp.p, tcp.len, 1u << 20, &need),
                         IPCN_BAD_REQUEST);
        assert_int_equal(ipcn__frame_check_ex(tcp.p, tcp.len, 1u << 20, &need, false),
                         IPCN_OK);
        assert_int_equal(need, tcp.len);
        /* the other checks stay: a bad magic is still refused */
        tcp.p[0] ^= 1;
        assert_int_equal(ipcn__frame_check_ex(tcp.p, tcp.len, 1u << 20, &need, false),
                         IPCN_BAD_REQUEST);
        ipcn__wbuf_free(&plain);
        ipcn__wbuf_free(&tcp);
        assert_true(tcp.no_sum);
    }
}

/* ---- bodies ---- */

static void test_decode_frame_len_mismatch(void **state)
{
    (void)state;
    const vec *v = vec_named("ping");
    ipcn__frame f;
    assert_int_equal(ipcn__frame_decode(v->bytes, 47, &f), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__frame_decode(v->bytes, v->len - 1, &f),
                     IPCN_BAD_REQUEST);
    uint8_t b[128];
    memcpy(b, v->bytes, v->len);
    b[v->len] = 0;
    assert_int_equal(ipcn__frame_decode(b, v->len + 1, &f), IPCN_BAD_REQUEST);
}

/* Any strict prefix of a valid body, and any valid body with bytes after
 * it, is refused: every layout is exact.  The one prefix taken is a body
 * with an extension cut by exactly its 8 bytes: the plain frame. */
static void test_truncated_and_trailing_bodies(void **state)
{
    (void)state;
    for (size_t i = 0; i < VEC_COUNT; i++) {
        const vec *v = &vecs[i];
        const uint8_t *body = v->bytes + IPCN_WIRE_HDR_SIZE;
        size_t n = v->len - IPCN_WIRE_HDR_SIZE;
        uint8_t type = v->frame.hdr.type;
        size_t ext = vec_ext_len(v);
        assert_int_equal(decode_payload(type, body, n), IPCN_OK);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(decode_payload(type, body, k),
                             ext && k == n - ext ? IPCN_OK
                                                 : IPCN_BAD_REQUEST);
        uint8_t more[512];
        memcpy(more, body, n);
        for (size_t extra = 1; extra <= 9; extra++) {
            /* Eight zero bytes are a REPLY's extension: load 0. */
            if (extra == 8 && (type == IPCN_F_REPLY ||
                               type == IPCN_F_QUERY_REPLY))
                continue;
            memset(more + n, 0, extra);
            assert_int_equal(decode_payload(type, more, n + extra),
                             IPCN_BAD_REQUEST);
        }
    }
}

/* QUARANTINE: each field out of its range is refused. */
static void test_quarantine_bounds(void **state)
{
    (void)state;
    const vec *v = vec_named("quarantine");
    const uint8_t *body = v->bytes + IPCN_WIRE_HDR_SIZE;
    size_t n = v->len - IPCN_WIRE_HDR_SIZE;
    uint8_t b[256];
    assert_true(n <= sizeof b);
    static const struct {
        size_t at;
        uint8_t byte;
    } bad[] = {
        {0, 0}, {0, 3},   /* action: 1 or 2 */
        {1, 0}, {1, 17},  /* kinds: 1..16 */
        {2, 1}, {3, 1},   /* reserved */
        {11, 0x80},       /* pid < 0 */
        {15, 0},          /* score > 0 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(b, body, n);
        b[bad[i].at] = bad[i].byte;
        assert_int_equal(decode_payload(IPCN_F_QUARANTINE, b, n),
                         IPCN_BAD_REQUEST);
    }
    /* a ban, a process as subject: fine */
    memcpy(b, body, n);
    b[0] = IPCN_QR_BANNED;
    b[8] = 7; /* pid 7 */
    assert_int_equal(decode_payload(IPCN_F_QUARANTINE, b, n), IPCN_OK);
    /* the counters read back */
    ipcn__frame f;
    assert_int_equal(ipcn__frame_decode(v->bytes, v->len, &f), IPCN_OK);
    assert_int_equal(ipcn__quarantine_evidence(&f.u.quarantine, 0), 6);
    assert_int_equal(ipcn__quarantine_evidence(&f.u.quarantine, 1), 1);
    assert_int_equal(ipcn__quarantine_evidence(&f.u.quarantine, 2), 0);
}

/* STATE: exactly 4 bytes; a criticality over 3, a flag other than
 * ready, a reserved byte not 0 are refused; every valid one decodes. */
static void test_state_bounds(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[13];
        size_t n;
    } bad[] = {
        {{4, 0, 0, 0}, 4},    {{255, 1, 0, 0}, 4}, /* criticality 0..3 */
        {{1, 2, 0, 0}, 4},    {{1, 0x81, 0, 0}, 4}, /* flags: ready only */
        {{1, 1, 1, 0}, 4},    {{1, 1, 0, 1}, 4},   /* reserved */
        {{1, 1, 0}, 3},       {{1}, 1},            /* short */
        {{1, 1, 0, 0, 0}, 5}, {{0}, 0},            /* long, empty */
        /* the extension: liveness 1 .. a day, reserved 0, whole */
        {{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
        {{1, 1, 0, 0, 0x01, 0x5c, 0x26, 0x05, 0, 0, 0, 0}, 12}, /* a day + 1 */
        {{1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1}, 12},
        {{1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 11},
        {{1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 13},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(decode_payload(IPCN_F_STATE, bad[i].b, bad[i].n),
                         IPCN_BAD_REQUEST);
    for (uint8_t c = 0; c <= IPCN_STATE_CRIT_MAX; c++)
        for (uint8_t fl = 0; fl <= IPCN_STATE_READY; fl++) {
            uint8_t b[4] = {c, fl, 0, 0};
            ipcn__wbuf w = {0};
            ipcn__frame f;
            build(&w, IPCN_F_STATE, b, sizeof b);
            assert_int_equal(parse(w.p, w.len, &f), IPCN_OK);
            assert_int_equal(f.u.state.criticality, c);
            assert_int_equal(f.u.state.flags, fl);
            assert_int_equal(f.u.state.has_ext, 0);
            ipcn__wbuf_free(&w);
        }
    /* The extension's bounds: 1 ms and a day (0x05265c00) are taken. */
    static const uint32_t good[] = {1, 86400000u};
    for (size_t i = 0; i < 2; i++) {
        uint32_t v = good[i];
        uint8_t b[12] = {0, 0, 0, 0, (uint8_t)v, (uint8_t)(v >> 8),
                         (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
        ipcn__wbuf w = {0};
        ipcn__frame f;
        build(&w, IPCN_F_STATE, b, sizeof b);
        assert_int_equal(parse(w.p, w.len, &f), IPCN_OK);
        assert_int_equal(f.u.state.has_ext, 1);
        assert_int_equal(f.u.state.liveness_ms, v);
        ipcn__wbuf_free(&w);
    }
}

static void test_strings(void **state)
{
    (void)state;
    static const uint8_t type[] = {IPCN_F_BYE, IPCN_F_ERROR, IPCN_F_WITHDRAW,
                                   IPCN_F_SUBSCRIBE, IPCN_F_UNSUBSCRIBE};
    for (size_t t = 0; t < sizeof type; t++) {
        uint8_t ty = type[t];
        /* well formed */
        assert_int_equal(decode_payload(ty, "\x03\x00" "abc\0", 6), IPCN_OK);
        assert_int_equal(decode_payload(ty, "\x00\x00\0", 3), IPCN_OK);
        /* terminator missing: another byte in its place, or none at all */
        assert_int_equal(decode_payload(ty, "\x03\x00" "abcx", 6),
                         IPCN_BAD_REQUEST);
        assert_int_equal(decode_payload(ty, "\x03\x00" "abc", 5),
                         IPCN_BAD_REQUEST);
        assert_int_equal(decode_payload(ty, "\x00\x00", 2), IPCN_BAD_REQUEST);
        /* embedded NUL */
        assert_int_equal(decode_payload(ty, "\x03\x00" "a\0c\0", 6),
                         IPCN_BAD_REQUEST);
        assert_int_equal(decode_payload(ty, "\x03\x00" "\0\0\0\0", 6),
                         IPCN_BAD_REQUEST);
        /* length past the end */
        assert_int_equal(decode_payload(ty, "\x04\x00" "abc\0", 6),
                         IPCN_BAD_REQUEST);
        assert_int_equal(decode_payload(ty, "\xff\xff" "abc\0", 6),
                         IPCN_BAD_REQUEST);
        /* the length itself cut short */
        assert_int_equal(decode_payload(ty, "\x03", 1), IPCN_BAD_REQUEST);
        assert_int_equal(decode_payload(ty, "", 0), IPCN_BAD_REQUEST);
    }
    /* The longest string there is. */
    size_t n = UINT16_MAX;
    uint8_t *p = malloc(n + 3);
    assert_non_null(p);
    p[0] = 0xFF;
    p[1] = 0xFF;
    memset(p + 2, 'x', n);
    p[n + 2] = 0;
    assert_int_equal(decode_payload(IPCN_F_BYE, p, n + 3), IPCN_OK);
    p[n + 2] = 'x';
    assert_int_equal(decode_payload(IPCN_F_BYE, p, n + 3), IPCN_BAD_REQUEST);
    free(p);
}

/* A SAMPLE body up to its blob, then the given blob bytes. */
static int sample_with_blob(const void *blob, size_t n)
{
    uint8_t b[64];
    size_t k = 0;
    memset(b, 0, 16); /* seq, timestamp */
    k = 16;
    memcpy(b + k, "\x01\x00" "a\0", 4); /* path "a" */
    k += 4;
    memcpy(b + k, "\x00\x00\0", 3); /* encoding "" */
    k += 3;
    memcpy(b + k, blob, n);
    return decode_payload(IPCN_F_SAMPLE, b, k + n);
}

/* SHM_WITHHELD has the SAMPLE layout with encoding and data empty. */
static void test_withheld_layout(void **state)
{
    (void)state;
    uint8_t b[64];
    memset(b, 0, 16); /* seq, timestamp */
    memcpy(b + 16, "\x01\x00" "a\0", 4);      /* path "a" */
    memcpy(b + 20, "\x00\x00\0", 3);         /* encoding "" */
    memcpy(b + 23, "\x00\x00\x00\x00", 4);    /* data: none */
    assert_int_equal(decode_payload(IPCN_F_SHM_WITHHELD, b, 27), IPCN_OK);
    memcpy(b + 23, "\x01\x00\x00\x00x", 5);   /* data: one byte */
    assert_int_equal(decode_payload(IPCN_F_SHM_WITHHELD, b, 28),
                     IPCN_BAD_REQUEST);
    assert_int_equal(decode_payload(IPCN_F_SAMPLE, b, 28), IPCN_OK);
    memcpy(b + 20, "\x01\x00x\0", 4);         /* encoding "x" */
    memcpy(b + 24, "\x00\x00\x00\x00", 4);
    assert_int_equal(decode_payload(IPCN_F_SHM_WITHHELD, b, 28),
                     IPCN_BAD_REQUEST);
    /* and the encoder will not make one with data */
    ipcn__wbuf w = {0};
    ipcn__hdr h = {.type = IPCN_F_SHM_WITHHELD, .ttl = 8};
    ipcn__sample sa = {.seq = 1, .path = {"a", 1}, .encoding = {"", 0},
                       .data = {(const uint8_t *)"x", 1}};
    assert_int_equal(ipcn__enc_sample(&w, &h, &sa), IPCN_BAD_REQUEST);
    sa.data.len = 0;
    assert_int_equal(ipcn__enc_sample(&w, &h, &sa), IPCN_OK);
    assert_int_equal(w.p[5], IPCN_F_SHM_WITHHELD);
    ipcn__wbuf_free(&w);
}

static void test_blobs(void **state)
{
    (void)state;
    assert_int_equal(sample_with_blob("\x00\x00\x00\x00", 4), IPCN_OK);
    assert_int_equal(sample_with_blob("\x02\x00\x00\x00xy", 6), IPCN_OK);
    /* blob bytes may be anything, NULs included */
    assert_int_equal(sample_with_blob("\x02\x00\x00\x00\0\0", 6), IPCN_OK);
    assert_int_equal(sample_with_blob("\x03\x00\x00\x00xy", 6),
                     IPCN_BAD_REQUEST);
    assert_int_equal(sample_with_blob("\xff\xff\xff\xffxy", 6),
                     IPCN_BAD_REQUEST);
    assert_int_equal(sample_with_blob("\x00\x00\x00\x80xy", 6),
                     IPCN_BAD_REQUEST);
    assert_int_equal(sample_with_blob("\x00\x00\x00", 3), IPCN_BAD_REQUEST);
    assert_int_equal(sample_with_blob("", 0), IPCN_BAD_REQUEST);
}

static void test_announce_kind(void **state)
{
    (void)state;
    const vec *v = vec_named("announce");
    const uint8_t *body = v->bytes + IPCN_WIRE_HDR_SIZE;
    size_t n = v->len - IPCN_WIRE_HDR_SIZE;
    uint8_t b[256];
    memcpy(b, body, n);
    for (unsigned kind = 0; kind < 256; kind++) {
        b[0] = (uint8_t)kind;
        assert_int_equal(decode_payload(IPCN_F_ANNOUNCE, b, n),
                         kind >= 1 && kind <= 3 ? IPCN_OK : IPCN_BAD_REQUEST);
    }
}

static void test_hello_reserved(void **state)
{
    (void)state;
    const vec *v = vec_named("hello");
    const uint8_t *body = v->bytes + IPCN_WIRE_HDR_SIZE;
    size_t n = v->len - IPCN_WIRE_HDR_SIZE;
    uint8_t b[256];
    for (size_t pos = 2; pos <= 3; pos++) {
        for (unsigned val = 1; val < 256; val <<= 1) {
            memcpy(b, body, n);
            b[pos] = (uint8_t)val;
            assert_int_equal(decode_payload(IPCN_F_HELLO, b, n),
                             IPCN_BAD_REQUEST);
        }
    }
    /* versions, caps and heartbeat are the node's to judge */
    memcpy(b, body, n);
    b[0] = 9;
    b[1] = 2;
    memset(b + 4, 0xFF, 8);
    assert_int_equal(decode_payload(IPCN_F_HELLO, b, n), IPCN_OK);
}

/* RING: a power-of-two size within the limits, reserved zero, nothing
 * more or less. */
static void test_ring_body(void **state)
{
    (void)state;
    static const struct {
        uint32_t size, reserved;
        int st;
    } cases[] = {
        {IPCN_RING_MIN_SIZE, 0, IPCN_OK},
        {IPCN_RING_MAX_SIZE, 0, IPCN_OK},
        {IPCN_RING_MIN_SIZE * 4, 0, IPCN_OK},
        {IPCN_RING_MIN_SIZE / 2, 0, IPCN_BAD_REQUEST},
        {IPCN_RING_MAX_SIZE * 2, 0, IPCN_BAD_REQUEST},
        {IPCN_RING_MIN_SIZE + 4096, 0, IPCN_BAD_REQUEST},
        {0, 0, IPCN_BAD_REQUEST},
        {0xFFFFFFFFu, 0, IPCN_BAD_REQUEST},
        {IPCN_RING_MIN_SIZE, 1, IPCN_BAD_REQUEST},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[9];
        for (int k = 0; k < 4; k++) {
            b[k] = (uint8_t)(cases[i].size >> (8 * k));
            b[4 + k] = (uint8_t)(cases[i].reserved >> (8 * k));
        }
        assert_int_equal(decode_payload(IPCN_F_RING, b, 8), cases[i].st);
        if (cases[i].st == IPCN_OK) {
            assert_int_equal(decode_payload(IPCN_F_RING, b, 7), IPCN_BAD_REQUEST);
            b[8] = 0;
            assert_int_equal(decode_payload(IPCN_F_RING, b, 9), IPCN_BAD_REQUEST);
        }
    }
}

static void test_ping_sizes(void **state)
{
    (void)state;
    uint8_t b[16] = {0};
    for (size_t n = 0; n < sizeof b; n++) {
        assert_int_equal(decode_payload(IPCN_F_PING, b, n),
                         n == 8 ? IPCN_OK : IPCN_BAD_REQUEST);
        assert_int_equal(decode_payload(IPCN_F_PONG, b, n),
                         n == 8 ? IPCN_OK : IPCN_BAD_REQUEST);
    }
}

/* ---- round trips ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* n random bytes with no NUL (string content). */
static void fill_text(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(1 + rnd() % 255);
    p[n] = 0;
}

/* Deterministic pseudo-random frames of every type encode, pass the check
 * and decode back to the same fields. */
static void test_roundtrip_every_type(void **state)
{
    (void)state;
    static char s1[1200], s2[1200];
    static uint8_t blob[IPCN_SHM_MAX_RELEASE * 12 + 5000];
    for (int iter = 0; iter < 2000; iter++) {
        ipcn__frame in;
        memset(&in, 0, sizeof in);
        in.hdr.version = 1;
        in.hdr.type = (uint8_t)(1 + iter % IPCN_F__MAX);
        in.hdr.ttl = (uint8_t)rnd();
        in.hdr.hops = (uint8_t)rnd();
        in.hdr.status = (uint16_t)rnd();
        in.hdr.src = rnd();
        in.hdr.dst = iter % 3 ? 0 : rnd();
        in.hdr.corr = iter % 2 ? 0 : rnd();
        size_t n1 = iter % 5 ? rnd() % 40 : rnd() % 1100;
        size_t n2 = rnd() % 40, nb = iter % 7 ? rnd() % 64 : rnd() % 5000;
        fill_text(s1, n1);
        fill_text(s2, n2);
        for (size_t i = 0; i < nb; i++)
            blob[i] = (uint8_t)rnd();
        ipcn__str a = {s1, (uint16_t)n1}, b = {s2, (uint16_t)n2};
        ipcn__blob d = {blob, (uint32_t)nb};
        switch (in.hdr.type) {
        case IPCN_F_HELLO:
            in.u.hello = (ipcn__hello){(uint8_t)rnd(), (uint8_t)rnd(),
                                       (uint32_t)rnd(), (uint32_t)rnd(), (uint32_t)rnd(), a,
                                       b};
            break;
        case IPCN_F_PING:
        case IPCN_F_PONG:
            in.u.stamp = rnd();
            break;
        case IPCN_F_ANNOUNCE:
            in.u.announce = (ipcn__announce){(uint8_t)(1 + rnd() % 3), rnd(),
                                             a, b, d, 0, 0, 0, 0};
            if (rnd() % 2) { /* the extension: redundancy, keep */
                uint8_t kind = in.u.announce.kind;
                in.u.announce.has_ext = 1;
                in.u.announce.strength = (int32_t)rnd();
                in.u.announce.keep =
                    kind == 3 ? 0
                              : (uint16_t)(rnd() % (kind == 1
                                                        ? 2
                                                        : IPCN_WIRE_KEEP_MAX + 1));
                if (!in.u.announce.keep || rnd() % 2)
                    in.u.announce.flags = kind == 3 ? IPCN_ANN_ONCE
                                                    : IPCN_ANN_OWNED;
            }
            break;
        case IPCN_F_SAMPLE:
            in.u.sample = (ipcn__sample){rnd(), rnd(), a, b, d, {NULL, 0}};
            break;
        case IPCN_F_SHM_WITHHELD:
            in.u.sample = (ipcn__sample){rnd(), rnd(), a, {"", 0}, {NULL, 0}, {NULL, 0}};
            break;
        case IPCN_F_QUERY:
        case IPCN_F_REQUEST:
            in.u.request = (ipcn__request){(uint32_t)rnd(), a, b, d, 0, 0};
            if (in.hdr.type == IPCN_F_REQUEST && rnd() % 2)
                in.u.request.request_id = rnd() | 1;
            else if (in.hdr.type == IPCN_F_QUERY && rnd() % 2) /* past */
                in.u.request.version = rnd() | 1;
            break;
        case IPCN_F_QUERY_REPLY:
        case IPCN_F_REPLY:
            in.u.reply = (ipcn__reply){rnd(), rnd(), b, d, 0, 0};
            if (rnd() % 2) {
                in.u.reply.has_load = 1;
                in.u.reply.load = (uint32_t)rnd();
            }
            break;
        case IPCN_F_SHM_POOL: {
            uint32_t slots = 1 + (uint32_t)(rnd() % IPCN_SHM_MAX_SLOTS);
            in.u.shm_pool = (ipcn__shm_pool){(uint32_t)rnd(), slots,
                                             1 + (uint32_t)(rnd() % slots),
                                             4096 * (1 + rnd() % 4096)};
            break;
        }
        case IPCN_F_SHM_SAMPLE:
        case IPCN_F_SHM_REPLY:
        case IPCN_F_SHM_REQUEST:
            in.u.shm_sample = (ipcn__shm_sample){
                rnd(), rnd(), a, b, (uint32_t)rnd(), (uint32_t)rnd(),
                (uint32_t)rnd(), (uint32_t)(rnd() & IPCN_SHM_F_CHECKSUM),
                rnd() % IPCN_SHM_MAX_SLOT_SIZE,
                rnd() % IPCN_SHM_MAX_SLOT_SIZE, rnd()};
            if (in.hdr.type == IPCN_F_SHM_REQUEST) /* a timeout in ms */
                in.u.shm_sample.timestamp_ns &= UINT32_MAX;
            break;
        case IPCN_F_SHM_RELEASE:
        case IPCN_F_SHM_REVOKE:
        case IPCN_F_SHM_DROP: {
            uint32_t k = in.hdr.type == IPCN_F_SHM_DROP
                             ? 1
                             : 1 + (uint32_t)(rnd() % IPCN_SHM_MAX_RELEASE);
            for (size_t i = 0; i < (size_t)k * 12; i++)
                blob[i] = (uint8_t)rnd();
            in.u.shm_refs = (ipcn__shm_refs){k, blob};
            break;
        }
        case IPCN_F_RING:
            in.u.ring.size = IPCN_RING_MIN_SIZE << (rnd() % 9);
            break;
        case IPCN_F_CANCEL:
            break;
        case IPCN_F_SET:
            in.u.set = (ipcn__set){(uint32_t)rnd(), rnd(), a, b, d};
            break;
        case IPCN_F_QUARANTINE: {
            uint8_t k = (uint8_t)(1 + rnd() % IPCN_QR_MAX_KINDS);
            for (size_t i = 0; i < (size_t)k * 8; i++)
                blob[i] = (uint8_t)rnd();
            in.u.quarantine = (ipcn__quarantine){
                (uint8_t)(1 + rnd() % 2), k, (int32_t)rnd(),
                (int32_t)(rnd() & 0x7fffffff), -(int32_t)(rnd() & 0x7fffffff),
                rnd(), blob, a, b};
            break;
        }
        case IPCN_F_STATE:
            in.u.state = (ipcn__state){
                (uint8_t)(rnd() % (IPCN_STATE_CRIT_MAX + 1)),
                (uint8_t)(rnd() & IPCN_STATE_READY), (uint8_t)(rnd() & 1),
                (uint32_t)(1 + rnd() % IPCN_STATE_LIVENESS_MAX)};
            if (!in.u.state.has_ext)
                in.u.state.liveness_ms = 0;
            break;
        case IPCN_F_ROUTE: {
            uint8_t k = (uint8_t)(1 + rnd() % IPCN_ROUTE_MAX_PATH);
            for (size_t i = 0; i < (size_t)k * 8; i++)
                blob[i] = (uint8_t)(1 + rnd() % 255); /* no id is 0 */
            in.u.route = (ipcn__route){rnd() | 1, (uint8_t)(rnd() & 3), k,
                                       (int32_t)(rnd() & 0x7fffffff),
                                       a, a.len ? a : (ipcn__str){"h", 1},
                                       b, blob};
            if (!a.len)
                in.u.route.flags |= IPCN_ROUTE_GONE;
            break;
        }
        case IPCN_F_FORWARD: {
            uint8_t k = (uint8_t)(rnd() % (IPCN_FWD_MAX_PATH + 1));
            for (size_t i = 0; i < (size_t)k * 8; i++)
                blob[i] = (uint8_t)(1 + rnd() % 255);
            /* The inner frame is opaque here: a header's worth or more
             * of bytes (a bounce: exactly a header). */
            uint8_t fl = (uint8_t)(rnd() & IPCN_FWD_BOUNCE);
            uint32_t il = IPCN_WIRE_HDR_SIZE + (fl ? 0 : (uint32_t)(rnd() % 64));
            in.u.forward = (ipcn__forward){rnd() | 1, fl, k, blob,
                                           {blob + 200, il}};
            break;
        }
        default:
            in.u.text = a;
            break;
        }
        ipcn__wbuf w = {0};
        assert_int_equal(vec_encode(&w, &in), IPCN_OK);
        ipcn__frame out;
        assert_int_equal(parse(w.p, w.len, &out), IPCN_OK);
        assert_true(vec_frame_eq(&in, &out));
        /* and the decoded frame encodes to the very same bytes */
        ipcn__wbuf w2 = {0};
        assert_int_equal(vec_encode(&w2, &out), IPCN_OK);
        assert_int_equal(w2.len, w.len);
        assert_memory_equal(w2.p, w.p, w.len);
        ipcn__wbuf_free(&w);
        ipcn__wbuf_free(&w2);
    }
}

/* The redundancy extensions (ANNOUNCE strength and flags, REQUEST id,
 * REPLY load): each decodes at its exact size only, with its reserved
 * bytes 0 and its flags valid for the kind; anything else is 200. */
static void test_redundancy_extensions(void **state)
{
    (void)state;
    ipcn__wbuf w = {0};
    ipcn__hdr h = {.version = 1, .ttl = 8};
    ipcn__announce a = {.kind = 2, .version = 1, .path = {"a/b", 3},
                        .encoding = {"", 0}, .has_ext = 1,
                        .flags = IPCN_ANN_OWNED, .strength = -7};
    assert_int_equal(ipcn__enc_announce(&w, &h, &a), IPCN_OK);
    ipcn__frame f;
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_OK);
    assert_true(f.u.announce.has_ext);
    assert_int_equal(f.u.announce.strength, -7);
    assert_int_equal(f.u.announce.flags, IPCN_ANN_OWNED);
    size_t flags_at = w.len - 4;
    w.p[flags_at] = IPCN_ANN_ONCE; /* at most once: a service's only */
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    w.p[flags_at] = 4; /* an unknown flag */
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    w.p[flags_at] = IPCN_ANN_OWNED;
    w.p[w.len - 3] = 1; /* reserved (the last two bytes are the keep) */
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    w.p[w.len - 3] = 0;
    w.p[w.len - 1] = 0x80; /* a keep of 32768: over IPCN_WIRE_KEEP_MAX */
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    w.p[w.len - 1] = 0;
    /* A shorter extension is trailing bytes. */
    w.p[12] = (uint8_t)(w.p[12] - 1); /* the header's len, low byte */
    assert_int_equal(ipcn__frame_decode(w.p, w.len - 1, &f), IPCN_BAD_REQUEST);
    w.len = 0;
    a.kind = 3;
    a.flags = IPCN_ANN_OWNED; /* owned: data and streams only */
    assert_int_equal(ipcn__enc_announce(&w, &h, &a), IPCN_OK);
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    w.len = 0;
    ipcn__request rq = {.path = {"s", 1}, .encoding = {"", 0},
                        .request_id = 0x1122334455667788ull};
    assert_int_equal(ipcn__enc_request(&w, &h, IPCN_F_REQUEST, &rq), IPCN_OK);
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_OK);
    assert_true(f.u.request.request_id == 0x1122334455667788ull);
    memset(w.p + w.len - 8, 0, 8); /* id 0 is "none": not sent */
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    w.len = 0;
    /* A QUERY has no request id: it is not written, nor taken. */
    assert_int_equal(ipcn__enc_request(&w, &h, IPCN_F_QUERY, &rq), IPCN_OK);
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_OK);
    assert_true(f.u.request.request_id == 0);
    w.len = 0;
    /* Its extension is the version asked (HISTORY); version 0 is "none":
     * not sent, and refused on the wire. */
    rq.request_id = 0;
    rq.version = 7;
    assert_int_equal(ipcn__enc_request(&w, &h, IPCN_F_QUERY, &rq), IPCN_OK);
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_OK);
    assert_true(f.u.request.version == 7);
    memset(w.p + w.len - 8, 0, 8);
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    w.len = 0;
    rq.version = 0;
    ipcn__reply rp = {.encoding = {"", 0}, .has_load = 1, .load = 9};
    assert_int_equal(ipcn__enc_reply(&w, &h, IPCN_F_REPLY, &rp), IPCN_OK);
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_OK);
    assert_true(f.u.reply.has_load && f.u.reply.load == 9);
    w.p[w.len - 1] = 1; /* reserved */
    assert_int_equal(ipcn__frame_decode(w.p, w.len, &f), IPCN_BAD_REQUEST);
    ipcn__wbuf_free(&w);
}

static void test_encoder_payload_ceiling(void **state)
{
    (void)state;
    /* SAMPLE overhead: seq 8, stamp 8, path "a" 4, encoding "" 3, blob 4 */
    size_t overhead = 27;
    size_t dn = MAXP - overhead;
    uint8_t *data = calloc(1, dn + 1);
    assert_non_null(data);
    ipcn__sample s = {1, 2, {"a", 1}, {"", 0}, {data, (uint32_t)dn}, {NULL, 0}};
    ipcn__hdr h = {.ttl = 8, .src = 1};
    ipcn__wbuf w = {0};
    ipcn__wbuf_bytes(&w, "prefix", 6);

    assert_int_equal(ipcn__enc_sample(&w, &h, &s), IPCN_OK);
    assert_int_equal(w.len, 6 + IPCN_WIRE_HDR_SIZE + (size_t)MAXP);
    size_t need = 0;
    assert_int_equal(ipcn__frame_check(w.p + 6, w.len - 6, MAXP, &need),
                     IPCN_OK);
    /* a receiver with a lower limit refuses it from the header */
    assert_int_equal(ipcn__frame_check(w.p + 6, 48, MAXP - 1, &need),
                     IPCN_BAD_REQUEST);

    /* One byte more is refused, and the writer is rolled back. */
    w.len = 6;
    s.data.len = (uint32_t)(dn + 1);
    assert_int_equal(ipcn__enc_sample(&w, &h, &s), IPCN_BAD_REQUEST);
    assert_int_equal(w.len, 6);
    assert_int_equal(w.oom, 0);
    assert_memory_equal(w.p, "prefix", 6);
    /* and the writer still works */
    const vec *v = vec_named("ping");
    assert_int_equal(vec_encode(&w, &v->frame), IPCN_OK);
    assert_memory_equal(w.p + 6, v->bytes, v->len);
    ipcn__wbuf_free(&w);
    free(data);
}

/* A string longer than a u16 can say is never truncated: the encoder
 * fails and rolls back. */
static void test_encoder_long_string(void **state)
{
    (void)state;
    size_t n = (size_t)UINT16_MAX + 1;
    char *p = malloc(n + 1);
    assert_non_null(p);
    memset(p, 'x', n);
    p[n] = 0;
    ipcn__hdr h = {.ttl = 8, .src = 1};
    ipcn__wbuf w = {0};
    ipcn__wbuf_bytes(&w, "ab", 2);
    assert_int_not_equal(ipcn__enc_text(&w, &h, IPCN_F_BYE, p, n), IPCN_OK);
    assert_int_equal(w.len, 2);
    assert_int_equal(w.oom, 0);
    assert_int_equal(ipcn__enc_text(&w, &h, IPCN_F_BYE, p, n - 1), IPCN_OK);
    ipcn__frame f;
    assert_int_equal(parse(w.p + 2, w.len - 2, &f), IPCN_OK);
    assert_int_equal(f.u.text.len, UINT16_MAX);
    ipcn__wbuf_free(&w);
    free(p);

    ipcn__str s = ipcn__str_of(NULL);
    assert_int_equal(s.len, 0);
    assert_string_equal(s.p, "");
    s = ipcn__str_of("abc");
    assert_int_equal(s.len, 3);
    ipcn__blob b = ipcn__blob_of("xyz", 3);
    assert_int_equal(b.len, 3);
}

/* ---- out of memory ---- */

static int fail_countdown; /* the Nth allocation fails; 0: none fails */
static int allocs;

static int should_fail(void)
{
    allocs++;
    return fail_countdown > 0 && --fail_countdown == 0;
}
static void *t_malloc(size_t n) { return should_fail() ? NULL : malloc(n); }
static void *t_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}
static void t_free(void *p) { free(p); }

/* Fail the Nth allocation of each encoder, N = 1, 2, ... until it gets
 * through: a failure gives 307 and leaves the writer as it was before the
 * call, with the frames already in it intact. */
static void test_encoder_oom_rollback(void **state)
{
    (void)state;
    assert_int_equal(ipcn_set_allocator(t_malloc, t_realloc, t_free),
                     IPCN_OK);
    static uint8_t big[3000];
    memset(big, 'x', sizeof big);
    for (size_t i = 0; i < VEC_COUNT; i++) {
        const vec *v = &vecs[i];
        for (int prefill = 0; prefill < 2; prefill++) {
            int done = 0;
            for (int nth = 1; !done; nth++) {
                assert_true(nth < 10);
                ipcn__wbuf w = {0};
                fail_countdown = 0;
                /* a frame already queued, filling most of the first
                 * 256 bytes so that the next frame must grow the buffer */
                if (prefill) {
                    ipcn__hdr h = {.ttl = 8, .src = 5};
                    assert_int_equal(ipcn__enc_text(&w, &h, IPCN_F_BYE,
                                                    (char *)big, 200),
                                     IPCN_OK);
                }
                size_t before = w.len;
                uint8_t *copy = before ? malloc(before) : NULL;
                if (before)
                    memcpy(copy, w.p, before);
                allocs = 0;
                fail_countdown = nth;
                int st = vec_encode(&w, &v->frame);
                fail_countdown = 0;
                if (st == IPCN_OK) {
                    assert_true(allocs < nth);
                    assert_int_equal(w.len, before + v->len);
                    assert_memory_equal(w.p + before, v->bytes, v->len);
                    done = 1;
                } else {
                    assert_int_equal(st, IPCN_INSUFFICIENT_MEMORY);
                    assert_int_equal(w.len, before);
                    assert_int_equal(w.oom, 0);
                    if (before)
                        assert_memory_equal(w.p, copy, before);
                    /* the same writer works once memory is back */
                    assert_int_equal(vec_encode(&w, &v->frame), IPCN_OK);
                    assert_memory_equal(w.p + before, v->bytes, v->len);
                }
                free(copy);
                ipcn__wbuf_free(&w);
            }
        }
    }
    /* A large frame on top of several small ones. */
    for (int nth = 1; nth < 4; nth++) {
        ipcn__wbuf w = {0};
        for (size_t i = 0; i < VEC_COUNT; i++)
            assert_int_equal(vec_encode(&w, &vecs[i].frame), IPCN_OK);
        size_t before = w.len;
        ipcn__sample s = {1, 2, {"p", 1}, {"", 0}, {big, sizeof big}, {NULL, 0}};
        ipcn__hdr h = {.ttl = 8, .src = 1};
        fail_countdown = nth;
        int st = ipcn__enc_sample(&w, &h, &s);
        fail_countdown = 0;
        if (st != IPCN_OK) {
            assert_int_equal(st, IPCN_INSUFFICIENT_MEMORY);
            assert_int_equal(w.len, before);
        }
        size_t pos = 0;
        for (size_t i = 0; i < VEC_COUNT; i++) {
            assert_memory_equal(w.p + pos, vecs[i].bytes, vecs[i].len);
            pos += vecs[i].len;
        }
        ipcn__wbuf_free(&w);
    }
    assert_int_equal(ipcn_set_allocator(NULL, NULL, NULL), IPCN_OK);
    assert_int_equal(ipcn_set_allocator(t_malloc, NULL, t_free),
                     IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_encode),
        cmocka_unit_test(test_vectors_decode),
        cmocka_unit_test(test_decoded_strings_point_into_frame),
        cmocka_unit_test(test_stream_byte_by_byte),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_payload),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_flags_and_reserved),
        cmocka_unit_test(test_ttl_hops_status_pass),
        cmocka_unit_test(test_payload_limit),
        cmocka_unit_test(test_every_flip_refused),
        cmocka_unit_test(test_checksum_definition),
        cmocka_unit_test(test_no_sum_queue),
        cmocka_unit_test(test_decode_frame_len_mismatch),
        cmocka_unit_test(test_truncated_and_trailing_bodies),
        cmocka_unit_test(test_quarantine_bounds),
        cmocka_unit_test(test_state_bounds),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_announce_kind),
        cmocka_unit_test(test_hello_reserved),
        cmocka_unit_test(test_ring_body),
        cmocka_unit_test(test_ping_sizes),
        cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_withheld_layout),
        cmocka_unit_test(test_redundancy_extensions),
        cmocka_unit_test(test_encoder_payload_ceiling),
        cmocka_unit_test(test_encoder_long_string),
        cmocka_unit_test(test_encoder_oom_rollback),
        cmocka_unit_test(test_shm_request_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

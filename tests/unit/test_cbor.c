/* SPDX-License-Identifier: MIT */
/*
 * test_cbor.c — the CBOR codec (src/value/cbor.c, cbor_tree.c): RFC 8949
 * Appendix A examples decode to the RFC's values and re-encode to the
 * RFC's bytes where those are the shortest form; Appendix F's malformed
 * items are rejected by every entry point; the reader's walk, depth limit
 * and strictness; the writer (overflow and the size needed, shortest
 * forms, structure checks); deterministic encoding, checked and produced;
 * the tree (allocation bound, out of memory, copies).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../value/cbor_render.h"
#include "cbor_vectors.h"
#include "util/util.h"
#include "value/value.h"

typedef struct bytes {
    uint8_t p[512];
    size_t n;
} bytes;

static bytes hex(const char *h)
{
    bytes b;
    b.n = cr_unhex(h, b.p, sizeof b.p);
    assert_true(b.n <= sizeof b.p);
    return b;
}

/* An exact-size heap copy, so that ASan sees any read past the end. */
static uint8_t *dup_exact(const bytes *b)
{
    uint8_t *p = malloc(b->n ? b->n : 1);
    assert_non_null(p);
    memcpy(p, b->p, b->n);
    return p;
}

static char *to_hex(const uint8_t *p, size_t n)
{
    cr_buf b = {0};
    cr_puts(&b, "");
    cr_hex(&b, p, n);
    return b.p;
}

#define ASSERT_BYTES(got, n, want_hex)                                       \
    do {                                                                     \
        bytes w_ = hex(want_hex);                                            \
        char *g_ = to_hex((got), (n));                                       \
        if ((n) != w_.n || memcmp((got), w_.p, w_.n) != 0)                   \
            fail_msg("got %s, want %s", g_, want_hex);                       \
        free(g_);                                                            \
    } while (0)

/* ---- Appendix A ---- */

static int has_indefinite(const uint8_t *p, size_t n)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    ipcn_cbor_reader_init(&r, p, n, 0);
    while (ipcn_cbor_next(&r, &v) == IPCN_OK)
        if (v.indefinite)
            return 1;
    return 0;
}

static void test_appendix_a_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(cbor_appendix_a); i++) {
        const cbor_vec *v = &cbor_appendix_a[i];
        bytes b = hex(v->hex);
        uint8_t *in = dup_exact(&b);
        assert_int_equal(ipcn_cbor_check(in, b.n, 0), IPCN_OK);
        ipcn_cbor_item *t = NULL;
        int st = ipcn_cbor_tree_decode(in, b.n, 0, &t);
        if (st != IPCN_OK)
            fail_msg("%s: tree_decode %d", v->hex, st);
        char *diag = cr_render(t, CR_DIAG);
        if (strcmp(diag, v->diag) != 0)
            fail_msg("%s decodes to %s, the RFC says %s", v->hex, diag,
                     v->diag);
        free(diag);

        /* Re-encoding, in the default mode, keeps each float's width: so
         * every definite-length example comes back byte for byte. */
        uint8_t out[512];
        ipcn_cbor_writer w;
        size_t n = 0;
        ipcn_cbor_writer_init(&w, out, sizeof out, 0);
        ipcn_cbor_tree_encode(&w, t);
        assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
        if (!has_indefinite(in, b.n))
            ASSERT_BYTES(out, n, v->hex);

        /* Deterministic: the shortest examples pass the check and are
         * their own canonical form; the others are not deterministic. */
        int det = ipcn_cbor_check(in, b.n, IPCN_CBOR_DETERMINISTIC);
        st = ipcn_cbor_canonicalize(in, b.n, out, sizeof out, &n);
        assert_int_equal(st, IPCN_OK);
        if (v->shortest) {
            if (det != IPCN_OK)
                fail_msg("%s: not deterministic?", v->hex);
            ASSERT_BYTES(out, n, v->hex);
        } else {
            assert_int_equal(det, IPCN_BAD_REQUEST);
            /* the canonical form is the tree written deterministically,
             * and is deterministic */
            uint8_t det_out[512];
            size_t dn = 0;
            ipcn_cbor_writer_init(&w, det_out, sizeof det_out,
                                  IPCN_CBOR_DETERMINISTIC);
            ipcn_cbor_tree_encode(&w, t);
            assert_int_equal(ipcn_cbor_writer_finish(&w, &dn), IPCN_OK);
            assert_int_equal(dn, n);
            assert_memory_equal(det_out, out, n);
            ipcn_cbor_item *c = NULL;
            assert_int_equal(ipcn_cbor_check(out, n, IPCN_CBOR_DETERMINISTIC),
                             IPCN_OK);
            assert_int_equal(ipcn_cbor_tree_decode(out, n, 0, &c), IPCN_OK);
            ipcn_cbor_tree_free(c);
        }
        ipcn_cbor_tree_free(t);
        free(in);
    }
}

/* The examples' other readings: integers, floats, strings by the cursor. */
static void test_appendix_a_values(void **state)
{
    (void)state;
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int64_t i64;
    bytes b = hex("3903e7");
    ipcn_cbor_reader_init(&r, b.p, b.n, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(v.type, IPCN_CBOR_NEGINT);
    assert_int_equal(ipcn_cbor_value_int64(&v, &i64), IPCN_OK);
    assert_int_equal(i64, -1000);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_NO_DATA);

    b = hex("3bffffffffffffffff"); /* -2^64 does not fit an int64 */
    ipcn_cbor_reader_init(&r, b.p, b.n, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(ipcn_cbor_value_int64(&v, &i64), IPCN_BAD_REQUEST);
    b = hex("3b7fffffffffffffff"); /* INT64_MIN does */
    ipcn_cbor_reader_init(&r, b.p, b.n, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(ipcn_cbor_value_int64(&v, &i64), IPCN_OK);
    assert_true(i64 == INT64_MIN);

    static const struct {
        const char *hex;
        double f;
        int bits;
    } floats[] = {
        {"f90001", 5.960464477539063e-08, 16},
        {"f903ff", 6.097555160522461e-05, 16}, /* the largest subnormal */
        {"f90400", 6.103515625e-05, 16},
        {"f97bff", 65504.0, 16},
        {"fa47c35000", 100000.0, 32},
        {"fa7f7fffff", 3.4028234663852886e+38, 32},
        {"fb3ff199999999999a", 1.1, 64},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(floats); i++) {
        b = hex(floats[i].hex);
        ipcn_cbor_reader_init(&r, b.p, b.n, 0);
        assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
        assert_int_equal(v.type, IPCN_CBOR_FLOAT);
        assert_int_equal(v.float_bits, floats[i].bits);
        assert_true(v.f == floats[i].f);
    }

    /* a text string is a view into the buffer */
    b = hex("6449455446");
    ipcn_cbor_reader_init(&r, b.p, b.n, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_ptr_equal(v.ptr, b.p + 1);
    assert_int_equal(v.len, 4);
}

/* ---- Appendix F ---- */

static void test_appendix_f_rejected(void **state)
{
    (void)state;
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(cbor_appendix_f); i++) {
        bytes b = hex(cbor_appendix_f[i]);
        uint8_t *in = dup_exact(&b);
        static const uint32_t modes[] = {0, IPCN_CBOR_DETERMINISTIC,
                                         IPCN_CBOR_SEQUENCE};
        for (size_t m = 0; m < IPCN__ARRAY_SIZE(modes); m++)
            if (ipcn_cbor_check(in, b.n, modes[m]) != IPCN_BAD_REQUEST)
                fail_msg("accepted %s (flags %u)", cbor_appendix_f[i],
                         modes[m]);
        ipcn_cbor_item *t = NULL;
        assert_int_equal(ipcn_cbor_tree_decode(in, b.n, 0, &t),
                         IPCN_BAD_REQUEST);
        assert_null(t);
        uint8_t out[64];
        size_t n = 12345;
        assert_int_equal(ipcn_cbor_canonicalize(in, b.n, out, sizeof out, &n),
                         IPCN_BAD_REQUEST);
        assert_int_equal(n, 12345);
        ipcn_tensor ts;
        assert_int_not_equal(ipcn_tensor_decode(in, b.n, 0, &ts), IPCN_OK);
        /* the error is sticky */
        ipcn_cbor_reader r;
        ipcn_cbor_value v;
        ipcn_cbor_reader_init(&r, in, b.n, 0);
        int st;
        while ((st = ipcn_cbor_next(&r, &v)) == IPCN_OK)
            ;
        assert_int_equal(st, IPCN_BAD_REQUEST);
        assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_BAD_REQUEST);
        assert_int_equal(ipcn_cbor_peek(&r, &v), IPCN_BAD_REQUEST);
        free(in);
    }
}

/* ---- the reader ---- */

static void test_reader_walk(void **state)
{
    (void)state;
    /* [_ 1, [2, 3], [_ 4, 5]] */
    bytes b = hex("9f018202039f0405ffff");
    static const struct {
        ipcn_cbor_type type;
        int depth;
        uint64_t u;
        int indef;
    } want[] = {
        {IPCN_CBOR_ARRAY, 0, 0, 1}, {IPCN_CBOR_UINT, 1, 1, 0},
        {IPCN_CBOR_ARRAY, 1, 0, 0}, {IPCN_CBOR_UINT, 2, 2, 0},
        {IPCN_CBOR_UINT, 2, 3, 0},  {IPCN_CBOR_ARRAY, 1, 0, 1},
        {IPCN_CBOR_UINT, 2, 4, 0},  {IPCN_CBOR_UINT, 2, 5, 0},
        {IPCN_CBOR_BREAK, 2, 0, 0}, {IPCN_CBOR_BREAK, 1, 0, 0},
    };
    ipcn_cbor_reader r;
    ipcn_cbor_value v, p;
    assert_int_equal(ipcn_cbor_reader_init(&r, b.p, b.n, 0), IPCN_OK);
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(want); i++) {
        assert_int_equal(ipcn_cbor_peek(&r, &p), IPCN_OK);
        assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
        assert_int_equal(p.type, v.type);
        assert_int_equal(p.offset, v.offset);
        assert_int_equal(v.type, want[i].type);
        assert_int_equal(v.depth, want[i].depth);
        if (v.indefinite != want[i].indef)
            fail_msg("item %zu: indefinite %d", i, v.indefinite);
        if (v.type == IPCN_CBOR_UINT)
            assert_int_equal(v.u, want[i].u);
    }
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_NO_DATA);
    assert_int_equal(ipcn_cbor_reader_offset(&r), b.n);

    /* skip: the whole [2, 3] and the whole [_ 4, 5] */
    ipcn_cbor_reader_init(&r, b.p, b.n, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(ipcn_cbor_skip(&r, &v), IPCN_OK); /* 1 */
    assert_int_equal(ipcn_cbor_skip(&r, &v), IPCN_OK);
    assert_int_equal(v.type, IPCN_CBOR_ARRAY);
    assert_int_equal(v.count, 2);
    assert_int_equal(ipcn_cbor_skip(&r, &v), IPCN_OK);
    assert_int_equal(v.indefinite, 1);
    assert_int_equal(ipcn_cbor_skip(&r, &v), IPCN_OK);
    assert_int_equal(v.type, IPCN_CBOR_BREAK);
    assert_int_equal(ipcn_cbor_skip(&r, &v), IPCN_NO_DATA);

    /* a map: keys then values; an indefinite string: chunks, break */
    b = hex("a1 7f 62 6b 65 61 79 ff 5f 41 01 ff");
    ipcn_cbor_reader_init(&r, b.p, b.n, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(v.type, IPCN_CBOR_MAP);
    assert_int_equal(v.count, 1);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(v.type, IPCN_CBOR_TEXT);
    assert_true(v.indefinite && v.ptr == NULL);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(v.depth, 2);
    assert_memory_equal(v.ptr, "ke", 2);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_memory_equal(v.ptr, "y", 1);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(v.type, IPCN_CBOR_BREAK);
    assert_int_equal(ipcn_cbor_skip(&r, &v), IPCN_OK); /* the value */
    assert_int_equal(v.type, IPCN_CBOR_BYTES);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_NO_DATA);
}

static void test_reader_modes(void **state)
{
    (void)state;
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    /* one item: nothing may follow, and there must be one */
    assert_int_equal(ipcn_cbor_check("\x01\x02", 2, 0), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_check("", 0, 0), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_check(NULL, 0, 0), IPCN_BAD_REQUEST);
    /* a sequence: zero or more */
    assert_int_equal(ipcn_cbor_check("\x01\x02", 2, IPCN_CBOR_SEQUENCE),
                     IPCN_OK);
    assert_int_equal(ipcn_cbor_check(NULL, 0, IPCN_CBOR_SEQUENCE), IPCN_OK);
    assert_int_equal(ipcn_cbor_check("\x01\x81", 2, IPCN_CBOR_SEQUENCE),
                     IPCN_BAD_REQUEST);
    ipcn_cbor_reader_init(&r, "\x01\x61\x61", 3, IPCN_CBOR_SEQUENCE);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(v.depth, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(v.type, IPCN_CBOR_TEXT);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_NO_DATA);
    /* bad arguments */
    assert_int_equal(ipcn_cbor_reader_init(&r, NULL, 3, 0), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_reader_init(&r, "\x01", 1, 0x80),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_next(NULL, &v), IPCN_BAD_REQUEST);
}

static void test_reader_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "62 c3 28",                   /* invalid UTF-8 */
        "63 ed a0 80",                /* a surrogate */
        "62 c0 80",                   /* overlong */
        "7f 61 ff ff",                /* invalid UTF-8 in a chunk */
        "7f 61 c3 61 bc ff",          /* a character split across chunks */
        "9b ff ff ff ff ff ff ff ff", /* a count the buffer cannot hold */
        "bb 80 00 00 00 00 00 00 00 00 00",
        "5b 80 00 00 00 00 00 00 00 00",
        "7b ff ff ff ff ff ff ff ff",
        "c0 ff",                      /* break as tag content */
        "bf ff ff",                   /* two breaks */
        "a1 01 9f ff ff",
        "01 ff",
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(bad); i++) {
        bytes b = hex(bad[i]);
        uint8_t *in = dup_exact(&b);
        if (ipcn_cbor_check(in, b.n, 0) != IPCN_BAD_REQUEST)
            fail_msg("accepted %s", bad[i]);
        free(in);
    }
    static const char *const good[] = {
        "7f 62 c3 bc 61 61 ff", /* chunks each valid UTF-8 */
        "7f ff",                /* no chunks at all */
        "5f 40 40 ff",          /* empty chunks */
        "bf ff", "9f 9f ff ff", "c1 c2 c3 00",
        "f8 20",                /* simple(32), the first two-byte one */
        "e0", "f3",             /* simple(0), simple(19) */
        "f9 7e 01",             /* a NaN with a payload (not deterministic) */
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(good); i++) {
        bytes b = hex(good[i]);
        uint8_t *in = dup_exact(&b);
        if (ipcn_cbor_check(in, b.n, 0) != IPCN_OK)
            fail_msg("rejected %s", good[i]);
        free(in);
    }
}

/* Nesting: 64 levels are accepted, 65 are not, whatever opens them. */
static void test_reader_depth(void **state)
{
    (void)state;
    static const uint8_t openers[] = {0x81, 0x9f, 0xc1, 0xa1};
    for (size_t k = 0; k < IPCN__ARRAY_SIZE(openers); k++) {
        for (int levels = IPCN_CBOR_MAX_DEPTH; levels <= IPCN_CBOR_MAX_DEPTH + 1;
             levels++) {
            uint8_t buf[4 * (IPCN_CBOR_MAX_DEPTH + 2)];
            size_t n = 0;
            for (int i = 0; i < levels; i++) {
                if (openers[k] == 0xa1)
                    buf[n++] = 0xa1, buf[n++] = 0x00; /* {0: {0: ...}} */
                else
                    buf[n++] = openers[k];
            }
            buf[n++] = 0x00;
            if (openers[k] == 0x9f)
                for (int i = 0; i < levels; i++)
                    buf[n++] = 0xff;
            int want = levels <= IPCN_CBOR_MAX_DEPTH ? IPCN_OK
                                                     : IPCN_BAD_REQUEST;
            if (ipcn_cbor_check(buf, n, 0) != want)
                fail_msg("opener %02x, %d levels: want %d", openers[k], levels,
                         want);
            ipcn_cbor_item *t = NULL;
            assert_int_equal(ipcn_cbor_tree_decode(buf, n, 0, &t), want);
            if (t) { /* and the tree writes back */
                uint8_t out[sizeof buf];
                ipcn_cbor_writer w;
                size_t len;
                ipcn_cbor_writer_init(&w, out, sizeof out, 0);
                ipcn_cbor_tree_encode(&w, t);
                assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
                ipcn_cbor_tree_free(t);
            }
        }
    }
    /* a hand-built tree deeper than the limit is refused, not recursed */
    ipcn_cbor_item chain[IPCN_CBOR_MAX_DEPTH + 2];
    for (int i = 0; i < IPCN_CBOR_MAX_DEPTH + 2; i++) {
        memset(&chain[i], 0, sizeof chain[i]);
        chain[i].type = IPCN_CBOR_ARRAY;
        chain[i].count = 1;
        chain[i].items = &chain[i + 1];
    }
    chain[IPCN_CBOR_MAX_DEPTH + 1].type = IPCN_CBOR_NULL;
    chain[IPCN_CBOR_MAX_DEPTH + 1].count = 0;
    chain[IPCN_CBOR_MAX_DEPTH + 1].items = NULL;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    assert_int_equal(ipcn_cbor_tree_encode(&w, chain), IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    assert_int_not_equal(ipcn_cbor_tree_encode(&w, &chain[2]),
                         IPCN_BAD_REQUEST);
}

/* ---- the writer ---- */

static void test_writer_types(void **state)
{
    (void)state;
    uint8_t buf[256];
    ipcn_cbor_writer w;
    size_t n;
    assert_int_equal(ipcn_cbor_writer_init(&w, buf, sizeof buf, 0), IPCN_OK);
    ipcn_cbor_put_array(&w, 19);
    ipcn_cbor_put_uint(&w, 0);
    ipcn_cbor_put_uint(&w, 24);
    ipcn_cbor_put_uint(&w, 0x100);
    ipcn_cbor_put_uint(&w, 0x10000);
    ipcn_cbor_put_uint(&w, 0x100000000ull);
    ipcn_cbor_put_int(&w, -1);
    ipcn_cbor_put_int(&w, INT64_MIN);
    ipcn_cbor_put_negint(&w, UINT64_MAX);
    ipcn_cbor_put_bytes(&w, "\x01\x02", 2);
    ipcn_cbor_put_cstr(&w, "\xc3\xbc");
    ipcn_cbor_put_map(&w, 0);
    ipcn_cbor_put_tag(&w, 32);
    ipcn_cbor_put_cstr(&w, "");
    ipcn_cbor_put_bool(&w, 1);
    ipcn_cbor_put_null(&w);
    ipcn_cbor_put_undefined(&w);
    ipcn_cbor_put_simple(&w, 16);
    ipcn_cbor_put_simple(&w, 255);
    ipcn_cbor_put_float(&w, 1.5);
    assert_int_equal(ipcn_cbor_put_float(&w, 100000.0), IPCN_OK);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    ASSERT_BYTES(buf, n,
                 "93 00 1818 190100 1a00010000 1b0000000100000000 20"
                 " 3b7fffffffffffffff 3bffffffffffffffff 420102 62c3bc a0"
                 " d820 60 f5 f6 f7 f0 f8ff f93e00 fa47c35000");
    assert_int_equal(ipcn_cbor_check(buf, n, 0), IPCN_OK);

    /* floats: the shortest exact form; forced widths */
    static const struct {
        double v;
        const char *hex;
    } fl[] = {
        {0.0, "f90000"},        {-0.0, "f98000"},
        {1.0, "f93c00"},        {65504.0, "f97bff"},
        {65505.0, "fa477fe100"}, {5.960464477539063e-08, "f90001"},
        {1.1, "fb3ff199999999999a"}, {1e300, "fb7e37e43c8800759c"},
        {1.0 / 0.0, "f97c00"},  {-1.0 / 0.0, "f9fc00"},
        {3.4028234663852886e+38, "fa7f7fffff"},
        {2.9802322387695312e-08, "fa33000000"}, /* half of the smallest
                                                   half subnormal */
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(fl); i++) {
        ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
        ipcn_cbor_put_float(&w, fl[i].v);
        assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
        ASSERT_BYTES(buf, n, fl[i].hex);
    }
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_float_bits(&w, 1.0, 64);
    ipcn_cbor_put_float_bits(&w, 1.0 / 0.0, 32);
    ipcn_cbor_writer_finish(&w, &n);
    ASSERT_BYTES(buf, n, "fb3ff0000000000000 fa7f800000");
    /* NaNs keep their payload when a shorter form holds it */
    double nan_payload;
    uint64_t nb = 0x7ff8000000000000ull | (1ull << 42);
    memcpy(&nan_payload, &nb, sizeof nan_payload);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_float(&w, nan_payload);
    ipcn_cbor_writer_finish(&w, &n);
    ASSERT_BYTES(buf, n, "f97e01");
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_float(&w, nan_payload);
    ipcn_cbor_writer_finish(&w, &n);
    ASSERT_BYTES(buf, n, "f97e00");

    /* bytes reserved and filled in place */
    uint8_t *slot = NULL;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_bytes_reserve(&w, 3, &slot), IPCN_OK);
    assert_ptr_equal(slot, buf + 1);
    memcpy(slot, "abc", 3);
    ipcn_cbor_writer_finish(&w, &n);
    ASSERT_BYTES(buf, n, "43616263");
    /* an encoded item copied in */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_array(&w, 2);
    assert_int_equal(ipcn_cbor_put_encoded(&w, "\x82\x01\x02", 3), IPCN_OK);
    assert_int_equal(ipcn_cbor_put_encoded(&w, "\x82\x01", 2),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_BAD_REQUEST);
}

static void test_writer_errors(void **state)
{
    (void)state;
    uint8_t buf[64];
    ipcn_cbor_writer w;
    size_t n = 777;
    /* invalid UTF-8, reserved simple values, bad arguments: 200, sticky */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_text(&w, "\xc3\x28", 2), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_put_uint(&w, 1), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_BAD_REQUEST);
    assert_int_equal(n, 777);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_simple(&w, 24), IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_simple(&w, 256), IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_float_bits(&w, 1.1, 32), IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_float_bits(&w, 1.0, 8), IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_bytes(&w, NULL, 1), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_writer_init(&w, NULL, 5, 0), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_put_uint(&w, 1), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_writer_init(&w, buf, 5, 0x100),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_put_uint(NULL, 1), IPCN_BAD_REQUEST);
    /* an unfinished array or tag */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_array(&w, 2);
    ipcn_cbor_put_uint(&w, 1);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_tag(&w, 1);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_BAD_REQUEST);
    /* too deep */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    for (int i = 0; i < IPCN_CBOR_MAX_DEPTH; i++)
        assert_int_equal(ipcn_cbor_put_array(&w, 1), IPCN_OK);
    assert_int_equal(ipcn_cbor_put_tag(&w, 1), IPCN_BAD_REQUEST);
    /* a top-level sequence is fine */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_uint(&w, 1);
    ipcn_cbor_put_uint(&w, 2);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    assert_int_equal(n, 2);
}

/* Overflow: the writer keeps counting; finish says how much is needed;
 * a second pass with that much writes the same bytes. */
static void test_writer_overflow(void **state)
{
    (void)state;
    for (size_t cap = 0; cap <= 40; cap++) {
        uint8_t *buf = malloc(cap ? cap : 1);
        ipcn_cbor_writer w;
        size_t n = 0;
        ipcn_cbor_writer_init(&w, cap ? buf : NULL, cap, 0);
        ipcn_cbor_put_map(&w, 2);
        ipcn_cbor_put_cstr(&w, "name");
        ipcn_cbor_put_cstr(&w, "camera/front");
        ipcn_cbor_put_cstr(&w, "data");
        uint8_t *slot;
        ipcn_cbor_put_bytes_reserve(&w, 10, &slot);
        if (slot)
            memset(slot, 0xab, 10);
        int st = ipcn_cbor_writer_finish(&w, &n);
        assert_int_equal(n, 1 + 5 + 13 + 5 + 11);
        assert_int_equal(st, cap >= n ? IPCN_OK : IPCN_INSUFFICIENT_STORAGE);
        if (st == IPCN_OK)
            assert_int_equal(ipcn_cbor_check(buf, n, 0), IPCN_OK);
        free(buf);
    }
}

/* ---- deterministic encoding ---- */

static int fail_alloc;
static void *failing_malloc(size_t n)
{
    return fail_alloc ? NULL : malloc(n);
}

static void test_deterministic_check(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        int ok;
    } v[] = {
        {"17", 1},
        {"1817", 0},               /* not the shortest head */
        {"190017", 0},
        {"1a0000ffff", 0},
        {"1b00000000ffffffff", 0},
        {"1b0000000100000000", 1},
        {"3817", 0},
        {"5800", 0},
        {"780161", 0},
        {"9800", 0},
        {"b800", 0},
        {"d81701", 0},             /* a tag's head too */
        {"9fff", 0},               /* indefinite */
        {"5f40ff", 0},
        {"f93e00", 1},
        {"fa3fc00000", 0},         /* 1.5 as single */
        {"fb3ff8000000000000", 0}, /* 1.5 as double */
        {"fa47c35000", 1},
        {"fb40f86a0000000000", 0}, /* 100000.0 as double */
        {"f97e00", 1},
        {"f97e01", 0},             /* NaN other than 7e00 */
        {"f9fe00", 0},
        {"fa7fc00000", 0},
        {"fa7f800000", 0},         /* infinity as single */
        {"f98000", 1},
        {"a2 01 00 02 00", 1},
        {"a2 02 00 01 00", 0},     /* unsorted */
        {"a2 01 00 01 00", 0},     /* duplicate */
        {"a2 18 64 00 20 00", 1},  /* 100 before -1: bytewise, not length */
        {"a2 20 00 18 64 00", 0},  /* -1 before 100 (RFC 7049 canonical) */
        {"a2 61 62 00 62 61 61 00", 1}, /* "b" before "aa" */
        {"a2 62 61 61 00 61 62 00", 0},
        {"a2 41 61 00 61 61 00", 1},    /* h'61' before "a" */
        {"a2 81 00 00 81 01 00", 1},    /* [0] before [1] */
        {"a2 81 01 00 81 00 00", 0},
        {"a1 a2 01 00 02 00 00", 1},    /* map keys: a map key */
        {"a1 a2 02 00 01 00 00", 0},    /* unsorted inside a key */
        {"81 a2 02 00 01 00", 0},       /* nested map */
        {"a2 01 a2 02 00 01 00 02 00", 0},
        {"f820", 1},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(v); i++) {
        bytes b = hex(v[i].hex);
        uint8_t *in = dup_exact(&b);
        assert_int_equal(ipcn_cbor_check(in, b.n, 0), IPCN_OK);
        int st = ipcn_cbor_check(in, b.n, IPCN_CBOR_DETERMINISTIC);
        if (st != (v[i].ok ? IPCN_OK : IPCN_BAD_REQUEST))
            fail_msg("%s: deterministic check %d", v[i].hex, st);
        ipcn_cbor_item *t = NULL;
        assert_int_equal(
            ipcn_cbor_tree_decode(in, b.n, IPCN_CBOR_DETERMINISTIC, &t),
            v[i].ok ? IPCN_OK : IPCN_BAD_REQUEST);
        ipcn_cbor_tree_free(t);
        free(in);
    }
}

static void test_deterministic_write(void **state)
{
    (void)state;
    uint8_t buf[256];
    ipcn_cbor_writer w;
    size_t n;
    /* {"b": 1, "a": 2, 3: {"z": 0, "y": [1]}, -1: h''} */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_map(&w, 4);
    ipcn_cbor_put_cstr(&w, "b");
    ipcn_cbor_put_uint(&w, 1);
    ipcn_cbor_put_cstr(&w, "a");
    ipcn_cbor_put_uint(&w, 2);
    ipcn_cbor_put_uint(&w, 3);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "z");
    ipcn_cbor_put_uint(&w, 0);
    ipcn_cbor_put_cstr(&w, "y");
    ipcn_cbor_put_array(&w, 1);
    ipcn_cbor_put_uint(&w, 1);
    ipcn_cbor_put_int(&w, -1);
    ipcn_cbor_put_bytes(&w, NULL, 0);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    ASSERT_BYTES(buf, n,
                 "a4 03 a2 6179 8101 617a 00 20 40 6161 02 6162 01");
    assert_int_equal(ipcn_cbor_check(buf, n, IPCN_CBOR_DETERMINISTIC),
                     IPCN_OK);

    /* keys in reverse order, many of them: the rotation sort */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_map(&w, 30);
    for (int k = 29; k >= 0; k--) {
        ipcn_cbor_put_int(&w, k % 2 ? -k : k * 100);
        ipcn_cbor_put_int(&w, k);
    }
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    assert_int_equal(ipcn_cbor_check(buf, n, IPCN_CBOR_DETERMINISTIC),
                     IPCN_OK);
    ipcn_cbor_item *t = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(buf, n, 0, &t), IPCN_OK);
    assert_int_equal(t->count, 30);
    for (uint64_t i = 0; i < 30; i++) { /* each value still with its key */
        int64_t k = (int64_t)t->items[2 * i + 1].u;
        const ipcn_cbor_item *key = &t->items[2 * i];
        if (k % 2)
            assert_true(key->type == IPCN_CBOR_NEGINT &&
                        key->u == (uint64_t)(k - 1));
        else
            assert_true(key->type == IPCN_CBOR_UINT &&
                        key->u == (uint64_t)(k * 100));
    }
    ipcn_cbor_tree_free(t);

    /* two equal keys */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_map(&w, 3);
    ipcn_cbor_put_cstr(&w, "a");
    ipcn_cbor_put_uint(&w, 1);
    ipcn_cbor_put_cstr(&w, "b");
    ipcn_cbor_put_uint(&w, 1);
    ipcn_cbor_put_cstr(&w, "a");
    assert_int_equal(ipcn_cbor_put_uint(&w, 2), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_BAD_REQUEST);
    /* a reserved string that completes a map the writer then sorts: the
     * pointer follows the bytes (two levels of maps move here) */
    uint8_t *slot = NULL;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "z");
    ipcn_cbor_put_uint(&w, 0);
    ipcn_cbor_put_cstr(&w, "m");
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "b");
    ipcn_cbor_put_uint(&w, 1);
    ipcn_cbor_put_cstr(&w, "a");
    assert_int_equal(ipcn_cbor_put_bytes_reserve(&w, 3, &slot), IPCN_OK);
    assert_non_null(slot);
    memcpy(slot, "xyz", 3);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    ASSERT_BYTES(buf, n, "a2 616d a2 6161 43 78797a 6162 01 617a 00");
    /* ... but it cannot be a key there */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_map(&w, 1);
    assert_int_equal(ipcn_cbor_put_bytes_reserve(&w, 3, &slot),
                     IPCN_BAD_REQUEST);
    assert_null(slot);
    /* a deterministic writer ignores a forced float width */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_float_bits(&w, 1.0, 64);
    ipcn_cbor_writer_finish(&w, &n);
    ASSERT_BYTES(buf, n, "f93c00");
    /* put_encoded refuses what is not deterministic */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    assert_int_equal(ipcn_cbor_put_encoded(&w, "\x18\x01", 2),
                     IPCN_BAD_REQUEST);
    /* measuring a deterministic map (no sort possible) gives the size */
    ipcn_cbor_writer_init(&w, NULL, 0, IPCN_CBOR_DETERMINISTIC);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "b");
    ipcn_cbor_put_uint(&w, 1);
    ipcn_cbor_put_cstr(&w, "a");
    ipcn_cbor_put_uint(&w, 1);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(n, 7);
}

/* Big maps are sorted through an index; without memory, in place: the
 * same bytes either way, equal keys found either way, a reserved string
 * followed either way. */
static void test_deterministic_sort_paths(void **state)
{
    (void)state;
    enum { K = 300 };
    static uint8_t out[2][8192];
    size_t n[2];
    uint8_t *slot[2];
    for (int path = 0; path < 2; path++) {
        if (path == 1) {
            ipcn_set_allocator(failing_malloc, realloc, free);
            fail_alloc = 1;
        }
        ipcn_cbor_writer w;
        ipcn_cbor_writer_init(&w, out[path], sizeof out[path],
                              IPCN_CBOR_DETERMINISTIC);
        ipcn_cbor_put_map(&w, K);
        for (int i = 0; i < K; i++) {
            int k = (i * 7919) % K; /* a permutation */
            if (k % 3 == 0)
                ipcn_cbor_put_int(&w, -k);
            else
                ipcn_cbor_put_uint(&w, (uint64_t)k * 1000);
            if (i == K - 1) {
                ipcn_cbor_put_bytes_reserve(&w, 4, &slot[path]);
                assert_non_null(slot[path]);
                memcpy(slot[path], "LAST", 4);
            } else {
                ipcn_cbor_put_uint(&w, (uint64_t)k);
            }
        }
        assert_int_equal(ipcn_cbor_writer_finish(&w, &n[path]), IPCN_OK);
        assert_int_equal(ipcn_cbor_check(out[path], n[path],
                                         IPCN_CBOR_DETERMINISTIC),
                         IPCN_OK);
        /* equal keys */
        ipcn_cbor_writer_init(&w, out[path] + 4096, 4096,
                              IPCN_CBOR_DETERMINISTIC);
        ipcn_cbor_put_map(&w, 40);
        for (int i = 0; i < 40; i++) {
            ipcn_cbor_put_uint(&w, (uint64_t)(40 - i) % 39);
            ipcn_cbor_put_null(&w);
        }
        assert_int_equal(ipcn_cbor_writer_finish(&w, NULL), IPCN_BAD_REQUEST);
        if (path == 1) {
            fail_alloc = 0;
            ipcn_set_allocator(NULL, NULL, NULL);
        }
    }
    assert_int_equal(n[0], n[1]);
    assert_memory_equal(out[0], out[1], n[0]);
    assert_int_equal(slot[0] - out[0], slot[1] - out[1]);
    assert_memory_equal(slot[0], "LAST", 4);
}

/* A big map in reverse order costs O(k log k), not O(k^2). */
static void test_deterministic_big_map(void **state)
{
    (void)state;
    enum { K = 200000 };
    size_t cap = (size_t)K * 16 + 16;
    uint8_t *in = malloc(cap), *out = malloc(cap);
    ipcn_cbor_writer w;
    size_t n, m;
    ipcn_cbor_writer_init(&w, in, cap, 0);
    ipcn_cbor_put_map(&w, K);
    for (uint64_t i = K; i-- > 0;) {
        ipcn_cbor_put_uint(&w, i * 65537);
        ipcn_cbor_put_uint(&w, i);
    }
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    uint64_t t0 = ipcn__now_mono_ns();
    assert_int_equal(ipcn_cbor_canonicalize(in, n, out, cap, &m), IPCN_OK);
    uint64_t ms = (ipcn__now_mono_ns() - t0) / 1000000;
    assert_int_equal(m, n);
    assert_int_equal(ipcn_cbor_check(out, m, IPCN_CBOR_DETERMINISTIC),
                     IPCN_OK);
    if (ms > 5000)
        fail_msg("sorting %d keys took %" PRIu64 " ms", K, ms);
    free(in);
    free(out);
}

static void test_canonicalize(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } v[] = {
        {"1817", "17"},
        {"9f01ff", "8101"},
        {"fb3ff8000000000000", "f93e00"},
        {"fa7fc00001", "f97e00"},
        {"bf 61 62 01 61 61 02 ff", "a2 6161 02 6162 01"},
        {"5f 41 01 41 02 ff", "42 0102"},
        {"7f ff", "60"},
        {"d9 0001 9f bf ff ff", "c1 81 a0"},
        {"a2 1a00000001 00 20 00", "a2 01 00 20 00"},
        {"a1 5f 41 61 ff 9f 18 01 ff", "a1 41 61 81 01"},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(v); i++) {
        bytes b = hex(v[i].in);
        uint8_t *in = dup_exact(&b);
        uint8_t out[64];
        size_t n = 0;
        assert_int_equal(ipcn_cbor_canonicalize(in, b.n, out, sizeof out, &n),
                         IPCN_OK);
        ASSERT_BYTES(out, n, v[i].out);
        /* too small: 306 and the size */
        size_t need = 0;
        if (n > 0) {
            assert_int_equal(ipcn_cbor_canonicalize(in, b.n, out, n - 1, &need),
                             IPCN_INSUFFICIENT_STORAGE);
            assert_int_equal(need, n);
        }
        free(in);
    }
    /* keys equal once re-encoded */
    bytes b = hex("a2 01 00 1801 00");
    uint8_t out[16];
    size_t n;
    assert_int_equal(ipcn_cbor_canonicalize(b.p, b.n, out, sizeof out, &n),
                     IPCN_BAD_REQUEST);
}

/* ---- the tree ---- */

static void test_tree(void **state)
{
    (void)state;
    /* {"name": "cam", "shape": [_ 480, 640], "raw": (_ h'01', h'0203')} */
    bytes b = hex("a3 646e616d65 6363616d 657368617065 9f 1901e0 190280 ff"
                  " 63726177 5f 4101 420203 ff");
    uint8_t *in = dup_exact(&b);
    ipcn_cbor_item *t = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(in, b.n, 0, &t), IPCN_OK);
    const ipcn_cbor_item *name = ipcn_cbor_map_find(t, "name");
    assert_non_null(name);
    assert_int_equal(name->type, IPCN_CBOR_TEXT);
    assert_ptr_equal(name->ptr, in + 7); /* zero copy */
    const ipcn_cbor_item *shape = ipcn_cbor_map_find(t, "shape");
    assert_int_equal(shape->count, 2);
    assert_int_equal(shape->items[1].u, 640);
    const ipcn_cbor_item *raw = ipcn_cbor_map_find(t, "raw");
    assert_int_equal(raw->len, 3);
    assert_memory_equal(raw->ptr, "\x01\x02\x03", 3);
    assert_null(ipcn_cbor_map_find(t, "nope"));
    assert_null(ipcn_cbor_map_find(shape, "name"));
    ipcn_cbor_tree_free(t);

    /* copied strings outlive the input */
    assert_int_equal(
        ipcn_cbor_tree_decode(in, b.n, IPCN_CBOR_COPY_STRINGS, &t), IPCN_OK);
    memset(in, 0, b.n);
    free(in);
    name = ipcn_cbor_map_find(t, "name");
    assert_memory_equal(name->ptr, "cam", 3);
    ipcn_cbor_tree_free(t);
    ipcn_cbor_tree_free(NULL);

    /* out of memory: 307, nothing leaked */
    assert_int_equal(ipcn_set_allocator(failing_malloc, realloc, free),
                     IPCN_OK);
    fail_alloc = 1;
    t = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(b.p, b.n, 0, &t),
                     IPCN_INSUFFICIENT_MEMORY);
    assert_null(t);
    fail_alloc = 0;
    assert_int_equal(ipcn_set_allocator(NULL, NULL, NULL), IPCN_OK);
    assert_int_equal(ipcn_cbor_tree_decode(b.p, b.n, 0x100, &t),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_tree_decode(b.p, b.n, 0, NULL),
                     IPCN_BAD_REQUEST);

    /* a hand-built tree */
    ipcn_cbor_item kv[2] = {{0}};
    kv[0].type = IPCN_CBOR_TEXT;
    kv[0].ptr = (const uint8_t *)"k";
    kv[0].len = 1;
    kv[1].type = IPCN_CBOR_FLOAT;
    kv[1].f = 0.5;
    ipcn_cbor_item m = {0};
    m.type = IPCN_CBOR_MAP;
    m.count = 1;
    m.items = kv;
    uint8_t out[32];
    ipcn_cbor_writer w;
    size_t n;
    ipcn_cbor_writer_init(&w, out, sizeof out, 0);
    ipcn_cbor_tree_encode(&w, &m);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    ASSERT_BYTES(out, n, "a1 616b f93800");
    kv[1].type = IPCN_CBOR_BREAK; /* malformed trees are refused */
    ipcn_cbor_writer_init(&w, out, sizeof out, 0);
    assert_int_equal(ipcn_cbor_tree_encode(&w, &m), IPCN_BAD_REQUEST);
    kv[1].type = IPCN_CBOR_SIMPLE;
    kv[1].u = 22;
    ipcn_cbor_writer_init(&w, out, sizeof out, 0);
    assert_int_equal(ipcn_cbor_tree_encode(&w, &m), IPCN_BAD_REQUEST);
    m.items = NULL;
    ipcn_cbor_writer_init(&w, out, sizeof out, 0);
    assert_int_equal(ipcn_cbor_tree_encode(&w, &m), IPCN_BAD_REQUEST);
}

/* The tree's one allocation is bounded by the input size. */
static size_t biggest;
static void *measuring_malloc(size_t n)
{
    if (n > biggest)
        biggest = n;
    return malloc(n);
}

static void test_tree_bound(void **state)
{
    (void)state;
    /* the worst case: one byte per item */
    static uint8_t in[4096];
    in[0] = 0x99; /* array of 4093 */
    in[1] = 0x0f;
    in[2] = 0xfd;
    for (size_t i = 3; i < sizeof in; i++)
        in[i] = 0xf6;
    ipcn_set_allocator(measuring_malloc, realloc, free);
    ipcn_cbor_item *t = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(in, sizeof in, 0, &t), IPCN_OK);
    ipcn_set_allocator(NULL, NULL, NULL);
    assert_true(biggest <= sizeof in * sizeof(ipcn_cbor_item) + sizeof in);
    assert_int_equal(t->count, 4093);
    ipcn_cbor_tree_free(t);
}

/* ---- floats ---- */

static void test_half(void **state)
{
    (void)state;
    /* every half converts to a double and back to the same bits */
    for (uint32_t h = 0; h < 0x10000; h++) {
        double d = ipcn__half_to_double((uint16_t)h);
        uint16_t back = 0;
        assert_true(ipcn__double_to_half(d, &back));
        assert_int_equal(back, h);
        uint32_t s;
        assert_true(ipcn__double_to_single(d, &s)); /* halves fit singles */
        double d2 = ipcn__single_bits_to_double(s);
        assert_memory_equal(&d, &d2, sizeof d);
    }
    uint16_t h;
    assert_false(ipcn__double_to_half(65520.0, &h));
    assert_false(ipcn__double_to_half(1.0 + 1.0 / 2048, &h));
    assert_false(ipcn__double_to_half(1e-8, &h));
    assert_true(ipcn__double_to_half(1.0 + 1.0 / 1024, &h));
    assert_int_equal(h, 0x3c01);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_a_decode),
        cmocka_unit_test(test_appendix_a_values),
        cmocka_unit_test(test_appendix_f_rejected),
        cmocka_unit_test(test_reader_walk),
        cmocka_unit_test(test_reader_modes),
        cmocka_unit_test(test_reader_strict),
        cmocka_unit_test(test_reader_depth),
        cmocka_unit_test(test_writer_types),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_writer_overflow),
        cmocka_unit_test(test_deterministic_check),
        cmocka_unit_test(test_deterministic_write),
        cmocka_unit_test(test_deterministic_sort_paths),
        cmocka_unit_test(test_deterministic_big_map),
        cmocka_unit_test(test_canonicalize),
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_tree_bound),
        cmocka_unit_test(test_half),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

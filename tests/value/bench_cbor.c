/* SPDX-License-Identifier: MIT */
/*
 * bench_cbor.c — IPCNet's CBOR codec beside Debian's libcbor (0.8), the
 * library the issue asked us to consider first.
 *
 *   bench_cbor [--quick]
 *
 * First a cross-check, which must pass (exit 1 otherwise): libcbor reads
 * every message IPCNet writes (default and deterministic) to the end, with
 * the same structure, and IPCNet reads what libcbor writes.  Then timings,
 * per operation, of four cases:
 *   frame decode   {"seq", "stamp", "frame": 40([[480, 640, 3], 64(h'...')])}
 *                  (900 KiB): IPCNet's cursor + tensor view vs cbor_load();
 *   frame encode   the same message into a buffer vs libcbor's items +
 *                  cbor_serialize_alloc();
 *   small decode   a 16-entry telemetry map: IPCNet's tree (one allocation)
 *                  and cursor vs cbor_load() (one allocation per item);
 *   small encode   the same map.
 * --quick (what ctest runs) does few iterations: it is the cross-check
 * that matters there, not the numbers.
 */
#include <cbor.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipcnet_value.h"

#define FRAME_BYTES (480 * 640 * 3)

static uint8_t *frame_pixels;
static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "bench_cbor: check failed at %d: %s\n",          \
                    __LINE__, #cond);                                        \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the messages, IPCNet side ---- */

static size_t ipcn_frame(uint8_t *buf, size_t cap, uint32_t flags)
{
    ipcn_cbor_writer w;
    size_t n = 0;
    ipcn_tensor t;
    int64_t shape[3] = {480, 640, 3};
    ipcn_tensor_init(&t, IPCN_DTYPE_UINT8, 3, shape, frame_pixels);
    ipcn_cbor_writer_init(&w, buf, cap, flags);
    ipcn_cbor_put_map(&w, 3);
    ipcn_cbor_put_cstr(&w, "seq");
    ipcn_cbor_put_uint(&w, 123456);
    ipcn_cbor_put_cstr(&w, "stamp");
    ipcn_cbor_put_uint(&w, 1700000000123456789ull);
    ipcn_cbor_put_cstr(&w, "frame");
    ipcn_tensor_encode(&w, &t);
    if (ipcn_cbor_writer_finish(&w, &n) != IPCN_OK)
        abort();
    return n;
}

static const char *const small_keys[16] = {
    "x", "y", "z", "roll", "pitch", "yaw", "vx", "vy",
    "vz", "battery", "temp", "mode", "armed", "seq", "stamp", "frame_id"};

static size_t ipcn_small(uint8_t *buf, size_t cap, uint32_t flags)
{
    ipcn_cbor_writer w;
    size_t n = 0;
    ipcn_cbor_writer_init(&w, buf, cap, flags);
    ipcn_cbor_put_map(&w, 16);
    for (int i = 0; i < 16; i++) {
        ipcn_cbor_put_cstr(&w, small_keys[i]);
        if (i < 11)
            ipcn_cbor_put_float(&w, 0.1 * i + 1.0 / 3);
        else if (i == 11)
            ipcn_cbor_put_cstr(&w, "auto");
        else if (i == 12)
            ipcn_cbor_put_bool(&w, 1);
        else if (i == 15)
            ipcn_cbor_put_cstr(&w, "base_link");
        else
            ipcn_cbor_put_uint(&w, 1700000000ull + (uint64_t)i);
    }
    if (ipcn_cbor_writer_finish(&w, &n) != IPCN_OK)
        abort();
    return n;
}

/* Decode the frame: the payload view.  Returns its length. */
static size_t ipcn_frame_decode(const uint8_t *buf, size_t n)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    ipcn_tensor t;
    size_t got = 0;
    ipcn_cbor_reader_init(&r, buf, n, 0);
    if (ipcn_cbor_next(&r, &v) != IPCN_OK || v.type != IPCN_CBOR_MAP)
        return 0;
    for (uint64_t i = 0; i < v.count; i++) {
        ipcn_cbor_value k;
        if (ipcn_cbor_next(&r, &k) != IPCN_OK)
            return 0;
        if (k.len == 5 && memcmp(k.ptr, "frame", 5) == 0) {
            if (ipcn_tensor_read(&r, &t) != IPCN_OK)
                return 0;
            got = t.size;
        } else if (ipcn_cbor_skip(&r, NULL) != IPCN_OK) {
            return 0;
        }
    }
    return ipcn_cbor_next(&r, NULL) == IPCN_NO_DATA ? got : 0;
}

/* ---- the messages, libcbor side ---- */

static cbor_item_t *lc_frame(void)
{
    cbor_item_t *m = cbor_new_definite_map(3);
    cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_string("seq")),
                                       cbor_move(cbor_build_uint32(123456))});
    cbor_map_add(m, (struct cbor_pair){
                        cbor_move(cbor_build_string("stamp")),
                        cbor_move(cbor_build_uint64(1700000000123456789ull))});
    cbor_item_t *shape = cbor_new_definite_array(3);
    cbor_array_push(shape, cbor_move(cbor_build_uint16(480)));
    cbor_array_push(shape, cbor_move(cbor_build_uint16(640)));
    cbor_array_push(shape, cbor_move(cbor_build_uint8(3)));
    cbor_item_t *ta = cbor_build_tag(64, cbor_move(cbor_build_bytestring(
                                             frame_pixels, FRAME_BYTES)));
    cbor_item_t *arr = cbor_new_definite_array(2);
    cbor_array_push(arr, cbor_move(shape));
    cbor_array_push(arr, cbor_move(ta));
    cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_string("frame")),
                                       cbor_move(cbor_build_tag(40, cbor_move(arr)))});
    return m;
}

static cbor_item_t *lc_small(void)
{
    cbor_item_t *m = cbor_new_definite_map(16);
    for (int i = 0; i < 16; i++) {
        cbor_item_t *v;
        if (i < 11)
            v = cbor_build_float8(0.1 * i + 1.0 / 3);
        else if (i == 11)
            v = cbor_build_string("auto");
        else if (i == 12)
            v = cbor_build_bool(true);
        else if (i == 15)
            v = cbor_build_string("base_link");
        else
            v = cbor_build_uint32(1700000000u + (uint32_t)i);
        cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_string(small_keys[i])),
                                           cbor_move(v)});
    }
    return m;
}

static size_t lc_frame_decode(const uint8_t *buf, size_t n)
{
    struct cbor_load_result res;
    cbor_item_t *m = cbor_load(buf, n, &res);
    size_t got = 0;
    if (!m)
        return 0;
    if (res.error.code == CBOR_ERR_NONE && res.read == n && cbor_isa_map(m)) {
        struct cbor_pair *p = cbor_map_handle(m);
        for (size_t i = 0; i < cbor_map_size(m); i++) {
            if (cbor_string_length(p[i].key) == 5 &&
                memcmp(cbor_string_handle(p[i].key), "frame", 5) == 0 &&
                cbor_isa_tag(p[i].value) && cbor_tag_value(p[i].value) == 40) {
                cbor_item_t *arr = cbor_tag_item(p[i].value);
                cbor_item_t *ta = cbor_array_get(arr, 1);
                cbor_item_t *bytes = cbor_tag_item(ta);
                got = cbor_bytestring_length(bytes);
                cbor_decref(&bytes);
                cbor_decref(&ta);
                cbor_decref(&arr);
            }
        }
    }
    cbor_decref(&m);
    return got;
}

/* ---- the cross-check ---- */

/* libcbor reads all of buf[0..n) as one item; returns it (or NULL). */
static cbor_item_t *lc_load_all(const uint8_t *buf, size_t n)
{
    struct cbor_load_result res;
    cbor_item_t *it = cbor_load(buf, n, &res);
    if (it && (res.error.code != CBOR_ERR_NONE || res.read != n)) {
        cbor_decref(&it);
        return NULL;
    }
    return it;
}

static void cross_check(void)
{
    static uint8_t buf[FRAME_BYTES + 256];
    for (uint32_t flags = 0; flags <= IPCN_CBOR_DETERMINISTIC; flags++) {
        size_t n = ipcn_frame(buf, sizeof buf, flags);
        CHECK(lc_frame_decode(buf, n) == FRAME_BYTES);
        CHECK(ipcn_frame_decode(buf, n) == FRAME_BYTES);
        n = ipcn_small(buf, sizeof buf, flags);
        cbor_item_t *it = lc_load_all(buf, n);
        CHECK(it && cbor_isa_map(it) && cbor_map_size(it) == 16);
        if (it) {
            struct cbor_pair *p = cbor_map_handle(it);
            for (size_t i = 0; i < cbor_map_size(it); i++)
                CHECK(cbor_isa_string(p[i].key));
            cbor_decref(&it);
        }
    }
    /* a few values of every kind, IPCNet -> libcbor.  Not simple values
     * other than false/true/null/undefined: libcbor 0.8 refuses them
     * (simple(16), f0, and simple(255), f8 ff, give CBOR_ERR_SYNTAXERROR)
     * though RFC 8949 §3.3 allows them. */
    static const char *const hexes[] = {
        "1bffffffffffffffff", "3bffffffffffffffff", "f90001", "fa47c35000",
        "fb3ff199999999999a", "f97e00", "f6", "c11a514b67b0", "5f42010243030405ff",
        "7f657374726561646d696e67ff", "9f018202039f0405ffff",
        "bf61610161629f0203ffff", "a26161016162820203"};
    for (size_t i = 0; i < sizeof hexes / sizeof hexes[0]; i++) {
        uint8_t in[64], out[64];
        size_t n = 0, m = 0;
        for (const char *h = hexes[i]; h[0] && h[1]; h += 2) {
            unsigned x;
            sscanf(h, "%2x", &x);
            in[n++] = (uint8_t)x;
        }
        CHECK(ipcn_cbor_canonicalize(in, n, out, sizeof out, &m) == IPCN_OK);
        cbor_item_t *a = lc_load_all(in, n), *b = lc_load_all(out, m);
        if (!a || !b)
            fprintf(stderr, "libcbor cannot read %s (%s)\n", hexes[i], a ? "canonical" : "as is");
        CHECK(a != NULL && b != NULL);
        if (a && b)
            CHECK(cbor_typeof(a) == cbor_typeof(b));
        if (a)
            cbor_decref(&a);
        if (b)
            cbor_decref(&b);
    }
    /* libcbor -> IPCNet */
    cbor_item_t *items[2] = {lc_frame(), lc_small()};
    for (int i = 0; i < 2; i++) {
        unsigned char *out = NULL;
        size_t cap = 0, n = cbor_serialize_alloc(items[i], &out, &cap);
        CHECK(n > 0 && ipcn_cbor_check(out, n, 0) == IPCN_OK);
        if (i == 0)
            CHECK(ipcn_frame_decode(out, n) == FRAME_BYTES);
        free(out);
        cbor_decref(&items[i]);
    }
}

/* ---- timings ---- */

static void report(const char *what, const char *who, double secs, long iters)
{
    printf("  %-14s %-8s %10.0f ns/op\n", what, who, secs / (double)iters * 1e9);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    frame_pixels = malloc(FRAME_BYTES);
    for (size_t i = 0; i < FRAME_BYTES; i++)
        frame_pixels[i] = (uint8_t)(i * 31);
    cross_check();
    if (failures) {
        fprintf(stderr, "bench_cbor: %d cross-check(s) failed\n", failures);
        return 1;
    }
    printf("bench_cbor: cross-check with libcbor %d.%d.%d passed\n",
           CBOR_MAJOR_VERSION, CBOR_MINOR_VERSION, CBOR_PATCH_VERSION);

    long big = quick ? 20 : 500, small = quick ? 2000 : 500000;
    static uint8_t buf[FRAME_BYTES + 256];
    volatile size_t sink = 0;
    size_t fn = ipcn_frame(buf, sizeof buf, 0);
    uint8_t *frame = malloc(fn);
    memcpy(frame, buf, fn);
    size_t sn = ipcn_small(buf, sizeof buf, 0);
    uint8_t small_msg[512];
    memcpy(small_msg, buf, sn);

    printf("bench_cbor (%s; %zu-byte frame, %zu-byte map):\n",
           quick ? "quick" : "full", fn, sn);
    double t0 = now();
    for (long i = 0; i < big; i++)
        sink += ipcn_frame_decode(frame, fn);
    report("frame decode", "ipcnet", now() - t0, big);
    t0 = now();
    for (long i = 0; i < big; i++)
        sink += lc_frame_decode(frame, fn);
    report("frame decode", "libcbor", now() - t0, big);

    t0 = now();
    for (long i = 0; i < big; i++)
        sink += ipcn_frame(buf, sizeof buf, 0);
    report("frame encode", "ipcnet", now() - t0, big);
    t0 = now();
    for (long i = 0; i < big; i++) {
        cbor_item_t *it = lc_frame();
        unsigned char *out = NULL;
        size_t cap = 0;
        sink += cbor_serialize_alloc(it, &out, &cap);
        free(out);
        cbor_decref(&it);
    }
    report("frame encode", "libcbor", now() - t0, big);

    t0 = now();
    for (long i = 0; i < small; i++) {
        ipcn_cbor_item *t;
        if (ipcn_cbor_tree_decode(small_msg, sn, 0, &t) == IPCN_OK) {
            sink += t->count;
            ipcn_cbor_tree_free(t);
        }
    }
    report("small decode", "ipcn-tree", now() - t0, small);
    t0 = now();
    for (long i = 0; i < small; i++)
        sink += ipcn_cbor_check(small_msg, sn, 0);
    report("small decode", "ipcn-walk", now() - t0, small);
    t0 = now();
    for (long i = 0; i < small; i++) {
        cbor_item_t *it = lc_load_all(small_msg, sn);
        if (it) {
            sink += cbor_map_size(it);
            cbor_decref(&it);
        }
    }
    report("small decode", "libcbor", now() - t0, small);

    t0 = now();
    for (long i = 0; i < small; i++)
        sink += ipcn_small(buf, sizeof buf, 0);
    report("small encode", "ipcnet", now() - t0, small);
    t0 = now();
    for (long i = 0; i < small; i++)
        sink += ipcn_small(buf, sizeof buf, IPCN_CBOR_DETERMINISTIC);
    report("small encode", "ipcn-det", now() - t0, small);
    t0 = now();
    for (long i = 0; i < small; i++) {
        cbor_item_t *it = lc_small();
        unsigned char *out = NULL;
        size_t cap = 0;
        sink += cbor_serialize_alloc(it, &out, &cap);
        free(out);
        cbor_decref(&it);
    }
    report("small encode", "libcbor", now() - t0, small);
    (void)sink;
    free(frame);
    free(frame_pixels);
    return 0;
}

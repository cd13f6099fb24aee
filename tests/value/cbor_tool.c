/* SPDX-License-Identifier: MIT */
/*
 * cbor_tool.c — the C side of the cross-language tests
 * (test_cbor2_interop.py).  Uses only the public API of the shared
 * library, as shipped.
 *
 *   cbor_tool write-corpus DIR   write C-encoded values to DIR:
 *       c_<name>.cbor      the value, default writer
 *       c_<name>.det.cbor  the same value, deterministic writer
 *       c_<name>.txt       what the C decoder reads back (CR_INTEROP text)
 *       t_<dtype>_<order>_<shape>.cbor  a tensor of every dtype, both byte
 *                          orders; element i of every tensor is value(i)
 *                          below, which the Python side computes itself
 *   cbor_tool decode FILE...     per file, "<FILE>\t<text>" (CR_INTEROP) or
 *                                "<FILE>\tERROR <status>"
 *   cbor_tool check FILE...      per file, "<FILE>\t<status of the
 *                                deterministic check>"
 *   cbor_tool canonical FILE...  per file, "<FILE>\t<hex of the canonical
 *                                re-encoding>" or "ERROR <status>"
 *   cbor_tool tensor FILE...     per file, "<FILE>\t<dtype> <ndim> <shape
 *                                ...> : <elements, row-major>" with
 *                                integers in decimal, floats (float16 and
 *                                bfloat16 widened) as f:<hex of the double>,
 *                                bool as 0/1; or "ERROR <status>"
 * Tensor values: int dtypes (i*37+5)*(-1 if i odd else 1) wrapped to the
 * width (two's complement), uint dtypes (i*37+5) modulo 2^bits, floats
 * i*0.25-1.5, bool i%3==0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cbor_render.h"
#include "ipcnet_value.h"

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *p = malloc(cap);
    while (p) {
        len += fread(p + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *q = realloc(p, cap *= 2);
        if (!q)
            free(p);
        p = q;
    }
    fclose(f);
    *n = len;
    return p;
}

static void spill(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---- the corpus of C-written values ---- */

typedef void (*writer_fn)(ipcn_cbor_writer *w);

static void v_uints(ipcn_cbor_writer *w)
{
    static const uint64_t u[] = {0, 1, 23, 24, 255, 256, 65535, 65536,
                                 4294967295ull, 4294967296ull, UINT64_MAX};
    ipcn_cbor_put_array(w, sizeof u / sizeof u[0]);
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        ipcn_cbor_put_uint(w, u[i]);
}

static void v_negints(ipcn_cbor_writer *w)
{
    static const int64_t v[] = {-1, -24, -25, -256, -257, -65537,
                                -4294967296ll, -4294967297ll, INT64_MIN};
    ipcn_cbor_put_array(w, sizeof v / sizeof v[0] + 1);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ipcn_cbor_put_int(w, v[i]);
    ipcn_cbor_put_negint(w, UINT64_MAX); /* -2^64 */
}

static void v_floats(ipcn_cbor_writer *w)
{
    static const double f[] = {0.0, -0.0, 1.5, 65504.0, 100000.0, 1.1,
                               1e300, 5.960464477539063e-08,
                               3.4028234663852886e+38, -4.1, 1.0 / 3};
    ipcn_cbor_put_array(w, sizeof f / sizeof f[0] + 5);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        ipcn_cbor_put_float(w, f[i]);
    ipcn_cbor_put_float(w, 1.0 / 0.0);
    ipcn_cbor_put_float(w, -1.0 / 0.0);
    ipcn_cbor_put_float(w, 0.0 / 0.0);
    ipcn_cbor_put_float_bits(w, 1.0, 64);
    ipcn_cbor_put_float_bits(w, 2.5, 32);
}

static void v_bytes(ipcn_cbor_writer *w)
{
    uint8_t b[300];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)(i * 7);
    ipcn_cbor_put_array(w, 4);
    ipcn_cbor_put_bytes(w, NULL, 0);
    ipcn_cbor_put_bytes(w, "\x00\xff", 2);
    ipcn_cbor_put_bytes(w, b, sizeof b);
    uint8_t *slot;
    ipcn_cbor_put_bytes_reserve(w, 70000, &slot);
    if (slot)
        for (size_t i = 0; i < 70000; i++)
            slot[i] = (uint8_t)(i ^ (i >> 8));
}

static void v_text(ipcn_cbor_writer *w)
{
    char long_text[1001];
    for (size_t i = 0; i < 1000; i++)
        long_text[i] = (char)('a' + i % 26);
    long_text[1000] = 0;
    ipcn_cbor_put_array(w, 5);
    ipcn_cbor_put_cstr(w, "");
    ipcn_cbor_put_cstr(w, "a");
    ipcn_cbor_put_cstr(w, "\xc3\xbc\xe6\xb0\xb4\xf0\x90\x85\x91\xf0\x9f\x98\x80");
    ipcn_cbor_put_cstr(w, "line\nbreak \"quote\" back\\slash\ttab\x01");
    ipcn_cbor_put_cstr(w, long_text);
}

static void v_nested(ipcn_cbor_writer *w)
{
    /* {"a": [1, [2, [3, {}]]], "b": {"c": null}, 3: [true, false,
     *  undefined], -1: simple(16), h'01': simple(255), [1, 2]: "k"} */
    ipcn_cbor_put_map(w, 6);
    ipcn_cbor_put_cstr(w, "a");
    ipcn_cbor_put_array(w, 2);
    ipcn_cbor_put_uint(w, 1);
    ipcn_cbor_put_array(w, 2);
    ipcn_cbor_put_uint(w, 2);
    ipcn_cbor_put_array(w, 2);
    ipcn_cbor_put_uint(w, 3);
    ipcn_cbor_put_map(w, 0);
    ipcn_cbor_put_cstr(w, "b");
    ipcn_cbor_put_map(w, 1);
    ipcn_cbor_put_cstr(w, "c");
    ipcn_cbor_put_null(w);
    ipcn_cbor_put_uint(w, 3);
    ipcn_cbor_put_array(w, 3);
    ipcn_cbor_put_bool(w, 1);
    ipcn_cbor_put_bool(w, 0);
    ipcn_cbor_put_undefined(w);
    ipcn_cbor_put_int(w, -1);
    ipcn_cbor_put_simple(w, 16);
    ipcn_cbor_put_bytes(w, "\x01", 1);
    ipcn_cbor_put_simple(w, 255);
    ipcn_cbor_put_array(w, 2);
    ipcn_cbor_put_uint(w, 1);
    ipcn_cbor_put_uint(w, 2);
    ipcn_cbor_put_cstr(w, "k");
}

static void v_tags(ipcn_cbor_writer *w)
{
    ipcn_cbor_put_array(w, 4);
    ipcn_cbor_put_tag(w, 1000);
    ipcn_cbor_put_cstr(w, "x");
    ipcn_cbor_put_tag(w, 0xffffffffu);
    ipcn_cbor_put_bytes(w, "\x01", 1);
    ipcn_cbor_put_tag(w, UINT64_MAX);
    ipcn_cbor_put_uint(w, 0);
    ipcn_cbor_put_tag(w, 1001); /* nested tags */
    ipcn_cbor_put_tag(w, 1002);
    ipcn_cbor_put_array(w, 0);
}

static void v_simple(ipcn_cbor_writer *w)
{
    ipcn_cbor_put_array(w, 8);
    ipcn_cbor_put_simple(w, 0);
    ipcn_cbor_put_simple(w, 19);
    ipcn_cbor_put_simple(w, 32);
    ipcn_cbor_put_simple(w, 255);
    ipcn_cbor_put_bool(w, 1);
    ipcn_cbor_put_bool(w, 0);
    ipcn_cbor_put_null(w);
    ipcn_cbor_put_undefined(w);
}

static void v_deep(ipcn_cbor_writer *w)
{
    for (int i = 0; i < 60; i++)
        ipcn_cbor_put_array(w, 1);
    ipcn_cbor_put_uint(w, 0);
}

static void v_big_array(ipcn_cbor_writer *w)
{
    ipcn_cbor_put_array(w, 10000);
    for (uint64_t i = 0; i < 10000; i++)
        ipcn_cbor_put_uint(w, i * i);
}

/* int keys only, written in descending order: the deterministic writer
 * sorts them; cbor2's canonical order agrees for keys of one kind */
static void v_int_map(ipcn_cbor_writer *w)
{
    ipcn_cbor_put_map(w, 1000);
    for (uint64_t i = 1000; i-- > 0;) {
        ipcn_cbor_put_uint(w, i * 97);
        ipcn_cbor_put_uint(w, i);
    }
}

static void v_text_map(ipcn_cbor_writer *w)
{
    static const char *const k[] = {"zeta", "a", "bb", "b", "aaa",
                                    "0123456789012345678901234", "", "\xc3\xbc"};
    ipcn_cbor_put_map(w, sizeof k / sizeof k[0]);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        ipcn_cbor_put_cstr(w, k[i]);
        ipcn_cbor_put_uint(w, i);
    }
}

/* keys of several kinds: here RFC 8949's bytewise order and RFC 7049's
 * length-first order (cbor2's canonical=True) differ */
static void v_mixed_keys(ipcn_cbor_writer *w)
{
    ipcn_cbor_put_map(w, 3);
    ipcn_cbor_put_int(w, -1);
    ipcn_cbor_put_cstr(w, "minus one");
    ipcn_cbor_put_uint(w, 100);
    ipcn_cbor_put_cstr(w, "hundred");
    ipcn_cbor_put_cstr(w, "k");
    ipcn_cbor_put_cstr(w, "text");
}

static void v_typed_arrays(ipcn_cbor_writer *w)
{
    static const ipcn_dtype d[] = {
        IPCN_DTYPE_UINT8, IPCN_DTYPE_INT8, IPCN_DTYPE_UINT16,
        IPCN_DTYPE_INT32, IPCN_DTYPE_UINT64, IPCN_DTYPE_FLOAT32,
        IPCN_DTYPE_FLOAT64, IPCN_DTYPE_FLOAT16};
    uint8_t data[64];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 1);
    ipcn_cbor_put_array(w, 2 * sizeof d / sizeof d[0]);
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        size_t count = 8 / ipcn_dtype_size(d[i]) * 2;
        ipcn_cbor_put_typed_array(w, d[i], IPCN_ORDER_LITTLE, data, count);
        ipcn_cbor_put_typed_array(w, d[i], IPCN_ORDER_BIG, data, count);
    }
}

static const struct {
    const char *name;
    writer_fn fn;
    size_t cap;
} corpus[] = {
    {"uints", v_uints, 1 << 10},       {"negints", v_negints, 1 << 10},
    {"floats", v_floats, 1 << 10},     {"bytes", v_bytes, 1 << 17},
    {"text", v_text, 1 << 12},         {"nested", v_nested, 1 << 10},
    {"tags", v_tags, 1 << 10},         {"simple", v_simple, 1 << 10},
    {"deep", v_deep, 1 << 10},         {"big_array", v_big_array, 1 << 16},
    {"int_map", v_int_map, 1 << 14},   {"text_map", v_text_map, 1 << 10},
    {"mixed_keys", v_mixed_keys, 1 << 10},
    {"typed_arrays", v_typed_arrays, 1 << 12},
};

/* ---- tensors ---- */

static const ipcn_dtype tensor_dtypes[] = {
    IPCN_DTYPE_BOOL,    IPCN_DTYPE_INT8,     IPCN_DTYPE_INT16,
    IPCN_DTYPE_INT32,   IPCN_DTYPE_INT64,    IPCN_DTYPE_UINT8,
    IPCN_DTYPE_UINT16,  IPCN_DTYPE_UINT32,   IPCN_DTYPE_UINT64,
    IPCN_DTYPE_FLOAT16, IPCN_DTYPE_BFLOAT16, IPCN_DTYPE_FLOAT32,
    IPCN_DTYPE_FLOAT64,
};

static uint16_t half_of(double v)
{
    /* exact for the small multiples of 0.25 used here */
    uint8_t b[4];
    ipcn_cbor_writer w;
    size_t n;
    ipcn_cbor_writer_init(&w, b, sizeof b, 0);
    ipcn_cbor_put_float_bits(&w, v, 16);
    if (ipcn_cbor_writer_finish(&w, &n) != IPCN_OK)
        abort();
    return (uint16_t)(b[1] << 8 | b[2]);
}

/* Element i in native order at p (see the header comment). */
static void value_at(ipcn_dtype dt, uint64_t i, void *p)
{
    int64_t s = (int64_t)(i * 37 + 5) * ((i & 1) ? -1 : 1);
    uint64_t u = i * 37 + 5;
    double f = (double)i * 0.25 - 1.5;
    switch (dt) {
    case IPCN_DTYPE_BOOL: *(uint8_t *)p = i % 3 == 0; break;
    case IPCN_DTYPE_INT8: *(int8_t *)p = (int8_t)(uint8_t)s; break;
    case IPCN_DTYPE_INT16: *(int16_t *)p = (int16_t)(uint16_t)s; break;
    case IPCN_DTYPE_INT32: *(int32_t *)p = (int32_t)s; break;
    case IPCN_DTYPE_INT64: *(int64_t *)p = s; break;
    case IPCN_DTYPE_UINT8: *(uint8_t *)p = (uint8_t)u; break;
    case IPCN_DTYPE_UINT16: *(uint16_t *)p = (uint16_t)u; break;
    case IPCN_DTYPE_UINT32: *(uint32_t *)p = (uint32_t)u; break;
    case IPCN_DTYPE_UINT64: *(uint64_t *)p = u; break;
    case IPCN_DTYPE_FLOAT16: *(uint16_t *)p = half_of(f); break;
    case IPCN_DTYPE_BFLOAT16: {
        float x = (float)f;
        uint32_t b;
        memcpy(&b, &x, 4);
        *(uint16_t *)p = (uint16_t)(b >> 16);
        break;
    }
    case IPCN_DTYPE_FLOAT32: *(float *)p = (float)f; break;
    case IPCN_DTYPE_FLOAT64: *(double *)p = f; break;
    default: abort();
    }
}

static void write_tensors(const char *dir)
{
    static const struct {
        const char *name;
        uint32_t ndim;
        int64_t shape[3];
    } shapes[] = {{"scalar", 0, {0}}, {"6", 1, {6}}, {"2x3", 2, {2, 3}},
                  {"2x3x4", 3, {2, 3, 4}}, {"0x5", 2, {0, 5}}};
    for (size_t d = 0; d < sizeof tensor_dtypes / sizeof tensor_dtypes[0];
         d++) {
        ipcn_dtype dt = tensor_dtypes[d];
        size_t es = ipcn_dtype_size(dt);
        for (int o = 0; o < 2; o++) {
            ipcn_byte_order order = o ? IPCN_ORDER_BIG : IPCN_ORDER_LITTLE;
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                uint8_t data[8 * 24];
                ipcn_tensor t;
                if (ipcn_tensor_init(&t, dt, shapes[s].ndim, shapes[s].shape,
                                     data) != IPCN_OK)
                    abort();
                uint64_t n = ipcn_tensor_numel(&t);
                for (uint64_t i = 0; i < n; i++) {
                    value_at(dt, i, data + i * es);
                    if (order != IPCN_ORDER_NATIVE) /* to the other order */
                        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
                            uint8_t x = data[i * es + a];
                            data[i * es + a] = data[i * es + b];
                            data[i * es + b] = x;
                        }
                }
                t.order = order;
                uint8_t buf[512];
                ipcn_cbor_writer w;
                size_t len;
                ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
                ipcn_tensor_encode(&w, &t);
                if (ipcn_cbor_writer_finish(&w, &len) != IPCN_OK)
                    abort();
                char name[128];
                snprintf(name, sizeof name, "t_%s_%s_%s.cbor",
                         ipcn_dtype_name(dt), o ? "big" : "little",
                         shapes[s].name);
                spill(dir, name, buf, len);
            }
        }
    }
}

static int write_corpus(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        for (int det = 0; det < 2; det++) {
            uint8_t *buf = malloc(corpus[i].cap);
            ipcn_cbor_writer w;
            size_t len;
            ipcn_cbor_writer_init(&w, buf, corpus[i].cap,
                                  det ? IPCN_CBOR_DETERMINISTIC : 0);
            corpus[i].fn(&w);
            int st = ipcn_cbor_writer_finish(&w, &len);
            if (st != IPCN_OK) {
                fprintf(stderr, "%s: writer status %d\n", corpus[i].name, st);
                return 1;
            }
            char name[128];
            snprintf(name, sizeof name, "c_%s%s.cbor", corpus[i].name,
                     det ? ".det" : "");
            spill(dir, name, buf, len);
            if (!det) {
                ipcn_cbor_item *t;
                st = ipcn_cbor_tree_decode(buf, len, 0, &t);
                if (st != IPCN_OK) {
                    fprintf(stderr, "%s: decode status %d\n", corpus[i].name,
                            st);
                    return 1;
                }
                char *text = cr_render(t, CR_INTEROP);
                snprintf(name, sizeof name, "c_%s.txt", corpus[i].name);
                spill(dir, name, text, strlen(text));
                free(text);
                ipcn_cbor_tree_free(t);
            }
            free(buf);
        }
    }
    write_tensors(dir);
    return 0;
}

/* ---- reading ---- */

static void print_element(const ipcn_tensor *t, const uint8_t *p)
{
    int64_t s = 0;
    uint64_t u = 0;
    double f = 0;
    int kind = 0; /* 0 signed, 1 unsigned, 2 float */
    switch (t->dtype) {
    case IPCN_DTYPE_BOOL: u = p[0]; kind = 1; break;
    case IPCN_DTYPE_INT8: { int8_t x; memcpy(&x, p, 1); s = x; break; }
    case IPCN_DTYPE_INT16: { int16_t x; memcpy(&x, p, 2); s = x; break; }
    case IPCN_DTYPE_INT32: { int32_t x; memcpy(&x, p, 4); s = x; break; }
    case IPCN_DTYPE_INT64: { int64_t x; memcpy(&x, p, 8); s = x; break; }
    case IPCN_DTYPE_UINT8: u = p[0]; kind = 1; break;
    case IPCN_DTYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); u = x; kind = 1; break; }
    case IPCN_DTYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); u = x; kind = 1; break; }
    case IPCN_DTYPE_UINT64: memcpy(&u, p, 8); kind = 1; break;
    case IPCN_DTYPE_FLOAT16: {
        /* widen through the decoder: a one-item CBOR half */
        uint16_t h;
        memcpy(&h, p, 2);
        uint8_t c[3] = {0xf9, (uint8_t)(h >> 8), (uint8_t)h};
        ipcn_cbor_reader r;
        ipcn_cbor_value v;
        ipcn_cbor_reader_init(&r, c, 3, 0);
        ipcn_cbor_next(&r, &v);
        f = v.f;
        kind = 2;
        break;
    }
    case IPCN_DTYPE_BFLOAT16: {
        uint16_t h;
        memcpy(&h, p, 2);
        uint32_t b = (uint32_t)h << 16;
        float x;
        memcpy(&x, &b, 4);
        f = x;
        kind = 2;
        break;
    }
    case IPCN_DTYPE_FLOAT32: { float x; memcpy(&x, p, 4); f = x; kind = 2; break; }
    case IPCN_DTYPE_FLOAT64: memcpy(&f, p, 8); kind = 2; break;
    default: break;
    }
    if (kind == 0) {
        printf("%" PRId64, s);
    } else if (kind == 1) {
        printf("%" PRIu64, u);
    } else if (f != f) {
        printf("nan");
    } else {
        uint64_t b;
        memcpy(&b, &f, 8);
        printf("f:%016" PRIx64, b);
    }
}

static int cmd_files(const char *cmd, int argc, char **argv)
{
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        size_t n;
        uint8_t *p = slurp(argv[i], &n);
        if (!p) {
            perror(argv[i]);
            return 1;
        }
        printf("%s\t", argv[i]);
        if (strcmp(cmd, "decode") == 0) {
            ipcn_cbor_item *t;
            int st = ipcn_cbor_tree_decode(p, n, 0, &t);
            if (st == IPCN_OK) {
                char *text = cr_render(t, CR_INTEROP);
                printf("%s\n", text);
                free(text);
                ipcn_cbor_tree_free(t);
            } else {
                printf("ERROR %d\n", st);
            }
        } else if (strcmp(cmd, "check") == 0) {
            printf("%d\n", ipcn_cbor_check(p, n, IPCN_CBOR_DETERMINISTIC));
        } else if (strcmp(cmd, "canonical") == 0) {
            size_t need = 0;
            int st = ipcn_cbor_canonicalize(p, n, NULL, 0, &need);
            if (st == IPCN_INSUFFICIENT_STORAGE || st == IPCN_OK) {
                uint8_t *out = malloc(need ? need : 1);
                st = ipcn_cbor_canonicalize(p, n, out, need, &need);
                cr_buf b = {0};
                cr_puts(&b, "");
                cr_hex(&b, out, need);
                printf("%s\n", b.p);
                free(b.p);
                free(out);
            } else {
                printf("ERROR %d\n", st);
            }
        } else if (strcmp(cmd, "tensor") == 0) {
            ipcn_tensor t;
            int st = ipcn_tensor_decode(p, n, 0, &t);
            if (st != IPCN_OK) {
                printf("ERROR %d\n", st);
            } else if (!((const uint8_t *)t.data >= p &&
                         (const uint8_t *)t.data + t.size <= p + n)) {
                printf("ERROR payload not inside the buffer\n");
                rc = 1;
            } else {
                size_t es = ipcn_dtype_size(t.dtype);
                uint64_t count = ipcn_tensor_numel(&t);
                uint8_t *flat = malloc(count * es + 1);
                ipcn_tensor_copy(&t, flat, count * es);
                printf("%s %u", ipcn_dtype_name(t.dtype), t.ndim);
                for (uint32_t k = 0; k < t.ndim; k++)
                    printf(" %" PRId64, t.shape[k]);
                printf(" :");
                for (uint64_t k = 0; k < count; k++) {
                    printf(" ");
                    print_element(&t, flat + k * es);
                }
                printf("\n");
                free(flat);
            }
        } else {
            fprintf(stderr, "unknown command %s\n", cmd);
            return 2;
        }
        free(p);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "write-corpus") == 0)
        return write_corpus(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "write-corpus") != 0)
        return cmd_files(argv[1], argc - 2, argv + 2);
    fprintf(stderr,
            "usage: %s write-corpus DIR | decode|check|canonical|tensor "
            "FILE...\n",
            argv[0]);
    return 2;
}

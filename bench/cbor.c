/* SPDX-License-Identifier: MIT */
/*
 * cbor.c — IPCNet's CBOR codec (include/ipcnet_value.h) beside libcbor and,
 * for reference, Python's cbor2 (Debian's /usr/bin/python3, timeit): encode
 * and decode of
 *   map     a 100-field map, text keys "field000".."field099", values
 *           cycling int (positive and negative), float, short text, bool;
 *   tensor  a 1 MiB float32 tensor, shape [512, 512]:
 *           40([[512, 512], 85(h'...')]) (RFC 8746, little-endian float32).
 * Every implementation's output is decoded and compared value by value
 * first (IPCNet's own, libcbor's map and tensor read by IPCNet, IPCNet's
 * read by libcbor and cbor2); a difference fails the run.  IPCNet's tensor
 * decode is a view: its data pointer must lie inside the input buffer.
 *
 * The C codecs run in this process, one after the other; times are the
 * best of 3 runs of ~0.1 s each (a warm-up first).  --quick runs a few
 * iterations: the checks matter there, not the numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcnet_value.h>

#ifdef BENCH_HAVE_LIBCBOR
#include <cbor.h>
#endif

#include "bench.h"

#define MAP_FIELDS 100
#define TENSOR_DIM 512
#define TENSOR_N (TENSOR_DIM * TENSOR_DIM)
#define TENSOR_BYTES (TENSOR_N * 4)
#define BUF_CAP (TENSOR_BYTES + 4096)

static float *g_tensor;       /* the elements */
static uint8_t *g_buf;        /* encode target */
static uint8_t *g_map_enc;    /* IPCNet's encoding of the map */
static size_t g_map_len;
static uint8_t *g_tensor_enc; /* IPCNet's encoding of the tensor */
static size_t g_tensor_len;

/* ---- the values ---- */

enum { K_INT, K_FLOAT, K_TEXT, K_BOOL };

static int field_kind(int i) { return i % 4; }
static int64_t field_int(int i) { return (int64_t)(i - 50) * 1000003; }
static double field_float(int i) { return i * 1.5 + 0.1; }
static void field_key(int i, char *out) { snprintf(out, 16, "field%03d", i); }
static void field_text(int i, char *out) { snprintf(out, 16, "v%03d", i); }
static int field_bool(int i) { return (i / 4) % 2; }

static void tensor_fill(void)
{
    for (int i = 0; i < TENSOR_N; i++)
        g_tensor[i] = (float)((i * 7) % 1000) * 0.125f - 17.0f;
}

/* ---- IPCNet ---- */

static size_t ipcn_map_encode(uint8_t *buf, size_t cap)
{
    ipcn_cbor_writer w;
    size_t n = 0;
    char s[16];
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, MAP_FIELDS);
    for (int i = 0; i < MAP_FIELDS; i++) {
        field_key(i, s);
        ipcn_cbor_put_cstr(&w, s);
        switch (field_kind(i)) {
        case K_INT: ipcn_cbor_put_int(&w, field_int(i)); break;
        case K_FLOAT: ipcn_cbor_put_float(&w, field_float(i)); break;
        case K_TEXT: field_text(i, s); ipcn_cbor_put_cstr(&w, s); break;
        default: ipcn_cbor_put_bool(&w, field_bool(i)); break;
        }
    }
    return ipcn_cbor_writer_finish(&w, &n) == IPCN_OK ? n : 0;
}

static size_t ipcn_tensor_enc(uint8_t *buf, size_t cap)
{
    ipcn_cbor_writer w;
    ipcn_tensor t;
    size_t n = 0;
    int64_t shape[2] = {TENSOR_DIM, TENSOR_DIM};
    ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 2, shape, g_tensor);
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_tensor_encode(&w, &t);
    return ipcn_cbor_writer_finish(&w, &n) == IPCN_OK ? n : 0;
}

/* The decoded map equals the values: NULL, or what differs. */
static const char *ipcn_map_check(const ipcn_cbor_item *m)
{
    char s[16];
    if (!m || m->type != IPCN_CBOR_MAP || m->count != MAP_FIELDS)
        return "not a 100-pair map";
    for (int i = 0; i < MAP_FIELDS; i++) {
        const ipcn_cbor_item *k = &m->items[2 * i], *v = &m->items[2 * i + 1];
        field_key(i, s);
        if (k->type != IPCN_CBOR_TEXT || k->len != strlen(s) || memcmp(k->ptr, s, k->len))
            return "a key differs";
        switch (field_kind(i)) {
        case K_INT: {
            int64_t x = field_int(i);
            if (x >= 0 ? v->type != IPCN_CBOR_UINT || v->u != (uint64_t)x
                       : v->type != IPCN_CBOR_NEGINT || v->u != (uint64_t)(-1 - x))
                return "an integer differs";
            break;
        }
        case K_FLOAT:
            if (v->type != IPCN_CBOR_FLOAT || v->f != field_float(i))
                return "a float differs";
            break;
        case K_TEXT:
            field_text(i, s);
            if (v->type != IPCN_CBOR_TEXT || v->len != strlen(s) || memcmp(v->ptr, s, v->len))
                return "a text value differs";
            break;
        default:
            if (v->type != IPCN_CBOR_BOOL || (int)v->u != field_bool(i))
                return "a bool differs";
        }
    }
    return NULL;
}

static const char *ipcn_map_decode_check(const uint8_t *buf, size_t n)
{
    ipcn_cbor_item *t = NULL;
    if (ipcn_cbor_tree_decode(buf, n, 0, &t) != IPCN_OK)
        return "IPCNet cannot decode it";
    const char *why = ipcn_map_check(t);
    ipcn_cbor_tree_free(t);
    return why;
}

/* Decode the tensor and check it is a view of buf with the right values. */
static const char *ipcn_tensor_decode_check(const uint8_t *buf, size_t n)
{
    ipcn_tensor t;
    if (ipcn_tensor_decode(buf, n, 0, &t) != IPCN_OK)
        return "IPCNet cannot decode it";
    if (t.dtype != IPCN_DTYPE_FLOAT32 || t.ndim != 2 || t.shape[0] != TENSOR_DIM ||
        t.shape[1] != TENSOR_DIM || t.size != TENSOR_BYTES || t.order != IPCN_ORDER_NATIVE ||
        !ipcn_tensor_is_contiguous(&t))
        return "dtype, shape or size differ";
    const uint8_t *d = t.data;
    if (d < buf || d + t.size > buf + n)
        return "the decoded data pointer is outside the input buffer (a copy, not a view)";
    if (memcmp(d, g_tensor, TENSOR_BYTES))
        return "an element differs";
    return NULL;
}

/* ---- libcbor ---- */

#ifdef BENCH_HAVE_LIBCBOR
static cbor_item_t *lc_map_build(void)
{
    char s[16];
    cbor_item_t *m = cbor_new_definite_map(MAP_FIELDS);
    for (int i = 0; i < MAP_FIELDS; i++) {
        cbor_item_t *v;
        switch (field_kind(i)) {
        case K_INT: {
            int64_t x = field_int(i);
            if (x >= 0) {
                v = cbor_build_uint32((uint32_t)x);
            } else {
                v = cbor_build_uint32((uint32_t)(-1 - x));
                cbor_mark_negint(v);
            }
            break;
        }
        case K_FLOAT: v = cbor_build_float8(field_float(i)); break;
        case K_TEXT: field_text(i, s); v = cbor_build_string(s); break;
        default: v = cbor_build_bool(field_bool(i)); break;
        }
        field_key(i, s);
        cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_string(s)), cbor_move(v)});
    }
    return m;
}

static cbor_item_t *lc_tensor_build(void)
{
    cbor_item_t *shape = cbor_new_definite_array(2);
    cbor_array_push(shape, cbor_move(cbor_build_uint16(TENSOR_DIM)));
    cbor_array_push(shape, cbor_move(cbor_build_uint16(TENSOR_DIM)));
    /* 85: float32, little endian (RFC 8746) */
    cbor_item_t *ta = cbor_build_tag(85, cbor_move(cbor_build_bytestring(
                                             (cbor_data)g_tensor, TENSOR_BYTES)));
    cbor_item_t *arr = cbor_new_definite_array(2);
    cbor_array_push(arr, cbor_move(shape));
    cbor_array_push(arr, cbor_move(ta));
    return cbor_build_tag(40, cbor_move(arr));
}

static size_t lc_encode(cbor_item_t *(*build)(void), uint8_t *buf, size_t cap)
{
    cbor_item_t *it = build();
    size_t n = cbor_serialize(it, buf, cap);
    cbor_decref(&it);
    return n;
}

static cbor_item_t *lc_load_all(const uint8_t *buf, size_t n)
{
    struct cbor_load_result res;
    cbor_item_t *it = cbor_load(buf, n, &res);
    if (it && (res.error.code != CBOR_ERR_NONE || res.read != n))
        cbor_decref(&it);
    return it;
}

static bool lc_text_eq(cbor_item_t *it, const char *s)
{
    return cbor_isa_string(it) && cbor_string_is_definite(it) &&
           cbor_string_length(it) == strlen(s) &&
           !memcmp(cbor_string_handle(it), s, strlen(s));
}

static const char *lc_map_check(cbor_item_t *m)
{
    char s[16];
    if (!m || !cbor_isa_map(m) || cbor_map_size(m) != MAP_FIELDS)
        return "not a 100-pair map";
    struct cbor_pair *p = cbor_map_handle(m);
    for (int i = 0; i < MAP_FIELDS; i++) {
        cbor_item_t *v = p[i].value;
        field_key(i, s);
        if (!lc_text_eq(p[i].key, s))
            return "a key differs";
        switch (field_kind(i)) {
        case K_INT: {
            int64_t x = field_int(i);
            if (x >= 0 ? !cbor_isa_uint(v) || cbor_get_int(v) != (uint64_t)x
                       : !cbor_isa_negint(v) || cbor_get_int(v) != (uint64_t)(-1 - x))
                return "an integer differs";
            break;
        }
        case K_FLOAT:
            if (!cbor_isa_float_ctrl(v) || cbor_float_ctrl_is_ctrl(v) ||
                cbor_float_get_float(v) != field_float(i))
                return "a float differs";
            break;
        case K_TEXT:
            field_text(i, s);
            if (!lc_text_eq(v, s))
                return "a text value differs";
            break;
        default:
            if (!cbor_is_bool(v) || cbor_get_bool(v) != (field_bool(i) != 0))
                return "a bool differs";
        }
    }
    return NULL;
}

static const char *lc_map_decode_check(const uint8_t *buf, size_t n)
{
    cbor_item_t *m = lc_load_all(buf, n);
    if (!m)
        return "libcbor cannot decode it";
    const char *why = lc_map_check(m);
    cbor_decref(&m);
    return why;
}

/* The payload of a decoded tensor (a byte string inside the items), or
 * NULL. */
static cbor_item_t *lc_tensor_payload(cbor_item_t *t)
{
    if (!cbor_isa_tag(t) || cbor_tag_value(t) != 40)
        return NULL;
    cbor_item_t *arr = cbor_tag_item(t), *res = NULL;
    if (cbor_isa_array(arr) && cbor_array_size(arr) == 2) {
        cbor_item_t *ta = cbor_array_handle(arr)[1];
        if (cbor_isa_tag(ta) && cbor_tag_value(ta) == 85) {
            cbor_item_t *b = cbor_tag_item(ta);
            if (cbor_isa_bytestring(b) && cbor_bytestring_is_definite(b))
                res = b;
            cbor_decref(&b);
        }
    }
    cbor_decref(&arr);
    return res; /* still referenced by t */
}

static const char *lc_tensor_decode_check(const uint8_t *buf, size_t n)
{
    cbor_item_t *t = lc_load_all(buf, n);
    if (!t)
        return "libcbor cannot decode it";
    const char *why = NULL;
    cbor_item_t *b = lc_tensor_payload(t);
    cbor_item_t *arr = b ? cbor_tag_item(t) : NULL;
    cbor_item_t **sh = arr ? cbor_array_handle(cbor_array_handle(arr)[0]) : NULL;
    if (!b || cbor_bytestring_length(b) != TENSOR_BYTES)
        why = "not a 40([shape, 85(h'...')]) of 1 MiB";
    else if (!cbor_isa_array(cbor_array_handle(arr)[0]) ||
             cbor_array_size(cbor_array_handle(arr)[0]) != 2 || !cbor_isa_uint(sh[0]) ||
             !cbor_isa_uint(sh[1]) || cbor_get_int(sh[0]) != TENSOR_DIM ||
             cbor_get_int(sh[1]) != TENSOR_DIM)
        why = "the shape differs";
    else if (memcmp(cbor_bytestring_handle(b), g_tensor, TENSOR_BYTES))
        why = "an element differs";
    if (arr)
        cbor_decref(&arr);
    cbor_decref(&t);
    return why;
}
#endif

/* ---- the timed operations ---- */

typedef size_t (*op_fn)(void);

static size_t op_ipcn_map_enc(void) { return ipcn_map_encode(g_buf, BUF_CAP); }
static size_t op_ipcn_map_dec(void)
{
    ipcn_cbor_item *t = NULL;
    size_t k = 0;
    if (ipcn_cbor_tree_decode(g_map_enc, g_map_len, 0, &t) == IPCN_OK) {
        k = (size_t)t->count;
        ipcn_cbor_tree_free(t);
    }
    return k;
}
static size_t op_ipcn_tensor_enc(void) { return ipcn_tensor_enc(g_buf, BUF_CAP); }
static size_t op_ipcn_tensor_dec(void)
{
    ipcn_tensor t;
    if (ipcn_tensor_decode(g_tensor_enc, g_tensor_len, 0, &t) != IPCN_OK)
        return 0;
    return (size_t)((const uint8_t *)t.data - g_tensor_enc) + t.size;
}

#ifdef BENCH_HAVE_LIBCBOR
static size_t op_lc_map_enc(void) { return lc_encode(lc_map_build, g_buf, BUF_CAP); }
static size_t op_lc_map_dec(void)
{
    cbor_item_t *m = lc_load_all(g_map_enc, g_map_len);
    size_t k = 0;
    if (m) {
        k = cbor_map_size(m);
        cbor_decref(&m);
    }
    return k;
}
static size_t op_lc_tensor_enc(void) { return lc_encode(lc_tensor_build, g_buf, BUF_CAP); }
static size_t op_lc_tensor_dec(void)
{
    cbor_item_t *t = lc_load_all(g_tensor_enc, g_tensor_len);
    size_t k = 0;
    if (t) {
        cbor_item_t *b = lc_tensor_payload(t);
        k = b ? cbor_bytestring_length(b) : 0;
        cbor_decref(&t);
    }
    return k;
}
#endif

static volatile size_t g_sink;

static double run_ns(op_fn fn, long iters)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < iters; i++)
        g_sink += fn();
    return (double)(now_ns() - t0);
}

/* ns per operation: quick, a few iterations; otherwise calibrated to
 * ~0.1 s per run, best of 3. */
static double time_op(op_fn fn, bool big)
{
    if (g_opts.quick)
        return run_ns(fn, big ? 3 : 200) / (big ? 3 : 200);
    long iters = 1;
    double t;
    while ((t = run_ns(fn, iters)) < 2e7 && iters < (1L << 30))
        iters *= 2;
    iters = (long)((double)iters * 1e8 / t) + 1;
    double best = INFINITY;
    for (int k = 0; k < 3; k++) {
        t = run_ns(fn, iters) / (double)iters;
        if (t < best)
            best = t;
    }
    return best;
}

/* ---- cbor2, through /usr/bin/python3 ---- */

#define PYTHON "/usr/bin/python3"

static const char py_script[] =
    "import sys, timeit\n"
    "try:\n"
    "    import cbor2\n"
    "    from cbor2 import CBORTag\n"
    "except Exception as e:\n"
    "    print('missing', e); sys.exit(3)\n"
    "from array import array\n"
    "try:\n"
    "    from importlib.metadata import version\n"
    "    print('version', version('cbor2'))\n"
    "except Exception:\n"
    "    print('version', '?')\n"
    "quick = sys.argv[1] == '1'\n"
    "m = {}\n"
    "for i in range(100):\n"
    "    r = i % 4\n"
    "    m['field%03d' % i] = ((i - 50) * 1000003 if r == 0 else i * 1.5 + 0.1 if r == 1\n"
    "                          else 'v%03d' % i if r == 2 else (i // 4) % 2 == 1)\n"
    "a = array('f', [((i * 7) % 1000) * 0.125 - 17.0 for i in range(512 * 512)])\n"
    "if sys.byteorder != 'little':\n"
    "    a.byteswap()\n"
    "payload = a.tobytes()\n"
    "t = CBORTag(40, [[512, 512], CBORTag(85, payload)])\n"
    "mb = cbor2.dumps(m)\n"
    "tb = cbor2.dumps(t)\n"
    "d = cbor2.loads(tb)\n"
    "ok = cbor2.loads(mb) == m and d.tag == 40 and d.value[0] == [512, 512] and \\\n"
    "     d.value[1].tag == 85 and d.value[1].value == payload\n"
    "print('self_check', 'ok' if ok else 'bad')\n"
    "print('xcheck_map', 'ok' if cbor2.loads(bytes.fromhex(sys.argv[2])) == m else 'bad')\n"
    "print('map_size', len(mb))\n"
    "print('tensor_size', len(tb))\n"
    "def best(f):\n"
    "    tm = timeit.Timer(f)\n"
    "    if quick:\n"
    "        return tm.timeit(2) / 2 * 1e9\n"
    "    n, _ = tm.autorange()\n"
    "    return min(tm.repeat(3, n)) / n * 1e9\n"
    "print('map_enc', best(lambda: cbor2.dumps(m)))\n"
    "print('map_dec', best(lambda: cbor2.loads(mb)))\n"
    "print('tensor_enc', best(lambda: cbor2.dumps(t)))\n"
    "print('tensor_dec', best(lambda: cbor2.loads(tb)))\n";

typedef struct py_out {
    char version[64];
    char self_check[8], xcheck_map[8];
    double map_size, tensor_size, map_enc, map_dec, tensor_enc, tensor_dec;
} py_out;

/* Run the script: 0 and out filled; -2 not installed (why in err); -1
 * failed (err). */
static int run_cbor2(py_out *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    out->map_enc = out->map_dec = out->tensor_enc = out->tensor_dec = -1;
    if (access(PYTHON, X_OK) < 0) {
        snprintf(err, errcap, PYTHON " not found");
        return -2;
    }
    char *hex = malloc(g_map_len * 2 + 1);
    for (size_t i = 0; i < g_map_len; i++)
        sprintf(hex + 2 * i, "%02x", g_map_enc[i]);
    hex[2 * g_map_len] = 0;
    int p[2];
    if (pipe(p) < 0) {
        free(hex);
        snprintf(err, errcap, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0)
            dup2(dn, 2);
        char *const argv[] = {PYTHON, "-c", (char *)py_script, g_opts.quick ? "1" : "0",
                              hex, NULL};
        execv(PYTHON, argv);
        _exit(127);
    }
    free(hex);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        snprintf(err, errcap, "fork: %s", strerror(errno));
        return -1;
    }
    FILE *f = fdopen(p[0], "r");
    char line[256], missing[200] = "";
    while (f && fgets(line, sizeof line, f)) {
        char key[32], val[200];
        if (sscanf(line, "%31s %199[^\n]", key, val) != 2)
            continue;
        if (!strcmp(key, "missing"))
            snprintf(missing, sizeof missing, "%s", val);
        else if (!strcmp(key, "version"))
            snprintf(out->version, sizeof out->version, "%.63s", val);
        else if (!strcmp(key, "self_check"))
            snprintf(out->self_check, sizeof out->self_check, "%.7s", val);
        else if (!strcmp(key, "xcheck_map"))
            snprintf(out->xcheck_map, sizeof out->xcheck_map, "%.7s", val);
        else if (!strcmp(key, "map_size"))
            out->map_size = strtod(val, NULL);
        else if (!strcmp(key, "tensor_size"))
            out->tensor_size = strtod(val, NULL);
        else if (!strcmp(key, "map_enc"))
            out->map_enc = strtod(val, NULL);
        else if (!strcmp(key, "map_dec"))
            out->map_dec = strtod(val, NULL);
        else if (!strcmp(key, "tensor_enc"))
            out->tensor_enc = strtod(val, NULL);
        else if (!strcmp(key, "tensor_dec"))
            out->tensor_dec = strtod(val, NULL);
    }
    if (f)
        fclose(f);
    else
        close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
        snprintf(err, errcap, "cbor2 not importable by " PYTHON " (%.120s)", missing);
        return -2;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || out->tensor_dec < 0) {
        snprintf(err, errcap, PYTHON " with cbor2 failed (wait status %d)", st);
        return -1;
    }
    return 0;
}

/* ---- the benchmark ---- */

static row *new_row(const char *impl, const char *variant, size_t size)
{
    row *r = row_new("cbor", impl, variant);
    r->size = size;
    return r;
}

static void check_or_fail(row *r, const char *what, const char *why)
{
    if (why && r->status != ROW_FAILED)
        row_fail(r, "wrong data: %s: %s", what, why);
}

void bench_cbor(void)
{
    g_tensor = malloc(TENSOR_BYTES);
    g_buf = malloc(BUF_CAP);
    g_map_enc = malloc(4096);
    g_tensor_enc = malloc(BUF_CAP);
    if (!g_tensor || !g_buf || !g_map_enc || !g_tensor_enc) {
        row_fail(new_row("ipcnet", "map", 0), "out of memory");
        goto out;
    }
    tensor_fill();
    g_map_len = ipcn_map_encode(g_map_enc, 4096);
    g_tensor_len = ipcn_tensor_enc(g_tensor_enc, BUF_CAP);

    if (want_transport("ipcnet")) {
        row *m = new_row("ipcnet", "map", g_map_len);
        row *t = new_row("ipcnet", "tensor", g_tensor_len);
        if (!g_map_len)
            row_fail(m, "encoding failed");
        if (!g_tensor_len)
            row_fail(t, "encoding failed");
        if (m->status == ROW_OK)
            check_or_fail(m, "IPCNet decodes its own map", ipcn_map_decode_check(g_map_enc, g_map_len));
        if (t->status == ROW_OK)
            check_or_fail(t, "IPCNet decodes its own tensor",
                          ipcn_tensor_decode_check(g_tensor_enc, g_tensor_len));
        snprintf(m->note, sizeof m->note, "decode: ipcn_cbor_tree_decode (one allocation)");
        snprintf(t->note, sizeof t->note,
                 "encode: ipcn_tensor_encode into a buffer; decode: ipcn_tensor_decode, a view "
                 "(checked inside the input)");
        if (m->status == ROW_OK) {
            m->enc_ns = time_op(op_ipcn_map_enc, false);
            m->dec_ns = time_op(op_ipcn_map_dec, false);
        }
        if (t->status == ROW_OK) {
            t->enc_ns = time_op(op_ipcn_tensor_enc, true);
            t->dec_ns = time_op(op_ipcn_tensor_dec, true);
            /* still the same bytes after the timed encodes into g_buf */
            if (memcmp(g_buf, g_tensor_enc, g_tensor_len))
                row_fail(t, "wrong data: a timed encode differs from the first");
        }
    }

    if (want_transport("libcbor")) {
#ifdef BENCH_HAVE_LIBCBOR
        char variant[40];
        snprintf(variant, sizeof variant, "map");
        row *m = new_row("libcbor", variant, 0);
        row *t = new_row("libcbor", "tensor", 0);
        uint8_t *lm = malloc(4096), *lt = malloc(BUF_CAP);
        size_t lmn = lm ? lc_encode(lc_map_build, lm, 4096) : 0;
        size_t ltn = lt ? lc_encode(lc_tensor_build, lt, BUF_CAP) : 0;
        m->size = lmn;
        t->size = ltn;
        if (!lmn)
            row_fail(m, "libcbor encoding failed");
        if (!ltn)
            row_fail(t, "libcbor encoding failed");
        if (m->status == ROW_OK) {
            check_or_fail(m, "libcbor decodes its own map", lc_map_decode_check(lm, lmn));
            check_or_fail(m, "libcbor decodes IPCNet's map",
                          lc_map_decode_check(g_map_enc, g_map_len));
            check_or_fail(m, "IPCNet decodes libcbor's map", ipcn_map_decode_check(lm, lmn));
        }
        if (t->status == ROW_OK) {
            check_or_fail(t, "libcbor decodes its own tensor", lc_tensor_decode_check(lt, ltn));
            check_or_fail(t, "libcbor decodes IPCNet's tensor",
                          lc_tensor_decode_check(g_tensor_enc, g_tensor_len));
            check_or_fail(t, "IPCNet decodes libcbor's tensor", ipcn_tensor_decode_check(lt, ltn));
        }
        free(lm);
        free(lt);
        snprintf(m->note, sizeof m->note,
                 "libcbor %d.%d.%d; encode: build the items + cbor_serialize into a buffer; "
                 "decode: cbor_load (IPCNet's encoding)",
                 CBOR_MAJOR_VERSION, CBOR_MINOR_VERSION, CBOR_PATCH_VERSION);
        snprintf(t->note, sizeof t->note,
                 "libcbor %d.%d.%d; the payload is copied into its byte-string item on encode "
                 "and on decode (cbor_load)",
                 CBOR_MAJOR_VERSION, CBOR_MINOR_VERSION, CBOR_PATCH_VERSION);
        if (m->status == ROW_OK) {
            m->enc_ns = time_op(op_lc_map_enc, false);
            m->dec_ns = time_op(op_lc_map_dec, false);
        }
        if (t->status == ROW_OK) {
            t->enc_ns = time_op(op_lc_tensor_enc, true);
            t->dec_ns = time_op(op_lc_tensor_dec, true);
        }
#else
        row_set_status(new_row("libcbor", "map", 0), ROW_NOT_INSTALLED,
                       "built without libcbor (libcbor-dev)");
        row_set_status(new_row("libcbor", "tensor", 0), ROW_NOT_INSTALLED,
                       "built without libcbor (libcbor-dev)");
#endif
    }

    if (want_transport("cbor2")) {
        py_out py;
        char err[200] = "";
        int rc = run_cbor2(&py, err, sizeof err);
        row *m = new_row("cbor2", "map", (size_t)py.map_size);
        row *t = new_row("cbor2", "tensor", (size_t)py.tensor_size);
        if (rc == -2) {
            row_set_status(m, ROW_NOT_INSTALLED, "%s", err);
            row_set_status(t, ROW_NOT_INSTALLED, "%s", err);
        } else if (rc < 0) {
            row_set_status(m, ROW_UNAVAILABLE, "%s", err);
            row_set_status(t, ROW_UNAVAILABLE, "%s", err);
        } else {
            if (strcmp(py.xcheck_map, "ok"))
                row_fail(m, "wrong data: cbor2 decodes IPCNet's map to different values");
            if (strcmp(py.self_check, "ok")) {
                row_set_status(m, ROW_UNAVAILABLE, "cbor2 does not round-trip the values");
                row_set_status(t, ROW_UNAVAILABLE, "cbor2 does not round-trip the values");
            }
            if (m->status == ROW_OK) {
                m->enc_ns = py.map_enc;
                m->dec_ns = py.map_dec;
                snprintf(m->note, sizeof m->note,
                         "cbor2 %s in " PYTHON ", timeit (reference: Python)", py.version);
            }
            if (t->status == ROW_OK) {
                t->enc_ns = py.tensor_enc;
                t->dec_ns = py.tensor_dec;
                snprintf(t->note, sizeof t->note,
                         "cbor2 %s in " PYTHON ", timeit; CBORTag(40, [shape, CBORTag(85, "
                         "bytes)])", py.version);
            }
        }
    }
out:
    free(g_tensor);
    free(g_buf);
    free(g_map_enc);
    free(g_tensor_enc);
    g_tensor = NULL;
    g_buf = g_map_enc = g_tensor_enc = NULL;
}

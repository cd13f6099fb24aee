/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c — writes the seed corpora of the fuzz harnesses:
 *   gen_corpus <dir>      (normally tests/fuzz/corpus)
 * <dir>/frame/<type>: one frame per message type (the test vectors of
 * docs/protocol.md), plus a stream of all of them; <dir>/names/: pattern
 * and path pairs ("pattern\0path") and single strings for the validators;
 * <dir>/cbor/: RFC 8949 Appendix A's examples, tensors of every dtype and
 * encoding strings (see fuzz_cbor.c); <dir>/schema/: a type and a value
 * each, as fuzz_schema.c reads them (u16le length of the type first).
 * <dir>/mcap/: small MCAP files (src/mcap/): complete with zstd and without
 * compression, one whose writer never closed it, and one cut in a chunk.
 * The seeds are checked in; run this again only when the vectors change
 * (test_fuzz_replay checks that the frame seeds are the vectors).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cbor_lit.h"
#include "../unit/cbor_vectors.h"
#include "../unit/vectors.h"
#include "../value/cbor_render.h"
#include "util/util.h"
#include "mcap.h"
#include "wire/prov.h"

#include <sodium.h>

static int write_file(const char *dir, const char *sub, const char *name,
                      const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* Names seeds: A "\0" B pairs (see fuzz_names.c). */
#define PAIR(a, b) a "\0" b
static const struct {
    const char *name;
    const char *s;
    size_t n;
} names_seeds[] = {
#define N(name, lit) {name, lit, sizeof(lit) - 1}
    N("literal", PAIR("robot/arm/left/state", "robot/arm/left/state")),
    N("star", PAIR("cam/*/rgb", "cam/front/rgb")),
    N("dstar-end", PAIR("a/**", "a")),
    N("dstar-start", PAIR("**/c", "a/b/c")),
    N("dstar-mid", PAIR("a/**/b", "a/x/y/b")),
    N("dstar-many", PAIR("**/*/**/x/**", "a/b/x/c")),
    N("no-match", PAIR("a/*/c", "a/b/d")),
    N("utf8", PAIR("caf\xc3\xa9/*", "caf\xc3\xa9/\xf0\x9f\x98\x80")),
    N("bad-utf8", PAIR("\xed\xa0\x80/*", "\xc0\xaf")),
    N("name", "chat.left"),
    N("encoding", "audio/pcm;rate=48000;channels=2;format=s16le"),
    N("empty-segments", PAIR("a//**", "/a/")),
#undef N
};

/* CBOR seeds: Appendix A, a tensor per dtype, a column-major one, a
 * deterministic map, and encoding strings. */
static int write_cbor_seeds(const char *dir)
{
    char name[64];
    uint8_t buf[512];
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(cbor_appendix_a); i++) {
        size_t n = cr_unhex(cbor_appendix_a[i].hex, buf, sizeof buf);
        snprintf(name, sizeof name, "rfc8949-a-%02zu", i);
        if (write_file(dir, "cbor", name, buf, n) != 0)
            return 1;
    }
    for (int d = IPCN_DTYPE_BOOL; d <= IPCN_DTYPE_FLOAT64; d++) {
        uint8_t data[8 * 6];
        for (size_t k = 0; k < sizeof data; k++)
            data[k] = d == IPCN_DTYPE_BOOL ? k % 2 : (uint8_t)(k * 29 + 3);
        int64_t shape[2] = {2, 3};
        ipcn_tensor t;
        ipcn_cbor_writer w;
        size_t n;
        ipcn_tensor_init(&t, (ipcn_dtype)d, 2, shape, data);
        t.order = d % 2 ? IPCN_ORDER_BIG : IPCN_ORDER_LITTLE;
        ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
        ipcn_tensor_encode(&w, &t);
        if (ipcn_cbor_writer_finish(&w, &n) != IPCN_OK)
            return 1;
        snprintf(name, sizeof name, "tensor-%s", ipcn_dtype_name(t.dtype));
        if (write_file(dir, "cbor", name, buf, n) != 0)
            return 1;
    }
    static const struct {
        const char *name, *hex;
    } extra[] = {
        {"tensor-colmajor", "d90410 82 82 02 03 d8 46 58 18 000000000300000001"
                            "000000040000000200000005000000"},
        {"tensor-bare", "d8 55 48 0000803f00000040"},
        {"det-map", "a3 01 00 20 81 f97e00 6161 a1 40 80"},
        {"indef-everything", "bf 7f 61 61 ff 5f 41 01 ff 9f c1 bf ff ff ff"},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(extra); i++) {
        size_t n = cr_unhex(extra[i].hex, buf, sizeof buf);
        if (write_file(dir, "cbor", extra[i].name, buf, n) != 0)
            return 1;
    }
    static const char *const enc[] = {
        "video/raw;format=rgb24;width=640;height=480",
        "pointcloud;fields=x,y,z,intensity;dtype=float32",
        "text/plain; charset=\"utf-8\"",
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(enc); i++) {
        snprintf(name, sizeof name, "encoding-%zu", i);
        if (write_file(dir, "cbor", name, enc[i], strlen(enc[i])) != 0)
            return 1;
    }
    return 0;
}

/* The extensions of issue 17 (protocol 3), malformed: a seed for each
 * rule of protocol 17.25 that bears on them, checksum right, so that the
 * first pass of the harness reaches the decoder with them too. */
static int write_ext_seed(const char *dir, const char *name, const char *vec_name,
                          size_t at_from_end, uint8_t val, size_t span, size_t cut)
{
    const vec *v = NULL;
    for (size_t i = 0; i < VEC_COUNT; i++)
        if (!strcmp(vecs[i].name, vec_name))
            v = &vecs[i];
    uint8_t b[512];
    if (!v || v->len > sizeof b || cut >= v->len - IPCN_WIRE_HDR_SIZE)
        return -1;
    memcpy(b, v->bytes, v->len);
    if (at_from_end)
        memset(b + v->len - at_from_end, val, span);
    size_t len = v->len - cut;
    uint32_t pl = (uint32_t)(len - IPCN_WIRE_HDR_SIZE);
    for (int i = 0; i < 4; i++)
        b[12 + i] = (uint8_t)(pl >> (8 * i));
    uint64_t c = ipcn__frame_checksum(b, b + IPCN_WIRE_HDR_SIZE, pl);
    for (int i = 0; i < 8; i++)
        b[40 + i] = (uint8_t)(c >> (8 * i));
    return write_file(dir, "frame", name, b, len);
}

static int write_ext_seeds(const char *dir)
{
    /* name, vector, bytes [len - at, len - at + span) set to val, cut */
    return write_ext_seed(dir, "announce_owned-badflag", "announce_owned", 4, 5, 1, 0) ||
           write_ext_seed(dir, "announce_owned-once", "announce_owned", 4, 2, 1, 0) ||
           write_ext_seed(dir, "announce_owned-reserved", "announce_owned", 1, 1, 1, 0) ||
           write_ext_seed(dir, "announce_owned-short", "announce_owned", 0, 0, 0, 4) ||
           write_ext_seed(dir, "request_id-zero", "request_id", 8, 0, 8, 0) ||
           write_ext_seed(dir, "reply_load-reserved", "reply_load", 4, 1, 1, 0) ||
           write_ext_seed(dir, "reply_load-short", "reply_load", 0, 0, 0, 4) ||
           /* issue 21: the keep of ANNOUNCE's extension (protocol 10.3) */
           write_ext_seed(dir, "announce_keep-zero", "announce_keep", 2, 0, 1, 0) ||
           write_ext_seed(dir, "announce_keep-over", "announce_keep", 1, 5, 1, 0) ||
           write_ext_seed(dir, "announce_keep-reserved", "announce_keep", 3, 1, 1, 0) ||
           /* issue 21: STATE's extension: liveness 0, over a day, reserved */
           write_ext_seed(dir, "state_liveness-zero", "state_liveness", 8, 0, 4, 0) ||
           write_ext_seed(dir, "state_liveness-day", "state_liveness", 5, 0x10, 1, 0) ||
           write_ext_seed(dir, "state_liveness-reserved", "state_liveness", 1, 1, 1, 0) ||
           write_ext_seed(dir, "state_liveness-short", "state_liveness", 0, 0, 0, 4) ||
           /* issue 19: QUERY's extension (protocol 10.6): version 0 */
           write_ext_seed(dir, "query_version-zero", "query_version", 8, 0, 8, 0) ||
           /* issue 20: SHM_REQUEST's timeout over 32 bits (protocol 12.9) */
           write_ext_seed(dir, "shm_request-timeout", "shm_request", 93, 1, 1, 0);
}

/* Schema seeds: u16le k, a type of k bytes, a value (fuzz_schema.c).  A
 * NULL literal is the tensor t (float32 [2, 3]) encoded. */
static size_t schema_part(const char *lit, uint8_t *out, size_t cap)
{
    if (lit)
        return cl_cbor(lit, out, cap);
    static const float e[6] = {1, 2, 3, 4, 5, 6};
    const int64_t shape[2] = {2, 3};
    ipcn_tensor t;
    ipcn_cbor_writer w;
    size_t n = 0;
    ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 2, shape, (void *)e);
    ipcn_cbor_writer_init(&w, out, cap, 0);
    ipcn_tensor_encode(&w, &t);
    ipcn_cbor_writer_finish(&w, &n);
    return n;
}

#define POSE_T "{\"map\": {\"x\": \"float\", \"y\": \"float\", \"tag\": {\"optional\": \"text\"}}}"
static const struct {
    const char *name, *type, *value;
} schema_seeds[] = {
    {"pose-ok", POSE_T, "{\"x\": 1.5, \"y\": 2, \"tag\": \"a\"}"},
    {"pose-bad", POSE_T, "{\"x\": \"1\", \"y\": 2, \"z\": null}"},
    {"int-for-float", "\"float\"", "2"},
    {"nested",
     "{\"map\": {\"tags\": {\"array\": \"text\"}, \"parent\": {\"nullable\": "
     "{\"map\": {\"id\": \"uint\"}}}, \"grid\": {\"array\": {\"array\": \"number\"}}}}",
     "{\"tags\": [\"a\"], \"parent\": {\"id\": 3}, \"grid\": [[1, 2.5], []]}"},
    {"primitives", "{\"array\": \"any\"}",
     "[null, true, -1, 1.5, \"t\", h'00ff', [], {}]"},
    {"tensor", "\"tensor\"", NULL},
    {"tensor-in-map", "{\"map\": {\"t\": \"tensor\", \"n\": \"int\"}}", "{\"n\": 1, \"t\": [1]}"},
    {"meta", "{\"rate\": 10, \"schema\": " POSE_T "}", "{\"x\": 1, \"y\": 2}"},
    {"invalid-optional", "{\"optional\": \"int\"}", "1"},
    {"invalid-twice", "{\"map\": {\"a\": \"int\", \"a\": \"int\"}}", "{\"a\": 1}"},
};

static int write_schema_seeds(const char *dir)
{
    static uint8_t buf[2 + 8192 + 4096];
    for (size_t i = 0; i < sizeof schema_seeds / sizeof schema_seeds[0]; i++) {
        size_t k = schema_part(schema_seeds[i].type, buf + 2, 8192);
        size_t v = schema_part(schema_seeds[i].value, buf + 2 + k, 4096);
        buf[0] = (uint8_t)k;
        buf[1] = (uint8_t)(k >> 8);
        if (write_file(dir, "schema", schema_seeds[i].name, buf, 2 + k + v) != 0)
            return -1;
    }
    /* 16 types deep, a value deeper than any type; a map of many fields
     * (32: the replay flips every bit of each seed, and the bound itself,
     * 128, is test_schema's) */
    char lit[4096];
    size_t n = 0;
    for (int d = 1; d < 16; d++)
        n += (size_t)snprintf(lit + n, sizeof lit - n, "{\"array\": ");
    n += (size_t)snprintf(lit + n, sizeof lit - n, "\"int\"");
    for (int d = 1; d < 16; d++)
        n += (size_t)snprintf(lit + n, sizeof lit - n, "}");
    size_t k = cl_cbor(lit, buf + 2, 8192);
    size_t v = cl_cbor("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", buf + 2 + k, 4096);
    buf[0] = (uint8_t)k;
    buf[1] = (uint8_t)(k >> 8);
    if (write_file(dir, "schema", "deep", buf, 2 + k + v) != 0)
        return -1;
    n = (size_t)snprintf(lit, sizeof lit, "{\"map\": {");
    for (int f = 0; f < 32; f++)
        n += (size_t)snprintf(lit + n, sizeof lit - n, "%s\"f%d\": \"int\"",
                              f ? ", " : "", f);
    snprintf(lit + n, sizeof lit - n, "}}");
    k = cl_cbor(lit, buf + 2, 8192);
    v = cl_cbor("{\"f31\": 1, \"f0\": 2}", buf + 2 + k, 4096);
    buf[0] = (uint8_t)k;
    buf[1] = (uint8_t)(k >> 8);
    return write_file(dir, "schema", "fields-32", buf, 2 + k + v);
}

/* JSON seeds (fuzz_json.c reads each as JSON and as CBOR): texts valid
 * and not, and CBOR items with the keys its getter paths name. */
static int write_json_seeds(const char *dir)
{
    static const struct {
        const char *name, *text;
    } texts[] = {
        {"rfc-map", "{\"a\":1,\"b\":[2,3]}"},
        {"robot", "{\"threshold\": 0.5, \"ids\": [1, 2], \"pose\": {\"position\": "
                  "{\"x\": 1.5, \"y\": -2}}, \"name\": \"arm\", \"ok\": true, \"none\": null}"},
        {"numbers", "[0, -0, -0.0, 1e400, -1E-400, 18446744073709551615, "
                    "-18446744073709551616, 18446744073709551616, 0.1, 5e-324, 1.5e+3]"},
        {"escapes", "\"\\u00fc\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000 \xe6\xb0\xb4\""},
        {"nested", "[[[[[[[[{\"a\":[{\"b\":{}}]}]]]]]]]]"},
        {"dup-keys", "{\"k\":1,\"k\":2,\"a\":{\"b\":[]}}"},
        {"bad-trailing", "[1,2,]"},
        {"bad-surrogate", "\"\\ud800\\u0041\""},
        {"bad-bom", "\xef\xbb\xbf{}"},
        {"bad-utf8", "\"\xc0\xaf\""},
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (write_file(dir, "json", texts[i].name, texts[i].text,
                       strlen(texts[i].text)) != 0)
            return -1;
    static const struct {
        const char *name, *hex;
    } items[] = {
        /* {"a": {"b": 1.5}, "k": [0, 1, {"v": "t"}], "x": {"y": {"z": [1, 2]}}} */
        {"cbor-paths", "a3 6161 a1 6162 f93e00 616b 83 00 01 a1 6176 6174"
                       " 6178 a1 6179 a1 617a 82 01 02"},
        /* the same with indefinite lengths and a chunked key */
        {"cbor-indef", "bf 6161 bf 7f 6162 ff f93e00 ff 616b 9f 00 01 ff ff"},
        /* [{"a": 2.0}, [h'00', 1(5)], -1] */
        {"cbor-array", "83 a1 6161 f94000 82 4100 c105 20"},
        /* a 2x2 float32 tensor under "a", a non-text key, undefined */
        {"cbor-tensor", "a3 6161 d828 82 820202 d85550 0000803f 00000040 00004040 00008040"
                        " 01 f7 820102 f6"},
    };
    for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
        uint8_t b[128];
        size_t n = cr_unhex(items[i].hex, b, sizeof b);
        if (ipcn_cbor_check(b, n, 0) != IPCN_OK) {
            fprintf(stderr, "json seed %s is not well-formed\n", items[i].name);
            return -1;
        }
        if (write_file(dir, "json", items[i].name, b, n) != 0)
            return -1;
    }
    return 0;
}

/* MCAP seeds: a recording of two channels written by the writer itself
 * (through a temporary file), whole and cut. */
static int write_mcap_one(const char *dir, const char *name, int compress, int close_it,
                          long cut)
{
    /* In the corpus folder (which the caller made), not a fixed /tmp. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/.gen-mcap.XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    close(fd);
    mcap_write_opts o;
    mcap_write_opts_init(&o);
    o.compress = compress;
    o.chunk_size = 200;
    o.profile = "ipcnet";
    mcap_writer *w;
    uint16_t s, a, b;
    const char *k[] = {"ipcnet.kind", "ipcnet.encoding"};
    const char *v[] = {"stream", "video/raw;format=gray8;width=4;height=2"};
    if (mcap_writer_open(&w, tmp, &o) != 0 ||
        mcap_writer_add_schema(w, v[1], "ipcnet.encoding", NULL, 0, &s) != 0 ||
        mcap_writer_add_channel(w, s, "cam/front", v[1], k, v, 2, &a) != 0 ||
        mcap_writer_add_channel(w, 0, "robot/state", "cbor", k, v, 1, &b) != 0) {
        unlink(tmp);
        return -1;
    }
    for (uint32_t i = 1; i <= 12; i++) {
        uint8_t img[8] = {(uint8_t)i, 1, 2, 3, 4, 5, 6, 7};
        uint8_t cbor[3] = {0xa1, 0x00, (uint8_t)(i & 0x17)};
        mcap_writer_message(w, i % 3 ? b : a, i, 1000u * i, 999u * i,
                            i % 3 ? (const void *)cbor : img, i % 3 ? 3 : 8);
    }
    if (close_it) {
        if (mcap_writer_close(w) != 0) {
            unlink(tmp);
            return -1;
        }
    } else {
        mcap_writer_flush(w);
        mcap_writer_abandon(w);
    }
    FILE *f = fopen(tmp, "rb");
    uint8_t buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    unlink(tmp);
    if (cut > 0 && (size_t)cut < n)
        n = (size_t)cut;
    return write_file(dir, "mcap", name, buf, n);
}

static int write_mcap_seeds(const char *dir)
{
    return write_mcap_one(dir, "zstd", 1, 1, 0) || write_mcap_one(dir, "plain", 0, 1, 0) ||
           write_mcap_one(dir, "no-footer", 1, 0, 0) || write_mcap_one(dir, "cut", 0, 1, 700);
}

/* Provenance seeds (fuzz_prov.c: the first byte chooses the parser): a
 * record with and without parents, a checkpoint, a proof whose chain and
 * signature verify, a SAMPLE carrying a record. */
static int write_prov_seed(const char *dir, const char *name, uint8_t which,
                           const uint8_t *b, size_t n)
{
    uint8_t buf[4096];
    if (n + 1 > sizeof buf)
        return -1;
    buf[0] = which;
    memcpy(buf + 1, b, n);
    return write_file(dir, "prov", name, buf, n + 1);
}

static int write_prov_seeds(const char *dir)
{
    if (sodium_init() < 0)
        return -1;
    ipcn_prov_record r;
    memset(&r, 0, sizeof r);
    r.node_id = 0x0102030405060708ull;
    r.index = 1;
    r.seq = 1;
    r.time_ns = 1700000000000000000ull;
    crypto_generichash(r.path_hash, 32, (const uint8_t *)"cam/rgb", 7, NULL, 0);
    crypto_generichash(r.digest, 32, (const uint8_t *)"frame", 5, NULL, 0);
    strcpy(r.node, "camera");
    strcpy(r.principal, "uid:1000");
    uint8_t rec[IPCN_PROV_RECORD_MAX], rec2[IPCN_PROV_RECORD_MAX];
    size_t rl = ipcn__prov_encode(&r, rec, sizeof rec);
    ipcn_prov_record d = r;
    d.node_id = 0x2122232425262728ull;
    d.index = 2;
    strcpy(d.node, "detector");
    d.flags = IPCN_PROV_PASSTHROUGH;
    d.nparents = 2;
    d.parents[0] = (ipcn_prov_ref){.node_id = r.node_id, .index = 1, .seq = 1};
    d.parents[1] = (ipcn_prov_ref){.node_id = r.node_id, .index = 9, .seq = 9};
    size_t rl2 = ipcn__prov_encode(&d, rec2, sizeof rec2);
    if (!rl || !rl2 || write_prov_seed(dir, "record", 0, rec, rl) ||
        write_prov_seed(dir, "record-parents", 0, rec2, rl2))
        return -1;
    /* a proof of record 1: h_0 from a key, h_1, a signed checkpoint */
    uint8_t pk[32], sk[64], h[32], ck[IPCN_PROV_CKPT_SIZE];
    crypto_sign_keypair(pk, sk);
    crypto_generichash(h, 32, pk, 32, NULL, 0); /* any h_0 will do */
    uint8_t proof[40 + 4 + IPCN_PROV_RECORD_MAX + IPCN_PROV_CKPT_SIZE];
    memset(proof, 0, 40);
    proof[0] = 1;
    proof[2] = 1;
    memcpy(proof + 8, h, 32);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, h, 32);
    crypto_generichash_update(&st, rec, rl);
    ipcn__prov_ckpt c = {.node_id = r.node_id, .index = 1, .time_ns = r.time_ns};
    crypto_generichash_final(&st, c.head, 32);
    memcpy(c.pubkey, pk, 32);
    ipcn__prov_ckpt_encode(&c, ck);
    uint8_t msg[IPCN_PROV_CTX_LEN + IPCN_PROV_CKPT_SIGNED];
    memcpy(msg, IPCN_PROV_CKPT_CTX, IPCN_PROV_CTX_LEN);
    memcpy(msg + IPCN_PROV_CTX_LEN, ck, IPCN_PROV_CKPT_SIGNED);
    crypto_sign_detached(ck + IPCN_PROV_CKPT_SIGNED, NULL, msg, sizeof msg, sk);
    proof[40] = (uint8_t)rl;
    memcpy(proof + 44, rec, rl);
    memcpy(proof + 44 + rl, ck, sizeof ck);
    if (write_prov_seed(dir, "checkpoint", 1, ck, sizeof ck) ||
        write_prov_seed(dir, "proof", 2, proof, 44 + rl + sizeof ck))
        return -1;
    ipcn__wbuf w = {0};
    ipcn__hdr hd = {.version = 1, .ttl = 8, .src = r.node_id};
    ipcn__sample sa = {.seq = 1, .timestamp_ns = r.time_ns,
                       .path = ipcn__str_of("cam/rgb"),
                       .encoding = ipcn__str_of("text/plain"),
                       .data = ipcn__blob_of("frame", 5)};
    int bad = ipcn__enc_sample_prov(&w, &hd, &sa, rec2, (uint32_t)rl2) != IPCN_OK ||
              write_prov_seed(dir, "sample", 3, w.p, w.len);
    ipcn__wbuf_free(&w);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    ipcn__wbuf all = {0};
    for (size_t i = 0; i < VEC_COUNT; i++) {
        if (write_file(dir, "frame", vecs[i].name, vecs[i].bytes,
                       vecs[i].len) != 0)
            return 1;
        ipcn__wbuf_bytes(&all, vecs[i].bytes, vecs[i].len);
    }
    if (all.oom || write_file(dir, "frame", "stream", all.p, all.len) != 0)
        return 1;
    if (write_ext_seeds(dir) != 0)
        return 1;
    ipcn__wbuf_free(&all);
    for (size_t i = 0; i < sizeof names_seeds / sizeof names_seeds[0]; i++)
        if (write_file(dir, "names", names_seeds[i].name, names_seeds[i].s,
                       names_seeds[i].n) != 0)
            return 1;
    /* the longest hostile pattern against the longest path */
    char hostile[2 * IPCN_PATH_MAX + 2];
    size_t n = 0;
    while (n + 4 <= IPCN_PATH_MAX) {
        memcpy(hostile + n, "**/", 3);
        n += 3;
    }
    hostile[n++] = 'x';
    hostile[n++] = 0;
    for (size_t k = 0; k < IPCN_PATH_MAX; k++)
        hostile[n++] = k % 2 ? '/' : 'a';
    if (write_file(dir, "names", "hostile", hostile, n) != 0)
        return 1;
    return write_cbor_seeds(dir) || write_schema_seeds(dir) || write_json_seeds(dir) ||
           write_mcap_seeds(dir) || write_prov_seeds(dir);
}

/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c — writes the seed corpora of the fuzz harnesses:
 *   gen_corpus <dir>      (normally tests/fuzz/corpus)
 * <dir>/frame/<type>: one frame per message type (the test vectors of
 * docs/protocol.md), plus a stream of all of them; <dir>/names/: pattern
 * and path pairs ("pattern\0path") and single strings for the validators;
 * <dir>/cbor/: RFC 8949 Appendix A's examples, tensors of every dtype and
 * encoding strings (see fuzz_cbor.c).
 * The seeds are checked in; run this again only when the vectors change
 * (test_fuzz_replay checks that the frame seeds are the vectors).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../unit/cbor_vectors.h"
#include "../unit/vectors.h"
#include "../value/cbor_render.h"
#include "util/util.h"

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
           write_ext_seed(dir, "announce_keep-reserved", "announce_keep", 3, 1, 1, 0);
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
    return write_cbor_seeds(dir);
}

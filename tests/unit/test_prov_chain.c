/* SPDX-License-Identifier: MIT */
/*
 * test_prov_chain.c — the provenance codec and chain (src/wire/prov.c,
 * src/engine/prov.c; docs/protocol.md 20):
 *  - the test vectors 17.31..17.35, made here from their stated inputs and
 *    compared byte for byte with the hex dumps in docs/protocol.md (read
 *    from the source tree), so the document, the encoder and the decoder
 *    cannot drift apart; each decodes and re-encodes to the same bytes;
 *  - every malformed record the rules refuse is refused (truncations,
 *    trailing bytes, reserved bits, counts), and so are the malformed
 *    SAMPLE extensions of 17.35's list;
 *  - a proof verifies, and every single flipped byte of it (records,
 *    previous hash, checkpoint, signature) fails;
 *  - a node's chain: checkpoints every 64 records, proofs of records kept,
 *    203 for one no longer kept.
 * Set PROV_PRINT=1 to print the vectors as the document shows them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "engine/engine.h"
#include "engine/prov.h"
#include "engine/sys.h"
#include "testutil.h"
#include "wire/prov.h"
#include "wire/wire.h"

#define ID_CAMERA 0x0102030405060708ull
#define ID_DETECTOR 0x2122232425262728ull
#define T0 1700000000000000000ull

static const uint8_t frame6[] = {0xff, 0, 0, 0, 0xff, 0};
/* Another key (added to the seed's bytes) and another seq for the camera's
 * record, for test_pin (0 for the vectors). */
static uint8_t key_alt;
static uint64_t seq_alt;

/* ---- the vectors ---- */

static void rec_camera(ipcn_prov_record *r)
{
    memset(r, 0, sizeof *r);
    r->node_id = ID_CAMERA;
    r->index = 1;
    r->seq = 1 + seq_alt;
    r->time_ns = T0;
    crypto_generichash(r->path_hash, 32, (const uint8_t *)"cam/front/rgb", 13,
                       NULL, 0);
    crypto_generichash(r->digest, 32, frame6, sizeof frame6, NULL, 0);
    strcpy(r->node, "camera");
    strcpy(r->principal, "uid:1000");
}

static void rec_detector(ipcn_prov_record *r)
{
    ipcn_prov_record cam;
    rec_camera(&cam);
    memset(r, 0, sizeof *r);
    r->node_id = ID_DETECTOR;
    r->index = 7;
    r->seq = 3;
    r->time_ns = T0 + 5000000;
    crypto_generichash(r->path_hash, 32, (const uint8_t *)"det/boxes", 9,
                       NULL, 0);
    crypto_generichash(r->digest, 32, (const uint8_t *)"boxes", 5, NULL, 0);
    strcpy(r->node, "detector");
    strcpy(r->principal, "uid:1000");
    r->nparents = 1;
    r->parents[0] = (ipcn_prov_ref){.node_id = cam.node_id, .index = cam.index,
                                    .seq = cam.seq};
    memcpy(r->parents[0].path_hash, cam.path_hash, 32);
    memcpy(r->parents[0].digest, cam.digest, 32);
}

/* camera's key from the seed 00 01 .. 1f; h_0; the checkpoint after the
 * record of 17.31, at T0 + 1 ms. */
static size_t make_ckpt(uint8_t out[156], uint8_t h0[32])
{
    uint8_t seed[32], pk[32], sk[64], rec[IPCN_PROV_RECORD_MAX];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i + key_alt);
    crypto_sign_seed_keypair(pk, sk, seed);
    uint8_t start[16 + 8 + 32];
    memcpy(start, IPCN_PROV_CHAIN_CTX, 16);
    for (int i = 0; i < 8; i++)
        start[16 + i] = (uint8_t)(ID_CAMERA >> (8 * i));
    memcpy(start + 24, pk, 32);
    crypto_generichash(h0, 32, start, sizeof start, NULL, 0);
    ipcn_prov_record r;
    rec_camera(&r);
    size_t rl = ipcn__prov_encode(&r, rec, sizeof rec);
    ipcn__prov_ckpt c = {.node_id = ID_CAMERA, .index = 1,
                         .time_ns = T0 + 1000000};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, h0, 32);
    crypto_generichash_update(&st, rec, rl);
    crypto_generichash_final(&st, c.head, 32);
    memcpy(c.pubkey, pk, 32);
    ipcn__prov_ckpt_encode(&c, out);
    uint8_t msg[16 + IPCN_PROV_CKPT_SIGNED];
    memcpy(msg, IPCN_PROV_CKPT_CTX, 16);
    memcpy(msg + 16, out, IPCN_PROV_CKPT_SIGNED);
    crypto_sign_detached(out + IPCN_PROV_CKPT_SIGNED, NULL, msg, sizeof msg, sk);
    return IPCN_PROV_CKPT_SIZE;
}

static size_t make_vector(int which, uint8_t *out, size_t cap)
{
    ipcn_prov_record r;
    uint8_t rec[IPCN_PROV_RECORD_MAX], ck[156], h0[32];
    size_t rl;
    switch (which) {
    case 31:
        rec_camera(&r);
        return ipcn__prov_encode(&r, out, cap);
    case 32:
        rec_detector(&r);
        return ipcn__prov_encode(&r, out, cap);
    case 33:
        return make_ckpt(out, h0);
    case 34: {
        rec_camera(&r);
        rl = ipcn__prov_encode(&r, rec, sizeof rec);
        ipcn__wbuf w = {0};
        ipcn__hdr h = {.version = 1, .ttl = 8, .src = ID_CAMERA};
        ipcn__sample s = {.seq = 1, .timestamp_ns = T0,
                          .path = ipcn__str_of("cam/front/rgb"),
                          .encoding = ipcn__str_of("video/raw;format=rgb24"),
                          .data = ipcn__blob_of(frame6, sizeof frame6)};
        assert_int_equal(ipcn__enc_sample_prov(&w, &h, &s, rec, (uint32_t)rl),
                         IPCN_OK);
        assert_true(w.len <= cap);
        memcpy(out, w.p, w.len);
        size_t n = w.len;
        ipcn__wbuf_free(&w);
        return n;
    }
    case 35: {
        make_ckpt(ck, h0);
        rec_camera(&r);
        rl = ipcn__prov_encode(&r, rec, sizeof rec);
        size_t n = 40 + 4 + rl + 156;
        assert_true(n <= cap);
        memset(out, 0, 40);
        out[0] = 1;
        out[2] = 1; /* count */
        memcpy(out + 8, h0, 32);
        out[40] = (uint8_t)rl;
        out[41] = out[42] = out[43] = 0;
        memcpy(out + 44, rec, rl);
        memcpy(out + 44 + rl, ck, 156);
        return n;
    }
    }
    return 0;
}

/* The hex dump of section "### 17.<which>" of docs/protocol.md. */
static size_t doc_vector(int which, uint8_t *out, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/test_prov_chain.c");
    assert_non_null(cut);
    strcpy(cut, "docs/protocol.md");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512], head[32];
    snprintf(head, sizeof head, "### 17.%d ", which);
    bool in = false, fenced = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!in) {
            in = !strncmp(line, head, strlen(head));
            continue;
        }
        if (!strncmp(line, "```", 3)) {
            if (fenced)
                break;
            fenced = true;
            continue;
        }
        if (!fenced)
            continue;
        /* "0000  49 50 ...  |....|" */
        char *p = line + 4;
        while (*p == ' ' && p[1] == ' ')
            p++;
        unsigned v;
        int used;
        while (*p == ' ' && sscanf(p, " %2x%n", &v, &used) == 1 && used == 3 &&
               n < cap) {
            out[n++] = (uint8_t)v;
            p += used;
        }
    }
    fclose(f);
    return n;
}

static void print_dump(int which, const uint8_t *p, size_t n)
{
    printf("### 17.%d (%zu bytes)\n```\n", which, n);
    for (size_t i = 0; i < n; i += 16) {
        printf("%04zx ", i);
        for (size_t j = 0; j < 16; j++)
            if (i + j < n)
                printf(" %02x", p[i + j]);
            else
                printf("   ");
        printf("  |");
        for (size_t j = 0; j < 16 && i + j < n; j++)
            putchar(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.');
        printf("|\n");
    }
    printf("```\n");
}

static void test_vectors(void **state)
{
    (void)state;
    uint8_t mine[2048], doc[2048];
    if (getenv("PROV_PRINT"))
        for (int which = 31; which <= 35; which++)
            print_dump(which, mine, make_vector(which, mine, sizeof mine));
    for (int which = 31; which <= 35; which++) {
        size_t n = make_vector(which, mine, sizeof mine);
        assert_true(n > 0);
        size_t d = doc_vector(which, doc, sizeof doc);
        if (d != n || memcmp(doc, mine, n))
            fprintf(stderr, "vector 17.%d: the document has %zu bytes, the "
                            "encoder %zu, or they differ\n", which, d, n);
        assert_int_equal(d, n);
        assert_memory_equal(doc, mine, n);
    }
    /* Each decodes, and re-encodes to the same bytes. */
    ipcn_prov_record r;
    uint8_t again[2048];
    for (int which = 31; which <= 32; which++) {
        size_t n = make_vector(which, mine, sizeof mine);
        assert_int_equal(ipcn_prov_decode(mine, n, &r), IPCN_OK);
        assert_int_equal(ipcn__prov_encode(&r, again, sizeof again), n);
        assert_memory_equal(again, mine, n);
    }
    assert_string_equal(r.node, "detector");
    assert_int_equal(r.parents[0].node_id, ID_CAMERA);
    size_t n = make_vector(34, mine, sizeof mine);
    ipcn__frame f;
    assert_int_equal(ipcn__frame_decode(mine, n, &f), IPCN_OK);
    assert_int_equal(f.u.sample.prov.len, make_vector(31, again, sizeof again));
    assert_memory_equal(f.u.sample.prov.p, again, f.u.sample.prov.len);
}

/* Bytes that break the rules: each refused. */
static void test_malformed(void **state)
{
    (void)state;
    uint8_t good[2048], bad[2048];
    ipcn_prov_record r;
    size_t n = make_vector(32, good, sizeof good);
    for (size_t k = 0; k < n; k++) /* every truncation */
        assert_int_equal(ipcn_prov_decode(good, k, &r), IPCN_BAD_REQUEST);
    memcpy(bad, good, n);
    bad[n] = 0;
    assert_int_equal(ipcn_prov_decode(bad, n + 1, &r), IPCN_BAD_REQUEST);
    struct { size_t off; uint8_t v; } cases[] = {
        {0, 2},    /* version */
        {1, 4},    /* an unknown flag */
        {2, 0},    /* nparents says 0, a parent follows */
        {2, 2},    /* says 2, one follows */
        {2, 17},   /* over 16 */
        {3, 1},    /* reserved */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, n);
        bad[cases[i].off] = cases[i].v;
        assert_int_equal(ipcn_prov_decode(bad, n, &r), IPCN_BAD_REQUEST);
    }
    /* node id 0, index 0, a parent's node id 0, an empty node name, a
     * node name with a NUL, a pass-through without a parent. */
    ipcn_prov_record x;
    rec_detector(&x);
    x.node_id = 0;
    assert_int_equal(ipcn__prov_encode(&x, bad, sizeof bad), 0);
    rec_detector(&x);
    x.parents[0].node_id = 0;
    assert_int_equal(ipcn__prov_encode(&x, bad, sizeof bad), 0);
    rec_camera(&x);
    x.flags = IPCN_PROV_PASSTHROUGH;
    assert_int_equal(ipcn__prov_encode(&x, bad, sizeof bad), 0);
    /* A node name that is not one (a quote, a control byte: what a
     * producer could feed a JSON or terminal output), refused. */
    const char *names[] = {"cam\"era", "cam\nera", "cam\x1b[2J", "a/b"};
    for (size_t i = 0; i < 4; i++) {
        rec_camera(&x);
        snprintf(x.node, sizeof x.node, "%s", names[i]);
        assert_int_equal(ipcn__prov_encode(&x, bad, sizeof bad), 0);
    }
    size_t cn = make_vector(31, good, sizeof good);
    memcpy(bad, good, cn);
    bad[4] = bad[5] = bad[6] = bad[7] = bad[8] = bad[9] = bad[10] = bad[11] = 0;
    assert_int_equal(ipcn_prov_decode(bad, cn, &r), IPCN_BAD_REQUEST);
    memcpy(bad, good, cn);
    bad[IPCN_PROV_FIXED + 3] = 0; /* a NUL inside "camera" */
    assert_int_equal(ipcn_prov_decode(bad, cn, &r), IPCN_BAD_REQUEST);
    memcpy(bad, good, cn);
    bad[IPCN_PROV_FIXED] = 0; /* node "" : its bytes then misread */
    assert_int_equal(ipcn_prov_decode(bad, cn, &r), IPCN_BAD_REQUEST);

    /* SAMPLE with a bad extension (17.35's list): refused whole (200). */
    size_t sn = make_vector(34, good, sizeof good);
    ipcn__frame f;
    uint8_t *ext = good + sn - cn - 4; /* the blob's length */
    struct { size_t off; int delta; } mutate[] = {
        {0, 1}, {0, -1}, {4, 1 /* version 2 */}, {7, 1 /* reserved */},
    };
    for (size_t i = 0; i < sizeof mutate / sizeof mutate[0]; i++) {
        memcpy(bad, good, sn);
        bad[(size_t)(ext - good) + mutate[i].off] =
            (uint8_t)(bad[(size_t)(ext - good) + mutate[i].off] + mutate[i].delta);
        /* a fresh checksum, so the body is what is judged */
        uint64_t sum = ipcn__frame_checksum(bad, bad + 48, sn - 48);
        for (int k = 0; k < 8; k++)
            bad[40 + k] = (uint8_t)(sum >> (8 * k));
        assert_int_equal(ipcn__frame_decode(bad, sn, &f), IPCN_BAD_REQUEST);
    }
    /* An empty extension (a blob of 0 bytes) and an extension on
     * SHM_WITHHELD are refused too. */
    assert_int_equal(ipcn_prov_decode(good, 0, &r), IPCN_BAD_REQUEST);
}

static void test_proof_flips(void **state)
{
    (void)state;
    uint8_t proof[2048], bad[2048];
    size_t n = make_vector(35, proof, sizeof proof);
    ipcn_prov_record r;
    const uint8_t *rec;
    uint32_t rl;
    const char *why;
    assert_int_equal(ipcn__prov_check_proof(proof, n, ID_CAMERA, 1, &r, &rec,
                                            &rl, &why),
                     IPCN_OK);
    assert_string_equal(r.node, "camera");
    /* The wrong node, the wrong index. */
    assert_int_equal(ipcn__prov_check_proof(proof, n, ID_DETECTOR, 1, &r, &rec,
                                            &rl, &why),
                     IPCN_UNAUTHORIZED);
    assert_int_equal(ipcn__prov_check_proof(proof, n, ID_CAMERA, 2, &r, &rec,
                                            &rl, &why),
                     IPCN_UNAUTHORIZED);
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(bad, proof, n);
            bad[i] ^= (uint8_t)(1u << bit);
            int st = ipcn__prov_check_proof(bad, n, ID_CAMERA, 1, &r, &rec,
                                            &rl, &why);
            if (st == IPCN_OK)
                fprintf(stderr, "byte %zu bit %d flipped: accepted\n", i, bit);
            assert_int_not_equal(st, IPCN_OK);
        }
}

/* A node's own chain, through its node service's handler. */
static void test_chain(void **state)
{
    (void)state;
    tu_net_dir();
    ipcn_node *n;
    assert_int_equal(ipcn_node_open(&n, "chain", NULL), IPCN_OK);
    assert_int_equal(ipcn_announce(n, "c/s", IPCN_STREAM, "", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_prov_enable(n, "c/x", 1), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_prov_enable(n, "c/s", 1), IPCN_OK);
    uint32_t total = IPCN_PROV_KEEP + 200;
    for (uint32_t i = 0; i < total; i++)
        assert_int_equal(ipcn_publish(n, "c/s", &i, sizeof i), IPCN_OK);
    ipcn__prov *pv = n->prov;
    assert_non_null(pv);
    assert_int_equal(pv->index, total);
    assert_true(pv->checkpoints >= total / IPCN_PROV_CKPT_EVERY);
    uint64_t asks[] = {total - IPCN_PROV_KEEP + 1, total - 100, total};
    for (size_t k = 0; k < 3; k++) {
        uint8_t body[8];
        for (int i = 0; i < 8; i++)
            body[i] = (uint8_t)(asks[k] >> (8 * i));
        ipcn__sys_call c = {.name = "prov", .data = body, .len = 8};
        ipcn__sys_reply rp = {0};
        int st;
        /* 205: a checkpoint on demand less than 10 ms after the last one
         * (20.5); asked again, as a verifier does. */
        for (int tries = 0; tries < 1000; tries++) {
            ipcn__node_lock(n);
            st = ipcn__sys_prov(n, NULL, &c, &rp);
            ipcn__node_unlock(n);
            if (st != IPCN_TOO_MANY_REQUESTS)
                break;
            ipcn__free(rp.data);
            rp = (ipcn__sys_reply){0};
            usleep(11000);
        }
        assert_int_equal(st, IPCN_OK);
        ipcn_prov_record r;
        const uint8_t *rec;
        uint32_t rl;
        const char *why;
        assert_int_equal(ipcn__prov_check_proof(rp.data, rp.len, n->id,
                                                asks[k], &r, &rec, &rl, &why),
                         IPCN_OK);
        assert_int_equal(r.seq, asks[k]);
        assert_string_equal(r.node, "chain");
        ipcn__free(rp.data);
    }
    /* No longer kept, not made yet, a bad body. */
    uint64_t gone[] = {1, total + 1};
    for (size_t k = 0; k < 2; k++) {
        uint8_t body[8];
        for (int i = 0; i < 8; i++)
            body[i] = (uint8_t)(gone[k] >> (8 * i));
        ipcn__sys_call c = {.name = "prov", .data = body, .len = 8};
        ipcn__sys_reply rp = {0};
        assert_int_equal(ipcn__sys_prov(n, NULL, &c, &rp), IPCN_NOT_FOUND);
        ipcn__free(rp.data);
        c.len = 7;
        rp = (ipcn__sys_reply){0};
        assert_int_equal(ipcn__sys_prov(n, NULL, &c, &rp), IPCN_BAD_REQUEST);
        ipcn__free(rp.data);
    }
    /* Off again: no more records. */
    assert_int_equal(ipcn_prov_enable(n, "c/s", 0), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "c/s", "x", 1), IPCN_OK);
    assert_int_equal(pv->index, total);
    ipcn_node_close(n);
}

/* The verifier pins a node's key on its first proof (20.6): the same
 * proof again passes; a proof of the same node run under another key is
 * refused (201), and so is one of the same key whose chain disagrees with
 * the head verified before; another run (another name) pins its own. */
static void test_pin(void **state)
{
    (void)state;
    tu_net_dir();
    ipcn_node *n;
    assert_int_equal(ipcn_node_open(&n, "pinner", NULL), IPCN_OK);
    uint8_t a[2048], rekeyed[2048], forked[2048];
    size_t na = make_vector(35, a, sizeof a);
    key_alt = 1;
    size_t nr = make_vector(35, rekeyed, sizeof rekeyed);
    key_alt = 0;
    seq_alt = 1;
    size_t nf = make_vector(35, forked, sizeof forked);
    seq_alt = 0;
    ipcn_prov_record r;
    const uint8_t *rec;
    uint32_t rl;
    const char *why;
    /* Each proof is valid by itself. */
    assert_int_equal(ipcn__prov_check_proof(rekeyed, nr, ID_CAMERA, 1, &r,
                                            &rec, &rl, &why),
                     IPCN_OK);
    assert_int_equal(ipcn__prov_check_proof(forked, nf, ID_CAMERA, 1, &r, &rec,
                                            &rl, &why),
                     IPCN_OK);
    assert_int_equal(ipcn__prov_pin(n, "camera", ID_CAMERA, 1, a, na, &why),
                     IPCN_OK);
    assert_int_equal(ipcn__prov_pin(n, "camera", ID_CAMERA, 1, a, na, &why),
                     IPCN_OK);
    assert_int_equal(ipcn__prov_pin(n, "camera", ID_CAMERA, 1, rekeyed, nr,
                                    &why),
                     IPCN_UNAUTHORIZED);
    assert_non_null(strstr(why, "another key"));
    assert_int_equal(ipcn__prov_pin(n, "camera", ID_CAMERA, 1, forked, nf,
                                    &why),
                     IPCN_UNAUTHORIZED);
    assert_non_null(strstr(why, "disagrees"));
    assert_int_equal(ipcn__prov_pin(n, "camera2", ID_CAMERA, 1, rekeyed, nr,
                                    &why),
                     IPCN_OK);
    ipcn_node_close(n);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_proof_flips),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_pin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

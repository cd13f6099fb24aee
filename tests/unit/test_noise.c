/* SPDX-License-Identifier: MIT */
/*
 * test_noise.c — src/transport/noise.c against the published test vectors
 * of Noise_XX_25519_ChaChaPoly_BLAKE2b (tests/data/noise_vectors.json, its
 * sources named in tests/data/README.md), then what the vectors do not
 * cover: tampered, replayed, reordered and dropped messages, a wrong
 * prologue, turns, nonces and their end, lengths, low-order points.
 *
 * The data file is found from this file's own path (CMake compiles it by
 * absolute path); an argument overrides it: test_noise <noise_vectors.json>.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "transport/noise.h"
#include "util/util.h"

static char vec_path[PATH_MAX];

/* ---- the vectors file: a JSON subset, read just enough ---- */

#define MAXV 8
#define MAXM 16

typedef struct hexbuf {
    uint8_t b[512];
    size_t n;
    bool set;
} hexbuf;

typedef struct vector {
    hexbuf init_prologue, init_static, init_ephemeral;
    hexbuf resp_prologue, resp_static, resp_ephemeral, handshake_hash;
    hexbuf payload[MAXM], ciphertext[MAXM];
    size_t nmsg;
    unsigned suite; /* IPCN_NOISE_CHACHAPOLY or IPCN_NOISE_AESGCM */
} vector;

static vector vecs[MAXV];
static size_t nvec;

static void hex_to(hexbuf *h, const char *s, size_t n)
{
    assert_true(n % 2 == 0 && n / 2 <= sizeof h->b);
    size_t out = 0;
    assert_int_equal(sodium_hex2bin(h->b, sizeof h->b, s, n, NULL, &out, NULL), 0);
    assert_int_equal(out, n / 2);
    h->n = out;
    h->set = true;
}

/* Each "key": "value" pair in order; "protocol_name" starts a vector,
 * "ciphertext" ends a message.  The values are hex, with no escapes. */
static void load_vectors(void)
{
    FILE *f = fopen(vec_path, "rb");
    if (!f)
        fail_msg("cannot open %s", vec_path);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    vector *v = NULL;
    const char *p = text;
    while ((p = strchr(p, '"')) != NULL) {
        const char *k = ++p, *ke = strchr(k, '"');
        assert_non_null(ke);
        p = ke + 1;
        while (*p == ' ' || *p == '\n')
            p++;
        if (*p != ':')
            continue;
        p++;
        while (*p == ' ' || *p == '\n')
            p++;
        if (*p != '"')
            continue; /* an array or an object follows */
        const char *val = ++p, *ve = strchr(val, '"');
        assert_non_null(ve);
        p = ve + 1;
        size_t kn = (size_t)(ke - k), vn = (size_t)(ve - val);
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
        if (KEY("protocol_name")) {
            assert_true(nvec < MAXV);
            v = &vecs[nvec++];
            if (vn == strlen(IPCN_NOISE_PROTOCOL) &&
                memcmp(val, IPCN_NOISE_PROTOCOL, vn) == 0)
                v->suite = IPCN_NOISE_CHACHAPOLY;
            else if (vn == strlen(IPCN_NOISE_PROTOCOL_AESGCM) &&
                     memcmp(val, IPCN_NOISE_PROTOCOL_AESGCM, vn) == 0)
                v->suite = IPCN_NOISE_AESGCM;
            else
                fail_msg("unexpected protocol %.*s", (int)vn, val);
            continue;
        }
        assert_non_null(v);
        if (KEY("init_prologue")) hex_to(&v->init_prologue, val, vn);
        else if (KEY("init_static")) hex_to(&v->init_static, val, vn);
        else if (KEY("init_ephemeral")) hex_to(&v->init_ephemeral, val, vn);
        else if (KEY("resp_prologue")) hex_to(&v->resp_prologue, val, vn);
        else if (KEY("resp_static")) hex_to(&v->resp_static, val, vn);
        else if (KEY("resp_ephemeral")) hex_to(&v->resp_ephemeral, val, vn);
        else if (KEY("handshake_hash")) hex_to(&v->handshake_hash, val, vn);
        else if (KEY("payload")) {
            assert_true(v->nmsg < MAXM);
            hex_to(&v->payload[v->nmsg], val, vn);
        } else if (KEY("ciphertext")) {
            assert_true(v->payload[v->nmsg].set);
            hex_to(&v->ciphertext[v->nmsg++], val, vn);
        } else {
            fail_msg("unknown key %.*s in %s", (int)kn, k, vec_path);
        }
#undef KEY
    }
}

/* ---- the published vectors ---- */

static void run_vector(const vector *v)
{
    ipcn__noise_hs ini, res;
    assert_int_equal(v->init_static.n, 32);
    assert_int_equal(v->resp_static.n, 32);
    assert_int_equal(ipcn__noise_init_suite(&ini, v->suite, true, v->init_prologue.b,
                                            v->init_prologue.n, v->init_static.b),
                     IPCN_OK);
    assert_int_equal(ipcn__noise_init_suite(&res, v->suite, false, v->resp_prologue.b,
                                            v->resp_prologue.n, v->resp_static.b),
                     IPCN_OK);
    ipcn__noise_fix_ephemeral(&ini, v->init_ephemeral.b);
    ipcn__noise_fix_ephemeral(&res, v->resp_ephemeral.b);
    uint8_t ini_spub[32], res_spub[32];
    assert_int_equal(ipcn__noise_public(v->init_static.b, ini_spub), IPCN_OK);
    assert_int_equal(ipcn__noise_public(v->resp_static.b, res_spub), IPCN_OK);

    ipcn__noise_cipher ini_tx, ini_rx, res_tx, res_rx;
    uint8_t buf[1024], pt[1024];
    assert_true(v->nmsg >= 3);
    for (size_t i = 0; i < v->nmsg; i++) {
        bool from_ini = i % 2 == 0;
        size_t n = 0, m = 0;
        const hexbuf *pl = &v->payload[i], *ct = &v->ciphertext[i];
        if (i < 3) {
            ipcn__noise_hs *w = from_ini ? &ini : &res, *r = from_ini ? &res : &ini;
            assert_int_equal(ipcn__noise_write_message(w, pl->b, pl->n, buf,
                                                       sizeof buf, &n), IPCN_OK);
            assert_int_equal(n, ct->n);
            assert_memory_equal(buf, ct->b, n);
            assert_int_equal(ipcn__noise_read_message(r, ct->b, ct->n, pt,
                                                      sizeof pt, &m), IPCN_OK);
            assert_int_equal(m, pl->n);
            assert_memory_equal(pt, pl->b, m);
            if (i == 1) { /* the initiator now knows the responder's key */
                assert_true(ini.has_rs);
                assert_memory_equal(ini.rs, res_spub, 32);
            }
            if (i == 2) {
                assert_true(res.has_rs);
                assert_memory_equal(res.rs, ini_spub, 32);
                assert_true(ipcn__noise_done(&ini) && ipcn__noise_done(&res));
                uint8_t hi[IPCN_NOISE_HASH], hr[IPCN_NOISE_HASH];
                assert_int_equal(ipcn__noise_split(&ini, &ini_tx, &ini_rx, hi), IPCN_OK);
                assert_int_equal(ipcn__noise_split(&res, &res_tx, &res_rx, hr), IPCN_OK);
                assert_memory_equal(hi, hr, sizeof hi);
                if (v->handshake_hash.set) {
                    assert_int_equal(v->handshake_hash.n, IPCN_NOISE_HASH);
                    assert_memory_equal(hi, v->handshake_hash.b, IPCN_NOISE_HASH);
                }
            }
        } else {
            ipcn__noise_cipher *tx = from_ini ? &ini_tx : &res_tx;
            ipcn__noise_cipher *rx = from_ini ? &res_rx : &ini_rx;
            assert_int_equal(ipcn__noise_encrypt(tx, NULL, 0, pl->b, pl->n, buf), IPCN_OK);
            assert_int_equal(pl->n + IPCN_NOISE_TAG, ct->n);
            assert_memory_equal(buf, ct->b, ct->n);
            assert_int_equal(ipcn__noise_decrypt(rx, NULL, 0, ct->b, ct->n, pt), IPCN_OK);
            assert_memory_equal(pt, pl->b, pl->n);
        }
    }
}

static void test_vectors(void **state)
{
    (void)state;
    load_vectors();
    /* cacophony's and snow's for each suite: two independent
     * implementations agree */
    assert_int_equal(nvec, 4);
    size_t with_hash = 0, run[3] = {0};
    bool aes = ipcn__noise_suites_available() & IPCN_NOISE_AESGCM;
    for (size_t i = 0; i < nvec; i++) {
        if (vecs[i].suite == IPCN_NOISE_AESGCM && !aes) {
            print_message("skip: the AESGCM vector %zu: this CPU has no AES "
                          "instructions for libsodium\n", i);
            continue;
        }
        run_vector(&vecs[i]);
        run[vecs[i].suite]++;
        with_hash += vecs[i].handshake_hash.set;
    }
    assert_int_equal(run[IPCN_NOISE_CHACHAPOLY], 2);
    assert_int_equal(run[IPCN_NOISE_AESGCM], aes ? 2 : 0);
    assert_true(with_hash >= 1);
}

/* ---- a live handshake between two states ---- */

typedef struct pair {
    ipcn__noise_hs ini, res;
    uint8_t ini_priv[32], res_priv[32], ini_pub[32], res_pub[32];
    uint8_t msg[3][256];
    size_t len[3];
    ipcn__noise_cipher ini_tx, ini_rx, res_tx, res_rx;
} pair;

static const char PRO[] = "IPCNet/1 default";

static void pair_init_suite(pair *p, unsigned suite, const char *ini_pro,
                            const char *res_pro)
{
    memset(p, 0, sizeof *p);
    randombytes_buf(p->ini_priv, 32);
    randombytes_buf(p->res_priv, 32);
    assert_int_equal(ipcn__noise_public(p->ini_priv, p->ini_pub), IPCN_OK);
    assert_int_equal(ipcn__noise_public(p->res_priv, p->res_pub), IPCN_OK);
    assert_int_equal(ipcn__noise_init_suite(&p->ini, suite, true,
                                            (const uint8_t *)ini_pro,
                                            strlen(ini_pro), p->ini_priv), IPCN_OK);
    assert_int_equal(ipcn__noise_init_suite(&p->res, suite, false,
                                            (const uint8_t *)res_pro,
                                            strlen(res_pro), p->res_priv), IPCN_OK);
}

static void pair_init(pair *p, const char *ini_pro, const char *res_pro)
{
    pair_init_suite(p, IPCN_NOISE_CHACHAPOLY, ini_pro, res_pro);
}

/* Message i (0..2) written by its side, with an empty payload. */
static void pair_write(pair *p, int i)
{
    ipcn__noise_hs *w = i % 2 == 0 ? &p->ini : &p->res;
    assert_int_equal(ipcn__noise_write_message(w, NULL, 0, p->msg[i],
                                               sizeof p->msg[i], &p->len[i]), IPCN_OK);
}

static int pair_read(pair *p, int i)
{
    ipcn__noise_hs *r = i % 2 == 0 ? &p->res : &p->ini;
    uint8_t pl[8];
    size_t n = 99;
    int st = ipcn__noise_read_message(r, p->msg[i], p->len[i], pl, sizeof pl, &n);
    if (st == IPCN_OK)
        assert_int_equal(n, 0);
    return st;
}

static void pair_clear(pair *p)
{
    ipcn__noise_cipher_clear(&p->ini_tx);
    ipcn__noise_cipher_clear(&p->ini_rx);
    ipcn__noise_cipher_clear(&p->res_tx);
    ipcn__noise_cipher_clear(&p->res_rx);
}

static void pair_handshake(pair *p)
{
    for (int i = 0; i < 3; i++) {
        pair_write(p, i);
        assert_int_equal(pair_read(p, i), IPCN_OK);
    }
    uint8_t hi[IPCN_NOISE_HASH], hr[IPCN_NOISE_HASH];
    assert_memory_equal(p->ini.rs, p->res_pub, 32);
    assert_memory_equal(p->res.rs, p->ini_pub, 32);
    assert_int_equal(ipcn__noise_split(&p->ini, &p->ini_tx, &p->ini_rx, hi), IPCN_OK);
    assert_int_equal(ipcn__noise_split(&p->res, &p->res_tx, &p->res_rx, hr), IPCN_OK);
    assert_memory_equal(hi, hr, sizeof hi);
}

static void test_handshake_empty_payloads(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, PRO, PRO);
    pair_handshake(&p);
    /* XX with empty payloads: 32, 32+48+16, 48+16 bytes */
    assert_int_equal(p.len[0], 32);
    assert_int_equal(p.len[1], 96);
    assert_int_equal(p.len[2], 64);
    /* the static keys never travel in clear */
    for (int i = 0; i < 3; i++) {
        assert_null(memmem(p.msg[i], p.len[i], p.ini_pub, 32));
        assert_null(memmem(p.msg[i], p.len[i], p.res_pub, 32));
    }
    /* split wiped the handshake states, and a second split is refused */
    ipcn__noise_cipher a, b;
    assert_int_equal(ipcn__noise_split(&p.ini, &a, &b, NULL), IPCN_BAD_REQUEST);
    static const uint8_t zero[32];
    assert_memory_equal(p.ini.s_priv, zero, 32);
    assert_memory_equal(p.res.e_priv, zero, 32);
    /* transport both ways, with and without associated data */
    uint8_t ct[64], pt[64];
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, (const uint8_t *)"ping", 4, ct),
                     IPCN_OK);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, ct, 20, pt), IPCN_OK);
    assert_memory_equal(pt, "ping", 4);
    assert_int_equal(ipcn__noise_encrypt(&p.res_tx, (const uint8_t *)"ad", 2,
                                         (const uint8_t *)"pong", 4, ct), IPCN_OK);
    assert_int_equal(ipcn__noise_decrypt(&p.ini_rx, (const uint8_t *)"xx", 2, ct, 20, pt),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_decrypt(&p.ini_rx, (const uint8_t *)"ad", 2, ct, 20, pt),
                     IPCN_OK);
    assert_memory_equal(pt, "pong", 4);
    /* each direction has its own key: our own message does not decrypt */
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, (const uint8_t *)"self", 4, ct),
                     IPCN_OK);
    assert_int_equal(ipcn__noise_decrypt(&p.ini_rx, NULL, 0, ct, 20, pt), IPCN_BAD_REQUEST);
    /* in place */
    memcpy(ct, "inplace", 7);
    assert_int_equal(ipcn__noise_encrypt(&p.res_tx, NULL, 0, ct, 7, ct), IPCN_OK);
    assert_int_equal(ipcn__noise_decrypt(&p.ini_rx, NULL, 0, ct, 23, ct), IPCN_OK);
    assert_memory_equal(ct, "inplace", 7);
}

/* Every single-bit flip of message 2 or 3 fails its reader at once, which
 * then refuses anything more; a flip in message 1 (not authenticated by
 * itself) fails the initiator when it reads message 2. */
static void test_handshake_tampered(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        pair ref;
        pair_init(&ref, PRO, PRO);
        for (int i = 0; i < m; i++) {
            pair_write(&ref, i);
            assert_int_equal(pair_read(&ref, i), IPCN_OK);
        }
        pair_write(&ref, m);
        size_t bits = ref.len[m] * 8;
        for (size_t bit = 0; bit < bits; bit += (m == 0 ? 37 : 1)) {
            pair p = ref;
            p.msg[m][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (m == 0) {
                /* the responder cannot tell, the initiator can */
                if (pair_read(&p, 0) != IPCN_OK)
                    continue; /* (a flip making a low-order point) */
                int w = ipcn__noise_write_message(&p.res, NULL, 0, p.msg[1],
                                                  sizeof p.msg[1], &p.len[1]);
                if (w != IPCN_OK) {
                    assert_int_equal(w, IPCN_INTERNAL_ERROR);
                    continue;
                }
                assert_int_equal(pair_read(&p, 1), IPCN_BAD_REQUEST);
            } else {
                assert_int_equal(pair_read(&p, m), IPCN_BAD_REQUEST);
            }
            /* failed: the next message is refused, even a good one */
            ipcn__noise_hs *failed = m % 2 == 0 ? &p.res : &p.ini;
            if (m == 0)
                failed = &p.ini;
            assert_false(ipcn__noise_done(failed));
            uint8_t out[256];
            size_t n;
            assert_int_equal(ipcn__noise_write_message(failed, NULL, 0, out,
                                                       sizeof out, &n), IPCN_BAD_REQUEST);
            assert_int_equal(ipcn__noise_read_message(failed, ref.msg[m], ref.len[m],
                                                      out, sizeof out, &n),
                             IPCN_BAD_REQUEST);
        }
    }
}

/* Truncated or overlong handshake messages. */
static void test_handshake_lengths(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        pair ref;
        pair_init(&ref, PRO, PRO);
        for (int i = 0; i < m; i++) {
            pair_write(&ref, i);
            assert_int_equal(pair_read(&ref, i), IPCN_OK);
        }
        pair_write(&ref, m);
        for (size_t cut = 0; cut < ref.len[m]; cut++) {
            pair p = ref;
            p.len[m] = cut;
            assert_int_equal(pair_read(&p, m), IPCN_BAD_REQUEST);
        }
        /* one byte more is a payload of one byte that does not authenticate
         * (messages 2 and 3) */
        if (m > 0) {
            pair p = ref;
            p.msg[m][p.len[m]++] = 0;
            assert_int_equal(pair_read(&p, m), IPCN_BAD_REQUEST);
        }
    }
    /* our buffers too small: refused, and the handshake goes on */
    pair p;
    pair_init(&p, PRO, PRO);
    size_t n = 0;
    assert_int_equal(ipcn__noise_write_message(&p.ini, NULL, 0, p.msg[0], 31, &n),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_write_message(&p.ini, (const uint8_t *)"abc", 3,
                                               p.msg[0], sizeof p.msg[0], &p.len[0]),
                     IPCN_OK);
    uint8_t pl[4];
    assert_int_equal(ipcn__noise_read_message(&p.res, p.msg[0], p.len[0], pl, 2, &n),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_read_message(&p.res, p.msg[0], p.len[0], pl, 3, &n),
                     IPCN_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(pl, "abc", 3);
    /* a payload that would pass 65535 bytes */
    static uint8_t big[IPCN_NOISE_MAX_MSG], bigout[IPCN_NOISE_MAX_MSG + 64];
    assert_int_equal(ipcn__noise_write_message(&p.res, big, IPCN_NOISE_MAX_MSG - 95, bigout,
                                               sizeof bigout, &n), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_write_message(&p.res, big, IPCN_NOISE_MAX_MSG - 96, bigout,
                                               sizeof bigout, &n), IPCN_OK);
    assert_int_equal(n, IPCN_NOISE_MAX_MSG);
}

/* Two networks: the prologues differ, the initiator fails on message 2. */
static void test_wrong_prologue(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, "IPCNet/1 lab", "IPCNet/1 robot");
    pair_write(&p, 0);
    assert_int_equal(pair_read(&p, 0), IPCN_OK);
    pair_write(&p, 1);
    assert_int_equal(pair_read(&p, 1), IPCN_BAD_REQUEST);
    /* and no prologue at all against one */
    pair_init(&p, "", PRO);
    pair_write(&p, 0);
    assert_int_equal(pair_read(&p, 0), IPCN_OK);
    pair_write(&p, 1);
    assert_int_equal(pair_read(&p, 1), IPCN_BAD_REQUEST);
}

static void test_turns(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, PRO, PRO);
    uint8_t out[256];
    size_t n;
    /* the responder speaks second, the initiator does not read first */
    assert_int_equal(ipcn__noise_write_message(&p.res, NULL, 0, out, sizeof out, &n),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_read_message(&p.ini, out, 32, out, sizeof out, &n),
                     IPCN_BAD_REQUEST);
    ipcn__noise_cipher a, b;
    assert_int_equal(ipcn__noise_split(&p.ini, &a, &b, NULL), IPCN_BAD_REQUEST);
    pair_write(&p, 0);
    /* not twice in a row */
    assert_int_equal(ipcn__noise_write_message(&p.ini, NULL, 0, out, sizeof out, &n),
                     IPCN_BAD_REQUEST);
    assert_int_equal(pair_read(&p, 0), IPCN_OK);
    assert_int_equal(ipcn__noise_read_message(&p.res, p.msg[0], p.len[0], out, sizeof out,
                                              &n), IPCN_BAD_REQUEST);
    pair_write(&p, 1);
    assert_int_equal(pair_read(&p, 1), IPCN_OK);
    assert_int_equal(ipcn__noise_split(&p.ini, &a, &b, NULL), IPCN_BAD_REQUEST);
    pair_write(&p, 2);
    assert_int_equal(pair_read(&p, 2), IPCN_OK);
    /* done: no fourth handshake message */
    assert_int_equal(ipcn__noise_write_message(&p.res, NULL, 0, out, sizeof out, &n),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_write_message(&p.ini, NULL, 0, out, sizeof out, &n),
                     IPCN_BAD_REQUEST);
    /* bad arguments */
    assert_int_equal(ipcn__noise_init(NULL, true, NULL, 0, p.ini_priv), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_init(&p.ini, true, NULL, 3, p.ini_priv), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_init(&p.ini, true, NULL, 0, NULL), IPCN_BAD_REQUEST);
    /* a cipher with no key never sends plaintext */
    ipcn__noise_cipher none = {0};
    assert_int_equal(ipcn__noise_encrypt(&none, NULL, 0, out, 4, out), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_decrypt(&none, NULL, 0, out, 20, out), IPCN_BAD_REQUEST);
}

/* Flipped, replayed, reordered and dropped transport messages. */
static void test_transport_attacks(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, PRO, PRO);
    pair_handshake(&p);
    uint8_t m1[48], m2[48], m3[48], pt[48];
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, (const uint8_t *)"one", 3, m1),
                     IPCN_OK);
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, (const uint8_t *)"two", 3, m2),
                     IPCN_OK);
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, (const uint8_t *)"six", 3, m3),
                     IPCN_OK);
    assert_true(p.ini_tx.n == 3);
    /* every single-bit flip fails, and does not move the nonce */
    for (size_t bit = 0; bit < 19 * 8; bit++) {
        m1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m1, 19, pt),
                         IPCN_BAD_REQUEST);
        m1[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_true(p.res_rx.n == 0);
    }
    /* cut short, or not even a tag */
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m1, 18, pt), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m1, 15, pt), IPCN_BAD_REQUEST);
    /* reordered: the second before the first */
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m2, 19, pt), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m1, 19, pt), IPCN_OK);
    assert_memory_equal(pt, "one", 3);
    /* replayed */
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m1, 19, pt), IPCN_BAD_REQUEST);
    assert_true(p.res_rx.n == 1);
    /* dropped: the third when the second is due */
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m3, 19, pt), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m2, 19, pt), IPCN_OK);
    assert_memory_equal(pt, "two", 3);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, m3, 19, pt), IPCN_OK);
    assert_memory_equal(pt, "six", 3);
    /* reflected back to its sender */
    assert_int_equal(ipcn__noise_decrypt(&p.ini_rx, NULL, 0, m1, 19, pt), IPCN_BAD_REQUEST);
}

/* The nonce is 4 zero bytes then the counter, little-endian; 2^64 - 1 is
 * never used. */
static void test_nonces(void **state)
{
    (void)state;
    ipcn__noise_cipher c = {.has_key = true, .n = 0x0102030405060708ull};
    randombytes_buf(c.k, sizeof c.k);
    ipcn__noise_cipher d = c;
    uint8_t ct[32], ref[32], pt[16];
    assert_int_equal(ipcn__noise_encrypt(&c, NULL, 0, (const uint8_t *)"nonce", 5, ct),
                     IPCN_OK);
    static const uint8_t nonce[12] = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
    unsigned long long rlen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(ref, &rlen, (const uint8_t *)"nonce", 5, NULL,
                                              0, NULL, nonce, c.k);
    assert_int_equal(rlen, 21);
    assert_memory_equal(ct, ref, 21);
    assert_int_equal(ipcn__noise_decrypt(&d, NULL, 0, ct, 21, pt), IPCN_OK);
    /* the last usable nonce, then 303 on both sides */
    c.n = d.n = UINT64_MAX - 1;
    assert_int_equal(ipcn__noise_encrypt(&c, NULL, 0, (const uint8_t *)"last", 4, ct),
                     IPCN_OK);
    assert_int_equal(ipcn__noise_decrypt(&d, NULL, 0, ct, 20, pt), IPCN_OK);
    assert_true(c.n == UINT64_MAX && d.n == UINT64_MAX);
    assert_int_equal(ipcn__noise_encrypt(&c, NULL, 0, (const uint8_t *)"more", 4, ct),
                     IPCN_SERVICE_UNAVAILABLE);
    assert_int_equal(ipcn__noise_decrypt(&d, NULL, 0, ct, 20, pt), IPCN_SERVICE_UNAVAILABLE);
    assert_true(c.n == UINT64_MAX);
}

static void test_transport_lengths(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, PRO, PRO);
    pair_handshake(&p);
    size_t max = IPCN_NOISE_MAX_MSG - IPCN_NOISE_TAG;
    uint8_t *a = calloc(1, IPCN_NOISE_MAX_MSG + 1), *b = calloc(1, IPCN_NOISE_MAX_MSG + 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, a, max + 1, b),
                     IPCN_BAD_REQUEST);
    assert_true(p.ini_tx.n == 0);
    memset(a, 0x5a, max);
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, a, max, b), IPCN_OK);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, b, IPCN_NOISE_MAX_MSG + 1, a),
                     IPCN_BAD_REQUEST);
    memset(a, 0, max);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, b, IPCN_NOISE_MAX_MSG, a),
                     IPCN_OK);
    for (size_t i = 0; i < max; i++)
        if (a[i] != 0x5a)
            fail_msg("byte %zu", i);
    /* an empty message is a tag alone */
    assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, NULL, 0, NULL, 0, b), IPCN_OK);
    assert_int_equal(ipcn__noise_decrypt(&p.res_rx, NULL, 0, b, IPCN_NOISE_TAG, NULL),
                     IPCN_OK);
    free(a);
    free(b);
    pair_clear(&p);
}

/* Transport messages of IPCN_NOISE_FAST_MIN bytes or more go through
 * libcrypto when the build has it (aead_evp.c): byte for byte what
 * libsodium's ChaCha20-Poly1305 makes with the same key and nonce, around
 * the threshold and up to the largest, with associated data or not, in
 * place or not; a flipped bit of the text, the tag or the associated data
 * is refused, and the output then zeroed. */
/* The messages of each size through libcrypto (from IPCN_NOISE_FAST_MIN)
 * or libsodium are the bytes of libsodium's cipher of the suite. */
static void fast_cipher_check(unsigned suite)
{
    pair p;
    pair_init_suite(&p, suite, PRO, PRO);
    pair_handshake(&p);
    size_t max = IPCN_NOISE_MAX_MSG - IPCN_NOISE_TAG;
    const size_t sizes[] = {IPCN_NOISE_FAST_MIN - 1, IPCN_NOISE_FAST_MIN,
                            IPCN_NOISE_FAST_MIN + 1, 20000, max - 1, max};
    const size_t ads[] = {0, 5, 64};
    uint8_t *pt = malloc(IPCN_NOISE_MAX_MSG), *ct = malloc(IPCN_NOISE_MAX_MSG);
    uint8_t *ref = malloc(IPCN_NOISE_MAX_MSG), *out = malloc(IPCN_NOISE_MAX_MSG);
    assert_true(pt && ct && ref && out);
    uint8_t ad[64];
    randombytes_buf(ad, sizeof ad);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        for (size_t j = 0; j < sizeof ads / sizeof *ads; j++) {
            size_t len = sizes[i], al = ads[j];
            randombytes_buf(pt, len);
            uint8_t nonce[12] = {0};
            unsigned long long rl = 0;
            if (suite == IPCN_NOISE_AESGCM) {
                /* Noise's AESGCM nonce: the counter big-endian */
                for (int b = 0; b < 8; b++)
                    nonce[11 - b] = (uint8_t)(p.ini_tx.n >> (8 * b));
                crypto_aead_aes256gcm_encrypt(ref, &rl, pt, len, al ? ad : NULL, al,
                                              NULL, nonce, p.ini_tx.k);
            } else {
                for (int b = 0; b < 8; b++)
                    nonce[4 + b] = (uint8_t)(p.ini_tx.n >> (8 * b));
                crypto_aead_chacha20poly1305_ietf_encrypt(ref, &rl, pt, len,
                                                          al ? ad : NULL, al, NULL,
                                                          nonce, p.ini_tx.k);
            }
            assert_int_equal(ipcn__noise_encrypt(&p.ini_tx, al ? ad : NULL, al, pt, len, ct),
                             IPCN_OK);
            assert_memory_equal(ct, ref, len + IPCN_NOISE_TAG);
            /* a flipped bit in the text, in the tag, in the associated
             * data: each refused, the output zeroed, the nonce kept */
            for (int what = 0; what < 3; what++) {
                if (what == 2 && !al)
                    continue;
                uint8_t *at = what == 0   ? ct + (len * 7 + j) % len
                              : what == 1 ? ct + len + (i + j) % IPCN_NOISE_TAG
                                          : ad + (len % al);
                *at ^= 0x20;
                memset(out, 0xee, len);
                assert_int_equal(ipcn__noise_decrypt(&p.res_rx, al ? ad : NULL, al, ct,
                                                     len + IPCN_NOISE_TAG, out),
                                 IPCN_BAD_REQUEST);
                for (size_t k = 0; k < len; k++)
                    if (out[k] != 0)
                        fail_msg("size %zu, flip %d: byte %zu not zeroed", len, what, k);
                *at ^= 0x20;
            }
            /* in place */
            assert_int_equal(ipcn__noise_decrypt(&p.res_rx, al ? ad : NULL, al, ct,
                                                 len + IPCN_NOISE_TAG, ct),
                             IPCN_OK);
            assert_memory_equal(ct, pt, len);
        }
    }
#ifdef IPCN_HAVE_EVP
    /* the build has libcrypto: the large messages went through it */
    assert_non_null(p.ini_tx.fast);
    assert_non_null(p.res_rx.fast);
#else
    assert_null(p.ini_tx.fast);
#endif
    free(pt);
    free(ct);
    free(ref);
    free(out);
    pair_clear(&p);
    /* clearing wipes the key and is NULL-safe */
    static const uint8_t zero[32];
    assert_memory_equal(p.ini_tx.k, zero, 32);
    ipcn__noise_cipher_clear(NULL);
}

static void test_fast_cipher_matches_libsodium(void **state)
{
    (void)state;
    fast_cipher_check(IPCN_NOISE_CHACHAPOLY);
    if (ipcn__noise_suites_available() & IPCN_NOISE_AESGCM)
        fast_cipher_check(IPCN_NOISE_AESGCM);
    else
        print_message("skip: AESGCM: this CPU has no AES instructions for "
                      "libsodium\n");
}

/* A peer that sends a low-order point as its ephemeral key. */
static void test_low_order_points(void **state)
{
    (void)state;
    /* the point of order 1 (u = 0), and one of order 8 */
    static const uint8_t bad[2][32] = {
        {0},
        {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
         0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
         0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    };
    for (int k = 0; k < 2; k++) {
        /* as message 1: the responder cannot compute ee (300) */
        pair p;
        pair_init(&p, PRO, PRO);
        memcpy(p.msg[0], bad[k], 32);
        p.len[0] = 32;
        assert_int_equal(pair_read(&p, 0), IPCN_OK);
        uint8_t out[256];
        size_t n;
        assert_int_equal(ipcn__noise_write_message(&p.res, NULL, 0, out, sizeof out, &n),
                         IPCN_INTERNAL_ERROR);
        assert_int_equal(ipcn__noise_write_message(&p.res, NULL, 0, out, sizeof out, &n),
                         IPCN_BAD_REQUEST);
        /* as message 2's e: the initiator refuses it (200) */
        pair_init(&p, PRO, PRO);
        pair_write(&p, 0);
        assert_int_equal(pair_read(&p, 0), IPCN_OK);
        pair_write(&p, 1);
        memcpy(p.msg[1], bad[k], 32);
        assert_int_equal(pair_read(&p, 1), IPCN_BAD_REQUEST);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(vec_path, sizeof vec_path, "%s", argv[1]);
    } else {
        /* <...>/tests/unit/test_noise.c -> <...>/tests/data/noise_vectors.json */
        snprintf(vec_path, sizeof vec_path, "%s", __FILE__);
        char *slash = strrchr(vec_path, '/');
        if (!slash) {
            fprintf(stderr, "usage: %s <noise_vectors.json>\n", argv[0]);
            return 2;
        }
        snprintf(slash, sizeof vec_path - (size_t)(slash - vec_path),
                 "/../data/noise_vectors.json");
    }
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_handshake_empty_payloads),
        cmocka_unit_test(test_handshake_tampered),
        cmocka_unit_test(test_handshake_lengths),
        cmocka_unit_test(test_wrong_prologue),
        cmocka_unit_test(test_turns),
        cmocka_unit_test(test_transport_attacks),
        cmocka_unit_test(test_nonces),
        cmocka_unit_test(test_transport_lengths),
        cmocka_unit_test(test_fast_cipher_matches_libsodium),
        cmocka_unit_test(test_low_order_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

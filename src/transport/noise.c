/* SPDX-License-Identifier: MIT */
/*
 * noise.c — Noise_XX_25519_ChaChaPoly_BLAKE2b and _AESGCM_ (the Noise
 * protocol framework, revision 34) over libsodium: X25519
 * (crypto_scalarmult), ChaCha20-Poly1305 IETF with the nonce 4 zero bytes
 * || 8-byte little-endian counter, AES-256-GCM with the nonce 4 zero bytes
 * || 8-byte big-endian counter, BLAKE2b-512 (crypto_generichash), and HMAC and
 * HKDF written here exactly as the specification's section 4.3 defines
 * them over BLAKE2b (block of 128 bytes).  No I/O; noise.h says what each
 * call returns.
 *
 * A handshake that failed (a message that did not authenticate, a DH with
 * a low-order point) is over: its secrets are wiped and every later call
 * on it is refused (200), as the specification asks ("the handshake is
 * aborted").
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "transport/noise.h"
#include "util/util.h"

#define BLOCKLEN 128
#define KEYLEN 32
#define STEP_FAILED 0xff

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_do_init(void)
{
    /* 0 the first time, 1 when already done elsewhere: both fine. */
    sodium_ok = sodium_init() >= 0;
}

static int sodium_ready(void)
{
    pthread_once(&sodium_once, sodium_do_init);
    return sodium_ok ? IPCN_OK : IPCN_INTERNAL_ERROR;
}

void ipcn__noise_wipe(void *p, size_t n)
{
    if (p && n)
        sodium_memzero(p, n);
}

/* ---- HASH, HMAC-HASH, HKDF (section 4.3) ---- */

/* HASH(a || b) */
static void hash2(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                  uint8_t out[IPCN_NOISE_HASH])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, IPCN_NOISE_HASH);
    crypto_generichash_update(&st, a, an);
    if (bn)
        crypto_generichash_update(&st, b, bn);
    crypto_generichash_final(&st, out, IPCN_NOISE_HASH);
    ipcn__noise_wipe(&st, sizeof st);
}

/* HMAC-HASH(key, d1 || d2) with the key zero-padded to BLOCKLEN (keys
 * here are HASHLEN bytes, never longer than a block). */
static void hmac(const uint8_t key[IPCN_NOISE_HASH], const uint8_t *d1,
                 size_t n1, const uint8_t *d2, size_t n2,
                 uint8_t out[IPCN_NOISE_HASH])
{
    uint8_t pad[BLOCKLEN], inner[IPCN_NOISE_HASH];
    crypto_generichash_state st;

    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < IPCN_NOISE_HASH; i++)
        pad[i] ^= key[i];
    crypto_generichash_init(&st, NULL, 0, IPCN_NOISE_HASH);
    crypto_generichash_update(&st, pad, sizeof pad);
    if (n1)
        crypto_generichash_update(&st, d1, n1);
    if (n2)
        crypto_generichash_update(&st, d2, n2);
    crypto_generichash_final(&st, inner, sizeof inner);

    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < IPCN_NOISE_HASH; i++)
        pad[i] ^= key[i];
    crypto_generichash_init(&st, NULL, 0, IPCN_NOISE_HASH);
    crypto_generichash_update(&st, pad, sizeof pad);
    crypto_generichash_update(&st, inner, sizeof inner);
    crypto_generichash_final(&st, out, IPCN_NOISE_HASH);

    ipcn__noise_wipe(pad, sizeof pad);
    ipcn__noise_wipe(inner, sizeof inner);
    ipcn__noise_wipe(&st, sizeof st);
}

/* HKDF(ck, ikm, 2): the two outputs (the only count XX needs). */
static void hkdf2(const uint8_t ck[IPCN_NOISE_HASH], const uint8_t *ikm,
                  size_t ikm_len, uint8_t out1[IPCN_NOISE_HASH],
                  uint8_t out2[IPCN_NOISE_HASH])
{
    static const uint8_t one = 1, two = 2;
    uint8_t temp_key[IPCN_NOISE_HASH];
    hmac(ck, ikm, ikm_len, NULL, 0, temp_key);
    hmac(temp_key, &one, 1, NULL, 0, out1);
    hmac(temp_key, out1, IPCN_NOISE_HASH, &two, 1, out2);
    ipcn__noise_wipe(temp_key, sizeof temp_key);
}

/* ---- CipherState (section 5.1) ---- */

static void cipher_init(ipcn__noise_cipher *c, const uint8_t *k, uint8_t suite)
{
    memcpy(c->k, k, KEYLEN);
    c->n = 0;
    c->has_key = true;
    c->suite = suite;
    c->fast = NULL;
}

void ipcn__noise_cipher_clear(ipcn__noise_cipher *c)
{
    if (!c)
        return;
    ipcn__evp_free(c->fast);
    ipcn__noise_wipe(c, sizeof *c);
}

/* The libcrypto context of a transport cipher, for a message of len
 * bytes; NULL: use libsodium. */
static void *fast_ctx(ipcn__noise_cipher *c, size_t len)
{
    if (len < IPCN_NOISE_FAST_MIN)
        return NULL;
    if (!c->fast)
        c->fast = ipcn__evp_new(c->k, c->suite);
    return c->fast;
}

/* The 96-bit nonce of n: 4 zero bytes, then n in little-endian
 * (ChaChaPoly) or big-endian (AESGCM), as section 12 gives them. */
static void nonce_bytes(uint8_t suite, uint64_t n, uint8_t out[12])
{
    memset(out, 0, 4);
    for (int i = 0; i < 8; i++)
        out[4 + i] = (uint8_t)(n >> (suite == IPCN_NOISE_AESGCM ? 8 * (7 - i) : 8 * i));
}

/* ENCRYPT(k, n, ad, pt) into out (len + 16 bytes); out may be pt. */
static void aead_encrypt(const ipcn__noise_cipher *c, const uint8_t *ad,
                         size_t ad_len, const uint8_t *pt, size_t len,
                         uint8_t *out)
{
    uint8_t nonce[12];
    unsigned long long clen = 0;
    nonce_bytes(c->suite, c->n, nonce);
    if (c->suite == IPCN_NOISE_AESGCM)
        crypto_aead_aes256gcm_encrypt(out, &clen, pt, len, ad, ad_len, NULL,
                                      nonce, c->k);
    else
        crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, len, ad, ad_len,
                                                  NULL, nonce, c->k);
}

/* DECRYPT: 0, or -1 when it does not authenticate (out is then zeroed). */
static int aead_decrypt(const ipcn__noise_cipher *c, const uint8_t *ad,
                        size_t ad_len, const uint8_t *ct, size_t len,
                        uint8_t *out)
{
    uint8_t nonce[12];
    unsigned long long mlen = 0;
    nonce_bytes(c->suite, c->n, nonce);
    if (c->suite == IPCN_NOISE_AESGCM)
        return crypto_aead_aes256gcm_decrypt(out, &mlen, NULL, ct, len, ad,
                                             ad_len, nonce, c->k);
    return crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, len,
                                                     ad, ad_len, nonce, c->k);
}

int ipcn__noise_encrypt(ipcn__noise_cipher *c, const uint8_t *ad, size_t ad_len,
                        const uint8_t *pt, size_t len, uint8_t *out)
{
    if (!c || !c->has_key || !out || (!pt && len) || (!ad && ad_len) ||
        len > IPCN_NOISE_MAX_MSG - IPCN_NOISE_TAG)
        return IPCN_BAD_REQUEST;
    /* 2^64 - 1 is reserved (section 5.1): the link ends before. */
    if (c->n == UINT64_MAX)
        return IPCN_SERVICE_UNAVAILABLE;
    void *x = fast_ctx(c, len);
    uint8_t nonce[12];
    nonce_bytes(c->suite, c->n, nonce);
    if (!x)
        aead_encrypt(c, ad, ad_len, pt, len, out);
    else if (ipcn__evp_seal(x, nonce, ad, ad_len, pt, len, out) != 0)
        return IPCN_INTERNAL_ERROR; /* libcrypto failed: out is not a message */
    c->n++;
    return IPCN_OK;
}

int ipcn__noise_decrypt(ipcn__noise_cipher *c, const uint8_t *ad, size_t ad_len,
                        const uint8_t *ct, size_t len, uint8_t *out)
{
    if (!c || !c->has_key || !ct || (!out && len > IPCN_NOISE_TAG) ||
        (!ad && ad_len) || len < IPCN_NOISE_TAG || len > IPCN_NOISE_MAX_MSG)
        return IPCN_BAD_REQUEST;
    if (c->n == UINT64_MAX)
        return IPCN_SERVICE_UNAVAILABLE;
    uint8_t dummy[1];
    void *x = fast_ctx(c, len - IPCN_NOISE_TAG);
    if (x) {
        uint8_t nonce[12];
        nonce_bytes(c->suite, c->n, nonce);
        if (ipcn__evp_open(x, nonce, ad, ad_len, ct, len, out ? out : dummy) != 0)
            return IPCN_BAD_REQUEST;
    } else if (aead_decrypt(c, ad, ad_len, ct, len, out ? out : dummy) != 0) {
        return IPCN_BAD_REQUEST;
    }
    c->n++;
    return IPCN_OK;
}

/* ---- SymmetricState (section 5.2) ---- */

static void mix_hash(ipcn__noise_hs *hs, const uint8_t *data, size_t n)
{
    hash2(hs->h, sizeof hs->h, data, n, hs->h);
}

static void mix_key(ipcn__noise_hs *hs, const uint8_t *ikm, size_t n)
{
    uint8_t temp_k[IPCN_NOISE_HASH];
    hkdf2(hs->ck, ikm, n, hs->ck, temp_k);
    cipher_init(&hs->c, temp_k, hs->suite); /* truncated to 32 bytes (HASHLEN 64) */
    ipcn__noise_wipe(temp_k, sizeof temp_k);
}

/* EncryptAndHash: out gets len (+16 once there is a key) bytes. */
static size_t encrypt_and_hash(ipcn__noise_hs *hs, const uint8_t *pt,
                               size_t len, uint8_t *out)
{
    size_t n = len;
    if (hs->c.has_key) {
        aead_encrypt(&hs->c, hs->h, sizeof hs->h, pt, len, out);
        hs->c.n++;
        n += IPCN_NOISE_TAG;
    } else if (len) {
        memmove(out, pt, len);
    }
    mix_hash(hs, out, n);
    return n;
}

/* DecryptAndHash of n bytes: 0, or -1 when they do not authenticate. */
static int decrypt_and_hash(ipcn__noise_hs *hs, const uint8_t *ct, size_t n,
                            uint8_t *out)
{
    if (hs->c.has_key) {
        if (aead_decrypt(&hs->c, hs->h, sizeof hs->h, ct, n, out) != 0)
            return -1;
        hs->c.n++;
    } else if (n) {
        memmove(out, ct, n);
    }
    mix_hash(hs, ct, n);
    return 0;
}

/* MixKey(DH(priv, pub)): 0, or -1 for a low-order point (an all-zero
 * shared secret, which libsodium refuses). */
static int mix_dh(ipcn__noise_hs *hs, const uint8_t priv[32],
                  const uint8_t pub[32])
{
    uint8_t shared[IPCN_NOISE_DH];
    int r = crypto_scalarmult(shared, priv, pub);
    if (r == 0)
        mix_key(hs, shared, sizeof shared);
    ipcn__noise_wipe(shared, sizeof shared);
    return r == 0 ? 0 : -1;
}

/* ---- HandshakeState (section 5.3), pattern XX ---- */

int ipcn__noise_public(const uint8_t priv[32], uint8_t pub[32])
{
    if (!priv || !pub)
        return IPCN_BAD_REQUEST;
    if (sodium_ready() != IPCN_OK || crypto_scalarmult_base(pub, priv) != 0)
        return IPCN_INTERNAL_ERROR;
    return IPCN_OK;
}

unsigned ipcn__noise_suites_available(void)
{
    if (sodium_ready() != IPCN_OK)
        return IPCN_NOISE_CHACHAPOLY;
    return IPCN_NOISE_CHACHAPOLY |
           (crypto_aead_aes256gcm_is_available() ? IPCN_NOISE_AESGCM : 0u);
}

const char *ipcn__noise_suite_name(unsigned suite)
{
    return suite == IPCN_NOISE_AESGCM ? "AESGCM" : "ChaChaPoly";
}

/* InitializeSymmetric and MixHash(prologue): the names (at most 33 bytes)
 * fit in HASHLEN, so h starts as the name padded with zeros. */
static void symmetric_init(const char *name, const uint8_t *prologue,
                           size_t prologue_len, uint8_t h[IPCN_NOISE_HASH],
                           uint8_t ck[IPCN_NOISE_HASH])
{
    memset(h, 0, IPCN_NOISE_HASH);
    memcpy(h, name, strlen(name));
    memcpy(ck, h, IPCN_NOISE_HASH);
    hash2(h, IPCN_NOISE_HASH, prologue, prologue_len, h);
}

int ipcn__noise_init_suite(ipcn__noise_hs *hs, unsigned suite, bool initiator,
                           const uint8_t *prologue, size_t prologue_len,
                           const uint8_t s_priv[32])
{
    if (!hs || !s_priv || (!prologue && prologue_len) ||
        (suite != IPCN_NOISE_CHACHAPOLY && suite != IPCN_NOISE_AESGCM))
        return IPCN_BAD_REQUEST;
    int st = sodium_ready();
    if (st != IPCN_OK)
        return st;
    if (!(ipcn__noise_suites_available() & suite))
        return IPCN_NOT_IMPLEMENTED;
    memset(hs, 0, sizeof *hs);
    hs->initiator = initiator;
    hs->suite = (uint8_t)suite;
    memcpy(hs->s_priv, s_priv, sizeof hs->s_priv);
    if (crypto_scalarmult_base(hs->s_pub, hs->s_priv) != 0) {
        ipcn__noise_wipe(hs, sizeof *hs);
        return IPCN_BAD_REQUEST;
    }
    symmetric_init(suite == IPCN_NOISE_AESGCM ? IPCN_NOISE_PROTOCOL_AESGCM
                                              : IPCN_NOISE_PROTOCOL,
                   prologue, prologue_len, hs->h, hs->ck);
    return IPCN_OK;
}

int ipcn__noise_init(ipcn__noise_hs *hs, bool initiator, const uint8_t *prologue,
                     size_t prologue_len, const uint8_t s_priv[32])
{
    return ipcn__noise_init_suite(hs, IPCN_NOISE_CHACHAPOLY, initiator, prologue,
                                  prologue_len, s_priv);
}

int ipcn__noise_init_nego(ipcn__noise_hs *hs, unsigned suites, bool initiator,
                          const uint8_t *prologue, size_t prologue_len,
                          const uint8_t s_priv[32])
{
    int st = ipcn__noise_init_suite(hs, IPCN_NOISE_CHACHAPOLY, initiator,
                                    prologue, prologue_len, s_priv);
    if (st != IPCN_OK)
        return st;
    hs->nego = (uint8_t)(IPCN_NOISE_CHACHAPOLY |
                         (suites & ipcn__noise_suites_available()));
    /* Until the suite is known, the AESGCM state beside the ChaChaPoly
     * one: message 1 is the same bytes under both (no key yet). */
    if (hs->nego & IPCN_NOISE_AESGCM)
        symmetric_init(IPCN_NOISE_PROTOCOL_AESGCM, prologue, prologue_len,
                       hs->h_alt, hs->ck_alt);
    return IPCN_OK;
}

void ipcn__noise_fix_ephemeral(ipcn__noise_hs *hs, const uint8_t e_priv[32])
{
    memcpy(hs->e_priv, e_priv, sizeof hs->e_priv);
    hs->has_e = true;
}

static bool my_turn(const ipcn__noise_hs *hs, bool writing)
{
    if (hs->step >= 3)
        return false;
    bool initiator_turn = hs->step % 2 == 0;
    return writing ? initiator_turn == hs->initiator
                   : initiator_turn != hs->initiator;
}

/* The handshake is over: nothing secret stays, nothing more is taken. */
static int fail(ipcn__noise_hs *hs, int status)
{
    ipcn__noise_wipe(hs, sizeof *hs);
    hs->step = STEP_FAILED;
    return status;
}

/* Bytes a message of this step takes beyond its payload. */
static size_t overhead(uint8_t step)
{
    switch (step) {
    case 0: return IPCN_NOISE_DH;                                       /* e */
    case 1: return IPCN_NOISE_DH + IPCN_NOISE_DH + 2 * IPCN_NOISE_TAG;  /* e, s, tag */
    default: return IPCN_NOISE_DH + 2 * IPCN_NOISE_TAG;                 /* s, tag */
    }
}

static int write_e(ipcn__noise_hs *hs, uint8_t *out)
{
    if (!hs->has_e)
        randombytes_buf(hs->e_priv, sizeof hs->e_priv);
    if (crypto_scalarmult_base(hs->e_pub, hs->e_priv) != 0)
        return -1;
    hs->has_e = true;
    memcpy(out, hs->e_pub, IPCN_NOISE_DH);
    mix_hash(hs, hs->e_pub, IPCN_NOISE_DH);
    return 0;
}

int ipcn__noise_write_message(ipcn__noise_hs *hs, const uint8_t *payload,
                              size_t payload_len, uint8_t *out, size_t cap,
                              size_t *out_len)
{
    if (!hs || !out || !out_len || (!payload && payload_len) || !my_turn(hs, true) ||
        (hs->nego && payload_len))
        return IPCN_BAD_REQUEST;
    /* The initiator's offer is message 1's payload, when it offers more
     * than ChaChaPoly (alone, it sends what a handshake without
     * negotiation sends: an empty payload). */
    uint8_t offer = hs->nego;
    if (hs->step == 0 && (hs->nego & IPCN_NOISE_AESGCM)) {
        payload = &offer;
        payload_len = 1;
    }
    size_t need = overhead(hs->step) + payload_len;
    if (need > cap || need > IPCN_NOISE_MAX_MSG)
        return IPCN_BAD_REQUEST;
    size_t n = 0;
    switch (hs->step) {
    case 0: /* -> e */
        if (write_e(hs, out) < 0)
            return fail(hs, IPCN_INTERNAL_ERROR);
        n = IPCN_NOISE_DH;
        break;
    case 1: /* <- e, ee, s, es */
        if (write_e(hs, out) < 0 || mix_dh(hs, hs->e_priv, hs->re) < 0)
            return fail(hs, IPCN_INTERNAL_ERROR);
        n = IPCN_NOISE_DH;
        n += encrypt_and_hash(hs, hs->s_pub, IPCN_NOISE_DH, out + n);
        if (mix_dh(hs, hs->s_priv, hs->re) < 0)
            return fail(hs, IPCN_INTERNAL_ERROR);
        break;
    default: /* -> s, se */
        n = encrypt_and_hash(hs, hs->s_pub, IPCN_NOISE_DH, out);
        if (mix_dh(hs, hs->s_priv, hs->re) < 0)
            return fail(hs, IPCN_INTERNAL_ERROR);
        break;
    }
    n += encrypt_and_hash(hs, payload, payload_len, out + n);
    if (hs->step == 0 && (hs->nego & IPCN_NOISE_AESGCM)) {
        /* The same e and payload, in the clear, into the AESGCM state. */
        hash2(hs->h_alt, sizeof hs->h_alt, out, IPCN_NOISE_DH, hs->h_alt);
        hash2(hs->h_alt, sizeof hs->h_alt, payload, payload_len, hs->h_alt);
    }
    hs->step++;
    *out_len = n;
    return IPCN_OK;
}

/* The responder reads the offer of message 1 (its payload, in the clear)
 * before anything is hashed: AESGCM when both sides take it.  0, or -1
 * for a payload that is no offer. */
static int pick_suite(ipcn__noise_hs *hs, size_t plen, const uint8_t *offer)
{
    if (plen > 1)
        return -1;
    if (plen == 1 && (offer[0] & hs->nego & IPCN_NOISE_AESGCM)) {
        hs->suite = IPCN_NOISE_AESGCM;
        memcpy(hs->h, hs->h_alt, sizeof hs->h);
        memcpy(hs->ck, hs->ck_alt, sizeof hs->ck);
    }
    ipcn__noise_wipe(hs->h_alt, sizeof hs->h_alt);
    ipcn__noise_wipe(hs->ck_alt, sizeof hs->ck_alt);
    hs->nego = 0; /* settled: from here a plain handshake of that suite */
    return 0;
}

static int read_one(ipcn__noise_hs *hs, const uint8_t *msg, size_t len,
                    uint8_t *payload, size_t plen);

/* The initiator that offered AESGCM reads message 2 under AESGCM first,
 * then ChaChaPoly: the suite the responder picked is the one under which
 * the message authenticates (a changed offer or reply authenticates under
 * neither).  100, or 200 with the handshake over. */
static int read_offered(ipcn__noise_hs *hs, const uint8_t *msg, size_t len,
                        uint8_t *payload, size_t plen)
{
    ipcn__noise_hs alt = *hs;
    alt.suite = IPCN_NOISE_AESGCM;
    alt.nego = 0;
    memcpy(alt.h, hs->h_alt, sizeof alt.h);
    memcpy(alt.ck, hs->ck_alt, sizeof alt.ck);
    hs->nego = 0;
    ipcn__noise_wipe(hs->h_alt, sizeof hs->h_alt);
    ipcn__noise_wipe(hs->ck_alt, sizeof hs->ck_alt);
    if (read_one(&alt, msg, len, payload, plen) == 0) {
        *hs = alt;
        ipcn__noise_wipe(&alt, sizeof alt);
        return IPCN_OK;
    }
    ipcn__noise_wipe(&alt, sizeof alt);
    if (read_one(hs, msg, len, payload, plen) == 0)
        return IPCN_OK;
    return fail(hs, IPCN_BAD_REQUEST);
}

int ipcn__noise_read_message(ipcn__noise_hs *hs, const uint8_t *msg,
                             size_t len, uint8_t *payload, size_t cap,
                             size_t *payload_len)
{
    if (!hs || !msg || !payload_len || !my_turn(hs, false))
        return IPCN_BAD_REQUEST;
    size_t over = overhead(hs->step);
    if (len < over || len > IPCN_NOISE_MAX_MSG)
        return fail(hs, IPCN_BAD_REQUEST); /* malformed */
    size_t plen = len - over;
    if (hs->nego && hs->step == 0) {
        /* The offer is for this side, not the caller's payload. */
        if (pick_suite(hs, plen, msg + over) < 0)
            return fail(hs, IPCN_BAD_REQUEST);
        uint8_t offer[1];
        if (read_one(hs, msg, len, offer, plen) < 0)
            return fail(hs, IPCN_BAD_REQUEST);
        *payload_len = 0;
        return IPCN_OK;
    }
    if (plen > cap || (!payload && plen))
        return IPCN_BAD_REQUEST; /* our buffer: the handshake goes on */
    if (hs->nego && hs->step == 1 && (hs->nego & IPCN_NOISE_AESGCM)) {
        int st = read_offered(hs, msg, len, payload, plen);
        if (st == IPCN_OK)
            *payload_len = plen;
        return st;
    }
    if (read_one(hs, msg, len, payload, plen) < 0)
        return fail(hs, IPCN_BAD_REQUEST);
    *payload_len = plen;
    return IPCN_OK;
}

/* The tokens of the peer's message of this step and its payload (plen
 * bytes into payload): 0, or -1 when it does not authenticate (hs is then
 * to be failed by the caller). */
static int read_one(ipcn__noise_hs *hs, const uint8_t *msg, size_t len,
                    uint8_t *payload, size_t plen)
{
    /* Room for the tag too: decrypt_and_hash would copy all 48 bytes if
     * there were no key yet (never, after ee; the compiler cannot see it). */
    uint8_t rs[IPCN_NOISE_DH + IPCN_NOISE_TAG];
    const uint8_t *p = msg;
    int r = 0;
    switch (hs->step) {
    case 0: /* -> e */
        memcpy(hs->re, p, IPCN_NOISE_DH);
        mix_hash(hs, hs->re, IPCN_NOISE_DH);
        p += IPCN_NOISE_DH;
        break;
    case 1: /* <- e, ee, s, es */
        memcpy(hs->re, p, IPCN_NOISE_DH);
        mix_hash(hs, hs->re, IPCN_NOISE_DH);
        p += IPCN_NOISE_DH;
        if (mix_dh(hs, hs->e_priv, hs->re) < 0 ||
            decrypt_and_hash(hs, p, IPCN_NOISE_DH + IPCN_NOISE_TAG, rs) < 0 ||
            mix_dh(hs, hs->e_priv, rs) < 0)
            r = -1;
        p += IPCN_NOISE_DH + IPCN_NOISE_TAG;
        break;
    default: /* -> s, se */
        if (decrypt_and_hash(hs, p, IPCN_NOISE_DH + IPCN_NOISE_TAG, rs) < 0 ||
            mix_dh(hs, hs->e_priv, rs) < 0)
            r = -1;
        p += IPCN_NOISE_DH + IPCN_NOISE_TAG;
        break;
    }
    if (r == 0 && hs->step > 0) {
        memcpy(hs->rs, rs, IPCN_NOISE_DH);
        hs->has_rs = true;
    }
    ipcn__noise_wipe(rs, sizeof rs);
    uint8_t none[1];
    if (r < 0 ||
        decrypt_and_hash(hs, p, (size_t)(msg + len - p), plen ? payload : none) < 0)
        return -1;
    hs->step++;
    return 0;
}

int ipcn__noise_split(ipcn__noise_hs *hs, ipcn__noise_cipher *send,
                      ipcn__noise_cipher *recv, uint8_t hash[IPCN_NOISE_HASH])
{
    if (!hs || !send || !recv || !ipcn__noise_done(hs))
        return IPCN_BAD_REQUEST;
    uint8_t k1[IPCN_NOISE_HASH], k2[IPCN_NOISE_HASH];
    hkdf2(hs->ck, NULL, 0, k1, k2);
    ipcn__noise_cipher c1 = {0}, c2 = {0};
    cipher_init(&c1, k1, hs->suite);
    cipher_init(&c2, k2, hs->suite);
    *send = hs->initiator ? c1 : c2;
    *recv = hs->initiator ? c2 : c1;
    if (hash)
        memcpy(hash, hs->h, IPCN_NOISE_HASH);
    ipcn__noise_wipe(k1, sizeof k1);
    ipcn__noise_wipe(k2, sizeof k2);
    ipcn__noise_wipe(&c1, sizeof c1);
    ipcn__noise_wipe(&c2, sizeof c2);
    ipcn__noise_wipe(hs, sizeof *hs);
    return IPCN_OK;
}

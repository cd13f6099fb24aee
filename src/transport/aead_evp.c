/* SPDX-License-Identifier: MIT */
/*
 * aead_evp.c — ChaCha20-Poly1305 (RFC 8439, the AEAD of Noise's ChaChaPoly)
 * and AES-256-GCM (Noise's AESGCM) through OpenSSL's libcrypto, for the
 * transport messages of TCP links.
 *
 * Why a second implementation of the ciphers: libsodium's ChaCha20 runs
 * at about 1 GB/s on the machines we measure (docs/benchmarks.md),
 * OpenSSL's, with its stitched AVX2/AVX-512 code, at about twice that,
 * and a TCP link carrying 8 MiB samples spends most of its CPU in the
 * cipher.  The two give the same bytes (test_noise checks this message by
 * message against libsodium, for both ciphers); the handshake keeps
 * libsodium.  Built only when libcrypto
 * was found (IPCN_HAVE_EVP); otherwise every call here says "not
 * available" and noise.c uses libsodium for everything.
 *
 * A context is keyed once and reused for every message: only the nonce
 * changes.  Its memory comes from OpenSSL's allocator, not ipcn_set_allocator().
 */
#include <string.h>

#include "transport/noise.h"

#ifdef IPCN_HAVE_EVP
#include <openssl/evp.h>

void *ipcn__evp_new(const uint8_t key[32], unsigned suite)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    if (!x)
        return NULL;
    /* One context for both directions: each call says which it is.  Both
     * ciphers take a 12-byte nonce by default. */
    const EVP_CIPHER *c = suite == IPCN_NOISE_AESGCM ? EVP_aes_256_gcm()
                                                     : EVP_chacha20_poly1305();
    if (EVP_CipherInit_ex(x, c, NULL, key, NULL, -1) != 1) {
        EVP_CIPHER_CTX_free(x);
        return NULL;
    }
    return x;
}

void ipcn__evp_free(void *ctx)
{
    EVP_CIPHER_CTX_free(ctx); /* NULL-safe; it clears the key schedule */
}

/* AD then the text; the tag is got or set by the caller.  0 or -1. */
static int run(EVP_CIPHER_CTX *x, int enc, const uint8_t nonce[12],
               const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t len,
               uint8_t *out)
{
    int k = 0;
    if (EVP_CipherInit_ex(x, NULL, NULL, NULL, nonce, enc) != 1)
        return -1;
    if (ad_len && EVP_CipherUpdate(x, NULL, &k, ad, (int)ad_len) != 1)
        return -1;
    if (len && (EVP_CipherUpdate(x, out, &k, in, (int)len) != 1 || (size_t)k != len))
        return -1;
    return 0;
}

int ipcn__evp_seal(void *ctx, const uint8_t nonce[12], const uint8_t *ad,
                   size_t ad_len, const uint8_t *pt, size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *x = ctx;
    int k = 0;
    if (run(x, 1, nonce, ad, ad_len, pt, len, out) != 0 ||
        EVP_CipherFinal_ex(x, out + len, &k) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, IPCN_NOISE_TAG, out + len) != 1)
        return -1;
    return 0;
}

int ipcn__evp_open(void *ctx, const uint8_t nonce[12], const uint8_t *ad,
                   size_t ad_len, const uint8_t *ct, size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *x = ctx;
    size_t plen = len - IPCN_NOISE_TAG; /* len >= the tag: the caller checked */
    uint8_t tag[IPCN_NOISE_TAG];
    int k = 0;
    memcpy(tag, ct + plen, sizeof tag); /* before an in-place pass */
    if (run(x, 0, nonce, ad, ad_len, ct, plen, out) != 0 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, IPCN_NOISE_TAG, tag) != 1 ||
        EVP_CipherFinal_ex(x, out + plen, &k) != 1) {
        if (plen)
            memset(out, 0, plen);
        return -1;
    }
    return 0;
}

#else /* !IPCN_HAVE_EVP */

void *ipcn__evp_new(const uint8_t key[32], unsigned suite)
{
    (void)key, (void)suite;
    return NULL;
}

void ipcn__evp_free(void *ctx)
{
    (void)ctx;
}

int ipcn__evp_seal(void *ctx, const uint8_t nonce[12], const uint8_t *ad,
                   size_t ad_len, const uint8_t *pt, size_t len, uint8_t *out)
{
    (void)ctx, (void)nonce, (void)ad, (void)ad_len, (void)pt, (void)len, (void)out;
    return -1;
}

int ipcn__evp_open(void *ctx, const uint8_t nonce[12], const uint8_t *ad,
                   size_t ad_len, const uint8_t *ct, size_t len, uint8_t *out)
{
    (void)ctx, (void)nonce, (void)ad, (void)ad_len, (void)ct, (void)len, (void)out;
    return -1;
}

#endif

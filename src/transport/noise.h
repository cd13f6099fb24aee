/* SPDX-License-Identifier: MIT */
/*
 * noise.h — the Noise protocol framework (revision 34), the two suites
 * IPCNet speaks between hosts: Noise_XX_25519_ChaChaPoly_BLAKE2b, and
 * Noise_XX_25519_AESGCM_BLAKE2b where both hosts have AES instructions,
 * on libsodium's primitives (X25519, ChaCha20-Poly1305 IETF, AES-256-GCM,
 * BLAKE2b-512; HMAC and HKDF as the specification defines them over
 * BLAKE2b).  Pure functions over buffers: no I/O.  noise.c.
 *
 * XX:  -> e
 *      <- e, ee, s, es
 *      -> s, se
 * Each handshake message and each transport message is at most
 * IPCN_NOISE_MAX_MSG bytes; over TCP each goes after a 2-byte big-endian
 * length (link_tcp.c, docs/protocol.md "Links between hosts").
 */
#ifndef IPCN_NOISE_H
#define IPCN_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPCN_NOISE_DH 32      /* X25519 keys */
#define IPCN_NOISE_HASH 64    /* BLAKE2b-512 */
#define IPCN_NOISE_TAG 16     /* Poly1305 */
#define IPCN_NOISE_MAX_MSG 65535u
#define IPCN_NOISE_PROTOCOL "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define IPCN_NOISE_PROTOCOL_AESGCM "Noise_XX_25519_AESGCM_BLAKE2b"

/* The cipher functions of the suite (both names above differ only in it):
 * a bit each, so that a set of them is a mask. */
#define IPCN_NOISE_CHACHAPOLY 1u
#define IPCN_NOISE_AESGCM 2u

/* A CipherState: a key and its nonce (2^64 - 1 is never used: the link
 * is closed before). */
/* A transport message of at least this many bytes goes through libcrypto
 * when the build has it (aead_evp.c): the same cipher, twice as fast;
 * shorter ones, where a libcrypto call costs more than the cipher, stay
 * with libsodium. */
#define IPCN_NOISE_FAST_MIN 4096u

typedef struct ipcn__noise_cipher {
    uint8_t k[32];
    uint64_t n;
    bool has_key;
    uint8_t suite;  /* IPCN_NOISE_CHACHAPOLY or IPCN_NOISE_AESGCM */
    void *fast;   /* aead_evp.c's context, made on first use: a cipher that
                     was used is not copied and ends with
                     ipcn__noise_cipher_clear() */
} ipcn__noise_cipher;

/* A HandshakeState of XX, with its SymmetricState. */
typedef struct ipcn__noise_hs {
    bool initiator;
    uint8_t step;             /* messages written or read: 0..3 */
    uint8_t suite;            /* the cipher of h and ck (IPCN_NOISE_*) */
    uint8_t h[IPCN_NOISE_HASH], ck[IPCN_NOISE_HASH];
    /* Negotiation (ipcn__noise_init_nego): the suites this side takes,
     * and until message 2 the state of the AESGCM suite beside the
     * ChaChaPoly one. */
    uint8_t nego;
    uint8_t h_alt[IPCN_NOISE_HASH], ck_alt[IPCN_NOISE_HASH];
    ipcn__noise_cipher c;
    uint8_t s_priv[32], s_pub[32];
    uint8_t e_priv[32], e_pub[32];
    bool has_e;               /* e fixed by a test vector */
    uint8_t rs[32], re[32];   /* the peer's static and ephemeral keys */
    bool has_rs;
} ipcn__noise_hs;

/* Start a handshake with our static key pair and a prologue (both sides
 * must give the same).  100, or 200 for a bad argument. */
int ipcn__noise_init(ipcn__noise_hs *hs, bool initiator, const uint8_t *prologue,
                     size_t prologue_len, const uint8_t s_priv[32]);
/* The same with the suite named (IPCN_NOISE_CHACHAPOLY or _AESGCM; test
 * vectors).  200 also for an unknown suite; 301 for AESGCM where this
 * machine cannot run it (libsodium's AES-GCM needs AES-NI). */
int ipcn__noise_init_suite(ipcn__noise_hs *hs, unsigned suite, bool initiator,
                           const uint8_t *prologue, size_t prologue_len,
                           const uint8_t s_priv[32]);
/* A handshake whose suite is negotiated (docs/protocol.md 19.1.1, "Which
 * cipher"): suites is the mask this side may use (ChaChaPoly always).
 * The initiator's message 1 then carries the offer as its payload and
 * its message 2 is read under the offered suites, AESGCM first; the
 * responder picks the suite from the offer.  The handshake payloads of
 * the caller must be empty.  Statuses as ipcn__noise_init. */
int ipcn__noise_init_nego(ipcn__noise_hs *hs, unsigned suites, bool initiator,
                          const uint8_t *prologue, size_t prologue_len,
                          const uint8_t s_priv[32]);
/* The suites this machine can run: ChaChaPoly, and AESGCM where the CPU
 * has the instructions libsodium's AES-GCM needs. */
unsigned ipcn__noise_suites_available(void);
/* The cipher a handshake settled on ("ChaChaPoly" or "AESGCM"); its
 * transport ciphers use it too. */
const char *ipcn__noise_suite_name(unsigned suite);
/* Use this ephemeral private key instead of a random one (test vectors). */
void ipcn__noise_fix_ephemeral(ipcn__noise_hs *hs, const uint8_t e_priv[32]);
/* Write the next handshake message with payload into out (cap bytes):
 * *out_len its size.  100; 200 when it is not our turn or out is too
 * small; 300 when a primitive failed (a low-order point). */
int ipcn__noise_write_message(ipcn__noise_hs *hs, const uint8_t *payload,
                              size_t payload_len, uint8_t *out, size_t cap,
                              size_t *out_len);
/* Read the peer's next handshake message; its payload into payload (cap
 * bytes), *payload_len its size.  100; 200 when it does not authenticate,
 * is malformed or it is not its turn. */
int ipcn__noise_read_message(ipcn__noise_hs *hs, const uint8_t *msg,
                             size_t len, uint8_t *payload, size_t cap,
                             size_t *payload_len);
/* After three messages: the two CipherStates (ours to send, ours to
 * receive) and the handshake hash (channel binding); the handshake state
 * is wiped.  100, or 200 before the handshake is done. */
int ipcn__noise_split(ipcn__noise_hs *hs, ipcn__noise_cipher *send,
                      ipcn__noise_cipher *recv, uint8_t hash[IPCN_NOISE_HASH]);
static inline bool ipcn__noise_done(const ipcn__noise_hs *hs)
{
    return hs->step == 3;
}
/* Transport messages: encrypt len bytes (<= IPCN_NOISE_MAX_MSG - 16) with
 * associated data ad into out (len + 16 bytes); decrypt a message of len
 * bytes (>= 16) into out (len - 16 bytes).  The nonce is the cipher's
 * count, which each call advances (a failed decryption does not).  100;
 * 200 when a message does not authenticate (a flipped bit, a replay, a
 * drop) or a length is out of range; 303 when the nonces are exhausted;
 * 300 (encrypt) when libcrypto failed: the link must end. */
int ipcn__noise_encrypt(ipcn__noise_cipher *c, const uint8_t *ad, size_t ad_len,
                        const uint8_t *pt, size_t len, uint8_t *out);
int ipcn__noise_decrypt(ipcn__noise_cipher *c, const uint8_t *ad, size_t ad_len,
                        const uint8_t *ct, size_t len, uint8_t *out);
/* Free what ipcn__noise_encrypt/decrypt made and wipe the key (NULL-safe). */
void ipcn__noise_cipher_clear(ipcn__noise_cipher *c);

/* aead_evp.c: ChaCha20-Poly1305 or AES-256-GCM (suite) through libcrypto.
 * _new gives NULL when the build has no libcrypto (or it failed); _seal
 * writes len + 16 bytes, _open len - 16 (zeroed when the tag does not
 * match); both 0 or -1. */
void *ipcn__evp_new(const uint8_t key[32], unsigned suite);
void ipcn__evp_free(void *ctx);
int ipcn__evp_seal(void *ctx, const uint8_t nonce[12], const uint8_t *ad,
                   size_t ad_len, const uint8_t *pt, size_t len, uint8_t *out);
int ipcn__evp_open(void *ctx, const uint8_t nonce[12], const uint8_t *ad,
                   size_t ad_len, const uint8_t *ct, size_t len, uint8_t *out);

/* X25519: the public key of a private one.  100 or 300. */
int ipcn__noise_public(const uint8_t priv[32], uint8_t pub[32]);
/* Zero secrets so that the compiler keeps the writes. */
void ipcn__noise_wipe(void *p, size_t n);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * test_noise_nego.c — which cipher two gateways settle on
 * (src/transport/noise.c, ipcn__noise_init_nego; docs/protocol.md 19.1.1,
 * "Which cipher"): AESGCM when both take it, ChaChaPoly otherwise, with a
 * peer that does not negotiate (an older gateway, the npm implementation)
 * on either side; and an offer changed on the way fails the handshake
 * rather than choosing for the two sides.
 *
 * The AESGCM cases need the AES instructions libsodium's AES-GCM uses;
 * on a CPU without them they say so and check that nothing but
 * ChaChaPoly is offered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "transport/noise.h"
#include "util/util.h"

#define BOTH (IPCN_NOISE_CHACHAPOLY | IPCN_NOISE_AESGCM)
#define PLAIN 0u /* a side that does not negotiate: ipcn__noise_init */

static const char PRO[] = "IPCNet/1 default";

typedef struct side {
    ipcn__noise_hs hs;
    uint8_t priv[32], pub[32];
    ipcn__noise_cipher tx, rx;
} side;

static bool have_aes(void)
{
    return ipcn__noise_suites_available() & IPCN_NOISE_AESGCM;
}

static void side_init(side *s, bool initiator, unsigned suites)
{
    memset(s, 0, sizeof *s);
    randombytes_buf(s->priv, sizeof s->priv);
    assert_int_equal(ipcn__noise_public(s->priv, s->pub), IPCN_OK);
    if (suites == PLAIN)
        assert_int_equal(ipcn__noise_init(&s->hs, initiator, (const uint8_t *)PRO,
                                          strlen(PRO), s->priv), IPCN_OK);
    else
        assert_int_equal(ipcn__noise_init_nego(&s->hs, suites, initiator,
                                               (const uint8_t *)PRO, strlen(PRO),
                                               s->priv), IPCN_OK);
}

static void side_clear(side *s)
{
    ipcn__noise_cipher_clear(&s->tx);
    ipcn__noise_cipher_clear(&s->rx);
}

/* The three messages; msg1 may be changed by tamper before the responder
 * reads it.  Returns the status of the first read that failed (100: the
 * handshake is done and split on both sides). */
static int handshake(side *ini, side *res, void (*tamper)(uint8_t *, size_t *),
                     size_t *msg1_len)
{
    uint8_t m[256], pl[64];
    size_t n = 0, k = 0;
    assert_int_equal(ipcn__noise_write_message(&ini->hs, NULL, 0, m, sizeof m, &n),
                     IPCN_OK);
    if (msg1_len)
        *msg1_len = n;
    if (tamper)
        tamper(m, &n);
    int st = ipcn__noise_read_message(&res->hs, m, n, pl, sizeof pl, &k);
    if (st != IPCN_OK)
        return st;
    assert_int_equal(ipcn__noise_write_message(&res->hs, NULL, 0, m, sizeof m, &n),
                     IPCN_OK);
    if ((st = ipcn__noise_read_message(&ini->hs, m, n, pl, sizeof pl, &k)) != IPCN_OK)
        return st;
    assert_int_equal(k, 0);
    assert_int_equal(ipcn__noise_write_message(&ini->hs, NULL, 0, m, sizeof m, &n),
                     IPCN_OK);
    if ((st = ipcn__noise_read_message(&res->hs, m, n, pl, sizeof pl, &k)) != IPCN_OK)
        return st;
    assert_int_equal(k, 0);
    uint8_t hi[IPCN_NOISE_HASH], hr[IPCN_NOISE_HASH];
    assert_int_equal(ipcn__noise_split(&ini->hs, &ini->tx, &ini->rx, hi), IPCN_OK);
    assert_int_equal(ipcn__noise_split(&res->hs, &res->tx, &res->rx, hr), IPCN_OK);
    assert_memory_equal(hi, hr, sizeof hi);
    return IPCN_OK;
}

/* Both directions carry messages of both sizes (libsodium's and, from
 * IPCN_NOISE_FAST_MIN, libcrypto's path), all under the suite expected. */
static void check_session(side *ini, side *res, unsigned suite)
{
    assert_int_equal(ini->tx.suite, suite);
    assert_int_equal(ini->rx.suite, suite);
    assert_int_equal(res->tx.suite, suite);
    assert_int_equal(res->rx.suite, suite);
    static uint8_t pt[20000], ct[20000 + IPCN_NOISE_TAG], out[20000];
    const size_t sizes[] = {0, 64, IPCN_NOISE_FAST_MIN, sizeof pt};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t len = sizes[i];
        randombytes_buf(pt, len);
        side *a = i % 2 ? res : ini, *b = i % 2 ? ini : res;
        assert_int_equal(ipcn__noise_encrypt(&a->tx, NULL, 0, pt, len, ct), IPCN_OK);
        assert_int_equal(ipcn__noise_decrypt(&b->rx, NULL, 0, ct, len + IPCN_NOISE_TAG,
                                             out), IPCN_OK);
        assert_memory_equal(out, pt, len);
    }
}

static void run(unsigned ini_suites, unsigned res_suites, unsigned expect)
{
    side ini, res;
    side_init(&ini, true, ini_suites);
    side_init(&res, false, res_suites);
    assert_int_equal(handshake(&ini, &res, NULL, NULL), IPCN_OK);
    check_session(&ini, &res, expect);
    side_clear(&ini);
    side_clear(&res);
}

static void test_both_take_aesgcm(void **state)
{
    (void)state;
    if (!have_aes()) {
        print_message("skip: this CPU has no AES instructions for libsodium: "
                      "only ChaChaPoly is offered\n");
        assert_int_equal(ipcn__noise_suites_available(), IPCN_NOISE_CHACHAPOLY);
        run(BOTH, BOTH, IPCN_NOISE_CHACHAPOLY);
        return;
    }
    run(BOTH, BOTH, IPCN_NOISE_AESGCM);
    assert_string_equal(ipcn__noise_suite_name(IPCN_NOISE_AESGCM), "AESGCM");
}

/* Told ChaChaPoly on either side (IPCNET_CIPHER=chachapoly), or a peer
 * that does not negotiate: ChaChaPoly. */
static void test_chachapoly_otherwise(void **state)
{
    (void)state;
    run(BOTH, IPCN_NOISE_CHACHAPOLY, IPCN_NOISE_CHACHAPOLY);
    run(IPCN_NOISE_CHACHAPOLY, BOTH, IPCN_NOISE_CHACHAPOLY);
    run(PLAIN, BOTH, IPCN_NOISE_CHACHAPOLY);
    run(BOTH, PLAIN, IPCN_NOISE_CHACHAPOLY); /* the offer is a payload to it */
    run(IPCN_NOISE_CHACHAPOLY, PLAIN, IPCN_NOISE_CHACHAPOLY);
    assert_string_equal(ipcn__noise_suite_name(IPCN_NOISE_CHACHAPOLY), "ChaChaPoly");
}

/* A side that offers ChaChaPoly alone sends what a handshake without
 * negotiation sends: message 1 of 32 bytes, no payload. */
static void test_no_offer_is_version_1(void **state)
{
    (void)state;
    side ini, res;
    size_t n = 0;
    side_init(&ini, true, IPCN_NOISE_CHACHAPOLY);
    side_init(&res, false, BOTH);
    assert_int_equal(handshake(&ini, &res, NULL, &n), IPCN_OK);
    assert_int_equal(n, IPCN_NOISE_DH);
    side_clear(&ini);
    side_clear(&res);
    if (have_aes()) {
        side_init(&ini, true, BOTH);
        side_init(&res, false, BOTH);
        assert_int_equal(handshake(&ini, &res, NULL, &n), IPCN_OK);
        assert_int_equal(n, IPCN_NOISE_DH + 1);
        side_clear(&ini);
        side_clear(&res);
    }
}

static void strip_offer(uint8_t *m, size_t *n)
{
    (void)m;
    if (*n > IPCN_NOISE_DH)
        *n = IPCN_NOISE_DH;
}

static void offer_chachapoly(uint8_t *m, size_t *n)
{
    if (*n > IPCN_NOISE_DH)
        m[IPCN_NOISE_DH] = IPCN_NOISE_CHACHAPOLY;
}

static void offer_all_bits(uint8_t *m, size_t *n)
{
    if (*n > IPCN_NOISE_DH)
        m[IPCN_NOISE_DH] = 0xff;
}

static void offer_two_bytes(uint8_t *m, size_t *n)
{
    m[*n] = 0;
    *n += 1;
}

/* Whoever removes or changes the offer on the way cannot pick the cipher:
 * the two sides' transcripts differ, and message 2 authenticates under
 * none of the initiator's suites.  Unknown bits of an offer are ignored;
 * an offer longer than a byte is malformed. */
static void test_offer_tampered(void **state)
{
    (void)state;
    if (!have_aes()) {
        print_message("skip: this CPU has no AES instructions for libsodium\n");
        return;
    }
    void (*const changes[])(uint8_t *, size_t *) = {strip_offer, offer_chachapoly};
    for (size_t i = 0; i < 2; i++) {
        side ini, res;
        side_init(&ini, true, BOTH);
        side_init(&res, false, BOTH);
        assert_int_equal(handshake(&ini, &res, changes[i], NULL), IPCN_BAD_REQUEST);
        /* the initiator's handshake is over: nothing more is taken */
        uint8_t m[128];
        size_t n = 0;
        assert_int_equal(ipcn__noise_write_message(&ini.hs, NULL, 0, m, sizeof m, &n),
                         IPCN_BAD_REQUEST);
        side_clear(&ini);
        side_clear(&res);
    }
    side ini, res;
    side_init(&ini, true, BOTH);
    side_init(&res, false, BOTH);
    /* 0xff is not what the initiator hashed: refused as above */
    assert_int_equal(handshake(&ini, &res, offer_all_bits, NULL), IPCN_BAD_REQUEST);
    side_clear(&ini);
    side_clear(&res);

    side_init(&ini, true, BOTH);
    side_init(&res, false, BOTH);
    assert_int_equal(handshake(&ini, &res, offer_two_bytes, NULL), IPCN_BAD_REQUEST);
    side_clear(&ini);
    side_clear(&res);
}

/* A responder takes any bits it knows from an offer (a later version may
 * offer more suites): 0xff from an honest initiator that hashed 0xff. */
static void test_offer_unknown_bits(void **state)
{
    (void)state;
    if (!have_aes()) {
        print_message("skip: this CPU has no AES instructions for libsodium\n");
        return;
    }
    side ini, res;
    side_init(&ini, true, BOTH);
    side_init(&res, false, BOTH);
    ini.hs.nego = 0xff; /* what ipcn__noise_write_message sends as the offer */
    assert_int_equal(handshake(&ini, &res, NULL, NULL), IPCN_OK);
    check_session(&ini, &res, IPCN_NOISE_AESGCM);
    side_clear(&ini);
    side_clear(&res);
}

/* The caller's own payloads have no place in a negotiated handshake. */
static void test_payload_refused(void **state)
{
    (void)state;
    side ini;
    side_init(&ini, true, BOTH);
    uint8_t m[128], pl[1] = {7};
    size_t n = 0;
    assert_int_equal(ipcn__noise_write_message(&ini.hs, pl, 1, m, sizeof m, &n),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__noise_write_message(&ini.hs, NULL, 0, m, sizeof m, &n),
                     IPCN_OK);
    side_clear(&ini);
    /* an unknown suite by name */
    ipcn__noise_hs hs;
    assert_int_equal(ipcn__noise_init_suite(&hs, 4, true, NULL, 0, ini.priv),
                     IPCN_BAD_REQUEST);
    if (!have_aes())
        assert_int_equal(ipcn__noise_init_suite(&hs, IPCN_NOISE_AESGCM, true, NULL, 0,
                                                ini.priv), IPCN_NOT_IMPLEMENTED);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_take_aesgcm),
        cmocka_unit_test(test_chachapoly_otherwise),
        cmocka_unit_test(test_no_offer_is_version_1),
        cmocka_unit_test(test_offer_tampered),
        cmocka_unit_test(test_offer_unknown_bits),
        cmocka_unit_test(test_payload_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

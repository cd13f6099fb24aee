/* SPDX-License-Identifier: MIT */
/*
 * fuzz_json.c — libFuzzer harness of JSON <-> CBOR and of the getters by
 * path (src/value/json_*.c, cbor_get.c), on the same hostile bytes read
 * as a JSON text and as a CBOR item.
 *
 * Properties checked (besides ASan/UBSan's):
 *  - JSON: ipcn_cbor_from_json() returns 100 or 200 (an error's offset
 *    within the text and a reason given); the size query and the write
 *    agree; one byte less is 306; the CBOR written is one well-formed
 *    item; a deterministic write is deterministic CBOR (or 200 for equal
 *    keys); printed back with ipcn_cbor_to_json() it parses again, and the
 *    JSON it gives then is the same text (a fixed point after one round);
 *  - CBOR: ipcn_cbor_to_json() accepts exactly what ipcn_cbor_check()
 *    accepts, its size query agrees with the write, its output is always
 *    valid JSON, plain and pretty;
 *  - the getters: statuses from their documented set only; a span from
 *    ipcn_cbor_map_get() lies inside the input and is one well-formed
 *    item; a text view lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet_value.h"

/* Bytes -> JSON text in a new exact-size buffer (NUL-terminated). */
static char *fj_to_json(const uint8_t *p, size_t n, uint32_t flags, size_t *len)
{
    size_t need = 0;
    int st = ipcn_cbor_to_json(p, n, flags, NULL, 0, &need);
    if (st != IPCN_OK) {
        FUZZ_ASSERT(st == IPCN_BAD_REQUEST);
        return NULL;
    }
    char *s = malloc(need + 1);
    FUZZ_ASSERT(s);
    size_t got = 0;
    FUZZ_ASSERT(ipcn_cbor_to_json(p, n, flags, s, need + 1, &got) == IPCN_OK);
    FUZZ_ASSERT(got == need && strlen(s) == need);
    *len = need;
    return s;
}

/* JSON text -> CBOR in a new exact-size buffer; 100 or 200. */
static int fj_from_json(const char *j, size_t n, uint32_t flags, uint8_t **out,
                        size_t *len)
{
    size_t need = 0;
    ipcn_json_error e = {0, NULL};
    int st = ipcn_cbor_from_json(j, n, flags, NULL, 0, &need, &e);
    if (st == IPCN_BAD_REQUEST) {
        FUZZ_ASSERT(e.what && e.offset <= n);
        return st;
    }
    FUZZ_ASSERT(st == IPCN_OK && need > 0);
    uint8_t *c = malloc(need);
    FUZZ_ASSERT(c);
    if (need > 1) { /* one byte short: 306 and the size (or, deterministic,
                      * 200 for equal keys in a map that fitted) */
        st = ipcn_cbor_from_json(j, n, flags, c, need - 1, len, NULL);
        FUZZ_ASSERT((st == IPCN_INSUFFICIENT_STORAGE && *len == need) ||
                    (st == IPCN_BAD_REQUEST && (flags & IPCN_CBOR_DETERMINISTIC)));
    }
    st = ipcn_cbor_from_json(j, n, flags, c, need, len, NULL);
    if (st == IPCN_BAD_REQUEST && (flags & IPCN_CBOR_DETERMINISTIC)) {
        free(c); /* equal keys, found when sorting */
        return st;
    }
    FUZZ_ASSERT(st == IPCN_OK && *len == need);
    *out = c;
    return st;
}

static void fj_json(const uint8_t *p, size_t n)
{
    const char *j = (const char *)p;
    uint8_t *c = NULL, *d = NULL, *c2 = NULL;
    size_t cn = 0, dn = 0, c2n = 0;
    int st = fj_from_json(j, n, 0, &c, &cn);
    int dst = fj_from_json(j, n, IPCN_CBOR_DETERMINISTIC, &d, &dn);
    if (st != IPCN_OK) {
        FUZZ_ASSERT(dst == IPCN_BAD_REQUEST);
        return;
    }
    FUZZ_ASSERT(ipcn_cbor_check(c, cn, 0) == IPCN_OK);
    if (dst == IPCN_OK)
        FUZZ_ASSERT(ipcn_cbor_check(d, dn, IPCN_CBOR_DETERMINISTIC) == IPCN_OK);
    size_t jn = 0, j2n = 0;
    char *j1 = fj_to_json(c, cn, 0, &jn);
    FUZZ_ASSERT(j1);
    FUZZ_ASSERT(fj_from_json(j1, jn, 0, &c2, &c2n) == IPCN_OK);
    char *j2 = fj_to_json(c2, c2n, 0, &j2n);
    FUZZ_ASSERT(j2 && j2n == jn && memcmp(j1, j2, jn) == 0);
    free(j2);
    free(j1);
    free(c2);
    free(d);
    free(c);
}

static void fj_cbor(const uint8_t *p, size_t n)
{
    int ok = ipcn_cbor_check(p, n, 0) == IPCN_OK;
    size_t jn = 0;
    char *j = fj_to_json(p, n, 0, &jn);
    FUZZ_ASSERT((j != NULL) == ok);
    if (!j)
        return;
    FUZZ_ASSERT(ipcn_cbor_from_json(j, jn, 0, NULL, 0, NULL, NULL) == IPCN_OK);
    free(j);
    j = fj_to_json(p, n, IPCN_JSON_PRETTY | IPCN_JSON_TENSOR_HEAD, &jn);
    FUZZ_ASSERT(j);
    FUZZ_ASSERT(ipcn_cbor_from_json(j, jn, 0, NULL, 0, NULL, NULL) == IPCN_OK);
    free(j);
}

static void fj_getters(const uint8_t *p, size_t n)
{
    static const char *const paths[] = {"", "a", "[0]", "[1]", "a.b", "a[0]",
                                        "[0][0]", "[0].a", "x.y.z", "k[2].v"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        const char *path = paths[i];
        const uint8_t *item = NULL;
        size_t il = 0;
        int st = ipcn_cbor_map_get(p, n, path, &item, &il);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND);
        if (st == IPCN_OK) {
            FUZZ_ASSERT(item >= p && il <= n && item + il <= p + n);
            FUZZ_ASSERT(ipcn_cbor_check(item, il, 0) == IPCN_OK);
        }
        double d;
        int64_t x;
        uint64_t u;
        int b;
        st = ipcn_cbor_map_get_double(p, n, path, &d);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND);
        st = ipcn_cbor_map_get_int(p, n, path, &x);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND ||
                    st == IPCN_INSUFFICIENT_STORAGE);
        st = ipcn_cbor_map_get_uint(p, n, path, &u);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND ||
                    st == IPCN_INSUFFICIENT_STORAGE);
        st = ipcn_cbor_map_get_bool(p, n, path, &b);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND);
        const char *s = NULL;
        size_t sl = 0;
        st = ipcn_cbor_map_get_text(p, n, path, &s, &sl);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND ||
                    st == IPCN_NOT_IMPLEMENTED);
        if (st == IPCN_OK)
            FUZZ_ASSERT((const uint8_t *)s >= p && (const uint8_t *)s + sl <= p + n);
        char buf[16];
        st = ipcn_cbor_map_get_cstr(p, n, path, buf, sizeof buf, &sl);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND ||
                    st == IPCN_INSUFFICIENT_STORAGE);
        if (st == IPCN_OK)
            FUZZ_ASSERT(sl < sizeof buf && buf[sl] == 0);
        double arr[4];
        st = ipcn_cbor_map_get_doubles(p, n, path, arr, 4, &sl);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND ||
                    st == IPCN_INSUFFICIENT_STORAGE);
        if (st == IPCN_OK)
            FUZZ_ASSERT(sl <= 4);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan then sees any read past the end. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    fj_json(p, size);
    fj_cbor(p, size);
    fj_getters(p, size);
    free(p);
    return 0;
}

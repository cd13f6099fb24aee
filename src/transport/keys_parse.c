/* SPDX-License-Identifier: MIT */
/*
 * keys_parse.c — the text of a network's trust list and of its
 * gateway.conf (keys.h), and keys as text.  Pure and bounded: fuzzed by
 * tests/fuzz/fuzz_trust.c and fuzz_gwconf.c.
 */
#include <string.h>

#include <sodium.h>

#include "transport/keys.h"
#include "transport/noise.h"
#include "util/util.h"

int ipcn__key_from_text(const char *s, size_t n, uint8_t key[32])
{
    if (!s || n != IPCN_KEY_TEXT_LEN)
        return IPCN_BAD_REQUEST;
    uint8_t k[32];
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(k, sizeof k, s, n, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != sizeof k || end != s + n)
        return IPCN_BAD_REQUEST;
    /* Canonical: one text per key, so that a key is named one way in a
     * list and in a log. */
    char back[IPCN_KEY_TEXT_LEN + 1];
    ipcn__key_to_text(k, back);
    if (memcmp(back, s, n) != 0)
        return IPCN_BAD_REQUEST;
    memcpy(key, k, sizeof k);
    return IPCN_OK;
}

void ipcn__key_to_text(const uint8_t key[32], char out[IPCN_KEY_TEXT_LEN + 1])
{
    sodium_bin2base64(out, IPCN_KEY_TEXT_LEN + 1, key, 32,
                      sodium_base64_VARIANT_ORIGINAL);
}

/* ---- lines ---- */

typedef struct line_iter {
    const char *p, *end;
    size_t no;          /* the number of the line just taken, from 1 */
} line_iter;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next line, without its '\n' and '\r', trimmed; false at the end. */
static bool next_line(line_iter *it, const char **s, size_t *n, size_t *raw)
{
    if (it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    *raw = (size_t)(e - it->p);
    const char *b = it->p;
    it->p = nl ? nl + 1 : it->end;
    it->no++;
    if (e > b && e[-1] == '\r')
        e--;
    while (b < e && is_blank(*b))
        b++;
    while (e > b && is_blank(e[-1]))
        e--;
    *s = b;
    *n = (size_t)(e - b);
    return true;
}

/* The whole text: bounded, no NUL byte. */
static bool text_ok(const char *text, size_t len)
{
    return (text || !len) && len <= IPCN__KEYS_FILE_MAX &&
           (!len || !memchr(text, 0, len));
}

static int bad(const char *what, size_t line, const char *why, size_t *bad_line)
{
    if (line)
        ipcn__err("IPCN-KEYS-BADLINE", "%s, line %zu: %s", what, line, why);
    else
        ipcn__err("IPCN-KEYS-BADFILE", "%s: %s", what, why);
    if (bad_line)
        *bad_line = line;
    return IPCN_BAD_REQUEST;
}

/* ---- the trust list ---- */

void ipcn__trust_free(ipcn__trust_list *t)
{
    if (!t)
        return;
    ipcn__free(t->hosts);
    ipcn__free(t->keys);
    t->hosts = NULL;
    t->keys = NULL;
    t->count = 0;
}

static int trust_push(ipcn__trust_list *t, size_t *cap, const char *name,
                      size_t nn, const uint8_t key[32], const char *ktext)
{
    if (t->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        ipcn_trusted *h = ipcn__realloc(t->hosts, nc * sizeof *h);
        if (!h)
            return IPCN_INSUFFICIENT_MEMORY;
        t->hosts = h;
        uint8_t(*k)[32] = ipcn__realloc(t->keys, nc * sizeof *k);
        if (!k)
            return IPCN_INSUFFICIENT_MEMORY;
        t->keys = k;
        *cap = nc;
    }
    ipcn_trusted *h = &t->hosts[t->count];
    memset(h, 0, sizeof *h);
    memcpy(h->name, name, nn);
    memcpy(h->key, ktext, IPCN_KEY_TEXT_LEN);
    memcpy(t->keys[t->count], key, 32);
    t->count++;
    return IPCN_OK;
}

/* One "NAME KEY" line into t; 100, 200 (*why says why) or 307. */
static int trust_line(ipcn__trust_list *t, size_t *cap, const char *s,
                      size_t n, const char **why)
{
    size_t nn = 0;
    while (nn < n && !is_blank(s[nn]))
        nn++;
    const char *k = s + nn;
    while (k < s + n && is_blank(*k))
        k++;
    size_t kn = (size_t)(s + n - k);
    uint8_t key[32];
    if (kn == 0) {
        *why = "expected NAME KEY";
        return IPCN_BAD_REQUEST;
    }
    if (nn > IPCN_HOST_NAME_MAX || ipcn__name_check(s, nn) != IPCN_OK) {
        *why = "NAME is not a host name (1..63 of A-Z a-z 0-9 . _ -, "
               "not starting with '.')";
        return IPCN_BAD_REQUEST;
    }
    if (ipcn__key_from_text(k, kn, key) != IPCN_OK) {
        *why = "KEY is not a public key (44 characters of base64)";
        return IPCN_BAD_REQUEST;
    }
    for (size_t i = 0; i < t->count; i++) {
        if (strlen(t->hosts[i].name) == nn && memcmp(t->hosts[i].name, s, nn) == 0) {
            *why = "NAME is named twice";
            return IPCN_BAD_REQUEST;
        }
        if (sodium_memcmp(t->keys[i], key, 32) == 0) {
            *why = "KEY is listed twice";
            return IPCN_BAD_REQUEST;
        }
    }
    return trust_push(t, cap, s, nn, key, k);
}

/* Each line of text that is not blank or a comment, to fn (which sets
 * *why when it refuses one with 200); a line over IPCN__KEYS_LINE_MAX is
 * refused here.  The first refusal is logged (bad()) and ends the walk. */
typedef int (*line_fn)(void *ctx, const char *s, size_t n, const char **why);

static int each_line(const char *text, size_t len, const char *what,
                     size_t *bad_line, line_fn fn, void *ctx)
{
    line_iter it = {text, text + len, 0};
    const char *s;
    size_t n, raw;
    int st = IPCN_OK;
    while (st == IPCN_OK && next_line(&it, &s, &n, &raw)) {
        const char *why = NULL;
        if (raw > IPCN__KEYS_LINE_MAX) {
            why = "line too long";
            st = IPCN_BAD_REQUEST;
        } else if (n == 0 || s[0] == '#') {
            continue;
        } else {
            st = fn(ctx, s, n, &why);
        }
        if (st == IPCN_BAD_REQUEST)
            bad(what, it.no, why, bad_line);
    }
    return st;
}

typedef struct trust_ctx {
    ipcn__trust_list *t;
    size_t *cap;
} trust_ctx;

static int trust_cb(void *ctx, const char *s, size_t n, const char **why)
{
    trust_ctx *c = ctx;
    return trust_line(c->t, c->cap, s, n, why);
}

int ipcn__trust_parse_text(const char *text, size_t len, const char *what,
                           ipcn__trust_list *out, size_t *bad_line)
{
    if (!out)
        return IPCN_BAD_REQUEST;
    if (!what)
        what = "trust list";
    if (!text_ok(text, len))
        return bad(what, 0, "too large, or holds a NUL byte", bad_line);
    ipcn__trust_list t = {0};
    size_t cap = 0;
    trust_ctx tc = {&t, &cap};
    int st = each_line(text, len, what, bad_line, trust_cb, &tc);
    if (st != IPCN_OK) {
        ipcn__trust_free(&t);
        return st;
    }
    ipcn__trust_free(out);
    *out = t;
    return IPCN_OK;
}

int ipcn__trust_parse(const char *text, size_t len, ipcn__trust_list *t)
{
    return ipcn__trust_parse_text(text, len, NULL, t, NULL);
}

const char *ipcn__trust_name(const ipcn__trust_list *t, const uint8_t key[32])
{
    if (!t || !key)
        return NULL;
    for (size_t i = 0; i < t->count; i++)
        if (sodium_memcmp(t->keys[i], key, 32) == 0)
            return t->hosts[i].name;
    return NULL;
}

/* ---- gateway.conf ---- */

void ipcn__gwconf_free(ipcn__gwconf *c)
{
    if (!c)
        return;
    ipcn__free(c->listen);
    ipcn__free(c->peers);
    c->listen = c->peers = NULL;
    c->discovery = -1;
    c->cipher = 0;
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return n == strlen(w) && memcmp(s, w, n) == 0;
}

/* Printable ASCII with no blank: addresses and lists of them. */
static bool value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
            return false;
    return true;
}

unsigned ipcn__cipher_word(const char *v, size_t n)
{
    if (word_is(v, n, "auto"))
        return IPCN_NOISE_CHACHAPOLY | IPCN_NOISE_AESGCM;
    if (word_is(v, n, "chachapoly"))
        return IPCN_NOISE_CHACHAPOLY;
    return 0;
}

/* One "key = value" line into c; 100, 200 (*why) or 307. */
static int gwconf_line(ipcn__gwconf *c, const char *s, size_t n, const char **why)
{
    const char *eq = memchr(s, '=', n);
    if (!eq) {
        *why = "expected key = value";
        return IPCN_BAD_REQUEST;
    }
    const char *ke = eq, *v = eq + 1, *end = s + n;
    while (ke > s && is_blank(ke[-1]))
        ke--;
    while (v < end && is_blank(*v))
        v++;
    size_t kn = (size_t)(ke - s), vn = (size_t)(end - v);
    if (word_is(s, kn, "discovery")) {
        if (c->discovery >= 0) {
            *why = "discovery is said twice";
            return IPCN_BAD_REQUEST;
        }
        if (word_is(v, vn, "on")) {
            c->discovery = 1;
        } else if (word_is(v, vn, "off")) {
            c->discovery = 0;
        } else {
            *why = "discovery is on or off";
            return IPCN_BAD_REQUEST;
        }
        return IPCN_OK;
    }
    if (word_is(s, kn, "cipher")) {
        if (c->cipher) {
            *why = "cipher is said twice";
            return IPCN_BAD_REQUEST;
        }
        if (!(c->cipher = ipcn__cipher_word(v, vn))) {
            *why = "cipher is auto or chachapoly";
            return IPCN_BAD_REQUEST;
        }
        return IPCN_OK;
    }
    char **slot = word_is(s, kn, "listen") ? &c->listen
                  : word_is(s, kn, "peers") ? &c->peers : NULL;
    if (!slot) {
        *why = "unknown key (listen, peers, discovery, cipher)";
        return IPCN_BAD_REQUEST;
    }
    if (*slot) {
        *why = "a key is said twice";
        return IPCN_BAD_REQUEST;
    }
    if (!value_ok(v, vn)) {
        *why = "a value is printable ASCII with no blank";
        return IPCN_BAD_REQUEST;
    }
    if (!(*slot = ipcn__strndup(v, vn)))
        return IPCN_INSUFFICIENT_MEMORY;
    return IPCN_OK;
}

static int gwconf_cb(void *ctx, const char *s, size_t n, const char **why)
{
    return gwconf_line(ctx, s, n, why);
}

int ipcn__gwconf_parse_text(const char *text, size_t len, const char *what,
                            ipcn__gwconf *out, size_t *bad_line)
{
    if (!out)
        return IPCN_BAD_REQUEST;
    if (!what)
        what = "gateway.conf";
    if (!text_ok(text, len))
        return bad(what, 0, "too large, or holds a NUL byte", bad_line);
    ipcn__gwconf c = {.discovery = -1};
    int st = each_line(text, len, what, bad_line, gwconf_cb, &c);
    if (st != IPCN_OK) {
        ipcn__gwconf_free(&c);
        return st;
    }
    ipcn__gwconf_free(out);
    *out = c;
    return IPCN_OK;
}

int ipcn__gwconf_parse(const char *text, size_t len, ipcn__gwconf *c)
{
    return ipcn__gwconf_parse_text(text, len, NULL, c, NULL);
}

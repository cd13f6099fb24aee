/* SPDX-License-Identifier: MIT */
/*
 * json_read.c — ipcn_cbor_from_json(): strict JSON (RFC 8259) to one CBOR
 * item, for the CLI's VALUE arguments and for programs.  One value, no
 * trailing commas, no comments, no NaN, no byte order mark, UTF-8 checked,
 * surrogate pairs checked, nesting at most IPCN_CBOR_MAX_DEPTH.
 *
 * Two passes over the text with the same parser: the first checks it and
 * counts the items of each array and object (CBOR writes a count before
 * the items), in the order the containers open; the second writes, with a
 * writer that counts on past a small buffer.  A string is written from
 * the input as it is when it has no escapes, else decoded as it goes:
 * nothing is copied into a temporary.  Work and memory are linear in the
 * input (one counter per container).  Recursion is bounded by the depth
 * limit.
 */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

typedef struct jp {
    const char *p, *start, *end;
    const char *what; /* the first error, else NULL */
    size_t err_at;
    int oom;
    /* pass 1 appends a count per container; pass 2 reads them in order */
    uint64_t *counts;
    size_t ncounts, cap, next;
    ipcn_cbor_writer *w; /* NULL in pass 1 */
} jp;

static void fail_at(jp *j, const char *at, const char *what)
{
    if (j->what)
        return;
    j->what = what;
    j->err_at = (size_t)(at - j->start);
}

static void fail(jp *j, const char *what) { fail_at(j, j->p, what); }

static void skip_ws(jp *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* The length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static size_t utf8_put(uint8_t *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* The string whose opening quote is at j->p: checked, and its decoded
 * bytes written raw to w when w is not NULL.  Returns the decoded length;
 * j->p ends after the closing quote. */
static size_t string_body(jp *j, ipcn_cbor_writer *w)
{
    const char *p = j->p + 1, *end = j->end;
    size_t total = 0;
    const char *run = p; /* bytes that go out as they are */
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            if (w && p > run)
                ipcn__cbor_w_raw(w, run, (size_t)(p - run));
            total += (size_t)(p - run);
        }
        if (c == '"') {
            j->p = p + 1;
            return total;
        }
        if (c < 0x20) {
            fail_at(j, p, "control character in a string (escape it)");
            return 0;
        }
        if (c != '\\') {
            size_t k = utf8_seq((const unsigned char *)p, (size_t)(end - p));
            if (!k) {
                fail_at(j, p, "invalid UTF-8 in a string");
                return 0;
            }
            p += k;
            continue;
        }
        if (end - p < 2)
            break; /* unterminated */
        uint8_t o[4];
        size_t on;
        const char *m = strchr("\"\\/bfnrt", p[1]);
        if (p[1] && m) {
            o[0] = (uint8_t)"\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"];
            on = 1;
            p += 2;
        } else if (p[1] != 'u') {
            fail_at(j, p + 1, "invalid escape in a string");
            return 0;
        } else {
            int cp;
            if (end - p < 6 || (cp = hex4(p + 2)) < 0) {
                fail_at(j, p, "invalid \\u escape");
                return 0;
            }
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                fail_at(j, p, "lone low surrogate in a \\u escape");
                return 0;
            }
            p += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                    (lo = hex4(p + 2)) < 0 || lo < 0xdc00 || lo > 0xdfff) {
                    fail_at(j, p, "high surrogate not followed by a low one");
                    return 0;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            on = utf8_put(o, (unsigned)cp);
        }
        if (w)
            ipcn__cbor_w_raw(w, o, on);
        total += on;
        run = p;
    }
    fail_at(j, end, "unterminated string");
    return 0;
}

/* A string item (a key or a value). */
static void parse_string(jp *j)
{
    if (!j->w) {
        string_body(j, NULL);
        return;
    }
    const char *at = j->p;
    size_t n = string_body(j, NULL); /* the length the head carries */
    if (j->what)
        return;
    j->p = at;
    ipcn__cbor_w_head(j->w, 3, n);
    string_body(j, j->w);
    ipcn__cbor_w_end_item(j->w);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* An integer that fits 64 bits as one; anything else as a double. */
static void put_number(jp *j, const char *s, size_t n, int integer)
{
    if (integer) {
        int neg = s[0] == '-';
        uint64_t mag = 0;
        int over = 0;
        for (size_t i = (size_t)neg; i < n; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (mag > (UINT64_MAX - d) / 10)
                over = 1;
            else
                mag = mag * 10 + d;
            if (over)
                break;
        }
        if (!over) {
            if (!neg || mag == 0) /* "-0" is 0 */
                ipcn_cbor_put_uint(j->w, mag);
            else
                ipcn_cbor_put_negint(j->w, mag - 1);
            return;
        }
        if (neg && n == 21 && !memcmp(s, "-18446744073709551616", 21)) {
            ipcn_cbor_put_negint(j->w, UINT64_MAX); /* -2^64 */
            return;
        }
    }
    int ok;
    double d = ipcn__json_strtod(s, n, &ok);
    if (!ok)
        j->oom = 1;
    ipcn_cbor_put_float(j->w, d);
}

static void parse_number(jp *j)
{
    const char *s = j->p, *p = j->p, *end = j->end;
    int integer = 1;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p)) {
        fail_at(j, p, "invalid number");
        return;
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            fail_at(j, p, "leading zero in a number");
            return;
        }
    } else {
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && *p == '.') {
        integer = 0;
        p++;
        if (p >= end || !is_digit(*p)) {
            fail_at(j, p, "digits expected after '.'");
            return;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p)) {
            fail_at(j, p, "digits expected in the exponent");
            return;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    j->p = p;
    if (j->w)
        put_number(j, s, (size_t)(p - s), integer);
}

static int literal(jp *j, const char *word, size_t n)
{
    if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, word, n)) {
        j->p += n;
        return 1;
    }
    return 0;
}

/* Pass 1: a new container's counter, 0 so far; its index. */
static size_t new_count(jp *j)
{
    if (j->ncounts == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 64;
        uint64_t *c = ipcn__realloc(j->counts, cap * sizeof *c);
        if (!c) {
            j->oom = 1;
            return SIZE_MAX;
        }
        j->counts = c;
        j->cap = cap;
    }
    j->counts[j->ncounts] = 0;
    return j->ncounts++;
}

static void parse_value(jp *j, unsigned depth);

static void parse_container(jp *j, unsigned depth)
{
    int obj = *j->p == '{';
    char close = obj ? '}' : ']';
    if (depth >= IPCN_CBOR_MAX_DEPTH) {
        fail(j, "nested too deeply");
        return;
    }
    size_t slot = SIZE_MAX;
    if (!j->w) {
        if ((slot = new_count(j)) == SIZE_MAX)
            return;
    } else {
        uint64_t n = j->next < j->ncounts ? j->counts[j->next++] : 0;
        if (obj)
            ipcn_cbor_put_map(j->w, n);
        else
            ipcn_cbor_put_array(j->w, n);
    }
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return;
    }
    uint64_t count = 0;
    for (;;) {
        skip_ws(j);
        if (obj) {
            if (j->p >= j->end || *j->p != '"') {
                fail(j, "a string key was expected");
                return;
            }
            parse_string(j);
            if (j->what)
                return;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':') {
                fail(j, "':' was expected");
                return;
            }
            j->p++;
        }
        parse_value(j, depth + 1);
        if (j->what || j->oom)
            return;
        count++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            skip_ws(j);
            if (j->p < j->end && *j->p == close) {
                fail(j, "trailing comma");
                return;
            }
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            if (slot != SIZE_MAX)
                j->counts[slot] = count;
            return;
        }
        fail(j, obj ? "',' or '}' was expected" : "',' or ']' was expected");
        return;
    }
}

static void parse_value(jp *j, unsigned depth)
{
    skip_ws(j);
    if (j->p >= j->end) {
        fail(j, "a value was expected");
        return;
    }
    char c = *j->p;
    if (c == '{' || c == '[') {
        parse_container(j, depth);
    } else if (c == '"') {
        parse_string(j);
    } else if (c == '-' || is_digit(c)) {
        parse_number(j);
    } else if (literal(j, "null", 4)) {
        if (j->w)
            ipcn_cbor_put_null(j->w);
    } else if (literal(j, "true", 4)) {
        if (j->w)
            ipcn_cbor_put_bool(j->w, 1);
    } else if (literal(j, "false", 5)) {
        if (j->w)
            ipcn_cbor_put_bool(j->w, 0);
    } else {
        fail(j, c == '\'' ? "strings take double quotes"
                          : "a value was expected (object, array, string, "
                            "number, true, false or null)");
    }
}

/* One pass: the whole text, one value. */
static void parse_text(jp *j)
{
    j->p = j->start;
    if (j->end - j->p >= 3 && !memcmp(j->p, "\xef\xbb\xbf", 3)) {
        fail(j, "byte order mark");
        return;
    }
    parse_value(j, 0);
    if (!j->what && !j->oom) {
        skip_ws(j);
        if (j->p < j->end)
            fail(j, "unexpected text after the value");
    }
}

int ipcn_cbor_from_json(const char *json, size_t n, uint32_t flags,
                        void *buf, size_t cap, size_t *len,
                        ipcn_json_error *err)
{
    if ((!json && n) || (!buf && cap) || (flags & ~IPCN_CBOR_DETERMINISTIC))
        return IPCN_BAD_REQUEST;
    jp j;
    memset(&j, 0, sizeof j);
    j.start = json ? json : "";
    j.end = j.start + n;
    parse_text(&j);
    int st = IPCN_OK;
    if (j.oom) {
        st = IPCN_INSUFFICIENT_MEMORY;
    } else if (j.what) {
        if (err) {
            err->offset = j.err_at;
            err->what = j.what;
        }
        st = IPCN_BAD_REQUEST;
    } else {
        ipcn_cbor_writer w;
        ipcn_cbor_writer_init(&w, buf, buf ? cap : 0, flags);
        j.w = &w;
        parse_text(&j);
        size_t need = 0;
        st = j.oom ? IPCN_INSUFFICIENT_MEMORY
                   : ipcn_cbor_writer_finish(&w, &need);
        if (st == IPCN_BAD_REQUEST) {
            if (err) { /* two equal keys in a deterministic map */
                err->offset = 0;
                err->what = "two equal keys in an object";
            }
        } else if (st != IPCN_INSUFFICIENT_MEMORY) {
            if (len)
                *len = need;
            if (!buf)
                st = IPCN_OK;
        }
    }
    ipcn__free(j.counts);
    return st;
}

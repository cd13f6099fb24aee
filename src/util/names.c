/* SPDX-License-Identifier: MIT */
/* names.c — validation of names, paths, patterns and encodings that come
 * from users or from the wire, and pattern matching. */
#include <string.h>

#include "util/util.h"

int ipcn__utf8_valid(const char *s, size_t n)
{
    if (n == 0)
        return 1; /* s may be NULL: no pointer arithmetic on it */
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t k;
        unsigned min, cp;
        if ((c & 0xE0) == 0xC0) {
            k = 1, min = 0x80, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, min = 0x800, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= k)
            return 0;
        for (size_t i = 1; i <= k; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0; /* overlong, out of range, surrogate */
        p += k + 1;
    }
    return 1;
}

int ipcn__name_check(const char *s, size_t n)
{
    if (!s || n < 1 || n > IPCN_NAME_MAX || s[0] == '.')
        return IPCN_BAD_REQUEST;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return IPCN_BAD_REQUEST;
    }
    return IPCN_OK;
}

/* Paths and patterns share the segment rules; allow_wild admits segments
 * that are exactly "*" or "**". */
static int segs_check(const char *s, size_t n, int allow_wild)
{
    if (!s || n < 1 || n > IPCN_PATH_MAX || !ipcn__utf8_valid(s, n))
        return IPCN_BAD_REQUEST;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 0)
            return IPCN_BAD_REQUEST; /* empty segment */
        const char *seg = s + i;
        int wild = (len == 1 && seg[0] == '*') ||
                   (len == 2 && seg[0] == '*' && seg[1] == '*');
        if (wild && !allow_wild)
            return IPCN_BAD_REQUEST;
        if (!wild) {
            for (size_t k = 0; k < len; k++) {
                unsigned char c = (unsigned char)seg[k];
                if (c < 0x20 || c == 0x7F || c == '*')
                    return IPCN_BAD_REQUEST;
                /* C1 controls U+0080..U+009F (0xC2 0x80..0x9F once the
                 * UTF-8 is valid): terminal escapes (CSI) have no place in
                 * a path a tool will print. */
                if (c == 0xC2 && k + 1 < len &&
                    (unsigned char)seg[k + 1] >= 0x80 &&
                    (unsigned char)seg[k + 1] <= 0x9F)
                    return IPCN_BAD_REQUEST;
            }
        }
        i = j + 1;
    }
    return IPCN_OK;
}

int ipcn__path_check(const char *s, size_t n) { return segs_check(s, n, 0); }
int ipcn__pattern_check(const char *s, size_t n) { return segs_check(s, n, 1); }

int ipcn__encoding_check(const char *s, size_t n)
{
    if (n > IPCN_ENCODING_MAX)
        return IPCN_BAD_REQUEST;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7E)
            return IPCN_BAD_REQUEST;
    return IPCN_OK;
}

/* Split [s, s+n) into segments; returns their count (at most max). */
static size_t split(const char *s, size_t n, const char **seg, size_t *len,
                    size_t max)
{
    size_t k = 0, i = 0;
    while (i <= n && k < max) {
        const char *slash = memchr(s + i, '/', n - i);
        size_t j = slash ? (size_t)(slash - s) : n;
        seg[k] = s + i;
        len[k++] = j - i;
        i = j + 1;
    }
    return k;
}

/* Dynamic programming over segments, O(pattern segments x path segments)
 * whatever the pattern: a hostile pattern of many '**' cannot make the
 * match cost grow exponentially, as naive backtracking would.  Both strings
 * were checked, so each has at most 128 segments of 255 bytes. */
int ipcn__pattern_match(const char *pat, size_t pn, const char *path, size_t n)
{
    /* Most patterns are plain paths, or a prefix and a final double star
     * (zero or more segments: the prefix itself or anything under it; a
     * lone double star matches every path). */
    const char *first = memchr(pat, '*', pn);
    if (!first)
        return pn == n && memcmp(pat, path, n) == 0;
    if (first == pat + pn - 2 && pat[pn - 1] == '*' &&
        (pn == 2 || pat[pn - 3] == '/')) {
        size_t k = pn - 3;
        if (pn == 2)
            return 1;
        return n >= k && memcmp(pat, path, k) == 0 &&
               (n == k || path[k] == '/');
    }
    enum { MAXSEG = (IPCN_PATH_MAX + 1) / 2 + 1 };
    const char *ps[MAXSEG], *xs[MAXSEG];
    size_t pl[MAXSEG], xl[MAXSEG];
    size_t P = split(pat, pn, ps, pl, MAXSEG);
    size_t N = split(path, n, xs, xl, MAXSEG);
    unsigned char next[MAXSEG + 1], cur[MAXSEG + 1];
    for (size_t j = 0; j <= N; j++)
        next[j] = (j == N); /* the empty pattern matches the empty path */
    for (size_t i = P; i-- > 0;) {
        int dstar = pl[i] == 2 && ps[i][0] == '*' && ps[i][1] == '*';
        int star = pl[i] == 1 && ps[i][0] == '*';
        cur[N] = dstar ? next[N] : 0;
        for (size_t j = N; j-- > 0;) {
            if (dstar)
                cur[j] = next[j] || cur[j + 1];
            else
                cur[j] = next[j + 1] &&
                         (star || (pl[i] == xl[j] &&
                                   memcmp(ps[i], xs[j], xl[j]) == 0));
        }
        memcpy(next, cur, N + 1);
    }
    return next[0];
}

IPCN_API int ipcn_pattern_match(const char *pattern, const char *path)
{
    if (!pattern || !path)
        return 0;
    size_t pn = strlen(pattern), n = strlen(path);
    if (ipcn__pattern_check(pattern, pn) != IPCN_OK ||
        ipcn__path_check(path, n) != IPCN_OK)
        return 0;
    return ipcn__pattern_match(pattern, pn, path, n);
}

/* At *p (before end): 1..10 decimal digits of a value in [0, INT32_MAX]
 * (hex 0), or exactly 16 lowercase hexadecimal digits (hex 1).  Moves *p
 * past them; false when they are not there. */
static bool lock_field(const char **p, const char *end, int hex, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    size_t k = 0;
    for (; s < end && k < 16; s++, k++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (hex && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else
            break;
        if (!hex && (k == 10 || (v = v * 10 + d) > 0x7fffffff))
            return false;
    }
    if (hex ? k != 16 : k == 0)
        return false;
    *p = s;
    *out = v;
    return true;
}

int ipcn__lock_line_parse(const char *s, size_t n, int32_t *pid)
{
    if (!s || n < 21 || n > 64 || s[n - 1] != '\n')
        return IPCN_BAD_REQUEST;
    const char *p = s, *end = s + n - 1;
    int64_t v, id, fd;
    if (!lock_field(&p, end, 0, &v) || v == 0 || p == end || *p++ != ' ' ||
        !lock_field(&p, end, 1, &id) || p == end || *p++ != ' ' ||
        !lock_field(&p, end, 0, &fd) || p != end)
        return IPCN_BAD_REQUEST;
    *pid = (int32_t)v;
    return IPCN_OK;
}

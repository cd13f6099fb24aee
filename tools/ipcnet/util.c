/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static void oom(void)
{
    fputs("ipcnet: 307 Insufficient Memory\n", stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

uint64_t now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hash64(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

void fmt_bytes(char *out, size_t outlen, double bytes)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, outlen, "%.0f B", bytes);
    else
        snprintf(out, outlen, "%.*f %s", bytes < 10 ? 2 : bytes < 100 ? 1 : 0,
                 bytes, unit[u]);
}

void fmt_duration(char *out, size_t outlen, double s)
{
    if (s < 0) {
        snprintf(out, outlen, "-");
        return;
    }
    unsigned long long t = (unsigned long long)s;
    if (t >= 86400)
        snprintf(out, outlen, "%llud%02lluh", t / 86400, t % 86400 / 3600);
    else if (t >= 3600)
        snprintf(out, outlen, "%lluh%02llum", t / 3600, t % 3600 / 60);
    else if (t >= 60)
        snprintf(out, outlen, "%llum%02llus", t / 60, t % 60);
    else
        snprintf(out, outlen, "%.1fs", s);
}

/* For one line on a terminal: a byte below 0x20, 0x7f, a C1 control or a
 * byte not in valid UTF-8 becomes \xHH, so that names and text that
 * came from peers or from the directory cannot move the cursor, change
 * colours or forge lines. */
void escape_line(char *out, size_t outlen, const char *in)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, n = strlen(in);
    if (!outlen)
        return;
    for (size_t i = 0; i < n;) {
        size_t k = p[i] >= 0x80 ? utf8_seq(p + i, n - i) : 1;
        char tmp[8];
        size_t tl;
        /* C1 controls (U+0080..U+009F, 0xc2 0x80..0x9f) too: some
         * terminals take U+009B for ESC [. */
        if (p[i] < 0x20 || p[i] == 0x7f || k == 0 ||
            (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", p[i]);
            k = 1;
        } else {
            memcpy(tmp, p + i, k);
            tl = k;
        }
        if (o + tl >= outlen)
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
        i += k;
    }
    out[o] = 0;
}

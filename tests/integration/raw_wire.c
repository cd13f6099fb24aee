/* SPDX-License-Identifier: MIT */
/*
 * raw_wire.c — the raw client's frames, written by hand (raw_client.h):
 * a little-endian writer, XXH3-64 seals straight from xxhash.h, the frame
 * encoders and the name locks a hello needs.  Nothing of libipcnet.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmocka.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "raw_client.h"

struct raw_target raw_target;

/* ---- a little-endian writer ---- */
static void b_reserve(buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return;
    size_t c = b->cap ? b->cap : 256;
    while (c - b->len < n)
        c *= 2;
    uint8_t *p = realloc(b->p, c);
    assert_non_null(p);
    b->p = p;
    b->cap = c;
}
void b_put(buf *b, const void *p, size_t n)
{
    b_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}
void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }

void b_u8(buf *b, uint8_t v) { b_put(b, &v, 1); }
void b_u16(buf *b, uint16_t v) { uint8_t t[2]; st16(t, v); b_put(b, t, 2); }
void b_u32(buf *b, uint32_t v) { uint8_t t[4]; st32(t, v); b_put(b, t, 4); }
void b_u64(buf *b, uint64_t v) { uint8_t t[8]; st64(t, v); b_put(b, t, 8); }
/* A string: u16 length, the bytes, a NUL. */
void b_str(buf *b, const char *s, size_t n)
{
    b_u16(b, (uint16_t)n);
    b_put(b, s, n);
    b_u8(b, 0);
}
/* A blob: u32 length, the bytes. */
void b_blob(buf *b, const void *p, size_t n)
{
    b_u32(b, (uint32_t)n);
    b_put(b, p, n);
}

/* XXH3-64, seed 0, over header bytes 0..39 then the payload. */
uint64_t cksum(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, hdr, 40);
    if (len)
        XXH3_64bits_update(&st, payload, len);
    return XXH3_64bits_digest(&st);
}

/* Begin a frame: a v1 header with ttl 8, flags 0, reserved 0. */
size_t f_begin(buf *b, uint8_t type, uint64_t src, uint64_t corr)
{
    size_t off = b->len;
    b_reserve(b, HDR);
    uint8_t *h = b->p + off;
    memcpy(h, "IPCN", 4);
    h[4] = 1;    /* version */
    h[5] = type;
    h[6] = 0;    /* flags */
    h[7] = 8;    /* ttl */
    st16(h + 8, 0);
    h[10] = 0;   /* hops */
    h[11] = 0;   /* reserved */
    st32(h + 12, 0);
    st64(h + 16, src);
    st64(h + 24, 0); /* dst */
    st64(h + 32, corr);
    st64(h + 40, 0);
    b->len += HDR;
    return off;
}
/* Recompute the checksum of the frame at off (after patching a field). */
void f_seal(buf *b, size_t off)
{
    uint8_t *h = b->p + off;
    st64(h + 40, cksum(h, h + HDR, b->len - off - HDR));
}
/* Finish: set the payload length and the checksum. */
void f_end(buf *b, size_t off)
{
    st32(b->p + off + 12, (uint32_t)(b->len - off - HDR));
    f_seal(b, off);
}

/* The receive limit our hellos announce (a case sets it out of range),
 * and the capabilities (the shared-memory cases set bit 0, the cases that
 * read the victim's ring bit 1). */
uint32_t hello_max_payload = 16u << 20;
uint32_t hello_caps;

/* A node accepts a hello only from the process that holds the name's lock
 * (protocol 7.3): the raw client takes the lock of every name it says, as
 * a node does (an exclusive flock on "<name>.lock"), and keeps it until
 * the case ends (names_release()).  Names no node could have are left. */
static struct { char name[64]; int fd; } claimed[64];

void name_claim(const char *name, size_t len)
{
    if (!len || len >= sizeof claimed[0].name || name[0] == '.' ||
        memchr(name, 0, len) || memchr(name, '/', len))
        return;
    size_t i;
    for (i = 0; i < sizeof claimed / sizeof *claimed && claimed[i].name[0]; i++)
        if (strlen(claimed[i].name) == len && !memcmp(claimed[i].name, name, len))
            return;
    if (i == sizeof claimed / sizeof *claimed)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/default/%.*s.lock", raw_target.dir, (int)len,
             name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd); /* a live node's own name */
        return;
    }
    /* As a node writes it: pid, id, and the descriptor holding the lock
     * (the victim checks that one first, with one descriptor to spare). */
    char info[64];
    int k = snprintf(info, sizeof info, "%d 0 %d\n", (int)getpid(), fd);
    if (write(fd, info, (size_t)k) != k)
        print_error("writing %s failed\n", path);
    memcpy(claimed[i].name, name, len);
    claimed[i].name[len] = 0;
    claimed[i].fd = fd;
}

void names_release(void)
{
    for (size_t i = 0; i < sizeof claimed / sizeof *claimed && claimed[i].name[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%.400s/default/%.63s.lock", raw_target.dir,
                 claimed[i].name);
        unlink(path);
        close(claimed[i].fd);
        claimed[i].name[0] = 0;
    }
}

size_t enc_hello_nolock(buf *b, uint64_t src, const char *net, size_t netlen,
                        const char *name, size_t namelen, uint8_t minv,
                        uint8_t maxv)
{
    size_t off = f_begin(b, T_HELLO, src, 0);
    b_u8(b, minv);
    b_u8(b, maxv);
    b_u16(b, 0);      /* reserved */
    b_u32(b, hello_caps);
    b_u32(b, 200);    /* heartbeat_ms */
    b_u32(b, hello_max_payload);
    b_str(b, net, netlen);
    b_str(b, name, namelen);
    f_end(b, off);
    return off;
}
size_t enc_hello_v(buf *b, uint64_t src, const char *net, size_t netlen,
                   const char *name, size_t namelen, uint8_t minv, uint8_t maxv)
{
    name_claim(name, namelen);
    return enc_hello_nolock(b, src, net, netlen, name, namelen, minv, maxv);
}
size_t enc_hello(buf *b, uint64_t src, const char *name)
{
    return enc_hello_v(b, src, "default", 7, name, strlen(name), 1, 1);
}
size_t enc_text(buf *b, uint8_t type, uint64_t src, const char *s, size_t n)
{
    size_t off = f_begin(b, type, src, 0);
    b_str(b, s, n);
    f_end(b, off);
    return off;
}
size_t enc_stamp(buf *b, uint8_t type, uint64_t src, uint64_t stamp)
{
    size_t off = f_begin(b, type, src, 0);
    b_u64(b, stamp);
    f_end(b, off);
    return off;
}
size_t enc_announce(buf *b, uint64_t src, uint8_t kind, uint64_t version,
                           const char *path, size_t pathlen)
{
    size_t off = f_begin(b, T_ANNOUNCE, src, 0);
    b_u8(b, kind);
    b_u64(b, version);
    b_str(b, path, pathlen);
    b_str(b, "", 0);
    b_blob(b, NULL, 0);
    f_end(b, off);
    return off;
}
size_t enc_sample(buf *b, uint64_t src, uint64_t seq, const char *path,
                         const void *data, size_t len)
{
    return enc_sample_corr(b, src, 0, seq, path, "", data, len);
}
size_t enc_sample_corr(buf *b, uint64_t src, uint64_t corr, uint64_t seq,
                       const char *path, const char *enc, const void *data,
                       size_t len)
{
    size_t off = f_begin(b, T_SAMPLE, src, corr);
    b_u64(b, seq);
    b_u64(b, 0);
    b_str(b, path, strlen(path));
    b_str(b, enc, strlen(enc));
    b_blob(b, data, len);
    f_end(b, off);
    return off;
}
size_t enc_request(buf *b, uint8_t type, uint64_t src, uint64_t corr,
                          const char *path, const void *data, size_t len)
{
    size_t off = f_begin(b, type, src, corr);
    b_u32(b, 5000);
    b_str(b, path, strlen(path));
    b_str(b, "", 0);
    b_blob(b, data, len);
    f_end(b, off);
    return off;
}
size_t enc_reply(buf *b, uint8_t type, uint64_t src, uint64_t corr,
                        uint16_t status)
{
    size_t off = f_begin(b, type, src, corr);
    st16(b->p + off + 8, status);
    b_u64(b, 1);
    b_u64(b, 0);
    b_str(b, "", 0);
    b_blob(b, "x", 1);
    f_end(b, off);
    return off;
}

size_t enc_set(buf *b, uint64_t src, uint64_t corr, uint64_t expect_version,
               const char *path, const char *enc, const void *data,
               size_t len)
{
    size_t off = f_begin(b, T_SET, src, corr);
    b_u32(b, 5000);
    b_u64(b, expect_version);
    b_str(b, path, strlen(path));
    b_str(b, enc, strlen(enc));
    b_blob(b, data, len);
    f_end(b, off);
    return off;
}

size_t enc_quarantine(buf *b, uint64_t src, uint8_t action, int32_t uid,
                      int32_t pid, int32_t score, uint64_t duration_ms,
                      const uint64_t *evidence, uint8_t nkinds,
                      const char *subject, const char *detail)
{
    size_t off = f_begin(b, T_QUARANTINE, src, 0);
    b_u8(b, action);
    b_u8(b, nkinds);
    b_u16(b, 0);
    b_u32(b, (uint32_t)uid);
    b_u32(b, (uint32_t)pid);
    b_u32(b, (uint32_t)score);
    b_u64(b, duration_ms);
    for (uint8_t k = 0; k < nkinds; k++)
        b_u64(b, evidence[k]);
    b_str(b, subject, strlen(subject));
    b_str(b, detail, strlen(detail));
    f_end(b, off);
    return off;
}

/* A RING frame (protocol 7.4): our direction goes on in a ring. */
size_t enc_state(buf *b, uint64_t src, uint8_t criticality, uint8_t flags,
                 uint16_t reserved)
{
    size_t off = f_begin(b, T_STATE, src, 0);
    b_u8(b, criticality);
    b_u8(b, flags);
    b_u16(b, reserved);
    f_end(b, off);
    return off;
}

size_t enc_ring(buf *b, uint64_t src, uint32_t size, uint32_t reserved)
{
    size_t off = f_begin(b, T_RING, src, 0);
    b_u32(b, size);
    b_u32(b, reserved);
    f_end(b, off);
    return off;
}

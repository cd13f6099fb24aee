/* SPDX-License-Identifier: MIT */
/*
 * h264.c — the H.264 Annex B splitter: a byte stream, fed in chunks of any
 * size, cut into access units (the rule is in include/ipcnet_media.h).
 *
 * The splitter holds one buffer, buf[0..len).  buf[head..) is the unit
 * being assembled; the search for the next start code resumes at scan.
 * Each start code found starts a NAL unit whose header byte is read (and,
 * for a slice, its first_mb_in_slice): either the NAL unit joins the unit
 * being assembled, or that unit ends at the zero run before the start code
 * and is handed out.  Input is appended by feed(), which first moves the
 * held bytes to the front, so that the handed-out unit stays in place
 * until then.
 */
#include <string.h>

#include "media/media.h"
#include "util/util.h"

#define NONE SIZE_MAX

enum { ST_SEEK, ST_AU, ST_DONE };

struct ipcn_media_h264 {
    uint8_t *buf;
    size_t cap, len;
    size_t head;      /* start of the unit being assembled */
    size_t scan;      /* where the start-code search resumes */
    size_t zmin;      /* a zero run before a start code starts no lower:
                         it may not take the last NAL unit's header */
    size_t bad_from;  /* NONE, or the start of a NAL unit to drop */
    uint64_t base;    /* stream offset of buf[0] */
    uint64_t shift;   /* bytes of bad NAL units cut out of buf so far */
    uint64_t au_off;  /* stream offset of the unit being assembled */
    size_t max_au;
    int state;
    int finished;
    int discard;      /* the unit being assembled is over max_au */
    int au_vcl;       /* it holds a VCL NAL unit */
    uint32_t au_nals, au_flags;
    ipcn_media_h264_stats st;
};

/* ------------------------------------------------------------------ */
/* RBSP bit reader (shared with the SPS parser)                         */
/* ------------------------------------------------------------------ */

void ipcn__rbsp_init(ipcn__rbsp *r, const uint8_t *p, size_t len)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->len = len;
}

static int rbsp_load(ipcn__rbsp *r)
{
    if (r->err)
        return 0;
    if (r->pos >= r->len)
        goto at_len;
    uint8_t c = r->p[r->pos];
    if (r->zeros >= 2) {
        if (c == 3) { /* emulation prevention: not part of the RBSP */
            r->zeros = 0;
            if (++r->pos >= r->len)
                goto at_len;
            c = r->p[r->pos];
        } else if (c <= 2) { /* a start code: the NAL unit has ended */
            r->err = 1;
            return 0;
        }
    }
    r->pos++;
    r->zeros = c == 0 ? r->zeros + 1 : 0;
    r->cur = c;
    r->left = 8;
    return 1;
at_len:
    r->err = 1;
    r->at_len = 1;
    return 0;
}

uint32_t ipcn__rbsp_u(ipcn__rbsp *r, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (r->left == 0 && !rbsp_load(r))
            return 0;
        r->left--;
        v = v << 1 | ((r->cur >> r->left) & 1u);
    }
    return v;
}

uint32_t ipcn__rbsp_ue(ipcn__rbsp *r)
{
    unsigned lz = 0;
    while (ipcn__rbsp_u(r, 1) == 0) {
        if (r->err)
            return 0;
        if (++lz > 31) {
            r->err = 1;
            return 0;
        }
    }
    uint32_t rest = ipcn__rbsp_u(r, lz);
    return r->err ? 0 : (uint32_t)((((uint64_t)1 << lz) - 1) + rest);
}

int64_t ipcn__rbsp_se(ipcn__rbsp *r)
{
    uint32_t k = ipcn__rbsp_ue(r);
    return k & 1u ? (int64_t)(k / 2) + 1 : -(int64_t)(k / 2);
}

/* ------------------------------------------------------------------ */
/* NAL units                                                            */
/* ------------------------------------------------------------------ */

/* The first 00 00 01 at or after from that ends before to, or NONE. */
static size_t find_sc(const uint8_t *b, size_t from, size_t to)
{
    size_t i = from + 2;
    while (i < to) {
        const uint8_t *q = memchr(b + i, 1, to - i);
        if (!q)
            return NONE;
        i = (size_t)(q - b);
        if (b[i - 1] == 0 && b[i - 2] == 0)
            return i - 2;
        i++;
    }
    return NONE;
}

/* Where the zero bytes just before pos start, going no lower than lo. */
static size_t zero_run(const uint8_t *b, size_t pos, size_t lo)
{
    while (pos > lo && b[pos - 1] == 0)
        pos--;
    return pos;
}

int ipcn_media_h264_nal_next(const void *buf, size_t len, size_t *pos,
                             const uint8_t **nal, size_t *nal_len)
{
    if (!buf || !pos || !nal || !nal_len || *pos > len)
        return IPCN_BAD_REQUEST;
    const uint8_t *b = buf;
    size_t sc = find_sc(b, *pos, len);
    if (sc == NONE || sc + 3 >= len) {
        *pos = len;
        return IPCN_NO_DATA;
    }
    size_t h = sc + 3;
    size_t next = find_sc(b, h + 1, len);
    size_t end = zero_run(b, next == NONE ? len : next, h + 1);
    *nal = b + h;
    *nal_len = end - h;
    *pos = next == NONE ? len : next;
    return IPCN_OK;
}

/* first_mb_in_slice of a slice whose header byte is followed by p[0..n):
 * 1 with *v, 0 when it cannot be read (the NAL unit is too short or it
 * is malformed), -1 when more bytes may tell. */
static int first_mb(const uint8_t *p, size_t n, uint32_t *v)
{
    ipcn__rbsp r;
    ipcn__rbsp_init(&r, p, n);
    uint32_t x = ipcn__rbsp_ue(&r);
    if (!r.err) {
        *v = x;
        return 1;
    }
    return r.at_len ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The splitter                                                         */
/* ------------------------------------------------------------------ */

int ipcn_media_h264_new(size_t max_au, ipcn_media_h264 **out)
{
    if (!out)
        return IPCN_BAD_REQUEST;
    if (max_au == 0)
        max_au = IPCN_MEDIA_H264_MAX_AU_DEFAULT;
    if (max_au < 64 || max_au > ((size_t)1 << 30))
        return IPCN_BAD_REQUEST;
    ipcn_media_h264 *s = ipcn__calloc(1, sizeof *s);
    if (!s)
        return IPCN_INSUFFICIENT_MEMORY;
    s->max_au = max_au;
    s->bad_from = NONE;
    s->state = ST_SEEK;
    *out = s;
    return IPCN_OK;
}

void ipcn_media_h264_free(ipcn_media_h264 *s)
{
    if (!s)
        return;
    ipcn__free(s->buf);
    ipcn__free(s);
}

int ipcn_media_h264_feed(ipcn_media_h264 *s, const void *data, size_t len)
{
    if (!s || (!data && len) || s->finished)
        return IPCN_BAD_REQUEST;
    if (s->len - s->scan > s->max_au)
        return IPCN_INSUFFICIENT_STORAGE;
    if (len > SIZE_MAX / 2 - (s->len - s->head))
        return IPCN_INSUFFICIENT_MEMORY;
    /* Move what is held to the front: the unit handed out last goes. */
    if (s->head) {
        memmove(s->buf, s->buf + s->head, s->len - s->head);
        s->len -= s->head;
        s->scan -= s->head;
        s->zmin -= s->head;
        if (s->bad_from != NONE)
            s->bad_from -= s->head;
        s->base += s->head;
        s->head = 0;
    }
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + len)
            cap = cap > SIZE_MAX / 2 ? s->len + len : cap * 2;
        uint8_t *b = ipcn__realloc(s->buf, cap);
        if (!b)
            return IPCN_INSUFFICIENT_MEMORY;
        s->buf = b;
        s->cap = cap;
    }
    if (len)
        memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->st.bytes_in += len;
    return IPCN_OK;
}

int ipcn_media_h264_finish(ipcn_media_h264 *s)
{
    if (!s)
        return IPCN_BAD_REQUEST;
    s->finished = 1;
    return IPCN_OK;
}

int ipcn_media_h264_get_stats(const ipcn_media_h264 *s,
                              ipcn_media_h264_stats *out)
{
    if (!s || ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_media_h264_stats,
                                                   error_offset)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__sized_out(out, &s->st, sizeof s->st);
    return IPCN_OK;
}

/* The offset in the whole stream of buf[pos]. */
static uint64_t stream_off(const ipcn_media_h264 *s, size_t pos)
{
    return s->base + pos + s->shift;
}

static void set_head(ipcn_media_h264 *s, size_t head)
{
    s->head = head;
    s->au_off = stream_off(s, head);
    if (s->zmin < head)
        s->zmin = head;
    if (s->scan < head)
        s->scan = head;
}

static void au_reset(ipcn_media_h264 *s)
{
    s->au_vcl = 0;
    s->au_nals = 0;
    s->au_flags = 0;
}

static int garbage(ipcn_media_h264 *s, size_t from, size_t n)
{
    s->st.garbage_bytes += n;
    s->st.error_offset = stream_off(s, from);
    return IPCN_BAD_REQUEST;
}

/* Add the NAL unit whose header byte is at h to the unit being built. */
static void add_nal(ipcn_media_h264 *s, size_t h)
{
    unsigned type = s->buf[h] & 0x1fu;
    s->au_nals++;
    if (type >= 1 && type <= 5) {
        s->au_vcl = 1;
        s->au_flags |= IPCN_MEDIA_AU_PICTURE;
    }
    if (type == 5)
        s->au_flags |= IPCN_MEDIA_AU_IDR;
    else if (type == 7)
        s->au_flags |= IPCN_MEDIA_AU_SPS;
    else if (type == 8)
        s->au_flags |= IPCN_MEDIA_AU_PPS;
    else if (type == 10 || type == 11)
        s->au_flags |= IPCN_MEDIA_AU_END;
    s->zmin = h + 1;
    s->scan = h + 1;
}

/* Does a NAL unit of this type (first_mb: its slice's address, -1 when
 * unknown) start a new access unit? */
static int starts_au(const ipcn_media_h264 *s, unsigned type, int64_t fmb)
{
    switch (type) {
    case 9:
        return s->au_nals > 0;
    case 6: case 7: case 8: case 14: case 15: case 16: case 17: case 18:
        return s->au_vcl;
    case 1: case 2: case 5:
        return s->au_vcl && fmb == 0;
    default:
        return 0;
    }
}

/* The unit being built ends at end: hand it out (100), or drop it when
 * it is too large (306 the first time it is seen so, 0 when dropping it
 * had already been reported). */
static int emit(ipcn_media_h264 *s, size_t end, ipcn_media_au *out)
{
    size_t n = end - s->head;
    int st;
    if (s->discard || n > s->max_au) {
        st = s->discard ? 0 : IPCN_INSUFFICIENT_STORAGE;
        if (!s->discard) {
            s->st.dropped_aus++;
            s->st.error_offset = s->au_off;
        }
        s->st.dropped_bytes += n;
        s->discard = 0;
    } else {
        out->data = s->buf + s->head;
        out->len = n;
        out->offset = s->au_off;
        out->nal_count = s->au_nals;
        out->flags = s->au_flags;
        s->st.aus++;
        s->st.nals += s->au_nals;
        st = IPCN_OK;
    }
    set_head(s, end);
    au_reset(s);
    return st;
}

/* Remove the bad NAL unit [bad_from, end) from the buffer. */
static int drop_bad(ipcn_media_h264 *s, size_t end)
{
    size_t from = s->bad_from, d = end - from;
    memmove(s->buf + from, s->buf + end, s->len - end);
    s->len -= d;
    s->scan = from;
    if (s->zmin > from)
        s->zmin = from;
    if (s->zmin < s->head)
        s->zmin = s->head;
    s->bad_from = NONE;
    int st = garbage(s, from, d);
    s->shift += d;
    return st;
}

/* No start code in buf[scan..len) and more input may come. */
static int wait_more(ipcn_media_h264 *s)
{
    size_t keep = s->len >= 2 ? s->len - 2 : 0; /* a start code may begin */
    if (keep < s->scan)
        keep = s->scan;
    s->scan = keep;
    if (s->state == ST_SEEK) {
        /* Keep only a run of zero bytes: a start code's leading zeros. */
        size_t t = zero_run(s->buf, s->len, s->head);
        if (s->len - t > s->max_au)
            t = keep;
        if (t > s->head) {
            int st = garbage(s, s->head, t - s->head);
            set_head(s, t);
            return st;
        }
        return IPCN_NO_DATA;
    }
    if (s->discard) {
        if (keep > s->head) {
            s->st.dropped_bytes += keep - s->head;
            set_head(s, keep);
        }
        return IPCN_NO_DATA;
    }
    if (s->len - s->head > s->max_au) {
        s->discard = 1;
        s->bad_from = NONE;
        s->st.dropped_aus++;
        s->st.error_offset = s->au_off;
        s->st.dropped_bytes += keep - s->head;
        set_head(s, keep);
        return IPCN_INSUFFICIENT_STORAGE;
    }
    return IPCN_NO_DATA;
}

/* No start code in buf[scan..len) and no more input. */
static int at_end(ipcn_media_h264 *s, ipcn_media_au *out)
{
    if (s->bad_from != NONE)
        return drop_bad(s, s->len);
    int st;
    if (s->state == ST_SEEK) {
        /* No NAL unit at all: zero bytes are counted, others reported. */
        size_t t = zero_run(s->buf, s->len, s->head);
        st = t > s->head ? garbage(s, s->head, t - s->head) : IPCN_NO_DATA;
        s->st.garbage_bytes += s->len - t;
        set_head(s, s->len);
    } else {
        st = emit(s, s->len, out);
        if (st == 0)
            st = IPCN_NO_DATA;
    }
    s->state = ST_DONE;
    return st;
}

int ipcn_media_h264_next(ipcn_media_h264 *s, ipcn_media_au *out)
{
    if (!s || !out)
        return IPCN_BAD_REQUEST;
    for (;;) {
        if (s->state == ST_DONE)
            return IPCN_NO_DATA;
        size_t sc = find_sc(s->buf, s->scan, s->len);
        if (sc == NONE)
            return s->finished ? at_end(s, out) : wait_more(s);
        size_t h = sc + 3;
        if (h >= s->len) {
            if (!s->finished) {
                s->scan = sc; /* the header byte is still to come */
                return IPCN_NO_DATA;
            }
            s->scan = s->len; /* a start code at the very end: kept */
            continue;
        }
        size_t z = zero_run(s->buf, sc, s->state == ST_SEEK ? s->head : s->zmin);
        if (s->bad_from != NONE)
            return drop_bad(s, z);
        if (s->state == ST_SEEK && z > s->head) {
            int st = garbage(s, s->head, z - s->head);
            set_head(s, z);
            s->scan = z;
            return st;
        }
        uint8_t hdr = s->buf[h];
        unsigned type = hdr & 0x1fu;
        if (hdr & 0x80u) { /* forbidden_zero_bit: not a NAL unit */
            /* Dropped up to the next start code; before the first good
             * NAL unit, or in a unit being dropped, that happens anyway. */
            if (s->state == ST_AU && !s->discard)
                s->bad_from = z;
            s->zmin = h + 1;
            s->scan = h + 1;
            continue;
        }
        if (s->state == ST_SEEK) {
            s->state = ST_AU;
            au_reset(s);
            add_nal(s, h);
            continue;
        }
        int64_t fmb = -1;
        if ((type == 1 || type == 2 || type == 5) && s->au_vcl) {
            uint32_t v;
            int r = first_mb(s->buf + h + 1, s->len - h - 1, &v);
            if (r < 0 && !s->finished) {
                s->scan = sc; /* the slice header is still to come */
                return IPCN_NO_DATA;
            }
            if (r > 0)
                fmb = v;
        }
        if (!starts_au(s, type, fmb)) {
            add_nal(s, h);
            continue;
        }
        int st = emit(s, z, out);
        add_nal(s, h);
        if (st)
            return st;
    }
}

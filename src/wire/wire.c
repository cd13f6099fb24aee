/* SPDX-License-Identifier: MIT */
/* wire.c — encode and decode protocol v1 frames (see docs/protocol.md). */
#include "wire/wire.h"

#include <string.h>
#define XXH_INLINE_ALL /* inlined: no runtime dependency, faster */
#include <xxhash.h>

#include "ipcnet.h"
#include "util/util.h"
#include "wire/prov.h"
#include "wire/wire_impl.h"


uint64_t ipcn__frame_checksum(const uint8_t *hdr40, const uint8_t *payload,
                              size_t len)
{
    /* A small frame: one-shot over a contiguous copy, the same hash as the
     * streaming one (XXH3 streaming equals one-shot over the concatenation)
     * without the cost of a 576-byte state. */
    if (len <= 216) {
        uint8_t b[256];
        memcpy(b, hdr40, 40);
        if (len)
            memcpy(b + 40, payload, len);
        return XXH3_64bits(b, 40 + len);
    }
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, hdr40, 40);
    if (len)
        XXH3_64bits_update(&st, payload, len);
    return XXH3_64bits_digest(&st);
}

void ipcn__hdr_read(const uint8_t *b, ipcn__hdr *h)
{
    h->version = b[4];
    h->type = b[5];
    h->flags = b[6];
    h->ttl = b[7];
    h->status = ld16(b + 8);
    h->hops = b[10];
    h->len = ld32(b + 12);
    h->src = ld64(b + 16);
    h->dst = ld64(b + 24);
    h->corr = ld64(b + 32);
    h->checksum = ld64(b + 40);
}

int ipcn__frame_check(const uint8_t *buf, size_t avail, uint32_t max_payload,
                      size_t *need)
{
    return ipcn__frame_check_ex(buf, avail, max_payload, need, true);
}

int ipcn__frame_check_ex(const uint8_t *buf, size_t avail, uint32_t max_payload,
                         size_t *need, bool verify_sum)
{
    if (max_payload > IPCN_WIRE_MAX_PAYLOAD)
        max_payload = IPCN_WIRE_MAX_PAYLOAD;
    /* Refuse a bad magic as soon as its bytes are there, so that garbage
     * costs no waiting for a header that will never parse.  (m == 0: buf
     * may be NULL, which memcmp must not be given even for 0 bytes.) */
    static const uint8_t magic[4] = {'I', 'P', 'C', 'N'};
    size_t m = avail < 4 ? avail : 4;
    if (m == 4 ? ld32(buf) != IPCN_WIRE_MAGIC : m && memcmp(buf, magic, m) != 0)
        return IPCN_BAD_REQUEST;
    if (avail < IPCN_WIRE_HDR_SIZE) {
        *need = IPCN_WIRE_HDR_SIZE;
        return IPCN_WIRE_NEED_MORE;
    }
    if (buf[4] != IPCN_WIRE_VERSION)
        return IPCN_VERSION_NOT_SUPPORTED;
    uint8_t type = buf[5];
    if (type < 1 || type > IPCN_F__MAX || buf[6] != 0 || buf[11] != 0)
        return IPCN_BAD_REQUEST;
    uint32_t len = ld32(buf + 12);
    if (len > max_payload)
        return IPCN_BAD_REQUEST;
    size_t total = (size_t)IPCN_WIRE_HDR_SIZE + len;
    if (avail < total) {
        *need = total;
        return IPCN_WIRE_NEED_MORE;
    }
    if (verify_sum &&
        ipcn__frame_checksum(buf, buf + IPCN_WIRE_HDR_SIZE, len) != ld64(buf + 40))
        return IPCN_BAD_REQUEST;
    *need = total;
    return IPCN_OK;
}


int ipcn__frame_decode(const uint8_t *buf, size_t frame_len, ipcn__frame *out)
{
    if (frame_len < IPCN_WIRE_HDR_SIZE)
        return IPCN_BAD_REQUEST;
    ipcn__frame f;
    memset(&f, 0, sizeof f);
    ipcn__hdr_read(buf, &f.hdr);
    if ((size_t)IPCN_WIRE_HDR_SIZE + f.hdr.len != frame_len)
        return IPCN_BAD_REQUEST;
    rd r = {buf + IPCN_WIRE_HDR_SIZE, buf + frame_len, 0};
    switch (f.hdr.type) {
    case IPCN_F_HELLO:
        f.u.hello.min_version = rd_u8(&r);
        f.u.hello.max_version = rd_u8(&r);
        if (rd_u8(&r) != 0 || rd_u8(&r) != 0) /* reserved */
            r.bad = 1;
        f.u.hello.caps = rd_u32(&r);
        f.u.hello.heartbeat_ms = rd_u32(&r);
        f.u.hello.max_payload = rd_u32(&r);
        f.u.hello.network = rd_str(&r);
        f.u.hello.name = rd_str(&r);
        break;
    case IPCN_F_BYE:
    case IPCN_F_ERROR:
    case IPCN_F_WITHDRAW:
    case IPCN_F_SUBSCRIBE:
    case IPCN_F_UNSUBSCRIBE:
        f.u.text = rd_str(&r);
        break;
    case IPCN_F_PING:
    case IPCN_F_PONG:
        f.u.stamp = rd_u64(&r);
        break;
    case IPCN_F_ANNOUNCE:
        f.u.announce.kind = rd_u8(&r);
        if (f.u.announce.kind < 1 || f.u.announce.kind > 3)
            r.bad = 1;
        f.u.announce.version = rd_u64(&r);
        f.u.announce.path = rd_str(&r);
        f.u.announce.encoding = rd_str(&r);
        f.u.announce.meta = rd_blob(&r);
        if (!r.bad && r.p != r.end) { /* the extension */
            f.u.announce.has_ext = 1;
            f.u.announce.strength = (int32_t)rd_u32(&r);
            f.u.announce.flags = rd_u8(&r);
            if (rd_u8(&r) != 0) /* reserved */
                r.bad = 1;
            uint16_t keep = rd_u16(&r);
            f.u.announce.keep = keep;
            uint8_t fl = f.u.announce.flags, kind = f.u.announce.kind;
            if ((!fl && !keep) || (fl & ~(IPCN_ANN_OWNED | IPCN_ANN_ONCE)) ||
                ((fl & IPCN_ANN_OWNED) && kind == 3) ||
                ((fl & IPCN_ANN_ONCE) && kind != 3) ||
                keep > IPCN_WIRE_KEEP_MAX ||
                (kind == 1 && keep > 1) || (kind == 3 && keep))
                r.bad = 1;
        }
        break;
    case IPCN_F_SAMPLE:
    case IPCN_F_SHM_WITHHELD:
        f.u.sample.seq = rd_u64(&r);
        f.u.sample.timestamp_ns = rd_u64(&r);
        f.u.sample.path = rd_str(&r);
        f.u.sample.encoding = rd_str(&r);
        f.u.sample.data = rd_blob(&r);
        if (!r.bad && r.p != r.end) { /* the provenance extension */
            f.u.sample.prov = rd_blob(&r);
            ipcn_prov_record pr;
            if (f.hdr.type != IPCN_F_SAMPLE || r.bad ||
                ipcn__prov_decode(f.u.sample.prov.p, f.u.sample.prov.len,
                                  &pr) != IPCN_OK)
                r.bad = 1;
        }
        if (f.hdr.type == IPCN_F_SHM_WITHHELD &&
            (f.u.sample.encoding.len || f.u.sample.data.len))
            r.bad = 1;
        break;
    case IPCN_F_QUERY:
    case IPCN_F_REQUEST:
        f.u.request.timeout_ms = rd_u32(&r);
        f.u.request.path = rd_str(&r);
        f.u.request.encoding = rd_str(&r);
        f.u.request.data = rd_blob(&r);
        if (!r.bad && r.p != r.end && f.hdr.type == IPCN_F_REQUEST) {
            f.u.request.request_id = rd_u64(&r); /* the extension */
            if (!f.u.request.request_id)
                r.bad = 1;
        } else if (!r.bad && r.p != r.end) {
            f.u.request.version = rd_u64(&r); /* QUERY's (HISTORY) */
            if (!f.u.request.version)
                r.bad = 1;
        }
        break;
    case IPCN_F_SET:
        f.u.set.timeout_ms = rd_u32(&r);
        f.u.set.expect_version = rd_u64(&r);
        f.u.set.path = rd_str(&r);
        f.u.set.encoding = rd_str(&r);
        f.u.set.data = rd_blob(&r);
        break;
    case IPCN_F_QUERY_REPLY:
    case IPCN_F_REPLY:
        f.u.reply.seq = rd_u64(&r);
        f.u.reply.timestamp_ns = rd_u64(&r);
        f.u.reply.encoding = rd_str(&r);
        f.u.reply.data = rd_blob(&r);
        if (!r.bad && r.p != r.end) { /* the extension */
            f.u.reply.has_load = 1;
            f.u.reply.load = rd_u32(&r);
            if (rd_u32(&r) != 0) /* reserved */
                r.bad = 1;
        }
        break;
    case IPCN_F_SHM_POOL:
        f.u.shm_pool.pool_id = rd_u32(&r);
        f.u.shm_pool.slots = rd_u32(&r);
        f.u.shm_pool.share = rd_u32(&r);
        if (rd_u32(&r) != 0) /* reserved */
            r.bad = 1;
        f.u.shm_pool.slot_size = rd_u64(&r);
        if (f.u.shm_pool.slots < 1 || f.u.shm_pool.slots > IPCN_SHM_MAX_SLOTS ||
            f.u.shm_pool.share < 1 || f.u.shm_pool.share > f.u.shm_pool.slots ||
            f.u.shm_pool.slot_size == 0 ||
            f.u.shm_pool.slot_size > IPCN_SHM_MAX_SLOT_SIZE ||
            f.u.shm_pool.slot_size * f.u.shm_pool.slots > IPCN_SHM_MAX_POOL_SIZE)
            r.bad = 1;
        break;
    case IPCN_F_SHM_SAMPLE:
    case IPCN_F_SHM_REPLY:
    case IPCN_F_SHM_REQUEST: {
        ipcn__shm_sample *s = &f.u.shm_sample;
        s->seq = rd_u64(&r);
        s->timestamp_ns = rd_u64(&r);
        s->path = rd_str(&r);
        s->encoding = rd_str(&r);
        s->pool_id = rd_u32(&r);
        s->slot = rd_u32(&r);
        s->gen = rd_u32(&r);
        s->flags = rd_u32(&r);
        if (s->flags & ~IPCN_SHM_F_CHECKSUM)
            r.bad = 1;
        s->offset = rd_u64(&r);
        s->len = rd_u64(&r);
        s->checksum = rd_u64(&r);
        if (s->offset > IPCN_SHM_MAX_SLOT_SIZE || s->len > IPCN_SHM_MAX_SLOT_SIZE)
            r.bad = 1;
        if (f.hdr.type == IPCN_F_SHM_REQUEST && s->timestamp_ns > UINT32_MAX)
            r.bad = 1; /* the timeout, in ms */
        break;
    }
    case IPCN_F_SHM_RELEASE:
    case IPCN_F_SHM_REVOKE:
    case IPCN_F_SHM_DROP: {
        uint32_t n = rd_u32(&r);
        uint32_t max = f.hdr.type == IPCN_F_SHM_DROP ? 1 : IPCN_SHM_MAX_RELEASE;
        if (n < 1 || n > max || !rd_has(&r, (size_t)n * 12))
            r.bad = 1;
        else {
            f.u.shm_refs.count = n;
            f.u.shm_refs.p = r.p;
            r.p += (size_t)n * 12;
        }
        break;
    }
    case IPCN_F_CANCEL:
        break; /* no body: corr names the request */
    case IPCN_F_RING:
        f.u.ring.size = rd_u32(&r);
        if (rd_u32(&r) != 0) /* reserved */
            r.bad = 1;
        if (f.u.ring.size < IPCN_RING_MIN_SIZE ||
            f.u.ring.size > IPCN_RING_MAX_SIZE ||
            (f.u.ring.size & (f.u.ring.size - 1)))
            r.bad = 1;
        break;
    case IPCN_F_QUARANTINE: {
        ipcn__quarantine *q = &f.u.quarantine;
        q->action = rd_u8(&r);
        q->kinds = rd_u8(&r);
        if (rd_u8(&r) != 0 || rd_u8(&r) != 0) /* reserved */
            r.bad = 1;
        q->uid = (int32_t)rd_u32(&r);
        q->pid = (int32_t)rd_u32(&r);
        q->score = (int32_t)rd_u32(&r);
        q->duration_ms = rd_u64(&r);
        if ((q->action != IPCN_QR_QUARANTINED &&
             q->action != IPCN_QR_BANNED) ||
            q->kinds < 1 || q->kinds > IPCN_QR_MAX_KINDS ||
            q->score > 0 || q->pid < 0 ||
            !rd_has(&r, (size_t)q->kinds * 8))
            r.bad = 1;
        else {
            q->evidence = r.p;
            r.p += (size_t)q->kinds * 8;
        }
        q->subject = rd_str(&r);
        q->detail = rd_str(&r);
        break;
    }
    case IPCN_F_STATE:
        f.u.state.criticality = rd_u8(&r);
        f.u.state.flags = rd_u8(&r);
        if (rd_u8(&r) != 0 || rd_u8(&r) != 0) /* reserved */
            r.bad = 1;
        if (f.u.state.criticality > IPCN_STATE_CRIT_MAX ||
            (f.u.state.flags & ~IPCN_STATE_READY))
            r.bad = 1;
        if (!r.bad && r.p != r.end) { /* the extension (LIVENESS) */
            f.u.state.has_ext = 1;
            f.u.state.liveness_ms = rd_u32(&r);
            if (rd_u32(&r) != 0 || f.u.state.liveness_ms == 0 ||
                f.u.state.liveness_ms > IPCN_STATE_LIVENESS_MAX)
                r.bad = 1;
        }
        break;
    case IPCN_F_ROUTE:
        ipcn__dec_route(&r, &f.u.route);
        break;
    case IPCN_F_FORWARD:
        ipcn__dec_forward(&r, &f.u.forward);
        break;
    default:
        return IPCN_BAD_REQUEST;
    }
    if (r.bad || r.p != r.end)
        return IPCN_BAD_REQUEST;
    *out = f;
    return IPCN_OK;
}

/* ---- writer ---- */

/* Up to 1 MiB a buffer doubles; above, it grows by a quarter (at least to
 * what is needed), so that a big buffer is at most a quarter too large,
 * and not past grow_max unless one append needs more. */
#define WB_DOUBLE_MAX ((size_t)1 << 20)

static uint8_t *wb_grow(ipcn__wbuf *w, size_t n)
{
    if (w->oom)
        return NULL;
    if (w->cap - w->len < n) {
        if (n > SIZE_MAX / 2 - w->len) {
            w->oom = 1;
            return NULL;
        }
        size_t need = w->len + n;
        size_t cap = w->cap ? w->cap : 256;
        while (cap < need && cap < WB_DOUBLE_MAX)
            cap *= 2;
        if (cap < need) {
            cap += cap / 4;
            if (cap < need)
                cap = need;
        }
        if (w->grow_max && cap > w->grow_max)
            cap = need > w->grow_max ? need : w->grow_max;
        uint8_t *p = ipcn__realloc(w->p, cap);
        if (!p) {
            w->oom = 1;
            return NULL;
        }
        w->p = p;
        w->cap = cap;
    }
    uint8_t *at = w->p + w->len;
    w->len += n;
    return at;
}

void ipcn__wbuf_free(ipcn__wbuf *w)
{
    size_t grow_max = w->grow_max;
    bool no_sum = w->no_sum;
    ipcn__free(w->p);
    memset(w, 0, sizeof *w);
    w->grow_max = grow_max;
    w->no_sum = no_sum;
}
void ipcn__wbuf_u8(ipcn__wbuf *w, uint8_t v)
{
    uint8_t *p = wb_grow(w, 1);
    if (p)
        *p = v;
}
void ipcn__wbuf_u16(ipcn__wbuf *w, uint16_t v)
{
    uint8_t *p = wb_grow(w, 2);
    if (p)
        st16(p, v);
}
void ipcn__wbuf_u32(ipcn__wbuf *w, uint32_t v)
{
    uint8_t *p = wb_grow(w, 4);
    if (p)
        st32(p, v);
}
void ipcn__wbuf_u64(ipcn__wbuf *w, uint64_t v)
{
    uint8_t *p = wb_grow(w, 8);
    if (p)
        st64(p, v);
}
void ipcn__wbuf_bytes(ipcn__wbuf *w, const void *src, size_t n)
{
    if (!n)
        return;
    uint8_t *p = wb_grow(w, n);
    if (p)
        memcpy(p, src, n);
}
void ipcn__wbuf_str(ipcn__wbuf *w, const char *s, size_t n)
{
    if (n > UINT16_MAX) { /* callers validate; never truncate silently */
        w->oom = 1;
        return;
    }
    ipcn__wbuf_u16(w, (uint16_t)n);
    ipcn__wbuf_bytes(w, s, n);
    ipcn__wbuf_u8(w, 0);
}
void ipcn__wbuf_blob(ipcn__wbuf *w, const void *p, uint32_t n)
{
    ipcn__wbuf_u32(w, n);
    ipcn__wbuf_bytes(w, p, n);
}

size_t ipcn__frame_begin(ipcn__wbuf *w, const ipcn__hdr *h)
{
    size_t off = w->len;
    uint8_t *p = wb_grow(w, IPCN_WIRE_HDR_SIZE);
    if (!p)
        return off;
    st32(p, IPCN_WIRE_MAGIC);
    p[4] = IPCN_WIRE_VERSION;
    p[5] = h->type;
    p[6] = 0;
    p[7] = h->ttl;
    st16(p + 8, h->status);
    p[10] = h->hops;
    p[11] = 0;
    st32(p + 12, 0);
    st64(p + 16, h->src);
    st64(p + 24, h->dst);
    st64(p + 32, h->corr);
    st64(p + 40, 0);
    return off;
}

int ipcn__frame_end(ipcn__wbuf *w, size_t off)
{
    if (w->oom)
        return IPCN_INSUFFICIENT_MEMORY;
    size_t len = w->len - off - IPCN_WIRE_HDR_SIZE;
    if (len > IPCN_WIRE_MAX_PAYLOAD) {
        w->len = off;
        return IPCN_BAD_REQUEST;
    }
    uint8_t *p = w->p + off;
    st32(p + 12, (uint32_t)len);
    st64(p + 40, w->no_sum ? 0 : ipcn__frame_checksum(p, p + IPCN_WIRE_HDR_SIZE, len));
    return IPCN_OK;
}

/* Each encoder rolls the writer back to where it began on failure, so a
 * failed frame never leaves half a frame behind in a link's queue. */
int ipcn__frame_finish(ipcn__wbuf *w, size_t off)
{
    int st = ipcn__frame_end(w, off);
    if (st != IPCN_OK) {
        w->len = off <= w->len ? off : w->len;
        w->oom = 0;
    }
    return st;
}

static int finish(ipcn__wbuf *w, size_t off) { return ipcn__frame_finish(w, off); }

int ipcn__enc_hello(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__hello *b)
{
    h->type = IPCN_F_HELLO;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u8(w, b->min_version);
    ipcn__wbuf_u8(w, b->max_version);
    ipcn__wbuf_u16(w, 0);
    ipcn__wbuf_u32(w, b->caps);
    ipcn__wbuf_u32(w, b->heartbeat_ms);
    ipcn__wbuf_u32(w, b->max_payload);
    ipcn__wbuf_str(w, b->network.p, b->network.len);
    ipcn__wbuf_str(w, b->name.p, b->name.len);
    return finish(w, off);
}

int ipcn__enc_text(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type, const char *s,
                   size_t n)
{
    h->type = type;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_str(w, s, n);
    return finish(w, off);
}

int ipcn__enc_stamp(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type, uint64_t stamp)
{
    h->type = type;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u64(w, stamp);
    return finish(w, off);
}

int ipcn__enc_empty(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type)
{
    h->type = type;
    return finish(w, ipcn__frame_begin(w, h));
}

int ipcn__enc_announce(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__announce *b)
{
    h->type = IPCN_F_ANNOUNCE;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u8(w, b->kind);
    ipcn__wbuf_u64(w, b->version);
    ipcn__wbuf_str(w, b->path.p, b->path.len);
    ipcn__wbuf_str(w, b->encoding.p, b->encoding.len);
    ipcn__wbuf_blob(w, b->meta.p, b->meta.len);
    if (b->has_ext) {
        ipcn__wbuf_u32(w, (uint32_t)b->strength);
        ipcn__wbuf_u8(w, b->flags);
        ipcn__wbuf_u8(w, 0);
        ipcn__wbuf_u16(w, b->keep);
    }
    return finish(w, off);
}

/* The sample frame is on every publish: one growth, then the fields in
 * place (the same bytes as the field-by-field writer would give). */
int ipcn__enc_sample(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__sample *b)
{
    if (h->type != IPCN_F_SHM_WITHHELD)
        h->type = IPCN_F_SAMPLE;
    else if (b->encoding.len || b->data.len)
        return IPCN_BAD_REQUEST;
    size_t plen = 8 + 8 + 2 + (size_t)b->path.len + 1 + 2 +
                  (size_t)b->encoding.len + 1 + 4 + b->data.len;
    if (plen > IPCN_WIRE_MAX_PAYLOAD)
        return IPCN_BAD_REQUEST;
    size_t off = w->len;
    uint8_t *p = wb_grow(w, IPCN_WIRE_HDR_SIZE + plen);
    if (!p) {
        w->oom = 0;
        return IPCN_INSUFFICIENT_MEMORY;
    }
    w->len = off;
    ipcn__frame_begin(w, h); /* writes into the room just made */
    p += IPCN_WIRE_HDR_SIZE;
    st64(p, b->seq);
    st64(p + 8, b->timestamp_ns);
    p += 16;
    st16(p, b->path.len);
    memcpy(p + 2, b->path.p, b->path.len);
    p[2 + b->path.len] = 0;
    p += 3 + b->path.len;
    st16(p, b->encoding.len);
    memcpy(p + 2, b->encoding.p, b->encoding.len);
    p[2 + b->encoding.len] = 0;
    p += 3 + b->encoding.len;
    st32(p, b->data.len);
    if (b->data.len)
        memcpy(p + 4, b->data.p, b->data.len);
    w->len = off + IPCN_WIRE_HDR_SIZE + plen;
    return finish(w, off);
}

int ipcn__enc_request(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type,
                      const ipcn__request *b)
{
    h->type = type;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u32(w, b->timeout_ms);
    ipcn__wbuf_str(w, b->path.p, b->path.len);
    ipcn__wbuf_str(w, b->encoding.p, b->encoding.len);
    ipcn__wbuf_blob(w, b->data.p, b->data.len);
    if (b->request_id && type == IPCN_F_REQUEST)
        ipcn__wbuf_u64(w, b->request_id);
    else if (b->version && type == IPCN_F_QUERY)
        ipcn__wbuf_u64(w, b->version);
    return finish(w, off);
}

int ipcn__enc_reply(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type,
                    const ipcn__reply *b)
{
    h->type = type;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u64(w, b->seq);
    ipcn__wbuf_u64(w, b->timestamp_ns);
    ipcn__wbuf_str(w, b->encoding.p, b->encoding.len);
    ipcn__wbuf_blob(w, b->data.p, b->data.len);
    if (b->has_load) {
        ipcn__wbuf_u32(w, b->load);
        ipcn__wbuf_u32(w, 0);
    }
    return finish(w, off);
}

int ipcn__enc_set(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__set *b)
{
    h->type = IPCN_F_SET;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u32(w, b->timeout_ms);
    ipcn__wbuf_u64(w, b->expect_version);
    ipcn__wbuf_str(w, b->path.p, b->path.len);
    ipcn__wbuf_str(w, b->encoding.p, b->encoding.len);
    ipcn__wbuf_blob(w, b->data.p, b->data.len);
    return finish(w, off);
}

int ipcn__enc_shm_pool(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__shm_pool *b)
{
    h->type = IPCN_F_SHM_POOL;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u32(w, b->pool_id);
    ipcn__wbuf_u32(w, b->slots);
    ipcn__wbuf_u32(w, b->share);
    ipcn__wbuf_u32(w, 0);
    ipcn__wbuf_u64(w, b->slot_size);
    return finish(w, off);
}

uint64_t ipcn__quarantine_evidence(const ipcn__quarantine *q, uint32_t k)
{
    return q->evidence && k < q->kinds ? ld64(q->evidence + 8 * (size_t)k)
                                       : 0;
}

int ipcn__enc_quarantine(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__quarantine *q,
                         const uint64_t *evidence)
{
    h->type = IPCN_F_QUARANTINE;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u8(w, q->action);
    ipcn__wbuf_u8(w, q->kinds);
    ipcn__wbuf_u16(w, 0);
    ipcn__wbuf_u32(w, (uint32_t)q->uid);
    ipcn__wbuf_u32(w, (uint32_t)q->pid);
    ipcn__wbuf_u32(w, (uint32_t)q->score);
    ipcn__wbuf_u64(w, q->duration_ms);
    for (uint32_t k = 0; k < q->kinds; k++)
        ipcn__wbuf_u64(w, evidence[k]);
    ipcn__wbuf_str(w, q->subject.p, q->subject.len);
    ipcn__wbuf_str(w, q->detail.p, q->detail.len);
    return finish(w, off);
}

int ipcn__enc_state(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__state *b)
{
    h->type = IPCN_F_STATE;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u8(w, b->criticality);
    ipcn__wbuf_u8(w, b->flags);
    ipcn__wbuf_u16(w, 0);
    if (b->has_ext) {
        ipcn__wbuf_u32(w, b->liveness_ms);
        ipcn__wbuf_u32(w, 0);
    }
    return finish(w, off);
}

int ipcn__enc_ring(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__ring_info *b)
{
    h->type = IPCN_F_RING;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u32(w, b->size);
    ipcn__wbuf_u32(w, 0);
    return finish(w, off);
}

int ipcn__enc_shm_sample(ipcn__wbuf *w, ipcn__hdr *h,
                         const ipcn__shm_sample *b)
{
    if (h->type != IPCN_F_SHM_REPLY && h->type != IPCN_F_SHM_REQUEST)
        h->type = IPCN_F_SHM_SAMPLE;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u64(w, b->seq);
    ipcn__wbuf_u64(w, b->timestamp_ns);
    ipcn__wbuf_str(w, b->path.p, b->path.len);
    ipcn__wbuf_str(w, b->encoding.p, b->encoding.len);
    ipcn__wbuf_u32(w, b->pool_id);
    ipcn__wbuf_u32(w, b->slot);
    ipcn__wbuf_u32(w, b->gen);
    ipcn__wbuf_u32(w, b->flags);
    ipcn__wbuf_u64(w, b->offset);
    ipcn__wbuf_u64(w, b->len);
    ipcn__wbuf_u64(w, b->checksum);
    return finish(w, off);
}

int ipcn__enc_shm_refs(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type,
                       const ipcn__shm_ref *refs, uint32_t count)
{
    h->type = type;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u32(w, count);
    for (uint32_t i = 0; i < count; i++) {
        ipcn__wbuf_u32(w, refs[i].pool_id);
        ipcn__wbuf_u32(w, refs[i].slot);
        ipcn__wbuf_u32(w, refs[i].gen);
    }
    return finish(w, off);
}

ipcn__shm_ref ipcn__shm_ref_at(const ipcn__shm_refs *r, uint32_t i)
{
    const uint8_t *p = r->p + (size_t)i * 12;
    ipcn__shm_ref x = {ld32(p), ld32(p + 4), ld32(p + 8)};
    return x;
}

ipcn__str ipcn__str_of(const char *s)
{
    ipcn__str r = {"", 0};
    if (s) {
        size_t n = strlen(s);
        r.p = s;
        r.len = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    }
    return r;
}

ipcn__blob ipcn__blob_of(const void *p, size_t n)
{
    ipcn__blob b = {(const uint8_t *)p, (uint32_t)n};
    return b;
}

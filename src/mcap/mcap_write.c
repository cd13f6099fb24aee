/* SPDX-License-Identifier: MIT */
/*
 * mcap_write.c — the MCAP writer (see mcap.h).  Records of a chunk go
 * through chunk_feed(): counted, CRC'd and handed to zstd's streaming
 * compressor (or appended as they are for compression ""), so a message's
 * bytes are read once, from where the caller has them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "mcap.h"
#include "mcap_buf.h"

const uint8_t mcap_magic[8] = {0x89, 'M', 'C', 'A', 'P', 0x30, '\r', '\n'};

/* Slicing by 8: eight tables, eight bytes a step (a table per byte
 * position), a few times faster than a byte a step on chunks of MiBs. */
uint32_t mcap_crc32(uint32_t crc, const void *p, size_t n)
{
    static uint32_t t[8][256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; i++)
            for (int k = 1; k < 8; k++)
                t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
        ready = 1;
    }
    const uint8_t *b = p;
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                             (uint32_t)b[3] << 24);
        uint32_t hi = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 |
                      (uint32_t)b[7] << 24;
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
              t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
              t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        b += 8;
        n -= 8;
    }
    while (n--)
        crc = t[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

typedef struct idx_entry {
    uint64_t time, offset;
} idx_entry;

typedef struct chan_state {
    mcap_buf record;       /* the Channel record as written */
    uint64_t count;        /* messages in the file */
    idx_entry *idx;        /* this chunk's message index */
    size_t nidx, capidx;
    int in_chunk;          /* listed in touched[] */
} chan_state;

struct mcap_writer {
    int fd;
    mcap_write_opts o;
    uint64_t offset;       /* bytes written */
    uint32_t data_crc;     /* of every byte written before DataEnd */
    int err;               /* first error: later calls fail with it */
    mcap_buf *schema_rec;  /* [nschema], the Schema records */
    uint16_t nschema;
    chan_state *chans;     /* [nchan + 1], index = channel id */
    uint16_t nchan;
    uint16_t *touched;     /* channels with messages in the open chunk */
    size_t ntouched;
    /* the open chunk */
    int open;
    ZSTD_CCtx *zc;
    mcap_buf cz;           /* compressed (or raw) records */
    uint64_t usize;
    uint32_t ucrc;
    uint64_t t0, t1;       /* its first and last message log time */
    int has_msg;
    /* the file */
    mcap_buf chunk_index;  /* Chunk Index records, for the summary */
    uint32_t nchunks;
    uint64_t messages, start, end;
    mcap_buf out;          /* a record (or chunk + indexes) being written */
};

void mcap_write_opts_init(mcap_write_opts *o)
{
    memset(o, 0, sizeof *o);
    o->compress = 1;
    o->zstd_level = 1;
    o->chunk_size = 1u << 20;
}

static int fail(mcap_writer *w, int code)
{
    if (!w->err)
        w->err = code;
    return code;
}

/* write(2) all of p, into the data CRC when data is set. */
static int put_file(mcap_writer *w, const void *p, size_t n, int data)
{
    const uint8_t *b = p;
    if (data)
        w->data_crc = mcap_crc32(w->data_crc, p, n);
    while (n) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return fail(w, MCAP_EIO);
        b += k;
        n -= (size_t)k;
        w->offset += (uint64_t)k;
    }
    return 0;
}

/* The record head: opcode and content length. */
static int rec_head(mcap_buf *b, uint8_t op, uint64_t len)
{
    return mb_u8(b, op) || mb_u64(b, len) ? -1 : 0;
}

int mcap_writer_open(mcap_writer **out, const char *path,
                     const mcap_write_opts *o)
{
    if (!out || !path)
        return MCAP_EINVAL;
    mcap_writer *w = calloc(1, sizeof *w);
    if (!w)
        return MCAP_ENOMEM;
    if (o)
        w->o = *o;
    else
        mcap_write_opts_init(&w->o);
    if (!w->o.chunk_size)
        w->o.chunk_size = 1u << 20;
    if (w->o.zstd_level <= 0)
        w->o.zstd_level = 1;
    w->chans = calloc(1, sizeof *w->chans);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!w->chans || w->fd < 0) {
        int rc = w->fd < 0 ? MCAP_EIO : MCAP_ENOMEM;
        if (w->fd >= 0)
            close(w->fd);
        free(w->chans);
        free(w);
        return rc;
    }
    if (w->o.compress) {
        w->zc = ZSTD_createCCtx();
        if (!w->zc || ZSTD_isError(ZSTD_CCtx_setParameter(
                          w->zc, ZSTD_c_compressionLevel, w->o.zstd_level))) {
            mcap_writer_abandon(w);
            return MCAP_ENOMEM;
        }
    }
    mcap_buf *b = &w->out;
    const char *prof = w->o.profile ? w->o.profile : "";
    const char *lib = w->o.library ? w->o.library : "";
    int rc = mb_put(b, mcap_magic, 8) ||
             rec_head(b, MCAP_OP_HEADER, 8 + strlen(prof) + strlen(lib)) ||
             mb_str(b, prof) || mb_str(b, lib);
    if (rc) {
        mcap_writer_abandon(w);
        return MCAP_ENOMEM;
    }
    rc = put_file(w, b->p, b->len, 1);
    b->len = 0;
    if (rc) {
        mcap_writer_abandon(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Bytes of the open chunk's records field. */
static int chunk_feed(mcap_writer *w, const void *p, size_t n)
{
    if (!w->open) {
        w->open = 1;
        w->usize = 0;
        w->ucrc = 0;
        w->cz.len = 0;
        w->has_msg = 0;
        if (w->zc)
            ZSTD_CCtx_reset(w->zc, ZSTD_reset_session_only);
    }
    w->usize += n;
    w->ucrc = mcap_crc32(w->ucrc, p, n);
    if (!w->zc)
        return mb_put(&w->cz, p, n) ? fail(w, MCAP_ENOMEM) : 0;
    ZSTD_inBuffer in = {p, n, 0};
    size_t step = ZSTD_CStreamOutSize();
    while (in.pos < in.size) {
        if (mb_reserve(&w->cz, step) != 0)
            return fail(w, MCAP_ENOMEM);
        ZSTD_outBuffer ob = {w->cz.p + w->cz.len, w->cz.cap - w->cz.len, 0};
        size_t r = ZSTD_compressStream2(w->zc, &ob, &in, ZSTD_e_continue);
        if (ZSTD_isError(r))
            return fail(w, MCAP_ENOMEM);
        w->cz.len += ob.pos;
    }
    return 0;
}

static int feed_record(mcap_writer *w, const mcap_buf *rec)
{
    return chunk_feed(w, rec->p, rec->len);
}

int mcap_writer_add_schema(mcap_writer *w, const char *name,
                           const char *encoding, const void *data,
                           size_t len, uint16_t *id)
{
    if (!w || !name || !encoding || (len && !data) || !id ||
        len > UINT32_MAX || w->nschema == UINT16_MAX)
        return MCAP_EINVAL;
    if (w->err)
        return w->err;
    mcap_buf *n = realloc(w->schema_rec, (w->nschema + 1u) * sizeof *n);
    if (!n)
        return fail(w, MCAP_ENOMEM);
    w->schema_rec = n;
    mcap_buf *b = &n[w->nschema];
    memset(b, 0, sizeof *b);
    uint16_t sid = (uint16_t)(w->nschema + 1);
    if (rec_head(b, MCAP_OP_SCHEMA,
                 2 + 4 + strlen(name) + 4 + strlen(encoding) + 4 + len) ||
        mb_u16(b, sid) || mb_str(b, name) || mb_str(b, encoding) ||
        mb_u32(b, (uint32_t)len) || mb_put(b, data, len)) {
        mb_free(b);
        return fail(w, MCAP_ENOMEM);
    }
    w->nschema++;
    *id = sid;
    return feed_record(w, b);
}

int mcap_writer_add_channel(mcap_writer *w, uint16_t schema_id,
                            const char *topic, const char *msg_encoding,
                            const char *const *keys, const char *const *vals,
                            size_t nmeta, uint16_t *id)
{
    if (!w || !topic || !msg_encoding || !id || schema_id > w->nschema ||
        (nmeta && (!keys || !vals)) || w->nchan == UINT16_MAX - 1)
        return MCAP_EINVAL;
    if (w->err)
        return w->err;
    size_t mlen = 0;
    for (size_t i = 0; i < nmeta; i++)
        mlen += 8 + strlen(keys[i]) + strlen(vals[i]);
    if (mlen > UINT32_MAX)
        return MCAP_EINVAL;
    chan_state *n = realloc(w->chans, (w->nchan + 2u) * sizeof *n);
    uint16_t *t = realloc(w->touched, (w->nchan + 1u) * sizeof *t);
    if (n)
        w->chans = n;
    if (t)
        w->touched = t;
    if (!n || !t)
        return fail(w, MCAP_ENOMEM);
    uint16_t cid = (uint16_t)(w->nchan + 1);
    chan_state *c = &w->chans[cid];
    memset(c, 0, sizeof *c);
    mcap_buf *b = &c->record;
    int rc = rec_head(b, MCAP_OP_CHANNEL, 2 + 2 + 4 + strlen(topic) + 4 +
                                              strlen(msg_encoding) + 4 + mlen) ||
             mb_u16(b, cid) || mb_u16(b, schema_id) || mb_str(b, topic) ||
             mb_str(b, msg_encoding) || mb_u32(b, (uint32_t)mlen);
    for (size_t i = 0; i < nmeta && !rc; i++)
        rc = mb_str(b, keys[i]) || mb_str(b, vals[i]);
    if (rc) {
        mb_free(b);
        return fail(w, MCAP_ENOMEM);
    }
    w->nchan++;
    *id = cid;
    return feed_record(w, b);
}

int mcap_writer_message(mcap_writer *w, uint16_t channel, uint32_t seq,
                        uint64_t log_time, uint64_t publish_time,
                        const void *data, size_t len)
{
    if (!w || !channel || channel > w->nchan || (len && !data) ||
        len > UINT64_MAX - 22)
        return MCAP_EINVAL;
    if (w->err)
        return w->err;
    chan_state *c = &w->chans[channel];
    if (c->nidx == c->capidx) {
        size_t cap = c->capidx ? c->capidx * 2 : 64;
        idx_entry *n = realloc(c->idx, cap * sizeof *n);
        if (!n)
            return fail(w, MCAP_ENOMEM);
        c->idx = n;
        c->capidx = cap;
    }
    uint8_t h[31];
    h[0] = MCAP_OP_MESSAGE;
    mb_le(h + 1, 2 + 4 + 8 + 8 + (uint64_t)len, 8);
    mb_le(h + 9, channel, 2);
    mb_le(h + 11, seq, 4);
    mb_le(h + 15, log_time, 8);
    mb_le(h + 23, publish_time, 8);
    uint64_t at = w->open ? w->usize : 0;
    int rc = chunk_feed(w, h, sizeof h);
    if (!rc && len)
        rc = chunk_feed(w, data, len);
    if (rc)
        return rc;
    c->idx[c->nidx++] = (idx_entry){log_time, at};
    if (!c->in_chunk) {
        c->in_chunk = 1;
        w->touched[w->ntouched++] = channel;
    }
    c->count++;
    if (!w->has_msg || log_time < w->t0)
        w->t0 = log_time;
    if (!w->has_msg || log_time > w->t1)
        w->t1 = log_time;
    w->has_msg = 1;
    if (!w->messages || log_time < w->start)
        w->start = log_time;
    if (!w->messages || log_time > w->end)
        w->end = log_time;
    w->messages++;
    if (w->usize >= w->o.chunk_size)
        return mcap_writer_flush(w);
    return 0;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int mcap_writer_flush(mcap_writer *w)
{
    if (!w)
        return MCAP_EINVAL;
    if (w->err)
        return w->err;
    if (!w->open)
        return 0;
    if (w->zc) {
        ZSTD_inBuffer in = {NULL, 0, 0};
        size_t left;
        do {
            if (mb_reserve(&w->cz, ZSTD_CStreamOutSize()) != 0)
                return fail(w, MCAP_ENOMEM);
            ZSTD_outBuffer ob = {w->cz.p + w->cz.len, w->cz.cap - w->cz.len, 0};
            left = ZSTD_compressStream2(w->zc, &ob, &in, ZSTD_e_end);
            if (ZSTD_isError(left))
                return fail(w, MCAP_ENOMEM);
            w->cz.len += ob.pos;
        } while (left);
    }
    const char *comp = w->zc ? "zstd" : "";
    uint64_t t0 = w->has_msg ? w->t0 : 0, t1 = w->has_msg ? w->t1 : 0;
    mcap_buf *b = &w->out;
    b->len = 0;
    uint64_t chunk_at = w->offset;
    uint64_t clen = 8 + 8 + 8 + 4 + 4 + strlen(comp) + 8 + w->cz.len;
    if (rec_head(b, MCAP_OP_CHUNK, clen) || mb_u64(b, t0) || mb_u64(b, t1) ||
        mb_u64(b, w->usize) || mb_u32(b, w->ucrc) || mb_str(b, comp) ||
        mb_u64(b, w->cz.len))
        return fail(w, MCAP_ENOMEM);
    int rc = put_file(w, b->p, b->len, 1);
    if (!rc)
        rc = put_file(w, w->cz.p, w->cz.len, 1);
    if (rc)
        return rc;
    uint64_t chunk_len = w->offset - chunk_at;
    /* The message indexes, channel ids ascending; and the chunk index. */
    qsort(w->touched, w->ntouched, sizeof *w->touched, cmp_u16);
    b->len = 0;
    mcap_buf map = {0};
    for (size_t i = 0; i < w->ntouched; i++) {
        chan_state *c = &w->chans[w->touched[i]];
        uint64_t at = w->offset + b->len;
        if (rec_head(b, MCAP_OP_MESSAGE_INDEX, 2 + 4 + 16 * (uint64_t)c->nidx) ||
            mb_u16(b, w->touched[i]) || mb_u32(b, (uint32_t)(16 * c->nidx)) ||
            mb_u16(&map, w->touched[i]) || mb_u64(&map, at)) {
            mb_free(&map);
            return fail(w, MCAP_ENOMEM);
        }
        for (size_t k = 0; k < c->nidx; k++)
            if (mb_u64(b, c->idx[k].time) || mb_u64(b, c->idx[k].offset)) {
                mb_free(&map);
                return fail(w, MCAP_ENOMEM);
            }
        c->nidx = 0;
        c->in_chunk = 0;
    }
    w->ntouched = 0;
    uint64_t idx_len = b->len;
    rc = put_file(w, b->p, b->len, 1);
    mcap_buf *ci = &w->chunk_index;
    if (!rc &&
        (rec_head(ci, MCAP_OP_CHUNK_INDEX, 8 + 8 + 8 + 8 + 4 + map.len + 8 + 4 +
                                               strlen(comp) + 8 + 8) ||
         mb_u64(ci, t0) || mb_u64(ci, t1) || mb_u64(ci, chunk_at) ||
         mb_u64(ci, chunk_len) || mb_u32(ci, (uint32_t)map.len) ||
         mb_put(ci, map.p, map.len) || mb_u64(ci, idx_len) ||
         mb_str(ci, comp) || mb_u64(ci, w->cz.len) || mb_u64(ci, w->usize)))
        rc = fail(w, MCAP_ENOMEM);
    mb_free(&map);
    if (rc)
        return rc;
    w->nchunks++;
    w->open = 0;
    if (w->cz.cap > (64u << 20)) /* do not keep a huge buffer */
        mb_free(&w->cz);
    if (w->o.fsync_chunks && fdatasync(w->fd) != 0)
        return fail(w, MCAP_EIO);
    return 0;
}

size_t mcap_writer_pending(const mcap_writer *w)
{
    return w && w->open ? (size_t)w->usize : 0;
}

uint64_t mcap_writer_offset(const mcap_writer *w)
{
    return w ? w->offset : 0;
}

static void free_writer(mcap_writer *w)
{
    for (uint16_t i = 0; i < w->nschema; i++)
        mb_free(&w->schema_rec[i]);
    free(w->schema_rec);
    for (uint32_t i = 1; i <= w->nchan; i++) {
        mb_free(&w->chans[i].record);
        free(w->chans[i].idx);
    }
    free(w->chans);
    free(w->touched);
    mb_free(&w->cz);
    mb_free(&w->chunk_index);
    mb_free(&w->out);
    ZSTD_freeCCtx(w->zc);
    free(w);
}

void mcap_writer_abandon(mcap_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free_writer(w);
}

/* One group of the summary: its Summary Offset record into offs. */
static int group(mcap_buf *s, mcap_buf *offs, uint64_t base, uint8_t op,
                 size_t from)
{
    if (s->len == from)
        return 0;
    return rec_head(offs, MCAP_OP_SUMMARY_OFFSET, 17) || mb_u8(offs, op) ||
           mb_u64(offs, base + from) || mb_u64(offs, s->len - from);
}

int mcap_writer_close(mcap_writer *w)
{
    if (!w)
        return MCAP_EINVAL;
    int rc = mcap_writer_flush(w);
    mcap_buf s = {0}, offs = {0};
    if (!rc) {
        mcap_buf *b = &w->out;
        b->len = 0;
        if (rec_head(b, MCAP_OP_DATA_END, 4) || mb_u32(b, w->data_crc))
            rc = MCAP_ENOMEM;
        else
            rc = put_file(w, b->p, b->len, 0);
    }
    uint64_t base = w->offset;
    int m = 0;
    size_t from = 0;
    for (uint16_t i = 0; !rc && !m && i < w->nschema; i++)
        m = mb_put(&s, w->schema_rec[i].p, w->schema_rec[i].len);
    m = m || group(&s, &offs, base, MCAP_OP_SCHEMA, from);
    from = s.len;
    for (uint32_t i = 1; !rc && !m && i <= w->nchan; i++)
        m = mb_put(&s, w->chans[i].record.p, w->chans[i].record.len);
    m = m || group(&s, &offs, base, MCAP_OP_CHANNEL, from);
    from = s.len;
    m = m || mb_put(&s, w->chunk_index.p, w->chunk_index.len) ||
        group(&s, &offs, base, MCAP_OP_CHUNK_INDEX, from);
    from = s.len;
    m = m || rec_head(&s, MCAP_OP_STATISTICS,
                      8 + 2 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 10 * (uint64_t)w->nchan) ||
        mb_u64(&s, w->messages) || mb_u16(&s, w->nschema) ||
        mb_u32(&s, w->nchan) || mb_u32(&s, 0) || mb_u32(&s, 0) ||
        mb_u32(&s, w->nchunks) || mb_u64(&s, w->messages ? w->start : 0) ||
        mb_u64(&s, w->messages ? w->end : 0) || mb_u32(&s, 10u * w->nchan);
    for (uint32_t i = 1; !m && i <= w->nchan; i++)
        m = mb_u16(&s, (uint16_t)i) || mb_u64(&s, w->chans[i].count);
    m = m || group(&s, &offs, base, MCAP_OP_STATISTICS, from);
    /* Footer: summary_start, summary_offset_start, then the CRC of all
     * from summary_start through summary_offset_start. */
    uint64_t offs_at = base + s.len;
    m = m || mb_put(&s, offs.p, offs.len) ||
        rec_head(&s, MCAP_OP_FOOTER, 20) || mb_u64(&s, base) ||
        mb_u64(&s, offs_at);
    if (!rc && m)
        rc = MCAP_ENOMEM;
    if (!rc) {
        uint32_t crc = mcap_crc32(0, s.p, s.len);
        if (mb_u32(&s, crc) || mb_put(&s, mcap_magic, 8))
            rc = MCAP_ENOMEM;
        else
            rc = put_file(w, s.p, s.len, 0);
    }
    mb_free(&s);
    mb_free(&offs);
    if (!rc && w->o.fsync_chunks && fdatasync(w->fd) != 0)
        rc = MCAP_EIO;
    if (close(w->fd) != 0 && !rc)
        rc = MCAP_EIO;
    w->fd = -1;
    free_writer(w);
    return rc;
}

const char *mcap_strerror(int code)
{
    switch (code) {
    case MCAP_OK: return "ok";
    case MCAP_EIO: return "I/O error";
    case MCAP_ENOMEM: return "out of memory";
    case MCAP_EINVAL: return "invalid argument";
    case MCAP_EFORMAT: return "malformed MCAP file";
    case MCAP_ECRC: return "CRC mismatch";
    case MCAP_ELIMIT: return "over a reader limit";
    case MCAP_ESTOP: return "stopped";
    default: return "unknown error";
    }
}

/* SPDX-License-Identifier: MIT */
/*
 * mcap_read.c — the MCAP reader (see mcap.h).  Every field is read through
 * a cursor that knows how many bytes its record has left; a read past it
 * marks the cursor bad and the record malformed.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "mcap.h"

#define MAX_IDS 65536

typedef struct schema_x {
    mcap_schema s;
    const uint8_t *rec;    /* the record's content, to compare duplicates */
    size_t rec_len;
} schema_x;

typedef struct chan_x {
    mcap_channel c;
    char **kv;             /* keys then values */
    const uint8_t *rec;
    size_t rec_len;
    uint8_t *own;          /* copy of the record content (chunk records) */
} chan_x;

struct mcap_reader {
    const uint8_t *base;
    size_t size;
    int mapped;
    mcap_read_opts o;
    schema_x **schemas;    /* [MAX_IDS], allocated on first use */
    chan_x **chans;
    uint64_t *counts;
    const mcap_channel **list;
    size_t nlist;
    uint8_t *ubuf;         /* one decompressed chunk */
    size_t ubuf_cap;
    ZSTD_DCtx *zd;
    char *profile, *library;
    int scanned;
};

typedef struct cur {
    const uint8_t *p;
    size_t n;
    int bad;
} cur;

static uint64_t rd(cur *c, int w)
{
    if (c->bad || c->n < (size_t)w) {
        c->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = w - 1; i >= 0; i--)
        v = v << 8 | c->p[i];
    c->p += w;
    c->n -= (size_t)w;
    return v;
}

/* n bytes of c (NULL, bad, when fewer are left). */
static const uint8_t *take(cur *c, uint64_t n)
{
    if (c->bad || c->n < n) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    c->n -= (size_t)n;
    return p;
}

/* A uint32-prefixed string as a NUL-terminated copy (NULL: bad or OOM). */
static char *rd_str(cur *c, int *oom)
{
    uint64_t n = rd(c, 4);
    const uint8_t *p = take(c, n);
    if (!p)
        return NULL;
    char *s = malloc(n + 1);
    if (!s) {
        *oom = 1;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static int why(mcap_info *in, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why(mcap_info *in, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->why, sizeof in->why, fmt, ap);
    va_end(ap);
    return code;
}

int mcap_reader_open_mem(mcap_reader **out, const void *buf, size_t len,
                         const mcap_read_opts *o)
{
    if (!out || (len && !buf))
        return MCAP_EINVAL;
    mcap_reader *r = calloc(1, sizeof *r);
    if (!r)
        return MCAP_ENOMEM;
    r->base = buf;
    r->size = len;
    if (o)
        r->o = *o;
    if (!r->o.max_chunk)
        r->o.max_chunk = MCAP_MAX_CHUNK_DEFAULT;
    *out = r;
    return 0;
}

int mcap_reader_open(mcap_reader **out, const char *path,
                     const mcap_read_opts *o)
{
    if (!out || !path)
        return MCAP_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return MCAP_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        close(fd);
        return MCAP_EIO;
    }
    void *p = NULL;
    if (st.st_size > 0) {
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return MCAP_EIO;
        }
    }
    close(fd);
    int rc = mcap_reader_open_mem(out, p, (size_t)st.st_size, o);
    if (rc) {
        if (p)
            munmap(p, (size_t)st.st_size);
        return rc;
    }
    (*out)->mapped = p != NULL;
    return 0;
}

static void free_chan(chan_x *c)
{
    if (!c)
        return;
    if (c->kv)
        for (size_t i = 0; i < 2 * c->c.nmeta; i++)
            free(c->kv[i]);
    free(c->kv);
    free((char *)c->c.topic);
    free((char *)c->c.encoding);
    free(c->own);
    free(c);
}

static void free_schema(schema_x *s)
{
    if (!s)
        return;
    free((char *)s->s.name);
    free((char *)s->s.encoding);
    free((uint8_t *)s->rec);
    free(s);
}

void mcap_reader_close(mcap_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->schemas && i < MAX_IDS; i++)
        free_schema(r->schemas[i]);
    for (size_t i = 0; r->chans && i < MAX_IDS; i++)
        free_chan(r->chans[i]);
    free(r->schemas);
    free(r->chans);
    free(r->counts);
    free(r->list);
    free(r->ubuf);
    free(r->profile);
    free(r->library);
    ZSTD_freeDCtx(r->zd);
    if (r->mapped)
        munmap((void *)r->base, r->size);
    free(r);
}

static int tables(mcap_reader *r)
{
    if (r->chans)
        return 0;
    r->schemas = calloc(MAX_IDS, sizeof *r->schemas);
    r->chans = calloc(MAX_IDS, sizeof *r->chans);
    r->counts = calloc(MAX_IDS, sizeof *r->counts);
    r->list = calloc(MAX_IDS, sizeof *r->list);
    return r->schemas && r->chans && r->counts && r->list ? 0 : MCAP_ENOMEM;
}

/* A Schema record's content p[0..n). */
static int on_schema(mcap_reader *r, const uint8_t *p, size_t n, mcap_info *in)
{
    cur c = {p, n, 0};
    int oom = 0;
    uint16_t id = (uint16_t)rd(&c, 2);
    if (c.bad)
        return why(in, MCAP_EFORMAT, "malformed Schema record");
    schema_x *old = r->schemas[id];
    if (old) {
        if (old->rec_len != n || memcmp(old->rec, p, n) != 0)
            return why(in, MCAP_EFORMAT, "schema %u declared twice, differently", id);
        return 0;
    }
    schema_x *s = calloc(1, sizeof *s);
    uint8_t *raw = malloc(n ? n : 1);
    if (!s || !raw) {
        free(s);
        free(raw);
        return MCAP_ENOMEM;
    }
    memcpy(raw, p, n);
    s->rec = raw;
    s->rec_len = n;
    s->s.id = id;
    s->s.name = rd_str(&c, &oom);
    s->s.encoding = rd_str(&c, &oom);
    uint64_t dl = rd(&c, 4);
    const uint8_t *d = take(&c, dl);
    s->s.data = d ? raw + (d - p) : NULL;
    s->s.len = (size_t)dl;
    if (oom) {
        free_schema(s);
        return MCAP_ENOMEM;
    }
    if (c.bad) {
        free_schema(s);
        return why(in, MCAP_EFORMAT, "malformed Schema record");
    }
    if (id == 0) { /* spec: a schema id 0 is invalid and ignored */
        free_schema(s);
        return 0;
    }
    r->schemas[id] = s;
    return 0;
}

static int on_channel(mcap_reader *r, const uint8_t *p, size_t n,
                      mcap_info *in)
{
    cur c = {p, n, 0};
    int oom = 0;
    if (tables(r))
        return MCAP_ENOMEM;
    uint16_t id = (uint16_t)rd(&c, 2);
    uint16_t sid = (uint16_t)rd(&c, 2);
    if (c.bad)
        return why(in, MCAP_EFORMAT, "malformed Channel record");
    chan_x *old = r->chans[id];
    if (old) {
        if (old->rec_len != n || memcmp(old->rec, p, n) != 0)
            return why(in, MCAP_EFORMAT, "channel %u declared twice, differently", id);
        return 0;
    }
    if (sid && !r->schemas[sid])
        return why(in, MCAP_EFORMAT, "channel %u names schema %u, not declared before it", id, sid);
    chan_x *x = calloc(1, sizeof *x);
    if (!x)
        return MCAP_ENOMEM;
    x->c.id = id;
    x->c.schema_id = sid;
    x->c.topic = rd_str(&c, &oom);
    x->c.encoding = rd_str(&c, &oom);
    uint64_t ml = rd(&c, 4);
    const uint8_t *mp = take(&c, ml);
    int rc = 0;
    if (oom)
        rc = MCAP_ENOMEM;
    else if (c.bad)
        rc = why(in, MCAP_EFORMAT, "malformed Channel record");
    /* The map: count its entries, then copy them. */
    size_t k = 0;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        cur m = {mp, (size_t)ml, 0};
        size_t i = 0;
        while (m.n && !m.bad) {
            char *key = NULL, *val = NULL;
            if (pass) {
                key = rd_str(&m, &oom);
                val = rd_str(&m, &oom);
                if (key && val && i < k) {
                    x->kv[i] = key;
                    x->kv[k + i] = val;
                } else {
                    free(key);
                    free(val);
                }
            } else {
                take(&m, rd(&m, 4));
                take(&m, rd(&m, 4));
            }
            i++;
            if (oom)
                break;
        }
        if (oom)
            rc = MCAP_ENOMEM;
        else if (m.bad)
            rc = why(in, MCAP_EFORMAT, "malformed metadata of channel %u", id);
        else if (!pass) {
            k = i;
            x->kv = calloc(2 * k + 1, sizeof *x->kv);
            if (!x->kv)
                rc = MCAP_ENOMEM;
            x->c.nmeta = k;
        }
    }
    x->own = rc ? NULL : malloc(n);
    if (!rc && !x->own)
        rc = MCAP_ENOMEM;
    if (rc) {
        free_chan(x);
        return rc;
    }
    memcpy(x->own, p, n);
    x->rec = x->own;
    x->rec_len = n;
    x->c.keys = (const char *const *)x->kv;
    x->c.vals = (const char *const *)(x->kv + k);
    r->chans[id] = x;
    return 0;
}

static int on_message(mcap_reader *r, const uint8_t *p, size_t n,
                      mcap_msg_fn fn, void *user, mcap_info *in)
{
    cur c = {p, n, 0};
    mcap_message m;
    uint16_t id = (uint16_t)rd(&c, 2);
    m.seq = (uint32_t)rd(&c, 4);
    m.log_time = rd(&c, 8);
    m.publish_time = rd(&c, 8);
    if (c.bad)
        return why(in, MCAP_EFORMAT, "malformed Message record");
    if (!r->chans || !r->chans[id])
        return why(in, MCAP_EFORMAT, "message on channel %u, not declared before it", id);
    m.channel = &r->chans[id]->c;
    m.data = c.p;
    m.len = c.n;
    if (!in->messages || m.log_time < in->start_time)
        in->start_time = m.log_time;
    if (!in->messages || m.log_time > in->end_time)
        in->end_time = m.log_time;
    in->messages++;
    r->counts[id]++;
    if (fn && fn(&m, user) != 0)
        return why(in, MCAP_ESTOP, "stopped by the caller");
    return 0;
}

/* The records of a decompressed chunk. */
static int chunk_records(mcap_reader *r, const uint8_t *p, size_t n,
                         mcap_msg_fn fn, void *user, mcap_info *in)
{
    cur c = {p, n, 0};
    while (c.n) {
        uint8_t op = (uint8_t)rd(&c, 1);
        uint64_t len = rd(&c, 8);
        const uint8_t *q = take(&c, len);
        if (!q)
            return why(in, MCAP_EFORMAT, "a record inside a chunk overruns it");
        int rc = 0;
        if (op == MCAP_OP_SCHEMA)
            rc = on_schema(r, q, (size_t)len, in);
        else if (op == MCAP_OP_CHANNEL)
            rc = on_channel(r, q, (size_t)len, in);
        else if (op == MCAP_OP_MESSAGE)
            rc = on_message(r, q, (size_t)len, fn, user, in);
        else if (op < 0x80)
            return why(in, MCAP_EFORMAT, "record 0x%02x inside a chunk", op);
        if (rc)
            return rc;
    }
    return 0;
}

static int on_chunk(mcap_reader *r, const uint8_t *p, size_t n,
                    mcap_msg_fn fn, void *user, mcap_info *in, uint64_t at)
{
    cur c = {p, n, 0};
    int oom = 0;
    rd(&c, 8);
    rd(&c, 8);
    uint64_t usize = rd(&c, 8);
    uint32_t crc = (uint32_t)rd(&c, 4);
    char *comp = rd_str(&c, &oom);
    uint64_t clen = rd(&c, 8);
    const uint8_t *data = take(&c, clen);
    if (oom)
        return MCAP_ENOMEM;
    if (!comp || !data) {
        free(comp);
        return why(in, MCAP_EFORMAT, "malformed Chunk record at byte %llu",
                   (unsigned long long)at);
    }
    int z = strcmp(comp, "zstd") == 0, none = comp[0] == 0;
    snprintf(in->why, sizeof in->why, "%s", comp); /* stash for info */
    free(comp);
    if (!z && !none)
        return why(in, MCAP_EFORMAT, "chunk at byte %llu: unsupported compression \"%s\"",
                   (unsigned long long)at, in->why);
    in->compression = z ? "zstd" : "";
    in->why[0] = 0;
    if (usize > r->o.max_chunk)
        return why(in, MCAP_ELIMIT, "chunk at byte %llu: %llu bytes uncompressed, over the limit "
                   "of %zu MiB", (unsigned long long)at, (unsigned long long)usize,
                   r->o.max_chunk >> 20);
    const uint8_t *u = data;
    if (z) {
        if (usize > r->ubuf_cap) {
            uint8_t *nb = realloc(r->ubuf, usize ? usize : 1);
            if (!nb)
                return MCAP_ENOMEM;
            r->ubuf = nb;
            r->ubuf_cap = (size_t)usize;
        }
        if (!r->zd && !(r->zd = ZSTD_createDCtx()))
            return MCAP_ENOMEM;
        size_t got = ZSTD_decompressDCtx(r->zd, r->ubuf, (size_t)usize, data,
                                         (size_t)clen);
        if (ZSTD_isError(got) || got != usize)
            return why(in, MCAP_EFORMAT, "chunk at byte %llu: zstd data do not decompress to %llu bytes",
                       (unsigned long long)at, (unsigned long long)usize);
        u = r->ubuf;
    } else if (clen != usize) {
        return why(in, MCAP_EFORMAT, "chunk at byte %llu: sizes differ", (unsigned long long)at);
    }
    if (crc && mcap_crc32(0, u, (size_t)usize) != crc)
        return why(in, MCAP_ECRC, "chunk at byte %llu: CRC mismatch", (unsigned long long)at);
    in->chunks++;
    return chunk_records(r, u, (size_t)usize, fn, user, in);
}

/* The summary section and footer, from pos (just after DataEnd). */
static int summary(mcap_reader *r, size_t pos, mcap_info *in)
{
    const uint8_t *b = r->base;
    size_t sum_at = pos;
    while (1) {
        if (r->size - pos < 9) {
            in->cut_off = 1;
            return why(in, 0, "cut off in the summary at byte %zu (all messages read)", pos);
        }
        cur h = {b + pos, 9, 0};
        uint8_t op = (uint8_t)rd(&h, 1);
        uint64_t len = rd(&h, 8);
        if (len > r->size - pos - 9) {
            in->cut_off = 1;
            return why(in, 0, "cut off in the summary at byte %zu (all messages read)", pos);
        }
        const uint8_t *q = b + pos + 9;
        cur c = {q, (size_t)len, 0};
        int rc = 0;
        if (op == MCAP_OP_FOOTER) {
            uint64_t ss = rd(&c, 8);
            uint64_t so = rd(&c, 8);
            uint32_t crc = (uint32_t)rd(&c, 4);
            if (c.bad)
                return why(in, MCAP_EFORMAT, "malformed Footer");
            if (ss && ss != sum_at)
                return why(in, MCAP_EFORMAT, "footer: summary_start %llu, summary at %zu",
                           (unsigned long long)ss, sum_at);
            if (so > pos)
                return why(in, MCAP_EFORMAT, "footer: summary_offset_start past the footer");
            size_t from = ss ? (size_t)ss : pos;
            if (crc && mcap_crc32(0, b + from, pos + 25 - from) != crc)
                return why(in, MCAP_ECRC, "summary CRC mismatch");
            pos += 9 + (size_t)len;
            if (r->size - pos < 8 || memcmp(b + pos, mcap_magic, 8) != 0) {
                in->cut_off = 1;
                return why(in, 0, "no closing magic after the footer");
            }
            if (r->size - pos != 8)
                return why(in, MCAP_EFORMAT, "bytes after the closing magic");
            in->good_bytes = r->size;
            in->complete = 1;
            return 0;
        } else if (op == MCAP_OP_SCHEMA) {
            rc = on_schema(r, q, (size_t)len, in);
        } else if (op == MCAP_OP_CHANNEL) {
            rc = on_channel(r, q, (size_t)len, in);
        } else if (op == MCAP_OP_CHUNK_INDEX) {
            rd(&c, 16);
            uint64_t at = rd(&c, 8), cl = rd(&c, 8);
            if (c.bad || at > in->data_end_offset || cl > in->data_end_offset - at)
                return why(in, MCAP_EFORMAT, "a chunk index points outside the data section");
        } else if (op == MCAP_OP_STATISTICS) {
            in->stats_messages = rd(&c, 8);
            if (c.bad)
                return why(in, MCAP_EFORMAT, "malformed Statistics");
            in->have_stats = 1;
            if (in->stats_messages != in->messages)
                return why(in, MCAP_EFORMAT, "statistics count %llu messages, the file has %llu",
                           (unsigned long long)in->stats_messages,
                           (unsigned long long)in->messages);
        } else if (op == MCAP_OP_SUMMARY_OFFSET) {
            rd(&c, 1);
            uint64_t gs = rd(&c, 8), gl = rd(&c, 8);
            if (c.bad || gs < sum_at || gs > pos || gl > pos - gs)
                return why(in, MCAP_EFORMAT, "a summary offset points outside the summary");
        } else if (op == MCAP_OP_MESSAGE || op == MCAP_OP_CHUNK ||
                   op == MCAP_OP_DATA_END || op == MCAP_OP_HEADER) {
            return why(in, MCAP_EFORMAT, "record 0x%02x in the summary", op);
        }
        if (rc)
            return rc;
        pos += 9 + (size_t)len;
    }
}

int mcap_reader_scan(mcap_reader *r, mcap_msg_fn fn, void *user,
                     mcap_info *in)
{
    mcap_info dummy;
    if (!in)
        in = &dummy;
    memset(in, 0, sizeof *in);
    in->profile = in->library = in->compression = "";
    if (!r || r->scanned)
        return MCAP_EINVAL;
    r->scanned = 1;
    if (tables(r))
        return MCAP_ENOMEM;
    const uint8_t *b = r->base;
    if (r->size < 8 || memcmp(b, mcap_magic, 8) != 0)
        return why(in, MCAP_EFORMAT, "not an MCAP file (no magic)");
    size_t pos = 8;
    int first = 1;
    in->good_bytes = 8;
    while (1) {
        if (r->size - pos < 9) {
            in->cut_off = 1;
            return why(in, 0, r->size == pos ? "ends at byte %zu, before its DataEnd"
                                             : "a record cut in two at byte %zu", pos);
        }
        cur h = {b + pos, 9, 0};
        uint8_t op = (uint8_t)rd(&h, 1);
        uint64_t len = rd(&h, 8);
        if (len > r->size - pos - 9) {
            in->cut_off = 1;
            return why(in, 0, "a record cut in two at byte %zu", pos);
        }
        const uint8_t *q = b + pos + 9;
        if (first && op != MCAP_OP_HEADER)
            return why(in, MCAP_EFORMAT, "the first record is not a Header");
        int rc = 0;
        switch (op) {
        case MCAP_OP_HEADER: {
            if (!first)
                return why(in, MCAP_EFORMAT, "a second Header");
            cur c = {q, (size_t)len, 0};
            int oom = 0;
            r->profile = rd_str(&c, &oom);
            r->library = rd_str(&c, &oom);
            if (oom)
                return MCAP_ENOMEM;
            if (c.bad)
                return why(in, MCAP_EFORMAT, "malformed Header");
            in->profile = r->profile;
            in->library = r->library;
            break;
        }
        case MCAP_OP_SCHEMA: rc = on_schema(r, q, (size_t)len, in); break;
        case MCAP_OP_CHANNEL: rc = on_channel(r, q, (size_t)len, in); break;
        case MCAP_OP_MESSAGE:
            rc = on_message(r, q, (size_t)len, fn, user, in);
            break;
        case MCAP_OP_CHUNK:
            rc = on_chunk(r, q, (size_t)len, fn, user, in, pos);
            break;
        case MCAP_OP_MESSAGE_INDEX: {
            cur c = {q, (size_t)len, 0};
            rd(&c, 2);
            uint64_t al = rd(&c, 4);
            if (c.bad || al % 16 || !take(&c, al))
                return why(in, MCAP_EFORMAT, "malformed Message Index at byte %zu", pos);
            break;
        }
        case MCAP_OP_DATA_END: {
            cur c = {q, (size_t)len, 0};
            uint32_t crc = (uint32_t)rd(&c, 4);
            if (c.bad)
                return why(in, MCAP_EFORMAT, "malformed DataEnd");
            if (crc && mcap_crc32(0, b, pos) != crc)
                return why(in, MCAP_ECRC, "data section CRC mismatch");
            in->data_end_offset = pos;
            in->good_bytes = pos + 9 + (size_t)len;
            return summary(r, pos + 9 + (size_t)len, in);
        }
        case MCAP_OP_FOOTER:
        case MCAP_OP_CHUNK_INDEX:
        case MCAP_OP_STATISTICS:
        case MCAP_OP_SUMMARY_OFFSET:
            return why(in, MCAP_EFORMAT, "record 0x%02x before DataEnd", op);
        default:
            break; /* attachments, metadata, extensions: skipped */
        }
        if (rc)
            return rc;
        first = 0;
        pos += 9 + (size_t)len;
        in->good_bytes = pos;
    }
}

const mcap_channel *const *mcap_reader_channels(const mcap_reader *r,
                                                 size_t *n)
{
    mcap_reader *w = (mcap_reader *)r;
    *n = 0;
    if (!r || !r->list)
        return NULL;
    w->nlist = 0;
    for (size_t i = 0; i < MAX_IDS; i++)
        if (r->chans[i])
            w->list[w->nlist++] = &r->chans[i]->c;
    *n = w->nlist;
    return (const mcap_channel *const *)r->list;
}

const mcap_schema *mcap_reader_schema(const mcap_reader *r, uint16_t id)
{
    return r && r->schemas && r->schemas[id] ? &r->schemas[id]->s : NULL;
}

uint64_t mcap_reader_channel_count(const mcap_reader *r, uint16_t id)
{
    return r && r->counts ? r->counts[id] : 0;
}

const char *mcap_channel_meta(const mcap_channel *c, const char *key)
{
    for (size_t i = 0; c && i < c->nmeta; i++)
        if (c->keys[i] && strcmp(c->keys[i], key) == 0)
            return c->vals[i];
    return NULL;
}

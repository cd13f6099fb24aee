/* SPDX-License-Identifier: MIT */
/*
 * cmd_record.c — `ipcnet record PATTERN... -o FILE.mcap`: the samples of
 * the matching streams and data resources, and the requests and replies
 * of the services it proxies (--proxy), into an MCAP file (src/mcap/;
 * the layout is docs/protocol.md section 21).
 *
 * Each sample is written from the message the library hands the callback:
 * for a shared-memory sample that is the read-only mapping of the
 * publisher's slot, compressed from there (no copy).  A chunk is written
 * out (write(2)) when it is full or --flush seconds old.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcap.h"
#include "rec.h"

enum { K_STREAM, K_DATA, K_REQUEST, K_REPLY, K_PROV };
static const char *const kind_str[] = {"stream", "data", "request", "reply", "provenance"};
/* The encoding of a provenance channel: the records as the wire carries
 * them (docs/protocol.md 20.2), not CBOR. */
#define PROV_ENCODING "application/vnd.ipcnet.provenance"

typedef struct rchan {
    char *path, *enc, *provider, *meta_hex, *proxy;
    uint64_t src;
    int kind, status;
    uint16_t id;           /* in the current file; 0: not declared there */
} rchan;

typedef struct recorder {
    cli *c;
    rec_opts *o;
    mcap_writer *w;
    char file[4096];
    unsigned file_no;
    rchan *ch;
    size_t nch, cap;
    uint64_t mono0, real0, file_mono0, last_flush;
    uint64_t msgs, bytes, files;
    uint64_t proxy_seq;
    struct proxy_call *calls; /* the calls passed on, not answered yet */
    int err;
} recorder;

typedef struct proxy_call {
    struct proxy_call *next, **pprev; /* in recorder.calls */
    recorder *r;
    ipcn_responder resp;
    const char *to;
    uint64_t seq;
} proxy_call;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* MCAP's message encoding of an IPCNet encoding (section 21). */
static const char *mcap_encoding(const char *enc)
{
    if (enc_is_cbor(enc) || enc_is_tensor(enc))
        return "cbor";
    if (enc_is_json(enc))
        return "json";
    return enc;
}

static int open_file(recorder *r)
{
    const char *out = r->o->output;
    if (r->o->split_mb > 0 || r->o->split_s > 0) {
        size_t n = strlen(out);
        int base = n > 5 && !strcmp(out + n - 5, ".mcap") ? (int)(n - 5) : (int)n;
        snprintf(r->file, sizeof r->file, "%.*s_%u.mcap", base, out, r->file_no);
    } else {
        snprintf(r->file, sizeof r->file, "%s", out);
    }
    mcap_write_opts wo;
    mcap_write_opts_init(&wo);
    wo.profile = "ipcnet";
    wo.library = "ipcnet record " IPCNET_CLI_VERSION;
    wo.compress = !r->o->plain;
    wo.chunk_size = (r->o->chunk_kb ? r->o->chunk_kb : 1024) * 1024;
    wo.fsync_chunks = r->o->fsync;
    int rc = mcap_writer_open(&r->w, r->file, &wo);
    if (rc)
        return cli_fail(IPCN_INTERNAL_ERROR, "cannot create %s: %s", r->file,
                        mcap_strerror(rc));
    for (size_t i = 0; i < r->nch; i++)
        r->ch[i].id = 0;
    r->file_mono0 = mono_ns();
    r->files++;
    return 0;
}

static int close_file(recorder *r)
{
    if (!r->w)
        return 0;
    int rc = mcap_writer_close(r->w);
    r->w = NULL;
    if (rc)
        return cli_fail(IPCN_INTERNAL_ERROR, "cannot finish %s: %s", r->file,
                        mcap_strerror(rc));
    return 0;
}

/* Declare ch in the current file: its schema (not CBOR or JSON: one named
 * by its IPCNet encoding) and its channel with the metadata of 21. */
static int declare(recorder *r, rchan *ch)
{
    uint16_t sid = 0;
    const char *menc = mcap_encoding(ch->enc);
    int rc = 0;
    if (strcmp(menc, "cbor") && strcmp(menc, "json") && ch->enc[0])
        rc = mcap_writer_add_schema(r->w, ch->enc, "ipcnet.encoding", NULL, 0, &sid);
    else if (enc_is_tensor(ch->enc))
        rc = mcap_writer_add_schema(r->w, "tensor", "ipcnet.encoding", NULL, 0, &sid);
    char pid[24], st[16];
    snprintf(pid, sizeof pid, "%016" PRIx64, ch->src);
    snprintf(st, sizeof st, "%d", ch->status);
    const char *k[8], *v[8];
    size_t n = 0;
    k[n] = "ipcnet.kind", v[n++] = kind_str[ch->kind];
    k[n] = "ipcnet.encoding", v[n++] = ch->enc;
    k[n] = "ipcnet.provider", v[n++] = ch->provider;
    k[n] = "ipcnet.provider_id", v[n++] = pid;
    if (ch->meta_hex)
        k[n] = "ipcnet.meta", v[n++] = ch->meta_hex;
    if (ch->kind == K_REPLY)
        k[n] = "ipcnet.status", v[n++] = st;
    if (ch->proxy)
        k[n] = "ipcnet.proxy", v[n++] = ch->proxy;
    if (!rc)
        rc = mcap_writer_add_channel(r->w, sid, ch->path, menc, k, v, n, &ch->id);
    return rc;
}

static rchan *chan_of(recorder *r, const char *path, const char *enc, uint64_t src,
                      const char *provider, int kind, int status, const char *proxy)
{
    for (size_t i = 0; i < r->nch; i++) {
        rchan *ch = &r->ch[i];
        if (ch->src == src && ch->kind == kind && ch->status == status &&
            !strcmp(ch->path, path) && !strcmp(ch->enc, enc))
            return ch;
    }
    if (r->nch == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        rchan *n = realloc(r->ch, cap * sizeof *n);
        if (!n)
            return NULL;
        r->ch = n;
        r->cap = cap;
    }
    rchan *ch = &r->ch[r->nch];
    memset(ch, 0, sizeof *ch);
    ch->path = strdup(path);
    ch->enc = strdup(enc);
    ch->provider = strdup(provider ? provider : "");
    ch->proxy = proxy ? strdup(proxy) : NULL;
    ch->src = src;
    ch->kind = kind;
    ch->status = status;
    if (kind == K_STREAM) { /* its kind and metadata, from the directory */
        ipcn_resource_list *rl = NULL;
        if (ipcn_find(r->c->node, path, IPCN_ANY, &rl) == IPCN_OK) {
            for (size_t i = 0; i < rl->count; i++) {
                const ipcn_resource *res = &rl->items[i];
                if (res->provider_id != src && rl->count > 1)
                    continue;
                if (res->kind == IPCN_DATA)
                    ch->kind = K_DATA;
                if (res->meta_len)
                    ch->meta_hex = rec_hex(res->meta, res->meta_len);
                break;
            }
            ipcn_resource_list_free(rl);
        }
    }
    if (!ch->path || !ch->enc || !ch->provider || (proxy && !ch->proxy)) {
        free(ch->path);
        free(ch->enc);
        free(ch->provider);
        free(ch->proxy);
        free(ch->meta_hex);
        return NULL;
    }
    r->nch++;
    return ch;
}

/* One message into the file, logged at log (0: now); returns its log
 * time, or 0 after setting r->err. */
static uint64_t put_at(recorder *r, rchan *ch, uint64_t seq, uint64_t pub_ns,
                       const void *data, size_t len, uint64_t log)
{
    if (r->err || !r->w)
        return 0;
    int rc = ch->id ? 0 : declare(r, ch);
    if (!log)
        log = r->real0 + (mono_ns() - r->mono0);
    if (!rc)
        rc = mcap_writer_message(r->w, ch->id, (uint32_t)seq, log, pub_ns ? pub_ns : log,
                                 data, len);
    if (rc) {
        r->err = cli_fail(IPCN_INTERNAL_ERROR, "cannot write %s: %s", r->file,
                          mcap_strerror(rc));
        cli_stop = 1;
        return 0;
    }
    r->msgs++;
    r->bytes += len;
    return log;
}

static void put(recorder *r, rchan *ch, uint64_t seq, uint64_t pub_ns,
                const void *data, size_t len)
{
    put_at(r, ch, seq, pub_ns, data, len, 0);
}

static void on_sample(ipcn_node *node, const ipcn_msg *m, void *user)
{
    (void)node;
    recorder *r = user;
    if (m->status != IPCN_OK)
        return; /* a provider left (303) */
    rchan *ch = chan_of(r, m->path, m->encoding, m->src_id, m->src_name, K_STREAM, 0, NULL);
    if (!ch) {
        r->err = cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
        cli_stop = 1;
        return;
    }
    uint64_t log = put_at(r, ch, m->seq, m->timestamp_ns, m->data, m->len, 0);
    /* Its provenance record, if it came with one (section 21): the
     * companion channel of the path, the same sequence and log time. */
    const uint8_t *rec = NULL;
    size_t rlen = 0;
    if (log && ipcn_msg_provenance(m, &rec, &rlen) == IPCN_OK && rlen) {
        rchan *pc = chan_of(r, m->path, PROV_ENCODING, m->src_id, m->src_name, K_PROV,
                            0, NULL);
        if (!pc) {
            r->err = cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
            cli_stop = 1;
            return;
        }
        put_at(r, pc, m->seq, m->timestamp_ns, rec, rlen, log);
    }
}

/* The answer of call number seq to path to, into the file. */
static void put_reply(recorder *r, const char *to, uint64_t seq, int status,
                      const ipcn_msg *reply)
{
    rchan *ch = chan_of(r, to, reply ? reply->encoding : "", reply ? reply->src_id : 0,
                        reply ? reply->src_name : "", K_REPLY, status, NULL);
    if (ch)
        put(r, ch, seq, real_ns(), reply ? reply->data : "", reply ? reply->len : 0);
}

static void on_proxy_reply(ipcn_node *node, int status, const ipcn_msg *reply, void *user)
{
    proxy_call *pc = user;
    put_reply(pc->r, pc->to, pc->seq, status, reply);
    ipcn_respond(node, pc->resp, status, reply ? reply->data : "", reply ? reply->len : 0,
                 reply ? reply->encoding : "");
    if ((*pc->pprev = pc->next))
        pc->next->pprev = pc->pprev;
    free(pc);
}

static int on_proxy_request(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                            void *user)
{
    recorder *r = *(recorder **)user;
    const char *to = ((const char **)user)[1];
    /* A call of the recorder's own node came back to it (TO, or a node
     * that TO passes it on to, proxies to one of its FROMs): refused, not
     * passed on again (section 21). */
    if (req->src_id == ipcn_node_id(node))
        return IPCN_LOOP_DETECTED;
    proxy_call *pc = calloc(1, sizeof *pc);
    if (!pc)
        return IPCN_INSUFFICIENT_MEMORY;
    pc->r = r;
    pc->to = to;
    pc->seq = ++r->proxy_seq;
    rchan *ch = chan_of(r, to, req->encoding, req->src_id, req->src_name, K_REQUEST, 0,
                        req->path);
    if (ch)
        put(r, ch, pc->seq, real_ns(), req->data, req->len);
    /* The requester's remaining time, passed on: the call to TO gives up
     * no later than its requester does (-1: it waits forever). */
    int left = ipcn_reply_time_left(ctx);
    /* The answer comes from dispatch, after this handler returned. */
    int st = ipcn_request_async(node, to, req->data, req->len, req->encoding,
                                left == 0 ? 1 : left, on_proxy_reply, pc, NULL);
    if (st != IPCN_ACCEPTED) {
        /* Refused at once: that is the answer, recorded as one. */
        put_reply(r, to, pc->seq, st, NULL);
        free(pc);
        return st;
    }
    if ((pc->next = r->calls))
        r->calls->pprev = &pc->next;
    pc->pprev = &r->calls;
    r->calls = pc;
    pc->resp = ipcn_reply_defer(ctx);
    return IPCN_ACCEPTED;
}

int rec_record(cli *c, rec_opts *o)
{
    recorder r = {.c = c, .o = o};
    int rc = cli_open(c);
    if (rc)
        return rc;
    cli_catch_signals();
    r.mono0 = mono_ns();
    r.real0 = real_ns();
    if ((rc = open_file(&r)) != 0)
        return rc;
    const char *px[REC_MAX_PROXIES][2];
    void *pxu[REC_MAX_PROXIES][2];
    for (int i = 0; i < o->npatterns && !rc; i++) {
        ipcn_sub sub;
        int st = ipcn_subscribe(c->node, o->patterns[i], 4096, on_sample, &r, &sub);
        if (st != IPCN_OK)
            rc = cli_fail(st, "cannot subscribe to %s", o->patterns[i]);
    }
    for (int i = 0; i < o->nproxies && !rc; i++) {
        px[i][0] = o->proxy_from[i];
        px[i][1] = o->proxy_to[i];
        pxu[i][0] = &r;
        pxu[i][1] = (void *)o->proxy_to[i];
        int st = ipcn_offer(c->node, o->proxy_from[i], NULL, on_proxy_request, pxu[i]);
        if (st != IPCN_OK)
            rc = cli_fail(st, "cannot offer %s (the proxy of %s)", px[i][0], px[i][1]);
    }
    uint64_t flush_ns = (uint64_t)(o->flush_s * 1e9);
    uint64_t end = o->duration_s > 0 ? r.mono0 + (uint64_t)(o->duration_s * 1e9) : 0;
    r.last_flush = mono_ns();
    while (!rc && !cli_stop && !r.err) {
        cli_pump(c, 20, NULL, 0);
        uint64_t now = mono_ns();
        if (mcap_writer_pending(r.w) && now - r.last_flush >= flush_ns) {
            int f = mcap_writer_flush(r.w);
            if (f)
                r.err = cli_fail(IPCN_INTERNAL_ERROR, "cannot write %s: %s", r.file,
                                 mcap_strerror(f));
            r.last_flush = now;
        }
        if (!mcap_writer_pending(r.w))
            r.last_flush = now;
        if ((o->split_mb > 0 && mcap_writer_offset(r.w) >= o->split_mb * 1e6) ||
            (o->split_s > 0 && now - r.file_mono0 >= o->split_s * 1e9)) {
            r.file_no++;
            if ((rc = close_file(&r)) == 0)
                rc = open_file(&r);
        }
        if (end && now >= end)
            break;
    }
    cli_close(c); /* no callback of r after this */
    while (r.calls) { /* passed on, never answered */
        proxy_call *pc = r.calls;
        r.calls = pc->next;
        free(pc);
    }
    int crc = close_file(&r);
    if (!rc)
        rc = r.err ? r.err : crc;
    if (!c->json)
        fprintf(stderr, "recorded %" PRIu64 " messages (%" PRIu64 " bytes) on %zu channels into %"
                PRIu64 " file%s\n", r.msgs, r.bytes, r.nch, r.files, r.files == 1 ? "" : "s");
    for (size_t i = 0; i < r.nch; i++) {
        free(r.ch[i].path);
        free(r.ch[i].enc);
        free(r.ch[i].provider);
        free(r.ch[i].proxy);
        free(r.ch[i].meta_hex);
    }
    free(r.ch);
    return rc;
}

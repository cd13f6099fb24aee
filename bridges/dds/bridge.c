/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/bridge.c - what crosses the DDS bridge (bridge.h): IPCNet
 * streams and data to rt/<path> topics, rt/ topics to IPCNet streams.
 * Services are in bridge_svc.c.
 */
#include "bridge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipcnet_msgs.h"

void ddsb_svc_scan(ddsb_bridge *b);
int ddsb_svc_start(ddsb_bridge *b);
void ddsb_svc_take(ddsb_bridge *b);
void ddsb_svc_stop(ddsb_bridge *b);

__attribute__((format(printf, 2, 3)))
static void logf_(ddsb_bridge *b, const char *fmt, ...)
{
    if (!b->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ipcnet-bridge-dds: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* "rt/" + path: the topic a ROS 2 node names /path. */
static int topic_name(char *buf, size_t cap, const char *prefix,
                      const char *path, const char *suffix)
{
    int n = snprintf(buf, cap, "%s%s%s", prefix, path, suffix);
    return n > 0 && (size_t)n < cap ? IPCN_OK : IPCN_BAD_REQUEST;
}

int ddsb_ros_name(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    if (n == 0 || n >= cap)
        return IPCN_BAD_REQUEST;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '-' || c == '.')
            out[i] = '_';
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '/')
            out[i] = (char)c;
        else
            return IPCN_BAD_REQUEST; /* non-ASCII, or a byte ROS 2 refuses */
    }
    out[n] = 0;
    return IPCN_OK;
}

uint64_t ddsb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

dds_entity_t ddsb_endpoint(ddsb_bridge *b, const dds_topic_descriptor_t *desc,
                           const char *topic, int writer, int reliable,
                           int transient, uint32_t depth)
{
    dds_entity_t t = dds_create_topic(b->participant, desc, topic, NULL, NULL);
    if (t < 0) {
        fprintf(stderr, "ipcnet-bridge-dds: topic %s (%s): %s\n", topic,
                desc->m_typename, dds_strretcode(t));
        return t;
    }
    dds_qos_t *q = dds_create_qos();
    dds_qset_reliability(q, reliable ? DDS_RELIABILITY_RELIABLE
                                     : DDS_RELIABILITY_BEST_EFFORT,
                         DDS_SECS(1));
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, (int32_t)(depth ? depth : 1));
    dds_qset_durability(q, transient ? DDS_DURABILITY_TRANSIENT_LOCAL
                                     : DDS_DURABILITY_VOLATILE);
    dds_entity_t e;
    if (writer) {
        e = dds_create_writer(b->participant, t, q, NULL);
    } else {
        /* our own writers' samples are not read back (no loop when a
         * topic is both imported and exported) */
        dds_qset_ignorelocal(q, DDS_IGNORELOCAL_PARTICIPANT);
        e = dds_create_reader(b->participant, t, q, NULL);
    }
    dds_delete_qos(q);
    if (e < 0)
        fprintf(stderr, "ipcnet-bridge-dds: %s of %s: %s\n",
                writer ? "writer" : "reader", topic, dds_strretcode(e));
    return e;
}

/* ---- export: IPCNet -> DDS ------------------------------------------ */

static const ddsb_rule *export_rule(ddsb_bridge *b, const char *path)
{
    for (unsigned i = 0; i < b->n_exports; i++)
        if (ipcn_pattern_match(b->exports[i].pattern, path))
            return &b->exports[i];
    return NULL;
}

/* Make x's writer; on failure (Cyclone refused it) tried again after
 * DDSB_RETRY_MS.  Under b->lock. */
static int export_writer(ddsb_bridge *b, ddsb_export *x)
{
    char topic[300];
    if (topic_name(topic, sizeof topic, "rt/", x->topic, "") != IPCN_OK)
        return IPCN_BAD_REQUEST;
    /* a data resource is latched (docs/protocol.md 10.5): its DDS writer
     * keeps the last value for late readers, and is reliable whatever
     * --best-effort says (a best-effort writer matches no reliable
     * transient-local reader: the latch would be lost) */
    x->writer = ddsb_endpoint(b, x->type->desc, topic, 1,
                              x->kind == IPCN_DATA || !b->best_effort,
                              x->kind == IPCN_DATA,
                              x->kind == IPCN_DATA ? 1 : b->depth);
    if (x->writer <= 0) {
        x->writer = -1;
        x->retry_ms = ddsb_now_ms() + DDSB_RETRY_MS;
        fprintf(stderr, "ipcnet-bridge-dds: %s: no writer for %s; tried again "
                        "in %d ms\n", x->path, topic, DDSB_RETRY_MS);
        return IPCN_BAD_GATEWAY;
    }
    logf_(b, "export %s as %s", topic, ddsb_type_dds_name(x->type));
    return IPCN_OK;
}

/* The entry of path, made when first seen (its writer too); NULL when no
 * --export matches it or the table is full.  Under b->lock. */
static ddsb_export *export_get(ddsb_bridge *b, const char *path,
                               ipcn_kind kind, const char *encoding)
{
    for (unsigned i = 0; i < b->n_ex; i++) {
        ddsb_export *x = &b->ex[i];
        if (strcmp(x->path, path))
            continue;
        if (x->writer <= 0 && !x->refused && ddsb_now_ms() >= x->retry_ms)
            export_writer(b, x);
        return x;
    }
    const ddsb_rule *r = export_rule(b, path);
    if (!r)
        return NULL;
    if (b->n_ex == DDSB_MAX_TOPICS) {
        if (!b->ex_full_logged)
            fprintf(stderr, "ipcnet-bridge-dds: %s: not exported: already %d "
                            "topics (the limit; further paths are counted "
                            "refused)\n", path, DDSB_MAX_TOPICS);
        b->ex_full_logged = 1;
        return NULL;
    }
    ddsb_export *x = &b->ex[b->n_ex];
    memset(x, 0, sizeof *x);
    x->path = strdup(path);
    x->topic = malloc(strlen(path) + 1);
    if (!x->path || !x->topic) {
        free(x->path);
        free(x->topic);
        return NULL;
    }
    b->n_ex++;
    x->kind = kind;
    x->writer = -1;
    x->type = r->type ? r->type : ddsb_type_for_encoding(encoding);
    /* a path whose topic name DDS refuses, or whose name another path
     * maps to already, is never exported: logged once, counted */
    if (ddsb_ros_name(path, x->topic, strlen(path) + 1) != IPCN_OK) {
        x->refused = 1;
        x->topic[0] = 0;
        fprintf(stderr, "ipcnet-bridge-dds: %s: not exported: a byte a ROS 2 "
                        "name cannot hold (only A-Z a-z 0-9 _ / - .)\n", path);
    } else {
        for (unsigned i = 0; i + 1 < b->n_ex && !x->refused; i++)
            if (!strcmp(b->ex[i].topic, x->topic)) {
                x->refused = 1;
                fprintf(stderr, "ipcnet-bridge-dds: %s: not exported: its topic "
                                "rt/%s is %s's already\n", path, x->topic,
                        b->ex[i].path);
            }
    }
    if (x->refused)
        b->st.refused++;
    else
        export_writer(b, x);
    return x;
}

static ipcn_kind kind_of(ddsb_bridge *b, const char *path)
{
    ipcn_resource_list *l = NULL;
    ipcn_kind k = IPCN_STREAM;
    char pat[300];
    /* a path has no '*' segment: it is a pattern matching only itself */
    snprintf(pat, sizeof pat, "/%s", path);
    if (ipcn_find(b->node, pat, IPCN_ANY, &l) == IPCN_OK && l->count)
        k = l->items[0].kind;
    ipcn_resource_list_free(l);
    return k;
}

static void on_sample(ipcn_node *node, const ipcn_msg *msg, void *user)
{
    const struct ddsb_sub_ctx *ctx = user;
    ddsb_bridge *b = ctx->b;
    if (msg->status != IPCN_OK || msg->src_id == ipcn_node_id(node))
        return;
    /* a path several --export patterns match is written once: by the
     * subscription of the first of them */
    if (export_rule(b, msg->path) != &b->exports[ctx->rule])
        return;
    /* the writer looked up (or made) under the lock; the conversion and
     * dds_write() outside it (a reliable writer may block up to its
     * max_blocking_time; the main thread must not wait for that).  An
     * entry is never moved or freed before ddsb_stop(). */
    pthread_mutex_lock(&b->lock);
    ddsb_export *x = NULL;
    for (unsigned i = 0; i < b->n_ex && !x; i++)
        if (!strcmp(b->ex[i].path, msg->path))
            x = &b->ex[i];
    if (x)
        x = export_get(b, msg->path, x->kind, msg->encoding);
    pthread_mutex_unlock(&b->lock);
    if (!x) {
        /* first seen: its kind asked of the directory (ipcn_find) outside
         * the lock */
        ipcn_kind kind = kind_of(b, msg->path);
        pthread_mutex_lock(&b->lock);
        x = export_get(b, msg->path, kind, msg->encoding);
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_lock(&b->lock);
    dds_entity_t writer = x ? x->writer : -1;
    const ddsb_type *type = x ? x->type : NULL;
    pthread_mutex_unlock(&b->lock);
    if (writer <= 0) {
        /* no writer: the name refused, the table full, or Cyclone
         * refused the writer (tried again later) */
        b->st.dropped++;
        return;
    }
    void *sample = calloc(1, type->desc->m_size);
    ddsb_arena a = {0};
    int st = sample ? type->to_dds(msg->data, msg->len, msg->encoding, sample, &a)
                    : IPCN_INSUFFICIENT_MEMORY;
    if (st == IPCN_OK) {
        dds_return_t r = dds_write(writer, sample);
        if (r < 0)
            b->st.write_failed++;
        else
            b->st.exported++;
    } else {
        b->st.unconvertible++;
        if (b->verbose)
            fprintf(stderr, "ipcnet-bridge-dds: %s: a value that is no %s (%d)\n",
                    msg->path, type->ros_name, st);
    }
    ddsb_arena_free(&a);
    free(sample);
}

/* New IPCNet resources matching --export: their writers now, so that DDS
 * readers match before the first sample. */
static void export_scan(ddsb_bridge *b)
{
    for (unsigned i = 0; i < b->n_exports; i++) {
        ipcn_resource_list *l = NULL;
        if (ipcn_find(b->node, b->exports[i].pattern, IPCN_ANY, &l) != IPCN_OK)
            continue;
        pthread_mutex_lock(&b->lock);
        for (size_t k = 0; k < l->count; k++) {
            const ipcn_resource *r = &l->items[k];
            if (r->kind != IPCN_SERVICE && r->provider_id != ipcn_node_id(b->node))
                export_get(b, r->path, r->kind, r->encoding);
        }
        pthread_mutex_unlock(&b->lock);
        ipcn_resource_list_free(l);
    }
}

/* ---- import: DDS -> IPCNet ------------------------------------------ */

static int import_start(ddsb_bridge *b, const ddsb_rule *r)
{
    if (b->n_im == DDSB_MAX_TOPICS)
        return IPCN_INSUFFICIENT_STORAGE;
    ddsb_import *m = &b->im[b->n_im];
    char topic[300];
    if (topic_name(topic, sizeof topic, "rt/", r->pattern, "") != IPCN_OK)
        return IPCN_BAD_REQUEST;
    m->type = r->type;
    m->path = strdup(r->path);
    if (!m->path)
        return IPCN_INSUFFICIENT_MEMORY;
    b->n_im++;
    int st = ipcn_announce(b->node, m->path, IPCN_STREAM, m->type->encoding,
                           NULL, 0);
    if (!IPCN_IS_OK(st)) {
        fprintf(stderr, "ipcnet-bridge-dds: announce %s: %s\n", m->path,
                ipcn_status_str(st));
        return st;
    }
    m->reader = ddsb_endpoint(b, m->type->desc, topic, 0, !b->best_effort, 0,
                              b->depth);
    if (m->reader < 0)
        return IPCN_BAD_GATEWAY;
    dds_entity_t rc = dds_create_readcondition(m->reader, DDS_ANY_STATE);
    dds_waitset_attach(b->waitset, rc, 0);
    logf_(b, "import %s to %s", topic, m->path);
    return IPCN_OK;
}

static dds_return_t import_take16(ddsb_bridge *b, ddsb_import *m);

/* Samples the reader of m lost (its history full, or never received) or
 * rejected since the last call: counted. */
static void import_losses(ddsb_bridge *b, ddsb_import *m)
{
    dds_sample_lost_status_t lost;
    dds_sample_rejected_status_t rej;
    if (dds_get_sample_lost_status(m->reader, &lost) == DDS_RETCODE_OK)
        b->st.dds_lost += lost.total_count_change;
    if (dds_get_sample_rejected_status(m->reader, &rej) == DDS_RETCODE_OK)
        b->st.dds_lost += rej.total_count_change;
}

/* Everything the reader of m holds, 16 at a time (at most its history,
 * --depth, is there). */
static void import_take(ddsb_bridge *b, ddsb_import *m)
{
    enum { N = 16 };
    dds_return_t n;
    do {
        n = import_take16(b, m);
    } while (n == N);
    import_losses(b, m);
}

static dds_return_t import_take16(ddsb_bridge *b, ddsb_import *m)
{
    enum { N = 16 };
    void *samples[N] = {NULL};
    dds_sample_info_t info[N];
    dds_return_t n = dds_take(m->reader, samples, info, N, N);
    for (dds_return_t i = 0; i < n; i++) {
        if (!info[i].valid_data)
            continue;
        uint8_t *out = NULL;
        size_t len = 0;
        int st = m->type->to_ipcn(samples[i], &out, &len);
        if (st != IPCN_OK) {
            b->st.unconvertible++;
            free(out);
            continue;
        }
        if (m->type->desc == &ipcnet_msgs_msg_dds__Cbor__desc) {
            /* the value's own encoding: announced again when it changes */
            const char *enc = ((ipcnet_msgs_msg_dds__Cbor_ *)samples[i])->encoding;
            enc = enc ? enc : "";
            if (!m->announced_enc || strcmp(m->announced_enc, enc)) {
                /* an encoding IPCNet refuses (200: too long, a control
                 * byte): the sample is not published under the old one */
                int ast = ipcn_announce(b->node, m->path, IPCN_STREAM, enc, NULL, 0);
                char *dup = IPCN_IS_OK(ast) ? strdup(enc) : NULL;
                if (!dup) {
                    if (b->verbose)
                        fprintf(stderr, "ipcnet-bridge-dds: %s: encoding not "
                                        "announced (%d): sample dropped\n",
                                m->path, ast);
                    b->st.unconvertible++;
                    free(out);
                    continue;
                }
                free(m->announced_enc);
                m->announced_enc = dup;
            }
        }
        st = ipcn_publish(b->node, m->path, out, len);
        if (IPCN_IS_OK(st))
            b->st.imported++;
        else
            b->st.write_failed++;
        free(out);
    }
    if (n > 0)
        dds_return_loan(m->reader, samples, n);
    return n;
}

/* ---- the whole ------------------------------------------------------ */

int ddsb_start(ddsb_bridge *b)
{
    pthread_mutex_init(&b->lock, NULL);
    b->waitset = dds_create_waitset(b->participant);
    if (b->waitset < 0)
        return IPCN_BAD_GATEWAY;
    for (unsigned i = 0; i < b->n_imports; i++) {
        int st = import_start(b, &b->imports[i]);
        if (st != IPCN_OK)
            return st;
    }
    int st = ddsb_svc_start(b);
    if (st != IPCN_OK)
        return st;
    export_scan(b);
    for (unsigned i = 0; i < b->n_exports; i++) {
        b->sub_ctx[i].b = b;
        b->sub_ctx[i].rule = i;
        st = ipcn_subscribe(b->node, b->exports[i].pattern, b->depth, on_sample,
                            &b->sub_ctx[i], &b->subs[i]);
        if (st != IPCN_OK) {
            fprintf(stderr, "ipcnet-bridge-dds: subscribe %s: %s\n",
                    b->exports[i].pattern, ipcn_status_str(st));
            return st;
        }
    }
    return IPCN_OK;
}

void ddsb_poll(ddsb_bridge *b, int wait_ms)
{
    static uint64_t last_scan;
    uint64_t t = ddsb_now_ms();
    if (t - last_scan >= 250) {
        last_scan = t;
        export_scan(b);
        ddsb_svc_scan(b);
    }
    dds_waitset_wait(b->waitset, NULL, 0, DDS_MSECS(wait_ms));
    for (unsigned i = 0; i < b->n_im; i++)
        if (b->im[i].reader > 0)
            import_take(b, &b->im[i]);
    ddsb_svc_take(b);
}

void ddsb_print_stats(ddsb_bridge *b)
{
    uint64_t q_dropped = 0, q_lost = 0;
    for (unsigned i = 0; i < b->n_exports; i++) {
        ipcn_sub_stats ss;
        memset(&ss, 0, sizeof ss);
        ss.size = sizeof ss;
        if (ipcn_sub_get_stats(b->node, b->subs[i], &ss) == IPCN_OK) {
            q_dropped += ss.dropped;
            q_lost += ss.lost;
        }
    }
    fprintf(stderr, "ipcnet-bridge-dds: exported %llu, imported %llu, "
                    "unconvertible %llu, write failures %llu, requests to DDS "
                    "%llu, from DDS %llu, replies %llu, timeouts %llu, "
                    "bad replies %llu, no server %llu, too many %llu, refused "
                    "%llu, dropped "
                    "%llu, DDS lost %llu, IPCNet queue dropped %llu, lost %llu\n",
            (unsigned long long)b->st.exported, (unsigned long long)b->st.imported,
            (unsigned long long)b->st.unconvertible,
            (unsigned long long)b->st.write_failed,
            (unsigned long long)b->st.requests_out,
            (unsigned long long)b->st.requests_in,
            (unsigned long long)b->st.replies, (unsigned long long)b->st.timeouts,
            (unsigned long long)b->st.bad_replies,
            (unsigned long long)b->st.no_server,
            (unsigned long long)b->st.too_many, (unsigned long long)b->st.refused, (unsigned long long)b->st.dropped,
            (unsigned long long)b->st.dds_lost, (unsigned long long)q_dropped,
            (unsigned long long)q_lost);
}

void ddsb_stop(ddsb_bridge *b)
{
    for (unsigned i = 0; i < b->n_exports; i++)
        ipcn_unsubscribe(b->node, b->subs[i]);
    ddsb_svc_stop(b);
    for (unsigned i = 0; i < b->n_ex; i++) {
        free(b->ex[i].path);
        free(b->ex[i].topic);
    }
    for (unsigned i = 0; i < b->n_im; i++) {
        free(b->im[i].path);
        free(b->im[i].announced_enc);
    }
    pthread_mutex_destroy(&b->lock);
}

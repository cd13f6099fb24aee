/* SPDX-License-Identifier: MIT */
/*
 * export.c — IPCNet resources to MQTT: a subscription per --export
 * pattern; each sample of a stream or data resource becomes a publication
 * on PREFIX + path, a data resource's retained (a dashboard that connects
 * later sees the current value).  The bridge's node is a principal like
 * any other: a resource it may not read is not in its directory, so it is
 * never subscribed to nor exported (its provider counts and logs the
 * refusal, ipcn_node_stats.denied, IPCN-POLICY-DENY).  A resource that
 * an MQTT bridge imported (its announce meta carries BR_META_IMPORTED,
 * import.c) is never exported: counted in loops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "ipcnet_value.h"

struct br_kind {
    char *path;
    uint64_t provider;
    ipcn_kind kind;
    bool bridged; /* announced by a bridge that imported it (BR_META_IMPORTED) */
};

static bool has_mark(const void *meta, size_t len)
{
    size_t ml = sizeof BR_META_IMPORTED - 1;
    if (!meta || len < ml)
        return false;
    for (size_t i = 0; i + ml <= len; i++)
        if (!memcmp((const char *)meta + i, BR_META_IMPORTED, ml))
            return true;
    return false;
}

/* What this node knows of path as announced by the node provider: its
 * kind, and whether a bridge imported it (cached; the directory is local). */
static struct br_kind kind_of(bridge *b, const char *path, uint64_t provider)
{
    struct br_kind r = {NULL, provider, IPCN_STREAM, false};
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->nkinds; i++)
        if (b->kinds[i].provider == provider && !strcmp(b->kinds[i].path, path)) {
            r = b->kinds[i];
            pthread_mutex_unlock(&b->lock);
            return r;
        }
    pthread_mutex_unlock(&b->lock);
    char abs[300];
    snprintf(abs, sizeof abs, "/%s", path);
    ipcn_resource_list *l = NULL;
    bool found = false;
    if (ipcn_find(b->node, abs, IPCN_ANY, &l) == IPCN_OK && l->count) {
        r.kind = l->items[0].kind;
        for (size_t i = 0; i < l->count && !found; i++)
            if (l->items[i].provider_id == provider) {
                r.kind = l->items[i].kind;
                r.bridged = has_mark(l->items[i].meta, l->items[i].meta_len);
                found = true;
            }
    }
    ipcn_resource_list_free(l);
    if (!found)
        return r; /* not known from that provider now: not cached */
    pthread_mutex_lock(&b->lock);
    if (b->nkinds == b->capkinds) {
        size_t cap = b->capkinds ? b->capkinds * 2 : 16;
        struct br_kind *n = realloc(b->kinds, cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&b->lock);
            return r;
        }
        b->kinds = n;
        b->capkinds = cap;
    }
    b->kinds[b->nkinds] = r;
    b->kinds[b->nkinds].path = strdup(path);
    if (b->kinds[b->nkinds].path)
        b->nkinds++;
    pthread_mutex_unlock(&b->lock);
    return r;
}

static bool is_cbor(const char *enc)
{
    return enc && (!strcmp(enc, "cbor") || !strcmp(enc, "application/cbor"));
}

static void on_sample(ipcn_node *n, const ipcn_msg *msg, void *user)
{
    bridge *b = user;
    (void)n;
    if (msg->status != IPCN_OK)
        return; /* a provider withdrew a resource: its retained value stays */
    if (msg->src_id == ipcn_node_id(b->node)) {
        /* the bridge's own counters (--stats): not exported, since each
         * export would change them again */
        if (b->o.stats_path && !strcmp(msg->path, b->o.stats_path))
            return;
        /* a sample this bridge imported from MQTT: never back out */
        br_count(b, &b->c.loops);
        return;
    }
    struct br_kind k = kind_of(b, msg->path, msg->src_id);
    if (k.bridged) {
        /* imported from MQTT by another bridge of this network: exporting
         * it would send it back where it came from (a loop) */
        br_count(b, &b->c.loops);
        return;
    }
    char topic[600];
    if (!br_topic(b, NULL, msg->path, topic, sizeof topic)) {
        br_log("export %s: topic too long, not exported", msg->path);
        br_count(b, &b->c.export_errors);
        return;
    }
    bool retain = k.kind == IPCN_DATA;
    const char *ctype = msg->encoding;
    const void *data = msg->data;
    size_t len = msg->len;
    char *json = NULL;
    if (is_cbor(msg->encoding)) {
        ctype = "application/cbor";
        size_t need = 0;
        if (b->o.json && ipcn_cbor_to_json(msg->data, msg->len, 0, NULL, 0, &need) == IPCN_OK &&
            (json = malloc(need + 1)) &&
            ipcn_cbor_to_json(msg->data, msg->len, 0, json, need + 1, &need) == IPCN_OK) {
            data = json;
            len = need;
            ctype = "application/json";
        }
    }
    if (br_out_push(b, topic, data, len, retain, ctype, msg->src_name, msg->seq, NULL, 0,
                    NULL, NULL)) {
        pthread_mutex_lock(&b->lock);
        b->c.exported++;
        pthread_mutex_unlock(&b->lock);
    }
    free(json);
}

int br_export_start(bridge *b)
{
    for (int i = 0; i < b->o.nexports; i++) {
        ipcn_sub s;
        /* A deep queue: a burst of samples waits here while the broker
         * takes them; what still overflows is counted (sub_dropped). */
        int st = ipcn_subscribe(b->node, b->o.exports[i], BR_SUB_QUEUE, on_sample, b, &s);
        if (st != IPCN_OK) {
            br_log("--export %s: %d %s", b->o.exports[i], st, ipcn_status_str(st));
            return st;
        }
        b->subs[b->nsubs++] = s;
    }
    return IPCN_OK;
}

void br_export_free(bridge *b)
{
    for (size_t i = 0; i < b->nkinds; i++)
        free(b->kinds[i].path);
    free(b->kinds);
    b->kinds = NULL;
    b->nkinds = b->capkinds = 0;
}

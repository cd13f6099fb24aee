/* SPDX-License-Identifier: MIT */
/*
 * prov_verify.c — checking a sample's provenance back to its origins, and
 * its lineage as W3C PROV-JSON (ipcnet_prov.h; docs/protocol.md 20.6).
 * A record is trusted only as its producer serves it: the proof comes
 * from "@sys/<node>/prov" over this node's authenticated link to that
 * node (the answer's source must be the record's node id), and its chain
 * must reach a checkpoint that verifies under the key in it.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/prov.h"
#include "ipcnet_value.h"
#include "msg/msg.h"
#include "transport/link.h"
#include "util/util.h"
#include "wire/wire_impl.h"

#define WALK_MAX_RECORDS 64u
#define WALK_MAX_DEPTH 16u

/* One record of the walk: its bytes as its producer serves them. */
typedef struct wrec {
    ipcn_prov_record r;
    uint32_t depth;
} wrec;

typedef struct walk {
    ipcn_node *n;
    uint64_t deadline_ns; /* one deadline for the whole walk */
    ipcn_prov_report *rep;
    wrec *recs;
    uint32_t count;
} walk;

/* What is left of the walk's time in ms: -1 when it has none (a negative
 * timeout: wait forever), else 0 when it is over (a last attempt fails
 * at once). */
static int left_ms(const walk *w)
{
    if (w->deadline_ns == UINT64_MAX)
        return -1;
    uint64_t now = ipcn__now_mono_ns();
    if (now >= w->deadline_ns)
        return 0;
    uint64_t ms = (w->deadline_ns - now + 999999u) / 1000000u;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static uint64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX
                          : ipcn__now_mono_ns() + (uint64_t)timeout_ms * 1000000u;
}

static int fail(walk *w, int st, uint64_t node, uint64_t index,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(walk *w, int st, uint64_t node, uint64_t index,
                const char *fmt, ...)
{
    if (w->rep && w->rep->bad_status == IPCN_OK) {
        w->rep->bad_status = st;
        w->rep->bad_node = node;
        w->rep->bad_index = index;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->rep->reason, sizeof w->rep->reason, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* A link's name is the record's node name: the same, or "name@host"
 * for a node of another host. */
static bool name_is(const char *link_name, const char *rec_node)
{
    size_t k = strlen(rec_node);
    return !strncmp(link_name, rec_node, k) &&
           (link_name[k] == 0 || link_name[k] == '@');
}

/* The name of the node of id, as this node knows it (its own, a link's;
 * a HELLO may not take a linked node's id, 7.3, so at most one link has
 * it), and when rec_node is given, only if that name is the record's
 * node name (protected by its lock, 7.3): 100; 201 when id is linked
 * under another name, or rec_node (given) is linked with another id;
 * 203 when neither is linked. */
static int name_of_as(ipcn_node *n, uint64_t id, const char *rec_node,
                      char out[IPCN_NAME_MAX + 1])
{
    int st = IPCN_NOT_FOUND;
    ipcn__node_lock(n);
    if (id == n->id) {
        st = IPCN_UNAUTHORIZED;
        if (!rec_node || !strcmp(rec_node, n->name)) {
            snprintf(out, IPCN_NAME_MAX + 1, "%s", n->name);
            st = IPCN_OK;
        }
    } else {
        ipcn__link *l;
        ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
            if (l->state != LINK_UP || !l->who.name ||
                strlen(l->who.name) > IPCN_NAME_MAX)
                continue;
            bool named = rec_node && name_is(l->who.name, rec_node);
            if (l->who.node_id == id && (!rec_node || named)) {
                snprintf(out, IPCN_NAME_MAX + 1, "%s", l->who.name);
                st = IPCN_OK;
                break;
            }
            if (l->who.node_id == id || named)
                st = IPCN_UNAUTHORIZED;
        }
        if (st == IPCN_NOT_FOUND && rec_node && !strcmp(rec_node, n->name))
            st = IPCN_UNAUTHORIZED;
    }
    ipcn__node_unlock(n);
    return st;
}

static int name_of(ipcn_node *n, uint64_t id, char out[IPCN_NAME_MAX + 1])
{
    return name_of_as(n, id, NULL, out);
}

/* Fetch and check record index of node_id.  rec_node: the node name the
 * sample's own record gives (NULL for a parent, known by id only); the
 * producer is the linked node of that id whose name (protected by its
 * lock) is the record's node name, and the record served must say both.
 * carried: the bytes a sample came with, which must be the ones served
 * (NULL: none to compare).  100 with *out, or a failure. */
static int fetch(walk *w, uint64_t node_id, const char *rec_node,
                 uint64_t index, const uint8_t *carried, size_t carried_len,
                 ipcn_prov_record *out)
{
    char nm[IPCN_NAME_MAX + 1], path[IPCN_NAME_MAX + 16];
    const char *name;
    /* A producer of a parent may not be linked yet when the sample came
     * first: wait for it (to the walk's deadline), doing I/O only (no
     * callbacks). */
    uint64_t wait_end = w->deadline_ns != UINT64_MAX
                            ? w->deadline_ns
                            : ipcn__now_mono_ns() + 5000000000u;
    int got;
    while ((got = name_of_as(w->n, node_id, rec_node, nm)) == IPCN_NOT_FOUND &&
           ipcn__now_mono_ns() < wait_end &&
           ipcn_node_wait_peers(w->n, UINT32_MAX, 20) == IPCN_GATEWAY_TIMEOUT)
        ;
    if (got == IPCN_UNAUTHORIZED)
        return fail(w, IPCN_UNAUTHORIZED, node_id, index,
                    "node %016" PRIx64 " is not the linked node %s",
                    node_id, rec_node ? rec_node : "of that id");
    if (got != IPCN_OK)
        return fail(w, IPCN_NOT_FOUND, node_id, index,
                    rec_node ? "no linked node %s has id %016" PRIx64
                             : "%snode %016" PRIx64 " is not linked",
                    rec_node ? rec_node : "", node_id);
    name = nm;
    snprintf(path, sizeof path, "@sys/%s/prov", name);
    uint8_t body[8];
    st64(body, index);
    ipcn_msg *m = NULL;
    int st;
    /* 205: the producer signed a checkpoint less than 10 ms ago (20.5);
     * ask again, within the walk's time. */
    while ((st = ipcn_request(w->n, path, body, 8, "application/octet-stream",
                              &m, left_ms(w))) == IPCN_TOO_MANY_REQUESTS &&
           left_ms(w) != 0) {
        ipcn_msg_free(m);
        m = NULL;
        struct timespec ts = {0, 11000000};
        nanosleep(&ts, NULL);
    }
    if (st != IPCN_OK) {
        ipcn_msg_free(m);
        if (st == IPCN_INSUFFICIENT_MEMORY || st == IPCN_GATEWAY_TIMEOUT)
            return fail(w, st, node_id, index, "%s: %s", path,
                        ipcn_status_str(st));
        return fail(w, IPCN_NOT_FOUND, node_id, index,
                    "%s record %" PRIu64 ": %s", path, index,
                    ipcn_status_str(st));
    }
    const uint8_t *rec;
    uint32_t rl;
    if (m->src_id != node_id)
        st = fail(w, IPCN_UNAUTHORIZED, node_id, index,
                  "%s is not node %016" PRIx64, name, node_id);
    else {
        const char *why = NULL;
        st = ipcn__prov_check_proof(m->data, m->len, node_id, index, out,
                                    &rec, &rl, &why);
        if (st != IPCN_OK)
            st = fail(w, st, node_id, index, "record %" PRIu64 " of %s: %s",
                      index, name, why);
        else if (!name_is(name, out->node) ||
                 (rec_node && strcmp(out->node, rec_node)))
            st = fail(w, IPCN_UNAUTHORIZED, node_id, index,
                      "record %" PRIu64 " served by %s names node %s", index,
                      name, out->node);
        else if ((st = ipcn__prov_pin(w->n, name, node_id, index, m->data,
                                      m->len, &why)) != IPCN_OK)
            st = fail(w, st, node_id, index, "record %" PRIu64 " of %s: %s",
                      index, name, why ? why : ipcn_status_str(st));
    }
    if (st == IPCN_OK && carried &&
        (rl != carried_len || memcmp(rec, carried, rl)))
        st = fail(w, IPCN_UNAUTHORIZED, node_id, index,
                  "the record the sample carries is not the one %s made",
                  name);
    ipcn_msg_free(m);
    return st;
}

static bool ref_matches(const ipcn_prov_ref *ref, const ipcn_prov_record *r)
{
    return r->node_id == ref->node_id && r->index == ref->index &&
           r->seq == ref->seq && !memcmp(r->path_hash, ref->path_hash, 32) &&
           !memcmp(r->digest, ref->digest, 32);
}

/* Walk msg's lineage: every record fetched, checked, and linked to its
 * child's reference.  100 with w->recs[0..count), or a failure. */
static int walk_all(walk *w, const uint8_t *bytes, size_t len,
                    const void *data, size_t data_len)
{
    int st;
    ipcn_prov_record top;
    if (ipcn__prov_decode(bytes, len, &top) != IPCN_OK)
        return fail(w, IPCN_BAD_REQUEST, 0, 0, "the record does not decode");
    uint8_t d[32];
    ipcn__prov_hash(d, data, data_len);
    if (memcmp(d, top.digest, 32))
        return fail(w, IPCN_FORBIDDEN, top.node_id, top.index,
                    "the payload is not the one %s recorded (seq %" PRIu64
                    ")", top.node, top.seq);
    w->recs = ipcn__calloc(WALK_MAX_RECORDS, sizeof *w->recs);
    if (!w->recs)
        return IPCN_INSUFFICIENT_MEMORY;
    if ((st = fetch(w, top.node_id, top.node, top.index, bytes, len,
                    &w->recs[0].r)) != IPCN_OK)
        return st;
    w->count = 1;
    for (uint32_t i = 0; i < w->count; i++) {
        const wrec *c = &w->recs[i];
        const ipcn_prov_record *r = &c->r;
        if (w->rep && c->depth > w->rep->depth)
            w->rep->depth = c->depth;
        for (uint32_t k = 0; k < r->nparents; k++) {
            const ipcn_prov_ref *ref = &r->parents[k];
            /* A node's parent on its own chain came before it: a record
             * naming itself (or a later one of its node) is a lie. */
            if (ref->node_id == r->node_id && ref->index >= r->index)
                return fail(w, IPCN_UNAUTHORIZED, r->node_id, r->index,
                            "%s names its own record %" PRIu64
                            " or a later one as its parent", r->node,
                            ref->index);
            wrec *p = NULL;
            for (uint32_t j = 0; j < w->count && !p; j++)
                if (w->recs[j].r.node_id == ref->node_id &&
                    w->recs[j].r.index == ref->index)
                    p = &w->recs[j];
            if (!p) {
                if (w->count == WALK_MAX_RECORDS ||
                    c->depth + 1 > WALK_MAX_DEPTH)
                    return fail(w, IPCN_INSUFFICIENT_STORAGE, r->node_id,
                                r->index,
                                "the lineage is over %u records or %u stages",
                                WALK_MAX_RECORDS, WALK_MAX_DEPTH);
                p = &w->recs[w->count];
                if ((st = fetch(w, ref->node_id, NULL, ref->index, NULL, 0,
                                &p->r)) != IPCN_OK)
                    return st;
                p->depth = c->depth + 1;
                w->count++;
            }
            /* Against the parent as its producer serves it (fetched now
             * or earlier in a diamond), never against what the child
             * says of it. */
            if (k == 0 && (r->flags & IPCN_PROV_PASSTHROUGH) &&
                memcmp(r->digest, p->r.digest, 32))
                return fail(w, IPCN_FORBIDDEN, r->node_id, r->index,
                            "%s declares a pass-through of seq %" PRIu64
                            " but changed the payload", r->node, p->r.seq);
            if (!ref_matches(ref, &p->r))
                return fail(w, IPCN_UNAUTHORIZED, r->node_id, r->index,
                            "%s names a parent (seq %" PRIu64
                            ") that its producer did not make", r->node,
                            ref->seq);
        }
    }
    return IPCN_OK;
}

IPCN_API int ipcn_prov_verify_record(ipcn_node *n, const uint8_t *rec,
                                     size_t rec_len, const void *data,
                                     size_t len, int timeout_ms,
                                     ipcn_prov_report *report)
{
    if (!n || !rec || (len && !data))
        return IPCN_BAD_REQUEST;
    ipcn_prov_report rep;
    memset(&rep, 0, sizeof rep);
    rep.bad_status = IPCN_OK;
    walk w = {.n = n, .deadline_ns = deadline_of(timeout_ms), .rep = &rep};
    int st = walk_all(&w, rec, rec_len, len ? data : "", len);
    rep.records = w.count;
    ipcn__free(w.recs);
    if (report)
        *report = rep;
    return st;
}

IPCN_API int ipcn_prov_verify(ipcn_node *n, const ipcn_msg *msg,
                              int timeout_ms, ipcn_prov_report *report)
{
    const uint8_t *rec;
    size_t rl;
    if (!n || !msg)
        return IPCN_BAD_REQUEST;
    int st = ipcn_msg_provenance(msg, &rec, &rl);
    if (st != IPCN_OK)
        return st;
    return ipcn_prov_verify_record(n, rec, rl, msg->data, msg->len,
                                   timeout_ms, report);
}

/* ---- PROV-JSON ---- */

typedef struct jbuf {
    char *p;
    size_t len, cap;
    int oom;
} jbuf;

static void jputf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jputf(jbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = b->oom ? 0 : vsnprintf(b->p ? b->p + b->len : NULL,
                                       b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (b->oom || k < 0)
            return;
        if (b->p && b->len + (size_t)k < b->cap) {
            b->len += (size_t)k;
            return;
        }
        size_t cap = (b->cap + (size_t)k + 1) * 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* A JSON string of s (node names and principals are plain, but escape). */
static void jstr(jbuf *b, const char *s)
{
    jputf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            jputf(b, "\\%c", c);
        else if (c < 0x20)
            jputf(b, "\\u%04x", c);
        else
            jputf(b, "%c", c);
    }
    jputf(b, "\"");
}

static void jhex(jbuf *b, const uint8_t *p, size_t n)
{
    jputf(b, "\"");
    for (size_t i = 0; i < n; i++)
        jputf(b, "%02x", p[i]);
    jputf(b, "\"");
}

static void jtime(jbuf *b, uint64_t ns)
{
    time_t s = (time_t)(ns / 1000000000u);
    struct tm tm;
    gmtime_r(&s, &tm);
    jputf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%09uZ\"", tm.tm_year + 1900,
          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
          (unsigned)(ns % 1000000000u));
}

#define ENT "\"ipcn:sample/%016" PRIx64 "/%" PRIu64 "\""
#define ACT "\"ipcn:publish/%016" PRIx64 "/%" PRIu64 "\""
#define AGT "\"ipcn:node/%016" PRIx64 "\""

static void export(jbuf *b, const wrec *recs, uint32_t count)
{
    jputf(b, "{\n  \"prefix\": {\"ipcn\": \"urn:ipcnet:\"},\n  \"entity\": {");
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        jputf(b, "%s\n    " ENT ": {\"prov:type\": \"ipcn:sample\", "
                 "\"ipcn:seq\": %" PRIu64 ", \"ipcn:digest\": ",
              i ? "," : "", r->node_id, r->index, r->seq);
        jhex(b, r->digest, 32);
        jputf(b, ", \"ipcn:path_hash\": ");
        jhex(b, r->path_hash, 32);
        jputf(b, ", \"ipcn:replayed\": %s, \"ipcn:passthrough\": %s}",
              r->flags & IPCN_PROV_REPLAYED ? "true" : "false",
              r->flags & IPCN_PROV_PASSTHROUGH ? "true" : "false");
    }
    jputf(b, "\n  },\n  \"activity\": {");
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        jputf(b, "%s\n    " ACT ": {\"prov:type\": \"ipcn:publish\", "
                 "\"prov:endTime\": ", i ? "," : "", r->node_id, r->index);
        jtime(b, r->time_ns);
        jputf(b, "}");
    }
    jputf(b, "\n  },\n  \"agent\": {");
    bool first = true;
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        bool dup = false;
        for (uint32_t j = 0; j < i && !dup; j++)
            dup = recs[j].r.node_id == r->node_id;
        if (dup)
            continue;
        jputf(b, "%s\n    " AGT ": {\"prov:type\": \"prov:SoftwareAgent\", "
                 "\"ipcn:name\": ", first ? "" : ",", r->node_id);
        jstr(b, r->node);
        jputf(b, ", \"ipcn:principal\": ");
        jstr(b, r->principal);
        jputf(b, "}");
        first = false;
    }
    jputf(b, "\n  },\n  \"wasGeneratedBy\": {");
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        jputf(b, "%s\n    \"_:g%u\": {\"prov:entity\": " ENT
                 ", \"prov:activity\": " ACT ", \"prov:time\": ",
              i ? "," : "", i, r->node_id, r->index, r->node_id, r->index);
        jtime(b, r->time_ns);
        jputf(b, "}");
    }
    jputf(b, "\n  },\n  \"wasAttributedTo\": {");
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        jputf(b, "%s\n    \"_:a%u\": {\"prov:entity\": " ENT
                 ", \"prov:agent\": " AGT "}",
              i ? "," : "", i, r->node_id, r->index, r->node_id);
    }
    jputf(b, "\n  },\n  \"wasAssociatedWith\": {");
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        jputf(b, "%s\n    \"_:w%u\": {\"prov:activity\": " ACT
                 ", \"prov:agent\": " AGT "}",
              i ? "," : "", i, r->node_id, r->index, r->node_id);
    }
    unsigned k = 0;
    jputf(b, "\n  },\n  \"used\": {");
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        for (uint32_t p = 0; p < r->nparents; p++, k++)
            jputf(b, "%s\n    \"_:u%u\": {\"prov:activity\": " ACT
                     ", \"prov:entity\": " ENT "}",
                  k ? "," : "", k, r->node_id, r->index,
                  r->parents[p].node_id, r->parents[p].index);
    }
    k = 0;
    jputf(b, "\n  },\n  \"wasDerivedFrom\": {");
    for (uint32_t i = 0; i < count; i++) {
        const ipcn_prov_record *r = &recs[i].r;
        for (uint32_t p = 0; p < r->nparents; p++, k++)
            jputf(b, "%s\n    \"_:d%u\": {\"prov:generatedEntity\": " ENT
                     ", \"prov:usedEntity\": " ENT ", \"prov:activity\": " ACT
                     "%s}",
                  k ? "," : "", k, r->node_id, r->index,
                  r->parents[p].node_id, r->parents[p].index, r->node_id,
                  r->index,
                  r->flags & IPCN_PROV_PASSTHROUGH && !p
                      ? ", \"prov:type\": \"ipcn:passthrough\""
                      : "");
    }
    jputf(b, "\n  }\n}\n");
}

IPCN_API int ipcn_prov_export_json(ipcn_node *n, const ipcn_msg *msg,
                                   int timeout_ms, char **json)
{
    if (!n || !msg || !json)
        return IPCN_BAD_REQUEST;
    const uint8_t *rec;
    size_t rl;
    int st = ipcn_msg_provenance(msg, &rec, &rl);
    if (st != IPCN_OK)
        return st;
    walk w = {.n = n, .deadline_ns = deadline_of(timeout_ms)};
    st = walk_all(&w, rec, rl, msg->data, msg->len);
    if (st == IPCN_OK) {
        jbuf b = {0};
        export(&b, w.recs, w.count);
        if (b.oom) {
            free(b.p);
            st = IPCN_INSUFFICIENT_MEMORY;
        } else {
            *json = b.p;
        }
    }
    ipcn__free(w.recs);
    return st;
}

/* ---- trace ---- */

IPCN_API int ipcn_prov_trace(ipcn_node *n, const ipcn_msg *msg, int timeout_ms,
                             ipcn_prov_step **steps, size_t *count,
                             ipcn_prov_report *report)
{
    if (!n || !msg || !steps || !count)
        return IPCN_BAD_REQUEST;
    const uint8_t *rec;
    size_t rl;
    int st = ipcn_msg_provenance(msg, &rec, &rl);
    if (st != IPCN_OK)
        return st;
    ipcn_prov_report rep;
    memset(&rep, 0, sizeof rep);
    rep.bad_status = IPCN_OK;
    walk w = {.n = n, .deadline_ns = deadline_of(timeout_ms), .rep = &rep};
    st = walk_all(&w, rec, rl, msg->data, msg->len);
    rep.records = w.count;
    if (report)
        *report = rep;
    if (st != IPCN_OK) {
        ipcn__free(w.recs);
        return st;
    }
    ipcn_prov_step *out = calloc(w.count, sizeof *out);
    if (!out) {
        ipcn__free(w.recs);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    for (uint32_t i = 0; i < w.count; i++) {
        const ipcn_prov_record *r = &w.recs[i].r;
        out[i].record = *r;
        out[i].depth = w.recs[i].depth;
        /* Its stage: from the latest of its parents to its own publish. */
        uint64_t latest = 0;
        for (uint32_t k = 0; k < r->nparents; k++)
            for (uint32_t j = 0; j < w.count; j++)
                if (w.recs[j].r.node_id == r->parents[k].node_id &&
                    w.recs[j].r.index == r->parents[k].index &&
                    w.recs[j].r.time_ns > latest)
                    latest = w.recs[j].r.time_ns;
        out[i].stage_ns = latest ? (int64_t)(r->time_ns - latest) : 0;
    }
    ipcn__free(w.recs);
    *steps = out;
    *count = w.count;
    return IPCN_OK;
}

IPCN_API int ipcn_prov_deliveries(ipcn_node *n, const ipcn_prov_ref *ref,
                                  int timeout_ms, ipcn_prov_delivery **out,
                                  size_t *count, int *local)
{
    if (!n || !ref || !out || !count)
        return IPCN_BAD_REQUEST;
    char name[IPCN_NAME_MAX + 1], path[IPCN_NAME_MAX + 16];
    if (name_of(n, ref->node_id, name) != IPCN_OK)
        return IPCN_NOT_FOUND;
    snprintf(path, sizeof path, "@sys/%s/prov/to", name);
    uint8_t body[8];
    st64(body, ref->index);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, path, body, 8, "application/octet-stream", &m,
                          timeout_ms);
    if (st != IPCN_OK) {
        ipcn_msg_free(m);
        return st;
    }
    ipcn_cbor_item *root = NULL;
    st = m->src_id == ref->node_id
             ? ipcn_cbor_tree_decode(m->data, m->len, IPCN_CBOR_COPY_STRINGS,
                                     &root) /* the strings outlive m */
             : IPCN_UNAUTHORIZED;
    ipcn_msg_free(m);
    if (st != IPCN_OK)
        return st;
    const ipcn_cbor_item *sent = ipcn_cbor_map_find(root, "sent");
    const ipcn_cbor_item *loc = ipcn_cbor_map_find(root, "local");
    st = IPCN_BAD_REQUEST; /* until the answer is what 20.5 says */
    ipcn_prov_delivery *d = NULL;
    if (sent && sent->type == IPCN_CBOR_ARRAY && sent->count <= 4096) {
        d = calloc(sent->count ? sent->count : 1, sizeof *d);
        st = d ? IPCN_OK : IPCN_INSUFFICIENT_MEMORY;
        for (uint64_t i = 0; st == IPCN_OK && i < sent->count; i++) {
            const ipcn_cbor_item *e = &sent->items[i];
            if (e->type != IPCN_CBOR_ARRAY || e->count != 2 ||
                e->items[0].type != IPCN_CBOR_UINT ||
                e->items[1].type != IPCN_CBOR_TEXT ||
                e->items[1].len > IPCN_NAME_MAX ||
                memchr(e->items[1].ptr, 0, e->items[1].len)) {
                st = IPCN_BAD_REQUEST;
                break;
            }
            d[i].node_id = e->items[0].u;
            memcpy(d[i].name, e->items[1].ptr, e->items[1].len);
            d[i].name[e->items[1].len] = 0;
        }
    }
    if (st == IPCN_OK) {
        *out = d;
        *count = sent->count;
        if (local)
            *local = loc && loc->type == IPCN_CBOR_BOOL && loc->u == 1;
    } else {
        free(d);
    }
    ipcn_cbor_tree_free(root);
    return st;
}

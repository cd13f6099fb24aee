/* SPDX-License-Identifier: MIT */
/*
 * once.c — services run at most once per request id (ipcnet_redundancy.h,
 * ipcn_offer_set_opts(); docs/protocol.md 12.6): the provider's cache of
 * the request ids it ran, per requester, each RUNNING (its handler queued
 * or running, retries waiting for its answer) or DONE (its answer kept for
 * retries, within the bounds of the service's options).
 *
 * A requester is known by what it cannot forge: the uid and pid the kernel
 * gives for its socket (SO_PEERCRED) and the node name its link proved,
 * so one requester cannot be answered another's cached answer by naming
 * its request id.  The requester's own correlation id changes from one try
 * to the next; the request id does not.
 */
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "ipcnet_redundancy.h"

#define ONCE_MAX_WAITERS 8              /* retries waiting on one run */
#define ONCE_MAX_BODY (64u << 10)       /* a larger answer is not kept */
#define ONCE_MAX_BYTES (4u << 20)       /* answers kept by one service */
#define ONCE_MAX_ENTRIES 65536u         /* the most cache_entries may say */
#define ONCE_MAX_MS 3600000u            /* the most cache_ms may say */

static const char NOT_KEPT[] = "already run; its answer was not kept";

typedef struct once_waiter {
    uint32_t link_id;       /* 0: this node's own request */
    uint64_t corr;
    uint64_t deadline_ns;   /* its requester gives up then (0: never) */
} once_waiter;

typedef struct once_entry {
    ipcn__list entry;       /* in o->running, or o->done (oldest first) */
    ipcn__hnode hnode;      /* in o->idx, by requester and request id */
    int32_t uid, pid;
    char name[IPCN_NAME_MAX + 1];
    uint64_t request_id;
    bool done;
    /* RUNNING: the try whose handler runs, and the retries that wait. */
    uint32_t link_id;
    uint64_t corr;
    once_waiter *waiters;
    uint32_t nwaiters;
    /* DONE: the answer, if kept. */
    bool kept;
    int status;
    char *enc;
    void *data;
    size_t len;
    uint64_t done_ns;
} once_entry;

struct ipcn__once {
    ipcn_offer_opts opts;
    ipcn__htab idx;
    ipcn__list running, done;
    uint32_t count;         /* entries, running and done */
    size_t bytes;           /* of the answers kept */
};

IPCN_API void ipcn_offer_opts_init(ipcn_offer_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->cache_ms = 30000;
    opts->cache_entries = 1024;
}

/* Who sent a request: the link's principal, or this node itself. */
static void who_of(const ipcn_node *n, const ipcn__link *l, int32_t *uid,
                   int32_t *pid, const char **name)
{
    if (l) {
        *uid = l->who.uid;
        *pid = l->who.pid;
        *name = l->who.name ? l->who.name : "";
    } else {
        *uid = (int32_t)getuid();
        *pid = (int32_t)getpid();
        *name = n->name;
    }
}

static uint64_t key_hash(int32_t uid, int32_t pid, const char *name,
                         uint64_t request_id)
{
    uint8_t k[16 + IPCN_NAME_MAX];
    size_t nl = strnlen(name, IPCN_NAME_MAX);
    memcpy(k, &uid, 4);
    memcpy(k + 4, &pid, 4);
    memcpy(k + 8, &request_id, 8);
    memcpy(k + 16, name, nl);
    return ipcn__hash(k, 16 + nl);
}

static once_entry *entry_find(struct ipcn__once *o, int32_t uid, int32_t pid,
                              const char *name, uint64_t request_id,
                              uint64_t hash)
{
    for (ipcn__hnode *h = ipcn__htab_chain(&o->idx, hash); h; h = h->next) {
        once_entry *e = ipcn__container_of(h, once_entry, hnode);
        if (h->hash == hash && e->request_id == request_id && e->uid == uid &&
            e->pid == pid && !strncmp(e->name, name, IPCN_NAME_MAX))
            return e;
    }
    return NULL;
}

static void entry_free(struct ipcn__once *o, once_entry *e)
{
    ipcn__list_remove(&e->entry);
    ipcn__htab_del(&o->idx, &e->hnode);
    o->count--;
    if (e->kept)
        o->bytes -= e->len;
    ipcn__free(e->waiters);
    ipcn__free(e->enc);
    ipcn__free(e->data);
    ipcn__free(e);
}

/* Forget what is too old or over the bounds, the oldest answers first.
 * Entries still running are never forgotten here: their retries must not
 * run the handler again. */
static void expire(struct ipcn__once *o, uint64_t now, uint32_t room)
{
    uint64_t keep_ns = (uint64_t)o->opts.cache_ms * 1000000ull;
    ipcn__list *first;
    while ((first = o->done.next) != &o->done) {
        once_entry *e = ipcn__list_entry(first, once_entry, entry);
        if (now - e->done_ns < keep_ns &&
            o->count + room <= o->opts.cache_entries &&
            o->bytes <= ONCE_MAX_BYTES)
            break;
        entry_free(o, e);
    }
}

/* A retry that waits counts as a queued request (the load and limits of
 * provide.c): among its link's (ipcn__limit_queued), or this node's own. */
static void queued(ipcn_node *n, uint32_t link_id, int delta)
{
    ipcn__link *l = link_id ? ipcn__link_by_id(n, link_id) : NULL;
    if (l)
        ipcn__limit_queued(n, l, delta);
    else if (!link_id && delta > 0)
        n->own_queued++;
    else if (!link_id && n->own_queued)
        n->own_queued--;
}

/* Send an answer for a request of link_id (0: this node's own).  queued:
 * it was counted as a queued request (queued()). */
static void send_to(ipcn_node *n, uint32_t link_id, uint64_t corr,
                    bool is_queued, int status, const void *data, size_t len,
                    const char *enc)
{
    if (is_queued)
        queued(n, link_id, -1);
    if (link_id == 0) {
        ipcn__req_answer_local(n, corr, status, data, len, enc);
        return;
    }
    ipcn__link *l = ipcn__link_by_id(n, link_id);
    if (!l || l->state != LINK_UP)
        return;
    if (!ipcn__pool_send_reply(n, l, corr, status, enc, data, len))
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, status, enc, data, len,
                              0, 0);
}

static void send_cached(ipcn_node *n, const once_entry *e, uint32_t link_id,
                        uint64_t corr, bool queued)
{
    if (e->kept)
        send_to(n, link_id, corr, queued, e->status, e->data, e->len, e->enc);
    else
        send_to(n, link_id, corr, queued, IPCN_CONFLICT, NOT_KEPT,
                sizeof NOT_KEPT - 1, "text/plain");
}

int ipcn__once_admit(ipcn_node *n, ipcn__link *l, ipcn__local *lr,
                     uint64_t corr, uint64_t request_id, uint64_t deadline_ns)
{
    struct ipcn__once *o = lr->once;
    uint32_t link_id = l ? l->id : 0;
    if (!o || !request_id)
        return IPCN_OK;
    int32_t uid, pid;
    const char *name;
    who_of(n, l, &uid, &pid, &name);
    uint64_t hash = key_hash(uid, pid, name, request_id);
    uint64_t now = ipcn__now_mono_ns();
    expire(o, now, 0);
    once_entry *e = entry_find(o, uid, pid, name, request_id, hash);
    if (e && e->done) {
        send_cached(n, e, link_id, corr, false); /* the handler ran */
        return IPCN_ACCEPTED;
    }
    if (e) { /* running: this retry waits for the first try's answer */
        if (!e->waiters)
            e->waiters = ipcn__calloc(ONCE_MAX_WAITERS, sizeof *e->waiters);
        if (!e->waiters || e->nwaiters == ONCE_MAX_WAITERS) {
            send_to(n, link_id, corr, false, e->waiters
                    ? IPCN_TOO_MANY_REQUESTS : IPCN_INSUFFICIENT_MEMORY,
                    NULL, 0, "");
            return IPCN_ACCEPTED;
        }
        e->waiters[e->nwaiters++] = (once_waiter){link_id, corr, deadline_ns};
        queued(n, link_id, 1); /* it waits as a queued request */
        return IPCN_ACCEPTED;
    }
    expire(o, now, 1);
    if (o->count >= o->opts.cache_entries) {
        /* Every entry runs: none may be forgotten, and this one cannot be
         * remembered. */
        send_to(n, link_id, corr, false, IPCN_TOO_MANY_REQUESTS, NULL, 0, "");
        return IPCN_ACCEPTED;
    }
    e = ipcn__calloc(1, sizeof *e);
    if (!e) {
        send_to(n, link_id, corr, false, IPCN_INSUFFICIENT_MEMORY, NULL, 0, "");
        return IPCN_ACCEPTED;
    }
    e->uid = uid;
    e->pid = pid;
    strncpy(e->name, name, IPCN_NAME_MAX);
    e->request_id = request_id;
    e->link_id = link_id;
    e->corr = corr;
    e->hnode.hash = hash;
    if (ipcn__htab_add(&o->idx, &e->hnode) != IPCN_OK) {
        ipcn__free(e);
        send_to(n, link_id, corr, false, IPCN_INSUFFICIENT_MEMORY, NULL, 0, "");
        return IPCN_ACCEPTED;
    }
    ipcn__list_insert_tail(&o->running, &e->entry);
    o->count++;
    return IPCN_OK;
}

/* The running entry of the try (link_id, corr), in lr's cache or, without
 * lr, in any service's of this node. */
static once_entry *running_of(ipcn_node *n, ipcn__local *lr, uint32_t link_id,
                              uint64_t corr, struct ipcn__once **owner)
{
    ipcn__local *x;
    ipcn__list_for_each(x, t, &n->locals, ipcn__local, entry) {
        if (lr && x != lr)
            continue;
        if (!x->once)
            continue;
        once_entry *e;
        ipcn__list_for_each(e, t2, &x->once->running, once_entry, entry) {
            if (e->link_id == link_id && e->corr == corr) {
                *owner = x->once;
                return e;
            }
        }
    }
    return NULL;
}

void ipcn__once_done(ipcn_node *n, const char *path, uint32_t link_id,
                     uint64_t corr, int status, const void *data, size_t len,
                     const char *enc)
{
    ipcn__local *lr = path ? ipcn__local_find(n, path) : NULL;
    if (path && (!lr || !lr->once))
        return;
    struct ipcn__once *o;
    once_entry *e = running_of(n, lr, link_id, corr, &o);
    if (!e)
        return;
    e->done = true;
    e->status = status;
    e->done_ns = ipcn__now_mono_ns();
    if (len <= ONCE_MAX_BODY) {
        e->enc = ipcn__strdup(enc ? enc : "");
        e->data = len ? ipcn__memdup(data, len) : NULL;
        e->kept = e->enc && (!len || e->data);
        e->len = len;
        if (e->kept) {
            o->bytes += len;
        } else { /* out of memory: remembered as run, without its answer */
            ipcn__free(e->enc);
            ipcn__free(e->data);
            e->enc = NULL;
            e->data = NULL;
        }
    }
    ipcn__list_remove(&e->entry);
    ipcn__list_insert_tail(&o->done, &e->entry);
    uint64_t now = e->done_ns;
    for (uint32_t i = 0; i < e->nwaiters; i++) {
        const once_waiter *w = &e->waiters[i];
        if (w->deadline_ns && now >= w->deadline_ns) {
            /* Its requester gave up: nothing is sent, its place freed. */
            queued(n, w->link_id, -1);
            continue;
        }
        send_cached(n, e, w->link_id, w->corr, true);
    }
    ipcn__free(e->waiters);
    e->waiters = NULL;
    e->nwaiters = 0;
    expire(o, now, 0);
}

void ipcn__once_forget(ipcn_node *n, const char *path, uint32_t link_id,
                       uint64_t corr, int status)
{
    ipcn__local *lr = ipcn__local_find(n, path);
    struct ipcn__once *o;
    once_entry *e = lr && lr->once ? running_of(n, lr, link_id, corr, &o)
                                   : NULL;
    if (!e)
        return;
    for (uint32_t i = 0; i < e->nwaiters; i++)
        send_to(n, e->waiters[i].link_id, e->waiters[i].corr, true, status,
                NULL, 0, "");
    entry_free(o, e);
}

bool ipcn__once_pass_on(ipcn_node *n, ipcn__cb *cb)
{
    struct ipcn__once *o;
    ipcn__local *lr = ipcn__local_find(n, cb->msg->pub.path);
    if (!lr || !lr->once)
        return false;
    once_entry *e = running_of(n, lr, cb->link_id, cb->corr, &o);
    if (!e)
        return false;
    uint64_t now = ipcn__now_mono_ns();
    while (e->nwaiters) {
        once_waiter w = e->waiters[0];
        memmove(e->waiters, e->waiters + 1,
                --e->nwaiters * sizeof *e->waiters);
        ipcn__link *l = w.link_id ? ipcn__link_by_id(n, w.link_id) : NULL;
        if (w.link_id && (!l || l->state != LINK_UP))
            continue;
        if (w.deadline_ns && now >= w.deadline_ns) {
            queued(n, w.link_id, -1);
            continue;
        }
        /* The retry's try runs instead; it was counted when it came. */
        e->link_id = w.link_id;
        e->corr = w.corr;
        cb->link_id = w.link_id;
        cb->corr = w.corr;
        cb->deadline_ns = w.deadline_ns;
        return true;
    }
    /* Nobody waits: the handler never ran, so the id is forgotten and a
     * retry runs it. */
    entry_free(o, e);
    return false;
}

void ipcn__once_free(ipcn_node *n, struct ipcn__once *o)
{
    if (!o)
        return;
    ipcn__list *x;
    while ((x = o->running.next) != &o->running) {
        once_entry *e = ipcn__list_entry(x, once_entry, entry);
        /* Retries waiting on a run whose answer will not be told: the
         * service is gone or no longer at most once. */
        for (uint32_t i = 0; n && i < e->nwaiters; i++)
            send_to(n, e->waiters[i].link_id, e->waiters[i].corr, true,
                    IPCN_SERVICE_UNAVAILABLE, NULL, 0, "");
        entry_free(o, e);
    }
    while ((x = o->done.next) != &o->done)
        entry_free(o, ipcn__list_entry(x, once_entry, entry));
    ipcn__htab_free(&o->idx);
    ipcn__free(o);
}

IPCN_API int ipcn_offer_set_opts(ipcn_node *n, const char *path,
                                 const ipcn_offer_opts *opts)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_offer_opts o;
    ipcn_offer_opts_init(&o);
    if (!n || !path || ipcn__path_check(path, strlen(path)) != IPCN_OK ||
        ipcn__sized_in(&o, sizeof o, opts,
                       IPCN__SIZE_TO(ipcn_offer_opts, cache_entries)) !=
            IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (o.at_most_once &&
        (!o.cache_ms || o.cache_ms > ONCE_MAX_MS || !o.cache_entries ||
         o.cache_entries > ONCE_MAX_ENTRIES))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr = ipcn__local_find(n, path);
    int st = IPCN_OK;
    if (!lr) {
        st = IPCN_NOT_FOUND;
    } else if (lr->kind != IPCN_SERVICE || !lr->fn) {
        st = IPCN_METHOD_NOT_ALLOWED;
    } else if (!o.at_most_once) {
        ipcn__once_free(n, lr->once);
        lr->once = NULL;
    } else if (!lr->once) {
        struct ipcn__once *c = ipcn__calloc(1, sizeof *c);
        if (!c) {
            st = IPCN_INSUFFICIENT_MEMORY;
        } else {
            ipcn__list_init(&c->running);
            ipcn__list_init(&c->done);
            c->opts = o;
            lr->once = c;
        }
    } else {
        lr->once->opts = o; /* the new bounds hold from now on */
        expire(lr->once, ipcn__now_mono_ns(), 0);
    }
    if (st == IPCN_OK) {
        /* Peers learn of it (or that it no longer is) from the announce. */
        lr->version++;
        ipcn__link *l;
        ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
            if (l->state == LINK_UP && ipcn__access_visible(n, l, lr))
                ipcn__dir_send_announce(n, l, lr);
    }
    ipcn__node_unlock(n);
    return st;
}

/* SPDX-License-Identifier: MIT */
/*
 * engine.h — the engine's objects: resources (local and remote),
 * messages, subscriptions, pending queries and requests, responders; and
 * the functions of directory.c, pubsub.c and request.c.
 */
#ifndef IPCN_ENGINE_H
#define IPCN_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "node/node.h"
#include "shm/shm.h"
#include "transport/compromise.h"
#include "transport/gate.h"
#include "transport/reputation.h"
#include "transport/link.h"
#include "util/htab.h"
#include "util/list.h"
#include "wire/wire.h"

/* Limits of the engine (the per-peer ones are the gate's: gate.h). */
#define IPCN_MAX_PROVIDERS_TRIED 8
#define IPCN_PEER_MAX_MAPS 64         /* pools of one peer mapped here */
#define IPCN_SEQ_WINDOW (1ull << 20)  /* the largest gap counted as losses */
#define IPCN_ACACHE_WAYS 4            /* peers' decisions kept per resource */

/* A resource this node announced. */
typedef struct ipcn__local {
    ipcn__list entry;
    ipcn__hnode hnode;      /* in node->local_idx, by path */
    char *path;
    ipcn_kind kind;
    char *encoding;
    void *meta;
    size_t meta_len;
    uint64_t version;
    uint64_t seq;           /* last sample published */
    ipcn_msg *value;        /* data: current value, or NULL */
    ipcn_service_fn fn;     /* service */
    void *user;
    ipcn_set_fn set_fn;     /* data: the check of a set (set.c), or NULL */
    void *set_user;
    void *args_schema;      /* typed service: CBOR types, or NULL */
    size_t args_schema_len;
    void *returns_schema;   /* declared only, not enforced */
    size_t returns_schema_len;
    ipcn_pool_opts pool_opts; /* shared-memory settings */
    ipcn__pool *pool;       /* the current pool, or NULL */
    uint64_t shm_published, shm_reclaimed, shm_refused;
    /* Where a publish goes, as of node->route_gen (router.c): the links
     * that subscribe to it, and whether a subscription of this node does. */
    uint64_t route_gen;
    struct ipcn__link **route_links;
    uint32_t nroute, cap_route, nroute_shm;
    bool route_local;
    uint16_t path_len, enc_len;
    /* What the gate decided for the last peers that used it (access.c),
     * valid while node->policy_gen stays. */
    struct ipcn__acache {
        uint32_t link_id;
        uint64_t gen;
        uint8_t have;            /* bit v: d[v] is decided (v: 0 read,
                                    1 write, 2 execute) */
        ipcn__decision d[3];
    } acache[IPCN_ACACHE_WAYS];
    uint8_t acache_next;
    /* Several providers (ipcnet_redundancy.h): announced owned, its rank,
     * whether this node owns it now (owner.c). */
    bool owned;
    bool warm;              /* a warm standby: sends nothing unless owner */
    bool owner;             /* this node is its owner now */
    int32_t strength;
    struct ipcn__owngroup *group; /* the providers of its path, or NULL */
    /* A service run at most once per request id (once.c), or NULL. */
    struct ipcn__once *once;
    /* Late subscribers (keep.c, latch.c): a data resource with keep 1 is
     * latched (its current value goes to a new subscriber first); a
     * stream keeps its last keep samples, in kept (NULL: none yet). */
    uint16_t keep;
    struct ipcn__keep *kept;
    uint64_t kept_evicted;  /* given up before keep newer ones came */
    uint64_t replays, replayed; /* subscriptions served, samples sent */
    /* Data or stream: the type its meta declares ("schema"), or NULL;
     * whether a refused value was logged (typed.c). */
    uint8_t *schema;
    size_t schema_len;
    bool told_refused;
    /* Data: its debug history (history.c, ipcnet_history.h), or NULL;
     * hist_own: the provider decided it (ipcn_announce_history()), with
     * hist_depth (0: off) and hist_max_bytes, not the network policy. */
    struct ipcn__hist *hist;
    bool hist_own;
    uint16_t hist_depth;
    uint64_t hist_max_bytes;
    /* Provenance on: each publish makes a record (prov_pub.c). */
    bool prov;
} ipcn__local;

/* A resource learned from a peer. */
typedef struct ipcn__remote {
    ipcn__list entry;
    ipcn__hnode hnode;      /* in node->remote_idx, by path and link */
    char *path;
    ipcn_kind kind;
    char *encoding;
    void *meta;
    size_t meta_len;
    uint64_t version;
    uint32_t link_id;
    size_t cost;            /* accounted in its link's meta_bytes */
    uint64_t last_seq;      /* last sample seen, for loss counting */
    bool told_withheld;     /* its first SHM_WITHHELD was logged */
    uint32_t inflight;      /* our requests pending at this provider */
    bool denied;            /* its provider may not provide it (policy):
                               kept, counted on its link, but not found,
                               asked or subscribed to (access.c) */
    /* The subscriptions of this node that its samples go to, as of
     * node->sub_gen (router.c). */
    uint64_t subs_gen;
    struct ipcn__sub **subs;
    uint32_t nsubs, cap_subs;
    /* What its ANNOUNCE's extension said (IPCN_ANN_*, strength). */
    uint8_t ann_flags;
    int32_t strength;
    bool owner;             /* owned: the one this node takes it from */
    struct ipcn__owngroup *group; /* owned: the providers of its path */
    ipcn__list group_entry;
    /* Choice among providers (choose.c): the load its last answer
     * reported, and its record of failures. */
    uint32_t load;
    uint32_t strikes;       /* timeouts and 300s in a row */
    uint64_t avoid_until_ns; /* ranked last until then */
    uint32_t avoid_ms;      /* its last back-off */
    /* Late subscribers (latch.c): what its provider keeps for them (its
     * ANNOUNCE's keep). */
    uint16_t keep;
    bool live_seen;         /* a live sample of it was counted (last_seq) */
    /* Data or stream: the type its meta declares ("schema"), or NULL;
     * whether a value that did not conform was logged (typed.c). */
    uint8_t *schema;
    size_t schema_len;
    bool told_dropped;
} ipcn__remote;

typedef struct ipcn__sub {
    ipcn__list entry;
    ipcn__list ready_entry; /* in node->ready_subs while it has samples */
    bool ready;
    uint32_t id;
    char *pattern;
    uint32_t depth;
    ipcn_sample_fn fn;
    void *user;
    ipcn__list queue;       /* of ipcn__msg */
    uint32_t queued;
    uint64_t received, delivered, dropped, lost;
    uint64_t withheld, unmappable, resets, notices;
    uint64_t standby;       /* samples of a provider that does not own the
                               path, dropped (router.c, owner.c) */
    /* Late subscribers (latch.c): no_history: it wants only what is
     * published from now on; awaiting: replays asked and not yet ended
     * (node->latch_waits); history: samples that came from a provider's
     * keep (counted in received too). */
    bool no_history;
    uint32_t awaiting;
    uint64_t history;
    uint64_t nonconforming; /* samples not of their resource's declared
                               type, dropped (router.c, typed.c) */
} ipcn__sub;

/* A subscription pattern of this node, deduplicated, as told to peers. */
typedef struct ipcn__interest {
    ipcn__list entry;
    char *pattern;
    uint32_t refs;
} ipcn__interest;

enum pending_kind { PEND_QUERY = 1, PEND_REQUEST = 2, PEND_SET = 3 };

/* A query or request of this node waiting for its answer. */
typedef struct ipcn__pending {
    ipcn__list entry;
    uint64_t corr;          /* also the ipcn_req id */
    enum pending_kind kind;
    char *path;
    char *encoding;
    void *data;             /* kept for fail-over to another provider */
    bool borrowed;          /* data is the caller's, valid while it waits
                               (a synchronous call): not copied, not freed */
    size_t len;
    uint32_t link_id;       /* where it went; 0 = this node */
    uint32_t tried[IPCN_MAX_PROVIDERS_TRIED];
    uint32_t ntried;
    uint64_t deadline_ns;   /* 0: none */
    uint32_t timeout_ms;
    uint64_t expect_version; /* a set's (0: any) */
    uint64_t request_id;    /* a request's id across retries (0: none
                               yet); sent to providers that run at most
                               once (once.c) */
    bool awaited;           /* counted in its link's awaiting */
    bool done;
    int status;
    ipcn__msg *reply;
    ipcn_reply_fn fn;       /* async, or NULL for a waiting caller */
    void *user;
    /* One part of an ipcn_request_ex() (multi.c): its parent, its place
     * there; pinned: it stays with its provider (no fail-over: 303). */
    struct ipcn__multi *multi;
    uint32_t multi_index;
    bool pinned;
    /* request.c: sent to a provider that runs it at most once (its
     * announce said ONCE): if that provider goes, it may have run it, so
     * the request is not failed over to another (once.c). */
    bool sent_once;
} ipcn__pending;

/* A request from a peer whose handler deferred the answer. */
typedef struct ipcn__responder {
    ipcn__list entry;
    uint64_t id;
    uint32_t link_id;       /* 0: a request of this node itself */
    uint64_t corr;
    bool orphan;            /* the requester left: answering gives 303 */
    bool own_load;          /* counted in node->own_queued (provide.c) */
    bool once;              /* once.c: its service runs at most once, so
                               its answer is kept even if orphan */
} ipcn__responder;

struct ipcn_reply_ctx {
    ipcn_node *node;
    void *data;
    size_t len;
    bool shm_ok;            /* the answer may be filled into a slot */
    ipcn_loan *loan;        /* ...it was: len bytes there (data NULL) */
    uint64_t sum;           /* their checksum */
    char *encoding;
    bool deferred;
    uint64_t responder_id;
    int oom;
    uint64_t deadline_ns;   /* the requester's, CLOCK_MONOTONIC; 0: none */
};

/* ---- engine: directory.c, pubsub.c, request.c ---- */
void ipcn__dir_on_link_up(ipcn_node *n, ipcn__link *l);
void ipcn__dir_on_link_down(ipcn_node *n, ipcn__link *l);
void ipcn__dir_on_announce(ipcn_node *n, ipcn__link *l,
                           const ipcn__announce *a);
void ipcn__dir_on_withdraw(ipcn_node *n, ipcn__link *l, const ipcn__str *p);
ipcn__local *ipcn__local_find(ipcn_node *n, const char *path);
ipcn__remote *ipcn__remote_find(ipcn_node *n, const char *path,
                                uint32_t link_id);
void ipcn__remote_free(ipcn_node *n, ipcn__remote *r);
void ipcn__local_free(ipcn__local *lr);
int ipcn__dir_send_announce(ipcn_node *n, ipcn__link *l,
                            const ipcn__local *lr);
/* ipcn_find() with the lock held (pattern and kind valid): *found
 * resources match; out NULL: only counted.  100 or 307. */
int ipcn__dir_find(ipcn_node *n, const char *pattern, ipcn_kind kind,
                   ipcn_resource_list **out, size_t *found);

void ipcn__pub_on_link_up(ipcn_node *n, ipcn__link *l);
void ipcn__pub_on_subscribe(ipcn_node *n, ipcn__link *l, const ipcn__str *p,
                            bool add);
void ipcn__pub_on_sample(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
/* Tell matching subscriptions that a provider's resource went away. */
void ipcn__pub_gone(ipcn_node *n, const char *path, const char *provider,
                    uint64_t provider_id);
bool ipcn__sub_deliver_one(ipcn_node *n);  /* one sample to a callback */
void ipcn__sub_free(ipcn__sub *s);

void ipcn__req_on_query(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__req_on_request(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
/* An SHM_REQUEST: a request whose body is in the requester's pool. */
void ipcn__req_on_shm_request(ipcn_node *n, ipcn__link *l,
                              const ipcn__frame *f);
void ipcn__req_on_reply(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__req_on_link_down(ipcn_node *n, ipcn__link *l);
/* A CANCEL: the requester gave up; its request is not started. */
void ipcn__req_on_cancel(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__req_on_withdraw(ipcn_node *n, const char *path, uint32_t link_id);
void ipcn__req_timeouts(ipcn_node *n, uint64_t now);
uint64_t ipcn__req_next_deadline(ipcn_node *n);
void ipcn__req_run(ipcn_node *n, ipcn__cb *cb); /* deliver, lock released */
void ipcn__pending_free(ipcn__pending *p);
/* This node's own provider answers its own pending request corr. */
int ipcn__req_answer_local(ipcn_node *n, uint64_t corr, int status,
                           const void *data, size_t len, const char *enc);
/* The same, with the answer's seq (a set's version). */
int ipcn__req_answer_local_seq(ipcn_node *n, uint64_t corr, int status,
                               uint64_t seq, const void *data, size_t len,
                               const char *enc);
/* Ask and wait (ipcn_query, ipcn_request, ipcn_set), lock held.  expect:
 * a set's expected version.  *out: the answer, for a query only on 100. */
int ipcn__req_call(ipcn_node *n, enum pending_kind kind, const char *path,
                   const void *data, size_t len, const char *enc,
                   uint64_t expect, ipcn_msg **out, int timeout_ms);

/* request.c, for multi.c: a pending not started yet (NULL: out of
 * memory); start it with the provider ipcn__choose() gives (100, or a
 * status as ipcn_request()'s), or with the one at link_id (0: this node;
 * pinned there: 100, or 303 when that link is not up, 205, 305, 307);
 * end it (its provider told with a CANCEL; timed_out: charged for it). */
ipcn__pending *ipcn__req_new(ipcn_node *n, enum pending_kind kind,
                             const char *path, const void *data, size_t len,
                             const char *enc, int timeout_ms);
int ipcn__req_start(ipcn_node *n, ipcn__pending *p);
int ipcn__req_start_at(ipcn_node *n, ipcn__pending *p, uint32_t link_id);
void ipcn__req_end(ipcn_node *n, ipcn__pending *p, int status,
                   bool timed_out);
/* multi.c: p, a part of an ipcn_request_ex(), completed (lock held). */
void ipcn__multi_on_child(ipcn_node *n, ipcn__pending *p);

/* choose.c: the next provider of p.  100 with *link_id set (0: this
 * node), 203 when there is no provider at all, 303 when every provider
 * was tried, 204 when path is of another kind. */
int ipcn__choose(ipcn_node *n, ipcn__pending *p, ipcn_kind want,
                 bool allow_local, uint32_t *link_id);
bool ipcn__pending_tried(const ipcn__pending *p, uint32_t link_id);
/* choose.c: is r avoided at now (monotonic ns): it timed out or answered
 * 300 IPCN_AVOID_STRIKES times in a row, and its back-off (r->avoid_ms,
 * from IPCN_AVOID_FIRST_MS doubling to IPCN_AVOID_MAX_MS) has not ended?
 * Ranked after every other provider, still asked when nothing else
 * remains. */
#define IPCN_AVOID_STRIKES 3u
#define IPCN_AVOID_FIRST_MS 1000u
#define IPCN_AVOID_MAX_MS 30000u
bool ipcn__provider_avoided(const ipcn__remote *r, uint64_t now);
/* A failure of r charged to it (request.c: charge_provider(), a timeout
 * of at least TIMEOUT_CHARGED_MS or a 300): one strike more; the third in
 * a row, or the first after a back-off with no success since, starts a
 * back-off (the first 1 s, then twice the last, at most 30 s). */
void ipcn__provider_failed(ipcn__remote *r, uint64_t now);
/* r answered (a status under 300): its strikes and back-off are reset. */
void ipcn__provider_answered(ipcn__remote *r);

/* provide.c: the provider's side. */
void ipcn__responder_free_all(ipcn_node *n);
/* A typed service's check of a request's encoding and args: 100, or 200
 * (307) with the reason in why. */
int ipcn__prov_check_typed(const ipcn__local *lr, const char *enc,
                           const void *data, size_t len, char *why,
                           size_t whylen);
/* Run path's handler for a request of link_id (0: this node's own), whose
 * requester gives up at deadline_ns (0: never; ipcn_reply_time_left()). */
void ipcn__prov_run_handler(ipcn_node *n, uint32_t link_id, uint64_t corr,
                            ipcn__msg *m, uint64_t deadline_ns);
void ipcn__prov_run(ipcn_node *n, ipcn__cb *cb); /* a CB_REQUEST, lock held */
/* The deferred answer id is owed to a requester that left: forget it.
 * True when it did (false: it is owed to one still there, or gone).
 * Lock held. */
bool ipcn__responder_drop_orphan(ipcn_node *n, uint64_t id);
void ipcn__prov_on_link_down(ipcn_node *n, ipcn__link *l);
/* Send a REPLY (or QUERY_REPLY) to l. */
void ipcn__prov_send_reply(ipcn_node *n, ipcn__link *l, uint8_t type,
                           uint64_t corr, int status, const char *enc,
                           const void *data, size_t len, uint64_t seq,
                           uint64_t stamp);
/* Is a request, query or set of path (bytes of data) from l within its
 * rate limits (the gate: transport/limits.h)?  True; else it was answered
 * (type: REPLY or QUERY_REPLY) 205 with its retry time. */
bool ipcn__prov_within_limits(ipcn_node *n, ipcn__link *l, uint8_t type,
                              uint64_t corr, const char *path, size_t bytes);
/* Has the requester of a queued CB_REQUEST or CB_SET given up on it (its
 * link gone or hung up, its deadline passed)?  Then it is counted as
 * abandoned, and true. */
bool ipcn__prov_given_up(ipcn_node *n, const ipcn__cb *cb);

/* set.c: the provider's side of a set; the requester's is request.c. */
void ipcn__set_on_frame(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__set_run(ipcn_node *n, ipcn__cb *cb); /* a CB_SET, lock held */
/* A set of this node's own resource (pending corr), run at once. */
void ipcn__set_local(ipcn_node *n, const ipcn__pending *p);

/* access.c: who may do what, for this node's resources and peers'. */
/* The status peer l gets for verb (IPCN__V_READ, _WRITE, _EXECUTE) on
 * this node's resource lr: 100; 201 or 202; 203 when it may not read lr
 * (as if lr did not exist).  Refusals and audited passes are counted. */
int ipcn__access_local(ipcn_node *n, ipcn__link *l, ipcn__local *lr,
                       uint32_t verb);
/* May l see lr: be told of it, get its samples?  Not counted. */
bool ipcn__access_visible(ipcn_node *n, ipcn__link *l, ipcn__local *lr);
/* May peer l provide path (its announcement taken)?  count: a refusal is
 * counted and logged.  100, 201 or 202. */
int ipcn__access_provide(ipcn_node *n, ipcn__link *l, const char *path,
                         bool count);
/* May this node itself provide path?  100, 201, 202 (logged). */
int ipcn__access_self_provide(ipcn_node *n, const char *path);
/* The policy changed: peers' resources and this node's visibility are
 * checked again. */
void ipcn__access_on_policy(ipcn_node *n, const ipcn__policy *old);
void ipcn__access_free_all(ipcn_node *n);
/* Something other than the policy changes decisions (an isolation): what
 * each peer may see before it (free it with ipcn__access_changed()); after
 * the change, tell peers what they may now see or no longer see, and
 * check peers' resources again. */
uint8_t *ipcn__access_before(ipcn_node *n);
void ipcn__access_changed(ipcn_node *n, uint8_t *before);
/* directory.c: check each peer's resources against the policy again
 * (after a reload): now refused ones are gone for this node's users,
 * now allowed ones come back. */
void ipcn__dir_recheck(ipcn_node *n);
/* Tell l of lr (announce) or forget it (withdraw). */
void ipcn__dir_send_withdraw(ipcn_node *n, ipcn__link *l, const char *path);

/* What a sample's sequence number says of the ones before it. */
typedef struct ipcn__gap {
    uint64_t lost; /* numbers skipped (at most IPCN_SEQ_WINDOW) */
    bool reset;    /* a jump beyond the window, or backwards */
} ipcn__gap;
/* Gap accounting, pure: seq against the last number seen (0: none yet),
 * which it updates.  The first number seen counts nothing; a jump of more
 * than IPCN_SEQ_WINDOW, or backwards, is one reset and starts counting
 * again from seq; the same number again counts nothing. */
ipcn__gap ipcn__seq_gap(uint64_t *last_seq, uint64_t seq);

/* An SHM_WITHHELD notice. */
void ipcn__pub_on_withheld(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);

/* The fan-out (router.c) of one message to every matching subscription of
 * this node.  gap: the sample's, counted on each (NULL: a notice, counted
 * on none). */
void ipcn__pub_fan_out(ipcn_node *n, ipcn__msg *m, const ipcn__gap *gap);
/* Index a resource by path (directory.c): 100 or 307. */
int ipcn__local_index(ipcn_node *n, ipcn__local *lr);
int ipcn__remote_index(ipcn_node *n, ipcn__remote *r);
/* Something changed who gets what: links' patterns, a link going, this
 * node's subscriptions, a resource's encoding. */
void ipcn__pub_routes_changed(ipcn_node *n, bool subs);
/* At the end of ipcn_node_close(): the indexes, the caches and this
 * node's share of its message pool (blocks still held by messages go back
 * to the pool, which goes with the last of them). */
void ipcn__pub_node_free(ipcn_node *n);

/* keep.c: the samples a stream keeps for late subscribers. */
typedef struct ipcn__kept_item {
    uint64_t seq, stamp;
    ipcn__msg *msg;         /* its bytes, or NULL: in a slot (ref) */
    ipcn__kept_ref ref;
} ipcn__kept_item;
typedef struct ipcn__keep {
    uint32_t cap, head, count; /* a ring of cap items, oldest at head */
    size_t bytes;           /* of the items kept inline */
    ipcn__kept_item item[];
} ipcn__keep;
#define IPCN__KEEP_MAX_BYTES ((size_t)64 << 20) /* inline, per resource */
/* lr's ith kept sample, oldest first (i < count). */
static inline ipcn__kept_item *ipcn__kept_at(ipcn__keep *k, uint32_t i)
{
    return &k->item[(k->head + i) % k->cap];
}
/* A sample of the stream lr was published (seq, stamp): keep it, its
 * bytes (inline) or its slot (o, not yet done).  Older ones go as keep
 * and IPCN__KEEP_MAX_BYTES say. */
void ipcn__keep_bytes(ipcn_node *n, ipcn__local *lr, const void *data,
                      size_t len, uint64_t seq, uint64_t stamp);
void ipcn__keep_slot(ipcn_node *n, ipcn__local *lr, const ipcn__shm_out *o);
/* The kept samples still whole: those after the newest one whose slot was
 * taken back (those before it and it are given up, counted evicted). */
void ipcn__keep_prune(ipcn_node *n, ipcn__local *lr);
/* Before a loan of lr's pool: a full pool first gets back the slots that
 * only the keep holds, oldest first (counted evicted). */
void ipcn__keep_make_room(ipcn_node *n, ipcn__local *lr);
/* lr goes (withdrawn): its kept samples are given up (n NULL: the node
 * closes, its pools are gone already). */
void ipcn__keep_free(ipcn_node *n, ipcn__local *lr);
/* lr's keep is now keep (ipcn_announce_keep()): a smaller ring keeps the
 * newest. */
void ipcn__keep_set(ipcn_node *n, ipcn__local *lr, uint16_t keep);
/* directory.c: announce (or again) path, which keeps keep samples. */
int ipcn__dir_announce_keep(ipcn_node *n, const char *path, ipcn_kind kind,
                            const char *encoding, const void *meta,
                            size_t meta_len, uint16_t keep);

/* latch.c: late subscribers, both sides (protocol.md 10.3). */
/* The subscription s is new: what this node keeps and its peers keep of
 * what it matches comes first (unless s->no_history): each linked peer is
 * asked for a replay.  Lock held. */
void ipcn__latch_on_sub(ipcn_node *n, ipcn__sub *s);
/* s goes: its replays are forgotten. */
void ipcn__latch_sub_gone(ipcn_node *n, ipcn__sub *s);
/* A link is UP (after the SUBSCRIBEs of pubsub.c): each subscription asks
 * it for a replay. */
void ipcn__latch_on_link_up(ipcn_node *n, ipcn__link *l);
void ipcn__latch_on_link_down(ipcn_node *n, ipcn__link *l);
void ipcn__latch_free_all(ipcn_node *n); /* the node closes */
/* Frames with a corr: SUBSCRIBE (a replay asked of this node), SAMPLE and
 * SHM_SAMPLE (a replayed sample), REPLY (the end of a replay). */
void ipcn__latch_on_subscribe(ipcn_node *n, ipcn__link *l,
                              const ipcn__frame *f);
void ipcn__latch_on_sample(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__latch_on_end(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
/* The corr of a replay's REPLY has this bit; other corrs never do. */
#define IPCN__LATCH_CORR (1ull << 63)
/* A live sample (seq) of r, for s: does s hold it back, as its replay
 * from r's link has not ended and will bring it (a kept stream's)?  A
 * data resource's is not held back but noted, so that the replay does not
 * bring it again.  (Cheap when nothing is awaited.) */
bool ipcn__latch_holds(ipcn_node *n, const ipcn__sub *s,
                       const ipcn__remote *r, uint64_t seq);

/* quarantine.c: what follows a quarantine, ban or lift of a principal
 * (transport/reputation.c; status 205, 202, 100): the application's
 * event, and the other nodes told. */
struct ipcn__rep;
void ipcn__quarantine_on_rep(ipcn_node *n, struct ipcn__rep *r, int status);
/* A peer's QUARANTINE report: recorded, followed as the policy says. */
void ipcn__quarantine_on_frame(ipcn_node *n, ipcn__link *l,
                               const ipcn__frame *f);
/* state.c: criticality and readiness, told to peers and kept of them. */
/* A link is UP: tell it this node's state, if there is any. */
void ipcn__state_on_link_up(ipcn_node *n, ipcn__link *l);
/* A peer's STATE: kept on its link; its first "ready" is an event. */
void ipcn__state_on_frame(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
/* An UP link closed (after its PEER_DOWN): a critical peer's loss is an
 * event of its own. */
void ipcn__state_on_link_down(ipcn_node *n, ipcn__link *l, int status);
/* compromise.c: evidence of compromised peers, and what to do with it. */
/* A link is UP: its identity and executable against what was seen of its
 * name before and what the policy names; its executable watched. */
void ipcn__cz_on_link_up(ipcn_node *n, ipcn__link *l);
void ipcn__cz_on_link_down(ipcn_node *n, ipcn__link *l);
/* Act on the evidence queued (transport/compromise.h). */
void ipcn__cz_drain(ipcn_node *n);
/* Does the policy say who may provide what (a rule for the PROVIDE
 * verb)?  Only then is a refused announcement evidence. */
bool ipcn__cz_provide_ruled(const ipcn_node *n);
/* "exe_changed", "exe_hash", ... as the network event names the kind. */
const char *ipcn__cz_kind_name(ipcn_compromise_kind k);

/* owner.c: several providers of an owned data or stream path.  The group
 * of a path is ranked again after each of these. */
/* A peer's resource was announced (or again), or the policy re-decided
 * it (r->denied): it joins or leaves its path's group. */
void ipcn__own_remote_changed(ipcn_node *n, ipcn__remote *r);
/* It goes (before it is freed). */
void ipcn__own_remote_gone(ipcn_node *n, ipcn__remote *r);
/* This node announced lr (owned or not): 100, or 307. */
int ipcn__own_local_changed(ipcn_node *n, ipcn__local *lr);
/* This node withdraws lr (before it is freed). */
void ipcn__own_local_gone(ipcn_node *n, ipcn__local *lr);
/* The next provider of a query or set p of an owned data path, in rank
 * order: 100 with *link_id (0: this node), 303 when every ranked one was
 * tried, 0 when path has no ranked provider (choose as for any path). */
int ipcn__own_choose(ipcn_node *n, const ipcn__pending *p, bool allow_local,
                     uint32_t *link_id);
void ipcn__own_free_all(ipcn_node *n);
/* This node's subscriptions changed: the owners' links it watches too. */
void ipcn__own_subs_changed(ipcn_node *n);
/* A sample of r, or published here on lr, from a provider that does not
 * own its path (a hot standby): dropped, counted as standby. */
static inline bool ipcn__own_standby_remote(const ipcn__remote *r)
{
    return r->group && !r->owner;
}
static inline bool ipcn__own_standby_local(const ipcn__local *lr)
{
    return lr->group && !lr->owner;
}
/* directory.c: announce (or again) a data or stream path owned, at
 * strength; warm: a warm standby.  As ipcn_announce_owned(). */
int ipcn__dir_announce_owned(ipcn_node *n, const char *path, ipcn_kind kind,
                             const char *encoding, const void *meta,
                             size_t meta_len, int32_t strength, bool warm);
/* typed.c: typed data and streams (ipcnet_schema.h). */
/* The type of a data or stream resource of kind, encoding enc, described
 * by meta: 100 with *schema (allocated) and *len; 103 when it has none (a
 * service: ipcn_offer_typed()); 200 when meta's "schema" is not a valid
 * type, or enc is not CBOR; 307. */
int ipcn__typed_of(ipcn_kind kind, const char *enc, const void *meta,
                   size_t meta_len, uint8_t **schema, size_t *len);
/* May this node publish (or set) data of encoding enc (NULL: lr's) as
 * lr's value?  100 (also when lr is untyped); 200 with the reason in why
 * (may be NULL), counted in stats.typed_refused and logged once per
 * resource; 307. */
int ipcn__typed_check_local(ipcn_node *n, ipcn__local *lr, const char *enc,
                            const void *data, size_t len, char *why,
                            size_t whylen);
/* Does a value of peer l's resource r (a sample, a query's answer) have
 * r's type?  True (also when r is untyped); false: counted in
 * stats.typed_dropped and logged once per resource (out of memory: let
 * through, not counted). */
bool ipcn__typed_check_remote(ipcn_node *n, ipcn__link *l, ipcn__remote *r,
                              const void *data, size_t len);

/* history.c: the debug history of data resources (protocol.md 10.6). */
/* The new value v of the data resource lr was published (v is lr's new
 * current value): entered, when lr's history is on, as set by this node
 * itself; a set amends it with ipcn__hist_setter().  Cheap when off. */
void ipcn__hist_record(ipcn_node *n, ipcn__local *lr, ipcn_msg *v);
/* The same, tested here: a publish with history off (the common case)
 * costs one test and no call. */
static inline void ipcn__hist_on_value(ipcn_node *n, ipcn__local *lr,
                                       ipcn_msg *v)
{
    if (lr->hist || lr->hist_own || n->hist_policy)
        ipcn__hist_record(n, lr, v);
}
/* The network policy changed: every data resource whose provider did not
 * decide (ipcn_announce_history()) keeps what the new one says now (an
 * empty history when it turns on, none when it turns off). */
void ipcn__hist_on_policy(ipcn_node *n);
/* The newest entry of lr (version) came by a set of the peer at link_id
 * (0: this node itself). */
void ipcn__hist_setter(ipcn_node *n, ipcn__local *lr, uint64_t version,
                       uint32_t link_id);
/* lr goes: its history too. */
void ipcn__hist_free(ipcn__local *lr);
/* Version v of lr, for a query: 100 with *out (a reference: free with
 * ipcn_msg_free()); 203 not kept; 204 history off (or not data). */
int ipcn__hist_version(ipcn_node *n, ipcn__local *lr, uint64_t v,
                       ipcn_msg **out);
/* The node service "history" (sys.c's table). */
struct ipcn__sys_call;
struct ipcn__sys_reply;
int ipcn__sys_history(ipcn_node *n, ipcn__link *l,
                      const struct ipcn__sys_call *c,
                      struct ipcn__sys_reply *r);

/* once.c: services run at most once per request id (ipcnet_redundancy.h,
 * protocol.md 12.6). */
/* A request (request_id, not 0) of l (NULL: this node) for lr, which runs
 * at most once: 100 when its handler is to run (it is RUNNING now, this
 * try (l, corr) its runner); 102 when it was handled here (answered from
 * the cache, waits for the running try's answer, or refused).  100 also
 * when lr is not at most once. */
int ipcn__once_admit(ipcn_node *n, ipcn__link *l, ipcn__local *lr,
                     uint64_t corr, uint64_t request_id, uint64_t deadline_ns);
/* The answer of the try (link_id, corr) of path (NULL: of any service), as
 * it is sent: kept for retries, and sent to those that wait. */
void ipcn__once_done(ipcn_node *n, const char *path, uint32_t link_id,
                     uint64_t corr, int status, const void *data, size_t len,
                     const char *enc);
/* The try (link_id, corr) of path failed before its handler ran (out of
 * memory): forgotten, so that a retry runs it; the retries that wait get
 * status. */
void ipcn__once_forget(ipcn_node *n, const char *path, uint32_t link_id,
                       uint64_t corr, int status);
/* The runner of a RUNNING entry was dropped before its handler ran (its
 * requester gave up): true when cb now runs for a retry that waits (its
 * link_id, corr, deadline changed); else the entry is forgotten. */
bool ipcn__once_pass_on(ipcn_node *n, ipcn__cb *cb);
/* Free a cache; n not NULL: the retries that wait are answered 303. */
struct ipcn__once;
void ipcn__once_free(ipcn_node *n, struct ipcn__once *o);

/* ---- prov.c ---- */
/* Free the node's provenance chain and key (at close). */
void ipcn__prov_free(ipcn_node *n);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_redundancy.h — no single point of failure in the data: several
 * providers of one data or stream path ranked by strength (exclusive
 * ownership), requests answered by any, all or a vote of the providers of
 * a service, requests that run at most once at a provider, and the choice
 * among providers by their load and record.
 *
 *   standby:    ipcn_announce_opts o; ipcn_announce_opts_init(&o);
 *               o.strength = 10;
 *               ipcn_announce_owned(node, "robot/lidar", IPCN_STREAM,
 *                                   "pcs", NULL, 0, &o);
 *   vote:       ipcn_request_opts r; ipcn_request_opts_init(&r);
 *               r.mode = IPCN_REQ_VOTE; r.tolerance = 0.01;
 *               ipcn_request_ex(node, "robot/pose", NULL, 0, NULL, &r, &ans);
 *
 * Ownership.  Every provider of an owned path announces it with a strength
 * (ipcn_announce_owned()).  Each node ranks the live providers it knows of
 * the path, itself included, and takes samples and answers from the first
 * only, its owner: the highest strength; of equal strengths, the provider
 * whose node name sorts first (bytewise, as strcmp()), a rule that gives
 * the same owner on every node that knows the same providers.  A provider
 * is live while its link is up, it has not withdrawn the path, and the
 * policy lets it provide the path (a peer that may not provide a path can
 * claim any strength: it is never ranked).  A link to an owner this node
 * takes samples or answers from is watched as one awaiting an answer
 * (pinged, dropped after dead_after_ms of silence counted from its last
 * frame), so an owner that hangs (SIGSTOP) is replaced after dead_after_ms,
 * one that dies (kill -9) as soon as the kernel tells of the hang-up.  When the owner changes, every
 * node that takes the path gets IPCN_EV_OWNER, and its subscriptions go on
 * with the new owner's samples, with no call by the application.  A
 * stronger provider that comes back takes back over.  A node ranks the
 * providers it has linked to: one that has just joined may take a weaker
 * provider's samples until its link to the stronger one is up (and then
 * gets IPCN_EV_OWNER); wait for ipcn_owner_get() to name the owner you
 * expect when that matters.
 *
 * Sequence numbers are per provider, and loss is counted per provider: a
 * take-over is not a loss (ipcn_sub_stats.lost counts only gaps within one
 * provider's numbering), and no sample is delivered twice.  Each message
 * names the provider that published it (ipcn_msg.src_name, src_id).
 *
 * Standby.  A hot standby (IPCN_STANDBY_HOT, the default) publishes all the
 * time: its samples go out, and subscribers drop them and count them
 * (ipcn_sub_stats.standby), so that a take-over loses nothing the new
 * owner had published.  A warm standby (IPCN_STANDBY_WARM) sends nothing
 * until it owns the path: ipcn_publish() returns 207 meanwhile; it learns
 * that it took over from IPCN_EV_OWNER with its own name as the peer.
 *
 * A path is either owned or not: a provider that announces a path with
 * ipcn_announce() while another announced it owned (or the other way
 * round) gets 207, as a second provider of a data or stream path always
 * did.  Peers older than the REDUNDANCY capability (docs/protocol.md)
 * see every provider of an owned path and take samples from all of them.
 *
 * The conventions of ipcnet.h hold: every call returns a status code,
 * output parameters are untouched on failure unless said otherwise, sized
 * structs as described there.
 *
 * Since: 0.2
 */
#ifndef IPCNET_REDUNDANCY_H
#define IPCNET_REDUNDANCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Several providers of one data or stream path                        */
/* ------------------------------------------------------------------ */

/** How a provider that does not own its path behaves.  Since: 0.2 */
typedef enum ipcn_standby {
    IPCN_STANDBY_HOT = 0, /**< publishes all the time; dropped (and counted)
                               by subscribers while another owns the path */
    IPCN_STANDBY_WARM = 1 /**< publishes only once it owns the path */
} ipcn_standby;

/** Options of ipcn_announce_owned(); a sized struct (ipcnet.h).
 *  Since: 0.2 */
typedef struct ipcn_announce_opts {
    uint32_t size;          /**< sizeof(ipcn_announce_opts): set by _init */
    int32_t strength;       /**< rank among the providers: the highest owns
                                 (default 0) */
    ipcn_standby standby;   /**< default IPCN_STANDBY_HOT */
} ipcn_announce_opts;

/** ipcn_announce_opts_init() - the defaults.  Since: 0.2 */
IPCN_API void ipcn_announce_opts_init(ipcn_announce_opts *opts);

/**
 * ipcn_announce_owned() - announce a data or stream path of which there
 * may be several providers, ranked by opts->strength (see the top).  Called
 * again for the same path, it changes the strength or standby mode and
 * announces the path again (the owner is ranked anew everywhere).
 * Returns 101 when created, 100 when changed; 200 (bad arguments, a kind
 * other than data or stream), 202 when the policy does not let this node
 * provide path, 207 when path is provided without ownership, here or by a
 * peer, 307.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_announce_owned(ipcn_node *node, const char *path,
                                 ipcn_kind kind, const char *encoding,
                                 const void *meta, size_t meta_len,
                                 const ipcn_announce_opts *opts);

/** Who owns a path, as this node sees it; a sized struct (ipcnet.h).
 *  Since: 0.2 */
typedef struct ipcn_owner_info {
    uint32_t size;          /**< sizeof(ipcn_owner_info): set it */
    char owner[65];         /**< the owner's node name ("" when none) */
    uint64_t owner_id;      /**< its node id (0 when none) */
    int32_t strength;       /**< its strength */
    bool self;              /**< this node owns it */
    uint32_t providers;     /**< live providers ranked, this node included */
    uint64_t changes;       /**< times the owner changed, as seen here */
} ipcn_owner_info;

/**
 * ipcn_owner_get() - the owner of an owned path.  Returns 100; 203 when no
 * live provider of path announced it owned; 200.  Thread-safe.
 * Since: 0.2
 */
IPCN_API int ipcn_owner_get(ipcn_node *node, const char *path,
                            ipcn_owner_info *out);

/* ------------------------------------------------------------------ */
/* Requests to several providers                                       */
/* ------------------------------------------------------------------ */

/** Who answers a request.  Since: 0.2 */
typedef enum ipcn_req_mode {
    IPCN_REQ_ANY = 0,  /**< one provider, the next one if it fails (as
                            ipcn_request()) */
    IPCN_REQ_ALL = 1,  /**< every provider; every answer is gathered */
    IPCN_REQ_VOTE = 2  /**< every provider; quorum identical answers win */
} ipcn_req_mode;

/** The most providers one ALL or VOTE request asks. */
#define IPCN_REQ_MAX_ASKED 16

/** Options of ipcn_request_ex(); a sized struct (ipcnet.h).  Since: 0.2 */
typedef struct ipcn_request_opts {
    uint32_t size;          /**< sizeof(ipcn_request_opts): set by _init */
    ipcn_req_mode mode;     /**< default IPCN_REQ_ANY */
    int timeout_ms;         /**< as ipcn_request()'s; default 5000 */
    uint32_t quorum;        /**< VOTE: identical answers needed; 0 (the
                                 default): a majority of those asked */
    double tolerance;       /**< VOTE: numbers of CBOR answers that differ
                                 by at most this count as equal (default 0:
                                 exactly) */
    uint64_t request_id;    /**< 0 (the default): a new request; else the
                                 request_id of an earlier ipcn_answers: a
                                 retry, which a provider that offered the
                                 service at most once does not run again
                                 (ipcn_offer_set_opts()) */
    uint32_t max_providers; /**< ALL, VOTE: ask at most this many (0, the
                                 default: all, up to IPCN_REQ_MAX_ASKED) */
} ipcn_request_opts;

/** ipcn_request_opts_init() - the defaults.  Since: 0.2 */
IPCN_API void ipcn_request_opts_init(ipcn_request_opts *opts);

/** One provider's part in an ipcn_request_ex().  Since: 0.2 */
typedef struct ipcn_answer {
    const char *provider;   /**< its node name */
    uint64_t provider_id;
    int status;             /**< its answer's status; 304 when it did not
                                 answer by the deadline (or, VOTE, before
                                 the vote was decided: it was then told
                                 to give up), 303 when it left; a status
                                 of this node (205, 307...) when it could
                                 not be asked */
    const ipcn_msg *msg;    /**< its answer, or NULL (owned by the
                                 ipcn_answers) */
    bool agrees;            /**< VOTE: its answer equals the winner's
                                 (false when there is no winner) */
} ipcn_answer;

/** The answers of ipcn_request_ex(); free with ipcn_answers_free().
 *  Since: 0.2 */
typedef struct ipcn_answers {
    int status;             /**< what ipcn_request_ex() returned */
    uint64_t request_id;    /**< pass it in ipcn_request_opts.request_id to
                                 retry this request */
    size_t count;           /**< providers asked (ANY: 1, or 0 when none
                                 could be) */
    ipcn_answer *items;     /**< count of them, in the order asked: the
                                 peers, then this node's own provider */
    const ipcn_msg *winner; /**< ANY: the answer; VOTE: one of the agreeing
                                 answers; else NULL */
    uint32_t agreeing;      /**< VOTE: answers equal to the winner */
    uint32_t dissenting;    /**< VOTE: answers that came but differ (their
                                 providers are charged an
                                 IPCN_OFFENCE_DISSENT) */
} ipcn_answers;

/**
 * ipcn_request_ex() - a request in a mode (ipcn_request_opts.mode).
 *  - ANY: as ipcn_request(): the status of the answer, and *out->winner.
 *  - ALL: every live provider of path asked at once (the peers whose
 *    announcement of it this node took, and this node itself when it
 *    offers path; at most max_providers), each once: a provider that
 *    leaves is its item's 303, not replaced; 100 when every one answered (each
 *    item has its own status), 104 when some did not answer by the
 *    deadline or left (their items 304, 303), 304 when none answered.
 *  - VOTE: every provider asked at once; only successes (1xx) vote: an
 *    answer 2xx or 3xx counts as none, and is not a dissent.  100 as soon
 *    as quorum answers are equal (the same status, and the same bytes, or
 *    for "cbor" answers of at most 64 KiB the same value with numbers
 *    within tolerance): *out->winner is one of them, and each item says
 *    whether it agrees; 207 when the answers that came can no longer make
 *    a quorum, or the deadline passed with enough answers but no quorum;
 *    304 when fewer than quorum answered by the deadline (or, once some
 *    left, could not be asked or refused, can).  The providers whose
 *    successes came and differ from the winner are dissenters
 *    (ipcn_answers.dissenting).  quorum larger than
 *    the providers asked cannot be reached: 207 or 304.  A vote trusts a
 *    majority: equal wrong answers of most providers win.  Once decided,
 *    the providers not heard from are told to give up (CANCEL), and not
 *    waited for; an answer of theirs that came meanwhile is judged too.
 * Every REQUEST of one call carries the same request id (opts.request_id
 * or a new one: ipcn_answers.request_id), which only providers that run
 * the service at most once are sent.  docs/protocol.md 12.5.
 * Every mode also returns 203 (no provider), 204 (path is not a service),
 * 200, 307, and sets *out on any status but 200 and 307 (free it with
 * ipcn_answers_free()).  Blocks until done; not from a callback of node.
 * Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_request_ex(ipcn_node *node, const char *path,
                             const void *data, size_t len,
                             const char *encoding,
                             const ipcn_request_opts *opts,
                             ipcn_answers **out);

/** ipcn_answers_free() - free the answers and their messages.  NULL:
 *  no-op.  Since: 0.2 */
IPCN_API void ipcn_answers_free(ipcn_answers *answers);

/* ------------------------------------------------------------------ */
/* Requests that run at most once                                      */
/* ------------------------------------------------------------------ */

/**
 * Options of a service this node offers; a sized struct (ipcnet.h).
 *
 * At most once (docs/protocol.md 12.6).  A request carries an id that
 * stays the same across its retries (ipcn_request_opts.request_id,
 * ipcn_answers.request_id).  A service offered at_most_once keeps, per
 * requester and request id, what became of it: while its handler is
 * queued or runs, a retry waits for that run's answer (at most 8 retries
 * wait; more get 205); once answered, a retry gets the same answer (status,
 * encoding, body) without the handler running.  The requester is who the
 * kernel and the link say it is (uid, pid, node name): a peer cannot get
 * or replay another's answer by naming its id.  An answer over 64 KiB is
 * not kept: a retry of it gets 207, "already run; its answer was not kept".
 * A first try given up before its handler started (its requester left,
 * its timeout passed, a CANCEL) runs for a retry that waits, once; with
 * none waiting, it is forgotten, as it never ran.
 *
 * Guaranteed: the handler runs at most once per requester and request id
 * in this provider process while the entry is kept: cache_ms after its
 * answer, and while no more than cache_entries entries (and 4 MiB of
 * answers) are kept, the oldest answers forgotten first; an entry still
 * running is never forgotten (a new id then gets 205 when every entry
 * runs).  Not guaranteed: another provider of the service cannot know
 * what this one ran (a retry that goes there runs there); a provider that
 * restarts, is withdrawn, or turns at_most_once off forgets; a new id, or
 * a request without one (ipcn_request()), is a new run.  Requesters help:
 * a request sent to a provider that offers it at most once is not failed
 * over to another when that provider goes (it may have run it): it ends
 * 303, and the caller may retry with the same id.
 * Since: 0.2
 */
typedef struct ipcn_offer_opts {
    uint32_t size;          /**< sizeof(ipcn_offer_opts): set by _init */
    bool at_most_once;      /**< the handler is not idempotent: a request
                                 id it ran is answered from a cache (see
                                 above; default false) */
    uint32_t cache_ms;      /**< how long an answer is kept, 1..3600000
                                 (default 30000) */
    uint32_t cache_entries; /**< entries (running or answered) kept at
                                 most, 1..65536 (default 1024) */
} ipcn_offer_opts;

/** ipcn_offer_opts_init() - the defaults.  Since: 0.2 */
IPCN_API void ipcn_offer_opts_init(ipcn_offer_opts *opts);

/**
 * ipcn_offer_set_opts() - set the options of a service this node offers
 * (ipcn_offer(), ipcn_offer_typed()), and announce it again (peers learn
 * that it runs at most once, or no longer does).  Set again, the new
 * bounds apply to what is kept (the oldest answers forgotten first);
 * at_most_once false forgets everything kept (retries waiting get 303).
 * Offer, then set the options before requesters use the service: a
 * request that came in between is not known to the cache.  Returns 100;
 * 203 when this node does not offer path; 204 when path is not a service;
 * 200 (bad arguments, a bound out of range with at_most_once); 307.
 * Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_offer_set_opts(ipcn_node *node, const char *path,
                                 const ipcn_offer_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* IPCNET_REDUNDANCY_H */

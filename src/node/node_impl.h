/* SPDX-License-Identifier: MIT */
/*
 * node_impl.h — the structs of a node, shared by the transport, node and
 * engine files.  Plain structs and intrusive lists: the seed asks that the
 * internals need no hiding.
 *
 * Locking: every public entry point takes node->lock (recursive).  I/O is
 * processed with the lock held; epoll_wait() and user callbacks run with it
 * released.  Objects a peer can invalidate (links, subscriptions, pending
 * requests, responders) are found by id, never kept by pointer across an
 * unlock.
 */
#ifndef IPCN_NODE_IMPL_H
#define IPCN_NODE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "shm/shm.h"
#include "transport/ring.h"
#include "util/htab.h"
#include "util/list.h"
#include "util/util.h"
#include "wire/wire.h"

/* Limits on what one peer may make this node hold (denial of service). */
#define IPCN_PEER_MAX_RESOURCES 4096
#define IPCN_PEER_MAX_PATTERNS 1024
#define IPCN_PEER_MAX_INFLIGHT 1024 /* its requests queued or deferred here */
#define IPCN_MAX_PROVIDERS_TRIED 8
#define IPCN_DISPATCH_BUDGET 256    /* callbacks per dispatch round, at
                                       least; more while within: */
#define IPCN_DISPATCH_MAX_NS 1000000ull
#define IPCN_READ_BUDGET (256u << 10) /* bytes read per link per round */
#define IPCN_HELLO_MAX_PAYLOAD 1024u  /* any frame before the peer's hello */
#define IPCN_LINK_MAX_FDS 8           /* descriptors queued per link */
#define IPCN_LINK_MARK_SLACK 4096u    /* a frame without a large part */
#define IPCN_COALESCE_BYTES (64u << 10) /* a blocked link: bytes queued
                                           between two write attempts */
#define IPCN_PEER_MAX_MAPS 64         /* pools of one peer mapped here */
#define IPCN_RING_SIZE (256u << 10)   /* data bytes of a link's ring */
#define IPCN_SPIN_MAX_US 1000000u     /* the most spin_us may ask for */
#define IPCN_SEQ_WINDOW (1ull << 20)  /* the largest gap counted as losses */

/* epoll tags: kind in the high 32 bits, an id in the low ones. */
enum {
    TAG_WAKE = 1,
    TAG_TIMER = 2,
    TAG_LISTEN = 3,
    TAG_INOTIFY = 4,
    TAG_LINK = 5,
    TAG_PIDFD = 6
};

enum link_state {
    LINK_HELLO = 1, /* waiting for the peer's hello */
    LINK_UP = 2,
    LINK_DEAD = 3   /* closed; freed at the end of the round */
};

typedef struct ipcn__link {
    ipcn__list node_entry;
    ipcn__list hello_entry; /* inbound, in node->hello_links until its hello */
    uint32_t id;
    int fd, pidfd;
    enum link_state state;
    bool outbound;
    bool want_out;          /* EPOLLOUT registered */
    bool write_broken;      /* peer hung up: reads still drain its last words */
    bool rx_paused;         /* backlog over tx_limit: stop reading from it */
    bool rx_pending;        /* unpaused with frames still in rx */
    bool synced;            /* its first PING came: its directory is here */
    char *expect_name;      /* outbound: the name of the socket we dialled */
    char *name;             /* from the peer's hello */
    uint64_t peer_id;
    uint32_t peer_max_payload; /* from its hello: what it accepts */
    int32_t pid, uid, gid;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    ipcn__wbuf tx;
    size_t tx_off;          /* bytes of tx already written */
    size_t tx_cap_counted;  /* tx.cap as counted in node->tx_buffer_bytes */
    uint64_t tx_queued_abs; /* bytes ever queued on the link */
    uint64_t tx_sent_abs;   /* bytes ever written to the socket */
    uint64_t tx_tried_abs;  /* tx_queued_abs at the last write attempt */
    uint64_t *sample_ends;  /* ring: tx_queued_abs at the end of each queued
                               sample, so samples lost with the link count */
    uint32_t se_head, se_len, se_cap;
    uint64_t last_drain_ns; /* the peer took bytes we could not write before:
                               it reads, so it lives */
    uint64_t created_ns, last_rx_ns, last_ping_ns, linked_ns;
    /* Liveness (node.c): a link is watched, pinged every heartbeat and
     * dropped after dead_after of silence, only while this node waits for
     * something from the peer; an idle one gets a slow probe. */
    uint64_t unheard_ns;    /* when we queued the first frame since we last
                               heard from it (0: it has answered since) */
    uint32_t awaiting;      /* our queries and requests it has to answer */
    uint32_t resources;     /* remote resources learned from it */
    size_t meta_bytes;      /* what its resources and patterns cost here */
    uint32_t inflight;      /* its requests queued or deferred here */
    char **patterns;        /* its subscription patterns */
    uint32_t npatterns, cap_patterns;
    uint64_t frames_in, frames_out, bytes_in, bytes_out, bad_frames, drops;
    int close_status;       /* why it closed, for the PEER_DOWN event */
    uint32_t peer_caps;     /* from its hello */
    /* Descriptors to send: fds_out[i] goes with the byte at
     * fds_out_at[i] (the first byte of a SHM_POOL frame). */
    int fds_out[IPCN_LINK_MAX_FDS];
    uint64_t fds_out_at[IPCN_LINK_MAX_FDS];
    uint32_t nfds_out;
    int fds_in[IPCN_LINK_MAX_FDS]; /* received, for SHM_POOL frames */
    uint32_t nfds_in;
    uint32_t *pools_sent;   /* ids of our pools whose memfd it has */
    uint32_t npools_sent, cap_pools_sent;
    /* Shared-memory rings (transport/ring.h): ours, which the peer reads
     * from the byte rtx_at of our stream on; the peer's, once its RING
     * frame came (the socket then carries only tokens). */
    ipcn__ring rtx, rrx;
    uint64_t rtx_at;
    bool rtx_blocked;       /* ours is full: the peer's token tells of room */
    bool rtx_wrote;         /* bytes went in since the doorbell was checked */
    bool bell_owed;         /* a room bell waits for our own switch */
    bool spin_ok;           /* the peer may run on another core than us */
} ipcn__link;

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
    void *args_schema;      /* typed service: CBOR types, or NULL */
    size_t args_schema_len;
    void *returns_schema;   /* declared only, not enforced */
    size_t returns_schema_len;
    ipcn_pool_opts pool_opts; /* shared-memory settings */
    ipcn__pool *pool;       /* the current pool, or NULL */
    uint64_t shm_published, shm_reclaimed, shm_refused;
    /* Where a publish goes, as of node->route_gen (route.c): the links
     * that subscribe to it, and whether a subscription of this node does. */
    uint64_t route_gen;
    struct ipcn__link **route_links;
    uint32_t nroute, cap_route, nroute_shm;
    bool route_local;
    uint16_t path_len, enc_len;
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
    /* The subscriptions of this node that its samples go to, as of
     * node->sub_gen (route.c). */
    uint64_t subs_gen;
    struct ipcn__sub **subs;
    uint32_t nsubs, cap_subs;
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
} ipcn__sub;

/* A subscription pattern of this node, deduplicated, as told to peers. */
typedef struct ipcn__interest {
    ipcn__list entry;
    char *pattern;
    uint32_t refs;
} ipcn__interest;

enum pending_kind { PEND_QUERY = 1, PEND_REQUEST = 2 };

/* A query or request of this node waiting for its answer. */
typedef struct ipcn__pending {
    ipcn__list entry;
    uint64_t corr;          /* also the ipcn_req id */
    enum pending_kind kind;
    char *path;
    char *encoding;
    void *data;             /* kept for fail-over to another provider */
    size_t len;
    uint32_t link_id;       /* where it went; 0 = this node */
    uint32_t tried[IPCN_MAX_PROVIDERS_TRIED];
    uint32_t ntried;
    uint64_t deadline_ns;   /* 0: none */
    uint32_t timeout_ms;
    bool awaited;           /* counted in its link's awaiting */
    bool done;
    int status;
    ipcn__msg *reply;
    ipcn_reply_fn fn;       /* async, or NULL for a waiting caller */
    void *user;
} ipcn__pending;

/* A request from a peer whose handler deferred the answer. */
typedef struct ipcn__responder {
    ipcn__list entry;
    uint64_t id;
    uint32_t link_id;       /* 0: a request of this node itself */
    uint64_t corr;
    bool orphan;            /* the requester left: answering gives 303 */
} ipcn__responder;

enum cb_kind { CB_EVENT = 1, CB_REPLY = 2, CB_REQUEST = 3 };

/* A callback waiting for dispatch (samples wait in their subscription). */
typedef struct ipcn__cb {
    ipcn__list entry;
    enum cb_kind kind;
    /* CB_EVENT */
    ipcn_event ev;
    char *ev_peer, *ev_path;
    /* CB_REPLY: the finished pending (owned here) */
    ipcn__pending *pend;
    /* CB_REQUEST */
    uint32_t link_id;
    uint64_t corr;
    ipcn__msg *msg;
    uint64_t deadline_ns;   /* its requester gives up then (0: never) */
} ipcn__cb;

struct ipcn_reply_ctx {
    ipcn_node *node;
    void *data;
    size_t len;
    char *encoding;
    bool deferred;
    uint64_t responder_id;
    int oom;
};

/* One log line per interval for an event that a peer can repeat at will;
 * the others are counted and told with the next line. */
typedef struct ipcn__ratelimit {
    uint64_t next_ns;
    uint64_t suppressed;
} ipcn__ratelimit;

/* A node name seen in the directory that we must dial (lower name dials). */
typedef struct ipcn__dial {
    ipcn__list entry;
    char *name;
    uint32_t attempts;
    uint64_t next_ns;
} ipcn__dial;

struct ipcn_node {
    pthread_mutex_t lock;   /* recursive */
    pthread_cond_t cond;    /* broadcast after every I/O round */
    char *name;
    char *network;
    char *dir;              /* the network's directory */
    uint64_t id;
    ipcn_node_opts opts;
    int epfd, wakefd, timerfd, listenfd, inotifyfd, dirfd, lockfd;
    bool woken;             /* wakefd has been written and not drained */
    bool pumping;           /* a thread is in epoll_wait for this node */
    bool deliver_next;      /* this round's callbacks are delivered right
                               after it (dispatch): no wake-up needed */
    pthread_t cb_thread;    /* the thread running callbacks, if any */
    uint32_t cb_depth;
    bool closing;
    /* ipcn_node_shutdown() or close began: calls that would wait return
     * 303 instead, and those waiting are woken to do so (wait.c). */
    bool shut;
    uint32_t waiters;       /* threads in a waiting call, the lock released */
    /* The fd of ipcn_node_fd(), made on its first call: an epoll set of
     * epfd (the I/O) and readyfd (written while callbacks wait).  The
     * node's own waits use epfd alone, so callbacks that wait for someone
     * to dispatch do not wake them. */
    int outfd, readyfd;
    bool ready;             /* readyfd written and not drained */
    bool accept_paused;     /* out of descriptors: listen again next tick */
    uint32_t nlinks;        /* links not dead */
    bool fd_short;          /* out of descriptors: no accepting, no dialling
                               until some are free (rendezvous.c) */
    bool fd_short_told;     /* ... and the log said so once */
    int spare_fd;           /* kept free to refuse a connection meanwhile */
    uint64_t nofile;        /* RLIMIT_NOFILE when last looked at */
    uint64_t peer_meta_bytes; /* sum of the links' meta_bytes */
    uint64_t meta_refused, peers_refused; /* ipcn_node_usage */
    uint64_t tx_buffer_bytes, tx_buffer_peak; /* links' tx.cap, summed */
    ipcn__list hello_links; /* inbound links waiting for hello, oldest first
                               (some may have said it since: rendezvous.c) */
    ipcn__ratelimit flood_log; /* connections refused or crowded out */
    bool thread_running, thread_stop;
    pthread_t thread;
    uint32_t next_link_id, next_sub_id;
    uint64_t next_corr, next_responder;
    ipcn__list links;       /* ipcn__link; dead ones freed after a round */
    ipcn__list locals;      /* ipcn__local */
    ipcn__list remotes;     /* ipcn__remote */
    ipcn__list subs;        /* ipcn__sub */
    ipcn__list ready_subs;
    ipcn__list interests;   /* ipcn__interest */
    ipcn__list pendings;    /* ipcn__pending */
    ipcn__list responders;  /* ipcn__responder */
    ipcn__list cbq;         /* ipcn__cb */
    ipcn__list dials;       /* ipcn__dial */
    ipcn__list backoffs;    /* ipcn__backoff (backoff.c), oldest first */
    uint32_t nbackoffs;
    uint64_t timer_armed_ns;
    uint64_t last_epoll_ns; /* when epoll was last asked */
    uint64_t round_ns;      /* the time of this I/O round (read once) */
    bool fd_exported;       /* ipcn_node_fd() was called: the application
                               may wait on it, rings must ring */
    uint64_t last_tick_ns;
    struct timespec dir_mtime; /* no inotify: the directory's mtime when
                                  it was last scanned */
    uint32_t scans_skipped; /* ticks since then, the directory unchanged */
    ipcn__wbuf scratch;     /* for encoding once, sending to many */
    bool shm_enabled;       /* IPCNET_NO_SHM unset: take and send shm */
    bool ring_enabled;      /* IPCNET_NO_RING unset: link rings */
    uint32_t next_pool_id;
    ipcn__list pools;       /* ipcn__pool: our shared-memory pools */
    ipcn__pool *reply_pool; /* where large answers of our services go */
    ipcn__list loans;       /* ipcn_loan: loans not yet published */
    ipcn__list maps;        /* ipcn__shm_map: peers' pools mapped here */
    atomic_bool shm_rel_pending; /* a message freed: releases to send */
    ipcn_event_fn event_fn;
    void *event_user;
    ipcn_node_stats stats;
    /* The hot paths (route.c): lookups by path, and caches of who wants
     * what, dropped when a generation moves. */
    ipcn__htab local_idx, remote_idx;
    ipcn__local *last_local;   /* the last found by path, or NULL */
    ipcn__remote *last_remote;
    uint64_t route_gen;     /* links' patterns, links going, local subs */
    uint64_t sub_gen;       /* local subscriptions */
    struct ipcn__msgpool *msgpool; /* blocks for small messages */
};

/* ---- node.c ---- */
void ipcn__node_lock(ipcn_node *n);
void ipcn__node_unlock(ipcn_node *n);
void ipcn__node_wake(ipcn_node *n);       /* make the fd readable */
void ipcn__node_arm_timer(ipcn_node *n, uint64_t at_ns);
/* Force the wake fd: a thread in epoll_wait for the node returns. */
void ipcn__node_kick(ipcn_node *n);
/* One round of I/O: wait up to timeout_ms (-1: forever) with the lock
 * released, handle what came; no callbacks run.  Returns the events. */
int ipcn__node_pump(ipcn_node *n, int timeout_ms);

/* ---- wait.c ---- */
/* Milliseconds until deadline_ns, rounded up: -1 for none (0), 0 when
 * past. */
int ipcn__node_ms_until(uint64_t deadline_ns);
/* Wait (pumping I/O, no callbacks) until *flag or deadline (0: none).
 * Called with the lock held.  Returns 100 when *flag, 304 on timeout, 303
 * when the node shuts down. */
int ipcn__node_wait(ipcn_node *n, const bool *flag, uint64_t deadline_ns);
/* One round of waiting (one pump, or one wake-up when another thread
 * pumps); callers re-check their condition after each.  Lock held.
 * Returns 100, or 303 when the node shuts down (at once, or meanwhile). */
int ipcn__node_wait_round(ipcn_node *n, uint64_t deadline_ns);
/* A call that may wait: one that does not, or has to, leaves the node
 * (close frees it) only after ipcn__node_wait_out(). */
void ipcn__node_wait_in(ipcn_node *n);
void ipcn__node_wait_out(ipcn_node *n);
/* Begin closing (lock held): every waiting call ends with 303. */
void ipcn__node_end_waits(ipcn_node *n);
/* Wait (lock held) until no thread is in a waiting call. */
void ipcn__node_waits_gone(ipcn_node *n);
/* One round of I/O without waiting (no callbacks run), unless another
 * thread is in epoll_wait for the node: it handles what came. */
void ipcn__node_poll(ipcn_node *n);
void ipcn__queue_cb(ipcn_node *n, ipcn__cb *cb);
void ipcn__queue_event(ipcn_node *n, ipcn_event_type type,
                       const ipcn__link *l, const char *path, ipcn_kind kind,
                       int status);
/* A frame arrived on an UP link (node.c routes it to the engine). */
void ipcn__node_frame(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__send_ping(ipcn_node *n, ipcn__link *l, uint8_t type, uint64_t stamp);

/* ---- link.c (transport) ---- */
/* Send a dup of fd with the next frame queued on the link (SCM_RIGHTS).
 * 100, 205 when too many wait, 300. */
int ipcn__link_queue_fd(ipcn__link *l, int fd);
/* The oldest descriptor received and not yet taken, or -1. */
int ipcn__link_take_fd(ipcn_node *n, ipcn__link *l);
ipcn__link *ipcn__link_new(ipcn_node *n, int fd, bool outbound,
                           const char *expect_name);
/* Refuse a link because this node has no descriptor left: 307, counted
 * in links_refused, not as the peer's bad input. */
void ipcn__link_refuse_nofd(ipcn_node *n, ipcn__link *l);
void ipcn__link_close(ipcn_node *n, ipcn__link *l, int status,
                      const char *why);
void ipcn__link_free(ipcn_node *n, ipcn__link *l);
ipcn__link *ipcn__link_by_id(ipcn_node *n, uint32_t id);
ipcn__link *ipcn__link_by_name(ipcn_node *n, const char *name);
void ipcn__link_on_readable(ipcn_node *n, ipcn__link *l);
int ipcn__link_flush(ipcn_node *n, ipcn__link *l);
/* Bytes waiting to be written on the link. */
size_t ipcn__link_backlog(const ipcn__link *l);
/* Where the next frame in l->tx starts: take it just before encoding one
 * (need: its size if large, else 0); it may move the queue to reclaim
 * the bytes already written. */
size_t ipcn__link_tx_mark(ipcn__link *l, size_t need);
/* Queue already-encoded frame bytes (from node->scratch). 100, 205, 307. */
int ipcn__link_send_raw(ipcn_node *n, ipcn__link *l, const uint8_t *p,
                        size_t len, bool droppable);
/* Encode-and-send helpers: fill a header for this link and call enc. */
void ipcn__link_hdr(ipcn_node *n, ipcn__hdr *h, uint16_t status,
                    uint64_t corr);
int ipcn__link_commit(ipcn_node *n, ipcn__link *l, size_t mark, int st);
void ipcn__link_send_error(ipcn_node *n, ipcn__link *l, int status,
                           const char *why);
/* The peer's RING frame: its frames now come through the ring. */
void ipcn__link_on_ring(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
/* Once per I/O round, for a link with rings: read what the peer's ring
 * holds and write what ours has room for. */
void ipcn__link_ring_pass(ipcn_node *n, ipcn__link *l);
/* Before the node blocks: raise the peer ring's "ring the bell" flag and
 * ask for room in ours if it is full.  False when there is work already. */
bool ipcn__link_ring_sleep(ipcn__link *l);

/* ---- backoff.c ---- */
/* The link to name was closed for bad input: one more strike against it.
 * Returns how long to wait before dialling it again (exponential from
 * 100 ms, capped at 30 s, with jitter; reset after 2 min of good
 * behaviour). */
uint64_t ipcn__backoff_strike(ipcn_node *n, const char *name, uint64_t now);
/* Bad closes of name in a row (0: none on record). */
uint32_t ipcn__backoff_strikes(ipcn_node *n, const char *name);
void ipcn__backoff_free_all(ipcn_node *n);

/* ---- rendezvous.c ---- */
int ipcn__rdv_open(ipcn_node *n);      /* dir, lock, bind, listen, inotify */
void ipcn__rdv_close(ipcn_node *n);    /* unlink our socket and lock */
void ipcn__rdv_scan(ipcn_node *n);     /* dial the nodes already there */
void ipcn__rdv_on_inotify(ipcn_node *n);
void ipcn__rdv_on_accept(ipcn_node *n);
void ipcn__rdv_dial_due(ipcn_node *n, uint64_t now);
/* A peer's link went away: dial again later if we are the dialler and
 * its socket is still there. */
void ipcn__rdv_redial(ipcn_node *n, const char *name);
/* The same, delay_ns from now. */
void ipcn__rdv_redial_in(ipcn_node *n, const char *name, uint64_t delay_ns);
/* err (an errno) came from taking a descriptor for what: when it says the
 * process or the system has none left (EMFILE, ENFILE), stop accepting
 * and dialling until some are free, say so once, and return true. */
bool ipcn__rdv_no_fds(ipcn_node *n, int err, const char *what);
/* Are at least k descriptors free? */
bool ipcn__fd_room(const ipcn_node *n, int k);
/* On each tick while accepting is paused: true when it may go on. */
bool ipcn__rdv_resume(ipcn_node *n);
/* Does process pid hold the lock of the name (an exclusive flock on
 * "name.lock", checked in /proc/pid/fdinfo)?  IPCN_OK, IPCN_UNAUTHORIZED
 * (it does not, or it cannot be seen), or IPCN_SERVICE_UNAVAILABLE (we are
 * out of descriptors).  Without /proc it cannot be checked: IPCN_OK. */
int ipcn__rdv_holds_name(ipcn_node *n, const char *name, int32_t pid);
/* Is the node of that name dead (its lock free)?  Removes its files. */
bool ipcn__rdv_sweep(ipcn_node *n, const char *name);
/* Are all live nodes in the directory linked and synced?  Sets *pending to
 * how many are not. */
bool ipcn__rdv_all_synced(ipcn_node *n, unsigned *pending);

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
/* Account bytes of a peer's resources or patterns: 100, or 205 past
 * peer_meta_max, 307 past peer_meta_budget (then counted and logged, and
 * nothing taken).  ipcn__meta_give() gives them back. */
int ipcn__meta_take(ipcn_node *n, ipcn__link *l, size_t bytes);
void ipcn__meta_give(ipcn_node *n, ipcn__link *l, size_t bytes);
void ipcn__local_free(ipcn__local *lr);
int ipcn__dir_send_announce(ipcn_node *n, ipcn__link *l,
                            const ipcn__local *lr);

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
void ipcn__req_on_reply(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__req_on_link_down(ipcn_node *n, ipcn__link *l);
/* A CANCEL: the requester gave up; its request is not started. */
void ipcn__req_on_cancel(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
void ipcn__req_on_withdraw(ipcn_node *n, const char *path, uint32_t link_id);
void ipcn__req_timeouts(ipcn_node *n, uint64_t now);
uint64_t ipcn__req_next_deadline(ipcn_node *n);
void ipcn__req_run(ipcn_node *n, ipcn__cb *cb); /* deliver, lock released */
void ipcn__pending_free(ipcn__pending *p);
void ipcn__responder_free_all(ipcn_node *n);

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

/* The fan-out (route.c) of
 * one message to every matching subscription of this node.  gap: the
 * sample's, counted on each (NULL: a notice, counted on none). */
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

#endif

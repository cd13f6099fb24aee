/* SPDX-License-Identifier: MIT */
/*
 * node.h — the node: its loop (epoll, timers, wake-ups), its links, the
 * rendezvous directory, the callbacks waiting for dispatch.  The node's
 * struct is the state every layer of the core works on; its functions
 * (node.c, loop.c, dispatch.c, wait.c, backoff.c, rendezvous.c) are
 * below the engine, which they reach only through its one entry.
 *
 * Locking: every public entry point takes node->lock (recursive).  I/O is
 * processed with the lock held; epoll_wait() and user callbacks run with it
 * released.  Objects a peer can invalidate (links, subscriptions, pending
 * requests, responders) are found by id, never kept by pointer across an
 * unlock.
 */
#ifndef IPCN_NODE_H
#define IPCN_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ipcnet.h"
#include "shm/shm.h"
#include "transport/link.h"
#include "transport/route.h"
#include "util/htab.h"
#include "util/list.h"
#include "util/util.h"
#include "wire/wire.h"

#define IPCN_DISPATCH_BUDGET 256    /* callbacks per dispatch round, at
                                       least; more while within: */
#define IPCN_DISPATCH_MAX_NS 1000000ull

struct ipcn__local;
struct ipcn__remote;
struct ipcn__pending;
struct ipcn__msg;
struct ipcn__msgpool;

enum cb_kind { CB_EVENT = 1, CB_REPLY = 2, CB_REQUEST = 3, CB_SET = 4 };

/* A callback waiting for dispatch (samples wait in their subscription). */
typedef struct ipcn__cb {
    ipcn__list entry;
    enum cb_kind kind;
    /* CB_EVENT */
    ipcn_event ev;
    char *ev_peer, *ev_path;
    ipcn_compromise *ev_cz; /* COMPROMISE: the evidence, its strings after
                               it in the same block */
    /* CB_REPLY: the finished pending (owned here) */
    struct ipcn__pending *pend;
    /* CB_REQUEST, CB_SET (msg: the request, or the value to set) */
    uint32_t link_id;
    uint64_t corr;
    struct ipcn__msg *msg;
    uint64_t deadline_ns;   /* its requester gives up then (0: never) */
    uint64_t reply_deadline_ns; /* this node's own request's deadline, told
                                   to the handler only (not abandoned) */
    uint64_t expect_version; /* CB_SET: 0 any */
} ipcn__cb;

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
    char *name;             /* with its namespace, "left.camera" */
    char *network;
    char *dir;              /* the network's directory */
    ipcn__names names;      /* namespace and remap rules (naming.c) */
    bool unique_name;       /* take "name-2" ... when name is taken */
    uint32_t debug_liveness_ms; /* asked of peers in STATE (0: none) */
    bool shared_dir;        /* a network shared by a Unix group (mode 3770,
                               rendezvous.c): socket 0660, others' files
                               are not ours to sweep */
    uint64_t stale_told[8]; /* (dev ^ inode) of other users' dead nodes
                               already logged as left behind; a ring */
    uint32_t stale_told_next;
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
    uint64_t first_corr; /* next_corr at open: ours are above it */
    ipcn__list links;       /* ipcn__link; dead ones freed after a round */
    ipcn__list locals;      /* ipcn__local */
    ipcn__list remotes;     /* ipcn__remote */
    ipcn__list subs;        /* ipcn__sub */
    ipcn__list ready_subs;
    ipcn__list interests;   /* ipcn__interest */
    ipcn__list latch_waits; /* replays asked of peers (engine/latch.c) */
    uint64_t latch_next;    /* the last replay's number */
    uint32_t latch_active;  /* ... of them, not yet ended */
    ipcn__list pendings;    /* ipcn__pending */
    ipcn__list responders;  /* ipcn__responder */
    ipcn__list cbq;         /* ipcn__cb */
    ipcn__list dials;       /* ipcn__dial */
    ipcn__list backoffs;    /* ipcn__backoff (backoff.c), oldest first */
    uint32_t nbackoffs;
    uint64_t timer_armed_ns;
    uint64_t last_epoll_ns; /* when epoll was last asked */
    uint64_t hup_clear_ns;  /* when epoll last told every ready link: no
                               link's peer had hung up then unless said */
    uint64_t round_ns;      /* the time of this I/O round (read once) */
    bool fd_exported;       /* ipcn_node_fd() was called: the application
                               may wait on it, rings must ring */
    uint64_t last_tick_ns;
    struct timespec dir_mtime; /* no inotify: the directory's mtime when
                                  it was last scanned */
    uint32_t scans_skipped; /* ticks since then, the directory unchanged */
    ipcn__wbuf scratch;     /* for encoding once, sending to many */
    struct ipcn__prov *prov; /* provenance chain and key (engine/prov.c) */
    struct ipcn__prov_pins *prov_pins; /* keys pinned by the verifier */
    bool prov_default;      /* IPCNET_PROVENANCE=on: new resources have it */
    bool shm_enabled;       /* IPCNET_NO_SHM unset: take and send shm */
    bool ring_enabled;      /* IPCNET_NO_RING unset: link rings */
    uint8_t crit;           /* this node's ipcn_criticality (opts or
                               $IPCNET_CRITICALITY), told in STATE */
    bool said_ready;        /* ipcn_node_ready() was called */
    uint32_t next_pool_id;
    ipcn__list pools;       /* ipcn__pool: our shared-memory pools */
    ipcn__pool *reply_pool; /* where large answers of our services go */
    ipcn__pool *request_pool; /* where our large requests go (12.9) */
    ipcn__list loans;       /* ipcn_loan: loans not yet published */
    ipcn__list maps;        /* ipcn__shm_map: peers' pools mapped here */
    atomic_bool shm_rel_pending; /* a message freed: releases to send */
    /* Called at the start of ipcn_node_close(), lock not held: a layer
     * above the core (files/) forgets the node (set with the lock held). */
    void (*close_hook)(ipcn_node *n);
    ipcn_event_fn event_fn;
    void *event_user;
    ipcn_node_stats stats;
    /* The hot paths (router.c): lookups by path, and caches of who wants
     * what, dropped when a generation moves. */
    ipcn__htab local_idx, remote_idx;
    struct ipcn__local *last_local;   /* the last found by path, or NULL */
    struct ipcn__remote *last_remote;
    uint64_t route_gen;     /* links' patterns, links going, local subs */
    uint64_t sub_gen;       /* local subscriptions */
    struct ipcn__msgpool *msgpool; /* blocks for small messages */
    /* Who may do what.  node_policy.c finds, loads and watches the
     * network's policy; the gate (transport/gate.c) decides with it;
     * engine/access.c keeps what was decided and the provider's rules. */
    struct ipcn__policy *policy; /* never NULL while the node is open */
    bool hist_policy;       /* policy->guard.debug_history != 0, cached for
                               the publish path (engine.h) */
    uint64_t policy_gen;    /* moves with anything that decides: the
                               policy, a provider's rules, a group */
    char *policy_path;      /* the file enforced (or looked for) */
    int64_t policy_owner;   /* the uid that may own it besides root */
    bool shared_net;        /* the directory is a group's (setgid) */
    bool policy_required;   /* named by IPCNET_POLICY: must exist */
    int policy_wd;          /* inotify watch of the file's directory */
    bool policy_wd_shared;  /* ... which is the network's own directory */
    struct {
        bool present;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtim, ctim;
    } policy_stamp;         /* the version of the file last read */
    ipcn__principal self;   /* this node's own principal */
    struct ipcn__group *groups; /* run-time IPCNet groups (access.c) */
    uint32_t ngroups;
    ipcn__list access;      /* ipcn__access: providers' rules by path */
    /* Reputation (transport/reputation.c): a record per principal, least
     * recently used first; how many are quarantined or banned. */
    ipcn__list reps;
    uint32_t nreps, reps_active, reps_owed;
    uint32_t rep_hold;      /* > 0: refusals are not the peers' doing (a
                               policy reload re-deciding): not charged */
    ipcn__ratelimit rep_log; /* links refused: a log line a second */
    /* Rate limits and quotas (transport/limits.c). */
    struct ipcn__limit *plimits; /* providers' own limits, by path */
    uint32_t nplimits;
    ipcn__list lim_users;   /* buckets of "per: user" limits, by uid */
    ipcn__list lim_conns;   /* buckets of "connections" rates, by uid
                               (limits.c), least recently used first */
    uint32_t nlim_conns;
    ipcn__list fair_uids;   /* each uid's part of the queue below */
    uint32_t peer_queued;   /* peers' requests queued or deferred here */
    uint32_t fair_active;   /* uids holding some of them */
    /* Evidence of compromised peers, isolation (transport/compromise.h);
     * NULL until first needed. */
    struct ipcn__cz *cz;
    /* The application's part in the ordered shutdown (engine/
     * sys_shutdown.c): its handlers, the phases asked; NULL until
     * ipcn_on_shutdown() is first called or the service first asked. */
    struct ipcn__sdown *sdown;
    atomic_bool shm_verify_pending; /* a peer's sample failed verification:
                                       the maps tell (shm/map.c) */
    /* This node's own requests to its own services queued, running or
     * deferred here (engine/provide.c): with peer_queued, the load its
     * answers report (protocol 12.7). */
    uint32_t own_queued;
    /* The providers of each owned path (engine/owner.c), by path. */
    ipcn__htab owngroups;
    /* A gateway (ipcn_node_gateway(), gateway.c): its host key, trust
     * list, TCP socket and peers; NULL for an ordinary node. */
    struct ipcn__gw *gw;
    struct ipcn__tcp_host *tcp; /* ... its host key and trust list, for
                               its TCP links (transport/tcp.h) */
    /* Several hosts (transport/route*.c, vlink.c): a router (a gateway)
     * tells its links the nodes it reaches and forwards frames for
     * others; every node keeps the ways its routers told, and counts the
     * FORWARD frames it sends (their seq). */
    bool router;
    ipcn__route_table routes;
    uint64_t fwd_seq;
    ipcn__wbuf fwd_buf;     /* a FORWARD being built */
    char *host_name;        /* told in the ROUTE about itself (gethostname) */
    char *user_name;        /* ... and the user it runs as */
};


/* ---- loop.c ---- */
void ipcn__node_lock(ipcn_node *n);
void ipcn__node_unlock(ipcn_node *n);
void ipcn__node_wake(ipcn_node *n);       /* make the fd readable */
/* Force the wake fd: a thread in epoll_wait for the node returns. */
void ipcn__node_kick(ipcn_node *n);
/* One round of I/O: wait up to timeout_ms (-1: forever) with the lock
 * released, handle what came; no callbacks run.  Returns the events. */
int ipcn__node_pump(ipcn_node *n, int timeout_ms);

/* ---- shared by node.c, loop.c and dispatch.c ---- */
/* Watch fd in the node's epoll set, tagged kind: 100 or 300 (node.c). */
int ipcn__node_add_fd(ipcn_node *n, int fd, uint32_t kind);
/* Arm the timer for the next thing due after now (loop.c). */
void ipcn__node_rearm(ipcn_node *n, uint64_t now);
/* Free the links closed during the round (loop.c). */
void ipcn__node_free_dead_links(ipcn_node *n);
/* Free a callback that will not run (dispatch.c). */
void ipcn__node_cb_free(ipcn_node *n, ipcn__cb *cb);
/* The fd of ipcn_node_fd(): readable while callbacks wait, or not. */
void ipcn__node_set_ready(ipcn_node *n);
void ipcn__node_clear_ready(ipcn_node *n);
void ipcn__node_drain_wake(ipcn_node *n);

/* ---- node.c ---- */
/* A layer above the core that keeps state per node (files/) asks to be
 * told when the node closes: fn runs at the start of ipcn_node_close(),
 * the lock not held.  One hook; setting it again replaces it. */
void ipcn__node_set_close_hook(ipcn_node *n, void (*fn)(ipcn_node *n));

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
/* The same for a peer known by name only (NULL: none). */
void ipcn__queue_event_of(ipcn_node *n, ipcn_event_type type,
                          const char *peer, uint64_t peer_id,
                          const char *path, ipcn_kind kind, int status);
/* An IPCN_EV_COMPROMISE event carrying a copy of c. */
void ipcn__queue_compromise_event(ipcn_node *n, const ipcn_compromise *c);


/* ---- backoff.c ---- */
/* The link to name was closed for bad input: one more strike against it.
 * Returns how long to wait before dialling it again (exponential from
 * 100 ms, capped at 30 s, with jitter; reset after 2 min of good
 * behaviour). */
uint64_t ipcn__backoff_strike(ipcn_node *n, const char *name, uint64_t now);
/* Bad closes of name in a row (0: none on record). */
uint32_t ipcn__backoff_strikes(ipcn_node *n, const char *name);
void ipcn__backoff_free_all(ipcn_node *n);

/* ---- gateway.c ---- */
/* Connections to the gateway's TCP socket. */
void ipcn__gw_on_accept(ipcn_node *n);
/* Its discovery socket is readable: dial the trusted hosts heard. */
void ipcn__gw_on_disc(ipcn_node *n);
/* Dial the peers that are due, close lingering sockets that are done,
 * beacon when due. */
void ipcn__gw_tick(ipcn_node *n, uint64_t now);
/* When the gateway next needs the timer (0: never). */
uint64_t ipcn__gw_next_ns(ipcn_node *n, uint64_t now);
/* The node closes: its TCP socket, peers, lingering sockets, keys. */
void ipcn__gw_free(ipcn_node *n);
/* An inotify event (wd, name): true when it was about the trust list,
 * which was then read again (links of keys taken off it closed). */
bool ipcn__gw_inotify(ipcn_node *n, int wd, uint32_t mask, const char *name);

/* ---- node_policy.c: the network policy of the node ---- */
/* Find and load it (before the node accepts anyone): 100, or 202 when it
 * is refused, 307. */
int ipcn__node_policy_open(ipcn_node *n);
void ipcn__node_policy_close(ipcn_node *n);
/* The file changed (or may have): load it again, as a whole or not at
 * all, and tell the engine. */
void ipcn__node_policy_poll(ipcn_node *n);
/* An inotify event: true when it was the policy's (and was handled). */
bool ipcn__node_policy_event(ipcn_node *n, int wd, const char *name);

/* ---- naming.c ---- */
/* The node's namespace, remap rules and name (n->names, n->name: the
 * namespace's "ns.name"), from opts and the environment; whether it takes
 * "name-2" ... when its name is taken (n->unique_name).  100, 200 (logged,
 * with the reason), 307. */
int ipcn__node_names_open(ipcn_node *n, const ipcn_node_opts *o,
                          const char *name);
/* The path the program gave, as on the wire (util/remap.c): *path is set
 * to buf (IPCN_PATH_MAX + 1 bytes) when the namespace or a rule changes
 * it; NULL is left as it is (the caller refuses it).  100 or 200.  The
 * result is still to be checked as a path or a pattern. */
int ipcn__node_resolve(const ipcn_node *n, const char **path, char *buf);
/* Take the lock of n->name in the network directory (protocol 6.2): 100
 * (n->lockfd); 207 when a live node has it (logged with who holds it),
 * unless n->unique_name, which takes the first free "name-2" ... and
 * renames n; 300, 307. */
int ipcn__node_take_name(ipcn_node *n);

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
/* An operator lifted name's quarantine: dial it now, even if a dial was
 * waiting for the quarantine's end (unless something else still refuses
 * it here). */
void ipcn__rdv_dial_soon(ipcn_node *n, const char *name);
/* On each tick while accepting is paused: true when it may go on. */
bool ipcn__rdv_resume(ipcn_node *n);
/* Does file (in dirfd) name the file open as fd (same device, inode)? */
bool ipcn__rdv_same_file(int dirfd, const char *file, int fd);
/* Is the node of that name dead (its lock free)?  Removes its files. */
bool ipcn__rdv_sweep(ipcn_node *n, const char *name);
/* Are all live nodes in the directory linked and synced, and every node
 * of another host our routers told of (its routed link)?  Sets *pending to
 * how many are not. */
bool ipcn__rdv_all_synced(ipcn_node *n, unsigned *pending);

#endif

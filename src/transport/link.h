/* SPDX-License-Identifier: MIT */
/*
 * link.h — a link to one peer (transport): the socket, its queues and
 * rings, the hello that starts it.  The link checks each frame and hands
 * what it received to the engine's one entry (engine/entry.h); it calls
 * nothing above the transport.
 *
 * Locking: the node's lock (node/node.h) is held on every call here.
 */
#ifndef IPCN_LINK_H
#define IPCN_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "policy/policy.h"
#include "transport/ring.h"
#include "util/list.h"
#include "util/util.h"
#include "wire/wire.h"

#define IPCN_READ_BUDGET (256u << 10) /* bytes read per link per round */
#define IPCN_READ_BUDGET_LIMITED (16u << 10) /* ... of a peer a limit refused
                                        within IPCN_LIMITED_NS: its flood
                                        waits in its own socket, not in
                                        everyone's round */
#define IPCN_LIMITED_NS 100000000ull
#define IPCN_SEC_BUF_KEEP (16u << 20) /* a TCP link keeps its grown rx and tx
                                        buffers up to this size: a buffer
                                        given back is faulted in again page
                                        by page for the next large frame,
                                        which cost more than the cipher */
#define IPCN_HELLO_MAX_PAYLOAD 1024u  /* any frame before the peer's hello */
#define IPCN_LINK_MAX_FDS 8           /* descriptors queued per link */
#define IPCN_LINK_MARK_SLACK 4096u    /* a frame without a large part */
#define IPCN_COALESCE_BYTES (64u << 10) /* a blocked link: bytes queued
                                           between two write attempts */
#define IPCN_RING_SIZE (256u << 10)   /* data bytes of a link's ring */
#define IPCN_SPIN_MAX_US 1000000u     /* the most spin_us may ask for */

/* epoll tags (the node's loop and the links it registers): kind in the
 * high 32 bits, an id in the low ones. */
enum {
    TAG_WAKE = 1,
    TAG_TIMER = 2,
    TAG_LISTEN = 3,
    TAG_INOTIFY = 4,
    TAG_LINK = 5,
    TAG_PIDFD = 6,
    TAG_GW_LISTEN = 7,    /* a gateway's TCP socket (node/gateway.c) */
    TAG_GW_DISC = 8       /* its discovery socket (node/discovery.c) */
};

static inline uint64_t ipcn__epoll_tag(uint32_t kind, uint32_t id)
{
    return (uint64_t)kind << 32 | id;
}

/* The principal behind a link: policy/policy.h (fixed by identity.c). */

enum link_state {
    LINK_SECURE = 4, /* TCP: the Noise handshake runs (link_tcp.c); no
                       frame passes until it is done */
    LINK_HELLO = 1, /* waiting for the peer's hello */
    LINK_UP = 2,
    LINK_DEAD = 3   /* closed; freed at the end of the round */
};

/* What carries a link's frames. */
enum link_kind {
    LINK_UNIX = 0,   /* a Unix-domain socket on this host (rendezvous.c) */
    LINK_TCP = 1,    /* a TCP connection to a router of another host, its
                        bytes in Noise transport messages (link_tcp.c,
                        node/gateway.c) */
    LINK_ROUTED = 2  /* a node reached through routers: no socket of its
                        own; its frames go in FORWARD frames on the link
                        of the next hop (route.c, vlink.c) */
};

struct ipcn__sec;   /* link_tcp.c: the Noise state and the record buffers */

typedef struct ipcn__link {
    ipcn__list node_entry;
    ipcn__list hello_entry; /* inbound, in node->hello_links until its hello */
    uint32_t id;
    int fd, pidfd;
    enum link_kind kind;
    enum link_state state;
    bool outbound;
    bool want_out;          /* EPOLLOUT registered */
    bool write_broken;      /* peer hung up: reads still drain its last words */
    bool rx_paused;         /* backlog over tx_limit: stop reading from it */
    bool peer_hung_up;      /* epoll said so: what it sent is read, but
                               nothing it asked is started */
    uint64_t rdhup_watched_ns; /* watched for EPOLLRDHUP since (0: from
                               the start, UINT64_MAX: not while paused) */
    bool rx_pending;        /* unpaused with frames still in rx */
    bool synced;            /* its first PING came: its directory is here */
    char *expect_name;      /* outbound: the name of the socket we dialled */
    uint32_t peer_max_payload; /* from its hello: what it accepts */
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
    /* Liveness (node/loop.c): a link is watched, pinged every heartbeat and
     * dropped after dead_after of silence, only while this node waits for
     * something from the peer; an idle one gets a slow probe. */
    uint64_t unheard_ns;    /* when we queued the first frame since we last
                               heard from it (0: it has answered since) */
    uint32_t awaiting;      /* our queries and requests it has to answer */
    uint64_t owning_since_ns; /* when owning last rose from 0 */
    uint32_t owning;        /* owned paths this node takes from it as their
                               owner (engine/owner.c): watched as awaiting */
    uint32_t resources;     /* remote resources learned from it */
    size_t meta_bytes;      /* what its resources and patterns cost here */
    uint32_t inflight;      /* its requests queued or deferred here */
    uint64_t lim_free_gen;  /* the policy generation under which no limit
                               applies to it (limits.c): a frame's one
                               branch; else l->lim says what does */
    char **patterns;        /* its subscription patterns */
    uint32_t npatterns, cap_patterns;
    uint64_t frames_in, frames_out, bytes_in, bytes_out, bad_frames, drops;
    uint64_t denied;        /* refused by policy (gate.c: ipcn__gate_count) */
    uint64_t audited;       /* ... that an audit policy let through */
    struct ipcn__traffic *traffic; /* what it sends, per resource and verb
                               (traffic.c); NULL until its first */
    int close_status;       /* why it closed, for the PEER_DOWN event */
    uint32_t retry_ms;      /* the peer refused it: retry after (its
                               ERROR said so; reputation.c), or 0 */
    uint64_t rep_limited_ns; /* RATE_LIMITED last charged (reputation.c) */
    uint64_t limited_ns;    /* a limit last refused it (limits.c) */
    uint32_t reports_tokens; /* its QUARANTINE reports: a bucket */
    uint64_t reports_ns;    /* ... refilled up to then (engine/quarantine.c) */
    uint32_t peer_caps;     /* from its hello */
    uint8_t peer_crit;      /* its criticality, from its STATE (0: none) */
    bool peer_ready;        /* its STATE said ready (engine/state.c) */
    uint32_t peer_liveness_ms; /* how long its latest STATE asks to be
                               waited for when silent (0: not asked); the
                               node grants it up to its policy's debug
                               liveness (node/loop.c) */
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
    /* Who the peer is (identity.c): read when the link starts and when a
     * decision is not cached, so kept out of the hot fields above. */
    ipcn__principal who;
    /* Rate limits and quotas (limits.c): what applies to it (lim_free_gen
     * is with the hot fields above). */
    struct ipcn__link_lim *lim;
    struct ipcn__fair *fair; /* its uid's part of the node's queue */
    uint64_t rate_limited;  /* its requests, queries, sets answered 205 */
    uint64_t samples_limited; /* its samples dropped over a limit */
    bool lim_told;          /* the log said so once */
    /* Detection (compromise.c): the inotify watch of its executable (0:
     * none), its refusals in the current window. */
    int cz_wd;
    uint64_t viol_start_ns;
    uint32_t viol_count;
    /* Several hosts.  TCP: the secure channel (link_tcp.c), the address
     * dialled or accepted from ("tcp://A:P"), the peer host key and the
     * name our trust list gives it; frames that failed authentication
     * (a flipped bit, a replay: the link is closed at the first).
     * ROUTED: the link of the next hop (its id; 0: no route now), and the
     * highest FORWARD seq taken from the peer (route.c).  Every kind: the
     * last PING's round trip. */
    struct ipcn__sec *sec;
    char *addr;
    uint8_t peer_key[32];
    bool has_peer_key;
    uint64_t auth_failures;
    uint32_t via_id;
    uint64_t fwd_seq_in;
    uint64_t loops;         /* FORWARDs it brought that looped: 308 */
    bool hello_resent;      /* ROUTED: our HELLO sent again once, the
                               peer's having been lost (vlink.c) */
    uint64_t rtt_ns;
    bool route_owed;        /* closed while the route table was changing:
                               its ways go once the change is done */
    bool router;            /* the peer may send ROUTE and FORWARD frames
                               for others (route.c: who may route) */
} ipcn__link;

/* The bytes to read from l in this round: less for a peer that a limit
 * refused lately (gate fairness: one flooder does not fill the rounds). */
static inline size_t ipcn__link_read_budget(uint64_t round_ns,
                                            const ipcn__link *l)
{
    return l->limited_ns && round_ns - l->limited_ns < IPCN_LIMITED_NS
               ? IPCN_READ_BUDGET_LIMITED
               : IPCN_READ_BUDGET;
}

/* ---- link*.c ---- */
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
/* Queue already-encoded frame bytes (from node->scratch). 100, 200, 205,
 * 303, 307; a droppable frame not queued is counted in the drops. */
int ipcn__link_send_raw(ipcn_node *n, ipcn__link *l, const uint8_t *p,
                        size_t len, bool droppable);
/* The same in two steps, for a frame of len bytes encoded straight into
 * l->tx between them (no copy through the scratch buffer): _begin checks
 *  the limits and gives the mark (100, 200, 205, 303: nothing to undo);
 * _end takes st, the encoder's status, and queues the frame or, if st or
 * the buffer failed, takes it back. */
int ipcn__link_send_begin(ipcn_node *n, ipcn__link *l, size_t len,
                          bool droppable, size_t *mark);
int ipcn__link_send_end(ipcn_node *n, ipcn__link *l, size_t mark,
                        bool droppable, int st);
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

/* Queue a PING or PONG (type) carrying stamp (link_hello.c). */
void ipcn__send_ping(ipcn_node *n, ipcn__link *l, uint8_t type, uint64_t stamp);

/* ---- link_tcp.c (several hosts) ---- */
/* A TCP link (an accepted or dialled socket to another host's gateway,
 * addr "tcp://A:P"): it starts in LINK_SECURE with the Noise handshake,
 * initiated by the dialling side; once done and the peer's key is in the
 * trust list it goes on as any link (the hello first); a key the list
 * does not name gets an ERROR 309 and the link is closed. */
ipcn__link *ipcn__link_new_tcp(ipcn_node *n, int fd, bool outbound,
                               const char *addr);
/* A TCP link's I/O: its queue leaves in Noise transport messages, and
 * what comes is decrypted into rx (a message that does not authenticate
 * closes the link: counted in auth_failures).  write_some returns as
 * send(); on_readable as ipcn__link_on_readable(). */
ssize_t ipcn__sec_write_some(ipcn_node *n, ipcn__link *l);
void ipcn__sec_on_readable(ipcn_node *n, ipcn__link *l);
void ipcn__sec_free(ipcn__link *l);
/* The cipher of a TCP link's transport messages ("ChaChaPoly", "AESGCM"),
 * "" before its handshake is done or for another kind of link. */
const char *ipcn__sec_cipher(const ipcn__link *l);

/* The host key, trust list and lingering sockets of TCP links:
 * transport/tcp.h. */

/* ---- fds.c ---- */
/* Move the node's timer earlier to at_ns (never later). */
void ipcn__node_arm_timer(ipcn_node *n, uint64_t at_ns);
/* Are at least k descriptors free? */
bool ipcn__fd_room(const ipcn_node *n, int k);
/* err (an errno) came from taking a descriptor for what: when it says the
 * process or the system has none left (EMFILE, ENFILE), stop accepting
 * and dialling until some are free, say so once, and return true. */
bool ipcn__fds_short(ipcn_node *n, int err, const char *what);
#define IPCN_FD_HEADROOM 8 /* free descriptors to dial or accept a link */

/* ---- identity.c ---- */
/* Fix the principal of a new link from its socket (SO_PEERCRED,
 * SO_PEERGROUPS); NULL name until its hello. */
void ipcn__identity_take(ipcn__principal *who, int fd);
/* Does the process of who hold the lock of the name (an exclusive flock
 * on "name.lock" in the node's directory)?  For a peer of our own euid,
 * checked in /proc/pid/fdinfo; for one of another user (whose descriptors
 * we may not see), the lock file must be owned by its uid and /proc/locks
 * must list its pid holding a FLOCK WRITE lock on that file.
 * IPCN_OK, IPCN_UNAUTHORIZED (it does not, or it cannot be seen), or
 * IPCN_SERVICE_UNAVAILABLE (we are out of descriptors).  Without /proc it
 * cannot be checked: IPCN_OK. */
int ipcn__identity_holds_name(ipcn_node *n, const char *name,
                              const ipcn__principal *who);
/* /proc/locks: does a line say that pid (any pid when pid <= 0) holds an
 * exclusive flock on the file (dev, ino)?  1 yes, 0 no, -errno when the
 * file cannot be read.  Reads at most 16 MiB of it, a line at a time. */
int ipcn__proc_locks_held(int32_t pid, uint64_t dev, uint64_t ino);
/* The parser of it, for tests: one line (no newline), and a text of
 * lines.  maj and min are the device's major and minor numbers. */
bool ipcn__proc_locks_line(const char *line, size_t len, int32_t pid,
                           uint32_t maj, uint32_t min, uint64_t ino);
bool ipcn__proc_locks_text(const char *text, size_t len, int32_t pid,
                           uint32_t maj, uint32_t min, uint64_t ino);

/* ---- exe.c ---- */
/* The executable of process pid: *path (/proc/pid/exe, allocated; NULL
 * when it cannot be read: another user's process, no /proc) and, when it
 * returns true, its SHA-256 in sha, read through an open of
 * /proc/pid/exe and cached process-wide by the file's (dev, inode, size,
 * mtime).  Thread-safe.  Executables over 256 MiB are not hashed. */
bool ipcn__exe_identify(int32_t pid, char **path, uint8_t sha[32]);
/* For tests: how many files were hashed (cache misses) so far; and empty
 * the cache. */
uint64_t ipcn__exe_hashes_done(void);
void ipcn__exe_cache_clear(void);
/* Take the name the peer proved at hello (a copy), and its executable
 * (ipcn__exe_identify): 100 or 307. */
int ipcn__identity_name(ipcn__principal *who, const char *name, size_t len,
                        uint64_t node_id);
void ipcn__identity_free(ipcn__principal *who);
/* The executable of process pid: its path and SHA-256, read through
 * /proc/<pid>/exe; left unknown (NULL, not hashed) when not readable. */
void ipcn__identity_exe(ipcn__principal *who, int32_t pid);

#endif

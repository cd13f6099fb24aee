/* SPDX-License-Identifier: MIT */
/*
 * ipcnet.h — the public C API of libipcnet.
 *
 * IPCNet lets processes on one host find each other and share data and
 * services with no broker.  A process opens one or more nodes; each node
 * announces resources (data, streams, services) under '/'-separated paths,
 * finds the resources of others, queries, subscribes, publishes and requests.
 *
 * Conventions that hold for every call unless its comment says otherwise:
 *  - The return value is a status code from the table below (ipcn_status).
 *    100..199 mean success; IPCN_IS_OK(st) tests for it.
 *  - Output parameters come last and are left untouched on failure.  The
 *    one exception is ipcn_node_open(), whose output comes first: the node
 *    it makes stands where every other call has its object.
 *  - Strings passed in are copied; the caller keeps ownership.
 *  - Objects handed out are freed with the function named in their comment.
 *  - Every call on a node is thread-safe (the node holds an internal lock),
 *    except ipcn_node_close(), which must be the last call on the node: it
 *    may run while other threads wait in the node (the calls that wait, below,
 *    end at once with 303 and close returns once they have left), but no
 *    call may start on the node once close has begun.  To stop threads that
 *    call the node in a loop, ipcn_node_shutdown() first, join them, then
 *    close.
 *  - User callbacks run only inside ipcn_node_dispatch() (or on the node's
 *    own thread after ipcn_node_start_thread()), never from inside the call
 *    that registered them, and never with the node's lock held: a callback
 *    may call any function on the node except ipcn_node_close(),
 *    ipcn_node_stop_thread() and ipcn_node_dispatch().  Calls that wait
 *    (ipcn_query, ipcn_request, ipcn_sub_take, ipcn_node_wait_peers,
 *    ipcn_node_wait_synced, and ipcn_node_dispatch) sleep in the kernel
 *    until something comes; they process I/O while they wait but run no
 *    callbacks (dispatch aside): a node with no thread of its own answers
 *    requests only while someone dispatches.  ipcn_node_shutdown() and
 *    ipcn_node_close() end them with 303 (IPCN_SERVICE_UNAVAILABLE).
 *
 * Sized structs: every struct the caller allocates and a call reads
 * (options) or fills (counters, results) starts with `uint32_t size`, so
 * that later versions can add fields at its end.  The caller sets size to
 * sizeof the struct it was built with:
 *  - options (ipcn_node_opts, ipcn_pool_opts, ipcn_files_get_opts,
 *    ipcn_media_desc): their _init function sets it, with the defaults;
 *  - counters and results (ipcn_node_stats, ipcn_node_usage,
 *    ipcn_pool_stats, ipcn_sub_stats, ipcn_files_stats, ipcn_files_result,
 *    ipcn_media_h264_stats, and ipcn_media_desc as filled by
 *    ipcn_media_desc_decode()): set it before the call,
 *        ipcn_node_stats st = {.size = sizeof st};
 *    (in C++: ipcn_node_stats st{}; st.size = sizeof st;).
 * Every call checks size the same way: under the size of the struct's
 * first version (0.1), 0 included, the call fails with 200 and touches
 * nothing.  A caller built against an older, smaller version gets only
 * the fields it knows: options past its size take their defaults, and
 * no byte past its size is written.  Options larger than this library
 * knows are refused with 200 (the _init functions set the library's own
 * size, so a program built against a newer header still runs: its newer
 * fields are ignored); of counters and results larger than the library
 * knows, the fields it does not know are left as the caller set them.
 *
 *
 * Names (every public header follows them):
 *  - ipcn_ and IPCN_ are public, ipcn__ and IPCN__ private.
 *  - A call on an object is ipcn_<object>_<verb>: ipcn_node_open,
 *    ipcn_node_set_event_fn, ipcn_msg_free, ipcn_loan_publish,
 *    ipcn_sub_take, ipcn_pool_get_stats.  A family of calls shares one
 *    prefix: ipcn_files_*, ipcn_media_*, ipcn_cbor_*, ipcn_tensor_*.
 *  - The verbs of the network, made through a node, are the verb alone:
 *    ipcn_announce, ipcn_withdraw, ipcn_find, ipcn_publish, ipcn_query,
 *    ipcn_subscribe, ipcn_unsubscribe, ipcn_offer, ipcn_request,
 *    ipcn_respond, ipcn_set, ipcn_peers, ipcn_subscriptions.
 *  - Pairs: _open/_close, _new/_free, _ref/_free; _init fills a caller's
 *    struct with its defaults; _get_stats and _get_usage read counters.
 *  - Every declaration says since which version it exists ("Since: 0.1").
 *
 * Since: 0.1
 */
#ifndef IPCNET_H
#define IPCNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(IPCN_BUILDING_LIBRARY)
#define IPCN_API __attribute__((visibility("default")))
#else
#define IPCN_API
#endif

#define IPCN_VERSION_MAJOR 0
#define IPCN_VERSION_MINOR 1
#define IPCN_VERSION_PATCH 0
/** The version this header describes, as MAJOR*10000 + MINOR*100 + PATCH. */
#define IPCN_VERSION_NUMBER \
    (IPCN_VERSION_MAJOR * 10000 + IPCN_VERSION_MINOR * 100 + IPCN_VERSION_PATCH)

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

/*
 * The status codes of the IPCNet design document.  The numbers are part of
 * the wire protocol.  X(NAME, CODE, "Text").  IPCN_CONFLICT (207) is IPCNet's
 * own addition: a node name already in use in the network, or an
 * ipcn_set() whose expected version is not the current one.  Services may
 * return application codes from 1000 up; they pass through unchanged.
 */
#define IPCN_STATUS_LIST(X)                                        \
    X(OK, 100, "OK")                                               \
    X(CREATED, 101, "Created")                                     \
    X(ACCEPTED, 102, "Accepted")                                   \
    X(NO_DATA, 103, "No Data")                                     \
    X(PARTIAL_DATA, 104, "Partial Data")                           \
    X(BAD_REQUEST, 200, "Bad Request")                             \
    X(UNAUTHORIZED, 201, "Unauthorized")                           \
    X(FORBIDDEN, 202, "Forbidden")                                 \
    X(NOT_FOUND, 203, "Not Found")                                 \
    X(METHOD_NOT_ALLOWED, 204, "Method Not Allowed")               \
    X(TOO_MANY_REQUESTS, 205, "Too Many Requests")                 \
    X(UPGRADE_REQUIRED, 206, "Upgrade Required")                   \
    X(CONFLICT, 207, "Conflict")                                   \
    X(INTERNAL_ERROR, 300, "Internal Process Error")               \
    X(NOT_IMPLEMENTED, 301, "Not Implemented")                     \
    X(BAD_GATEWAY, 302, "Bad Gateway")                             \
    X(SERVICE_UNAVAILABLE, 303, "Service Unavailable")             \
    X(GATEWAY_TIMEOUT, 304, "Gateway Timeout")                     \
    X(VERSION_NOT_SUPPORTED, 305, "IPCNet Version Not Supported")  \
    X(INSUFFICIENT_STORAGE, 306, "Insufficient Storage")           \
    X(INSUFFICIENT_MEMORY, 307, "Insufficient Memory")             \
    X(LOOP_DETECTED, 308, "Loop Detected")                         \
    X(NETWORK_AUTH_REQUIRED, 309, "Network Authentication Required")

/** Since: 0.1 */
typedef enum ipcn_status {
#define IPCN__STATUS_ENUM(name, code, text) IPCN_##name = code,
    IPCN_STATUS_LIST(IPCN__STATUS_ENUM)
#undef IPCN__STATUS_ENUM
    IPCN_STATUS_APP_FIRST = 1000 /**< first application-defined code */
} ipcn_status;

/** True when st is a success code (100..199).  Evaluates st once. */
#define IPCN_IS_OK(st) ((unsigned)(st) - 100u < 100u)

/**
 * ipcn_status_str() - the name of a status code ("Not Found").
 * Returns a static string; "Application Status" for codes >= 1000 and
 * "Unknown Status" for anything else.  Thread-safe.  Since: 0.1
 */
IPCN_API const char *ipcn_status_str(int status);

/** ipcn_version() - the library's version string, "0.1.0". Since: 0.1 */
IPCN_API const char *ipcn_version(void);
/** ipcn_version_number() - the library's IPCN_VERSION_NUMBER. Since: 0.1 */
IPCN_API int ipcn_version_number(void);

/* ------------------------------------------------------------------ */
/* Allocation and logging (process-wide)                               */
/* ------------------------------------------------------------------ */

/**
 * ipcn_set_allocator() - route every allocation of the library through
 * these three functions (all three, or all NULL to restore libc's).
 * Call it before any node is opened; not thread-safe.
 * Returns 100, or 200 when only some of the pointers are NULL.  Since: 0.1
 */
IPCN_API int ipcn_set_allocator(void *(*malloc_fn)(size_t),
                                void *(*realloc_fn)(void *, size_t),
                                void (*free_fn)(void *));

/** Since: 0.1 */
typedef enum ipcn_log_level {
    IPCN_LOG_ERROR = 0,
    IPCN_LOG_WARN = 1,
    IPCN_LOG_INFO = 2,
    IPCN_LOG_DEBUG = 3
} ipcn_log_level;

/**
 * Log sink.  id is a stable identifier of the event ("IPCN-LINK-BADFRAME"),
 * msg a human-readable line that names the peer where there is one.
 */
typedef void (*ipcn_log_fn)(ipcn_log_level level, const char *id,
                            const char *msg, void *user);

/**
 * ipcn_set_log() - send the library's log lines of level <= max_level to fn
 * (NULL: to stderr).  The default is stderr at the level named by the
 * IPCNET_LOG environment variable (error, warn, info, debug; default warn).
 * Process-wide; safe to call at any time.  Returns 100.  Since: 0.1
 */
IPCN_API int ipcn_set_log(ipcn_log_level max_level, ipcn_log_fn fn, void *user);

/* ------------------------------------------------------------------ */
/* Nodes                                                               */
/* ------------------------------------------------------------------ */

typedef struct ipcn_node ipcn_node;

/** Options for ipcn_node_open(), a sized struct (see the top).
 *  Initialise with ipcn_node_opts_init().  Since: 0.1 */
typedef struct ipcn_node_opts {
    uint32_t size;          /**< sizeof(ipcn_node_opts), set by _init */
    const char *network;    /**< NULL: $IPCNET_NETWORK, else "default" */
    const char *dir;        /**< base directory: the network's directory is
                                 <dir>/<network>.  NULL: $IPCNET_DIR, else
                                 $XDG_RUNTIME_DIR/ipcnet, else
                                 /tmp/ipcnet-<uid> */
    uint32_t heartbeat_ms;  /**< while this node waits for something from a
                                 peer (an answer to a query or request,
                                 bytes it must take, an answer to anything
                                 sent since it last spoke), the peer is
                                 pinged when silent this long, and again
                                 every heartbeat_ms; 200.  A link with
                                 nothing outstanding is not pinged (see
                                 idle_probe_ms): a peer's death is seen at
                                 once without pings (socket hang-up, pidfd);
                                 pings find peers that hang. */
    uint32_t dead_after_ms; /**< a peer that stays silent this long while
                                 this node waits for something from it is
                                 dropped (at least 2 * heartbeat_ms); 900.
                                 A node must dispatch (or run its thread)
                                 at least this often while its peers wait
                                 for it, or they drop it (a peer that keeps
                                 reading, or whose process is runnable,
                                 gets up to 4 times longer).  An idle peer
                                 that hangs is dropped at most
                                 idle_probe_ms (1.5 times that when it
                                 dialled us) + dead_after_ms after it last
                                 spoke. */
    uint32_t max_payload;   /**< largest frame payload accepted; 16 MiB */
    uint32_t tx_limit;      /**< bytes queued per link before streams drop
                                 samples and other sends fail with 205
                                 (a reply then goes as a short 205); past
                                 1.25 times it, the node stops reading
                                 from the peer until its queue is down to
                                 half of it.  The memory holding a link's
                                 queue stays under 1.5 x tx_limit + one
                                 frame (the largest payload the peer
                                 accepts), plus whatever this node itself
                                 announces to that peer while it does not
                                 read: a full queue's buffer grows by a
                                 quarter, the bytes already written are
                                 reclaimed before it grows, and one over
                                 1 MiB is given back once the queue is
                                 empty (ipcn_node_usage.tx_buffer_bytes).
                                 64 MiB */
    uint32_t spin_us;       /**< low-latency mode: before a thread of the
                                 node blocks for I/O, it polls the shared-
                                 memory rings of its links for up to this
                                 many microseconds (a core busy meanwhile).
                                 Skipped for peers pinned to the same single
                                 core and on one-CPU machines.  0: the value
                                 of $IPCNET_SPIN_US, else off (the default:
                                 the node blocks at once and an idle node
                                 costs no CPU).  At most 1 000 000.
                                 Since: 0.1 */
    uint32_t idle_probe_ms; /**< the slow probe of an idle link: a link on
                                 which this node waits for nothing is
                                 pinged once it has been silent this long
                                 (by the side that dialled it; the other
                                 side only after 1.5 times as long, when
                                 those probes stop), so that a peer that
                                 hung while idle leaves the directory in
                                 the end.  0: 120000 (2 min).  Values below
                                 heartbeat_ms are raised to it.
                                 Since: 0.1 */
    /* What peers may make this node hold.  Each cap is per node, so the
     * whole is bounded however many peers come: max_peers links, each
     * with its queue (under 1.5 x tx_limit + one frame of memory for a
     * peer that reads slowly, see tx_limit), plus peer_meta_budget.
     * 0 in any of these: the default. */
    uint32_t max_peers;     /**< peers linked at once; more are refused
                                 with ERROR 205 "too many peers" and
                                 counted in ipcn_node_usage.peers_refused;
                                 512.  Since: 0.1 */
    uint32_t peer_meta_max; /**< bytes one peer may make this node keep for
                                 what it announces (path, encoding, meta and
                                 a record's overhead per resource) and its
                                 subscription patterns; past it, the
                                 announce or subscribe is refused with ERROR
                                 205 and counted in meta_refused; 4 MiB.
                                 Since: 0.1 */
    uint32_t peer_meta_budget; /**< the same, all peers together; past it,
                                 refused with ERROR 307; 64 MiB.
                                 Since: 0.1 */
    uint32_t criticality;   /**< how much the robot needs this node: an
                                 ipcn_criticality, told to every peer (see
                                 "Readiness, criticality and shutdown").
                                 0: $IPCNET_CRITICALITY ("optional",
                                 "important" or "critical"; anything else
                                 is refused with 200) when $IPCNET_NODE is
                                 unset or is this node's name (a
                                 supervisor sets both for its component;
                                 other nodes its process or its children
                                 open do not take it), else unset.
                                 Since: 0.2 */
    /* Names (README "Names: namespaces and remapping"; all read once, by
     * ipcn_node_open(), which keeps no pointer to these strings). */
    const char *ns;         /**< the namespace: every relative path this
                                 node gives (announce, publish, subscribe,
                                 find, query, request ...) is put under
                                 it, and the node's name becomes
                                 "ns.name" (the namespace's '/' as '.'):
                                 "left" makes "camera/rgb" left/camera/rgb
                                 and the node "camera" left.camera.  A
                                 path that starts with '/' is absolute:
                                 not namespaced.  Segments of
                                 [A-Za-z0-9_-] separated by '/', a leading
                                 '/' allowed, at most 62 bytes.  NULL:
                                 $IPCNET_NAMESPACE; "" or "/": none.  A
                                 namespace that does not parse: 200 (and
                                 a log line saying why).  Since: 0.2 */
    const char *remap;      /**< remap rules "FROM=TO,FROM=TO", tried in
                                 order before those of $IPCNET_REMAP; the
                                 first whose FROM is the whole (expanded)
                                 name replaces it by TO; a rule whose FROM
                                 and TO both end in "/" and "**" (a prefix
                                 rule) moves FROM and all under it.  FROM
                                 and TO are namespaced as paths are.  At
                                 most 64 rules, 8 KiB; NULL: none.  Rules
                                 that do not parse: 200, all of them
                                 refused.  Since: 0.2 */
    uint32_t unique_name;   /**< nonzero: when a live node has the name,
                                 take the first free of name-2, name-3,
                                 ... name-65 instead (ipcn_node_name()
                                 says which).  0: as $IPCNET_NAME_SUFFIX
                                 says ("1": yes; unset, empty or "0": no;
                                 anything else: 200).  Since: 0.2 */
    uint32_t debug_liveness_ms; /**< debugging: ask the peers to wait this
                                 long before they drop this node when it
                                 is silent (stopped at a breakpoint, or by
                                 SIGSTOP), instead of their dead_after_ms.
                                 Told to them in STATE; each grants at
                                 most its network policy's
                                 "debug: liveness:" (none without it: see
                                 docs/policy.md), so a node cannot make
                                 itself undroppable where the network's
                                 owner did not allow it.  At most
                                 IPCN_DEBUG_LIVENESS_MAX_MS, else 200.
                                 0: $IPCNET_DEBUG_LIVENESS, in whole
                                 seconds (0 to 86400; anything else:
                                 200); unset: not asked.  Since: 0.2 */
} ipcn_node_opts;

/** The most a node may ask its peers to wait for it (a day).  Since: 0.2 */
#define IPCN_DEBUG_LIVENESS_MAX_MS 86400000u

/** ipcn_node_opts_init() - fill *opts with the defaults. Since: 0.1 */
IPCN_API void ipcn_node_opts_init(ipcn_node_opts *opts);

/**
 * ipcn_node_open() - join a network as a node called name.
 * @out:  on success, the new node; free it with ipcn_node_close().
 * @name: 1..64 bytes of [A-Za-z0-9._-], not starting with '.'; unique in
 *        the network.
 * @opts: NULL for the defaults.
 *
 * Binds the node's socket in the network's rendezvous directory (created
 * with mode 0700 when missing), removes stale sockets of dead nodes, and
 * starts linking to the nodes already there.  Links complete during
 * ipcn_node_dispatch() (or on the node's thread); ipcn_node_wait_peers()
 * waits for them.
 *
 * The directory is either the user's own (writable by no one else), or a
 * network shared by the users of a Unix group (made by `ipcnet network
 * create NAME --group G`; docs/protocol.md, section 6.1): owned by root or
 * by us, group-owned by a group this process is in, mode 3770 (setgid,
 * sticky, nothing for others).  In a shared network the node's socket is
 * made 0660 and its lock file 0600; the name of a node of another user,
 * alive or dead, cannot be taken (207), and such a dead node's files are
 * left in place (logged once, IPCN-RDV-STALE).  Since: 0.2
 *
 * With a namespace (opts.ns, $IPCNET_NAMESPACE) the node's name is
 * "ns.name" (ipcn_node_name()).  A name that is taken is logged with who
 * holds it (IPCN-RDV-NAME: its pid and executable, or its user); with
 * opts.unique_name (or $IPCNET_NAME_SUFFIX=1) the node takes the first
 * free name-2 ... name-65 instead.  Since: 0.2
 *
 * Returns 100; 200 for an invalid name or options (also a namespace, remap
 * rules, $IPCNET_NAME_SUFFIX or $IPCNET_DEBUG_LIVENESS that does not parse:
 * logged with the reason); 207 when a live node
 * already has that name (or, in a shared network, another user holds its
 * lock file); 202 when the directory is not usable (owned by another user,
 * wrong mode, a shared network of a group this process is not in, or one
 * it cannot enter) or its base (IPCNET_DIR, opts.dir,
 * $XDG_RUNTIME_DIR/ipcnet) is owned by another user than us or root, or
 * is writable by others without the sticky bit; 307 out of memory; 300 for a system error
 * (logged with errno).  Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_node_open(ipcn_node **out, const char *name,
                            const ipcn_node_opts *opts);

/**
 * ipcn_node_close() - leave the network: withdraw every resource, end
 * pending requests of this node with 303 (their callbacks are not called),
 * say goodbye to each peer, flush for at most 100 ms, remove the node's
 * socket and free everything.  Stops the node's thread if it runs.
 * Calls of other threads waiting in the node (ipcn_request, ipcn_query,
 * ipcn_sub_take, ipcn_node_wait_peers, ipcn_node_wait_synced,
 * ipcn_node_dispatch) end at once with 303, as after ipcn_node_shutdown(),
 * and close returns once every one of them has left the node (a dispatch
 * when its callback returns); node is invalid after.  No other call may
 * start on the node once close has begun.
 * NULL is a no-op.  Must not be called from a callback of this node.
 * Since: 0.1
 */
IPCN_API void ipcn_node_close(ipcn_node *node);

/**
 * ipcn_node_shutdown() - the first half of ipcn_node_close(): every call
 * that waits in the node (ipcn_request, ipcn_query, ipcn_sub_take,
 * ipcn_node_wait_peers, ipcn_node_wait_synced, ipcn_node_dispatch) ends at
 * once with 303, on every thread, and from now on such a call returns 303
 * instead of waiting (ipcn_query and ipcn_request always; ipcn_sub_take
 * still returns a sample already queued; the wait_* calls still return 100
 * when what they wait for is there).  The node stays open otherwise: its
 * thread, if started, keeps delivering callbacks, and publish, announce and
 * the rest still work, until ipcn_node_close().  Use it to stop the threads
 * of an application that loop on the node, join them, then close it.
 * Thread-safe; may be called from a callback and more than once.
 * Returns 100, 200 for a NULL node.  Since: 0.1
 */
IPCN_API int ipcn_node_shutdown(ipcn_node *node);

/** ipcn_node_name() - the node's name; valid until close: the name given
 * to ipcn_node_open(), with its namespace ("left.camera") and its suffix
 * ("camera-2", ipcn_node_opts.unique_name) when it has them. Since: 0.1 */
IPCN_API const char *ipcn_node_name(const ipcn_node *node);

/**
 * ipcn_node_resolve() - the path (or pattern) a name given to this node
 * becomes on the wire: its namespace and remap rules applied, as every
 * call that takes a path or pattern applies them (ipcn_node_opts.ns,
 * .remap; README "Names: namespaces and remapping").  Paths the library
 * gives back (ipcn_find() results, a message's path) are such resolved
 * paths: to give one to a call again, make it absolute ("/" + path).
 * @buf, @cap: where the result goes, NUL-terminated.
 * Thread-safe.  Returns 100; 200 for NULL arguments or a name that is not
 * a path or pattern once resolved; 306 when cap is too small (then buf is
 * untouched).  Since: 0.2
 */
IPCN_API int ipcn_node_resolve(ipcn_node *node, const char *name, char *buf,
                               size_t cap);
/** ipcn_node_id() - the node's random 64-bit id. Since: 0.1 */
IPCN_API uint64_t ipcn_node_id(const ipcn_node *node);
/** ipcn_node_dir() - the rendezvous directory in use. Since: 0.1 */
IPCN_API const char *ipcn_node_dir(const ipcn_node *node);

/**
 * ipcn_node_fd() - one file descriptor that becomes readable (EPOLLIN)
 * whenever ipcn_node_dispatch() has work: I/O on any link, a timer, a
 * callback to deliver (also while another thread waits in the node).
 * Owned by the node; made on the first call (the same fd after).
 * Returns the fd, or -1 for a NULL node or when no descriptor could be
 * made (logged; errno as epoll_create1() or eventfd() left it).  Since: 0.1
 */
IPCN_API int ipcn_node_fd(ipcn_node *node);

/**
 * ipcn_node_timeout() - the longest a foreign event loop may wait on
 * ipcn_node_fd() before calling ipcn_node_dispatch(): 0 when callbacks are
 * waiting, else -1 (the node's timers are inside its fd).  Since: 0.1
 */
IPCN_API int ipcn_node_timeout(ipcn_node *node);

/**
 * ipcn_node_dispatch() - wait up to timeout_ms (-1: forever, 0: do not
 * wait) for work, do it, and deliver the callbacks that are due.
 * Returns 100 when it did something, 103 when the time ran out idle, 200
 * when called from a callback of this node, 303 after the node's thread was
 * started (dispatch belongs to that thread then), or when the node shuts
 * down or closes (ipcn_node_shutdown(), ipcn_node_close(); also while it
 * waits).  Since: 0.1
 */
IPCN_API int ipcn_node_dispatch(ipcn_node *node, int timeout_ms);

/**
 * ipcn_node_start_thread() - run dispatch on a thread owned by the node,
 * until ipcn_node_stop_thread() or ipcn_node_close().  Callbacks run on that
 * thread.  Returns 100, 200 when already started, 300 if no thread could be
 * made.  Since: 0.1
 */
IPCN_API int ipcn_node_start_thread(ipcn_node *node);

/**
 * ipcn_node_stop_thread() - stop and join the node's thread.  Must not be
 * called from a callback.  Returns 100, 203 when no thread runs.  Since: 0.1
 */
IPCN_API int ipcn_node_stop_thread(ipcn_node *node);

/**
 * ipcn_node_wait_peers() - process I/O until at least count peers are
 * linked and synced (their resources and subscriptions have arrived, so a
 * find, query or request right after sees them) or timeout_ms passes
 * (-1: forever).  It sleeps meanwhile and runs no callbacks.
 * Returns 100, 304 on timeout, 303 when the node shuts down or closes
 * (ipcn_node_shutdown(), ipcn_node_close(); also while it waits).
 * Since: 0.1
 */
IPCN_API int ipcn_node_wait_peers(ipcn_node *node, unsigned count,
                                  int timeout_ms);

/**
 * ipcn_node_wait_synced() - dispatch until this node knows the whole
 * network as it is now: every live node in the network's directory is
 * linked and has sent all of its resources and subscriptions.  Use it
 * before a find, or before publishing to subscribers that already exist.
 * A live node is a valid name with a socket N.sock and a regular file
 * N.lock (docs/protocol.md 6.1); other entries in the directory are not
 * waited for.  Returns 100, or 304 when some node did not sync in time (a
 * node that hangs, or one still starting), 303 when the node shuts down or
 * closes (also while it waits).  Since: 0.1
 */
IPCN_API int ipcn_node_wait_synced(ipcn_node *node, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/** Since: 0.1 */
typedef enum ipcn_kind {
    IPCN_ANY = 0,     /**< only as a filter of ipcn_find() */
    IPCN_DATA = 1,    /**< a value the provider holds; query, subscribe */
    IPCN_STREAM = 2,  /**< samples published over time; subscribe */
    IPCN_SERVICE = 3  /**< a routine others request */
} ipcn_kind;

/**
 * A received value: a sample, a query answer, a request or a reply.
 * Handed to callbacks as const (valid until the callback returns) or
 * returned by ipcn_query()/ipcn_request()/ipcn_sub_take() (free it with
 * ipcn_msg_free()).  data is NUL-terminated one byte past len, so text
 * values can be used as C strings.
 * Since: 0.1
 */
typedef struct ipcn_msg {
    int status;            /**< 100 for a value; see the callbacks */
    const char *path;      /**< the resource */
    const char *encoding;  /**< how to decode data ("" when unknown) */
    const void *data;      /**< the bytes (never NULL) */
    size_t len;
    uint64_t src_id;       /**< the node that sent it */
    const char *src_name;  /**< its name */
    uint64_t seq;          /**< per-resource sequence number (samples) */
    uint64_t timestamp_ns; /**< CLOCK_REALTIME when published (samples) */
    uint32_t flags;        /**< IPCN_MSG_* bits */
} ipcn_msg;

/** ipcn_msg.flags: data is a read-only mapping of the publisher's shared
 *  memory (writing to it kills the process with SIGSEGV). */
#define IPCN_MSG_SHARED 0x1u
/** ipcn_msg.flags: data is writable and private to this message (a
 *  ipcn_msg_writable() view). */
#define IPCN_MSG_WRITABLE 0x2u

/**
 * ipcn_msg_free() - release a message: one reference of it (see
 * ipcn_msg_ref()); the last one frees it, and for a shared-memory sample
 * gives its slot back to the publisher.  NULL: no-op.  Thread-safe, from
 * any thread, also after the node that delivered it was closed.  Since: 0.1
 */
IPCN_API void ipcn_msg_free(ipcn_msg *msg);

/**
 * ipcn_msg_ref() - take one more reference of a message: keep a sample
 * given to a callback past its return, with no copy.  Release each
 * reference with ipcn_msg_free().  A shared-memory sample holds its
 * publisher's slot while referenced: hold few, briefly (see
 * ipcn_pool_opts.policy).  Thread-safe.  Returns msg.  Since: 0.1
 */
IPCN_API ipcn_msg *ipcn_msg_ref(const ipcn_msg *msg);

/**
 * ipcn_msg_writable() - a private copy of msg whose data may be written:
 * the writes are seen by no one else (not the publisher, not the other
 * subscribers), and it is a snapshot: nothing anyone else does later
 * changes it.  It is a copy made at this call (one pass over the bytes),
 * for a shared-memory sample too, in pages of its own with the data at the
 * same offset within its page as in the slot (a tensor's alignment is
 * kept).  A sample its publisher changed before this call (a write after
 * publishing, a slot reclaimed) is copied as it is now: ipcn_msg_verify()
 * of the copy, before you write to it, says whether those are the bytes
 * that were published.  @out: free with ipcn_msg_free(); for a
 * shared-memory sample it holds the sample's slot like a reference (and
 * ipcn_msg_verify() works on it as on the sample).  Thread-safe.
 * Returns 100, 200 for NULL arguments, 307 out of memory (or of address
 * space), 300 when the mapping failed.  Since: 0.1
 */
IPCN_API int ipcn_msg_writable(const ipcn_msg *msg, ipcn_msg **out);

/**
 * ipcn_msg_verify() - check data against the checksum (XXH3-64) its
 * publisher took when it published a shared-memory sample: a publisher
 * that wrote to a sample after publishing it, or a slot reclaimed under a
 * reader (IPCN_POOL_DROP_OLDEST), is caught here.  Of an
 * ipcn_msg_writable() copy of such a sample it checks the copy: a change
 * made before the copy was taken is caught, none made to the slot after
 * can reach it (and the copy's own writes make it fail).  Inline messages were
 * checked when their frame arrived.  Costs one pass over the bytes.
 * Returns 100 when the bytes are as published, 302 when they are not,
 * 103 when the publisher took no checksum (ipcn_pool_opts.checksum 0),
 * 200 for NULL.  Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_msg_verify(const ipcn_msg *msg);

/**
 * ipcn_msg_retry_after_ms() - the time after which a refusal over a rate
 * limit says to try again: msg is the answer of ipcn_request() (or of
 * ipcn_query(), which sets *out for such a 205) with status 205, whose
 * encoding is "text/plain;retry_after_ms=N" (see "Limits").  Returns N
 * (>= 1), or -1 when msg says no time (another status, a 205 of a cap on
 * requests in flight or of a saturated link, NULL).  Thread-safe.
 * Since: 0.2
 */
IPCN_API int ipcn_msg_retry_after_ms(const ipcn_msg *msg);

/* ------------------------------------------------------------------ */
/* Resources: announce, withdraw, find                                 */
/* ------------------------------------------------------------------ */

/*
 * Names.  Every path and pattern a program gives to a call of a node
 * (announce, withdraw, find, publish, loans and pools, query, set,
 * subscribe, offer, request, access rules and limits, owned paths, file
 * services) is a name, resolved by the node before use: put under its
 * namespace unless it starts with '/' (absolute: the '/' is dropped), then
 * remapped by its rules (ipcn_node_opts.ns and .remap, $IPCNET_NAMESPACE
 * and $IPCNET_REMAP); a name that starts with '@' is taken as it is.
 * Without a namespace or rules a name is its path, and "/a" is "a".  The
 * path rules below apply to the result; paths the library gives back are
 * results (ipcn_node_resolve()).  Since: 0.2
 */

/**
 * ipcn_announce() - make a resource known to the network.
 * @path:     '/'-separated, 1..255 bytes of UTF-8, no empty segment, no
 *            '*' segment, no control characters.
 * @kind:     IPCN_DATA, IPCN_STREAM or IPCN_SERVICE.
 * @encoding: how its values are encoded ("text/plain", "video/h264", ...);
 *            NULL or "" for unknown; at most 255 bytes.
 * @meta, @meta_len: an opaque metadata blob (a CBOR map by convention),
 *            copied; at most 64 KiB.
 * Announcing a path this node already announced replaces the descriptor
 * (the version goes up).  Services also need ipcn_offer(), which announces.
 * A data or stream resource whose meta is a CBOR map with the key "schema"
 * is typed: its values must be of that type (ipcnet_schema.h; since 0.2).
 * Returns 100 (101 when new), 200 for invalid arguments (since 0.2: also a
 * "schema" that is not a valid type, or a typed resource whose encoding is
 * not CBOR), 207 when another
 * live node already provides a data or stream resource at this path (two
 * providers of one service are fine), or when path is this node's typed
 * service (ipcn_offer_typed: its descriptor is its schema), or when path
 * is owned, here or by a peer (several providers, ipcn_announce_owned()
 * in ipcnet_redundancy.h; since 0.2), 307.
 * Since: 0.1
 */
IPCN_API int ipcn_announce(ipcn_node *node, const char *path, ipcn_kind kind,
                           const char *encoding, const void *meta,
                           size_t meta_len);

/**
 * ipcn_withdraw() - remove a resource this node announced; subscribers are
 * told (a 303 message on their callback), pending queries of it end.
 * Returns 100, 203 when this node has no such resource, 200.  Since: 0.1
 */
IPCN_API int ipcn_withdraw(ipcn_node *node, const char *path);

/** A resource known to the network, as ipcn_find() reports it. Since: 0.1 */
typedef struct ipcn_resource {
    const char *path;
    ipcn_kind kind;
    const char *encoding;
    const void *meta;       /**< may be NULL when meta_len is 0 */
    size_t meta_len;
    const char *provider;   /**< the providing node's name */
    uint64_t provider_id;
    uint64_t version;       /**< goes up each time the provider re-announces */
} ipcn_resource;

/** The result of ipcn_find(); free with ipcn_resource_list_free().
 *  Since: 0.1 */
typedef struct ipcn_resource_list {
    size_t count;
    ipcn_resource *items;   /**< sorted by path, then provider */
} ipcn_resource_list;

/**
 * ipcn_find() - the resources matching pattern (and kind unless IPCN_ANY)
 * that this node knows of, its own included.  Patterns are paths whose
 * segments may be '*' (exactly one segment) or '**' (zero or more).
 * The directory is replicated to every node, so find answers at once.
 * Returns 100 (count may be 0), 200 for an invalid pattern or kind, 307.
 * Since: 0.1
 */
IPCN_API int ipcn_find(ipcn_node *node, const char *pattern, ipcn_kind kind,
                       ipcn_resource_list **out);
/** ipcn_resource_list_free() - NULL is a no-op. Since: 0.1 */
IPCN_API void ipcn_resource_list_free(ipcn_resource_list *list);

/** ipcn_pattern_match() - does path match pattern? (1/0) Since: 0.1 */
IPCN_API int ipcn_pattern_match(const char *pattern, const char *path);

/* ------------------------------------------------------------------ */
/* Data and streams                                                    */
/* ------------------------------------------------------------------ */

/**
 * ipcn_publish() - publish a value on a stream or data resource this node
 * announced.  For a data resource it also becomes the current value that
 * queries return.  The bytes are copied (sent or queued) before return.
 * Every matching subscriber's node gets the sample; a subscriber whose link
 * cannot take more (tx_limit) misses it and the miss is counted on both
 * sides (the subscriber sees a sequence gap).
 * Returns 100, 203 when this node did not announce path, 204 when path is a
 * service, 200 when too large (max_payload) or not of path's declared type
 * (nothing is sent; ipcnet_schema.h; since 0.2), 207 when this node is a warm
 * standby of an owned path that another provider owns (nothing is sent;
 * ipcnet_redundancy.h; since 0.2), 307.  Since: 0.1
 */
IPCN_API int ipcn_publish(ipcn_node *node, const char *path,
                          const void *data, size_t len);

/* ---- Shared-memory samples -------------------------------------- */

/*
 * Large samples travel in shared memory.  Each stream or data resource of a
 * node may have a pool: a memfd (no name in /dev/shm; it vanishes with its
 * last holder) cut into slots.  A publisher loans a slot, fills it in
 * place and publishes it; each subscribing node gets the memfd once per
 * link (SCM_RIGHTS), maps it read-only, and then receives a small
 * descriptor per sample.  Subscribers' messages point straight into the
 * mapping (ipcn_msg.flags has IPCN_MSG_SHARED).  A slot returns to the pool
 * when every subscribing node has released it (all its messages freed), or
 * when their link closes (kill -9 included).  ipcn_publish() of at least
 * shm_threshold bytes goes through the pool by itself (one copy into the
 * slot instead of one per subscriber).  Local subscriptions of the
 * publishing node itself get a copy.
 */

/** What a loan does when every slot of the pool is in use. Since: 0.1 */
typedef enum ipcn_pool_policy {
    /** Take back the oldest published slot (readers still holding it see
     *  ipcn_msg_verify() fail, and are told to drop it if it is still
     *  queued); loans fail with 306 only while the publisher itself holds
     *  every slot in loans. */
    IPCN_POOL_DROP_OLDEST = 0,
    /** Fail the loan with 306 until a reader releases a slot. */
    IPCN_POOL_REFUSE = 1
} ipcn_pool_policy;

/** Pool settings of one resource, a sized struct (see the top).
 *  Initialise with ipcn_pool_opts_init().  Since: 0.1 */
typedef struct ipcn_pool_opts {
    uint32_t size;          /**< sizeof(ipcn_pool_opts), set by _init */
    uint32_t slots;         /**< slots in the pool, 2..1024; 64.  One
                                 subscriber node may hold all but an eighth
                                 of them (at least one left). */
    size_t slot_size;       /**< bytes per slot, rounded up to pages; 0:
                                 sized by the first loan (its size rounded
                                 up to pages, at least 64 KiB).  A larger
                                 loan later starts a new pool of larger
                                 slots (its size, and at least 1.5 times the
                                 old one; the old pool goes when its last
                                 slot is released). */
    ipcn_pool_policy policy;
    size_t shm_threshold;   /**< ipcn_publish() of this many bytes or more
                                 goes through the pool; 0: the default,
                                 IPCN_SHM_THRESHOLD; SIZE_MAX: never */
    int checksum;           /**< 1 (default): take each sample's XXH3-64
                                 when it is published, for
                                 ipcn_msg_verify(); it costs one pass over
                                 the bytes (about 0.1 ms per MiB), so
                                 latency grows with the size.  0: none
                                 (readers' ipcn_msg_verify() gives 103). */
} ipcn_pool_opts;

/** The default shm_threshold, chosen by measurement (docs/benchmarks.md). */
#define IPCN_SHM_THRESHOLD ((size_t)16 << 10)

/** ipcn_pool_opts_init() - fill *opts with the defaults. Since: 0.1 */
IPCN_API void ipcn_pool_opts_init(ipcn_pool_opts *opts);

/**
 * ipcn_pool_config() - set the pool settings of a stream or data resource
 * this node announced.  They apply to slots loaned from now on: a pool
 * whose slots differ in size or number is replaced (the old memfd goes
 * when its last slot is released).
 * Returns 100; 203 when this node did not announce path; 204 for a
 * service; 200 for invalid options; 307.  Since: 0.1
 */
IPCN_API int ipcn_pool_config(ipcn_node *node, const char *path,
                              const ipcn_pool_opts *opts);

/** A slot loaned to the publisher, filled in place then published. */
typedef struct ipcn_loan ipcn_loan;

/**
 * ipcn_loan_new() - borrow a slot of at least len bytes from path's pool
 * (created on first use).  @out: on 100, the loan; end it with
 * ipcn_loan_publish() or ipcn_loan_discard(); ipcn_node_close() ends the
 * loans still open (their pointers are then invalid).  Its memory is writable
 * until then, by any thread of this process.
 * Returns 100; 203 when this node did not announce path; 204 for a
 * service; 200 when len is 0 or over 4 GiB; 306 when no slot is free and
 * the policy is IPCN_POOL_REFUSE (or the publisher holds every slot); 307
 * when the memfd cannot be made or mapped.  Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_loan_new(ipcn_node *node, const char *path, size_t len,
                           ipcn_loan **out);

/** ipcn_loan_data() - the loan's writable bytes. Since: 0.1 */
IPCN_API void *ipcn_loan_data(ipcn_loan *loan);
/** ipcn_loan_size() - how many bytes the loan may hold. Since: 0.1 */
IPCN_API size_t ipcn_loan_size(const ipcn_loan *loan);

/**
 * ipcn_loan_publish() - publish the first len bytes of a loan (0: the
 * length given to ipcn_loan_new(), or the whole tensor of
 * ipcn_loan_tensor()), as ipcn_publish() would, without copying them.  The
 * loan ends whatever the result: do not touch its memory after.
 * A subscriber node that already holds as many of this pool's slots as
 * its share allows misses the sample: counted as a drop here
 * (ipcn_node_stats.drops) and, told so, as withheld on its subscriptions
 * (ipcn_sub_stats.withheld).  One whose link is saturated misses it too:
 * a drop here, lost there.  A subscriber that cannot map the pool
 * discards the sample (ipcn_sub_stats.unmappable) and gives its slot back
 * at once.
 * Returns 100, 200 when len is over the loan's size or the bytes are not
 * of path's declared type (ipcnet_schema.h; since 0.2), 203 when path was
 * withdrawn meanwhile, 207 as ipcn_publish() (a warm standby; since 0.2),
 * 307.  Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_loan_publish(ipcn_node *node, ipcn_loan *loan, size_t len);

/** ipcn_loan_discard() - give a loan back unpublished.  NULL: no-op.
 *  Since: 0.1 */
IPCN_API void ipcn_loan_discard(ipcn_node *node, ipcn_loan *loan);

/** Counters of a resource's pool; a sized struct (see the top).
 *  Since: 0.1 */
typedef struct ipcn_pool_stats {
    uint32_t size;         /**< sizeof(ipcn_pool_stats): set it */
    uint32_t slots;        /**< slots of the current pool (0: none yet) */
    uint32_t free;         /**< of which free now */
    uint32_t loaned;       /**< loaned to this node, not yet published */
    uint32_t held;         /**< published, held by some reader */
    size_t slot_size;
    uint32_t pools;        /**< memfds alive (an old one waits for its
                                readers) */
    uint64_t published;    /**< samples published through the pool */
    uint64_t reclaimed;    /**< slots taken back from readers */
    uint64_t refused;      /**< loans failed with 306 */
} ipcn_pool_stats;

/** ipcn_pool_get_stats() - Returns 100, 203 not announced here, 200 for
 *  a NULL argument or a size under the first version's.  Since: 0.1 */
IPCN_API int ipcn_pool_get_stats(ipcn_node *node, const char *path,
                                 ipcn_pool_stats *out);

/**
 * ipcn_query() - the current value of a data resource, from its provider.
 * @out: on 100, the value; on a 205 the provider answered, its refusal
 *       (ipcn_msg_retry_after_ms() tells when to retry; Since: 0.2); free
 *       with ipcn_msg_free().  Untouched otherwise.
 * Returns 100; 103 when the provider holds no value yet; 203 when no node
 * provides path; 204 when path is not a data resource; 202 when the
 * provider refused; 205 over the provider's limits for this node (see
 * "Limits") or when the link is saturated; 303 when the provider left
 * before answering and no other provides path (a query is asked again of
 * the next provider: of an owned path, the next in rank; since 0.2), or
 * when
 * this node shuts down or closes (ipcn_node_shutdown(), ipcn_node_close();
 * also while it waits); 304 after timeout_ms (-1: wait forever).  A local
 * resource is answered without I/O.  Since: 0.1
 */
IPCN_API int ipcn_query(ipcn_node *node, const char *path, ipcn_msg **out,
                        int timeout_ms);

/* ---- Setting the value of a data resource (parameters) ----------- */

/*
 * A data resource's value can be set by another node (what ROS 2 users
 * know as parameters): ipcn_set() sends the new value to the provider,
 * which may check and refuse it (ipcn_data_on_set()), and otherwise
 * publishes it exactly as its own ipcn_publish() would: it becomes the
 * value that queries return, and every subscriber gets it as a sample.
 * The **version** of a data resource is the sequence number of its
 * current value (ipcn_msg.seq of a query answer or sample; 0 before the
 * first value): every publish, and so every set, raises it.  A caller
 * that wants no lost update queries the value, computes the new one and
 * sets it with expect_version = the seq it read; on 207 it queries again.
 */

/**
 * Set check of a data resource, called before a set is applied.
 * @value:    the new value (value->src_name, src_id: the setter; valid
 *            while fn runs); its bytes are what will be published.
 * @encoding: the setter's encoding, or the resource's when it gave none.
 * Return 100 to accept: the value is then published as the resource's
 * encoding (a handler that accepts another encoding vouches that the bytes
 * are of the resource's).  Any other status refuses it and goes back to
 * the setter (202 Forbidden, 200 Bad Request, an application code
 * 1000..65535; 101..104 and codes outside the table are sent as 300).
 * Runs on the thread that dispatches the provider's node, as service
 * handlers do, with the node's lock released; a set of this node's own
 * resource runs it on the calling thread, inside ipcn_set().
 */
typedef int (*ipcn_set_fn)(ipcn_node *node, const char *path,
                           const ipcn_msg *value, const char *encoding,
                           void *user);

/**
 * ipcn_data_on_set() - check the sets of a data resource this node
 * announced with fn (NULL: no check).  Without a check, a set is accepted
 * when its encoding is the resource's (or either is empty), else refused
 * with 200 and the reason.  With a check, a set waits for dispatch (a node
 * with no thread of its own answers sets only while someone dispatches);
 * one whose setter has given up (its timeout passed, it cancelled, its
 * link closed) is dropped unanswered, as requests are (see ipcn_offer()).
 * The check stays across re-announcing the path; withdrawing it ends it.
 * Returns 100, 203 when this node did not announce path, 204 when path is
 * not a data resource, 200 for a NULL node or path.  Thread-safe.
 * Since: 0.2
 */
IPCN_API int ipcn_data_on_set(ipcn_node *node, const char *path,
                              ipcn_set_fn fn, void *user);

/**
 * ipcn_set() - set the value of a data resource, held by another node or
 * by this one, and wait for the provider's answer.
 * @value, @len:    the new value, copied (len 0: an empty value).
 * @encoding:       its encoding; NULL or "": the resource's.
 * @expect_version: 0: set whatever the current version; otherwise the
 *                  resource's version (see above) must be this one.
 * @timeout_ms:     -1: wait forever.
 * @new_version:    optional; on 100, the resource's version with the new
 *                  value; on 207, its current version (set again with
 *                  it, after looking at the value).  Untouched otherwise.
 * Returns 100 when the value was set; 207 when the version was not
 * expect_version (nothing set); 203 when no node provides path; 204 when
 * path is a stream or a service; 202 (or the code the provider's check
 * returned) when its check refused the value; 200 for invalid arguments,
 * a value the provider takes as of another encoding (no check), one not
 * of the resource's declared type (ipcnet_schema.h), or one
 * too large for the provider's max_payload; 304 after timeout_ms (the
 * provider is told and does not apply a set it has not started); 303 when
 * the provider left before answering (the value may or may not have been
 * set), or when this node shuts down or closes; 305 when the provider's
 * node is too old to take sets; 205 when the link is saturated, or the
 * provider has too many of this node's requests and sets in flight; 307.
 * (The provider sends a refusal's reason as a text/plain body, which
 * this call does not return.)  A local resource is set without I/O, its
 * check called on this thread.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_set(ipcn_node *node, const char *path, const void *value,
                      size_t len, const char *encoding,
                      uint64_t expect_version, int timeout_ms,
                      uint64_t *new_version);

/** A subscription, resolved through the node; a stale one gives 203.
 *  Since: 0.1 */
typedef struct ipcn_sub {
    uint32_t id;
} ipcn_sub;

/**
 * Sample callback.  msg->status is 100 for a sample; 303 when a provider of
 * a matching resource withdrew it or left (msg->path names it, len is 0).
 */
typedef void (*ipcn_sample_fn)(ipcn_node *node, const ipcn_msg *msg,
                               void *user);

/**
 * ipcn_subscribe() - receive the samples of every stream and data resource
 * matching pattern, from every provider, now and later.
 * @queue_depth: samples held for this subscription until delivered; when
 *               full the oldest is dropped and counted (0: 64).
 * @fn:          called per sample; NULL to collect samples with
 *               ipcn_sub_take() instead.
 * Returns 100, 200 for an invalid pattern, 307.  Since: 0.1
 */
IPCN_API int ipcn_subscribe(ipcn_node *node, const char *pattern,
                            uint32_t queue_depth, ipcn_sample_fn fn,
                            void *user, ipcn_sub *out);

/**
 * ipcn_unsubscribe() - end a subscription; no callback of it runs after
 * this returns (unless called from another thread while that callback is
 * already running).  Returns 100, 203 for an unknown subscription.
 * Since: 0.1
 */
IPCN_API int ipcn_unsubscribe(ipcn_node *node, ipcn_sub sub);

/**
 * ipcn_sub_take() - take the oldest queued sample of a subscription made
 * with fn == NULL, waiting up to timeout_ms (-1: forever).  While it waits
 * it sleeps, processes the node's I/O but runs no callbacks.  @out: free
 * with ipcn_msg_free().
 * Returns 100, 103 when none came in time, 203 unknown subscription, 200
 * when the subscription has a callback, 303 when the node shuts down or
 * closes (ipcn_node_shutdown(), ipcn_node_close(); also while it waits).
 * Since: 0.1
 */
IPCN_API int ipcn_sub_take(ipcn_node *node, ipcn_sub sub, ipcn_msg **out,
                           int timeout_ms);

/**
 * Counters of one subscription.  They count samples only: a "provider
 * gone" notice (status 303) is counted in notices and in nothing else.
 * A sample a provider published while the subscription saw its resource
 * is counted once, in one of: received (then delivered, dropped or still
 * queued), lost, withheld, unmappable.  received = delivered + dropped +
 * the samples still queued, so delivered <= received always.  A gap of
 * more than 2^20 (1 048 576) sequence numbers, or one that goes backwards,
 * is counted as one reset, not as losses (a restarted numbering, or a peer
 * that lies).  A sized struct (see the top).
 * Since: 0.1
 */
typedef struct ipcn_sub_stats {
    uint32_t size;      /**< sizeof(ipcn_sub_stats): set it */
    uint64_t received;  /**< samples that reached this node for it */
    uint64_t delivered; /**< samples handed to the callback or taken */
    uint64_t dropped;   /**< dropped here because the queue was full (or
                             to stay within a shared-memory share) */
    uint64_t lost;      /**< missing by sequence number (dropped upstream,
                             e.g. a saturated link) */
    uint32_t queued;    /**< samples and notices waiting now */
    uint64_t withheld;  /**< shared-memory samples the publisher did not
                             send because this node held its share of the
                             pool (7/8 of the slots): free held samples to
                             receive again */
    uint64_t unmappable; /**< shared-memory samples discarded because this
                             node could not map the publisher's pool (e.g.
                             address space, RLIMIT_AS); their slots go back
                             to the publisher at once */
    uint64_t resets;    /**< sequence jumps beyond the window (see above),
                             each counted once instead of as losses */
    uint64_t notices;   /**< "provider gone" notices handed to the callback
                             or taken (not samples) */
    uint64_t standby;   /**< samples of an owned path from a provider that
                             does not own it (a hot standby), dropped here
                             (ipcnet_redundancy.h).  Since: 0.2 */
    uint64_t nonconforming; /**< samples of a typed resource that were not
                             of its declared type, dropped here
                             (ipcnet_schema.h); not counted in received.
                             Since: 0.2 */
    uint64_t history;   /**< of received, the samples a provider kept for
                             late subscribers: a data resource's value as
                             the subscription began (unless a newer one came
                             live first), a stream's last ones
                             (ipcn_announce_keep()).  Since: 0.2 */
} ipcn_sub_stats;

/** ipcn_sub_get_stats() - Returns 100, 203 unknown, 200 for a NULL
 *  argument or a size under the first version's.  Since: 0.1 */
IPCN_API int ipcn_sub_get_stats(ipcn_node *node, ipcn_sub sub,
                                ipcn_sub_stats *out);

/* ------------------------------------------------------------------ */
/* Services                                                            */
/* ------------------------------------------------------------------ */

/** A request being answered later; see ipcn_respond(). Since: 0.1 */
typedef struct ipcn_responder {
    uint64_t id;
} ipcn_responder;

/**
 * Service handler.  Answer in one of two ways:
 *  - at once: call ipcn_reply_set() on ctx (or not, for an empty body) and
 *    return the status to send (100, an error, or an application code
 *    1000..65535; anything else is sent as 300);
 *  - later: take a responder with ipcn_reply_defer(ctx) and return 102;
 *    then call ipcn_respond() once, from any thread.  If the requester
 *    leaves first, ipcn_respond() returns 303.
 * ctx is valid only while the handler runs.
 */
typedef struct ipcn_reply_ctx ipcn_reply_ctx;
typedef int (*ipcn_service_fn)(ipcn_node *node, const ipcn_msg *request,
                               ipcn_reply_ctx *ctx, void *user);

/**
 * ipcn_reply_set() - set the body of an immediate answer (copied).
 * Only inside a service handler.  Returns 100, 200, 307.  Since: 0.1
 */
IPCN_API int ipcn_reply_set(ipcn_reply_ctx *ctx, const void *data, size_t len,
                            const char *encoding);

/** ipcn_reply_defer() - the responder for answering later. Since: 0.1 */
IPCN_API ipcn_responder ipcn_reply_defer(ipcn_reply_ctx *ctx);

/**
 * ipcn_reply_time_left() - how long, in ms, the requester still waits for
 * the answer of the request being handled (what was left of its timeout
 * when it sent the request, counted from its arrival here): for a handler
 * that passes the request on, so that the call it makes gives up no later
 * than its requester.  Only inside a service handler.  Returns the ms
 * left (0: past), or -1 when the requester waits without a timeout (or
 * ctx is NULL).  Since: 0.2
 */
IPCN_API int ipcn_reply_time_left(const ipcn_reply_ctx *ctx);

/**
 * ipcn_respond() - answer a deferred request.  Returns 100, 203 when the
 * responder is unknown or was answered already, 303 when the requester left.
 * Since: 0.1
 */
IPCN_API int ipcn_respond(ipcn_node *node, ipcn_responder resp, int status,
                          const void *data, size_t len, const char *encoding);

/**
 * ipcn_offer() - offer a service at path (announced as IPCN_SERVICE with
 * the given encoding of its requests).  Several nodes may offer one path.
 * fn never starts a request whose requester has given up on it: its
 * timeout (what was left of it when the request was sent, counted from
 * its arrival here) passed while it waited for fn, the requester
 * cancelled it, or its link closed (the requester got 303 and may have
 * asked another provider); such requests are dropped unanswered and
 * counted (ipcn_node_stats.requests_abandoned).  One fn already started
 * runs to its end.
 * Returns 100, 200, 207 when this node already offers path, 307.
 * Since: 0.1
 */
IPCN_API int ipcn_offer(ipcn_node *node, const char *path,
                        const char *encoding, ipcn_service_fn fn, void *user);

/**
 * ipcn_offer_typed() - offer a service that declares the types of its
 * arguments and of its answers.  It is announced as IPCN_SERVICE with
 * encoding "cbor" and descriptor meta the CBOR map {"args": ARGS,
 * "returns": RETURNS} (only the keys given; no meta when neither is), so
 * that ipcn_find() and `ipcnet info` show the types.
 * @args_schema, @args_len:       a type (below) as one CBOR item, copied;
 *                                NULL, 0 when undeclared.
 * @returns_schema, @returns_len: the same for answers; NULL, 0 when
 *                                undeclared.
 *
 * A type is a CBOR text string naming a primitive:
 *   "any"    any item           "text"    a text string
 *   "null"   null               "bytes"   a byte string
 *   "bool"   true or false      "tensor"  a tensor that
 *   "int"    any CBOR integer             ipcn_tensor_decode() accepts
 *   "uint"   an unsigned integer
 *   "float"  a CBOR float or integer (an integer is a float, as JSON
 *            has it: {"gain": 2} has a float gain; since 0.2)
 *   "number" an integer or a float (the same values as "float")
 * or a map of one key:
 *   {"array": T}            an array whose every element is a T;
 *   {"map": {F: T, ...}}    a map whose keys are text: every listed field
 *                           F present with type T, no other field;
 *   {"optional": T}         only as the type of a field of "map": the
 *                           field may be absent (when present, a T);
 *   {"nullable": T}         null or a T.
 * At most 16 types nest inside one another (the outermost counts as 1), a
 * type is at most 4096 bytes and a "map" has at most 128 fields (since
 * 0.2).  Anything else is an invalid schema: an unknown name, a map of
 * another key or of several keys, a field key that is not text or is
 * repeated.  Data and streams may be typed too (ipcnet_schema.h).
 *
 * Before a request is queued for fn, the provider checks it — from a peer
 * or from this node itself alike: its encoding must be "cbor" (or
 * "application/cbor") and its body one CBOR item of the args type.
 * Otherwise the requester gets 200 with a
 * text/plain body giving the reason ("args.x: expected float, got text",
 * "args.y: missing field", "args.z: unexpected field") and fn is not
 * called.  The returns type is declared only: answers are not checked.
 * Returns 100; 200 for invalid arguments or an invalid schema; 207 when
 * this node already offers path (as ipcn_offer()), 307.  Since: 0.1
 */
IPCN_API int ipcn_offer_typed(ipcn_node *node, const char *path,
                              const void *args_schema, size_t args_len,
                              const void *returns_schema, size_t returns_len,
                              ipcn_service_fn fn, void *user);

/**
 * ipcn_request() - call a service and wait for its answer.
 * @out: set whenever a provider answered (whatever its status); free with
 *       ipcn_msg_free().  Untouched when no answer came.
 * Returns the provider's status (100, its errors, application codes), or
 * 203 when no node offers path, 204 when path is not a service, 304 after
 * timeout_ms (-1: forever), 303 when every provider tried left before
 * answering (a request whose provider dies is retried once on each other
 * provider, unless that provider offered it at most once: then 303 at
 * once, as it may have run it; ipcnet_redundancy.h) or when this node shuts down or closes (ipcn_node_shutdown(),
 * ipcn_node_close(); also while it waits: the request is then abandoned),
 * 205 when the link is saturated, 200 invalid arguments.  A provider's 205
 * over its limits for this node (see "Limits") comes with *out, whose
 * ipcn_msg_retry_after_ms() says after how long to try again.
 * After 304 the provider is told (CANCEL): it does not start the request
 * if it has not yet (see ipcn_offer()).
 * Which provider is asked: this node's own when it offers path; else,
 * among the nodes that offer it (and first among those not yet tried, on
 * a fail-over), one not avoided before an avoided one, then the least
 * loaded, equals in turn.  Load: this node's requests in flight there
 * plus the load (requests queued, running or deferred there) its last
 * answer reported, less one for each request of path sent elsewhere
 * since.  Avoided: a provider whose answer was 300, or that let a request
 * with timeout_ms of at least 1000 time out, three times in a row, for
 * 1 s, then 2, 4 ... at most 30 s on each failure after a back-off with
 * no success since; any 1xx answer ends its record.  An avoided provider
 * is still asked when no other is left.  The choice is this node's own:
 * docs/protocol.md 12.7.
 * Since: 0.1
 */
IPCN_API int ipcn_request(ipcn_node *node, const char *path, const void *data,
                          size_t len, const char *encoding, ipcn_msg **out,
                          int timeout_ms);

/** A pending asynchronous request or query. Since: 0.1 */
typedef struct ipcn_req {
    uint64_t id;
} ipcn_req;

/**
 * Answer callback of ipcn_request_async(): status as ipcn_request() would
 * return it; reply is the provider's message or NULL when none came.
 */
typedef void (*ipcn_reply_fn)(ipcn_node *node, int status,
                              const ipcn_msg *reply, void *user);

/**
 * ipcn_request_async() - call a service; fn runs exactly once, later, from
 * dispatch (unless the request is cancelled or the node closed first).
 * @out: optional, for ipcn_request_cancel().
 * Returns 102 when sent; otherwise the status (203, 204, 200, 205, 307)
 * and fn is never called.  Since: 0.1
 */
IPCN_API int ipcn_request_async(ipcn_node *node, const char *path,
                                const void *data, size_t len,
                                const char *encoding, int timeout_ms,
                                ipcn_reply_fn fn, void *user, ipcn_req *out);

/**
 * ipcn_request_cancel() - forget a pending request; its callback will not
 * run, and its provider, told, does not start it if it has not yet.
 * Returns 100, 203 when it is unknown or already answered.
 * Since: 0.1
 */
IPCN_API int ipcn_request_cancel(ipcn_node *node, ipcn_req req);

/* ------------------------------------------------------------------ */
/* Permissions                                                         */
/* ------------------------------------------------------------------ */

/*
 * Who may do what.  Every node enforces its network's policy (a YAML file,
 * docs/policy.md: $IPCNET_POLICY, else policy.yaml in the network's
 * directory; none: allow everything in a per-user network, deny in one
 * shared by a group) on what peers ask of it, by the peer's principal as
 * the kernel gives it (uid, groups, pid, executable) and the node name it
 * proved.  The verbs:
 *   read     see a resource (find, info, events), query it, subscribe;
 *   write    set a data resource's value (ipcn_set());
 *   execute  request a service;
 *   provide  announce or offer at a path: a node takes a peer's
 *            announcement into its directory (and its samples) only when
 *            the peer may provide that path; a node's own ipcn_announce()
 *            and ipcn_offer() fail with 202 when the policy forbids it.
 * A provider may narrow what the policy allows for its own resources
 * (ipcn_resource_set_access()), never widen it.  A node's own calls on
 * its own resources are not checked.
 *
 * What a peer is told:
 *   203 Not Found     it may not read the resource: the resource is not in
 *                     its directory, and its queries, requests and sets of
 *                     it are answered as if it did not exist (private);
 *   202 Forbidden     it may read the resource, not do this with it;
 *   201 Unauthorized  the rule that decides needs something the node could
 *                     not establish of the peer (an executable it could
 *                     not read, as for another user's process when the
 *                     node is not root).
 * Every refusal is counted (ipcn_node_stats.denied, per peer
 * ipcn_peer_info.denied) and logged (IPCN-POLICY-DENY); under an audit
 * policy nothing is refused and what deny would refuse is counted
 * (ipcn_node_stats.audited) and logged (IPCN-POLICY-AUDIT).  A change of
 * the policy file, of a provider's rules or of a group takes effect on
 * live links at once: peers are told of resources they may now see, and
 * of those they may no longer see as withdrawn.
 */

#define IPCN_ACCESS_READ 1u    /**< find, query, subscribe.  Since: 0.2 */
#define IPCN_ACCESS_WRITE 2u   /**< ipcn_set().  Since: 0.2 */
#define IPCN_ACCESS_EXECUTE 4u /**< request.  Since: 0.2 */

/** One rule of a provider for one of its resources.  Since: 0.2 */
typedef struct ipcn_access_rule {
    int deny;        /**< 0: allow, else deny */
    uint32_t verbs;  /**< IPCN_ACCESS_* ORed, at least one */
    const char *who; /**< a selector: conditions separated by spaces, all
                          of which must hold: "any", "user:NAME|UID",
                          "unix_group:NAME|GID", "group:NAME" (an IPCNet
                          group: the policy's or this node's own),
                          "node:GLOB", "exe:PATH", "sha256:HEX" (the
                          executable's SHA-256, 64 hex digits).  Copied. */
} ipcn_access_rule;

/**
 * ipcn_resource_set_access() - a provider's own rules for path, which
 * narrow the network policy for READ, WRITE and EXECUTE of it: a peer
 * that a deny rule of the verb names is refused; when allow rules name the
 * verb, a peer must also match one of them (an allow list); a verb named
 * by deny rules only refuses only whom they name, and a verb no rule
 * names is left to the policy.  May be
 * called before path is announced or offered (so that no peer ever sees
 * it unrestricted) and at any time after; replaces the rules set before;
 * count 0 removes them.  Peers that may no longer see path are told it is
 * withdrawn at once.
 * Returns 100; 200 for a bad path, a rule with no or unknown verbs, or a
 * selector that does not parse or names an unknown user or Unix group
 * (logged with the reason); 205 past 4096 paths with rules per node; 307.
 * At most 64 rules.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_resource_set_access(ipcn_node *node, const char *path,
                                      const ipcn_access_rule *rules,
                                      size_t count);

/**
 * ipcn_group_create() - an IPCNet group owned by this node, empty, that
 * this node's own rules (ipcn_resource_set_access()) may name as
 * "group:NAME": "processes can register processes into groups and give
 * them their own permissions".  The group is this node's: other nodes do
 * not see it, and it ends with the node.
 * Returns 100; 200 for a bad name (as a node name); 207 when this node or
 * the network policy already has a group of that name; 205 past 256
 * groups; 307.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_group_create(ipcn_node *node, const char *name);

/**
 * ipcn_group_add() - make the principals that match who (a selector, as
 * in ipcn_access_rule.who, that names no group) members of this node's
 * group name; ipcn_group_remove() takes that selector out again (it must
 * be written the same way, once resolved: "user:alice" and "user:1000"
 * are one for alice of uid 1000).  Decisions change at once.
 * Returns 100 (also when already a member); 200 for a bad selector; 203
 * for no such group (remove: or no such member); 205 past 256 members;
 * 307.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_group_add(ipcn_node *node, const char *name,
                            const char *who);
IPCN_API int ipcn_group_remove(ipcn_node *node, const char *name,
                               const char *who);

/**
 * ipcn_group_delete() - remove this node's group name (rules that name it
 * then match nobody through it).  Returns 100, 203, 200.  Thread-safe.
 * Since: 0.2
 */
IPCN_API int ipcn_group_delete(ipcn_node *node, const char *name);

/*
 * Limits.  A node limits what each peer may make it do: the network
 * policy's "limits" entries (docs/policy.md) that name the peer's
 * principal, and its providers' own limits (ipcn_resource_set_limits()),
 * all of them at once (the stricter wins).  Token buckets, per peer link
 * (or per uid for a policy entry with "per: user"), refilled continuously:
 *   requests  requests, queries and sets it sends here: one over the rate
 *             is answered 205 Too Many Requests, with the time after which
 *             to retry (ipcn_msg_retry_after_ms());
 *   samples   samples it publishes here: one over the rate is dropped,
 *             counted (ipcn_node_stats.samples_limited, per peer
 *             ipcn_peer_info.samples_limited) and logged, never silently;
 *   bytes     the data of both, the same way;
 * and caps: requests in flight (205), subscription patterns and
 * announcements (an ERROR 205 frame; counted in
 * ipcn_node_usage.meta_refused), below the node's fixed bounds.  Besides,
 * the requests of peers queued or deferred on a node are shared fairly
 * between their uids: once 256 of them are queued, a uid holding at least
 * 256 / (uids holding some) gets 205 for more while another uid holds
 * some (IPCN_FAIR_QUEUE in the library, not an option).  Every refusal is
 * counted (ipcn_node_stats.rate_limited, per peer
 * ipcn_peer_info.rate_limited) and logged (IPCN-LIMIT: the first of each
 * peer as a warning, the rest at debug level).  A peer no limit names
 * costs nothing.
 */

/** A provider's own limits for one of its paths; a sized struct (see the
 *  top).  A field 0 sets no limit of its kind.  Since: 0.2 */
typedef struct ipcn_limits {
    uint32_t size;           /**< sizeof(ipcn_limits): set it */
    double requests_per_s;   /**< requests, queries and sets of one peer */
    double samples_per_s;    /**< samples one peer publishes here */
    double bytes_per_s;      /**< the data of those (bucket depth: one
                                  second's worth) */
    uint32_t burst;          /**< bucket depth of requests and samples (0:
                                  one second's worth) */
    uint32_t inflight;       /**< requests of one peer queued or running */
} ipcn_limits;

/**
 * ipcn_resource_set_limits() - this node's own limits for path (a path or
 * a pattern as ipcn_subscribe() takes: a pattern of cameras limits the
 * samples of every camera this node receives),
 * applied to each peer separately (every peer has buckets of its own),
 * on top of the network policy's (they only narrow).  May be called
 * before path is announced; replaces the limits set before; lim NULL
 * removes them.  Buckets of the limits that apply to a peer start full
 * again after a change.
 * Returns 100; 200 for a bad path or pattern, a size under the first
 * version's, a negative rate, or no limit at all in lim; 205 past 1024
 * paths with limits per node; 307.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_resource_set_limits(ipcn_node *node, const char *path,
                                      const ipcn_limits *lim);

/* ------------------------------------------------------------------ */
/* Peers, events and counters                                          */
/* ------------------------------------------------------------------ */

/** A linked peer, as ipcn_peers() reports it. Since: 0.1 */
typedef struct ipcn_peer {
    const char *name;
    uint64_t id;
    int32_t pid, uid, gid;      /**< from the kernel (SO_PEERCRED) */
    uint64_t linked_ns;         /**< CLOCK_MONOTONIC when linked */
    uint32_t resources;         /**< resources it announced */
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t bad_frames;        /**< frames refused from it */
    uint64_t drops;             /**< samples it missed: link saturated */
} ipcn_peer;

/** The result of ipcn_peers(); free with ipcn_peer_list_free(). Since: 0.1 */
typedef struct ipcn_peer_list {
    size_t count;
    ipcn_peer *items;           /**< sorted by name */
} ipcn_peer_list;

/** ipcn_peers() - the linked peers. Returns 100, 307. Since: 0.1 */
IPCN_API int ipcn_peers(ipcn_node *node, ipcn_peer_list **out);
/** ipcn_peer_list_free() - NULL is a no-op. Since: 0.1 */
IPCN_API void ipcn_peer_list_free(ipcn_peer_list *list);

/** More of a linked peer than ipcn_peer (whose size cannot grow: it is an
 *  array's element): its principal, the kernel's word on its process,
 *  taken when the link started and fixed for the link's life (never
 *  anything the peer wrote), and what this node's policy refused it.  A
 *  sized struct (see the top).  Pointers in it lead into the list it was
 *  read from and live as long as it.  Since: 0.2 */
typedef struct ipcn_peer_info {
    uint32_t size;              /**< sizeof(ipcn_peer_info) */
    int32_t pid, uid, gid;      /**< SO_PEERCRED, as in ipcn_peer */
    uint32_t ngroups;           /**< supplementary groups (SO_PEERGROUPS) */
    const uint32_t *groups;     /**< ngroups of them */
    int groups_truncated;       /**< it has more than IPCNet keeps (32) */
    const char *exe;            /**< /proc/<pid>/exe when the link started;
                                     NULL when it could not be read (a peer
                                     of another user, no /proc) */
    int exe_hashed;             /**< exe_sha256 is known */
    uint8_t exe_sha256[32];     /**< SHA-256 of the executable's bytes, read
                                     through /proc/<pid>/exe (not over
                                     256 MiB) */
    uint64_t denied;            /**< what this node refused it by policy or
                                     by its own rules (see "Permissions"):
                                     its part of ipcn_node_stats.denied,
                                     as of ipcn_peers() */
    uint64_t audited;           /**< ... and what an audit policy let
                                     through that deny would refuse */
    uint64_t rate_limited;      /**< its requests, queries and sets this
                                     node answered 205 by a limit (see
                                     "Limits").  Since: 0.2 */
    uint64_t samples_limited;   /**< its samples this node dropped over a
                                     limit.  Since: 0.2 */
    uint32_t criticality;       /**< the ipcn_criticality it told (0: none
                                     told; its own word, protocol 7.6).
                                     Since: 0.2 */
    int ready;                  /**< it said ipcn_node_ready() (never taken
                                     back while linked).  Since: 0.2 */
} ipcn_peer_info;

/**
 * ipcn_peer_list_get_info() - more of list->items[index] (a list that
 * ipcn_peers() returned): its principal and policy counters.  Set
 * out->size first.
 * Returns 100; 200 for NULL or a size under the first version's; 203 when
 * index is not below list->count.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_peer_list_get_info(const ipcn_peer_list *list,
                                     size_t index, ipcn_peer_info *out);

/** A subscription pattern of a node, as ipcn_subscriptions() reports it.
 *  Since: 0.1 */
typedef struct ipcn_subscription {
    const char *node;       /**< the subscribing node's name */
    uint64_t node_id;
    const char *pattern;
} ipcn_subscription;

/** The result of ipcn_subscriptions(); free with
 *  ipcn_subscription_list_free().  Since: 0.1 */
typedef struct ipcn_subscription_list {
    size_t count;
    ipcn_subscription *items; /**< sorted by node, then pattern */
} ipcn_subscription_list;

/**
 * ipcn_subscriptions() - who subscribes to what: the distinct patterns of
 * this node's own subscriptions and of every linked peer (as each peer told
 * this node, which is what its samples are sent by).  Returns 100, 307.
 * Since: 0.1
 */
IPCN_API int ipcn_subscriptions(ipcn_node *node, ipcn_subscription_list **out);
/** ipcn_subscription_list_free() - NULL is a no-op. Since: 0.1 */
IPCN_API void ipcn_subscription_list_free(ipcn_subscription_list *list);

/** Since: 0.1 */
typedef enum ipcn_event_type {
    IPCN_EV_PEER_UP = 1,       /**< a peer linked (hello exchanged) */
    IPCN_EV_PEER_DOWN = 2,     /**< a peer left or died */
    IPCN_EV_RESOURCE_UP = 3,   /**< a remote resource was announced */
    IPCN_EV_RESOURCE_DOWN = 4, /**< a remote resource went away */
    IPCN_EV_QUARANTINE = 5,    /**< this node quarantined (status 205),
                                    banned (202) or lifted (100) a peer
                                    (see "Reputation"): peer is the
                                    subject (a node name, or "uid U pid
                                    P" for a process that never said
                                    hello), path the latest evidence.
                                    Since: 0.2 */
    IPCN_EV_COMPROMISE = 6,    /**< evidence that a peer is compromised:
                                    ipcn_event.compromise tells what (see
                                    "When a component is compromised").
                                    Since: 0.2 */
    IPCN_EV_PEER_READY = 7,    /**< a peer said it is ready
                                    (ipcn_node_ready()); once per link.
                                    Since: 0.2 */
    IPCN_EV_CRITICAL_LOST = 8, /**< a peer whose criticality is
                                    IPCN_CRIT_CRITICAL left or died (raised
                                    after its IPCN_EV_PEER_DOWN, with the
                                    same status; not while this node
                                    closes).  Since: 0.2 */
    IPCN_EV_OWNER = 9          /**< the owner of an owned path this node
                                    provides, subscribes to or queried
                                    changed (ipcnet_redundancy.h): path,
                                    kind, and peer the new owner (this
                                    node's own name when it took over; ""
                                    with status 303 when none is left).
                                    Raised on every node that knows a
                                    provider of the path, the first owner
                                    it learns of included.  Since: 0.2 */
} ipcn_event_type;

struct ipcn_compromise;

/** Since: 0.1 */
typedef struct ipcn_event {
    ipcn_event_type type;
    const char *peer;          /**< the peer's name */
    uint64_t peer_id;
    const char *path;          /**< resource events only, else NULL */
    ipcn_kind kind;            /**< resource events only */
    int status;                /**< PEER_DOWN: 100 goodbye, 303 hang-up or
                                    death, 304 heartbeat timeout, 200 bad
                                    input, 307 this node ran out of memory
                                    or file descriptors for the link;
                                    COMPROMISE: the action taken, as in
                                    ipcn_compromise.action */
    const struct ipcn_compromise *compromise; /**< COMPROMISE only (else
                                    NULL): the evidence, valid during the
                                    callback.  Since: 0.2 */
} ipcn_event;

typedef void (*ipcn_event_fn)(ipcn_node *node, const ipcn_event *ev,
                              void *user);

/** ipcn_node_set_event_fn() - one event callback per node (NULL: none).
 *  Returns 100.  Since: 0.1 */
IPCN_API int ipcn_node_set_event_fn(ipcn_node *node, ipcn_event_fn fn,
                                    void *user);

/** Counters of a node; a sized struct (see the top).  Since: 0.1 */
typedef struct ipcn_node_stats {
    uint32_t size;             /**< sizeof(ipcn_node_stats): set it */
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t bad_frames;       /**< frames refused, all links */
    uint64_t links_refused;    /**< links closed for bad input */
    uint64_t peers_lost;       /**< peers that died or timed out */
    uint64_t drops;            /**< samples not sent: links saturated */
    uint32_t peers;            /**< linked now */
    uint32_t resources;        /**< known now, own included */
    uint64_t pings_sent;       /**< PINGs sent to ask whether a peer lives:
                                    heartbeats on links where this node
                                    waits for something, slow probes on
                                    idle ones (not the PING that follows
                                    each HELLO) */
    uint64_t requests_abandoned; /**< requests of peers this node's
                                    services never started because their
                                    requester had given up: its timeout
                                    (as left when it sent the request)
                                    passed before the handler could start,
                                    it cancelled (its timeout, or
                                    ipcn_request_cancel()), or its link
                                    closed (it got 303); and sets of
                                    this node's data resources whose
                                    check (ipcn_data_on_set()) never
                                    started for the same reasons */
    /* Who may do what (see "Permissions").  Since: 0.2 */
    uint64_t denied;           /**< what this node refused peers by its
                                    policy or its own rules: requests,
                                    queries and sets answered 201, 202 or
                                    203 for that reason, announcements not
                                    taken into its directory, samples of a
                                    provider not permitted to provide.
                                    Per peer: ipcn_peer_info.denied.
                                    Since: 0.2 */
    uint64_t audited;          /**< under an audit policy, what a deny
                                    policy would have refused (let through,
                                    logged).  Since: 0.2 */
    uint64_t policy_reloads;   /**< times a changed policy file took
                                    effect.  Since: 0.2 */
    uint64_t policy_rejected;  /**< times a changed policy file was
                                    refused as a whole (the last good one
                                    stays in force).  Since: 0.2 */
    /* Reputation (see "Reputation").  Since: 0.2 */
    uint64_t quarantined;      /**< times this node quarantined or banned
                                    a peer (on its own evidence or on
                                    others' reports).  Since: 0.2 */
    uint64_t links_refused_quarantine; /**< links refused (at accept or
                                    hello, ERROR 205 or 202) because their
                                    peer is quarantined, banned or
                                    black-listed.  Since: 0.2 */
    /* Rate limits and quotas (see "Limits").  Since: 0.2 */
    uint64_t rate_limited;     /**< requests, queries and sets of peers
                                    answered 205 by a limit: a rate
                                    (requests, bytes), a cap on requests in
                                    flight, the per-user fair share of the
                                    queue.  Per peer:
                                    ipcn_peer_info.rate_limited.
                                    Since: 0.2 */
    uint64_t samples_limited;  /**< samples peers published here that were
                                    dropped over a limit (samples, bytes).
                                    Per peer: ipcn_peer_info.samples_limited.
                                    Since: 0.2 */
    /* When a component is compromised (see there).  Since: 0.2 */
    uint64_t compromises;      /**< evidence of a compromise reported
                                    (IPCN_EV_COMPROMISE events raised).
                                    Since: 0.2 */
    uint64_t isolations;       /**< principals this node isolated.
                                    Since: 0.2 */
    uint64_t verify_failures;  /**< shared samples of peers that failed
                                    ipcn_msg_verify() here.  Since: 0.2 */
    /* Several hosts (ipcnet_hosts.h).  Since: 0.3 */
    uint64_t unauthorized;     /**< TCP links refused because the peer's
                                    host key is not in the network's trust
                                    list (ERROR 309 sent).  Since: 0.3 */
    uint64_t auth_failures;    /**< TCP links closed because a message did
                                    not authenticate (a bad handshake, a
                                    flipped bit, a replayed, dropped or
                                    reordered record).  Per link:
                                    ipcn_link_info.auth_failures.
                                    Since: 0.3 */
    uint64_t loops;            /**< ROUTE and FORWARD frames dropped as
                                    loops (308): a path holding this node,
                                    a full path, no hops left.  Since: 0.3 */
    uint64_t dups;             /**< FORWARD frames dropped as duplicates:
                                    a sequence number already taken from
                                    their origin.  Since: 0.3 */
    uint64_t bad_gateway;      /**< FORWARD frames this node could not
                                    send on: no way to their destination
                                    (bounced 302 to their origin).
                                    Since: 0.3 */
    /* Typed data and streams (ipcnet_schema.h).  Since: 0.2 */
    uint64_t typed_refused;    /**< values this node refused to publish or
                                    set (200) because they were not of
                                    their resource's declared type.
                                    Since: 0.2 */
    uint64_t typed_dropped;    /**< values of peers' typed resources
                                    (samples, query answers) dropped here
                                    because they were not of the declared
                                    type.  Since: 0.2 */
    /* Requests through shared memory (16 KiB or more, to peers on this
     * host that take them; docs/protocol.md 12.9).  Since: 0.2 */
    uint64_t shm_requests_sent;  /**< requests this node sent with their
                                    body in a slot of its request pool
                                    (the others went inline).  Since: 0.2 */
    uint64_t shm_requests_taken; /**< requests of peers this node took
                                    from their pools.  Since: 0.2 */
    uint64_t shm_requests_refused; /**< requests of peers naming bytes
                                    outside their pools, to a path that
                                    takes none, or too long, answered
                                    200 (their slot given back).
                                    Since: 0.2 */
    uint32_t shm_request_slots;  /**< slots of this node's request pools
                                    (the current one and any retired one
                                    not yet gone) that providers hold now
                                    (each given back when its provider is
                                    done with the request, or its link
                                    closes).  Since: 0.2 */
    uint64_t replies_late;       /**< answers to requests of this node's
                                    that had already ended (timed out,
                                    cancelled, or failed over): normal,
                                    not counted in bad_frames.  The slot
                                    of a late SHM_REPLY is given back at
                                    once.  Since: 0.2 */
    uint64_t shm_requests_over_share; /**< large requests sent inline
                                    because their provider's link held
                                    its share of the request pool (all but
                                    an eighth of its slots).  Since: 0.2 */
} ipcn_node_stats;

/** ipcn_node_get_stats() - Returns 100; 200 for a NULL argument or a
 *  size under the first version's.  Since: 0.1 */
IPCN_API int ipcn_node_get_stats(ipcn_node *node, ipcn_node_stats *out);

/** What peers make a node hold now, and what it refused them (see the
 *  limits in ipcn_node_opts); a sized struct (see the top).  Since: 0.1 */
typedef struct ipcn_node_usage {
    uint32_t size;             /**< sizeof(ipcn_node_usage): set it */
    uint32_t peers;            /**< linked now */
    uint64_t peer_meta_bytes;  /**< accounted for peers' resources and
                                    patterns now (<= peer_meta_budget) */
    uint64_t meta_refused;     /**< announces and subscribes refused: 205
                                    (peer_meta_max) or 307 (the budget) */
    uint64_t peers_refused;    /**< connections refused past max_peers */
    uint64_t tx_queued_bytes;  /**< bytes queued to peers, all links */
    uint64_t tx_buffer_bytes;  /**< memory holding them, all links (each
                                    link's under the bound given at
                                    ipcn_node_opts.tx_limit; given back
                                    when its queue empties) */
    uint64_t tx_buffer_peak;   /**< the most tx_buffer_bytes has been since
                                    the node started.  Since: 0.1 */
} ipcn_node_usage;

/**
 * ipcn_node_get_usage() - fill *out (a sized struct: the caller sets its
 * size).  Returns 100; 200 for a NULL argument or a size under the first
 * version's.
 * Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_node_get_usage(ipcn_node *node, ipcn_node_usage *out);

/* ------------------------------------------------------------------ */
/* Reputation                                                          */
/* ------------------------------------------------------------------ */

/*
 * A node keeps a score for each principal behind its links (a peer node by
 * its proved name and uid; a process that never said hello by its uid and
 * pid, so that one process's bad bytes never shut out its user): each
 * offence it is answerable for lowers it (malformed frames, policy
 * refusals, rate limits, ...; the policy's "reputation" section names the
 * penalties), and it decays back towards 0 with a half-life.  With that
 * section in the policy, a principal whose score falls below its
 * quarantine threshold is quarantined: its links are closed (ERROR 205
 * with the time to wait) and new ones refused, for a time that doubles on
 * each repeat up to a maximum; below the ban threshold it is banned (ERROR
 * 202) until an operator lifts it.  White-listed principals are never
 * quarantined automatically, black-listed ones never linked.  A node that
 * quarantines a peer tells its other peers, which follow or not by their
 * own policy (docs/reputation.md).  Each quarantine, ban and lift raises
 * IPCN_EV_QUARANTINE.
 */

/** What a principal is charged with, as counted in
 *  ipcn_quarantine_record.evidence.  Since: 0.2 */
typedef enum ipcn_offence {
    IPCN_OFFENCE_BAD_FRAME = 0,    /**< malformed or checksum-failing */
    IPCN_OFFENCE_DENIED = 1,       /**< refused by policy (201, 202, 203) */
    IPCN_OFFENCE_RATE_LIMITED = 2, /**< over a rate limit or quota */
    IPCN_OFFENCE_FAILED = 3,       /**< as a provider: answered 300 */
    IPCN_OFFENCE_TIMEOUT = 4,      /**< as a provider: let requests time out */
    IPCN_OFFENCE_VERIFY = 5,       /**< its sample failed ipcn_msg_verify() */
    IPCN_OFFENCE_ANOMALY = 6,      /**< traffic far above its normal */
    IPCN_OFFENCE_CONNECTIONS = 7,  /**< links opened over its rate */
    IPCN_OFFENCE_COMPROMISE = 8,   /**< evidence of a compromise */
    IPCN_OFFENCE_DISSENT = 9       /**< as a provider: outvoted in an
                                        IPCN_REQ_VOTE request
                                        (ipcnet_redundancy.h).  Since: 0.2 */
} ipcn_offence;
#define IPCN_OFFENCE_KINDS 16      /**< room in the evidence array */

/** ipcn_offence_name() - "bad_frame", "denied", ... as the policy file
 *  names them; NULL for an unknown kind.  Since: 0.2 */
IPCN_API const char *ipcn_offence_name(int kind);

/** Since: 0.2 */
typedef enum ipcn_quarantine_state {
    IPCN_QUARANTINE_NONE = 0,        /**< linked as any peer */
    IPCN_QUARANTINE_QUARANTINED = 1, /**< refused for ms_left */
    IPCN_QUARANTINE_BANNED = 2       /**< refused until lifted */
} ipcn_quarantine_state;

/** One principal as this node sees it: a sized struct (see the top).
 *  Pointers lead into the list it was read from and live as long as it.
 *  Since: 0.2 */
typedef struct ipcn_quarantine_record {
    uint32_t size;              /**< sizeof(ipcn_quarantine_record) */
    const char *subject;        /**< a node name, or "uid U pid P" for a
                                     process that never said hello: what
                                     ipcn_quarantine_lift() takes */
    int named;                  /**< subject is a node name */
    int32_t uid, pid;           /**< pid: the process last seen */
    double score;               /**< <= 0, decayed to now */
    ipcn_quarantine_state state;
    uint64_t ms_left;           /**< QUARANTINED: until it ends; BANNED:
                                     UINT64_MAX; else 0 */
    uint64_t duration_ms;       /**< the current or last quarantine's
                                     length (0: none yet, or a ban) */
    uint32_t strikes;           /**< quarantines and bans so far: the next
                                     quarantine lasts 2^strikes times the
                                     first (up to the policy's maximum) */
    uint64_t evidence[IPCN_OFFENCE_KINDS]; /**< offences, by ipcn_offence */
    const char *detail;         /**< the latest evidence, one line */
    int by_report;              /**< quarantined on other nodes' reports */
    uint32_t nreporters;        /**< nodes that reported it quarantined */
    const char *const *reporters; /**< their names, oldest first */
} ipcn_quarantine_record;

/** The result of ipcn_quarantines(): read each record with
 *  ipcn_quarantine_list_get(); free with ipcn_quarantine_list_free().
 *  Since: 0.2 */
typedef struct ipcn_quarantine_list {
    size_t count;
} ipcn_quarantine_list;

#define IPCN_QUARANTINE_ALL 1u  /**< every record, not only the refused */

/**
 * ipcn_quarantines() - this node's records of principals: those
 * quarantined or banned now, or with IPCN_QUARANTINE_ALL in flags every
 * one it keeps (at most 1024, the least recently charged forgotten first),
 * most recently charged first.
 * Returns 100; 200 for NULL or unknown flags; 307.  Thread-safe.
 * Since: 0.2
 */
IPCN_API int ipcn_quarantines(ipcn_node *node, unsigned flags,
                              ipcn_quarantine_list **out);
/**
 * ipcn_quarantine_list_get() - record index of list into *out (set
 * out->size first).  Returns 100; 200 for NULL or a size under the first
 * version's; 203 when index is not below list->count.  Since: 0.2
 */
IPCN_API int ipcn_quarantine_list_get(const ipcn_quarantine_list *list,
                                      size_t index,
                                      ipcn_quarantine_record *out);
/** ipcn_quarantine_list_free() - NULL is a no-op.  Since: 0.2 */
IPCN_API void ipcn_quarantine_list_free(ipcn_quarantine_list *list);

/**
 * ipcn_quarantine_lift() - an operator's word: the principal called
 * subject (a node name: every record of that name; or "uid U pid P") is
 * no longer quarantined or banned on this node, its score starts again at
 * 0 (its strikes stay, for the doubling), and a node of that name is
 * dialled again.  Raises IPCN_EV_QUARANTINE with status 100.
 * Returns 100; 200 for NULL or a subject of neither form; 203 when this
 * node has no record of it.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_quarantine_lift(ipcn_node *node, const char *subject);

/* ------------------------------------------------------------------ */
/* Traffic: what each peer usually sends this node                     */
/* ------------------------------------------------------------------ */

/** The verbs a node counts what its peers send it by.  Since: 0.2 */
typedef enum ipcn_traffic_verb {
    IPCN_TRAFFIC_REQUEST = 0,  /**< requests of its services */
    IPCN_TRAFFIC_QUERY = 1,    /**< queries of its data */
    IPCN_TRAFFIC_SET = 2,      /**< sets of its data (ipcn_set()) */
    IPCN_TRAFFIC_SAMPLE = 3    /**< samples the peer publishes to it
                                    (inline and shared memory) */
} ipcn_traffic_verb;

/**
 * What one linked peer sends this node on one resource with one verb: its
 * normal rate and size, and whether it is far above that now.  Each node
 * keeps this picture of every peer link, per path and verb, for the
 * frames the peer sends it, whatever the answer (refusals included): at
 * most 64 paths per peer, the rest (and a path idle for a minute makes
 * room) counted under the path "*".  Rates are counted over windows of
 * one second.  The normal is an exponentially weighted mean of those
 * windows (weight 0.1 each; the plain mean over the first ones); the mean
 * size one of the frames' payload bytes (weight 1/16).
 *
 * The anomaly rule, when the network policy's detect section has
 * "anomaly: {factor: F, for: T}": after 5 windows of a path (its normal
 * first), windows whose rate is over F times the normal (a normal under
 * 1/s counts as 1/s) for T or longer are an anomaly: the peer's
 * misbehaviour, once per episode (logged IPCN-TRAFFIC-ANOMALY with the
 * figures, and charged to its reputation).  The episode ends with the
 * first window under the bound.  Windows over the bound leave the normal
 * as it was, unless the rate stays over it for a minute: that level is
 * then the normal (and the episode over).
 *
 * A sized struct that only the library fills: size is sizeof the struct
 * the library was built with, and a field at an offset past it is not
 * there.  Strings live as long as the list.  Since: 0.2
 */
typedef struct ipcn_traffic_item {
    uint32_t size;              /**< the library's sizeof(ipcn_traffic_item) */
    const char *peer;           /**< the peer's node name */
    uint64_t peer_id;
    const char *path;           /**< the resource; "*" for the rest */
    ipcn_traffic_verb verb;
    int anomalous;              /**< in an anomaly episode now */
    double rate_per_s;          /**< its normal rate, frames a second */
    double rate_now;            /**< the last complete second's */
    double mean_bytes;          /**< payload bytes of a frame, its normal */
    uint64_t count, bytes;      /**< frames and payload bytes, all told */
    double idle_s;              /**< seconds since the last one */
    uint64_t anomalies;         /**< episodes so far */
} ipcn_traffic_item;

/** The result of ipcn_traffic(); free with ipcn_traffic_list_free().
 *  Since: 0.2 */
typedef struct ipcn_traffic_list {
    size_t count;
    ipcn_traffic_item **items;  /**< sorted by peer, path, verb */
} ipcn_traffic_list;

/**
 * ipcn_traffic() - this node's picture of what its linked peers send it
 * (see ipcn_traffic_item), of every peer or of the one named peer (NULL:
 * all).  A peer that sent nothing counted has no item.  Another node's
 * picture: ask its service "@sys/<node>/traffic" (ipcn_request(); see
 * "Node services").
 * Returns 100; 200 for NULL node or out; 203 when peer is not linked;
 * 307.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_traffic(ipcn_node *node, const char *peer,
                          ipcn_traffic_list **out);
/** ipcn_traffic_list_free() - NULL is a no-op.  Since: 0.2 */
IPCN_API void ipcn_traffic_list_free(ipcn_traffic_list *list);
/** ipcn_traffic_verb_str() - "request", "query", "set", "sample"; "?" for
 *  another number.  Since: 0.2 */
IPCN_API const char *ipcn_traffic_verb_str(int verb);

/*
 * Node services.  Each node answers requests for the paths
 * "@sys/<node>/<name>" itself: ipcn_request(node, "@sys/cam/traffic", ...)
 * goes straight to the node named "cam" over its link (nothing is
 * announced or found: ipcn_find() does not list them) and is answered by
 * its built-in handler <name>; "@sys/<own name>/<name>" is answered by
 * the calling node.  No node may announce a path under "@sys/" (200).
 * Who may call them is the network policy's to say, as for any service:
 * READ of the path to know it is there (else 203), EXECUTE to call it
 * (else 202, or 201), so a shared network (default deny) needs a rule
 * that allows read and execute of them (the pattern "@sys/" followed by
 * two stars: docs/policy.md).  A query or set of such a path gets 204; a node not
 * linked, or a name no node service has, 203.  The services:
 *
 *   traffic  the node's traffic picture (ipcn_traffic()), as CBOR (encoding
 *            "cbor"): {"node": NAME, "items": [{"peer", "path", "verb",
 *            "rate", "now", "mean_bytes", "count", "bytes", "idle_s",
 *            "anomalous", "anomalies"}, ...]}.  The request's body: empty,
 *            or CBOR {"peer": NAME} for one peer's (else 200).
 *   links    the node's links (ipcn_links(), ipcnet_hosts.h), as CBOR:
 *            {"node": NAME, "items": [{"kind" ("unix", "tcp", "routed"),
 *            "peer", "host", "addr", "key", "via", "hops", "rtt_ns",
 *            "bytes_in", "bytes_out", "frames_in", "frames_out", "drops",
 *            "auth_failures", "loops"}, ...]}: how `ipcnet links` learns a
 *            gateway's links to other hosts.  Since: 0.3
 *
 * Since: 0.2
 */
/* When a component is compromised                                     */
/* ------------------------------------------------------------------ */

/*
 * A node watches its peers for evidence that a component is no longer what
 * it was (docs/compromise.md):
 *   EXE_CHANGED  its executable changed on disk while it runs (replaced,
 *                removed or written: seen by inotify, checked against the
 *                file the process runs);
 *   EXE_HASH     its executable does not hash to the SHA-256 the policy
 *                names for it (the "detect" section's components);
 *   PROVIDE      it announced a resource the policy does not let it
 *                provide (refused 202);
 *   IDENTITY     its node name was seen on this node before with another
 *                uid (or, when the policy names a hash for it, another
 *                executable);
 *   VIOLATIONS   a burst of policy refusals (detect.violations within
 *                detect.within; 20 in 1 s by default);
 *   TAMPERED     a shared-memory sample it published failed
 *                ipcn_msg_verify() here: altered after publication.
 * Each is told at once: an IPCN_EV_COMPROMISE event (ipcn_event.compromise
 * holds the evidence), ipcn_node_stats.compromises, the log
 * (IPCN-COMPROMISE), and a network event: a CBOR map {"subject", "uid",
 * "pid", "kind", "detail", "action", "criticality", "reporter", "time"}
 * published on the stream "system/compromise/<this node's name>",
 * announced on first use; subscribe to the pattern "system/compromise/"
 * followed by "**" to hear every node's.  What the node then does is the policy's (detect.action,
 * or the matching component's action):
 *   REPORT    nothing more (the default, without a "detect" section);
 *   ISOLATE   every decision for that principal is refused as if denied
 *             (its requests, queries and sets get 203 or 202, it is told
 *             of no resource and gets no sample, its announcements and
 *             samples are refused), on every link, now and when it links
 *             again, until lifted (ipcn_isolation_lift()); the link stays
 *             up so the evidence stays visible;
 *   SHUTDOWN  isolate, and the event's action says SHUTDOWN: the
 *             application is asked to start the system's safe shutdown
 *             (the library does not stop anything itself).
 * Evidence of one kind is reported once per principal until it is lifted.
 */

/** What the evidence is.  Since: 0.2 */
typedef enum ipcn_compromise_kind {
    IPCN_COMPROMISE_EXE_CHANGED = 1,
    IPCN_COMPROMISE_EXE_HASH = 2,
    IPCN_COMPROMISE_PROVIDE = 3,
    IPCN_COMPROMISE_IDENTITY = 4,
    IPCN_COMPROMISE_VIOLATIONS = 5,
    IPCN_COMPROMISE_TAMPERED = 6
} ipcn_compromise_kind;

/** What the node did about it.  Since: 0.2 */
typedef enum ipcn_compromise_action {
    IPCN_COMPROMISE_REPORT = 0,
    IPCN_COMPROMISE_ISOLATE = 1,
    IPCN_COMPROMISE_SHUTDOWN = 2  /**< isolated; the application is asked
                                       for the system's safe shutdown */
} ipcn_compromise_action;

/** The evidence against one principal (its node name): the latest.
 *  Filled by the library.  Since: 0.2 */
typedef struct ipcn_compromise {
    const char *name;           /**< the peer's node name */
    uint64_t node_id;
    int32_t pid, uid;           /**< its process when the evidence came */
    ipcn_compromise_kind kind;
    const char *detail;         /**< one line of text */
    ipcn_compromise_action action;
    uint32_t criticality;       /**< 0 low, 1 normal, 2 high, 3 critical
                                     (the policy's component, else 1) */
    int isolated;               /**< isolated now */
    uint64_t time_ns;           /**< CLOCK_REALTIME of the evidence */
    uint32_t reports;           /**< evidence reported of it so far */
} ipcn_compromise;

/** The result of ipcn_compromises(); free with
 *  ipcn_compromise_list_free().  Since: 0.2 */
typedef struct ipcn_compromise_list {
    size_t count;
    ipcn_compromise *items;     /**< sorted by name */
} ipcn_compromise_list;

/**
 * ipcn_compromises() - every principal this node holds evidence
 * against (isolated or only reported), with the latest evidence.
 * Returns 100; 200 for NULL; 307.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_compromises(ipcn_node *node, ipcn_compromise_list **out);
/** ipcn_compromise_list_free() - NULL is a no-op.  Since: 0.2 */
IPCN_API void ipcn_compromise_list_free(ipcn_compromise_list *list);

/**
 * ipcn_isolation_lift() - an operator's word: the node called name is no
 * longer isolated on this node, its evidence is forgotten, and its links
 * are served again at once (peers are told of what they may see again).
 * Returns 100; 200 for a bad name; 203 when this node holds no evidence
 * against it.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_isolation_lift(ipcn_node *node, const char *name);

/* ------------------------------------------------------------------ */
/* Readiness, criticality and shutdown                                 */
/* ------------------------------------------------------------------ */

/** How much the robot needs a node (ipcn_node_opts.criticality, told to
 *  every peer, shown by `ipcnet nodes`).  Since: 0.2 */
typedef enum ipcn_criticality {
    IPCN_CRIT_UNSET = 0,
    IPCN_CRIT_OPTIONAL = 1,     /**< the robot runs without it */
    IPCN_CRIT_IMPORTANT = 2,    /**< its loss is an alarm */
    IPCN_CRIT_CRITICAL = 3      /**< its loss stops the robot safely; every
                                     peer gets IPCN_EV_CRITICAL_LOST */
} ipcn_criticality;

/**
 * ipcn_node_ready() - say that this node has done its start-up and serves:
 * every peer is told (IPCN_EV_PEER_READY there, ipcn_peer_info.ready), and
 * so is every peer that links later (a STATE frame, with the node's
 * criticality: docs/protocol.md 7.6).  A supervisor counts a component as
 * started only once its node said this.  Calling it again does nothing, and
 * readiness is not taken back.
 * Returns 100; 200 for NULL.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_node_ready(ipcn_node *node);

/** The two parts a node plays in the system's ordered shutdown.
 *  Since: 0.2 */
typedef enum ipcn_shutdown_phase {
    IPCN_SHUTDOWN_SAFE_STATE = 1, /**< bring what it drives to a safe state
                                       (the arm to its rest pose, the base
                                       to a stop) and confirm */
    IPCN_SHUTDOWN_STOP = 2        /**< stop: finish, release, exit */
} ipcn_shutdown_phase;

/** What a shutdown handler is told; valid during the call.  A sized
 *  struct (see the top).  Since: 0.2 */
typedef struct ipcn_shutdown_info {
    uint32_t size;
    ipcn_shutdown_phase phase;
    uint32_t system_phase;      /**< the system's phase: 1 safe state,
                                     2 producers stop, 3 consumers stop,
                                     4 the rest */
    uint32_t deadline_ms;       /**< time the asker gives; past it, a stop
                                     is followed by SIGTERM, then SIGKILL */
    const char *reason;         /**< why, for people ("" when not told) */
    const char *by;             /**< the asking node's name */
} ipcn_shutdown_info;

/** A shutdown handler: return 100 when done, 102 when it confirms later
 *  with ipcn_shutdown_done(), or an error status (it is reported).  201
 *  and 202 are the permission check's answers alone: from a handler (or
 *  ipcn_shutdown_done()) they are sent as 300, so that a component cannot
 *  pass for one the asker may not stop. */
typedef int (*ipcn_shutdown_fn)(ipcn_node *node,
                                const ipcn_shutdown_info *info, void *user);

/**
 * ipcn_on_shutdown() - take part in the system's ordered shutdown: when a
 * principal allowed to (EXECUTE of "system/shutdown" in the network
 * policy; else 202 to it) asks this node over the network for phase
 * (REQUEST of "@sys/<node>/shutdown", docs/protocol.md 12.4), fn is called
 * on the dispatching thread (never from inside this call), and its status
 * is the answer.  One handler per phase; fn NULL removes it.  A phase with
 * no handler is answered 103 at once (the supervisor then goes on: for a
 * stop, with SIGTERM).  While an ask of a phase is queued, runs or awaits
 * its ipcn_shutdown_done(), another ask of it is answered 205 — except
 * that once the asker awaiting the confirmation has left, a new ask runs
 * fn again and the confirmation goes to it (so fn must bear being called
 * twice).  user is
 * passed to fn.  The node may ask itself (no permission needed); its
 * handler still runs from dispatch, so a waiting ipcn_request() of it on
 * the dispatching thread itself ends with 304.
 * Returns 100; 200 for NULL node or a bad phase; 307.  Thread-safe.
 * Since: 0.2
 */
IPCN_API int ipcn_on_shutdown(ipcn_node *node, ipcn_shutdown_phase phase,
                              ipcn_shutdown_fn fn, void *user);

/**
 * ipcn_shutdown_done() - confirm a phase whose handler returned 102: the
 * asker gets status (100 when done; an error or an application code).
 * May be called from the handler itself before it returns 102, or from
 * any thread later.  Returns 100; 200 for NULL or a bad phase or status
 * (102, or a code that is neither in the table nor >= 1000); 203 when no
 * answer of that phase is awaited (the asker left, or it was answered).
 * Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_shutdown_done(ipcn_node *node, ipcn_shutdown_phase phase,
                                int status);

/* ------------------------------------------------------------------ */
/* Late subscribers: latched data, kept samples                        */
/* ------------------------------------------------------------------ */

/*
 * A subscriber that comes after the fact gets what the provider keeps
 * before anything newer, as ROS 2's transient-local durability gives it
 * (docs/protocol.md 10.3):
 *
 *   - A data resource is latched by default: a new subscription matching
 *     it gets its current value first (when it has one), then every later
 *     value.  Chosen as the default because a data resource is a state
 *     (what a query returns), and a subscriber of a state wants it now,
 *     not at its next change, which may never come (a map, a robot
 *     description, a mode); a ROS user reaches for transient-local for
 *     exactly these "latched" topics.  Streams are not kept by default
 *     (ROS 2's default, volatile): the publisher asks for it.
 *   - A stream keeps its last N samples when its publisher says so at
 *     announce time (ipcn_announce_keep(), N <= IPCN_KEEP_MAX); a new
 *     subscription gets them, oldest first, before the live ones.
 *   - Opt out: the provider with ipcn_announce_keep(..., 0) (a data
 *     resource whose old value means nothing to a newcomer), the
 *     subscriber with IPCN_SUB_NO_HISTORY (ipcn_subscribe_ex()).
 *
 * Race-free: each resource reaches the subscription as a run of
 * consecutive seqs, from what was kept to every sample published after,
 * each once, in order: no gap and no duplicate.  The subscription asks
 * each peer once (when it is made; when a link comes up), and the peer
 * sends what it keeps at the point in its stream where it took the
 * subscription; until then the subscriber holds back a kept stream's
 * live samples (the kept ones include them), and takes a data resource's
 * live values but not the kept value again when one came (the kept value
 * is then the newest of them).  The values published between the call and
 * that point may come as one: a data resource's newest value stands for
 * those before it.  Each kept sample that comes counts in
 * ipcn_sub_stats.received and .history.  Across resources, the kept
 * samples of a stream come after the live samples of other resources
 * that came meanwhile.  A provider that comes back (a new link) sends its
 * current value again.  A subscription's queue bounds what it takes
 * (queue_depth: the oldest dropped, counted).
 *
 * The cost is the provider's: a latched data resource keeps its value
 * anyway; a stream keeps copies of its last N samples inline (at most
 * 64 MiB of them per resource, the oldest given up first),
 * and the large ones (shm_threshold and more) in slots of its
 * shared-memory pool, where each kept sample holds a slot.  Kept slots
 * never make the pool refuse a loan: a loan of a full pool first takes
 * back the slots that only the keep holds, oldest first, and a pool with
 * IPCN_POOL_DROP_OLDEST may take back one a reader holds too; either way
 * the kept samples given up are counted (ipcn_keep_stats.evicted), and
 * the keep goes on from the newest whole run.  Keep N well under the
 * pool's slots (ipcn_pool_opts.slots, 64 by default) so that it lasts.
 * A new subscriber takes at most its share of the pool (7/8 of the
 * slots): a longer keep gives it the newest that fit.
 *
 * Peers of an older version (without the LATCH capability) neither send
 * nor ask for kept samples: their subscriptions get live samples only.
 */

/** The most samples a stream keeps for late subscribers. Since: 0.2 */
#define IPCN_KEEP_MAX 1024u

/**
 * ipcn_announce_keep() - announce a data or stream resource as
 * ipcn_announce() does, and say what it keeps for subscribers that come
 * later (see above).
 * @keep: a stream: how many of its last samples it keeps, 0..IPCN_KEEP_MAX
 *        (0: none, the default); a data resource: 1 to latch its current
 *        value (the default), 0 not to.
 * Called again for the same path, it changes the keep (a smaller keep
 * gives up the oldest kept samples) and announces the path again.
 * ipcn_announce() and ipcn_announce_owned() of a path leave its keep as it
 * is.  Returns as ipcn_announce() (101 when created, 100 when it existed),
 * and 200 for a service, a keep over IPCN_KEEP_MAX (over 1 for data).
 * Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_announce_keep(ipcn_node *node, const char *path,
                                ipcn_kind kind, const char *encoding,
                                const void *meta, size_t meta_len,
                                unsigned keep);

/** What a resource of this node keeps for late subscribers.  A sized
 *  struct.  Since: 0.2 */
typedef struct ipcn_keep_stats {
    uint32_t size;       /**< sizeof(ipcn_keep_stats): set it */
    uint32_t keep;       /**< as announced (data: 1 latched, 0 not) */
    uint32_t kept;       /**< samples kept now (data: 1 with a value) */
    uint32_t kept_slots; /**< of a stream's, those in pool slots (each
                              holds one slot of ipcn_pool_stats.held) */
    uint64_t kept_bytes; /**< of a stream's, the bytes of the others */
    uint64_t evicted;    /**< kept samples given up before keep newer ones
                              came: for room in a full pool, taken back by
                              it, or over 64 MiB inline */
    uint64_t replays;    /**< subscriptions served (here or on peers) */
    uint64_t replayed;   /**< samples sent to them */
} ipcn_keep_stats;

/** ipcn_keep_get_stats() - Returns 100, 203 when this node has no such
 *  data or stream resource, 200 (NULL, a size under this version's).
 *  Thread-safe.  Since: 0.2 */
IPCN_API int ipcn_keep_get_stats(ipcn_node *node, const char *path,
                                 ipcn_keep_stats *out);

/** ipcn_sub_opts.flags: only what is published from now on (no latched
 *  value, no kept samples).  Since: 0.2 */
#define IPCN_SUB_NO_HISTORY 0x1u

/** Options of ipcn_subscribe_ex(); a sized struct.  Since: 0.2 */
typedef struct ipcn_sub_opts {
    uint32_t size;        /**< sizeof(ipcn_sub_opts): set by _init */
    uint32_t queue_depth; /**< as ipcn_subscribe()'s (0: 64) */
    uint32_t flags;       /**< IPCN_SUB_* */
} ipcn_sub_opts;

/** ipcn_sub_opts_init() - the defaults (ipcn_subscribe()'s).  Since: 0.2 */
IPCN_API void ipcn_sub_opts_init(ipcn_sub_opts *opts);

/**
 * ipcn_subscribe_ex() - ipcn_subscribe() with options (opts NULL: the
 * defaults, the same as ipcn_subscribe()).  Latched values and kept
 * samples (see above) are queued for it from this call on: those of this
 * node's own resources before it returns, its peers' as they come; never
 * delivered from inside this call.  Returns as ipcn_subscribe(), and 200
 * for an unknown flag or a bad size.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_subscribe_ex(ipcn_node *node, const char *pattern,
                               const ipcn_sub_opts *opts, ipcn_sample_fn fn,
                               void *user, ipcn_sub *out);

/* ------------------------------------------------------------------ */
/* Waiting for a resource                                              */
/* ------------------------------------------------------------------ */

/**
 * ipcn_wait_for() - wait until this node knows a resource matching pattern
 * (and kind, unless IPCN_ANY), its own included: one already announced,
 * or one a peer announces later, a peer that starts later too.  So a
 * component started before its providers needs no loop of its own.  It
 * sleeps in the kernel meanwhile (no polling): it runs the node's I/O
 * itself, or, while another thread does (ipcn_node_start_thread(), or a
 * thread in ipcn_node_dispatch()), sleeps until that thread has handled
 * something.  It runs no callbacks.  Call it from any thread but from a
 * callback of this node (200): there it would wait for the I/O that its
 * own dispatch holds up.
 * @timeout_ms: -1: forever; 0: look once.
 * @out:  NULL, or the resources matching when it returns 100, as
 *        ipcn_find() gives them (free with ipcn_resource_list_free()).
 * Returns 100; 304 when none came in time; 303 when the node shuts down
 * or closes (also while it waits); 200 for an invalid pattern or kind, a
 * NULL node or pattern; 307.  Since: 0.2
 */
IPCN_API int ipcn_wait_for(ipcn_node *node, const char *pattern,
                           ipcn_kind kind, int timeout_ms,
                           ipcn_resource_list **out);

#ifdef __cplusplus
}
#endif
#include "ipcnet_history.h" /* debug history (issue 19) */
#include "ipcnet_prov.h" /* provenance: docs/protocol.md 20 */
#endif /* IPCNET_H */

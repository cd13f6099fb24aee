/* SPDX-License-Identifier: MIT */
/*
 * bench.h — ipcnet-bench: the harness shared by every benchmark.
 *
 * Every benchmark runs its peers as child processes (fork, no exec), each
 * optionally pinned to a core, talking to the parent over a control socket:
 * the parent orchestrates (ready, go, stop) and collects one result per
 * child.  Only the children open nodes, contexts and sockets of the
 * transports under test; the parent never does, so fork is safe.
 */
#ifndef IPCNET_BENCH_H
#define IPCNET_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAX_CPUS 64
#define BENCH_MAX_ROWS 256
#define BENCH_MAX_SIZES 16
#define BENCH_MAX_CHILDREN 8

/* ---- options ---- */

typedef struct bench_opts {
    bool quick;              /* smoke mode: seconds, correctness only */
    bool json;               /* one JSON object on stdout */
    bool verbose;
    int ncpus;               /* --cpus: child k runs on cpus[k % ncpus] */
    int cpus[BENCH_MAX_CPUS];
    size_t rtt_size;         /* --size (rtt) */
    long rtt_iters;          /* --iters (rtt) */
    int rounds;              /* --rounds (rtt): interleaved rounds */
    long thr_msgs;           /* --msgs (thr) */
    int nsizes;              /* --sizes (bulk) */
    size_t sizes[BENCH_MAX_SIZES];
    int nsubs;               /* --subs (bulk) */
    int subs[4];
    double idle_seconds;
    int nscale;              /* --nodes (scale): node counts */
    int scale[8];
    double scale_seconds;    /* --scale-seconds: the measured window */
    size_t file_size;        /* --file-size (files); 0: the default */
    uint32_t spin_us;        /* --spin-us (rtt): IPCNet's low-latency row */
    uint32_t heartbeat_ms;   /* --heartbeat-ms (takeover): 0, the default */
    uint32_t dead_after_ms;  /* --dead-after-ms (takeover): 0, the default */
    char only[256];          /* --only: comma list of transports, "" = all */
    char argv_line[1024];    /* the command as typed */
} bench_opts;

extern bench_opts g_opts;

/* ---- result rows (what the table and the JSON print) ---- */

enum row_status {
    ROW_OK = 0,
    ROW_NOT_INSTALLED,   /* the peer library or tool is missing */
    ROW_NOT_SUPPORTED,   /* the transport cannot do this (yet) */
    ROW_UNAVAILABLE,     /* installed, but could not run here (reason) */
    ROW_FAILED           /* wrong data, crash or hang: the run fails */
};

typedef struct row {
    char bench[12];       /* rtt thr bulk idle scale cbor takeover */
    char transport[24];   /* ipcnet uds zmq nng iceoryx */
    char variant[40];     /* "thread", "dispatch", "REQ/REP", ... */
    bool is_default;      /* the figure that the targets use */
    int status;
    char note[512];
    uint64_t size;        /* bytes per message/sample */
    int subs;             /* bulk: subscribers */
    uint64_t n;           /* iterations / messages / samples sent */
    uint64_t arrived;     /* thr/bulk: what arrived (per subscriber, min) */
    uint64_t lost;        /* thr/bulk: reported lost (gaps) + dropped */
    bool has_lat;
    double p50_us, p99_us, max_us;
    double rate;          /* rtt: round trips/s; thr: sent msg/s;
                             bulk: samples/s; idle, scale: CPU % */
    double rx_rate;       /* thr: received msg/s */
    double aux;           /* idle, scale: wakeups/s */
    double enc_ns, dec_ns; /* cbor: encode / decode, ns per operation */
    /* scale: per node, the mean over the N nodes (KiB, count); sync_ms the
     * time a new node took to be linked to all and know every resource
     * (< 0: not measurable for this transport).  The drop times of a
     * killed node are p50/p99/max (has_lat). */
    double rss_kib, pss_kib, priv_kib, fds, sync_ms;
} row;

extern row g_rows[BENCH_MAX_ROWS];
extern int g_nrows;
extern int g_failures;     /* rows that failed (wrong data, crash, hang) */

row *row_new(const char *bench, const char *transport, const char *variant);
void row_fail(row *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void row_set_status(row *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool want_transport(const char *name);

/* ---- time and statistics ---- */

uint64_t now_ns(void); /* CLOCK_MONOTONIC: the same clock in every process */
void sleep_ms(int ms);
/* Sort samples (ns) and fill p50/p99/max in microseconds. */
void lat_summary(uint64_t *ns, size_t n, double *p50, double *p99, double *max);

/* ---- payload patterns (checked by receivers) ---- */

uint64_t mix64(uint64_t x);
/* 64-byte-or-more message: word 0 is seq, the rest mix(seq, i). */
void msg_fill(void *buf, size_t len, uint64_t seq);
bool msg_check(const void *buf, size_t len, uint64_t *seq_out);

/* Bulk samples: [0] send stamp, [1] seq, then one word per 4 KiB page
 * (full == false) or every word (full == true) derived from seq. */
void sample_fill(void *buf, size_t len, uint64_t seq, bool full);
void sample_stamp(void *buf, uint64_t stamp);
bool sample_check(const void *buf, size_t len, bool full, uint64_t *seq,
                  uint64_t *stamp);

/* ---- processes ---- */

typedef struct child child;
typedef int (*child_fn)(child *c);

struct child {
    pid_t pid;
    int ctl;            /* the control socket (parent's or child's end) */
    int index;          /* pins to cpus[index % ncpus] */
    child_fn fn;
    void *arg;          /* benchmark-specific, read by the child */
    int fds[8];         /* extra descriptors the child keeps */
    int nfds;
    char name[32];
    /* A network namespace (its name under /run/netns, net.c) the child
     * enters before fn runs; "" stays in ours. */
    char netns[40];
    /* the result, once collected */
    bool done;
    int exit_status;
};

/* Control messages: one byte, or a result ('X' + length + bytes). */
#define CTL_READY 'R'
#define CTL_WARM 'W'
#define CTL_GO 'G'
#define CTL_STOP 'S'

/* Start fn in a new process.  The child keeps c->ctl and c->fds only. */
int child_spawn(child *c, const char *name, int index, child_fn fn, void *arg);
/* In the parent: wait for a byte from the child (timeout in ms). Returns
 * the byte, 0 on timeout, -1 on EOF/error. */
int ctl_wait(child *c, int timeout_ms);
int ctl_send(int fd, char byte);
/* In the child: non-blocking check for a byte from the parent. */
int ctl_poll(int fd);
/* Results: a fixed struct followed by an optional array of uint64. */
int ctl_send_result(int fd, const void *res, size_t res_len,
                    const uint64_t *arr, size_t narr);
/* Receive a result: *arr is malloc'd (free it), narr its length. */
int ctl_recv_result(child *c, void *res, size_t res_len, uint64_t **arr,
                    size_t *narr, int timeout_ms);
/* Wait for the child to exit (kill it after timeout_ms); 0 when it exited
 * with status 0.  Sets c->exit_status. */
int child_reap(child *c, int timeout_ms);
void child_kill(child *c);
void children_kill_all(void);

/* A private directory for one benchmark (IPCNET_DIR, ipc:// paths). */
int bench_tmpdir(char *out, size_t cap);
void bench_rmdir(const char *dir);
void bench_rmdir_all(void); /* when cut short */

/* I/O helpers. */
int writen(int fd, const void *p, size_t n);
int readn(int fd, void *p, size_t n);

/* Human-readable sizes: "64 B", "64 KiB", "16 MiB-1 KiB". */
const char *size_str(uint64_t n, char *buf, size_t cap);
int parse_size(const char *s, size_t *out);

/* ---- the rows with a network policy (policy.c) ---- */

/* The 100-rule policy, written into dir; its path in out.  0, or -1 with
 * err filled. */
int bench_policy_write(const char *dir, char *out, size_t cap, char *err,
                       size_t errcap);
/* In a child, before it opens its node: $IPCNET_POLICY = file, or unset
 * when file is empty (the rows without policy). */
void bench_policy_env(const char *file);
/* Does node n enforce the policy (it refuses to announce a path the
 * policy forbids)?  0, or -1 with err filled. */
typedef struct ipcn_node ipcn_node;
int bench_policy_check(ipcn_node *n, char *err, size_t errcap);
#define BENCH_POLICY_VARIANT "100-rule policy"
/* Issue 15: a policy whose limits apply to every request and sample of
 * the benchmark and never trigger (policy.c), for the rows "limits". */
int bench_limits_write(const char *dir, char *out, size_t cap, char *err,
                       size_t errcap);
#define BENCH_LIMITS_VARIANT "limits policy"

/* ---- the benchmarks ---- */

void bench_rtt(size_t size);
void bench_thr(void);
void bench_bulk(void);
void bench_idle(void);
void bench_scale(void); /* scale.c: N idle node processes together */

/* scale_probe.c: what the scale benchmark reads in /proc of its nodes. */
typedef struct scale_snap {
    uint64_t t, run_ns, slices, ticks;
} scale_snap;
typedef struct scale_memfd {
    uint64_t rss_kib, pss_kib, priv_kib, shared_kib, fds;
} scale_memfd;
scale_snap scale_take(const pid_t *pids, int n);
/* One process: 0, or -1 when /proc could not be read. */
int scale_mem(pid_t pid, scale_memfd *m);
/* Mean and max over n processes: 0, or -1. */
int scale_mem_all(const pid_t *pids, int n, scale_memfd *mean, scale_memfd *max);
/* The CPU of the window s0..s1 and the mean memory/fds into r. */
void scale_fill(row *r, int nodes, const scale_snap *s0, const scale_snap *s1,
                const scale_memfd *mean);
/* scale_zmq.c: the ZeroMQ rows (N processes, a PUB each, a SUB connected
 * to every other PUB). */
void scale_zmq(int nodes, double seconds);
void bench_cbor(void); /* cbor.c: IPCNet's CBOR codec beside libcbor and cbor2 */
void bench_files(void); /* files.c: a file through the file service beside cp */
void bench_py(void);    /* py.c: the Python binding beside C */
/* takeover.c: the gap a subscriber sees when the owner of an owned stream
 * fails (issue 17) */
void bench_takeover(void);
/* net.c: two network namespaces joined by a veth pair; raw TCP, ZeroMQ
 * tcp://, IPCNet through two gateways (rows "net-rtt", "net-bulk") */
void bench_net(void);
void bench_net_cleanup(void); /* remove the namespaces (when cut short) */
void print_files(void);
void bench_record(void); /* record.c: ipcnet record's throughput beside dd */
void print_record(void);
void print_takeover(void);

/* ---- peers (each file is compiled out, and reports "not installed", when its library is missing) --- */

/* Called on an IPCNet node of a benchmark right after it is opened, side 0
 * (server, publisher) or 1 (client, subscriber): net.c makes it a gateway.
 * 100, or a status that fails the row. */
typedef int (*bench_node_hook)(ipcn_node *n, int side);

/* rtt: a server echoing size-byte messages until "STOP", a client timing
 * iters round trips after warmup ones.  Return 0, or fill err. */
typedef struct rtt_args {
    char dir[256];
    size_t size;
    long warmup, iters;
    int sock;             /* uds: the socketpair end */
    int mode;             /* ipcnet server: 0 dispatch loop, 1 own thread */
    uint32_t spin_us;     /* ipcnet: both nodes' spin_us (0: blocking) */
    char policy[320];     /* ipcnet: $IPCNET_POLICY of both ("": none) */
    /* net.c: the server's TCP address "A:P" (zmq binds/connects tcp://A:P,
     * raw TCP listens/connects), and the namespaces of the server and the
     * client ("" for ours). */
    char addr[64];
    char srv_ns[40], cli_ns[40];
    char cli_dir[256];    /* ipcnet: the client's IPCNET_DIR ("": dir) */
    bench_node_hook hook; /* ipcnet: called on each node once open (net.c) */
} rtt_args;

typedef struct rtt_result {
    int ok;
    char err[200];
    uint64_t done;        /* round trips checked */
    uint64_t t_total_ns;
    char variant[40];
} rtt_result;

/* thr: a sender of n messages of size bytes, a receiver that counts them.
 * A message with seq THR_END ends the run. */
#define THR_END UINT64_MAX
typedef struct thr_args {
    char dir[256];
    size_t size;
    uint64_t n;
    int sock;             /* uds */
    int mode;             /* ipcnet receiver: 0 take, 1 callback */
    char policy[320];     /* ipcnet: $IPCNET_POLICY of both ("": none) */
    bool prov;            /* ipcnet: the publisher's provenance on */
} thr_args;

typedef struct thr_result {
    int ok;
    char err[200];
    uint64_t t_first_ns, t_last_ns; /* sender: first/last send; receiver:
                                       first/last arrival */
    uint64_t sent, send_failed;
    uint64_t arrived, bad, out_of_order;
    uint64_t lost, dropped, received; /* ipcnet sub stats */
    uint64_t pub_drops;               /* ipcnet publisher node stats */
    uint64_t last_seq;
    uint64_t peers_lost, peers_end;   /* ipcnet node stats at the end */
    uint64_t bytes_in, frames_in;
} thr_result;

/* bulk: one publisher, nsubs subscribers, acks over side sockets. */
typedef struct bulk_ops bulk_ops;
typedef struct bulk_args {
    const bulk_ops *ops;
    char dir[256];
    size_t size;
    int nsubs;
    int sub_index;
    uint64_t n_lat, n_thr;   /* samples in the latency / throughput phase */
    unsigned window;         /* samples in flight in the throughput phase */
    bool full_check;
    int ack[4];              /* publisher: one per subscriber; sub: ack[0] */
    /* net.c: the publisher's TCP address "A:P", the namespaces of the
     * publisher and of the subscribers ("" for ours). */
    char addr[64];
    char pub_ns[40], sub_ns[40];
    char sub_dir[256];       /* ipcnet: the subscribers' IPCNET_DIR ("": dir) */
    bench_node_hook hook;    /* ipcnet: called on each node once open (net.c) */
} bulk_args;

typedef struct bulk_result {
    int ok;
    char err[200];
    uint64_t arrived, bad, lost, dropped, max_seq;
    uint64_t t_start_ns, t_end_ns;  /* publisher: throughput phase */
    uint64_t pub_drops;
    int too_big;                    /* the transport refused the size */
} bulk_result;

/* A transport of the bulk benchmark: its publisher and subscriber side. */
typedef void (*sample_fn)(void *ctx, const void *data, size_t len);

struct bulk_ops {
    const char *name;      /* "ipcnet", "zmq", ... */
    const char *variant;   /* "pub/sub", "PUB/SUB", ... */
    /* NULL when compiled out; then `missing` says why. */
    int (*pub_open)(bulk_args *a, void **state, char *err, size_t errcap);
    /* Optional: the buffer to fill for the next sample (a loan of the
     * transport's shared memory), or NULL with err set.  Without it the
     * harness fills its own buffer and pub_send copies from it. */
    void *(*pub_buf)(void *state, size_t len, char *err, size_t errcap);
    /* Send one sample (size bytes at buf, or written into a loan).
     * Returns 0, -1 on error, -2 when the size is too large for it. */
    int (*pub_send)(void *state, const void *buf, size_t len, uint64_t seq,
                    char *err, size_t errcap);
    /* An fd to poll while waiting (or -1), and the progress to make when
     * it is readable (or NULL). */
    int (*pub_fd)(void *state);
    void (*pub_progress)(void *state);
    void (*pub_close)(void *state, bulk_result *res);
    int (*sub_open)(bulk_args *a, void **state, char *err, size_t errcap);
    /* Wait up to timeout_ms for samples and hand each to on() (data valid
     * only during the call).  Returns how many, or -1 with err set. */
    int (*sub_poll)(void *state, int timeout_ms, sample_fn on, void *ctx,
                    char *err, size_t errcap);
    void (*sub_close)(void *state, bulk_result *res);
    const char *missing;   /* the "not installed" note when compiled out */
    const char *too_big;   /* the note when the size is refused */
};

extern const bulk_ops bulk_ipcnet_ops;
extern const bulk_ops bulk_ipcnet_loan_ops;
extern const bulk_ops bulk_ipcnet_nosum_ops;
extern const bulk_ops bulk_zmq_ops;
extern const bulk_ops bulk_nng_ops;
extern const bulk_ops bulk_iox_ops;
/* One bulk row: a publisher (in a->pub_ns) and nsubs subscribers (in
 * a->sub_ns) of samples of size bytes, over ops; fills r. */
void bulk_run(row *r, const bulk_ops *ops, const bulk_args *proto, size_t size, int nsubs);

/* rtt and thr peers: NULL functions when compiled out. */
typedef struct peer_ops {
    const char *name;
    const char *variant;
    child_fn rtt_server, rtt_client;
    child_fn thr_sender, thr_receiver;
    const char *missing;
} peer_ops;

/* The measuring loop every rtt client shares: one call of fn is one round
 * trip (send req, receive the answer into rep).  Sends the result. */
typedef int (*rtt_roundtrip_fn)(void *state, const void *req, void *rep,
                                size_t size, char *err, size_t errcap);
int rtt_client_loop(child *c, const rtt_args *a, rtt_roundtrip_fn fn,
                    void *state, const char *variant);
/* The samples of one transport, over the rounds. */
typedef struct rtt_acc {
    uint64_t *lat;
    size_t n, cap;
    uint64_t total_ns;
} rtt_acc;
/* One round of a transport: a server process and a client process (in
 * a->srv_ns, a->cli_ns), the client's round trips added to x; a failure
 * fails r. */
void rtt_run(row *r, child_fn server, child_fn client, rtt_args *a, rtt_acc *x);
/* thr receivers share the counting: feed each message, then report. */
typedef struct thr_counter {
    uint64_t n, arrived, bad, out_of_order, last_seq, warm;
    uint64_t t_first, t_last;
    bool warm_sent, done;
} thr_counter;
void thr_count(thr_counter *k, int ctl, const void *data, size_t len);

/* IPCNet's rtt server (a->mode 0: dispatch loop, 1: own thread) and
 * client (rtt.c). */
int ipcnet_rtt_server(child *c);
int ipcnet_rtt_client(child *c);

extern const peer_ops peer_zmq;
extern const peer_ops peer_nng;
/* iceoryx request/response (rtt only): busy-polling, or blocking in a
 * waitset.  Both need RouDi (iox_roudi_start). */
extern const peer_ops peer_iox;
extern const peer_ops peer_iox_ws;

/* iceoryx needs its daemon (RouDi), started once per bulk or rtt run, with
 * a memory pool for each of sizes: 0 when it runs, -1 unavailable (err
 * says why), -2 not installed. */
int iox_roudi_start(const char *dir, const size_t *sizes, int nsizes,
                    int max_subs, char *err, size_t errcap);
void iox_roudi_stop(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * peer_iox.c — iceoryx (Debian's libiceoryx-binding-c-dev, iox-roudi) for
 * the bulk benchmark: shared-memory publish/subscribe through its daemon,
 * RouDi, which the benchmark starts with a memory pool sized for the
 * samples; and for rtt: request/response (iox_client/iox_server), either
 * busy-polling (iceoryx's lowest-latency path) or blocking in a waitset.
 * Compiled out (reported "not installed") without the C binding.
 *
 * The publisher loans a chunk and copies the sample into it (the sample
 * exists in an application buffer, as for the other transports); the
 * subscriber reads the chunk in place.  In rtt the client copies the
 * request into a loaned chunk and the answer out of one, the server
 * copies the request into the response: one copy per hop, like the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifndef BENCH_HAVE_IOX

#define IOX_MISSING                                                            \
    "built without libiceoryx-binding-c-dev (apt-get install "               \
    "libiceoryx-binding-c-dev iceoryx)"

const bulk_ops bulk_iox_ops = {
    .name = "iceoryx", .variant = "shm pub/sub", .missing = IOX_MISSING};
const peer_ops peer_iox = {
    .name = "iceoryx", .variant = "req/res, busy poll", .missing = IOX_MISSING};
const peer_ops peer_iox_ws = {
    .name = "iceoryx", .variant = "req/res, waitset", .missing = IOX_MISSING};

int iox_roudi_start(const char *dir, const size_t *sizes, int nsizes, int max_subs,
                    char *err, size_t errcap)
{
    (void)dir, (void)sizes, (void)nsizes, (void)max_subs;
    snprintf(err, errcap, "built without libiceoryx-binding-c-dev");
    return -2;
}

void iox_roudi_stop(void) {}

#else

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <iceoryx_binding_c/chunk.h>
#include <iceoryx_binding_c/client.h>
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/request_header.h>
#include <iceoryx_binding_c/response_header.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/server.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/wait_set.h>
#pragma GCC diagnostic pop

/* ---- the daemon ---- */

static pid_t roudi_pid;

static bool find_exe(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *copy = strdup(path), *save = NULL;
    bool found = false;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/%s", d, name);
        if (access(out, X_OK) == 0) {
            found = true;
            break;
        }
    }
    free(copy);
    return found;
}

/* What the log says went wrong: its first Fatal (else Error) message,
 * without the colours and the time stamp. */
static void last_error(const char *file, char *out, size_t cap)
{
    FILE *f = fopen(file, "r");
    out[0] = 0;
    if (!f)
        return;
    char line[512];
    int best = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        int rank = strstr(line, "Fatal") ? 2 : strstr(line, "Error") ? 1 : 0;
        if (rank <= best)
            continue;
        best = rank;
        const char *msg = line, *p;
        while ((p = strstr(msg, "m: ")) || (p = strstr(msg, "]: ")))
            msg = p + 3;
        snprintf(out, cap, "%.200s", msg);
    }
    fclose(f);
}

static bool file_has(const char *file, const char *needle)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

int iox_roudi_start(const char *dir, const size_t *sizes, int nsizes, int max_subs,
                    char *err, size_t cap)
{
    (void)max_subs;
    char exe[512];
    if (!find_exe("iox-roudi", exe, sizeof exe)) {
        snprintf(err, cap, "iox-roudi not found (apt-get install iceoryx)");
        return -2;
    }
    char cfg[512], log[512];
    snprintf(cfg, sizeof cfg, "%s/roudi.toml", dir);
    snprintf(log, sizeof log, "%s/roudi.log", dir);
    FILE *f = fopen(cfg, "w");
    if (!f) {
        snprintf(err, cap, "cannot write %s", cfg);
        return -1;
    }
    fprintf(f, "[general]\nversion = 1\n\n[[segment]]\n\n");
    /* A few small chunks for iceoryx itself, then per sample size enough
     * chunks for the window in flight plus what the subscribers hold. */
    fprintf(f, "[[segment.mempool]]\nsize = 128\ncount = 1000\n\n");
    fprintf(f, "[[segment.mempool]]\nsize = 1024\ncount = 100\n\n");
    size_t sorted[BENCH_MAX_SIZES];
    int n = 0;
    for (int i = 0; i < nsizes; i++) {
        /* room for the chunk and user headers */
        size_t s = (sizes[i] + 4096 + 63) / 64 * 64;
        int j = n;
        while (j > 0 && sorted[j - 1] > s) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = s;
        n++;
    }
    for (int i = 0; i < n; i++) {
        size_t window = (32u << 20) / sorted[i];
        if (window < 1)
            window = 1;
        if (window > 16)
            window = 16;
        fprintf(f, "[[segment.mempool]]\nsize = %zu\ncount = %zu\n\n", sorted[i],
                window + 4);
    }
    fclose(f);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, cap, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        close_range(3, ~0u, 0);
        execl(exe, exe, "-c", cfg, "-m", "off", "-l", "info", (char *)NULL);
        _exit(127);
    }
    uint64_t deadline = now_ns() + 15000000000ull;
    while (now_ns() < deadline) {
        if (file_has(log, "RouDi is ready for clients")) {
            roudi_pid = pid;
            return 0;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            char why[300];
            last_error(log, why, sizeof why);
            snprintf(err, cap, "iox-roudi could not start (another RouDi running?): %.150s",
                     why[0] ? why : "no reason in its log");
            return -1;
        }
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    snprintf(err, cap, "iox-roudi not ready in 15 s");
    return -1;
}

void iox_roudi_stop(void)
{
    if (roudi_pid <= 0)
        return;
    kill(roudi_pid, SIGTERM);
    uint64_t deadline = now_ns() + 5000000000ull;
    while (now_ns() < deadline) {
        if (waitpid(roudi_pid, NULL, WNOHANG) == roudi_pid) {
            roudi_pid = 0;
            return;
        }
        sleep_ms(20);
    }
    kill(roudi_pid, SIGKILL);
    waitpid(roudi_pid, NULL, 0);
    roudi_pid = 0;
}

/* ---- publisher and subscriber ---- */

typedef struct ist {
    iox_pub_storage_t pub_storage;
    iox_sub_storage_t sub_storage;
    iox_ws_storage_t ws_storage;
    iox_pub_t pub;
    iox_sub_t sub;
    iox_ws_t ws;
} ist;

static void runtime(const char *role, int index)
{
    char name[64];
    snprintf(name, sizeof name, "bench-%s%d-%d", role, index, (int)getpid());
    iox_set_loglevel(Iceoryx_LogLevel_Warn);
    iox_runtime_init(name);
}

static int ib_pub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    (void)err, (void)cap, (void)a;
    ist *z = calloc(1, sizeof *z);
    *state = z;
    runtime("pub", 0);
    iox_pub_options_t o;
    iox_pub_options_init(&o);
    o.historyCapacity = 0;
    z->pub = iox_pub_init(&z->pub_storage, "bench", "bulk", "sample", &o);
    return 0;
}

static int ib_pub_send(void *state, const void *buf, size_t len, uint64_t seq,
                       char *err, size_t cap)
{
    (void)seq;
    ist *z = state;
    void *chunk = NULL;
    /* The length travels in an 8-byte user header. */
    enum iox_AllocationResult r = iox_pub_loan_aligned_chunk_with_user_header(
        z->pub, &chunk, (uint32_t)len, 8, 8, 8);
    if (r != AllocationResult_SUCCESS) {
        snprintf(err, cap, "iox_pub_loan_chunk(%zu): result %d", len, (int)r);
        return r == AllocationResult_NO_MEMPOOLS_AVAILABLE ? -2 : -1;
    }
    memcpy(chunk, buf, len);
    uint64_t l64 = len;
    memcpy(iox_chunk_header_to_user_header(iox_chunk_header_from_user_payload(chunk)),
           &l64, sizeof l64);
    iox_pub_publish_chunk(z->pub, chunk);
    return 0;
}

static void ib_pub_close(void *state, bulk_result *res)
{
    (void)res;
    ist *z = state;
    if (z->pub)
        iox_pub_deinit(z->pub);
    iox_runtime_shutdown();
    free(z);
}

static int ib_sub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    (void)err, (void)cap;
    ist *z = calloc(1, sizeof *z);
    *state = z;
    runtime("sub", a->sub_index);
    iox_sub_options_t o;
    iox_sub_options_init(&o);
    o.queueCapacity = 64;
    z->sub = iox_sub_init(&z->sub_storage, "bench", "bulk", "sample", &o);
    z->ws = iox_ws_init(&z->ws_storage);
    iox_ws_attach_subscriber_state(z->ws, z->sub, SubscriberState_HAS_DATA, 0, NULL);
    return 0;
}

static int ib_sub_poll(void *state, int timeout_ms, sample_fn on, void *ctx,
                       char *err, size_t cap)
{
    ist *z = state;
    for (int pass = 0; pass < 2; pass++) {
        const void *chunk = NULL;
        enum iox_ChunkReceiveResult r = iox_sub_take_chunk(z->sub, &chunk);
        if (r == ChunkReceiveResult_SUCCESS) {
            const iox_chunk_header_t *h = iox_chunk_header_from_user_payload_const(chunk);
            uint64_t l64;
            memcpy(&l64, iox_chunk_header_to_user_header_const(h), sizeof l64);
            on(ctx, chunk, (size_t)l64);
            iox_sub_release_chunk(z->sub, chunk);
            return 1;
        }
        if (r != ChunkReceiveResult_NO_CHUNK_AVAILABLE) {
            snprintf(err, cap, "iox_sub_take_chunk: result %d", (int)r);
            return -1;
        }
        if (pass)
            break;
        struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
        iox_notification_info_t info[2];
        uint64_t missed = 0;
        iox_ws_timed_wait(z->ws, ts, info, 2, &missed);
    }
    return 0;
}

static void ib_sub_close(void *state, bulk_result *res)
{
    (void)res;
    ist *z = state;
    if (z->ws) {
        iox_ws_detach_subscriber_state(z->ws, z->sub, SubscriberState_HAS_DATA);
        iox_ws_deinit(z->ws);
    }
    if (z->sub)
        iox_sub_deinit(z->sub);
    iox_runtime_shutdown();
    free(z);
}

const bulk_ops bulk_iox_ops = {
    .name = "iceoryx",
    .variant = "shm pub/sub",
    .pub_open = ib_pub_open,
    .pub_send = ib_pub_send,
    .pub_close = ib_pub_close,
    .sub_open = ib_sub_open,
    .sub_poll = ib_sub_poll,
    .sub_close = ib_sub_close,
    .too_big = "no memory pool for this size",
};

/* ---- rtt: request/response ---- */

#define IOX_RTT_STOP (-1) /* the request sequence id that ends the server */

/* The server echoes each request into its response.  Busy-polling it
 * never sleeps; with a waitset (wait) it blocks until a request is there.
 * Either way it looks at the control socket now and then, and leaves when
 * the parent is gone. */
static int iox_rtt_server(child *c, bool wait)
{
    rtt_args *a = c->arg;
    runtime("rtt-srv", 0);
    iox_server_options_t o;
    iox_server_options_init(&o);
    iox_server_storage_t ss;
    iox_server_t srv = iox_server_init(&ss, "bench", "rtt", "echo", &o);
    iox_ws_storage_t wss;
    iox_ws_t ws = NULL;
    if (wait) {
        ws = iox_ws_init(&wss);
        if (iox_ws_attach_server_state(ws, srv, ServerState_HAS_REQUEST, 0, NULL) !=
            WaitSetResult_SUCCESS) {
            fprintf(stderr, "iceoryx rtt server: iox_ws_attach_server_state failed\n");
            return 1;
        }
    }
    ctl_send(c->ctl, CTL_READY);
    int rc = 1;
    for (uint64_t idle = 0;;) {
        const void *rq = NULL;
        enum iox_ServerRequestResult r = iox_server_take_request(srv, &rq);
        if (r == ServerRequestResult_NO_PENDING_REQUESTS) {
            if (wait) {
                iox_notification_info_t info[2];
                uint64_t missed = 0;
                if (iox_ws_timed_wait(ws, (struct timespec){1, 0}, info, 2, &missed) == 0 &&
                    ctl_poll(c->ctl) < 0)
                    break; /* a second without requests, and the parent is gone */
            } else if (!(++idle & 0xffff) && ctl_poll(c->ctl) < 0) {
                break;
            }
            continue;
        }
        if (r != ServerRequestResult_SUCCESS) {
            fprintf(stderr, "iceoryx rtt server: iox_server_take_request: result %d\n",
                    (int)r);
            break;
        }
        int64_t id = iox_request_header_get_sequence_id_const(
            iox_request_header_from_payload_const(rq));
        void *rp = NULL;
        enum iox_AllocationResult ar =
            iox_server_loan_response(srv, rq, &rp, (uint32_t)a->size);
        if (ar != AllocationResult_SUCCESS) {
            fprintf(stderr, "iceoryx rtt server: iox_server_loan_response(%zu): result %d\n",
                    a->size, (int)ar);
            iox_server_release_request(srv, rq);
            break;
        }
        memcpy(rp, rq, a->size);
        iox_server_release_request(srv, rq);
        enum iox_ServerSendResult sr = iox_server_send(srv, rp);
        if (sr != ServerSendResult_SUCCESS) {
            fprintf(stderr, "iceoryx rtt server: iox_server_send: result %d\n", (int)sr);
            break;
        }
        if (id == IOX_RTT_STOP) {
            rc = 0;
            break;
        }
    }
    if (ws) {
        iox_ws_detach_server_state(ws, srv, ServerState_HAS_REQUEST);
        iox_ws_deinit(ws);
    }
    iox_server_deinit(srv);
    iox_runtime_shutdown();
    return rc;
}

typedef struct iox_rtt {
    iox_client_storage_t cs;
    iox_client_t cl;
    iox_ws_storage_t wss;
    iox_ws_t ws;      /* NULL: busy-poll */
    int64_t seq;
} iox_rtt;

/* Send size bytes of req as request id, and wait (busy or in the waitset)
 * up to timeout_ms for its response, copied into rep. */
static int iox_rtt_call(iox_rtt *z, const void *req, void *rep, size_t size, int64_t id,
                        int timeout_ms, char *err, size_t cap)
{
    void *p = NULL;
    enum iox_AllocationResult ar = iox_client_loan_request(z->cl, &p, (uint32_t)size);
    if (ar != AllocationResult_SUCCESS) {
        snprintf(err, cap, "iox_client_loan_request(%zu): result %d", size, (int)ar);
        return -1;
    }
    memcpy(p, req, size);
    iox_request_header_set_sequence_id(iox_request_header_from_payload(p), id);
    enum iox_ClientSendResult sr = iox_client_send(z->cl, p);
    if (sr != ClientSendResult_SUCCESS) {
        snprintf(err, cap, "iox_client_send: result %d", (int)sr);
        return -1;
    }
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
    const void *rp = NULL;
    for (uint32_t i = 1;; i++) {
        enum iox_ChunkReceiveResult r = iox_client_take_response(z->cl, &rp);
        if (r == ChunkReceiveResult_SUCCESS)
            break;
        if (r != ChunkReceiveResult_NO_CHUNK_AVAILABLE) {
            snprintf(err, cap, "iox_client_take_response: result %d", (int)r);
            return -1;
        }
        if (z->ws) {
            uint64_t now = now_ns();
            if (now >= deadline)
                goto late;
            uint64_t left = deadline - now;
            iox_notification_info_t info[2];
            uint64_t missed = 0;
            iox_ws_timed_wait(z->ws,
                              (struct timespec){(time_t)(left / 1000000000u),
                                                (long)(left % 1000000000u)},
                              info, 2, &missed);
        } else if (!(i & 1023) && now_ns() >= deadline) {
            goto late;
        }
    }
    int64_t got = iox_response_header_get_sequence_id_const(
        iox_response_header_from_payload_const(rp));
    bool bad = iox_response_header_has_server_error_const(
        iox_response_header_from_payload_const(rp));
    memcpy(rep, rp, size);
    iox_client_release_response(z->cl, rp);
    if (got != id || bad) {
        snprintf(err, cap, "response to request %lld has id %lld%s", (long long)id,
                 (long long)got, bad ? " and a server error" : "");
        return -1;
    }
    return 0;
late:
    snprintf(err, cap, "no response to request %lld in %d ms", (long long)id, timeout_ms);
    return -1;
}

static int iox_roundtrip(void *state, const void *req, void *rep, size_t size, char *err,
                         size_t cap)
{
    iox_rtt *z = state;
    return iox_rtt_call(z, req, rep, size, ++z->seq, 5000, err, cap);
}

static int iox_rtt_client(child *c, bool wait)
{
    rtt_args *a = c->arg;
    rtt_result res = {0};
    int rc = 1;
    iox_rtt *z = calloc(1, sizeof *z);
    uint8_t *stop = calloc(1, a->size), *ans = malloc(a->size);
    if (!z || !stop || !ans) {
        snprintf(res.err, sizeof res.err, "out of memory");
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        return 1;
    }
    runtime("rtt-cli", 1);
    iox_client_options_t o;
    iox_client_options_init(&o);
    z->cl = iox_client_init(&z->cs, "bench", "rtt", "echo", &o);
    if (wait) {
        z->ws = iox_ws_init(&z->wss);
        if (iox_ws_attach_client_state(z->ws, z->cl, ClientState_HAS_RESPONSE, 0, NULL) !=
            WaitSetResult_SUCCESS) {
            snprintf(res.err, sizeof res.err, "iox_ws_attach_client_state failed");
            goto fail;
        }
    }
    /* RouDi connects client and server within its discovery loop. */
    uint64_t deadline = now_ns() + 10000000000ull;
    while (iox_client_get_connection_state(z->cl) != ConnectionState_CONNECTED) {
        if (now_ns() > deadline) {
            snprintf(res.err, sizeof res.err, "not connected to the server in 10 s "
                     "(state %d)", (int)iox_client_get_connection_state(z->cl));
            goto fail;
        }
        sleep_ms(1);
    }
    rc = rtt_client_loop(c, a, iox_roundtrip, z,
                         wait ? peer_iox_ws.variant : peer_iox.variant);
    /* The server leaves after answering this one. */
    memcpy(stop, "STOP", 4);
    char err[200];
    if (iox_rtt_call(z, stop, ans, a->size, IOX_RTT_STOP, 2000, err, sizeof err) < 0)
        fprintf(stderr, "iceoryx rtt client: stopping the server: %s\n", err);
    goto out;
fail:
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    rc = 1;
out:
    if (z->ws) {
        iox_ws_detach_client_state(z->ws, z->cl, ClientState_HAS_RESPONSE);
        iox_ws_deinit(z->ws);
    }
    iox_client_deinit(z->cl);
    iox_runtime_shutdown();
    free(z);
    free(stop);
    free(ans);
    return rc;
}

static int iox_rtt_server_poll(child *c) { return iox_rtt_server(c, false); }
static int iox_rtt_client_poll(child *c) { return iox_rtt_client(c, false); }
static int iox_rtt_server_ws(child *c) { return iox_rtt_server(c, true); }
static int iox_rtt_client_ws(child *c) { return iox_rtt_client(c, true); }

const peer_ops peer_iox = {.name = "iceoryx",
                           .variant = "req/res, busy poll",
                           .rtt_server = iox_rtt_server_poll,
                           .rtt_client = iox_rtt_client_poll};
const peer_ops peer_iox_ws = {.name = "iceoryx",
                              .variant = "req/res, waitset",
                              .rtt_server = iox_rtt_server_ws,
                              .rtt_client = iox_rtt_client_ws};

#endif

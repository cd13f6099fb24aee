/* SPDX-License-Identifier: MIT */
/*
 * peer_iox.c — iceoryx (Debian's libiceoryx-binding-c-dev, iox-roudi) for
 * the bulk benchmark: shared-memory publish/subscribe through its daemon,
 * RouDi, which the benchmark starts with a memory pool sized for the
 * samples.  Compiled out (reported "not installed") without the C binding.
 *
 * The publisher loans a chunk and copies the sample into it (the sample
 * exists in an application buffer, as for the other transports); the
 * subscriber reads the chunk in place.
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

const bulk_ops bulk_iox_ops = {
    .name = "iceoryx",
    .variant = "shm pub/sub",
    .missing = "built without libiceoryx-binding-c-dev (apt-get install "
               "libiceoryx-binding-c-dev iceoryx)"};

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
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
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

#endif

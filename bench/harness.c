/* SPDX-License-Identifier: MIT */
/*
 * harness.c — rows, clocks, percentiles, payload patterns, child processes
 * and their control sockets, private directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

bench_opts g_opts;
row g_rows[BENCH_MAX_ROWS];
int g_nrows;
int g_failures;

/* ---- rows ---- */

row *row_new(const char *bench, const char *transport, const char *variant)
{
    static row spare; /* past the limit: figures are dropped, not crashes */
    row *r = g_nrows < BENCH_MAX_ROWS ? &g_rows[g_nrows++] : &spare;
    memset(r, 0, sizeof *r);
    snprintf(r->bench, sizeof r->bench, "%s", bench);
    snprintf(r->transport, sizeof r->transport, "%s", transport);
    snprintf(r->variant, sizeof r->variant, "%s", variant ? variant : "");
    return r;
}

void row_set_status(row *r, int status, const char *fmt, ...)
{
    r->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
}

void row_fail(row *r, const char *fmt, ...)
{
    r->status = ROW_FAILED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
    g_failures++;
    fprintf(stderr, "ipcnet-bench: FAILED %s %s %s: %s\n", r->bench,
            r->transport, r->variant, r->note);
}

bool want_transport(const char *name)
{
    if (!g_opts.only[0])
        return true;
    size_t n = strlen(name);
    for (const char *p = g_opts.only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

/* ---- time and statistics ---- */

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentiles. */
void lat_summary(uint64_t *ns, size_t n, double *p50, double *p99, double *max)
{
    if (!n) {
        *p50 = *p99 = *max = 0;
        return;
    }
    qsort(ns, n, sizeof *ns, cmp_u64);
    size_t i50 = (n * 50 + 99) / 100, i99 = (n * 99 + 99) / 100;
    *p50 = (double)ns[i50 ? i50 - 1 : 0] / 1000.0;
    *p99 = (double)ns[i99 ? i99 - 1 : 0] / 1000.0;
    *max = (double)ns[n - 1] / 1000.0;
}

/* ---- payload patterns ---- */

uint64_t mix64(uint64_t x) /* splitmix64's finaliser */
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

void msg_fill(void *buf, size_t len, uint64_t seq)
{
    uint8_t *p = buf;
    size_t words = len / 8;
    if (words)
        memcpy(p, &seq, 8);
    for (size_t i = 1; i < words; i++) {
        uint64_t v = mix64(seq * 1024 + i);
        memcpy(p + 8 * i, &v, 8);
    }
    for (size_t j = words * 8; j < len; j++)
        p[j] = (uint8_t)(seq + j);
}

bool msg_check(const void *buf, size_t len, uint64_t *seq_out)
{
    const uint8_t *p = buf;
    size_t words = len / 8;
    uint64_t seq = 0;
    if (words)
        memcpy(&seq, p, 8);
    for (size_t i = 1; i < words; i++) {
        uint64_t v;
        memcpy(&v, p + 8 * i, 8);
        if (v != mix64(seq * 1024 + i))
            return false;
    }
    for (size_t j = words * 8; j < len; j++)
        if (p[j] != (uint8_t)(seq + j))
            return false;
    if (seq_out)
        *seq_out = seq;
    return true;
}

#define PAGE 4096u

static uint64_t page_word(uint64_t seq, uint64_t i) { return mix64(seq ^ (i << 40)); }

void sample_fill(void *buf, size_t len, uint64_t seq, bool full)
{
    uint8_t *p = buf;
    if (len < 16)
        return;
    memcpy(p + 8, &seq, 8);
    if (full) {
        for (size_t i = 2; i < len / 8; i++) {
            uint64_t v = page_word(seq, i);
            memcpy(p + 8 * i, &v, 8);
        }
        for (size_t j = len / 8 * 8; j < len; j++)
            p[j] = (uint8_t)(seq + j);
        return;
    }
    /* One word per page, and the last word: every page is this sample's. */
    for (size_t off = PAGE; off + 8 <= len; off += PAGE) {
        uint64_t v = page_word(seq, off / 8);
        memcpy(p + off, &v, 8);
    }
    if (len >= 24) {
        uint64_t v = page_word(seq, 0xFFFFF);
        memcpy(p + len - 8, &v, 8);
    }
}

void sample_stamp(void *buf, uint64_t stamp) { memcpy(buf, &stamp, 8); }

bool sample_check(const void *buf, size_t len, bool full, uint64_t *seq_out,
                  uint64_t *stamp_out)
{
    const uint8_t *p = buf;
    if (len < 16)
        return false;
    uint64_t seq, stamp, v;
    memcpy(&stamp, p, 8);
    memcpy(&seq, p + 8, 8);
    if (full) {
        for (size_t i = 2; i < len / 8; i++) {
            memcpy(&v, p + 8 * i, 8);
            if (v != page_word(seq, i))
                return false;
        }
        for (size_t j = len / 8 * 8; j < len; j++)
            if (p[j] != (uint8_t)(seq + j))
                return false;
    } else {
        for (size_t off = PAGE; off + 8 <= len; off += PAGE) {
            memcpy(&v, p + off, 8);
            if (v != page_word(seq, off / 8))
                return false;
        }
        if (len >= 24) {
            memcpy(&v, p + len - 8, 8);
            if (v != page_word(seq, 0xFFFFF))
                return false;
        }
    }
    *seq_out = seq;
    *stamp_out = stamp;
    return true;
}

/* ---- I/O ---- */

int writen(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int readn(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* ---- processes ---- */

static pid_t live[256]; /* scale: up to 100 nodes at once */
static int nlive;

static void track(pid_t pid)
{
    for (int i = 0; i < nlive; i++)
        if (live[i] == 0) {
            live[i] = pid;
            return;
        }
    if (nlive < (int)(sizeof live / sizeof live[0]))
        live[nlive++] = pid;
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < nlive; i++)
        if (live[i] == pid)
            live[i] = 0;
}

void children_kill_all(void)
{
    for (int i = 0; i < nlive; i++)
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Close every descriptor above 2 but the ones listed. */
static void close_others(const int *keep, int nkeep)
{
    int k[16], n = 0;
    for (int i = 0; i < nkeep && n < 16; i++)
        if (keep[i] > 2)
            k[n++] = keep[i];
    qsort(k, (size_t)n, sizeof *k, cmp_int);
    unsigned lo = 3;
    for (int i = 0; i < n; i++) {
        if ((unsigned)k[i] > lo)
            close_range(lo, (unsigned)k[i] - 1, 0);
        lo = (unsigned)k[i] + 1;
    }
    close_range(lo, ~0u, 0);
}

static void pin(int index)
{
    if (g_opts.ncpus <= 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(g_opts.cpus[index % g_opts.ncpus], &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        fprintf(stderr, "ipcnet-bench: cannot pin to cpu %d: %s\n",
                g_opts.cpus[index % g_opts.ncpus], strerror(errno));
}

/* In a child: move into the network namespace named (ip netns). */
static int enter_netns(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "ipcnet-bench: cannot enter network namespace %s: %s\n", name,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int child_spawn(child *c, const char *name, int index, child_fn fn, void *arg)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        int keep[10];
        int nk = 0;
        keep[nk++] = sv[1];
        for (int i = 0; i < c->nfds && nk < 10; i++)
            keep[nk++] = c->fds[i];
        close_others(keep, nk);
        if (c->netns[0] && enter_netns(c->netns) < 0)
            _exit(98);
        pin(index);
        c->ctl = sv[1];
        c->index = index;
        c->arg = arg;
        c->fn = fn;
        snprintf(c->name, sizeof c->name, "%s", name);
        prctl(PR_SET_NAME, name);
        int rc = fn(c);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    close(sv[1]);
    c->pid = pid;
    c->ctl = sv[0];
    c->index = index;
    c->fn = fn;
    c->arg = arg;
    c->done = false;
    snprintf(c->name, sizeof c->name, "%s", name);
    track(pid);
    return 0;
}

int ctl_send(int fd, char byte) { return writen(fd, &byte, 1); }

int ctl_wait(child *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->ctl, .events = POLLIN};
    int r;
    do
        r = poll(&pfd, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    char b;
    if (r < 0 || readn(c->ctl, &b, 1) < 0)
        return -1;
    return (unsigned char)b;
}

int ctl_poll(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    char b;
    if (readn(fd, &b, 1) < 0)
        return -1;
    return (unsigned char)b;
}

int ctl_send_result(int fd, const void *res, size_t res_len,
                    const uint64_t *arr, size_t narr)
{
    uint64_t hdr[2] = {res_len, narr};
    char x = 'X';
    if (writen(fd, &x, 1) || writen(fd, hdr, sizeof hdr) ||
        writen(fd, res, res_len))
        return -1;
    if (narr && writen(fd, arr, narr * sizeof *arr))
        return -1;
    return 0;
}

int ctl_recv_result(child *c, void *res, size_t res_len, uint64_t **arr,
                    size_t *narr, int timeout_ms)
{
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    if (arr)
        *arr = NULL;
    if (narr)
        *narr = 0;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline)
            return -2; /* timeout */
        int b = ctl_wait(c, (int)((deadline - now) / 1000000ull) + 1);
        if (b < 0)
            return -1;
        if (b == 0)
            continue;
        if (b == 'X')
            break;
        /* other bytes (late READY/WARM) are ignored here */
    }
    uint64_t hdr[2];
    if (readn(c->ctl, hdr, sizeof hdr) < 0 || hdr[0] != res_len)
        return -1;
    if (readn(c->ctl, res, res_len) < 0)
        return -1;
    if (hdr[1]) {
        uint64_t *a = malloc(hdr[1] * sizeof *a);
        if (!a || readn(c->ctl, a, hdr[1] * sizeof *a) < 0) {
            free(a);
            return -1;
        }
        if (arr) {
            *arr = a;
            *narr = hdr[1];
        } else {
            free(a);
        }
    }
    return 0;
}

int child_reap(child *c, int timeout_ms)
{
    if (c->done)
        return c->exit_status == 0 ? 0 : -1;
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        if (r == c->pid)
            break;
        if (r < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (now_ns() >= deadline) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            status = -2;
            break;
        }
        sleep_ms(2);
    }
    untrack(c->pid);
    if (c->ctl >= 0)
        close(c->ctl);
    c->ctl = -1;
    c->done = true;
    c->exit_status = status;
    return status == 0 ? 0 : -1;
}

void child_kill(child *c)
{
    if (c->done || c->pid <= 0)
        return;
    kill(c->pid, SIGKILL);
    child_reap(c, 1000);
}

/* ---- directories ---- */

/* The directories made and not yet removed, for a run cut short. */
static char live_dirs[8][256];

int bench_tmpdir(char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(out, cap, "%s/ipcnet-bench-XXXXXX", base);
    if (!mkdtemp(out))
        return -1;
    for (int i = 0; i < 8; i++)
        if (!live_dirs[i][0]) {
            snprintf(live_dirs[i], sizeof live_dirs[i], "%s", out);
            break;
        }
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void bench_rmdir(const char *dir)
{
    if (!dir || !*dir)
        return;
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < 8; i++)
        if (!strcmp(live_dirs[i], dir))
            live_dirs[i][0] = 0;
}

void bench_rmdir_all(void)
{
    for (int i = 0; i < 8; i++)
        if (live_dirs[i][0])
            bench_rmdir(live_dirs[i]);
}

/* ---- sizes ---- */

const char *size_str(uint64_t n, char *buf, size_t cap)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    uint64_t v = n;
    while (u < 3 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u == 1 && v > 1024 && (v + 1) % 1024 == 0) {
        snprintf(buf, cap, "%llu MiB-1 KiB", (unsigned long long)((v + 1) / 1024));
        return buf;
    }
    snprintf(buf, cap, "%llu %s", (unsigned long long)v, units[u]);
    return buf;
}

int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024ull * 1024 * 1024, end++;
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    /* "16M-1K": one subtraction */
    unsigned long long sub = 0;
    if (*end == '-') {
        size_t s2;
        if (parse_size(end + 1, &s2) < 0)
            return -1;
        sub = s2;
        end += strlen(end);
    }
    if (*end)
        return -1;
    if (v * mul < sub)
        return -1;
    *out = (size_t)(v * mul - sub);
    return 0;
}

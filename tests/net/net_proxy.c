/* SPDX-License-Identifier: MIT */
/*
 * net_proxy.c — the bit-flip and replay proxy of the multi-host tests
 * (tests/net/).  Nothing of libipcnet: it relays TCP between a client and a
 * server (usually run in a namespace between two others) and, told to,
 * corrupts the length-framed messages it relays: each message is a u16
 * big-endian length and that many bytes, as the TCP links of IPCNet carry
 * their Noise handshake and transport messages (docs/protocol.md 19.1).
 *
 *   ipcn-net-proxy --listen IPv4:PORT --connect IPv4:PORT [options]
 *     --frames        parse u16-length messages (without it: bytes only,
 *                     relayed as they come, nothing corrupted)
 *     --skip-up N     per connection, relay the first N client->server
 *                     messages untouched (the handshake: 2 for Noise XX)
 *     --skip-down N   the same server->client (1 for Noise XX)
 *     --flip PPM      flip one random bit of the body of a message, with
 *                     probability PPM per million (0..1000000)
 *     --replay PPM    after a message, send the previous message of that
 *                     direction again, with probability PPM per million
 *     --per-conn N    at most N corruptions per connection (0: no bound)
 *     --until N       corrupt nothing once N messages (both ways, all
 *                     connections) were relayed: then relay only
 *     --seed S        the generator's seed (default 1): the same choices
 *                     for the same traffic
 *     --stats FILE    the counters, rewritten every 100 ms and at the end
 *     --lifetime S    exit after S seconds whatever happens (default 600)
 *
 * The counters, one "key=value" line (also printed on stdout at the end):
 * conns, up_msgs/down_msgs (messages relayed, corrupted or not, in frames
 * mode), up_bytes/down_bytes, flipped, replayed, and delivered: the
 * corruptions whose bytes were all written to their receiver (a
 * corruption still queued when a side closed is not delivered).  SIGTERM
 * or SIGINT: the counters, then exit 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 16
#define MSG_MAX (2 + 65535)
#define OUT_HIGH (4u << 20) /* stop reading a side while its peer lags */

enum { UP, DOWN }; /* client->server, server->client */

struct dir {
    int from, to;              /* indexes into pair.fd */
    uint8_t *in;               /* bytes read, not yet a whole message */
    size_t in_len;
    uint8_t *out;              /* bytes to write to `to` */
    size_t out_len, out_off;
    uint64_t written;          /* bytes written so far */
    uint64_t *marks;           /* `written` values that end corruptions */
    size_t nmarks, cap_marks;
    uint8_t last[MSG_MAX];     /* the previous message (for a replay) */
    size_t last_len;
    uint64_t msgs;             /* messages seen on this connection */
    bool eof;
};

struct pair {
    int fd[2]; /* 0 client, 1 server */
    struct dir d[2];
    unsigned corrupted;
};

static struct {
    bool frames;
    uint64_t skip[2];
    uint32_t flip_ppm, replay_ppm;
    unsigned per_conn;
    uint64_t until;
    const char *stats;
    uint64_t conns, msgs[2], bytes[2], flipped, replayed, delivered;
} g;

static uint64_t rng_state = 1;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* splitmix64: a seeded generator, the same choices on every run. */
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool chance(uint32_t ppm)
{
    return ppm && rnd() % 1000000u < ppm;
}

static void die(const char *what)
{
    fprintf(stderr, "net_proxy: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("realloc");
    return p;
}

static void write_stats(FILE *f)
{
    fprintf(f,
            "conns=%llu up_msgs=%llu down_msgs=%llu up_bytes=%llu "
            "down_bytes=%llu flipped=%llu replayed=%llu delivered=%llu\n",
            (unsigned long long)g.conns, (unsigned long long)g.msgs[UP],
            (unsigned long long)g.msgs[DOWN], (unsigned long long)g.bytes[UP],
            (unsigned long long)g.bytes[DOWN], (unsigned long long)g.flipped,
            (unsigned long long)g.replayed, (unsigned long long)g.delivered);
}

/* Written to FILE.tmp then renamed: a reader never sees half a line. */
static void save_stats(void)
{
    if (!g.stats)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", g.stats);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    write_stats(f);
    if (fclose(f) == 0)
        rename(tmp, g.stats);
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void out_append(struct dir *d, const uint8_t *p, size_t n)
{
    if (d->out_off && d->out_off == d->out_len)
        d->out_off = d->out_len = 0;
    d->out = xrealloc(d->out, d->out_len + n);
    memcpy(d->out + d->out_len, p, n);
    d->out_len += n;
}

/* A corruption ends where the bytes queued so far end: delivered once
 * `written` reaches that. */
static void out_mark(struct dir *d)
{
    if (d->nmarks == d->cap_marks) {
        d->cap_marks = d->cap_marks ? 2 * d->cap_marks : 16;
        d->marks = xrealloc(d->marks, d->cap_marks * sizeof *d->marks);
    }
    d->marks[d->nmarks++] = d->written + (d->out_len - d->out_off);
}

static bool may_corrupt(struct pair *p, const struct dir *d, int k)
{
    return d->msgs > g.skip[k] && (!g.per_conn || p->corrupted < g.per_conn) &&
           (!g.until || g.msgs[UP] + g.msgs[DOWN] <= g.until);
}

/* One whole message msg (length prefix included) from direction k. */
static void on_message(struct pair *p, int k, uint8_t *msg, size_t n)
{
    struct dir *d = &p->d[k];
    d->msgs++;
    g.msgs[k]++;
    bool flip = may_corrupt(p, d, k) && n > 2 && chance(g.flip_ppm);
    if (flip) {
        size_t bit = (size_t)(rnd() % ((n - 2) * 8));
        msg[2 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        p->corrupted++;
        g.flipped++;
    }
    out_append(d, msg, n);
    if (flip)
        out_mark(d);
    if (!flip && d->last_len && may_corrupt(p, d, k) && chance(g.replay_ppm)) {
        out_append(d, d->last, d->last_len);
        out_mark(d);
        p->corrupted++;
        g.replayed++;
    }
    if (!flip) { /* a replay repeats a message as its sender sent it */
        memcpy(d->last, msg, n);
        d->last_len = n;
    }
}

static void on_bytes(struct pair *p, int k, const uint8_t *buf, size_t n)
{
    struct dir *d = &p->d[k];
    g.bytes[k] += n;
    if (!g.frames) {
        out_append(d, buf, n);
        return;
    }
    d->in = xrealloc(d->in, d->in_len + n);
    memcpy(d->in + d->in_len, buf, n);
    d->in_len += n;
    size_t off = 0;
    while (d->in_len - off >= 2) {
        size_t len = 2 + ((size_t)d->in[off] << 8 | d->in[off + 1]);
        if (d->in_len - off < len)
            break;
        on_message(p, k, d->in + off, len);
        off += len;
    }
    memmove(d->in, d->in + off, d->in_len - off);
    d->in_len -= off;
}

static void pair_free(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        if (p->fd[i] >= 0)
            close(p->fd[i]);
        free(p->d[i].in);
        free(p->d[i].out);
        free(p->d[i].marks);
    }
    memset(p, 0, sizeof *p);
    p->fd[0] = p->fd[1] = -1;
}

/* Write what is queued for direction k; false when its receiver is gone. */
static bool flush_dir(struct pair *p, int k)
{
    struct dir *d = &p->d[k];
    while (d->out_off < d->out_len) {
        ssize_t w = send(p->fd[d->to], d->out + d->out_off,
                         d->out_len - d->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        d->out_off += (size_t)w;
        d->written += (uint64_t)w;
    }
    size_t kept = 0;
    for (size_t i = 0; i < d->nmarks; i++) {
        if (d->marks[i] <= d->written)
            g.delivered++;
        else
            d->marks[kept++] = d->marks[i];
    }
    d->nmarks = kept;
    if (d->out_off == d->out_len && d->eof)
        shutdown(p->fd[d->to], SHUT_WR);
    return true;
}

/* Read from side `side`; false when the pair is to be closed. */
static bool read_side(struct pair *p, int side)
{
    int k = side == 0 ? UP : DOWN;
    uint8_t buf[65536];
    ssize_t r = recv(p->fd[side], buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
    if (r == 0) { /* relay the close once what is queued is written */
        p->d[k].eof = true;
        return flush_dir(p, k);
    }
    on_bytes(p, k, buf, (size_t)r);
    return flush_dir(p, k);
}

static int listen_on(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)sa, sizeof *sa) < 0)
        die("bind");
    if (listen(fd, 16) < 0)
        die("listen");
    return fd;
}

static void accept_one(int lfd, const struct sockaddr_in *to,
                       struct pair *pairs)
{
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return;
    struct pair *p = NULL;
    for (int i = 0; i < MAX_PAIRS && !p; i++)
        if (pairs[i].fd[0] < 0)
            p = &pairs[i];
    int s = p ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    struct timeval tv = {2, 0};
    if (s >= 0)
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (s < 0 || connect(s, (const struct sockaddr *)to, sizeof *to) < 0) {
        if (s >= 0)
            close(s);
        close(c); /* the client sees its server refuse */
        return;
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    p->fd[0] = c;
    p->fd[1] = s;
    p->d[UP].from = 0, p->d[UP].to = 1;
    p->d[DOWN].from = 1, p->d[DOWN].to = 0;
    g.conns++;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(void)
{
    fprintf(stderr, "usage: ipcn-net-proxy --listen A:P --connect A:P [--frames] "
                    "[--skip-up N] [--skip-down N] [--flip PPM] [--replay PPM] "
                    "[--per-conn N] [--until N] [--seed S] [--stats FILE] "
                    "[--lifetime S]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct sockaddr_in *from,
                       struct sockaddr_in *to, unsigned *lifetime)
{
    bool have_from = false, have_to = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--frames")) {
            g.frames = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        unsigned long long n = strtoull(v, NULL, 10);
        if (!strcmp(a, "--listen"))
            have_from = parse_addr(v, from) == 0;
        else if (!strcmp(a, "--connect"))
            have_to = parse_addr(v, to) == 0;
        else if (!strcmp(a, "--skip-up"))
            g.skip[UP] = n;
        else if (!strcmp(a, "--skip-down"))
            g.skip[DOWN] = n;
        else if (!strcmp(a, "--flip") && n <= 1000000)
            g.flip_ppm = (uint32_t)n;
        else if (!strcmp(a, "--replay") && n <= 1000000)
            g.replay_ppm = (uint32_t)n;
        else if (!strcmp(a, "--per-conn"))
            g.per_conn = (unsigned)n;
        else if (!strcmp(a, "--until"))
            g.until = n;
        else if (!strcmp(a, "--seed"))
            rng_state = n;
        else if (!strcmp(a, "--stats"))
            g.stats = v;
        else if (!strcmp(a, "--lifetime") && n > 0)
            *lifetime = (unsigned)n;
        else
            usage();
    }
    if (!have_from || !have_to)
        usage();
}

int main(int argc, char **argv)
{
    struct sockaddr_in from, to;
    unsigned lifetime = 600;
    parse_args(argc, argv, &from, &to, &lifetime);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    static struct pair pairs[MAX_PAIRS];
    for (int i = 0; i < MAX_PAIRS; i++)
        pairs[i].fd[0] = pairs[i].fd[1] = -1;
    int lfd = listen_on(&from);
    uint64_t end = now_ms() + (uint64_t)lifetime * 1000, last_save = 0;
    printf("listening\n");
    fflush(stdout);
    while (!stop && now_ms() < end) {
        struct pollfd pfd[1 + 2 * MAX_PAIRS];
        int who[1 + 2 * MAX_PAIRS], n = 0;
        pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
        who[n++] = -1;
        for (int i = 0; i < MAX_PAIRS; i++) {
            struct pair *p = &pairs[i];
            if (p->fd[0] < 0)
                continue;
            for (int side = 0; side < 2; side++) {
                struct dir *in = &p->d[side == 0 ? UP : DOWN];
                struct dir *out = &p->d[side == 0 ? DOWN : UP];
                short ev = 0;
                if (!in->eof && in->out_len - in->out_off < OUT_HIGH)
                    ev |= POLLIN;
                if (out->out_off < out->out_len)
                    ev |= POLLOUT;
                pfd[n] = (struct pollfd){.fd = p->fd[side], .events = ev};
                who[n++] = i * 2 + side;
            }
        }
        int r = poll(pfd, (nfds_t)n, 100);
        if (r < 0 && errno != EINTR)
            die("poll");
        for (int j = 0; r > 0 && j < n; j++) {
            if (!pfd[j].revents)
                continue;
            if (who[j] < 0) {
                accept_one(lfd, &to, pairs);
                continue;
            }
            struct pair *p = &pairs[who[j] / 2];
            int side = who[j] % 2;
            if (p->fd[0] < 0)
                continue; /* closed earlier in this round */
            bool alive = true;
            if (pfd[j].revents & POLLOUT)
                alive = flush_dir(p, side == 0 ? DOWN : UP);
            if (pfd[j].revents & POLLERR)
                alive = false;
            else if (pfd[j].revents & POLLHUP && p->d[side == 0 ? UP : DOWN].eof)
                alive = false; /* gone both ways: nothing more to write */
            else if (alive && pfd[j].revents & (POLLIN | POLLHUP))
                alive = read_side(p, side);
            if (alive && p->d[UP].eof && p->d[DOWN].eof &&
                p->d[UP].out_off == p->d[UP].out_len &&
                p->d[DOWN].out_off == p->d[DOWN].out_len)
                alive = false;
            if (!alive)
                pair_free(p);
        }
        if (now_ms() - last_save >= 100) {
            save_stats();
            last_save = now_ms();
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        if (pairs[i].fd[0] >= 0)
            pair_free(&pairs[i]);
    close(lfd);
    save_stats();
    write_stats(stdout);
    return 0;
}

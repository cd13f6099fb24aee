/* SPDX-License-Identifier: MIT */
/*
 * raw_client.c — the raw, hostile client of raw_client.h: it reads and
 * checks what the node sends (our own parser, the node's ring included),
 * writes to its socket (our ring's side is raw_ring.c), sends descriptors,
 * and frees what it holds.  Nothing of libipcnet.  (testutil.h is there
 * for tu_now_ms() only: its tu_net_dir() makes a directory per translation
 * unit, so the target's directory comes from raw_target.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "raw_client.h"
#include "testutil.h"

/* ---- a bounded reader for what the victim sends ---- */

typedef struct rd {
    const uint8_t *p, *end;
    bool bad;
} rd;

static bool rd_has(rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n)
        r->bad = true;
    return !r->bad;
}
static uint8_t rd_u8(rd *r) { return rd_has(r, 1) ? *r->p++ : 0; }
static uint32_t rd_u32(rd *r)
{
    if (!rd_has(r, 4))
        return 0;
    uint32_t v = ld32(r->p);
    r->p += 4;
    return v;
}
static uint64_t rd_u64(rd *r)
{
    if (!rd_has(r, 8))
        return 0;
    uint64_t v = ld64(r->p);
    r->p += 8;
    return v;
}
static const char *rd_str(rd *r, size_t *len)
{
    *len = 0;
    if (!rd_has(r, 2))
        return "";
    size_t n = ld16(r->p);
    r->p += 2;
    if (!rd_has(r, n + 1))
        return "";
    const char *s = (const char *)r->p;
    if (s[n] != 0 || memchr(s, 0, n)) {
        r->bad = true;
        return "";
    }
    r->p += n + 1;
    *len = n;
    return s;
}
static const uint8_t *rd_blob(rd *r, size_t *len)
{
    *len = 0;
    uint32_t n = rd_u32(r);
    if (!rd_has(r, n))
        return NULL;
    const uint8_t *p = r->p;
    r->p += n;
    *len = n;
    return p;
}

/* ------------------------------------------------------------------ */
/* The raw client                                                      */
/* ------------------------------------------------------------------ */

buf B; /* scratch for frames */

void rframe_free(rframe *f)
{
    free(f->pl);
    memset(f, 0, sizeof *f);
}

int raw_connect(const char *path, bool nonblock, int *fd_out)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof sa.sun_path);
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return e;
    }
    if (!nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    *fd_out = fd;
    return 0;
}

int raw_socket(bool nonblock, int *fd_out)
{
    return raw_connect(raw_target.sock, nonblock, fd_out);
}

/* Every raw client alive, so that a case that fails half-way still frees
 * its clients (teardown) and leak checkers stay quiet. */
raw *live[512];

raw *raw_new(void)
{
    raw *r = calloc(1, sizeof *r);
    assert_non_null(r);
    size_t i = 0;
    while (i < sizeof live / sizeof *live && live[i])
        i++;
    assert_true(i < sizeof live / sizeof *live);
    live[i] = r;
    r->fd = -1;
    r->id = 0x484f5354494c0000ull + ++raw_target.count; /* "HOSTIL" */
    return r;
}

raw *raw_open(void)
{
    raw *r = raw_new();
    int e = 0;
    for (int i = 0; i < 100; i++) { /* the backlog may be full for a moment */
        e = raw_socket(false, &r->fd);
        if (e != EAGAIN)
            break;
        usleep(10000);
    }
    if (e)
        print_error("connect %s: %s\n", raw_target.sock, strerror(e));
    assert_int_equal(e, 0);
    return r;
}

void raw_free(raw *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < sizeof live / sizeof *live; i++)
        if (live[i] == r)
            live[i] = NULL;
    if (r->fd >= 0)
        close(r->fd);
    for (unsigned i = 0; i < r->nfds_in; i++)
        close(r->fds_in[i]);
    if (r->in_map)
        munmap(r->in_map, RING_HDR + (size_t)r->in_size);
    if (r->out_map)
        munmap(r->out_map, RING_HDR + (size_t)r->out_size);
    free(r->rx);
    free(r->answered);
    free(r);
}

void raw_free_all(void)
{
    for (size_t i = 0; i < sizeof live / sizeof *live; i++)
        raw_free(live[i]);
    B.len = 0;
    names_release();
}

/* ---- link rings, our own copy of protocol 7.4 ---- */

static void rx_reserve(raw *r, size_t n)
{
    if (r->rx_cap - r->rx_len >= n)
        return;
    size_t c = r->rx_cap ? r->rx_cap : 131072;
    while (c - r->rx_len < n)
        c *= 2;
    r->rx = realloc(r->rx, c);
    assert_non_null(r->rx);
    r->rx_cap = c;
}

/* Tokens on a socket whose sender switched: 0 or 1, nothing else. */
static void take_tokens(raw *r, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] > 1)
            fail_msg("the victim sent token %u on the socket after its RING",
                     p[i]);
    r->tokens_in += (unsigned)n;
}

/* A token on our socket: a bell, only once our direction has switched (on
 * a frame stream it would be a bad frame). */
void raw_bell(raw *r)
{
    if (!r->out_ring)
        return;
    if (send(r->fd, "", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
        r->bells_out++;
}

/* Copy what the victim's ring holds into rx.  Returns the bytes taken. */
static size_t ring_pull(raw *r)
{
    if (!r->in_ring || r->in_noread)
        return 0;
    /* We look by ourselves: no bell needed meanwhile. */
    __atomic_store_n(rg_sleeps(r->in_map), 0u, __ATOMIC_RELAXED);
    uint64_t head = __atomic_load_n(rg_head(r->in_map), __ATOMIC_ACQUIRE);
    uint64_t avail = head - r->in_tail;
    if (avail > r->in_size)
        fail_msg("the victim's ring claims %llu bytes (size %u)",
                 (unsigned long long)avail, r->in_size);
    if (!avail)
        return 0;
    rx_reserve(r, (size_t)avail);
    const uint8_t *data = r->in_map + RING_HDR;
    size_t at = (size_t)(r->in_tail & (r->in_size - 1));
    size_t first = r->in_size - at < avail ? r->in_size - at : (size_t)avail;
    memcpy(r->rx + r->rx_len, data + at, first);
    memcpy(r->rx + r->rx_len + first, data, (size_t)avail - first);
    r->rx_len += (size_t)avail;
    r->in_tail = head;
    __atomic_store_n(rg_tail(r->in_map), head, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_exchange_n(rg_waits(r->in_map), 0u, __ATOMIC_SEQ_CST))
        raw_bell(r);
    return (size_t)avail;
}

/* Read what is there (waiting up to timeout_ms for something), keeping the
 * descriptors that come along.  Once the victim has switched, the socket
 * carries tokens and the frames come out of its ring.  Returns the bytes
 * read, 0 at end of stream, -1 when nothing came in time. */
ssize_t raw_fill(raw *r, int timeout_ms)
{
    if (r->eof)
        return 0;
    if (r->in_ring && !r->in_noread) {
        size_t got = ring_pull(r);
        if (got)
            return (ssize_t)got;
        /* About to block: ask for a bell, then look once more. */
        __atomic_store_n(rg_sleeps(r->in_map), 1u, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(rg_head(r->in_map), __ATOMIC_ACQUIRE) != r->in_tail)
            return (ssize_t)ring_pull(r);
    }
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    int k = poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (k <= 0)
        return -1;
    uint8_t tok[4096];
    bool tokens = r->in_ring;
    if (!tokens)
        rx_reserve(r, 65536);
    union {
        char buf[CMSG_SPACE(sizeof(int) * 16)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {tokens ? tok : r->rx + r->rx_len,
                        tokens ? sizeof tok : r->rx_cap - r->rx_len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n = recvmsg(r->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -1;
    if (n > 0 && mh.msg_controllen) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < nfd; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (r->nfds_in < sizeof r->fds_in / sizeof *r->fds_in)
                    r->fds_in[r->nfds_in++] = fd;
                else
                    close(fd);
            }
        }
    }
    if (n <= 0) {
        /* EOF, or ECONNRESET: a Unix socket closed with our bytes unread
         * reports a reset once its data has been read; both are the end.
         * What the ring still holds was sent before (a last ERROR). */
        size_t got = ring_pull(r);
        r->eof = true;
        return (ssize_t)got;
    }
    if (tokens) {
        take_tokens(r, tok, (size_t)n);
        return n + (ssize_t)ring_pull(r);
    }
    r->rx_len += (size_t)n;
    return n;
}

/* The victim's RING frame (already cut from rx): map its memfd, and take
 * what follows on the socket as tokens. */
static void raw_on_ring(raw *r, uint32_t size)
{
    if (!(hello_caps & CAP_RING))
        fail_msg("the victim sent a RING to a peer without the capability");
    if (r->in_ring)
        fail_msg("the victim sent a second RING");
    assert_true(size >= RING_MIN && size <= RING_MAX && !(size & (size - 1)));
    if (!r->nfds_in)
        fail_msg("the victim's RING came without a descriptor");
    int fd = r->fds_in[0];
    memmove(r->fds_in, r->fds_in + 1, --r->nfds_in * sizeof(int));
    int seals = fcntl(fd, F_GET_SEALS);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    if (seals < 0 || !(seals & F_SEAL_SHRINK) || !(seals & F_SEAL_GROW) ||
        (uint64_t)st.st_size != RING_HDR + (uint64_t)size)
        fail_msg("the victim's ring: seals %d, %lld bytes for size %u", seals,
                 (long long)st.st_size, size);
    void *m = mmap(NULL, RING_HDR + (size_t)size, PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
    close(fd);
    assert_true(m != MAP_FAILED);
    r->in_map = m;
    r->in_size = size;
    r->in_tail = 0;
    r->in_ring = true;
    /* Everything after the RING frame on the socket is tokens. */
    take_tokens(r, r->rx, r->rx_len);
    r->rx_len = 0;
}

static void note_answer(raw *r, uint64_t corr)
{
    if (!r->answered || corr < r->corr_base || corr - r->corr_base >= r->ncorr)
        return;
    uint64_t i = corr - r->corr_base;
    if (r->answered[i / 8] & (1u << (i % 8)))
        r->dup_answers++;
    r->answered[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* Cut one frame from what was read.  Everything the victim sends must be
 * a valid v1 frame from the victim; anything else fails the test.
 * Returns true with *f filled. */
static bool raw_cut(raw *r, rframe *f)
{
    if (r->rx_len < 4) {
        if (r->rx_len)
            assert_memory_equal(r->rx, "IPCN", r->rx_len);
        return false;
    }
    const uint8_t *h = r->rx;
    if (memcmp(h, "IPCN", 4) != 0)
        fail_msg("the victim sent bytes that are not a frame");
    if (r->rx_len < HDR)
        return false;
    assert_int_equal(h[4], 1);            /* version */
    /* STATE only to a client whose hello takes it (the cases that do
     * keep CAP_STATE in hello_caps while they read). */
    assert_true((h[5] >= T_HELLO && h[5] <= T_ERROR) || h[5] == T_RING ||
                (h[5] == T_STATE && (hello_caps & CAP_STATE)) ||
                ((h[5] == T_ROUTE || h[5] == T_FORWARD) &&
                 (hello_caps & CAP_ROUTE)) ||
                (h[5] == T_SHM_RELEASE && (hello_caps & CAP_SHM)));
    assert_int_equal(h[6], 0);            /* flags */
    assert_int_equal(h[11], 0);           /* reserved */
    assert_true(h[7] > 0);                /* ttl */
    uint32_t len = ld32(h + 12);
    assert_true(len <= MAX_PAYLOAD);
    if (r->rx_len < HDR + (size_t)len)
        return false;
    if (cksum(h, h + HDR, len) != ld64(h + 40))
        fail_msg("the victim sent a frame (type %u) with a bad checksum", h[5]);
    memset(f, 0, sizeof *f);
    f->type = h[5];
    f->ttl = h[7];
    f->status = ld16(h + 8);
    f->len = len;
    f->src = ld64(h + 16);
    f->dst = ld64(h + 24);
    f->corr = ld64(h + 32);
    f->pl = malloc((size_t)len + 1);
    assert_non_null(f->pl);
    memcpy(f->pl, h + HDR, len);
    f->pl[len] = 0;
    r->rx_len -= HDR + (size_t)len;
    memmove(r->rx, r->rx + HDR + len, r->rx_len);

    rd d = {f->pl, f->pl + len, false};
    size_t n;
    switch (f->type) {
    case T_HELLO: {
        rd_u8(&d);
        rd_u8(&d);
        rd_u8(&d);
        rd_u8(&d);
        r->victim_caps = rd_u32(&d);
        rd_u32(&d); /* heartbeat_ms */
        uint32_t maxp = rd_u32(&d);
        assert_true(maxp >= 1024 && maxp <= (16u << 20));
        const char *net = rd_str(&d, &n);
        assert_true(n == 7 && !memcmp(net, "default", 7));
        rd_str(&d, &n);
        r->hellos++;
        assert_int_equal(r->hellos, 1); /* one hello, first */
        assert_int_equal(r->frames, 0);
        r->victim_id = f->src;
        break;
    }
    case T_BYE:
    case T_ERROR:
    case T_WITHDRAW:
    case T_SUBSCRIBE:
    case T_UNSUBSCRIBE:
        f->text = rd_str(&d, &f->text_len);
        break;
    case T_PING:
    case T_PONG:
        f->stamp = rd_u64(&d);
        break;
    case T_ANNOUNCE: {
        uint8_t kind = rd_u8(&d);
        rd_u64(&d);
        rd_str(&d, &n);
        rd_str(&d, &n);
        rd_blob(&d, &n);
        if ((hello_caps & CAP_REDUNDANCY) && !d.bad && d.end - d.p == 8) {
            f->has_ext = true;
            f->strength = (int32_t)rd_u32(&d);
            uint8_t fl = rd_u8(&d), r0 = rd_u8(&d), r1 = rd_u8(&d),
                    r2 = rd_u8(&d);
            /* The keep (the last two bytes) only to a client with
             * CAP_LATCH: 0..1024 on a stream, 0 or 1 on data. */
            unsigned keep = (unsigned)r1 | (unsigned)r2 << 8;
            if ((!fl && !keep) || (fl & ~(ANN_OWNED | ANN_ONCE)) || r0 ||
                (keep && !(hello_caps & CAP_LATCH)) || keep > 1024 ||
                (kind == 1 && keep > 1) || (kind == 3 && keep) ||
                ((fl & ANN_OWNED) && kind == 3) ||
                ((fl & ANN_ONCE) && kind != 3))
                fail_msg("the victim sent a bad ANNOUNCE extension %u %u %u %u",
                         fl, r0, r1, r2);
            f->ann_flags = fl;
            f->keep = (uint16_t)keep;
            r->ext_announces++;
        }
        break;
    }
    case T_SAMPLE:
        f->seq = rd_u64(&d);
        rd_u64(&d);
        rd_str(&d, &n);
        rd_str(&d, &n);
        f->data = rd_blob(&d, &f->data_len);
        break;
    case T_REPLY:
    case T_QUERY_REPLY:
        f->seq = rd_u64(&d);
        rd_u64(&d);
        rd_str(&d, &n);
        f->data = rd_blob(&d, &f->data_len);
        if ((hello_caps & CAP_REDUNDANCY) && !d.bad && d.end - d.p == 8) {
            r->last_load = rd_u32(&d);
            if (rd_u32(&d) != 0)
                fail_msg("the victim's load extension has reserved bits set");
            r->ext_loads++;
        }
        break;
    case T_RING: {
        uint32_t size = rd_u32(&d);
        if (rd_u32(&d) != 0)
            fail_msg("the victim's RING has reserved bits set");
        if (!d.bad && d.p == d.end)
            raw_on_ring(r, size);
        break;
    }
    case T_STATE: { /* criticality 0..3, flags ready only, reserved 0 */
        uint8_t crit = rd_u8(&d), flags = rd_u8(&d);
        uint8_t r0 = rd_u8(&d), r1 = rd_u8(&d);
        if (crit > 3 || (flags & ~1u) || r0 || r1)
            fail_msg("the victim sent a bad STATE %u %u %u %u", crit, flags,
                     r0, r1);
        break;
    }
    case T_QUERY: /* to a client that provides data: its path in text */
        rd_u32(&d);
        f->text = rd_str(&d, &f->text_len);
        rd_str(&d, &n);
        rd_blob(&d, &n);
        break;
    case T_SHM_RELEASE: { /* u32 count, then (pool id, slot, gen) each */
        uint32_t k = rd_u32(&d);
        if (k == 0 || k > 512) /* IPCN_SHM_MAX_RELEASE */
            fail_msg("the victim sent an SHM_RELEASE of %u slots", k);
        for (uint32_t i = 0; i < k && !d.bad; i++) {
            r->last_release[0] = rd_u32(&d);
            r->last_release[1] = rd_u32(&d);
            r->last_release[2] = rd_u32(&d);
            r->releases++;
        }
        break;
    }
    case T_REQUEST: /* to a client acting as another host's node */
    case T_ROUTE:
    case T_FORWARD: /* the routing tests read these bodies themselves */
        d.p = d.end;
        break;
    default:
        fail_msg("the victim sent a frame of type %u", f->type);
    }
    if (d.bad || d.p != d.end)
        fail_msg("the victim sent a malformed body (type %u, %u bytes)", f->type,
                 (unsigned)len);
    if (f->type != T_HELLO) {
        assert_true(r->hellos == 1);
        assert_true(f->src == r->victim_id);
    }
    r->frames++;
    switch (f->type) {
    case T_ERROR:
        if (f->status < 1024)
            r->errors[f->status]++;
        r->last_error = f->status;
        snprintf(r->last_text, sizeof r->last_text, "%.*s", (int)f->text_len,
                 f->text);
        break;
    case T_REPLY:
    case T_QUERY_REPLY:
        if (f->status < 1024)
            r->replies[f->status]++;
        note_answer(r, f->corr);
        break;
    case T_PONG:
        r->last_pong = f->stamp;
        break;
    case T_SAMPLE:
        r->samples++;
        break;
    }
    return true;
}

/* The next frame within timeout_ms: 1 with *f, 0 at end of stream, -1 on
 * timeout. */
int raw_next(raw *r, rframe *f, int timeout_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (raw_cut(r, f))
            return 1;
        if (r->eof) {
            if (r->rx_len)
                fail_msg("the victim closed in the middle of a frame");
            return 0;
        }
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        if (left <= 0)
            return -1;
        raw_fill(r, (int)left);
    }
}

/* Parse everything already received, without waiting. */
void raw_drain(raw *r)
{
    rframe f;
    while (raw_fill(r, 0) > 0)
        ;
    while (raw_cut(r, &f))
        rframe_free(&f);
}

/* Write n bytes.  With read_meanwhile, what the victim sends is read (and
 * parsed later) so that neither side blocks; without, the victim's bytes
 * are left unread.  Stops early when the victim closes, or when nothing
 * could be written for stall_ms (the victim stopped reading: back-pressure).
 * Returns the bytes written. */
size_t raw_write_ex(raw *r, const void *p, size_t n, bool read_meanwhile,
                           int stall_ms)
{
    if (r->out_ring)
        return ring_put(r, p, n, read_meanwhile, stall_ms);
    const uint8_t *b = p;
    size_t done = 0;
    uint64_t last = tu_now_ms();
    while (done < n) {
        ssize_t w = send(r->fd, b + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            done += (size_t)w;
            last = tu_now_ms();
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
            break; /* EPIPE, ECONNRESET: the victim hung up */
        if (tu_now_ms() - last > (uint64_t)stall_ms)
            break;
        struct pollfd pfd = {.fd = r->fd,
                             .events = (short)(POLLOUT | (read_meanwhile ? POLLIN : 0))};
        poll(&pfd, 1, 50);
        if (read_meanwhile && (pfd.revents & (POLLIN | POLLHUP)))
            raw_fill(r, 0);
    }
    return done;
}

/* Bytes straight onto the socket, whatever our direction carries. */
void raw_sock_write(raw *r, const void *p, size_t n)
{
    bool was = r->out_ring;
    r->out_ring = false;
    size_t w = raw_write_ex(r, p, n, true, IO_TIMEOUT_MS);
    r->out_ring = was;
    if (w != n)
        fail_msg("could write only %zu of %zu bytes to the victim", w, n);
}

void raw_write(raw *r, const void *p, size_t n)
{
    size_t w = raw_write_ex(r, p, n, true, IO_TIMEOUT_MS);
    if (w != n)
        fail_msg("could write only %zu of %zu bytes to the victim", w, n);
}

void raw_send_buf(raw *r)
{
    raw_write(r, B.p, B.len);
    B.len = 0;
}

/* Send a PING and wait for its PONG, keeping count of what comes before. */
void raw_ping(raw *r, uint64_t stamp)
{
    B.len = 0;
    enc_stamp(&B, T_PING, r->id, stamp);
    raw_send_buf(r);
    rframe f;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k == 0)
            fail_msg("the victim closed the link (last error %u %s) instead of "
                     "answering a PING", r->last_error, r->last_text);
        if (k < 0)
            fail_msg("no PONG from the victim");
        bool done = f.type == T_PONG && f.stamp == stamp;
        rframe_free(&f);
        if (done)
            return;
    }
}

/* A linked hostile client: connected, hello sent, link up (PONG). */
raw *raw_link(void)
{
    raw *r = raw_open();
    char name[32];
    snprintf(name, sizeof name, "hostile-%llu", (unsigned long long)raw_target.count);
    B.len = 0;
    enc_hello(&B, r->id, name);
    raw_send_buf(r);
    raw_ping(r, 1);
    assert_int_equal(r->hellos, 1);
    return r;
}

/* Read to the end of the stream: the victim must send one ERROR with
 * status (none when status is 0) as its last frame, then close; with
 * error_optional, a close without an ERROR passes too. */
void raw_expect_close_ex(raw *r, uint16_t status, bool error_optional)
{
    rframe f;
    unsigned nerr = 0;
    uint16_t got = 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k < 0)
            fail_msg("the victim did not close the connection (expected %u)",
                     status);
        if (k == 0)
            break;
        if (f.type == T_ERROR) {
            nerr++;
            got = f.status;
        } else if (nerr) {
            fail_msg("the victim sent a frame of type %u after its ERROR", f.type);
        }
        rframe_free(&f);
    }
    if (status && !(error_optional && !nerr)) {
        if (nerr != 1 || got != status)
            fail_msg("expected one ERROR %u then close; got %u ERROR(s), last %u "
                     "(%s)", status, nerr, got, r->last_text);
    } else if (nerr) {
        fail_msg("expected a plain close; got ERROR %u (%s)", got, r->last_text);
    }
}

void raw_expect_close(raw *r, uint16_t status)
{
    raw_expect_close_ex(r, status, false);
}

/* Connect, send the bytes, expect ERROR status and a close. */
void attack_expect(const void *bytes, size_t n, uint16_t status)
{
    raw *r = raw_open();
    /* The victim may refuse before all is sent: a short write is fine. */
    raw_write_ex(r, bytes, n, true, IO_TIMEOUT_MS);
    raw_expect_close(r, status);
    raw_free(r);
}

buf C; /* a copy of B, kept (not freed) if a case fails half-way */

void attack_expect_buf(uint16_t status)
{
    C.len = 0;
    b_put(&C, B.p, B.len);
    B.len = 0;
    attack_expect(C.p, C.len, status);
}

/* Send B with nfd descriptors attached to its first byte. */
void raw_send_fds(raw *r, const int *fds, int nfd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 16)];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {B.p, B.len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfd);
    ssize_t w = sendmsg(r->fd, &mh, MSG_NOSIGNAL);
    assert_int_equal(w, (ssize_t)B.len);
    B.len = 0;
}

/* A memfd of size bytes, sealed with seals (0: none). */
int make_memfd(size_t size, int seals)
{
    int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    if (seals)
        assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
    return fd;
}

/* A seeded generator (splitmix64): the same bytes on every run. */
uint64_t rng_state;
uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

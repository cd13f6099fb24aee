/* SPDX-License-Identifier: MIT */
/*
 * raw_ring.c — the raw client's own side of link rings (protocol 7.4),
 * written by hand (raw_client.h): switching our direction to a ring of our
 * own, writing into it as the protocol says, and tokens on the socket.
 * (Reading the node's ring is in raw_client.c, with the reader.)  Nothing
 * of libipcnet.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "raw_client.h"
#include "testutil.h"

/* Room in our ring by the victim's tail (*tail), which must be possible. */
size_t ring_room(raw *r, uint64_t *tail)
{
    *tail = __atomic_load_n(rg_tail(r->out_map), __ATOMIC_ACQUIRE);
    uint64_t used = r->out_head - *tail;
    if (used > r->out_size)
        fail_msg("the victim's tail of our ring is impossible: %llu of %llu",
                 (unsigned long long)*tail, (unsigned long long)r->out_head);
    return r->out_size - (size_t)used;
}

/* Copy k bytes (k <= room) at our ring's head, publish the head, and ring
 * the bell if the victim sleeps. */
void ring_copy_in(raw *r, const uint8_t *p, size_t k)
{
    uint8_t *data = r->out_map + RING_HDR;
    size_t at = (size_t)(r->out_head & (r->out_size - 1));
    size_t first = r->out_size - at < k ? r->out_size - at : k;
    memcpy(data + at, p, first);
    memcpy(data, p + first, k - first);
    r->out_head += k;
    __atomic_store_n(rg_head(r->out_map), r->out_head, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_exchange_n(rg_sleeps(r->out_map), 0u, __ATOMIC_SEQ_CST))
        raw_bell(r);
}

/* Into our ring, as the protocol says: bytes, head, a bell if the victim
 * sleeps; when full, ask for a bell and wait for room (reading meanwhile
 * or not, as raw_write_ex).  Returns the bytes written. */
size_t ring_put(raw *r, const void *p, size_t n, bool read_meanwhile,
                int stall_ms)
{
    const uint8_t *b = p;
    size_t done = 0;
    uint64_t last = tu_now_ms();
    while (done < n) {
        uint64_t tail;
        size_t room = ring_room(r, &tail);
        if (room) {
            size_t k = n - done < room ? n - done : room;
            ring_copy_in(r, b + done, k);
            done += k;
            last = tu_now_ms();
            continue;
        }
        /* Full: ask for a bell, look again, then wait for one. */
        __atomic_store_n(rg_waits(r->out_map), 1u, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(rg_tail(r->out_map), __ATOMIC_ACQUIRE) != tail)
            continue;
        if (tu_now_ms() - last > (uint64_t)stall_ms)
            break;
        if (!read_meanwhile) {
            usleep(2000);
            continue;
        }
        /* The victim's bell comes on the socket (or whatever it sends). */
        raw_fill(r, 50);
        if (r->eof)
            break;
    }
    return done;
}

/* Our direction switches: a sealed memfd of our own in a RING frame, and
 * from then on raw_write puts our bytes into it.  The ring may hold
 * prefill bytes already (at most size), and ask for a bell (writer_waits)
 * before the victim has seen it. */
void raw_ring_start_ex(raw *r, uint32_t size, const void *prefill,
                       size_t prefill_len, bool waits)
{
    int fd = make_memfd(RING_HDR + (size_t)size, F_SEAL_SHRINK | F_SEAL_GROW);
    uint8_t *m = mmap(NULL, RING_HDR + (size_t)size, PROT_READ | PROT_WRITE,
                      MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    assert_true(prefill_len <= size);
    if (prefill_len)
        memcpy(m + RING_HDR, prefill, prefill_len);
    __atomic_store_n(rg_head(m), (uint64_t)prefill_len, __ATOMIC_RELEASE);
    __atomic_store_n(rg_waits(m), waits ? 1u : 0u, __ATOMIC_SEQ_CST);
    B.len = 0;
    enc_ring(&B, r->id, size, 0);
    raw_send_fds(r, &fd, 1);
    close(fd);
    r->out_map = m;
    r->out_size = size;
    r->out_head = prefill_len;
    r->out_ring = true;
}

void raw_ring_start(raw *r, uint32_t size)
{
    raw_ring_start_ex(r, size, NULL, 0, false);
}

/* One token on the socket, with a descriptor when fd >= 0.  False when the
 * victim has hung up. */
bool raw_token_try(raw *r, uint8_t token, int fd)
{
    struct iovec iov = {&token, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t w;
    for (int i = 0; i < 1000; i++) {
        w = sendmsg(r->fd, &mh, MSG_NOSIGNAL);
        if (w >= 0 || errno != EAGAIN)
            break;
        usleep(1000);
    }
    return w == 1;
}

void raw_token(raw *r, uint8_t token, int fd)
{
    assert_true(raw_token_try(r, token, fd));
}

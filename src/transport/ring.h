/* SPDX-License-Identifier: MIT */
/*
 * ring.h — a link's shared-memory ring: one direction of a link's byte
 * stream in a sealed memfd that both processes map (docs/protocol.md
 * §4.3).
 *
 * The writer creates the memfd and sends it in a RING frame; from then on
 * its frames are copied into the ring instead of written to the socket,
 * and the socket carries only one-byte tokens: a doorbell, or a carrier of
 * a descriptor (SCM_RIGHTS).  The reader copies bytes out of the ring into
 * its private receive buffer and parses them there, exactly as bytes read
 * from the socket, so a peer that scribbles on shared memory can only make
 * its own frames fail their checks.
 *
 * Each side keeps its own index privately (ring->pos) and only reads the
 * other's from shared memory, checking it: an index that claims more than
 * the ring holds is a broken or hostile peer.
 *
 * Wake-ups: the reader raises reader_sleeps before it blocks and checks the
 * ring once more; the writer, after publishing its head, rings the doorbell
 * only when it takes that flag down.  A busy reader costs its writer no
 * system call at all.  The same for a writer that waits for room.
 */
#ifndef IPCN_RING_H
#define IPCN_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Tokens on the socket once the ring carries the frames. */
#define IPCN_RING_TOKEN_BELL 0u   /* look at the rings */
#define IPCN_RING_TOKEN_FD 1u     /* a descriptor comes with this byte */

/* The shared page at the start of the memfd; each field on its own cache
 * line.  Everything in it is written by a peer we do not trust. */
typedef struct ipcn__ring_shared {
    _Alignas(64) _Atomic uint64_t head;   /* bytes ever written (writer) */
    _Alignas(64) _Atomic uint64_t tail;   /* bytes ever consumed (reader) */
    _Alignas(64) _Atomic uint32_t reader_sleeps; /* reader: ring the bell */
    _Alignas(64) _Atomic uint32_t writer_waits;  /* writer: tell me of room */
} ipcn__ring_shared;

typedef struct ipcn__ring {
    ipcn__ring_shared *sh;  /* NULL: no ring */
    uint8_t *data;
    uint32_t size, mask;
    uint64_t pos;           /* ours: head (writer) or tail (reader) */
    uint64_t seen;          /* writer: the reader's tail as last read (its
                               line is the reader's: read it only when the
                               room we know of is not enough) */
    int fd;                 /* writer: the memfd until it is sent; else -1 */
    size_t map_len;
} ipcn__ring;

/* Create a ring of size data bytes (a power of two within the wire's
 * limits).  100, 307, 300. */
int ipcn__ring_create(ipcn__ring *r, uint32_t size);
/* Map a peer's ring from its descriptor (taken over: closed on failure
 * and after mapping).  Returns NULL, or why it is refused. */
const char *ipcn__ring_attach(ipcn__ring *r, int fd, uint32_t size);
void ipcn__ring_free(ipcn__ring *r);

/* Copy up to len bytes in; returns the bytes written (0: full), or -1 when
 * the reader's index is impossible. */
ssize_t ipcn__ring_write(ipcn__ring *r, const void *p, size_t len);
/* Copy up to max bytes out; returns the bytes read (0: empty), or -1 when
 * the writer's index is impossible. */
ssize_t ipcn__ring_read(ipcn__ring *r, void *p, size_t max);

/* Writer, after writing: must the doorbell ring?  (Takes the flag.) */
bool ipcn__ring_bell_wanted(ipcn__ring *r);
/* Reader, after reading: does the writer wait for room?  (Takes it.) */
bool ipcn__ring_room_wanted(ipcn__ring *r);
/* Reader: about to block (true when the ring is empty, so it may), or
 * awake again (no doorbells needed while it looks by itself). */
bool ipcn__ring_sleep(ipcn__ring *r);
void ipcn__ring_awake(ipcn__ring *r);
/* Writer: the ring is full; ask for a token when there is room.  Returns
 * true when there is room already. */
bool ipcn__ring_wait_room(ipcn__ring *r);
/* Reader: are there bytes to read?  (A single load: for spinning.) */
static inline bool ipcn__ring_ready(const ipcn__ring *r)
{
    return atomic_load_explicit(&r->sh->head, memory_order_acquire) != r->pos;
}
/* Writer: is there room for at least one byte? */
static inline bool ipcn__ring_has_room(const ipcn__ring *r)
{
    return r->pos - atomic_load_explicit(&r->sh->tail, memory_order_acquire) <
           r->size;
}

#endif

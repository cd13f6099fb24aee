/* SPDX-License-Identifier: MIT */
/* ring.c — a link's shared-memory ring (see ring.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport/ring.h"
#include "util/util.h"
#include "wire/wire.h"

_Static_assert(sizeof(ipcn__ring_shared) <= IPCN_RING_HDR_SIZE,
               "the shared indices fit in the ring's first page");

static bool size_ok(uint32_t size)
{
    return size >= IPCN_RING_MIN_SIZE && size <= IPCN_RING_MAX_SIZE &&
           !(size & (size - 1));
}

static void set_up(ipcn__ring *r, void *base, uint32_t size)
{
    r->sh = base;
    r->data = (uint8_t *)base + IPCN_RING_HDR_SIZE;
    r->size = size;
    r->mask = size - 1;
    r->pos = 0;
    r->map_len = (size_t)IPCN_RING_HDR_SIZE + size;
}

int ipcn__ring_create(ipcn__ring *r, uint32_t size)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (!size_ok(size))
        return IPCN_BAD_REQUEST;
    int fd = memfd_create("ipcnet-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return errno == ENOMEM ? IPCN_INSUFFICIENT_MEMORY : IPCN_INTERNAL_ERROR;
    size_t len = (size_t)IPCN_RING_HDR_SIZE + size;
    void *base = MAP_FAILED;
    /* Sealed against resizing, so that neither side can make the other's
     * mapping fault; both must write (indices), so no write seal. */
    if (ftruncate(fd, (off_t)len) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
        (base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
            MAP_FAILED) {
        int e = errno;
        close(fd);
        return e == ENOMEM ? IPCN_INSUFFICIENT_MEMORY : IPCN_INTERNAL_ERROR;
    }
    set_up(r, base, size);
    atomic_store(&r->sh->reader_sleeps, 1u); /* until it says otherwise */
    r->fd = fd;
    return IPCN_OK;
}

const char *ipcn__ring_attach(ipcn__ring *r, int fd, uint32_t size)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    const char *why = NULL;
    size_t len = (size_t)IPCN_RING_HDR_SIZE + size;
    if (!size_ok(size))
        why = "ring size out of range";
    else if (seals < 0 || !(seals & F_SEAL_SHRINK))
        why = "ring is not a memfd sealed against shrinking";
    else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
             (uint64_t)st.st_size < len)
        why = "ring smaller than it claims";
    void *base = MAP_FAILED;
    if (!why &&
        (base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
            MAP_FAILED)
        why = errno == EACCES || errno == EPERM ? "ring is not writable"
                                                : "cannot map the ring";
    close(fd);
    if (why)
        return why;
    set_up(r, base, size);
    return NULL;
}

void ipcn__ring_free(ipcn__ring *r)
{
    if (r->sh)
        munmap(r->sh, r->map_len);
    if (r->fd >= 0)
        close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

ssize_t ipcn__ring_write(ipcn__ring *r, const void *p, size_t len)
{
    uint64_t used = r->pos - r->seen;
    if (r->size - used < len) {
        uint64_t tail = atomic_load_explicit(&r->sh->tail, memory_order_acquire);
        used = r->pos - tail;
        if (used > r->size)
            return -1; /* the reader claims to have read what was never
                          written */
        r->seen = tail;
    }
    size_t room = r->size - (size_t)used;
    size_t n = len < room ? len : room;
    if (!n)
        return 0;
    size_t at = (size_t)(r->pos & r->mask);
    size_t first = r->size - at < n ? r->size - at : n;
    memcpy(r->data + at, p, first);
    if (n > first)
        memcpy(r->data, (const uint8_t *)p + first, n - first);
    r->pos += n;
    atomic_store_explicit(&r->sh->head, r->pos, memory_order_release);
    return (ssize_t)n;
}

ssize_t ipcn__ring_read(ipcn__ring *r, void *p, size_t max)
{
    uint64_t head = atomic_load_explicit(&r->sh->head, memory_order_acquire);
    uint64_t avail = head - r->pos;
    if (avail > r->size)
        return -1; /* more than the ring can hold: not a writer's index */
    size_t n = max < avail ? max : (size_t)avail;
    if (!n)
        return 0;
    size_t at = (size_t)(r->pos & r->mask);
    size_t first = r->size - at < n ? r->size - at : n;
    memcpy(p, r->data + at, first);
    if (n > first)
        memcpy((uint8_t *)p + first, r->data, n - first);
    r->pos += n;
    atomic_store_explicit(&r->sh->tail, r->pos, memory_order_release);
    return (ssize_t)n;
}

/* The store of one side's index and the load of the other side's flag must
 * not pass each other (and the reverse on the other side): a full fence
 * between them, else both could miss each other and sleep. */
bool ipcn__ring_bell_wanted(ipcn__ring *r)
{
    atomic_thread_fence(memory_order_seq_cst);
    return atomic_load_explicit(&r->sh->reader_sleeps, memory_order_relaxed) &&
           atomic_exchange(&r->sh->reader_sleeps, 0u);
}

bool ipcn__ring_room_wanted(ipcn__ring *r)
{
    atomic_thread_fence(memory_order_seq_cst);
    return atomic_load_explicit(&r->sh->writer_waits, memory_order_relaxed) &&
           atomic_exchange(&r->sh->writer_waits, 0u);
}

bool ipcn__ring_sleep(ipcn__ring *r)
{
    /* A store of the value already there still takes the line from the
     * writer, which reads it after every write: store only a change. */
    if (!atomic_load_explicit(&r->sh->reader_sleeps, memory_order_relaxed))
        atomic_store_explicit(&r->sh->reader_sleeps, 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    return !ipcn__ring_ready(r);
}

void ipcn__ring_awake(ipcn__ring *r)
{
    if (atomic_load_explicit(&r->sh->reader_sleeps, memory_order_relaxed))
        atomic_store_explicit(&r->sh->reader_sleeps, 0u, memory_order_relaxed);
}

bool ipcn__ring_wait_room(ipcn__ring *r)
{
    atomic_store_explicit(&r->sh->writer_waits, 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    return ipcn__ring_has_room(r);
}

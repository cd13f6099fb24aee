/* SPDX-License-Identifier: MIT */
/*
 * msgpool.c — fixed-size blocks for small messages, so that a small sample
 * costs no malloc() and no free() once the pool is warm.
 *
 * A message may be freed by any thread, and after its node was closed
 * (ipcn_msg_free() promises both), so a block goes back to a lock-free
 * stack of the pool, never to the node.  Only the node takes blocks (under
 * its lock): one consumer, so the stack has no ABA problem, and the node
 * takes the whole stack at once into a private list.  The pool lives as
 * long as the node or a block of it, whichever is longer: it counts one
 * reference for the node plus one per block out, taken from the node's
 * pre-paid credits so that most allocations cost no atomic operation.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "msg/msgpool.h"
#include "util/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
/* A block in the pool is poisoned but for its link: a message used after
 * its free still trips AddressSanitizer, as it would with free(). */
#define POISON(b) ASAN_POISON_MEMORY_REGION((char *)(b) + sizeof(void *), \
                                            IPCN_MSG_BLOCK - sizeof(void *))
#define UNPOISON(b) ASAN_UNPOISON_MEMORY_REGION((b), IPCN_MSG_BLOCK)
#else
#define POISON(b) ((void)(b))
#define UNPOISON(b) ((void)(b))
#endif

#define CREDITS 64

struct ipcn__msgpool {
    _Atomic(void *) back;  /* blocks given back: a stack linked through
                              each block's first word */
    atomic_size_t refs;    /* the node's, and one per block out */
    /* The node's side, under its lock: */
    void *cache;           /* blocks taken from back, to hand out */
    size_t credits;        /* references paid for, not yet handed out */
    uint32_t blocks;       /* blocks made (at most IPCN_MSGPOOL_MAX) */
};

static void *next_of(void *b)
{
    void *nx;
    memcpy(&nx, b, sizeof nx);
    return nx;
}

static void free_chain(void *b)
{
    while (b) {
        void *nx = next_of(b);
        UNPOISON(b);
        ipcn__free(b);
        b = nx;
    }
}

static void destroy(ipcn__msgpool *p)
{
    free_chain(atomic_load_explicit(&p->back, memory_order_acquire));
    free_chain(p->cache);
    ipcn__free(p);
}

ipcn__msgpool *ipcn__msgpool_new(void)
{
    ipcn__msgpool *p = ipcn__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    atomic_init(&p->back, NULL);
    atomic_init(&p->refs, 1);
    return p;
}

void *ipcn__msgpool_get(ipcn__msgpool *p)
{
    if (!p->cache)
        p->cache = atomic_exchange_explicit(&p->back, NULL, memory_order_acquire);
    void *b = p->cache;
    if (b) {
        p->cache = next_of(b);
        UNPOISON(b);
    } else {
        if (p->blocks >= IPCN_MSGPOOL_MAX || !(b = ipcn__malloc(IPCN_MSG_BLOCK)))
            return NULL; /* the caller allocates outside the pool */
        p->blocks++;
    }
    if (!p->credits) {
        atomic_fetch_add_explicit(&p->refs, CREDITS, memory_order_relaxed);
        p->credits = CREDITS;
    }
    p->credits--;
    return b;
}

void ipcn__msgpool_put(ipcn__msgpool *p, void *b)
{
    void *head = atomic_load_explicit(&p->back, memory_order_relaxed);
    do
        memcpy(b, &head, sizeof head);
    while (!atomic_compare_exchange_weak_explicit(&p->back, &head, b,
                                                  memory_order_release,
                                                  memory_order_relaxed));
    POISON(b);
    /* The block is in the stack before the reference goes: whoever drops
     * the last one frees it with the rest. */
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        destroy(p);
}

void ipcn__msgpool_close(ipcn__msgpool *p)
{
    if (!p)
        return;
    free_chain(p->cache);
    p->cache = NULL;
    size_t drop = p->credits + 1;
    if (atomic_fetch_sub_explicit(&p->refs, drop, memory_order_acq_rel) == drop)
        destroy(p);
}

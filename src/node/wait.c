/* SPDX-License-Identifier: MIT */
/*
 * wait.c — the calls that wait for something to come (an answer, a sample,
 * peers), and their end when the node shuts down or closes.
 *
 * A waiting thread pumps the node's I/O itself (ipcn__node_pump), or sleeps
 * on the node's condition while another thread pumps (that one broadcasts
 * after every round).  Either way it sleeps in the kernel: epoll_wait on the
 * I/O set, whose wake fd is written only for something a waiter must see;
 * callbacks that wait for dispatch do not make it readable (dispatch.c).
 *
 * Every thread inside a wait is counted (waiters).  ipcn_node_shutdown()
 * and ipcn_node_close() set shut, write the wake fd and broadcast: each
 * waiter returns from its round, sees shut and ends its call with 303.
 * Close frees the node only once the count is back to zero.
 */
#include <time.h>

#include "node/node.h"

int ipcn__node_ms_until(uint64_t deadline_ns)
{
    if (!deadline_ns)
        return -1;
    uint64_t now = ipcn__now_mono_ns();
    if (deadline_ns <= now)
        return 0;
    uint64_t ms = (deadline_ns - now + 999999) / 1000000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

void ipcn__node_wait_in(ipcn_node *n)
{
    n->waiters++;
}

void ipcn__node_wait_out(ipcn_node *n)
{
    n->waiters--;
    if (n->shut && !n->waiters)
        pthread_cond_broadcast(&n->cond); /* close waits for this */
}

void ipcn__node_end_waits(ipcn_node *n)
{
    n->shut = true;
    ipcn__node_kick(n);                /* the thread in epoll_wait */
    pthread_cond_broadcast(&n->cond);  /* those asleep on the condition */
}

void ipcn__node_waits_gone(ipcn_node *n)
{
    while (n->waiters)
        pthread_cond_wait(&n->cond, &n->lock);
}

static void cond_wait_until(ipcn_node *n, uint64_t deadline_ns)
{
    if (deadline_ns) {
        struct timespec ts = {(time_t)(deadline_ns / 1000000000ull),
                              (long)(deadline_ns % 1000000000ull)};
        pthread_cond_timedwait(&n->cond, &n->lock, &ts);
    } else {
        pthread_cond_wait(&n->cond, &n->lock);
    }
}

int ipcn__node_wait(ipcn_node *n, const bool *flag, uint64_t deadline_ns)
{
    while (!*flag) {
        if (n->shut)
            return IPCN_SERVICE_UNAVAILABLE;
        int ms = ipcn__node_ms_until(deadline_ns);
        if (ms == 0)
            return IPCN_GATEWAY_TIMEOUT;
        ipcn__node_wait_in(n);
        if (n->pumping) {
            /* Another thread is in epoll_wait: it broadcasts after every
             * round, so sleep on the condition instead of competing. */
            cond_wait_until(n, deadline_ns);
        } else {
            ipcn__node_pump(n, ms);
        }
        ipcn__node_wait_out(n);
    }
    return IPCN_OK;
}

/* One round of waiting: one pump of I/O, or one wake-up of the condition
 * when another thread pumps.  Callers check their condition after each. */
int ipcn__node_wait_round(ipcn_node *n, uint64_t deadline_ns)
{
    if (n->shut)
        return IPCN_SERVICE_UNAVAILABLE;
    int ms = ipcn__node_ms_until(deadline_ns);
    if (ms == 0)
        return IPCN_OK;
    ipcn__node_wait_in(n);
    if (n->pumping)
        cond_wait_until(n, deadline_ns ? deadline_ns
                                       : ipcn__now_mono_ns() + 1000000000ull);
    else
        ipcn__node_pump(n, ms);
    ipcn__node_wait_out(n);
    return n->shut ? IPCN_SERVICE_UNAVAILABLE : IPCN_OK;
}

void ipcn__node_poll(ipcn_node *n)
{
    if (!n->pumping)
        ipcn__node_pump(n, 0);
}

IPCN_API int ipcn_node_shutdown(ipcn_node *n)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__node_end_waits(n);
    ipcn__node_unlock(n);
    return IPCN_OK;
}

IPCN_API int ipcn_node_wait_synced(ipcn_node *n, int timeout_ms)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    uint64_t deadline = ipcn__deadline_ms(timeout_ms);
    int st = IPCN_OK;
    unsigned pending;
    /* What happened since the last round (a peer's hang-up, a newcomer)
     * counts before the answer. */
    ipcn__node_poll(n);
    while (!ipcn__rdv_all_synced(n, &pending)) {
        if (deadline && ipcn__now_mono_ns() >= deadline) {
            st = IPCN_GATEWAY_TIMEOUT;
            break;
        }
        if ((st = ipcn__node_wait_round(n, deadline)) != IPCN_OK)
            break;
    }
    ipcn__node_unlock(n);
    return st;
}

/* Peers count once their directory is here: a caller that waits for a
 * peer wants to use what it provides next. */
static bool enough_peers(ipcn_node *n, unsigned count)
{
    unsigned k = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP && l->synced)
            k++;
    return k >= count;
}

IPCN_API int ipcn_node_wait_peers(ipcn_node *n, unsigned count, int timeout_ms)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    uint64_t deadline = ipcn__deadline_ms(timeout_ms);
    int st = IPCN_OK;
    for (;;) {
        bool ok = enough_peers(n, count);
        if (ok)
            break;
        if (deadline && ipcn__now_mono_ns() >= deadline) {
            st = IPCN_GATEWAY_TIMEOUT;
            break;
        }
        /* then check again */
        if ((st = ipcn__node_wait_round(n, deadline)) != IPCN_OK)
            break;
    }
    ipcn__node_unlock(n);
    return st;
}

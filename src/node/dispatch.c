/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c — callbacks on the application's thread: the queue of
 * events, replies and requests waiting for dispatch, ipcn_node_dispatch(),
 * the fd and timeout for an outside loop, and the optional thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "engine/entry.h"
#include "node/node.h"

void ipcn__queue_cb(ipcn_node *n, ipcn__cb *cb)
{
    ipcn__list_insert_tail(&n->cbq, &cb->entry);
    ipcn__node_wake(n);
}

void ipcn__queue_event(ipcn_node *n, ipcn_event_type type, const ipcn__link *l,
                       const char *path, ipcn_kind kind, int status)
{
    ipcn__queue_event_of(n, type, l->who.name ? l->who.name : l->expect_name,
                         l->who.node_id, path, kind, status);
}

void ipcn__queue_event_of(ipcn_node *n, ipcn_event_type type,
                          const char *peer, uint64_t peer_id,
                          const char *path, ipcn_kind kind, int status)
{
    if (!n->event_fn)
        return;
    ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
    if (!cb)
        return;
    cb->kind = CB_EVENT;
    cb->ev.type = type;
    cb->ev.peer_id = peer_id;
    cb->ev.kind = kind;
    cb->ev.status = status;
    cb->ev_peer = peer ? ipcn__strdup(peer) : NULL;
    cb->ev_path = path ? ipcn__strdup(path) : NULL;
    if ((peer && !cb->ev_peer) || (path && !cb->ev_path)) {
        ipcn__free(cb->ev_peer);
        ipcn__free(cb->ev_path);
        ipcn__free(cb);
        return;
    }
    ipcn__queue_cb(n, cb);
}

void ipcn__queue_compromise_event(ipcn_node *n, const ipcn_compromise *c)
{
    if (!n->event_fn)
        return;
    size_t nl = strlen(c->name) + 1, dl = strlen(c->detail) + 1;
    ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
    ipcn_compromise *copy = ipcn__malloc(sizeof *copy + nl + dl);
    char *peer = ipcn__strdup(c->name);
    if (!cb || !copy || !peer) {
        ipcn__free(cb);
        ipcn__free(copy);
        ipcn__free(peer);
        return;
    }
    *copy = *c;
    char *s = (char *)(copy + 1);
    memcpy(s, c->name, nl);
    memcpy(s + nl, c->detail, dl);
    copy->name = s;
    copy->detail = s + nl;
    cb->kind = CB_EVENT;
    cb->ev.type = IPCN_EV_COMPROMISE;
    cb->ev.peer_id = c->node_id;
    cb->ev.kind = IPCN_ANY;
    cb->ev.status = (int)c->action;
    cb->ev_peer = peer;
    cb->ev_cz = copy;
    ipcn__queue_cb(n, cb);
}

void ipcn__node_cb_free(ipcn_node *n, ipcn__cb *cb)
{
    ipcn__free(cb->ev_cz);
    ipcn__free(cb->ev_peer);
    ipcn__free(cb->ev_path);
    if (cb->pend || cb->msg) /* the engine's part */
        ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_CB_FREE, .cb = cb});
    ipcn__free(cb);
}

/* Run one queued callback with the lock released.  Returns false when
 * there was none. */
static bool deliver_one(ipcn_node *n)
{
    ipcn__list *e = ipcn__list_pop(&n->cbq);
    if (!e)
        return ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_DELIVER});
    ipcn__cb *cb = ipcn__list_entry(e, ipcn__cb, entry);
    switch (cb->kind) {
    case CB_EVENT: {
        ipcn_event_fn fn = n->event_fn;
        void *user = n->event_user;
        cb->ev.peer = cb->ev_peer;
        cb->ev.path = cb->ev_path;
        cb->ev.compromise = cb->ev_cz;
        if (fn) {
            ipcn__node_unlock(n);
            fn(n, &cb->ev, user);
            ipcn__node_lock(n);
        }
        break;
    }
    case CB_REPLY:
    case CB_REQUEST:
    case CB_SET:
        ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_DELIVER, .cb = cb});
        break;
    }
    ipcn__node_cb_free(n, cb);
    return true;
}

static bool in_callback(ipcn_node *n)
{
    return n->cb_depth > 0 && pthread_equal(n->cb_thread, pthread_self());
}

static int dispatch_locked(ipcn_node *n, int timeout_ms)
{
    bool work = !ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs);
    int k = 0;
    if (n->pumping) {
        /* Another thread waits in epoll; let it work, then deliver. */
        if (!work && timeout_ms != 0) {
            uint64_t d = timeout_ms > 0 ? ipcn__now_mono_ns() +
                                              (uint64_t)timeout_ms * 1000000ull
                                        : 0;
            if (d) {
                struct timespec ts = {(time_t)(d / 1000000000ull),
                                      (long)(d % 1000000000ull)};
                pthread_cond_timedwait(&n->cond, &n->lock, &ts);
            } else {
                pthread_cond_wait(&n->cond, &n->lock);
            }
        }
    } else {
        n->deliver_next = true; /* callbacks of this round go out below */
        k = ipcn__node_pump(n, work ? 0 : timeout_ms);
        n->deliver_next = false;
    }
    int delivered = 0;
    n->cb_thread = pthread_self();
    n->cb_depth++;
    /* One round of I/O can bring thousands of small samples (a ring read
     * is bounded in bytes): deliver them all while that stays cheap, so
     * that queues do not grow round after round, but stop after a while
     * when callbacks are slow, so that I/O (heartbeats) goes on. */
    uint64_t t0 = 0;
    while (!n->thread_stop && deliver_one(n)) {
        if (++delivered < IPCN_DISPATCH_BUDGET || delivered % 64)
            continue;
        uint64_t now = ipcn__now_mono_ns();
        if (!t0)
            t0 = now;
        else if (now - t0 > IPCN_DISPATCH_MAX_NS)
            break;
    }
    n->cb_depth--;
    if (!ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs)) {
        ipcn__node_wake(n); /* more to do: keep the fd readable */
    } else {
        ipcn__node_clear_ready(n);
        /* Not the kick of a stop or a shutdown, nor a wake while another
         * thread waits in epoll_wait (it came back here from the condition
         * meanwhile): that waiter must still see it (a taker of a sample
         * published here, ipcn_wait_for() of a path announced here). */
        if (n->woken && !n->pumping && !n->thread_stop && !n->shut)
            ipcn__node_drain_wake(n); /* all delivered: no empty wake-up for the caller */
    }
    return (k > 0 || delivered > 0) ? IPCN_OK : IPCN_NO_DATA;
}

IPCN_API int ipcn_node_dispatch(ipcn_node *n, int timeout_ms)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st;
    if (in_callback(n)) {
        st = IPCN_BAD_REQUEST;
    } else if (n->shut || (n->thread_running &&
                           !pthread_equal(n->thread, pthread_self()))) {
        st = IPCN_SERVICE_UNAVAILABLE;
    } else {
        /* Close waits for it to leave, callbacks included. */
        ipcn__node_wait_in(n);
        st = dispatch_locked(n, timeout_ms);
        if (n->shut)
            st = IPCN_SERVICE_UNAVAILABLE;
        ipcn__node_wait_out(n);
    }
    ipcn__node_unlock(n);
    return st;
}

/* The fd an application waits on: the I/O set and the callbacks' readiness
 * together.  Made on demand, so that a node nobody polls pays nothing for
 * the nesting. */
static int export_fd(ipcn_node *n)
{
    int out = epoll_create1(EPOLL_CLOEXEC);
    int rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event io = {.events = EPOLLIN}, ready = {.events = EPOLLIN};
    if (out < 0 || rfd < 0 || epoll_ctl(out, EPOLL_CTL_ADD, n->epfd, &io) < 0 ||
        epoll_ctl(out, EPOLL_CTL_ADD, rfd, &ready) < 0) {
        ipcn__err("IPCN-NODE-FD", "%s: ipcn_node_fd: %s", n->name, strerror(errno));
        if (out >= 0)
            close(out);
        if (rfd >= 0)
            close(rfd);
        return -1;
    }
    n->outfd = out;
    n->readyfd = rfd;
    if (!ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs))
        ipcn__node_set_ready(n);
    return out;
}

IPCN_API int ipcn_node_fd(ipcn_node *n)
{
    if (!n)
        return -1;
    ipcn__node_lock(n);
    int fd = n->outfd >= 0 ? n->outfd : export_fd(n);
    if (fd >= 0)
        n->fd_exported = true; /* someone may wait on it: keep it truthful */
    ipcn__node_unlock(n);
    return fd;
}

IPCN_API int ipcn_node_timeout(ipcn_node *n)
{
    if (!n)
        return -1;
    ipcn__node_lock(n);
    /* Timers live inside the fd (a timerfd), so the caller only needs a
     * timeout when callbacks are already waiting. */
    int t = (!ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs))
                ? 0
                : -1;
    ipcn__node_unlock(n);
    return t;
}

static void *thread_main(void *arg)
{
    ipcn_node *n = arg;
    ipcn__node_lock(n);
    while (!n->thread_stop)
        dispatch_locked(n, -1);
    ipcn__node_unlock(n);
    return NULL;
}

IPCN_API int ipcn_node_start_thread(ipcn_node *n)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = IPCN_OK;
    if (n->thread_running) {
        st = IPCN_BAD_REQUEST;
    } else {
        n->thread_stop = false;
        if (pthread_create(&n->thread, NULL, thread_main, n) != 0)
            st = IPCN_INTERNAL_ERROR;
        else
            n->thread_running = true;
    }
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_node_stop_thread(ipcn_node *n)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    if (!n->thread_running) {
        ipcn__node_unlock(n);
        return IPCN_NOT_FOUND;
    }
    if (pthread_equal(n->thread, pthread_self()) || in_callback(n)) {
        ipcn__node_unlock(n);
        return IPCN_BAD_REQUEST;
    }
    n->thread_stop = true;
    ipcn__node_kick(n); /* the thread must see it */
    pthread_cond_broadcast(&n->cond);
    pthread_t t = n->thread;
    ipcn__node_unlock(n);
    pthread_join(t, NULL);
    ipcn__node_lock(n);
    n->thread_running = false;
    n->thread_stop = false;
    ipcn__node_unlock(n);
    return IPCN_OK;
}

/* SPDX-License-Identifier: MIT */
/*
 * fds.c — the node's descriptors as its links use them: is there room in
 * the descriptor table, what to do when there is none, and the node's
 * timer, which a link moves earlier when it starts waiting for its peer.
 * Mechanism only: the node (node/) made these descriptors and drives the
 * loop; a link calls here, never up into the node.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"

void ipcn__node_arm_timer(ipcn_node *n, uint64_t at_ns)
{
    if (n->timer_armed_ns && n->timer_armed_ns <= at_ns)
        return;
    struct itimerspec its = {0};
    its.it_value.tv_sec = (time_t)(at_ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(at_ns % 1000000000ull);
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
        its.it_value.tv_nsec = 1;
    if (timerfd_settime(n->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        n->timer_armed_ns = at_ns;
}

bool ipcn__fd_room(const ipcn_node *n, int k)
{
    int fds[2 * IPCN_FD_HEADROOM];
    int got = 0;
    if (k > 2 * IPCN_FD_HEADROOM)
        k = 2 * IPCN_FD_HEADROOM;
    while (got < k && (fds[got] = fcntl(n->epfd, F_DUPFD_CLOEXEC, 0)) >= 0)
        got++;
    for (int i = 0; i < got; i++)
        close(fds[i]);
    return got == k;
}

bool ipcn__fds_short(ipcn_node *n, int err, const char *what)
{
    if (err != EMFILE && err != ENFILE)
        return false;
    if (n->fd_short)
        return true;
    n->fd_short = true;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        n->nofile = (uint64_t)rl.rlim_cur;
    if (!n->accept_paused && n->listenfd >= 0 &&
        epoll_ctl(n->epfd, EPOLL_CTL_DEL, n->listenfd, NULL) == 0)
        n->accept_paused = true;
    /* Once in the log: a node that stays at its limit would otherwise say
     * it every time a peer leaves and another takes its place. */
    ipcn__log(n->fd_short_told ? IPCN_LOG_DEBUG : IPCN_LOG_WARN,
              "IPCN-NODE-NOFD", "%s: out of file descriptors %s (%s; "
              "RLIMIT_NOFILE %llu, %u links): not accepting or dialling "
              "until some are free; each peer takes 2, see the README",
              n->name, what, strerror(err), (unsigned long long)n->nofile,
              n->nlinks);
    n->fd_short_told = true;
    return true;
}

/* SPDX-License-Identifier: MIT */
/*
 * node.c — a node's life: options, open and close, what it tells of
 * itself (name, id, usage, stats, peers).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "engine/entry.h"
#include "node/node.h"
#include "policy/policy.h"
#include "shm/shm.h"
#include "transport/reputation.h"
#include "transport/limits.h"
#include "transport/compromise.h"

#define DEFAULT_HEARTBEAT_MS 200
#define DEFAULT_DEAD_AFTER_MS 900
#define DEFAULT_IDLE_PROBE_MS 120000
#define DEFAULT_TX_LIMIT (64u << 20)
#define DEFAULT_MAX_PEERS 512
#define DEFAULT_PEER_META_MAX (4u << 20)
#define DEFAULT_PEER_META_BUDGET (64u << 20)

IPCN_API void ipcn_node_opts_init(ipcn_node_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->heartbeat_ms = DEFAULT_HEARTBEAT_MS;
    o->dead_after_ms = DEFAULT_DEAD_AFTER_MS;
    o->idle_probe_ms = DEFAULT_IDLE_PROBE_MS;
    o->max_payload = IPCN_WIRE_MAX_PAYLOAD;
    o->tx_limit = DEFAULT_TX_LIMIT;
    o->max_peers = DEFAULT_MAX_PEERS;
    o->peer_meta_max = DEFAULT_PEER_META_MAX;
    o->peer_meta_budget = DEFAULT_PEER_META_BUDGET;
}

static int resolve_dir(ipcn_node *n, const ipcn_node_opts *o)
{
    const char *net = o->network ? o->network : getenv("IPCNET_NETWORK");
    if (!net || !*net)
        net = "default";
    if (ipcn__name_check(net, strlen(net)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!(n->network = ipcn__strdup(net)))
        return IPCN_INSUFFICIENT_MEMORY;
    const char *base = o->dir ? o->dir : getenv("IPCNET_DIR");
    char buf[4096];
    int len;
    if (base && *base) {
        len = snprintf(buf, sizeof buf, "%s/%s", base, net);
    } else {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg)
            len = snprintf(buf, sizeof buf, "%s/ipcnet/%s", xdg, net);
        else
            len = snprintf(buf, sizeof buf, "/tmp/ipcnet-%u/%s",
                           (unsigned)getuid(), net);
    }
    if (len < 0 || (size_t)len >= sizeof buf)
        return IPCN_BAD_REQUEST;
    if (!(n->dir = ipcn__strdup(buf)))
        return IPCN_INSUFFICIENT_MEMORY;
    return IPCN_OK;
}

/* The criticality: opts', else $IPCNET_CRITICALITY's (unset or empty:
 * none) when $IPCNET_NODE is unset or names this node (as given, or with
 * its namespace) — a supervisor sets both for a component, and the other
 * nodes its process or its children open (an `ipcnet query` run by a
 * script) must not claim its criticality.  200 for anything else. */
static int resolve_crit(const ipcn_node_opts *o, const char *name,
                        const char *full, uint8_t *out)
{
    if (o->criticality > IPCN_CRIT_CRITICAL)
        return IPCN_BAD_REQUEST;
    if (o->criticality) {
        *out = (uint8_t)o->criticality;
        return IPCN_OK;
    }
    static const char *const words[] = {"optional", "important", "critical"};
    const char *env = getenv("IPCNET_CRITICALITY");
    const char *only = getenv("IPCNET_NODE");
    *out = IPCN_CRIT_UNSET;
    if (!env || !*env ||
        (only && *only && strcmp(only, name) && strcmp(only, full)))
        return IPCN_OK;
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(words); i++)
        if (!strcmp(env, words[i])) {
            *out = (uint8_t)(IPCN_CRIT_OPTIONAL + i);
            return IPCN_OK;
        }
    ipcn__err("IPCN-NODE-CRITICALITY", "IPCNET_CRITICALITY=%s: not "
              "optional, important or critical", env);
    return IPCN_BAD_REQUEST;
}

/* How long this node asks its peers to wait for it when it is silent
 * (stopped in a debugger): opts', else $IPCNET_DEBUG_LIVENESS's, in
 * seconds (unset, empty or 0: not asked).  Peers grant it only as far as
 * their network's policy allows (debug: liveness:).  200 for a value that
 * is not a whole number of seconds from 0 to a day. */
static int resolve_debug(const ipcn_node_opts *o, const char *name,
                         uint32_t *out)
{
    if (o->debug_liveness_ms > IPCN_DEBUG_LIVENESS_MAX_MS)
        return IPCN_BAD_REQUEST;
    *out = o->debug_liveness_ms;
    const char *env = getenv("IPCNET_DEBUG_LIVENESS");
    if (*out || !env || !*env)
        return IPCN_OK;
    uint32_t v = 0;
    size_t i = 0;
    for (; env[i] >= '0' && env[i] <= '9' && i < 6; i++)
        v = v * 10 + (uint32_t)(env[i] - '0');
    if (env[i] || v > IPCN_DEBUG_LIVENESS_MAX_MS / 1000) {
        ipcn__err("IPCN-NODE-DEBUG", "%s: IPCNET_DEBUG_LIVENESS must be a "
                  "whole number of seconds, 0 to %u", name,
                  IPCN_DEBUG_LIVENESS_MAX_MS / 1000);
        return IPCN_BAD_REQUEST;
    }
    *out = v * 1000;
    return IPCN_OK;
}

static void node_free(ipcn_node *n)
{
    ipcn__list *e;
    ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_CLOSE});
    while ((e = ipcn__list_pop(&n->dials))) {
        ipcn__dial *d = ipcn__list_entry(e, ipcn__dial, entry);
        ipcn__free(d->name);
        ipcn__free(d);
    }
    ipcn__backoff_free_all(n);
    ipcn__rep_free_all(n);
    while ((e = ipcn__list_pop(&n->links)))
        ipcn__link_free(n, ipcn__list_entry(e, ipcn__link, node_entry));
    ipcn__node_free_dead_links(n);
    ipcn__gw_free(n); /* after its links: lingering sockets close */
    ipcn__limits_node_free(n);
    ipcn__route_free_all(n);
    ipcn__wbuf_free(&n->scratch);
    int fds[] = {n->epfd, n->wakefd, n->timerfd, n->listenfd, n->inotifyfd,
                 n->outfd, n->readyfd};
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    ipcn__cz_free(n);
    ipcn__node_policy_close(n);
    ipcn__rdv_close(n); /* closes dirfd and lockfd last */
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->cond);
    ipcn__free(n->name);
    ipcn__names_clear(&n->names);
    ipcn__free(n->network);
    ipcn__free(n->dir);
    ipcn__free(n);
}

int ipcn__node_add_fd(ipcn_node *n, int fd, uint32_t kind)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ipcn__epoll_tag(kind, 0)};
    return epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? IPCN_OK
                                                          : IPCN_INTERNAL_ERROR;
}

IPCN_API int ipcn_node_open(ipcn_node **out, const char *name,
                            const ipcn_node_opts *opts)
{
    if (!out || !name || ipcn__name_check(name, strlen(name)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    if (opts) {
        if (ipcn__sized_in(&o, sizeof o, opts,
                           IPCN__SIZE_TO(ipcn_node_opts, peer_meta_budget)) !=
            IPCN_OK)
            return IPCN_BAD_REQUEST;
        ipcn_node_opts d;
        ipcn_node_opts_init(&d);
        if (!o.heartbeat_ms)
            o.heartbeat_ms = d.heartbeat_ms;
        if (!o.dead_after_ms)
            o.dead_after_ms = d.dead_after_ms;
        if (!o.idle_probe_ms)
            o.idle_probe_ms = d.idle_probe_ms;
        if (!o.max_payload || o.max_payload > IPCN_WIRE_MAX_PAYLOAD)
            o.max_payload = d.max_payload;
        if (!o.tx_limit)
            o.tx_limit = d.tx_limit;
        if (!o.max_peers)
            o.max_peers = d.max_peers;
        if (!o.peer_meta_max)
            o.peer_meta_max = d.peer_meta_max;
        if (!o.peer_meta_budget)
            o.peer_meta_budget = d.peer_meta_budget;
        if (o.spin_us > IPCN_SPIN_MAX_US)
            return IPCN_BAD_REQUEST;
        if (o.dead_after_ms < 2 * o.heartbeat_ms)
            return IPCN_BAD_REQUEST;
        if (o.idle_probe_ms < o.heartbeat_ms)
            o.idle_probe_ms = o.heartbeat_ms;
    }
    ipcn_node *n = ipcn__calloc(1, sizeof *n);
    if (!n)
        return IPCN_INSUFFICIENT_MEMORY;
    n->opts = o;
    n->opts.ns = n->opts.remap = NULL; /* the caller's: read below, once */
    n->epfd = n->wakefd = n->timerfd = n->listenfd = n->inotifyfd = -1;
    n->dirfd = n->lockfd = n->spare_fd = n->outfd = n->readyfd = -1;
    n->policy_wd = -1;
    ipcn__list_init(&n->links);
    ipcn__list_init(&n->hello_links);
    ipcn__list_init(&n->locals);
    ipcn__list_init(&n->remotes);
    ipcn__list_init(&n->access);
    ipcn__list_init(&n->lim_users);
    ipcn__list_init(&n->lim_conns);
    ipcn__list_init(&n->fair_uids);
    ipcn__list_init(&n->subs);
    ipcn__list_init(&n->ready_subs);
    ipcn__list_init(&n->interests);
    ipcn__list_init(&n->latch_waits);
    ipcn__list_init(&n->pendings);
    ipcn__list_init(&n->responders);
    ipcn__list_init(&n->cbq);
    ipcn__list_init(&n->dials);
    ipcn__list_init(&n->backoffs);
    ipcn__list_init(&n->reps);
    ipcn__list_init(&n->pools);
    ipcn__list_init(&n->loans);
    ipcn__list_init(&n->maps);
    atomic_init(&n->shm_rel_pending, false);
    {
        const char *no_shm = getenv("IPCNET_NO_SHM");
        n->shm_enabled = !no_shm || !*no_shm || !strcmp(no_shm, "0");
        const char *prov = getenv("IPCNET_PROVENANCE");
        n->prov_default = prov && (!strcmp(prov, "on") || !strcmp(prov, "1"));
        const char *no_ring = getenv("IPCNET_NO_RING");
        n->ring_enabled = !no_ring || !*no_ring || !strcmp(no_ring, "0");
        const char *spin = getenv("IPCNET_SPIN_US");
        if (!n->opts.spin_us && spin && *spin) {
            char *end;
            unsigned long v = strtoul(spin, &end, 10);
            if (!*end && v <= IPCN_SPIN_MAX_US)
                n->opts.spin_us = (uint32_t)v;
        }
    }
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&n->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cond, &ca);
    pthread_condattr_destroy(&ca);
    n->id = ipcn__random_u64();
    n->next_corr = ipcn__random_u64() >> 16; /* not guessable from outside */
    n->first_corr = n->next_corr;
    n->next_responder = 1;

    int st = IPCN_INSUFFICIENT_MEMORY;
    if (!(n->name = ipcn__strdup(name)) ||
        (st = ipcn__node_names_open(n, &o, name)) != IPCN_OK)
        goto fail;
    st = IPCN_BAD_REQUEST;
    if (resolve_crit(&o, name, n->name, &n->crit) != IPCN_OK ||
        resolve_debug(&o, n->name, &n->debug_liveness_ms) != IPCN_OK)
        goto fail;
    if ((st = resolve_dir(n, &o)) != IPCN_OK)
        goto fail;
    st = IPCN_INTERNAL_ERROR;
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    n->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    n->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (n->epfd < 0 || n->wakefd < 0 || n->timerfd < 0) {
        ipcn__err("IPCN-NODE-FD", "%s: %s", name, strerror(errno));
        goto fail;
    }
    if (ipcn__node_add_fd(n, n->wakefd, TAG_WAKE) != IPCN_OK ||
        ipcn__node_add_fd(n, n->timerfd, TAG_TIMER) != IPCN_OK)
        goto fail;
    if ((st = ipcn__rdv_open(n)) != IPCN_OK)
        goto fail;
    /* The policy before anyone is accepted. */
    if ((st = ipcn__node_policy_open(n)) != IPCN_OK)
        goto fail;
    if (n->debug_liveness_ms) {
        uint64_t cap = n->policy->guard.debug_liveness_ms;
        if (!cap)
            ipcn__warn("IPCN-NODE-DEBUG", "%s asks its peers to wait %u ms "
                       "for it when it is silent, but network %s's policy "
                       "has no debug: liveness: they will not (docs/policy.md)",
                       n->name, n->debug_liveness_ms, n->network);
        else
            ipcn__info("IPCN-NODE-DEBUG", "%s: its peers wait up to %llu ms "
                       "for it when it is silent", n->name,
                       (unsigned long long)(n->debug_liveness_ms < cap
                                                ? n->debug_liveness_ms : cap));
    }
    if (ipcn__node_add_fd(n, n->listenfd, TAG_LISTEN) != IPCN_OK ||
        (n->inotifyfd >= 0 && ipcn__node_add_fd(n, n->inotifyfd, TAG_INOTIFY) != IPCN_OK)) {
        st = IPCN_INTERNAL_ERROR;
        goto fail;
    }
    ipcn__node_lock(n);
    n->last_tick_ns = ipcn__now_mono_ns();
    ipcn__rdv_scan(n);
    ipcn__node_rearm(n, n->last_tick_ns);
    ipcn__node_unlock(n);
    *out = n;
    return IPCN_OK;
fail:
    node_free(n);
    return st;
}

void ipcn__node_set_close_hook(ipcn_node *n, void (*fn)(ipcn_node *n))
{
    ipcn__node_lock(n);
    n->close_hook = fn;
    ipcn__node_unlock(n);
}

IPCN_API void ipcn_node_close(ipcn_node *n)
{
    if (!n)
        return;
    /* Calls of other threads that wait end with 303 at once. */
    ipcn__node_lock(n);
    ipcn__node_end_waits(n);
    ipcn__node_unlock(n);
    if (n->thread_running)
        ipcn_node_stop_thread(n);
    /* Layers above the core that keep state per node (files/: what
     * ipcn_files_unoffer() was not called for) said so by a hook. */
    if (n->close_hook)
        n->close_hook(n);
    ipcn__node_lock(n);
    ipcn__node_waits_gone(n); /* and have left the node */
    n->closing = true;
    /* Say goodbye, then give the queued bytes a bounded time to leave. */
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            continue;
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, IPCN_OK, 0);
        size_t mark = ipcn__link_tx_mark(l, 0);
        ipcn__link_commit(n, l, mark,
                          ipcn__enc_text(&l->tx, &h, IPCN_F_BYE, "closing", 7));
    }
    uint64_t until = ipcn__now_mono_ns() + 100000000ull;
    for (;;) {
        bool pending = false;
        ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
            if (l->state != LINK_DEAD && ipcn__link_backlog(l))
                pending = true;
        int ms = ipcn__node_ms_until(until);
        if (!pending || ms == 0)
            break;
        ipcn__node_pump(n, ms > 10 ? 10 : ms);
    }
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        ipcn__link_close(n, l, IPCN_OK, "closing");
    ipcn__node_free_dead_links(n);
    ipcn__node_unlock(n);
    node_free(n);
}

IPCN_API const char *ipcn_node_name(const ipcn_node *n) { return n ? n->name : NULL; }

IPCN_API uint64_t ipcn_node_id(const ipcn_node *n) { return n ? n->id : 0; }

IPCN_API const char *ipcn_node_dir(const ipcn_node *n) { return n ? n->dir : NULL; }

IPCN_API int ipcn_node_set_event_fn(ipcn_node *n, ipcn_event_fn fn,
                                    void *user)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    n->event_fn = fn;
    n->event_user = user;
    ipcn__node_unlock(n);
    return IPCN_OK;
}

IPCN_API int ipcn_node_get_usage(ipcn_node *n, ipcn_node_usage *out)
{
    if (!n || ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_node_usage,
                                                   tx_buffer_peak)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_node_usage u = {.size = sizeof u};
    ipcn__node_lock(n);
    u.peers = n->stats.peers;
    u.peer_meta_bytes = n->peer_meta_bytes;
    u.meta_refused = n->meta_refused;
    u.peers_refused = n->peers_refused;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        u.tx_queued_bytes += ipcn__link_backlog(l);
        u.tx_buffer_bytes += l->tx.cap;
    }
    u.tx_buffer_peak = n->tx_buffer_peak > u.tx_buffer_bytes ? n->tx_buffer_peak
                                                             : u.tx_buffer_bytes;
    ipcn__node_unlock(n);
    ipcn__sized_out(out, &u, sizeof u);
    return IPCN_OK;
}

IPCN_API int ipcn_node_get_stats(ipcn_node *n, ipcn_node_stats *out)
{
    if (!n || ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_node_stats,
                                                   requests_abandoned)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn_node_stats s = n->stats;
    uint32_t count = 0;
    for (const ipcn__list *e = n->locals.next; e != &n->locals; e = e->next)
        count++;
    for (const ipcn__list *e = n->remotes.next; e != &n->remotes; e = e->next)
        count++;
    s.resources = count;
    s.shm_request_slots = ipcn__pool_request_slots(n);
    ipcn__node_unlock(n);
    ipcn__sized_out(out, &s, sizeof s);
    return IPCN_OK;
}

static int cmp_link_name(const void *a, const void *b)
{
    return strcmp((*(ipcn__link *const *)a)->who.name,
                  (*(ipcn__link *const *)b)->who.name);
}

/* ipcn_peers()'s one block: the public list, the principals (who[i] is
 * items[i]'s), their groups, the items, then the strings. */
typedef struct peer_block {
    ipcn_peer_list pub;
    ipcn_peer_info *who;
} peer_block;

static size_t peer_strings(const ipcn__link *l)
{
    return strlen(l->who.name) + 1 + (l->who.exe ? strlen(l->who.exe) + 1 : 0);
}

IPCN_API int ipcn_peers(ipcn_node *n, ipcn_peer_list **out)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    size_t count = 0, strings = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state == LINK_UP) {
            count++;
            strings += peer_strings(l);
        }
    }
    /* One block: the list, the principals, their groups, the items, the
     * strings (each part a multiple of 8 bytes but the last); and the
     * links sorted by name, for a moment. */
    size_t size = sizeof(peer_block) + count * (sizeof(ipcn_peer_info) +
                  IPCN_PRINCIPAL_MAX_GROUPS * sizeof(uint32_t) +
                  sizeof(ipcn_peer)) + strings;
    peer_block *pb = ipcn__malloc(size);
    ipcn__link **sorted = ipcn__malloc(count ? count * sizeof *sorted : 1);
    if (!pb || !sorted) {
        ipcn__node_unlock(n);
        ipcn__free(pb);
        ipcn__free(sorted);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    size_t i = 0;
    ipcn__list_for_each(l, t2, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP)
            sorted[i++] = l;
    if (count > 1)
        qsort(sorted, count, sizeof *sorted, cmp_link_name);
    ipcn_peer_list *pl = &pb->pub;
    pl->count = count;
    pb->who = (ipcn_peer_info *)(pb + 1);
    uint32_t *gp = (uint32_t *)(pb->who + count);
    pl->items = (ipcn_peer *)(gp + count * IPCN_PRINCIPAL_MAX_GROUPS);
    char *sp = (char *)(pl->items + count);
    for (i = 0; i < count; i++) {
        l = sorted[i];
        size_t nl = strlen(l->who.name) + 1;
        memcpy(sp, l->who.name, nl);
        pl->items[i] = (ipcn_peer){
            .name = sp, .id = l->who.node_id, .pid = l->who.pid,
            .uid = l->who.uid, .gid = l->who.gid, .linked_ns = l->linked_ns,
            .resources = l->resources, .frames_in = l->frames_in,
            .frames_out = l->frames_out, .bytes_in = l->bytes_in,
            .bytes_out = l->bytes_out, .bad_frames = l->bad_frames,
            .drops = l->drops};
        sp += nl;
        ipcn_peer_info *w = &pb->who[i];
        *w = (ipcn_peer_info){
            .size = sizeof *w, .pid = l->who.pid, .uid = l->who.uid,
            .gid = l->who.gid, .ngroups = l->who.ngroups, .groups = gp,
            .groups_truncated = l->who.groups_truncated,
            .exe_hashed = l->who.exe_hashed, .denied = l->denied,
            .audited = l->audited, .rate_limited = l->rate_limited,
            .samples_limited = l->samples_limited,
            .criticality = l->peer_crit, .ready = l->peer_ready};
        memcpy(gp, l->who.groups, l->who.ngroups * sizeof *gp);
        gp += IPCN_PRINCIPAL_MAX_GROUPS;
        if (l->who.exe) {
            size_t el = strlen(l->who.exe) + 1;
            memcpy(sp, l->who.exe, el);
            w->exe = sp;
            sp += el;
        }
        if (l->who.exe_hashed)
            memcpy(w->exe_sha256, l->who.exe_sha256, 32);
    }
    ipcn__node_unlock(n);
    ipcn__free(sorted);
    *out = pl;
    return IPCN_OK;
}

IPCN_API int ipcn_peer_list_get_info(const ipcn_peer_list *list,
                                     size_t index, ipcn_peer_info *out)
{
    if (!list || ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_peer_info,
                                                      audited)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (index >= list->count)
        return IPCN_NOT_FOUND;
    const peer_block *pb = (const peer_block *)list;
    ipcn__sized_out(out, &pb->who[index], sizeof pb->who[index]);
    return IPCN_OK;
}

IPCN_API void ipcn_peer_list_free(ipcn_peer_list *pl)
{
    ipcn__free(pl); /* the block's start: peer_block's first member */
}

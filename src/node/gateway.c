/* SPDX-License-Identifier: MIT */
/*
 * gateway.c — a node that links its host to others (ipcn_node_gateway()):
 * the host key and the network's trust list, a listening TCP socket, the
 * peers it dials and keeps dialled (back-off from redial_min_ms doubling
 * to redial_max_ms, reset once a link is up), and which TCP link to keep
 * when two gateways dialled each other, and (discovery on) the beacons
 * of node/discovery.c: a trusted host heard is dialled once, as a peer
 * that goes with its link.  The links themselves are
 * transport/link_tcp.c's; routing between them is route.c's.
 *
 * Addresses: "tcp://A.B.C.D:P", "tcp://[IPv6]:P", "tcp://name:P" (a name
 * is resolved when dialled, getaddrinfo's first answer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipcnet_hosts.h"
#include "node/discovery.h"
#include "node/gateway.h"
#include "node/node.h"
#include "transport/noise.h"
#include "transport/tcp.h"

#define GW_MAX_PEERS 64
#define GW_MAX_SECURE 32     /* TCP links in their handshake at once */
#define GW_ACCEPT_BUDGET 16
#define GW_MAX_LINKS 1024
#define GW_TRUST_POLL_NS 2000000000ull /* the trust list, when not watched */

typedef struct ipcn__gw ipcn__gw;

typedef struct gw_peer {
    char *addr;             /* as configured: "tcp://A:P" */
    uint32_t link_id;       /* the link dialled (0: none now) */
    uint64_t next_ns;       /* dial then, when not linked */
    uint32_t backoff_ms;
    uint8_t key[32];        /* its host key, once a handshake told it */
    bool has_key;
    bool oneshot;           /* found by discovery: dialled once, dropped
                               when its link goes (never redialled) */
} gw_peer;

struct ipcn__gw {
    int listenfd;
    char *listen;           /* "" none */
    gw_peer peers[GW_MAX_PEERS];
    uint32_t npeers;
    uint32_t redial_min_ms, redial_max_ms;
    bool discovery;
    ipcn__disc *disc;       /* discovery on: its beacons (node/discovery.c) */
    uint64_t disc_trust_stamp[4]; /* the trust list it was last told */
    int trust_wd;           /* the inotify watch of the trust list's folder */
};

/* ---- addresses ---- */

int ipcn__gw_addr_parse(const char *text, char *host, size_t cap,
                        uint16_t *port)
{
    if (!text || strncmp(text, "tcp://", 6) != 0)
        return IPCN_BAD_REQUEST;
    const char *p = text + 6, *end;
    if (*p == '[') {
        end = strchr(++p, ']');
        if (!end || end[1] != ':')
            return IPCN_BAD_REQUEST;
    } else {
        end = strrchr(p, ':');
        if (!end || memchr(p, ':', (size_t)(end - p)))
            return IPCN_BAD_REQUEST; /* an IPv6 address needs brackets */
    }
    size_t len = (size_t)(end - p);
    if (len == 0 || len >= cap)
        return IPCN_BAD_REQUEST;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
              c == '%' || c == '_'))
            return IPCN_BAD_REQUEST;
    }
    memcpy(host, p, len);
    host[len] = 0;
    const char *ps = end + (*end == ']' ? 2 : 1);
    if (!*ps || strlen(ps) > 5)
        return IPCN_BAD_REQUEST;
    unsigned long v = 0;
    for (const char *c = ps; *c; c++) {
        if (*c < '0' || *c > '9')
            return IPCN_BAD_REQUEST;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v == 0 || v > 65535)
        return IPCN_BAD_REQUEST;
    *port = (uint16_t)v;
    return IPCN_OK;
}

static int resolve(const char *addr, bool passive, struct addrinfo **res)
{
    char host[256], port[8];
    uint16_t p;
    if (ipcn__gw_addr_parse(addr, host, sizeof host, &p) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    snprintf(port, sizeof port, "%u", (unsigned)p);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV |
                                         (passive ? AI_PASSIVE : 0)};
    int e = getaddrinfo(host, port, &hints, res);
    if (e) {
        ipcn__warn("IPCN-GW-ADDR", "%s: %s", addr, gai_strerror(e));
        return IPCN_SERVICE_UNAVAILABLE;
    }
    return IPCN_OK;
}

/* "tcp://A:P" of a socket address. */
static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    char h[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, h, sizeof h);
        port = ntohs(a->sin_port);
        snprintf(buf, cap, "tcp://%s:%u", h, port);
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof h);
        port = ntohs(a->sin6_port);
        snprintf(buf, cap, "tcp://[%s]:%u", h, port);
    }
}

/* ---- dialling ---- */

static bool key_linked(ipcn_node *n, const uint8_t key[32])
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->kind == LINK_TCP && l->state != LINK_DEAD && l->has_peer_key &&
            !memcmp(l->peer_key, key, 32))
            return true;
    return false;
}

static void peer_failed(ipcn__gw *gw, gw_peer *p, uint64_t now)
{
    p->next_ns = now + (uint64_t)p->backoff_ms * 1000000ull;
    uint64_t b = (uint64_t)p->backoff_ms * 2;
    p->backoff_ms = (uint32_t)(b < gw->redial_max_ms ? b : gw->redial_max_ms);
}

static void dial(ipcn_node *n, ipcn__gw *gw, gw_peer *p, uint64_t now)
{
    struct addrinfo *res = NULL;
    if (n->fd_short || resolve(p->addr, false, &res) != IPCN_OK) {
        peer_failed(gw, p, now);
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, res->ai_addr, res->ai_addrlen) < 0 &&
                   errno != EINPROGRESS)) {
        ipcn__debug("IPCN-GW-DIAL", "%s: dialling %s: %s", n->name, p->addr,
                    strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        peer_failed(gw, p, now);
        return;
    }
    freeaddrinfo(res);
    ipcn__link *l = ipcn__link_new_tcp(n, fd, true, p->addr);
    if (!l || l->state == LINK_DEAD) {
        peer_failed(gw, p, now);
        return;
    }
    p->link_id = l->id;
}

/* The peers' links: one that went is dialled again after the back-off,
 * which a link that came up reset. */
static gw_peer *peer_of_link(ipcn__gw *gw, uint32_t id)
{
    for (uint32_t i = 0; i < gw->npeers; i++)
        if (gw->peers[i].link_id == id)
            return &gw->peers[i];
    return NULL;
}

static void peers_pass(ipcn_node *n, ipcn__gw *gw, uint64_t now, bool dial_due)
{
    /* A dialled link closed because the host was linked already: that
     * host is this peer, which is not dialled while the other link lives. */
    for (uint32_t i = 0; i < n->tcp->nlost; i++) {
        gw_peer *p = peer_of_link(gw, n->tcp->lost[i].link_id);
        if (p) {
            memcpy(p->key, n->tcp->lost[i].key, 32);
            p->has_key = true;
            p->link_id = 0;
            p->backoff_ms = gw->redial_min_ms;
        }
    }
    n->tcp->nlost = 0;
    for (uint32_t i = 0; i < gw->npeers; i++) {
        gw_peer *p = &gw->peers[i];
        if (p->link_id) {
            ipcn__link *l = ipcn__link_by_id(n, p->link_id);
            if (l && l->has_peer_key) {
                memcpy(p->key, l->peer_key, 32);
                p->has_key = true;
            }
            if (l && l->state == LINK_UP)
                p->backoff_ms = gw->redial_min_ms;
            if (l)
                continue;
            p->link_id = 0;
            peer_failed(gw, p, now);
        }
        if (p->oneshot) {
            /* A discovered host whose link went (or was lost to another
             * link to it, or never was): not redialled here, its next
             * beacon says whether to (after discovery's retry_ms). */
            ipcn__free(p->addr);
            gw->peers[i--] = gw->peers[--gw->npeers];
            continue;
        }
        if (p->has_key && key_linked(n, p->key))
            continue; /* linked through the link it dialled us by */
        if (dial_due && p->next_ns <= now)
            dial(n, gw, p, now);
    }
}

/* ---- discovery (node/discovery.c) ---- */

/* Discovery looks for the hosts of the trust list as it is now. */
static int disc_trust_sync(ipcn_node *n, ipcn__gw *gw)
{
    ipcn__tcp_host *h = n->tcp;
    ipcn__tcp_trust_refresh(n, h);
    if (!memcmp(gw->disc_trust_stamp, h->trust_stamp, sizeof h->trust_stamp))
        return IPCN_OK;
    int st = ipcn__disc_trust(gw->disc, (const uint8_t (*)[32])h->trust.keys,
                              h->trust.count);
    if (st == IPCN_OK)
        memcpy(gw->disc_trust_stamp, h->trust_stamp, sizeof h->trust_stamp);
    return st;
}

/* A TCP link to that host, or a dial to it under way? */
static bool disc_linked(void *ctx, const uint8_t key[32])
{
    ipcn_node *n = ctx;
    ipcn__gw *gw = n->gw;
    if (key_linked(n, key))
        return true;
    for (uint32_t i = 0; i < gw->npeers; i++)
        if (gw->peers[i].link_id && gw->peers[i].has_key &&
            !memcmp(gw->peers[i].key, key, 32))
            return true;
    return false;
}

/* A trusted host beacons: dial it once, as a peer that goes with its link. */
static void disc_dial(void *ctx, const uint8_t key[32], const char *addr)
{
    ipcn_node *n = ctx;
    ipcn__gw *gw = n->gw;
    if (gw->npeers == GW_MAX_PEERS) {
        ipcn__warn("IPCN-GW-DISC", "%s: %s not dialled: %d peers already",
                   n->name, addr, GW_MAX_PEERS);
        return;
    }
    char *a = ipcn__strdup(addr);
    if (!a)
        return;
    uint64_t now = ipcn__now_mono_ns();
    gw_peer *p = &gw->peers[gw->npeers++];
    *p = (gw_peer){.addr = a, .next_ns = now, .backoff_ms = gw->redial_min_ms,
                   .has_key = true, .oneshot = true};
    memcpy(p->key, key, 32);
    ipcn__info("IPCN-GW-DISC", "%s: a trusted host beacons: dialling %s",
               n->name, addr);
    dial(n, gw, p, now);
}

void ipcn__gw_on_disc(ipcn_node *n)
{
    ipcn__gw *gw = n->gw;
    if (!gw || !gw->disc)
        return;
    disc_trust_sync(n, gw);
    ipcn__disc_on_readable(gw->disc, ipcn__now_mono_ns(), disc_linked, disc_dial, n);
}

static int disc_start(ipcn_node *n, ipcn__gw *gw)
{
    ipcn__disc_cfg cfg = {0};
    char ifbuf[16];
    memcpy(cfg.self_key, n->tcp->pub, 32);
    if (*gw->listen &&
        ipcn__disc_cfg_listen(&cfg, gw->listen, ifbuf, sizeof ifbuf) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    int st = ipcn__disc_new(&cfg, &gw->disc);
    if (st == IPCN_OK)
        st = ipcn__disc_open(gw->disc);
    if (st == IPCN_OK)
        st = disc_trust_sync(n, gw);
    if (st != IPCN_OK)
        return st;
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = ipcn__epoll_tag(TAG_GW_DISC, 0)};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, ipcn__disc_fd(gw->disc), &ev) < 0)
        return IPCN_INTERNAL_ERROR;
    ipcn__info("IPCN-GW-DISC", "%s: discovery on (%s port %u)", n->name,
               cfg.tcp_port ? "beacons for" : "hearing only,", (unsigned)cfg.tcp_port);
    return IPCN_OK;
}

void ipcn__gw_tick(ipcn_node *n, uint64_t now)
{
    ipcn__gw *gw = n->gw;
    /* Cheap (a stat): catches what the watch missed, or a reading of the
     * list by a handshake that came between the change and its event. */
    ipcn__tcp_trust_recheck(n, false);
    ipcn__tcp_linger_pass(n->tcp, now);
    peers_pass(n, gw, now, true);
    if (gw->disc && now >= ipcn__disc_next_ns(gw->disc)) {
        disc_trust_sync(n, gw);
        ipcn__disc_tick(gw->disc, now);
    }
}

uint64_t ipcn__gw_next_ns(ipcn_node *n, uint64_t now)
{
    ipcn__gw *gw = n->gw;
    peers_pass(n, gw, now, false);
    uint64_t next = n->tcp->nlinger ? ipcn__tcp_linger_pass(n->tcp, now) : 0;
    for (uint32_t i = 0; i < gw->npeers; i++) {
        gw_peer *p = &gw->peers[i];
        if (p->link_id || (p->has_key && key_linked(n, p->key)))
            continue;
        if (!next || p->next_ns < next)
            next = p->next_ns;
    }
    if (gw->trust_wd < 0) { /* the list is not watched: look every 2 s */
        uint64_t t = now + GW_TRUST_POLL_NS;
        if (!next || t < next)
            next = t;
    }
    uint64_t d = gw->disc ? ipcn__disc_next_ns(gw->disc) : UINT64_MAX;
    if (d != UINT64_MAX && (!next || d < next))
        next = d;
    return next;
}

/* ---- accepting ---- */

static uint32_t links_securing(ipcn_node *n)
{
    uint32_t k = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->kind == LINK_TCP && l->state == LINK_SECURE)
            k++;
    return k;
}

void ipcn__gw_on_accept(ipcn_node *n)
{
    ipcn__gw *gw = n->gw;
    for (int budget = GW_ACCEPT_BUDGET; budget > 0; budget--) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(gw->listenfd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            ipcn__fds_short(n, errno, "accepting a TCP connection");
            return;
        }
        /* Strangers cost a handshake each: only so many at once. */
        if (n->nlinks >= GW_MAX_LINKS || links_securing(n) >= GW_MAX_SECURE ||
            !ipcn__fd_room(n, IPCN_FD_HEADROOM)) {
            n->stats.links_refused++;
            close(fd);
            continue;
        }
        char addr[80];
        addr_text(&ss, addr, sizeof addr);
        ipcn__link_new_tcp(n, fd, false, addr);
    }
}

/* ---- set-up ---- */

IPCN_API void ipcn_gateway_opts_init(ipcn_gateway_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->discovery = -1;
    o->redial_min_ms = 100;
    o->redial_max_ms = 5000;
}

static int open_listen(ipcn_node *n, ipcn__gw *gw)
{
    struct addrinfo *res = NULL;
    int st = resolve(gw->listen, true, &res);
    if (st != IPCN_OK)
        return st == IPCN_BAD_REQUEST ? st : IPCN_INTERNAL_ERROR;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        ipcn__err("IPCN-GW-LISTEN", "%s: cannot listen on %s: %s", n->name,
                  gw->listen, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return IPCN_INTERNAL_ERROR;
    }
    freeaddrinfo(res);
    gw->listenfd = fd;
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = ipcn__epoll_tag(TAG_GW_LISTEN, 0)};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return IPCN_INTERNAL_ERROR;
    ipcn__info("IPCN-GW-LISTEN", "%s: gateway listening on %s", n->name,
               gw->listen);
    return IPCN_OK;
}

static int add_peers(ipcn__gw *gw, const char *list, uint64_t now)
{
    const char *p = list;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len) {
            char host[256];
            uint16_t port;
            char *a = ipcn__strndup(p, len);
            if (!a)
                return IPCN_INSUFFICIENT_MEMORY;
            if (gw->npeers == GW_MAX_PEERS ||
                ipcn__gw_addr_parse(a, host, sizeof host, &port) != IPCN_OK) {
                ipcn__err("IPCN-GW-PEERS", "peer address %s: expected "
                          "tcp://ADDR:PORT (at most %d peers)", a, GW_MAX_PEERS);
                ipcn__free(a);
                return IPCN_BAD_REQUEST;
            }
            gw->peers[gw->npeers++] = (gw_peer){.addr = a, .next_ns = now,
                                                .backoff_ms = gw->redial_min_ms};
        }
        p = comma ? comma + 1 : NULL;
    }
    return IPCN_OK;
}

static void gw_destroy(ipcn_node *n, ipcn__gw *gw)
{
    if (gw->disc) {
        if (ipcn__disc_fd(gw->disc) >= 0)
            epoll_ctl(n->epfd, EPOLL_CTL_DEL, ipcn__disc_fd(gw->disc), NULL);
        ipcn__disc_free(gw->disc);
    }
    if (gw->listenfd >= 0) {
        epoll_ctl(n->epfd, EPOLL_CTL_DEL, gw->listenfd, NULL);
        close(gw->listenfd);
    }
    for (uint32_t i = 0; i < gw->npeers; i++)
        ipcn__free(gw->peers[i].addr);
    ipcn__free(gw->listen);
    ipcn__free(gw);
}

void ipcn__gw_free(ipcn_node *n)
{
    if (n->gw)
        gw_destroy(n, n->gw);
    n->gw = NULL;
    ipcn__tcp_host_free(n->tcp);
    n->tcp = NULL;
}

/* What opts, the environment and gateway.conf say, in that order. */
static int gw_config(ipcn_node *n, ipcn__gw *gw, ipcn__tcp_host *tcp,
                     const ipcn_gateway_opts *o, const char *cdir,
                     ipcn__gwconf *conf)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/gateway.conf", cdir, n->network);
    int st = ipcn__gwconf_load(path, conf);
    if (st != IPCN_OK && st != IPCN_NOT_FOUND)
        return st;
    const char *listen = o->listen ? o->listen : getenv("IPCNET_LISTEN");
    if (!listen)
        listen = conf->listen ? conf->listen : "";
    const char *peers = o->peers ? o->peers : getenv("IPCNET_PEERS");
    if (!peers)
        peers = conf->peers;
    gw->discovery = o->discovery >= 0 ? o->discovery > 0 : conf->discovery > 0;
    /* The cipher: AESGCM where both hosts can, unless told ChaChaPoly. */
    const char *cipher = getenv("IPCNET_CIPHER");
    tcp->suites = conf->cipher ? conf->cipher
                               : IPCN_NOISE_CHACHAPOLY | IPCN_NOISE_AESGCM;
    if (cipher && *cipher &&
        !(tcp->suites = ipcn__cipher_word(cipher, strlen(cipher)))) {
        ipcn__err("IPCN-GW-CIPHER", "IPCNET_CIPHER=%s: expected auto or "
                  "chachapoly", cipher);
        return IPCN_BAD_REQUEST;
    }
    gw->redial_min_ms = o->redial_min_ms ? o->redial_min_ms : 100;
    gw->redial_max_ms = o->redial_max_ms ? o->redial_max_ms : 5000;
    if (gw->redial_max_ms < gw->redial_min_ms)
        return IPCN_BAD_REQUEST;
    if (!(gw->listen = ipcn__strdup(listen)))
        return IPCN_INSUFFICIENT_MEMORY;
    if (*listen) {
        char host[256];
        uint16_t port;
        if (ipcn__gw_addr_parse(listen, host, sizeof host, &port) != IPCN_OK) {
            ipcn__err("IPCN-GW-LISTEN", "listen address %s: expected "
                      "tcp://ADDR:PORT", listen);
            return IPCN_BAD_REQUEST;
        }
    }
    return add_peers(gw, peers, ipcn__now_mono_ns());
}

/* The host key and the network's trust list, for the TCP links. */
static int host_keys(ipcn_node *n, ipcn__tcp_host *h, const char *cdir)
{
    int st = ipcn__host_key_load(cdir, h->priv, h->pub);
    if (st != IPCN_OK)
        return st;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/trusted", cdir, n->network);
    if (!(h->trust_path = ipcn__strdup(path)))
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn__tcp_trust_refresh(n, h);
    if (!h->trust.count) {
        ipcn__err("IPCN-GW-TRUST", "%s: %s names no host: nothing could link "
                  "(ipcnet trust add KEY --name HOST)", n->name, path);
        return IPCN_NOT_FOUND;
    }
    return IPCN_OK;
}

/* Watch the trust list's folder, so that a key taken off the list closes
 * its links at once (ipcnet trust remove writes the file anew and renames
 * it into place).  Without a watch the list is looked at on each tick. */
static void watch_trust(ipcn_node *n, ipcn__gw *gw)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", n->tcp->trust_path);
    char *slash = strrchr(dir, '/');
    if (!slash || n->inotifyfd < 0)
        return;
    *slash = 0;
    /* Whole writes only: the file closed after writing, or renamed into
     * place (not the moment an editor moves the old one away). */
    gw->trust_wd = inotify_add_watch(n->inotifyfd, dir, IN_MASK_ADD | IN_CLOSE_WRITE |
                                     IN_MOVED_TO | IN_ONLYDIR);
    if (gw->trust_wd < 0)
        ipcn__warn("IPCN-GW-TRUST-WATCH", "%s: cannot watch %s (%s): the trust "
                   "list is looked at every 2 s instead", n->name, dir,
                   strerror(errno));
}

bool ipcn__gw_inotify(ipcn_node *n, int wd, uint32_t mask, const char *name)
{
    if (!n->gw || n->gw->trust_wd < 0 || wd != n->gw->trust_wd)
        return false;
    const char *base = strrchr(n->tcp->trust_path, '/');
    if (!name || strcmp(name, base ? base + 1 : n->tcp->trust_path) != 0)
        return false; /* another file of the folder (the policy's, perhaps) */
    /* The watch may be shared with the policy's, which asks for more. */
    if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
        ipcn__tcp_trust_recheck(n, true);
    return true;
}

IPCN_API int ipcn_node_gateway(ipcn_node *n, const ipcn_gateway_opts *opts)
{
    ipcn_gateway_opts d;
    ipcn_gateway_opts_init(&d);
    if (!n || (opts && opts->size < sizeof d))
        return IPCN_BAD_REQUEST;
    const ipcn_gateway_opts *o = opts ? opts : &d;
    char cdir[4096];
    if (o->config_dir) {
        if (strlen(o->config_dir) >= sizeof cdir)
            return IPCN_BAD_REQUEST;
        strcpy(cdir, o->config_dir);
    } else if (ipcn__config_dir(cdir, sizeof cdir) != IPCN_OK) {
        return IPCN_BAD_REQUEST;
    }
    ipcn__node_lock(n);
    int st = IPCN_METHOD_NOT_ALLOWED;
    ipcn__gw *gw = NULL;
    ipcn__tcp_host *tcp = NULL;
    ipcn__gwconf conf = {0};
    if (n->gw)
        goto out;
    st = IPCN_INSUFFICIENT_MEMORY;
    if (!(gw = ipcn__calloc(1, sizeof *gw)) ||
        !(tcp = ipcn__calloc(1, sizeof *tcp)))
        goto out;
    gw->listenfd = -1;
    gw->trust_wd = -1;
    if ((st = gw_config(n, gw, tcp, o, cdir, &conf)) != IPCN_OK ||
        (st = host_keys(n, tcp, cdir)) != IPCN_OK ||
        (*gw->listen && (st = open_listen(n, gw)) != IPCN_OK))
        goto out;
    n->gw = gw;
    n->tcp = tcp;
    if (gw->discovery && (st = disc_start(n, gw)) != IPCN_OK) {
        n->gw = NULL;
        n->tcp = NULL;
        goto out;
    }
    watch_trust(n, n->gw);
    gw = NULL;
    tcp = NULL;
    /* A gateway routes: its links hear of it and of what it reaches
     * (transport/route_table.c). */
    ipcn__route_enable(n);
    ipcn__node_arm_timer(n, ipcn__now_mono_ns());
    ipcn__node_kick(n);
out:
    ipcn__gwconf_free(&conf);
    if (gw)
        gw_destroy(n, gw);
    ipcn__tcp_host_free(tcp);
    ipcn__node_unlock(n);
    return st;
}

/* SPDX-License-Identifier: MIT */
/*
 * discovery.c — UDP multicast beacons between gateways (discovery.h).
 *
 * Beacon (23 bytes, big-endian):
 *   0  magic "IPCd"   4  version 1   5  fingerprint (16)   21  TCP port
 * The fingerprint is the first 16 bytes of BLAKE2b-512 of the host's
 * public key: enough to recognise a key the trust list names, and nothing
 * a listener could use (the key itself is not sent, though it is not a
 * secret either).  Nothing in a beacon is believed but the wish to be
 * dialled: who answers the dial is proved by the handshake.
 */
#include "node/discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipcnet.h"
#include "util/util.h"

typedef struct disc_host {
    uint8_t key[32];
    uint8_t fp[IPCN_DISC_FP_LEN];
    bool dialled;           /* dialled at least once */
    uint64_t last_dial_ns;
} disc_host;

struct ipcn__disc {
    uint8_t self_fp[IPCN_DISC_FP_LEN];
    uint16_t tcp_port, udp_port;
    struct in_addr group;
    bool one_if;            /* only the interface with address ifaddr */
    struct in_addr ifaddr;
    uint64_t interval_ns, retry_ns;
    int fd;
    uint64_t next_ns;
    disc_host *hosts;
    size_t nhosts;
    ipcn__disc_stats st;
};

void ipcn__disc_fingerprint(const uint8_t key[32], uint8_t fp[IPCN_DISC_FP_LEN])
{
    uint8_t h[crypto_generichash_BYTES_MAX];
    crypto_generichash(h, sizeof h, key, 32, NULL, 0);
    memcpy(fp, h, IPCN_DISC_FP_LEN);
}

void ipcn__disc_beacon_encode(const uint8_t fp[IPCN_DISC_FP_LEN], uint16_t port,
                              uint8_t out[IPCN_DISC_BEACON_LEN])
{
    memcpy(out, IPCN_DISC_MAGIC, 4);
    out[4] = IPCN_DISC_VERSION;
    memcpy(out + 5, fp, IPCN_DISC_FP_LEN);
    out[21] = (uint8_t)(port >> 8);
    out[22] = (uint8_t)port;
}

int ipcn__disc_beacon_parse(const uint8_t *buf, size_t len, uint8_t fp[IPCN_DISC_FP_LEN],
                            uint16_t *port)
{
    if (!buf || len < 5 || memcmp(buf, IPCN_DISC_MAGIC, 4) != 0)
        return IPCN_BAD_REQUEST;
    if (buf[4] != IPCN_DISC_VERSION)
        return IPCN_VERSION_NOT_SUPPORTED;
    if (len != IPCN_DISC_BEACON_LEN)
        return IPCN_BAD_REQUEST;
    uint16_t p = (uint16_t)(buf[21] << 8 | buf[22]);
    if (p == 0)
        return IPCN_BAD_REQUEST;
    memcpy(fp, buf + 5, IPCN_DISC_FP_LEN);
    *port = p;
    return IPCN_OK;
}

int ipcn__disc_cfg_listen(ipcn__disc_cfg *cfg, const char *listen, char *ifbuf, size_t cap)
{
    if (!listen || strncmp(listen, "tcp://", 6) != 0 || cap < INET_ADDRSTRLEN)
        return IPCN_BAD_REQUEST;
    const char *host = listen + 6, *colon = strrchr(host, ':');
    if (!colon || colon == host || colon[1] == 0 || strlen(colon + 1) > 5 ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return IPCN_BAD_REQUEST;
    unsigned long port = strtoul(colon + 1, NULL, 10);
    if (port == 0 || port > 65535)
        return IPCN_BAD_REQUEST;
    size_t hlen = (size_t)(colon - host);
    char h[256];
    if (hlen >= sizeof h)
        return IPCN_BAD_REQUEST;
    memcpy(h, host, hlen);
    h[hlen] = 0;
    struct in_addr a;
    cfg->tcp_port = (uint16_t)port;
    cfg->ifaddr = NULL;
    if (inet_pton(AF_INET, h, &a) == 1 && a.s_addr != htonl(INADDR_ANY)) {
        snprintf(ifbuf, cap, "%s", h);
        cfg->ifaddr = ifbuf;
    }
    return IPCN_OK;
}

int ipcn__disc_new(const ipcn__disc_cfg *cfg, ipcn__disc **out)
{
    struct in_addr group, ifaddr = {0};
    const char *g = cfg->group ? cfg->group : IPCN_DISC_GROUP;
    if (inet_pton(AF_INET, g, &group) != 1 || !IN_MULTICAST(ntohl(group.s_addr)))
        return IPCN_BAD_REQUEST;
    bool one_if = cfg->ifaddr && cfg->ifaddr[0];
    if (one_if && inet_pton(AF_INET, cfg->ifaddr, &ifaddr) != 1)
        return IPCN_BAD_REQUEST;
    ipcn__disc *d = ipcn__calloc(1, sizeof *d);
    if (!d)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn__disc_fingerprint(cfg->self_key, d->self_fp);
    d->tcp_port = cfg->tcp_port;
    d->udp_port = cfg->udp_port ? cfg->udp_port : IPCN_DISC_PORT;
    d->group = group;
    d->one_if = one_if;
    d->ifaddr = ifaddr;
    d->interval_ns = (uint64_t)(cfg->interval_ms ? cfg->interval_ms
                                                 : IPCN_DISC_INTERVAL_MS) * 1000000ull;
    d->retry_ns = (uint64_t)(cfg->retry_ms ? cfg->retry_ms : IPCN_DISC_RETRY_MS) * 1000000ull;
    d->fd = -1;
    *out = d;
    return IPCN_OK;
}

int ipcn__disc_fd(const ipcn__disc *d)
{
    return d ? d->fd : -1;
}

int ipcn__disc_trust(ipcn__disc *d, const uint8_t (*keys)[32], size_t n)
{
    if (n > IPCN_DISC_MAX_HOSTS)
        n = IPCN_DISC_MAX_HOSTS;
    disc_host *hosts = n ? ipcn__calloc(n, sizeof *hosts) : NULL;
    if (n && !hosts)
        return IPCN_INSUFFICIENT_MEMORY;
    for (size_t i = 0; i < n; i++) {
        memcpy(hosts[i].key, keys[i], 32);
        ipcn__disc_fingerprint(keys[i], hosts[i].fp);
        /* A host trusted before keeps its dial time (no dial storm on a
         * reload). */
        for (size_t j = 0; j < d->nhosts; j++)
            if (!memcmp(d->hosts[j].key, keys[i], 32)) {
                hosts[i].dialled = d->hosts[j].dialled;
                hosts[i].last_dial_ns = d->hosts[j].last_dial_ns;
            }
    }
    ipcn__free(d->hosts);
    d->hosts = hosts;
    d->nhosts = n;
    return IPCN_OK;
}

static disc_host *find_host(ipcn__disc *d, const uint8_t fp[IPCN_DISC_FP_LEN])
{
    for (size_t i = 0; i < d->nhosts; i++)
        if (!memcmp(d->hosts[i].fp, fp, IPCN_DISC_FP_LEN))
            return &d->hosts[i];
    return NULL;
}

bool ipcn__disc_heard(ipcn__disc *d, uint64_t now_ns, const struct sockaddr_in *src,
                      const uint8_t *buf, size_t len, ipcn__disc_linked_fn linked,
                      void *ctx, uint8_t key_out[32], char *addr, size_t cap)
{
    d->st.heard++;
    uint8_t fp[IPCN_DISC_FP_LEN];
    uint16_t port;
    int st = ipcn__disc_beacon_parse(buf, len, fp, &port);
    if (st == IPCN_VERSION_NOT_SUPPORTED) {
        d->st.other_version++;
        return false;
    }
    uint32_t a = ntohl(src->sin_addr.s_addr);
    if (st != IPCN_OK || src->sin_family != AF_INET || a == 0 || IN_MULTICAST(a) ||
        a == INADDR_BROADCAST) {
        d->st.malformed++;
        return false;
    }
    if (!memcmp(fp, d->self_fp, IPCN_DISC_FP_LEN)) {
        d->st.own++;
        return false;
    }
    disc_host *h = find_host(d, fp);
    if (!h) {
        d->st.untrusted++;
        return false;
    }
    if (linked && linked(ctx, h->key)) {
        d->st.linked++;
        return false;
    }
    if (h->dialled && now_ns - h->last_dial_ns < d->retry_ns) {
        d->st.held++;
        return false;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &src->sin_addr, ip, sizeof ip);
    int w = snprintf(addr, cap, "tcp://%s:%u", ip, (unsigned)port);
    if (w < 0 || (size_t)w >= cap) {
        d->st.malformed++;
        return false;
    }
    h->dialled = true;
    h->last_dial_ns = now_ns;
    memcpy(key_out, h->key, 32);
    d->st.dials++;
    return true;
}

/* ---- the socket ---- */

/* Call fn for each IPv4 interface beacons go out of and come in on. */
static void each_if(ipcn__disc *d, void (*fn)(ipcn__disc *d, unsigned idx,
                                              struct in_addr a))
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if (d->one_if ? a.s_addr != d->ifaddr.s_addr
                      : (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_MULTICAST))
            continue;
        if (!(i->ifa_flags & IFF_UP))
            continue;
        unsigned idx = if_nametoindex(i->ifa_name);
        if (idx)
            fn(d, idx, a);
    }
    freeifaddrs(ifs);
}

static void join_one(ipcn__disc *d, unsigned idx, struct in_addr a)
{
    (void)a;
    struct ip_mreqn m = {.imr_multiaddr = d->group, .imr_ifindex = (int)idx};
    if (setsockopt(d->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0 &&
        errno != EADDRINUSE)
        ipcn__debug("IPCN-DISC-JOIN", "discovery: cannot join the group on interface %u: %s",
                    idx, strerror(errno));
}

static void send_one(ipcn__disc *d, unsigned idx, struct in_addr a)
{
    struct ip_mreqn m = {.imr_address = a, .imr_ifindex = (int)idx};
    if (setsockopt(d->fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) < 0)
        return;
    uint8_t b[IPCN_DISC_BEACON_LEN];
    ipcn__disc_beacon_encode(d->self_fp, d->tcp_port, b);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(d->udp_port),
                             .sin_addr = d->group};
    if (sendto(d->fd, b, sizeof b, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to,
               sizeof to) == (ssize_t)sizeof b)
        d->st.sent++;
}

int ipcn__disc_open(ipcn__disc *d)
{
    if (d->fd >= 0)
        return IPCN_OK;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, zero = 0, ttl = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d->udp_port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 ||
        /* Only the groups this socket joined, not every socket's. */
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        ipcn__err("IPCN-DISC-SOCKET", "discovery: cannot open UDP port %u: %s",
                  (unsigned)d->udp_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return IPCN_INTERNAL_ERROR;
    }
    d->fd = fd;
    each_if(d, join_one);
    d->next_ns = 0; /* the first beacon at the first tick */
    return IPCN_OK;
}

int ipcn__disc_on_readable(ipcn__disc *d, uint64_t now_ns, ipcn__disc_linked_fn linked,
                           ipcn__disc_dial_fn dial, void *ctx)
{
    int dials = 0;
    for (int i = 0; d->fd >= 0 && i < IPCN_DISC_READ_MAX; i++) {
        uint8_t buf[64];
        struct sockaddr_in src = {0};
        socklen_t sl = sizeof src;
        ssize_t r = recvfrom(d->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
                             (struct sockaddr *)&src, &sl);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break; /* EAGAIN: all read */
        }
        if (sl != sizeof src)
            src.sin_family = AF_UNSPEC;
        /* MSG_TRUNC: r is the datagram's true length; one longer than
         * buf is no beacon, and buf's length says so as well. */
        size_t len = (size_t)r < sizeof buf ? (size_t)r : sizeof buf;
        uint8_t key[32];
        char addr[64];
        if (ipcn__disc_heard(d, now_ns, &src, buf, len, linked, ctx, key, addr,
                             sizeof addr)) {
            ipcn__info("IPCN-DISC-DIAL", "discovery: a trusted host beacons from %s: dialling",
                       addr);
            dial(ctx, key, addr);
            dials++;
        }
    }
    return dials;
}

uint64_t ipcn__disc_next_ns(const ipcn__disc *d)
{
    if (!d || d->fd < 0 || !d->tcp_port)
        return UINT64_MAX;
    return d->next_ns;
}

void ipcn__disc_tick(ipcn__disc *d, uint64_t now_ns)
{
    if (!d || d->fd < 0 || !d->tcp_port || now_ns < d->next_ns)
        return;
    each_if(d, join_one);
    each_if(d, send_one);
    d->next_ns = now_ns + d->interval_ns;
}

void ipcn__disc_get_stats(const ipcn__disc *d, ipcn__disc_stats *out)
{
    *out = d->st;
}

void ipcn__disc_free(ipcn__disc *d)
{
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd);
    ipcn__free(d->hosts);
    ipcn__free(d);
}

/* SPDX-License-Identifier: MIT */
/*
 * discovery.h — gateways finding each other on a local network segment:
 * UDP multicast beacons, off by default (ipcn_gateway_opts.discovery,
 * gateway.conf "discovery = on").  docs/protocol.md "Discovery".
 *
 * A beacon says only "a gateway whose host key has this fingerprint
 * listens on this TCP port" (23 bytes: magic, version, fingerprint, port);
 * the address is the beacon's source.  A gateway that hears the beacon of
 * a host its trust list names, and has no link to that key, dials the
 * source address at that port: once, and not again for retry_ms while no
 * link comes of it.  A beacon is not trusted for anything else: the Noise
 * handshake proves who answers (a forged beacon costs at most one TCP
 * connection per trusted host per retry_ms, which the handshake then
 * refuses).
 *
 * The gateway (gateway.c) owns the socket's place in the loop:
 *
 *   open:     ipcn__disc_new(&cfg, &d); ipcn__disc_open(d);
 *             ipcn__disc_trust(d, keys, nkeys);
 *             watch ipcn__disc_fd(d) for reading in the node's epoll set
 *   readable: ipcn__disc_on_readable(d, now, linked, dial, ctx)
 *   timer:    ipcn__disc_tick(d, now) when now >= ipcn__disc_next_ns(d)
 *   trust:    ipcn__disc_trust() again when the trust list is reloaded
 *   close:    ipcn__disc_free(d)
 *
 * Everything but ipcn__disc_open/tick/on_readable is free of I/O (the
 * unit tests drive ipcn__disc_heard() with datagrams of their own).
 * Locking: the node's lock is held on every call (no state is shared).
 */
#ifndef IPCN_DISCOVERY_H
#define IPCN_DISCOVERY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPCN_DISC_MAGIC "IPCd"       /* 4 bytes */
#define IPCN_DISC_VERSION 1
#define IPCN_DISC_FP_LEN 16          /* the first 16 bytes of BLAKE2b-512 */
#define IPCN_DISC_BEACON_LEN 23      /* 4 + 1 + 16 + 2 */
#define IPCN_DISC_GROUP "239.255.74.47"
#define IPCN_DISC_PORT 7447          /* UDP */
#define IPCN_DISC_INTERVAL_MS 2000   /* a beacon every ... */
#define IPCN_DISC_RETRY_MS 30000     /* a trusted host not linked: dial again no sooner */
#define IPCN_DISC_MAX_HOSTS 256      /* trusted keys watched for */
#define IPCN_DISC_READ_MAX 64        /* datagrams read per readable event */

/* The fingerprint of a host's public key (X25519, 32 bytes). */
void ipcn__disc_fingerprint(const uint8_t key[32], uint8_t fp[IPCN_DISC_FP_LEN]);

/* A beacon: out gets IPCN_DISC_BEACON_LEN bytes. */
void ipcn__disc_beacon_encode(const uint8_t fp[IPCN_DISC_FP_LEN], uint16_t port,
                              uint8_t out[IPCN_DISC_BEACON_LEN]);
/* Read a datagram of len bytes as a beacon: 100 and fp, port filled; 200
 * when it is not one (wrong magic or length, port 0); 305 for a beacon of
 * another version (ignored, counted apart). */
int ipcn__disc_beacon_parse(const uint8_t *buf, size_t len, uint8_t fp[IPCN_DISC_FP_LEN],
                            uint16_t *port);

typedef struct ipcn__disc_cfg {
    uint8_t self_key[32];   /* this host's public key: its beacons ignored */
    uint16_t tcp_port;      /* the port told (0: do not beacon, only hear) */
    const char *group;      /* NULL: IPCN_DISC_GROUP (an IPv4 multicast address) */
    uint16_t udp_port;      /* 0: IPCN_DISC_PORT */
    const char *ifaddr;     /* NULL or "": every IPv4 interface that is up,
                               multicast and not loopback; else only the
                               one with this address (a listen address) */
    uint32_t interval_ms;   /* 0: IPCN_DISC_INTERVAL_MS */
    uint32_t retry_ms;      /* 0: IPCN_DISC_RETRY_MS */
} ipcn__disc_cfg;

typedef struct ipcn__disc_stats {
    uint64_t sent;          /* beacons sent (one per interface) */
    uint64_t heard;         /* datagrams read */
    uint64_t malformed;     /* ... that were no beacon (200) */
    uint64_t other_version; /* ... beacons of another version (305) */
    uint64_t own;           /* ... our own (looped back, or a second
                               gateway of this host) */
    uint64_t untrusted;     /* ... of a host the trust list does not name */
    uint64_t linked;        /* ... of a host linked already */
    uint64_t held;          /* ... of a host dialled less than retry_ms ago */
    uint64_t dials;         /* dials asked of the gateway */
} ipcn__disc_stats;

typedef struct ipcn__disc ipcn__disc;

/* From the gateway's listen address ("tcp://A:P", "tcp://[V6]:P",
 * "tcp://name:P"): the port to tell, and, when A is one IPv4 address other
 * than 0.0.0.0, that address as cfg->ifaddr (beacons then go out of its
 * interface only), in ifbuf (cap >= 16) which must outlive cfg's use.
 * 100; 200 when listen is not of that form. */
int ipcn__disc_cfg_listen(ipcn__disc_cfg *cfg, const char *listen, char *ifbuf, size_t cap);

/* What to do, no socket yet.  100; 200 for a bad group or ifaddr; 307. */
int ipcn__disc_new(const ipcn__disc_cfg *cfg, ipcn__disc **out);
/* Open the socket (UDP, non-blocking, bound to the port on any address,
 * SO_REUSEADDR, multicast TTL 1, the group joined on the interfaces).
 * 100; 300 when the socket cannot be made or bound (logged). */
int ipcn__disc_open(ipcn__disc *d);
/* Its fd (-1 before ipcn__disc_open). */
int ipcn__disc_fd(const ipcn__disc *d);
/* The hosts to look for: their public keys (replaces the last list;
 * beyond IPCN_DISC_MAX_HOSTS ignored).  100 or 307. */
int ipcn__disc_trust(ipcn__disc *d, const uint8_t (*keys)[32], size_t n);

/* Is a TCP link to the host with this key up, or being made?  The gateway
 * answers (ctx: its own). */
typedef bool (*ipcn__disc_linked_fn)(void *ctx, const uint8_t key[32]);
/* Dial addr ("tcp://A.B.C.D:P") once, expecting the host with key. */
typedef void (*ipcn__disc_dial_fn)(void *ctx, const uint8_t key[32], const char *addr);

/* One datagram of len bytes from src, decided (no I/O): true when the
 * gateway should dial; then *key_out and addr (cap >= 32) say what. */
bool ipcn__disc_heard(ipcn__disc *d, uint64_t now_ns, const struct sockaddr_in *src,
                      const uint8_t *buf, size_t len, ipcn__disc_linked_fn linked,
                      void *ctx, uint8_t key_out[32], char *addr, size_t cap);
/* Read what waits on the socket (at most IPCN_DISC_READ_MAX datagrams),
 * each through ipcn__disc_heard(); dial for each that says so.  Returns
 * the dials asked. */
int ipcn__disc_on_readable(ipcn__disc *d, uint64_t now_ns, ipcn__disc_linked_fn linked,
                           ipcn__disc_dial_fn dial, void *ctx);
/* When the next beacon is due (CLOCK_MONOTONIC ns; UINT64_MAX: never). */
uint64_t ipcn__disc_next_ns(const ipcn__disc *d);
/* Send a beacon on each interface when one is due (and join the group on
 * interfaces that came up since). */
void ipcn__disc_tick(ipcn__disc *d, uint64_t now_ns);
void ipcn__disc_get_stats(const ipcn__disc *d, ipcn__disc_stats *out);
void ipcn__disc_free(ipcn__disc *d);

#endif

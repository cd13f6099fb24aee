/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_hosts.h — several computers: host keys and the list of hosts a
 * network trusts, gateways that link hosts over TCP with Noise
 * (Noise_XX_25519_ChaChaPoly_BLAKE2b), and the links and routes a node
 * has.  docs/protocol.md "Several hosts"; the README's "Several
 * computers".
 *
 *   on each host, once:   ipcnet keygen              (prints the key)
 *                         ipcnet trust add KEY --name gpu-board
 *   on each host:         IPCNET_LISTEN=tcp://0.0.0.0:7447 \
 *                         IPCNET_PEERS=tcp://10.0.0.2:7447 ipcnet gateway
 *
 * One gateway per host (or two, for redundancy): the gateway node holds
 * the host key and the TCP links, and routes; the other nodes of the host
 * reach every node of the other hosts through it, as if linked, with the
 * same verbs, the same checks and the same statuses.  Why one per host
 * and not every node: one port and one key per host to configure and
 * trust, one encrypted TCP connection per pair of hosts instead of one
 * per pair of nodes, and the local nodes keep their shared-memory links.
 * A gateway is a node like any other (no daemon is required on a host
 * that talks only to itself); with two gateways per host, routes go
 * around the one that fails.
 *
 * Names.  A node of another host is named "name@host" here (in
 * ipcn_resource.provider, ipcn_peer, events, the CLI), where host is the
 * name this host's trust list gives the other host's key (for a host
 * further away, the name the routers on the way gave it).  Its principal
 * for the policy is "host:user" (see docs/policy.md).
 *
 * Threading: as ipcnet.h (any thread; the node's lock is taken inside).
 * Ownership: what a call returns through a pointer is the caller's, freed
 * with the matching _free().  Statuses: each function lists its own.
 */
#ifndef IPCNET_HOSTS_H
#define IPCNET_HOSTS_H

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A public key as text: standard base64 of 32 bytes, with '='.
 *  Since: 0.3 */
#define IPCN_KEY_TEXT_LEN 44
#define IPCN_HOST_NAME_MAX 63

/**
 * ipcn_config_dir() - where host keys and the networks' host settings
 * live: $IPCNET_CONFIG_DIR when set; else /etc/ipcnet for root; else
 * $XDG_CONFIG_HOME/ipcnet, or $HOME/.config/ipcnet.  Written to buf (cap
 * bytes).  100, 200 when it does not fit or no home is known.
 * Since: 0.3
 */
IPCN_API int ipcn_config_dir(char *buf, size_t cap);

/**
 * ipcn_host_key() - this host's public key (base64, NUL-terminated, into
 * pub), read from config_dir/host.key (NULL: ipcn_config_dir()); when
 * there is none and create is non-zero, a new X25519 key pair is made
 * (libsodium) and written there, mode 0600, in a directory of mode 0700
 * (made when missing), with config_dir/host.pub (mode 0644, the public
 * key and a newline).  host.key is one line: the private key in base64.
 * Processes making the key at once end with one key.  100; 101 when it
 * was created now; 203 when there is none and create is 0; 202 when the
 * file is readable or writable by others than its owner, or not ours
 * (refused, like ssh); 200 for a malformed file, a file that is not a
 * regular one, or no config directory; 300 for a file error (a symbolic
 * link is one).
 * Since: 0.3
 */
IPCN_API int ipcn_host_key(const char *config_dir, int create,
                           char pub[IPCN_KEY_TEXT_LEN + 1]);

/** A host a network trusts.  Since: 0.3 */
typedef struct ipcn_trusted {
    char name[IPCN_HOST_NAME_MAX + 1]; /**< the host's name here */
    char key[IPCN_KEY_TEXT_LEN + 1];   /**< its public key (base64) */
} ipcn_trusted;

/**
 * ipcn_trust_add() - trust key as host name on network (NULL: as
 * ipcn_node_open() picks it), in config_dir/<network>/trusted (NULL:
 * ipcn_config_dir()): one line per host, "NAME KEY", '#' comments and
 * blank lines allowed (kept when the list is changed; the file is
 * replaced at once, its mode kept, 0644 for a new one).  A name is a node
 * name (ipcn_node_open()) of at most IPCN_HOST_NAME_MAX characters; a key
 * is 44 characters of base64 (canonical, as ipcn_host_key() gives it).
 * 100 when it is there already, as asked; 101 when added; 200 for a bad
 * name, key or network, or a malformed list (left as it is); 207 when the
 * name or the key is there already with another partner; 300 for a file
 * error.
 * Since: 0.3
 */
IPCN_API int ipcn_trust_add(const char *config_dir, const char *network,
                            const char *key, const char *name);
/** ipcn_trust_remove() - remove the host named, or with this key (its
 *  line; the others and the comments stay): 100, 203 when there is none,
 *  200 for a malformed list or a bad network, 300.  Since: 0.3 */
IPCN_API int ipcn_trust_remove(const char *config_dir, const char *network,
                               const char *name_or_key);
/** ipcn_trust_list() - the hosts network trusts, in file order (*count
 *  may be 0: no list yet is an empty one); *out is freed with
 *  ipcn_trust_list_free().  100, 200 for a malformed file (the line is
 *  named in the log) or a bad network, 300, 307.  Since: 0.3 */
IPCN_API int ipcn_trust_list(const char *config_dir, const char *network,
                             ipcn_trusted **out, size_t *count);
IPCN_API void ipcn_trust_list_free(ipcn_trusted *list);

/** What a gateway does; a sized struct (ipcn_gateway_opts_init()).
 *  Since: 0.3 */
typedef struct ipcn_gateway_opts {
    uint32_t size;
    const char *listen;      /**< "tcp://ADDR:PORT" (ADDR an IPv4 address,
                                  [IPv6] or a name); NULL: $IPCNET_LISTEN,
                                  else the network's gateway.conf; "" none */
    const char *peers;       /**< "tcp://A:P,tcp://B:P": dialled and kept
                                  dialled; NULL: $IPCNET_PEERS, else
                                  gateway.conf */
    const char *config_dir;  /**< NULL: ipcn_config_dir() */
    int discovery;           /**< UDP multicast beacons on the local
                                  segment: 1 on, 0 off, -1 gateway.conf's
                                  (default off).  On, the gateway beacons
                                  its port and dials the trusted hosts it
                                  hears (protocol 19.3); 300 when the UDP
                                  socket cannot be opened */
    uint32_t redial_min_ms;  /**< back-off of a peer that does not answer:
                                  from this (default 100) ... */
    uint32_t redial_max_ms;  /**< ... doubling up to this (default 5000) */
} ipcn_gateway_opts;

/** ipcn_gateway_opts_init() - defaults.  Since: 0.3 */
IPCN_API void ipcn_gateway_opts_init(ipcn_gateway_opts *opts);

/**
 * ipcn_node_gateway() - make node a gateway: load (or create) the host
 * key, the network's trust list, listen and dial as opts say, and route
 * between its links.  Peers whose key the trust list does not name get
 * 309 and are closed; the list is read again when its file changes.
 * Peers are dialled at once, then again whenever their link is down,
 * after redial_min_ms doubling to redial_max_ms (reset once linked); two
 * gateways may dial each other (one of the two links is kept).  The node
 * must be dispatched (or run its thread) for any of this to happen.
 * 100; 200 for a bad address or option, a malformed host.key or
 * gateway.conf; 202 when host.key is readable by others than its owner
 * or not ours; 203 when the network trusts no host (an empty or missing
 * list: nothing could link); 204 when node is a gateway already; 300
 * when the address cannot be bound or resolved (logged with the
 * reason); 307.  docs/protocol.md 19.1.2.
 * Since: 0.3
 */
IPCN_API int ipcn_node_gateway(ipcn_node *node, const ipcn_gateway_opts *opts);

/** Kinds of link.  Since: 0.3 */
#define IPCN_LINK_UNIX 0   /**< a Unix socket on this host */
#define IPCN_LINK_TCP 1    /**< TCP with Noise, to another host's gateway */
#define IPCN_LINK_ROUTED 2 /**< a node reached through routers */

/** One link of a node; a sized struct.  Since: 0.3 */
typedef struct ipcn_link_info {
    uint32_t size;
    uint32_t kind;           /**< IPCN_LINK_* */
    const char *peer;        /**< the peer's name ("name@host" for another
                                  host's node) */
    const char *host;        /**< its host ("" for this host) */
    const char *addr;        /**< TCP: "tcp://A:P"; else "" */
    char key[IPCN_KEY_TEXT_LEN + 1]; /**< TCP: the peer host's key; else "" */
    const char *via;         /**< ROUTED: the next hop's name; else "" */
    uint32_t hops;           /**< routers on the way (0: linked) */
    uint64_t rtt_ns;         /**< the last ping's round trip (0: none yet) */
    uint64_t bytes_in, bytes_out, frames_in, frames_out;
    uint64_t drops;          /**< samples dropped at this node for it */
    uint64_t auth_failures;  /**< TCP: messages that did not authenticate */
    uint64_t loops;          /**< frames it brought back to a router they
                                  passed, or out of hops: dropped (308) */
    char cipher[16];         /**< TCP: the cipher of its Noise session,
                                  "AESGCM" or "ChaChaPoly"; else "".
                                  Since: 0.3 (issue 18, second pass) */
} ipcn_link_info;

/**
 * ipcn_links() - the node's links that are up, sorted by kind then peer:
 * *out an array of *count (0: none), the strings in it the array's, all
 * freed by ipcn_links_free().  rtt_ns is the round trip of the node's last
 * PING on the link that was answered (each link is pinged when it comes
 * up, then as liveness asks: src/node/loop.c).  The same list, as CBOR,
 * is the node service "links" (ipcnet.h, "Node services"), which is how
 * `ipcnet links` shows a gateway's TCP links.  100; 200 for a NULL
 * argument; 307.  Since: 0.3
 */
IPCN_API int ipcn_links(ipcn_node *node, ipcn_link_info **out,
                        size_t *count);
IPCN_API void ipcn_links_free(ipcn_link_info *links, size_t count);

/**
 * ipcn_route() - the way a request to the provider named (a node name as
 * ipcn_resource.provider gives it) takes from node: the names of the
 * routers in order, nearest first, then the provider (one name: linked;
 * node's own name: itself, that name alone).  *hops is one block (the
 * array and its strings), freed by ipcn_route_free().  100; 200 for a
 * NULL argument; 203 when no way to it is known; 307.  Since: 0.3
 */
IPCN_API int ipcn_route(ipcn_node *node, const char *provider, char ***hops,
                        size_t *count);
IPCN_API void ipcn_route_free(char **hops, size_t count);

#ifdef __cplusplus
}
#endif

#endif

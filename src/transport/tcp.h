/* SPDX-License-Identifier: MIT */
/*
 * tcp.h — what the TCP links of a host share (several hosts): the host
 * key, the network's trust list (read again when the file changes), the
 * sockets of closed links that linger so that their last words arrive,
 * and the files they come from (keys.c: the host key, the trust list,
 * gateway.conf; every reader bounded).  A gateway (node/gateway.c) makes
 * the state and owns it; the links (link_tcp.c) read it.
 *
 * Locking: the node's lock is held on every call.
 */
#ifndef IPCN_TCP_H
#define IPCN_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet_hosts.h"
#include "transport/keys.h"
#include "transport/link.h"

/* The host key, the trust list and gateway.conf: transport/keys.h. */

/* ---- link_tcp.c: the host's TCP state ---- */

#define IPCN_TCP_LINGER_MAX 16
#define IPCN_TCP_LOST_MAX 8

typedef struct ipcn__tcp_host {
    uint8_t priv[32], pub[32];
    unsigned suites;         /* the Noise suites links may use (IPCN_NOISE_*):
                                gateway.conf's cipher, IPCNET_CIPHER */
    ipcn__trust_list trust;
    char *trust_path;
    bool trust_present;
    uint64_t trust_stamp[4]; /* the version read: inode, size, mtime */
    uint64_t trust_gen;      /* bumped by every reading of the list */
    uint64_t swept_gen;      /* the reading the live links were checked at */
    struct {
        int fd;
        uint64_t until_ns;
    } linger[IPCN_TCP_LINGER_MAX];
    uint32_t nlinger;
    /* Links dialled by the gateway and closed because another link to the
     * same host was kept: the gateway learns that host's key from them
     * (it then does not dial that address while the other link lives). */
    struct {
        uint32_t link_id;
        uint8_t key[32];
    } lost[IPCN_TCP_LOST_MAX];
    uint32_t nlost;
} ipcn__tcp_host;

/* Read the trust list again if its file changed. */
void ipcn__tcp_trust_refresh(ipcn_node *n, ipcn__tcp_host *h);
/* The trust list's file changed (or may have): read it again (always,
 * when force), and if it was read anew since the live links were last
 * checked (by this call or any other reader, e.g. a handshake's), close
 * every TCP link whose host key it no longer names, with an ERROR 309
 * (counted in unauthorized), as a new link with that key would be.  A
 * list whose file is gone closes nothing (an editor may be replacing
 * it); new links are refused meanwhile. */
void ipcn__tcp_trust_recheck(ipcn_node *n, bool force);
/* Lingering sockets: read and drop what comes; close those done or
 * past their time.  Returns when to look again (0: none left). */
uint64_t ipcn__tcp_linger_pass(ipcn__tcp_host *h, uint64_t now);
/* Close them all and free the state. */
void ipcn__tcp_host_free(ipcn__tcp_host *h);

#endif

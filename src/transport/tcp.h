/* SPDX-License-Identifier: MIT */
/*
 * tcp.h — what the TCP links of a host share (several hosts): the host
 * key, the network's trust list (read again when the file changes), the
 * sockets of closed links that linger so that their last words arrive,
 * and the files they come from (tcp_keys.c: the host key, the trust list,
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
#include "transport/link.h"

/* ---- tcp_keys.c ---- */

/* The network's trust list: "NAME KEY" lines, '#' comments, blank lines. */
typedef struct ipcn__trust_list {
    ipcn_trusted *hosts;
    uint8_t (*keys)[32];
    size_t count;
} ipcn__trust_list;
/* 100; 203 when there is no file; 200 for a malformed one (the line is
 * logged); 300; 307. */
int ipcn__trust_load(const char *path, ipcn__trust_list *t);
int ipcn__trust_parse(const char *text, size_t len, ipcn__trust_list *t);
void ipcn__trust_free(ipcn__trust_list *t);
/* The name the list gives key, or NULL. */
const char *ipcn__trust_name(const ipcn__trust_list *t, const uint8_t key[32]);

/* gateway.conf: "key = value" lines (listen, peers, discovery). */
typedef struct ipcn__gwconf {
    char *listen, *peers;
    int discovery;          /* 1 on, 0 off, -1 not said */
} ipcn__gwconf;
/* 100; 203 when there is no file; 200 for a malformed one; 300; 307. */
int ipcn__gwconf_load(const char *path, ipcn__gwconf *c);
int ipcn__gwconf_parse(const char *text, size_t len, ipcn__gwconf *c);
void ipcn__gwconf_free(ipcn__gwconf *c);

/* The host's key pair from dir/host.key (made, with host.pub, when there
 * is none): 100; 202 when the file is readable by others or not ours;
 * 200 malformed; 300. */
int ipcn__host_key_load(const char *dir, uint8_t priv[32], uint8_t pub[32]);
/* As ipcn_config_dir(). */
int ipcn__config_dir(char *buf, size_t cap);

/* ---- link_tcp.c: the host's TCP state ---- */

#define IPCN_TCP_LINGER_MAX 16
#define IPCN_TCP_LOST_MAX 8

typedef struct ipcn__tcp_host {
    uint8_t priv[32], pub[32];
    ipcn__trust_list trust;
    char *trust_path;
    bool trust_present;
    uint64_t trust_stamp[4]; /* the version read: inode, size, mtime */
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
/* Lingering sockets: read and drop what comes; close those done or
 * past their time.  Returns when to look again (0: none left). */
uint64_t ipcn__tcp_linger_pass(ipcn__tcp_host *h, uint64_t now);
/* Close them all and free the state. */
void ipcn__tcp_host_free(ipcn__tcp_host *h);

#endif

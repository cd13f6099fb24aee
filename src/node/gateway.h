/* SPDX-License-Identifier: MIT */
/*
 * gateway.h — the gateway's own helpers (gateway.c), for its tests.
 */
#ifndef IPCN_GATEWAY_H
#define IPCN_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

/* "tcp://A.B.C.D:P", "tcp://[IPv6]:P" or "tcp://name:P": the host part
 * (without brackets) into host (cap bytes) and the port (1..65535).
 * 100 or 200. */
int ipcn__gw_addr_parse(const char *text, char *host, size_t cap,
                        uint16_t *port);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * route.h — the route stage (route.c): for this node, or to forward.
 */
#ifndef IPCN_ROUTE_H
#define IPCN_ROUTE_H

#include "ipcnet.h"
#include "transport/link.h"
#include "wire/wire.h"

/* Check the hop and address fields of a frame received on l: IPCN_OK when
 * it is for this node; else the status to refuse the link with, and *why.
 * Before the hello (l not UP) only the hops are checked. */
int ipcn__route_check(const ipcn_node *n, const ipcn__link *l,
                      const ipcn__hdr *h, const char **why);

#endif

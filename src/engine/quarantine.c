/* SPDX-License-Identifier: MIT */
/*
 * quarantine.c — the engine's side of reputation (transport/reputation.c
 * keeps the scores and decides): the application's event when a peer is
 * quarantined, banned or lifted.
 */
#include <stdio.h>

#include "engine/engine.h"
#include "transport/reputation.h"

void ipcn__quarantine_on_rep(ipcn_node *n, ipcn__rep *r, int status)
{
    char who[IPCN_NAME_MAX + 48];
    ipcn__rep_subject(r, who, sizeof who);
    ipcn__queue_event_of(n, IPCN_EV_QUARANTINE, who, 0,
                         r->detail[0] ? r->detail : NULL, IPCN_ANY, status);
}

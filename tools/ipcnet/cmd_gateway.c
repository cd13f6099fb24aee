/* SPDX-License-Identifier: MIT */
/*
 * cmd_gateway.c — `ipcnet gateway`: a node that links this host to the
 * gateways of others (ipcn_node_gateway()), running until Ctrl-C or
 * SIGTERM.
 */
#include <stdio.h>

#include "cli.h"
#include "ipcnet_hosts.h"

const char cmd_gateway_help[] =
    "usage: ipcnet gateway [--listen tcp://ADDR:PORT] [--peers tcp://A:P,...]\n"
    "                      [options]\n\n"
    "Link this host to other hosts: join the network as a gateway node (named\n"
    "'gateway' unless --name says otherwise), listen for the gateways of other\n"
    "hosts and dial the peers given, again and again while they do not answer\n"
    "(every 100 ms, doubling up to 5 s).  Every TCP link is encrypted and\n"
    "authenticated (Noise XX): a host whose key is not in the network's trust\n"
    "list (ipcnet trust add) gets 309 and is closed.  The other nodes of this\n"
    "host reach the nodes of the others through it.  Runs until Ctrl-C or\n"
    "SIGTERM; prints a line per link that comes up or goes.\n\n"
    "  --listen ADDR   tcp://A.B.C.D:P, tcp://[IPv6]:P or tcp://name:P\n"
    "                  (default: $IPCNET_LISTEN, else the network's\n"
    "                  gateway.conf 'listen'; none: only dial)\n"
    "  --peers LIST    addresses to dial, comma separated (default:\n"
    "                  $IPCNET_PEERS, else gateway.conf 'peers')\n"
    "Host key and trust list: in $IPCNET_CONFIG_DIR (else /etc/ipcnet for\n"
    "root, else ~/.config/ipcnet): host.key, NETWORK/trusted, NETWORK/gateway.conf.\n";

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n, (void)user;
    if (ev->type == IPCN_EV_PEER_UP)
        out("up %s\n", ev->peer);
    else if (ev->type == IPCN_EV_PEER_DOWN)
        out("down %s %d %s\n", ev->peer, ev->status, ipcn_status_str(ev->status));
    else
        return;
    out_flush();
}

int cmd_gateway(cli *c)
{
    if (!c->name)
        c->name = "gateway";
    int rc = cli_open(c);
    if (rc)
        return rc;
    ipcn_gateway_opts g;
    ipcn_gateway_opts_init(&g);
    g.listen = c->listen;
    g.peers = c->peers;
    int st = ipcn_node_gateway(c->node, &g);
    if (st != IPCN_OK) {
        const char *why = st == IPCN_NOT_FOUND
                              ? ": the network trusts no host (ipcnet trust add KEY --name HOST)"
                          : st == IPCN_BAD_REQUEST ? ": a bad address (tcp://ADDR:PORT)"
                          : st == IPCN_FORBIDDEN   ? ": the host key is readable by others"
                          : st == IPCN_INTERNAL_ERROR ? ": cannot listen (see the log)"
                                                      : "";
        cli_close(c);
        return cli_fail(st, "cannot be a gateway%s", why);
    }
    ipcn_node_set_event_fn(c->node, on_event, NULL);
    cli_catch_signals();
    out("gateway %s\n", c->node_name);
    out_flush();
    while (!cli_stop && !cli_stdout_broken)
        cli_pump(c, -1, NULL, 0);
    cli_close(c);
    return EXIT_OK;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_hosts.c — several computers: `ipcnet links` (the links of the nodes
 * of this host, the TCP links of its gateway to other hosts first, asked
 * of each node through its node service "@sys/<node>/links") and `ipcnet
 * route PATH` (the way a request to PATH's provider takes from here:
 * ipcn_route()).  The host of a node of another host is the part of its
 * name after '@' ("cam@gpu-board").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "cli.h"
#include "ipcnet_hosts.h"
#include "util.h"

const char cmd_links_help[] =
    "usage: ipcnet links [--node NAME | --all] [options]\n\n"
    "The links between hosts: each TCP link of the nodes of this host (its\n"
    "gateway, 'ipcnet gateway'), with the peer's host, the address, the peer\n"
    "host's public key, the last ping's round trip (RTT), the bytes and frames\n"
    "each way, the samples dropped for it (DROPS), the messages that failed\n"
    "authentication (AUTH: a flipped bit or a replay closes the link) and the\n"
    "frames dropped for a loop (LOOPS, 308).  Each node is asked for its own\n"
    "links through its node service @sys/<node>/links, so what is shown is\n"
    "what that node sees; the policy decides who may call it (read and\n"
    "execute), as for 'nodes --traffic'.\n\n"
    "  --node NAME     every link of node NAME (Unix, TCP and routed); NAME may\n"
    "                  be this tool's own (--name) or another host's node\n"
    "  --all           every link of every node of this host\n"
    "  --timeout MS    give up on a node after MS ms (default 5000)\n\n"
    "KIND is unix (a node of this host), tcp (another host's gateway) or\n"
    "routed (a node of another host, reached through VIA and HOPS routers).\n"
    "RTT is '-' until a ping was answered.  --json: one document per node,\n"
    "{node, items: [{kind, peer, host, addr, key, via, hops, rtt_ns,\n"
    "bytes_in, bytes_out, frames_in, frames_out, drops, auth_failures,\n"
    "loops, cipher}]}.  CIPHER is the Noise cipher of a TCP link: AESGCM\n"
    "where both hosts have AES instructions, else ChaChaPoly (IPCNET_CIPHER\n"
    "or gateway.conf's cipher = chachapoly keeps ChaChaPoly).\n";

const char cmd_route_help[] =
    "usage: ipcnet route PATH [options]\n\n"
    "The way a request to PATH takes from this tool's node: for each provider\n"
    "of PATH, the routers it passes, in order, then the provider (a node of\n"
    "another host is named NAME@HOST).  A provider of this host is linked\n"
    "directly: the way is its name alone.  No provider: 203.\n"
    "--json: one document per provider, {path, provider, host, kind, hops:\n"
    "[names], routers}.\n";

/* The host of a node name: what follows '@', or NULL for this host's. */
static const char *host_of(const char *name)
{
    const char *at = strrchr(name, '@');
    return at && at[1] ? at + 1 : NULL;
}

const char *cli_host_of(const char *name)
{
    const char *h = host_of(name);
    return h ? h : "";
}

/* ---- links ---- */

static const char *rtt_text(char *buf, size_t n, double rtt_ns)
{
    if (rtt_ns <= 0)
        snprintf(buf, n, "-");
    else if (rtt_ns < 1e6)
        snprintf(buf, n, "%.0fus", rtt_ns / 1e3);
    else
        snprintf(buf, n, "%.2fms", rtt_ns / 1e6);
    return buf;
}

static bool wanted(cli *c, const jval *it)
{
    return c->only_node || c->all || !strcmp(jtext(it, "kind"), "tcp");
}

static void print_header(void)
{
    out("%-16s  %-6s  %-24s  %-12s  %-22s  %-44s  %-10s  %8s  %10s  %10s  %9s  "
        "%9s  %5s  %4s  %5s  %s\n",
        "NODE", "KIND", "PEER", "HOST", "ADDR", "KEY", "CIPHER", "RTT", "BYTES-IN",
        "BYTES-OUT", "FRAMES-IN", "FRAMES-OUT", "DROPS", "AUTH", "LOOPS",
        "VIA");
}

/* One node's rows; *shown counts them.  False when its answer is not the
 * documented one. */
static bool print_rows(cli *c, const char *node, const jval *root,
                       size_t *shown)
{
    const jval *items = jget(root, "items");
    if (!items || items->t != J_ARR)
        return false;
    for (size_t i = 0; i < items->count; i++) {
        const jval *it = items->v[i];
        if (!wanted(c, it))
            continue;
        if (!(*shown)++ && !c->json)
            print_header();
        char nd[128], peer[256], host[128], addr[128], via[160], rtt[32];
        escape_line(nd, sizeof nd, node);
        escape_line(peer, sizeof peer, jtext(it, "peer"));
        escape_line(host, sizeof host, *jtext(it, "host") ? jtext(it, "host")
                                                          : "-");
        escape_line(addr, sizeof addr, *jtext(it, "addr") ? jtext(it, "addr")
                                                          : "-");
        const char *v = jtext(it, "via");
        if (*v)
            snprintf(via, sizeof via, "%s (%.0f hop%s)", v, jnum(it, "hops"),
                     jnum(it, "hops") == 1 ? "" : "s");
        else
            snprintf(via, sizeof via, "-");
        char cipher[16];
        escape_line(cipher, sizeof cipher, *jtext(it, "cipher") ? jtext(it, "cipher")
                                                                : "-");
        out("%-16s  %-6s  %-24s  %-12s  %-22s  %-44s  %-10s  %8s  %10.0f  %10.0f  "
            "%9.0f  %10.0f  %5.0f  %4.0f  %5.0f  %s\n",
            nd, jtext(it, "kind"), peer, host, addr,
            *jtext(it, "key") ? jtext(it, "key") : "-", cipher,
            rtt_text(rtt, sizeof rtt, jnum(it, "rtt_ns")),
            jnum(it, "bytes_in"), jnum(it, "bytes_out"),
            jnum(it, "frames_in"), jnum(it, "frames_out"), jnum(it, "drops"),
            jnum(it, "auth_failures"), jnum(it, "loops"), via);
    }
    return true;
}

/* One node asked for its links: the answer as JSON once it came. */
typedef struct ask {
    const char *node;
    bool done;
    int status;
    bool bad;               /* answered 100, but not with the documented CBOR */
    char why[256];          /* a refusal's text/plain, if it said why */
    jval *root;
} ask;

static void on_links(ipcn_node *n, int st, const ipcn_msg *m, void *user)
{
    (void)n;
    ask *a = user;
    a->done = true;
    a->status = st;
    if (st != IPCN_OK) {
        if (m && m->len && enc_is_text(m->encoding))
            snprintf(a->why, sizeof a->why, "%.*s", (int)m->len,
                     (const char *)m->data);
        return;
    }
    if (!m || !enc_is_cbor(m->encoding) ||
        cbor_to_json(m->data, m->len, &a->root) || !jget(a->root, "items") ||
        jget(a->root, "items")->t != J_ARR) {
        json_free(a->root);
        a->root = NULL;
        a->bad = true;
    }
}

/* Send one ask; false when it could not even be sent (a->status says why). */
static bool ask_send(cli *c, ask *a, int timeout_ms)
{
    char path[320];
    snprintf(path, sizeof path, "@sys/%s/links", a->node);
    int st = ipcn_request_async(c->node, path, NULL, 0, NULL, timeout_ms, on_links,
                                a, NULL);
    if (st == IPCN_ACCEPTED)
        return true;
    a->done = true;
    a->status = st;
    return false;
}

/* Ask every node of asks[0..n) for its links at once (a node that does
 * not answer costs its timeout once, not once per node after it), and
 * pump until each answered or timed out.  A node of another host is
 * reached through a routed link that this tool's node opens only once its
 * gateway told it the way (a moment after it started): until then the ask
 * finds no link (203), and is sent again until the timeout. */
static void ask_all(cli *c, ask *asks, size_t n)
{
    int timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 5000;
    uint64_t until = (now_mono_ns() / 1000000u) + (uint64_t)timeout_ms;
    size_t waiting = 0;
    for (size_t i = 0; i < n; i++)
        waiting += ask_send(c, &asks[i], timeout_ms);
    while (!cli_stop) {
        size_t left = 0;
        uint64_t now = (now_mono_ns() / 1000000u);
        for (size_t i = 0; i < n; i++) {
            ask *a = &asks[i];
            if (a->done && a->status == IPCN_NOT_FOUND && !a->root && !a->why[0] &&
                host_of(a->node) && now + 100 < until) {
                a->done = false; /* not linked yet: again */
                waiting += ask_send(c, a, (int)(until - now));
            }
            left += !a->done;
        }
        if (!left || !waiting)
            break;
        cli_pump(c, 100, NULL, 0);
    }
}

/* Say why node's answer is missing (stderr); returns EXIT_FAIL. */
static int ask_failed(const ask *a)
{
    if (a->bad)
        return cli_fail(IPCN_BAD_GATEWAY, "@sys/%s/links: not the CBOR of a "
                        "list of links", a->node);
    if (!a->done)
        return cli_fail(IPCN_GATEWAY_TIMEOUT, "@sys/%s/links: interrupted",
                        a->node);
    if (a->why[0])
        return cli_fail(a->status, "@sys/%s/links: %s", a->node, a->why);
    return cli_fail(a->status, "@sys/%s/links%s", a->node,
                    a->status == IPCN_NOT_FOUND || a->status == IPCN_FORBIDDEN
                        ? " (the network policy may not let this tool call "
                          "it, or the node is older than 0.3)"
                        : "");
}

/* Print one node's answer.  0, or 1 after saying why it has none. */
static int links_of(cli *c, const ask *a, size_t *shown)
{
    if (!a->root)
        return ask_failed(a);
    const jval *items = jget(a->root, "items");
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "node", a->node);
        jw_arr(&j, "items");
        for (size_t i = 0; i < items->count; i++)
            if (wanted(c, items->v[i])) {
                jw_val(&j, NULL, items->v[i]);
                (*shown)++;
            }
        jw_end_arr(&j);
        jw_end_obj(&j);
        emit(&j);
    } else {
        print_rows(c, a->node, a->root, shown);
    }
    return 0;
}

static void asks_free(ask *asks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_free(asks[i].root);
    free(asks);
}

/* The nodes of this host in pl (their names), one ask each. */
static ask *asks_of(const ipcn_peer_list *pl, size_t *n)
{
    ask *asks = calloc(pl->count ? pl->count : 1, sizeof *asks);
    *n = 0;
    for (size_t i = 0; asks && i < pl->count; i++)
        if (!host_of(pl->items[i].name)) /* another host's: its gateway's */
            asks[(*n)++].node = pl->items[i].name;
    return asks;
}

int cli_host_links(cli *c, const ipcn_peer_list *pl, cli_hlink **out,
                   size_t *count)
{
    size_t k = 0, cap = 0, nask;
    cli_hlink *a = NULL;
    ask *asks = asks_of(pl, &nask);
    if (!asks)
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
    ask_all(c, asks, nask);
    for (size_t i = 0; i < nask; i++) {
        if (!asks[i].root)
            continue; /* it would not tell: nothing drawn of it */
        const jval *items = jget(asks[i].root, "items");
        for (size_t j = 0; j < items->count; j++) {
            const jval *it = items->v[j];
            if (strcmp(jtext(it, "kind"), "tcp"))
                continue;
            if (k == cap) {
                cap = cap ? 2 * cap : 8;
                cli_hlink *g = realloc(a, cap * sizeof *a);
                if (!g) {
                    asks_free(asks, nask);
                    cli_host_links_free(a, k);
                    return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
                }
                a = g;
            }
            cli_hlink *h = &a[k++];
            const char *peer = jtext(it, "peer"), *host = jtext(it, "host");
            memset(h, 0, sizeof *h);
            h->from = strdup(asks[i].node);
            /* The peer as the network names it: name@host. */
            if (host_of(peer) || !*host)
                h->to = strdup(peer);
            else if ((h->to = malloc(strlen(peer) + strlen(host) + 2)))
                sprintf(h->to, "%s@%s", peer, host);
            h->host = strdup(host);
            h->addr = strdup(jtext(it, "addr"));
            h->rtt_ns = (uint64_t)jnum(it, "rtt_ns");
            if (!h->from || !h->to || !h->host || !h->addr) {
                asks_free(asks, nask);
                cli_host_links_free(a, k);
                return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
            }
        }
    }
    asks_free(asks, nask);
    *out = a;
    *count = k;
    return 0;
}

void cli_host_links_free(cli_hlink *a, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(a[i].from);
        free(a[i].to);
        free(a[i].host);
        free(a[i].addr);
    }
    free(a);
}

int cmd_links(cli *c)
{
    if (c->only_node && c->all)
        return cli_usage_error("links", "give --node or --all, not both");
    int rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    size_t shown = 0;
    if (c->only_node) {
        ask one = {.node = c->only_node};
        ask_all(c, &one, 1);
        rc = links_of(c, &one, &shown);
        json_free(one.root);
        if (!rc && !shown && !c->json)
            out("node %s has no link up\n", c->only_node);
        out_flush();
        return rc;
    }
    ipcn_peer_list *pl;
    int st = ipcn_peers(c->node, &pl);
    if (st != IPCN_OK)
        return cli_fail(st, "cannot list the peers");
    size_t nask;
    ask *asks = asks_of(pl, &nask);
    if (!asks) {
        ipcn_peer_list_free(pl);
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
    }
    ask_all(c, asks, nask);
    for (size_t i = 0; i < nask; i++)
        if (links_of(c, &asks[i], &shown))
            rc = EXIT_FAIL;
    if (!c->json && !shown && !rc) {
        if (c->all || !nask)
            out("no node of this host has a link up (%zu asked)\n", nask);
        else
            out("no link to another host: no gateway runs on this host "
                "('ipcnet gateway'), or none of its peers is up (%zu node%s "
                "asked; --all shows every link)\n",
                nask, nask == 1 ? "" : "s");
    }
    asks_free(asks, nask);
    ipcn_peer_list_free(pl);
    out_flush();
    return rc;
}

/* ---- route ---- */

int cmd_route(cli *c)
{
    const char *path = c->pos[0];
    int rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, path)))
        return rc;
    ipcn_resource_list *rl;
    int st = ipcn_find(c->node, path, IPCN_ANY, &rl);
    if (st != IPCN_OK)
        return cli_fail(st, st == IPCN_BAD_REQUEST ? "invalid path '%s'"
                                                   : "find %s failed", path);
    if (!rl->count) {
        ipcn_resource_list_free(rl);
        return cli_fail(IPCN_NOT_FOUND, "no provider for %s", path);
    }
    char wire[256]; /* PATH as on the wire: the namespace, the remap rules */
    if (ipcn_node_resolve(c->node, path, wire, sizeof wire) != IPCN_OK)
        snprintf(wire, sizeof wire, "%s", path);
    for (size_t i = 0; i < rl->count; i++) {
        const ipcn_resource *r = &rl->items[i];
        if (strcmp(r->path, wire))
            continue; /* a pattern: ipcnet route takes one path */
        char **hops = NULL;
        size_t n = 0;
        st = ipcn_route(c->node, r->provider, &hops, &n);
        const char *host = host_of(r->provider);
        if (st != IPCN_OK) {
            rc = cli_fail(st, "%s: no way known to its provider %s", path,
                          r->provider);
            continue;
        }
        if (c->json) {
            jw j = {0};
            jw_obj(&j, NULL);
            jw_str(&j, "path", r->path);
            jw_str(&j, "provider", r->provider);
            jw_str(&j, "host", host);
            jw_str(&j, "kind", kind_name(r->kind));
            jw_arr(&j, "hops");
            for (size_t k = 0; k < n; k++)
                jw_str(&j, NULL, hops[k]);
            jw_end_arr(&j);
            jw_uint(&j, "routers", n ? n - 1 : 0);
            jw_end_obj(&j);
            emit(&j);
        } else {
            out("%s  %s %s on %s: %s", r->path, kind_name(r->kind),
                r->provider, host ? host : "this host", c->node_name);
            for (size_t k = 0; k < n; k++)
                out(" -> %s", hops[k]);
            out("  (%zu router%s)\n", n ? n - 1 : 0, n == 2 ? "" : "s");
        }
        ipcn_route_free(hops, n);
    }
    ipcn_resource_list_free(rl);
    out_flush();
    return rc;
}

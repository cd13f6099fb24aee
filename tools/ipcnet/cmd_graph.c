/* SPDX-License-Identifier: MIT */
/*
 * cmd_graph.c — `ipcnet graph`: the network as a graph (text, JSON, or
 * Graphviz's dot): its nodes grouped by host, its resources, who
 * provides and who subscribes to what, and the TCP links between hosts
 * (asked of the gateways of this host, cmd_hosts.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* graph                                                                */
/* ------------------------------------------------------------------ */

static const char *edge_label(ipcn_kind k)
{
    return k == IPCN_STREAM ? "publishes" : k == IPCN_SERVICE ? "offers" : "provides";
}

static void dot_str(sbuf *b, const char *s)
{
    sb_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_putc(b, '\\');
        sb_putc(b, *s);
    }
    sb_putc(b, '"');
}

static void dot_id(sbuf *b, char prefix, const char *s)
{
    sbuf t = {0};
    sb_printf(&t, "%c:%s", prefix, s);
    dot_str(b, t.p);
    sb_free(&t);
}

/* Does a subscription pattern take samples of this resource? */
static bool feeds(const ipcn_resource *r, const ipcn_subscription *s)
{
    return r->kind != IPCN_SERVICE && ipcn_pattern_match(s->pattern, r->path);
}

/* Subscriptions of the tool's own node are not part of the network. */
static bool shown(cli *c, const ipcn_subscription *s)
{
    return strcmp(s->node, c->node_name) != 0;
}

/* Is name one of the peers? */
static bool in_peers(const ipcn_peer_list *pl, const char *name)
{
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(pl->items[i].name, name))
            return true;
    return false;
}

static void dot_node(sbuf *b, const char *name, int pid)
{
    sb_puts(b, "    ");
    dot_id(b, 'n', name);
    sbuf l = {0};
    if (pid > 0)
        sb_printf(&l, "%s\npid %d", name, pid);
    else
        sb_printf(&l, "%s", name);
    sb_puts(b, " [shape=box, style=rounded, label=");
    dot_str(b, l.p);
    sb_puts(b, "];\n");
    sb_free(&l);
}

/* The nodes of one host ("" this one) in a box of their own: the peers,
 * and the ends of TCP links that are not peers. */
static void dot_host(sbuf *b, const char *host, const ipcn_peer_list *pl,
                     const cli_hlink *hl, size_t nh)
{
    sbuf t = {0};
    sb_printf(&t, "cluster %s", *host ? host : "(this host)");
    sb_puts(b, "  subgraph ");
    dot_str(b, t.p); /* "cluster...": a box, for every Graphviz */
    sb_free(&t);
    sb_puts(b, " {\n    style=rounded;\n    label=");
    sb_printf(&t, *host ? "host %s" : "this host", host);
    dot_str(b, t.p);
    sb_free(&t);
    sb_puts(b, ";\n");
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(cli_host_of(pl->items[i].name), host))
            dot_node(b, pl->items[i].name, pl->items[i].pid);
    for (size_t i = 0; i < nh; i++) {
        bool first = true; /* a gateway may be at both ends of several */
        for (size_t k = 0; k < i; k++)
            first &= strcmp(hl[k].to, hl[i].to) != 0;
        if (first && !strcmp(cli_host_of(hl[i].to), host) &&
            !in_peers(pl, hl[i].to))
            dot_node(b, hl[i].to, 0);
    }
    sb_puts(b, "  }\n");
}

/* Boxes per host, and the TCP links between the gateways. */
static void dot_hosts(sbuf *b, const ipcn_peer_list *pl, const cli_hlink *hl,
                      size_t nh)
{
    dot_host(b, "", pl, hl, nh);
    for (size_t i = 0; i < pl->count + nh; i++) {
        const char *name = i < pl->count ? pl->items[i].name
                                         : hl[i - pl->count].to;
        const char *host = cli_host_of(name);
        bool first = *host != 0;
        for (size_t k = 0; k < i && first; k++)
            first = strcmp(cli_host_of(k < pl->count ? pl->items[k].name
                                                     : hl[k - pl->count].to),
                           host) != 0;
        if (first)
            dot_host(b, host, pl, hl, nh);
    }
    for (size_t i = 0; i < nh; i++) {
        sb_puts(b, "  ");
        dot_id(b, 'n', hl[i].from);
        sb_puts(b, " -> ");
        dot_id(b, 'n', hl[i].to);
        char rtt[48] = "TCP";
        if (hl[i].rtt_ns)
            snprintf(rtt, sizeof rtt, "TCP %.2f ms", (double)hl[i].rtt_ns / 1e6);
        sb_printf(b, " [dir=none, style=bold, color=\"#1f6fb2\", label=\"%s\"];\n",
                  rtt);
    }
}

static void graph_dot(cli *c, sbuf *b, const ipcn_peer_list *pl,
                      const ipcn_resource_list *rl,
                      const ipcn_subscription_list *sl, const cli_hlink *hl,
                      size_t nh)
{
    sb_puts(b, "digraph ipcnet {\n");
    sb_puts(b, "  rankdir=LR;\n  fontname=\"Helvetica\";\n  node [fontname=\"Helvetica\", fontsize=10];\n");
    sb_puts(b, "  edge [fontname=\"Helvetica\", fontsize=9];\n  label=");
    sbuf t = {0};
    sb_printf(&t, "network %s (seen from %s)", cli_network_name(c), c->node_name);
    dot_str(b, t.p);
    sb_free(&t);
    sb_puts(b, ";\n  labelloc=t;\n");
    dot_hosts(b, pl, hl, nh);
    for (size_t i = 0; i < rl->count; i++) {
        const ipcn_resource *r = &rl->items[i];
        /* One graph node per path: several providers of a service share it. */
        if (i && !strcmp(rl->items[i - 1].path, r->path)) {
        } else {
            sb_puts(b, "  ");
            dot_id(b, 'r', r->path);
            sbuf l = {0};
            sb_printf(&l, "%s\n%s%s%s", r->path, kind_name(r->kind),
                      *r->encoding ? ", " : "", r->encoding);
            sb_printf(b, " [shape=%s, label=",
                      r->kind == IPCN_SERVICE ? "hexagon"
                      : r->kind == IPCN_STREAM ? "ellipse" : "note");
            dot_str(b, l.p);
            sb_puts(b, "];\n");
            sb_free(&l);
        }
        sb_puts(b, "  ");
        dot_id(b, 'n', r->provider);
        sb_puts(b, " -> ");
        dot_id(b, 'r', r->path);
        sb_printf(b, " [label=\"%s\"];\n", edge_label(r->kind));
    }
    /* Data flows from a resource to each node subscribed to it; a pattern
     * that matches nothing yet is drawn dashed on its own. */
    for (size_t k = 0; k < sl->count; k++) {
        const ipcn_subscription *s = &sl->items[k];
        if (!shown(c, s))
            continue;
        bool any = false;
        for (size_t i = 0; i < rl->count; i++) {
            const ipcn_resource *r = &rl->items[i];
            if ((i && !strcmp(rl->items[i - 1].path, r->path)) || !feeds(r, s))
                continue;
            any = true;
            sb_puts(b, "  ");
            dot_id(b, 'r', r->path);
            sb_puts(b, " -> ");
            dot_id(b, 'n', s->node);
            sb_puts(b, " [style=bold, label=\"subscribes\"];\n");
        }
        if (!any) {
            sb_puts(b, "  ");
            dot_id(b, 'p', s->pattern);
            sb_puts(b, " [shape=ellipse, style=dashed, label=");
            dot_str(b, s->pattern);
            sb_puts(b, "];\n  ");
            dot_id(b, 'p', s->pattern);
            sb_puts(b, " -> ");
            dot_id(b, 'n', s->node);
            sb_puts(b, " [style=dashed, label=\"subscribes\"];\n");
        }
    }
    sb_puts(b, "}\n");
}

static int run_dot(const sbuf *dot, const char *png)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return cli_fail(IPCN_INTERNAL_ERROR, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        return cli_fail(IPCN_INTERNAL_ERROR, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[0], 0);
        signal(SIGPIPE, SIG_DFL);
        execlp("dot", "dot", "-Tpng", "-o", png, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    size_t off = 0;
    while (off < dot->len) {
        ssize_t w = write(fds[1], dot->p + off, dot->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fds[1]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 127)
        return cli_fail(IPCN_INTERNAL_ERROR, "cannot run 'dot' to draw %s: install "
                        "Graphviz (Debian package graphviz)", png);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        return cli_fail(IPCN_INTERNAL_ERROR, "'dot -Tpng -o %s' failed", png);
    return 0;
}

int cmd_graph(cli *c)
{
    int rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    ipcn_peer_list *pl;
    ipcn_resource_list *rl;
    ipcn_subscription_list *sl;
    if ((rc = cli_list_peers(c, &pl)))
        return rc;
    if ((rc = cli_find(c, "/**", IPCN_ANY, &rl))) {
        ipcn_peer_list_free(pl);
        return rc;
    }
    int st = ipcn_subscriptions(c->node, &sl);
    if (st != IPCN_OK) {
        ipcn_resource_list_free(rl);
        ipcn_peer_list_free(pl);
        return cli_fail(st, "cannot list subscriptions");
    }
    cli_hlink *hl = NULL;
    size_t nh = 0;
    if ((rc = cli_host_links(c, pl, &hl, &nh))) {
        ipcn_subscription_list_free(sl);
        ipcn_resource_list_free(rl);
        ipcn_peer_list_free(pl);
        return rc;
    }
    if (c->dot || c->png) {
        sbuf b = {0};
        graph_dot(c, &b, pl, rl, sl, hl, nh);
        if (c->dot)
            out("%s", b.p);
        if (c->png)
            rc = run_dot(&b, c->png);
        sb_free(&b);
    } else if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "network", cli_network_name(c));
        jw_str(&j, "observer", c->node_name);
        jw_arr(&j, "nodes");
        for (size_t i = 0; i < pl->count; i++) {
            jw_obj(&j, NULL);
            jw_str(&j, "name", pl->items[i].name);
            const char *host = cli_host_of(pl->items[i].name);
            jw_str(&j, "host", *host ? host : NULL);
            jw_hex64(&j, "id", pl->items[i].id);
            jw_int(&j, "pid", pl->items[i].pid);
            jw_uint(&j, "resources", pl->items[i].resources);
            jw_end_obj(&j);
        }
        jw_end_arr(&j);
        jw_arr(&j, "resources");
        for (size_t i = 0; i < rl->count; i++) {
            if (i && !strcmp(rl->items[i - 1].path, rl->items[i].path))
                continue;
            jw_obj(&j, NULL);
            jw_str(&j, "path", rl->items[i].path);
            jw_str(&j, "kind", kind_name(rl->items[i].kind));
            jw_str(&j, "encoding", rl->items[i].encoding);
            jw_end_obj(&j);
        }
        jw_end_arr(&j);
        jw_arr(&j, "edges");
        for (size_t i = 0; i < rl->count; i++) {
            jw_obj(&j, NULL);
            jw_str(&j, "from", rl->items[i].provider);
            jw_str(&j, "to", rl->items[i].path);
            jw_str(&j, "relation", edge_label(rl->items[i].kind));
            jw_end_obj(&j);
        }
        for (size_t k = 0; k < sl->count; k++) {
            if (!shown(c, &sl->items[k]))
                continue;
            for (size_t i = 0; i < rl->count; i++) {
                if ((i && !strcmp(rl->items[i - 1].path, rl->items[i].path)) ||
                    !feeds(&rl->items[i], &sl->items[k]))
                    continue;
                jw_obj(&j, NULL);
                jw_str(&j, "from", rl->items[i].path);
                jw_str(&j, "to", sl->items[k].node);
                jw_str(&j, "relation", "subscribes");
                jw_end_obj(&j);
            }
        }
        jw_end_arr(&j);
        jw_arr(&j, "links"); /* between hosts: the gateways' TCP links */
        for (size_t i = 0; i < nh; i++) {
            jw_obj(&j, NULL);
            jw_str(&j, "from", hl[i].from);
            jw_str(&j, "to", hl[i].to);
            jw_str(&j, "kind", "tcp");
            jw_str(&j, "host", hl[i].host);
            jw_str(&j, "addr", hl[i].addr);
            jw_uint(&j, "rtt_ns", hl[i].rtt_ns);
            jw_end_obj(&j);
        }
        jw_end_arr(&j);
        jw_arr(&j, "subscriptions");
        for (size_t k = 0; k < sl->count; k++) {
            if (!shown(c, &sl->items[k]))
                continue;
            jw_obj(&j, NULL);
            jw_str(&j, "node", sl->items[k].node);
            jw_str(&j, "pattern", sl->items[k].pattern);
            jw_end_obj(&j);
        }
        jw_end_arr(&j);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("network %s: %zu node%s, %zu resource%s (seen from %s)\n",
            cli_network_name(c), pl->count, pl->count == 1 ? "" : "s", rl->count,
            rl->count == 1 ? "" : "s", c->node_name);
        for (size_t i = 0; i < pl->count; i++) {
            const ipcn_peer *p = &pl->items[i];
            const char *host = cli_host_of(p->name);
            if (*host)
                out("\n%s (host %s)\n", p->name, host);
            else
                out("\n%s (pid %d)\n", p->name, p->pid);
            bool any = false;
            for (size_t k = 0; k < rl->count; k++) {
                const ipcn_resource *r = &rl->items[k];
                if (r->provider_id != p->id)
                    continue;
                out("  %-9s -> %s  [%s%s%s]\n", edge_label(r->kind), r->path,
                    kind_name(r->kind), *r->encoding ? ", " : "", r->encoding);
                any = true;
            }
            for (size_t k = 0; k < sl->count; k++) {
                const ipcn_subscription *s = &sl->items[k];
                if (s->node_id != p->id)
                    continue;
                out("  subscribes <- %s", s->pattern);
                int m = 0;
                for (size_t q = 0; q < rl->count; q++) {
                    if ((q && !strcmp(rl->items[q - 1].path, rl->items[q].path)) ||
                        !feeds(&rl->items[q], s))
                        continue;
                    out("%s%s", m++ ? ", " : "  (", rl->items[q].path);
                }
                out("%s\n", m ? ")" : "  (nothing matches yet)");
                any = true;
            }
            if (!any)
                out("  (provides and subscribes to nothing)\n");
        }
    }
    if (!c->dot && !c->png && !c->json && nh) {
        out("\nlinks between hosts (TCP):\n");
        for (size_t i = 0; i < nh; i++) {
            char rtt[48] = "";
            if (hl[i].rtt_ns)
                snprintf(rtt, sizeof rtt, ", rtt %.2f ms",
                         (double)hl[i].rtt_ns / 1e6);
            out("  %s -- %s  (host %s, %s%s)\n", hl[i].from, hl[i].to,
                hl[i].host, *hl[i].addr ? hl[i].addr : "-", rtt);
        }
    }
    cli_host_links_free(hl, nh);
    ipcn_subscription_list_free(sl);
    ipcn_resource_list_free(rl);
    ipcn_peer_list_free(pl);
    out_flush();
    return rc;
}

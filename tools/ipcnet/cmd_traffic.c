/* SPDX-License-Identifier: MIT */
/*
 * cmd_traffic.c — `ipcnet nodes --traffic`: each node's picture of what
 * its peers send it (rates and sizes, normal and now, anomalies), asked of
 * the node itself through its node service "@sys/<node>/traffic" (CBOR,
 * see ipcnet.h "Node services"), so what each node sees is shown, not what
 * this tool's own link sees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "cli.h"
#include "util.h"

static const jval *jget(const jval *o, const char *key)
{
    if (!o || o->t != J_OBJ)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < o->count; i++)
        if (o->k[i]->n == n && !memcmp(o->k[i]->s, key, n))
            return o->v[i];
    return NULL;
}

static const char *jtext(const jval *o, const char *key)
{
    const jval *v = jget(o, key);
    return v && v->t == J_STR ? v->s : "?";
}

static double jnum(const jval *o, const char *key)
{
    const jval *v = jget(o, key);
    return v && v->t == J_NUM ? strtod(v->s, NULL) : 0;
}

/* One node's table; false when its answer is not the documented one. */
static bool print_table(const char *node, const jval *root)
{
    const jval *items = jget(root, "items");
    if (!items || items->t != J_ARR)
        return false;
    out("node %s: what its peers send it\n", node);
    if (!items->count) {
        out("  (nothing yet)\n");
        return true;
    }
    size_t pw = 4, qw = 4;
    for (size_t i = 0; i < items->count; i++) {
        size_t a = strlen(jtext(items->v[i], "peer"));
        size_t b = strlen(jtext(items->v[i], "path"));
        pw = a > pw ? a : pw;
        qw = b > qw ? b : qw;
    }
    pw = pw > 40 ? 40 : pw;
    qw = qw > 60 ? 60 : qw;
    out("  %-*s  %-*s  %-7s  %10s  %10s  %9s  %10s  %s\n", (int)pw, "PEER",
        (int)qw, "PATH", "VERB", "NORMAL/S", "NOW/S", "MEAN-SIZE", "COUNT",
        "ANOMALY");
    for (size_t i = 0; i < items->count; i++) {
        const jval *it = items->v[i];
        char peer[256], path[1024];
        escape_line(peer, sizeof peer, jtext(it, "peer"));
        escape_line(path, sizeof path, jtext(it, "path"));
        const jval *an = jget(it, "anomalous");
        double eps = jnum(it, "anomalies");
        char flag[48] = "-";
        if (an && an->t == J_TRUE)
            snprintf(flag, sizeof flag, "ANOMALY (%.0f)", eps);
        else if (eps > 0)
            snprintf(flag, sizeof flag, "past: %.0f", eps);
        out("  %-*s  %-*s  %-7s  %10.1f  %10.1f  %9.0f  %10.0f  %s\n",
            (int)pw, peer, (int)qw, path, jtext(it, "verb"),
            jnum(it, "rate"), jnum(it, "now"), jnum(it, "mean_bytes"),
            jnum(it, "count"), flag);
    }
    return true;
}

/* Ask node for its picture and print it.  Returns 0, or 1 after saying
 * why on stderr. */
static int one_node(cli *c, const char *node)
{
    char path[320]; /* "@sys/" NAME (at most 64) "/traffic" */
    snprintf(path, sizeof path, "@sys/%s/traffic", node);
    ipcn_msg *m = NULL;
    int st = ipcn_request(c->node, path, NULL, 0, NULL, &m,
                          c->timeout_ms > 0 ? c->timeout_ms : 5000);
    if (st != IPCN_OK) {
        if (m && m->len && enc_is_text(m->encoding))
            cli_fail(st, "%s: %.*s", path, (int)m->len, (const char *)m->data);
        else
            cli_fail(st, "%s%s", path,
                     st == IPCN_NOT_FOUND || st == IPCN_FORBIDDEN
                         ? " (the network policy may not let this tool call it)"
                         : "");
        ipcn_msg_free(m);
        return EXIT_FAIL;
    }
    jval *root = NULL;
    int rc = 0;
    if (!enc_is_cbor(m->encoding) || cbor_to_json(m->data, m->len, &root)) {
        rc = cli_fail(IPCN_BAD_GATEWAY, "%s: not the CBOR of a traffic picture",
                      path);
    } else if (c->json && jget(root, "items")) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "node", node);
        jw_val(&j, "items", jget(root, "items"));
        jw_end_obj(&j);
        emit(&j);
    } else if (c->json || !print_table(node, root)) {
        rc = cli_fail(IPCN_BAD_GATEWAY, "%s: not the CBOR of a traffic picture",
                      path);
    }
    json_free(root);
    ipcn_msg_free(m);
    return rc;
}

int cmd_nodes_traffic(cli *c, const ipcn_peer_list *pl)
{
    int rc = 0;
    bool any = false;
    for (size_t i = 0; i < pl->count; i++) {
        if (c->only_node && strcmp(c->only_node, pl->items[i].name))
            continue;
        any = true;
        if (one_node(c, pl->items[i].name))
            rc = EXIT_FAIL;
    }
    if (!any && c->only_node)
        return cli_fail(IPCN_NOT_FOUND, "no node %s in the network",
                        c->only_node);
    if (!c->json)
        out("rates in frames a second: NORMAL weighted over seconds, NOW the "
            "last second; sizes in bytes; ANOMALY: over the policy's "
            "anomaly bound now (N: episodes so far)\n");
    out_flush();
    return rc;
}

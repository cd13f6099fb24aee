/* SPDX-License-Identifier: MIT */
/*
 * cmd_quarantine.c — `ipcnet quarantine list|lift`: what each node holds
 * against its peers (quarantines, bans, evidence of a compromise), asked of
 * the node itself through its node services "@sys/<node>/quarantine" and
 * "@sys/<node>/quarantine/lift" (ipcnet.h "Node services"): each node
 * decides for itself, so each is asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "cli.h"
#include "util.h"

const char cmd_quarantine_help[] =
    "usage: ipcnet quarantine list [--all] [--node NAME] [options]\n"
    "       ipcnet quarantine lift SUBJECT [--node NAME] [options]\n\n"
    "What the nodes of the network hold against their peers, each asked through\n"
    "its node service @sys/<node>/quarantine (docs/reputation.md,\n"
    "docs/compromise.md):\n"
    "  list            the principals each node quarantines or bans now (with\n"
    "                  --all: every one it keeps a score for), their score,\n"
    "                  evidence and time left, and the peers it holds evidence\n"
    "                  of a compromise against (ISOLATED when it acted on it)\n"
    "  lift SUBJECT    an operator's word: SUBJECT (a node name, or \"uid U pid P\"\n"
    "                  for a process that never said hello) is no longer\n"
    "                  quarantined, banned or isolated on every node that holds\n"
    "                  it (or on --node NAME only).  A shared network's policy\n"
    "                  must grant EXECUTE of @sys/*/quarantine/lift to whoever runs\n"
    "                  it.\n\n"
    "  --all           list: every record, not only the refused\n"
    "  --node NAME     ask that node only\n"
    "  --timeout MS    give up on a node after MS ms (default 5000)\n"
    "  --json          one JSON object per node\n";

static int ask(cli *c, const char *node, const char *what, const void *body,
               size_t len, const char *enc, ipcn_msg **m)
{
    char path[320]; /* "@sys/" NAME (at most 64) "/quarantine/lift" */
    snprintf(path, sizeof path, "@sys/%s/%s", node, what);
    *m = NULL;
    return ipcn_request(c->node, path, body, len, enc, m,
                        c->timeout_ms > 0 ? c->timeout_ms : 5000);
}

static int refused(int st, const char *node, const char *what, ipcn_msg *m)
{
    if (m && m->len && enc_is_text(m->encoding))
        cli_fail(st, "@sys/%s/%s: %.*s", node, what, (int)m->len,
                 (const char *)m->data);
    else
        cli_fail(st, "@sys/%s/%s%s", node, what,
                 st == IPCN_NOT_FOUND || st == IPCN_FORBIDDEN
                     ? " (the network policy may not let this tool call it)"
                     : "");
    return EXIT_FAIL;
}

static void evidence_text(const jval *ev, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; ev && ev->t == J_OBJ && i < ev->count; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s=%s", len ? "," : "",
                         ev->k[i]->s, ev->v[i]->t == J_NUM ? ev->v[i]->s : "?");
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    if (!len)
        snprintf(buf, cap, "-");
}

static bool print_node(const char *node, const jval *root)
{
    const jval *recs = jget(root, "records"), *cz = jget(root, "compromised");
    if (!recs || recs->t != J_ARR || !cz || cz->t != J_ARR)
        return false;
    out("node %s:\n", node);
    if (!recs->count && !cz->count)
        out("  (nothing held against any peer)\n");
    if (recs->count)
        out("  %-24s  %-11s  %8s  %10s  %7s  %-34s  %s\n", "SUBJECT", "STATE",
            "SCORE", "LEFT", "STRIKES", "EVIDENCE", "LATEST");
    for (size_t i = 0; i < recs->count; i++) {
        const jval *r = recs->v[i];
        char subject[128], detail[256], ev[256], left[32];
        escape_line(subject, sizeof subject, jtext(r, "subject"));
        escape_line(detail, sizeof detail, jtext(r, "detail"));
        evidence_text(jget(r, "evidence"), ev, sizeof ev);
        const jval *ml = jget(r, "ms_left");
        if (ml && ml->t == J_NULL)
            snprintf(left, sizeof left, "until lift");
        else if (jnum(r, "ms_left") > 0)
            snprintf(left, sizeof left, "%.1fs", jnum(r, "ms_left") / 1000.0);
        else
            snprintf(left, sizeof left, "-");
        const jval *br = jget(r, "by_report");
        out("  %-24s  %-11s  %8.1f  %10s  %7.0f  %-34s  %s%s\n", subject,
            jtext(r, "state"), jnum(r, "score"), left, jnum(r, "strikes"), ev,
            detail, br && br->t == J_TRUE ? " (on reports)" : "");
    }
    for (size_t i = 0; i < cz->count; i++) {
        const jval *z = cz->v[i];
        char name[128], detail[256];
        escape_line(name, sizeof name, jtext(z, "name"));
        escape_line(detail, sizeof detail, jtext(z, "detail"));
        const jval *iso = jget(z, "isolated");
        out("  compromise: %s (uid %.0f pid %.0f) %s: %s -> %s%s\n", name,
            jnum(z, "uid"), jnum(z, "pid"), jtext(z, "kind"), detail,
            jtext(z, "action"), iso && iso->t == J_TRUE ? ", ISOLATED" : "");
    }
    return true;
}

static int list_one(cli *c, const char *node)
{
    /* {"all": true} */
    static const uint8_t all[] = {0xa1, 0x63, 'a', 'l', 'l', 0xf5};
    ipcn_msg *m;
    int st = ask(c, node, "quarantine", c->all ? all : NULL,
                 c->all ? sizeof all : 0, c->all ? "cbor" : NULL, &m);
    if (st != IPCN_OK) {
        refused(st, node, "quarantine", m);
        ipcn_msg_free(m);
        return EXIT_FAIL;
    }
    jval *root = NULL;
    int rc = 0;
    if (!enc_is_cbor(m->encoding) || cbor_to_json(m->data, m->len, &root) ||
        !jget(root, "records")) {
        rc = cli_fail(IPCN_BAD_GATEWAY, "@sys/%s/quarantine: not the CBOR of "
                      "a quarantine list", node);
    } else if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "node", node);
        jw_val(&j, "records", jget(root, "records"));
        jw_val(&j, "compromised", jget(root, "compromised"));
        jw_end_obj(&j);
        emit(&j);
    } else if (!print_node(node, root)) {
        rc = cli_fail(IPCN_BAD_GATEWAY, "@sys/%s/quarantine: not the CBOR of "
                      "a quarantine list", node);
    }
    json_free(root);
    ipcn_msg_free(m);
    return rc;
}

/* 0 lifted, -1 not held there (203), else EXIT_FAIL after saying why. */
static int lift_one(cli *c, const char *node, const char *subject)
{
    ipcn_msg *m;
    int st = ask(c, node, "quarantine/lift", subject, strlen(subject),
                 "text/plain", &m);
    int rc = 0;
    /* The service's own 203 says so in words (docs/protocol.md 12.4); a
     * 203 of the policy (it may not see the service) has no body. */
    static const char nothing[] = "this node holds nothing against it";
    if (st == IPCN_NOT_FOUND && m && m->len == sizeof nothing - 1 &&
        !memcmp(m->data, nothing, m->len))
        rc = -1; /* the service answered: it holds nothing of subject */
    else if (st != IPCN_OK)
        rc = refused(st, node, "quarantine/lift", m);
    else if (!c->json)
        out("%s: lifted %s\n", node, subject);
    ipcn_msg_free(m);
    return rc;
}

int cmd_quarantine(cli *c)
{
    const char *sub = c->npos ? c->pos[0] : NULL;
    bool lift = sub && !strcmp(sub, "lift");
    if (!sub || (!lift && strcmp(sub, "list")))
        return cli_usage_error("quarantine", "list or lift, not %s",
                               sub ? sub : "nothing");
    if (lift && c->npos != 2)
        return cli_usage_error("quarantine", "lift takes one SUBJECT");
    if (!lift && c->npos != 1)
        return cli_usage_error("quarantine", "list takes no argument");
    int rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    ipcn_peer_list *pl;
    int st = ipcn_peers(c->node, &pl);
    if (st != IPCN_OK)
        return cli_fail(st, "cannot list the peers");
    bool any = false, lifted = false;
    for (size_t i = 0; i < pl->count; i++) {
        const char *node = pl->items[i].name;
        if (c->only_node && strcmp(c->only_node, node))
            continue;
        any = true;
        int r = lift ? lift_one(c, node, c->pos[1]) : list_one(c, node);
        lifted = lifted || (lift && r == 0);
        if (r == EXIT_FAIL)
            rc = EXIT_FAIL;
    }
    ipcn_peer_list_free(pl);
    if (!any && c->only_node)
        return cli_fail(IPCN_NOT_FOUND, "no node %s in the network",
                        c->only_node);
    if (lift && !lifted && !rc)
        rc = cli_fail(IPCN_NOT_FOUND, "no node holds %s", c->pos[1]);
    if (lift && c->json && !rc) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "lifted", c->pos[1]);
        jw_end_obj(&j);
        emit(&j);
    }
    out_flush();
    return rc;
}

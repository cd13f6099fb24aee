/* SPDX-License-Identifier: MIT */
/*
 * cmd_redundancy.c — several providers (ipcnet_redundancy.h): `ipcnet
 * owner PATH`, and `ipcnet call --all | --vote | --id N`, a request to
 * every provider of a service (or a retry), every answer printed.
 * (`pub` and `hold --strength N [--warm]` are in cmd_data.c.)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

const char cmd_owner_help[] =
    "usage: ipcnet owner PATH [options]\n\n"
    "Print who owns the owned data or stream resource at PATH, as this tool's\n"
    "node sees it once it has every live node's directory: the owner's name and\n"
    "id, its strength, how many live providers are ranked, and how many times\n"
    "the owner changed as seen here.  Of several providers of a path announced\n"
    "with a strength (ipcnet pub --strength N, ipcn_announce_owned()), the\n"
    "strongest live one owns it; of equal strengths, the node whose name sorts\n"
    "first.  No live owned provider: 203 Not Found.\n";

int cmd_owner(cli *c)
{
    const char *path = c->pos[0];
    int rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    ipcn_owner_info o = {.size = sizeof o};
    int st = ipcn_owner_get(c->node, path, &o);
    if (st == IPCN_NOT_FOUND)
        return cli_fail(st, "no live provider announced %s owned", path);
    if (st == IPCN_BAD_REQUEST)
        return cli_fail(st, "'%s' is not a path", path);
    if (st != IPCN_OK)
        return cli_fail(st, "owner of %s", path);
    o.owner[sizeof o.owner - 1] = 0;
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "path", path);
        jw_str(&j, "owner", o.owner);
        jw_hex64(&j, "owner_id", o.owner_id);
        jw_int(&j, "strength", o.strength);
        jw_uint(&j, "providers", o.providers);
        jw_uint(&j, "changes", o.changes);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("%s: owned by %s (id %016" PRIx64 ", strength %" PRId32 "); %" PRIu32
            " provider%s ranked, %" PRIu64 " owner change%s seen\n",
            path, o.owner, o.owner_id, o.strength, o.providers, o.providers == 1 ? "" : "s",
            o.changes, o.changes == 1 ? "" : "s");
        out_flush();
    }
    return 0;
}

static const char *mode_name(ipcn_req_mode m)
{
    return m == IPCN_REQ_ALL ? "all" : m == IPCN_REQ_VOTE ? "vote" : "any";
}

static void print_json(cli *c, const char *path, ipcn_req_mode mode, int st,
                       const ipcn_answers *a)
{
    jw j = {0};
    jw_obj(&j, NULL);
    jw_str(&j, "path", path);
    jw_str(&j, "mode", mode_name(mode));
    jw_int(&j, "status", st);
    jw_uint(&j, "request_id", a->request_id);
    if (mode == IPCN_REQ_VOTE) {
        jw_uint(&j, "agreeing", a->agreeing);
        jw_uint(&j, "dissenting", a->dissenting);
    }
    jw_arr(&j, "answers");
    for (size_t i = 0; i < a->count; i++) {
        const ipcn_answer *x = &a->items[i];
        jw_obj(&j, NULL);
        jw_str(&j, "provider", x->provider);
        jw_hex64(&j, "provider_id", x->provider_id);
        jw_int(&j, "status", x->status);
        if (mode == IPCN_REQ_VOTE)
            jw_bool(&j, "agrees", x->agrees);
        if (x->msg)
            value_json(&j, x->msg->encoding, x->msg->data, x->msg->len);
        jw_end_obj(&j);
    }
    jw_end_arr(&j);
    if (mode == IPCN_REQ_ANY && a->winner) {
        jw_obj(&j, "answer");
        jw_str(&j, "provider", a->winner->src_name);
        value_json(&j, a->winner->encoding, a->winner->data, a->winner->len);
        jw_end_obj(&j);
    }
    jw_end_obj(&j);
    emit(&j);
    (void)c;
}

/* "request 77 (vote): 100 OK, 3 asked, 2 agreeing, 1 dissenting",
 * then one line per provider asked. */
static void print_text(const ipcn_answers *a, ipcn_req_mode mode, int st)
{
    out("request %" PRIu64 " (%s): %d %s, %zu asked", a->request_id, mode_name(mode), st,
        ipcn_status_str(st), a->count);
    if (mode == IPCN_REQ_VOTE)
        out(", %" PRIu32 " agreeing, %" PRIu32 " dissenting", a->agreeing, a->dissenting);
    out("\n");
    for (size_t i = 0; i < a->count; i++) {
        const ipcn_answer *x = &a->items[i];
        const char *verdict = "";
        if (mode == IPCN_REQ_VOTE && x->msg && a->winner) /* no winner: no verdict */
            verdict = x->agrees ? ", agrees" : ", dissents";
        sbuf b = {0};
        if (x->msg && x->msg->len)
            value_text(&b, x->msg->encoding, x->msg->data, x->msg->len, true);
        out("  %s (%d %s%s)%s%s\n", x->provider ? x->provider : "?", x->status,
            ipcn_status_str(x->status), verdict, b.len ? ": " : "", b.len ? b.p : "");
        sb_free(&b);
    }
    if (mode == IPCN_REQ_ANY && a->winner && a->count == 0) {
        sbuf b = {0};
        value_text(&b, a->winner->encoding, a->winner->data, a->winner->len, true);
        out("  %s: %s\n", a->winner->src_name, b.len ? b.p : "");
        sb_free(&b);
    }
    out_flush();
}

/* Why a request in a mode failed, on stderr; returns the exit status. */
static int fail_why(cli *c, const char *path, int st, const ipcn_request_opts *o)
{
    switch (st) {
    case IPCN_NOT_FOUND:
        return cli_fail(st, "no provider for %s", path);
    case IPCN_METHOD_NOT_ALLOWED:
        return cli_fail(st, "%s is not a service", path);
    case IPCN_CONFLICT:
        if (o->mode == IPCN_REQ_VOTE)
            return cli_fail(st, "no quorum among the answers of %s", path);
        break;
    case IPCN_GATEWAY_TIMEOUT:
        return cli_fail(st, "too few answers from %s within %d ms", path, c->timeout_ms);
    case IPCN_BAD_REQUEST:
        return cli_fail(st, "cannot request '%s': invalid path or options", path);
    default:
        break;
    }
    return cli_fail(st, "call %s failed", path);
}

int call_modes(cli *c, const char *path, const void *data, size_t len, const char *enc)
{
    ipcn_request_opts o;
    ipcn_request_opts_init(&o);
    o.mode = c->vote ? IPCN_REQ_VOTE : c->all ? IPCN_REQ_ALL : IPCN_REQ_ANY;
    o.timeout_ms = c->timeout_ms;
    o.quorum = c->quorum;
    o.tolerance = c->tolerance;
    o.request_id = c->request_id; /* --id N, 0: a new request */
    ipcn_answers *a = NULL;
    int st = ipcn_request_ex(c->node, path, data, len, enc, &o, &a);
    if (!a)
        return fail_why(c, path, st, &o);
    if (c->json)
        print_json(c, path, o.mode, st, a);
    else if (a->count || a->winner)
        print_text(a, o.mode, st);
    int rc = IPCN_IS_OK(st) ? 0 : fail_why(c, path, st, &o);
    if (!rc && st == IPCN_PARTIAL_DATA)
        cli_warn("%d %s: some providers of %s did not answer within %d ms", st,
                 ipcn_status_str(st), path, c->timeout_ms);
    ipcn_answers_free(a);
    return rc;
}

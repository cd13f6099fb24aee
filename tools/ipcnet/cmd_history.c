/* SPDX-License-Identifier: MIT */
/*
 * cmd_history.c — `ipcnet history PATH [--version V] [--json]`: the debug
 * history of a data resource (ipcnet_history.h): its last versions with
 * who set each and when, or one past version's value.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"

const char cmd_history_help[] =
    "usage: ipcnet history PATH [--version V] [options]\n\n"
    "Print the versions of the data resource at PATH that its provider keeps\n"
    "(its debug history), oldest first: the version, when it was set (the\n"
    "provider's clock, UTC), who set it (the provider itself, or a node by\n"
    "`ipcnet set` or ipcn_set(): its name and pid) and the value.  History is\n"
    "kept when the network policy says `debug: {history: N}` or the provider\n"
    "asks for it (ipcn_announce_history()); otherwise this prints 204.\n"
    "Reading it needs the right to read PATH.\n\n"
    "  --version V     print the value PATH had at version V (as `ipcnet query`\n"
    "                  prints the current one); 203 when it is no longer kept\n"
    "  --raw           with --version: write the value's bytes as they are\n"
    "  --timeout MS    give up after MS milliseconds (default 2000)\n";

static void when_text(char *buf, size_t cap, uint64_t ns)
{
    time_t s = (time_t)(ns / 1000000000ull);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm)) {
        snprintf(buf, cap, "%llu", (unsigned long long)ns);
        return;
    }
    size_t k = strlen(buf);
    snprintf(buf + k, cap - k, ".%06u",
             (unsigned)(ns % 1000000000ull / 1000u));
}

static const char *via_name(int via)
{
    return via == IPCN_HISTORY_SET ? "set" : "publish";
}

static int history_failed(cli *c, int st, const char *path)
{
    switch (st) {
    case IPCN_NOT_FOUND:
        return c->expect_version
                   ? cli_fail(st, "version %llu of %s is not kept (or no "
                                  "provider for it)",
                              (unsigned long long)c->expect_version, path)
                   : cli_fail(st, "no provider for %s", path);
    case IPCN_METHOD_NOT_ALLOWED:
        return cli_fail(st, "%s keeps no history (not a data resource, or its "
                            "history is off: policy debug: {history: N})",
                        path);
    case IPCN_NOT_IMPLEMENTED:
        return cli_fail(st, "the provider of %s predates debug history", path);
    case IPCN_INSUFFICIENT_STORAGE:
        return cli_fail(st, "the history of %s is too large for one answer: "
                            "ask for one --version", path);
    case IPCN_GATEWAY_TIMEOUT:
        return cli_fail(st, "no answer for %s within %d ms", path,
                        c->timeout_ms);
    default:
        return cli_fail(st, "history of %s", path);
    }
}

static int one_version(cli *c, const char *path)
{
    ipcn_msg *m = NULL;
    int st = ipcn_query_version(c->node, path, c->expect_version, &m,
                                c->timeout_ms);
    if (st != IPCN_OK)
        return history_failed(c, st, path);
    cli_show_value(c, m, true);
    ipcn_msg_free(m);
    return 0;
}

static void print_json(const ipcn_history *h)
{
    jw j = {0};
    jw_obj(&j, NULL);
    jw_str(&j, "path", h->path);
    jw_str(&j, "provider", h->node);
    jw_uint(&j, "depth", h->depth);
    jw_uint(&j, "max_bytes", h->max_bytes);
    jw_uint(&j, "bytes", h->bytes);
    jw_uint(&j, "dropped", h->dropped);
    jw_uint(&j, "current", h->current);
    jw_arr(&j, "versions");
    for (size_t i = 0; i < h->count; i++) {
        const ipcn_history_entry *e = &h->entries[i];
        jw_obj(&j, NULL);
        jw_uint(&j, "version", e->version);
        jw_uint(&j, "wall_ns", e->wall_ns);
        jw_uint(&j, "mono_ns", e->mono_ns);
        jw_str(&j, "setter", e->setter);
        jw_hex64(&j, "setter_id", e->setter_id);
        jw_int(&j, "uid", e->uid);
        jw_int(&j, "pid", e->pid);
        jw_str(&j, "via", via_name(e->via));
        if (e->data) {
            value_json(&j, e->encoding, e->data, e->len);
        } else { /* listed without values (too large for one answer) */
            jw_str(&j, "encoding", e->encoding);
            jw_uint(&j, "size", e->len);
            jw_null(&j, "value");
        }
        jw_end_obj(&j);
    }
    jw_end_arr(&j);
    jw_end_obj(&j);
    emit(&j);
}

static void print_table(const ipcn_history *h)
{
    /* Names a peer supplied: escaped for the terminal. */
    char node[4 * 64 + 1], setter[4 * 64 + 1];
    escape_line(node, sizeof node, h->node);
    out("%s (provider %s): %zu version%s kept of at most %u, %llu of %llu "
        "bytes, %llu dropped; current version %llu\n",
        h->path, node, h->count, h->count == 1 ? "" : "s", h->depth,
        (unsigned long long)h->bytes, (unsigned long long)h->max_bytes,
        (unsigned long long)h->dropped, (unsigned long long)h->current);
    if (!h->count) {
        out_flush();
        return;
    }
    out("%8s  %-26s  %-20s %8s  %-7s  %s\n", "VERSION", "SET AT (UTC)",
        "BY", "PID", "VIA", "VALUE");
    for (size_t i = 0; i < h->count; i++) {
        const ipcn_history_entry *e = &h->entries[i];
        char when[64], pid[16];
        when_text(when, sizeof when, e->wall_ns);
        if (e->pid < 0)
            snprintf(pid, sizeof pid, "-");
        else
            snprintf(pid, sizeof pid, "%d", e->pid);
        sbuf b = {0};
        char none[64];
        if (e->data)
            value_text(&b, e->encoding, e->data, e->len, true);
        else
            snprintf(none, sizeof none, "(%zu bytes, not listed)", e->len);
        const char *v = e->data ? (b.p ? b.p : "") : none;
        escape_line(setter, sizeof setter, e->setter);
        size_t vl = strlen(v);
        out("%8llu  %-26s  %-20s %8s  %-7s  %.*s%s\n",
            (unsigned long long)e->version, when, setter, pid,
            via_name(e->via), (int)(vl > 60 ? 57 : vl), v,
            vl > 60 ? "..." : "");
        sb_free(&b);
    }
    out_flush();
}

int cmd_history(cli *c)
{
    const char *path = c->pos[0];
    int rc;
    if (c->timeout_ms < 0)
        c->timeout_ms = 2000;
    if (c->raw && !c->expect_version)
        return cli_usage_error(c->verb, "--raw needs --version");
    if ((rc = cli_open(c)) || (rc = cli_discover(c, path)))
        return rc;
    if (c->expect_version)
        return one_version(c, path);
    ipcn_history *h = NULL;
    int st = ipcn_history_get(c->node, path, 0, c->timeout_ms, &h);
    if (st == IPCN_INSUFFICIENT_STORAGE) /* too large: the sizes only */
        st = ipcn_history_get(c->node, path, IPCN_HISTORY_NO_VALUES,
                              c->timeout_ms, &h);
    if (st != IPCN_OK)
        return history_failed(c, st, path);
    if (c->json)
        print_json(h);
    else
        print_table(h);
    ipcn_history_free(h);
    return 0;
}

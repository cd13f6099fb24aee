/* SPDX-License-Identifier: MIT */
/*
 * cmd_prov.c — `ipcnet prov show|verify|export PATTERN` and `ipcnet trace
 * PATTERN`: the provenance of the next sample of a stream
 * (ipcnet_prov.h; docs/protocol.md 20).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const char cmd_prov_help[] =
    "usage: ipcnet prov show|verify|export PATTERN [--timeout MS] [options]\n\n"
    "Subscribe to PATTERN, take the next sample that carries a provenance\n"
    "record (docs/protocol.md 20), and:\n"
    "  show     print its record: producer, seq, time, payload digest, parents\n"
    "  verify   verify it back to its origins (each producer's signed chain,\n"
    "           the payload's digest, declared pass-throughs); exit 0 when it\n"
    "           verifies, else the failure ('202 Forbidden: ...') and exit 1\n"
    "  export   print its verified lineage as W3C PROV-JSON\n"
    "  --timeout MS    wait at most MS for the sample, and for each answer\n"
    "                  (default 5000)\n";

const char cmd_trace_help[] =
    "usage: ipcnet trace PATTERN [--timeout MS] [options]\n\n"
    "The path of the next sample of PATTERN that carries a provenance record:\n"
    "the processes it went through, origin first, each with its sample's\n"
    "seq and the time from its parent's publish to its own (transport and\n"
    "work, the producers' clocks), verified as 'prov verify' does; then the\n"
    "nodes its producer sent its copies to.  --json: one document.\n";

typedef struct prov_wait {
    ipcn_msg *msg;
} prov_wait;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    prov_wait *w = user;
    const uint8_t *b;
    size_t len;
    if (!w->msg && m->status == IPCN_OK &&
        ipcn_msg_provenance(m, &b, &len) == IPCN_OK)
        w->msg = ipcn_msg_ref(m);
}

/* The next sample of pattern with a record, or NULL (failure printed). */
static ipcn_msg *next_sample(cli *c, const char *pattern, int *rc)
{
    prov_wait w = {0};
    ipcn_sub sub;
    cli_catch_signals();
    if ((*rc = cli_open(c)))
        return NULL;
    int st = ipcn_subscribe(c->node, pattern, 16, on_sample, &w, &sub);
    if (st != IPCN_OK) {
        *rc = cli_fail(st, "subscribe %s", pattern);
        return NULL;
    }
    int timeout = c->timeout_ms >= 0 ? c->timeout_ms : 5000;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!w.msg && !cli_stop) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= timeout)
            break;
        cli_pump(c, (int)(timeout - ms), NULL, 0);
    }
    ipcn_unsubscribe(c->node, sub);
    if (!w.msg)
        *rc = cli_fail(IPCN_GATEWAY_TIMEOUT,
                       "no sample of %s with a provenance record in %d ms",
                       pattern, timeout);
    return w.msg;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

/* s as it may be printed: names come from a producer (its record, its
 * answer), so control bytes are escaped; json: also quotes and
 * backslashes, as a JSON string's contents.  Into buf (cap bytes,
 * truncated past that). */
static const char *esc(const char *s, bool json, char *buf, size_t cap)
{
    size_t k = 0;
    for (; *s && k + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (json && (c == '"' || c == '\\'))
            k += (size_t)snprintf(buf + k, cap - k, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(buf + k, cap - k,
                                  json ? "\\u%04x" : "\\x%02x", c);
        else
            buf[k++] = (char)c;
    }
    buf[k] = 0;
    return buf;
}

static void print_record(const ipcn_prov_record *r, const char *indent)
{
    char d[65], e1[512], e2[512];
    hex(d, r->digest, 32);
    printf("%s%s (node %016" PRIx64 ", %s) record %" PRIu64 ": seq %" PRIu64
           ", time %" PRIu64 ".%09" PRIu64 ", digest %s%s%s\n",
           indent, esc(r->node, false, e1, sizeof e1), r->node_id,
           esc(r->principal, false, e2, sizeof e2), r->index, r->seq,
           r->time_ns / 1000000000u, r->time_ns % 1000000000u, d,
           r->flags & IPCN_PROV_PASSTHROUGH ? ", pass-through" : "",
           r->flags & IPCN_PROV_REPLAYED ? ", replayed" : "");
    for (uint32_t i = 0; i < r->nparents; i++) {
        hex(d, r->parents[i].digest, 32);
        printf("%s  parent: node %016" PRIx64 " record %" PRIu64 " seq %" PRIu64
               " digest %s\n",
               indent, r->parents[i].node_id, r->parents[i].index,
               r->parents[i].seq, d);
    }
}

static int failed(int st, const ipcn_prov_report *rep)
{
    return cli_fail(st, "%s", rep->reason[0] ? rep->reason : "not verified");
}

int cmd_prov(cli *c)
{
    const char *what = c->pos[0], *pattern = c->npos > 1 ? c->pos[1] : NULL;
    if (!pattern || (strcmp(what, "show") && strcmp(what, "verify") &&
                     strcmp(what, "export")))
        return cli_usage_error("prov", "show|verify|export PATTERN");
    int rc;
    ipcn_msg *m = next_sample(c, pattern, &rc);
    if (!m)
        return rc;
    int timeout = c->timeout_ms >= 0 ? c->timeout_ms : 5000;
    const uint8_t *b;
    size_t len;
    ipcn_prov_record r;
    ipcn_prov_report rep;
    memset(&rep, 0, sizeof rep);
    rc = EXIT_OK;
    if (!strcmp(what, "show")) {
        ipcn_msg_provenance(m, &b, &len);
        if (ipcn_prov_decode(b, len, &r) == IPCN_OK) {
            printf("%s:\n", m->path);
            print_record(&r, "  ");
        }
    } else if (!strcmp(what, "verify")) {
        int st = ipcn_prov_verify(c->node, m, timeout, &rep);
        if (st != IPCN_OK)
            rc = failed(st, &rep);
        else
            printf("%s seq %" PRIu64 ": verified, %u records, %u stages back\n",
                   m->path, m->seq, rep.records, rep.depth);
    } else {
        char *json = NULL;
        int st = ipcn_prov_export_json(c->node, m, timeout, &json);
        if (st != IPCN_OK)
            rc = cli_fail(st, "the lineage of %s does not verify", m->path);
        else
            fputs(json, stdout);
        free(json);
    }
    ipcn_msg_free(m);
    return rc;
}

int cmd_trace(cli *c)
{
    char e1[512]; /* a name, escaped (esc) */
    int rc;
    ipcn_msg *m = next_sample(c, c->pos[0], &rc);
    if (!m)
        return rc;
    int timeout = c->timeout_ms >= 0 ? c->timeout_ms : 5000;
    ipcn_prov_step *steps = NULL;
    size_t n = 0;
    ipcn_prov_report rep;
    int st = ipcn_prov_trace(c->node, m, timeout, &steps, &n, &rep);
    if (st != IPCN_OK) {
        rc = failed(st, &rep);
        ipcn_msg_free(m);
        return rc;
    }
    ipcn_prov_ref ref;
    ipcn_msg_prov_ref(m, &ref);
    ipcn_prov_delivery *d = NULL;
    size_t nd = 0;
    int local = 0;
    int dst = ipcn_prov_deliveries(c->node, &ref, timeout, &d, &nd, &local);
    uint32_t maxd = 0;
    for (size_t i = 0; i < n; i++)
        if (steps[i].depth > maxd)
            maxd = steps[i].depth;
    if (c->json) {
        printf("{\"path\": \"%s\", \"seq\": %" PRIu64 ", \"stages\": [", m->path,
               m->seq);
        bool first = true;
        for (uint32_t depth = maxd + 1; depth-- > 0;)
            for (size_t i = 0; i < n; i++) {
                const ipcn_prov_record *r = &steps[i].record;
                if (steps[i].depth != depth)
                    continue;
                printf("%s{\"node\": \"%s\", \"node_id\": \"%016" PRIx64
                       "\", \"seq\": %" PRIu64 ", \"depth\": %u, \"stage_ns\": %" PRId64
                       ", \"parents\": %u}",
                       first ? "" : ", ", esc(r->node, true, e1, sizeof e1),
                       r->node_id, r->seq,
                       steps[i].depth, steps[i].stage_ns, r->nparents);
                first = false;
            }
        printf("], \"sent_to\": [");
        for (size_t i = 0; dst == IPCN_OK && i < nd; i++)
            printf("%s\"%s\"", i ? ", " : "", esc(d[i].name, true, e1, sizeof e1));
        printf("], \"local\": %s}\n", local ? "true" : "false");
    } else {
        printf("%s seq %" PRIu64 " (verified, %zu records):\n", m->path, m->seq,
               n);
        for (uint32_t depth = maxd + 1; depth-- > 0;)
            for (size_t i = 0; i < n; i++) {
                const ipcn_prov_record *r = &steps[i].record;
                if (steps[i].depth != depth)
                    continue;
                printf("  %*s%s seq %" PRIu64, (int)(2 * (maxd - depth)), "",
                       esc(r->node, false, e1, sizeof e1), r->seq);
                if (r->nparents)
                    printf("  +%.3f ms%s", (double)steps[i].stage_ns / 1e6,
                           r->flags & IPCN_PROV_PASSTHROUGH ? " (pass-through)"
                                                             : "");
                else
                    printf("  (origin)");
                printf("\n");
            }
        if (dst == IPCN_OK) {
            printf("  sent to:");
            for (size_t i = 0; i < nd; i++)
                printf(" %s", d[i].name[0] ? esc(d[i].name, false, e1, sizeof e1)
                                           : "(gone)");
            if (!nd && !local)
                printf(" nobody");
            if (local)
                printf(" (and %s's own subscribers)", steps[0].record.node);
            printf("\n");
        } else {
            printf("  sent to: unknown (%d %s)\n", dst, ipcn_status_str(dst));
        }
    }
    free(d);
    free(steps);
    ipcn_msg_free(m);
    return EXIT_OK;
}

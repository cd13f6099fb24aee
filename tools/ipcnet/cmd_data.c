/* SPDX-License-Identifier: MIT */
/*
 * cmd_data.c — data and streams: hold, set, query, pub, echo, hz.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "cli.h"
#include "ipcnet_schema.h"
#include "schema_text.h"
#include "util.h"

/* --meta JSON as the CBOR map the descriptor carries; or, for pub, the rate
 * when no --meta was given.  Returns 0 or the exit status. */
static int build_meta(cli *c, sbuf *meta, double rate)
{
    if (c->meta) {
        jval *v;
        char err[160];
        if (json_parse(c->meta, strlen(c->meta), &v, err, sizeof err) < 0)
            return cli_fail(IPCN_BAD_REQUEST, "--meta is not valid JSON: %s", err);
        int bad = cbor_from_json(meta, v, err, sizeof err);
        json_free(v);
        if (bad)
            return cli_fail(IPCN_BAD_REQUEST, "--meta: %s", err);
    } else if (rate > 0) {
        jval *v = json_new(J_OBJ);
        char r[32];
        snprintf(r, sizeof r, "%.17g", rate);
        json_add(v, "rate", 4, json_num_text(r));
        cbor_from_json(meta, v, NULL, 0);
        json_free(v);
    }
    return 0;
}

/* Why v[0..n) is not of the type path's descriptor declares (its meta's
 * "schema", ipcnet_schema.h): true with the reason in why; false when path
 * is untyped or v is of its type. */
static bool type_reason(cli *c, const char *path, const void *v, size_t n,
                        char *why, size_t wl)
{
    ipcn_resource_list *rl = NULL;
    bool found = false;
    if (ipcn_find(c->node, path, IPCN_ANY, &rl) != IPCN_OK)
        return false;
    for (size_t i = 0; i < rl->count && !found; i++) {
        const ipcn_resource *r = &rl->items[i];
        jval *meta = NULL;
        if (r->kind == IPCN_SERVICE || !r->meta_len ||
            cbor_to_json(r->meta, r->meta_len, &meta) != 0)
            continue;
        const jval *t = schema_of_meta(meta);
        sbuf tb = {0};
        found = t && !cbor_from_json(&tb, t, NULL, 0) &&
                ipcn_schema_check(tb.p, tb.len, v, n, why, wl) ==
                    IPCN_BAD_REQUEST;
        sb_free(&tb);
        json_free(meta);
    }
    ipcn_resource_list_free(rl);
    return found;
}

/* A publish of v refused with st: why, in words. */
static int publish_failed(cli *c, int st, const char *path, const sbuf *v)
{
    char why[200];
    if (st == IPCN_BAD_REQUEST && type_reason(c, path, v->p, v->len, why, sizeof why))
        return cli_fail(st, "the value is not of the type of %s: %s", path, why);
    if (st == IPCN_BAD_REQUEST)
        return cli_fail(st, "the value is too large for %s", path);
    return cli_fail(st, "cannot publish on %s", path);
}

/* With --strength or --warm, an owned path (ipcnet_redundancy.h). */
static int announce(cli *c, const char *path, ipcn_kind kind, const char *enc,
                    const sbuf *meta)
{
    int st;
    if (c->owned) {
        ipcn_announce_opts o;
        ipcn_announce_opts_init(&o);
        o.strength = c->strength;
        o.standby = c->warm ? IPCN_STANDBY_WARM : IPCN_STANDBY_HOT;
        st = ipcn_announce_owned(c->node, path, kind, enc, meta->p, meta->len, &o);
    } else {
        st = ipcn_announce(c->node, path, kind, enc, meta->p, meta->len);
    }
    if (IPCN_IS_OK(st))
        return 0;
    if (st == IPCN_CONFLICT) {
        ipcn_resource_list *rl = NULL;
        const char *who = "another node";
        char buf[96];
        if (ipcn_find(c->node, path, IPCN_ANY, &rl) == IPCN_OK && rl->count) {
            snprintf(buf, sizeof buf, "node %s", rl->items[0].provider);
            who = buf;
        }
        ipcn_resource_list_free(rl);
        if (c->owned)
            return cli_fail(st, "%s provides %s without ownership (--strength)", who, path);
        return cli_fail(st, "%s already provides %s", who, path);
    }
    if (st == IPCN_BAD_REQUEST)
        return cli_fail(st, "cannot announce '%s': invalid path or encoding, or a "
                            "\"schema\" in --meta that is no valid type (or whose "
                            "values are not CBOR)", path);
    return cli_fail(st, "cannot announce %s", path);
}

static void ready(cli *c, const char *verb_text, const char *path, ipcn_kind kind)
{
    path = cli_wire_path(c, path);
    ipcn_node_ready(c->node); /* its peers (a supervisor) are told too */
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "ready");
        jw_str(&j, "path", path);
        jw_str(&j, "kind", kind_name(kind));
        jw_str(&j, "node", c->node_name);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("%s %s %s as node %s (Ctrl-C to stop)\n", verb_text, kind_name(kind),
            path, c->node_name);
        out_flush();
    }
}

/* n: samples published, or -1 */
static void stopped(cli *c, const char *path, long long n)
{
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "stopped");
        jw_str(&j, "path", path);
        if (n >= 0)
            jw_int(&j, "published", n);
        jw_end_obj(&j);
        emit(&j);
    } else {
        if (n >= 0)
            out("%lld sample%s published; withdrew %s\n", n, n == 1 ? "" : "s", path);
        else
            out("withdrew %s\n", path);
        out_flush();
    }
}

/* ------------------------------------------------------------------ */
/* set, query                                                           */
/* ------------------------------------------------------------------ */

int cmd_hold(cli *c)
{
    const char *path = c->pos[0];
    sbuf val = {0}, meta = {0};
    const char *enc;
    int rc;
    if ((rc = value_from_args(c, c->npos > 1 ? c->pos[1] : NULL, &val, &enc)) ||
        (rc = build_meta(c, &meta, 0)))
        goto done;
    cli_catch_signals();
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)) || cli_stop ||
        (rc = announce(c, path, IPCN_DATA, enc, &meta)))
        goto done;
    int st = ipcn_publish(c->node, path, val.p, val.len);
    /* A warm standby holds no value until it owns the path (207 meanwhile). */
    bool waiting = c->owned && c->warm && st == IPCN_CONFLICT;
    if (st != IPCN_OK && !waiting) {
        rc = publish_failed(c, st, path, &val);
        goto done;
    }
    ready(c, "serving", path, IPCN_DATA);
    while (!cli_stop) {
        cli_pump(c, waiting ? 20 : -1, NULL, 0);
        if (waiting && !cli_stop) {
            st = ipcn_publish(c->node, path, val.p, val.len);
            if (st != IPCN_CONFLICT && st != IPCN_OK) {
                rc = cli_fail(st, "cannot set %s", path);
                break;
            }
            waiting = st == IPCN_CONFLICT;
        }
    }
    cli_close(c); /* withdraws */
    stopped(c, path, -1);
done:
    sb_free(&val);
    sb_free(&meta);
    return rc;
}

/* The encoding of the data resource at path, as announced ("": unknown). */
static void data_encoding(cli *c, const char *path, char *out, size_t n)
{
    ipcn_resource_list *rl = NULL;
    out[0] = 0;
    if (ipcn_find(c->node, path, IPCN_DATA, &rl) == IPCN_OK && rl->count)
        snprintf(out, n, "%s", rl->items[0].encoding ? rl->items[0].encoding : "");
    ipcn_resource_list_free(rl);
}

static int set_failed(cli *c, int st, const char *path, uint64_t version,
                      const sbuf *val)
{
    char why[200];
    switch (st) {
    case IPCN_CONFLICT:
        return cli_fail(st, "%s changed: its version is %llu, not %llu", path,
                        (unsigned long long)version,
                        (unsigned long long)c->expect_version);
    case IPCN_NOT_FOUND:
        return cli_fail(st, "no provider for %s", path);
    case IPCN_METHOD_NOT_ALLOWED:
        return cli_fail(st, "%s is not a data resource", path);
    case IPCN_GATEWAY_TIMEOUT:
        return cli_fail(st, "no answer for %s within %d ms", path, c->timeout_ms);
    case IPCN_SERVICE_UNAVAILABLE:
        return cli_fail(st, "the provider of %s left before answering", path);
    case IPCN_BAD_REQUEST:
        if (type_reason(c, path, val->p, val->len, why, sizeof why))
            return cli_fail(st, "the value is not of the type of %s: %s", path, why);
        return cli_fail(st, "the provider of %s refused the value (invalid path, "
                        "another encoding, or too large)", path);
    default:
        return cli_fail(st, "the provider of %s refused the value", path);
    }
}

int cmd_set(cli *c)
{
    const char *path = c->pos[0];
    sbuf val = {0};
    const char *enc;
    char res_enc[256];
    int rc;
    if (c->timeout_ms < 0)
        c->timeout_ms = 5000;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, path)))
        return rc;
    /* VALUE as the resource's encoding, unless told otherwise. */
    data_encoding(c, path, res_enc, sizeof res_enc);
    if (!c->encoding && res_enc[0])
        c->encoding = res_enc;
    if ((rc = value_from_args(c, c->npos > 1 ? c->pos[1] : NULL, &val, &enc)))
        goto done;
    uint64_t version = 0;
    int st = ipcn_set(c->node, path, val.p, val.len, enc, c->expect_version,
                      c->timeout_ms, &version);
    if (st != IPCN_OK) {
        rc = set_failed(c, st, path, version, &val);
        goto done;
    }
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "path", path);
        jw_uint(&j, "version", version);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("%s: version %llu\n", path, (unsigned long long)version);
        out_flush();
    }
done:
    sb_free(&val);
    return rc;
}

static int query_failed(cli *c, int st, const char *path)
{
    switch (st) {
    case IPCN_NO_DATA:
        return cli_fail(st, "%s holds no value yet", path);
    case IPCN_NOT_FOUND:
        return cli_fail(st, "no provider for %s", path);
    case IPCN_METHOD_NOT_ALLOWED: {
        ipcn_resource_list *rl = NULL;
        const char *k = "not a data resource";
        if (ipcn_find(c->node, path, IPCN_ANY, &rl) == IPCN_OK && rl->count)
            k = rl->items[0].kind == IPCN_STREAM ? "a stream (try: ipcnet echo)"
                                                 : "a service (try: ipcnet call)";
        int rc = cli_fail(st, "%s is %s", path, k);
        ipcn_resource_list_free(rl);
        return rc;
    }
    case IPCN_GATEWAY_TIMEOUT:
        return cli_fail(st, "no answer for %s within %d ms", path, c->timeout_ms);
    case IPCN_SERVICE_UNAVAILABLE:
        return cli_fail(st, "the provider of %s left before answering", path);
    case IPCN_FORBIDDEN:
        return cli_fail(st, "the provider of %s refused the query", path);
    case IPCN_BAD_REQUEST:
        return cli_fail(st, "cannot query '%s': invalid path", path);
    default:
        return cli_fail(st, "query %s failed", path);
    }
}

int cmd_query(cli *c)
{
    const char *path = c->pos[0];
    int rc;
    if (c->timeout_ms < 0)
        c->timeout_ms = 2000;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, path)))
        return rc;
    ipcn_msg *m = NULL;
    int st = ipcn_query(c->node, path, &m, c->timeout_ms);
    if (st != IPCN_OK)
        return query_failed(c, st, path);
    cli_show_value(c, m, false);
    ipcn_msg_free(m);
    return 0;
}

void cli_show_value(cli *c, const ipcn_msg *m, bool version)
{
    if (c->raw) {
        value_raw(m->data, m->len);
    } else if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "path", m->path);
        jw_str(&j, "provider", m->src_name);
        if (version) {
            jw_uint(&j, "version", m->seq);
            jw_uint(&j, "wall_ns", m->timestamp_ns);
        }
        value_json(&j, m->encoding, m->data, m->len);
        jw_end_obj(&j);
        emit(&j);
    } else {
        sbuf b = {0};
        value_text(&b, m->encoding, m->data, m->len, false);
        out("%s\n", b.p);
        sb_free(&b);
        out_flush();
    }
}

/* ------------------------------------------------------------------ */
/* pub                                                                  */
/* ------------------------------------------------------------------ */

int cmd_pub(cli *c)
{
    const char *path = c->pos[0];
    sbuf val = {0}, meta = {0};
    const char *enc;
    int rc;
    if ((rc = value_from_args(c, c->npos > 1 ? c->pos[1] : NULL, &val, &enc)) ||
        (rc = build_meta(c, &meta, c->rate)))
        goto done;
    cli_catch_signals();
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)) || cli_stop ||
        (rc = announce(c, path, IPCN_STREAM, enc, &meta)))
        goto done;
    ready(c, "publishing", path, IPCN_STREAM);
    long long sent = 0;
    uint64_t period = c->rate > 0 ? (uint64_t)(1e9 / c->rate) : 0;
    uint64_t next = now_mono_ns();
    while (!cli_stop && (c->count < 0 || sent < c->count)) {
        uint64_t now = now_mono_ns();
        if (now >= next) {
            int st = ipcn_publish(c->node, path, val.p, val.len);
            if (st == IPCN_CONFLICT && c->owned && c->warm) {
                /* A warm standby sends nothing until it owns the path. */
                next += period;
                if (next + 10 * period < now)
                    next = now + period;
                cli_pump(c, period ? 0 : 10, NULL, 0);
                continue;
            }
            if (st != IPCN_OK) {
                rc = publish_failed(c, st, path, &val);
                break;
            }
            sent++;
            next += period;
            if (next + 10 * period < now) /* fell far behind: do not burst */
                next = now + period;
            if (!period) /* as fast as possible, but keep the node alive */
                cli_pump(c, 0, NULL, 0);
            continue;
        }
        uint64_t wait = (next - now + 999999) / 1000000;
        cli_pump(c, wait > 1000 ? 1000 : (int)wait, NULL, 0);
    }
    cli_close(c);
    if (!rc)
        stopped(c, path, sent);
done:
    sb_free(&val);
    sb_free(&meta);
    return rc;
}

/* ------------------------------------------------------------------ */
/* echo                                                                 */
/* ------------------------------------------------------------------ */

/* The providers' paths whose types echo has shown (or found none). */
typedef struct echo_seen {
    char *path;
    uint64_t provider_id;
} echo_seen;

#define ECHO_SEEN_MAX 1024

typedef struct echo_state {
    cli *c;
    long long got;
    uint64_t last_ns;
    echo_seen *seen;
    size_t nseen;
} echo_state;

/* Before the first sample of a typed resource from a provider, its type
 * as a tree (schema_text.h), each line after "# " so that a reader of the
 * values can skip them:
 *   # ctl/gain: type (from node tuner)
 *   #   map
 *   #     float gain
 * Once per path and provider (at most ECHO_SEEN_MAX of them). */
static void echo_type(echo_state *e, const ipcn_msg *m)
{
    for (size_t i = 0; i < e->nseen; i++)
        if (e->seen[i].provider_id == m->src_id && !strcmp(e->seen[i].path, m->path))
            return;
    if (e->nseen == ECHO_SEEN_MAX)
        return;
    echo_seen *ns = realloc(e->seen, (e->nseen + 1) * sizeof *ns);
    char *p = strdup(m->path);
    if (!ns || !p) {
        free(p);
        if (ns)
            e->seen = ns;
        return;
    }
    e->seen = ns;
    e->seen[e->nseen++] = (echo_seen){p, m->src_id};
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(e->c->node, m->path, IPCN_ANY, &rl) != IPCN_OK)
        return;
    for (size_t i = 0; i < rl->count; i++) {
        const ipcn_resource *r = &rl->items[i];
        jval *meta = NULL;
        if (r->provider_id != m->src_id || r->kind == IPCN_SERVICE ||
            !r->meta_len || cbor_to_json(r->meta, r->meta_len, &meta) != 0)
            continue;
        const jval *t = schema_of_meta(meta);
        if (t) {
            sbuf b = {0};
            schema_tree(&b, t, 2);
            out("# %s: type (from node %s)\n# ", m->path, r->provider);
            for (size_t k = 0; k < b.len; k++)
                out(b.p[k] == '\n' && k + 1 < b.len ? "\n# " : "%c", b.p[k]);
            sb_free(&b);
        }
        json_free(meta);
    }
    ipcn_resource_list_free(rl);
}

static void on_echo(ipcn_node *node, const ipcn_msg *m, void *user)
{
    (void)node;
    echo_state *e = user;
    cli *c = e->c;
    if (m->status != IPCN_OK) {
        fprintf(stderr, "%d %s: %s went away (provider %s)\n", m->status,
                ipcn_status_str(m->status), m->path,
                m->src_name && *m->src_name ? m->src_name : "?");
        return;
    }
    if (c->count >= 0 && e->got >= c->count)
        return;
    e->got++;
    e->last_ns = now_mono_ns();
    if (c->raw) {
        value_raw(m->data, m->len);
    } else if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "path", m->path);
        jw_str(&j, "provider", m->src_name);
        jw_uint(&j, "seq", m->seq);
        jw_uint(&j, "timestamp_ns", m->timestamp_ns);
        value_json(&j, m->encoding, m->data, m->len);
        jw_end_obj(&j);
        emit(&j);
    } else {
        echo_type(e, m);
        sbuf b = {0};
        value_text(&b, m->encoding, m->data, m->len, true);
        out("%s: %s\n", m->path, b.p);
        out_flush();
        sb_free(&b);
    }
}

static int subscribe(cli *c, const char *pattern, ipcn_sample_fn fn, void *user,
                     ipcn_sub *sub)
{
    int st = ipcn_subscribe(c->node, pattern, 1024, fn, user, sub);
    if (st == IPCN_BAD_REQUEST)
        return cli_fail(st, "invalid pattern '%s' (segments separated by '/', "
                            "'*' for one segment, '**' for any number)", pattern);
    if (st != IPCN_OK)
        return cli_fail(st, "cannot subscribe to %s", pattern);
    return 0;
}

static void loss_note(cli *c, ipcn_sub sub)
{
    ipcn_sub_stats s = {.size = sizeof s};
    if (ipcn_sub_get_stats(c->node, sub, &s) == IPCN_OK && (s.lost || s.dropped))
        cli_warn("%llu samples lost upstream, %llu dropped here (queue full)",
                 (unsigned long long)s.lost, (unsigned long long)s.dropped);
}

int cmd_echo(cli *c)
{
    const char *pattern = c->pos[0];
    echo_state e = {.c = c};
    ipcn_sub sub;
    int rc;
    cli_catch_signals();
    /* Subscriptions reach each peer as its link comes up: no need to wait
     * for the network first. */
    if ((rc = cli_open(c)) || (rc = subscribe(c, pattern, on_echo, &e, &sub)))
        return rc;
    e.last_ns = now_mono_ns();
    while (!cli_stop && !cli_stdout_broken && (c->count < 0 || e.got < c->count)) {
        int wait = -1;
        if (c->timeout_ms >= 0) {
            uint64_t idle = (now_mono_ns() - e.last_ns) / 1000000;
            if (idle >= (uint64_t)c->timeout_ms) {
                rc = cli_fail(IPCN_GATEWAY_TIMEOUT, "no sample of %s for %d ms",
                              pattern, c->timeout_ms);
                break;
            }
            wait = c->timeout_ms - (int)idle;
        }
        cli_pump(c, wait, NULL, 0);
    }
    loss_note(c, sub);
    ipcn_unsubscribe(c->node, sub);
    for (size_t i = 0; i < e.nseen; i++)
        free(e.seen[i].path);
    free(e.seen);
    return rc;
}

/* ------------------------------------------------------------------ */
/* hz                                                                   */
/* ------------------------------------------------------------------ */

typedef struct hz_path {
    char *path;
    uint64_t *t;            /* publication times, a ring of `window` */
    uint32_t *size;
    size_t head, n;         /* next slot, how many held */
    uint64_t fresh;         /* samples since the last report */
    uint64_t total, last_seq, missed; /* missed: sequence gaps */
    uint64_t src_id;        /* the provider the window measures */
    bool silent_noted;
} hz_path;

typedef struct hz_state {
    cli *c;
    hz_path *p;
    size_t np;
    size_t window;
    uint64_t received;
} hz_state;

static hz_path *hz_find(hz_state *h, const char *path)
{
    for (size_t i = 0; i < h->np; i++)
        if (!strcmp(h->p[i].path, path))
            return &h->p[i];
    if (h->np >= 1024)
        return NULL;
    h->p = xrealloc(h->p, (h->np + 1) * sizeof *h->p);
    hz_path *p = &h->p[h->np++];
    memset(p, 0, sizeof *p);
    p->path = xstrdup(path);
    p->t = xcalloc(h->window, sizeof *p->t);
    p->size = xcalloc(h->window, sizeof *p->size);
    return p;
}

static void on_hz(ipcn_node *node, const ipcn_msg *m, void *user)
{
    (void)node;
    hz_state *h = user;
    if (m->status != IPCN_OK) {
        fprintf(stderr, "%d %s: %s went away (provider %s)\n", m->status,
                ipcn_status_str(m->status), m->path,
                m->src_name && *m->src_name ? m->src_name : "?");
        for (size_t i = 0; i < h->np; i++)
            if (!strcmp(h->p[i].path, m->path))
                h->p[i].n = h->p[i].head = 0; /* its gap is no interval */
        return;
    }
    hz_path *p = hz_find(h, m->path);
    if (!p)
        return;
    h->received++;
    /* Another provider (a restart is a new node id): a new window, and its
     * sequence numbers are its own. */
    if (p->n && m->src_id != p->src_id)
        p->n = p->head = 0;
    p->src_id = m->src_id;
    if (p->n && m->seq > p->last_seq + 1)
        p->missed += m->seq - p->last_seq - 1;
    p->last_seq = m->seq;
    p->total++;
    p->fresh++;
    /* The publisher's clock (CLOCK_REALTIME at publish, same host): what
     * the stream does, not how our dispatch batches its arrival. */
    p->t[p->head] = m->timestamp_ns ? m->timestamp_ns : now_real_ns();
    p->size[p->head] = (uint32_t)(m->len > UINT32_MAX ? UINT32_MAX : m->len);
    p->head = (p->head + 1) % h->window;
    if (p->n < h->window)
        p->n++;
}

/* Report each path; returns how many had new samples to report. */
static int hz_report(hz_state *h)
{
    cli *c = h->c;
    int reported = 0;
    for (size_t i = 0; i < h->np; i++) {
        hz_path *p = &h->p[i];
        if (!p->fresh) {
            if (!c->json && !p->silent_noted)
                out("%s: no new samples\n", p->path);
            p->silent_noted = true;
            continue;
        }
        p->silent_noted = false;
        if (p->n < 2)
            continue;
        size_t first = (p->head + h->window - p->n) % h->window;
        double mn = INFINITY, mx = 0, sum = 0, sum2 = 0, bytes = 0;
        for (size_t k = 1; k < p->n; k++) {
            size_t a = (first + k - 1) % h->window, b = (first + k) % h->window;
            double d = p->t[b] > p->t[a] ? (double)(p->t[b] - p->t[a]) / 1e9 : 0;
            mn = d < mn ? d : mn;
            mx = d > mx ? d : mx;
            sum += d;
            sum2 += d * d;
            bytes += p->size[b];
        }
        double k = (double)(p->n - 1);
        double mean = sum / k;
        double var = sum2 / k - mean * mean;
        double sd = var > 0 ? sqrt(var) : 0;
        double rate = mean > 0 ? 1.0 / mean : 0;
        double bw = sum > 0 ? bytes / sum : 0;
        p->fresh = 0;
        reported++;
        if (c->json) {
            jw j = {0};
            jw_obj(&j, NULL);
            jw_str(&j, "path", p->path);
            jw_double(&j, "rate_hz", rate);
            jw_double(&j, "mean_s", mean);
            jw_double(&j, "min_s", mn);
            jw_double(&j, "max_s", mx);
            jw_double(&j, "jitter_s", sd);
            jw_double(&j, "bytes_per_s", bw);
            jw_uint(&j, "window", p->n);
            jw_uint(&j, "samples", p->total);
            jw_uint(&j, "missed", p->missed);
            jw_end_obj(&j);
            emit(&j);
        } else {
            char b[32];
            fmt_bytes(b, sizeof b, bw);
            out("%s: %.3f Hz  min %.3f ms  max %.3f ms  jitter %.3f ms  %s/s  "
                "window %zu  missed %llu\n", p->path, rate, mn * 1e3, mx * 1e3,
                sd * 1e3, b, p->n, (unsigned long long)p->missed);
        }
    }
    out_flush();
    return reported;
}

int cmd_hz(cli *c)
{
    const char *pattern = c->pos[0];
    hz_state h = {.c = c, .window = c->window > 1 ? (size_t)c->window : 1000};
    ipcn_sub sub;
    int rc;
    cli_catch_signals();
    if ((rc = cli_open(c)) || (rc = subscribe(c, pattern, on_hz, &h, &sub)))
        return rc;
    uint64_t start = now_mono_ns(), next = start + 1000000000ull;
    long long reports = 0;
    while (!cli_stop && !cli_stdout_broken && (c->count < 0 || reports < c->count)) {
        uint64_t now = now_mono_ns();
        if (c->timeout_ms >= 0 && !h.received &&
            now - start >= (uint64_t)c->timeout_ms * 1000000ull) {
            rc = cli_fail(IPCN_GATEWAY_TIMEOUT, "no sample of %s in %d ms", pattern,
                          c->timeout_ms);
            break;
        }
        if (now >= next) {
            reports += hz_report(&h) > 0;
            next += 1000000000ull;
            continue;
        }
        uint64_t wake = next;
        if (c->timeout_ms >= 0 && !h.received) {
            uint64_t give_up = start + (uint64_t)c->timeout_ms * 1000000ull;
            wake = give_up < wake ? give_up : wake;
        }
        cli_pump(c, wake > now ? (int)((wake - now) / 1000000 + 1) : 0, NULL, 0);
    }
    loss_note(c, sub);
    ipcn_unsubscribe(c->node, sub);
    for (size_t i = 0; i < h.np; i++) {
        free(h.p[i].path);
        free(h.p[i].t);
        free(h.p[i].size);
    }
    free(h.p);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * sys_guard.c — the node services of the guard (sys.h): what an operator
 * asks of a node about the peers it holds against, with `ipcnet
 * quarantine`:
 *   "quarantine"       its records (ipcn_quarantines(): quarantined and
 *                      banned principals, or every record with the body
 *                      {"all": true}) and the peers it holds evidence of
 *                      a compromise against (ipcn_compromises()), as CBOR;
 *   "quarantine/lift"  the body is the subject (text/plain, or a CBOR text):
 *                      lifted from quarantine or ban (ipcn_quarantine_lift())
 *                      and from isolation (ipcn_isolation_lift()).
 * Who may call them is the network policy's word, as for any service: in
 * a network shared by a group, a rule must grant EXECUTE of
 * "@sys/ * /quarantine/lift" to its operators.
 */
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "value/value.h"

static const char *state_name(ipcn_quarantine_state s)
{
    return s == IPCN_QUARANTINE_QUARANTINED ? "quarantined"
           : s == IPCN_QUARANTINE_BANNED    ? "banned"
                                            : "none";
}

static const char *action_name(ipcn_compromise_action a)
{
    return a == IPCN_COMPROMISE_SHUTDOWN  ? "shutdown"
           : a == IPCN_COMPROMISE_ISOLATE ? "isolate"
                                          : "report";
}

static void put_record(ipcn_cbor_writer *w, const ipcn_quarantine_record *q)
{
    uint32_t kinds = 0;
    for (int k = 0; k < IPCN_OFFENCE_KINDS; k++)
        kinds += q->evidence[k] && ipcn_offence_name(k);
    ipcn_cbor_put_map(w, 11);
    ipcn_cbor_put_cstr(w, "subject");
    ipcn_cbor_put_cstr(w, q->subject);
    ipcn_cbor_put_cstr(w, "uid");
    ipcn_cbor_put_int(w, q->uid);
    ipcn_cbor_put_cstr(w, "pid");
    ipcn_cbor_put_int(w, q->pid);
    ipcn_cbor_put_cstr(w, "score");
    ipcn_cbor_put_float(w, q->score);
    ipcn_cbor_put_cstr(w, "state");
    ipcn_cbor_put_cstr(w, state_name(q->state));
    ipcn_cbor_put_cstr(w, "ms_left");
    if (q->state == IPCN_QUARANTINE_BANNED)
        ipcn_cbor_put_null(w);
    else
        ipcn_cbor_put_uint(w, q->ms_left);
    ipcn_cbor_put_cstr(w, "strikes");
    ipcn_cbor_put_uint(w, q->strikes);
    ipcn_cbor_put_cstr(w, "evidence");
    ipcn_cbor_put_map(w, kinds);
    for (int k = 0; k < IPCN_OFFENCE_KINDS; k++)
        if (q->evidence[k] && ipcn_offence_name(k)) {
            ipcn_cbor_put_cstr(w, ipcn_offence_name(k));
            ipcn_cbor_put_uint(w, q->evidence[k]);
        }
    ipcn_cbor_put_cstr(w, "detail");
    ipcn_cbor_put_cstr(w, q->detail ? q->detail : "");
    ipcn_cbor_put_cstr(w, "by_report");
    ipcn_cbor_put_bool(w, q->by_report);
    ipcn_cbor_put_cstr(w, "reporters");
    ipcn_cbor_put_array(w, q->nreporters);
    for (uint32_t i = 0; i < q->nreporters; i++)
        ipcn_cbor_put_cstr(w, q->reporters[i]);
}

static void put_compromise(ipcn_cbor_writer *w, const ipcn_compromise *c)
{
    ipcn_cbor_put_map(w, 7);
    ipcn_cbor_put_cstr(w, "name");
    ipcn_cbor_put_cstr(w, c->name);
    ipcn_cbor_put_cstr(w, "uid");
    ipcn_cbor_put_int(w, c->uid);
    ipcn_cbor_put_cstr(w, "pid");
    ipcn_cbor_put_int(w, c->pid);
    ipcn_cbor_put_cstr(w, "kind");
    ipcn_cbor_put_cstr(w, ipcn__cz_kind_name(c->kind));
    ipcn_cbor_put_cstr(w, "detail");
    ipcn_cbor_put_cstr(w, c->detail ? c->detail : "");
    ipcn_cbor_put_cstr(w, "action");
    ipcn_cbor_put_cstr(w, action_name(c->action));
    ipcn_cbor_put_cstr(w, "isolated");
    ipcn_cbor_put_bool(w, c->isolated);
}

typedef struct guard_view {
    const char *node;
    ipcn_quarantine_list *q;
    ipcn_compromise_list *c;
} guard_view;

static void put_view(ipcn_cbor_writer *w, const guard_view *v)
{
    ipcn_cbor_put_map(w, 3);
    ipcn_cbor_put_cstr(w, "node");
    ipcn_cbor_put_cstr(w, v->node);
    ipcn_cbor_put_cstr(w, "records");
    ipcn_cbor_put_array(w, v->q->count);
    for (size_t i = 0; i < v->q->count; i++) {
        ipcn_quarantine_record r = {.size = sizeof r};
        if (ipcn_quarantine_list_get(v->q, i, &r) == IPCN_OK)
            put_record(w, &r);
        else
            ipcn_cbor_put_null(w);
    }
    ipcn_cbor_put_cstr(w, "compromised");
    ipcn_cbor_put_array(w, v->c->count);
    for (size_t i = 0; i < v->c->count; i++)
        put_compromise(w, &v->c->items[i]);
}

/* 200, saying why in text/plain. */
static int refuse(ipcn__sys_reply *r, const char *why)
{
    r->data = ipcn__strdup(why);
    r->len = r->data ? strlen(why) : 0;
    r->encoding = "text/plain";
    return IPCN_BAD_REQUEST;
}

/* The body of "quarantine": empty, or CBOR {"all": bool}. */
static int arg_all(const ipcn__sys_call *c, bool *all)
{
    *all = false;
    if (!c->len)
        return IPCN_OK;
    ipcn_encoding e;
    ipcn_cbor_reader rd;
    ipcn_cbor_value v, k, b;
    if (ipcn_encoding_parse(c->encoding, &e) != IPCN_OK ||
        !ipcn_encoding_is(&e, "cbor") ||
        ipcn_cbor_check(c->data, c->len, 0) != IPCN_OK ||
        ipcn_cbor_reader_init(&rd, c->data, c->len, 0) != IPCN_OK ||
        ipcn_cbor_next(&rd, &v) != IPCN_OK || v.type != IPCN_CBOR_MAP ||
        v.count > 1)
        return IPCN_BAD_REQUEST;
    if (!v.count)
        return IPCN_OK;
    if (ipcn_cbor_next(&rd, &k) != IPCN_OK || k.type != IPCN_CBOR_TEXT ||
        k.len != 3 || memcmp(k.ptr, "all", 3) ||
        ipcn_cbor_next(&rd, &b) != IPCN_OK || b.type != IPCN_CBOR_BOOL)
        return IPCN_BAD_REQUEST;
    *all = b.u != 0;
    return IPCN_OK;
}

static int sys_quarantine(ipcn_node *n, ipcn__link *l, const ipcn__sys_call *c,
                          ipcn__sys_reply *r)
{
    (void)l;
    bool all;
    if (arg_all(c, &all) != IPCN_OK) {
        return refuse(r, "the body is empty or CBOR {\"all\": bool}");
    }
    guard_view v = {.node = n->name};
    int st = ipcn_quarantines(n, all ? IPCN_QUARANTINE_ALL : 0, &v.q);
    if (st == IPCN_OK)
        st = ipcn_compromises(n, &v.c);
    ipcn_cbor_writer w;
    size_t len = 0;
    if (st == IPCN_OK) {
        ipcn_cbor_writer_init(&w, NULL, 0, 0);
        put_view(&w, &v);
        st = ipcn_cbor_writer_finish(&w, &len);
        if (st == IPCN_INSUFFICIENT_STORAGE) {
            st = IPCN_INSUFFICIENT_MEMORY;
            if ((r->data = ipcn__malloc(len))) {
                ipcn_cbor_writer_init(&w, r->data, len, 0);
                put_view(&w, &v);
                st = ipcn_cbor_writer_finish(&w, &r->len);
                r->encoding = "cbor";
            }
        }
        if (st != IPCN_OK && st != IPCN_INSUFFICIENT_MEMORY)
            st = IPCN_INTERNAL_ERROR;
    }
    ipcn_quarantine_list_free(v.q);
    ipcn_compromise_list_free(v.c);
    return st;
}

/* The subject of "quarantine/lift": text/plain, or one CBOR text. */
static int arg_subject(const ipcn__sys_call *c, char *out, size_t cap)
{
    ipcn_encoding e;
    const char *s = NULL;
    size_t len = 0;
    if (ipcn_encoding_parse(c->encoding, &e) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (ipcn_encoding_is(&e, "text/plain")) {
        s = c->data;
        len = c->len;
    } else if (ipcn_encoding_is(&e, "cbor")) {
        ipcn_cbor_reader rd;
        ipcn_cbor_value v;
        if (ipcn_cbor_check(c->data, c->len, 0) != IPCN_OK ||
            ipcn_cbor_reader_init(&rd, c->data, c->len, 0) != IPCN_OK ||
            ipcn_cbor_next(&rd, &v) != IPCN_OK || v.type != IPCN_CBOR_TEXT)
            return IPCN_BAD_REQUEST;
        s = (const char *)v.ptr;
        len = v.len;
    }
    if (!s || !len || len >= cap || memchr(s, 0, len))
        return IPCN_BAD_REQUEST;
    memcpy(out, s, len);
    out[len] = 0;
    return IPCN_OK;
}

static int sys_lift(ipcn_node *n, ipcn__link *l, const ipcn__sys_call *c,
                    ipcn__sys_reply *r)
{
    char subject[IPCN_NAME_MAX + 64];
    if (arg_subject(c, subject, sizeof subject) != IPCN_OK) {
        return refuse(r, "the body is the subject: a node name or \"uid U "
                         "pid P\" (text/plain or a CBOR text)");
    }
    int q = ipcn_quarantine_lift(n, subject);
    int i = ipcn__name_check(subject, strlen(subject)) == IPCN_OK
                ? ipcn_isolation_lift(n, subject)
                : IPCN_NOT_FOUND;
    if (q == IPCN_OK || i == IPCN_OK) {
        ipcn__info("IPCN-QUARANTINE-LIFT", "%s: %s lifted by %s (%s%s%s)",
                   n->name, subject, l && l->who.name ? l->who.name : n->name,
                   q == IPCN_OK ? "quarantine" : "",
                   q == IPCN_OK && i == IPCN_OK ? ", " : "",
                   i == IPCN_OK ? "isolation" : "");
        return IPCN_OK;
    }
    if (q == IPCN_BAD_REQUEST || i == IPCN_BAD_REQUEST)
        return refuse(r, "not a node name nor \"uid U pid P\"");
    /* Said in words, so that the requester tells this answer from a node
     * that is not there. */
    r->data = ipcn__strdup(IPCN__SYS_NOTHING_HELD);
    r->len = r->data ? strlen(r->data) : 0;
    r->encoding = "text/plain";
    return IPCN_NOT_FOUND;
}

int ipcn__sys_guard(ipcn_node *n, ipcn__link *l, const ipcn__sys_call *c,
                    ipcn__sys_reply *r)
{
    if (!strcmp(c->name, "quarantine"))
        return sys_quarantine(n, l, c, r);
    if (!strcmp(c->name, "quarantine/lift"))
        return sys_lift(n, l, c, r);
    return IPCN_NOT_FOUND;
}

/* SPDX-License-Identifier: MIT */
/*
 * stop_report.c — the shutdown's report (stop.h): printed for people or as
 * JSON, and carried as CBOR from the supervisor to `ipcnet shutdown`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"
#include "stop.h"

static const char *const outcome_names[] = {
    [SUP_OUT_NOT_RUNNING] = "not_running", [SUP_OUT_DONE] = "done",
    [SUP_OUT_NO_HANDLER] = "no_handler",   [SUP_OUT_FAILED] = "failed",
    [SUP_OUT_MISSED] = "missed",           [SUP_OUT_TERMINATED] = "terminated",
    [SUP_OUT_KILLED] = "killed",           [SUP_OUT_ISOLATED] = "isolated",
};
#define NOUTCOMES (sizeof outcome_names / sizeof outcome_names[0])

const char *sup_outcome_name(sup_outcome o)
{
    return (size_t)o < NOUTCOMES ? outcome_names[o] : "unknown";
}

static const char *phase_name(int phase)
{
    switch (phase) {
    case 0: return "isolate";
    case 1: return "safe_state";
    case 2: return "producers";
    case 3: return "consumers";
    default: return "rest";
    }
}

/* Why a stop needed a signal, from the answer to it. */
static const char *stop_why(int status)
{
    switch (status) {
    case IPCN_OK:
    case IPCN_SERVICE_UNAVAILABLE: return "still there at its deadline";
    case IPCN_NO_DATA:
    case IPCN_NOT_FOUND: return "no stop handler";
    case IPCN_GATEWAY_TIMEOUT: return "MISSED its deadline (no answer)";
    default: return "refused to stop";
    }
}

/* What an outcome means, for people. */
static void outcome_text(const sup_stop_item *it, char *buf, size_t n)
{
    const char *s = "?";
    switch (it->outcome) {
    case SUP_OUT_NOT_RUNNING: s = "was not running"; break;
    case SUP_OUT_DONE: s = it->phase == 1 ? "safe" : "stopped"; break;
    case SUP_OUT_NO_HANDLER: s = "has no safe-state handler"; break;
    case SUP_OUT_FAILED:
        s = it->phase == 1 ? "FAILED its safe state"
            : it->status == IPCN_UNAUTHORIZED || it->status == IPCN_FORBIDDEN
            ? "NOT STOPPED: this node may not (the policy, or not its process)"
            : "FAILED its stop";
        break;
    case SUP_OUT_MISSED: s = "MISSED its safe-state deadline"; break;
    case SUP_OUT_TERMINATED:
        snprintf(buf, n, "%s: ended by SIGTERM", stop_why(it->status));
        return;
    case SUP_OUT_KILLED:
        snprintf(buf, n, "%s: SIGTERM, then KILLED by SIGKILL",
                 stop_why(it->status));
        return;
    case SUP_OUT_ISOLATED: s = "compromised: isolated (SIGKILL)"; break;
    }
    snprintf(buf, n, "%s", s);
}

static bool missed(const sup_stop_item *it)
{
    return it->outcome == SUP_OUT_FAILED || it->outcome == SUP_OUT_MISSED ||
           it->outcome == SUP_OUT_TERMINATED || it->outcome == SUP_OUT_KILLED;
}

static void print_json(const sup_stop_report *rep)
{
    printf("{\"clean\": %s, \"total_ms\": %u, \"items\": [",
           rep->clean ? "true" : "false", rep->total_ms);
    for (size_t i = 0; i < rep->count; i++) {
        const sup_stop_item *it = &rep->items[i];
        printf("%s{\"component\": \"", i ? ", " : "");
        /* names are [A-Za-z0-9._-] in a manifest; escape anyway */
        for (const char *s = it->component ? it->component : ""; *s; s++) {
            unsigned char ch = (unsigned char)*s;
            if (ch == '"' || ch == '\\')
                printf("\\%c", ch);
            else if (ch < 0x20)
                printf("\\u%04x", ch);
            else
                putchar(ch);
        }
        printf("\", \"phase\": %d, \"outcome\": \"%s\", \"status\": %d, "
               "\"ms\": %u}", it->phase, sup_outcome_name(it->outcome),
               it->status, it->ms);
    }
    printf("]}\n");
}

void sup_stop_print(const sup_stop_report *rep, bool json)
{
    if (!rep)
        return;
    if (json) {
        print_json(rep);
        return;
    }
    size_t nmissed = 0;
    for (size_t i = 0; i < rep->count; i++) {
        const sup_stop_item *it = &rep->items[i];
        char status[16] = "-";
        if (it->status)
            snprintf(status, sizeof status, "%d", it->status);
        char what[128];
        outcome_text(it, what, sizeof what);
        printf("%d %-10s %-24s %-5s %6u ms  %s\n", it->phase,
               phase_name(it->phase), it->component ? it->component : "?",
               status, it->ms, what);
        nmissed += missed(it);
    }
    printf("shutdown %s in %u ms", rep->clean ? "clean" : "NOT clean",
           rep->total_ms);
    if (nmissed) {
        printf("; not done:");
        for (size_t i = 0; i < rep->count; i++)
            if (missed(&rep->items[i]))
                printf(" %s (%s)", rep->items[i].component,
                       sup_outcome_name(rep->items[i].outcome));
    }
    printf("\n");
}

/* ------------------------------------------------------------------ */
/* CBOR                                                                */
/* ------------------------------------------------------------------ */

static int encode(const sup_stop_report *rep, void *buf, size_t cap,
                  size_t *len)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 3);
    ipcn_cbor_put_cstr(&w, "clean");
    ipcn_cbor_put_bool(&w, rep->clean);
    ipcn_cbor_put_cstr(&w, "total_ms");
    ipcn_cbor_put_uint(&w, rep->total_ms);
    ipcn_cbor_put_cstr(&w, "items");
    ipcn_cbor_put_array(&w, rep->count);
    for (size_t i = 0; i < rep->count; i++) {
        const sup_stop_item *it = &rep->items[i];
        ipcn_cbor_put_map(&w, 5);
        ipcn_cbor_put_cstr(&w, "component");
        ipcn_cbor_put_cstr(&w, it->component ? it->component : "");
        ipcn_cbor_put_cstr(&w, "phase");
        ipcn_cbor_put_uint(&w, (uint64_t)(it->phase < 0 ? 0 : it->phase));
        ipcn_cbor_put_cstr(&w, "outcome");
        ipcn_cbor_put_cstr(&w, sup_outcome_name(it->outcome));
        ipcn_cbor_put_cstr(&w, "status");
        ipcn_cbor_put_uint(&w, (uint64_t)(it->status < 0 ? 0 : it->status));
        ipcn_cbor_put_cstr(&w, "ms");
        ipcn_cbor_put_uint(&w, it->ms);
    }
    return ipcn_cbor_writer_finish(&w, len);
}

int sup_stop_report_encode(const sup_stop_report *rep, void **out,
                           size_t *len)
{
    if (!rep || !out || !len || (rep->count && !rep->items))
        return IPCN_BAD_REQUEST;
    size_t need = 0;
    int st = encode(rep, NULL, 0, &need);
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE)
        return st;
    void *buf = malloc(need ? need : 1);
    if (!buf)
        return IPCN_INSUFFICIENT_MEMORY;
    if ((st = encode(rep, buf, need, len)) != IPCN_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return IPCN_OK;
}

static bool get_uint(const ipcn_cbor_item *map, const char *key,
                     uint64_t max, uint64_t *out)
{
    const ipcn_cbor_item *v = ipcn_cbor_map_find(map, key);
    if (!v || v->type != IPCN_CBOR_UINT || v->u > max)
        return false;
    *out = v->u;
    return true;
}

/* One item of the list: checked, its name copied to *names. */
static bool decode_item(const ipcn_cbor_item *m, sup_stop_item *it,
                        char **names)
{
    uint64_t phase, status, ms;
    const ipcn_cbor_item *c = ipcn_cbor_map_find(m, "component");
    const ipcn_cbor_item *o = ipcn_cbor_map_find(m, "outcome");
    if (m->type != IPCN_CBOR_MAP || !c || c->type != IPCN_CBOR_TEXT ||
        c->len > 255 || !o || o->type != IPCN_CBOR_TEXT ||
        !get_uint(m, "phase", 4, &phase) ||
        !get_uint(m, "status", 65535, &status) ||
        !get_uint(m, "ms", UINT32_MAX, &ms))
        return false;
    size_t oi = 0;
    while (oi < NOUTCOMES && (strlen(outcome_names[oi]) != o->len ||
                              memcmp(outcome_names[oi], o->ptr, o->len)))
        oi++;
    if (oi == NOUTCOMES)
        return false;
    memcpy(*names, c->ptr, c->len);
    (*names)[c->len] = 0;
    *it = (sup_stop_item){.component = *names, .phase = (int)phase,
                          .outcome = (sup_outcome)oi, .status = (int)status,
                          .ms = (uint32_t)ms};
    *names += c->len + 1;
    return true;
}

int sup_stop_report_decode(const void *data, size_t len,
                           sup_stop_report *rep)
{
    if (!data || !rep)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_item *root = NULL;
    int st = ipcn_cbor_tree_decode(data, len, 0, &root);
    if (st != IPCN_OK)
        return st;
    st = IPCN_BAD_REQUEST;
    const ipcn_cbor_item *clean = ipcn_cbor_map_find(root, "clean");
    const ipcn_cbor_item *items = ipcn_cbor_map_find(root, "items");
    uint64_t total;
    if (root->type != IPCN_CBOR_MAP || !clean ||
        clean->type != IPCN_CBOR_BOOL || !items ||
        items->type != IPCN_CBOR_ARRAY || items->count > 4096 ||
        !get_uint(root, "total_ms", UINT32_MAX, &total))
        goto out;
    /* the items, then their names (each at most 256 bytes with its NUL) */
    size_t n = (size_t)items->count;
    sup_stop_item *its = malloc(n * (sizeof *its + 256) + 1);
    if (!its) {
        st = IPCN_INSUFFICIENT_MEMORY;
        goto out;
    }
    char *names = (char *)(its + n);
    for (size_t i = 0; i < n; i++)
        if (!decode_item(&items->items[i], &its[i], &names)) {
            free(its);
            goto out;
        }
    *rep = (sup_stop_report){.items = its, .count = n,
                             .total_ms = (uint32_t)total,
                             .clean = clean->u != 0};
    st = IPCN_OK;
out:
    ipcn_cbor_tree_free(root);
    return st;
}

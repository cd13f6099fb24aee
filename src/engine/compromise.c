/* SPDX-License-Identifier: MIT */
/*
 * compromise.c — what a node does with evidence that a peer is
 * compromised (the evidence is gathered below: transport/compromise.c,
 * shm/map.c, the directory): tell (log IPCN-COMPROMISE, the counters, an
 * IPCN_EV_COMPROMISE event, a sample on "system/compromise/<node>"), then
 * what the policy says (its "detect" section, or the matching component):
 * nothing more, isolate, or isolate and ask the application for the
 * system's safe shutdown.
 *
 * Isolation is a record on the node (by the principal's node name) that
 * the gate reads in every decision (transport/gate.c): everything the
 * principal asks is refused as if denied, it is told of no resource and
 * its announcements and samples are refused.  Its links stay up so that
 * what it does stays visible.  It lasts until an operator lifts it
 * (ipcn_isolation_lift()).
 *
 * Also here, at hello: the checks of the principal against what the
 * policy names (the executable's hash) and against what this node saw of
 * its name before (uid, executable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "policy/policy_impl.h"
#include "value/value.h"

#define NETWORK_EVENT_PREFIX "system/compromise/"

const char *ipcn__cz_kind_name(ipcn_compromise_kind k)
{
    static const char *const names[] = {
        "?", "exe_changed", "exe_hash", "provide", "identity", "violations",
        "tampered",
    };
    return (unsigned)k < IPCN__ARRAY_SIZE(names) ? names[k] : "?";
}

static const char *action_name(ipcn_compromise_action a)
{
    return a == IPCN_COMPROMISE_SHUTDOWN  ? "shutdown"
           : a == IPCN_COMPROMISE_ISOLATE ? "isolate"
                                          : "report";
}

/* The policy's component that names who (the first), or NULL. */
static const ipcn__component *component_of(const ipcn_node *n,
                                           const ipcn__principal *who)
{
    const ipcn__policy *p = n->policy;
    const ipcn__detect_cfg *d = &p->guard.detect;
    ipcn__groupset gs = {p->groups, p->ngroups, NULL};
    for (uint32_t i = 0; i < d->ncomponents; i++)
        for (uint32_t j = 0; j < d->components[i].nwho; j++)
            if (ipcn__selector_match(&d->components[i].who[j], &gs, who,
                                     false) > 0)
                return &d->components[i];
    return NULL;
}

bool ipcn__cz_provide_ruled(const ipcn_node *n)
{
    for (uint32_t i = 0; i < n->policy->nrules; i++)
        if (n->policy->rules[i].verbs & IPCN__V_PROVIDE)
            return true;
    return false;
}

static void hex8(const uint8_t *sha, char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

void ipcn__cz_on_link_up(ipcn_node *n, ipcn__link *l)
{
    const ipcn__principal *who = &l->who;
    if (!who->name)
        return;
    const ipcn__component *c = component_of(n, who);
    char a[17], b[17];
    /* The hash the policy names for it. */
    if (c && c->has_sha256 && who->exe_hashed &&
        memcmp(c->sha256, who->exe_sha256, 32) != 0) {
        hex8(who->exe_sha256, a);
        hex8(c->sha256, b);
        ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_EXE_HASH,
                              "its executable %s hashes to %s..., not to "
                              "the policy's %s... (line %u)",
                              who->exe ? who->exe : "?", a, b, c->line);
    }
    /* What its name was seen as before, on this node. */
    ipcn__cz_record *r = ipcn__cz_record_of(n, who->name, true);
    if (r) {
        r->seen_ns = ipcn__now_mono_ns();
        if (r->first_uid < 0 && !r->first_hashed) {
            r->first_uid = who->creds_known ? who->uid : -1;
            r->first_hashed = who->exe_hashed;
            memcpy(r->first_sha, who->exe_sha256, 32);
        } else if (who->creds_known && r->first_uid >= 0 &&
                   r->first_uid != who->uid) {
            ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_IDENTITY,
                                  "node name %s was uid %d here, now uid %d",
                                  who->name, (int)r->first_uid,
                                  (int)who->uid);
        } else if (c && c->has_sha256 && r->first_hashed &&
                   who->exe_hashed &&
                   memcmp(r->first_sha, who->exe_sha256, 32) != 0) {
            hex8(r->first_sha, a);
            hex8(who->exe_sha256, b);
            ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_IDENTITY,
                                  "node name %s ran %s... here, now %s...",
                                  who->name, a, b);
        }
        if (r->isolated)
            ipcn__warn("IPCN-COMPROMISE", "%s: %s (uid %d) linked again: "
                       "isolated, refused everything", n->name, who->name,
                       (int)who->uid);
    }
    ipcn__cz_watch_link(n, l);
}

void ipcn__cz_on_link_down(ipcn_node *n, ipcn__link *l)
{
    ipcn__cz_unwatch_link(n, l);
}

/* ---- acting on it ---- */

static void isolate(ipcn_node *n, ipcn__cz_record *r)
{
    uint8_t *before = ipcn__access_before(n);
    r->isolated = true;
    n->cz->nisolated++;
    n->stats.isolations++;
    n->policy_gen++; /* every decision is taken again */
    ipcn__access_changed(n, before);
}

/* The network event: a sample of "system/compromise/<this node>", a CBOR
 * map, the stream announced on first use. */
static void publish(ipcn_node *n, const ipcn_compromise *c)
{
    /* Absolute ("/..."): the network's, whatever this node's namespace. */
    char abs[IPCN_PATH_MAX + 2], *path = abs + 1;
    snprintf(abs, sizeof abs, "/" NETWORK_EVENT_PREFIX "%s", n->name);
    if (!ipcn__local_find(n, path)) {
        int st = ipcn_announce(n, abs, IPCN_STREAM, "cbor", NULL, 0);
        if (!IPCN_IS_OK(st)) {
            ipcn__warn("IPCN-COMPROMISE", "%s: cannot announce %s (%d): the "
                       "network is not told", n->name, path, st);
            return;
        }
    }
    uint8_t buf[1024];
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 9);
    ipcn_cbor_put_cstr(&w, "subject");
    ipcn_cbor_put_cstr(&w, c->name);
    ipcn_cbor_put_cstr(&w, "uid");
    ipcn_cbor_put_int(&w, c->uid);
    ipcn_cbor_put_cstr(&w, "pid");
    ipcn_cbor_put_int(&w, c->pid);
    ipcn_cbor_put_cstr(&w, "kind");
    ipcn_cbor_put_cstr(&w, ipcn__cz_kind_name(c->kind));
    ipcn_cbor_put_cstr(&w, "detail");
    ipcn_cbor_put_cstr(&w, c->detail);
    ipcn_cbor_put_cstr(&w, "action");
    ipcn_cbor_put_cstr(&w, action_name(c->action));
    ipcn_cbor_put_cstr(&w, "criticality");
    ipcn_cbor_put_uint(&w, c->criticality);
    ipcn_cbor_put_cstr(&w, "reporter");
    ipcn_cbor_put_cstr(&w, n->name);
    ipcn_cbor_put_cstr(&w, "time");
    ipcn_cbor_put_uint(&w, c->time_ns);
    size_t len;
    if (ipcn_cbor_writer_finish(&w, &len) == IPCN_OK)
        ipcn_publish(n, abs, buf, len);
}

static void act(ipcn_node *n, ipcn__link *l, const ipcn__cz_evidence *e)
{
    ipcn__cz_record *r = ipcn__cz_record_of(n, l->who.name, true);
    if (!r || r->isolated || (r->kinds & (1u << e->kind)))
        return;
    const ipcn__component *c = component_of(n, &l->who);
    ipcn_compromise_action action =
        (ipcn_compromise_action)(c ? c->action : n->policy->guard.detect.action);
    r->kinds |= 1u << e->kind;
    r->reports++;
    snprintf(r->detail, sizeof r->detail, "%s", e->detail);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->ev = (ipcn_compromise){
        .name = r->name, .node_id = l->who.node_id, .pid = l->who.pid,
        .uid = l->who.uid, .kind = e->kind, .detail = r->detail,
        .action = action, .criticality = c ? c->criticality : 1,
        .time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
        .reports = r->reports};
    n->stats.compromises++;
    /* Reporting only (no detect section, or the policy says so) does
     * nothing to the peer: no charge either (it would ban it). */
    if (action != IPCN_COMPROMISE_REPORT)
        ipcn__rep_offence(n, l, IPCN__OFF_COMPROMISE, e->detail);
    ipcn__log(action == IPCN_COMPROMISE_REPORT ? IPCN_LOG_WARN : IPCN_LOG_ERROR,
              "IPCN-COMPROMISE", "%s: %s (uid %d, pid %d) compromised? %s: %s; "
              "%s", n->name, r->name, (int)l->who.uid, (int)l->who.pid,
              ipcn__cz_kind_name(e->kind), e->detail,
              action == IPCN_COMPROMISE_REPORT ? "reported"
              : action == IPCN_COMPROMISE_ISOLATE
                  ? "isolated"
                  : "isolated; the application is asked for the safe "
                    "shutdown");
    if (action != IPCN_COMPROMISE_REPORT)
        isolate(n, r);
    r->ev.isolated = r->isolated;
    ipcn__queue_compromise_event(n, &r->ev);
    publish(n, &r->ev);
}

void ipcn__cz_drain(ipcn_node *n)
{
    ipcn__cz *cz = n->cz;
    while (cz && cz->nqueue) {
        ipcn__cz_evidence e = cz->queue[0];
        memmove(cz->queue, cz->queue + 1, --cz->nqueue * sizeof e);
        ipcn__link *l = ipcn__link_by_id(n, e.link_id);
        if (l && l->state == LINK_UP && l->who.name)
            act(n, l, &e);
    }
}

/* ---- the operator's view ---- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const ipcn_compromise *)a)->name,
                  ((const ipcn_compromise *)b)->name);
}

IPCN_API int ipcn_compromises(ipcn_node *n, ipcn_compromise_list **out)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    size_t count = 0, bytes = 0;
    const ipcn__cz *cz = n->cz;
    for (uint32_t i = 0; cz && i < cz->nrec; i++) {
        if (cz->rec[i].reports) {
            count++;
            bytes += strlen(cz->rec[i].name) + strlen(cz->rec[i].detail) + 2;
        }
    }
    ipcn_compromise_list *cl = ipcn__malloc(sizeof *cl + count *
                                            sizeof(ipcn_compromise) + bytes);
    if (!cl) {
        ipcn__node_unlock(n);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    cl->count = count;
    cl->items = (ipcn_compromise *)(cl + 1);
    char *sp = (char *)(cl->items + count);
    size_t k = 0;
    for (uint32_t i = 0; cz && i < cz->nrec; i++) {
        const ipcn__cz_record *r = &cz->rec[i];
        if (!r->reports)
            continue;
        ipcn_compromise *x = &cl->items[k++];
        *x = r->ev;
        x->isolated = r->isolated;
        size_t nl = strlen(r->name) + 1, dl = strlen(r->detail) + 1;
        x->name = memcpy(sp, r->name, nl);
        x->detail = memcpy(sp + nl, r->detail, dl);
        sp += nl + dl;
    }
    ipcn__node_unlock(n);
    qsort(cl->items, count, sizeof *cl->items, cmp_name);
    *out = cl;
    return IPCN_OK;
}

IPCN_API void ipcn_compromise_list_free(ipcn_compromise_list *list)
{
    ipcn__free(list);
}

IPCN_API int ipcn_isolation_lift(ipcn_node *n, const char *name)
{
    if (!n || !name || ipcn__name_check(name, strlen(name)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__cz_record *r = ipcn__cz_record_of(n, name, false);
    if (!r || !r->reports) {
        ipcn__node_unlock(n);
        return IPCN_NOT_FOUND;
    }
    bool was = r->isolated;
    uint8_t *before = was ? ipcn__access_before(n) : NULL;
    r->isolated = false;
    r->kinds = 0;
    r->reports = 0;
    memset(&r->ev, 0, sizeof r->ev);
    r->detail[0] = 0;
    /* What it is now is what it is known as from now on. */
    r->first_uid = -1;
    r->first_hashed = false;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state == LINK_UP && l->who.name && !strcmp(l->who.name, name)) {
            l->viol_count = 0;
            r->first_uid = l->who.creds_known ? l->who.uid : -1;
            r->first_hashed = l->who.exe_hashed;
            memcpy(r->first_sha, l->who.exe_sha256, 32);
        }
    }
    ipcn__info("IPCN-COMPROMISE-LIFT", "%s: %s: evidence forgotten%s", n->name,
               name, was ? ", isolation lifted" : "");
    if (was) {
        n->cz->nisolated--;
        n->policy_gen++;
        ipcn__access_changed(n, before);
    }
    ipcn__node_unlock(n);
    return IPCN_OK;
}

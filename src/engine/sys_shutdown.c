/* SPDX-License-Identifier: MIT */
/*
 * sys_shutdown.c — the node's part in the system's ordered shutdown: the
 * application's handlers (ipcn_on_shutdown(), ipcn_shutdown_done()) and
 * the node service "@sys/<node>/shutdown" (sys.h, docs/protocol.md 12.4)
 * through which an allowed principal asks for a phase.
 *
 * A request is checked in the I/O round: the requester must also be
 * allowed EXECUTE of "system/shutdown" by the network policy (the node's
 * own services are the policy's like any: a component that may call the
 * node's services is not thereby allowed to stop the robot); its body;
 * a handler for the phase (else 103 at once); no ask of that phase going
 * on (else 205).  It is then queued as a CB_REQUEST, so that the handler
 * runs on the dispatching thread, never in the I/O round, and a request
 * whose requester gave up is not started (provide.c).  The handler's
 * status is the answer, sent through a responder as a deferred answer
 * of any service is: at once, or when the application confirms with
 * ipcn_shutdown_done() after a 102.
 */
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "transport/limits.h"
#include "value/value.h"

#define SHUTDOWN_PERMISSION "system/shutdown"
#define REASON_MAX 1024

enum slot_state {
    SLOT_IDLE = 0,
    SLOT_QUEUED,  /* its CB_REQUEST (link_id, corr) waits in the queue,
                     unless it was dropped: a CANCEL, its link gone */
    SLOT_RUNNING, /* the handler runs, lock released */
    SLOT_WAITING  /* the handler said 102: ipcn_shutdown_done() answers */
};

/* One phase: the application's handler, and the ask going on. */
typedef struct slot {
    ipcn_shutdown_fn fn;
    void *user;
    enum slot_state state;
    uint32_t link_id;
    uint64_t corr;
    uint64_t responder_id;
    int done_status;      /* ipcn_shutdown_done() while it ran (0: none) */
} slot;

struct ipcn__sdown {
    slot phase[2]; /* IPCN_SHUTDOWN_SAFE_STATE, IPCN_SHUTDOWN_STOP */
};

static slot *slot_of(ipcn_node *n, ipcn_shutdown_phase phase, bool make)
{
    if (!n->sdown && make)
        n->sdown = ipcn__calloc(1, sizeof *n->sdown);
    return n->sdown ? &n->sdown->phase[phase - 1] : NULL;
}

static bool phase_ok(int phase)
{
    return phase == IPCN_SHUTDOWN_SAFE_STATE || phase == IPCN_SHUTDOWN_STOP;
}

/* ---- the request's body ---- */

typedef struct sd_args {
    ipcn_shutdown_phase phase;
    uint32_t system_phase;
    uint32_t deadline_ms;
    const char *reason; /* into the body; reason_len bytes */
    size_t reason_len;
} sd_args;

static bool key_is(const ipcn_cbor_value *k, const char *s)
{
    return k->len == strlen(s) && !memcmp(k->ptr, s, k->len);
}

/* CBOR {"phase": "safe_state"|"stop", "system_phase": 1..4,
 * "deadline_ms": N, "reason": TEXT}: phase required, each key at most
 * once; keys not known here are skipped (a later asker may tell more).
 * 100, or 200 with *why. */
static int parse(const char *enc, const void *data, size_t len, sd_args *a,
                 const char **why)
{
    ipcn_encoding e;
    ipcn_cbor_reader rd;
    ipcn_cbor_value m, k, v;
    unsigned seen = 0;
    *a = (sd_args){0};
    a->reason = "";
    *why = "the body must be CBOR {\"phase\": \"safe_state\"|\"stop\", "
           "\"system_phase\": 1..4, \"deadline_ms\": N, \"reason\": TEXT}";
    if (ipcn_encoding_parse(enc, &e) != IPCN_OK ||
        !ipcn_encoding_is(&e, "cbor") ||
        ipcn_cbor_check(data, len, 0) != IPCN_OK ||
        ipcn_cbor_reader_init(&rd, data, len, 0) != IPCN_OK ||
        ipcn_cbor_next(&rd, &m) != IPCN_OK || m.type != IPCN_CBOR_MAP ||
        m.indefinite)
        return IPCN_BAD_REQUEST;
    for (uint64_t i = 0; i < m.count; i++) {
        unsigned bit = 0;
        if (ipcn_cbor_next(&rd, &k) != IPCN_OK || k.type != IPCN_CBOR_TEXT ||
            k.indefinite)
            return IPCN_BAD_REQUEST;
        if (key_is(&k, "phase"))
            bit = 1;
        else if (key_is(&k, "system_phase"))
            bit = 2;
        else if (key_is(&k, "deadline_ms"))
            bit = 4;
        else if (key_is(&k, "reason"))
            bit = 8;
        if (!bit) {
            if (ipcn_cbor_skip(&rd, &v) != IPCN_OK)
                return IPCN_BAD_REQUEST;
            continue;
        }
        if (seen & bit) {
            *why = "a key given twice";
            return IPCN_BAD_REQUEST;
        }
        seen |= bit;
        if (ipcn_cbor_skip(&rd, &v) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        if (bit == 1) {
            if (v.type == IPCN_CBOR_TEXT && key_is(&v, "safe_state"))
                a->phase = IPCN_SHUTDOWN_SAFE_STATE;
            else if (v.type == IPCN_CBOR_TEXT && key_is(&v, "stop"))
                a->phase = IPCN_SHUTDOWN_STOP;
            else {
                *why = "\"phase\" must be \"safe_state\" or \"stop\"";
                return IPCN_BAD_REQUEST;
            }
        } else if (bit == 2) {
            if (v.type != IPCN_CBOR_UINT || v.u < 1 || v.u > 4) {
                *why = "\"system_phase\" must be 1, 2, 3 or 4";
                return IPCN_BAD_REQUEST;
            }
            a->system_phase = (uint32_t)v.u;
        } else if (bit == 4) {
            if (v.type != IPCN_CBOR_UINT || v.u > UINT32_MAX) {
                *why = "\"deadline_ms\" must be an unsigned integer "
                       "below 2^32";
                return IPCN_BAD_REQUEST;
            }
            a->deadline_ms = (uint32_t)v.u;
        } else {
            if (v.type != IPCN_CBOR_TEXT || v.indefinite ||
                v.len > REASON_MAX || memchr(v.ptr, 0, v.len)) {
                *why = "\"reason\" must be a text of at most 1024 bytes "
                       "without NUL";
                return IPCN_BAD_REQUEST;
            }
            a->reason = (const char *)v.ptr;
            a->reason_len = v.len;
        }
    }
    if (!(seen & 1)) {
        *why = "\"phase\" is missing";
        return IPCN_BAD_REQUEST;
    }
    if (!(seen & 2))
        a->system_phase = a->phase == IPCN_SHUTDOWN_SAFE_STATE ? 1 : 4;
    return IPCN_OK;
}

/* ---- the service, in the I/O round ---- */

static int refuse(ipcn__sys_reply *r, const char *why)
{
    r->data = ipcn__strdup(why);
    r->len = r->data ? strlen(why) : 0;
    r->encoding = "text/plain";
    return IPCN_BAD_REQUEST;
}

/* Is the CB_REQUEST (link_id, corr) still waiting in the queue? */
static bool queued(ipcn_node *n, uint32_t link_id, uint64_t corr)
{
    ipcn__cb *cb;
    ipcn__list_for_each(cb, t, &n->cbq, ipcn__cb, entry)
        if (cb->kind == CB_REQUEST && cb->link_id == link_id &&
            cb->corr == corr)
            return true;
    return false;
}

static bool busy(ipcn_node *n, const slot *s)
{
    return s->state == SLOT_RUNNING || s->state == SLOT_WAITING ||
           (s->state == SLOT_QUEUED && queued(n, s->link_id, s->corr));
}

int ipcn__sys_shutdown(ipcn_node *n, ipcn__link *l, const ipcn__sys_call *c,
                       ipcn__sys_reply *r)
{
    if (strcmp(c->name, "shutdown"))
        return IPCN_NOT_FOUND;
    /* Who may start a shutdown is a permission of its own: a node asking
     * itself needs none. */
    int st = l ? ipcn__sys_allowed(n, l, SHUTDOWN_PERMISSION) : IPCN_OK;
    if (st != IPCN_OK)
        return st;
    sd_args a;
    const char *why;
    if (parse(c->encoding, c->data, c->len, &a, &why) != IPCN_OK)
        return refuse(r, why);
    slot *s = slot_of(n, a.phase, false);
    if (!s || !s->fn)
        return IPCN_NO_DATA; /* no part in this phase */
    /* A confirmation owed to an asker that left (a supervisor killed
     * while the arm moved to its rest pose) would block the phase for
     * good: a new ask runs the handler again, and the confirmation goes
     * to it. */
    if (s->state == SLOT_WAITING &&
        ipcn__responder_drop_orphan(n, s->responder_id))
        s->state = SLOT_IDLE;
    if (busy(n, s))
        return IPCN_TOO_MANY_REQUESTS;
    const char *by = l ? l->who.name : n->name;
    ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
    ipcn__msg *m = cb ? ipcn__msg_new(c->path, strlen(c->path), c->encoding,
                                      strlen(c->encoding), by,
                                      l ? l->who.node_id : n->id, c->data,
                                      c->len)
                      : NULL;
    if (!m) {
        ipcn__free(cb);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    /* the reason is the asker's text: logged with its control bytes
     * replaced, so that it cannot forge log lines */
    char shown[256];
    size_t k = 0;
    for (size_t i = 0; i < a.reason_len && k + 1 < sizeof shown; i++) {
        unsigned char ch = (unsigned char)a.reason[i];
        shown[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    shown[k] = '\0';
    ipcn__info("IPCN-SHUTDOWN-ASKED",
               "%s: shutdown phase %s (system phase %u, deadline %u ms) "
               "asked by %s: %s%s",
               n->name, a.phase == IPCN_SHUTDOWN_SAFE_STATE ? "safe_state"
                                                            : "stop",
               a.system_phase, a.deadline_ms, by, shown,
               k < a.reason_len ? "..." : "");
    cb->kind = CB_REQUEST;
    cb->link_id = l ? l->id : 0;
    cb->corr = c->corr;
    cb->msg = m;
    cb->deadline_ns = c->deadline_ns;
    s->state = SLOT_QUEUED;
    s->link_id = cb->link_id;
    s->corr = c->corr;
    s->done_status = 0;
    if (l)
        ipcn__limit_queued(n, l, 1);
    ipcn__queue_cb(n, cb);
    r->later = true;
    return IPCN_ACCEPTED;
}

/* ---- the handler, on the dispatching thread ---- */

/* What a handler may answer: the table's codes or an application code
 * (as any service's, provide.c); anything else is its bug, sent as 300. */
static bool status_ok(int st)
{
    return (st >= 100 && st <= 104) || (st >= 200 && st <= 207) ||
           (st >= 300 && st <= 309) ||
           (st >= IPCN_STATUS_APP_FIRST && st <= UINT16_MAX);
}

/* What the asker gets for a handler's status: 201 and 202 are the
 * permission check's answers alone (an asker that gets one does not
 * signal the process: it was not allowed), so a handler cannot make its
 * process unstoppable by answering them: 300, as for a status outside
 * the table. */
static int handler_status(int st)
{
    if (!status_ok(st) || st == IPCN_ACCEPTED || st == IPCN_UNAUTHORIZED ||
        st == IPCN_FORBIDDEN)
        return IPCN_INTERNAL_ERROR;
    return st;
}

static void respond(ipcn_node *n, uint64_t responder_id, int st)
{
    ipcn_respond(n, (ipcn_responder){.id = responder_id}, handler_status(st),
                 NULL, 0, NULL);
}

/* An answer without a responder (there is no memory for one). */
static void answer_now(ipcn_node *n, uint32_t link_id, uint64_t corr, int st)
{
    if (!link_id) {
        ipcn__req_answer_local(n, corr, st, NULL, 0, "");
        return;
    }
    ipcn__link *l = ipcn__link_by_id(n, link_id);
    if (!l || l->state != LINK_UP)
        return;
    ipcn__limit_queued(n, l, -1);
    ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, st, "", NULL, 0, 0, 0);
}

void ipcn__sys_shutdown_run(ipcn_node *n, ipcn__cb *cb)
{
    const ipcn_msg *m = &cb->msg->pub;
    sd_args a;
    const char *why;
    /* The responder first, so that every way out below answers. */
    ipcn__responder *rp = ipcn__calloc(1, sizeof *rp);
    if (!rp) {
        answer_now(n, cb->link_id, cb->corr, IPCN_INSUFFICIENT_MEMORY);
        return;
    }
    rp->id = n->next_responder++;
    rp->link_id = cb->link_id;
    rp->corr = cb->corr;
    ipcn__list_insert_tail(&n->responders, &rp->entry);
    uint64_t rid = rp->id;
    slot *s = NULL;
    if (parse(m->encoding, m->data, m->len, &a, &why) == IPCN_OK)
        s = slot_of(n, a.phase, false);
    if (!s || s->state != SLOT_QUEUED || s->link_id != cb->link_id ||
        s->corr != cb->corr) {
        respond(n, rid, IPCN_INTERNAL_ERROR); /* checked when queued */
        return;
    }
    if (!s->fn) { /* removed meanwhile */
        s->state = SLOT_IDLE;
        respond(n, rid, IPCN_NO_DATA);
        return;
    }
    char *reason = ipcn__strndup(a.reason, a.reason_len);
    if (!reason) {
        s->state = SLOT_IDLE;
        respond(n, rid, IPCN_INSUFFICIENT_MEMORY);
        return;
    }
    ipcn_shutdown_info info = {.size = sizeof info,
                               .phase = a.phase,
                               .system_phase = a.system_phase,
                               .deadline_ms = a.deadline_ms,
                               .reason = reason,
                               .by = m->src_name};
    ipcn_shutdown_fn fn = s->fn;
    void *user = s->user;
    s->state = SLOT_RUNNING;
    s->responder_id = rid;
    ipcn__node_unlock(n);
    int st = fn(n, &info, user);
    ipcn__node_lock(n);
    ipcn__free(reason);
    s = slot_of(n, a.phase, false); /* the block stays while the node is open */
    if (st == IPCN_ACCEPTED && !s->done_status) {
        s->state = SLOT_WAITING;
        return;
    }
    if (st == IPCN_ACCEPTED)
        st = s->done_status; /* confirmed while it ran */
    s->state = SLOT_IDLE;
    respond(n, rid, st);
}

void ipcn__sys_shutdown_free(ipcn_node *n)
{
    ipcn__free(n->sdown);
    n->sdown = NULL;
}

/* ---- the API ---- */

IPCN_API int ipcn_on_shutdown(ipcn_node *node, ipcn_shutdown_phase phase,
                              ipcn_shutdown_fn fn, void *user)
{
    if (!node || !phase_ok((int)phase))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(node);
    slot *s = slot_of(node, phase, fn != NULL);
    int st = IPCN_OK;
    if (s) {
        s->fn = fn;
        s->user = fn ? user : NULL;
    } else if (fn) {
        st = IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn__node_unlock(node);
    return st;
}

IPCN_API int ipcn_shutdown_done(ipcn_node *node, ipcn_shutdown_phase phase,
                                int status)
{
    if (!node || !phase_ok((int)phase) || !status_ok(status) ||
        status == IPCN_ACCEPTED)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(node);
    slot *s = slot_of(node, phase, false);
    int st = IPCN_NOT_FOUND;
    if (s && s->state == SLOT_RUNNING && !s->done_status) {
        s->done_status = status; /* sent when its handler returns 102 */
        st = IPCN_OK;
    } else if (s && s->state == SLOT_WAITING) {
        s->state = SLOT_IDLE;
        st = ipcn_respond(node, (ipcn_responder){.id = s->responder_id},
                          status, NULL, 0, NULL);
        if (st != IPCN_OK) /* the asker left (303) */
            st = IPCN_NOT_FOUND;
    }
    ipcn__node_unlock(node);
    return st;
}

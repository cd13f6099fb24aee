/* SPDX-License-Identifier: MIT */
/*
 * multi.c — requests in a mode (ipcnet_redundancy.h: ipcn_request_ex()).
 * ANY is one pending as ipcn_request()'s, failing over.  ALL and VOTE ask
 * every live provider at once: one pending per provider, pinned to it (a
 * provider that goes is that item's 303, no fail-over), all with the same
 * request id, gathered by a parent (struct ipcn__multi) that request.c's
 * complete() tells of each answer (ipcn__multi_on_child()).  A VOTE is
 * decided as soon as quorum answers agree or no longer can, and the
 * providers not heard from yet are told to give up (CANCEL).  Equal CBOR
 * values are the value layer's (value/cbor_equal.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "ipcnet_redundancy.h"
#include "transport/reputation.h"
#include "value/value.h"

typedef struct ipcn__multi {
    ipcn_req_mode mode;
    uint32_t quorum;
    double tolerance;
    uint32_t count;
    ipcn__pending *kid[IPCN_REQ_MAX_ASKED];
    char name[IPCN_REQ_MAX_ASKED][IPCN_NAME_MAX + 1];
    uint64_t node_id[IPCN_REQ_MAX_ASKED];
    /* VOTE: the first answer (index) each answer is equal to (its own
     * when none before it); how many are equal to each such first. */
    uint32_t group[IPCN_REQ_MAX_ASKED];
    uint32_t size[IPCN_REQ_MAX_ASKED];
    bool done;
    int status;
    int winner;             /* VOTE: the first of the winning answers */
} ipcn__multi;

IPCN_API void ipcn_request_opts_init(ipcn_request_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->mode = IPCN_REQ_ANY;
    opts->timeout_ms = 5000;
}

/* Request ids: a random base per process, then a counter: unique across
 * this process's nodes, and (but for 2^-64 odds) across processes and
 * their restarts, which a provider's cache of ids needs (once.c). */
static pthread_once_t id_once = PTHREAD_ONCE_INIT;
static uint64_t id_base;
static _Atomic uint64_t id_next;

static void id_init(void)
{
    if (getrandom(&id_base, sizeof id_base, GRND_NONBLOCK) !=
        (ssize_t)sizeof id_base)
        id_base = ipcn__now_mono_ns() ^ ((uint64_t)getpid() << 40);
}

static uint64_t new_request_id(void)
{
    pthread_once(&id_once, id_init);
    uint64_t id;
    do
        id = id_base + atomic_fetch_add(&id_next, 1) + 1;
    while (id == 0);
    return id;
}

static void name_of(ipcn_node *n, ipcn__multi *m, uint32_t i,
                    uint32_t link_id)
{
    const char *name = n->name;
    uint64_t id = n->id;
    if (link_id) {
        ipcn__link *l = ipcn__link_by_id(n, link_id);
        if (!l || !l->who.name)
            return;
        name = l->who.name;
        id = l->who.node_id;
    }
    snprintf(m->name[i], sizeof m->name[i], "%s", name);
    m->node_id[i] = id;
}

#define VOTE_CBOR_MAX (64u << 10)

static bool is_cbor(const char *enc)
{
    return !strcmp(enc, "cbor") || !strcmp(enc, "application/cbor");
}

/* Do two answers agree: the same status and encoding, and the same bytes
 * or (CBOR) the same value, numbers within tol. */
static bool answers_equal(const ipcn_msg *a, const ipcn_msg *b, double tol)
{
    if (a->status != b->status || strcmp(a->encoding, b->encoding) != 0)
        return false;
    /* A value is compared as CBOR up to VOTE_CBOR_MAX: past it (a hostile
     * or huge answer, compared in the I/O round) as bytes. */
    if (is_cbor(a->encoding) && a->len <= VOTE_CBOR_MAX &&
        b->len <= VOTE_CBOR_MAX)
        return ipcn__cbor_equal(a->data, a->len, b->data, b->len, tol);
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

static bool answered(const ipcn__pending *k)
{
    return k && k->done && k->reply;
}

/* Only a success votes: a refusal (205, 202...) or a failure (300) says
 * nothing of the answer, so it is neither counted for a quorum nor
 * charged as a dissent (a 300 is charged as a failure already). */
static bool votes(const ipcn__pending *k)
{
    return answered(k) && IPCN_IS_OK(k->reply->pub.status);
}

/* VOTE: the answer i joins the first earlier answer it equals. */
static void vote_join(ipcn__multi *m, uint32_t i)
{
    const ipcn_msg *a = &m->kid[i]->reply->pub;
    for (uint32_t j = 0; j < m->count; j++) {
        if (j == i || !votes(m->kid[j]) || m->group[j] != j)
            continue;
        if (answers_equal(&m->kid[j]->reply->pub, a, m->tolerance)) {
            m->group[i] = j;
            m->size[j]++;
            return;
        }
    }
    m->group[i] = i;
    m->size[i] = 1;
}

/* Decide what can be decided from the answers so far. */
static void decide(ipcn__multi *m)
{
    uint32_t heard = 0, open = 0, best = 0;
    int besti = -1;
    for (uint32_t i = 0; i < m->count; i++) {
        ipcn__pending *k = m->kid[i];
        if (!k->done) {
            open++;
            continue;
        }
        if (m->mode == IPCN_REQ_VOTE ? !votes(k) : !k->reply)
            continue;
        heard++;
        if (m->mode == IPCN_REQ_VOTE && m->group[i] == i &&
            m->size[i] > best) {
            best = m->size[i];
            besti = (int)i;
        }
    }
    if (m->mode == IPCN_REQ_ALL) {
        if (open)
            return;
        m->status = heard == m->count ? IPCN_OK
                    : heard          ? IPCN_PARTIAL_DATA
                                     : IPCN_GATEWAY_TIMEOUT;
    } else if (best >= m->quorum) {
        m->status = IPCN_OK;
        m->winner = besti;
    } else if (best + open < m->quorum) {
        /* Not enough answers can come: 304; else they disagree: 207. */
        m->status = heard + open < m->quorum ? IPCN_GATEWAY_TIMEOUT
                                             : IPCN_CONFLICT;
    } else {
        return;
    }
    m->done = true;
}

void ipcn__multi_on_child(ipcn_node *n, ipcn__pending *p)
{
    ipcn__multi *m = p->multi;
    uint32_t i = p->multi_index;
    if (p->reply) {
        snprintf(m->name[i], sizeof m->name[i], "%s", p->reply->pub.src_name);
        m->node_id[i] = p->reply->pub.src_id;
    } else if (m->mode == IPCN_REQ_ANY) {
        name_of(n, m, i, p->link_id); /* where it failed over to */
    }
    /* An answer that comes after the vote is decided, before the call
     * returns, is still judged (it agrees, or dissents). */
    if (m->mode == IPCN_REQ_VOTE && votes(p))
        vote_join(m, i);
    if (m->done)
        return;
    if (m->mode == IPCN_REQ_ANY) {
        m->status = p->status;
        m->done = true;
        return;
    }
    decide(m);
}

/* The live providers of path a request in ALL or VOTE asks, at most max:
 * the peers' (not denied, link up), then this node's own.  100; 203, 204. */
static int providers(ipcn_node *n, const char *path, uint32_t max,
                     uint32_t *links, uint32_t *np)
{
    *np = 0;
    if (ipcn__sys_path(path, strlen(path))) { /* one node's own service */
        int st = ipcn__sys_link(n, path, &links[0]);
        if (st == IPCN_OK)
            *np = 1;
        return st;
    }
    bool wrong_kind = false;
    ipcn__local *lr = ipcn__local_find(n, path);
    bool local = lr && lr->kind == IPCN_SERVICE;
    if (lr && !local)
        wrong_kind = true;
    uint32_t room = local ? max - 1 : max;
    ipcn__remote *r;
    ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry) {
        if (r->denied || strcmp(r->path, path) != 0)
            continue;
        if (r->kind != IPCN_SERVICE) {
            wrong_kind = true;
            continue;
        }
        ipcn__link *l = ipcn__link_by_id(n, r->link_id);
        if (l && l->state == LINK_UP && *np < room)
            links[(*np)++] = r->link_id;
    }
    if (local)
        links[(*np)++] = 0;
    if (*np)
        return IPCN_OK;
    return wrong_kind ? IPCN_METHOD_NOT_ALLOWED : IPCN_NOT_FOUND;
}

static ipcn__pending *kid_new(ipcn_node *n, ipcn__multi *m, uint32_t i,
                              const char *path, const void *data, size_t len,
                              const char *enc, const ipcn_request_opts *o,
                              uint64_t rid, uint64_t deadline_ns)
{
    ipcn__pending *k = ipcn__req_new(n, PEND_REQUEST, path, data, len, enc,
                                     o->timeout_ms);
    if (!k)
        return NULL;
    k->request_id = rid;
    k->multi = m;
    k->multi_index = i;
    if (deadline_ns)
        k->deadline_ns = deadline_ns; /* one deadline for all */
    m->kid[i] = k;
    return k;
}

/* ANY: one pending, as ipcn_request() (ipcn__req_call()). */
static int start_any(ipcn_node *n, ipcn__multi *m, const char *path,
                     const void *data, size_t len, const char *enc,
                     const ipcn_request_opts *o, uint64_t rid)
{
    ipcn__pending *k = kid_new(n, m, 0, path, data, len, enc, o, rid, 0);
    if (!k)
        return IPCN_INSUFFICIENT_MEMORY;
    int st = ipcn__req_start(n, k);
    if (st == IPCN_SERVICE_UNAVAILABLE || st == IPCN_NOT_FOUND) {
        /* A provider may have come or gone unseen: one round of I/O. */
        ipcn__node_poll(n);
        k->ntried = 0;
        st = ipcn__req_start(n, k);
    }
    if (st != IPCN_OK) {
        ipcn__pending_free(k);
        m->kid[0] = NULL;
        return st;
    }
    m->count = 1;
    if (!k->done)
        name_of(n, m, 0, k->link_id);
    return IPCN_OK;
}

/* ALL, VOTE: one pending per provider; the peers asked before this node's
 * own handler runs (it may run here and now). */
static int start_all(ipcn_node *n, ipcn__multi *m, const char *path,
                     const void *data, size_t len, const char *enc,
                     const ipcn_request_opts *o, uint64_t rid)
{
    uint32_t max = o->max_providers && o->max_providers < IPCN_REQ_MAX_ASKED
                       ? o->max_providers
                       : IPCN_REQ_MAX_ASKED;
    uint32_t links[IPCN_REQ_MAX_ASKED], np;
    int st = providers(n, path, max, links, &np);
    if (st == IPCN_NOT_FOUND) {
        ipcn__node_poll(n);
        st = providers(n, path, max, links, &np);
    }
    if (st != IPCN_OK)
        return st;
    uint64_t deadline = o->timeout_ms >= 0
                            ? ipcn__now_mono_ns() +
                                  (uint64_t)o->timeout_ms * 1000000ull
                            : 0;
    for (uint32_t i = 0; i < np; i++) {
        if (!kid_new(n, m, i, path, data, len, enc, o, rid, deadline)) {
            for (uint32_t j = 0; j < i; j++) {
                ipcn__pending_free(m->kid[j]);
                m->kid[j] = NULL;
            }
            return IPCN_INSUFFICIENT_MEMORY;
        }
        name_of(n, m, i, links[i]);
    }
    m->count = np;
    if (m->mode == IPCN_REQ_VOTE && !m->quorum)
        m->quorum = np / 2 + 1;
    for (int local = 0; local < 2; local++) {
        for (uint32_t i = 0; i < np; i++) {
            ipcn__pending *k = m->kid[i];
            if ((links[i] == 0) != (local == 1))
                continue;
            st = m->done ? IPCN_GATEWAY_TIMEOUT /* decided: not asked */
                         : ipcn__req_start_at(n, k, links[i]);
            if (st != IPCN_OK) { /* never in the list: done here */
                k->done = true;
                k->status = st;
            }
        }
    }
    if (!m->done)
        decide(m); /* the ones that could not be asked count too */
    return IPCN_OK;
}

/* VOTE decided: the dissenters (answers that came and differ) are charged
 * an offence (the rogues' reputation, transport/reputation.c). */
static uint32_t charge_dissenters(ipcn_node *n, ipcn__multi *m,
                                  const char *path)
{
    uint32_t w = (uint32_t)m->winner, count = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        ipcn__pending *k = m->kid[i];
        if (!votes(k) || m->group[i] == w)
            continue;
        count++;
        ipcn__link *l = k->link_id ? ipcn__link_by_id(n, k->link_id) : NULL;
        if (!l || l->state != LINK_UP)
            continue; /* this node's own, or gone */
        char what[IPCN__REP_DETAIL];
        snprintf(what, sizeof what, "request of %s: outvoted (%d)", path,
                 k->status);
        ipcn__rep_offence(n, l, IPCN__OFF_DISSENT, what);
    }
    return count;
}

/* The answers, taking the messages of m's pendings. */
static ipcn_answers *answers_of(ipcn__multi *m, int status, uint64_t rid)
{
    size_t sz = sizeof(ipcn_answers) + m->count * sizeof(ipcn_answer) +
                m->count * (IPCN_NAME_MAX + 1);
    ipcn_answers *a = ipcn__calloc(1, sz);
    if (!a)
        return NULL;
    a->status = status;
    a->request_id = rid;
    a->count = m->count;
    a->items = m->count ? (ipcn_answer *)(a + 1) : NULL;
    char *names = (char *)(a + 1) + m->count * sizeof(ipcn_answer);
    for (uint32_t i = 0; i < m->count; i++) {
        ipcn__pending *k = m->kid[i];
        ipcn_answer *it = &a->items[i];
        char *name = names + i * (IPCN_NAME_MAX + 1);
        memcpy(name, m->name[i], IPCN_NAME_MAX + 1);
        it->provider = name;
        it->provider_id = m->node_id[i];
        it->status = k->status;
        bool voted = votes(k);
        if (k->reply) {
            it->msg = &k->reply->pub;
            k->reply = NULL;
        }
        if (m->mode == IPCN_REQ_VOTE && m->winner >= 0 && voted) {
            it->agrees = m->group[i] == (uint32_t)m->winner;
            if (it->agrees)
                a->agreeing++;
        }
    }
    if (m->mode == IPCN_REQ_ANY && m->count)
        a->winner = a->items[0].msg;
    else if (m->mode == IPCN_REQ_VOTE && m->winner >= 0)
        a->winner = a->items[m->winner].msg;
    return a;
}

/* Ask, wait, gather; lock held. */
static int run(ipcn_node *n, ipcn__multi *m, const char *path,
               const void *data, size_t len, const char *enc,
               const ipcn_request_opts *o, uint64_t rid)
{
    int st = m->mode == IPCN_REQ_ANY
                 ? start_any(n, m, path, data, len, enc, o, rid)
                 : start_all(n, m, path, data, len, enc, o, rid);
    if (st != IPCN_OK)
        return st;
    uint64_t deadline = m->kid[0]->deadline_ns;
    st = ipcn__node_wait(n, &m->done, deadline);
    /* The deadline (304) or the node's end (303): the rest end so. */
    for (uint32_t i = 0; i < m->count && !m->done; i++)
        ipcn__req_end(n, m->kid[i], st, st == IPCN_GATEWAY_TIMEOUT);
    /* A vote decided early: the others are not waited for. */
    for (uint32_t i = 0; i < m->count; i++)
        ipcn__req_end(n, m->kid[i], IPCN_GATEWAY_TIMEOUT, false);
    return m->status;
}

IPCN_API int ipcn_request_ex(ipcn_node *n, const char *path, const void *data,
                             size_t len, const char *encoding,
                             const ipcn_request_opts *opts,
                             ipcn_answers **out)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_request_opts o;
    ipcn_request_opts_init(&o);
    if (opts && ipcn__sized_in(&o, sizeof o, opts,
                               IPCN__SIZE_TO(ipcn_request_opts,
                                             max_providers)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !out || !path ||
        ipcn__path_check(path, strlen(path)) != IPCN_OK || (len && !data) ||
        (encoding &&
         ipcn__encoding_check(encoding, strlen(encoding)) != IPCN_OK) ||
        (unsigned)o.mode > IPCN_REQ_VOTE)
        return IPCN_BAD_REQUEST;
    ipcn__multi *m = ipcn__calloc(1, sizeof *m);
    if (!m)
        return IPCN_INSUFFICIENT_MEMORY;
    m->mode = o.mode;
    m->quorum = o.quorum;
    m->tolerance = o.tolerance;
    m->winner = -1;
    uint64_t rid = o.request_id ? o.request_id : new_request_id();
    ipcn__node_lock(n);
    int st = n->shut ? IPCN_SERVICE_UNAVAILABLE
                     : run(n, m, path, data, len, encoding, &o, rid);
    uint32_t dissenting = 0;
    if (m->mode == IPCN_REQ_VOTE && m->winner >= 0)
        dissenting = charge_dissenters(n, m, path);
    ipcn__node_unlock(n);
    ipcn_answers *a = answers_of(m, st, rid);
    for (uint32_t i = 0; i < m->count; i++)
        ipcn__pending_free(m->kid[i]); /* the messages not taken, if any */
    ipcn__free(m);
    if (!a || st == IPCN_INSUFFICIENT_MEMORY) {
        ipcn_answers_free(a); /* 307: *out untouched, as documented */
        return IPCN_INSUFFICIENT_MEMORY;
    }
    a->dissenting = dissenting;
    *out = a;
    return st;
}

IPCN_API void ipcn_answers_free(ipcn_answers *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->count; i++)
        if (a->items[i].msg)
            ipcn_msg_free((ipcn_msg *)a->items[i].msg);
    ipcn__free(a);
}

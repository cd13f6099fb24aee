/* SPDX-License-Identifier: MIT */
/*
 * _ipcnet_redundancy.c — _Node's calls of ipcnet_redundancy.h: owned
 * paths (ipcn_announce_owned, ipcn_owner_get), requests in a mode
 * (ipcn_request_ex) and the options of an offered service
 * (ipcn_offer_set_opts).  The Pythonic surface (Node.announce(strength=),
 * Node.owner(), Node.request(mode=), Answers) is in __init__.py.
 */
#include "_ipcnet.h"

#include <ipcnet_redundancy.h>

/* _announce_owned(path, kind, encoding, meta, strength, warm) -> status */
PyObject *node_announce_owned(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    int kind, strength, warm;
    Py_buffer meta = {0};
    if (!PyArg_ParseTuple(args, "sizz*ip:announce", &path, &kind, &enc, &meta, &strength, &warm))
        return NULL;
    if (node_enter(n) < 0) {
        PyBuffer_Release(&meta);
        return NULL;
    }
    ipcn_announce_opts o;
    ipcn_announce_opts_init(&o);
    o.strength = strength;
    o.standby = warm ? IPCN_STANDBY_WARM : IPCN_STANDBY_HOT;
    int st = ipcn_announce_owned(n->node, path, (ipcn_kind)kind, enc, meta.buf,
                                 (size_t)meta.len, &o);
    node_leave(n);
    PyBuffer_Release(&meta);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "announce %s", path);
    return PyLong_FromLong(st);
}

/* _owner(path) -> (owner, owner_id, strength, self, providers, changes) */
PyObject *node_owner(NodeObject *n, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s:owner", &path) || node_enter(n) < 0)
        return NULL;
    ipcn_owner_info o = {.size = sizeof o};
    int st = ipcn_owner_get(n->node, path, &o);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "owner %s", path);
    o.owner[sizeof o.owner - 1] = 0;
    return Py_BuildValue("(sKiOIK)", o.owner, (unsigned long long)o.owner_id, (int)o.strength,
                         o.self ? Py_True : Py_False, (unsigned int)o.providers,
                         (unsigned long long)o.changes);
}

static PyObject *msg_or_none(const ipcn_msg *m)
{
    if (!m)
        Py_RETURN_NONE;
    return message_ref(m);
}

/* The answers as (status, request_id, [(provider, provider_id, status,
 * Message or None, agrees)...], winner or None, agreeing, dissenting). */
static PyObject *answers_tuple(const ipcn_answers *a, int status)
{
    PyObject *items = PyList_New((Py_ssize_t)a->count);
    for (size_t i = 0; items && i < a->count; i++) {
        const ipcn_answer *x = &a->items[i];
        PyObject *m = msg_or_none(x->msg);
        PyObject *t = m ? Py_BuildValue("(sKiNO)", x->provider ? x->provider : "",
                                        (unsigned long long)x->provider_id, x->status, m,
                                        x->agrees ? Py_True : Py_False)
                        : NULL;
        if (!t) {
            Py_CLEAR(items);
            break;
        }
        PyList_SET_ITEM(items, (Py_ssize_t)i, t);
    }
    if (!items)
        return NULL;
    PyObject *w = msg_or_none(a->winner);
    if (!w) {
        Py_DECREF(items);
        return NULL;
    }
    return Py_BuildValue("(iKNNII)", status, (unsigned long long)a->request_id, items, w,
                         (unsigned int)a->agreeing, (unsigned int)a->dissenting);
}

/* _request_ex(path, value, encoding, timeout, mode, quorum, tolerance,
 * request_id, max_providers) -> the answers (above); raises for a status
 * that gives none (200, 307). */
PyObject *node_request_ex(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    PyObject *value = Py_None, *to = Py_None;
    int mode, ms;
    unsigned int quorum, max_providers;
    double tolerance;
    unsigned long long request_id;
    if (!PyArg_ParseTuple(args, "sOzOiIdKI:request", &path, &value, &enc, &to, &mode, &quorum,
                          &tolerance, &request_id, &max_providers) ||
        timeout_ms(to, &ms) < 0)
        return NULL;
    if (mode < IPCN_REQ_ANY || mode > IPCN_REQ_VOTE)
        return raise_statusf(IPCN_BAD_REQUEST, "request %s: unknown mode %d", path, mode);
    value_buf b;
    if (encode_value(value, enc, &b, false) < 0)
        return NULL;
    if (value == Py_None && !enc) {
        b.len = 0; /* no value: an empty request */
        b.enc = "";
    }
    if (node_enter(n) < 0) {
        value_buf_release(&b);
        return NULL;
    }
    ipcn_request_opts o;
    ipcn_request_opts_init(&o);
    o.mode = (ipcn_req_mode)mode;
    o.timeout_ms = ms;
    o.quorum = quorum;
    o.tolerance = tolerance;
    o.request_id = request_id;
    o.max_providers = max_providers;
    ipcn_answers *out = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_request_ex(n->node, path, b.data ? b.data : "", b.len, b.enc, &o, &out);
    Py_END_ALLOW_THREADS
    node_leave(n);
    value_buf_release(&b);
    if (!out)
        return raise_statusf(IPCN_IS_OK(st) ? IPCN_INTERNAL_ERROR : st, "request %s", path);
    PyObject *res = answers_tuple(out, st);
    ipcn_answers_free(out);
    return res;
}

/* _offer_set_opts(path, at_most_once, cache_ms, cache_entries); 0: the
 * library's default. */
PyObject *node_offer_set_opts(NodeObject *n, PyObject *args)
{
    const char *path;
    int once;
    unsigned int cache_ms, cache_entries;
    if (!PyArg_ParseTuple(args, "spII:offer_set_opts", &path, &once, &cache_ms, &cache_entries) ||
        node_enter(n) < 0)
        return NULL;
    ipcn_offer_opts o;
    ipcn_offer_opts_init(&o);
    o.at_most_once = once;
    if (cache_ms)
        o.cache_ms = cache_ms;
    if (cache_entries)
        o.cache_entries = cache_entries;
    int st = ipcn_offer_set_opts(n->node, path, &o);
    node_leave(n);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "offer %s", path);
    Py_RETURN_NONE;
}

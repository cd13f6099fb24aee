/* SPDX-License-Identifier: MIT */
/* _ipcnet_node.c — _Node: callback records, trampolines, life, resources,
 * and its type (see _ipcnet.h). */
#include "_ipcnet.h"

/* ================================================================== */
/* Node                                                                 */
/* ================================================================== */

/* The node whose callback this thread is running, if any. */
__thread NodeObject *cb_node;

record *record_new(NodeObject *n, int kind, PyObject *fn, const char *path)
{
    record *r = PyMem_Calloc(1, sizeof *r);
    if (!r) {
        PyErr_NoMemory();
        return NULL;
    }
    if (path && !(r->path = strdup(path))) {
        PyMem_Free(r);
        PyErr_NoMemory();
        return NULL;
    }
    r->kind = kind;
    r->owner = n;
    Py_XINCREF(fn);
    r->fn = fn;
    r->next = n->records;
    if (r->next)
        r->next->pprev = &r->next;
    r->pprev = &n->records;
    n->records = r;
    return r;
}

void record_free(record *r)
{
    *r->pprev = r->next;
    if (r->next)
        r->next->pprev = r->pprev;
    Py_CLEAR(r->fn);
    free(r->path);
    PyMem_Free(r);
}

void record_kill(record *r)
{
    r->dead = true;
    Py_CLEAR(r->fn);
}

int node_enter(NodeObject *n)
{
    if (!n->node || n->closing) {
        PyErr_SetString(PyExc_ValueError, "the node is closed");
        return -1;
    }
    n->busy++;
    return 0;
}

/* Report the pending exception of a callback, as Python reports one it
 * cannot raise (sys.unraisablehook). */
static void report(PyObject *where)
{
    PyErr_WriteUnraisable(where);
}

/* Can a trampoline run Python for n now?  Called with the GIL. */
static bool live(NodeObject *n) { return n->node && !n->closing; }

void on_sample(ipcn_node *node, const ipcn_msg *msg, void *user)
{
    record *r = user;
    if (IS_FINALIZING())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!r->dead && r->fn && live(r->owner)) {
        PyObject *fn = r->fn;
        Py_INCREF(fn);
        PyObject *m = message_ref(msg);
        NodeObject *prev = cb_node;
        cb_node = r->owner;
        PyObject *res = m ? PyObject_CallOneArg(fn, m) : NULL;
        cb_node = prev;
        if (!res)
            report(fn);
        Py_XDECREF(res);
        Py_XDECREF(m);
        Py_DECREF(fn);
    }
    PyGILState_Release(g);
}

/* Handler results: (status, value, encoding) from __init__._handle. */
int on_request(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    record *r = user;
    if (IS_FINALIZING())
        return IPCN_SERVICE_UNAVAILABLE;
    int status = IPCN_SERVICE_UNAVAILABLE;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!r->dead && r->fn && live(r->owner) && handle_fn) {
        PyObject *fn = r->fn;
        Py_INCREF(fn);
        PyObject *m = message_ref(req);
        NodeObject *prev = cb_node;
        cb_node = r->owner;
        PyObject *res = m ? PyObject_CallFunctionObjArgs(handle_fn, fn, m, NULL) : NULL;
        cb_node = prev;
        status = IPCN_INTERNAL_ERROR;
        int st = 0;
        PyObject *value = NULL, *encobj = NULL;
        if (!res) {
            /* A handler that raised: 300, with "Type: message" as the body. */
            PyObject *type, *val, *tb;
            PyErr_Fetch(&type, &val, &tb);
            PyErr_NormalizeException(&type, &val, &tb);
            PyObject *text = val ? PyUnicode_FromFormat("%s: %S", Py_TYPE(val)->tp_name, val)
                                 : NULL;
            const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
            if (s)
                ipcn_reply_set(ctx, s, strlen(s), "text/plain");
            else
                PyErr_Clear();
            Py_XDECREF(text);
            PyErr_Restore(type, val, tb);
            report(fn);
        } else if (!PyArg_ParseTuple(res, "iOO", &st, &value, &encobj)) {
            report(handle_fn);
        } else if (st == IPCN_ACCEPTED) {
            /* value is a future: answer when it is done. */
            ipcn_responder resp = ipcn_reply_defer(ctx);
            PyObject *ok = PyObject_CallFunction(defer_fn, "OKO", (PyObject *)r->owner,
                                                 (unsigned long long)resp.id, value);
            if (!ok)
                report(defer_fn);
            Py_XDECREF(ok);
            status = IPCN_ACCEPTED;
        } else {
            const char *enc = encobj == Py_None ? NULL : PyUnicode_AsUTF8(encobj);
            value_buf b;
            if ((encobj != Py_None && !enc) || encode_value(value, enc, &b, false) < 0) {
                report(fn);
            } else {
                int rs = value == Py_None && !enc ? IPCN_OK
                                                  : ipcn_reply_set(ctx, b.data, b.len, b.enc);
                value_buf_release(&b);
                status = IPCN_IS_OK(rs) ? st : rs;
            }
        }
        Py_XDECREF(res);
        Py_XDECREF(m);
        Py_DECREF(fn);
    }
    PyGILState_Release(g);
    return status;
}

/* A set check: fn (Node.on_set's wrapper) returns the status to answer;
 * one that raised is reported and refuses with 300. */
int on_set_check(ipcn_node *node, const char *path, const ipcn_msg *value,
                 const char *encoding, void *user)
{
    (void)node, (void)path, (void)encoding;
    record *r = user;
    if (IS_FINALIZING())
        return IPCN_SERVICE_UNAVAILABLE;
    int status = IPCN_SERVICE_UNAVAILABLE;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!r->dead && r->fn && live(r->owner)) {
        PyObject *fn = r->fn;
        Py_INCREF(fn);
        PyObject *m = message_ref(value);
        NodeObject *prev = cb_node;
        cb_node = r->owner;
        PyObject *res = m ? PyObject_CallOneArg(fn, m) : NULL;
        cb_node = prev;
        status = IPCN_INTERNAL_ERROR;
        if (!res) {
            report(fn);
        } else {
            long st = PyLong_AsLong(res);
            if (st == -1 && PyErr_Occurred())
                report(fn);
            else
                status = (int)st;
        }
        Py_XDECREF(res);
        Py_XDECREF(m);
        Py_DECREF(fn);
    }
    PyGILState_Release(g);
    return status;
}

void on_reply(ipcn_node *node, int status, const ipcn_msg *reply, void *user)
{
    record *r = user;
    if (IS_FINALIZING())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!r->dead && r->fn && complete_fn) {
        PyObject *m = reply ? message_ref(reply) : (Py_INCREF(Py_None), Py_None);
        if (m) {
            NodeObject *prev = cb_node;
            cb_node = r->owner;
            PyObject *res = PyObject_CallFunction(complete_fn, "OiOs", r->fn, status, m,
                                                  r->path ? r->path : "");
            cb_node = prev;
            if (!res)
                report(complete_fn);
            Py_XDECREF(res);
            Py_DECREF(m);
        } else {
            report(complete_fn);
        }
    }
    /* It runs once: the record is done. */
    record_free(r);
    PyGILState_Release(g);
}

static const char *const event_names[] = {"",           "peer_up",    "peer_down",
                                          "resource_up", "resource_down", "quarantine",
                                          "compromise", "peer_ready", "critical_lost",
                                          "owner"};
static const char *const evidence_names[] = {"", "exe_changed", "exe_hash", "provide",
                                             "identity", "violations", "tampered"};
static const char *const kind_names[] = {"any", "data", "stream", "service"};

static void on_event(ipcn_node *node, const ipcn_event *ev, void *user)
{
    NodeObject *n = user;
    if (IS_FINALIZING())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    if (n->event_fn && live(n)) {
        PyObject *fn = n->event_fn;
        Py_INCREF(fn);
        unsigned t = (unsigned)ev->type <= IPCN_EV_OWNER ? (unsigned)ev->type : 0;
        unsigned k = (unsigned)ev->kind <= 3 ? (unsigned)ev->kind : 0;
        const char *path = ev->path, *kind = ev->path ? kind_names[k] : NULL;
        if (ev->type == IPCN_EV_COMPROMISE && ev->compromise) {
            /* The evidence: its text as the path, its kind as the kind. */
            unsigned e = (unsigned)ev->compromise->kind <= 6 ? (unsigned)ev->compromise->kind : 0;
            path = ev->compromise->detail;
            kind = evidence_names[e];
        }
        PyObject *args = Py_BuildValue("(ssKzzi)", event_names[t], ev->peer ? ev->peer : "",
                                       (unsigned long long)ev->peer_id, path, kind,
                                       ev->status);
        NodeObject *prev = cb_node;
        cb_node = n;
        PyObject *res = args ? PyObject_CallObject(fn, args) : NULL;
        cb_node = prev;
        if (!res)
            report(fn);
        Py_XDECREF(res);
        Py_XDECREF(args);
        Py_DECREF(fn);
    }
    PyGILState_Release(g);
}

/* ---- life -------------------------------------------------------- */

static int node_traverse(NodeObject *n, visitproc visit, void *arg)
{
    Py_VISIT(n->event_fn);
    for (record *r = n->records; r; r = r->next)
        Py_VISIT(r->fn);
    return 0;
}

static int node_clear(NodeObject *n)
{
    Py_CLEAR(n->event_fn);
    for (record *r = n->records; r; r = r->next)
        record_kill(r);
    return 0;
}

/* Close the library's node (the GIL released) and free the records. */
static void node_do_close(NodeObject *n)
{
    ipcn_node *node = n->node;
    n->closing = true;
    if (!node)
        return;
    /* Calls in flight on other threads must end first: those that wait
     * (request(timeout=None) too) end now with 303. */
    Py_BEGIN_ALLOW_THREADS
    ipcn_node_shutdown(node);
    Py_END_ALLOW_THREADS
    while (n->busy > 0) {
        Py_BEGIN_ALLOW_THREADS
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        Py_END_ALLOW_THREADS
    }
    Py_BEGIN_ALLOW_THREADS
    ipcn_node_close(node);
    Py_END_ALLOW_THREADS
    n->node = NULL;
    while (n->records)
        record_free(n->records);
    Py_CLEAR(n->event_fn);
}

static void node_dealloc(NodeObject *n)
{
    PyObject_GC_UnTrack(n);
    if (n->weakrefs)
        PyObject_ClearWeakRefs((PyObject *)n);
    node_do_close(n);
    node_clear(n);
    Py_TYPE(n)->tp_free((PyObject *)n);
}

static int node_init(NodeObject *n, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "network", "dir", "heartbeat_ms", "dead_after_ms",
                             "max_payload", "tx_limit", "idle_probe_ms", "max_peers",
                             "criticality", NULL};
    const char *name, *network = NULL, *dir = NULL;
    unsigned int hb = 0, dead = 0, maxp = 0, tx = 0, probe = 0, peers = 0, crit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zzIIIIIII:_Node", kwlist, &name, &network,
                                     &dir, &hb, &dead, &maxp, &tx, &probe, &peers, &crit))
        return -1;
    if (n->node || n->closing) {
        PyErr_SetString(PyExc_RuntimeError, "the node is already open (or was closed)");
        return -1;
    }
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.network = network;
    o.dir = dir;
    if (hb)
        o.heartbeat_ms = hb;
    if (dead)
        o.dead_after_ms = dead;
    if (maxp)
        o.max_payload = maxp;
    if (tx)
        o.tx_limit = tx;
    if (probe)
        o.idle_probe_ms = probe;
    if (peers)
        o.max_peers = peers;
    o.criticality = crit;
    ipcn_node *node = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_node_open(&node, name, &o);
    Py_END_ALLOW_THREADS
    if (!IPCN_IS_OK(st)) {
        raise_statusf(st, "cannot open node %s", name);
        return -1;
    }
    n->node = node;
    ipcn_node_set_event_fn(node, on_event, n);
    return 0;
}

static PyObject *node_close(NodeObject *n, PyObject *unused)
{
    if (cb_node == n) {
        PyErr_SetString(PyExc_RuntimeError, "close() from a callback of the same node");
        return NULL;
    }
    bool started = n->started;
    n->started = false;
    node_do_close(n);
    if (started)
        Py_DECREF(n); /* the thread's reference (we are still referenced by the caller) */
    Py_RETURN_NONE;
}

static PyObject *node_get_closed(NodeObject *n, void *c) { return PyBool_FromLong(!n->node); }

static PyObject *node_get_name(NodeObject *n, void *c)
{
    if (!n->node)
        return PyErr_Format(PyExc_ValueError, "the node is closed");
    return PyUnicode_FromString(ipcn_node_name(n->node));
}

static PyObject *node_get_id(NodeObject *n, void *c)
{
    if (!n->node)
        return PyErr_Format(PyExc_ValueError, "the node is closed");
    return PyLong_FromUnsignedLongLong(ipcn_node_id(n->node));
}

static PyObject *node_get_dir(NodeObject *n, void *c)
{
    if (!n->node)
        return PyErr_Format(PyExc_ValueError, "the node is closed");
    return PyUnicode_DecodeFSDefault(ipcn_node_dir(n->node));
}

static PyObject *node_fileno(NodeObject *n, PyObject *unused)
{
    if (node_enter(n) < 0)
        return NULL;
    int fd = ipcn_node_fd(n->node);
    node_leave(n);
    return PyLong_FromLong(fd);
}

/* The node's timeout for a foreign loop, in seconds; None: wait on the fd
 * alone (the node's timers are inside it). */
static PyObject *node_timeout(NodeObject *n, PyObject *unused)
{
    if (node_enter(n) < 0)
        return NULL;
    int ms = ipcn_node_timeout(n->node);
    node_leave(n);
    if (ms < 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(ms / 1000.0);
}

static PyObject *node_start(NodeObject *n, PyObject *unused)
{
    if (node_enter(n) < 0)
        return NULL;
    if (n->started) { /* Node() starts it unless start=False */
        node_leave(n);
        Py_RETURN_NONE;
    }
    int st = ipcn_node_start_thread(n->node);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "start: the node's thread %s",
                             st == IPCN_BAD_REQUEST ? "runs already" : "could not start");
    n->started = true;
    Py_INCREF(n); /* while its thread runs callbacks */
    Py_RETURN_NONE;
}

static PyObject *node_stop(NodeObject *n, PyObject *unused)
{
    if (cb_node == n) {
        PyErr_SetString(PyExc_RuntimeError, "stop() from a callback of the same node");
        return NULL;
    }
    if (node_enter(n) < 0)
        return NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_node_stop_thread(n->node);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "stop: no thread runs");
    if (n->started) {
        n->started = false;
        Py_DECREF(n);
    }
    Py_RETURN_NONE;
}

static PyObject *node_dispatch(NodeObject *n, PyObject *args)
{
    PyObject *to = Py_None;
    int ms;
    if (!PyArg_ParseTuple(args, "|O:dispatch", &to) || timeout_ms(to, &ms) < 0)
        return NULL;
    if (cb_node == n) {
        PyErr_SetString(PyExc_RuntimeError, "dispatch() from a callback of the same node");
        return NULL;
    }
    if (node_enter(n) < 0)
        return NULL;
    uint64_t deadline = ms < 0 ? 0 : mono_ms() + (uint64_t)ms;
    int st;
    for (;;) {
        int slice = next_slice(ms, deadline);
        Py_BEGIN_ALLOW_THREADS
        st = ipcn_node_dispatch(n->node, slice);
        Py_END_ALLOW_THREADS
        if (st != IPCN_NO_DATA || n->closing || (ms >= 0 && mono_ms() >= deadline))
            break;
        if (PyErr_CheckSignals() < 0) {
            node_leave(n);
            return NULL;
        }
    }
    node_leave(n);
    if (st == IPCN_OK)
        Py_RETURN_TRUE;
    if (st == IPCN_NO_DATA || (st == IPCN_SERVICE_UNAVAILABLE && n->closing))
        Py_RETURN_FALSE; /* idle, or the node was closed meanwhile */
    return raise_statusf(st, st == IPCN_SERVICE_UNAVAILABLE
                                 ? "dispatch: the node's thread dispatches (open the node "
                                   "with start=False to dispatch yourself)"
                                 : "dispatch");
}

/* wait_peers / wait_synced, in slices. */
static PyObject *node_wait(NodeObject *n, PyObject *to, int peers)
{
    int ms;
    if (timeout_ms(to, &ms) < 0 || node_enter(n) < 0)
        return NULL;
    uint64_t deadline = ms < 0 ? 0 : mono_ms() + (uint64_t)ms;
    int st;
    for (;;) {
        int slice = next_slice(ms, deadline);
        Py_BEGIN_ALLOW_THREADS
        st = peers >= 0 ? ipcn_node_wait_peers(n->node, (unsigned)peers, slice)
                        : ipcn_node_wait_synced(n->node, slice);
        Py_END_ALLOW_THREADS
        if (st != IPCN_GATEWAY_TIMEOUT || n->closing || (ms >= 0 && mono_ms() >= deadline))
            break;
        if (PyErr_CheckSignals() < 0) {
            node_leave(n);
            return NULL;
        }
    }
    node_leave(n);
    if (IPCN_IS_OK(st))
        Py_RETURN_NONE;
    if (st == IPCN_SERVICE_UNAVAILABLE)
        return raise_statusf(st, "the node was closed while waiting");
    if (peers >= 0)
        return raise_statusf(st, "fewer than %d peers linked and synced in time", peers);
    return raise_statusf(st, "some node of the network did not sync in time");
}

static PyObject *node_wait_peers(NodeObject *n, PyObject *args)
{
    int count;
    PyObject *to = Py_None;
    if (!PyArg_ParseTuple(args, "i|O:wait_peers", &count, &to))
        return NULL;
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "count must be >= 0");
        return NULL;
    }
    return node_wait(n, to, count);
}

static PyObject *node_wait_synced(NodeObject *n, PyObject *args)
{
    PyObject *to = Py_None;
    if (!PyArg_ParseTuple(args, "|O:wait_synced", &to))
        return NULL;
    return node_wait(n, to, -1);
}

/* ---- resources -------------------------------------------------- */

static PyObject *node_announce(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    int kind, keep = -1; /* -1: ipcn_announce(), else ipcn_announce_keep() */
    Py_buffer meta = {0};
    if (!PyArg_ParseTuple(args, "siz|z*i:announce", &path, &kind, &enc, &meta, &keep))
        return NULL;
    if (node_enter(n) < 0) {
        PyBuffer_Release(&meta);
        return NULL;
    }
    int st = keep < 0 ? ipcn_announce(n->node, path, (ipcn_kind)kind, enc, meta.buf,
                                      (size_t)meta.len)
                      : ipcn_announce_keep(n->node, path, (ipcn_kind)kind, enc, meta.buf,
                                           (size_t)meta.len, (unsigned)keep);
    node_leave(n);
    PyBuffer_Release(&meta);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "announce %s", path);
    return PyLong_FromLong(st);
}

static PyObject *node_withdraw(NodeObject *n, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s:withdraw", &path) || node_enter(n) < 0)
        return NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_withdraw(n->node, path);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "withdraw %s", path);
    for (record *r = n->records; r; r = r->next)
        if ((r->kind == REC_SERVICE || r->kind == REC_SET) && r->path &&
            !strcmp(r->path, path))
            record_kill(r);
    Py_RETURN_NONE;
}

static PyObject *node_ready(NodeObject *n, PyObject *unused)
{
    if (node_enter(n) < 0)
        return NULL;
    int st = ipcn_node_ready(n->node); /* sends, never waits */
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "ready");
    Py_RETURN_NONE;
}

static PyObject *bytes_or_none(const void *p, size_t n)
{
    if (!p || !n)
        return PyBytes_FromStringAndSize("", 0);
    return PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
}

/* A list of tuples of a C list of resources, which it frees. */
static PyObject *resource_tuples(ipcn_resource_list *list)
{
    PyObject *out = PyList_New((Py_ssize_t)list->count);
    for (size_t i = 0; out && i < list->count; i++) {
        const ipcn_resource *r = &list->items[i];
        unsigned k = (unsigned)r->kind <= 3 ? (unsigned)r->kind : 0;
        PyObject *meta = bytes_or_none(r->meta, r->meta_len);
        PyObject *t = meta ? Py_BuildValue("(sssNsKK)", r->path, kind_names[k],
                                           r->encoding ? r->encoding : "", meta,
                                           r->provider ? r->provider : "",
                                           (unsigned long long)r->provider_id,
                                           (unsigned long long)r->version)
                           : NULL;
        if (!t) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
    ipcn_resource_list_free(list);
    return out;
}

static PyObject *node_find(NodeObject *n, PyObject *args)
{
    const char *pattern = "**";
    int kind = 0;
    if (!PyArg_ParseTuple(args, "|si:find", &pattern, &kind) || node_enter(n) < 0)
        return NULL;
    ipcn_resource_list *list = NULL;
    int st = ipcn_find(n->node, pattern, (ipcn_kind)kind, &list);
    node_leave(n);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "find %s", pattern);
    return resource_tuples(list);
}

/* ipcn_wait_for() in slices, the GIL released: asleep in the kernel, and
 * Ctrl-C still heard between slices. */
static PyObject *node_wait_for(NodeObject *n, PyObject *args)
{
    const char *pattern;
    int kind = 0, ms;
    PyObject *to = Py_None;
    if (!PyArg_ParseTuple(args, "s|iO:wait_for", &pattern, &kind, &to) ||
        timeout_ms(to, &ms) < 0 || node_enter(n) < 0)
        return NULL;
    uint64_t deadline = ms < 0 ? 0 : mono_ms() + (uint64_t)ms;
    ipcn_resource_list *list = NULL;
    int st;
    for (;;) {
        int slice = next_slice(ms, deadline);
        Py_BEGIN_ALLOW_THREADS
        st = ipcn_wait_for(n->node, pattern, (ipcn_kind)kind, slice, &list);
        Py_END_ALLOW_THREADS
        if (st != IPCN_GATEWAY_TIMEOUT || n->closing || (ms >= 0 && mono_ms() >= deadline))
            break;
        if (PyErr_CheckSignals() < 0) {
            node_leave(n);
            return NULL;
        }
    }
    node_leave(n);
    if (st == IPCN_GATEWAY_TIMEOUT)
        return raise_statusf(st, "waiting for %s: none in time", pattern);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "waiting for %s", pattern);
    return resource_tuples(list);
}

static PyGetSetDef node_getset[] = {
    {"name", (getter)node_get_name, NULL, "the node's name", NULL},
    {"id", (getter)node_get_id, NULL, "the node's random 64-bit id", NULL},
    {"dir", (getter)node_get_dir, NULL, "the rendezvous directory in use", NULL},
    {"closed", (getter)node_get_closed, NULL, "True once closed", NULL},
    {NULL},
};

static PyMethodDef node_methods[] = {
    {"close", (PyCFunction)node_close, METH_NOARGS,
     "Leave the network: calls waiting on other threads end at once\n"
     "(ServiceUnavailable), then the node's thread stops and the node closes."},
    {"fileno", (PyCFunction)node_fileno, METH_NOARGS,
     "One fd, readable when dispatch() has work (for a loop of your own, with\n"
     "start=False; ipcnet.aio does it for asyncio)."},
    {"timeout", (PyCFunction)node_timeout, METH_NOARGS,
     "timeout() -> float or None: the longest a loop of your own may wait on fileno()\n"
     "before it calls dispatch(), in seconds: 0 when callbacks are due, None when the\n"
     "fd alone says (the node's timers are inside it) (ipcn_node_timeout)."},
    {"start", (PyCFunction)node_start, METH_NOARGS,
     "Run the node's I/O and callbacks on its own thread (Node() does, unless\n"
     "start=False; nothing when it runs already)."},
    {"stop", (PyCFunction)node_stop, METH_NOARGS, "Stop and join the node's thread."},
    {"dispatch", (PyCFunction)node_dispatch, METH_VARARGS,
     "dispatch(timeout=None) -> bool: wait for work (seconds), do it, run callbacks."},
    {"wait_peers", (PyCFunction)node_wait_peers, METH_VARARGS,
     "wait_peers(count, timeout=None): until count peers are linked and synced."},
    {"wait_synced", (PyCFunction)node_wait_synced, METH_VARARGS,
     "wait_synced(timeout=None): until every live node of the network is known."},
    {"_announce", (PyCFunction)node_announce, METH_VARARGS, NULL},
    {"_withdraw", (PyCFunction)node_withdraw, METH_VARARGS, NULL},
    {"_announce_owned", (PyCFunction)node_announce_owned, METH_VARARGS, NULL},
    {"_owner", (PyCFunction)node_owner, METH_VARARGS, NULL},
    {"_request_ex", (PyCFunction)node_request_ex, METH_VARARGS, NULL},
    {"_offer_set_opts", (PyCFunction)node_offer_set_opts, METH_VARARGS, NULL},
    {"ready", (PyCFunction)node_ready, METH_NOARGS,
     "ready(): say that this node has done its start-up and serves (ipcn_node_ready):\n"
     "every peer is told (the event 'peer_ready' there, Peer.ready), and so is every\n"
     "peer that links later; again does nothing.  A supervisor counts a component as\n"
     "started only once its node said this."},
    {"_find", (PyCFunction)node_find, METH_VARARGS, NULL},
    {"_wait_for", (PyCFunction)node_wait_for, METH_VARARGS, NULL},
    {"_publish", (PyCFunction)node_publish, METH_VARARGS, NULL},
    {"_query", (PyCFunction)node_query, METH_VARARGS, NULL},
    {"_history", (PyCFunction)node_history, METH_VARARGS, NULL},
    {"_query_version", (PyCFunction)node_query_version, METH_VARARGS, NULL},
    {"_announce_history", (PyCFunction)node_announce_history, METH_VARARGS, NULL},
    {"_set", (PyCFunction)node_set, METH_VARARGS, NULL},
    {"_on_set", (PyCFunction)node_on_set, METH_VARARGS, NULL},
    {"_on_shutdown", (PyCFunction)node_on_shutdown, METH_VARARGS, NULL},
    {"_shutdown_done", (PyCFunction)node_shutdown_done, METH_VARARGS, NULL},
    {"_subscribe", (PyCFunction)node_subscribe, METH_VARARGS, NULL},
    {"_unsubscribe", (PyCFunction)node_unsubscribe, METH_VARARGS, NULL},
    {"_take", (PyCFunction)node_take, METH_VARARGS, NULL},
    {"_sub_stats", (PyCFunction)node_sub_stats, METH_VARARGS, NULL},
    {"_offer", (PyCFunction)node_offer, METH_VARARGS, NULL},
    {"_request", (PyCFunction)node_request, METH_VARARGS, NULL},
    {"_request_async", (PyCFunction)node_request_async, METH_VARARGS, NULL},
    {"_request_cancel", (PyCFunction)node_request_cancel, METH_VARARGS, NULL},
    {"_respond", (PyCFunction)node_respond, METH_VARARGS, NULL},
    {"_set_access", (PyCFunction)node_set_access, METH_VARARGS, NULL},
    {"_set_limits", (PyCFunction)node_set_limits, METH_VARARGS, NULL},
    {"_group", (PyCFunction)node_group, METH_VARARGS, NULL},
    {"_peers", (PyCFunction)node_peers, METH_NOARGS, NULL},
    {"_subscriptions", (PyCFunction)node_subscriptions, METH_NOARGS, NULL},
    {"_traffic", (PyCFunction)node_traffic, METH_VARARGS, NULL},
    {"_stats", (PyCFunction)node_stats, METH_NOARGS, NULL},
    {"_set_event_callback", (PyCFunction)node_set_event_callback, METH_O, NULL},
    {"pool_config", (PyCFunction)(void (*)(void))node_pool_config, METH_VARARGS | METH_KEYWORDS,
     "pool_config(path, *, slots=0, slot_size=0, refuse=False, shm_threshold=-1,\n"
     "checksum=True): the shared-memory pool settings of a stream or data resource of\n"
     "this node (0 or -1: the library's default; see ipcn_pool_opts in ipcnet.h)."},
    {"_pool_stats", (PyCFunction)node_pool_stats, METH_VARARGS, NULL},
    {"_publish_image", (PyCFunction)node_publish_image, METH_VARARGS, NULL},
    {"_publish_derived", (PyCFunction)node_publish_derived, METH_VARARGS, NULL},
    {"_prov_enable", (PyCFunction)node_prov_enable, METH_VARARGS, NULL},
    {"_prov_verify", (PyCFunction)node_prov_verify, METH_VARARGS, NULL},
    {"_prov_export", (PyCFunction)node_prov_export, METH_VARARGS, NULL},
    {NULL},
};

PyTypeObject NodeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ipcnet._ipcnet._Node",
    .tp_basicsize = sizeof(NodeObject),
    .tp_dealloc = (destructor)node_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C side of ipcnet.Node.",
    .tp_traverse = (traverseproc)node_traverse,
    .tp_clear = (inquiry)node_clear,
    .tp_weaklistoffset = offsetof(NodeObject, weakrefs),
    .tp_methods = node_methods,
    .tp_getset = node_getset,
    .tp_init = (initproc)node_init,
    .tp_new = PyType_GenericNew,
};

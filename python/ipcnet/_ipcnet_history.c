/* SPDX-License-Identifier: MIT */
/*
 * _ipcnet_history.c — the debug history of data resources for Python
 * (ipcnet_history.h): Node._history() lists a resource's kept versions as
 * a dict, Node._query_version() reads one past value as a Message, and
 * Node._announce_history() switches it for a resource of this node.
 */
#include "_ipcnet.h"

static int put(PyObject *d, const char *key, PyObject *v)
{
    if (!v)
        return -1;
    int rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *none_ref(void)
{
    Py_INCREF(Py_None);
    return Py_None;
}

static PyObject *entry_dict(const ipcn_history_entry *e)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (put(d, "version", PyLong_FromUnsignedLongLong(e->version)) < 0 ||
        put(d, "wall_ns", PyLong_FromUnsignedLongLong(e->wall_ns)) < 0 ||
        put(d, "mono_ns", PyLong_FromUnsignedLongLong(e->mono_ns)) < 0 ||
        put(d, "encoding", PyUnicode_FromString(e->encoding)) < 0 ||
        put(d, "data", e->data ? PyBytes_FromStringAndSize(e->data,
                                                           (Py_ssize_t)e->len)
                               : none_ref()) < 0 ||
        put(d, "size", PyLong_FromSize_t(e->len)) < 0 ||
        put(d, "setter", PyUnicode_FromString(e->setter)) < 0 ||
        put(d, "setter_id", PyLong_FromUnsignedLongLong(e->setter_id)) < 0 ||
        put(d, "uid", PyLong_FromLong(e->uid)) < 0 ||
        put(d, "pid", PyLong_FromLong(e->pid)) < 0 ||
        put(d, "via", PyUnicode_FromString(e->via == IPCN_HISTORY_SET
                                               ? "set"
                                               : "publish")) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *history_dict(const ipcn_history *h)
{
    PyObject *d = PyDict_New(), *l = NULL;
    if (!d)
        return NULL;
    if (put(d, "node", PyUnicode_FromString(h->node)) < 0 ||
        put(d, "path", PyUnicode_FromString(h->path)) < 0 ||
        put(d, "depth", PyLong_FromUnsignedLong(h->depth)) < 0 ||
        put(d, "max_bytes", PyLong_FromUnsignedLongLong(h->max_bytes)) < 0 ||
        put(d, "bytes", PyLong_FromUnsignedLongLong(h->bytes)) < 0 ||
        put(d, "dropped", PyLong_FromUnsignedLongLong(h->dropped)) < 0 ||
        put(d, "current", PyLong_FromUnsignedLongLong(h->current)) < 0 ||
        !(l = PyList_New((Py_ssize_t)h->count)))
        goto fail;
    for (size_t i = 0; i < h->count; i++) {
        PyObject *e = entry_dict(&h->entries[i]);
        if (!e)
            goto fail;
        PyList_SET_ITEM(l, (Py_ssize_t)i, e);
    }
    if (put(d, "entries", l) < 0) {
        l = NULL;
        goto fail;
    }
    return d;
fail:
    Py_XDECREF(l);
    Py_DECREF(d);
    return NULL;
}

PyObject *node_history(NodeObject *n, PyObject *args)
{
    const char *path;
    int values = 1;
    PyObject *to = Py_None;
    int ms;
    if (!PyArg_ParseTuple(args, "s|pO:history", &path, &values, &to) ||
        timeout_ms(to, &ms) < 0 || node_enter(n) < 0)
        return NULL;
    ipcn_history *h = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_history_get(n->node, path, values ? 0 : IPCN_HISTORY_NO_VALUES,
                          ms, &h);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "history %s", path);
    PyObject *d = history_dict(h);
    ipcn_history_free(h);
    return d;
}

PyObject *node_query_version(NodeObject *n, PyObject *args)
{
    const char *path;
    unsigned long long version;
    PyObject *to = Py_None;
    int ms;
    if (!PyArg_ParseTuple(args, "sK|O:query_version", &path, &version, &to) ||
        timeout_ms(to, &ms) < 0 || node_enter(n) < 0)
        return NULL;
    ipcn_msg *out = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_query_version(n->node, path, version, &out, ms);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (st != IPCN_OK) {
        ipcn_msg_free(out);
        return raise_statusf(st, "query %s version %llu", path, version);
    }
    return message_new(out);
}

PyObject *node_announce_history(NodeObject *n, PyObject *args)
{
    const char *path;
    unsigned int depth;
    unsigned long long max_bytes = 0;
    if (!PyArg_ParseTuple(args, "sI|K:announce_history", &path, &depth,
                          &max_bytes) ||
        node_enter(n) < 0)
        return NULL;
    int st = ipcn_announce_history(n->node, path, depth, max_bytes);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "announce_history %s", path);
    Py_RETURN_NONE;
}

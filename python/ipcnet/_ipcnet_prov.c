/* SPDX-License-Identifier: MIT */
/* _ipcnet_prov.c — provenance (ipcnet_prov.h): a value published as
 * derived from received messages, a message's record, verification (see
 * _ipcnet.h). */
#include "_ipcnet.h"

/* _publish_derived(path, value, encoding|None, parents, flags) */
PyObject *node_publish_derived(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    PyObject *value, *parents;
    unsigned int flags = 0;
    if (!PyArg_ParseTuple(args, "sOzO|I:publish_derived", &path, &value, &enc, &parents,
                          &flags))
        return NULL;
    PyObject *seq = PySequence_Fast(parents, "parents must be a sequence of Messages");
    if (!seq)
        return NULL;
    Py_ssize_t np = PySequence_Fast_GET_SIZE(seq);
    if (np > IPCN_PROV_MAX_PARENTS) {
        Py_DECREF(seq);
        return raise_statusf(IPCN_BAD_REQUEST, "at most %d parents",
                             IPCN_PROV_MAX_PARENTS);
    }
    ipcn_prov_ref refs[IPCN_PROV_MAX_PARENTS];
    for (Py_ssize_t i = 0; i < np; i++) {
        PyObject *m = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyObject_TypeCheck(m, &MessageType)) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_TypeError, "parents must be Messages");
            return NULL;
        }
        int st = ipcn_msg_prov_ref(((MessageObject *)m)->msg, &refs[i]);
        if (st != IPCN_OK) {
            Py_DECREF(seq);
            return raise_statusf(st, "parent %zd carries no provenance record", i);
        }
    }
    Py_DECREF(seq);
    value_buf b;
    if (encode_value(value, enc, &b, false) < 0)
        return NULL;
    if (node_enter(n) < 0) {
        value_buf_release(&b);
        return NULL;
    }
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_publish_derived_ex(n->node, path, b.data, b.len, refs, (size_t)np, flags);
    Py_END_ALLOW_THREADS
    node_leave(n);
    value_buf_release(&b);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "publish_derived %s", path);
    Py_RETURN_NONE;
}

/* _prov_enable(path|None, on) */
PyObject *node_prov_enable(NodeObject *n, PyObject *args)
{
    const char *path = NULL;
    int on = 1;
    if (!PyArg_ParseTuple(args, "zp:prov_enable", &path, &on) || node_enter(n) < 0)
        return NULL;
    int st = ipcn_prov_enable(n->node, path, on);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "prov_enable %s", path ? path : "(node)");
    Py_RETURN_NONE;
}

/* _prov_verify(message, timeout_ms): (status, records, depth, reason) */
PyObject *node_prov_verify(NodeObject *n, PyObject *args)
{
    PyObject *m;
    int ms;
    if (!PyArg_ParseTuple(args, "O!i:prov_verify", &MessageType, &m, &ms) ||
        node_enter(n) < 0)
        return NULL;
    ipcn_prov_report rep;
    memset(&rep, 0, sizeof rep);
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_prov_verify(n->node, ((MessageObject *)m)->msg, ms, &rep);
    Py_END_ALLOW_THREADS
    node_leave(n);
    return Py_BuildValue("(iIIs)", st, rep.records, rep.depth, rep.reason);
}

/* _prov_export(message, timeout_ms): the PROV-JSON text */
PyObject *node_prov_export(NodeObject *n, PyObject *args)
{
    PyObject *m;
    int ms;
    if (!PyArg_ParseTuple(args, "O!i:prov_export", &MessageType, &m, &ms) ||
        node_enter(n) < 0)
        return NULL;
    char *json = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_prov_export_json(n->node, ((MessageObject *)m)->msg, ms, &json);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "the lineage of %s does not verify",
                             ((MessageObject *)m)->msg->path);
    PyObject *out = PyUnicode_FromString(json);
    free(json);
    return out;
}

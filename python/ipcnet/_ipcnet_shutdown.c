/* SPDX-License-Identifier: MIT */
/* _ipcnet_shutdown.c — _Node's part in the system's ordered shutdown:
 * the handlers of Node.on_shutdown() and Node.shutdown_done() (see
 * _ipcnet.h; ipcnet.h "Readiness, criticality and shutdown"). */
#include "_ipcnet.h"

static const char *phase_name(ipcn_shutdown_phase p)
{
    return p == IPCN_SHUTDOWN_STOP ? "stop" : "safe_state";
}

/* fn (Node.on_shutdown's wrapper) gets (phase, system_phase, deadline_ms,
 * reason, by) and returns the status to answer; one that raised is
 * reported and answers 300. */
static int on_shutdown_cb(ipcn_node *node, const ipcn_shutdown_info *info, void *user)
{
    (void)node;
    record *r = user;
    if (IS_FINALIZING())
        return IPCN_SERVICE_UNAVAILABLE;
    int status = IPCN_NO_DATA; /* removed meanwhile: as with no handler */
    PyGILState_STATE g = PyGILState_Ensure();
    if (!r->dead && r->fn && r->owner->node && !r->owner->closing) {
        PyObject *fn = r->fn;
        Py_INCREF(fn);
        NodeObject *prev = cb_node;
        cb_node = r->owner;
        PyObject *res = PyObject_CallFunction(fn, "sIIss", phase_name(info->phase),
                                              info->system_phase, info->deadline_ms,
                                              info->reason ? info->reason : "",
                                              info->by ? info->by : "");
        cb_node = prev;
        status = IPCN_INTERNAL_ERROR;
        if (!res) {
            PyErr_WriteUnraisable(fn);
        } else {
            long st = PyLong_AsLong(res);
            if (st == -1 && PyErr_Occurred())
                PyErr_WriteUnraisable(fn);
            else
                status = st < 0 || st > 65535 ? IPCN_INTERNAL_ERROR : (int)st;
        }
        Py_XDECREF(res);
        Py_DECREF(fn);
    }
    PyGILState_Release(g);
    return status;
}

/* _on_shutdown(phase: 1 or 2, fn or None) */
PyObject *node_on_shutdown(NodeObject *n, PyObject *args)
{
    int phase;
    PyObject *fn;
    if (!PyArg_ParseTuple(args, "iO:on_shutdown", &phase, &fn))
        return NULL;
    if (fn != Py_None && !PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "a shutdown handler must be callable");
        return NULL;
    }
    if (phase != IPCN_SHUTDOWN_SAFE_STATE && phase != IPCN_SHUTDOWN_STOP) {
        PyErr_SetString(PyExc_ValueError, "phase must be \"safe_state\" or \"stop\"");
        return NULL;
    }
    const char *name = phase_name((ipcn_shutdown_phase)phase);
    if (node_enter(n) < 0)
        return NULL;
    record *r = fn == Py_None ? NULL : record_new(n, REC_SHUTDOWN, fn, name);
    if (fn != Py_None && !r) {
        node_leave(n);
        return NULL;
    }
    int st = ipcn_on_shutdown(n->node, (ipcn_shutdown_phase)phase, r ? on_shutdown_cb : NULL, r);
    node_leave(n);
    if (st != IPCN_OK) {
        if (r)
            record_free(r);
        return raise_statusf(st, "on_shutdown %s", name);
    }
    for (record *o = n->records; o; o = o->next)
        if (o != r && o->kind == REC_SHUTDOWN && o->path && !strcmp(o->path, name))
            record_kill(o);
    Py_RETURN_NONE;
}

/* _shutdown_done(phase: 1 or 2, status) */
PyObject *node_shutdown_done(NodeObject *n, PyObject *args)
{
    int phase, status;
    if (!PyArg_ParseTuple(args, "ii:shutdown_done", &phase, &status) || node_enter(n) < 0)
        return NULL;
    int st = ipcn_shutdown_done(n->node, (ipcn_shutdown_phase)phase, status);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, st == IPCN_NOT_FOUND
                                     ? "shutdown_done: no answer of that phase is awaited"
                                     : "shutdown_done");
    Py_RETURN_NONE;
}

/* SPDX-License-Identifier: MIT */
/* _ipcnet_node_calls.c — _Node's calls: data and streams, services, peers,
 * events, counters (see _ipcnet.h). */
#include "_ipcnet.h"

/* ---- data and streams ------------------------------------------- */

PyObject *node_publish(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    PyObject *value;
    if (!PyArg_ParseTuple(args, "sO|z:publish", &path, &value, &enc))
        return NULL;
    value_buf b;
    if (encode_value(value, enc, &b, true) < 0)
        return NULL;
    if (node_enter(n) < 0) {
        value_buf_release(&b);
        return NULL;
    }
    int st = IPCN_OK;
    if (b.has_tensor) {
        /* A tensor large enough to travel in shared memory: one copy,
         * straight into a slot.  Else (or without memfds) encoded here. */
        const ipcn_tensor *t = &b.ts.t;
        size_t nbytes = tensor_nbytes(t);
        if (nbytes >= IPCN_SHM_THRESHOLD) {
            ipcn_loan *loan = NULL;
            void *elems = NULL;
            Py_BEGIN_ALLOW_THREADS
            st = ipcn_loan_tensor(n->node, path, t, &loan, &elems);
            if (st == IPCN_OK) {
                st = ipcn_tensor_copy(t, elems, nbytes);
                if (st == IPCN_OK)
                    st = ipcn_loan_publish(n->node, loan, 0);
                else
                    ipcn_loan_discard(n->node, loan);
            }
            Py_END_ALLOW_THREADS
            /* Fall back to a copy without memfds (307, 301), and on 200: an
             * invalid tensor fails again below, with its reason. */
            if (st != IPCN_INSUFFICIENT_MEMORY && st != IPCN_NOT_IMPLEMENTED &&
                st != IPCN_BAD_REQUEST) {
                node_leave(n);
                value_buf_release(&b);
                if (!IPCN_IS_OK(st))
                    return raise_statusf(st, "publish %s", path);
                Py_RETURN_NONE;
            }
        }
        if (encode_tensor(t, &b) < 0) {
            node_leave(n);
            value_buf_release(&b);
            return NULL;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_publish(n->node, path, b.data, b.len);
    Py_END_ALLOW_THREADS
    node_leave(n);
    value_buf_release(&b);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "publish %s", path);
    Py_RETURN_NONE;
}

PyObject *node_query(NodeObject *n, PyObject *args)
{
    const char *path;
    PyObject *to = Py_None;
    int ms;
    if (!PyArg_ParseTuple(args, "s|O:query", &path, &to) || timeout_ms(to, &ms) < 0 ||
        node_enter(n) < 0)
        return NULL;
    ipcn_msg *out = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_query(n->node, path, &out, ms);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (st != IPCN_OK) {
        ipcn_msg_free(out);
        return raise_statusf(st, "query %s", path);
    }
    return message_new(out);
}

/* Set a data resource's value: (status, version) for 100 and 207 (the new
 * version, the current one), raises the other statuses. */
PyObject *node_set(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    PyObject *value, *expect_obj, *to = Py_None;
    int ms;
    if (!PyArg_ParseTuple(args, "sOzO|O:set", &path, &value, &enc, &expect_obj, &to) ||
        timeout_ms(to, &ms) < 0)
        return NULL;
    unsigned long long expect = PyLong_AsUnsignedLongLong(expect_obj);
    if (expect == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    value_buf b;
    if (encode_value(value, enc, &b, false) < 0)
        return NULL;
    if (node_enter(n) < 0) {
        value_buf_release(&b);
        return NULL;
    }
    uint64_t version = 0;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_set(n->node, path, b.data ? b.data : "", b.len, b.enc, (uint64_t)expect, ms,
                  &version);
    Py_END_ALLOW_THREADS
    node_leave(n);
    value_buf_release(&b);
    if (st != IPCN_OK && st != IPCN_CONFLICT)
        return raise_statusf(st, "set %s", path);
    return Py_BuildValue("(iK)", st, (unsigned long long)version);
}

/* The set check of a data resource of this node: fn(msg) -> status, or
 * None to remove it.  The record it replaces is killed (kept until the
 * node closes: the library may still hold it for a set under way). */
PyObject *node_on_set(NodeObject *n, PyObject *args)
{
    const char *path;
    PyObject *fn;
    if (!PyArg_ParseTuple(args, "sO:on_set", &path, &fn))
        return NULL;
    if (fn != Py_None && !PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "a set check must be callable");
        return NULL;
    }
    if (node_enter(n) < 0)
        return NULL;
    record *r = fn == Py_None ? NULL : record_new(n, REC_SET, fn, path);
    if (fn != Py_None && !r) {
        node_leave(n);
        return NULL;
    }
    int st = ipcn_data_on_set(n->node, path, r ? on_set_check : NULL, r);
    node_leave(n);
    if (st != IPCN_OK) {
        if (r)
            record_free(r);
        return raise_statusf(st, "on_set %s", path);
    }
    for (record *o = n->records; o; o = o->next)
        if (o != r && o->kind == REC_SET && o->path && !strcmp(o->path, path))
            record_kill(o);
    Py_RETURN_NONE;
}

PyObject *node_subscribe(NodeObject *n, PyObject *args)
{
    const char *pattern;
    unsigned int depth = 64;
    PyObject *fn = Py_None;
    int history = 1;
    if (!PyArg_ParseTuple(args, "s|IOp:subscribe", &pattern, &depth, &fn, &history) ||
        node_enter(n) < 0)
        return NULL;
    record *r = NULL;
    if (fn != Py_None && !(r = record_new(n, REC_SUB, fn, NULL))) {
        node_leave(n);
        return NULL;
    }
    ipcn_sub sub;
    ipcn_sub_opts o;
    ipcn_sub_opts_init(&o);
    o.queue_depth = depth;
    o.flags = history ? 0 : IPCN_SUB_NO_HISTORY;
    int st = ipcn_subscribe_ex(n->node, pattern, &o, r ? on_sample : NULL, r, &sub);
    node_leave(n);
    if (!IPCN_IS_OK(st)) {
        if (r)
            record_free(r);
        return raise_statusf(st, "subscribe %s", pattern);
    }
    if (r)
        r->id = sub.id;
    return PyLong_FromUnsignedLong(sub.id);
}

PyObject *node_unsubscribe(NodeObject *n, PyObject *args)
{
    unsigned int id;
    if (!PyArg_ParseTuple(args, "I:unsubscribe", &id) || node_enter(n) < 0)
        return NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_unsubscribe(n->node, (ipcn_sub){id});
    Py_END_ALLOW_THREADS
    node_leave(n);
    for (record *r = n->records; r; r = r->next)
        if (r->kind == REC_SUB && r->id == id)
            record_kill(r);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "unsubscribe: unknown subscription");
    Py_RETURN_NONE;
}

/* A sample, None when none came in time; raises 203 for an unknown
 * subscription (unsubscribed). */
PyObject *node_take(NodeObject *n, PyObject *args)
{
    unsigned int id;
    PyObject *to = Py_None;
    int ms;
    if (!PyArg_ParseTuple(args, "I|O:take", &id, &to) || timeout_ms(to, &ms) < 0 ||
        node_enter(n) < 0)
        return NULL;
    uint64_t deadline = ms < 0 ? 0 : mono_ms() + (uint64_t)ms;
    ipcn_msg *out = NULL;
    int st;
    for (;;) {
        int slice = next_slice(ms, deadline);
        Py_BEGIN_ALLOW_THREADS
        st = ipcn_sub_take(n->node, (ipcn_sub){id}, &out, slice);
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
        return message_new(out);
    if (st == IPCN_NO_DATA || (st == IPCN_SERVICE_UNAVAILABLE && n->closing))
        Py_RETURN_NONE; /* none came, or the node was closed meanwhile */
    return raise_statusf(st, st == IPCN_BAD_REQUEST ? "take: the subscription has a callback"
                                                     : "take: unknown subscription");
}

PyObject *node_sub_stats(NodeObject *n, PyObject *args)
{
    unsigned int id;
    if (!PyArg_ParseTuple(args, "I:sub_stats", &id) || node_enter(n) < 0)
        return NULL;
    ipcn_sub_stats s = {.size = sizeof s};
    int st = ipcn_sub_get_stats(n->node, (ipcn_sub){id}, &s);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "stats: unknown subscription");
    return Py_BuildValue("(KKKKIKKKKKKK)", (unsigned long long)s.received,
                         (unsigned long long)s.delivered, (unsigned long long)s.dropped,
                         (unsigned long long)s.lost, s.queued,
                         (unsigned long long)s.withheld,
                         (unsigned long long)s.unmappable,
                         (unsigned long long)s.resets,
                         (unsigned long long)s.notices,
                         (unsigned long long)s.standby,
                         (unsigned long long)s.nonconforming,
                         (unsigned long long)s.history);
}

/* ---- services ---------------------------------------------------- */

PyObject *node_offer(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    PyObject *fn;
    Py_buffer argsch = {0}, retsch = {0};
    int typed = 0;
    if (!PyArg_ParseTuple(args, "szO|pz*z*:offer", &path, &enc, &fn, &typed, &argsch, &retsch))
        return NULL;
    PyObject *res = NULL;
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "a service handler must be callable");
        goto out;
    }
    if (node_enter(n) < 0)
        goto out;
    record *r = record_new(n, REC_SERVICE, fn, path);
    if (!r) {
        node_leave(n);
        goto out;
    }
    int st = typed ? ipcn_offer_typed(n->node, path, argsch.buf, (size_t)argsch.len, retsch.buf,
                                      (size_t)retsch.len, on_request, r)
                   : ipcn_offer(n->node, path, enc ? enc : "cbor", on_request, r);
    node_leave(n);
    if (!IPCN_IS_OK(st)) {
        record_free(r);
        raise_statusf(st, "offer %s", path);
        goto out;
    }
    res = Py_None;
    Py_INCREF(res);
out:
    PyBuffer_Release(&argsch);
    PyBuffer_Release(&retsch);
    return res;
}

/* The text of an error reply, for the exception. */
static void reply_text(const ipcn_msg *m, char *buf, size_t size, const char *fallback)
{
    snprintf(buf, size, "%s", fallback);
    if (!m || !m->len)
        return;
    enum enc_class c = class_of(m->encoding);
    if (c == ENC_TEXT || c == ENC_JSON || c == ENC_RAW) {
        size_t n = m->len < size - 1 ? m->len : size - 1;
        bool printable = true;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)((const char *)m->data)[i] < 0x20 &&
                ((const char *)m->data)[i] != '\n' && ((const char *)m->data)[i] != '\t')
                printable = false;
        if (printable)
            snprintf(buf, size, "%.*s", (int)n, (const char *)m->data);
    } else if (c == ENC_CBOR) {
        ipcn_cbor_reader r;
        ipcn_cbor_value v;
        ipcn_cbor_reader_init(&r, m->data, m->len, 0);
        if (ipcn_cbor_next(&r, &v) == IPCN_OK && v.type == IPCN_CBOR_TEXT && !v.indefinite)
            snprintf(buf, size, "%.*s", (int)(v.len < size - 1 ? v.len : size - 1),
                     (const char *)v.ptr);
    }
}

PyObject *node_request(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    PyObject *value = Py_None, *to = Py_None;
    int ms;
    if (!PyArg_ParseTuple(args, "s|OzO:request", &path, &value, &enc, &to) ||
        timeout_ms(to, &ms) < 0)
        return NULL;
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
    ipcn_msg *out = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_request(n->node, path, b.data ? b.data : "", b.len, b.enc, &out, ms);
    Py_END_ALLOW_THREADS
    node_leave(n);
    value_buf_release(&b);
    if (IPCN_IS_OK(st) && out)
        return message_new(out);
    char fallback[300], text[1024];
    snprintf(fallback, sizeof fallback, "request %s", path);
    reply_text(out, text, sizeof text, fallback);
    PyObject *reply = out ? message_new(out) : NULL;
    if (out && !reply)
        return NULL;
    raise_status(IPCN_IS_OK(st) ? IPCN_INTERNAL_ERROR : st, text, reply);
    Py_XDECREF(reply);
    return NULL;
}

PyObject *node_request_async(NodeObject *n, PyObject *args)
{
    const char *path, *enc = NULL;
    PyObject *value, *to, *future;
    int ms;
    if (!PyArg_ParseTuple(args, "sOzOO:request_async", &path, &value, &enc, &to, &future) ||
        timeout_ms(to, &ms) < 0)
        return NULL;
    value_buf b;
    if (encode_value(value, enc, &b, false) < 0)
        return NULL;
    if (value == Py_None && !enc) {
        b.len = 0;
        b.enc = "";
    }
    if (node_enter(n) < 0) {
        value_buf_release(&b);
        return NULL;
    }
    record *r = record_new(n, REC_REQUEST, future, path);
    if (!r) {
        node_leave(n);
        value_buf_release(&b);
        return NULL;
    }
    /* With the GIL held, so that the reply callback (which needs it) cannot
     * run and free r before r->id is set.  This call does not wait. */
    ipcn_req req = {0};
    int st = ipcn_request_async(n->node, path, b.data ? b.data : "", b.len, b.enc, ms, on_reply,
                                r, &req);
    node_leave(n);
    value_buf_release(&b);
    if (st != IPCN_ACCEPTED) {
        record_free(r);
        return raise_statusf(st, "request %s", path);
    }
    r->id = req.id;
    return PyLong_FromUnsignedLongLong(req.id);
}

PyObject *node_request_cancel(NodeObject *n, PyObject *args)
{
    unsigned long long id;
    if (!PyArg_ParseTuple(args, "K:request_cancel", &id))
        return NULL;
    if (!n->node || n->closing)
        Py_RETURN_FALSE;
    n->busy++;
    int st = ipcn_request_cancel(n->node, (ipcn_req){id});
    n->busy--;
    if (st == IPCN_OK) {
        for (record *r = n->records; r; r = r->next)
            if (r->kind == REC_REQUEST && r->id == id) {
                record_free(r); /* its callback will not run */
                break;
            }
        Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

PyObject *node_respond(NodeObject *n, PyObject *args)
{
    unsigned long long id;
    int status;
    PyObject *value;
    const char *enc = NULL;
    if (!PyArg_ParseTuple(args, "KiO|z:respond", &id, &status, &value, &enc))
        return NULL;
    value_buf b;
    if (encode_value(value, enc, &b, false) < 0)
        return NULL;
    if (value == Py_None && !enc) {
        b.len = 0;
        b.enc = "";
    }
    if (node_enter(n) < 0) {
        value_buf_release(&b);
        return NULL;
    }
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_respond(n->node, (ipcn_responder){id}, status, b.data ? b.data : "", b.len, b.enc);
    Py_END_ALLOW_THREADS
    node_leave(n);
    value_buf_release(&b);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "respond");
    Py_RETURN_NONE;
}

/* ---- who may do what ---------------------------------------------- */

/* A provider's own rules for path: rules a sequence of (deny: bool,
 * verbs: int, who: str) tuples (Node.set_access builds them); empty
 * removes them. */
PyObject *node_set_access(NodeObject *n, PyObject *args)
{
    const char *path;
    PyObject *rules;
    if (!PyArg_ParseTuple(args, "sO:set_access", &path, &rules))
        return NULL;
    PyObject *seq = PySequence_Fast(rules, "set_access needs a list of rules");
    if (!seq)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    ipcn_access_rule *c = PyMem_Calloc(count ? (size_t)count : 1, sizeof *c);
    if (!c) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < count; i++) { /* who borrows from seq's items */
        int deny;
        unsigned int verbs;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "pIs:set_access", &deny,
                              &verbs, &c[i].who)) {
            PyMem_Free(c);
            Py_DECREF(seq);
            return NULL;
        }
        c[i].deny = deny;
        c[i].verbs = verbs;
    }
    int st = node_enter(n);
    if (st == 0) {
        Py_BEGIN_ALLOW_THREADS
        st = ipcn_resource_set_access(n->node, path, c, (size_t)count);
        Py_END_ALLOW_THREADS
        node_leave(n);
    }
    PyMem_Free(c);
    Py_DECREF(seq);
    if (st < 0)
        return NULL;
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "set_access %s", path);
    Py_RETURN_NONE;
}

/* A provider's own limits for path: (requests_per_s, samples_per_s,
 * bytes_per_s, burst, inflight), or None to remove them. */
PyObject *node_set_limits(NodeObject *n, PyObject *args)
{
    const char *path;
    PyObject *spec;
    if (!PyArg_ParseTuple(args, "sO:set_limits", &path, &spec))
        return NULL;
    ipcn_limits lim = {.size = sizeof lim};
    if (spec != Py_None &&
        !PyArg_ParseTuple(spec, "dddII:set_limits", &lim.requests_per_s,
                          &lim.samples_per_s, &lim.bytes_per_s, &lim.burst,
                          &lim.inflight))
        return NULL;
    int st = node_enter(n);
    if (st < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_resource_set_limits(n->node, path, spec == Py_None ? NULL : &lim);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (!IPCN_IS_OK(st))
        return raise_statusf(st, "set_limits %s", path);
    Py_RETURN_NONE;
}

/* This node's groups: op "create" (name), "add" / "remove" (name, who),
 * "delete" (name). */
PyObject *node_group(NodeObject *n, PyObject *args)
{
    const char *op, *name, *who = NULL;
    if (!PyArg_ParseTuple(args, "ss|z:group", &op, &name, &who))
        return NULL;
    int kind = !strcmp(op, "create") ? 0 : !strcmp(op, "add") ? 1
             : !strcmp(op, "remove") ? 2 : !strcmp(op, "delete") ? 3 : -1;
    if (kind < 0 || ((kind == 1 || kind == 2) != (who != NULL))) {
        PyErr_SetString(PyExc_ValueError, "bad group call");
        return NULL;
    }
    if (node_enter(n) < 0)
        return NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = kind == 0   ? ipcn_group_create(n->node, name)
         : kind == 1 ? ipcn_group_add(n->node, name, who)
         : kind == 2 ? ipcn_group_remove(n->node, name, who)
                     : ipcn_group_delete(n->node, name);
    Py_END_ALLOW_THREADS
    node_leave(n);
    if (!IPCN_IS_OK(st))
        return who ? raise_statusf(st, "group_%s %s %s", op, name, who)
                   : raise_statusf(st, "group_%s %s", op, name);
    Py_RETURN_NONE;
}

/* ---- peers, events, counters ------------------------------------- */

PyObject *node_peers(NodeObject *n, PyObject *unused)
{
    static const char *const crits[] = {NULL, "optional", "important", "critical"};
    if (node_enter(n) < 0)
        return NULL;
    ipcn_peer_list *list = NULL;
    int st = ipcn_peers(n->node, &list);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "peers");
    PyObject *out = PyList_New((Py_ssize_t)list->count);
    for (size_t i = 0; out && i < list->count; i++) {
        const ipcn_peer *p = &list->items[i];
        /* The principal: groups (a tuple), exe (a str in the file system's
         * encoding, or None), exe_sha256 (32 bytes, or None). */
        ipcn_peer_info w = {.size = sizeof w};
        if (ipcn_peer_list_get_info(list, i, &w) != IPCN_OK)
            w.ngroups = 0, w.exe = NULL, w.exe_hashed = 0, w.denied = 0,
            w.audited = 0, w.criticality = 0, w.ready = 0;
        PyObject *groups = PyTuple_New((Py_ssize_t)w.ngroups);
        for (uint32_t g = 0; groups && g < w.ngroups; g++) {
            PyObject *v = PyLong_FromUnsignedLong(w.groups[g]);
            if (!v)
                Py_CLEAR(groups);
            else
                PyTuple_SET_ITEM(groups, (Py_ssize_t)g, v);
        }
        PyObject *exe = w.exe ? PyUnicode_DecodeFSDefault(w.exe)
                                : (Py_INCREF(Py_None), Py_None);
        PyObject *t = NULL;
        if (groups && exe)
            t = Py_BuildValue("(sKiiiKIKKKKKKNNy#KKzN)", p->name ? p->name : "",
                              (unsigned long long)p->id, p->pid, p->uid, p->gid,
                              (unsigned long long)p->linked_ns, p->resources,
                              (unsigned long long)p->frames_in,
                              (unsigned long long)p->frames_out,
                              (unsigned long long)p->bytes_in,
                              (unsigned long long)p->bytes_out,
                              (unsigned long long)p->bad_frames,
                              (unsigned long long)p->drops, groups, exe,
                              w.exe_hashed ? (const char *)w.exe_sha256 : NULL,
                              (Py_ssize_t)32, (unsigned long long)w.denied,
                              (unsigned long long)w.audited,
                              w.criticality <= IPCN_CRIT_CRITICAL ? crits[w.criticality]
                                                                  : NULL,
                              PyBool_FromLong(w.ready));
        else {
            Py_XDECREF(groups);
            Py_XDECREF(exe);
        }
        if (!t) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
    ipcn_peer_list_free(list);
    return out;
}

PyObject *node_subscriptions(NodeObject *n, PyObject *unused)
{
    if (node_enter(n) < 0)
        return NULL;
    ipcn_subscription_list *list = NULL;
    int st = ipcn_subscriptions(n->node, &list);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "subscriptions");
    PyObject *out = PyList_New((Py_ssize_t)list->count);
    for (size_t i = 0; out && i < list->count; i++) {
        const ipcn_subscription *s = &list->items[i];
        PyObject *t = Py_BuildValue("(sKs)", s->node ? s->node : "",
                                    (unsigned long long)s->node_id, s->pattern ? s->pattern : "");
        if (!t) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
    ipcn_subscription_list_free(list);
    return out;
}

/* _traffic(peer or None): tuples in TrafficItem's order. */
PyObject *node_traffic(NodeObject *n, PyObject *args)
{
    const char *peer = NULL;
    if (!PyArg_ParseTuple(args, "|z:_traffic", &peer))
        return NULL;
    if (node_enter(n) < 0)
        return NULL;
    ipcn_traffic_list *list = NULL;
    int st = ipcn_traffic(n->node, peer, &list);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "traffic%s%s", peer ? " of " : "", peer ? peer : "");
    PyObject *out = PyList_New((Py_ssize_t)list->count);
    for (size_t i = 0; out && i < list->count; i++) {
        const ipcn_traffic_item *t = list->items[i];
        PyObject *v = Py_BuildValue("(sKssNdddKKdK)", t->peer, (unsigned long long)t->peer_id,
                                    t->path, ipcn_traffic_verb_str(t->verb),
                                    PyBool_FromLong(t->anomalous), t->rate_per_s, t->rate_now,
                                    t->mean_bytes, (unsigned long long)t->count,
                                    (unsigned long long)t->bytes, t->idle_s,
                                    (unsigned long long)t->anomalies);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, v);
    }
    ipcn_traffic_list_free(list);
    return out;
}

PyObject *node_stats(NodeObject *n, PyObject *unused)
{
    if (node_enter(n) < 0)
        return NULL;
    ipcn_node_stats s = {.size = sizeof s};
    int st = ipcn_node_get_stats(n->node, &s);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "stats");
    return Py_BuildValue("(KKKKKKKKIIKKKK)", (unsigned long long)s.frames_in,
                         (unsigned long long)s.frames_out, (unsigned long long)s.bytes_in,
                         (unsigned long long)s.bytes_out, (unsigned long long)s.bad_frames,
                         (unsigned long long)s.links_refused, (unsigned long long)s.peers_lost,
                         (unsigned long long)s.drops, s.peers, s.resources,
                         (unsigned long long)s.pings_sent,
                         (unsigned long long)s.requests_abandoned,
                         (unsigned long long)s.typed_refused,
                         (unsigned long long)s.typed_dropped);
}

PyObject *node_set_event_callback(NodeObject *n, PyObject *fn)
{
    if (fn != Py_None && !PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "the event callback must be callable or None");
        return NULL;
    }
    PyObject *old = n->event_fn;
    n->event_fn = fn == Py_None ? NULL : (Py_INCREF(fn), fn);
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

PyObject *node_pool_config(NodeObject *n, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "slots", "slot_size", "refuse", "shm_threshold",
                             "checksum", NULL};
    const char *path;
    unsigned int slots = 0;
    Py_ssize_t slot_size = 0, threshold = -1;
    int refuse = 0, checksum = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|$Inpnp:pool_config", kwlist, &path, &slots,
                                     &slot_size, &refuse, &threshold, &checksum) ||
        node_enter(n) < 0)
        return NULL;
    ipcn_pool_opts o;
    ipcn_pool_opts_init(&o);
    if (slots)
        o.slots = slots;
    if (slot_size > 0)
        o.slot_size = (size_t)slot_size;
    o.policy = refuse ? IPCN_POOL_REFUSE : IPCN_POOL_DROP_OLDEST;
    if (threshold >= 0)
        o.shm_threshold = (size_t)threshold;
    o.checksum = checksum;
    int st = ipcn_pool_config(n->node, path, &o);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "pool_config %s", path);
    Py_RETURN_NONE;
}

PyObject *node_pool_stats(NodeObject *n, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s:pool_stats", &path) || node_enter(n) < 0)
        return NULL;
    ipcn_pool_stats s = {.size = sizeof s};
    int st = ipcn_pool_get_stats(n->node, path, &s);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "pool_stats %s", path);
    return Py_BuildValue("(IIIInIKKK)", s.slots, s.free, s.loaned, s.held,
                         (Py_ssize_t)s.slot_size, s.pools, (unsigned long long)s.published,
                         (unsigned long long)s.reclaimed, (unsigned long long)s.refused);
}

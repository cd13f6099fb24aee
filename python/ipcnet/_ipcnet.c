/* SPDX-License-Identifier: MIT */
/* _ipcnet.c — the module: its functions and _setup(), small helpers,
 * Message (see _ipcnet.h). */
#include "_ipcnet.h"

/* Python helpers registered by __init__.py through _setup(). */
PyObject *make_error_fn;   /* (status, text, reply) -> exception */
PyObject *handle_fn;       /* (fn, msg) -> (status, value, encoding) */
PyObject *defer_fn;        /* (node, responder_id, future) */
PyObject *complete_fn;     /* (future, status, msg or None, path) */

PyObject *tag_class;       /* ipcnet.Tag: a namedtuple (tag, value) */

/* ================================================================== */
/* Small helpers                                                        */
/* ================================================================== */

/* Seconds (float or int; None: forever) to the library's milliseconds. */
int timeout_ms(PyObject *obj, int *out)
{
    if (obj == NULL || obj == Py_None) {
        *out = -1;
        return 0;
    }
    double s = PyFloat_AsDouble(obj);
    if (s == -1.0 && PyErr_Occurred())
        return -1;
    if (isnan(s) || s < 0) {
        PyErr_SetString(PyExc_ValueError, "timeout must be >= 0 seconds or None");
        return -1;
    }
    double ms = ceil(s * 1000.0);
    *out = ms >= (double)(INT_MAX - 1) ? INT_MAX - 1 : (int)ms;
    return 0;
}

uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The next slice of a wait of ms (-1: forever) that ends at deadline. */
int next_slice(int ms, uint64_t deadline)
{
    if (ms < 0)
        return SLICE_MS;
    uint64_t now = mono_ms();
    if (now >= deadline)
        return 0;
    return deadline - now < SLICE_MS ? (int)(deadline - now) : SLICE_MS;
}

/* Raise the ipcnet.Error (subclass) of status.  reply may be NULL. */
PyObject *raise_status(int status, const char *text, PyObject *reply)
{
    if (!make_error_fn) {
        PyErr_Format(PyExc_RuntimeError, "%d %s: %s", status, ipcn_status_str(status),
                     text ? text : "");
        return NULL;
    }
    PyObject *exc = PyObject_CallFunction(make_error_fn, "isO", status, text,
                                          reply ? reply : Py_None);
    if (!exc)
        return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *raise_statusf(int status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return raise_status(status, text, NULL);
}

/* ================================================================== */
/* Message                                                              */
/* ================================================================== */

/* A Message taking over one reference of msg. */
PyObject *message_new(ipcn_msg *msg)
{
    MessageObject *m = PyObject_New(MessageObject, &MessageType);
    if (!m) {
        ipcn_msg_free(msg);
        return NULL;
    }
    m->msg = msg;
    m->value = NULL;
    return (PyObject *)m;
}

/* A Message over a message handed to a callback (no copy: one more
 * reference of it). */
PyObject *message_ref(const ipcn_msg *msg)
{
    ipcn_msg *r = ipcn_msg_ref(msg);
    if (!r)
        return PyErr_NoMemory();
    return message_new(r);
}

static void message_dealloc(MessageObject *m)
{
    Py_CLEAR(m->value);
    ipcn_msg *msg = m->msg;
    m->msg = NULL;
    /* The last reference of a shared-memory sample gives its slot back.
     * It never waits for anything that could need the GIL. */
    ipcn_msg_free(msg);
    PyObject_Free(m);
}

static int message_getbuffer(MessageObject *m, Py_buffer *view, int flags)
{
    int readonly = !(m->msg->flags & IPCN_MSG_WRITABLE);
    return PyBuffer_FillInfo(view, (PyObject *)m, (void *)m->msg->data,
                             (Py_ssize_t)m->msg->len, readonly, flags);
}

static PyBufferProcs message_as_buffer = {
    .bf_getbuffer = (getbufferproc)message_getbuffer,
};

static PyObject *msg_str(const char *s)
{
    return PyUnicode_DecodeUTF8(s ? s : "", s ? (Py_ssize_t)strlen(s) : 0, "replace");
}

static PyObject *message_get_path(MessageObject *m, void *c) { return msg_str(m->msg->path); }
static PyObject *message_get_encoding(MessageObject *m, void *c)
{
    return msg_str(m->msg->encoding);
}
static PyObject *message_get_src(MessageObject *m, void *c) { return msg_str(m->msg->src_name); }
static PyObject *message_get_src_id(MessageObject *m, void *c)
{
    return PyLong_FromUnsignedLongLong(m->msg->src_id);
}
static PyObject *message_get_seq(MessageObject *m, void *c)
{
    return PyLong_FromUnsignedLongLong(m->msg->seq);
}
static PyObject *message_get_ts(MessageObject *m, void *c)
{
    return PyLong_FromUnsignedLongLong(m->msg->timestamp_ns);
}
static PyObject *message_get_status(MessageObject *m, void *c)
{
    return PyLong_FromLong(m->msg->status);
}
static PyObject *message_get_flags(MessageObject *m, void *c)
{
    return PyLong_FromUnsignedLong(m->msg->flags);
}
static PyObject *message_get_shared(MessageObject *m, void *c)
{
    return PyBool_FromLong(m->msg->flags & IPCN_MSG_SHARED);
}
static PyObject *message_get_address(MessageObject *m, void *c)
{
    return PyLong_FromVoidPtr((void *)m->msg->data);
}
static PyObject *message_get_data(MessageObject *m, void *c)
{
    return PyMemoryView_FromObject((PyObject *)m);
}
static PyObject *message_get_value(MessageObject *m, void *c)
{
    if (!m->value) {
        m->value = decode_message(m);
        if (!m->value)
            return NULL;
    }
    Py_INCREF(m->value);
    return m->value;
}

static Py_ssize_t message_len(MessageObject *m) { return (Py_ssize_t)m->msg->len; }

static PyObject *message_verify(MessageObject *m, PyObject *unused)
{
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_msg_verify(m->msg);
    Py_END_ALLOW_THREADS
    if (st == IPCN_NO_DATA)
        Py_RETURN_NONE; /* its publisher took no checksum */
    return PyBool_FromLong(st == IPCN_OK);
}

static PyObject *message_get_retry(MessageObject *m, void *closure)
{
    int ms = ipcn_msg_retry_after_ms(m->msg);
    if (ms < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(ms);
}

static PyObject *message_writable(MessageObject *m, PyObject *unused)
{
    ipcn_msg *w = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ipcn_msg_writable(m->msg, &w);
    Py_END_ALLOW_THREADS
    if (st != IPCN_OK)
        return raise_statusf(st, "ipcn_msg_writable of a message of %s", m->msg->path);
    return message_new(w);
}

static PyObject *message_repr(MessageObject *m)
{
    return PyUnicode_FromFormat("<ipcnet.Message %s status=%d encoding=%s len=%zu seq=%llu%s>",
                                m->msg->path ? m->msg->path : "", m->msg->status,
                                m->msg->encoding ? m->msg->encoding : "", m->msg->len,
                                (unsigned long long)m->msg->seq,
                                (m->msg->flags & IPCN_MSG_SHARED) ? " shared" : "");
}

static PyObject *message_get_provenance(MessageObject *m, void *closure)
{
    const uint8_t *b;
    size_t len;
    if (ipcn_msg_provenance(m->msg, &b, &len) != IPCN_OK)
        Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)b, (Py_ssize_t)len);
}

static PyGetSetDef message_getset[] = {
    {"path", (getter)message_get_path, NULL, "the resource (str)", NULL},
    {"encoding", (getter)message_get_encoding, NULL, "how data is encoded (str)", NULL},
    {"src", (getter)message_get_src, NULL, "the sending node's name", NULL},
    {"src_id", (getter)message_get_src_id, NULL, "the sending node's id", NULL},
    {"seq", (getter)message_get_seq, NULL, "per-resource sequence number", NULL},
    {"timestamp_ns", (getter)message_get_ts, NULL, "CLOCK_REALTIME at publication, ns", NULL},
    {"status", (getter)message_get_status, NULL, "100 for a value; see ipcnet.h", NULL},
    {"flags", (getter)message_get_flags, NULL, "IPCN_MSG_* bits", NULL},
    {"shared", (getter)message_get_shared, NULL, "True for a shared-memory sample", NULL},
    {"address", (getter)message_get_address, NULL, "address of the bytes (int)", NULL},
    {"data", (getter)message_get_data, NULL, "the bytes: a read-only memoryview, no copy", NULL},
    {"value", (getter)message_get_value, NULL, "the value decoded by its encoding", NULL},
    {"provenance", (getter)message_get_provenance, NULL,
     "the encoded provenance record it came with (bytes), or None "
     "(ipcn_msg_provenance; docs/protocol.md 20)", NULL},
    {"retry_after_ms", (getter)message_get_retry, NULL,
     "a 205 over a rate limit: the ms after which to retry, else None "
     "(ipcn_msg_retry_after_ms)", NULL},
    {NULL},
};

static PyMethodDef message_methods[] = {
    {"verify", (PyCFunction)message_verify, METH_NOARGS,
     "True when the bytes are as their publisher published them, False when not,\n"
     "None when its publisher took no checksum (ipcn_msg_verify)."},
    {"writable", (PyCFunction)message_writable, METH_NOARGS,
     "A private writable copy of this message, a snapshot (ipcn_msg_writable); of a\n"
     "shared-memory sample it pins the publisher's slot, as the sample does."},
    {NULL},
};

static PySequenceMethods message_as_sequence = {
    .sq_length = (lenfunc)message_len,
};

PyTypeObject MessageType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ipcnet.Message",
    .tp_basicsize = sizeof(MessageObject),
    .tp_dealloc = (destructor)message_dealloc,
    .tp_repr = (reprfunc)message_repr,
    .tp_as_buffer = &message_as_buffer,
    .tp_as_sequence = &message_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A received value: a sample, a query answer, a request or a reply.\n"
              "Holds the library's message (for a shared-memory sample, a slot of the\n"
              "publisher's pool: .shared) until the last reference to it, its data,\n"
              "its tensors or the DLPack tensors made from them is freed.",
    .tp_getset = message_getset,
    .tp_methods = message_methods,
};

/* ================================================================== */
/* Module functions                                                     */
/* ================================================================== */

static PyObject *mod_encode(PyObject *self, PyObject *args)
{
    PyObject *obj;
    const char *enc = NULL;
    if (!PyArg_ParseTuple(args, "O|z:encode", &obj, &enc))
        return NULL;
    value_buf b;
    if (encode_value(obj, enc, &b, false) < 0)
        return NULL;
    PyObject *res = Py_BuildValue("(y#s)", b.data ? (const char *)b.data : "",
                                  (Py_ssize_t)b.len, b.enc);
    value_buf_release(&b);
    return res;
}

static PyObject *mod_decode(PyObject *self, PyObject *args)
{
    PyObject *obj;
    const char *enc = "cbor";
    if (!PyArg_ParseTuple(args, "O|z:decode", &obj, &enc))
        return NULL;
    if (Py_IS_TYPE(obj, &MessageType))
        return message_get_value((MessageObject *)obj, NULL);
    Py_buffer v;
    if (PyObject_GetBuffer(obj, &v, PyBUF_SIMPLE) < 0)
        return NULL;
    decode_ctx ctx = {.base = obj};
    PyObject *res = decode_bytes(v.buf, (size_t)v.len, enc ? enc : "", &ctx);
    PyBuffer_Release(&v);
    return res;
}

static PyObject *mod_status_str(PyObject *self, PyObject *arg)
{
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(ipcn_status_str((int)st));
}

static PyObject *mod_pattern_match(PyObject *self, PyObject *args)
{
    const char *pattern, *path;
    if (!PyArg_ParseTuple(args, "ss:pattern_match", &pattern, &path))
        return NULL;
    return PyBool_FromLong(ipcn_pattern_match(pattern, path));
}

static PyObject *mod_version(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(ipcn_version());
}

static PyObject *mod_setup(PyObject *self, PyObject *args)
{
    PyObject *e, *h, *d, *c, *t;
    if (!PyArg_ParseTuple(args, "OOOOO!:_setup", &e, &h, &d, &c, &PyType_Type, &t))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)t, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "the tag class must be a tuple type");
        return NULL;
    }
    Py_INCREF(t);
    Py_XSETREF(tag_class, t);
    Py_INCREF(e);
    Py_INCREF(h);
    Py_INCREF(d);
    Py_INCREF(c);
    Py_XSETREF(make_error_fn, e);
    Py_XSETREF(handle_fn, h);
    Py_XSETREF(defer_fn, d);
    Py_XSETREF(complete_fn, c);
    Py_RETURN_NONE;
}

static PyObject *mod_in_callback(PyObject *self, PyObject *unused)
{
    if (!cb_node)
        Py_RETURN_NONE;
    Py_INCREF(cb_node);
    return (PyObject *)cb_node;
}

static PyMethodDef module_methods[] = {
    {"encode", mod_encode, METH_VARARGS,
     "encode(value, encoding=None) -> (bytes, encoding): value as IPCNet sends it."},
    {"decode", mod_decode, METH_VARARGS,
     "decode(data, encoding='cbor'): the value of bytes of that encoding."},
    {"status_str", mod_status_str, METH_O, "The name of a status code."},
    {"pattern_match", mod_pattern_match, METH_VARARGS,
     "pattern_match(pattern, path) -> bool: '*' one segment, '**' any number."},
    {"version", mod_version, METH_NOARGS, "The library's version string."},
    {"_setup", mod_setup, METH_VARARGS, NULL},
    {"_in_callback", mod_in_callback, METH_NOARGS, NULL},
    {"_sensor_check", mod_sensor_check, METH_VARARGS, NULL},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_ipcnet",
    .m_doc = "The C side of the ipcnet package.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__ipcnet(void)
{
    if (PyType_Ready(&MessageType) < 0 || PyType_Ready(&TensorType) < 0 ||
        PyType_Ready(&NodeType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    Py_INCREF(&MessageType);
    Py_INCREF(&TensorType);
    Py_INCREF(&NodeType);
    if (PyModule_AddObject(m, "Message", (PyObject *)&MessageType) < 0 ||
        PyModule_AddObject(m, "Tensor", (PyObject *)&TensorType) < 0 ||
        PyModule_AddObject(m, "_Node", (PyObject *)&NodeType) < 0 ||
        PyModule_AddIntConstant(m, "SHM_THRESHOLD", (long)IPCN_SHM_THRESHOLD) < 0 ||
        PyModule_AddIntConstant(m, "MSG_SHARED", IPCN_MSG_SHARED) < 0 ||
        PyModule_AddIntConstant(m, "MSG_WRITABLE", IPCN_MSG_WRITABLE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* SPDX-License-Identifier: MIT */
/*
 * _ipcnet.c — the CPython extension under the `ipcnet` package: a thin layer
 * over libipcnet (include/ipcnet.h, ipcnet_value.h, ipcnet_dlpack.h).  The
 * Pythonic surface (Node, Subscription, errors, namedtuples) is in
 * __init__.py; this file holds what must be C:
 *
 *  - _Node: an ipcn_node and its callbacks.  Every call that can wait
 *    (open, close, query, request, sub_take, dispatch, wait_*) runs with the
 *    GIL released; callbacks take the GIL only while they run Python code.
 *  - Message: an ipcn_msg held by one reference (ipcn_msg_ref), read-only
 *    buffer protocol over its bytes, its value decoded by its encoding.
 *  - Tensor: a received tensor (a view inside a message, or inside a bytes
 *    object given to loads()), read-only buffer protocol with no copy, and
 *    DLPack export of a WRITABLE PRIVATE view (ipcn_msg_writable()).
 *  - values: Python objects <-> CBOR with the library's writer and reader;
 *    NumPy arrays, torch tensors and other buffer/DLPack exporters <-> CBOR
 *    tensors (RFC 8746) with ipcn_tensor_encode()/ipcn_loan_tensor().
 *
 * Callback records.  The user pointer given to the library for a
 * subscription, a service or an asynchronous request is a `record` owned by
 * the node object.  The library may still run a callback of a subscription
 * that another thread is ending, so a record is never freed while the node
 * is open: ending it marks it dead (under the GIL) and drops its Python
 * callable; the trampoline, once it holds the GIL, skips dead records.
 * Records are freed when the node is closed (no callback runs after
 * ipcn_node_close() returns), except request records, freed once their
 * callback ran or the request was cancelled.
 *
 * Lifetime of the node object.  Callbacks run only inside dispatch() (the
 * caller holds a reference) or on the node's thread; start() holds a
 * reference to the node until stop()/close(), so the object is never
 * deallocated under a running callback.  close() from another thread waits
 * for the calls in flight on the node (ipcn_node_close() must not run at the
 * same time as any other call); close(), stop() and dispatch() from a
 * callback of the same node raise RuntimeError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <ipcnet.h>
#include <ipcnet_dlpack.h>
#include <ipcnet_value.h>

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#if PY_VERSION_HEX >= 0x030D0000
#define IS_FINALIZING() Py_IsFinalizing()
#else
#define IS_FINALIZING() _Py_IsFinalizing()
#endif

/* A blocking wait with no timeout is done in slices of this many ms, so
 * that Ctrl-C (signals are handled by the main thread between slices) and
 * close() from another thread are seen. */
#define SLICE_MS 200

/* Python helpers registered by __init__.py through _setup(). */
static PyObject *make_error_fn;   /* (status, text, reply) -> exception */
static PyObject *handle_fn;       /* (fn, msg) -> (status, value, encoding) */
static PyObject *defer_fn;        /* (node, responder_id, future) */
static PyObject *complete_fn;     /* (future, status, msg or None, path) */

static PyObject *tag_class;       /* ipcnet.Tag: a namedtuple (tag, value) */

static PyTypeObject MessageType, TensorType, NodeType;

/* ================================================================== */
/* Small helpers                                                        */
/* ================================================================== */

/* Seconds (float or int; None: forever) to the library's milliseconds. */
static int timeout_ms(PyObject *obj, int *out)
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

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The next slice of a wait of ms (-1: forever) that ends at deadline. */
static int next_slice(int ms, uint64_t deadline)
{
    if (ms < 0)
        return SLICE_MS;
    uint64_t now = mono_ms();
    if (now >= deadline)
        return 0;
    return deadline - now < SLICE_MS ? (int)(deadline - now) : SLICE_MS;
}

/* Raise the ipcnet.Error (subclass) of status.  reply may be NULL. */
static PyObject *raise_status(int status, const char *text, PyObject *reply)
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

static PyObject *raise_statusf(int status, const char *fmt, ...)
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

typedef struct {
    PyObject_HEAD
    ipcn_msg *msg;    /* one reference, ours */
    PyObject *value;  /* decoded value, cached (NULL: not yet) */
} MessageObject;

static PyObject *decode_message(MessageObject *m);

/* A Message taking over one reference of msg. */
static PyObject *message_new(ipcn_msg *msg)
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
static PyObject *message_ref(const ipcn_msg *msg)
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
    {NULL},
};

static PyMethodDef message_methods[] = {
    {"verify", (PyCFunction)message_verify, METH_NOARGS,
     "True when the bytes are as their publisher published them, False when not,\n"
     "None when its publisher took no checksum (ipcn_msg_verify)."},
    {"writable", (PyCFunction)message_writable, METH_NOARGS,
     "A private writable copy of this message, a snapshot (ipcn_msg_writable)."},
    {NULL},
};

static PySequenceMethods message_as_sequence = {
    .sq_length = (lenfunc)message_len,
};

static PyTypeObject MessageType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ipcnet.Message",
    .tp_basicsize = sizeof(MessageObject),
    .tp_dealloc = (destructor)message_dealloc,
    .tp_repr = (reprfunc)message_repr,
    .tp_as_buffer = &message_as_buffer,
    .tp_as_sequence = &message_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A received value: a sample, a query answer, a request or a reply.\n"
              "Holds the library's message (for a shared-memory sample, its slot)\n"
              "until the last reference to it, its data or its tensors is dropped.",
    .tp_getset = message_getset,
    .tp_methods = message_methods,
};

/* ================================================================== */
/* Tensor                                                               */
/* ================================================================== */

typedef struct {
    PyObject_HEAD
    ipcn_msg *msg;     /* one reference of the message it lies in, or NULL */
    PyObject *base;    /* else the object whose buffer it lies in */
    Py_buffer view;    /* that buffer (when base) */
    bool writable;     /* a private view (Tensor.writable()) */
    ipcn_tensor t;
    Py_ssize_t bshape[IPCN_TENSOR_MAX_DIMS];
    Py_ssize_t bstrides[IPCN_TENSOR_MAX_DIMS];
} TensorObject;

static PyObject *tensor_new_in_msg(const ipcn_tensor *t, const ipcn_msg *msg, PyObject *base)
{
    TensorObject *o = PyObject_New(TensorObject, &TensorType);
    if (!o)
        return NULL;
    o->msg = NULL;
    o->base = NULL;
    o->writable = false;
    memset(&o->view, 0, sizeof o->view);
    o->t = *t;
    if (msg) {
        o->msg = ipcn_msg_ref(msg);
    } else {
        if (PyObject_GetBuffer(base, &o->view, PyBUF_SIMPLE) < 0) {
            PyObject_Free(o);
            return NULL;
        }
        Py_INCREF(base);
        o->base = base;
    }
    return (PyObject *)o;
}

static void tensor_dealloc(TensorObject *o)
{
    if (o->base) {
        PyBuffer_Release(&o->view);
        Py_CLEAR(o->base);
    }
    ipcn_msg *msg = o->msg;
    o->msg = NULL;
    ipcn_msg_free(msg);
    PyObject_Free(o);
}

/* Buffer-protocol formats per dtype: native, little-endian, big-endian. */
static const char *const fmt_table[][3] = {
    [IPCN_DTYPE_BOOL] = {"?", "?", "?"},       [IPCN_DTYPE_INT8] = {"b", "b", "b"},
    [IPCN_DTYPE_INT16] = {"h", "<h", ">h"},    [IPCN_DTYPE_INT32] = {"i", "<i", ">i"},
    [IPCN_DTYPE_INT64] = {"q", "<q", ">q"},    [IPCN_DTYPE_UINT8] = {"B", "B", "B"},
    [IPCN_DTYPE_UINT16] = {"H", "<H", ">H"},   [IPCN_DTYPE_UINT32] = {"I", "<I", ">I"},
    [IPCN_DTYPE_UINT64] = {"Q", "<Q", ">Q"},   [IPCN_DTYPE_FLOAT16] = {"e", "<e", ">e"},
    [IPCN_DTYPE_FLOAT32] = {"f", "<f", ">f"},  [IPCN_DTYPE_FLOAT64] = {"d", "<d", ">d"},
};

static const char *buffer_format(const ipcn_tensor *t)
{
    if ((unsigned)t->dtype >= sizeof fmt_table / sizeof fmt_table[0] || !fmt_table[t->dtype][0])
        return NULL;
    if (t->order == IPCN_ORDER_NATIVE)
        return fmt_table[t->dtype][0];
    return fmt_table[t->dtype][t->order == IPCN_ORDER_BIG ? 2 : 1];
}

static int tensor_getbuffer(TensorObject *o, Py_buffer *view, int flags)
{
    const ipcn_tensor *t = &o->t;
    view->obj = NULL;
    if ((flags & PyBUF_WRITABLE) && !o->writable) {
        PyErr_SetString(PyExc_BufferError,
                        "a received ipcnet.Tensor is read-only (t.writable() is a private "
                        "writable view of it; so are torch.from_dlpack(t) and "
                        "numpy.from_dlpack(t))");
        return -1;
    }
    const char *fmt = buffer_format(t);
    if (!fmt) {
        PyErr_Format(PyExc_BufferError,
                     "%s has no buffer-protocol format: use torch.from_dlpack()",
                     ipcn_dtype_name(t->dtype));
        return -1;
    }
    Py_ssize_t item = (Py_ssize_t)ipcn_dtype_size(t->dtype);
    uint64_t numel = ipcn_tensor_numel(t);
    int contiguous = ipcn_tensor_is_contiguous(t);
    if (!contiguous && (flags & PyBUF_STRIDES) != PyBUF_STRIDES) {
        PyErr_SetString(PyExc_BufferError, "the tensor is not C-contiguous");
        return -1;
    }
    for (uint32_t i = 0; i < t->ndim; i++) {
        o->bshape[i] = (Py_ssize_t)t->shape[i];
        o->bstrides[i] = (Py_ssize_t)(t->strides[i] * item);
    }
    view->buf = (void *)t->data;
    view->len = (Py_ssize_t)numel * item;
    view->readonly = !o->writable;
    view->itemsize = item;
    view->ndim = (int)t->ndim;
    view->format = (flags & PyBUF_FORMAT) ? (char *)fmt : NULL;
    view->shape = (flags & PyBUF_ND) == PyBUF_ND ? o->bshape : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? o->bstrides : NULL;
    if (!view->shape && t->ndim != 1) {
        /* No shape asked: a flat run of bytes. */
        view->ndim = 1;
        view->itemsize = 1;
        view->format = NULL;
    }
    view->suboffsets = NULL;
    view->internal = NULL;
    view->obj = (PyObject *)o;
    Py_INCREF(o);
    return 0;
}

static PyBufferProcs tensor_as_buffer = {
    .bf_getbuffer = (getbufferproc)tensor_getbuffer,
};

static PyObject *tensor_get_shape(TensorObject *o, void *c)
{
    PyObject *tup = PyTuple_New(o->t.ndim);
    if (!tup)
        return NULL;
    for (uint32_t i = 0; i < o->t.ndim; i++) {
        PyObject *d = PyLong_FromLongLong(o->t.shape[i]);
        if (!d) {
            Py_DECREF(tup);
            return NULL;
        }
        PyTuple_SET_ITEM(tup, i, d);
    }
    return tup;
}
static PyObject *tensor_get_strides(TensorObject *o, void *c)
{
    PyObject *tup = PyTuple_New(o->t.ndim);
    if (!tup)
        return NULL;
    for (uint32_t i = 0; i < o->t.ndim; i++) {
        PyObject *d = PyLong_FromLongLong(o->t.strides[i]);
        if (!d) {
            Py_DECREF(tup);
            return NULL;
        }
        PyTuple_SET_ITEM(tup, i, d);
    }
    return tup;
}
static PyObject *tensor_get_dtype(TensorObject *o, void *c)
{
    return PyUnicode_FromString(ipcn_dtype_name(o->t.dtype));
}
static PyObject *tensor_get_ndim(TensorObject *o, void *c) { return PyLong_FromLong(o->t.ndim); }
static PyObject *tensor_get_size(TensorObject *o, void *c)
{
    return PyLong_FromUnsignedLongLong(ipcn_tensor_numel(&o->t));
}
static PyObject *tensor_get_nbytes(TensorObject *o, void *c)
{
    return PyLong_FromUnsignedLongLong(ipcn_tensor_numel(&o->t) * ipcn_dtype_size(o->t.dtype));
}
static PyObject *tensor_get_address(TensorObject *o, void *c)
{
    return PyLong_FromVoidPtr((void *)o->t.data);
}
static PyObject *tensor_get_byteorder(TensorObject *o, void *c)
{
    return PyUnicode_FromString(o->t.order == IPCN_ORDER_BIG ? "big" : "little");
}
static PyObject *tensor_get_aligned(TensorObject *o, void *c)
{
    return PyBool_FromLong(o->t.aligned);
}
static PyObject *tensor_get_shared(TensorObject *o, void *c)
{
    return PyBool_FromLong(o->msg && (o->msg->flags & IPCN_MSG_SHARED));
}

static PyObject *tensor_get_readonly(TensorObject *o, void *c)
{
    return PyBool_FromLong(!o->writable);
}

static Py_ssize_t tensor_len(TensorObject *o)
{
    if (o->t.ndim == 0) {
        PyErr_SetString(PyExc_TypeError, "len() of a 0-d tensor");
        return -1;
    }
    return (Py_ssize_t)o->t.shape[0];
}

/* ---- DLPack export ---------------------------------------------- */

typedef struct {
    DLManagedTensor mt;
    int64_t shape[IPCN_TENSOR_MAX_DIMS];
    int64_t strides[IPCN_TENSOR_MAX_DIMS];
    ipcn_msg *w;  /* the writable view the data lies in, or NULL */
    void *copy;   /* else a private copy */
} dl_export;

/* Called by the consumer when the last array over the data goes, from any
 * thread, maybe without the GIL: no Python here. */
static void dl_export_deleter(DLManagedTensor *mt)
{
    dl_export *e = mt->manager_ctx;
    ipcn_msg_free(e->w);
    free(e->copy);
    free(e);
}

/* A capsule still named "dltensor" was never consumed: free it.  One that
 * a consumer renamed "used_dltensor" belongs to the consumer. */
static void dl_capsule_destructor(PyObject *cap)
{
    if (PyCapsule_IsValid(cap, "used_dltensor"))
        return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    DLManagedTensor *mt = PyCapsule_GetPointer(cap, "dltensor");
    if (mt && mt->deleter)
        mt->deleter(mt);
    else
        PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

static PyObject *tensor_dlpack(TensorObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"stream", NULL};
    PyObject *stream = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$O:__dlpack__", kwlist, &stream))
        return NULL;
    if (stream != Py_None) {
        PyErr_SetString(PyExc_BufferError,
                        "an ipcnet.Tensor lives on the CPU: stream must be None");
        return NULL;
    }
    const ipcn_tensor *t = &o->t;
    size_t item = ipcn_dtype_size(t->dtype);
    uint64_t numel = ipcn_tensor_numel(t);
    dl_export *e = calloc(1, sizeof *e);
    if (!e)
        return PyErr_NoMemory();
    ipcn_tensor v = *t;
    /* From a private copy of the message (ipcn_msg_writable(): one pass
     * over the bytes) when the elements can be read as they lie; else a
     * private contiguous native copy. */
    bool in_place = o->msg && (t->aligned || numel == 0) &&
                    (item == 1 || t->order == IPCN_ORDER_NATIVE);
    int st = IPCN_OK;
    if (in_place) {
        ipcn_msg *w = NULL;
        Py_BEGIN_ALLOW_THREADS
        st = ipcn_msg_writable(o->msg, &w);
        Py_END_ALLOW_THREADS
        if (st != IPCN_OK) {
            free(e);
            return raise_statusf(st, "ipcn_msg_writable");
        }
        e->w = w;
        v.data = (const char *)w->data + ((const char *)t->data - (const char *)o->msg->data);
    } else {
        size_t n = (size_t)numel * item;
        e->copy = aligned_alloc(64, (n + 63) / 64 * 64 + 64);
        if (!e->copy) {
            free(e);
            return PyErr_NoMemory();
        }
        Py_BEGIN_ALLOW_THREADS
        st = ipcn_tensor_copy(t, e->copy, n);
        Py_END_ALLOW_THREADS
        if (st != IPCN_OK) {
            free(e->copy);
            free(e);
            return raise_statusf(st, "ipcn_tensor_copy");
        }
        int64_t stride = 1;
        for (int i = (int)t->ndim - 1; i >= 0; i--) {
            v.strides[i] = stride;
            stride *= t->shape[i] > 0 ? t->shape[i] : 1;
        }
        v.data = e->copy;
        v.order = IPCN_ORDER_NATIVE;
        v.aligned = 1;
    }
    st = ipcn_tensor_to_dlpack(&v, &e->mt.dl_tensor);
    if (st != IPCN_OK) {
        ipcn_msg_free(e->w);
        free(e->copy);
        free(e);
        return raise_statusf(st, "ipcn_tensor_to_dlpack");
    }
    memcpy(e->shape, v.shape, sizeof e->shape);
    memcpy(e->strides, v.strides, sizeof e->strides);
    e->mt.dl_tensor.shape = e->shape;
    e->mt.dl_tensor.strides = e->strides;
    e->mt.manager_ctx = e;
    e->mt.deleter = dl_export_deleter;
    PyObject *cap = PyCapsule_New(&e->mt, "dltensor", dl_capsule_destructor);
    if (!cap)
        dl_export_deleter(&e->mt);
    return cap;
}

static PyObject *tensor_dlpack_device(TensorObject *o, PyObject *unused)
{
    return Py_BuildValue("(ii)", (int)kDLCPU, 0);
}

/* A private writable view: for a message, ipcn_msg_writable() (copy on
 * write for a shared-memory sample); for bytes given to loads(), a copy. */
static PyObject *tensor_writable(TensorObject *o, PyObject *unused)
{
    ipcn_tensor t = o->t;
    TensorObject *w;
    if (o->msg) {
        ipcn_msg *m = NULL;
        int st;
        Py_BEGIN_ALLOW_THREADS
        st = ipcn_msg_writable(o->msg, &m);
        Py_END_ALLOW_THREADS
        if (st != IPCN_OK)
            return raise_statusf(st, "ipcn_msg_writable");
        t.data = (const char *)m->data + ((const char *)o->t.data - (const char *)o->msg->data);
        w = (TensorObject *)tensor_new_in_msg(&t, m, NULL);
        ipcn_msg_free(m); /* the tensor took its own reference */
    } else {
        PyObject *copy = PyByteArray_FromStringAndSize(o->view.buf, o->view.len);
        if (!copy)
            return NULL;
        t.data = PyByteArray_AS_STRING(copy) +
                 ((const char *)o->t.data - (const char *)o->view.buf);
        w = (TensorObject *)tensor_new_in_msg(&t, NULL, copy);
        Py_DECREF(copy);
    }
    if (w)
        w->writable = true;
    return (PyObject *)w;
}

/* numpy.asarray(t) reads the buffer protocol; this is for what it cannot
 * (bfloat16), and for numpy.array(t, dtype=...). */
static PyObject *tensor_array(TensorObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dtype", "copy", NULL};
    PyObject *dtype = Py_None, *copy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:__array__", kwlist, &dtype, &copy))
        return NULL;
    if (!buffer_format(&o->t))
        return PyErr_Format(PyExc_TypeError,
                            "NumPy has no %s: use torch.from_dlpack(t)",
                            ipcn_dtype_name(o->t.dtype));
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np)
        return NULL;
    PyObject *mv = PyMemoryView_FromObject((PyObject *)o);
    PyObject *arr = mv ? PyObject_CallMethod(np, "asarray", "OO", mv, dtype) : NULL;
    Py_XDECREF(mv);
    Py_DECREF(np);
    return arr;
}

static PyObject *tensor_numpy(TensorObject *o, PyObject *unused)
{
    PyObject *none = PyTuple_New(0);
    PyObject *arr = none ? tensor_array(o, none, NULL) : NULL;
    Py_XDECREF(none);
    return arr;
}

static PyObject *tensor_repr(TensorObject *o)
{
    char shape[256] = "";
    size_t n = 0;
    for (uint32_t i = 0; i < o->t.ndim && n < sizeof shape - 24; i++)
        n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%lld", i ? ", " : "",
                              (long long)o->t.shape[i]);
    return PyUnicode_FromFormat("<ipcnet.Tensor %s [%s]%s>", ipcn_dtype_name(o->t.dtype), shape,
                                o->msg && (o->msg->flags & IPCN_MSG_SHARED) ? " shared" : "");
}

static PyGetSetDef tensor_getset[] = {
    {"shape", (getter)tensor_get_shape, NULL, "dimensions (tuple of int)", NULL},
    {"strides", (getter)tensor_get_strides, NULL, "strides in elements", NULL},
    {"dtype", (getter)tensor_get_dtype, NULL, "element type name: 'float32', 'bool', ...", NULL},
    {"ndim", (getter)tensor_get_ndim, NULL, "number of dimensions", NULL},
    {"size", (getter)tensor_get_size, NULL, "number of elements", NULL},
    {"nbytes", (getter)tensor_get_nbytes, NULL, "bytes of the elements", NULL},
    {"address", (getter)tensor_get_address, NULL, "address of element (0, ..., 0)", NULL},
    {"byteorder", (getter)tensor_get_byteorder, NULL, "'little' or 'big'", NULL},
    {"aligned", (getter)tensor_get_aligned, NULL, "elements aligned to their size", NULL},
    {"shared", (getter)tensor_get_shared, NULL, "lies in a shared-memory sample", NULL},
    {"readonly", (getter)tensor_get_readonly, NULL, "False for a writable() view", NULL},
    {NULL},
};

static PyMethodDef tensor_methods[] = {
    {"__dlpack__", (PyCFunction)(void (*)(void))tensor_dlpack, METH_VARARGS | METH_KEYWORDS,
     "A DLPack capsule over a writable private copy of the elements, a snapshot\n"
     "taken now: writes are seen by no one else, later writes by the publisher\n"
     "do not reach it."},
    {"__dlpack_device__", (PyCFunction)tensor_dlpack_device, METH_NOARGS, "(kDLCPU, 0)"},
    {"__array__", (PyCFunction)(void (*)(void))tensor_array, METH_VARARGS | METH_KEYWORDS,
     "A read-only NumPy view of the elements (no copy)."},
    {"writable", (PyCFunction)tensor_writable, METH_NOARGS,
     "A private writable copy of the elements, a snapshot taken now (one pass\n"
     "over the bytes): numpy.asarray(t.writable()) may be written."},
    {"numpy", (PyCFunction)tensor_numpy, METH_NOARGS,
     "A read-only NumPy view of the elements (no copy); numpy.from_dlpack(t) for a\n"
     "writable private one."},
    {NULL},
};

static PySequenceMethods tensor_as_sequence = {
    .sq_length = (lenfunc)tensor_len,
};

static PyTypeObject TensorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ipcnet.Tensor",
    .tp_basicsize = sizeof(TensorObject),
    .tp_dealloc = (destructor)tensor_dealloc,
    .tp_repr = (reprfunc)tensor_repr,
    .tp_as_buffer = &tensor_as_buffer,
    .tp_as_sequence = &tensor_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A received tensor, a view of its elements inside the message (no copy).\n"
              "memoryview(t) and numpy.asarray(t) read it in place (read-only);\n"
              "numpy.from_dlpack(t), torch.from_dlpack(t) and\n"
              "tf.experimental.dlpack.from_dlpack(t.__dlpack__()) get a writable private view.",
    .tp_getset = tensor_getset,
    .tp_methods = tensor_methods,
};

/* ================================================================== */
/* Tensors from Python objects (buffer protocol, DLPack)                */
/* ================================================================== */

typedef struct {
    ipcn_tensor t;
    Py_buffer view;
    bool has_view;
    PyObject *keep;          /* our own Tensor */
    PyObject *capsule;       /* a consumed DLPack capsule */
    DLManagedTensor *mt;
    void *copy;              /* PyMem */
} tensor_src;

static void tensor_src_release(tensor_src *s)
{
    if (s->has_view)
        PyBuffer_Release(&s->view);
    s->has_view = false;
    if (s->mt && s->mt->deleter)
        s->mt->deleter(s->mt);
    s->mt = NULL;
    Py_CLEAR(s->capsule);
    Py_CLEAR(s->keep);
    PyMem_Free(s->copy);
    s->copy = NULL;
}

/* The dtype of a struct-module format character of itemsize bytes. */
static ipcn_dtype dtype_of_format(const char *fmt, Py_ssize_t item, ipcn_byte_order *order)
{
    *order = IPCN_ORDER_NATIVE;
    if (!fmt)
        return item == 1 ? IPCN_DTYPE_UINT8 : IPCN_DTYPE_INVALID;
    if (*fmt == '@' || *fmt == '=') {
        fmt++;
    } else if (*fmt == '<') {
        *order = IPCN_ORDER_LITTLE;
        fmt++;
    } else if (*fmt == '>' || *fmt == '!') {
        *order = IPCN_ORDER_BIG;
        fmt++;
    }
    if (!fmt[0] || fmt[1])
        return IPCN_DTYPE_INVALID;
    if (item == 1)
        *order = IPCN_ORDER_NATIVE;
    switch (fmt[0]) {
    case '?': return item == 1 ? IPCN_DTYPE_BOOL : IPCN_DTYPE_INVALID;
    case 'b': case 'h': case 'i': case 'l': case 'q': case 'n':
        return item == 1 ? IPCN_DTYPE_INT8 : item == 2 ? IPCN_DTYPE_INT16
             : item == 4 ? IPCN_DTYPE_INT32 : item == 8 ? IPCN_DTYPE_INT64 : IPCN_DTYPE_INVALID;
    case 'B': case 'H': case 'I': case 'L': case 'Q': case 'N': case 'c':
        return item == 1 ? IPCN_DTYPE_UINT8 : item == 2 ? IPCN_DTYPE_UINT16
             : item == 4 ? IPCN_DTYPE_UINT32 : item == 8 ? IPCN_DTYPE_UINT64 : IPCN_DTYPE_INVALID;
    case 'e': case 'f': case 'd':
        return item == 2 ? IPCN_DTYPE_FLOAT16 : item == 4 ? IPCN_DTYPE_FLOAT32
             : item == 8 ? IPCN_DTYPE_FLOAT64 : IPCN_DTYPE_INVALID;
    default: return IPCN_DTYPE_INVALID;
    }
}

static int is_bytes_like_value(PyObject *obj)
{
    return PyBytes_Check(obj) || PyByteArray_Check(obj) || PyMemoryView_Check(obj);
}

/* numpy.generic, when NumPy is loaded (never imported from here). */
static PyObject *numpy_generic(void)
{
    static PyObject *generic;
    if (generic)
        return generic;
    PyObject *np, *name = PyUnicode_FromString("numpy");
    if (!name) {
        PyErr_Clear();
        return NULL;
    }
    np = PyImport_GetModule(name);
    Py_DECREF(name);
    if (!np) {
        PyErr_Clear();
        return NULL;
    }
    generic = PyObject_GetAttrString(np, "generic");
    Py_DECREF(np);
    if (!generic)
        PyErr_Clear();
    return generic;
}

static int is_numpy_scalar(PyObject *obj)
{
    PyObject *g = numpy_generic();
    if (!g)
        return 0;
    int r = PyObject_IsInstance(obj, g);
    if (r < 0) {
        PyErr_Clear();
        return 0;
    }
    return r;
}

/* Does obj look like a tensor (without trying to export it)? */
static int is_tensor_like(PyObject *obj)
{
    if (Py_IS_TYPE(obj, &TensorType))
        return 1;
    if (is_bytes_like_value(obj) || PyUnicode_Check(obj) || is_numpy_scalar(obj))
        return 0;
    if (PyObject_CheckBuffer(obj))
        return 1;
    return PyObject_HasAttrString(obj, "__dlpack__");
}

/* Describe obj as a tensor: 1 done, 0 obj is not tensor-like (no error
 * set), -1 error. */
static int tensor_src_get(PyObject *obj, tensor_src *s)
{
    memset(s, 0, sizeof *s);
    if (Py_IS_TYPE(obj, &TensorType)) {
        s->t = ((TensorObject *)obj)->t;
        Py_INCREF(obj);
        s->keep = obj;
        return 1;
    }
    if (PyObject_CheckBuffer(obj)) {
        if (PyObject_GetBuffer(obj, &s->view, PyBUF_RECORDS_RO) < 0)
            return -1;
        s->has_view = true;
        Py_buffer *v = &s->view;
        ipcn_byte_order order;
        ipcn_dtype d = dtype_of_format(v->format, v->itemsize, &order);
        if (d == IPCN_DTYPE_INVALID) {
            PyErr_Format(PyExc_TypeError, "no IPCNet dtype for buffer format '%s' (itemsize %zd)",
                         v->format ? v->format : "B", v->itemsize);
            tensor_src_release(s);
            return -1;
        }
        if (v->ndim > IPCN_TENSOR_MAX_DIMS || v->suboffsets) {
            PyErr_Format(PyExc_ValueError, "a tensor has at most %d dimensions and no suboffsets",
                         IPCN_TENSOR_MAX_DIMS);
            tensor_src_release(s);
            return -1;
        }
        ipcn_tensor *t = &s->t;
        t->dtype = d;
        t->order = order;
        t->ndim = (uint32_t)v->ndim;
        t->data = v->buf;
        t->size = (size_t)v->len;
        bool gaps = false;
        for (int i = 0; i < v->ndim; i++) {
            t->shape[i] = v->shape ? v->shape[i] : v->len / v->itemsize;
            if (v->strides && v->strides[i] % v->itemsize)
                gaps = true;
        }
        if (gaps) {
            /* Strides that are no multiple of the item: gather a copy. */
            s->copy = PyMem_Malloc(v->len ? (size_t)v->len : 1);
            if (!s->copy) {
                tensor_src_release(s);
                PyErr_NoMemory();
                return -1;
            }
            if (PyBuffer_ToContiguous(s->copy, v, v->len, 'C') < 0) {
                tensor_src_release(s);
                return -1;
            }
            t->data = s->copy;
        }
        int64_t stride = 1;
        for (int i = v->ndim - 1; i >= 0; i--) {
            t->strides[i] = (v->strides && !gaps) ? v->strides[i] / v->itemsize : stride;
            stride *= t->shape[i] > 0 ? t->shape[i] : 1;
        }
        t->aligned = ((uintptr_t)t->data % (uintptr_t)v->itemsize) == 0;
        return 1;
    }
    if (PyObject_HasAttrString(obj, "__dlpack__")) {
        PyObject *cap = PyObject_CallMethod(obj, "__dlpack__", NULL);
        if (!cap) {
            /* A dtype its DLPack export lacks (torch < 2 and bool): its
             * NumPy view (no copy) through the buffer protocol, if any. */
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyObject *arr = PyObject_HasAttrString(obj, "numpy")
                                ? PyObject_CallMethod(obj, "numpy", NULL) : NULL;
            if (!arr || !PyObject_CheckBuffer(arr)) {
                Py_XDECREF(arr);
                PyErr_Clear();
                PyErr_Restore(type, value, tb);
                return -1;
            }
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            int r = tensor_src_get(arr, s); /* s->view then holds arr */
            Py_DECREF(arr);
            return r;
        }
        DLManagedTensor *mt = PyCapsule_GetPointer(cap, "dltensor");
        if (!mt) {
            Py_DECREF(cap);
            return -1;
        }
        int st = ipcn_tensor_from_dlpack(&mt->dl_tensor, &s->t);
        if (st != IPCN_OK) {
            Py_DECREF(cap); /* unconsumed: its destructor frees it */
            raise_statusf(st, "%s.__dlpack__(): no IPCNet tensor for this device or dtype",
                          Py_TYPE(obj)->tp_name);
            return -1;
        }
        /* Consumed: ours to delete (DLPack's rule). */
        if (PyCapsule_SetName(cap, "used_dltensor") < 0) {
            Py_DECREF(cap);
            return -1;
        }
        s->capsule = cap;
        s->mt = mt;
        return 1;
    }
    return 0;
}

static size_t tensor_nbytes(const ipcn_tensor *t)
{
    return (size_t)ipcn_tensor_numel(t) * ipcn_dtype_size(t->dtype);
}

/* ================================================================== */
/* Python object -> CBOR                                                */
/* ================================================================== */

static int put_obj(ipcn_cbor_writer *w, PyObject *obj, int depth);

static int put_int(ipcn_cbor_writer *w, PyObject *obj)
{
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (!overflow) {
        ipcn_cbor_put_int(w, v);
        return 0;
    }
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(obj);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_SetString(PyExc_OverflowError, "CBOR integers are at most 2**64 - 1");
            return -1;
        }
        ipcn_cbor_put_uint(w, u);
        return 0;
    }
    /* Below -2**63: -1 - n with n up to 2**64 - 1. */
    PyObject *one = PyLong_FromLong(1);
    PyObject *neg = one ? PyNumber_Negative(obj) : NULL;
    PyObject *n = neg ? PyNumber_Subtract(neg, one) : NULL;
    Py_XDECREF(one);
    Py_XDECREF(neg);
    if (!n)
        return -1;
    unsigned long long u = PyLong_AsUnsignedLongLong(n);
    Py_DECREF(n);
    if (u == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_SetString(PyExc_OverflowError, "CBOR integers are at least -2**64");
        return -1;
    }
    ipcn_cbor_put_negint(w, u);
    return 0;
}

static int put_numpy_scalar(ipcn_cbor_writer *w, PyObject *obj, int depth)
{
    /* A NumPy scalar as the Python scalar it stands for (.item()). */
    PyObject *py = PyObject_CallMethod(obj, "item", NULL);
    if (!py)
        return -1;
    if (Py_TYPE(py) == Py_TYPE(obj) || is_numpy_scalar(py)) {
        Py_DECREF(py);
        PyErr_Format(PyExc_TypeError, "cannot encode %s as CBOR", Py_TYPE(obj)->tp_name);
        return -1;
    }
    int r = put_obj(w, py, depth);
    Py_DECREF(py);
    return r;
}

static int put_obj(ipcn_cbor_writer *w, PyObject *obj, int depth)
{
    if (depth >= IPCN_CBOR_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "value nested deeper than %d levels (or cyclic)",
                     IPCN_CBOR_MAX_DEPTH);
        return -1;
    }
    if (obj == Py_None) {
        ipcn_cbor_put_null(w);
    } else if (PyBool_Check(obj)) {
        ipcn_cbor_put_bool(w, obj == Py_True);
    } else if (PyLong_Check(obj)) {
        return put_int(w, obj);
    } else if (PyFloat_Check(obj)) {
        ipcn_cbor_put_float(w, PyFloat_AS_DOUBLE(obj));
    } else if (PyUnicode_Check(obj)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        if (!s)
            return -1;
        ipcn_cbor_put_text(w, s, (size_t)n);
    } else if (PyBytes_Check(obj)) {
        ipcn_cbor_put_bytes(w, PyBytes_AS_STRING(obj), (size_t)PyBytes_GET_SIZE(obj));
    } else if (PyByteArray_Check(obj) || PyMemoryView_Check(obj)) {
        Py_buffer v;
        if (PyObject_GetBuffer(obj, &v, PyBUF_C_CONTIGUOUS) < 0)
            return -1;
        ipcn_cbor_put_bytes(w, v.buf, (size_t)v.len);
        PyBuffer_Release(&v);
    } else if (tag_class && Py_IS_TYPE(obj, (PyTypeObject *)tag_class) &&
               PyTuple_GET_SIZE(obj) == 2) {
        unsigned long long u = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(obj, 0));
        if (u == (unsigned long long)-1 && PyErr_Occurred())
            return -1;
        ipcn_cbor_put_tag(w, u);
        return put_obj(w, PyTuple_GET_ITEM(obj, 1), depth + 1);
    } else if (PyList_Check(obj) || PyTuple_Check(obj)) {
        PyObject *seq = PySequence_Fast(obj, "");
        if (!seq)
            return -1;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        ipcn_cbor_put_array(w, (uint64_t)n);
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq) && i < n; i++) {
            if (put_obj(w, PySequence_Fast_GET_ITEM(seq, i), depth + 1) < 0) {
                Py_DECREF(seq);
                return -1;
            }
        }
        Py_DECREF(seq);
    } else if (PyDict_Check(obj)) {
        Py_ssize_t pos = 0, n = PyDict_Size(obj);
        PyObject *k, *v;
        ipcn_cbor_put_map(w, (uint64_t)n);
        while (PyDict_Next(obj, &pos, &k, &v)) {
            Py_INCREF(k);
            Py_INCREF(v);
            int r = put_obj(w, k, depth + 1);
            if (r == 0)
                r = put_obj(w, v, depth + 1);
            Py_DECREF(k);
            Py_DECREF(v);
            if (r < 0)
                return -1;
        }
    } else if (is_numpy_scalar(obj)) {
        return put_numpy_scalar(w, obj, depth);
    } else {
        tensor_src s;
        int r = tensor_src_get(obj, &s);
        if (r < 0)
            return -1;
        if (r == 0) {
            PyErr_Format(PyExc_TypeError, "cannot encode a %s as CBOR", Py_TYPE(obj)->tp_name);
            return -1;
        }
        int st = ipcn_tensor_encode(w, &s.t);
        tensor_src_release(&s);
        if (st == IPCN_BAD_REQUEST) {
            PyErr_SetString(PyExc_ValueError, "invalid tensor (ipcn_tensor_encode: 200)");
            return -1;
        }
    }
    return 0;
}

/* ================================================================== */
/* Values: a Python object encoded for an encoding                      */
/* ================================================================== */

enum enc_class { ENC_CBOR, ENC_TENSOR, ENC_TEXT, ENC_JSON, ENC_RAW };

static enum enc_class class_of(const char *enc)
{
    ipcn_encoding e;
    if (!enc || ipcn_encoding_parse(enc, &e) != IPCN_OK)
        return ENC_RAW;
    if (ipcn_encoding_is(&e, "cbor") || ipcn_encoding_is(&e, "application/cbor"))
        return ENC_CBOR;
    if (ipcn_encoding_is(&e, "tensor"))
        return ENC_TENSOR;
    if (ipcn_encoding_is(&e, "text/*"))
        return ENC_TEXT;
    if (ipcn_encoding_is(&e, "application/json") ||
        (e.subtype.len > 5 && !strncasecmp(e.subtype.ptr + e.subtype.len - 5, "+json", 5)))
        return ENC_JSON;
    return ENC_RAW;
}

/* An encoded value: bytes at data, owned by one of the members. */
typedef struct {
    const void *data;
    size_t len;
    char *mem;          /* PyMem */
    Py_buffer view;     /* a bytes-like value sent as it is */
    bool has_view;
    PyObject *keep;     /* a str/bytes object data lies in */
    tensor_src ts;      /* a tensor to be loaned (publish) */
    bool has_tensor;
    const char *enc;    /* static, or the caller's string */
} value_buf;

static void value_buf_release(value_buf *b)
{
    PyMem_Free(b->mem);
    b->mem = NULL;
    if (b->has_view)
        PyBuffer_Release(&b->view);
    b->has_view = false;
    Py_CLEAR(b->keep);
    if (b->has_tensor)
        tensor_src_release(&b->ts);
    b->has_tensor = false;
}

/* CBOR of obj into b->mem. */
static int encode_cbor(PyObject *obj, value_buf *b)
{
    size_t cap = 256;
    for (int pass = 0; pass < 2; pass++) {
        char *mem = PyMem_Malloc(cap);
        if (!mem) {
            PyErr_NoMemory();
            return -1;
        }
        ipcn_cbor_writer w;
        ipcn_cbor_writer_init(&w, mem, cap, 0);
        if (put_obj(&w, obj, 0) < 0) {
            PyMem_Free(mem);
            return -1;
        }
        size_t len = 0;
        int st = ipcn_cbor_writer_finish(&w, &len);
        if (st == IPCN_OK) {
            b->mem = mem;
            b->data = mem;
            b->len = len;
            return 0;
        }
        PyMem_Free(mem);
        if (st != IPCN_INSUFFICIENT_STORAGE || pass == 1) {
            raise_statusf(st == IPCN_INSUFFICIENT_STORAGE ? IPCN_INTERNAL_ERROR : st,
                          "cannot encode a %s as CBOR", Py_TYPE(obj)->tp_name);
            return -1;
        }
        cap = len; /* the size needed */
    }
    return -1;
}

/* A tensor's CBOR (40([shape, typed array])) into b->mem. */
static int encode_tensor(const ipcn_tensor *t, value_buf *b)
{
    ipcn_cbor_writer w;
    size_t need = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_tensor_encode(&w, t);
    int st = ipcn_cbor_writer_finish(&w, &need);
    if (st != IPCN_INSUFFICIENT_STORAGE && st != IPCN_OK) {
        raise_statusf(st, "invalid tensor");
        return -1;
    }
    char *mem = PyMem_Malloc(need ? need : 1);
    if (!mem) {
        PyErr_NoMemory();
        return -1;
    }
    ipcn_cbor_writer_init(&w, mem, need, 0);
    Py_BEGIN_ALLOW_THREADS
    ipcn_tensor_encode(&w, t);
    Py_END_ALLOW_THREADS
    size_t len = 0;
    st = ipcn_cbor_writer_finish(&w, &len);
    if (st != IPCN_OK) {
        PyMem_Free(mem);
        raise_statusf(st, "ipcn_tensor_encode");
        return -1;
    }
    b->mem = mem;
    b->data = mem;
    b->len = len;
    return 0;
}

/* Encode obj for enc (NULL: chosen by obj's type, and *b->enc says which).
 * With want_tensor, a tensor value is left in b->ts (b->has_tensor) for the
 * caller to loan, instead of being encoded. */
static int encode_value(PyObject *obj, const char *enc, value_buf *b, bool want_tensor)
{
    memset(b, 0, sizeof *b);
    enum enc_class c;
    if (enc) {
        c = class_of(enc);
        b->enc = enc;
    } else if (PyUnicode_Check(obj)) {
        c = ENC_TEXT;
        b->enc = "text/plain";
    } else if (is_bytes_like_value(obj)) {
        c = ENC_RAW;
        b->enc = "bytes";
    } else if (is_tensor_like(obj)) {
        c = ENC_TENSOR;
        b->enc = "tensor";
    } else {
        c = ENC_CBOR;
        b->enc = "cbor";
    }
    if (c == ENC_CBOR && !is_tensor_like(obj))
        return encode_cbor(obj, b);
    if (c == ENC_CBOR || c == ENC_TENSOR) {
        int r = tensor_src_get(obj, &b->ts);
        if (r < 0)
            return -1;
        if (r == 0) {
            PyErr_Format(PyExc_TypeError, "a %s is not a tensor (encoding '%s')",
                         Py_TYPE(obj)->tp_name, b->enc);
            return -1;
        }
        b->has_tensor = true;
        if (want_tensor)
            return 0;
        r = encode_tensor(&b->ts.t, b);
        tensor_src_release(&b->ts);
        b->has_tensor = false;
        return r;
    }
    if (c == ENC_TEXT && PyUnicode_Check(obj)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        if (!s)
            return -1;
        Py_INCREF(obj);
        b->keep = obj;
        b->data = s;
        b->len = (size_t)n;
        return 0;
    }
    if (c == ENC_JSON && !is_bytes_like_value(obj)) {
        PyObject *json = PyImport_ImportModule("json");
        PyObject *s = json ? PyObject_CallMethod(json, "dumps", "O", obj) : NULL;
        Py_XDECREF(json);
        if (!s)
            return -1;
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize(s, &n);
        if (!p) {
            Py_DECREF(s);
            return -1;
        }
        b->keep = s;
        b->data = p;
        b->len = (size_t)n;
        return 0;
    }
    /* Bytes as they are: any contiguous buffer, or a tensor's elements. */
    if (PyObject_CheckBuffer(obj)) {
        if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS) == 0) {
            b->has_view = true;
            b->data = b->view.buf;
            b->len = (size_t)b->view.len;
            return 0;
        }
        if (!PyErr_ExceptionMatches(PyExc_BufferError) &&
            !PyErr_ExceptionMatches(PyExc_ValueError))
            return -1;
        PyErr_Clear();
    }
    tensor_src ts;
    int r = tensor_src_get(obj, &ts);
    if (r < 0)
        return -1;
    if (r == 0) {
        PyErr_Format(PyExc_TypeError, "cannot send a %s as '%s' (give bytes)",
                     Py_TYPE(obj)->tp_name, b->enc);
        return -1;
    }
    size_t n = tensor_nbytes(&ts.t);
    b->mem = PyMem_Malloc(n ? n : 1);
    if (!b->mem) {
        tensor_src_release(&ts);
        PyErr_NoMemory();
        return -1;
    }
    int st = ipcn_tensor_copy(&ts.t, b->mem, n);
    tensor_src_release(&ts);
    if (st != IPCN_OK) {
        raise_statusf(st, "ipcn_tensor_copy");
        return -1;
    }
    b->data = b->mem;
    b->len = n;
    return 0;
}

/* ================================================================== */
/* CBOR -> Python objects                                               */
/* ================================================================== */

typedef struct {
    const ipcn_msg *msg;   /* the tensors' home: a message... */
    PyObject *base;        /* ...or a bytes-like object */
} decode_ctx;

static PyObject *read_item(ipcn_cbor_reader *r, const decode_ctx *ctx, int as_key);

static PyObject *bad_cbor(int st)
{
    return raise_statusf(st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st,
                         "not a well-formed CBOR value");
}

/* The chunks of an indefinite-length string, joined. */
static PyObject *read_indefinite_string(ipcn_cbor_reader *r, ipcn_cbor_type type)
{
    PyObject *parts = PyList_New(0);
    if (!parts)
        return NULL;
    for (;;) {
        ipcn_cbor_value v;
        int st = ipcn_cbor_next(r, &v);
        if (st != IPCN_OK) {
            Py_DECREF(parts);
            return bad_cbor(st);
        }
        if (v.type == IPCN_CBOR_BREAK)
            break;
        PyObject *chunk = PyBytes_FromStringAndSize((const char *)v.ptr, (Py_ssize_t)v.len);
        if (!chunk || PyList_Append(parts, chunk) < 0) {
            Py_XDECREF(chunk);
            Py_DECREF(parts);
            return NULL;
        }
        Py_DECREF(chunk);
    }
    PyObject *empty = PyBytes_FromStringAndSize("", 0);
    PyObject *joined = empty ? PyObject_CallMethod(empty, "join", "O", parts) : NULL;
    Py_XDECREF(empty);
    Py_DECREF(parts);
    if (!joined || type == IPCN_CBOR_BYTES)
        return joined;
    PyObject *s = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(joined), PyBytes_GET_SIZE(joined),
                                       "strict");
    Py_DECREF(joined);
    return s;
}

static bool is_tensor_tag(uint64_t tag)
{
    return tag == IPCN_CBOR_TAG_NDARRAY || tag == IPCN_CBOR_TAG_NDARRAY_COLMAJOR ||
           (tag >= 64 && tag <= 86) || tag == IPCN_CBOR_TAG_BOOL ||
           tag == IPCN_CBOR_TAG_BFLOAT16;
}

static PyObject *make_tensor(const ipcn_tensor *t, const decode_ctx *ctx)
{
    return tensor_new_in_msg(t, ctx->msg, ctx->base);
}

static PyObject *read_container(ipcn_cbor_reader *r, const ipcn_cbor_value *v,
                                const decode_ctx *ctx, int as_key)
{
    bool map = v->type == IPCN_CBOR_MAP;
    PyObject *out = map ? PyDict_New() : PyList_New(0);
    if (!out)
        return NULL;
    for (uint64_t i = 0; v->indefinite || i < v->count; i++) {
        if (v->indefinite) {
            ipcn_cbor_value p;
            int st = ipcn_cbor_peek(r, &p);
            if (st != IPCN_OK) {
                Py_DECREF(out);
                return bad_cbor(st);
            }
            if (p.type == IPCN_CBOR_BREAK) {
                ipcn_cbor_next(r, &p);
                break;
            }
        }
        PyObject *k = read_item(r, ctx, map ? 1 : as_key);
        if (!k) {
            Py_DECREF(out);
            return NULL;
        }
        if (!map) {
            int rc = PyList_Append(out, k);
            Py_DECREF(k);
            if (rc < 0) {
                Py_DECREF(out);
                return NULL;
            }
            continue;
        }
        PyObject *val = read_item(r, ctx, 0);
        if (!val) {
            Py_DECREF(k);
            Py_DECREF(out);
            return NULL;
        }
        int rc = PyDict_SetItem(out, k, val);
        Py_DECREF(k);
        Py_DECREF(val);
        if (rc < 0) {
            Py_DECREF(out);
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                return raise_statusf(IPCN_NOT_IMPLEMENTED,
                                     "a CBOR map key that Python cannot hash");
            }
            return NULL;
        }
    }
    if (!map && as_key) {
        PyObject *tup = PyList_AsTuple(out);
        Py_DECREF(out);
        return tup;
    }
    return out;
}

static PyObject *read_item(ipcn_cbor_reader *r, const decode_ctx *ctx, int as_key)
{
    ipcn_cbor_reader fork = *r; /* for a tensor, read again from here */
    ipcn_cbor_value v;
    int st = ipcn_cbor_next(r, &v);
    if (st != IPCN_OK)
        return bad_cbor(st);
    switch (v.type) {
    case IPCN_CBOR_UINT:
        return PyLong_FromUnsignedLongLong(v.u);
    case IPCN_CBOR_NEGINT: {
        if (v.u <= (uint64_t)INT64_MAX)
            return PyLong_FromLongLong(-1 - (long long)v.u);
        PyObject *u = PyLong_FromUnsignedLongLong(v.u);
        PyObject *res = u ? PyNumber_Invert(u) : NULL; /* ~u == -1 - u */
        Py_XDECREF(u);
        return res;
    }
    case IPCN_CBOR_BYTES:
        if (v.indefinite)
            return read_indefinite_string(r, v.type);
        return PyBytes_FromStringAndSize((const char *)v.ptr, (Py_ssize_t)v.len);
    case IPCN_CBOR_TEXT:
        if (v.indefinite)
            return read_indefinite_string(r, v.type);
        return PyUnicode_DecodeUTF8((const char *)v.ptr, (Py_ssize_t)v.len, "strict");
    case IPCN_CBOR_ARRAY:
    case IPCN_CBOR_MAP:
        return read_container(r, &v, ctx, as_key);
    case IPCN_CBOR_TAG: {
        if (is_tensor_tag(v.u) && !as_key) {
            ipcn_tensor t;
            ipcn_cbor_reader tr = fork;
            if (ipcn_tensor_read(&tr, &t) == IPCN_OK) {
                *r = tr;
                return make_tensor(&t, ctx);
            }
        }
        if (v.u == 2 || v.u == 3) { /* bignums */
            ipcn_cbor_value b;
            ipcn_cbor_reader br = *r;
            if (ipcn_cbor_peek(&br, &b) == IPCN_OK && b.type == IPCN_CBOR_BYTES) {
                PyObject *bytes = read_item(r, ctx, 0);
                if (!bytes)
                    return NULL;
                PyObject *n = PyObject_CallMethod((PyObject *)&PyLong_Type, "from_bytes", "Os",
                                                  bytes, "big");
                Py_DECREF(bytes);
                if (!n || v.u == 2)
                    return n;
                PyObject *res = PyNumber_Invert(n);
                Py_DECREF(n);
                return res;
            }
        }
        PyObject *inner = read_item(r, ctx, as_key);
        if (!inner)
            return NULL;
        PyObject *tag = tag_class ? PyObject_CallFunction(tag_class, "KO",
                                                          (unsigned long long)v.u, inner)
                                  : Py_BuildValue("(KO)", (unsigned long long)v.u, inner);
        Py_DECREF(inner);
        return tag;
    }
    case IPCN_CBOR_SIMPLE:
        return PyLong_FromUnsignedLongLong(v.u);
    case IPCN_CBOR_BOOL:
        return PyBool_FromLong(v.u != 0);
    case IPCN_CBOR_NULL:
    case IPCN_CBOR_UNDEFINED:
        Py_RETURN_NONE;
    case IPCN_CBOR_FLOAT:
        return PyFloat_FromDouble(v.f);
    default:
        return bad_cbor(IPCN_BAD_REQUEST);
    }
}

static PyObject *decode_cbor(const void *data, size_t len, const decode_ctx *ctx)
{
    ipcn_cbor_reader r;
    ipcn_cbor_reader_init(&r, data, len, 0);
    PyObject *v = read_item(&r, ctx, 0);
    if (!v)
        return NULL;
    ipcn_cbor_value end;
    int st = ipcn_cbor_next(&r, &end);
    if (st != IPCN_NO_DATA) {
        Py_DECREF(v);
        return bad_cbor(st == IPCN_OK ? IPCN_BAD_REQUEST : st);
    }
    return v;
}

/* The value of data by encoding. */
static PyObject *decode_bytes(const void *data, size_t len, const char *enc, const decode_ctx *ctx)
{
    enum enc_class c = class_of(enc);
    if (len == 0) {
        if (c == ENC_TEXT)
            return PyUnicode_FromString("");
        if (c == ENC_RAW && enc && *enc)
            return PyBytes_FromStringAndSize("", 0);
        Py_RETURN_NONE;
    }
    switch (c) {
    case ENC_CBOR:
        return decode_cbor(data, len, ctx);
    case ENC_TENSOR: {
        ipcn_tensor t;
        int st = ipcn_tensor_decode(data, len, 0, &t);
        if (st != IPCN_OK)
            return raise_statusf(st, "not a CBOR tensor (RFC 8746, tag 40)");
        return make_tensor(&t, ctx);
    }
    case ENC_TEXT:
        return PyUnicode_DecodeUTF8(data, (Py_ssize_t)len, "replace");
    case ENC_JSON: {
        PyObject *json = PyImport_ImportModule("json");
        PyObject *s = json ? PyUnicode_DecodeUTF8(data, (Py_ssize_t)len, "strict") : NULL;
        PyObject *v = s ? PyObject_CallMethod(json, "loads", "O", s) : NULL;
        Py_XDECREF(json);
        Py_XDECREF(s);
        return v;
    }
    default:
        return PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    }
}

static PyObject *decode_message(MessageObject *m)
{
    decode_ctx ctx = {.msg = m->msg};
    if (m->msg->status != IPCN_OK && m->msg->len == 0)
        Py_RETURN_NONE;
    return decode_bytes(m->msg->data, m->msg->len, m->msg->encoding, &ctx);
}

/* ================================================================== */
/* Node                                                                 */
/* ================================================================== */

enum { REC_SUB = 1, REC_SERVICE = 2, REC_REQUEST = 3 };

typedef struct NodeObject NodeObject;

typedef struct record {
    struct record *next, **pprev;
    int kind;
    bool dead;
    PyObject *fn;        /* callback, handler, or future */
    NodeObject *owner;   /* borrowed: records die with the node */
    uint64_t id;         /* subscription or request id */
    char *path;          /* service path / request path */
} record;

struct NodeObject {
    PyObject_HEAD
    ipcn_node *node;
    bool closing;
    bool started;        /* the node's thread runs: we hold a self reference */
    int busy;            /* calls in flight (changed under the GIL) */
    record *records;
    PyObject *event_fn;
    PyObject *weakrefs;
};

/* The node whose callback this thread is running, if any. */
static __thread NodeObject *cb_node;

static record *record_new(NodeObject *n, int kind, PyObject *fn, const char *path)
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

static void record_free(record *r)
{
    *r->pprev = r->next;
    if (r->next)
        r->next->pprev = r->pprev;
    Py_CLEAR(r->fn);
    free(r->path);
    PyMem_Free(r);
}

static void record_kill(record *r)
{
    r->dead = true;
    Py_CLEAR(r->fn);
}

static int node_enter(NodeObject *n)
{
    if (!n->node || n->closing) {
        PyErr_SetString(PyExc_ValueError, "the node is closed");
        return -1;
    }
    n->busy++;
    return 0;
}

static void node_leave(NodeObject *n) { n->busy--; }

/* Report the pending exception of a callback, as Python reports one it
 * cannot raise (sys.unraisablehook). */
static void report(PyObject *where)
{
    PyErr_WriteUnraisable(where);
}

/* Can a trampoline run Python for n now?  Called with the GIL. */
static bool live(NodeObject *n) { return n->node && !n->closing; }

static void on_sample(ipcn_node *node, const ipcn_msg *msg, void *user)
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
static int on_request(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
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

static void on_reply(ipcn_node *node, int status, const ipcn_msg *reply, void *user)
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

static const char *const event_names[] = {"", "peer_up", "peer_down", "resource_up",
                                          "resource_down"};
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
        unsigned t = (unsigned)ev->type <= 4 ? (unsigned)ev->type : 0;
        unsigned k = (unsigned)ev->kind <= 3 ? (unsigned)ev->kind : 0;
        PyObject *args = Py_BuildValue("(ssKzzi)", event_names[t], ev->peer ? ev->peer : "",
                                       (unsigned long long)ev->peer_id, ev->path,
                                       ev->path ? kind_names[k] : NULL, ev->status);
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
                             "max_payload", "tx_limit", "idle_probe_ms", "max_peers", NULL};
    const char *name, *network = NULL, *dir = NULL;
    unsigned int hb = 0, dead = 0, maxp = 0, tx = 0, probe = 0, peers = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zzIIIIII:_Node", kwlist, &name, &network,
                                     &dir, &hb, &dead, &maxp, &tx, &probe, &peers))
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
    int kind;
    Py_buffer meta = {0};
    if (!PyArg_ParseTuple(args, "siz|z*:announce", &path, &kind, &enc, &meta))
        return NULL;
    if (node_enter(n) < 0) {
        PyBuffer_Release(&meta);
        return NULL;
    }
    int st = ipcn_announce(n->node, path, (ipcn_kind)kind, enc, meta.buf, (size_t)meta.len);
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
        if (r->kind == REC_SERVICE && r->path && !strcmp(r->path, path))
            record_kill(r);
    Py_RETURN_NONE;
}

static PyObject *bytes_or_none(const void *p, size_t n)
{
    if (!p || !n)
        return PyBytes_FromStringAndSize("", 0);
    return PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
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

/* ---- data and streams ------------------------------------------- */

static PyObject *node_publish(NodeObject *n, PyObject *args)
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

static PyObject *node_query(NodeObject *n, PyObject *args)
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

static PyObject *node_subscribe(NodeObject *n, PyObject *args)
{
    const char *pattern;
    unsigned int depth = 64;
    PyObject *fn = Py_None;
    if (!PyArg_ParseTuple(args, "s|IO:subscribe", &pattern, &depth, &fn) || node_enter(n) < 0)
        return NULL;
    record *r = NULL;
    if (fn != Py_None && !(r = record_new(n, REC_SUB, fn, NULL))) {
        node_leave(n);
        return NULL;
    }
    ipcn_sub sub;
    int st = ipcn_subscribe(n->node, pattern, depth, r ? on_sample : NULL, r, &sub);
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

static PyObject *node_unsubscribe(NodeObject *n, PyObject *args)
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
static PyObject *node_take(NodeObject *n, PyObject *args)
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

static PyObject *node_sub_stats(NodeObject *n, PyObject *args)
{
    unsigned int id;
    if (!PyArg_ParseTuple(args, "I:sub_stats", &id) || node_enter(n) < 0)
        return NULL;
    ipcn_sub_stats s = {.size = sizeof s};
    int st = ipcn_sub_get_stats(n->node, (ipcn_sub){id}, &s);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "stats: unknown subscription");
    return Py_BuildValue("(KKKKIKKKK)", (unsigned long long)s.received,
                         (unsigned long long)s.delivered, (unsigned long long)s.dropped,
                         (unsigned long long)s.lost, s.queued,
                         (unsigned long long)s.withheld,
                         (unsigned long long)s.unmappable,
                         (unsigned long long)s.resets,
                         (unsigned long long)s.notices);
}

/* ---- services ---------------------------------------------------- */

static PyObject *node_offer(NodeObject *n, PyObject *args)
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

static PyObject *node_request(NodeObject *n, PyObject *args)
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

static PyObject *node_request_async(NodeObject *n, PyObject *args)
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

static PyObject *node_request_cancel(NodeObject *n, PyObject *args)
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

static PyObject *node_respond(NodeObject *n, PyObject *args)
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

/* ---- peers, events, counters ------------------------------------- */

static PyObject *node_peers(NodeObject *n, PyObject *unused)
{
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
        PyObject *t = Py_BuildValue("(sKiiiKIKKKKKK)", p->name ? p->name : "",
                                    (unsigned long long)p->id, p->pid, p->uid, p->gid,
                                    (unsigned long long)p->linked_ns, p->resources,
                                    (unsigned long long)p->frames_in,
                                    (unsigned long long)p->frames_out,
                                    (unsigned long long)p->bytes_in,
                                    (unsigned long long)p->bytes_out,
                                    (unsigned long long)p->bad_frames,
                                    (unsigned long long)p->drops);
        if (!t) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
    ipcn_peer_list_free(list);
    return out;
}

static PyObject *node_subscriptions(NodeObject *n, PyObject *unused)
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

static PyObject *node_stats(NodeObject *n, PyObject *unused)
{
    if (node_enter(n) < 0)
        return NULL;
    ipcn_node_stats s = {.size = sizeof s};
    int st = ipcn_node_get_stats(n->node, &s);
    node_leave(n);
    if (st != IPCN_OK)
        return raise_statusf(st, "stats");
    return Py_BuildValue("(KKKKKKKKIIKK)", (unsigned long long)s.frames_in,
                         (unsigned long long)s.frames_out, (unsigned long long)s.bytes_in,
                         (unsigned long long)s.bytes_out, (unsigned long long)s.bad_frames,
                         (unsigned long long)s.links_refused, (unsigned long long)s.peers_lost,
                         (unsigned long long)s.drops, s.peers, s.resources,
                         (unsigned long long)s.pings_sent,
                         (unsigned long long)s.requests_abandoned);
}

static PyObject *node_set_event_callback(NodeObject *n, PyObject *fn)
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

static PyObject *node_pool_config(NodeObject *n, PyObject *args, PyObject *kw)
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

static PyObject *node_pool_stats(NodeObject *n, PyObject *args)
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
     "One fd, readable when dispatch() has work (for select/asyncio; with start=False)."},
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
    {"_find", (PyCFunction)node_find, METH_VARARGS, NULL},
    {"_publish", (PyCFunction)node_publish, METH_VARARGS, NULL},
    {"_query", (PyCFunction)node_query, METH_VARARGS, NULL},
    {"_subscribe", (PyCFunction)node_subscribe, METH_VARARGS, NULL},
    {"_unsubscribe", (PyCFunction)node_unsubscribe, METH_VARARGS, NULL},
    {"_take", (PyCFunction)node_take, METH_VARARGS, NULL},
    {"_sub_stats", (PyCFunction)node_sub_stats, METH_VARARGS, NULL},
    {"_offer", (PyCFunction)node_offer, METH_VARARGS, NULL},
    {"_request", (PyCFunction)node_request, METH_VARARGS, NULL},
    {"_request_async", (PyCFunction)node_request_async, METH_VARARGS, NULL},
    {"_request_cancel", (PyCFunction)node_request_cancel, METH_VARARGS, NULL},
    {"_respond", (PyCFunction)node_respond, METH_VARARGS, NULL},
    {"_peers", (PyCFunction)node_peers, METH_NOARGS, NULL},
    {"_subscriptions", (PyCFunction)node_subscriptions, METH_NOARGS, NULL},
    {"_stats", (PyCFunction)node_stats, METH_NOARGS, NULL},
    {"_set_event_callback", (PyCFunction)node_set_event_callback, METH_O, NULL},
    {"pool_config", (PyCFunction)(void (*)(void))node_pool_config, METH_VARARGS | METH_KEYWORDS,
     "pool_config(path, *, slots=0, slot_size=0, refuse=False, shm_threshold=-1,\n"
     "checksum=True): the shared-memory pool settings of a stream or data resource of\n"
     "this node (0 or -1: the library's default; see ipcn_pool_opts in ipcnet.h)."},
    {"_pool_stats", (PyCFunction)node_pool_stats, METH_VARARGS, NULL},
    {NULL},
};

static PyTypeObject NodeType = {
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

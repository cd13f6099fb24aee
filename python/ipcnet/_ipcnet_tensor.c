/* SPDX-License-Identifier: MIT */
/* _ipcnet_tensor.c — Tensor (buffer protocol, DLPack export), and tensors
 * from Python objects (buffer protocol, DLPack) (see _ipcnet.h). */
#include "_ipcnet.h"

/* ================================================================== */
/* Tensor                                                               */
/* ================================================================== */

PyObject *tensor_new_in_msg(const ipcn_tensor *t, const ipcn_msg *msg, PyObject *base)
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
     "do not reach it.  Of a shared-memory sample, the tensor made from it\n"
     "(torch.from_dlpack(t), numpy.from_dlpack(t)) pins the publisher's slot\n"
     "until that tensor is freed: copy what you keep (.clone(), numpy.array())."},
    {"__dlpack_device__", (PyCFunction)tensor_dlpack_device, METH_NOARGS, "(kDLCPU, 0)"},
    {"__array__", (PyCFunction)(void (*)(void))tensor_array, METH_VARARGS | METH_KEYWORDS,
     "A read-only NumPy view of the elements (no copy)."},
    {"writable", (PyCFunction)tensor_writable, METH_NOARGS,
     "A private writable copy of the elements, a snapshot taken now (one pass\n"
     "over the bytes): numpy.asarray(t.writable()) may be written.  Of a\n"
     "shared-memory sample it pins the publisher's slot until it is freed."},
    {"numpy", (PyCFunction)tensor_numpy, METH_NOARGS,
     "A read-only NumPy view of the elements (no copy); numpy.from_dlpack(t) for a\n"
     "writable private one."},
    {NULL},
};

static PySequenceMethods tensor_as_sequence = {
    .sq_length = (lenfunc)tensor_len,
};

PyTypeObject TensorType = {
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
              "tf.experimental.dlpack.from_dlpack(t.__dlpack__()) get a writable private view.\n"
              "Shared memory: when the message is a shared-memory sample (t.shared), t,\n"
              "its views and every DLPack tensor made from it pin a slot of the\n"
              "publisher's pool until the last of them is freed.  The pool has few\n"
              "slots, and a subscriber holding its share gets no more samples of it\n"
              "(SubStats.withheld): free them, or copy what you keep\n"
              "(numpy.array(t), torch.from_dlpack(t).clone()).",
    .tp_getset = tensor_getset,
    .tp_methods = tensor_methods,
};

/* ================================================================== */
/* Tensors from Python objects (buffer protocol, DLPack)                */
/* ================================================================== */

void tensor_src_release(tensor_src *s)
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

int is_bytes_like_value(PyObject *obj)
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

int is_numpy_scalar(PyObject *obj)
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
int is_tensor_like(PyObject *obj)
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
int tensor_src_get(PyObject *obj, tensor_src *s)
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

size_t tensor_nbytes(const ipcn_tensor *t)
{
    return (size_t)ipcn_tensor_numel(t) * ipcn_dtype_size(t->dtype);
}

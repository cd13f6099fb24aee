/* SPDX-License-Identifier: MIT */
/* _ipcnet_value.c — values: Python objects <-> CBOR, by encoding (see
 * _ipcnet.h). */
#include "_ipcnet.h"

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

enum enc_class class_of(const char *enc)
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

void value_buf_release(value_buf *b)
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
int encode_tensor(const ipcn_tensor *t, value_buf *b)
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
int encode_value(PyObject *obj, const char *enc, value_buf *b, bool want_tensor)
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
PyObject *decode_bytes(const void *data, size_t len, const char *enc, const decode_ctx *ctx)
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

PyObject *decode_message(MessageObject *m)
{
    decode_ctx ctx = {.msg = m->msg};
    if (m->msg->status != IPCN_OK && m->msg->len == 0)
        Py_RETURN_NONE;
    return decode_bytes(m->msg->data, m->msg->len, m->msg->encoding, &ctx);
}

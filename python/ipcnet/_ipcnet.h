/* SPDX-License-Identifier: MIT */
/*
 * _ipcnet.h — the private header of the CPython extension under the
 * `ipcnet` package: a thin layer over libipcnet (include/ipcnet.h,
 * ipcnet_value.h, ipcnet_dlpack.h).  The Pythonic surface (Node,
 * Subscription, errors, namedtuples) is in __init__.py; the extension holds
 * what must be C:
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
 *
 * The extension is one module built from one C file per section, which
 * share what this header declares:
 *   _ipcnet.c             the module: its functions and _setup(), small
 *                         helpers, Message
 *   _ipcnet_tensor.c      Tensor (buffer protocol, DLPack export), and
 *                         tensors from Python objects
 *   _ipcnet_value.c       values: Python objects <-> CBOR, by encoding
 *   _ipcnet_node.c        _Node: callback records, trampolines, life,
 *                         resources, its type
 *   _ipcnet_node_calls.c  _Node's calls: data and streams, services,
 *                         peers, events, counters
 *   _ipcnet_redundancy.c  _Node's calls of ipcnet_redundancy.h: owned
 *                         paths, request modes, at-most-once services
 *   _ipcnet_sensor.c      sensor messages (ipcnet_sensor.h): images into
 *                         shared memory, the library's checks
 * Only PyInit__ipcnet is exported (the module is built with hidden
 * visibility), so the names shared here need no prefix.
 */
#ifndef IPCNET_PY_EXT_H
#define IPCNET_PY_EXT_H

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

/* ---- types shared by the sections ---- */

typedef struct {
    PyObject_HEAD
    ipcn_msg *msg;    /* one reference, ours */
    PyObject *value;  /* decoded value, cached (NULL: not yet) */
} MessageObject;

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

typedef struct {
    ipcn_tensor t;
    Py_buffer view;
    bool has_view;
    PyObject *keep;          /* our own Tensor */
    PyObject *capsule;       /* a consumed DLPack capsule */
    DLManagedTensor *mt;
    void *copy;              /* PyMem */
} tensor_src;

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

typedef struct {
    const ipcn_msg *msg;   /* the tensors' home: a message... */
    PyObject *base;        /* ...or a bytes-like object */
} decode_ctx;

enum { REC_SUB = 1, REC_SERVICE = 2, REC_REQUEST = 3, REC_SET = 4, REC_SHUTDOWN = 5 };

typedef struct NodeObject NodeObject;

typedef struct record {
    struct record *next, **pprev;
    int kind;
    bool dead;
    PyObject *fn;        /* callback, handler, or future */
    NodeObject *owner;   /* borrowed: records die with the node */
    uint64_t id;         /* subscription or request id */
    char *path;          /* service, request or set-check path; a shutdown
                            handler's phase */
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

/* How a value of an encoding is handled. */
enum enc_class { ENC_CBOR, ENC_TENSOR, ENC_TEXT, ENC_JSON, ENC_RAW };

/* ---- the module's objects ---- */

extern PyTypeObject MessageType, TensorType, NodeType;
extern PyObject *handle_fn;       /* (fn, msg) -> (status, value, encoding) */
extern PyObject *defer_fn;        /* (node, responder_id, future) */
extern PyObject *complete_fn;     /* (future, status, msg or None, path) */
extern PyObject *tag_class;       /* ipcnet.Tag: a namedtuple (tag, value) */
extern __thread NodeObject *cb_node;
extern PyObject *make_error_fn;

/* ---- _ipcnet.c ---- */

int timeout_ms(PyObject *obj, int *out);
uint64_t mono_ms(void);
int next_slice(int ms, uint64_t deadline);
PyObject *raise_status(int status, const char *text, PyObject *reply);
PyObject *raise_statusf(int status, const char *fmt, ...);
PyObject *message_new(ipcn_msg *msg);
PyObject *message_ref(const ipcn_msg *msg);

/* ---- _ipcnet_tensor.c ---- */

PyObject *tensor_new_in_msg(const ipcn_tensor *t, const ipcn_msg *msg, PyObject *base);
void tensor_src_release(tensor_src *s);
int is_bytes_like_value(PyObject *obj);
int is_numpy_scalar(PyObject *obj);
int is_tensor_like(PyObject *obj);
int tensor_src_get(PyObject *obj, tensor_src *s);
size_t tensor_nbytes(const ipcn_tensor *t);

/* ---- _ipcnet_value.c ---- */

enum enc_class class_of(const char *enc);
void value_buf_release(value_buf *b);
int encode_tensor(const ipcn_tensor *t, value_buf *b);
int encode_value(PyObject *obj, const char *enc, value_buf *b, bool want_tensor);
PyObject *decode_bytes(const void *data, size_t len, const char *enc, const decode_ctx *ctx);
PyObject *decode_message(MessageObject *m);

/* ---- _ipcnet_node.c ---- */

record *record_new(NodeObject *n, int kind, PyObject *fn, const char *path);
void record_free(record *r);
void record_kill(record *r);
int node_enter(NodeObject *n);
static inline void node_leave(NodeObject *n) { n->busy--; }
void on_sample(ipcn_node *node, const ipcn_msg *msg, void *user);
int on_request(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user);
int on_set_check(ipcn_node *node, const char *path, const ipcn_msg *value,
                 const char *encoding, void *user);
void on_reply(ipcn_node *node, int status, const ipcn_msg *reply, void *user);

/* ---- _ipcnet_history.c: the debug history (ipcnet_history.h) ---- */

PyObject *node_history(NodeObject *n, PyObject *args);
PyObject *node_query_version(NodeObject *n, PyObject *args);
PyObject *node_announce_history(NodeObject *n, PyObject *args);

/* ---- _ipcnet_node_calls.c ---- */

PyObject *node_publish(NodeObject *n, PyObject *args);
PyObject *node_query(NodeObject *n, PyObject *args);
PyObject *node_set(NodeObject *n, PyObject *args);
PyObject *node_on_set(NodeObject *n, PyObject *args);
PyObject *node_subscribe(NodeObject *n, PyObject *args);
PyObject *node_unsubscribe(NodeObject *n, PyObject *args);
PyObject *node_take(NodeObject *n, PyObject *args);
PyObject *node_sub_stats(NodeObject *n, PyObject *args);
PyObject *node_offer(NodeObject *n, PyObject *args);
PyObject *node_request(NodeObject *n, PyObject *args);
PyObject *node_request_async(NodeObject *n, PyObject *args);
PyObject *node_request_cancel(NodeObject *n, PyObject *args);
PyObject *node_respond(NodeObject *n, PyObject *args);
PyObject *node_set_access(NodeObject *n, PyObject *args);
PyObject *node_set_limits(NodeObject *n, PyObject *args);
PyObject *node_group(NodeObject *n, PyObject *args);
PyObject *node_peers(NodeObject *n, PyObject *unused);
PyObject *node_subscriptions(NodeObject *n, PyObject *unused);
PyObject *node_traffic(NodeObject *n, PyObject *args);
PyObject *node_stats(NodeObject *n, PyObject *unused);

/* ---- _ipcnet_shutdown.c ---- */

PyObject *node_on_shutdown(NodeObject *n, PyObject *args);
PyObject *node_shutdown_done(NodeObject *n, PyObject *args);
PyObject *node_set_event_callback(NodeObject *n, PyObject *fn);
PyObject *node_pool_config(NodeObject *n, PyObject *args, PyObject *kw);
PyObject *node_pool_stats(NodeObject *n, PyObject *args);

/* ---- _ipcnet_prov.c ---- */

PyObject *node_publish_derived(NodeObject *n, PyObject *args);
PyObject *node_prov_enable(NodeObject *n, PyObject *args);
PyObject *node_prov_verify(NodeObject *n, PyObject *args);
PyObject *node_prov_export(NodeObject *n, PyObject *args);

/* ---- _ipcnet_redundancy.c ---- */

PyObject *node_announce_owned(NodeObject *n, PyObject *args);
PyObject *node_owner(NodeObject *n, PyObject *args);
PyObject *node_request_ex(NodeObject *n, PyObject *args);
PyObject *node_offer_set_opts(NodeObject *n, PyObject *args);

/* ---- _ipcnet_sensor.c ---- */

PyObject *node_publish_image(NodeObject *n, PyObject *args);
PyObject *mod_sensor_check(PyObject *self, PyObject *args);

#endif /* IPCNET_PY_EXT_H */

/* SPDX-License-Identifier: MIT */
/*
 * loan.c — the public calls of shared-memory publishing: loans of a
 * resource's pool, publishing one (through the router, router.c), and the
 * pool's settings and counters.  The pools themselves are shm/pool.c.
 */
#include <string.h>

#include "engine/router.h"
#include "value/value.h"

#define TENSOR_ALIGN 64

static int local_for_loan(ipcn_node *n, const char *path, ipcn__local **out)
{
    ipcn__local *lr = ipcn__local_find(n, path);
    if (!lr)
        return IPCN_NOT_FOUND;
    if (lr->kind == IPCN_SERVICE)
        return IPCN_METHOD_NOT_ALLOWED;
    *out = lr;
    return IPCN_OK;
}

IPCN_API int ipcn_loan_new(ipcn_node *n, const char *path, size_t len,
                       ipcn_loan **out)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || !out || len == 0 || len > IPCN_SHM_MAX_SLOT_SIZE)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr;
    int st = local_for_loan(n, path, &lr);
    if (st == IPCN_OK)
        ipcn__keep_make_room(n, lr);
    if (st == IPCN_OK)
        st = ipcn__pool_loan(n, &lr->pool, lr->path,
                             ipcn__pool_opts_of(&lr->pool_opts),
                             &lr->shm_refused, &lr->shm_reclaimed, len, out);
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_loan_tensor(ipcn_node *n, const char *path,
                              const ipcn_tensor *t, ipcn_loan **out,
                              void **elems)
{
    if (!n || !path || !t || !out || !elems)
        return IPCN_BAD_REQUEST;
    /* Measure the encoding (the elements are not read: any non-NULL data
     * passes the check), then write its head so the elements start on an
     * aligned address. */
    ipcn_tensor shape = *t;
    shape.data = (void *)&shape;
    shape.order = IPCN_ORDER_NATIVE;
    ipcn_cbor_writer w;
    uint8_t *dst;
    uint64_t numel = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    if (ipcn__tensor_put_head(&w, &shape, &dst, &numel) !=
        IPCN_INSUFFICIENT_STORAGE) /* what measuring says when all is well */
        return IPCN_BAD_REQUEST;
    size_t total = w.len;
    size_t bytes = (size_t)numel * ipcn_dtype_size(t->dtype);
    size_t head = total - bytes;
    size_t pad = (TENSOR_ALIGN - head % TENSOR_ALIGN) % TENSOR_ALIGN;
    ipcn_loan *loan;
    int st = ipcn_loan_new(n, path, pad + total, &loan);
    if (st != IPCN_OK)
        return st;
    uint8_t *base = (uint8_t *)ipcn_loan_data(loan);
    ipcn_cbor_writer_init(&w, base + pad, total, 0);
    if (ipcn__tensor_put_head(&w, &shape, &dst, NULL) != IPCN_OK || !dst) {
        ipcn_loan_discard(n, loan);
        return IPCN_INTERNAL_ERROR;
    }
    loan->offset = pad;
    loan->len = total;
    loan->cap -= pad;
    *elems = dst;
    *out = loan;
    return IPCN_OK;
}

IPCN_API void ipcn_loan_discard(ipcn_node *n, ipcn_loan *loan)
{
    if (!n || !loan)
        return;
    ipcn__node_lock(n);
    ipcn__pool_end_loan(n, loan);
    ipcn__node_unlock(n);
}

IPCN_API int ipcn_loan_publish(ipcn_node *n, ipcn_loan *loan, size_t len)
{
    if (!n || !loan)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st;
    if (!len)
        len = loan->len;
    ipcn__local *lr = ipcn__local_find(n, loan->pool->path);
    if (len > loan->cap)
        st = IPCN_BAD_REQUEST;
    else if (!lr || lr->kind == IPCN_SERVICE)
        st = IPCN_NOT_FOUND; /* withdrawn meanwhile */
    else if (lr->warm && ipcn__own_standby_local(lr))
        st = IPCN_CONFLICT; /* a warm standby: nothing until it owns */
    else if ((st = ipcn__typed_check_local(n, lr, NULL, ipcn_loan_data(loan),
                                           len, NULL, 0)) != IPCN_OK)
        ; /* not of its declared type: 200, nothing sent, the loan ends */
    else /* its pool may have been replaced since: it still serves */
        st = ipcn__route_publish_loan(n, lr, loan, len, NULL);
    ipcn__pool_end_loan(n, loan);
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_pool_config(ipcn_node *n, const char *path,
                              const ipcn_pool_opts *in)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_pool_opts oo;
    ipcn_pool_opts_init(&oo);
    if (!n || !path ||
        ipcn__sized_in(&oo, sizeof oo, in,
                       IPCN__SIZE_TO(ipcn_pool_opts, checksum)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    const ipcn_pool_opts *o = &oo;
    if (!ipcn__pool_opts_ok(o))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr;
    int st = local_for_loan(n, path, &lr);
    if (st == IPCN_OK) {
        ipcn_pool_opts old = ipcn__pool_opts_of(&lr->pool_opts);
        lr->pool_opts = *o;
        ipcn__pool_reconfig(n, &lr->pool, &old, o);
    }
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_pool_get_stats(ipcn_node *n, const char *path,
                                 ipcn_pool_stats *out)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path ||
        ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_pool_stats, refused)) !=
            IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr = ipcn__local_find(n, path);
    if (!lr) {
        ipcn__node_unlock(n);
        return IPCN_NOT_FOUND;
    }
    ipcn_pool_stats s;
    memset(&s, 0, sizeof s);
    s.published = lr->shm_published;
    s.reclaimed = lr->shm_reclaimed;
    s.refused = lr->shm_refused;
    ipcn__pool_stats(n, path, lr->pool, &s);
    ipcn__node_unlock(n);
    s.size = sizeof s;
    ipcn__sized_out(out, &s, sizeof s);
    return IPCN_OK;
}

/* SPDX-License-Identifier: MIT */
/*
 * msg.c — the message object: made with its strings and bytes in one
 * block (from a pool of small blocks when it fits), shared by reference,
 * freed by the last ipcn_msg_free() on any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"
#include "msg/msg.h"
#include "util/util.h"

static ipcn__msg *msg_fill(ipcn__msg *m, const char *path, size_t pathlen,
                          const char *enc, size_t enclen, const char *src,
                          size_t srclen, uint64_t src_id, const void *data,
                          size_t len)
{
    memset(m, 0, sizeof *m);
    atomic_init(&m->refs, 1);
    ipcn__list_init(&m->entry);
    char *p = m->buf;
    memcpy(p, path, pathlen);
    p[pathlen] = 0;
    m->pub.path = p;
    p += pathlen + 1;
    memcpy(p, enc, enclen);
    p[enclen] = 0;
    m->pub.encoding = p;
    p += enclen + 1;
    memcpy(p, src, srclen);
    p[srclen] = 0;
    m->pub.src_name = p;
    p += srclen + 1;
    if (len)
        memcpy(p, data, len);
    p[len] = 0;
    m->pub.data = p;
    m->pub.len = len;
    m->pub.src_id = src_id;
    m->pub.status = IPCN_OK;
    return m;
}

/* The bytes of a message with those strings and data, or 0 on overflow. */
static size_t msg_size(size_t pathlen, size_t enclen, size_t srclen,
                       size_t len)
{
    if (len > SIZE_MAX - sizeof(ipcn__msg) - pathlen - enclen - srclen - 4)
        return 0;
    return sizeof(ipcn__msg) + pathlen + enclen + srclen + len + 4;
}

ipcn__msg *ipcn__msg_new(const char *path, size_t pathlen, const char *enc,
                         size_t enclen, const char *src, uint64_t src_id,
                         const void *data, size_t len)
{
    size_t srclen = strlen(src);
    size_t size = msg_size(pathlen, enclen, srclen, len);
    ipcn__msg *m = size ? ipcn__malloc(size) : NULL;
    if (!m)
        return NULL;
    return msg_fill(m, path, pathlen, enc, enclen, src, srclen, src_id, data,
                    len);
}

ipcn__msg *ipcn__msg_new_in(ipcn__msgpool **pool, const char *path,
                            size_t pathlen, const char *enc, size_t enclen,
                            const char *src, size_t srclen, uint64_t src_id,
                            const void *data, size_t len)
{
    size_t size = msg_size(pathlen, enclen, srclen, len);
    if (!size)
        return NULL;
    ipcn__msg *m = NULL;
    if (size <= IPCN_MSG_BLOCK) {
        if (!*pool)
            *pool = ipcn__msgpool_new();
        if (*pool && (m = ipcn__msgpool_get(*pool))) {
            msg_fill(m, path, pathlen, enc, enclen, src, srclen, src_id, data,
                     len);
            m->pool = *pool;
            return m;
        }
    }
    if (!(m = ipcn__malloc(size)))
        return NULL;
    return msg_fill(m, path, pathlen, enc, enclen, src, srclen, src_id, data,
                    len);
}

IPCN_API void ipcn_msg_free(ipcn_msg *msg)
{
    if (!msg)
        return;
    ipcn__msg *m = ipcn__container_of(msg, ipcn__msg, pub);
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (m->release)
        m->release(m);
    if (m->prov)
        ipcn__free(m->prov);
    if (m->pool)
        ipcn__msgpool_put(m->pool, m);
    else
        ipcn__free(m);
}

IPCN_API ipcn_msg *ipcn_msg_ref(const ipcn_msg *msg)
{
    if (!msg)
        return NULL;
    ipcn__msg *m = ipcn__container_of(msg, ipcn__msg, pub);
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return (ipcn_msg *)msg;
}

IPCN_API int ipcn_msg_retry_after_ms(const ipcn_msg *m)
{
    /* A refusal over a rate limit: 205, "text/plain;retry_after_ms=N"
     * (protocol.md, section 16.1). */
    ipcn_encoding e;
    int64_t ms;
    if (!m || m->status != IPCN_TOO_MANY_REQUESTS || !m->encoding ||
        ipcn_encoding_parse(m->encoding, &e) != IPCN_OK ||
        ipcn_encoding_param_int(&e, "retry_after_ms", &ms) != IPCN_OK ||
        ms < 1)
        return -1;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int ipcn__msg_set_prov(ipcn__msg *m, const uint8_t *rec, uint32_t len)
{
    uint8_t *p = ipcn__malloc(len);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    memcpy(p, rec, len);
    if (m->prov)
        ipcn__free(m->prov);
    m->prov = p;
    m->prov_len = len;
    return IPCN_OK;
}

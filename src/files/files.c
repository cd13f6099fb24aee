/* SPDX-License-Identifier: MIT */
/*
 * files.c — a file service on a node: ipcn_files_offer() and
 * ipcn_files_unoffer().  The provider's logic is in serve.c; this file
 * keeps the offers and runs their handler.
 *
 * The handler's user pointer is not the offer but its id, looked up in a
 * process-wide registry and held for the length of the call: a request
 * that reaches the handler after ipcn_files_unoffer() finds no offer and
 * is answered 303, and unoffer waits for the calls in progress before it
 * frees the offer.  The answer goes out through ipcn_respond() from inside
 * the handler, which hands the library the read buffer itself (with
 * ipcn_reply_set() the library would copy it first).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/files.h"
#include "node/node.h"
#include "util/util.h"

typedef struct offer {
    struct offer *next;
    uint64_t id;
    ipcn_node *node;
    uint64_t node_id;       /* with node: a closed node's reused address
                               does not match */
    char *path;
    ipcn__files_srv *srv;
    int calls;              /* handlers running */
    ipcn_files_stats stats; /* under reg_lock */
} offer;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;
static offer *reg_head;
static uint64_t reg_next_id;

static offer *reg_find(ipcn_node *node, uint64_t node_id, const char *path)
{
    for (offer *o = reg_head; o; o = o->next)
        if (o->node == node && o->node_id == node_id && !strcmp(o->path, path))
            return o;
    return NULL;
}

static void offer_free(offer *o)
{
    if (!o)
        return;
    ipcn__files_srv_free(o->srv);
    ipcn__free(o->path);
    ipcn__free(o);
}

static int on_request(ipcn_node *node, const ipcn_msg *req,
                      ipcn_reply_ctx *ctx, void *user)
{
    uint64_t id = (uint64_t)(uintptr_t)user;
    pthread_mutex_lock(&reg_lock);
    offer *o = reg_head;
    while (o && o->id != id)
        o = o->next;
    if (o)
        o->calls++;
    pthread_mutex_unlock(&reg_lock);
    if (!o)
        return IPCN_SERVICE_UNAVAILABLE; /* withdrawn meanwhile */
    ipcn__files_out out;
    ipcn__files_serve(o->srv, req->encoding, req->data, req->len, &out);
    ipcn_responder r = ipcn_reply_defer(ctx);
    int st = ipcn_respond(node, r, out.status, out.buf, out.len, out.encoding);
    ipcn__files_out_free(&out);
    pthread_mutex_lock(&reg_lock);
    o->stats.requests++;
    o->stats.refused += out.status != IPCN_OK;
    o->stats.bytes += out.data_bytes;
    o->stats.hashed += out.hashed_bytes;
    if (--o->calls == 0)
        pthread_cond_broadcast(&reg_cond);
    pthread_mutex_unlock(&reg_lock);
    /* 303: the requester left, nothing to say.  200 cannot happen (the
     * encoding is ours); should it, the library answers 300 itself. */
    return st == IPCN_BAD_REQUEST ? IPCN_INTERNAL_ERROR : IPCN_ACCEPTED;
}

static int open_dir(const char *dir, int *out)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        *out = fd;
        return IPCN_OK;
    }
    switch (errno) {
    case ENOENT: return IPCN_NOT_FOUND;
    case ENOTDIR:
    case EACCES:
    case EPERM:
    case ELOOP: return IPCN_FORBIDDEN;
    case ENOMEM: return IPCN_INSUFFICIENT_MEMORY;
    default: return IPCN_INTERNAL_ERROR;
    }
}

/* The service's path as on the wire (the node's namespace and remap) in
 * abs + 1, after a '/': abs is absolute, for the calls of the core that
 * would apply them again.  The registry keeps wire paths. */
static int wire_path(ipcn_node *node, const char **path,
                     char abs[IPCN_PATH_MAX + 2])
{
    const char *p = *path;
    if (ipcn__node_resolve(node, &p, abs + 1) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    abs[0] = '/';
    if (p != abs + 1)
        memcpy(abs + 1, p, strlen(p) + 1);
    *path = abs + 1;
    return IPCN_OK;
}

IPCN_API int ipcn_files_offer(ipcn_node *node, const char *service_path,
                              const char *dir, uint32_t flags)
{
    char abs[IPCN_PATH_MAX + 2];
    if (!node || !service_path || !dir || !*dir ||
        (flags & ~IPCN_FILES_NO_SYMLINKS) ||
        wire_path(node, &service_path, abs) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    int st = ipcn__files_sodium_init();
    if (st != IPCN_OK)
        return st;
    uint8_t meta[128];
    size_t meta_len = 0;
    if (ipcn__files_enc_meta(meta, sizeof meta, &meta_len) != IPCN_OK)
        return IPCN_INTERNAL_ERROR;
    int dirfd;
    if ((st = open_dir(dir, &dirfd)) != IPCN_OK)
        return st;
    offer *o = ipcn__calloc(1, sizeof *o);
    if (!o || !(o->path = ipcn__strdup(service_path)) ||
        (st = ipcn__files_srv_new(dirfd, flags, &o->srv)) != IPCN_OK) {
        if (!o || !o->srv)
            close(dirfd);
        offer_free(o);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    o->node = node;
    o->node_id = ipcn_node_id(node);
    pthread_mutex_lock(&reg_lock);
    if (reg_find(node, o->node_id, service_path)) {
        pthread_mutex_unlock(&reg_lock);
        offer_free(o);
        return IPCN_CONFLICT;
    }
    o->id = ++reg_next_id;
    o->next = reg_head;
    reg_head = o;
    pthread_mutex_unlock(&reg_lock);
    ipcn__node_set_close_hook(node, ipcn__files_node_closed);
    st = ipcn_offer(node, abs, "cbor", on_request, (void *)(uintptr_t)o->id);
    if (st == IPCN_OK) {
        /* The descriptor says what the service speaks, so that requesters
         * can tell a file service from another service. */
        st = ipcn_announce(node, abs, IPCN_SERVICE, "cbor", meta, meta_len);
        if (IPCN_IS_OK(st))
            st = IPCN_OK;
        else
            ipcn_withdraw(node, abs);
    }
    if (st != IPCN_OK) {
        pthread_mutex_lock(&reg_lock);
        for (offer **pp = &reg_head; *pp; pp = &(*pp)->next)
            if (*pp == o) {
                *pp = o->next;
                break;
            }
        while (o->calls)
            pthread_cond_wait(&reg_cond, &reg_lock);
        pthread_mutex_unlock(&reg_lock);
        offer_free(o);
    }
    return st;
}

IPCN_API int ipcn_files_unoffer(ipcn_node *node, const char *service_path)
{
    char abs[IPCN_PATH_MAX + 2];
    if (!node || !service_path ||
        wire_path(node, &service_path, abs) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    uint64_t node_id = ipcn_node_id(node);
    pthread_mutex_lock(&reg_lock);
    offer *o = reg_find(node, node_id, service_path);
    if (o) {
        for (offer **pp = &reg_head; *pp; pp = &(*pp)->next)
            if (*pp == o) {
                *pp = o->next;
                break;
            }
    }
    pthread_mutex_unlock(&reg_lock);
    if (!o)
        return IPCN_NOT_FOUND;
    ipcn_withdraw(node, abs);
    pthread_mutex_lock(&reg_lock);
    while (o->calls)
        pthread_cond_wait(&reg_cond, &reg_lock);
    pthread_mutex_unlock(&reg_lock);
    offer_free(o);
    return IPCN_OK;
}

void ipcn__files_node_closed(ipcn_node *node)
{
    uint64_t node_id = ipcn_node_id(node);
    pthread_mutex_lock(&reg_lock);
    offer *gone = NULL;
    for (offer **pp = &reg_head; *pp;) {
        offer *o = *pp;
        if (o->node == node && o->node_id == node_id) {
            *pp = o->next;
            o->next = gone;
            gone = o;
        } else {
            pp = &o->next;
        }
    }
    for (offer *o = gone; o; o = o->next)
        while (o->calls)
            pthread_cond_wait(&reg_cond, &reg_lock);
    pthread_mutex_unlock(&reg_lock);
    while (gone) {
        offer *next = gone->next;
        offer_free(gone);
        gone = next;
    }
}

IPCN_API int ipcn_files_get_stats(ipcn_node *node, const char *service_path,
                                  ipcn_files_stats *out)
{
    char abs[IPCN_PATH_MAX + 2];
    if (!node || !service_path ||
        ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_files_stats, hashed)) !=
            IPCN_OK ||
        wire_path(node, &service_path, abs) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    uint64_t node_id = ipcn_node_id(node);
    pthread_mutex_lock(&reg_lock);
    offer *o = reg_find(node, node_id, service_path);
    if (o)
        ipcn__sized_out(out, &o->stats, sizeof o->stats);
    pthread_mutex_unlock(&reg_lock);
    return o ? IPCN_OK : IPCN_NOT_FOUND;
}

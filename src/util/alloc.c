/* SPDX-License-Identifier: MIT */
/* alloc.c — the one allocation hook of the library (ipcn_set_allocator). */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void *(*g_malloc)(size_t) = malloc;
static void *(*g_realloc)(void *, size_t) = realloc;
static void (*g_free)(void *) = free;

IPCN_API int ipcn_set_allocator(void *(*malloc_fn)(size_t),
                                void *(*realloc_fn)(void *, size_t),
                                void (*free_fn)(void *))
{
    if (!malloc_fn && !realloc_fn && !free_fn) {
        g_malloc = malloc;
        g_realloc = realloc;
        g_free = free;
        return IPCN_OK;
    }
    if (!malloc_fn || !realloc_fn || !free_fn)
        return IPCN_BAD_REQUEST;
    g_malloc = malloc_fn;
    g_realloc = realloc_fn;
    g_free = free_fn;
    return IPCN_OK;
}

void *ipcn__malloc(size_t n) { return g_malloc(n ? n : 1); }

void *ipcn__calloc(size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size)
        return NULL;
    void *p = ipcn__malloc(nmemb * size);
    if (p)
        memset(p, 0, nmemb * size);
    return p;
}

void *ipcn__realloc(void *p, size_t n) { return g_realloc(p, n ? n : 1); }

void ipcn__free(void *p)
{
    if (p)
        g_free(p);
}

void *ipcn__memdup(const void *p, size_t n)
{
    void *q = ipcn__malloc(n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *ipcn__strndup(const char *s, size_t n)
{
    char *q = ipcn__malloc(n + 1);
    if (q) {
        memcpy(q, s, n);
        q[n] = 0;
    }
    return q;
}

char *ipcn__strdup(const char *s) { return ipcn__strndup(s, strlen(s)); }

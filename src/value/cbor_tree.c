/* SPDX-License-Identifier: MIT */
/*
 * cbor_tree.c — a whole small CBOR value as a tree of ipcn_cbor_item, in
 * one allocation bounded by the input's size, built and written without
 * recursion.
 *
 * Two passes with the reader: the first checks the input and counts the
 * items and the string bytes the tree must hold; the second fills the
 * tree.  Each container's items are contiguous: its block is reserved when
 * its head is read (an indefinite container is counted first, on a fork of
 * the reader).
 */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

typedef struct tree_frame {
    ipcn_cbor_item *it;
    uint64_t next;  /* the next of its items to fill */
    uint64_t total; /* how many it has (items, not pairs) */
    int string;     /* an indefinite string collecting its chunks */
} tree_frame;

/* Pass 1: check, and count the items and the bytes of the strings the
 * tree holds itself. */
static int tree_measure(const void *buf, size_t len, uint32_t flags,
                        size_t *items, size_t *bytes)
{
    ipcn_cbor_reader r;
    int st = ipcn_cbor_reader_init(&r, buf, len,
                                   flags & IPCN_CBOR_DETERMINISTIC);
    size_t n = 0, b = 0;
    while (st == IPCN_OK) {
        int chunk = ipcn__cbor_reader_top(&r) == IPCN__F_STRING_INDEF;
        ipcn_cbor_value v;
        st = ipcn_cbor_next(&r, &v);
        if (st != IPCN_OK)
            break;
        if (v.type == IPCN_CBOR_BREAK)
            continue;
        if (chunk || ((flags & IPCN_CBOR_COPY_STRINGS) &&
                      (v.type == IPCN_CBOR_BYTES || v.type == IPCN_CBOR_TEXT)))
            b += v.len;
        if (!chunk)
            n++;
    }
    if (st != IPCN_NO_DATA)
        return st;
    *items = n;
    *bytes = b;
    return IPCN_OK;
}

/* Pass 2 over checked input.  The tree's stack of open items mirrors the
 * reader's: after each item, both have the same depth. */
static int tree_fill(const void *buf, size_t len, ipcn_cbor_item *items,
                     size_t nitems, uint8_t *strings, uint32_t flags,
                     size_t *offsets)
{
    ipcn_cbor_reader r;
    ipcn_cbor_reader_init(&r, buf, len, 0);
    tree_frame stack[IPCN_CBOR_MAX_DEPTH];
    size_t used = 1; /* items[0] is the root */
    int st;
    for (;;) {
        uint32_t depth = r.depth;
        tree_frame *top = depth ? &stack[depth - 1] : NULL;
        ipcn_cbor_value v;
        st = ipcn_cbor_next(&r, &v);
        if (st != IPCN_OK)
            break;
        if (v.type == IPCN_CBOR_BREAK)
            continue; /* the reader closed the item(s); so do we */
        if (top && top->string) { /* a chunk */
            if (v.len)
                memcpy(strings, v.ptr, v.len);
            strings += v.len;
            top->it->len += v.len;
            continue;
        }
        if (top && top->next >= top->total)
            return IPCN_INTERNAL_ERROR; /* pass 1 said otherwise */
        ipcn_cbor_item *it = top ? &top->it->items[top->next++] : items;
        memset(it, 0, sizeof *it);
        if (offsets)
            offsets[it - items] = v.offset;
        it->type = v.type;
        it->u = v.u;
        it->f = v.f;
        it->float_bits = v.float_bits;
        uint64_t total = 0;
        switch (v.type) {
        case IPCN_CBOR_BYTES:
        case IPCN_CBOR_TEXT:
            if (v.indefinite) {
                it->ptr = strings;
            } else if (flags & IPCN_CBOR_COPY_STRINGS) {
                if (v.len)
                    memcpy(strings, v.ptr, v.len);
                it->ptr = strings;
                strings += v.len;
                it->len = v.len;
            } else {
                it->ptr = v.ptr;
                it->len = v.len;
            }
            break;
        case IPCN_CBOR_ARRAY:
        case IPCN_CBOR_MAP:
            it->count = v.count;
            if (v.indefinite) { /* count on a fork of the reader */
                ipcn_cbor_reader c;
                ipcn_cbor_value x;
                uint64_t k = 0;
                ipcn__cbor_reader_fork(&r, &c);
                while (ipcn_cbor_skip(&c, &x) == IPCN_OK &&
                       !(x.type == IPCN_CBOR_BREAK && c.depth == 0))
                    k++;
                it->count = v.type == IPCN_CBOR_MAP ? k / 2 : k;
            }
            total = v.type == IPCN_CBOR_MAP ? 2 * it->count : it->count;
            break;
        case IPCN_CBOR_TAG:
            it->count = 1;
            total = 1;
            break;
        default:
            break;
        }
        if (total > nitems - used)
            return IPCN_INTERNAL_ERROR;
        if (total) {
            it->items = &items[used];
            used += (size_t)total;
        }
        if (r.depth > depth) /* the reader opened it: so do we */
            stack[depth] = (tree_frame){it, 0, total,
                                        v.type == IPCN_CBOR_BYTES ||
                                            v.type == IPCN_CBOR_TEXT};
    }
    return st == IPCN_NO_DATA ? IPCN_OK : st;
}

int ipcn__cbor_tree_decode_at(const void *buf, size_t len, uint32_t flags,
                              ipcn_cbor_item **out, size_t **offsets)
{
    if (!out || (flags & ~(IPCN_CBOR_DETERMINISTIC | IPCN_CBOR_COPY_STRINGS)))
        return IPCN_BAD_REQUEST;
    size_t n = 0, bytes = 0, size;
    int st = tree_measure(buf, len, flags, &n, &bytes);
    if (st != IPCN_OK)
        return st;
    /* n <= len and bytes <= len: the size is linear in the input */
    if (__builtin_mul_overflow(n, sizeof(ipcn_cbor_item), &size) ||
        __builtin_add_overflow(size, bytes, &size))
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn_cbor_item *items = ipcn__malloc(size ? size : 1);
    size_t *offs = offsets ? ipcn__calloc(n ? n : 1, sizeof *offs) : NULL;
    if (!items || (offsets && !offs)) {
        ipcn__free(items);
        ipcn__free(offs);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    st = tree_fill(buf, len, items, n, (uint8_t *)(items + n), flags, offs);
    if (st != IPCN_OK) {
        ipcn__free(items);
        ipcn__free(offs);
        ipcn__err("IPCN-VALUE-TREE", "tree decode: pass 2 failed (%d)", st);
        return IPCN_INTERNAL_ERROR;
    }
    *out = items;
    if (offsets)
        *offsets = offs;
    return IPCN_OK;
}

int ipcn_cbor_tree_decode(const void *buf, size_t len, uint32_t flags,
                          ipcn_cbor_item **out)
{
    return ipcn__cbor_tree_decode_at(buf, len, flags, out, NULL);
}

void ipcn_cbor_tree_free(ipcn_cbor_item *root)
{
    ipcn__free(root);
}

/* Write one item's head (and a string's content); 1 when it has items to
 * write after it. */
static int put_one(ipcn_cbor_writer *w, const ipcn_cbor_item *it)
{
    switch (it->type) {
    case IPCN_CBOR_UINT:
        ipcn_cbor_put_uint(w, it->u);
        return 0;
    case IPCN_CBOR_NEGINT:
        ipcn_cbor_put_negint(w, it->u);
        return 0;
    case IPCN_CBOR_BYTES:
        ipcn_cbor_put_bytes(w, it->ptr, it->len);
        return 0;
    case IPCN_CBOR_TEXT:
        ipcn_cbor_put_text(w, (const char *)it->ptr, it->len);
        return 0;
    case IPCN_CBOR_ARRAY:
    case IPCN_CBOR_MAP:
    case IPCN_CBOR_TAG:
        if ((it->count && !it->items) ||
            (it->type == IPCN_CBOR_TAG && it->count != 1) ||
            (it->type == IPCN_CBOR_MAP && it->count > UINT64_MAX / 2)) {
            w->status = IPCN_BAD_REQUEST;
            return 0;
        }
        if (it->type == IPCN_CBOR_ARRAY)
            ipcn_cbor_put_array(w, it->count);
        else if (it->type == IPCN_CBOR_MAP)
            ipcn_cbor_put_map(w, it->count);
        else
            ipcn_cbor_put_tag(w, it->u);
        return it->count != 0;
    case IPCN_CBOR_SIMPLE:
        if (it->u >= 20 && it->u < 32) /* false..undefined have types */
            w->status = IPCN_BAD_REQUEST;
        else
            ipcn_cbor_put_simple(w, it->u > 255 ? 24 : (unsigned)it->u);
        return 0;
    case IPCN_CBOR_BOOL:
        ipcn_cbor_put_bool(w, it->u != 0);
        return 0;
    case IPCN_CBOR_NULL:
        ipcn_cbor_put_null(w);
        return 0;
    case IPCN_CBOR_UNDEFINED:
        ipcn_cbor_put_undefined(w);
        return 0;
    case IPCN_CBOR_FLOAT:
        if (it->float_bits == 16 || it->float_bits == 32 ||
            it->float_bits == 64)
            ipcn_cbor_put_float_bits(w, it->f, it->float_bits);
        else
            ipcn_cbor_put_float(w, it->f);
        return 0;
    default:
        w->status = IPCN_BAD_REQUEST;
        return 0;
    }
}

int ipcn_cbor_tree_encode(ipcn_cbor_writer *w, const ipcn_cbor_item *item)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    if (!item) {
        w->status = IPCN_BAD_REQUEST;
        return w->status;
    }
    struct {
        const ipcn_cbor_item *it;
        uint64_t next, total;
    } stack[IPCN_CBOR_MAX_DEPTH];
    size_t depth = 0;
    const ipcn_cbor_item *it = item;
    for (;;) {
        if (w->status == IPCN_BAD_REQUEST)
            return w->status;
        if (put_one(w, it)) {
            if (depth >= IPCN_CBOR_MAX_DEPTH) {
                w->status = IPCN_BAD_REQUEST;
                return w->status;
            }
            uint64_t total = it->type == IPCN_CBOR_MAP ? 2 * it->count
                                                       : it->count;
            stack[depth].it = it;
            stack[depth].next = 0;
            stack[depth++].total = total;
        }
        while (depth && stack[depth - 1].next == stack[depth - 1].total)
            depth--;
        if (!depth)
            return w->status;
        it = &stack[depth - 1].it->items[stack[depth - 1].next++];
    }
}

const ipcn_cbor_item *ipcn_cbor_map_find(const ipcn_cbor_item *map,
                                         const char *key)
{
    if (!map || !key || map->type != IPCN_CBOR_MAP || !map->items)
        return NULL;
    size_t n = strlen(key);
    for (uint64_t i = 0; i < map->count; i++) {
        const ipcn_cbor_item *k = &map->items[2 * i];
        if (k->type == IPCN_CBOR_TEXT && k->len == n &&
            (n == 0 || memcmp(k->ptr, key, n) == 0))
            return &map->items[2 * i + 1];
    }
    return NULL;
}

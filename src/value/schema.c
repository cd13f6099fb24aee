/* SPDX-License-Identifier: MIT */
/*
 * schema.c — the small type language a typed service declares for its
 * arguments and answers (ipcn_offer_typed() in ipcnet.h, docs/protocol.md
 * "Typed services"), and the check of a value against it.
 *
 * Both the schema and the value are decoded with the tree.  Recursion
 * follows the schema only, whose nesting is at most IPCN__SCHEMA_MAX_DEPTH
 * (the value's own depth does not matter: "any" does not look inside), and
 * a map's value is matched against its fields only after its size was
 * found to be no larger than the field count, so that the work is at most
 * the value's size times the schema's.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"
#include "value/value.h"

enum prim {
    P_ANY = 1,
    P_NULL,
    P_BOOL,
    P_INT,
    P_UINT,
    P_FLOAT,
    P_NUMBER,
    P_TEXT,
    P_BYTES,
    P_TENSOR
};

static const struct {
    const char *name;
    enum prim p;
} prims[] = {{"any", P_ANY},     {"null", P_NULL},     {"bool", P_BOOL},
             {"int", P_INT},     {"uint", P_UINT},     {"float", P_FLOAT},
             {"number", P_NUMBER}, {"text", P_TEXT},   {"bytes", P_BYTES},
             {"tensor", P_TENSOR}};

static bool text_is(const ipcn_cbor_item *it, const char *s)
{
    size_t n = strlen(s);
    return it->type == IPCN_CBOR_TEXT && it->len == n &&
           (n == 0 || !memcmp(it->ptr, s, n));
}

static enum prim prim_of(const ipcn_cbor_item *it)
{
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (text_is(it, prims[i].name))
            return prims[i].p;
    return 0;
}

static bool same_text(const ipcn_cbor_item *a, const ipcn_cbor_item *b)
{
    return a->type == IPCN_CBOR_TEXT && b->type == IPCN_CBOR_TEXT &&
           a->len == b->len && (a->len == 0 || !memcmp(a->ptr, b->ptr, a->len));
}

/* ---- the schema itself ---- */

/* Is t a valid type at depth (1 for the outermost)?  optional_ok: t is the
 * type of a field of a "map". */
static bool type_valid(const ipcn_cbor_item *t, unsigned depth,
                       bool optional_ok)
{
    if (depth > IPCN__SCHEMA_MAX_DEPTH)
        return false;
    if (t->type == IPCN_CBOR_TEXT)
        return prim_of(t) != 0;
    if (t->type != IPCN_CBOR_MAP || t->count != 1)
        return false;
    const ipcn_cbor_item *k = &t->items[0], *v = &t->items[1];
    if (text_is(k, "array") || text_is(k, "nullable"))
        return type_valid(v, depth + 1, false);
    if (text_is(k, "optional"))
        return optional_ok && type_valid(v, depth + 1, false);
    if (!text_is(k, "map") || v->type != IPCN_CBOR_MAP)
        return false;
    for (uint64_t i = 0; i < v->count; i++) {
        const ipcn_cbor_item *fk = &v->items[2 * i];
        if (fk->type != IPCN_CBOR_TEXT)
            return false;
        for (uint64_t j = 0; j < i; j++)
            if (same_text(fk, &v->items[2 * j]))
                return false; /* a field named twice */
        if (!type_valid(&v->items[2 * i + 1], depth + 1, true))
            return false;
    }
    return true;
}

int ipcn__schema_valid(const void *schema, size_t len)
{
    if (!schema || !len)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_item *t = NULL;
    int st = ipcn_cbor_tree_decode(schema, len, 0, &t);
    if (st != IPCN_OK)
        return st == IPCN_INSUFFICIENT_MEMORY ? st : IPCN_BAD_REQUEST;
    st = type_valid(t, 1, false) ? IPCN_OK : IPCN_BAD_REQUEST;
    ipcn_cbor_tree_free(t);
    return st;
}

/* ---- a value against it ---- */

typedef struct check {
    char path[256]; /* where in the value: "args.x[3]" */
    size_t plen;
    char *why;
    size_t whylen;
    int status;     /* 100, or 307 when a tensor could not be measured */
} check;

static const char *got_name(const ipcn_cbor_item *v)
{
    switch (v->type) {
    case IPCN_CBOR_UINT:
    case IPCN_CBOR_NEGINT: return "int";
    case IPCN_CBOR_BYTES: return "bytes";
    case IPCN_CBOR_TEXT: return "text";
    case IPCN_CBOR_ARRAY: return "array";
    case IPCN_CBOR_MAP: return "map";
    case IPCN_CBOR_TAG: return "tag";
    case IPCN_CBOR_BOOL: return "bool";
    case IPCN_CBOR_NULL: return "null";
    case IPCN_CBOR_UNDEFINED: return "undefined";
    case IPCN_CBOR_FLOAT: return "float";
    default: return "simple";
    }
}

static bool fail(check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool fail(check *c, const char *fmt, ...)
{
    if (c->whylen) {
        int k = snprintf(c->why, c->whylen, "%s: ", c->path);
        if (k >= 0 && (size_t)k < c->whylen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->why + k, c->whylen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

/* Append ".name" or "[i]" to c->path (truncated when long); returns the
 * old length. */
static size_t path_push(check *c, const ipcn_cbor_item *name, uint64_t idx)
{
    size_t old = c->plen;
    size_t room = sizeof c->path - old;
    int k;
    if (name)
        k = snprintf(c->path + old, room, ".%.*s",
                     (int)(name->len > 64 ? 64 : name->len),
                     (const char *)name->ptr);
    else
        k = snprintf(c->path + old, room, "[%llu]", (unsigned long long)idx);
    if (k > 0)
        c->plen = (size_t)k < room ? old + (size_t)k : sizeof c->path - 1;
    return old;
}

static void path_pop(check *c, size_t old)
{
    c->plen = old;
    c->path[old] = 0;
}

static bool tensor_ok(check *c, const ipcn_cbor_item *v)
{
    /* The tree keeps no offsets: encode the item again and decode it as a
     * tensor. */
    ipcn_cbor_writer w;
    size_t n = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_cbor_tree_encode(&w, v);
    int st = ipcn_cbor_writer_finish(&w, &n); /* measuring: 306 and n */
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE)
        return false;
    uint8_t *buf = ipcn__malloc(n ? n : 1);
    if (!buf) {
        c->status = IPCN_INSUFFICIENT_MEMORY;
        return false;
    }
    ipcn_cbor_writer_init(&w, buf, n, 0);
    ipcn_cbor_tree_encode(&w, v);
    ipcn_tensor t;
    bool ok = ipcn_cbor_writer_finish(&w, &n) == IPCN_OK &&
              ipcn_tensor_decode(buf, n, 0, &t) == IPCN_OK;
    ipcn__free(buf);
    return ok;
}

static bool prim_ok(check *c, enum prim p, const ipcn_cbor_item *v)
{
    switch (p) {
    case P_ANY: return true;
    case P_NULL: return v->type == IPCN_CBOR_NULL;
    case P_BOOL: return v->type == IPCN_CBOR_BOOL;
    case P_INT:
        return v->type == IPCN_CBOR_UINT || v->type == IPCN_CBOR_NEGINT;
    case P_UINT: return v->type == IPCN_CBOR_UINT;
    case P_FLOAT: return v->type == IPCN_CBOR_FLOAT;
    case P_NUMBER:
        return v->type == IPCN_CBOR_UINT || v->type == IPCN_CBOR_NEGINT ||
               v->type == IPCN_CBOR_FLOAT;
    case P_TEXT: return v->type == IPCN_CBOR_TEXT;
    case P_BYTES: return v->type == IPCN_CBOR_BYTES;
    case P_TENSOR: return tensor_ok(c, v);
    }
    return false;
}

static bool match(check *c, const ipcn_cbor_item *t, const ipcn_cbor_item *v);

static bool match_map(check *c, const ipcn_cbor_item *fields,
                      const ipcn_cbor_item *v)
{
    if (v->type != IPCN_CBOR_MAP)
        return fail(c, "expected map, got %s", got_name(v));
    /* Every key of v must be a field, named once. */
    for (uint64_t i = 0; i < v->count; i++) {
        const ipcn_cbor_item *k = &v->items[2 * i];
        if (k->type != IPCN_CBOR_TEXT)
            return fail(c, "expected map with text keys, got a key of type %s",
                        got_name(k));
        bool known = false;
        for (uint64_t j = 0; j < fields->count && !known; j++)
            known = same_text(k, &fields->items[2 * j]);
        size_t old = path_push(c, k, 0);
        if (!known)
            return fail(c, "unexpected field");
        for (uint64_t j = 0; j < i; j++)
            if (same_text(k, &v->items[2 * j]))
                return fail(c, "field given twice");
        path_pop(c, old);
    }
    for (uint64_t j = 0; j < fields->count; j++) {
        const ipcn_cbor_item *fk = &fields->items[2 * j];
        const ipcn_cbor_item *ft = &fields->items[2 * j + 1];
        const ipcn_cbor_item *fv = NULL;
        for (uint64_t i = 0; i < v->count && !fv; i++)
            if (same_text(fk, &v->items[2 * i]))
                fv = &v->items[2 * i + 1];
        bool optional = ft->type == IPCN_CBOR_MAP &&
                        text_is(&ft->items[0], "optional");
        size_t old = path_push(c, fk, 0);
        if (!fv) {
            if (!optional)
                return fail(c, "missing field");
        } else if (!match(c, optional ? &ft->items[1] : ft, fv)) {
            return false;
        }
        path_pop(c, old);
    }
    return true;
}

/* Does v have type t (valid, see type_valid)?  On a mismatch, c->why. */
static bool match(check *c, const ipcn_cbor_item *t, const ipcn_cbor_item *v)
{
    if (t->type == IPCN_CBOR_TEXT) {
        enum prim p = prim_of(t);
        if (prim_ok(c, p, v))
            return true;
        if (c->status != IPCN_OK)
            return fail(c, "out of memory");
        char want[16];
        snprintf(want, sizeof want, "%.*s", (int)t->len, (const char *)t->ptr);
        if (p == P_TENSOR && v->type == IPCN_CBOR_TAG)
            return fail(c, "expected %s, got %s", want, "an invalid tensor");
        return fail(c, "expected %s, got %s", want, got_name(v));
    }
    const ipcn_cbor_item *k = &t->items[0], *inner = &t->items[1];
    if (text_is(k, "nullable"))
        return v->type == IPCN_CBOR_NULL || match(c, inner, v);
    if (text_is(k, "map"))
        return match_map(c, inner, v);
    /* "array" ("optional" is handled by match_map) */
    if (v->type != IPCN_CBOR_ARRAY)
        return fail(c, "expected array, got %s", got_name(v));
    for (uint64_t i = 0; i < v->count; i++) {
        size_t old = path_push(c, NULL, i);
        if (!match(c, inner, &v->items[i]))
            return false;
        path_pop(c, old);
    }
    return true;
}

int ipcn__schema_check(const void *schema, size_t schema_len,
                       const void *value, size_t value_len, char *why,
                       size_t whylen)
{
    check c = {.why = why, .whylen = why ? whylen : 0, .status = IPCN_OK};
    strcpy(c.path, "args");
    c.plen = 4;
    if (c.whylen)
        why[0] = 0;
    ipcn_cbor_item *t = NULL, *v = NULL;
    int st = ipcn_cbor_tree_decode(schema, schema_len, 0, &t);
    if (st != IPCN_OK || !type_valid(t, 1, false)) {
        ipcn_cbor_tree_free(t);
        if (st == IPCN_INSUFFICIENT_MEMORY)
            return fail(&c, "out of memory"), st;
        fail(&c, "invalid schema");
        return IPCN_BAD_REQUEST;
    }
    st = ipcn_cbor_tree_decode(value, value_len, 0, &v);
    if (st != IPCN_OK) {
        ipcn_cbor_tree_free(t);
        if (st == IPCN_INSUFFICIENT_MEMORY)
            return fail(&c, "out of memory"), st;
        fail(&c, "not a well-formed CBOR item");
        return IPCN_BAD_REQUEST;
    }
    st = match(&c, t, v) ? IPCN_OK : IPCN_BAD_REQUEST;
    if (c.status != IPCN_OK)
        st = c.status;
    ipcn_cbor_tree_free(v);
    ipcn_cbor_tree_free(t);
    return st;
}

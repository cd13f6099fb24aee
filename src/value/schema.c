/* SPDX-License-Identifier: MIT */
/*
 * schema.c — the small type language a typed service declares for its
 * arguments and answers (ipcn_offer_typed() in ipcnet.h), and a typed data
 * or stream resource for its values (ipcnet_schema.h; docs/protocol.md
 * "Types"), and the check of a value against it.
 *
 * Both the schema and the value are decoded with the tree.  Recursion
 * follows the schema only, whose nesting is at most IPCN__SCHEMA_MAX_DEPTH
 * (the value's own depth does not matter: "any" does not look inside).  A
 * schema may come from a peer (a descriptor's meta), so it is bounded too:
 * at most IPCN__SCHEMA_MAX_LEN bytes, at most IPCN__SCHEMA_MAX_FIELDS
 * fields in a map.  Each key of a value's map is looked up once among its
 * fields, and each field once among the pairs found, so that the work is
 * at most the value's size times IPCN__SCHEMA_MAX_FIELDS.  A tensor is
 * read in place (the tree records where each item starts), never copied.
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
    if (!text_is(k, "map") || v->type != IPCN_CBOR_MAP ||
        v->count > IPCN__SCHEMA_MAX_FIELDS)
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
    if (!schema || !len || len > IPCN__SCHEMA_MAX_LEN)
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
    int status;     /* 100, or 307 when out of memory */
    /* The value's bytes, its tree's root and where each item starts (set
     * when the schema holds a "tensor": tensor_ok() reads in place). */
    const uint8_t *base;
    size_t base_len;
    const ipcn_cbor_item *root;
    const size_t *offsets;
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

/* Does the (valid) type t name "tensor" anywhere? */
static bool has_tensor(const ipcn_cbor_item *t)
{
    if (t->type == IPCN_CBOR_TEXT)
        return prim_of(t) == P_TENSOR;
    const ipcn_cbor_item *inner = &t->items[1];
    if (!text_is(&t->items[0], "map"))
        return has_tensor(inner);
    for (uint64_t i = 0; i < inner->count; i++)
        if (has_tensor(&inner->items[2 * i + 1]))
            return true;
    return false;
}

/* Is v a tensor the tensor decoder accepts?  Read where v starts in the
 * value's bytes: its payload is neither copied nor encoded again. */
static bool tensor_ok(const check *c, const ipcn_cbor_item *v)
{
    if (v->type != IPCN_CBOR_TAG || !c->offsets)
        return false;
    size_t off = c->offsets[v - c->root];
    ipcn_cbor_reader r;
    ipcn_tensor t;
    /* v is complete in a well-formed value: the decoder reads v and stops
     * (what follows v, if anything, is read as a sequence, never used). */
    return off < c->base_len &&
           ipcn_cbor_reader_init(&r, c->base + off, c->base_len - off,
                                 IPCN_CBOR_SEQUENCE) == IPCN_OK &&
           ipcn_tensor_read(&r, &t) == IPCN_OK;
}

static bool prim_ok(const check *c, enum prim p, const ipcn_cbor_item *v)
{
    bool integer = v->type == IPCN_CBOR_UINT || v->type == IPCN_CBOR_NEGINT;
    switch (p) {
    case P_ANY: return true;
    case P_NULL: return v->type == IPCN_CBOR_NULL;
    case P_BOOL: return v->type == IPCN_CBOR_BOOL;
    case P_INT: return integer;
    case P_UINT: return v->type == IPCN_CBOR_UINT;
    /* An integer is a float too, as JSON has it: {"gain": 2} is a gain
     * of 2.0 to whoever wrote it. */
    case P_FLOAT:
    case P_NUMBER: return integer || v->type == IPCN_CBOR_FLOAT;
    case P_TEXT: return v->type == IPCN_CBOR_TEXT;
    case P_BYTES: return v->type == IPCN_CBOR_BYTES;
    case P_TENSOR: return tensor_ok(c, v);
    }
    return false;
}

static bool match(check *c, const ipcn_cbor_item *t, const ipcn_cbor_item *v);

/* The index of the field named k, or -1.  From hint on first: values
 * mostly list their keys in the schema's order. */
static int64_t field_of(const ipcn_cbor_item *fields, const ipcn_cbor_item *k,
                        uint64_t hint)
{
    uint64_t n = fields->count;
    for (uint64_t s = 0; s < n; s++) {
        uint64_t j = (hint + s) % n;
        if (same_text(k, &fields->items[2 * j]))
            return (int64_t)j;
    }
    return -1;
}

static bool match_map(check *c, const ipcn_cbor_item *fields,
                      const ipcn_cbor_item *v)
{
    if (v->type != IPCN_CBOR_MAP)
        return fail(c, "expected map, got %s", got_name(v));
    /* Every key of v must be a field, named once: pair_of[j] is the pair
     * of field j (0: none, else index + 1).  fields->count is at most
     * IPCN__SCHEMA_MAX_FIELDS (type_valid), and a pair is kept only when
     * the keys before it were distinct fields: i < fields->count. */
    uint16_t pair_of[IPCN__SCHEMA_MAX_FIELDS];
    memset(pair_of, 0, sizeof pair_of);
    uint64_t hint = 0;
    for (uint64_t i = 0; i < v->count; i++) {
        const ipcn_cbor_item *k = &v->items[2 * i];
        if (k->type != IPCN_CBOR_TEXT)
            return fail(c, "expected map with text keys, got a key of type %s",
                        got_name(k));
        int64_t j = field_of(fields, k, hint);
        size_t old = path_push(c, k, 0);
        if (j < 0)
            return fail(c, "unexpected field");
        if (pair_of[j])
            return fail(c, "field given twice");
        path_pop(c, old);
        pair_of[j] = (uint16_t)(i + 1);
        hint = (uint64_t)j + 1;
    }
    for (uint64_t j = 0; j < fields->count; j++) {
        const ipcn_cbor_item *fk = &fields->items[2 * j];
        const ipcn_cbor_item *ft = &fields->items[2 * j + 1];
        bool optional = ft->type == IPCN_CBOR_MAP &&
                        text_is(&ft->items[0], "optional");
        size_t old = path_push(c, fk, 0);
        if (!pair_of[j]) {
            if (!optional)
                return fail(c, "missing field");
        } else if (!match(c, optional ? &ft->items[1] : ft,
                          &v->items[2 * (pair_of[j] - 1) + 1])) {
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

int ipcn__schema_check_as(const void *schema, size_t schema_len,
                          const void *value, size_t value_len,
                          const char *root, char *why, size_t whylen)
{
    check c = {.why = why, .whylen = why ? whylen : 0, .status = IPCN_OK};
    snprintf(c.path, 32, "%s", root ? root : "value");
    c.plen = strlen(c.path);
    if (c.whylen)
        why[0] = 0;
    ipcn_cbor_item *t = NULL, *v = NULL;
    int st = schema_len <= IPCN__SCHEMA_MAX_LEN
                 ? ipcn_cbor_tree_decode(schema, schema_len, 0, &t)
                 : IPCN_BAD_REQUEST;
    if (st != IPCN_OK || !type_valid(t, 1, false)) {
        ipcn_cbor_tree_free(t);
        if (st == IPCN_INSUFFICIENT_MEMORY)
            return fail(&c, "out of memory"), st;
        fail(&c, "invalid schema");
        return IPCN_BAD_REQUEST;
    }
    ipcn_tensor tensor;
    if (prim_of(t) == P_TENSOR &&
        ipcn_tensor_decode(value, value_len, 0, &tensor) == IPCN_OK) {
        ipcn_cbor_tree_free(t); /* a whole tensor: nothing else to look at */
        return IPCN_OK;
    }
    size_t *offsets = NULL;
    st = ipcn__cbor_tree_decode_at(value, value_len, 0, &v,
                                   has_tensor(t) ? &offsets : NULL);
    if (st != IPCN_OK) {
        ipcn_cbor_tree_free(t);
        if (st == IPCN_INSUFFICIENT_MEMORY)
            return fail(&c, "out of memory"), st;
        fail(&c, "not a well-formed CBOR item");
        return IPCN_BAD_REQUEST;
    }
    c.base = value;
    c.base_len = value_len;
    c.root = v;
    c.offsets = offsets;
    st = match(&c, t, v) ? IPCN_OK : IPCN_BAD_REQUEST;
    if (c.status != IPCN_OK)
        st = c.status;
    ipcn__free(offsets);
    ipcn_cbor_tree_free(v);
    ipcn_cbor_tree_free(t);
    return st;
}

int ipcn__schema_check(const void *schema, size_t schema_len,
                       const void *value, size_t value_len, char *why,
                       size_t whylen)
{
    return ipcn__schema_check_as(schema, schema_len, value, value_len, "args",
                                 why, whylen);
}

/* ---- the type a descriptor declares ---- */

int ipcn__schema_from_meta(const void *meta, size_t len, uint8_t **schema,
                           size_t *schema_len)
{
    if (!meta || !len)
        return IPCN_NO_DATA;
    ipcn_cbor_item *m = NULL;
    int st = ipcn_cbor_tree_decode(meta, len, 0, &m);
    if (st == IPCN_INSUFFICIENT_MEMORY)
        return st;
    if (st != IPCN_OK || m->type != IPCN_CBOR_MAP) {
        ipcn_cbor_tree_free(m);
        return IPCN_NO_DATA; /* opaque bytes, or another item: no type */
    }
    const ipcn_cbor_item *t = NULL;
    for (uint64_t i = 0; i < m->count; i++) {
        if (!text_is(&m->items[2 * i], "schema"))
            continue;
        if (t) { /* two: which one would the others take? */
            ipcn_cbor_tree_free(m);
            return IPCN_BAD_REQUEST;
        }
        t = &m->items[2 * i + 1];
    }
    if (!t) {
        ipcn_cbor_tree_free(m);
        return IPCN_NO_DATA;
    }
    /* Written again on its own: checked as any type is, from its bytes. */
    ipcn_cbor_writer w;
    size_t need = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_cbor_tree_encode(&w, t);
    st = ipcn_cbor_writer_finish(&w, &need); /* measuring: 306 and need */
    uint8_t *buf = NULL;
    if (st == IPCN_INSUFFICIENT_STORAGE && need && need <= IPCN__SCHEMA_MAX_LEN) {
        if (!(buf = ipcn__malloc(need))) {
            ipcn_cbor_tree_free(m);
            return IPCN_INSUFFICIENT_MEMORY;
        }
        ipcn_cbor_writer_init(&w, buf, need, 0);
        ipcn_cbor_tree_encode(&w, t);
        st = ipcn_cbor_writer_finish(&w, &need);
    } else {
        st = IPCN_BAD_REQUEST; /* too large to be a type */
    }
    ipcn_cbor_tree_free(m);
    if (st == IPCN_OK)
        st = ipcn__schema_valid(buf, need);
    if (st != IPCN_OK) {
        ipcn__free(buf);
        return st == IPCN_INSUFFICIENT_MEMORY ? st : IPCN_BAD_REQUEST;
    }
    *schema = buf;
    *schema_len = need;
    return IPCN_OK;
}

bool ipcn__encoding_is_cbor(const char *enc)
{
    ipcn_encoding e;
    return enc && ipcn_encoding_parse(enc, &e) == IPCN_OK &&
           (ipcn_encoding_is(&e, "cbor") ||
            ipcn_encoding_is(&e, "application/cbor"));
}

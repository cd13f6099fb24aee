/* SPDX-License-Identifier: MIT */
/*
 * schema_text.c — a type as an indented tree (schema_text.h).
 */
#include <string.h>

#include "schema_text.h"

#define MAX_NEST 32 /* valid types nest 16 deep; a peer's text may not */

static void put_safe(sbuf *b, const char *s, size_t n);

/* The one key of a compound type ({"array": T} ...), or NULL. */
static const char *compound(const jval *t, const jval **inner)
{
    if (!t || t->t != J_OBJ || t->count != 1 || t->k[0]->t != J_STR)
        return NULL;
    *inner = t->v[0];
    return t->k[0]->s;
}

/* The type's words: "float", "text[]", "int|null", "map[]". */
static void label(sbuf *b, const jval *t, int depth)
{
    const jval *in = NULL;
    const char *k = compound(t, &in);
    if (t && t->t == J_STR) {
        put_safe(b, t->s, t->n);
    } else if (!k || depth > MAX_NEST) {
        sb_putc(b, '?');
    } else if (!strcmp(k, "map")) {
        sb_puts(b, "map");
    } else if (!strcmp(k, "array")) {
        const jval *x = NULL;
        const char *ik = compound(in, &x);
        bool paren = ik && !strcmp(ik, "nullable");
        if (paren)
            sb_putc(b, '(');
        label(b, in, depth + 1);
        sb_puts(b, paren ? ")[]" : "[]");
    } else if (!strcmp(k, "nullable")) {
        label(b, in, depth + 1);
        sb_puts(b, "|null");
    } else if (!strcmp(k, "optional")) {
        label(b, in, depth + 1); /* the field says "(optional)" */
    } else {
        sb_putc(b, '?');
    }
}

/* The fields shown under a type: those of the map it is, or holds
 * through arrays, nullables and optionals; NULL when none. */
static const jval *fields_of(const jval *t)
{
    for (int d = 0; d <= MAX_NEST; d++) {
        const jval *in = NULL;
        const char *k = compound(t, &in);
        if (!k)
            return NULL;
        if (!strcmp(k, "map"))
            return in && in->t == J_OBJ ? in : NULL;
        if (strcmp(k, "array") && strcmp(k, "nullable") && strcmp(k, "optional"))
            return NULL;
        t = in;
    }
    return NULL;
}

/* Text from a peer, without the control characters that would move a
 * terminal's cursor. */
static void put_safe(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_putc(b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
}

static void pad(sbuf *b, int n)
{
    for (int i = 0; i < n; i++)
        sb_putc(b, ' ');
}

static void fields(sbuf *b, const jval *f, int indent, int depth)
{
    for (size_t i = 0; i < f->count; i++) {
        const jval *ft = f->v[i], *in = NULL;
        const char *k = compound(ft, &in);
        pad(b, indent);
        label(b, ft, depth);
        sb_putc(b, ' ');
        put_safe(b, f->k[i]->s, f->k[i]->n);
        if (k && !strcmp(k, "optional"))
            sb_puts(b, "  (optional)");
        sb_putc(b, '\n');
        const jval *sub = depth < MAX_NEST ? fields_of(ft) : NULL;
        if (sub)
            fields(b, sub, indent + 2, depth + 1);
    }
}

void schema_tree(sbuf *b, const jval *t, int indent)
{
    pad(b, indent);
    label(b, t, 0);
    sb_putc(b, '\n');
    const jval *f = fields_of(t);
    if (f)
        fields(b, f, indent + 2, 1);
}

const jval *schema_of_meta(const jval *meta)
{
    return jget(meta, "schema");
}

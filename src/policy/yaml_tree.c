/* SPDX-License-Identifier: MIT */
/*
 * yaml_tree.c — the one reader of IPCNet's YAML files: the network's policy
 * (policy_load.c, guard_load.c) and the supervisor's launch manifest
 * (tools/supervisor/manifest.c, through the tool's copy of this layer).
 *
 * The text is untrusted.  It is read with libyaml's event API into a small
 * tree whose depth is capped by the caller (a collection deeper than its
 * format has is refused as it opens), with no alias, anchor or tag
 * accepted and at most NODES_MAX nodes: nothing in a file can make the
 * reader recurse or copy without bound.  The checks of a format over the
 * tree (keys, values, lists) report "NAME:LINE: reason" on one line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "policy/policy_impl.h"
#include "util/util.h"

#define NODES_MAX 65536u  /* YAML nodes in one file */
#define LIST_MAX 256u     /* items of a list read by ipcn__pl_list() */

int ipcn__pl_fail(ipcn__plctx *c, uint32_t line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line, whatever the file quoted into it. */
    for (char *q = msg; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    if (c->why && c->whylen)
        snprintf(c->why, c->whylen, "%s:%u: %s", c->name, line, msg);
    return IPCN_BAD_REQUEST;
}

int ipcn__pl_oom(ipcn__plctx *c)
{
    if (c->why && c->whylen)
        snprintf(c->why, c->whylen, "%s: out of memory", c->name);
    return IPCN_INSUFFICIENT_MEMORY;
}

/* Recursion is bounded by the reader's depth cap, not by the file. */
void ipcn__yaml_free(ipcn__yn *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->nkid; i++)
        ipcn__yaml_free(n->kid[i]);
    ipcn__free(n->kid);
    ipcn__free(n->text);
    ipcn__free(n);
}

static int yn_add(ipcn__plctx *c, ipcn__yn *parent, ipcn__yn *kid)
{
    if (parent->nkid == parent->cap) {
        uint32_t cap = parent->cap ? parent->cap * 2 : 4;
        ipcn__yn **k = ipcn__realloc(parent->kid, cap * sizeof *k);
        if (!k)
            return ipcn__pl_oom(c);
        parent->kid = k;
        parent->cap = cap;
    }
    parent->kid[parent->nkid++] = kid;
    return IPCN_OK;
}

static const char *event_what(yaml_event_type_t t)
{
    return t == YAML_SCALAR_EVENT ? "a value"
           : t == YAML_SEQUENCE_START_EVENT ? "a list"
                                            : "a mapping";
}

static const char *doc_of(const ipcn__plctx *c)
{
    return c->doc ? c->doc : "policy";
}

/* A new node for a scalar or collection event, checked for what the
 * formats refuse (anchors, tags, NUL bytes, too many nodes). */
static int yn_new(ipcn__plctx *c, const yaml_event_t *ev, ipcn__yn **out)
{
    uint32_t line = (uint32_t)ev->start_mark.line + 1;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    ipcn__yk kind;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        kind = IPCN__Y_SCALAR;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        kind = IPCN__Y_SEQ;
        break;
    default:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        kind = IPCN__Y_MAP;
        break;
    }
    if (anchor)
        return ipcn__pl_fail(c, line,
                             "YAML anchors (&%.40s) are not accepted in a %s",
                             (const char *)anchor, doc_of(c));
    if (tag)
        return ipcn__pl_fail(c, line,
                             "YAML tags (%.40s) are not accepted in a %s",
                             (const char *)tag, doc_of(c));
    if (++c->nodes > NODES_MAX)
        return ipcn__pl_fail(c, line, "more than %u YAML nodes", NODES_MAX);
    ipcn__yn *n = ipcn__calloc(1, sizeof *n);
    if (!n)
        return ipcn__pl_oom(c);
    n->kind = kind;
    n->line = line;
    if (kind == IPCN__Y_SCALAR) {
        size_t len = ev->data.scalar.length;
        const char *v = (const char *)ev->data.scalar.value;
        if (memchr(v, 0, len)) {
            ipcn__free(n);
            return ipcn__pl_fail(c, line, "a NUL character in a value");
        }
        if (!(n->text = ipcn__strndup(v, len))) {
            ipcn__free(n);
            return ipcn__pl_oom(c);
        }
        n->len = len;
    }
    *out = n;
    return IPCN_OK;
}

static int yaml_problem(ipcn__plctx *c, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return ipcn__pl_oom(c);
    uint32_t line = (uint32_t)p->problem_mark.line + 1;
    if (p->context)
        return ipcn__pl_fail(c, line, "YAML: %s %s",
                             p->problem ? p->problem : "error", p->context);
    return ipcn__pl_fail(c, line, "YAML: %s",
                         p->problem ? p->problem : "error");
}

/* How deep collections may nest where the reader is: the format's word,
 * never more than the stack holds. */
static uint32_t depth_max(const ipcn__plctx *c, ipcn__yn *const *stack,
                          uint32_t depth)
{
    uint32_t m = c->depth_max ? c->depth_max(stack, depth) : 1;
    return m < IPCN__YAML_DEPTH_CAP ? m : IPCN__YAML_DEPTH_CAP;
}

int ipcn__yaml_read(ipcn__plctx *c, const void *bytes, size_t len,
                    ipcn__yn **root)
{
    yaml_parser_t p;
    *root = NULL;
    if (!yaml_parser_initialize(&p))
        return ipcn__pl_oom(c);
    yaml_parser_set_input_string(&p, (const unsigned char *)bytes, len);
    ipcn__yn *stack[IPCN__YAML_DEPTH_CAP];
    uint32_t depth = 0;
    int docs = 0, st = IPCN_OK;
    bool done = false;
    while (!done && st == IPCN_OK) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            st = yaml_problem(c, &p);
            break;
        }
        uint32_t line = (uint32_t)ev.start_mark.line + 1;
        ipcn__yn *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (docs++)
                st = ipcn__pl_fail(c, line, "more than one YAML document");
            break;
        case YAML_ALIAS_EVENT:
            st = ipcn__pl_fail(c, line,
                               "YAML aliases (*%.40s) are not accepted in a "
                               "%s",
                               (const char *)ev.data.alias.anchor, doc_of(c));
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (ev.type != YAML_SCALAR_EVENT &&
                depth >= depth_max(c, stack, depth)) {
                st = ipcn__pl_fail(c, line,
                                   "%s nested deeper than the format has",
                                   event_what(ev.type));
                break;
            }
            if ((st = yn_new(c, &ev, &n)) != IPCN_OK)
                break;
            if (depth == 0) {
                *root = n;
            } else if ((st = yn_add(c, stack[depth - 1], n)) != IPCN_OK) {
                ipcn__yaml_free(n);
                break;
            }
            if (ev.type != YAML_SCALAR_EVENT)
                stack[depth++] = n;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth)
                depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (st != IPCN_OK) {
        ipcn__yaml_free(*root);
        *root = NULL;
    }
    return st;
}

/* ---- checks of a format over the tree ---- */

const char *ipcn__pl_kind(ipcn__yk k)
{
    return k == IPCN__Y_SCALAR ? "a value"
           : k == IPCN__Y_SEQ  ? "a list"
                               : "a mapping";
}

int ipcn__pl_keys(ipcn__plctx *c, const ipcn__yn *map, const char *what,
                  const char *const *known)
{
    for (uint32_t i = 0; i < map->nkid; i += 2) {
        const ipcn__yn *k = map->kid[i];
        if (k->kind != IPCN__Y_SCALAR)
            return ipcn__pl_fail(c, k->line,
                                 "a key of %s must be a word, not %s", what,
                                 ipcn__pl_kind(k->kind));
        bool ok = false;
        for (const char *const *q = known; *q; q++)
            ok = ok || !strcmp(*q, k->text);
        if (!ok) {
            char list[256] = "";
            for (const char *const *q = known; *q; q++)
                snprintf(list + strlen(list), sizeof list - strlen(list),
                         "%s%s", q == known ? "" : ", ", *q);
            return ipcn__pl_fail(c, k->line,
                                 "unknown key \"%.60s\" in %s (known: %s)",
                                 k->text, what, list);
        }
        for (uint32_t j = 0; j < i; j += 2)
            if (!strcmp(map->kid[j]->text, k->text))
                return ipcn__pl_fail(c, k->line, "\"%s\" given twice in %s",
                                     k->text, what);
    }
    return IPCN_OK;
}

const ipcn__yn *ipcn__pl_get(const ipcn__yn *map, const char *key)
{
    for (uint32_t i = 0; i + 1 < map->nkid; i += 2)
        if (!strcmp(map->kid[i]->text, key))
            return map->kid[i + 1];
    return NULL;
}

int ipcn__pl_list(ipcn__plctx *c, const ipcn__yn *v, const char *what,
                  ipcn__items *items, uint32_t *n, const ipcn__yn **one)
{
    if (v->kind == IPCN__Y_SCALAR) {
        *one = v;
        *items = one;
        *n = 1;
        if (!v->len)
            return ipcn__pl_fail(c, v->line, "an empty %s", what);
        return IPCN_OK;
    }
    if (v->kind != IPCN__Y_SEQ)
        return ipcn__pl_fail(c, v->line,
                             "%s: a value or a list expected, not %s", what,
                             ipcn__pl_kind(v->kind));
    if (!v->nkid)
        return ipcn__pl_fail(c, v->line, "an empty list of %s", what);
    if (v->nkid > LIST_MAX)
        return ipcn__pl_fail(c, v->line, "more than %u items in a list of %s",
                             LIST_MAX, what);
    for (uint32_t i = 0; i < v->nkid; i++) {
        if (v->kid[i]->kind != IPCN__Y_SCALAR)
            return ipcn__pl_fail(c, v->kid[i]->line,
                                 "%s: a value expected, not %s", what,
                                 ipcn__pl_kind(v->kid[i]->kind));
        if (!v->kid[i]->len)
            return ipcn__pl_fail(c, v->kid[i]->line, "an empty %s", what);
    }
    *items = (ipcn__items)v->kid;
    *n = v->nkid;
    return IPCN_OK;
}

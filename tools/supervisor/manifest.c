/* SPDX-License-Identifier: MIT */
/*
 * manifest.c — a robot's launch manifest (manifest.h; docs/manifest.md):
 * the document, the start order and the calls.  manifest_comp.c reads a
 * component, manifest_value.c the values.
 *
 * The file is read with the policy layer's YAML tree reader
 * (src/policy/yaml_tree.c, in the tool's copy of that layer): the same
 * caps (no alias, anchor or tag; one document; at most 65536 nodes;
 * collections at most DEPTH deep) and the same "FILE:LINE: reason".  The
 * tree is then checked against the format in three passes: the component
 * names (so that a dependency may name a component written after it), each
 * component in the order of the file, then the start order (Kahn's
 * algorithm, ties in the order of the file), which finds any cycle.
 * Everything is taken or nothing: the first fault refuses the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest_impl.h"
#include "util/util.h"

#define FILE_MAX (256u * 1024u)
#define DEPTH 4u /* document > components > component > section */
#define COMPS_MAX 256u
#define ROBOT_MAX 60u /* "sup.<robot>", the supervisor's node, is a name */

static uint32_t manifest_depth(ipcn__yn *const *stack, uint32_t depth)
{
    (void)stack;
    (void)depth;
    return DEPTH;
}

/* ---- the start order ---- */

/* No component is free to start: some depend on each other in a circle.
 * Walk from the first one left, always along its first dependency left,
 * until a component comes round again; name that circle from its first
 * component in the file, at the line of its dependency on the next. */
static int cycle(mctx *x, const bool *placed)
{
    const sup_manifest *m = x->m;
    size_t n = m->ncomps, len = 0, cur = 0;
    size_t *path = malloc(n * sizeof *path), *edge = malloc(n * sizeof *edge),
           *pos = malloc(n * sizeof *pos);
    if (!path || !edge || !pos) {
        free(path);
        free(edge);
        free(pos);
        return sup__mf_oom(x);
    }
    for (size_t i = 0; i < n; i++)
        pos[i] = SIZE_MAX;
    while (placed[cur])
        cur++;
    while (pos[cur] == SIZE_MAX) {
        const sup_component *k = &m->comps[cur];
        size_t j = 0;
        while (k->deps[j].resource || placed[k->deps[j].index])
            j++; /* one is left, or cur would have been placed */
        pos[cur] = len;
        path[len] = cur;
        edge[len++] = j;
        cur = k->deps[j].index;
    }
    size_t first = pos[cur], start = first;
    for (size_t p = first; p < len; p++)
        if (path[p] < path[start])
            start = p;
    char names[400] = "";
    size_t used = 0, clen = len - first;
    for (size_t q = 0; q <= clen && used < sizeof names - 8; q++) {
        const char *nm =
            m->comps[path[first + (start - first + q) % clen]].name;
        int w = snprintf(names + used, sizeof names - used, "%s%s",
                         q ? " -> " : "", nm);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used >= sizeof names - 8)
        snprintf(names + sizeof names - 8, 8, " ...");
    uint32_t line = x->deplines[path[start]][edge[start]];
    free(path);
    free(edge);
    free(pos);
    return ipcn__pl_fail(&x->c, line, "a dependency cycle: %s", names);
}

static int start_order(mctx *x)
{
    sup_manifest *m = x->m;
    size_t n = m->ncomps;
    bool *placed = calloc(n, sizeof *placed);
    if (!placed || !(m->order = calloc(n, sizeof *m->order))) {
        free(placed);
        return sup__mf_oom(x);
    }
    int st = IPCN_OK;
    for (size_t o = 0; o < n && st == IPCN_OK; o++) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++) {
            bool free_to_go = !placed[i];
            for (size_t d = 0; free_to_go && d < m->comps[i].ndeps; d++)
                free_to_go = m->comps[i].deps[d].resource ||
                             placed[m->comps[i].deps[d].index];
            if (free_to_go)
                pick = i;
        }
        if (pick == n) {
            st = cycle(x, placed);
            break;
        }
        placed[pick] = true;
        m->order[o] = pick;
    }
    free(placed);
    return st;
}

/* ---- the document ---- */

/* The robot's name when the file does not say it: the file's base name
 * without .yaml or .yml. */
static int default_robot(mctx *x)
{
    const char *base = strrchr(x->c.name, '/');
    base = base ? base + 1 : x->c.name;
    size_t len = strlen(base);
    if (len > 5 && !strcmp(base + len - 5, ".yaml"))
        len -= 5;
    else if (len > 4 && !strcmp(base + len - 4, ".yml"))
        len -= 4;
    if (len > ROBOT_MAX || ipcn__name_check(base, len) != IPCN_OK)
        return ipcn__pl_fail(&x->c, 1,
                             "robot: is missing, and the file's name is not "
                             "a robot name (1 to %u of A-Z a-z 0-9 . _ -)",
                             ROBOT_MAX);
    if (!(x->m->robot = strndup(base, len)))
        return sup__mf_oom(x);
    return IPCN_OK;
}

/* The components' names, so that any may be named as a dependency. */
static int read_names(mctx *x, const ipcn__yn *v)
{
    sup_manifest *m = x->m;
    if (v->kind != IPCN__Y_MAP || !v->nkid)
        return ipcn__pl_fail(&x->c, v->line,
                             "components: a mapping of names to components "
                             "expected, not %s",
                             v->kind == IPCN__Y_MAP ? "an empty one"
                                                    : sup__mf_kind(v));
    uint32_t n = v->nkid / 2;
    if (n > COMPS_MAX)
        return ipcn__pl_fail(&x->c, v->line, "more than %u components",
                             COMPS_MAX);
    if (!(m->comps = calloc(n, sizeof *m->comps)) ||
        !(x->deplines = calloc(n, sizeof *x->deplines)))
        return sup__mf_oom(x);
    for (uint32_t i = 0; i < n; i++) {
        const ipcn__yn *key = v->kid[2 * i];
        int st = sup__mf_name(x, key, "a component's name", SUP_NAME_MAX);
        if (st != IPCN_OK)
            return st;
        if (key->len > 7 && !strcmp(key->text + key->len - 7, ".config"))
            return ipcn__pl_fail(&x->c, key->line,
                                 "component \"%s\": a name ending in .config "
                                 "is the versions store's (configurations)",
                                 key->text);
        int j = sup__mf_find(m, m->ncomps, key->text);
        if (j >= 0)
            return ipcn__pl_fail(&x->c, key->line,
                                 "component \"%s\" defined twice (also on "
                                 "line %u)",
                                 key->text, m->comps[j].line);
        sup_component *k = &m->comps[m->ncomps];
        sup__mf_defaults(k);
        k->line = key->line;
        if (!(k->name = sup__mf_strdup(key->text)))
            return sup__mf_oom(x);
        m->ncomps++;
    }
    return IPCN_OK;
}

static int read_top(mctx *x, const ipcn__yn *root)
{
    static const char *const keys[] = {"version", "robot",      "store",
                                       "state",   "components", NULL};
    sup_manifest *m = x->m;
    if (!root || (root->kind == IPCN__Y_SCALAR && !root->len))
        return ipcn__pl_fail(&x->c, root ? root->line : 1,
                             "an empty manifest (version: 1 and components: "
                             "are required)");
    if (root->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(&x->c, root->line,
                             "a manifest is a mapping (version, robot, store, "
                             "state, components), not %s",
                             sup__mf_kind(root));
    int st = ipcn__pl_keys(&x->c, root, "the manifest", keys);
    if (st != IPCN_OK)
        return st;
    const ipcn__yn *v = ipcn__pl_get(root, "version");
    if (!v)
        return ipcn__pl_fail(&x->c, root->line,
                             "version: is missing (version: 1)");
    if (v->kind != IPCN__Y_SCALAR || strcmp(v->text, "1"))
        return ipcn__pl_fail(
            &x->c, v->line, "version: only version 1 is known, not %s",
            v->kind == IPCN__Y_SCALAR ? v->text : sup__mf_kind(v));
    if ((v = ipcn__pl_get(root, "robot"))) {
        if ((st = sup__mf_name(x, v, "robot", ROBOT_MAX)) != IPCN_OK)
            return st;
        if (!(m->robot = sup__mf_strdup(v->text)))
            return sup__mf_oom(x);
    } else if ((st = default_robot(x)) != IPCN_OK) {
        return st;
    }
    if (!(m->store = sup__mf_path_clean(m->dir, "versions")) ||
        !(m->state = sup__mf_path_clean(m->dir, "run")))
        return sup__mf_oom(x);
    const ipcn__yn *store = ipcn__pl_get(root, "store"),
                   *state = ipcn__pl_get(root, "state");
    if (store && (st = sup__mf_path(x, store, "store", &m->store)) != IPCN_OK)
        return st;
    if (state && (st = sup__mf_path(x, state, "state", &m->state)) != IPCN_OK)
        return st;
    if (!strcmp(m->store, m->state))
        return ipcn__pl_fail(&x->c,
                             state   ? state->line
                             : store ? store->line
                                     : root->line,
                             "store and state are one directory (%.200s)",
                             m->store);
    if (!(v = ipcn__pl_get(root, "components")))
        return ipcn__pl_fail(&x->c, root->line,
                             "components: is missing (at least one)");
    if ((st = read_names(x, v)) != IPCN_OK)
        return st;
    for (size_t i = 0; i < m->ncomps; i++)
        if ((st = sup__mf_comp(x, i, v->kid[2 * i + 1])) != IPCN_OK)
            return st;
    return start_order(x);
}

/* ---- the calls ---- */

static void comp_free(sup_component *k)
{
    for (size_t i = 0; k->argv && k->argv[i]; i++)
        free(k->argv[i]);
    for (size_t i = 0; k->env && k->env[i]; i++)
        free(k->env[i]);
    for (size_t i = 0; i < k->ndeps; i++)
        free(k->deps[i].name);
    free(k->argv);
    free(k->env);
    free(k->deps);
    free(k->name);
    free(k->node);
    free(k->dir);
    free(k->health_service);
    free(k->safe_request);
}

void sup_manifest_free(sup_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ncomps; i++)
        comp_free(&m->comps[i]);
    free(m->comps);
    free(m->order);
    free(m->path);
    free(m->dir);
    free(m->robot);
    free(m->store);
    free(m->state);
    free(m);
}

sup_component *sup_manifest_find(const sup_manifest *m, const char *name)
{
    if (!m || !name)
        return NULL;
    int i = sup__mf_find(m, m->ncomps, name);
    return i < 0 ? NULL : &m->comps[i];
}

int sup_manifest_parse(const char *text, size_t len, const char *name,
                       const char *dir, sup_manifest **out, char *err,
                       size_t errlen)
{
    mctx x = {.c = {.name = name ? name : "manifest",
                    .why = err,
                    .whylen = errlen,
                    .doc = "manifest",
                    .depth_max = manifest_depth}};
    if (err && errlen)
        err[0] = 0;
    if (!out)
        return ipcn__pl_fail(&x.c, 1, "nowhere to put the manifest");
    if (!dir || dir[0] != '/')
        return ipcn__pl_fail(&x.c, 1,
                             "the manifest's directory is not "
                             "absolute");
    if (len > FILE_MAX)
        return ipcn__pl_fail(&x.c, 1, "larger than %u KiB", FILE_MAX / 1024);
    if (!(x.m = calloc(1, sizeof *x.m)) ||
        !(x.m->path = sup__mf_strdup(x.c.name)) ||
        !(x.m->dir = sup__mf_path_clean("/", dir))) {
        sup_manifest_free(x.m);
        return sup__mf_oom(&x);
    }
    ipcn__yn *root = NULL;
    int st = ipcn__yaml_read(&x.c, text ? text : "", text ? len : 0, &root);
    if (st == IPCN_OK)
        st = read_top(&x, root);
    ipcn__yaml_free(root);
    for (size_t i = 0; x.deplines && i < x.m->ncomps; i++)
        free(x.deplines[i]);
    free(x.deplines);
    if (st != IPCN_OK) {
        sup_manifest_free(x.m);
        return st;
    }
    *out = x.m;
    return IPCN_OK;
}

static __attribute__((format(printf, 4, 5))) int
file_fail(int status, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return status;
}

/* The file's bytes (at most FILE_MAX + 1 of them) into *buf. */
static int slurp(const char *path, char **buf, size_t *len, char *err,
                 size_t errlen)
{
    /* O_NONBLOCK: a FIFO put there must not hang the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return file_fail(errno == ENOMEM ? IPCN_INSUFFICIENT_MEMORY
                                         : IPCN_NOT_FOUND,
                         err, errlen, "%s: %s", path, strerror(errno));
    struct stat sb;
    int st = IPCN_OK;
    if (fstat(fd, &sb) < 0)
        st = file_fail(IPCN_NOT_FOUND, err, errlen, "%s: %s", path,
                       strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = file_fail(IPCN_NOT_FOUND, err, errlen, "%s: not a regular file",
                       path);
    else if (sb.st_uid != 0 && sb.st_uid != geteuid())
        st = file_fail(IPCN_NOT_FOUND, err, errlen,
                       "%s: owned by uid %u, not by root or uid %u", path,
                       (unsigned)sb.st_uid, (unsigned)geteuid());
    else if (sb.st_mode & S_IWOTH)
        st = file_fail(IPCN_NOT_FOUND, err, errlen,
                       "%s: writable by others (mode %04o): anyone could "
                       "choose what the supervisor runs (chmod o-w)",
                       path, (unsigned)(sb.st_mode & 07777));
    else if (!(*buf = malloc(FILE_MAX + 1)))
        st = file_fail(IPCN_INSUFFICIENT_MEMORY, err, errlen,
                       "%s: out of memory", path);
    *len = 0;
    while (st == IPCN_OK && *len <= FILE_MAX) {
        ssize_t r = read(fd, *buf + *len, FILE_MAX + 1 - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            st = file_fail(IPCN_NOT_FOUND, err, errlen, "%s: %s", path,
                           strerror(errno));
        if (r <= 0)
            break;
        *len += (size_t)r;
    }
    close(fd);
    return st;
}

int sup_manifest_load(const char *path, sup_manifest **out, char *err,
                      size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (!path || !*path)
        return file_fail(IPCN_NOT_FOUND, err, errlen, "no manifest named");
    char *buf = NULL, *dir = NULL, real[PATH_MAX];
    size_t len = 0;
    int st = slurp(path, &buf, &len, err, errlen);
    if (st == IPCN_OK && len > FILE_MAX)
        st = file_fail(IPCN_BAD_REQUEST, err, errlen,
                       "%s:1: larger than %u "
                       "KiB",
                       path, FILE_MAX / 1024);
    if (st == IPCN_OK) {
        /* its directory, absolute, as the system names it */
        const char *slash = strrchr(path, '/');
        dir = slash == path ? sup__mf_strdup("/")
              : slash       ? strndup(path, (size_t)(slash - path))
                            : sup__mf_strdup(".");
        if (!dir)
            st = file_fail(IPCN_INSUFFICIENT_MEMORY, err, errlen,
                           "%s: out of memory", path);
        else if (!realpath(dir, real))
            st = file_fail(IPCN_NOT_FOUND, err, errlen,
                           "%s: its directory: "
                           "%s",
                           path, strerror(errno));
    }
    if (st == IPCN_OK)
        st = sup_manifest_parse(buf, len, path, real, out, err, errlen);
    free(dir);
    free(buf);
    return st;
}

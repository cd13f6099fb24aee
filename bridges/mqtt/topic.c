/* SPDX-License-Identifier: MIT */
/*
 * topic.c — topics of imported messages to IPCNet paths, and the status of
 * an answer (topic.h).  Everything here is bounded by its buffers' sizes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic.h"

const char *br_import_filter(const char *spec, char *filter, size_t cap)
{
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
    if (!cap)
        return eq ? eq + 1 : NULL;
    if (n >= cap)
        n = cap - 1;
    memcpy(filter, spec, n);
    filter[n] = 0;
    return eq ? eq + 1 : NULL;
}

bool br_path_ok(const char *p)
{
    size_t n = strlen(p);
    if (!n || n > 255 || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//"))
        return false;
    for (const char *s = p; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (memchr(s, '*', len) || (len == 1 && (*s == '+' || *s == '#')))
            return false;
        s = e ? e + 1 : s + len;
    }
    return true;
}

bool br_map_path(const char *prefix, const char *spec, const char *topic, char *out,
                 size_t cap)
{
    if (!cap)
        return false;
    out[0] = 0;
    char filter[512];
    const char *path = br_import_filter(spec, filter, sizeof filter);
    size_t fixed = strcspn(filter, "+#"); /* the head before a wildcard */
    bool wild = filter[fixed] != 0;
    int n;
    if (path && !wild) {
        n = snprintf(out, cap, "%s", path);
    } else if (path) {
        /* "x/#=p/q": topic x/y/z becomes p/q/y/z (the head "x/" replaced) */
        const char *rest = strlen(topic) >= fixed ? topic + fixed : "";
        n = snprintf(out, cap, "%s%s%s", path, *rest && *path ? "/" : "", rest);
    } else {
        size_t pl = strlen(prefix);
        const char *t = !strncmp(topic, prefix, pl) ? topic + pl : topic;
        n = snprintf(out, cap, "%s", t);
    }
    if (n < 0 || (size_t)n >= cap)
        return false;
    size_t l = (size_t)n;
    while (l && out[l - 1] == '/')
        out[--l] = 0;
    return br_path_ok(out);
}

int br_parse_status(const char *value, int fallback)
{
    if (!value || !*value || strlen(value) > 5)
        return fallback;
    for (const char *s = value; *s; s++)
        if (*s < '0' || *s > '9')
            return fallback;
    long v = strtol(value, NULL, 10);
    return v >= 100 && v <= 65535 ? (int)v : fallback;
}

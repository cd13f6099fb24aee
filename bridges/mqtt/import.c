/* SPDX-License-Identifier: MIT */
/*
 * import.c — MQTT topics to IPCNet streams.  Each --import TOPIC[=PATH] is
 * an MQTT subscription (MQTT 5: with No Local, so that this bridge never
 * gets its own publications back); a message on it is published on an
 * IPCNet stream that the bridge's node announces when the first message
 * comes.  The path: PATH when given (for a filter with wildcards, PATH
 * replaces the filter's part before its first wildcard), else the topic
 * without --prefix.  A message with this bridge's origin mark (a user
 * property, for brokers or versions without No Local) is dropped and
 * counted (loops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "bridge.h"

static const char *import_path_of(const char *spec, char *topic, size_t cap)
{
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
    if (n >= cap)
        n = cap - 1;
    memcpy(topic, spec, n);
    topic[n] = 0;
    return eq ? eq + 1 : NULL;
}

/* A valid IPCNet path (the library checks again when announcing)? */
static bool path_ok(const char *p)
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

/* The IPCNet path of a message's topic, for the --import spec it came by. */
static bool map_path(const bridge *b, const char *spec, const char *topic, char *out,
                     size_t cap)
{
    char filter[512];
    const char *path = import_path_of(spec, filter, sizeof filter);
    size_t fixed = strcspn(filter, "+#"); /* the head before a wildcard */
    bool wild = filter[fixed] != 0;
    int n;
    if (path && !wild)
        n = snprintf(out, cap, "%s", path);
    else if (path) {
        const char *rest = strlen(topic) >= fixed ? topic + fixed : "";
        n = snprintf(out, cap, "%s%s%s", path, *rest && path[0] ? "/" : "", rest);
        /* filter "a/#" has head "a/": rest has no leading '/' */
    } else {
        size_t pl = strlen(b->o.prefix);
        const char *t = !strncmp(topic, b->o.prefix, pl) ? topic + pl : topic;
        n = snprintf(out, cap, "%s", t);
    }
    if (n < 0 || (size_t)n >= cap)
        return false;
    /* "x//y" from a path ending in '/': tidy */
    size_t l = strlen(out);
    while (l && out[l - 1] == '/')
        out[--l] = 0;
    return path_ok(out);
}

static bool announced(bridge *b, const char *path)
{
    for (size_t i = 0; i < b->nannounced; i++)
        if (!strcmp(b->announced[i], path))
            return true;
    return false;
}

static bool remember(bridge *b, const char *path)
{
    if (b->nannounced == b->capannounced) {
        size_t cap = b->capannounced ? 2 * b->capannounced : 16;
        char **n = realloc(b->announced, cap * sizeof *n);
        if (!n)
            return false;
        b->announced = n;
        b->capannounced = cap;
    }
    char *p = strdup(path);
    if (!p)
        return false;
    b->announced[b->nannounced++] = p;
    return true;
}

void br_import_subscribe(bridge *b)
{
    for (int i = 0; i < b->o.nimports; i++) {
        char filter[512];
        import_path_of(b->o.imports[i], filter, sizeof filter);
        int opts = b->version == 5 ? MQTT_SUB_OPT_NO_LOCAL : 0;
        int rc = mosquitto_subscribe_v5(b->mosq, NULL, filter, 1, opts, NULL);
        if (rc != MOSQ_ERR_SUCCESS)
            br_log("--import %s: subscribe: %s", filter, mosquitto_strerror(rc));
    }
}

bool br_import_message(bridge *b, const struct mosquitto_message *m,
                       const mosquitto_property *props)
{
    const char *spec = NULL;
    for (int i = 0; i < b->o.nimports && !spec; i++) {
        char filter[512];
        bool match = false;
        import_path_of(b->o.imports[i], filter, sizeof filter);
        if (mosquitto_topic_matches_sub(filter, m->topic, &match) == MOSQ_ERR_SUCCESS && match)
            spec = b->o.imports[i];
    }
    if (!spec)
        return false;
    if (br_has_origin(b, props)) {
        br_count(b, &b->c.loops);
        return true;
    }
    char path[300], abs[304];
    if (!map_path(b, spec, m->topic, path, sizeof path)) {
        br_log("import %s: not an IPCNet path, dropped", m->topic);
        br_count(b, &b->c.import_errors);
        return true;
    }
    snprintf(abs, sizeof abs, "/%s", path);
    char *ctype = NULL;
    if (props)
        mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &ctype, false);
    const char *enc = !ctype ? "application/octet-stream"
                      : !strcmp(ctype, "application/cbor") ? "cbor"
                                                            : ctype;
    /* Only the MQTT thread imports: the table needs no lock of its own. */
    int st = IPCN_OK;
    if (!announced(b, path)) {
        st = ipcn_announce(b->node, abs, IPCN_STREAM, enc, NULL, 0);
        if (st == IPCN_OK || st == IPCN_CREATED) {
            remember(b, path);
            br_log("import %s -> stream %s (%s)", m->topic, path, enc);
            st = IPCN_OK;
        } else {
            br_log("import %s: announce %s: %d %s", m->topic, path, st, ipcn_status_str(st));
        }
    }
    if (st == IPCN_OK)
        st = ipcn_publish(b->node, abs, m->payload, (size_t)m->payloadlen);
    free(ctype);
    br_count(b, st == IPCN_OK ? &b->c.imported : &b->c.import_errors);
    return true;
}

void br_import_free(bridge *b)
{
    for (size_t i = 0; i < b->nannounced; i++)
        free(b->announced[i]);
    free(b->announced);
    b->announced = NULL;
    b->nannounced = b->capannounced = 0;
}

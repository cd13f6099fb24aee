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
 * counted (loops); under MQTT 3.1.1 (neither), so is a message on PREFIX
 * + a path matching an --export pattern.  The streams are announced with the meta
 * {"ipcnet-bridge": "mqtt-import"} (BR_META_IMPORTED): no bridge of the
 * network exports them back to MQTT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "bridge.h"
#include "topic.h"

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
    if (atomic_load(&b->version) != 5 && b->o.nimports && b->o.nexports)
        br_log("MQTT 3.1.1: imported messages on %s + an --export pattern are skipped "
               "(no No Local, no origin mark: they may be this bridge's own)", b->o.prefix);
    for (int i = 0; i < b->o.nimports; i++) {
        char filter[512];
        br_import_filter(b->o.imports[i], filter, sizeof filter);
        int opts = b->version == 5 ? MQTT_SUB_OPT_NO_LOCAL : 0;
        int rc = mosquitto_subscribe_v5(b->mosq, NULL, filter, 1, opts, NULL);
        if (rc != MOSQ_ERR_SUCCESS)
            br_log("--import %s: subscribe: %s", filter, mosquitto_strerror(rc));
        else
            b->subs_pending++;
    }
}

bool br_import_message(bridge *b, const struct mosquitto_message *m,
                       const mosquitto_property *props)
{
    const char *spec = NULL;
    for (int i = 0; i < b->o.nimports && !spec; i++) {
        char filter[512];
        bool match = false;
        br_import_filter(b->o.imports[i], filter, sizeof filter);
        if (mosquitto_topic_matches_sub(filter, m->topic, &match) == MOSQ_ERR_SUCCESS && match)
            spec = b->o.imports[i];
    }
    if (!spec)
        return false;
    if (br_has_origin(b, props)) {
        br_count(b, &b->c.loops);
        return true;
    }
    /* MQTT 3.1.1: no No Local, no origin mark: a message on PREFIX + an
     * exported path may be this bridge's own publication: skipped. */
    size_t pl = strlen(b->o.prefix);
    if (atomic_load(&b->version) != 5 && !strncmp(m->topic, b->o.prefix, pl))
        for (int i = 0; i < b->o.nexports; i++)
            if (ipcn_pattern_match(b->o.exports[i], m->topic + pl) == 1) {
                br_count(b, &b->c.loops);
                return true;
            }
    char path[300], abs[304];
    if (!br_map_path(b->o.prefix, spec, m->topic, path, sizeof path)) {
        br_log("import %s: not an IPCNet path, dropped", m->topic);
        br_count(b, &b->c.import_errors);
        return true;
    }
    snprintf(abs, sizeof abs, "/%s", path);
    char *ctype = NULL;
    if (props)
        mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &ctype, false);
    const char *enc = br_encoding(ctype);
    /* Only the MQTT thread imports: the table needs no lock of its own. */
    int st = IPCN_OK;
    if (!announced(b, path) && b->nannounced >= b->o.max_imports) {
        /* a client publishing on many topics under a filter cannot make
         * the bridge announce streams without end */
        static bool said;
        if (!said)
            br_log("import %s: --max-imports %zu reached: not imported (counted in "
                   "import_errors; said once)", m->topic, b->o.max_imports);
        said = true;
        st = IPCN_INSUFFICIENT_STORAGE;
    } else if (!announced(b, path)) {
        st = ipcn_announce(b->node, abs, IPCN_STREAM, enc, BR_META_IMPORTED_MAP,
                           sizeof BR_META_IMPORTED_MAP - 1);
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

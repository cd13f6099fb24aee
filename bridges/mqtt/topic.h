/* SPDX-License-Identifier: MIT */
/*
 * topic.h — the MQTT bridge's parsers of what the broker sends: the IPCNet
 * path of an imported topic, and the status of an answer's user property.
 * Pure functions, no libmosquitto: fuzzed (tests/fuzz/fuzz_mqtt_topic.c)
 * and unit-tested (tests/bridges/test_mqtt_topic.c).
 */
#ifndef IPCNET_BRIDGE_MQTT_TOPIC_H
#define IPCNET_BRIDGE_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/* The MQTT filter of an --import spec "TOPIC[=PATH]" into filter[0..cap)
 * (truncated to fit, NUL-ended); returns PATH (inside spec) or NULL. */
const char *br_import_filter(const char *spec, char *filter, size_t cap);

/* Is p a path the bridge may announce: 1..255 bytes, no leading or
 * trailing '/', no empty segment, no segment with '*', no lone '+' or '#'
 * segment, no control character? */
bool br_path_ok(const char *p);

/* The IPCNet path of a message on topic, received for the --import spec
 * (see docs/bridges.md "Topic mapping"); prefix: --prefix.  Writes a NUL-
 * ended path into out[0..cap) and returns true, or false when the result
 * is not a valid path or does not fit (out is then unspecified but NUL-
 * ended when cap > 0). */
bool br_map_path(const char *prefix, const char *spec, const char *topic, char *out,
                 size_t cap);

/* The status in an answer's "ipcnet-status" user property: a decimal
 * number 100..65535 and nothing else, else fallback. */
int br_parse_status(const char *value, int fallback);

#endif

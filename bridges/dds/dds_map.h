/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/dds_map.h - the types the DDS bridge knows and how a value
 * crosses between IPCNet bytes and a DDS sample of a ROS 2 type
 * (docs/bridges.md, "DDS: the mapping").  No DDS entity is made here:
 * these are pure conversions over the idlc-generated C types, so that a
 * unit test (test/test_dds_map.c) checks them without a domain.
 *
 * Statuses are IPCNet's: 100, 200 (the bytes are not a value of the type),
 * 301 (a valid value this mapping cannot carry), 307 (memory).
 */
#ifndef IPCNET_BRIDGE_DDS_MAP_H
#define IPCNET_BRIDGE_DDS_MAP_H

#include <stddef.h>
#include <stdint.h>

#include <dds/dds.h>

/* Memory a sample built by to_dds points to, freed as a whole after the
 * write (strings and arrays the sample needs; large byte sequences point
 * into the IPCNet message instead, without a copy). */
typedef struct ddsb_arena {
    void **blocks;
    size_t count, cap;
} ddsb_arena;

void *ddsb_arena_alloc(ddsb_arena *a, size_t n);
char *ddsb_arena_strndup(ddsb_arena *a, const char *s, size_t n);
void ddsb_arena_free(ddsb_arena *a);

typedef struct ddsb_type {
    const char *ros_name;   /* "sensor_msgs/msg/Image" */
    const dds_topic_descriptor_t *desc;
    const char *encoding;   /* the IPCNet encoding of an imported value */
    /* IPCNet bytes (of the resource's encoding) -> sample (zeroed, of
     * desc->m_size bytes); pointers of the sample go into buf or a. */
    int (*to_dds)(const void *buf, size_t len, const char *encoding,
                  void *sample, ddsb_arena *a);
    /* sample -> IPCNet bytes in *out (malloc'd, the caller frees). */
    int (*to_ipcn)(const void *sample, uint8_t **out, size_t *len);
} ddsb_type;

/* The type called name: "sensor_msgs/msg/Image", "sensor_msgs/Image" or
 * the DDS name "sensor_msgs::msg::dds_::Image_"; NULL when unknown. */
const ddsb_type *ddsb_type_find(const char *name);
/* The type an IPCNet encoding maps to when --export gives none: the sensor
 * messages, text/plain as std_msgs/String, "cbor;ros=T" as T; anything
 * else as ipcnet_msgs/msg/Cbor.  Never NULL. */
const ddsb_type *ddsb_type_for_encoding(const char *encoding);
/* The DDS type name of t ("sensor_msgs::msg::dds_::Image_"). */
const char *ddsb_type_dds_name(const ddsb_type *t);
/* Every type, for --list-types: *n set to the count. */
const ddsb_type *ddsb_types(size_t *n);

#endif

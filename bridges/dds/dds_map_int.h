/* SPDX-License-Identifier: MIT */
/* bridges/dds/dds_map_int.h - what dds_map.c and dds_map_sensor.c share. */
#ifndef IPCNET_BRIDGE_DDS_MAP_INT_H
#define IPCNET_BRIDGE_DDS_MAP_INT_H

#include "dds_map.h"
#include "ipcnet_sensor.h"
#include "ros2_msgs.h"

typedef int (*ddsb_enc_fn)(ipcn_cbor_writer *w, const void *arg);
/* fn's CBOR in a malloc'd buffer of the size it needs (two passes). */
int ddsb_encode_alloc(ddsb_enc_fn fn, const void *arg, uint8_t **out, size_t *len);
/* The header both ways: stamp ns <-> sec/nanosec; 301 for a stamp before
 * 1970, one after 2038 (sec beyond int32), or a frame id longer than
 * IPCNet's. */
int ddsb_header_to_dds(const ipcn_sensor_header *h,
                       struct std_msgs_msg_dds__Header_ *o, ddsb_arena *a);
int ddsb_header_from_dds(const struct std_msgs_msg_dds__Header_ *o,
                         ipcn_sensor_header *h);

/* The sensor messages (dds_map_sensor.c). */
#define DDSB_SENSOR(f)                                                       \
    int ddsb_##f##_to_dds(const void *buf, size_t len, const char *enc,     \
                          void *s, ddsb_arena *a);                          \
    int ddsb_##f##_to_ipcn(const void *s, uint8_t **out, size_t *len);
DDSB_SENSOR(image)
DDSB_SENSOR(caminfo)
DDSB_SENSOR(imu)
DDSB_SENSOR(joint)
DDSB_SENSOR(cloud)
#undef DDSB_SENSOR

#endif

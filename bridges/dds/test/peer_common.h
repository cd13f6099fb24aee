/* SPDX-License-Identifier: MIT */
/* bridges/dds/test/peer_common.h - what the two test peers agree on: the
 * frames ipcn_peer.c publishes and the Twist ros_peer.c sends.  No types
 * of either side: the two programs share only these numbers. */
#ifndef IPCNET_DDS_PEER_COMMON_H
#define IPCNET_DDS_PEER_COMMON_H

#include <stdint.h>

#define IMG_W 64u
#define IMG_H 48u

/* byte i of frame k's pixels */
static inline uint8_t pixel(unsigned k, uint32_t i)
{
    return (uint8_t)((i * 31u + k * 7u + (i >> 8)) & 0xffu);
}

static inline uint64_t frame_stamp(unsigned k)
{
    return 1700000000123456789ull + (uint64_t)k * 33333333u;
}

/* geometry_msgs/Twist: linear x y z, angular x y z; values whose every bit
 * must cross (a subnormal, a negative zero, pi, ...). */
static const double TWIST[6] = {0.5, -1.0 / 3.0, 4.9406564584124654e-324,
                                -0.0, 1e300, 3.141592653589793};

#endif

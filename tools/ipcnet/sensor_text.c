/* SPDX-License-Identifier: MIT */
/*
 * sensor_text.c — images and point clouds (ipcnet_sensor.h) as `echo`,
 * `query` and `call` print them: one line that says what they are (format,
 * size, frame, stamp, a hash of the pixels) instead of every pixel.  The
 * other sensor messages are small and print as the JSON of their map.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "ipcnet_sensor.h"
#include "util.h"

/* The sensor kind of enc (IPCN_SENSOR_NONE when none). */
static ipcn_sensor_kind kind_of(const char *enc)
{
    ipcn_sensor_kind k;
    return enc && ipcn_sensor_kind_of(enc, &k) == IPCN_OK ? k : IPCN_SENSOR_NONE;
}

bool sensor_text(sbuf *b, const char *enc, const void *data, size_t len)
{
    ipcn_sensor_kind k = kind_of(enc);
    char frame[4 * IPCN_SENSOR_FRAME_ID_MAX + 1];
    if (k == IPCN_SENSOR_IMAGE) {
        ipcn_image img;
        if (ipcn_image_decode(data, len, &img) != IPCN_OK)
            return false;
        escape_line(frame, sizeof frame, img.header.frame_id);
        sb_printf(b, "image %s %ux%u (%u x %s), frame \"%s\", stamp %" PRIu64 ".%09" PRIu64
                  "%s, pixels xxh3 %016llx", img.encoding, img.width, img.height,
                  img.channels, ipcn_dtype_name(img.pixels.dtype), frame,
                  img.header.stamp_ns / 1000000000u, img.header.stamp_ns % 1000000000u,
                  img.has_camera_info ? ", with camera_info" : "",
                  (unsigned long long)hash64(img.pixels.data, img.pixels.size));
        return true;
    }
    if (k == IPCN_SENSOR_POINTCLOUD) {
        ipcn_pointcloud pc;
        if (ipcn_pointcloud_decode(data, len, &pc) != IPCN_OK)
            return false;
        escape_line(frame, sizeof frame, pc.header.frame_id);
        sb_printf(b, "pointcloud %" PRIu64 " points (%ux%u, %u bytes each), fields ",
                  (uint64_t)pc.height * pc.width, pc.width, pc.height, pc.point_step);
        for (uint32_t i = 0; i < pc.nfields; i++)
            sb_printf(b, "%s%s:%s", i ? "," : "", pc.fields[i].name,
                      ipcn_dtype_name(pc.fields[i].datatype));
        sb_printf(b, ", frame \"%s\", stamp %" PRIu64 ".%09" PRIu64 ", xxh3 %016llx", frame,
                  pc.header.stamp_ns / 1000000000u, pc.header.stamp_ns % 1000000000u,
                  (unsigned long long)hash64(pc.data, pc.data_len));
        return true;
    }
    return false;
}

bool sensor_json(jw *w, const char *enc, const void *data, size_t len)
{
    ipcn_sensor_kind k = kind_of(enc);
    if (k == IPCN_SENSOR_IMAGE) {
        ipcn_image img;
        if (ipcn_image_decode(data, len, &img) != IPCN_OK)
            return false;
        jw_obj(w, "value");
        jw_uint(w, "stamp", img.header.stamp_ns);
        jw_str(w, "frame_id", img.header.frame_id);
        jw_str(w, "encoding", img.encoding);
        jw_uint(w, "height", img.height);
        jw_uint(w, "width", img.width);
        jw_uint(w, "channels", img.channels);
        jw_str(w, "dtype", ipcn_dtype_name(img.pixels.dtype));
        jw_bool(w, "camera_info", img.has_camera_info != 0);
        jw_hex64(w, "xxh3", hash64(img.pixels.data, img.pixels.size));
        jw_end_obj(w);
        return true;
    }
    if (k == IPCN_SENSOR_POINTCLOUD) {
        ipcn_pointcloud pc;
        if (ipcn_pointcloud_decode(data, len, &pc) != IPCN_OK)
            return false;
        jw_obj(w, "value");
        jw_uint(w, "stamp", pc.header.stamp_ns);
        jw_str(w, "frame_id", pc.header.frame_id);
        jw_uint(w, "height", pc.height);
        jw_uint(w, "width", pc.width);
        jw_uint(w, "point_step", pc.point_step);
        jw_arr(w, "fields");
        for (uint32_t i = 0; i < pc.nfields; i++)
            jw_str(w, NULL, pc.fields[i].name);
        jw_end_arr(w);
        jw_hex64(w, "xxh3", hash64(pc.data, pc.data_len));
        jw_end_obj(w);
        return true;
    }
    return false;
}

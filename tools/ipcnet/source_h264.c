/* SPDX-License-Identifier: MIT */
/*
 * source_h264.c — an H.264 Annex B stream read as access units (source.h):
 * the library's splitter, fed 64 KiB at a time; the stream's size and frame
 * rate come from the SPS of the first unit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"
#include "util.h"

#define CHUNK (64u << 10)

/* Feed the splitter until it gives a unit (100), the end (103), or fails
 * (the exit status, after saying why, in *rc). */
static int h264_next(const char *file, source *s, ipcn_media_au *au, int *rc)
{
    for (;;) {
        int st = ipcn_media_h264_next(s->split, au);
        if (st == IPCN_OK)
            return st;
        if (st != IPCN_NO_DATA) {
            ipcn_media_h264_stats hs = {.size = sizeof hs};
            ipcn_media_h264_get_stats(s->split, &hs);
            *rc = st == IPCN_INSUFFICIENT_STORAGE
                      ? cli_fail(st, "%s: the access unit at byte %" PRIu64
                                 " is over %zu bytes", file, hs.error_offset,
                                 (size_t)IPCN_MEDIA_H264_MAX_AU_DEFAULT)
                      : cli_fail(st, "%s is not an H.264 Annex B stream: no NAL unit "
                                 "at byte %" PRIu64, file, hs.error_offset);
            return st;
        }
        if (s->eof)
            return IPCN_NO_DATA;
        ssize_t n = read(s->fd, s->chunk, CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *rc = cli_fail(IPCN_INTERNAL_ERROR, "cannot read %s: %s", file, strerror(errno));
            return IPCN_INTERNAL_ERROR;
        }
        if (n == 0) {
            s->eof = 1;
            ipcn_media_h264_finish(s->split);
        } else if ((st = ipcn_media_h264_feed(s->split, s->chunk, (size_t)n)) != IPCN_OK) {
            *rc = cli_fail(st, "%s: cannot split the stream", file);
            return st;
        }
    }
}

int open_h264(cli *c, const char *file, source *s)
{
    int rc = 0, st;
    if ((st = ipcn_media_h264_new(0, &s->split)) != IPCN_OK)
        return cli_fail(st, "out of memory");
    s->chunk = xmalloc(CHUNK);
    ipcn_media_desc_init(&s->desc, IPCN_MEDIA_VIDEO);
    strcpy(s->desc.video.codec, "h264");
    st = h264_next(file, s, &s->pending, &rc);
    if (st == IPCN_NO_DATA)
        return cli_fail(IPCN_BAD_REQUEST, "%s holds no H.264 access unit", file);
    if (st != IPCN_OK)
        return rc;
    s->have_pending = 1;
    ipcn_media_h264_sps sps;
    st = ipcn_media_h264_find_sps(s->pending.data, s->pending.len, &sps);
    if (st == IPCN_OK) {
        s->desc.video.width = sps.width;
        s->desc.video.height = sps.height;
        s->desc.video.fps_num = sps.fps_num;
        s->desc.video.fps_den = sps.fps_den;
    } else {
        cli_warn("%s does not start with a readable SPS: size and frame rate unknown", file);
    }
    (void)c;
    return 0;
}

/* The next access unit (the first was read at open, to find the SPS). */
int next_h264(const char *file, source *s, const uint8_t **data, size_t *len,
              int *rc)
{
    ipcn_media_au au;
    int st;
    if (s->have_pending) {
        au = s->pending;
        s->have_pending = 0;
        st = IPCN_OK;
    } else {
        st = h264_next(file, s, &au, rc);
    }
    if (st == IPCN_OK) {
        *data = au.data;
        *len = au.len;
    }
    return st;
}

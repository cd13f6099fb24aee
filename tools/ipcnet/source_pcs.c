/* SPDX-License-Identifier: MIT */
/*
 * source_pcs.c — an IPCNet point-cloud sweep file (.pcs) read as one sample
 * per sweep (source.h); every sweep is checked when the file is opened.
 */
#include <inttypes.h>
#include <stdint.h>

#include "source.h"

int open_pcs(cli *c, const char *file, source *s)
{
    s->desc.size = sizeof s->desc;
    int st = ipcn_media_pcs_header(s->map, s->size, &s->desc);
    if (st != IPCN_OK)
        return cli_fail(st, "%s: not a valid .pcs header", file);
    /* Check every sweep first, and see whether they all hold as many. */
    size_t pos = IPCN_MEDIA_PCS_HEADER, bytes;
    const uint8_t *pts;
    uint32_t count, first = 0;
    uint64_t n = 0;
    int same = 1;
    while ((st = ipcn_media_pcs_next(s->map, s->size, &pos, &pts, &bytes, &count)) == IPCN_OK) {
        if (n++ == 0)
            first = count;
        else if (count != first)
            same = 0;
    }
    if (st != IPCN_NO_DATA)
        return cli_fail(st, "%s: sweep %" PRIu64 " at byte %zu is malformed", file,
                        n + 1, pos);
    s->desc.samples = n;
    s->desc.pointcloud.points_per_sample = same && n ? first : 0;
    s->pos = IPCN_MEDIA_PCS_HEADER;
    (void)c;
    return 0;
}

/* The next sweep. */
int next_pcs(const char *file, source *s, const uint8_t **data, size_t *len,
             int *rc)
{
    uint32_t count;
    int st = ipcn_media_pcs_next(s->map, s->size, &s->pos, data, len, &count);
    if (st != IPCN_OK && st != IPCN_NO_DATA)
        *rc = cli_fail(st, "%s: malformed sweep", file);
    return st;
}

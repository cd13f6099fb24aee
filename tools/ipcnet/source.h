/* SPDX-License-Identifier: MIT */
/*
 * source.h — a media file read as the samples of a stream, for
 * `ipcnet stream-send` (cmd_media.c): one reader per format, each in a file
 * of its own (source_h264.c, source_wav.c, source_pcs.c).  A reader's open_X
 * fills the stream's description from the file (cmd_media.c has opened it
 * and, for WAV and .pcs, mapped it whole); its next_X gives the samples one
 * by one: 100 with *data, *len (valid until the next call), 103 at the end,
 * anything else failed, with the exit status in *rc after saying why.
 */
#ifndef IPCNET_CLI_SOURCE_H
#define IPCNET_CLI_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "ipcnet_media.h"

enum src_kind { SRC_H264, SRC_WAV, SRC_PCS };

typedef struct source {
    enum src_kind kind;
    ipcn_media_desc desc;
    int fd;
    const uint8_t *map;       /* WAV, .pcs: the whole file */
    size_t size;
    /* H.264 */
    ipcn_media_h264 *split;
    uint8_t *chunk;
    int eof;
    int have_pending;         /* the first unit, read to find the SPS */
    ipcn_media_au pending;
    /* WAV: data range and packet size; .pcs: the next sweep */
    size_t pos, end, packet;
} source;

int open_h264(cli *c, const char *file, source *s);
int next_h264(const char *file, source *s, const uint8_t **data, size_t *len,
              int *rc);

int open_wav(cli *c, const char *file, source *s);
int next_wav(source *s, const uint8_t **data, size_t *len);

int open_pcs(cli *c, const char *file, source *s);
int next_pcs(const char *file, source *s, const uint8_t **data, size_t *len,
             int *rc);

#endif

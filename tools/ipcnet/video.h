/* SPDX-License-Identifier: MIT */
/* video.h — the images of an image stream (ipcnet_sensor.h) written as a
 * video file by an ffmpeg process that reads raw frames on a pipe
 * (video.c; `ipcnet stream-recv`). */
#ifndef IPCNET_CLI_VIDEO_H
#define IPCNET_CLI_VIDEO_H

#include <stdint.h>

#include "ipcnet_sensor.h"

typedef struct video_out video_out;

/* ffmpeg's name of the raw pixel format of img ("rgb24", "gray16le"...),
 * or NULL when ffmpeg has none for it. */
const char *video_pix_fmt(const ipcn_image *img);

/* Start `ffmpeg` (looked up in PATH) writing the file path (its container
 * and codec chosen by ffmpeg from the name) from raw frames of img's size
 * and pixel format at rate frames per second.  Returns 0 with *out, or the
 * exit status after saying why (203 when ffmpeg is not installed, 301 for
 * a pixel format ffmpeg cannot take). */
int video_open(video_out **out, const char *path, const ipcn_image *img, double rate);

/* Write one image: 0 written; -1 when it is not of the video's size and
 * pixel format (said on stderr, not written); else the exit status after
 * saying why (ffmpeg stopped). */
int video_write(video_out *v, const ipcn_image *img);

/* One sample m of an image stream: decoded and written into *v, which is
 * opened (ffmpeg started) with the first image; what (whatlen bytes) then
 * says what the video is ("images 640x480 rgb8, 30 fps").  0 written; -1
 * when it is not an image, or not of the video's size and pixel format
 * (said on stderr, not written); else the exit status after saying why. */
int video_sample(video_out **v, const char *path, double rate, const ipcn_msg *m, char *what,
                 size_t whatlen);

/* Close the pipe and wait for ffmpeg (NULL: nothing).  Returns 0 when it
 * wrote the file, else the exit status after saying why.  *frames: frames
 * written. */
int video_close(video_out *v, uint64_t *frames);

#endif

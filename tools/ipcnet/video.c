/* SPDX-License-Identifier: MIT */
/*
 * video.c — an image stream written as a video: each image's pixels, in
 * rows, piped as a raw frame into an ffmpeg process that encodes them into
 * the file asked for (container and codec by the file's name).  ffmpeg is
 * a separate program, found in PATH: without it, a clear error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"
#include "video.h"

struct video_out {
    pid_t pid;
    int fd;                     /* ffmpeg's stdin */
    char encoding[IPCN_IMAGE_ENCODING_MAX + 1];
    uint32_t width, height;
    int big;                    /* multi-byte elements, big endian */
    size_t frame_bytes;
    uint64_t frames;
    const char *path;
};

static int big_endian(const ipcn_image *img)
{
    return ipcn_dtype_size(img->pixels.dtype) > 1 && img->pixels.order == IPCN_ORDER_BIG;
}

const char *video_pix_fmt(const ipcn_image *img)
{
    static const struct {
        const char *enc, *le, *be;
    } map[] = {
        {"rgb8", "rgb24", NULL},           {"bgr8", "bgr24", NULL},
        {"rgba8", "rgba", NULL},           {"bgra8", "bgra", NULL},
        {"mono8", "gray", NULL},           {"8UC1", "gray", NULL},
        {"8UC3", "bgr24", NULL},           {"8UC4", "bgra", NULL},
        {"mono16", "gray16le", "gray16be"}, {"16UC1", "gray16le", "gray16be"},
        {"rgb16", "rgb48le", "rgb48be"},   {"bgr16", "bgr48le", "bgr48be"},
        {"rgba16", "rgba64le", "rgba64be"}, {"bgra16", "bgra64le", "bgra64be"},
        {"32FC1", "grayf32le", "grayf32be"},
        {"bayer_rggb8", "bayer_rggb8", NULL}, {"bayer_bggr8", "bayer_bggr8", NULL},
        {"bayer_gbrg8", "bayer_gbrg8", NULL}, {"bayer_grbg8", "bayer_grbg8", NULL},
        {"bayer_rggb16", "bayer_rggb16le", "bayer_rggb16be"},
        {"bayer_bggr16", "bayer_bggr16le", "bayer_bggr16be"},
        {"bayer_gbrg16", "bayer_gbrg16le", "bayer_gbrg16be"},
        {"bayer_grbg16", "bayer_grbg16le", "bayer_grbg16be"},
        {"yuv422", "uyvy422", NULL},       {"yuv422_yuy2", "yuyv422", NULL},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(img->encoding, map[i].enc))
            return big_endian(img) ? map[i].be : map[i].le;
    return NULL;
}

int video_open(video_out **out, const char *path, const ipcn_image *img, double rate)
{
    const char *fmt = video_pix_fmt(img);
    if (!fmt)
        return cli_fail(IPCN_NOT_IMPLEMENTED, "ffmpeg takes no raw video of pixel format %s%s",
                        img->encoding, big_endian(img) ? " (big endian)" : "");
    char size[32], fps[32];
    snprintf(size, sizeof size, "%ux%u", img->width, img->height);
    snprintf(fps, sizeof fps, "%.9g", rate);
    char *argv[] = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-f", "rawvideo", "-pix_fmt", (char *)fmt, "-video_size", size,
                    "-framerate", fps, "-i", "pipe:0", "-an", (char *)path, NULL};
    /* ffmpeg reads p[0]; err tells the parent why exec failed (it closes
     * unread when exec succeeds). */
    int p[2], err[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return cli_fail(IPCN_INTERNAL_ERROR, "pipe: %s", strerror(errno));
    if (pipe2(err, O_CLOEXEC) < 0) {
        close(p[0]);
        close(p[1]);
        return cli_fail(IPCN_INTERNAL_ERROR, "pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (dup2(p[0], STDIN_FILENO) < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0)
            _exit(127);
        signal(SIGPIPE, SIG_DFL); /* the tool ignores it */
        execvp("ffmpeg", argv);
        int e = errno;
        ssize_t unused = write(err[1], &e, sizeof e);
        (void)unused;
        _exit(127);
    }
    int e = pid < 0 ? errno : 0;
    close(p[0]);
    close(err[1]);
    if (pid > 0) {
        ssize_t n;
        while ((n = read(err[0], &e, sizeof e)) < 0 && errno == EINTR)
            ;
        if (n != (ssize_t)sizeof e)
            e = 0; /* exec succeeded: the pipe closed empty */
        else
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
    }
    close(err[0]);
    if (e) {
        close(p[1]);
        if (e == ENOENT)
            return cli_fail(IPCN_NOT_FOUND, "ffmpeg is not installed (or not in PATH): it "
                            "writes an image stream as %s (Debian: apt-get install ffmpeg)",
                            path);
        return cli_fail(IPCN_INTERNAL_ERROR, "cannot start ffmpeg: %s", strerror(e));
    }
    video_out *v = xcalloc(1, sizeof *v);
    v->pid = pid;
    v->fd = p[1];
    snprintf(v->encoding, sizeof v->encoding, "%s", img->encoding);
    v->width = img->width;
    v->height = img->height;
    v->big = big_endian(img);
    v->frame_bytes = img->pixels.size;
    v->path = path;
    *out = v;
    return 0;
}

static int wait_ffmpeg(video_out *v)
{
    int ws;
    while (waitpid(v->pid, &ws, 0) < 0)
        if (errno != EINTR)
            return cli_fail(IPCN_INTERNAL_ERROR, "waitpid ffmpeg: %s", strerror(errno));
    v->pid = 0;
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
        return 0;
    if (WIFEXITED(ws))
        return cli_fail(IPCN_BAD_GATEWAY, "ffmpeg could not write %s: exit status %d (its "
                        "reason is above)", v->path, WEXITSTATUS(ws));
    return cli_fail(IPCN_BAD_GATEWAY, "ffmpeg died of signal %d writing %s", WTERMSIG(ws),
                    v->path);
}

int video_write(video_out *v, const ipcn_image *img)
{
    if (strcmp(img->encoding, v->encoding) != 0 || img->width != v->width ||
        img->height != v->height || big_endian(img) != v->big ||
        img->pixels.size != v->frame_bytes) {
        cli_warn("an image of %ux%u %s in a video of %ux%u %s: not written", img->width,
                 img->height, img->encoding, v->width, v->height, v->encoding);
        return -1;
    }
    /* Decoded pixels are row-major and packed: the frame as it is. */
    const uint8_t *p = img->pixels.data;
    size_t n = v->frame_bytes;
    while (n) {
        ssize_t w = write(v->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(v->fd);
            v->fd = -1;
            int rc = wait_ffmpeg(v);
            return rc ? rc : cli_fail(IPCN_BAD_GATEWAY, "writing to ffmpeg: %s", strerror(e));
        }
        p += w;
        n -= (size_t)w;
    }
    v->frames++;
    return 0;
}

int video_close(video_out *v, uint64_t *frames)
{
    if (!v)
        return 0;
    if (frames)
        *frames = v->frames;
    if (v->fd >= 0)
        close(v->fd);
    int rc = v->pid ? wait_ffmpeg(v) : 0;
    free(v);
    return rc;
}

int video_sample(video_out **v, const char *path, double rate, const ipcn_msg *m, char *what,
                 size_t whatlen)
{
    ipcn_image img;
    int st = ipcn_image_decode(m->data, m->len, &img), rc;
    if (st != IPCN_OK) {
        cli_warn("sample %llu is not an image (%d %s): not written", (unsigned long long)m->seq,
                 st, ipcn_status_str(st));
        return -1;
    }
    if (!*v) {
        if ((rc = video_open(v, path, &img, rate)))
            return rc;
        snprintf(what, whatlen, "images %ux%u %s, %.6g fps", img.width, img.height,
                 img.encoding, rate);
    }
    return video_write(*v, &img);
}

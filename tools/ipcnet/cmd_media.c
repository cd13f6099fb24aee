/* SPDX-License-Identifier: MIT */
/*
 * cmd_media.c — media streams: `stream-send FILE PATH` cuts a file into
 * samples (H.264 access units, 20 ms of PCM, point-cloud sweeps) and
 * publishes them with the stream's encoding and metadata, then an empty
 * sample that ends the stream; `stream-recv PATH OUT` writes them back to
 * a playable file and reports every sample missing by sequence number.
 * How a stream is laid out is in docs/protocol.md, "Media streams".  The
 * file readers, one per format, are source_*.c (source.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ipcnet_media.h"
#include "source.h"
#include "util.h"
#include "video.h"

const char cmd_stream_send_help[] =
    "usage: ipcnet stream-send FILE PATH [--rate realtime|max] [--wait-subs N] [options]\n\n"
    "Announce a media stream at PATH and publish FILE on it, one sample per\n"
    "H.264 access unit, per 20 ms of audio or per point-cloud sweep, then an\n"
    "empty sample that ends the stream; then wait until the subscribers have\n"
    "left (at most 2 s after the last byte went out) and withdraw PATH.\n"
    "FILE is told by its content: an H.264 Annex B stream (.h264), a WAV file\n"
    "(PCM or float), or an IPCNet point-cloud sweep file (.pcs).  The encoding\n"
    "and metadata announced describe it (see 'ipcnet info PATH').\n\n"
    "  --rate MODE     realtime: each sample when its time comes (default);\n"
    "                  max: as fast as the subscribers take them\n"
    "  --wait-subs N   wait for N subscribers before the first sample (default\n"
    "                  1; 0: do not wait)\n"
    "  --timeout MS    give up (304) when they did not come in MS ms\n"
    "                  (default: wait until Ctrl-C)\n"
    "  --json          a line per sample (seq, bytes, pts_ns, xxh3) and a summary\n";

const char cmd_stream_recv_help[] =
    "usage: ipcnet stream-recv PATH OUT [--timeout MS] [--queue N] [options]\n\n"
    "Subscribe to the media stream at PATH and write its samples to OUT ('-':\n"
    "stdout) until the sample that ends the stream: H.264 as the Annex B\n"
    "stream it is, audio as a WAV file (its header rebuilt from the stream's\n"
    "encoding and metadata), point clouds as a .pcs file, raw video and other\n"
    "point clouds as the samples end to end.  Then report the samples and\n"
    "bytes received and the gaps: samples missing by sequence number (lost on\n"
    "the way or dropped from a full queue).  Exits 0 only when the whole\n"
    "stream came, with no gap.\n\n"
    "An image stream (encoding cbor;sensor=image, docs/protocol.md \"Sensor\n"
    "messages\") is written as a video by ffmpeg, which must be installed: OUT's\n"
    "name chooses the container and codec (out.mkv, out.mp4, out.avi...), every\n"
    "image must have the size and pixel format of the first.  It ends at the\n"
    "stream's end marker, after --count images, or when its publisher leaves;\n"
    "images published before this tool subscribed are not gaps.\n\n"
    "  --count N       images: stop after N\n"
    "  --rate HZ       images: the video's frame rate (default 30)\n"
    "  --timeout MS    fail (304) after MS ms without a sample (default 10000)\n"
    "  --queue N       samples held for this tool before the oldest is dropped\n"
    "                  (default 1024)\n"
    "  --delay MS      wait MS ms after each sample: a slow consumer (for tests)\n"
    "  --json          a line per sample (seq, bytes, pts_ns, xxh3) and a summary\n";

/* A whole number option from TEXT, or the exit status after saying why. */
static int num_opt(cli *c, const char *name, const char *text, long long min,
                   long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return cli_usage_error(c->verb, "%s takes a whole number from %lld to %lld, not '%s'",
                               name, min, max, text);
    *out = v;
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !cli_stop)
        ;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static void describe(sbuf *b, const ipcn_media_desc *d)
{
    switch (d->kind) {
    case IPCN_MEDIA_VIDEO:
        sb_printf(b, "video %s", d->video.codec);
        if (d->video.width)
            sb_printf(b, " %ux%u", d->video.width, d->video.height);
        if (d->video.fps_num)
            sb_printf(b, " %.6g fps", (double)d->video.fps_num / d->video.fps_den);
        break;
    case IPCN_MEDIA_AUDIO:
        sb_printf(b, "audio %s %u Hz %u ch", ipcn_media_pcm_name(d->audio.format),
                  d->audio.rate, d->audio.channels);
        break;
    default:
        sb_printf(b, "point cloud %s %s", d->pointcloud.fields,
                  ipcn_dtype_name(d->pointcloud.dtype));
        if (d->pointcloud.points_per_sample)
            sb_printf(b, " %u points", d->pointcloud.points_per_sample);
        break;
    }
}

/* ================================================================== */
/* stream-send                                                          */
/* ================================================================== */

static int source_open(cli *c, const char *file, source *s)
{
    s->fd = open(file, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return cli_fail(errno == ENOENT ? IPCN_NOT_FOUND : IPCN_FORBIDDEN,
                        "cannot open %s: %s", file, strerror(errno));
    uint8_t head[16] = {0};
    ssize_t hn = pread(s->fd, head, sizeof head, 0);
    struct stat st;
    if (hn < 0 || fstat(s->fd, &st) < 0)
        return cli_fail(IPCN_INTERNAL_ERROR, "cannot read %s: %s", file, strerror(errno));
    int wav = hn >= 12 && !memcmp(head, "RIFF", 4) && !memcmp(head + 8, "WAVE", 4);
    int pcs = hn >= 8 && !memcmp(head, IPCN_MEDIA_PCS_MAGIC, 8);
    if (!wav && !pcs) {
        s->kind = SRC_H264; /* the splitter says whether it is one */
        return open_h264(c, file, s);
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
        return cli_fail(IPCN_BAD_REQUEST, "%s is not a regular file", file);
    s->size = (size_t)st.st_size;
    void *m = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, s->fd, 0);
    if (m == MAP_FAILED)
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "cannot map %s: %s", file, strerror(errno));
    s->map = m;
    s->kind = wav ? SRC_WAV : SRC_PCS;
    return wav ? open_wav(c, file, s) : open_pcs(c, file, s);
}

static void source_close(source *s)
{
    if (s->map)
        munmap((void *)s->map, s->size);
    if (s->fd >= 0)
        close(s->fd);
    ipcn_media_h264_free(s->split);
    free(s->chunk);
}

/* The next sample: 100 with *data, *len (valid until the next call); 103
 * at the end; anything else failed, with the exit status in *rc. */
static int source_next(const char *file, source *s, const uint8_t **data,
                       size_t *len, int *rc)
{
    switch (s->kind) {
    case SRC_H264:
        return next_h264(file, s, data, len, rc);
    case SRC_WAV:
        return next_wav(s, data, len);
    default:
        return next_pcs(file, s, data, len, rc);
    }
}

/* Distinct other nodes that subscribe to path. */
static unsigned count_subscribers(cli *c, const char *path)
{
    ipcn_subscription_list *sl = NULL;
    if (ipcn_subscriptions(c->node, &sl) != IPCN_OK)
        return 0;
    unsigned k = 0;
    uint64_t self = ipcn_node_id(c->node);
    for (size_t i = 0; i < sl->count; i++) {
        const ipcn_subscription *s = &sl->items[i];
        if (s->node_id == self || !ipcn_pattern_match(s->pattern, path))
            continue;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (sl->items[j].node_id == s->node_id &&
                ipcn_pattern_match(sl->items[j].pattern, path))
                seen = 1;
        k += !seen;
    }
    ipcn_subscription_list_free(sl);
    return k;
}

static uint64_t bytes_out(cli *c)
{
    ipcn_node_stats st = {.size = sizeof st};
    return ipcn_node_get_stats(c->node, &st) == IPCN_OK ? st.bytes_out : 0;
}

static uint64_t node_drops(cli *c)
{
    ipcn_node_stats st = {.size = sizeof st};
    return ipcn_node_get_stats(c->node, &st) == IPCN_OK ? st.drops : 0;
}

/* Large samples go through the stream's shared-memory pool.  A file
 * sender loses nothing: with IPCN_POOL_REFUSE a full pool sends over the
 * socket instead, and before each large sample it waits (at most 2 s)
 * while readers hold half the slots, so that none reaches its share of
 * the pool (a reader at its share misses samples). */
#define POOL_SLOTS 16

static void pool_setup(cli *c, const char *path)
{
    ipcn_pool_opts o;
    ipcn_pool_opts_init(&o);
    o.slots = POOL_SLOTS;
    o.policy = IPCN_POOL_REFUSE;
    int st = ipcn_pool_config(c->node, path, &o);
    if (st != IPCN_OK)
        cli_warn("cannot set up the shared-memory pool of %s: %d %s", path, st,
                 ipcn_status_str(st));
}

static void pool_wait(cli *c, const char *path, size_t len)
{
    if (len < IPCN_SHM_THRESHOLD)
        return;
    uint64_t give_up = now_mono_ns() + 2000000000ull;
    ipcn_pool_stats ps = {.size = sizeof ps};
    while (!cli_stop && ipcn_pool_get_stats(c->node, path, &ps) == IPCN_OK &&
           ps.slots && ps.held >= ps.slots / 2 && now_mono_ns() < give_up)
        cli_pump(c, 5, NULL, 0);
}

static void sample_json(const char *event, uint64_t seq, const void *data,
                        size_t len, int have_pts, uint64_t pts,
                        const ipcn_msg *m)
{
    jw j = {0};
    jw_obj(&j, NULL);
    jw_str(&j, "event", event);
    jw_uint(&j, "seq", seq);
    jw_uint(&j, "bytes", len);
    if (have_pts)
        jw_uint(&j, "pts_ns", pts);
    if (m) {
        jw_uint(&j, "timestamp_ns", m->timestamp_ns);
        jw_bool(&j, "shared", (m->flags & IPCN_MSG_SHARED) != 0);
    }
    jw_hex64(&j, "xxh3", hash64(data, len));
    jw_end_obj(&j);
    emit(&j);
}

int cmd_stream_send(cli *c)
{
    const char *file = c->pos[0], *path = c->pos[1];
    int realtime = 1;
    long long wait_subs = 1;
    int rc;
    if (c->rate_mode) {
        if (!strcmp(c->rate_mode, "max"))
            realtime = 0;
        else if (strcmp(c->rate_mode, "realtime") != 0)
            return cli_usage_error(c->verb, "--rate takes realtime or max, not '%s'",
                                   c->rate_mode);
    }
    if (c->wait_subs && (rc = num_opt(c, "--wait-subs", c->wait_subs, 0, 1000, &wait_subs)))
        return rc;
    source s = {.fd = -1};
    char enc[IPCN_ENCODING_MAX_LEN + 1];
    uint8_t meta[1024];
    size_t meta_len = 0;
    if ((rc = source_open(c, file, &s)))
        goto done;
    int st = ipcn_media_encoding(&s.desc, enc, sizeof enc);
    if (st == IPCN_OK)
        st = ipcn_media_meta_encode(&s.desc, meta, sizeof meta, &meta_len);
    if (st != IPCN_OK) {
        rc = cli_fail(st, "%s: cannot describe the stream", file);
        goto done;
    }
    uint64_t probe;
    if (realtime && ipcn_media_pts_ns(&s.desc, 2, &probe) != IPCN_OK) {
        cli_warn("%s does not say its frame rate: sending as fast as possible", file);
        realtime = 0;
    }
    cli_catch_signals();
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)) || cli_stop)
        goto done;
    st = ipcn_announce(c->node, path, IPCN_STREAM, enc, meta, meta_len);
    if (!IPCN_IS_OK(st)) {
        rc = cli_fail(st, st == IPCN_CONFLICT ? "another node already provides %s"
                                              : "cannot announce %s", path);
        goto done;
    }
    pool_setup(c, path);
    sbuf what = {0};
    describe(&what, &s.desc);
    ipcn_node_ready(c->node); /* its peers (a supervisor) are told too */
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "ready");
        jw_str(&j, "path", path);
        jw_str(&j, "encoding", enc);
        jw_str(&j, "media", what.p);
        jw_str(&j, "node", c->node_name);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("streaming %s (%s) on %s as node %s; waiting for %lld subscriber%s\n", file,
            what.p, path, c->node_name, wait_subs, wait_subs == 1 ? "" : "s");
        out_flush();
    }
    sb_free(&what);

    /* Subscribers first. */
    uint64_t deadline = c->timeout_ms > 0 ? now_mono_ns() + (uint64_t)c->timeout_ms * 1000000ull
                                          : 0;
    while (!cli_stop && count_subscribers(c, path) < wait_subs) {
        if (deadline && now_mono_ns() >= deadline) {
            rc = cli_fail(IPCN_GATEWAY_TIMEOUT, "%u of %lld subscribers of %s came in %d ms",
                          count_subscribers(c, path), wait_subs, path, c->timeout_ms);
            goto done;
        }
        cli_pump(c, 20, NULL, 0);
    }

    uint64_t seq = 0, bytes = 0, t0 = now_mono_ns(), drops0 = node_drops(c);
    const uint8_t *data;
    size_t len;
    while (!cli_stop && (st = source_next(file, &s, &data, &len, &rc)) == IPCN_OK) {
        uint64_t pts = 0;
        int have_pts = ipcn_media_pts_ns(&s.desc, seq + 1, &pts) == IPCN_OK;
        if (realtime) {
            for (uint64_t now; !cli_stop && (now = now_mono_ns()) < t0 + pts;) {
                uint64_t ms = (t0 + pts - now + 999999) / 1000000;
                cli_pump(c, ms > 100 ? 100 : (int)ms, NULL, 0);
            }
        }
        pool_wait(c, path, len);
        st = ipcn_publish(c->node, path, data, len);
        if (st != IPCN_OK) {
            rc = cli_fail(st, st == IPCN_BAD_REQUEST ? "sample %" PRIu64 " (%zu bytes) is "
                          "too large for a frame" : "cannot publish sample %" PRIu64,
                          seq + 1, len);
            goto done;
        }
        seq++;
        bytes += len;
        if (c->json)
            sample_json("sample", seq, data, len, have_pts, pts, NULL);
        cli_pump(c, 0, NULL, 0);
    }
    if (rc)
        goto done;
    if (cli_stop) {
        rc = cli_fail(IPCN_SERVICE_UNAVAILABLE, "interrupted after %" PRIu64 " samples", seq);
        goto done;
    }
    /* The end: an empty sample; its sequence number tells how many came
     * before it. */
    if ((st = ipcn_publish(c->node, path, "", 0)) != IPCN_OK) {
        rc = cli_fail(st, "cannot publish the end of %s", path);
        goto done;
    }
    /* Let the subscribers take it all: until they have left, or nothing
     * went out for 2 s. */
    uint64_t last_out = bytes_out(c), moved = now_mono_ns();
    while (!cli_stop && count_subscribers(c, path) > 0) {
        uint64_t b = bytes_out(c), now = now_mono_ns();
        if (b != last_out) {
            last_out = b;
            moved = now;
        } else if (now - moved > 2000000000ull) {
            break;
        }
        cli_pump(c, 20, NULL, 0);
    }
    uint64_t drops = node_drops(c) - drops0;
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "end");
        jw_str(&j, "path", path);
        jw_uint(&j, "samples", seq);
        jw_uint(&j, "bytes", bytes);
        jw_uint(&j, "end_seq", seq + 1);
        jw_uint(&j, "drops", drops);
        jw_end_obj(&j);
        emit(&j);
    } else {
        char b[32];
        fmt_bytes(b, sizeof b, (double)bytes);
        out("sent %" PRIu64 " samples (%" PRIu64 " bytes, %s) and the end of %s", seq, bytes,
            b, path);
        if (drops)
            out("; %" PRIu64 " samples not sent to a saturated subscriber", drops);
        out("\n");
        out_flush();
    }
done:
    cli_close(c);
    source_close(&s);
    return rc;
}

/* ================================================================== */
/* stream-recv                                                          */
/* ================================================================== */

typedef enum out_kind { OUT_RAW, OUT_WAV, OUT_PCS } out_kind;

typedef struct recv_state {
    cli *c;
    const char *path, *out_path;
    int fd;
    out_kind kind;
    int started;
    ipcn_media_desc desc;
    char encoding[IPCN_ENCODING_MAX_LEN + 1];
    uint64_t provider;
    char provider_name[80];
    ipcn_media_wav wav;        /* OUT_WAV: the header's format */
    size_t wav_hdr;            /* its length */
    uint64_t unit;             /* sample size: a multiple of, or exactly */
    int exact;
    /* counts */
    uint64_t samples, bytes, next_seq, lost, gaps, bad, corrupt;
    uint64_t gap_from[16], gap_to[16];
    uint64_t end_seq;          /* the end marker's seq, 0 before it */
    int withdrawn;
    /* an image stream: a video */
    int image;
    video_out *video;
    double fps;                /* --rate */
    char image_what[96];       /* "images 640x480 rgb8, 30 fps" */
} recv_state;

static int out_write(recv_state *r, const void *p, size_t n)
{
    if (write_all(r->fd, p, n) < 0)
        return cli_fail(IPCN_INSUFFICIENT_STORAGE, "cannot write %s: %s", r->out_path,
                        strerror(errno));
    return 0;
}

/* The first sample: what the stream is, and the file's header. */
static int recv_start(recv_state *r, const ipcn_msg *m)
{
    cli *c = r->c;
    snprintf(r->encoding, sizeof r->encoding, "%s", m->encoding);
    r->provider = m->src_id;
    snprintf(r->provider_name, sizeof r->provider_name, "%s", m->src_name);
    ipcn_sensor_kind kind;
    if (ipcn_sensor_kind_of(m->encoding, &kind) == IPCN_OK && kind == IPCN_SENSOR_IMAGE) {
        if (!strcmp(r->out_path, "-"))
            return cli_fail(IPCN_BAD_REQUEST, "%s is an image stream: OUT must be a video "
                            "file's name (out.mkv, out.mp4...), not '-'", r->path);
        r->image = 1;
        r->started = 1;
        return 0; /* ffmpeg is started with the first image */
    }
    const void *meta = NULL;
    size_t meta_len = 0;
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(c->node, r->path, IPCN_STREAM, &rl) == IPCN_OK)
        for (size_t i = 0; i < rl->count; i++)
            if (rl->items[i].provider_id == m->src_id) {
                meta = rl->items[i].meta;
                meta_len = rl->items[i].meta_len;
            }
    r->desc.size = sizeof r->desc;
    int st = ipcn_media_desc_decode(m->encoding, meta, meta_len, &r->desc);
    ipcn_resource_list_free(rl);
    if (st == IPCN_NOT_FOUND)
        return cli_fail(IPCN_BAD_REQUEST, "%s is not a media stream (encoding '%s')",
                        r->path, m->encoding);
    if (st != IPCN_OK)
        return cli_fail(st, "%s: cannot read the stream's description (encoding '%s')",
                        r->path, m->encoding);
    if (ipcn_media_sample_bytes(&r->desc, &r->unit, &r->exact) != IPCN_OK)
        r->unit = 0;
    if (!strcmp(r->out_path, "-"))
        r->fd = STDOUT_FILENO;
    else
        r->fd = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r->fd < 0)
        return cli_fail(IPCN_FORBIDDEN, "cannot create %s: %s", r->out_path, strerror(errno));
    r->started = 1;
    const ipcn_media_desc *d = &r->desc;
    if (d->kind == IPCN_MEDIA_AUDIO) {
        r->kind = OUT_WAV;
        memset(&r->wav, 0, sizeof r->wav);
        r->wav.format = d->audio.format;
        r->wav.rate = d->audio.rate;
        r->wav.channels = d->audio.channels;
        r->wav.valid_bits = d->audio.valid_bits;
        r->wav.channel_mask = d->audio.channel_mask;
        r->wav.format_tag = d->audio.wav_format_tag;
        r->wav.fmt_size = d->audio.wav_fmt_size;
        r->wav.has_fact = d->audio.wav_fact;
        uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
        st = ipcn_media_wav_header(&r->wav, IPCN_MEDIA_WAV_UNKNOWN_SIZE, hdr, sizeof hdr,
                                   &r->wav_hdr);
        if (st != IPCN_OK)
            return cli_fail(st, "%s: no WAV header can hold this format", r->path);
        return out_write(r, hdr, r->wav_hdr);
    }
    if (d->kind == IPCN_MEDIA_POINTCLOUD && !strcmp(d->pointcloud.fields, "x,y,z,intensity") &&
        d->pointcloud.dtype == IPCN_DTYPE_FLOAT32) {
        r->kind = OUT_PCS;
        uint8_t hdr[IPCN_MEDIA_PCS_HEADER];
        ipcn_media_pcs_write_header(hdr, d->pointcloud.rate_num, d->pointcloud.rate_den);
        return out_write(r, hdr, sizeof hdr);
    }
    r->kind = OUT_RAW;
    return 0;
}

/* One image of an image stream, into the video (video.c); one it could
 * not write is counted as bad. */
static int recv_image(recv_state *r, const ipcn_msg *m)
{
    if (r->c->json)
        sample_json("sample", m->seq, m->data, m->len, 0, 0, m);
    int rc = video_sample(&r->video, r->out_path, r->fps, m, r->image_what,
                          sizeof r->image_what);
    if (rc < 0)
        r->bad++;
    else if (rc == 0) {
        r->samples++;
        r->bytes += m->len;
    }
    return rc < 0 ? 0 : rc;
}

/* One sample (or the end marker). */
static int recv_sample(recv_state *r, const ipcn_msg *m)
{
    int rc;
    if (!r->started && (rc = recv_start(r, m)))
        return rc;
    if (m->src_id != r->provider) {
        r->bad++;
        cli_warn("sample %" PRIu64 " came from another provider (%s): ignored", m->seq,
                 m->src_name);
        return 0;
    }
    if (m->seq < r->next_seq || m->seq == 0) {
        r->bad++;
        cli_warn("sample %" PRIu64 " came after %" PRIu64 ": ignored", m->seq,
                 r->next_seq - 1);
        return 0;
    }
    /* Images published before we subscribed are no gap. */
    uint64_t expect = r->next_seq ? r->next_seq : r->image ? m->seq : 1;
    if (m->seq > expect) {
        if (r->gaps < 16) {
            r->gap_from[r->gaps] = expect;
            r->gap_to[r->gaps] = m->seq - 1;
        }
        r->gaps++;
        r->lost += m->seq - expect;
    }
    r->next_seq = m->seq + 1;
    /* A shared-memory sample is checked against its publisher's checksum
     * (103: the publisher took none). */
    if ((m->flags & IPCN_MSG_SHARED) && ipcn_msg_verify(m) == IPCN_BAD_GATEWAY) {
        r->corrupt++;
        cli_warn("sample %" PRIu64 " changed after it was published: not written", m->seq);
        return 0;
    }
    if (m->len == 0) {
        r->end_seq = m->seq;
        return 0;
    }
    if (r->image)
        return recv_image(r, m);
    if (r->unit && (r->exact ? m->len != r->unit : m->len % r->unit != 0)) {
        r->bad++;
        cli_warn("sample %" PRIu64 " has %zu bytes, not %s %" PRIu64 ": not written", m->seq,
                 m->len, r->exact ? "" : "a multiple of", r->unit);
        return 0;
    }
    if (r->c->json) {
        uint64_t pts;
        int have = ipcn_media_pts_ns(&r->desc, m->seq, &pts) == IPCN_OK;
        sample_json("sample", m->seq, m->data, m->len, have, pts, m);
    }
    if (r->kind == OUT_PCS) {
        uint8_t sw[IPCN_MEDIA_PCS_SWEEP_HEADER];
        ipcn_media_pcs_write_sweep(sw, (uint32_t)(m->len / IPCN_MEDIA_PCS_POINT));
        if ((rc = out_write(r, sw, sizeof sw)))
            return rc;
    }
    if ((rc = out_write(r, m->data, m->len)))
        return rc;
    r->samples++;
    r->bytes += m->len;
    return 0;
}

/* Put the sizes into the WAV header, and its pad byte after the data. */
static int recv_finish(recv_state *r)
{
    if (!r->started || r->kind != OUT_WAV)
        return 0;
    int rc;
    if ((r->bytes & 1) && (rc = out_write(r, "", 1)))
        return rc;
    if (r->fd == STDOUT_FILENO || r->bytes > UINT32_MAX - IPCN_MEDIA_WAV_HEADER_MAX)
        return 0; /* the sizes stay "unknown" */
    uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
    size_t n;
    if (ipcn_media_wav_header(&r->wav, r->bytes, hdr, sizeof hdr, &n) != IPCN_OK ||
        n != r->wav_hdr || pwrite(r->fd, hdr, n, 0) != (ssize_t)n)
        return cli_fail(IPCN_INSUFFICIENT_STORAGE, "cannot finish the WAV header of %s: %s",
                        r->out_path, strerror(errno));
    return 0;
}

static int recv_report(recv_state *r, ipcn_sub sub)
{
    cli *c = r->c;
    ipcn_sub_stats ss = {.size = sizeof ss};
    ipcn_sub_get_stats(c->node, sub, &ss);
    /* The end marker's number says how many samples there were: those
     * after the last one seen are missing too. */
    if (r->end_seq == 0 && r->started && !cli_stop && !r->image)
        cli_warn("the end of %s did not come%s", r->path,
                 r->withdrawn ? " (the stream was withdrawn)" : "");
    sbuf what = {0};
    if (r->image)
        sb_printf(&what, "%s", r->image_what[0] ? r->image_what : "images");
    else if (r->started)
        describe(&what, &r->desc);
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "end");
        jw_str(&j, "path", r->path);
        jw_str(&j, "encoding", r->started ? r->encoding : NULL);
        jw_str(&j, "media", r->started ? what.p : NULL);
        jw_str(&j, "provider", r->started ? r->provider_name : NULL);
        jw_uint(&j, "samples", r->samples);
        jw_uint(&j, "bytes", r->bytes);
        jw_bool(&j, "end", r->end_seq != 0);
        jw_uint(&j, "lost", r->lost);
        jw_arr(&j, "gaps");
        for (uint64_t i = 0; i < r->gaps && i < 16; i++) {
            jw_arr(&j, NULL);
            jw_uint(&j, NULL, r->gap_from[i]);
            jw_uint(&j, NULL, r->gap_to[i]);
            jw_end_arr(&j);
        }
        jw_end_arr(&j);
        jw_uint(&j, "dropped_here", ss.dropped);
        jw_uint(&j, "lost_upstream", ss.lost);
        jw_uint(&j, "bad", r->bad);
        jw_uint(&j, "corrupt", r->corrupt);
        jw_str(&j, "file", r->out_path);
        jw_end_obj(&j);
        emit(&j);
    } else {
        char b[32];
        sbuf line = {0};
        fmt_bytes(b, sizeof b, (double)r->bytes);
        sb_printf(&line, "received %" PRIu64 " samples (%" PRIu64 " bytes, %s) of %s",
                  r->samples, r->bytes, b, r->path);
        if (r->started)
            sb_printf(&line, " [%s] from %s", what.p, r->provider_name);
        sb_printf(&line, "%s; gaps: %" PRIu64 " (%" PRIu64 " samples lost: %" PRIu64
                  " dropped here, queue full; %" PRIu64 " upstream); wrote %s\n",
                  r->end_seq ? " and its end" : "", r->gaps, r->lost, ss.dropped, ss.lost,
                  r->out_path);
        if (r->fd == STDOUT_FILENO) { /* stdout holds the stream */
            fputs(line.p, stderr);
        } else {
            out("%s", line.p);
            out_flush();
        }
        sb_free(&line);
    }
    sb_free(&what);
    for (uint64_t i = 0; i < r->gaps && i < 16; i++) {
        if (r->gap_to[i] > r->gap_from[i])
            fprintf(stderr, "gap: samples %" PRIu64 "-%" PRIu64 " missing\n",
                    r->gap_from[i], r->gap_to[i]);
        else
            fprintf(stderr, "gap: sample %" PRIu64 " missing\n", r->gap_from[i]);
    }
    if (r->gaps > 16)
        fprintf(stderr, "gap: ... %" PRIu64 " gaps in all\n", r->gaps);
    if (cli_stop)
        return cli_fail(IPCN_SERVICE_UNAVAILABLE, "interrupted: %s is incomplete", r->out_path);
    if (r->lost)
        return cli_fail(IPCN_PARTIAL_DATA, "%" PRIu64 " samples of %s missing in %" PRIu64
                        " gaps", r->lost, r->path, r->gaps);
    if (r->corrupt || r->bad)
        return cli_fail(IPCN_BAD_GATEWAY, "%" PRIu64 " samples of %s were not written (see "
                        "above)", r->corrupt + r->bad, r->path);
    /* An image stream may end without its marker: at --count, or when its
     * publisher left. */
    if (!r->end_seq && !r->image)
        return cli_fail(IPCN_PARTIAL_DATA, "%s ended without its end marker", r->path);
    if (r->image && !r->samples)
        return cli_fail(IPCN_NO_DATA, "no image of %s came: nothing written", r->path);
    return 0;
}

int cmd_stream_recv(cli *c)
{
    recv_state r = {.c = c, .path = c->pos[0], .out_path = c->pos[1], .fd = -1};
    long long queue = 1024, delay = 0;
    int rc;
    if ((c->queue && (rc = num_opt(c, "--queue", c->queue, 1, 1 << 20, &queue))) ||
        (c->delay && (rc = num_opt(c, "--delay", c->delay, 0, 60000, &delay))))
        return rc;
    if (c->json && !strcmp(r.out_path, "-"))
        return cli_usage_error(c->verb, "--json and OUT '-' would both write to stdout");
    r.fps = 30;
    if (c->rate_mode) {
        char *end;
        r.fps = strtod(c->rate_mode, &end);
        if (end == c->rate_mode || *end || !(r.fps > 0 && r.fps <= 1000))
            return cli_usage_error(c->verb, "--rate takes frames per second, more than 0 and "
                                   "at most 1000, not '%s'", c->rate_mode);
    }
    int timeout = c->timeout_ms > 0 ? c->timeout_ms : 10000;
    cli_catch_signals();
    if ((rc = cli_open(c)))
        return rc;
    ipcn_sub sub;
    int st = ipcn_subscribe(c->node, r.path, (uint32_t)queue, NULL, NULL, &sub);
    if (st != IPCN_OK) {
        rc = cli_fail(st, st == IPCN_BAD_REQUEST ? "invalid path '%s'" : "cannot subscribe "
                      "to %s", r.path);
        goto done;
    }
    /* The node's thread reads while this one writes the file (or sleeps,
     * with --delay): samples a slow consumer cannot take are dropped from
     * the queue, and show as gaps. */
    if ((st = ipcn_node_start_thread(c->node)) != IPCN_OK) {
        rc = cli_fail(st, "cannot start the node's thread");
        goto done;
    }
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "ready");
        jw_str(&j, "path", r.path);
        jw_str(&j, "node", c->node_name);
        jw_end_obj(&j);
        emit(&j);
    } else if (strcmp(r.out_path, "-") != 0) {
        out("waiting for %s (node %s)\n", r.path, c->node_name);
        out_flush();
    }
    uint64_t last = now_mono_ns();
    while (!cli_stop && !r.end_seq &&
           !(r.image && c->count >= 0 && r.samples >= (uint64_t)c->count)) {
        ipcn_msg *m = NULL;
        st = ipcn_sub_take(c->node, sub, &m, 100);
        if (st == IPCN_NO_DATA) {
            if (now_mono_ns() - last >= (uint64_t)timeout * 1000000ull) {
                rc = cli_fail(IPCN_GATEWAY_TIMEOUT, "no sample of %s for %d ms", r.path,
                              timeout);
                break;
            }
            continue;
        }
        if (st != IPCN_OK) {
            rc = cli_fail(st, "cannot take samples of %s", r.path);
            break;
        }
        last = now_mono_ns();
        if (m->status != IPCN_OK) {
            /* withdrawn, or its provider left */
            if (r.started && m->src_id == r.provider)
                r.withdrawn = 1;
            ipcn_msg_free(m);
            if (r.withdrawn)
                break;
            continue;
        }
        rc = recv_sample(&r, m);
        ipcn_msg_free(m);
        if (rc)
            break;
        if (delay)
            sleep_ms((int)delay);
    }
    if (!rc)
        rc = recv_finish(&r);
    int vrc = video_close(r.video, NULL); /* ffmpeg finishes the file */
    if (!rc)
        rc = vrc;
    if (!rc)
        rc = recv_report(&r, sub);
    ipcn_unsubscribe(c->node, sub);
done:
    cli_close(c);
    if (r.fd > STDOUT_FILENO)
        close(r.fd);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_play.c — `ipcnet play FILE.mcap` (publish a recording again, with
 * its timing and sequence numbers) and `ipcnet info FILE.mcap` (what a
 * recording holds).  The format is docs/protocol.md section 21.
 *
 * Timing: message i is published at t0 + (log_time_i - log_time_0) / rate
 * on CLOCK_MONOTONIC, waited for with clock_nanosleep(TIMER_ABSTIME): the
 * deadlines are absolute, so a late message does not delay the next ones.
 * The node's I/O runs on its own thread meanwhile.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet_replay.h"
#include "ipcnet_value.h"
#include "mcap.h"
#include "rec.h"
#include "util.h"

typedef struct pchan {
    int play;              /* a stream or data channel that --only keeps */
    const char *path;
    uint64_t last_seq;     /* 64-bit, unwrapped from MCAP's 32 */
} pchan;

typedef struct player {
    cli *c;
    rec_opts *o;
    pchan *ch;             /* [65536] by channel id */
    int started;
    uint64_t t0_log, t0_mono;
    uint64_t played, failed;
} player;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    while (!cli_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void sleep_ms(unsigned ms)
{
    sleep_until(mono_ns() + (uint64_t)ms * 1000000u);
}

static uint64_t tx_queued(cli *c)
{
    ipcn_node_usage u = {.size = sizeof u};
    return ipcn_node_get_usage(c->node, &u) == IPCN_OK ? u.tx_queued_bytes : 0;
}

/* Does the CBOR map m (n bytes) have the key "replayed" already (a replay
 * recorded and replayed)? */
static int has_replayed(const uint8_t *m, size_t n)
{
    ipcn_cbor_item *t = NULL;
    if (ipcn_cbor_tree_decode(m, n, 0, &t) != IPCN_OK)
        return 0;
    int has = ipcn_cbor_map_find(t, "replayed") != NULL;
    ipcn_cbor_tree_free(t);
    return has;
}

/* The recorded metadata with "replayed": true added (a CBOR map of up to
 * 22 entries without that key, or none); other metadata is kept as it is. */
static uint8_t *mark_replayed(const uint8_t *m, size_t n, size_t *out_n)
{
    static const uint8_t key[] = {0x68, 'r', 'e', 'p', 'l', 'a', 'y', 'e', 'd', 0xf5};
    uint8_t *b = malloc(n + sizeof key + 1);
    if (!b)
        return NULL;
    if (n == 0) {
        b[0] = 0xa1;
        memcpy(b + 1, key, sizeof key);
        *out_n = 1 + sizeof key;
    } else if (m[0] >= 0xa0 && m[0] < 0xb6 && !has_replayed(m, n)) {
        memcpy(b, m, n);
        b[0]++;
        memcpy(b + n, key, sizeof key);
        *out_n = n + sizeof key;
    } else {
        memcpy(b, m, n);
        *out_n = n;
    }
    return b;
}

static unsigned subscribers(cli *c, const char *path)
{
    ipcn_subscription_list *sl = NULL;
    if (ipcn_subscriptions(c->node, &sl) != IPCN_OK)
        return 0;
    unsigned k = 0;
    uint64_t self = ipcn_node_id(c->node);
    for (size_t i = 0; i < sl->count; i++)
        if (sl->items[i].node_id != self && ipcn_pattern_match(sl->items[i].pattern, path))
            k++;
    ipcn_subscription_list_free(sl);
    return k;
}

/* A stream or data channel that --only keeps. */
static int playable(const player *p, const mcap_channel *ch)
{
    const char *kind = mcap_channel_meta(ch, "ipcnet.kind");
    if (!kind || (strcmp(kind, "stream") && strcmp(kind, "data")))
        return 0; /* requests, replies, channels of other writers */
    return !p->o->only || ipcn_pattern_match(p->o->only, ch->topic);
}

static const char *meta_or(const mcap_channel *ch, const char *key)
{
    const char *v = mcap_channel_meta(ch, key);
    return v ? v : "";
}

/* Of a path recorded from several providers, the one whose samples play
 * (their sequence numbers would interleave on one resource): --provider's,
 * else the first recorded.  Is channel i of it? */
static int chosen_provider(const player *p, const mcap_channel *const *cs, size_t n,
                           size_t i)
{
    const mcap_channel *pick = NULL;
    for (size_t k = 0; k < n && !pick && p->o->provider; k++)
        if (playable(p, cs[k]) && !strcmp(cs[k]->topic, cs[i]->topic) &&
            !strcmp(meta_or(cs[k], "ipcnet.provider"), p->o->provider))
            pick = cs[k];
    for (size_t k = 0; k <= i && !pick; k++)
        if (playable(p, cs[k]) && !strcmp(cs[k]->topic, cs[i]->topic))
            pick = cs[k];
    return !strcmp(meta_or(pick, "ipcnet.provider_id"), meta_or(cs[i], "ipcnet.provider_id"));
}

/* Announce the channels to play (each path once); 0 or exit status. */
static int announce(player *p, mcap_reader *r)
{
    size_t n;
    const mcap_channel *const *cs = mcap_reader_channels(r, &n);
    for (size_t i = 0; i < n; i++) {
        const mcap_channel *ch = cs[i];
        const char *kind = mcap_channel_meta(ch, "ipcnet.kind");
        const char *enc = mcap_channel_meta(ch, "ipcnet.encoding");
        const char *meta = mcap_channel_meta(ch, "ipcnet.meta");
        if (!playable(p, ch))
            continue;
        if (!chosen_provider(p, cs, n, i)) {
            int said = 0; /* once per path and provider */
            for (size_t k = 0; k < i; k++)
                if (!strcmp(cs[k]->topic, ch->topic) &&
                    !strcmp(meta_or(cs[k], "ipcnet.provider_id"),
                            meta_or(ch, "ipcnet.provider_id")))
                    said = 1;
            char who[4 * 64 + 1], id[4 * 16 + 1], path[4 * 256 + 1]; /* from the file */
            escape_line(who, sizeof who, meta_or(ch, "ipcnet.provider"));
            escape_line(id, sizeof id, meta_or(ch, "ipcnet.provider_id"));
            escape_line(path, sizeof path, ch->topic);
            if (!said)
                fprintf(stderr, "%s: skipping the samples of provider %s (%s) of %s: one "
                        "provider per path plays (--provider NAME picks it)\n", p->o->file,
                        who, id, path);
            continue;
        }
        p->ch[ch->id].play = 1;
        p->ch[ch->id].path = ch->topic;
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            if (p->ch[cs[k]->id].play && !strcmp(cs[k]->topic, ch->topic))
                dup = 1;
        if (dup)
            continue;
        uint8_t *raw = NULL;
        size_t raw_n = 0, mn = 0;
        if (meta && rec_unhex(meta, &raw, &raw_n) != 0)
            return cli_fail(IPCN_BAD_REQUEST, "channel %s: bad ipcnet.meta", ch->topic);
        uint8_t *mm = mark_replayed(raw, raw_n, &mn);
        free(raw);
        if (!mm)
            return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
        int st = ipcn_announce(p->c->node, ch->topic,
                               strcmp(kind, "data") ? IPCN_STREAM : IPCN_DATA,
                               enc ? enc : "", mm, mn);
        free(mm);
        if (st != IPCN_OK && st != IPCN_CREATED)
            return cli_fail(st, "cannot announce %s", ch->topic);
    }
    return 0;
}

static int on_msg(const mcap_message *m, void *user)
{
    player *p = user;
    pchan *ch = &p->ch[m->channel->id];
    if (!ch->play)
        return 0;
    if (cli_stop)
        return 1;
    if (!p->started) {
        p->started = 1;
        p->t0_log = m->log_time;
        p->t0_mono = mono_ns();
    }
    if (p->o->rate > 0) {
        uint64_t d = m->log_time > p->t0_log ? m->log_time - p->t0_log : 0;
        sleep_until(p->t0_mono + (uint64_t)((double)d / p->o->rate));
    } else {
        /* As fast as the links take it: never past a full queue. */
        for (int i = 0; i < 20000 && !cli_stop && tx_queued(p->c) > (4u << 20); i++)
            sleep_ms(1);
    }
    uint64_t seq = (ch->last_seq & ~(uint64_t)0xffffffffu) | m->seq;
    if (seq < ch->last_seq && ch->last_seq - seq > 0x80000000u)
        seq += (uint64_t)1 << 32;
    if (!seq)
        seq = 1;
    ch->last_seq = seq;
    int st;
    for (int i = 0;; i++) {
        st = ipcn_publish_seq(p->c->node, ch->path, m->data, m->len, seq);
        if ((st != IPCN_TOO_MANY_REQUESTS && st != IPCN_INSUFFICIENT_MEMORY) || i >= 5000 || cli_stop)
            break;
        sleep_ms(1); /* a full pool or queue: wait for it */
    }
    if (st == IPCN_OK)
        p->played++;
    else
        p->failed++;
    return 0;
}

/* The file's chunks up to --max-chunk (0: the reader's default). */
static int open_file(mcap_reader **r, const char *file, const rec_opts *o)
{
    mcap_read_opts ro = {.max_chunk = o->max_chunk};
    return mcap_reader_open(r, file, &ro);
}

static int scan_file(const rec_opts *o, mcap_msg_fn fn, void *user, mcap_reader **keep,
                     mcap_info *in)
{
    const char *file = o->file;
    mcap_reader *r;
    int rc = open_file(&r, file, o);
    if (rc)
        return cli_fail(IPCN_NOT_FOUND, "cannot read %s: %s", file, mcap_strerror(rc));
    rc = mcap_reader_scan(r, fn, user, in);
    if (rc && rc != MCAP_ESTOP)
        cli_warn("%s: %s at its end (%s%s): what came before it is used", file,
                 mcap_strerror(rc), in->why,
                 rc == MCAP_ELIMIT ? "; --max-chunk MB reads larger chunks" : "");
    if (keep)
        *keep = r;
    else
        mcap_reader_close(r);
    return 0;
}

int rec_play(cli *c, rec_opts *o)
{
    player p = {.c = c, .o = o};
    mcap_reader *r = NULL;
    mcap_info in;
    int rc = scan_file(o, NULL, NULL, &r, &in);
    if (rc)
        return rc;
    p.ch = calloc(65536, sizeof *p.ch);
    if (!p.ch) {
        mcap_reader_close(r);
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
    }
    if ((rc = cli_open(c)) == 0) {
        cli_catch_signals();
        cli_discover(c, NULL);
        rc = announce(&p, r);
    }
    uint64_t deadline = mono_ns() + 30000000000ull;
    if (!rc && o->wait_subs > 0) {
        for (;;) {
            size_t n;
            const mcap_channel *const *cs = mcap_reader_channels(r, &n);
            int ok = 1;
            for (size_t i = 0; i < n; i++)
                if (p.ch[cs[i]->id].play && subscribers(c, cs[i]->topic) < (unsigned)o->wait_subs)
                    ok = 0;
            if (ok || cli_stop)
                break;
            if (mono_ns() > deadline) {
                rc = cli_fail(IPCN_GATEWAY_TIMEOUT, "fewer than %ld subscribers after 30 s", o->wait_subs);
                break;
            }
            cli_pump(c, 10, NULL, 0);
        }
    }
    if (!rc && ipcn_node_start_thread(c->node) != IPCN_OK)
        rc = cli_fail(IPCN_INTERNAL_ERROR, "cannot start the node's thread");
    while (!rc && !cli_stop) {
        p.started = 0;
        mcap_info pin;
        rc = scan_file(o, on_msg, &p, NULL, &pin);
        if (!o->loop)
            break;
    }
    /* Let the queues drain before the node closes. */
    for (int i = 0; i < 5000 && c->node && !cli_stop && tx_queued(c) > 0; i++)
        sleep_ms(1);
    sleep_ms(50);
    if (c->node)
        ipcn_node_stop_thread(c->node);
    if (!rc)
        fprintf(stderr, "played %" PRIu64 " messages of %s%s%s\n", p.played, o->file,
                p.failed ? ", failed to publish " : "", p.failed ? "some" : "");
    if (!rc && p.failed)
        rc = cli_fail(IPCN_INTERNAL_ERROR, "%" PRIu64 " messages could not be published",
                      p.failed);
    mcap_reader_close(r);
    free(p.ch);
    return rc;
}

static void fmt_time(char *b, size_t n, uint64_t ns)
{
    time_t s = (time_t)(ns / 1000000000u);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t k = strftime(b, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b + k, n - k, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
}

int rec_info(cli *c, rec_opts *o)
{
    mcap_reader *r;
    int rc = open_file(&r, o->file, o);
    if (rc)
        return cli_fail(IPCN_NOT_FOUND, "cannot read %s: %s", o->file, mcap_strerror(rc));
    mcap_info in;
    int st = mcap_reader_scan(r, NULL, NULL, &in);
    size_t n;
    const mcap_channel *const *cs = mcap_reader_channels(r, &n);
    char t0[40], t1[40];
    fmt_time(t0, sizeof t0, in.start_time);
    fmt_time(t1, sizeof t1, in.end_time);
    double dur = in.messages ? (double)(in.end_time - in.start_time) / 1e9 : 0;
    const char *state = st ? "damaged" : in.complete ? "complete" : "cut off";
    if (c->json) {
        jw w = {0};
        jw_obj(&w, NULL);
        jw_str(&w, "file", o->file);
        jw_str(&w, "library", in.library);
        jw_str(&w, "profile", in.profile);
        jw_str(&w, "state", state);
        if (st || in.cut_off)
            jw_str(&w, "why", in.why);
        jw_str(&w, "compression", in.compression);
        jw_uint(&w, "messages", in.messages);
        jw_uint(&w, "chunks", in.chunks);
        jw_uint(&w, "start_ns", in.start_time);
        jw_uint(&w, "end_ns", in.end_time);
        jw_double(&w, "duration_s", dur);
        jw_arr(&w, "channels");
        for (size_t i = 0; i < n; i++) {
            jw_obj(&w, NULL);
            jw_uint(&w, "id", cs[i]->id);
            jw_str(&w, "topic", cs[i]->topic);
            jw_str(&w, "kind", mcap_channel_meta(cs[i], "ipcnet.kind"));
            jw_str(&w, "message_encoding", cs[i]->encoding);
            jw_str(&w, "encoding", mcap_channel_meta(cs[i], "ipcnet.encoding"));
            jw_str(&w, "provider", mcap_channel_meta(cs[i], "ipcnet.provider"));
            jw_uint(&w, "messages", mcap_reader_channel_count(r, cs[i]->id));
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_end_obj(&w);
        emit(&w);
    } else {
        out("file:        %s (%s%s%s)\n", o->file, state, st || in.cut_off ? ": " : "",
            st || in.cut_off ? in.why : "");
        out("written by:  %s (profile '%s')\n", in.library, in.profile);
        out("messages:    %" PRIu64 " in %" PRIu64 " chunks, compression %s\n", in.messages,
            in.chunks, in.compression[0] ? in.compression : "none");
        out("time:        %s .. %s (%.3f s)\n", t0, t1, dur);
        out("channels:    %zu\n", n);
        for (size_t i = 0; i < n; i++) {
            const char *k = mcap_channel_meta(cs[i], "ipcnet.kind");
            const char *e = mcap_channel_meta(cs[i], "ipcnet.encoding");
            const char *pv = mcap_channel_meta(cs[i], "ipcnet.provider");
            const char *sv = mcap_channel_meta(cs[i], "ipcnet.status");
            out("  %-32s %-8s %8" PRIu64 " msgs  %s%s%s%s%s\n", cs[i]->topic, k ? k : "?",
                mcap_reader_channel_count(r, cs[i]->id), e ? e : cs[i]->encoding,
                pv && *pv ? "  from " : "", pv ? pv : "", sv ? "  status " : "", sv ? sv : "");
        }
    }
    mcap_reader_close(r);
    return st ? cli_fail(IPCN_BAD_REQUEST, "%s: %s%s", o->file, in.why,
                         st == MCAP_ELIMIT ? " (--max-chunk MB reads larger chunks)" : "")
              : 0;
}

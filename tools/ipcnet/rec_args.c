/* SPDX-License-Identifier: MIT */
/*
 * rec_args.c — the command lines of `ipcnet record`, `ipcnet play` and
 * `ipcnet info FILE.mcap`: the common options as every verb has them, and
 * their own (rec.h).  main.c hands these verbs here whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcap.h"
#include "rec.h"

const char cmd_record_help[] =
    "usage: ipcnet record PATTERN... -o FILE.mcap [options]\n\n"
    "Record the samples of every stream and data resource matching the PATTERNs\n"
    "(data changes are samples too), with their encodings, into an MCAP file\n"
    "(docs/protocol.md section 21; Foxglove and the mcap tools open it), until\n"
    "SIGINT or SIGTERM.  Messages go into zstd-compressed chunks, each written\n"
    "out when it is full or --flush seconds old, so a recorder killed with\n"
    "kill -9 leaves a file readable up to its last chunk.  Shared-memory samples\n"
    "are compressed from the mapping (no copy).\n\n"
    "  -o, --output FILE   the file (with a split: FILE_0.mcap, FILE_1.mcap...)\n"
    "  --split-size MB     start a new file past MB megabytes\n"
    "  --split-time S      start a new file every S seconds\n"
    "  --chunk-size KB     uncompressed bytes of a chunk (1024, at most 32768;\n"
    "                      a message larger alone makes a larger chunk, which\n"
    "                      play and info read with --max-chunk)\n"
    "  --flush S           write a chunk out at least every S seconds (0.25)\n"
    "  --fsync             fdatasync each chunk (survives power loss, slower)\n"
    "  --no-compress       chunks without compression\n"
    "  --proxy FROM=TO     record the requests and replies of service TO: this\n"
    "                      recorder offers FROM, passes each request to TO and\n"
    "                      its answer back, and records both (repeatable).\n"
    "                      FROM has no access rules of its own and the call\n"
    "                      reaches TO as the recorder's principal: let only\n"
    "                      trusted callers execute FROM (network policy).\n"
    "                      TO may not be a path this recorder offers; a call\n"
    "                      that comes back to it is answered 308\n"
    "  --duration S        stop after S seconds\n";

const char cmd_play_help[] =
    "usage: ipcnet play FILE.mcap [options]\n\n"
    "Publish a recording again: each stream and data resource it holds is\n"
    "announced by this node (its metadata gets \"replayed\": true) and its\n"
    "samples published with their original sequence numbers and spacing (absolute\n"
    "deadlines on the monotonic clock).  Requests and replies are not sent again.\n"
    "A file cut off (a recorder killed) plays up to its last whole chunk.\n\n"
    "  --rate R        1 (default), 2, ...: R times as fast; max: no waiting (a\n"
    "                  full link queue is waited for, not dropped)\n"
    "  --loop          play it again and again, until SIGINT\n"
    "  --only PATTERN  only the resources matching PATTERN\n"
    "  --wait-subs N   first wait for N subscribers of the recording's resources\n"
    "  --provider NAME of a path recorded from several providers, play NAME's\n"
    "                  (default: the first recorded; the others are skipped and\n"
    "                  named on stderr)\n"
    "  --provider NAME of a path recorded from several providers, play NAME's\n"
    "                  (default: the first recorded; the others are skipped and\n"
    "                  named on stderr)\n"
    "  --max-chunk MB  read chunks of up to MB MiB uncompressed (64); a larger\n"
    "                  one is refused: a file is untrusted input\n";

static int num_d(const char *verb, const char *name, const char *s, double min,
                 double max, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(d) || d < min || d > max)
        return cli_usage_error(verb, "%s takes a number from %g to %g, not '%s'", name,
                               min, max, s);
    *out = d;
    return 0;
}

int rec_parse(cli *c, rec_opts *o, int (*fn)(cli *), int argc, char **argv, int vi)
{
    const char *vn = argv[vi];
    int rec = fn == cmd_record, play = fn == cmd_play;
    for (int i = 1; i < argc; i++) {
        if (i == vi)
            continue;
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            if (rec) {
                if (o->npatterns >= REC_MAX_PATTERNS)
                    return cli_usage_error(vn, "at most %d patterns", REC_MAX_PATTERNS);
                o->patterns[o->npatterns++] = a;
            } else if (!o->file) {
                o->file = a;
            } else {
                return cli_usage_error(vn, "unexpected argument '%s'", a);
            }
            continue;
        }
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), a);
#define IS(s) (!strcmp(name, s))
        if (IS("-h") || IS("--help")) {
            fputs(rec ? cmd_record_help : play ? cmd_play_help : "usage: ipcnet info FILE.mcap [--json] [--max-chunk MB]\n", stdout);
            return -1;
        }
        int flag = IS("--json") || IS("--loop") || IS("--fsync") || IS("--no-compress");
        const char *arg = NULL;
        if (!flag) {
            if (eq)
                arg = eq + 1;
            else if (i + 1 < argc && i + 1 != vi)
                arg = argv[++i];
            else
                return cli_usage_error(vn, "%s needs an argument", name);
        } else if (eq) {
            return cli_usage_error(vn, "%s takes no argument", name);
        }
        int rc = 0;
        long long ll;
        double d = 0;
        if (IS("--network")) c->network = arg;
        else if (IS("--dir")) c->dir = arg;
        else if (IS("--name")) c->name = arg;
        else if (IS("--ns")) c->ns = arg;
        else if (IS("--remap")) c->remap = arg;
        else if (IS("--json")) c->json = true;
        else if (IS("--wait")) {
            rc = num_d(vn, name, arg, 0, 600000, &d);
            c->wait_ms = (int)d;
        } else if (rec && (IS("-o") || IS("--output"))) o->output = arg;
        else if (rec && IS("--split-size")) rc = num_d(vn, name, arg, 0.001, 1e7, &o->split_mb);
        else if (rec && IS("--split-time")) rc = num_d(vn, name, arg, 0.01, 1e7, &o->split_s);
        else if (rec && IS("--flush")) rc = num_d(vn, name, arg, 0.001, 3600, &o->flush_s);
        else if (rec && IS("--duration")) rc = num_d(vn, name, arg, 0.001, 1e7, &o->duration_s);
        else if (rec && IS("--chunk-size")) {
            /* Below half the readers' default limit (MCAP_MAX_CHUNK_DEFAULT):
             * a chunk ends past it by at most one message. */
            rc = num_d(vn, name, arg, 1, MCAP_MAX_CHUNK_DEFAULT / 2048, &d);
            o->chunk_kb = (size_t)d;
        } else if (rec && IS("--fsync")) o->fsync = 1;
        else if (rec && IS("--no-compress")) o->plain = 1;
        else if (rec && IS("--proxy")) {
            const char *q = strchr(arg, '=');
            if (!q || q == arg || !q[1])
                return cli_usage_error(vn, "--proxy takes FROM=TO, not '%s'", arg);
            if (o->nproxies >= REC_MAX_PROXIES)
                return cli_usage_error(vn, "at most %d --proxy", REC_MAX_PROXIES);
            char *from = strndup(arg, (size_t)(q - arg));
            if (!from)
                return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
            o->proxy_from[o->nproxies] = from;
            o->proxy_to[o->nproxies++] = q + 1;
        } else if (play && IS("--rate")) {
            if (!strcmp(arg, "max"))
                o->rate = 0;
            else
                rc = num_d(vn, name, arg, 0.001, 1000, &o->rate);
        } else if (play && IS("--loop")) o->loop = 1;
        else if (play && IS("--only")) o->only = arg;
        else if (play && IS("--provider")) o->provider = arg;
        else if (!rec && IS("--max-chunk")) {
            rc = num_d(vn, name, arg, 1, 65536, &d);
            o->max_chunk = (size_t)d << 20;
        }
        else if (play && IS("--wait-subs")) {
            rc = num_d(vn, name, arg, 0, 1000, &d);
            o->wait_subs = (long)d;
        } else
            return cli_usage_error(vn, "'%s' is not an option of 'ipcnet %s'", name, vn);
#undef IS
        (void)ll;
        if (rc)
            return rc;
    }
    /* A proxy whose TO is a path this recorder offers would call itself
     * (FROM == TO, or a chain of --proxy): each call entering it again. */
    for (int i = 0; i < o->nproxies; i++)
        for (int j = 0; j < o->nproxies; j++)
            if (!strcmp(o->proxy_to[i], o->proxy_from[j]))
                return cli_usage_error(vn, "--proxy %s=%s: %s is offered by this recorder "
                                       "(it would call itself)", o->proxy_from[i],
                                       o->proxy_to[i], o->proxy_to[i]);
    if (rec && !o->npatterns)
        return cli_usage_error(vn, "missing PATTERN");
    if (rec && !o->output)
        return cli_usage_error(vn, "missing -o FILE.mcap");
    if (!rec && !o->file)
        return cli_usage_error(vn, "missing FILE.mcap");
    return 0;
}

bool cli_rec_is_info(int argc, char **argv, int vi)
{
    for (int i = vi + 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-')
            continue;
        size_t n = strlen(a);
        if (n > 5 && !strcmp(a + n - 5, ".mcap"))
            return true;
        int fd = open(a, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return false;
        uint8_t m[8];
        bool is = read(fd, m, 8) == 8 && !memcmp(m, "\x89MCAP0\r\n", 8);
        close(fd);
        return is;
    }
    return false;
}

int cli_rec_run(int (*fn)(cli *), int argc, char **argv, int vi)
{
    cli c = {.verb = argv[vi], .wait_ms = 2000, .timeout_ms = -1, .count = -1,
             .rate = 1, .exec_timeout_ms = -1};
    rec_opts o = {.rate = 1, .flush_s = 0.25};
    int info = fn != cmd_record && fn != cmd_play;
    int rc = rec_parse(&c, &o, info ? NULL : fn, argc, argv, vi);
    if (!rc)
        rc = fn == cmd_record ? rec_record(&c, &o) : fn == cmd_play ? rec_play(&c, &o)
                                                                    : rec_info(&c, &o);
    for (int i = 0; i < o.nproxies; i++)
        free((char *)o.proxy_from[i]);
    cli_close(&c);
    if (fflush(stdout) != 0 && !rc)
        rc = EXIT_FAIL;
    return rc < 0 ? 0 : rc;
}

/* The table's entries: main.c hands these verbs to cli_rec_run() before
 * its own parse, so these run only if called otherwise. */
int cmd_record(cli *c)
{
    (void)c;
    return cli_usage_error("record", "internal: record is run by cli_rec_run()");
}

int cmd_play(cli *c)
{
    (void)c;
    return cli_usage_error("play", "internal: play is run by cli_rec_run()");
}

char *rec_hex(const void *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = d[b[i] >> 4];
        s[2 * i + 1] = d[b[i] & 15];
    }
    s[2 * n] = 0;
    return s;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int rec_unhex(const char *s, uint8_t **out, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2)
        return -1;
    uint8_t *b = malloc(len / 2 + 1);
    if (!b)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *n = len / 2;
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_files.c — the file service from the command line: offer-files (a
 * directory's regular files, until interrupted) and get-file (one of them,
 * resumable, checked chunk by chunk and as a whole).  Both are thin over
 * include/ipcnet_files.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ipcnet_files.h"
#include "util.h"

const char cmd_offer_files_help[] =
    "usage: ipcnet offer-files DIR [--path PATH] [options]\n\n"
    "Offer the regular files beneath DIR as the file service PATH (default\n"
    "'files'): DIR/a/b.bin is fetched as PATH/a/b.bin (ipcnet get-file).  Names\n"
    "that leave DIR (.., absolute names, symbolic links leading out) and files\n"
    "that are not regular (devices, FIFOs, directories) are refused with\n"
    "202 Forbidden.  Serves until Ctrl-C or SIGTERM, then withdraws the service\n"
    "and prints what it served.\n\n"
    "  --path PATH     the service path (default files)\n"
    "  --seconds S     stop after S seconds\n"
    "  --count N       stop after answering N requests\n";

const char cmd_get_file_help[] =
    "usage: ipcnet get-file PATH DEST [options]\n\n"
    "Fetch the file PATH (SERVICE/NAME, SERVICE being the longest file service\n"
    "whose path starts PATH) into DEST (a directory: DEST/the name's last part),\n"
    "through DEST.part: every 1 MiB chunk is checked against the provider's hash\n"
    "of it, and DEST appears only when the whole file is there.  An interrupted\n"
    "fetch leaves DEST.part; fetching again keeps its chunks that check out and\n"
    "fetches the rest.  Prints the size, the time, the speed and the content\n"
    "hash (BLAKE2b-256 over the chunks' BLAKE2b-256; docs/protocol.md).\n\n"
    "  --timeout MS    give up when the provider does not answer a request\n"
    "                  within MS milliseconds (default 10000)\n"
    "  --no-resume     ignore an existing DEST.part\n";

static void hexs(const uint8_t *h, char *out)
{
    for (int i = 0; i < IPCN_FILES_HASH_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* ------------------------------------------------------------------ */
/* offer-files                                                          */
/* ------------------------------------------------------------------ */

static void print_stats(cli *c, const char *path, const ipcn_files_stats *s)
{
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "stopped");
        jw_str(&j, "path", path);
        jw_uint(&j, "requests", s->requests);
        jw_uint(&j, "refused", s->refused);
        jw_uint(&j, "bytes", s->bytes);
        jw_uint(&j, "hashed", s->hashed);
        jw_end_obj(&j);
        emit(&j);
    } else {
        char b[32];
        fmt_bytes(b, sizeof b, (double)s->bytes);
        out("%llu request%s answered (%llu refused), %s of files sent; withdrew %s\n",
            (unsigned long long)s->requests, s->requests == 1 ? "" : "s",
            (unsigned long long)s->refused, b, path);
        out_flush();
    }
}

int cmd_offer_files(cli *c)
{
    if (c->npos != 1)
        return cli_usage_error(c->verb, "missing DIR");
    const char *dir = c->pos[0];
    const char *path = c->svc_path ? c->svc_path : "files";
    double seconds = -1;
    if (c->seconds) {
        char *end;
        errno = 0;
        seconds = strtod(c->seconds, &end);
        if (errno || end == c->seconds || *end || !isfinite(seconds) || seconds <= 0 ||
            seconds > 1e7)
            return cli_usage_error(c->verb, "--seconds takes a positive number, not '%s'",
                                   c->seconds);
    }
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return cli_fail(errno == ENOENT ? IPCN_NOT_FOUND : IPCN_FORBIDDEN,
                        "cannot offer %s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return cli_fail(IPCN_FORBIDDEN, "cannot offer %s: not a directory", dir);
    int rc;
    cli_catch_signals();
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)) || cli_stop)
        return rc;
    int st = ipcn_files_offer(c->node, path, dir, 0);
    if (st != IPCN_OK) {
        const char *why = st == IPCN_BAD_REQUEST ? ": invalid path"
                          : st == IPCN_CONFLICT  ? ": this node offers it already"
                                                 : "";
        return cli_fail(st, "cannot offer %s as %s%s", dir, path, why);
    }
    ipcn_node_ready(c->node); /* its peers (a supervisor) are told too */
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "ready");
        jw_str(&j, "path", path);
        jw_str(&j, "kind", "service");
        jw_str(&j, "node", c->node_name);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("offering the files of %s as %s/NAME, node %s (Ctrl-C to stop)\n", dir, path,
            c->node_name);
        out_flush();
    }
    uint64_t end = seconds > 0 ? now_mono_ns() + (uint64_t)(seconds * 1e9) : 0;
    ipcn_files_stats s = {.size = sizeof s};
    while (!cli_stop) {
        int t = -1;
        if (end) {
            uint64_t now = now_mono_ns();
            if (now >= end)
                break;
            t = (int)((end - now) / 1000000 + 1);
        }
        if (c->count >= 0) {
            ipcn_files_get_stats(c->node, path, &s);
            if ((long long)s.requests >= c->count)
                break;
            if (t < 0 || t > 50)
                t = 50; /* requests are counted by the library: look often */
        }
        cli_pump(c, t, NULL, 0);
    }
    ipcn_files_get_stats(c->node, path, &s);
    ipcn_files_unoffer(c->node, path);
    cli_close(c);
    print_stats(c, path, &s);
    return 0;
}

/* ------------------------------------------------------------------ */
/* get-file                                                             */
/* ------------------------------------------------------------------ */

int cmd_get_file(cli *c)
{
    if (c->npos != 2)
        return cli_usage_error(c->verb, c->npos ? "missing DEST" : "missing PATH");
    const char *path = c->pos[0];
    char dest[4096];
    struct stat sb;
    if (stat(c->pos[1], &sb) == 0 && S_ISDIR(sb.st_mode)) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!*base)
            return cli_usage_error(c->verb, "PATH '%s' names no file", path);
        size_t dl = strlen(c->pos[1]);
        while (dl > 1 && c->pos[1][dl - 1] == '/')
            dl--;
        snprintf(dest, sizeof dest, "%.*s/%s", (int)dl, c->pos[1], base);
    } else {
        snprintf(dest, sizeof dest, "%s", c->pos[1]);
    }
    int rc;
    cli_catch_signals();
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    if (cli_stop)
        return cli_fail(IPCN_PARTIAL_DATA, "interrupted");
    ipcn_files_get_opts o;
    ipcn_files_get_opts_init(&o);
    if (c->timeout_ms > 0)
        o.timeout_ms = c->timeout_ms;
    if (c->no_resume)
        o.flags |= IPCN_FILES_GET_NO_RESUME;
    ipcn_files_result r = {.size = sizeof r};
    uint64_t t0 = now_mono_ns();
    int st = ipcn_files_get(c->node, path, dest, &o, &r);
    double secs = (double)(now_mono_ns() - t0) / 1e9;
    if (st != IPCN_OK) {
        switch (st) {
        case IPCN_NOT_FOUND:
            return cli_fail(st, "no file %s (no such file, or no file service matches)",
                            path);
        case IPCN_FORBIDDEN:
            return cli_fail(st, "the provider refused %s (outside its directory, a link "
                                "leading out, not a regular file, or not readable)", path);
        case IPCN_CONFLICT:
            return cli_fail(st, "%s changed at the provider during the fetch, or another "
                                "fetch holds %s.part; fetch again to resume", path, dest);
        case IPCN_BAD_GATEWAY:
            return cli_fail(st, "the provider's bytes did not match its hashes; %s not "
                                "written", dest);
        case IPCN_GATEWAY_TIMEOUT:
            return cli_fail(st, "the provider of %s did not answer within %d ms", path,
                            o.timeout_ms);
        case IPCN_SERVICE_UNAVAILABLE:
            return cli_fail(st, "the provider of %s left during the fetch", path);
        case IPCN_INSUFFICIENT_STORAGE:
            return cli_fail(st, "cannot write %s.part: no space left", dest);
        case IPCN_INTERNAL_ERROR:
            return cli_fail(st, "cannot write %s (or %s.part)", dest, dest);
        default:
            return cli_fail(st, "get-file %s failed", path);
        }
    }
    char h[2 * IPCN_FILES_HASH_LEN + 1];
    hexs(r.hash, h);
    double mbps = secs > 0 ? (double)r.bytes_fetched / secs / 1e6 : 0;
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "path", path);
        jw_str(&j, "dest", dest);
        jw_str(&j, "provider", r.provider);
        jw_uint(&j, "size", r.file_size);
        jw_uint(&j, "fetched", r.bytes_fetched);
        jw_uint(&j, "resumed", r.bytes_resumed);
        jw_double(&j, "seconds", secs);
        jw_double(&j, "mb_per_s", mbps);
        jw_str(&j, "alg", IPCN_FILES_HASH_ALG);
        jw_str(&j, "hash", h);
        jw_bool(&j, "confirmed", r.hash_confirmed);
        jw_end_obj(&j);
        emit(&j);
    } else {
        char sz[32], res[32];
        fmt_bytes(sz, sizeof sz, (double)r.file_size);
        fmt_bytes(res, sizeof res, (double)r.bytes_resumed);
        out("%s -> %s: %llu bytes (%s) from %s in %.3f s, %.1f MB/s", path, dest,
            (unsigned long long)r.file_size, sz, r.provider, secs, mbps);
        if (r.bytes_resumed)
            out(", %s resumed from %s.part", res, dest);
        out("\n%s %s%s\n", IPCN_FILES_HASH_ALG, h,
            r.hash_confirmed ? " (the provider's own hash)" : "");
        out_flush();
    }
    return 0;
}

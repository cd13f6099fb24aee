/* SPDX-License-Identifier: MIT */
/*
 * record.c — `ipcnet-bench record`: how fast `ipcnet record` writes an MCAP
 * file (zstd chunks, docs/protocol.md 21), for a stream of 64 B samples and
 * one of 8 MiB samples (loaned shared-memory slots, compressed by the
 * recorder from its mapping), each published as fast as the publisher can
 * for 5 s (1 s with --quick); beside the disk's write speed measured in the
 * same run with dd (1 MiB blocks, conv=fdatasync) in the same directory.
 *
 * The samples are incompressible (every word derived from the sequence
 * number: the worst case for zstd).  The recorder is the `ipcnet` tool next
 * to this program, run as a process; what it wrote is read back with
 * `ipcnet info --json`: messages recorded and the time from the first to
 * the last one give messages/s and payload MB/s.  A publisher faster than
 * the recorder makes it drop (its queue keeps the newest): the rates are
 * what reached the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

typedef struct rec_args {
    char dir[256];
    size_t size;
    double secs;
} rec_args;

typedef struct rec_pub_result {
    int ok;
    char err[160];
    uint64_t sent;
} rec_pub_result;

static int rec_has_sub(ipcn_node *n)
{
    ipcn_subscription_list *sl = NULL;
    int k = 0;
    if (ipcn_subscriptions(n, &sl) == IPCN_OK) {
        for (size_t i = 0; i < sl->count; i++)
            k += sl->items[i].node_id != ipcn_node_id(n) &&
                 ipcn_pattern_match(sl->items[i].pattern, "bench/rec");
        ipcn_subscription_list_free(sl);
    }
    return k;
}

static int rec_publisher(child *c)
{
    rec_args *a = c->arg;
    rec_pub_result res = {0};
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = a->dir;
    o.network = "bench";
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "rec-pub", &o);
    if (st == IPCN_OK)
        st = ipcn_announce(n, "bench/rec", IPCN_STREAM, "application/octet-stream", NULL, 0);
    if (st == IPCN_OK || st == IPCN_CREATED)
        st = ipcn_node_start_thread(n);
    uint64_t give_up = now_ns() + 20000000000ull;
    while (st == IPCN_OK && !rec_has_sub(n) && now_ns() < give_up)
        sleep_ms(10);
    if (st != IPCN_OK || !rec_has_sub(n)) {
        snprintf(res.err, sizeof res.err, "publisher: %d, or no recorder after 20 s", st);
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        ipcn_node_close(n);
        return 1;
    }
    ctl_send(c->ctl, CTL_READY);
    uint8_t *small = malloc(a->size);
    uint64_t end = now_ns() + (uint64_t)(a->secs * 1e9);
    for (uint64_t seq = 1; now_ns() < end; seq++) {
        if (a->size <= 4096) {
            sample_fill(small, a->size < 16 ? 16 : a->size, seq, true);
            res.sent += ipcn_publish(n, "bench/rec", small, a->size) == IPCN_OK;
            continue;
        }
        ipcn_loan *l;
        if (ipcn_loan_new(n, "bench/rec", a->size, &l) != IPCN_OK) {
            sleep_ms(1); /* the pool is full: the recorder holds its slots */
            continue;
        }
        sample_fill(ipcn_loan_data(l), a->size, seq, true);
        res.sent += ipcn_loan_publish(n, l, a->size) == IPCN_OK;
    }
    free(small);
    res.ok = 1;
    ipcn_node_stop_thread(n);
    ipcn_node_close(n);
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    return 0;
}

/* The disk's write speed in MB/s with dd (1 MiB blocks, fdatasync), in dir. */
static double dd_speed(const char *dir, int mib, char *err, size_t cap)
{
    char cmd[700], line[512];
    snprintf(cmd, sizeof cmd,
             "LC_ALL=C dd if=/dev/zero of='%s/dd.bin' bs=1M count=%d conv=fdatasync 2>&1; "
             "rm -f '%s/dd.bin'", dir, mib, dir);
    FILE *p = popen(cmd, "r");
    double secs = 0;
    unsigned long long bytes = 0;
    while (p && fgets(line, sizeof line, p)) {
        char *c = strstr(line, " copied, ");
        if (c && sscanf(line, "%llu bytes", &bytes) == 1)
            secs = strtod(c + 9, NULL);
    }
    if (p)
        pclose(p);
    if (secs <= 0 || !bytes) {
        snprintf(err, cap, "dd gave no figure");
        return 0;
    }
    return (double)bytes / secs / 1e6;
}

/* A number after "key": in a JSON line. */
static double json_num(const char *s, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

static void rec_case(const char *cli, size_t size, double disk, const char *dd_err)
{
    char sz[32];
    row *r = row_new("record", "ipcnet", size_str(size, sz, sizeof sz));
    r->size = size;
    r->is_default = true;
    rec_args a = {.size = size, .secs = g_opts.quick ? 1 : 5};
    if (bench_tmpdir(a.dir, sizeof a.dir) != 0) {
        row_fail(r, "no temporary directory");
        return;
    }
    char file[400], dur[32];
    snprintf(file, sizeof file, "%s/rec.mcap", a.dir);
    snprintf(dur, sizeof dur, "%.1f", a.secs + 3);
    pid_t rp = fork();
    if (rp == 0) {
        setenv("IPCNET_DIR", a.dir, 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        execl(cli, "ipcnet", "record", "bench/rec", "-o", file, "--network", "bench",
              "--duration", dur, "--name", "rec-bench", (char *)NULL);
        _exit(127);
    }
    child pub = {0};
    rec_pub_result res = {0};
    int ok = rp > 0 && child_spawn(&pub, "rec-pub", 0, rec_publisher, &a) == 0;
    if (ok && ctl_wait(&pub, 30000) == CTL_READY)
        ok = ctl_recv_result(&pub, &res, sizeof res, NULL, NULL,
                             (int)(a.secs * 1000) + 30000) == 0 && res.ok;
    else
        ok = 0;
    if (pub.pid > 0)
        child_reap(&pub, 10000);
    int wst = 0;
    if (rp > 0 && waitpid(rp, &wst, 0) < 0)
        wst = -1;
    char cmd[700], line[4096] = "";
    snprintf(cmd, sizeof cmd, "'%s' info '%s' --json 2>&1", cli, file);
    FILE *p = ok ? popen(cmd, "r") : NULL;
    if (p && !fgets(line, sizeof line, p))
        line[0] = 0;
    if (p)
        pclose(p);
    double msgs = json_num(line, "messages"), secs = json_num(line, "duration_s");
    struct stat st;
    double file_mb = stat(file, &st) == 0 ? (double)st.st_size / 1e6 : 0;
    if (!ok) {
        row_fail(r, "%s", res.err[0] ? res.err : "the publisher or the recorder failed");
    } else if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0 || msgs <= 1 || secs <= 0) {
        row_fail(r, "the recorder: exit %d; info: %.200s", WIFEXITED(wst) ? WEXITSTATUS(wst) : -1,
                 line);
    } else {
        r->n = (uint64_t)msgs;
        r->arrived = (uint64_t)msgs;
        r->rate = msgs / secs;
        r->rx_rate = msgs * (double)size / secs / 1e6; /* MB/s of payload */
        r->aux = disk;
        snprintf(r->note, sizeof r->note,
                 "%.0f messages/s, %.1f MB/s of payload recorded (%llu published, %.0f "
                 "recorded in %.2f s, file %.1f MB, zstd); disk (dd, fdatasync): %s%.0f MB/s",
                 r->rate, r->rx_rate, (unsigned long long)res.sent, msgs, secs, file_mb,
                 disk > 0 ? "" : dd_err, disk);
    }
    bench_rmdir(a.dir);
}

void bench_record(void)
{
    if (!want_transport("ipcnet"))
        return;
    char self[PATH_MAX], cli[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    snprintf(cli, sizeof cli, "%s/ipcnet", dirname(self));
    char dir[256], err[64] = "";
    double disk = 0;
    if (bench_tmpdir(dir, sizeof dir) == 0) {
        disk = dd_speed(dir, g_opts.quick ? 64 : 512, err, sizeof err);
        bench_rmdir(dir);
    }
    if (access(cli, X_OK) != 0) {
        row *r = row_new("record", "ipcnet", "64 B");
        row_set_status(r, ROW_UNAVAILABLE, "no ipcnet tool next to ipcnet-bench (%s)", cli);
        return;
    }
    rec_case(cli, 64, disk, err);
    rec_case(cli, 8u << 20, disk, err);
}

void print_record(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "record"))
            continue;
        if (!any)
            printf("\nrecord: ipcnet record into MCAP (zstd), samples published as fast as "
                   "possible\n  %-8s %14s %12s %12s  %s\n", "size", "messages/s", "MB/s",
                   "disk MB/s", "note");
        any = true;
        if (r->status != ROW_OK)
            printf("  %-8s %s\n", r->variant, r->note);
        else
            printf("  %-8s %14.0f %12.1f %12.0f  %s\n", r->variant, r->rate, r->rx_rate,
                   r->aux, r->note);
    }
}

/* SPDX-License-Identifier: MIT */
/*
 * files.c — `ipcnet-bench files`: a file of random bytes (1 GiB; 64 MiB
 * with --quick; --file-size) fetched through the file service
 * (ipcn_files_get from a provider process, ipcn_files_offer) beside `cp` of
 * the same file on the same machine, in the same temporary directory.
 *
 * Three rounds (one with --quick), each: cp, then a fresh provider
 * process and two fetches from it.  The first finds the provider's cache
 * of chunk hashes empty: the provider reads and hashes every chunk it
 * sends ("cold", the target's figure); the second finds the hashes cached
 * ("warm": the provider keeps the hashes of files whose change time is 2 s
 * old, which the source is by then — the benchmark waits for that).  Each
 * copy is timed from the start of the program or call to its return (the
 * data is then in the page cache, as cp leaves it); between runs the file
 * system is synced (untimed) so that one run's write-back does not land on
 * the next, and each copy deletes its previous output just before it
 * starts, so that cp and the fetch write into memory in the same state.  The best of the rounds is reported for each, and every time
 * in the note.  Every fetched file is compared with the source, byte for
 * byte, and its content hash with ipcn_files_hash() of the source.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcnet.h>
#include <ipcnet_files.h>

#include "bench.h"

typedef struct files_args {
    char dir[256];          /* IPCNET_DIR and the files */
    char srv[300];          /* the offered directory */
    char src[340];          /* srv/big.bin */
    char dest[340];
    uint64_t size;
    int rounds;
    uint8_t hash[IPCN_FILES_HASH_LEN];
} files_args;

typedef struct files_run {
    int ok;
    char err[200];
    double secs;
    double cpu_s;           /* the fetching process: user + system */
    uint64_t resumed;
    int confirmed;
} files_run;

typedef struct files_srv_result {
    int ok;
    char err[200];
    double cpu_s;
    ipcn_files_stats stats;
} files_srv_result;

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void node_opts(ipcn_node_opts *o, const char *dir)
{
    ipcn_node_opts_init(o);
    o->dir = dir;
    o->network = "bench";
}

/* Write the file to sync (untimed), so that its write-back does not fall
 * into the next measurement. */
static void settle(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
}

/* Are the two files the same bytes? */
static bool same_bytes(const char *a, const char *b, char *err, size_t cap)
{
    int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
    size_t bs = 4u << 20;
    uint8_t *pa = malloc(bs), *pb = malloc(bs);
    bool same = fa >= 0 && fb >= 0 && pa && pb;
    if (!same)
        snprintf(err, cap, "cannot read the source or the fetched file");
    uint64_t off = 0;
    while (same) {
        ssize_t na = pread(fa, pa, bs, (off_t)off), nb = pread(fb, pb, bs, (off_t)off);
        if (na != nb || na < 0 || memcmp(pa, pb, (size_t)na) != 0) {
            snprintf(err, cap, "the fetched file differs from the source near byte %llu",
                     (unsigned long long)off);
            same = false;
        }
        if (na <= 0)
            break;
        off += (uint64_t)na;
    }
    free(pa);
    free(pb);
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return same;
}

static int files_server(child *c)
{
    files_args *a = c->arg;
    files_srv_result res = {0};
    ipcn_node_opts o;
    node_opts(&o, a->dir);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "files-srv", &o);
    if (st == IPCN_OK)
        st = ipcn_files_offer(n, "files", a->srv, 0);
    if (st == IPCN_OK)
        st = ipcn_node_start_thread(n);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "provider: %d %s", st, ipcn_status_str(st));
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        ipcn_node_close(n);
        return 1;
    }
    double cpu0 = cpu_seconds();
    ctl_send(c->ctl, CTL_READY);
    int b;
    while ((b = ctl_wait(&(child){.ctl = c->ctl}, 1000)) == 0)
        ;
    res.cpu_s = cpu_seconds() - cpu0;
    res.stats.size = sizeof res.stats;
    ipcn_files_get_stats(n, "files", &res.stats);
    res.ok = 1;
    ipcn_node_stop_thread(n);
    ipcn_files_unoffer(n, "files");
    ipcn_node_close(n);
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    return 0;
}

/* Wait until a provider's file service (with its descriptor) is known.
 * Dispatch first: a node that only makes synchronous requests does not
 * otherwise notice that the previous round's provider is gone (its
 * requests fail with 303 at once, without reading the link's hang-up);
 * this process has no callbacks, so dispatching runs none. */
static bool wait_service(ipcn_node *n)
{
    uint64_t end = now_ns() + 15000000000ull;
    for (;;) {
        ipcn_resource_list *rl = NULL;
        ipcn_node_dispatch(n, 0);
        ipcn_node_wait_synced(n, 50);
        bool known = ipcn_find(n, "files", IPCN_SERVICE, &rl) == IPCN_OK &&
                     rl->count && rl->items[0].meta_len;
        ipcn_resource_list_free(rl);
        if (known)
            return true;
        if (now_ns() >= end)
            return false;
    }
}

static int files_client(child *c)
{
    files_args *a = c->arg;
    ipcn_node_opts o;
    node_opts(&o, a->dir);
    ipcn_node *n = NULL;
    if (ipcn_node_open(&n, "files-cli", &o) != IPCN_OK)
        return 1;
    ctl_send(c->ctl, CTL_READY);
    for (;;) {
        int b;
        while ((b = ctl_wait(&(child){.ctl = c->ctl}, 1000)) == 0)
            ;
        if (b != CTL_GO)
            break;
        files_run run = {0};
        unlink(a->dest);
        ipcn_files_result r = {.size = sizeof r};
        int st = IPCN_NOT_FOUND;
        double cpu0 = cpu_seconds();
        uint64_t t0 = now_ns(), t1 = t0;
        /* The previous round's provider may still be in the directory for a
         * moment: its requests then end with 303 (or 203) before any byte
         * moves, and the fetch is timed again from its start. */
        for (int tries = 0; tries < 20 && wait_service(n); tries++) {
            cpu0 = cpu_seconds();
            t0 = now_ns();
            st = ipcn_files_get(n, "files/big.bin", a->dest, NULL, &r);
            t1 = now_ns();
            if (st != IPCN_SERVICE_UNAVAILABLE && st != IPCN_NOT_FOUND)
                break;
            sleep_ms(20);
        }
        run.cpu_s = cpu_seconds() - cpu0;
        run.secs = (double)(t1 - t0) / 1e9;
        if (st != IPCN_OK)
            snprintf(run.err, sizeof run.err, "ipcn_files_get: %d %s", st, ipcn_status_str(st));
        else if (r.file_size != a->size || r.bytes_fetched != a->size)
            snprintf(run.err, sizeof run.err, "fetched %llu of %llu bytes",
                     (unsigned long long)r.bytes_fetched, (unsigned long long)a->size);
        else if (memcmp(r.hash, a->hash, sizeof r.hash) != 0)
            snprintf(run.err, sizeof run.err, "the content hash differs from the source's");
        else if (same_bytes(a->src, a->dest, run.err, sizeof run.err))
            run.ok = 1;
        run.resumed = r.bytes_resumed;
        run.confirmed = r.hash_confirmed;
        settle(a->dir);
        ctl_send_result(c->ctl, &run, sizeof run, NULL, 0);
    }
    ipcn_node_close(n);
    return 0;
}

/* cp src dst, timed.  Returns seconds, or -1 with err. */
static double run_cp(const files_args *a, const char *dst, char *err, size_t cap)
{
    unlink(dst);
    fflush(NULL);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        execlp("cp", "cp", a->src, dst, (char *)NULL);
        _exit(127);
    }
    int ws = 0;
    if (pid < 0 || waitpid(pid, &ws, 0) != pid) {
        snprintf(err, cap, "cannot run cp: %s", strerror(errno));
        return -1;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    struct stat sb;
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        snprintf(err, cap, "cp exited with status %d", ws);
        return -1;
    }
    if (stat(dst, &sb) != 0 || (uint64_t)sb.st_size != a->size) {
        snprintf(err, cap, "cp wrote a file of the wrong size");
        return -1;
    }
    settle(a->dir);
    return secs;
}

/* The source: size pseudo-random bytes (incompressible for any copier). */
static int make_source(const files_args *a, char *err, size_t cap)
{
    int fd = open(a->src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t bs = 4u << 20;
    uint64_t *buf = malloc(bs);
    if (fd < 0 || !buf) {
        snprintf(err, cap, "cannot create the source file: %s", strerror(errno));
        free(buf);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uint64_t seed = now_ns(), k = 0;
    for (uint64_t off = 0; off < a->size; off += bs) {
        size_t n = a->size - off < bs ? (size_t)(a->size - off) : bs;
        for (size_t i = 0; i < bs / 8; i++)
            buf[i] = mix64(seed + k++);
        if (writen(fd, buf, n) < 0) {
            snprintf(err, cap, "cannot write the source file: %s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
    }
    free(buf);
    close(fd);
    settle(a->dir);
    return 0;
}

/* One fetch by the fetching process: 0, or -1 with the row failed. */
static int fetch_once(child *cli, const files_args *a, row *r, files_run *run)
{
    ctl_send(cli->ctl, CTL_GO);
    int rc = ctl_recv_result(cli, run, sizeof *run, NULL, NULL,
                             120000 + (int)(a->size >> 20) * 200);
    if (rc < 0 || !run->ok) {
        row_fail(r, "%s", rc == -2 ? "the fetch hung" : rc < 0 ? "the fetching process died"
                                                             : run->err);
        return -1;
    }
    return 0;
}

/* Append to a row's note. */
static void note_add(row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_add(row *r, const char *fmt, ...)
{
    size_t l = strlen(r->note);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + l, sizeof r->note - l, fmt, ap);
    va_end(ap);
}

void bench_files(void)
{
    bool want_ip = want_transport("ipcnet"), want_cp = want_transport("cp");
    if (!want_ip && !want_cp)
        return;
    static files_args a;
    memset(&a, 0, sizeof a);
    a.size = g_opts.file_size ? g_opts.file_size
                              : g_opts.quick ? (uint64_t)64 << 20 : (uint64_t)1 << 30;
    a.rounds = g_opts.quick ? 1 : 3;
    char sz[32];
    size_str(a.size, sz, sizeof sz);
    row *rcp = want_cp ? row_new("files", "cp", "cp (copy_file_range)") : NULL;
    row *rcold = want_ip ? row_new("files", "ipcnet", "get-file, cold provider") : NULL;
    row *rwarm = want_ip ? row_new("files", "ipcnet", "get-file, hashes cached") : NULL;
    row *all[3] = {rcp, rcold, rwarm};
    for (int i = 0; i < 3; i++)
        if (all[i])
            all[i]->size = a.size;
    if (rcold)
        rcold->is_default = true;
    char err[256] = "";
    child cli = {0};
    double best[3] = {0, 0, 0}, cpu[3] = {0, 0, 0};
    double srv_cpu[2] = {0, 0};
    uint64_t hashed[2] = {0, 0};
    int confirmed = 0, fetches = 0;
    if (bench_tmpdir(a.dir, sizeof a.dir) < 0) {
        snprintf(err, sizeof err, "mkdtemp: %s", strerror(errno));
        goto fail_all;
    }
    snprintf(a.srv, sizeof a.srv, "%s/srv", a.dir);
    snprintf(a.src, sizeof a.src, "%s/big.bin", a.srv);
    snprintf(a.dest, sizeof a.dest, "%s/fetched.bin", a.dir);
    if (mkdir(a.srv, 0755) != 0) {
        snprintf(err, sizeof err, "mkdir: %s", strerror(errno));
        goto fail_all;
    }
    if (g_opts.verbose)
        fprintf(stderr, "files: writing a %s source file\n", sz);
    uint64_t made = now_ns();
    if (make_source(&a, err, sizeof err) < 0)
        goto fail_all;
    uint64_t hs = 0;
    int st = ipcn_files_hash(a.src, a.hash, &hs);
    if (st != IPCN_OK || hs != a.size) {
        snprintf(err, sizeof err, "ipcn_files_hash of the source: %d", st);
        goto fail_all;
    }
    if (want_ip && (child_spawn(&cli, "files-cli", 1, files_client, &a) < 0 ||
                    ctl_wait(&cli, 15000) != CTL_READY)) {
        snprintf(err, sizeof err, "the fetching process did not start");
        goto fail_all;
    }
    /* The provider caches the hashes of files whose change time is 2 s
     * old: make sure the source is, so that "warm" is warm. */
    while (now_ns() - made < 2500000000ull)
        sleep_ms(50);
    char cpdst[360];
    snprintf(cpdst, sizeof cpdst, "%s/copied.bin", a.dir);
    /* Every timed copy writes a file whose previous copy it deletes first,
     * so that cp and the fetch write into memory in the same state (on this
     * project's VM, pages freed long ago cost up to 10x more to write into
     * than pages freed a moment ago): untimed copies make the first ones. */
    if (run_cp(&a, cpdst, err, sizeof err) < 0 || run_cp(&a, a.dest, err, sizeof err) < 0)
        goto fail_all;
    for (int i = 0; i < a.rounds; i++) {
        if (rcp && rcp->status == ROW_OK) {
            double s = run_cp(&a, cpdst, err, sizeof err);
            if (s < 0) {
                row_fail(rcp, "%s", err);
            } else {
                if (g_opts.verbose)
                    fprintf(stderr, "files: round %d: cp %.3f s\n", i + 1, s);
                note_add(rcp, "%s%.3f", i ? ", " : "runs (s): ", s);
                if (!best[0] || s < best[0])
                    best[0] = s;
            }
        }
        if (!want_ip || rcold->status != ROW_OK || rwarm->status != ROW_OK)
            continue;
        child srv = {0};
        if (child_spawn(&srv, "files-srv", 0, files_server, &a) < 0 ||
            ctl_wait(&srv, 15000) != CTL_READY) {
            row_fail(rcold, "the provider did not start");
            row_set_status(rwarm, ROW_UNAVAILABLE, "the provider did not start");
            child_kill(&srv);
            continue;
        }
        for (int k = 1; k <= 2; k++) {
            row *r = k == 1 ? rcold : rwarm;
            files_run run;
            if (fetch_once(&cli, &a, r, &run) < 0)
                break;
            if (g_opts.verbose)
                fprintf(stderr, "files: round %d: get-file (%s) %.3f s, %.2f CPU s\n", i + 1,
                        k == 1 ? "cold" : "warm", run.secs, run.cpu_s);
            note_add(r, "%s%.3f", i ? ", " : "runs (s): ", run.secs);
            if (!best[k] || run.secs < best[k]) {
                best[k] = run.secs;
                cpu[k] = run.cpu_s;
            }
            confirmed += run.confirmed;
            fetches++;
        }
        files_srv_result sres = {0};
        ctl_send(srv.ctl, CTL_STOP);
        if (ctl_recv_result(&srv, &sres, sizeof sres, NULL, NULL, 10000) < 0 || !sres.ok) {
            if (rcold->status == ROW_OK)
                row_fail(rcold, "the provider %s", sres.err[0] ? sres.err : "died");
        } else {
            srv_cpu[0] += sres.cpu_s;
            hashed[0] += sres.stats.hashed;
            hashed[1] += sres.stats.bytes;
        }
        if (child_reap(&srv, 10000) < 0 && rcold->status == ROW_OK)
            row_fail(rcold, "the provider exited with wait status %d", srv.exit_status);
    }
    double gib = (double)a.size / (double)(1u << 30);
    for (int k = 0; k < 3; k++) {
        row *r = all[k];
        if (!r || r->status != ROW_OK)
            continue;
        r->rate = (double)a.size / best[k] / 1e6;
        r->aux = best[k];
        r->n = (uint64_t)a.rounds;
        if (k)
            note_add(r, "; best: fetching process %.2f CPU s per GiB", cpu[k] / gib);
    }
    if (rcold && rcold->status == ROW_OK && hashed[1])
        note_add(rcold, "; providers: %.2f GiB hashed for %.2f GiB sent, %.2f CPU s per GiB "
                 "sent; content hash confirmed by the provider in %d of %d fetches",
                 (double)hashed[0] / (double)(1u << 30), (double)hashed[1] / (double)(1u << 30),
                 srv_cpu[0] / ((double)hashed[1] / (double)(1u << 30)), confirmed, fetches);
    goto out;
fail_all:
    for (int i = 0; i < 3; i++)
        if (all[i] && all[i]->status == ROW_OK)
            row_fail(all[i], "%s", err);
out:
    if (cli.pid) {
        ctl_send(cli.ctl, CTL_STOP);
        if (child_reap(&cli, 10000) < 0 && rcold && rcold->status == ROW_OK)
            row_fail(rcold, "the fetching process exited with wait status %d", cli.exit_status);
    }
    if (a.dir[0])
        bench_rmdir(a.dir);
}

void print_files(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "files"))
            continue;
        if (!any) {
            char sz[32];
            printf("\nfiles: one %s file of random bytes, cp beside a fetch through the file "
                   "service (provider and fetching processes)\n",
                   size_str(r->size, sz, sizeof sz));
            printf("  %-9s %-24s %9s %9s %9s\n", "copier", "variant", "seconds", "MB/s",
                   "vs cp");
            any = true;
        }
        if (r->status != ROW_OK) {
            printf("  %-9s %-24s  %s: %s\n", r->transport, r->variant,
                   r->status == ROW_FAILED ? "FAILED" : "unavailable", r->note);
            continue;
        }
        char vs[16] = "-";
        for (int k = 0; k < g_nrows; k++)
            if (!strcmp(g_rows[k].bench, "files") && !strcmp(g_rows[k].transport, "cp") &&
                g_rows[k].status == ROW_OK && g_rows[k].rate > 0)
                snprintf(vs, sizeof vs, "%.2fx", r->rate / g_rows[k].rate);
        printf("  %-9s %-24s %9.3f %9.0f %9s\n", r->transport, r->variant, r->aux, r->rate,
               vs);
        printf("  %9s   %s\n", "", r->note);
    }
}

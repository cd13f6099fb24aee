/* SPDX-License-Identifier: MIT */
/*
 * files.c — `ipcnet-bench files`: a file of random bytes (1 GiB; 64 MiB
 * with --quick; --file-size) fetched through the file service
 * (ipcn_get_file from a provider process, ipcn_offer_files) beside `cp` of
 * the same file on the same machine, in the same temporary directory.
 *
 * The two take turns for 3 rounds (1 with --quick): cp, then a
 * fetch.  The first fetch finds the provider's chunk-hash cache empty (it
 * hashes every chunk it sends); the later ones find it full when the file
 * had settled (its change time 2 s old) by the time it was first read.
 * Each copy is timed from the start of the program or call to its return
 * (the data is then in the page cache, as cp leaves it); between runs the
 * file system is synced (untimed) so that one run's write-back does not
 * land on the next.  Every fetched file is compared with the source, byte
 * for byte, and its content hash with ipcn_file_hash() of the source.
 */
#include <errno.h>
#include <fcntl.h>
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
        st = ipcn_offer_files(n, "files", a->srv, 0);
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
    ipcn_files_get_stats(n, "files", &res.stats);
    res.ok = 1;
    ipcn_node_stop_thread(n);
    ipcn_unoffer_files(n, "files");
    ipcn_node_close(n);
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    return 0;
}

static int files_client(child *c)
{
    files_args *a = c->arg;
    ipcn_node_opts o;
    node_opts(&o, a->dir);
    ipcn_node *n = NULL;
    if (ipcn_node_open(&n, "files-cli", &o) != IPCN_OK)
        return 1;
    /* Until the provider's service (with its descriptor) is known. */
    uint64_t end = now_ns() + 10000000000ull;
    for (;;) {
        ipcn_resource_list *rl = NULL;
        ipcn_node_wait_synced(n, 50);
        bool known = ipcn_find(n, "files", IPCN_SERVICE, &rl) == IPCN_OK &&
                     rl->count && rl->items[0].meta_len;
        ipcn_resource_list_free(rl);
        if (known)
            break;
        if (now_ns() >= end) {
            ipcn_node_close(n);
            return 1;
        }
    }
    ctl_send(c->ctl, CTL_READY);
    for (int i = 0; i < a->rounds; i++) {
        int b;
        while ((b = ctl_wait(&(child){.ctl = c->ctl}, 1000)) == 0)
            ;
        if (b != CTL_GO)
            break;
        files_run run = {0};
        unlink(a->dest);
        ipcn_file_result r;
        double cpu0 = cpu_seconds();
        uint64_t t0 = now_ns();
        int st = ipcn_get_file(n, "files/big.bin", a->dest, NULL, &r);
        uint64_t t1 = now_ns();
        run.cpu_s = cpu_seconds() - cpu0;
        run.secs = (double)(t1 - t0) / 1e9;
        if (st != IPCN_OK)
            snprintf(run.err, sizeof run.err, "ipcn_get_file: %d %s", st, ipcn_status_str(st));
        else if (r.size != a->size || r.bytes_fetched != a->size)
            snprintf(run.err, sizeof run.err, "fetched %llu of %llu bytes",
                     (unsigned long long)r.bytes_fetched, (unsigned long long)a->size);
        else if (memcmp(r.hash, a->hash, sizeof r.hash) != 0)
            snprintf(run.err, sizeof run.err, "the content hash differs from the source's");
        else if (same_bytes(a->src, a->dest, run.err, sizeof run.err))
            run.ok = 1;
        run.resumed = r.bytes_resumed;
        run.confirmed = r.hash_confirmed;
        unlink(a->dest);
        settle(a->dir);
        ctl_send_result(c->ctl, &run, sizeof run, NULL, 0);
        if (!run.ok)
            break;
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
    unlink(dst);
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
    row *rfirst = want_ip ? row_new("files", "ipcnet", "get-file, first fetch") : NULL;
    row *ragain = want_ip && a.rounds > 1 ? row_new("files", "ipcnet", "get-file, again")
                                          : NULL;
    row *all[3] = {rcp, rfirst, ragain};
    for (int i = 0; i < 3; i++)
        if (all[i])
            all[i]->size = a.size;
    char err[256] = "";
    child srv = {0}, cli = {0};
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
    if (make_source(&a, err, sizeof err) < 0)
        goto fail_all;
    uint64_t hs = 0;
    int st = ipcn_file_hash(a.src, a.hash, &hs);
    if (st != IPCN_OK || hs != a.size) {
        snprintf(err, sizeof err, "ipcn_file_hash of the source: %d", st);
        goto fail_all;
    }
    if (want_ip) {
        if (child_spawn(&srv, "files-srv", 0, files_server, &a) < 0 ||
            ctl_wait(&srv, 15000) != CTL_READY) {
            snprintf(err, sizeof err, "the provider did not start");
            goto fail_all;
        }
        if (child_spawn(&cli, "files-cli", 1, files_client, &a) < 0 ||
            ctl_wait(&cli, 15000) != CTL_READY) {
            snprintf(err, sizeof err, "the fetching process did not start");
            goto fail_all;
        }
    }
    double cp_best = 0, first = 0, again_best = 0, cpu_first = 0, cpu_again = 0;
    int confirmed = 0;
    char cpdst[360];
    snprintf(cpdst, sizeof cpdst, "%s/copied.bin", a.dir);
    for (int i = 0; i < a.rounds; i++) {
        if (rcp && rcp->status == ROW_OK) {
            if (g_opts.verbose)
                fprintf(stderr, "files: round %d: cp\n", i + 1);
            double s = run_cp(&a, cpdst, err, sizeof err);
            if (s < 0)
                row_fail(rcp, "%s", err);
            else if (!cp_best || s < cp_best)
                cp_best = s;
        }
        if (!want_ip || rfirst->status != ROW_OK)
            continue;
        if (g_opts.verbose)
            fprintf(stderr, "files: round %d: get-file\n", i + 1);
        files_run run;
        ctl_send(cli.ctl, CTL_GO);
        int rc = ctl_recv_result(&cli, &run, sizeof run, NULL, NULL,
                                 120000 + (int)(a.size >> 20) * 200);
        row *r = i == 0 ? rfirst : ragain;
        if (rc < 0 || !run.ok) {
            row_fail(r, "%s", rc == -2 ? "the fetch hung" : rc < 0 ? "the fetching process died"
                                                                 : run.err);
            if (r == rfirst && ragain)
                row_set_status(ragain, ROW_UNAVAILABLE, "the first fetch failed");
            continue;
        }
        if (i == 0) {
            first = run.secs;
            cpu_first = run.cpu_s;
        } else if (!again_best || run.secs < again_best) {
            again_best = run.secs;
            cpu_again = run.cpu_s;
        }
        confirmed += run.confirmed;
    }
    files_srv_result sres = {0};
    if (want_ip) {
        ctl_send(srv.ctl, CTL_STOP);
        if (ctl_recv_result(&srv, &sres, sizeof sres, NULL, NULL, 10000) < 0 || !sres.ok)
            if (rfirst->status == ROW_OK)
                row_fail(rfirst, "the provider %s", sres.err[0] ? sres.err : "died");
    }
    double gib = (double)a.size / (double)(1u << 30);
    if (rcp && rcp->status == ROW_OK) {
        rcp->rate = (double)a.size / cp_best / 1e6;
        rcp->aux = cp_best;
        rcp->n = (uint64_t)a.rounds;
        snprintf(rcp->note, sizeof rcp->note, "best of %d runs of cp %s", a.rounds, sz);
    }
    if (rfirst && rfirst->status == ROW_OK) {
        rfirst->rate = (double)a.size / first / 1e6;
        rfirst->aux = first;
        rfirst->n = 1;
        rfirst->is_default = true;
        snprintf(rfirst->note, sizeof rfirst->note,
                 "the provider hashed every chunk; fetching process %.2f CPU s per GiB",
                 cpu_first / gib);
    }
    if (ragain && ragain->status == ROW_OK) {
        ragain->rate = (double)a.size / again_best / 1e6;
        ragain->aux = again_best;
        ragain->n = (uint64_t)(a.rounds - 1);
        snprintf(ragain->note, sizeof ragain->note,
                 "best of %d; fetching process %.2f CPU s per GiB", a.rounds - 1,
                 cpu_again / gib);
    }
    if (want_ip && sres.ok && rfirst->status == ROW_OK) {
        char *note = ragain && ragain->status == ROW_OK ? ragain->note : rfirst->note;
        size_t l = strlen(note);
        snprintf(note + l, sizeof rfirst->note - l,
                 "; provider: %.2f GiB hashed for %.2f GiB sent (its cache), %.2f CPU s "
                 "per GiB sent; content hash confirmed by the provider in %d of %d",
                 (double)sres.stats.hashed / (double)(1u << 30),
                 (double)sres.stats.bytes / (double)(1u << 30),
                 sres.stats.bytes ? sres.cpu_s / ((double)sres.stats.bytes / (1u << 30)) : 0,
                 confirmed, a.rounds);
    }
    goto out;
fail_all:
    for (int i = 0; i < 3; i++)
        if (all[i] && all[i]->status == ROW_OK)
            row_fail(all[i], "%s", err);
out:
    if (cli.pid && child_reap(&cli, 10000) < 0 && rfirst && rfirst->status == ROW_OK)
        row_fail(rfirst, "the fetching process exited with wait status %d", cli.exit_status);
    if (srv.pid && child_reap(&srv, 10000) < 0 && rfirst && rfirst->status == ROW_OK)
        row_fail(rfirst, "the provider exited with wait status %d", srv.exit_status);
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

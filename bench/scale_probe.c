/* SPDX-License-Identifier: MIT */
/*
 * scale_probe.c — what the scale benchmark reads of its node processes in
 * /proc: CPU (every thread's run time from /proc/<pid>/task/<tid>/schedstat,
 * utime+stime from /proc/<pid>/stat), memory (/proc/<pid>/smaps_rollup:
 * RSS, PSS, private and shared pages) and open file descriptors
 * (/proc/<pid>/fd).  The parent reads them; the node processes are its own
 * children (same user), so no privilege is needed.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* Run time (ns) and times scheduled of every thread of pid. */
static int proc_sched(pid_t pid, uint64_t *run_ns, uint64_t *slices)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[400];
        snprintf(path, sizeof path, "%s/%.300s/schedstat", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long long run, wait, sl;
        if (fscanf(f, "%llu %llu %llu", &run, &wait, &sl) == 3) {
            *run_ns += run;
            *slices += sl;
        }
        fclose(f);
    }
    closedir(d);
    return 0;
}

/* utime + stime of pid (all its threads), clock ticks. */
static uint64_t proc_ticks(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                     &ut, &st) != 2)
        return 0;
    return ut + st;
}

scale_snap scale_take(const pid_t *pids, int n)
{
    scale_snap s = {0};
    for (int i = 0; i < n; i++) {
        proc_sched(pids[i], &s.run_ns, &s.slices);
        s.ticks += proc_ticks(pids[i]);
    }
    s.t = now_ns();
    return s;
}

int scale_mem(pid_t pid, scale_memfd *m)
{
    char path[64], line[256];
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        char key[64];
        unsigned long long kb;
        if (sscanf(line, "%63[^:]: %llu kB", key, &kb) != 2)
            continue;
        if (!strcmp(key, "Rss"))
            m->rss_kib = kb, seen |= 1;
        else if (!strcmp(key, "Pss"))
            m->pss_kib = kb, seen |= 2;
        else if (!strcmp(key, "Private_Clean") || !strcmp(key, "Private_Dirty"))
            m->priv_kib += kb, seen |= 4;
        else if (!strcmp(key, "Shared_Clean") || !strcmp(key, "Shared_Dirty"))
            m->shared_kib += kb, seen |= 8;
    }
    fclose(f);
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        m->fds += e->d_name[0] != '.';
    closedir(d);
    return seen == 15 ? 0 : -1;
}

int scale_mem_all(const pid_t *pids, int n, scale_memfd *mean, scale_memfd *max)
{
    memset(mean, 0, sizeof *mean);
    memset(max, 0, sizeof *max);
    for (int i = 0; i < n; i++) {
        scale_memfd m;
        if (scale_mem(pids[i], &m) < 0)
            return -1;
        mean->rss_kib += m.rss_kib;
        mean->pss_kib += m.pss_kib;
        mean->priv_kib += m.priv_kib;
        mean->shared_kib += m.shared_kib;
        mean->fds += m.fds;
#define SCALE_MAX(f) if (m.f > max->f) max->f = m.f
        SCALE_MAX(rss_kib);
        SCALE_MAX(pss_kib);
        SCALE_MAX(priv_kib);
        SCALE_MAX(shared_kib);
        SCALE_MAX(fds);
#undef SCALE_MAX
    }
    if (n > 0) {
        mean->rss_kib /= (uint64_t)n;
        mean->pss_kib /= (uint64_t)n;
        mean->priv_kib /= (uint64_t)n;
        mean->shared_kib /= (uint64_t)n;
        mean->fds /= (uint64_t)n;
    }
    return 0;
}

void scale_fill(row *r, int nodes, const scale_snap *s0, const scale_snap *s1,
                const scale_memfd *mean)
{
    double wall = (double)(s1->t - s0->t) / 1e9;
    r->n = (uint64_t)nodes;
    r->rate = (double)(s1->run_ns - s0->run_ns) / 1e7 / wall; /* % of one core */
    r->aux = (double)(s1->slices - s0->slices) / wall;
    r->rss_kib = (double)mean->rss_kib;
    r->pss_kib = (double)mean->pss_kib;
    r->priv_kib = (double)mean->priv_kib;
    r->fds = (double)mean->fds;
}

/* SPDX-License-Identifier: MIT */
/*
 * py.c — the Python binding's speed beside C's, in the same run:
 *  - a request/reply round trip between two Python processes (a small
 *    CBOR map each way), beside the C round trip of `rtt` (64 B, two
 *    processes, the provider's own thread);
 *  - an 8 MiB float32 tensor from one Python process to a NumPy array in
 *    another, in lock-step, beside C's 8 MiB sample written into a loan
 *    (`bulk`, 1 subscriber).
 * The Python side is bench/py_bench.py (copied next to this program as
 * ipcnet-py-bench.py), run with /usr/bin/python3 and the ipcnet package
 * built in <build>/python.  Its JSON lines become rows "py"; the overhead
 * per call (Python minus C) is a ratio of main.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define PYTHON "/usr/bin/python3"

/* The number after "key": in a JSON line, or -1. */
static double json_num(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    char *end;
    double v = strtod(p, &end);
    return end == p ? -1 : v;
}

static bool json_true(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": true", key);
    return strstr(line, pat) != NULL;
}

/* This program's directory (build/bin). */
static int self_dir(char *out, size_t cap)
{
    ssize_t k = readlink("/proc/self/exe", out, cap - 1);
    if (k <= 0)
        return -1;
    out[k] = 0;
    char *slash = strrchr(out, '/');
    if (!slash)
        return -1;
    *slash = 0;
    return 0;
}

void bench_py(void)
{
    if (!want_transport("python"))
        return;
    row *rt = row_new("py", "python", "request/reply");
    row *tn = row_new("py", "python", "tensor 8 MiB");
    rt->size = 0;
    tn->size = 8u << 20;
    char dir[PATH_MAX], script[PATH_MAX + 32], pkg[PATH_MAX + 32];
    if (self_dir(dir, sizeof dir) < 0) {
        row_set_status(rt, ROW_UNAVAILABLE, "cannot find this program's directory");
        row_set_status(tn, ROW_UNAVAILABLE, "cannot find this program's directory");
        return;
    }
    snprintf(script, sizeof script, "%s/ipcnet-py-bench.py", dir);
    snprintf(pkg, sizeof pkg, "%s/../python/ipcnet/__init__.py", dir);
    const char *why = access(PYTHON, X_OK) ? PYTHON " not installed"
                      : access(script, R_OK) ? "ipcnet-py-bench.py not built"
                      : access(pkg, R_OK) ? "the ipcnet Python package not built"
                                          : NULL;
    if (why) {
        row_set_status(rt, ROW_NOT_INSTALLED, "%s", why);
        row_set_status(tn, ROW_NOT_INSTALLED, "%s", why);
        return;
    }
    char tmp[256];
    if (bench_tmpdir(tmp, sizeof tmp) < 0) {
        row_fail(rt, "mkdtemp: %s", strerror(errno));
        return;
    }
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd,
             "IPCNET_DIR='%s' PYTHONPATH='%s/../python' %s '%s'%s 2>&1", tmp, dir,
             PYTHON, script, g_opts.quick ? " --quick" : "");
    FILE *f = popen(cmd, "r");
    if (!f) {
        row_fail(rt, "popen: %s", strerror(errno));
        bench_rmdir(tmp);
        return;
    }
    char line[2048], last[512] = "";
    bool got_rtt = false, got_tensor = false;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "\"py_rtt\"")) {
            rt->has_lat = true;
            rt->p50_us = json_num(line, "median_us");
            rt->p99_us = json_num(line, "p99_us");
            rt->max_us = rt->p99_us; /* py_bench.py gives no maximum */
            rt->rate = json_num(line, "rate_hz");
            rt->n = (uint64_t)json_num(line, "n");
            got_rtt = rt->p50_us > 0;
        } else if (strstr(line, "\"py_tensor\"")) {
            tn->has_lat = true;
            tn->p50_us = json_num(line, "delivery_median_us");
            tn->p99_us = json_num(line, "delivery_p99_us");
            tn->max_us = json_num(line, "delivery_p99_us");
            tn->aux = json_num(line, "publish_median_us");
            tn->n = (uint64_t)json_num(line, "n");
            got_tensor = tn->p50_us > 0;
            if (!json_true(line, "shared") || !json_true(line, "zero_copy_view"))
                row_fail(tn, "wrong data: a received array was not a view of the "
                             "shared sample");
        } else {
            snprintf(last, sizeof last, "%.500s", line);
            last[strcspn(last, "\n")] = 0;
        }
    }
    int rc = pclose(f);
    bench_rmdir(tmp);
    if (!got_rtt)
        row_fail(rt, "py_bench.py gave no round trip (exit %d): %s", rc, last);
    if (!got_tensor && tn->status == ROW_OK)
        row_fail(tn, "py_bench.py gave no tensor figure (exit %d): %s", rc, last);
}

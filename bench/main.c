/* SPDX-License-Identifier: MIT */
/*
 * main.c — ipcnet-bench: IPCNet measured beside a raw Unix-domain socket
 * (the floor) and the peers it is compared with (ZeroMQ, NNG, iceoryx); its
 * CBOR codec beside libcbor and cbor2.
 *
 *   ipcnet-bench rtt|thr|bulk|idle|scale|cbor|takeover|all [options]
 *
 * Prints one table (or with --json one JSON object) and exits 0 when every
 * message and sample it moved was checked correct; 1 when something was
 * wrong (bytes, counts, a crash or a hang); 2 for a usage error.  Timings
 * never fail a run: the targets are reported, not asserted.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

static const char usage[] =
    "usage: ipcnet-bench <command> [options]\n"
    "\n"
    "commands:\n"
    "  rtt    request/reply round trip (64 B, or --size): IPCNet (blocking, the same\n"
    "         with a 100-rule network policy, with limits that never trigger,\n"
    "         and low-latency mode), raw UDS\n"
    "         socketpair (the floor), ZeroMQ REQ/REP, NNG req0/rep0, iceoryx\n"
    "         request/response (busy poll, waitset)\n"
    "  thr    one-way 64 B throughput (1 M messages): IPCNet pub/sub (also with a\n"
    "         100-rule network policy, with limits that never trigger, and with\n"
    "         provenance on: a record per sample, docs/protocol.md 20), raw\n"
    "         UDS stream, ZeroMQ PUSH/PULL\n"
    "  bulk   64 KiB..64 MiB samples, 1 publisher to 1 and 4 subscribers:\n"
    "         IPCNet, ZeroMQ PUB/SUB, NNG pub0/sub0, iceoryx\n"
    "  idle   CPU of an idle node linked to 2 idle peers\n"
    "  scale  N node processes, all linked (N = 10, 50, 100, 200): idle CPU, memory\n"
    "         and fds per node, a new node's sync, a killed node's drop; ZeroMQ beside\n"
    "  cbor   CBOR encode/decode of a 100-field map and a 1 MiB float32 tensor:\n"
    "         IPCNet, libcbor, cbor2 (/usr/bin/python3, for reference)\n"
    "  py     the Python binding: a request/reply round trip and an 8 MiB tensor between\n"
    "         two Python processes, beside C's (rtt 64 B, bulk 8 MiB loan) in the same run\n"
    "  files  a 1 GiB file (64 MiB with --quick) fetched through the file service\n"
    "         (ipcn_files_get), beside cp of the same file\n"
    "  record `ipcnet record` of 64 B and 8 MiB samples into MCAP (zstd): messages/s\n"
    "         and MB/s, beside the disk's write speed by dd in the same run\n"
    "  net    two hosts: two network namespaces joined by a veth pair (root; the\n"
    "         rows say \"unavailable\" where namespaces are refused): a 64 B round\n"
    "         trip and 8 MiB samples over raw TCP (the floor), ZeroMQ tcp:// and\n"
    "         IPCNet gateway to gateway (TCP with Noise)\n"
    "  takeover  an owned stream at 1 kHz from a strong and a weak hot standby: the\n"
    "         subscriber's gap when the strong is killed (kill -9, 20 times) or hangs\n"
    "         (SIGSTOP, 5 times), and when it takes back over\n"
    "  all    everything, one table\n"
    "\n"
    "options:\n"
    "  --cpus LIST      pin the processes: the k-th of a benchmark to LIST[k % n]\n"
    "                   (0,1: server/publisher on 0, client/subscriber on 1)\n"
    "  --quick          smoke mode: seconds; checks every byte, times nothing useful\n"
    "  --json           print one JSON object instead of the table\n"
    "  --json-file F    also write that JSON object to the file F\n"
    "  --size N         rtt message size (64; K/M suffixes)\n"
    "  --iters N        rtt round trips measured (50000), split over the rounds\n"
    "  --rounds N       rtt: transports take turns, N rounds each (5)\n"
    "  --spin-us N      rtt: spin_us of IPCNet's low-latency row (1000)\n"
    "  --msgs N         thr messages (1000000)\n"
    "  --sizes LIST     bulk sample sizes (64K,1M,8M,16M-1K,64M)\n"
    "  --subs LIST      bulk subscriber counts (1,4)\n"
    "  --only LIST      transports: ipcnet,uds,zmq,nng,iceoryx (cbor: ipcnet,libcbor,cbor2;\n"
    "                   net: ipcnet,tcp,zmq)\n"
    "  --idle-seconds S idle measurement (2)\n"
    "  --nodes LIST     scale: node counts (10,50,100,200; --quick: 4,8)\n"
    "  --scale-seconds S scale: the measured window (5; --quick: 1)\n"
    "  --file-size N    files: the file's size (1G; K/M/G suffixes)\n"
    "  --heartbeat-ms N, --dead-after-ms N  takeover: the nodes' liveness (200, 900)\n"
    "  -v               progress on stderr\n"
    "\n"
    "exit status: 0 all data checked correct, 1 wrong data / crash / hang, 2 usage\n";

/* ---- options ---- */

static int parse_list_int(const char *s, int *out, int max)
{
    int n = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end || v < 0 || n >= max) {
            free(copy);
            return -1;
        }
        out[n++] = (int)v;
    }
    free(copy);
    return n;
}

static int parse_list_size(const char *s, size_t *out, int max)
{
    int n = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n >= max || parse_size(t, &out[n]) < 0 || out[n] < 64) {
            free(copy);
            return -1;
        }
        n++;
    }
    free(copy);
    return n;
}

static void on_signal(int sig)
{
    (void)sig;
    children_kill_all();
    iox_roudi_stop();
    bench_rmdir_all();
    bench_net_cleanup();
    _exit(130);
}

/* ---- machine ---- */

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(out, cap, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

typedef struct machine {
    char cpu[256];
    long cores;
    char kernel[256];
    double load[3];
    char date[64];
} machine;

static void machine_info(machine *m)
{
    cpu_model(m->cpu, sizeof m->cpu);
    m->cores = sysconf(_SC_NPROCESSORS_ONLN);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    if (getloadavg(m->load, 3) < 0)
        m->load[0] = m->load[1] = m->load[2] = -1;
    time_t t = time(NULL);
    strftime(m->date, sizeof m->date, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
}

/* ---- lookups for the ratios ---- */

static row *find_row(const char *bench, const char *transport, uint64_t size, int subs,
                     bool want_default)
{
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, bench) || strcmp(r->transport, transport))
            continue;
        if (size && r->size != size)
            continue;
        if (subs && r->subs != subs)
            continue;
        if (want_default && !r->is_default && !strcmp(transport, "ipcnet") &&
            strcmp(bench, "bulk") && strcmp(bench, "idle") && strcmp(bench, "scale"))
            continue;
        return r;
    }
    return NULL;
}

typedef struct ratio {
    char name[48];
    char what[160];
    char target[24];
    double value;     /* NAN when not measurable */
    bool higher_better;
    double limit;
    char why[160];    /* when not measurable */
    char unit[4];     /* "x"; "%" for the idle CPU, "us" for a latency */
    bool strict;      /* the value must be below (above) the limit */
} ratio;

static ratio g_ratios[48];
static int g_nratios;

static bool ratio_met(const ratio *q)
{
    if (isnan(q->value))
        return false;
    if (q->strict)
        return q->higher_better ? q->value > q->limit : q->value < q->limit;
    return q->higher_better ? q->value >= q->limit : q->value <= q->limit;
}

/* The rtt row of transport at size whose variant contains part. */
static row *find_variant(const char *transport, uint64_t size, const char *part)
{
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (!strcmp(r->bench, "rtt") && !strcmp(r->transport, transport) &&
            r->size == size && strstr(r->variant, part))
            return r;
    }
    return NULL;
}

static void add_ratio(const char *name, const char *what, const char *target,
                      bool higher_better, double limit, const row *a, const row *b,
                      double va, double vb)
{
    ratio *q = &g_ratios[g_nratios++];
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name);
    snprintf(q->what, sizeof q->what, "%s", what);
    snprintf(q->target, sizeof q->target, "%s", target);
    q->higher_better = higher_better;
    q->limit = limit;
    q->value = NAN;
    snprintf(q->unit, sizeof q->unit, "x");
    if (!a || a->status != ROW_OK) {
        snprintf(q->why, sizeof q->why, "IPCNet figure missing (%.100s)",
                 a ? a->note : "not run");
        return;
    }
    if (!b || b->status != ROW_OK) {
        snprintf(q->why, sizeof q->why, "%s figure missing (%.100s)",
                 b ? b->transport : "peer", b ? b->note : "not run");
        return;
    }
    if (vb > 0)
        q->value = va / vb;
}

/* Latency flatness of the loan variant with (sum) or without the
 * publish-time checksum. */
static void flatness(int sum)
{
    row *lo = NULL, *hi = NULL, *missing = NULL;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "bulk") || strcmp(r->transport, "ipcnet") ||
            r->subs != 1 || !strstr(r->variant, "loan") ||
            (strstr(r->variant, "no checksum") == NULL) != (sum != 0))
            continue;
        if (r->status != ROW_OK) {
            if (!missing)
                missing = r;
            continue;
        }
        if (!lo || r->size < lo->size)
            lo = r;
        if (!hi || r->size > hi->size)
            hi = r;
    }
    if (lo && hi && lo->size < hi->size) {
        char what[160], s1[32], s2[32];
        snprintf(what, sizeof what, "bulk p50 latency, 1 sub, IPCNet loans%s %s / %s",
                 sum ? "" : " no checksum", size_str(hi->size, s1, sizeof s1),
                 size_str(lo->size, s2, sizeof s2));
        add_ratio(sum ? "bulk_latency_flatness" : "bulk_latency_flatness_nosum", what,
                  "<= 2x", false, 2.0, hi, lo, hi->p50_us, lo->p50_us);
        if (missing) {
            ratio *q = &g_ratios[g_nratios - 1];
            char s3[32];
            snprintf(q->why, sizeof q->why, "%s not measured: %.100s",
                     size_str(missing->size, s3, sizeof s3), missing->note);
        }
    }
}

/* The Python binding beside C, with the overhead per call in words. */
static void py_ratios(void)
{
    row *pr = NULL, *pt = NULL, *cl = NULL;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (!strcmp(r->bench, "py"))
            *(strstr(r->variant, "tensor") ? &pt : &pr) = r;
        else if (!strcmp(r->bench, "bulk") && !strcmp(r->transport, "ipcnet") &&
                 !strcmp(r->variant, "pub/sub, loan") && r->size == (8u << 20) &&
                 r->subs == 1)
            cl = r;
    }
    row *cr = find_row("rtt", "ipcnet", 64, 0, true);
    if (pr) {
        add_ratio("py_rtt_vs_c", "request/reply p50, Python / C", "(reported)", false, 0,
                  pr, cr, pr->p50_us, cr ? cr->p50_us : 0);
        ratio *q = &g_ratios[g_nratios - 1];
        if (!isnan(q->value))
            snprintf(q->what, sizeof q->what,
                     "request/reply p50, Python / C (%+.1f us per call in Python)",
                     pr->p50_us - cr->p50_us);
    }
    if (pt) {
        add_ratio("py_tensor8m_vs_c", "8 MiB tensor delivery p50, Python / C loan",
                  "(reported)", false, 0, pt, cl, pt->p50_us, cl ? cl->p50_us : 0);
        ratio *q = &g_ratios[g_nratios - 1];
        if (!isnan(q->value))
            snprintf(q->what, sizeof q->what,
                     "8 MiB tensor delivery p50, Python / C loan (%+.1f us in Python)",
                     pt->p50_us - cl->p50_us);
    }
}

/* The better IPCNet row of bench at 64 B whose variant names tag (the
 * 100-rule policy, the limits), or, tag NULL, names neither: rtt its lowest
 * p50 among the blocking modes, thr its highest received rate. */
static row *best_policy_row(const char *bench, const char *tag)
{
    row *best = NULL;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        bool has_policy = strstr(r->variant, BENCH_POLICY_VARIANT) != NULL;
        bool has_limits = strstr(r->variant, BENCH_LIMITS_VARIANT) != NULL;
        bool want = tag ? strstr(r->variant, tag) != NULL
                        : !has_policy && !has_limits;
        if (strcmp(r->bench, bench) || strcmp(r->transport, "ipcnet") || r->size != 64 ||
            strstr(r->variant, "low latency") || !want)
            continue;
        if (!best || (best->status != ROW_OK && r->status == ROW_OK))
            best = r;
        else if (r->status == ROW_OK &&
                 (!strcmp(bench, "rtt") ? r->p50_us < best->p50_us
                                        : r->rx_rate > best->rx_rate))
            best = r;
    }
    return best;
}

/* Issue 14: the gate with a 100-rule policy adds at most 5 %. */
static void policy_ratios(void)
{
    /* Each side: the better blocking mode (rtt), the better receiver (thr). */
    row *rp = best_policy_row("rtt", BENCH_POLICY_VARIANT),
        *rn = best_policy_row("rtt", NULL);
    if (rp)
        add_ratio("rtt64_policy_vs_none", "64 B round trip p50, 100-rule policy / none",
                  "<= 1.05x", false, 1.05, rp, rn, rp->p50_us, rn ? rn->p50_us : 0);
    row *tp = best_policy_row("thr", BENCH_POLICY_VARIANT),
        *tn = best_policy_row("thr", NULL);
    if (tp)
        add_ratio("thr64_policy_vs_none", "64 B one-way, received msg/s, 100-rule policy / none",
                  ">= 0.95x", true, 0.95, tp, tn, tp->rx_rate, tn ? tn->rx_rate : 0);
    /* Issue 15: limits that apply to every frame and never trigger add at
     * most 5 %. */
    row *rl = best_policy_row("rtt", BENCH_LIMITS_VARIANT);
    if (rl)
        add_ratio("rtt64_limits_vs_none", "64 B round trip p50, limits / none",
                  "<= 1.05x", false, 1.05, rl, rn, rl->p50_us, rn ? rn->p50_us : 0);
    row *tl = best_policy_row("thr", BENCH_LIMITS_VARIANT);
    if (tl)
        add_ratio("thr64_limits_vs_none", "64 B one-way, received msg/s, limits / none",
                  ">= 0.95x", true, 0.95, tl, tn, tl->rx_rate, tn ? tn->rx_rate : 0);
}

/* Issue 18: IPCNet between two hosts (gateway to gateway) beside raw TCP
 * and ZeroMQ tcp:// over the same veth pair, in the same run. */
static void net_ratios(void)
{
    row *ip = find_row("net-rtt", "ipcnet", 0, 0, false);
    row *tcp = find_row("net-rtt", "tcp", 0, 0, false);
    row *zmq = find_row("net-rtt", "zmq", 0, 0, false);
    if (ip) {
        add_ratio("net_rtt64_vs_tcp", "between hosts: 64 B round trip p50, IPCNet (gateway "
                  "to gateway, Noise) / raw TCP", "<= 1.3x", false, 1.3, ip, tcp, ip->p50_us,
                  tcp ? tcp->p50_us : 0);
        add_ratio("net_rtt64_vs_zmq", "between hosts: 64 B round trip p50, IPCNet / ZeroMQ "
                  "REQ/REP tcp://", "(reported)", false, 0, ip, zmq, ip->p50_us,
                  zmq ? zmq->p50_us : 0);
    }
    ip = find_row("net-bulk", "ipcnet", 0, 0, false);
    tcp = find_row("net-bulk", "tcp", 0, 0, false);
    zmq = find_row("net-bulk", "zmq", 0, 0, false);
    if (ip) {
        add_ratio("net_bulk8m_vs_tcp", "between hosts: 8 MiB samples/s, IPCNet (gateway to "
                  "gateway, Noise) / raw TCP", ">= 0.7x", true, 0.7, ip, tcp, ip->rate,
                  tcp ? tcp->rate : 0);
        add_ratio("net_bulk8m_vs_zmq", "between hosts: 8 MiB samples/s, IPCNet / ZeroMQ "
                  "PUB/SUB tcp://", "(reported)", true, 0, ip, zmq, ip->rate,
                  zmq ? zmq->rate : 0);
    }
}

static void compute_ratios(void)
{
    g_nratios = 0;
    row *ip = find_row("rtt", "ipcnet", 64, 0, true);
    row *uds = find_row("rtt", "uds", 64, 0, false);
    row *zmq = find_row("rtt", "zmq", 64, 0, false);
    row *nng = find_row("rtt", "nng", 64, 0, false);
    if (ip || uds) {
        add_ratio("rtt64_p50_vs_uds", "64 B round trip p50, IPCNet / raw UDS ping-pong",
                  "<= 1.2x", false, 1.2, ip, uds, ip ? ip->p50_us : 0,
                  uds ? uds->p50_us : 0);
        add_ratio("rtt64_p50_vs_zmq", "64 B round trip p50, IPCNet / ZeroMQ REQ/REP",
                  "<= 0.7x", false, 0.7, ip, zmq, ip ? ip->p50_us : 0,
                  zmq ? zmq->p50_us : 0);
        add_ratio("rtt64_p50_vs_nng", "64 B round trip p50, IPCNet / NNG req0/rep0",
                  "<= 0.5x", false, 0.5, ip, nng, ip ? ip->p50_us : 0,
                  nng ? nng->p50_us : 0);
    }
    /* Low-latency mode: an absolute target, and the figure beside
     * iceoryx's busy-polling request/response. */
    row *ll = find_variant("ipcnet", 64, "low latency");
    row *ibusy = find_variant("iceoryx", 64, "busy poll");
    if (ll) {
        ratio *q = &g_ratios[g_nratios++];
        memset(q, 0, sizeof *q);
        snprintf(q->name, sizeof q->name, "rtt64_lowlat_p50");
        snprintf(q->what, sizeof q->what, "64 B round trip p50, IPCNet low-latency mode "
                 "(spin_us %u)", (unsigned)g_opts.spin_us);
        snprintf(q->target, sizeof q->target, "< 1 us");
        snprintf(q->unit, sizeof q->unit, "us");
        q->limit = 1.0;
        q->strict = true;
        q->value = ll->status == ROW_OK ? ll->p50_us : NAN;
        if (ll->status != ROW_OK)
            snprintf(q->why, sizeof q->why, "%.150s", ll->note);
        add_ratio("rtt64_lowlat_p50_vs_iox",
                  "64 B round trip p50, IPCNet low-latency / iceoryx req/res busy poll",
                  "(reported)", false, 0, ll, ibusy, ll->p50_us, ibusy ? ibusy->p50_us : 0);
    }
    row *tip = find_row("thr", "ipcnet", 0, 0, true);
    row *tzmq = find_row("thr", "zmq", 0, 0, false);
    row *tuds = find_row("thr", "uds", 0, 0, false);
    if (tip) {
        add_ratio("thr64_vs_zmq", "64 B one-way, received msg/s, IPCNet / ZeroMQ PUSH/PULL",
                  ">= 2x", true, 2.0, tip, tzmq, tip->rx_rate, tzmq ? tzmq->rx_rate : 0);
        add_ratio("thr64_vs_uds", "64 B one-way, received msg/s, IPCNet / raw UDS stream",
                  "(floor)", true, 0, tip, tuds, tip->rx_rate, tuds ? tuds->rx_rate : 0);
    }
    policy_ratios();
    row *b8 = find_row("bulk", "ipcnet", 8u << 20, 1, false);
    row *bz8 = find_row("bulk", "zmq", 8u << 20, 1, false);
    if (b8)
        add_ratio("bulk8m_1sub_vs_zmq", "8 MiB samples, 1 subscriber, samples/s, IPCNet / "
                  "ZeroMQ", ">= 10x", true, 10.0, b8, bz8, b8->rate, bz8 ? bz8->rate : 0);
    /* Latency flatness: largest / smallest p50 of IPCNet over the sizes,
     * 1 subscriber, samples written into loans (the zero-copy way: with
     * ipcn_publish() the copy into the slot grows with the size); every
     * size must have been measured. */
    for (int sum = 1; sum >= 0; sum--)
        flatness(sum);
    py_ratios();
    net_ratios();
    /* CBOR: IPCNet / libcbor, ns per operation (reported, no target). */
    static const char *const cases[2] = {"map", "tensor"};
    for (int c = 0; c < 2; c++) {
        row *ci = NULL, *cl = NULL;
        for (int i = 0; i < g_nrows; i++) {
            row *r = &g_rows[i];
            if (strcmp(r->bench, "cbor") || strcmp(r->variant, cases[c]))
                continue;
            if (!strcmp(r->transport, "ipcnet"))
                ci = r;
            else if (!strcmp(r->transport, "libcbor"))
                cl = r;
        }
        if (!ci)
            continue;
        for (int k = 0; k < 2; k++) {
            char name[48], what[160];
            snprintf(name, sizeof name, "cbor_%s_%s_vs_libcbor", cases[c],
                     k ? "decode" : "encode");
            snprintf(what, sizeof what, "CBOR %s %s, ns/op, IPCNet / libcbor",
                     c ? "1 MiB float32 tensor" : "100-field map", k ? "decode" : "encode");
            add_ratio(name, what, "(reported)", false, 0, ci, cl, k ? ci->dec_ns : ci->enc_ns,
                      cl ? (k ? cl->dec_ns : cl->enc_ns) : 0);
        }
    }
    /* Files: a fetch from a cold provider (hashing every chunk) against the
     * best cp of the same file. */
    row *fip = find_row("files", "ipcnet", 0, 0, true);
    row *fcp = find_row("files", "cp", 0, 0, false);
    if (fip) {
        char what[160], sz[32];
        snprintf(what, sizeof what, "%s file, MB/s, get-file (cold provider) / cp",
                 size_str(fip->size, sz, sizeof sz));
        add_ratio("files_vs_cp", what, ">= 0.5x", true, 0.5, fip, fcp, fip->rate,
                  fcp ? fcp->rate : 0);
    }
    /* Idle: "0 %" is met when the figure rounds to 0.0 %. */
    row *idle = find_row("idle", "ipcnet", 0, 0, false);
    if (idle) {
        ratio *q = &g_ratios[g_nratios++];
        memset(q, 0, sizeof *q);
        snprintf(q->name, sizeof q->name, "idle_cpu");
        snprintf(q->what, sizeof q->what, "idle node CPU, %% of one core (2 idle peers, "
                 "heartbeats on)");
        snprintf(q->target, sizeof q->target, "0%%");
        snprintf(q->unit, sizeof q->unit, "%%");
        q->limit = 0.05;
        q->value = idle->status == ROW_OK ? idle->rate : NAN;
        if (idle->status != ROW_OK)
            snprintf(q->why, sizeof q->why, "%.150s", idle->note);
    }
    /* Scale (issue 12): 100 idle nodes together under 1 % of one core. */
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "scale") || strcmp(r->transport, "ipcnet") || r->n != 100)
            continue;
        ratio *q = &g_ratios[g_nratios++];
        memset(q, 0, sizeof *q);
        snprintf(q->name, sizeof q->name, "scale100_idle_cpu");
        snprintf(q->what, sizeof q->what, "100 idle nodes together, %% of one core");
        snprintf(q->target, sizeof q->target, "< 1%%");
        snprintf(q->unit, sizeof q->unit, "%%");
        q->limit = 1.0;
        q->strict = true;
        q->value = r->status == ROW_OK ? r->rate : NAN;
        if (r->status != ROW_OK)
            snprintf(q->why, sizeof q->why, "%.150s", r->note);
    }
}

/* ---- the table ---- */

static const char *status_word(int st)
{
    switch (st) {
    case ROW_OK: return "ok";
    case ROW_NOT_INSTALLED: return "not installed";
    case ROW_NOT_SUPPORTED: return "not supported yet";
    case ROW_UNAVAILABLE: return "unavailable";
    default: return "FAILED";
    }
}

static void fmt_num(char *out, size_t cap, double v)
{
    if (v >= 1e6)
        snprintf(out, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(out, cap, "%.1fk", v / 1e3);
    else if (v >= 100)
        snprintf(out, cap, "%.0f", v);
    else
        snprintf(out, cap, "%.1f", v);
}

static void fmt_us(char *out, size_t cap, double v)
{
    if (v >= 100000)
        snprintf(out, cap, "%.0f", v);
    else if (v >= 100)
        snprintf(out, cap, "%.0f", v);
    else
        snprintf(out, cap, "%.1f", v);
}

static void print_rtt(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "rtt"))
            continue;
        if (!any) {
            printf("\nrtt: request/reply round trip (client and server processes), "
                   "%ld measured\n", g_opts.rtt_iters);
            printf("  %-9s %-32s %8s %8s %8s %9s %9s %10s\n", "transport", "variant",
                   "size", "p50 us", "p99 us", "max us", "trips/s", "p50/floor");
            any = true;
        }
        char sz[32];
        size_str(r->size, sz, sizeof sz);
        if (r->status != ROW_OK) {
            printf("  %-9s %-32s %8s  %s: %s\n", r->transport, r->variant, sz,
                   status_word(r->status), r->note);
            continue;
        }
        row *floor = find_row("rtt", "uds", r->size, 0, false);
        char a[16], b[16], c[16], d[16], e[16] = "-";
        fmt_us(a, sizeof a, r->p50_us);
        fmt_us(b, sizeof b, r->p99_us);
        fmt_us(c, sizeof c, r->max_us);
        fmt_num(d, sizeof d, r->rate);
        if (floor && floor->status == ROW_OK && floor->p50_us > 0)
            snprintf(e, sizeof e, "%.2fx", r->p50_us / floor->p50_us);
        char tr[40];
        snprintf(tr, sizeof tr, "%s%s", r->transport, r->is_default ? " *" : "");
        printf("  %-9s %-32s %8s %8s %8s %9s %9s %10s\n", tr, r->variant, sz, a, b, c, d,
               e);
    }
    if (!any)
        return;
    printf("  * the default figure of IPCNet: the better of its two blocking provider "
           "modes\n");
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (!strcmp(r->bench, "rtt") && r->status == ROW_OK && r->note[0] &&
            (strstr(r->variant, "low latency") || !strcmp(r->transport, "iceoryx")))
            printf("  %s %s: %s\n", r->transport, r->variant, r->note);
    }
}

static void print_thr(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "thr"))
            continue;
        if (!any) {
            printf("\nthr: one-way 64 B messages, sender and receiver processes, %ld sent\n",
                   g_opts.thr_msgs);
            printf("  %-9s %-34s %9s %10s %11s %8s\n", "transport", "variant", "arrived",
                   "sent/s", "received/s", "rx MB/s");
            any = true;
        }
        if (r->status != ROW_OK) {
            printf("  %-9s %-34s  %s: %s\n", r->transport, r->variant,
                   status_word(r->status), r->note);
            continue;
        }
        char a[16], b[16], c[16];
        fmt_num(a, sizeof a, r->rate);
        fmt_num(b, sizeof b, r->rx_rate);
        snprintf(c, sizeof c, "%.1f", r->rx_rate * (double)r->size / 1e6);
        char tr[40];
        snprintf(tr, sizeof tr, "%s%s", r->transport, r->is_default ? " *" : "");
        printf("  %-9s %-34s %9llu %10s %11s %8s\n", tr, r->variant,
               (unsigned long long)r->arrived, a, b, c);
        if (!strcmp(r->transport, "ipcnet") && r->note[0])
            printf("  %9s   %s\n", "", r->note);
    }
    if (any)
        printf("  * the default figure of IPCNet: the better of its two receive modes\n");
}

static void print_bulk(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "bulk"))
            continue;
        if (!any) {
            printf("\nbulk: one publisher process, N subscriber processes; latency = "
                   "receive - send, one sample at a time;\n      samples/s with a window "
                   "of samples in flight (to the slowest subscriber)\n");
            printf("  %-13s %4s %-17s %9s %9s %9s %10s %9s\n", "size", "subs",
                   "transport", "p50 us", "p99 us", "max us", "samples/s", "GB/s/sub");
            any = true;
        }
        char sz[32], tr[48];
        size_str(r->size, sz, sizeof sz);
        /* IPCNet's variants: plain publish (a copy into the slot), loans. */
        const char *v = strstr(r->variant, "loan");
        snprintf(tr, sizeof tr, "%s%s%s", r->transport,
                 v ? " " : "",
                 !v ? "" : strstr(v, "no checksum") ? "loan-nosum" : "loan");
        if (r->status != ROW_OK) {
            printf("  %-13s %4d %-17s  %s: %s\n", sz, r->subs, tr,
                   status_word(r->status), r->note);
            continue;
        }
        char a[16], b[16], c[16], d[16], e[16];
        fmt_us(a, sizeof a, r->p50_us);
        fmt_us(b, sizeof b, r->p99_us);
        fmt_us(c, sizeof c, r->max_us);
        fmt_num(d, sizeof d, r->rate);
        snprintf(e, sizeof e, "%.2f", r->rate * (double)r->size / 1e9);
        printf("  %-13s %4d %-17s %9s %9s %9s %10s %9s\n", sz, r->subs, tr, a, b, c, d,
               e);
    }
}

/* net: the two benchmarks between network namespaces, one table each. */
static void print_net(void)
{
    for (int b = 0; b < 2; b++) {
        const char *bench = b ? "net-bulk" : "net-rtt";
        row *floor = find_row(bench, "tcp", 0, 0, false);
        bool any = false;
        for (int i = 0; i < g_nrows; i++) {
            row *r = &g_rows[i];
            if (strcmp(r->bench, bench))
                continue;
            if (!any) {
                printf("\n%s: %s, over a veth pair between two network namespaces\n", bench,
                       b ? "8 MiB samples, 1 publisher, 1 subscriber (latency one at a "
                           "time; samples/s with a window)"
                         : "64 B request/reply round trip");
                printf("  %-9s %-30s %8s %8s %8s %10s %9s %10s\n", "transport", "variant",
                       "p50 us", "p99 us", "max us", b ? "samples/s" : "trips/s",
                       b ? "MB/s" : "", b ? "rate/floor" : "p50/floor");
                any = true;
            }
            if (r->status != ROW_OK) {
                printf("  %-9s %-30s  %s: %s\n", r->transport, r->variant,
                       status_word(r->status), r->note);
                continue;
            }
            char p50[16], p99[16], mx[16], rate[16], mb[16] = "", rel[16] = "-";
            fmt_us(p50, sizeof p50, r->p50_us);
            fmt_us(p99, sizeof p99, r->p99_us);
            fmt_us(mx, sizeof mx, r->max_us);
            fmt_num(rate, sizeof rate, r->rate);
            if (b)
                snprintf(mb, sizeof mb, "%.0f", r->rate * (double)r->size / 1e6);
            if (floor && floor->status == ROW_OK) {
                if (b && floor->rate > 0)
                    snprintf(rel, sizeof rel, "%.2fx", r->rate / floor->rate);
                else if (!b && floor->p50_us > 0)
                    snprintf(rel, sizeof rel, "%.2fx", r->p50_us / floor->p50_us);
            }
            printf("  %-9s %-30s %8s %8s %8s %10s %9s %10s\n", r->transport, r->variant, p50,
                   p99, mx, rate, mb, rel);
        }
    }
}

static void print_idle(void)
{
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "idle"))
            continue;
        printf("\nidle: %s\n", r->variant);
        if (r->status != ROW_OK)
            printf("  %s: %s\n", status_word(r->status), r->note);
        else
            printf("  CPU %.3f %% of one core, %.1f wake-ups/s (%s)\n", r->rate, r->aux,
                   r->note);
    }
}

static void print_scale(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "scale"))
            continue;
        if (!any) {
            printf("\nscale: N idle node processes, each announcing one resource, all "
                   "linked; CPU of all of them together, memory and fds per node (mean), a "
                   "new node's sync, a killed node's drop (p50, max over the N)\n");
            any = true;
        }
        char sync[32] = "-", drop[48] = "-";
        if (r->sync_ms >= 0)
            snprintf(sync, sizeof sync, "%.1f ms", r->sync_ms);
        if (r->has_lat)
            snprintf(drop, sizeof drop, "p50 %.2f ms max %.2f ms", r->p50_us / 1e3,
                     r->max_us / 1e3);
        if (r->status != ROW_OK)
            printf("  %-8s %-15s %s: %s\n", r->transport, r->variant, status_word(r->status),
                   r->note);
        else
            printf("  %-8s %-15s CPU %.3f %% of one core, %.1f wake-ups/s; per node RSS "
                   "%.0f KiB, PSS %.0f KiB, private %.0f KiB, %.0f fds; sync %s; drop %s "
                   "(%s)\n", r->transport, r->variant, r->rate, r->aux, r->rss_kib,
                   r->pss_kib, r->priv_kib, r->fds, sync, drop, r->note);
    }
}

static void fmt_ns(char *out, size_t cap, double ns)
{
    if (ns >= 1e5)
        snprintf(out, cap, "%.0f us", ns / 1e3);
    else if (ns >= 1e4)
        snprintf(out, cap, "%.1f us", ns / 1e3);
    else if (ns >= 1e3)
        snprintf(out, cap, "%.2f us", ns / 1e3);
    else
        snprintf(out, cap, "%.0f ns", ns);
}

static void print_cbor(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "cbor"))
            continue;
        if (!any) {
            printf("\ncbor: per operation; map = 100 fields, tensor = 1 MiB float32 [512, 512]"
                   " (MB/s of the payload)\n");
            printf("  %-7s %-8s %9s %10s %10s %9s %9s %8s %8s\n", "case", "impl", "bytes",
                   "encode", "decode", "enc MB/s", "dec MB/s", "enc/lc", "dec/lc");
            any = true;
        }
        if (r->status != ROW_OK) {
            printf("  %-7s %-8s  %s: %s\n", r->variant, r->transport, status_word(r->status),
                   r->note);
            continue;
        }
        bool tensor = !strcmp(r->variant, "tensor");
        char e[16], d[16], em[16] = "-", dm[16] = "-", re[16] = "-", rd[16] = "-";
        fmt_ns(e, sizeof e, r->enc_ns);
        fmt_ns(d, sizeof d, r->dec_ns);
        if (tensor) {
            snprintf(em, sizeof em, "%.0f", 1048576.0 / r->enc_ns * 1e3);
            snprintf(dm, sizeof dm, "%.0f", 1048576.0 / r->dec_ns * 1e3);
        }
        row *lc = NULL;
        for (int k = 0; k < g_nrows; k++)
            if (!strcmp(g_rows[k].bench, "cbor") && !strcmp(g_rows[k].transport, "libcbor") &&
                !strcmp(g_rows[k].variant, r->variant) && g_rows[k].status == ROW_OK)
                lc = &g_rows[k];
        if (lc && strcmp(r->transport, "libcbor")) {
            snprintf(re, sizeof re, "%.2fx", r->enc_ns / lc->enc_ns);
            snprintf(rd, sizeof rd, "%.2fx", r->dec_ns / lc->dec_ns);
        }
        printf("  %-7s %-8s %9llu %10s %10s %9s %9s %8s %8s\n", r->variant, r->transport,
               (unsigned long long)r->size, e, d, em, dm, re, rd);
    }
    if (!any)
        return;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (!strcmp(r->bench, "cbor") && r->status == ROW_OK && r->note[0])
            printf("  %-7s %-8s  %s\n", r->variant, r->transport, r->note);
    }
    printf("  enc/lc, dec/lc: time / libcbor's time (below 1: faster than libcbor)\n");
}

static void print_targets(void)
{
    if (!g_nratios)
        return;
    printf("\ntargets (ratios from this run):\n");
    for (int i = 0; i < g_nratios; i++) {
        ratio *q = &g_ratios[i];
        bool pct = q->unit[0] == '%';
        if (isnan(q->value))
            printf("  %-72s %8s  target %-8s  not measured: %s\n", q->what, "-", q->target,
                   q->why);
        else if (q->limit == 0)
            printf("  %-72s %7.3fx  %s\n", q->what, q->value, q->target);
        else
            printf("  %-72s %7.*f%s  target %-8s  %s%s%s\n", q->what,
                   pct || q->value < 10 ? 3 : 1, q->value,
                   strcmp(q->unit, "us") ? q->unit : " us", q->target,
                   ratio_met(q) ? "met" : "MISSED",
                   q->why[0] ? "; " : "", q->why);
    }
}

/* ---- JSON ---- */

static FILE *g_jf;

static void json_str(const char *s)
{
    fputc('"', g_jf);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(g_jf, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(g_jf, "\\u%04x", ch);
        else
            fputc(ch, g_jf);
    }
    fputc('"', g_jf);
}

static void json_fig(const char *key, double v, const char *unit, bool *first)
{
    /* Counts and sizes exactly; measurements to 6 significant digits. */
    if (v == floor(v) && fabs(v) < 1e15)
        fprintf(g_jf, "%s\"%s\": {\"value\": %.0f, \"unit\": \"%s\"}", *first ? "" : ", ",
                key, v, unit);
    else
        fprintf(g_jf, "%s\"%s\": {\"value\": %.6g, \"unit\": \"%s\"}", *first ? "" : ", ",
                key, v, unit);
    *first = false;
}

static void print_json(const machine *m)
{
    fprintf(g_jf, "{\"ipcnet_version\": ");
    json_str(ipcn_version());
    fprintf(g_jf, ", \"command\": ");
    json_str(g_opts.argv_line);
    fprintf(g_jf, ", \"quick\": %s, \"date\": ", g_opts.quick ? "true" : "false");
    json_str(m->date);
    fprintf(g_jf, ",\n \"machine\": {\"cpu\": ");
    json_str(m->cpu);
    fprintf(g_jf, ", \"cores\": %ld, \"kernel\": ", m->cores);
    json_str(m->kernel);
    fprintf(g_jf, ", \"loadavg_at_start\": [%.2f, %.2f, %.2f], \"pinned_cpus\": [", m->load[0],
           m->load[1], m->load[2]);
    for (int i = 0; i < g_opts.ncpus; i++)
        fprintf(g_jf, "%s%d", i ? ", " : "", g_opts.cpus[i]);
    fprintf(g_jf, "]},\n \"results\": [");
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        fprintf(g_jf, "%s\n  {\"bench\": \"%s\", \"transport\": \"%s\", \"variant\": ", i ? "," : "",
               r->bench, r->transport);
        json_str(r->variant);
        fprintf(g_jf, ", \"default\": %s, \"status\": \"%s\", \"note\": ",
               r->is_default ? "true" : "false", status_word(r->status));
        json_str(r->note);
        bool first = false;
        if (!strcmp(r->bench, "scale")) {
            json_fig("nodes", (double)r->n, "processes", &first);
        } else if (strcmp(r->bench, "idle")) {
            json_fig("size", (double)r->size, "B", &first);
            if (r->subs)
                json_fig("subscribers", r->subs, "processes", &first);
        }
        if (r->status == ROW_OK) {
            if (!strcmp(r->bench, "rtt") || !strcmp(r->bench, "net-rtt")) {
                json_fig("round_trips", (double)r->n, "count", &first);
                json_fig("rate", r->rate, "round trips/s", &first);
            } else if (!strcmp(r->bench, "thr")) {
                json_fig("sent", (double)r->n, "messages", &first);
                json_fig("arrived", (double)r->arrived, "messages", &first);
                json_fig("lost", (double)r->lost, "messages", &first);
                json_fig("send_rate", r->rate, "messages/s", &first);
                json_fig("receive_rate", r->rx_rate, "messages/s", &first);
                json_fig("receive_bandwidth", r->rx_rate * (double)r->size / 1e6, "MB/s",
                         &first);
            } else if (!strcmp(r->bench, "bulk") || !strcmp(r->bench, "net-bulk")) {
                json_fig("samples", (double)r->n, "samples", &first);
                json_fig("arrived", (double)r->arrived, "samples per subscriber", &first);
                json_fig("rate", r->rate, "samples/s", &first);
                json_fig("bandwidth", r->rate * (double)r->size / 1e9,
                         "GB/s per subscriber", &first);
            } else if (!strcmp(r->bench, "idle") || !strcmp(r->bench, "scale")) {
                json_fig("cpu", r->rate, "% of one core", &first);
                json_fig("wakeups", r->aux, "wake-ups/s", &first);
                if (!strcmp(r->bench, "scale")) {
                    json_fig("rss", r->rss_kib, "KiB per node", &first);
                    json_fig("pss", r->pss_kib, "KiB per node", &first);
                    json_fig("private", r->priv_kib, "KiB per node", &first);
                    json_fig("fds", r->fds, "per node", &first);
                    if (r->sync_ms >= 0)
                        json_fig("sync", r->sync_ms, "ms", &first);
                }
            } else if (!strcmp(r->bench, "py")) {
                json_fig("iterations", (double)r->n, "count", &first);
                if (r->rate > 0)
                    json_fig("rate", r->rate, "round trips/s", &first);
                if (r->aux > 0)
                    json_fig("publish_p50", r->aux, "us", &first);
            } else if (!strcmp(r->bench, "takeover")) {
                json_fig("rounds", (double)r->n, "count", &first);
                json_fig("takeback_p50", r->aux, "us", &first);
            } else if (!strcmp(r->bench, "record")) {
                json_fig("messages_per_s", r->rate, "msg/s", &first);
                json_fig("bandwidth", r->rx_rate, "MB/s", &first);
                json_fig("disk_dd", r->aux, "MB/s", &first);
            } else if (!strcmp(r->bench, "files")) {
                json_fig("seconds", r->aux, "s", &first);
                json_fig("bandwidth", r->rate, "MB/s", &first);
            } else if (!strcmp(r->bench, "cbor")) {
                json_fig("encode", r->enc_ns, "ns/op", &first);
                json_fig("decode", r->dec_ns, "ns/op", &first);
                if (!strcmp(r->variant, "tensor")) {
                    json_fig("payload", 1048576, "B", &first);
                    json_fig("encode_bandwidth", 1048576.0 / r->enc_ns * 1e3, "MB/s", &first);
                    json_fig("decode_bandwidth", 1048576.0 / r->dec_ns * 1e3, "MB/s", &first);
                }
            }
            if (r->has_lat) {
                json_fig("p50", r->p50_us, "us", &first);
                json_fig("p99", r->p99_us, "us", &first);
                json_fig("max", r->max_us, "us", &first);
            }
        }
        fprintf(g_jf, "}");
    }
    fprintf(g_jf, "\n ],\n \"ratios\": [");
    for (int i = 0; i < g_nratios; i++) {
        ratio *q = &g_ratios[i];
        fprintf(g_jf, "%s\n  {\"name\": \"%s\", \"what\": ", i ? "," : "", q->name);
        json_str(q->what);
        if (isnan(q->value))
            fprintf(g_jf, ", \"value\": null");
        else
            fprintf(g_jf, ", \"value\": %.4g", q->value);
        fprintf(g_jf, ", \"unit\": \"%s\", \"target\": ", q->unit);
        json_str(q->target);
        if (q->limit > 0)
            fprintf(g_jf, ", \"met\": %s", ratio_met(q) ? "true" : "false");
        if (q->why[0]) {
            fprintf(g_jf, ", \"why\": ");
            json_str(q->why);
        }
        fprintf(g_jf, "}");
    }
    fprintf(g_jf, "\n ],\n \"failures\": %d}\n", g_failures);
}

static void print_py(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "py"))
            continue;
        if (!any) {
            printf("\npy: the Python binding, between two /usr/bin/python3 processes\n");
            printf("  %-16s %9s %9s %9s %12s\n", "what", "p50 us", "p99 us", "rate/s",
                   "publish us");
            any = true;
        }
        if (r->status != ROW_OK) {
            printf("  %-16s  %s: %s\n", r->variant, status_word(r->status), r->note);
            continue;
        }
        char a[16], b[16], c[16] = "-", d[16] = "-";
        fmt_us(a, sizeof a, r->p50_us);
        fmt_us(b, sizeof b, r->p99_us);
        if (r->rate > 0)
            fmt_num(c, sizeof c, r->rate);
        if (r->aux > 0)
            fmt_us(d, sizeof d, r->aux);
        printf("  %-16s %9s %9s %9s %12s\n", r->variant, a, b, c, d);
    }
    if (any)
        printf("  tensor: p50/p99 from publication to the NumPy array in the subscriber's "
               "hands;\n  publish: the publisher's cost of publish() (one copy into a "
               "loaned slot)\n");
}

static void print_table(const machine *m)
{
    printf("ipcnet-bench (IPCNet %s)%s  %s\n", ipcn_version(),
           g_opts.quick ? "  QUICK MODE: correctness only, timings meaningless" : "",
           m->date);
    printf("machine: %s, %ld cores online, %s; load average at start %.2f %.2f %.2f\n",
           m->cpu, m->cores, m->kernel, m->load[0], m->load[1], m->load[2]);
    printf("command: %s\n", g_opts.argv_line);
    if (g_opts.ncpus) {
        printf("pinned:  process k of each benchmark on cpu ");
        for (int i = 0; i < g_opts.ncpus; i++)
            printf("%s%d", i ? "," : "", g_opts.cpus[i]);
        printf(" [k %% %d]\n", g_opts.ncpus);
    } else {
        printf("pinned:  no (--cpus not given)\n");
    }
    print_rtt();
    print_thr();
    print_bulk();
    print_idle();
    print_scale();
    print_cbor();
    print_files();
    print_record();
    print_takeover();
    print_net();
    print_py();
    print_targets();
    printf("\n%s: %d failure%s (wrong data, crash or hang)\n",
           g_failures ? "FAILED" : "ok", g_failures, g_failures == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "rtt") && strcmp(cmd, "thr") && strcmp(cmd, "bulk") &&
        strcmp(cmd, "idle") && strcmp(cmd, "scale") && strcmp(cmd, "cbor") &&
        strcmp(cmd, "files") && strcmp(cmd, "takeover") && strcmp(cmd, "net") &&
        strcmp(cmd, "py") && strcmp(cmd, "record") && strcmp(cmd, "all")) {
        fprintf(stderr, "ipcnet-bench: unknown command '%s'\n%s", cmd, usage);
        return 2;
    }
    bench_opts *o = &g_opts;
    long iters = -1, msgs = -1;
    double idle_s = -1, scale_s = -1;
    bool have_sizes = false, have_subs = false;
    const char *json_file = NULL;
    o->rtt_size = 64;
    size_t off = 0;
    for (int i = 0; i < argc && off < sizeof o->argv_line; i++) {
        const char *base = i == 0 ? (strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
                                                           : argv[0])
                                  : argv[i];
        off += (size_t)snprintf(o->argv_line + off, sizeof o->argv_line - off, "%s%s",
                                i ? " " : "", base);
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool bad = false;
        if (!strcmp(a, "--quick")) {
            o->quick = true;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--json-file") && v) {
            json_file = v;
            i++;
        } else if (!strcmp(a, "-v")) {
            o->verbose = true;
        } else if (!strcmp(a, "--cpus") && v) {
            o->ncpus = parse_list_int(v, o->cpus, BENCH_MAX_CPUS);
            bad = o->ncpus <= 0;
            i++;
        } else if (!strcmp(a, "--size") && v) {
            bad = parse_size(v, &o->rtt_size) < 0 || o->rtt_size < 8 ||
                  o->rtt_size > (8u << 20);
            i++;
        } else if (!strcmp(a, "--iters") && v) {
            iters = strtol(v, NULL, 10);
            bad = iters <= 0;
            i++;
        } else if (!strcmp(a, "--rounds") && v) {
            o->rounds = (int)strtol(v, NULL, 10);
            bad = o->rounds <= 0 || o->rounds > 1000;
            i++;
        } else if (!strcmp(a, "--spin-us") && v) {
            char *end;
            long us = strtol(v, &end, 10);
            bad = *end || us <= 0 || us > 1000000;
            o->spin_us = (uint32_t)us;
            i++;
        } else if (!strcmp(a, "--msgs") && v) {
            msgs = strtol(v, NULL, 10);
            bad = msgs <= 0;
            i++;
        } else if (!strcmp(a, "--sizes") && v) {
            o->nsizes = parse_list_size(v, o->sizes, BENCH_MAX_SIZES);
            bad = o->nsizes <= 0;
            have_sizes = true;
            i++;
        } else if (!strcmp(a, "--subs") && v) {
            o->nsubs = parse_list_int(v, o->subs, 4);
            bad = o->nsubs <= 0;
            for (int k = 0; k < o->nsubs; k++)
                bad |= o->subs[k] < 1 || o->subs[k] > 4;
            have_subs = true;
            i++;
        } else if (!strcmp(a, "--only") && v) {
            snprintf(o->only, sizeof o->only, "%s", v);
            i++;
        } else if (!strcmp(a, "--file-size") && v) {
            bad = parse_size(v, &o->file_size) < 0 || o->file_size == 0;
            i++;
        } else if (!strcmp(a, "--nodes") && v) {
            o->nscale = parse_list_int(v, o->scale, 8);
            bad = o->nscale <= 0;
            for (int k = 0; k < o->nscale; k++)
                bad |= o->scale[k] < 2 || o->scale[k] > 200;
            i++;
        } else if (!strcmp(a, "--scale-seconds") && v) {
            scale_s = strtod(v, NULL);
            bad = scale_s <= 0 || scale_s > 600;
            i++;
        } else if ((!strcmp(a, "--heartbeat-ms") || !strcmp(a, "--dead-after-ms")) && v) {
            char *end;
            long ms = strtol(v, &end, 10);
            bad = *end || ms <= 0 || ms > 60000;
            *(a[2] == 'h' ? &o->heartbeat_ms : &o->dead_after_ms) = (uint32_t)ms;
            i++;
        } else if (!strcmp(a, "--idle-seconds") && v) {
            idle_s = strtod(v, NULL);
            bad = idle_s <= 0 || idle_s > 600;
            i++;
        } else {
            bad = true;
        }
        if (bad) {
            fprintf(stderr, "ipcnet-bench: bad option or value: %s%s%s\n%s", a, v ? " " : "",
                    v ? v : "", usage);
            return 2;
        }
    }
    o->rtt_iters = iters > 0 ? iters : o->quick ? 300 : 50000;
    if (!o->rounds)
        o->rounds = 5;
    if (!o->spin_us)
        o->spin_us = 1000;
    o->thr_msgs = msgs > 0 ? msgs : o->quick ? 20000 : 1000000;
    o->idle_seconds = idle_s > 0 ? idle_s : o->quick ? 0.5 : 2.0;
    o->scale_seconds = scale_s > 0 ? scale_s : o->quick ? 1.0 : 5.0;
    if (!o->nscale) {
        static const int full[] = {10, 50, 100, 200}, quick[] = {4, 8};
        o->nscale = o->quick ? 2 : 4;
        memcpy(o->scale, o->quick ? quick : full, o->quick ? sizeof quick : sizeof full);
    }
    if (!have_sizes) {
        static const size_t full[] = {64u << 10, 1u << 20, 8u << 20, (16u << 20) - 1024,
                                      64u << 20};
        static const size_t quick[] = {64u << 10, 1u << 20, 20u << 20};
        const size_t *src = o->quick ? quick : full;
        o->nsizes = o->quick ? 3 : 5;
        memcpy(o->sizes, src, (size_t)o->nsizes * sizeof *src);
    }
    if (!have_subs) {
        o->nsubs = 2;
        o->subs[0] = 1;
        o->subs[1] = 4;
    }
    if (!strcmp(cmd, "py")) {
        /* C's side of the comparison: IPCNet's rtt and 8 MiB bulk only. */
        o->sizes[0] = 8u << 20;
        o->nsizes = 1;
        o->subs[0] = 1;
        o->nsubs = 1;
        if (!o->only[0])
            snprintf(o->only, sizeof o->only, "ipcnet,python");
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    machine m = {0};
    machine_info(&m);
    bool all = !strcmp(cmd, "all");
    if (all || !strcmp(cmd, "rtt")) {
        if (all || o->rtt_size == 64)
            bench_rtt(64);
        if (o->rtt_size != 64)
            bench_rtt(o->rtt_size);
    }
    if (all || !strcmp(cmd, "thr"))
        bench_thr();
    if (all || !strcmp(cmd, "bulk"))
        bench_bulk();
    if (all || !strcmp(cmd, "idle"))
        bench_idle();
    if (all || !strcmp(cmd, "scale"))
        bench_scale();
    if (all || !strcmp(cmd, "cbor"))
        bench_cbor();
    if (all || !strcmp(cmd, "files"))
        bench_files();
    if (all || !strcmp(cmd, "takeover"))
        bench_takeover();
    if (all || !strcmp(cmd, "record"))
        bench_record();
    if (all || !strcmp(cmd, "net"))
        bench_net();
    if (!strcmp(cmd, "py")) {
        bench_rtt(64);
        bench_bulk();
    }
    if (all || !strcmp(cmd, "py"))
        bench_py();
    compute_ratios();
    if (json_file) {
        g_jf = fopen(json_file, "w");
        if (!g_jf) {
            fprintf(stderr, "ipcnet-bench: cannot write %s: %s\n", json_file, strerror(errno));
        } else {
            print_json(&m);
            fclose(g_jf);
        }
    }
    g_jf = stdout;
    if (o->json)
        print_json(&m);
    else
        print_table(&m);
    return g_failures ? 1 : 0;
}

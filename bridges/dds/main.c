/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/main.c - ipcnet-bridge-dds (`ipcnet bridge dds`): connect an
 * IPCNet network to a DDS domain in the form ROS 2 uses (docs/bridges.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"

static const char USAGE[] =
    "usage: ipcnet bridge dds [options]\n"
    "Connect an IPCNet network to a DDS domain (Cyclone DDS) as ROS 2 sees it.\n"
    "  --export PATTERN[:TYPE]     IPCNet streams and data matching PATTERN to\n"
    "                              topics rt/<path>; TYPE a ROS 2 type\n"
    "                              (sensor_msgs/msg/Image, ...), else chosen by\n"
    "                              the resource's encoding\n"
    "  --import TOPIC:TYPE[=PATH]  the ROS 2 topic TOPIC (rt/TOPIC) of TYPE as the\n"
    "                              IPCNet stream PATH (default: TOPIC)\n"
    "  --export-service PATTERN    IPCNet services matching PATTERN as ROS 2\n"
    "                              services of type ipcnet_msgs/srv/Call\n"
    "  --import-service NAME[=PATH] the ROS 2 service NAME (ipcnet_msgs/srv/Call)\n"
    "                              as the IPCNet service PATH (default: NAME)\n"
    "  --domain ID                 DDS domain (default: $ROS_DOMAIN_ID, else 0)\n"
    "  --depth N                   history depth of topics (default 10)\n"
    "  --best-effort               best-effort topics (default reliable)\n"
    "  --timeout MS                service requests' timeout (default 5000)\n"
    "  --seconds N                 stop after N seconds (default: at SIGINT/SIGTERM)\n"
    "  --network NAME, --dir DIR, --name NODE (default dds-bridge)\n"
    "  --verbose, --list-types, --help\n"
    "Prints its counters on SIGUSR1 and at exit.\n"
    "Each option that takes a pattern or topic may be given up to 64 times.\n";

static volatile sig_atomic_t stop, want_stats;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        want_stats = 1;
    else
        stop = 1;
}

static const char *strip_slash(const char *s)
{
    while (*s == '/')
        s++;
    return s;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v > max || *s == '-')
        return -1;
    *out = v;
    return 0;
}

/* PATTERN[:TYPE] (export) or TOPIC:TYPE[=PATH] (import). */
static int parse_rule(ddsb_rule *r, char *arg, int import)
{
    char *colon = strchr(arg, ':');
    char *eq = NULL;
    if (colon) {
        *colon = 0;
        eq = strchr(colon + 1, '=');
        if (eq)
            *eq = 0;
    }
    if (import && !colon)
        return fprintf(stderr, "--import %s: no :TYPE\n", arg), -1;
    if (!import && eq)
        return fprintf(stderr, "--export %s: '=' is for --import\n", arg), -1;
    r->pattern = (char *)strip_slash(arg);
    r->path = (char *)strip_slash(eq ? eq + 1 : arg);
    if (!*r->pattern || !*r->path)
        return fprintf(stderr, "ipcnet-bridge-dds: an empty topic or path\n"), -1;
    if (colon) {
        r->type = ddsb_type_find(colon + 1);
        if (!r->type)
            return fprintf(stderr, "ipcnet-bridge-dds: unknown type %s "
                                   "(--list-types)\n", colon + 1), -1;
    }
    return 0;
}

/* NAME[=PATH] */
static int parse_svc(ddsb_rule *r, char *arg)
{
    char *eq = strchr(arg, '=');
    if (eq)
        *eq = 0;
    r->pattern = (char *)strip_slash(arg);
    r->path = (char *)strip_slash(eq ? eq + 1 : arg);
    return *r->pattern && *r->path ? 0 : -1;
}

int main(int argc, char **argv)
{
    static ddsb_bridge b; /* large tables: not on the stack */
    const char *network = NULL, *dir = NULL, *name = "dds-bridge";
    unsigned long domain = 0, depth = 10, seconds = 0, timeout = 5000;
    const char *env = getenv("ROS_DOMAIN_ID");
    if (env && *env && parse_uint(env, 232, &domain)) {
        fprintf(stderr, "ipcnet-bridge-dds: ROS_DOMAIN_ID=%s is no domain\n", env);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0, takes = 1;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(o, "--list-types")) {
            size_t n;
            const ddsb_type *t = ddsb_types(&n);
            for (size_t k = 0; k < n; k++)
                printf("%-30s %-42s %s\n", t[k].ros_name, ddsb_type_dds_name(&t[k]),
                       *t[k].encoding ? t[k].encoding : "(any: the value's own)");
            return 0;
        } else if (!strcmp(o, "--verbose")) {
            b.verbose = 1, takes = 0;
        } else if (!strcmp(o, "--best-effort")) {
            b.best_effort = 1, takes = 0;
        } else if (!v) {
            fprintf(stderr, "ipcnet-bridge-dds: %s needs a value\n%s", o, USAGE);
            return 2;
        } else if (!strcmp(o, "--network")) {
            network = v;
        } else if (!strcmp(o, "--dir")) {
            dir = v;
        } else if (!strcmp(o, "--name")) {
            name = v;
        } else if (!strcmp(o, "--domain")) {
            bad = parse_uint(v, 232, &domain);
        } else if (!strcmp(o, "--depth")) {
            bad = parse_uint(v, 10000, &depth) || depth == 0;
        } else if (!strcmp(o, "--seconds")) {
            bad = parse_uint(v, 86400 * 365, &seconds);
        } else if (!strcmp(o, "--timeout")) {
            bad = parse_uint(v, 3600000, &timeout) || timeout == 0;
        } else if (!strcmp(o, "--export") || !strcmp(o, "--import") ||
                   !strcmp(o, "--export-service") ||
                   !strcmp(o, "--import-service")) {
            int imp = !strcmp(o, "--import"), svc = !!strstr(o, "service");
            ddsb_rule *tab = svc ? (o[2] == 'e' ? b.svc_out : b.svc_in)
                                 : (imp ? b.imports : b.exports);
            unsigned *n = svc ? (o[2] == 'e' ? &b.n_svc_out : &b.n_svc_in)
                              : (imp ? &b.n_imports : &b.n_exports);
            if (*n == DDSB_MAX_RULES) {
                fprintf(stderr, "ipcnet-bridge-dds: more than %d %s\n",
                        DDSB_MAX_RULES, o);
                return 2;
            }
            bad = svc ? parse_svc(&tab[*n], v) : parse_rule(&tab[*n], v, imp);
            if (!bad)
                (*n)++;
        } else {
            fprintf(stderr, "ipcnet-bridge-dds: unknown option %s\n%s", o, USAGE);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "ipcnet-bridge-dds: bad %s %s\n", o, v);
            return 2;
        }
        i += takes;
    }
    if (!b.n_exports && !b.n_imports && !b.n_svc_out && !b.n_svc_in) {
        fprintf(stderr, "ipcnet-bridge-dds: nothing to bridge: give --export, "
                        "--import, --export-service or --import-service\n");
        return 2;
    }
    b.depth = (uint32_t)depth;
    b.request_timeout_ms = (int)timeout;

    ipcn_node_opts opts;
    ipcn_node_opts_init(&opts);
    opts.network = network;
    opts.dir = dir;
    int st = ipcn_node_open(&b.node, name, &opts);
    if (st != IPCN_OK) {
        fprintf(stderr, "ipcnet-bridge-dds: joining the network: %s\n",
                ipcn_status_str(st));
        return 1;
    }
    b.participant = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
    if (b.participant < 0) {
        fprintf(stderr, "ipcnet-bridge-dds: DDS domain %lu: %s\n", domain,
                dds_strretcode(b.participant));
        ipcn_node_close(b.node);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    int rc = 0;
    st = ipcn_node_start_thread(b.node);
    if (st == IPCN_OK)
        st = ddsb_start(&b);
    if (st != IPCN_OK) {
        fprintf(stderr, "ipcnet-bridge-dds: not started: %s\n", ipcn_status_str(st));
        rc = 1;
        stop = 1;
    } else {
        fprintf(stderr, "ipcnet-bridge-dds: node %s, DDS domain %lu: running\n",
                ipcn_node_name(b.node), domain);
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!stop) {
        ddsb_poll(&b, 50);
        if (want_stats) {
            want_stats = 0;
            ddsb_print_stats(&b);
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (seconds && (unsigned long)(t.tv_sec - t0.tv_sec) >= seconds)
            break;
    }
    ipcn_node_stop_thread(b.node);
    ddsb_print_stats(&b); /* before ddsb_stop: it ends the subscriptions */
    ddsb_stop(&b);
    dds_delete(b.participant);
    ipcn_node_close(b.node);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_up.c — `ipcnet up MANIFEST` (the supervisor of a robot,
 * tools/supervisor/sup.c) and `ipcnet ps` (the components of the running
 * supervisors, read from the data resources they publish).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbor.h"
#include "cli.h"
#include "sup.h"
#include "util.h"

const char cmd_up_help[] =
    "usage: ipcnet up MANIFEST [--json] [options]\n\n"
    "Run the robot that MANIFEST describes (docs/manifest.md): open the node\n"
    "sup.<robot>, start the components in dependency order, each counted as\n"
    "started once its node said it is ready (ipcn_node_ready()) within its\n"
    "ready_timeout_ms, restart them by their policy (one_for_one, rest_for_one;\n"
    "intensity, exponential back-off), roll a failing trial version back to the\n"
    "good one, and publish each component's state as the data resource\n"
    "system/supervisor/<robot>/components/<name> (see 'ipcnet ps').  Components\n"
    "already running (left by a supervisor that died) are adopted, not started\n"
    "twice.  Their output goes to <state>/logs/<name>.log.  SIGINT or SIGTERM,\n"
    "a request of the service system/shutdown (who may: the network policy's\n"
    "execute), a failed critical component or a compromise runs the ordered\n"
    "shutdown, after which it exits.  docs/supervisor.md, \"Running a robot\".\n\n"
    "  --json          the log as one JSON object a line\n\n"
    "Exit status: 0 after a shutdown that was asked for; 1 after one a failure\n"
    "or a compromise started, or when it could not start; 2 for an invalid\n"
    "manifest.\n";

const char cmd_ps_help[] =
    "usage: ipcnet ps [ROBOT] [--json] [options]\n\n"
    "Show the components of every running supervisor (or of ROBOT's): state\n"
    "(waiting, starting, ready, backoff, stopping, stopped, failed), version\n"
    "(with '*' when it is on trial), restarts, uptime, pid, criticality and how\n"
    "its last process ended, read from the data resources\n"
    "system/supervisor/<robot>/components/<name> that any node may query.\n\n"
    "  --timeout MS    give up on a resource after MS ms (default 2000)\n"
    "  --json          one JSON object per component, one per line\n";

int cmd_up(cli *c)
{
    sup_opts o = {.manifest = c->pos[0], .network = c->network, .dir = c->dir,
                  .json = c->json};
    return sup_main(&o);
}

static void last_exit_text(char *buf, size_t n, const jval *v)
{
    const jval *e = jget(v, "last_exit");
    if (!e || e->t != J_NUM) {
        snprintf(buf, n, "-");
        return;
    }
    long x = (long)jnum(v, "last_exit");
    if (x == -1)
        snprintf(buf, n, "?");
    else if (x >= 128)
        snprintf(buf, n, "signal %ld", x - 128);
    else
        snprintf(buf, n, "exit %ld", x);
}

static void print_one(cli *c, const char *robot, const jval *v, bool *header)
{
    double since = jnum(v, "since_ms");
    double up_ms = 0;
    if (since > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        up_ms = (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000) - since;
        if (up_ms < 0)
            up_ms = 0;
    }
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "robot", robot);
        for (size_t i = 0; i < v->count; i++) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)v->k[i]->n, v->k[i]->s);
            if (!strcmp(key, "uptime_ms"))
                jw_uint(&j, key, (uint64_t)up_ms);
            else
                jw_val(&j, key, v->v[i]);
        }
        jw_end_obj(&j);
        emit(&j);
        return;
    }
    if (!*header) {
        out("%-12s %-16s %-9s %-10s %8s %9s %8s %-10s %s\n", "ROBOT", "COMPONENT", "STATE",
            "VERSION", "RESTARTS", "UPTIME", "PID", "CRIT", "LAST EXIT");
        *header = true;
    }
    char version[80], uptime[32], last[40], pid[16];
    const jval *tr = jget(v, "trial");
    snprintf(version, sizeof version, "%s%s", *jtext(v, "version") ? jtext(v, "version") : "-",
             tr && tr->t == J_TRUE ? "*" : "");
    if (since > 0)
        fmt_duration(uptime, sizeof uptime, up_ms / 1000);
    else
        snprintf(uptime, sizeof uptime, "-");
    last_exit_text(last, sizeof last, v);
    long p = (long)jnum(v, "pid");
    snprintf(pid, sizeof pid, p > 0 ? "%ld" : "-", p);
    out("%-12s %-16s %-9s %-10s %8.0f %9s %8s %-10s %s\n", robot, jtext(v, "name"),
        jtext(v, "state"), version, jnum(v, "restarts"), uptime, pid,
        jtext(v, "criticality"), last);
}

int cmd_ps(cli *c)
{
    int rc;
    char pattern[256];
    if (c->npos > 0)
        snprintf(pattern, sizeof pattern, "/system/supervisor/%s/components/*", c->pos[0]);
    else
        snprintf(pattern, sizeof pattern, "/system/supervisor/*/components/*");
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)) || cli_stop)
        return rc;
    ipcn_resource_list *l = NULL;
    int st = ipcn_find(c->node, pattern, IPCN_DATA, &l);
    if (st != IPCN_OK)
        return cli_fail(st, "cannot list %s", pattern);
    bool header = false;
    int timeout = c->timeout_ms > 0 ? c->timeout_ms : 2000;
    for (size_t i = 0; i < l->count; i++) {
        const char *path = l->items[i].path;
        char robot[80];
        const char *r0 = path + strlen("system/supervisor/");
        const char *slash = strchr(r0, '/');
        snprintf(robot, sizeof robot, "%.*s", slash ? (int)(slash - r0) : 0, r0);
        ipcn_msg *m = NULL;
        char abs[258]; /* found: as on the wire; absolute, so no namespace again */
        snprintf(abs, sizeof abs, "/%s", path);
        st = ipcn_query(c->node, abs, &m, timeout);
        jval *v = NULL;
        if (st != IPCN_OK || cbor_to_json(m->data, m->len, &v) < 0 || v->t != J_OBJ) {
            cli_warn("%s: %d %s", path, st, ipcn_status_str(st));
            rc = EXIT_FAIL;
        } else {
            print_one(c, robot, v, &header);
        }
        json_free(v);
        ipcn_msg_free(m);
    }
    if (!l->count && !c->json)
        out("no supervisor runs%s%s\n", c->npos ? " for robot " : "",
            c->npos ? c->pos[0] : "");
    ipcn_resource_list_free(l);
    return rc;
}

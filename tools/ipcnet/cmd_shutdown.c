/* SPDX-License-Identifier: MIT */
/*
 * cmd_shutdown.c — `ipcnet shutdown [--manifest M] [--reason TEXT]`: the
 * ordered safe shutdown of a robot (docs/supervisor.md, "Shutdown").
 *
 * The running supervisor does it: this asks its service "system/shutdown"
 * (CBOR {"reason": TEXT}) and prints the report it answers.  With no
 * supervisor and --manifest, this tool runs the phases itself (stop.c),
 * finding each component's process by its node among the peers (the pid
 * the kernel gave for its link) and holding it by a pidfd.  Either way the
 * network policy decides who may: EXECUTE of "system/shutdown".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "ipcnet_value.h"
#include "manifest.h"
#include "spawn.h"
#include "stop.h"

const char cmd_shutdown_help[] =
    "usage: ipcnet shutdown [--manifest M] [--reason TEXT] [--compromised C] [--json]\n"
    "                      [options]\n\n"
    "Bring the robot down safely, in phases over the network: (1) every component\n"
    "with a safe state goes to it (the arm to its rest pose, the base to a stop)\n"
    "and confirms within its deadline; then (2) producers, (3) consumers, (4) the\n"
    "rest stop, each in reverse dependency order with its own deadline, then\n"
    "SIGTERM, then SIGKILL.  A compromised component is isolated first.  Prints\n"
    "one line per component and phase, naming any that missed its deadline.\n"
    "The running supervisor (ipcnet up) does it, asked through its service\n"
    "system/shutdown; the network policy decides who may (execute of\n"
    "system/shutdown; else 202 Forbidden).\n\n"
    "  --manifest M    when no supervisor runs, run the phases from here for the\n"
    "                  components of manifest M that are in the network\n"
    "  --reason TEXT   told to every component (default \"ipcnet shutdown\")\n"
    "  --compromised C component (or node) C is compromised: isolated first\n"
    "                  (SIGKILL), never waited on\n"
    "  --json          the report as one JSON document\n"
    "  --timeout MS    wait at most MS ms for the supervisor's report (default:\n"
    "                  120000); the shutdown goes on without it\n\n"
    "Exit status: 0 a clean shutdown; 1 not clean (a component missed a\n"
    "deadline, failed, or was killed: 304 on stderr), or it could not run.\n";

static int report_out(cli *c, const sup_stop_report *rep)
{
    sup_stop_print(rep, c->json);
    out_flush();
    if (rep->clean)
        return EXIT_OK;
    return cli_fail(IPCN_GATEWAY_TIMEOUT, "the shutdown was not clean: see "
                    "the components named above");
}

/* No supervisor: run the phases here, over the components that are in
 * the network now. */
static int run_alone(cli *c, const char *reason)
{
    sup_manifest *m = NULL;
    char err[512];
    int st = sup_manifest_load(c->manifest, &m, err, sizeof err);
    if (st != IPCN_OK)
        return cli_fail(st, "%s", err);
    ipcn_peer_list *pl = NULL;
    sup_proc *procs = calloc(m->ncomps ? m->ncomps : 1, sizeof *procs);
    if (!procs || (st = ipcn_peers(c->node, &pl)) != IPCN_OK) {
        free(procs);
        sup_manifest_free(m);
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < m->ncomps; i++) {
        procs[i] = (sup_proc){.c = &m->comps[i], .pidfd = -1,
                              .compromised = c->compromised &&
                                             (!strcmp(c->compromised, m->comps[i].name) ||
                                              !strcmp(c->compromised, m->comps[i].node))};
        for (size_t k = 0; k < pl->count; k++)
            if (!strcmp(pl->items[k].name, m->comps[i].node) &&
                pl->items[k].pid > 0) {
                procs[i].pid = pl->items[k].pid;
                procs[i].pidfd = sup_pidfd_open(procs[i].pid);
                if (procs[i].pidfd < 0 && errno == ESRCH)
                    procs[i].pid = 0; /* gone since */
            }
    }
    ipcn_peer_list_free(pl);
    sup_stop_report rep;
    st = sup_stop_run(c->node, m, procs, m->ncomps, reason, &rep);
    for (size_t i = 0; i < m->ncomps; i++)
        if (procs[i].pidfd >= 0)
            close(procs[i].pidfd);
    free(procs);
    int rc = st == IPCN_OK ? report_out(c, &rep)
                           : cli_fail(st, "the shutdown could not run");
    if (st == IPCN_OK)
        free(rep.items);
    sup_manifest_free(m); /* after the report: its names are the manifest's */
    return rc;
}

int cmd_shutdown(cli *c)
{
    const char *reason = c->reason ? c->reason : "ipcnet shutdown";
    uint8_t body[1200];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, body, sizeof body, 0);
    ipcn_cbor_put_map(&w, c->compromised ? 2 : 1);
    ipcn_cbor_put_cstr(&w, "reason");
    ipcn_cbor_put_text(&w, reason, strnlen(reason, 512));
    if (c->compromised) {
        ipcn_cbor_put_cstr(&w, "compromised");
        ipcn_cbor_put_text(&w, c->compromised, strnlen(c->compromised, 64));
    }
    if (ipcn_cbor_writer_finish(&w, &len) != IPCN_OK)
        return cli_usage_error(c->verb, "--reason must be UTF-8 text");
    int rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, "/system/shutdown")))
        return rc;
    if (cli_stop)
        return cli_fail(IPCN_SERVICE_UNAVAILABLE, "interrupted");
    ipcn_msg *r = NULL;
    int st = ipcn_request(c->node, "/system/shutdown", body, len, "cbor", &r,
                          c->timeout_ms > 0 ? c->timeout_ms : 120000);
    if (st == IPCN_NOT_FOUND && c->manifest) {
        ipcn_msg_free(r);
        return run_alone(c, reason);
    }
    if (st == IPCN_NOT_FOUND) {
        ipcn_msg_free(r);
        return cli_fail(st, "no supervisor offers system/shutdown (give "
                        "--manifest M to stop the components from here)");
    }
    if (st != IPCN_OK) {
        char why[300] = "";
        if (r && r->len && enc_is_text(r->encoding))
            snprintf(why, sizeof why, ": %.*s", (int)(r->len < 256 ? r->len : 256),
                     (const char *)r->data);
        ipcn_msg_free(r);
        if (st == IPCN_GATEWAY_TIMEOUT)
            return cli_fail(st, "no report from the supervisor in time (the "
                            "shutdown goes on)");
        return cli_fail(st, "the supervisor refused or failed the shutdown%s",
                        why);
    }
    sup_stop_report rep;
    st = sup_stop_report_decode(r->data, r->len, &rep);
    ipcn_msg_free(r);
    if (st != IPCN_OK)
        return cli_fail(st, "the supervisor's report is not one this tool "
                        "reads");
    rc = report_out(c, &rep);
    free(rep.items);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_versions.c — `ipcnet install`, `ipcnet rollback`, `ipcnet versions`:
 * a component's versions in the supervisor's versions store
 * (tools/supervisor/store.h, docs/supervisor.md "Versions and rollback").
 * After an install or a rollback the running supervisor of the robot is
 * asked to reload the component ("system/supervisor/<robot>/reload").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "manifest.h"
#include "store.h"

#define DEFAULT_TRIES 3u    /* the manifest's default trial.tries */

const char cmd_install_help[] =
    "usage: ipcnet install COMPONENT DIR (--store ROOT | --manifest M) [--id ID]\n"
    "                      [--config] [options]\n\n"
    "Copy DIR into a new version of COMPONENT in the versions store, with the\n"
    "BLAKE2b hashes of its files, and make it the trial: the supervisor starts\n"
    "it instead of the good version, at most its tries times (a try is counted\n"
    "before each start), and makes it good once it has been ready and healthy\n"
    "for its bless time; otherwise it is marked bad and the good version runs\n"
    "again.  The first version installed is good at once.  Then the running\n"
    "supervisor of the robot is asked to reload COMPONENT; with none, the new\n"
    "version applies at its next start.\n\n"
    "  --store ROOT    the versions store (the manifest's 'store')\n"
    "  --manifest M    the robot's manifest: its store, its robot's supervisor\n"
    "  --id ID         the version's id (default: the next free number)\n"
    "  --config        a version of COMPONENT's configuration (the component\n"
    "                  COMPONENT.config of the store)\n";

const char cmd_rollback_help[] =
    "usage: ipcnet rollback COMPONENT (--store ROOT | --manifest M) [--config]\n"
    "                       [options]\n\n"
    "Go back to the version of COMPONENT that worked: a trial is given up\n"
    "(marked bad) and the good version runs; with no trial, the good version\n"
    "is marked bad and the version that was good before it becomes good again\n"
    "(203 when there is none).  Then the running supervisor is asked to\n"
    "reload COMPONENT, as after ipcnet install.\n\n"
    "  --store ROOT    the versions store (the manifest's 'store')\n"
    "  --manifest M    the robot's manifest: its store, its robot's supervisor\n"
    "  --config        COMPONENT's configuration\n";

const char cmd_versions_help[] =
    "usage: ipcnet versions COMPONENT (--store ROOT | --manifest M) [--config]\n"
    "                       [--json]\n\n"
    "The versions of COMPONENT in the versions store, oldest first: its id,\n"
    "its state (good: what runs; trial: on trial, with the starts it has\n"
    "left; bad: given up, with why; installed: none of these), and when it\n"
    "was installed.  An operation a killed process left unfinished is\n"
    "finished first.\n\n"
    "  --store ROOT    the versions store (the manifest's 'store')\n"
    "  --manifest M    the robot's manifest: its store\n"
    "  --config        COMPONENT's configuration\n"
    "  --json          one JSON object per version\n";

/* Where the versions are and whom to tell. */
typedef struct target {
    sup_manifest *m;             /* --manifest: the robot's (free it) */
    const char *root;
    char comp[96];               /* COMPONENT or COMPONENT.config */
    const char *name;            /* COMPONENT */
    const char *robot;           /* NULL: no supervisor to tell */
    uint32_t tries;
} target;

static void target_free(target *t)
{
    sup_manifest_free(t->m);
    t->m = NULL;
}

static int resolve(cli *c, target *t)
{
    memset(t, 0, sizeof *t);
    t->name = c->pos[0];
    t->tries = DEFAULT_TRIES;
    if (!c->store == !c->manifest)
        return cli_usage_error(c->verb, "give the robot's manifest (--manifest M) or the "
                               "versions store (--store ROOT), one of them");
    if ((size_t)snprintf(t->comp, sizeof t->comp, "%s%s", t->name,
                         c->config ? ".config" : "") >= sizeof t->comp)
        return cli_usage_error(c->verb, "'%s' is not a component name", t->name);
    if (c->store) {
        t->root = c->store;
        return 0;
    }
    char err[1024];
    int st = sup_manifest_load(c->manifest, &t->m, err, sizeof err);
    if (st != IPCN_OK)
        return cli_fail(st, "%s", err);
    const sup_component *sc = sup_manifest_find(t->m, t->name);
    if (!sc) {
        st = cli_fail(IPCN_NOT_FOUND, "%s: no component '%s'", c->manifest, t->name);
        target_free(t);
        return st;
    }
    if (!sc->versioned && !c->config)
        cli_warn("%s is not versioned in %s: it runs from its dir, not from the store",
                 t->name, c->manifest);
    t->root = t->m->store;
    t->robot = t->m->robot;
    t->tries = sc->tries ? sc->tries : DEFAULT_TRIES;
    return 0;
}

/* CBOR {"component": name}. */
static size_t reload_body(const char *name, unsigned char *buf, size_t cap)
{
    size_t n = strlen(name), len = 0;
    if (n > 255 || n + 16 > cap)
        return 0;
    buf[len++] = 0xa1;                        /* map of 1 */
    buf[len++] = 0x69;                        /* text of 9 */
    memcpy(buf + len, "component", 9);
    len += 9;
    if (n < 24) {
        buf[len++] = (unsigned char)(0x60 + n);
    } else {
        buf[len++] = 0x78;
        buf[len++] = (unsigned char)n;
    }
    memcpy(buf + len, name, n);
    return len + n;
}

/* Ask the robot's running supervisor to reload the component.  What
 * happened, for people: "reloaded", "next start" (none runs). */
static const char *tell_supervisor(cli *c, const target *t)
{
    if (!t->robot)
        return "next start";
    char path[160];
    unsigned char body[300];
    snprintf(path, sizeof path, "/system/supervisor/%s/reload", t->robot);
    size_t len = reload_body(t->name, body, sizeof body);
    if (!len || cli_open(c) || cli_discover(c, path))
        return "next start";
    ipcn_msg *m = NULL;
    int st = ipcn_request(c->node, path, body, len, "cbor", &m,
                          c->timeout_ms > 0 ? c->timeout_ms : 5000);
    ipcn_msg_free(m);
    if (IPCN_IS_OK(st))
        return "reloaded";
    if (st != IPCN_NOT_FOUND)
        cli_warn("%s answered %d %s", path, st, ipcn_status_str(st));
    return "next start";
}

static void report_applied(cli *c, const target *t, const char *how)
{
    if (c->json)
        return;
    if (!strcmp(how, "reloaded"))
        out("the supervisor of robot %s reloads %s now\n", t->robot, t->name);
    else if (t->robot)
        out("no supervisor of robot %s answered: it applies at the next start of %s\n",
            t->robot, t->name);
    else
        out("it applies at the next start of %s\n", t->name);
}

int cmd_install(cli *c)
{
    target t;
    int rc = resolve(c, &t);
    if (rc)
        return rc;
    char id[SUP_VERSION_ID_MAX + 1] = "", err[1024];
    int st = sup_store_install(t.root, t.comp, c->pos[1], c->version_id, t.tries, id,
                               sizeof id, err, sizeof err);
    if (st != IPCN_OK) {
        target_free(&t);
        return cli_fail(st, "%s", err);
    }
    /* the first version is good at once */
    sup_version *v = NULL;
    size_t n = 0;
    bool good = false;
    if (sup_store_list(t.root, t.comp, &v, &n, err, sizeof err) == IPCN_OK)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(v[i].id, id))
                good = v[i].good;
    free(v);
    if (!c->json) {
        if (good)
            out("%s: installed version %s, good (the first)\n", t.comp, id);
        else
            out("%s: installed version %s, on trial (%u tries)\n", t.comp, id, t.tries);
    }
    const char *how = tell_supervisor(c, &t);
    report_applied(c, &t, how);
    if (c->json) {
        jw w = {0};
        jw_obj(&w, NULL);
        jw_str(&w, "component", t.comp);
        jw_str(&w, "id", id);
        jw_str(&w, "state", good ? "good" : "trial");
        jw_uint(&w, "tries", good ? 0 : t.tries);
        jw_str(&w, "applies", how);
        jw_end_obj(&w);
        emit(&w);
    }
    target_free(&t);
    return 0;
}

int cmd_rollback(cli *c)
{
    target t;
    int rc = resolve(c, &t);
    if (rc)
        return rc;
    char id[SUP_VERSION_ID_MAX + 1] = "", err[1024];
    int st = sup_store_rollback(t.root, t.comp, id, sizeof id, err, sizeof err);
    if (st != IPCN_OK) {
        target_free(&t);
        return cli_fail(st, "%s", err);
    }
    if (!c->json)
        out("%s: back on version %s\n", t.comp, id);
    const char *how = tell_supervisor(c, &t);
    report_applied(c, &t, how);
    if (c->json) {
        jw w = {0};
        jw_obj(&w, NULL);
        jw_str(&w, "component", t.comp);
        jw_str(&w, "id", id);
        jw_str(&w, "applies", how);
        jw_end_obj(&w);
        emit(&w);
    }
    target_free(&t);
    return 0;
}

static const char *state_of(const sup_version *v)
{
    return v->good ? "good" : v->trial ? "trial" : v->bad ? "bad" : "installed";
}

static void when_text(int64_t s, char *buf, size_t cap)
{
    time_t tt = (time_t)s;
    struct tm tm;
    if (!s || !gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, cap, "-");
}

int cmd_versions(cli *c)
{
    target t;
    int rc = resolve(c, &t);
    if (rc)
        return rc;
    sup_version *v = NULL;
    size_t n = 0;
    char err[1024];
    int st = sup_store_list(t.root, t.comp, &v, &n, err, sizeof err);
    if (st != IPCN_OK) {
        target_free(&t);
        return cli_fail(st, "%s", err);
    }
    if (!c->json && n)
        out("%-20s %-9s %-5s %-20s %s\n", "ID", "STATE", "TRIES", "INSTALLED", "WHY BAD");
    if (!c->json && !n)
        out("%s: no version installed\n", t.comp);
    for (size_t i = 0; i < n; i++) {
        char when[32], tries[16] = "-";
        when_text(v[i].installed_s, when, sizeof when);
        if (v[i].trial)
            snprintf(tries, sizeof tries, "%u", v[i].tries_left);
        if (c->json) {
            jw w = {0};
            jw_obj(&w, NULL);
            jw_str(&w, "component", t.comp);
            jw_str(&w, "id", v[i].id);
            jw_str(&w, "state", state_of(&v[i]));
            jw_bool(&w, "good", v[i].good);
            jw_bool(&w, "trial", v[i].trial);
            jw_bool(&w, "bad", v[i].bad);
            if (v[i].trial)
                jw_uint(&w, "tries_left", v[i].tries_left);
            jw_int(&w, "installed_s", v[i].installed_s);
            jw_str(&w, "reason", v[i].bad ? v[i].reason : NULL);
            jw_end_obj(&w);
            emit(&w);
        } else {
            out("%-20s %-9s %-5s %-20s %s\n", v[i].id, state_of(&v[i]), tries, when,
                v[i].bad ? v[i].reason : "");
        }
    }
    free(v);
    target_free(&t);
    return 0;
}

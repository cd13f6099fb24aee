/* SPDX-License-Identifier: MIT */
/*
 * compromise.c — evidence that a peer is compromised, as the transport
 * sees it (compromise.h): the records of principals a node has seen, the
 * queue of evidence for the engine, bursts of refusals, and the inotify
 * watches of the executables peers run.
 *
 * An executable is watched on its path (the one /proc/<pid>/exe gave at
 * hello) for IN_ATTRIB (its link count falls when it is replaced by a
 * rename or removed), IN_DELETE_SELF, IN_MOVE_SELF and IN_MODIFY: one
 * watch per file, shared by the links of the processes that run it.  An
 * event is evidence only when a look confirms it: the path no longer
 * leads to the file the process runs (st_dev, st_ino of /proc/<pid>/exe),
 * or that file was written.  No polling: an idle node costs nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "node/node.h"
#include "transport/compromise.h"

#define WATCH_MASK (IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY)

static ipcn__cz *cz_get(ipcn_node *n)
{
    if (!n->cz)
        n->cz = ipcn__calloc(1, sizeof *n->cz);
    return n->cz;
}

bool ipcn__cz_isolated(const ipcn_node *n, const ipcn__principal *who)
{
    const ipcn__cz *cz = n->cz;
    if (!cz || !cz->nisolated || !who->name || who == &n->self)
        return false;
    for (uint32_t i = 0; i < cz->nrec; i++)
        if (cz->rec[i].isolated && !strcmp(cz->rec[i].name, who->name))
            return true;
    return false;
}

bool ipcn__cz_pending(const ipcn_node *n)
{
    return n->cz && n->cz->nqueue;
}

/* The record to give up for a new one: the one linked least recently that
 * holds no evidence.  NULL when every one does. */
static ipcn__cz_record *victim(ipcn__cz *cz)
{
    ipcn__cz_record *v = NULL;
    for (uint32_t i = 0; i < cz->nrec; i++)
        if (!cz->rec[i].reports && (!v || cz->rec[i].seen_ns < v->seen_ns))
            v = &cz->rec[i];
    return v;
}

ipcn__cz_record *ipcn__cz_record_of(ipcn_node *n, const char *name,
                                    bool make)
{
    ipcn__cz *cz = make ? cz_get(n) : n->cz;
    if (!cz || !name)
        return NULL;
    for (uint32_t i = 0; i < cz->nrec; i++)
        if (!strcmp(cz->rec[i].name, name))
            return &cz->rec[i];
    if (!make)
        return NULL;
    char *copy = ipcn__strdup(name);
    if (!copy)
        return NULL;
    ipcn__cz_record *r;
    if (cz->nrec < IPCN_CZ_RECORDS_MAX) {
        r = ipcn__realloc(cz->rec, (cz->nrec + 1) * sizeof *r);
        if (!r) {
            ipcn__free(copy);
            return NULL;
        }
        cz->rec = r;
        r = &cz->rec[cz->nrec++];
    } else if ((r = victim(cz))) {
        ipcn__free(r->name);
    } else {
        ipcn__free(copy);
        return NULL; /* full of evidence: kept, new names not remembered */
    }
    memset(r, 0, sizeof *r);
    r->name = copy;
    r->first_uid = -1;
    return r;
}

void ipcn__cz_evidence_add(ipcn_node *n, const ipcn__link *l,
                           ipcn_compromise_kind kind, const char *fmt, ...)
{
    if (!l->who.name)
        return;
    ipcn__cz_record *r = ipcn__cz_record_of(n, l->who.name, false);
    if (r && (r->isolated || (r->kinds & (1u << kind))))
        return; /* told already: the record counts no more */
    ipcn__cz *cz = cz_get(n);
    if (!cz)
        return;
    for (uint32_t i = 0; i < cz->nqueue; i++)
        if (cz->queue[i].link_id == l->id && cz->queue[i].kind == kind)
            return;
    if (cz->nqueue == IPCN_CZ_QUEUE_MAX) {
        cz->queue_dropped++;
        return;
    }
    ipcn__cz_evidence *e = &cz->queue[cz->nqueue++];
    e->link_id = l->id;
    e->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
}

void ipcn__cz_violation(ipcn_node *n, ipcn__link *l)
{
    const ipcn__detect_cfg *d = &n->policy->guard.detect;
    if (!d->violations || ipcn__cz_isolated(n, &l->who))
        return;
    uint64_t now = n->round_ns ? n->round_ns : ipcn__now_mono_ns();
    uint64_t within = d->violations_ms * 1000000ull;
    if (!l->viol_count || now - l->viol_start_ns > within) {
        l->viol_start_ns = now;
        l->viol_count = 0;
    }
    if (++l->viol_count >= d->violations) {
        ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_VIOLATIONS,
                              "%u policy refusals within %llu ms",
                              l->viol_count,
                              (unsigned long long)d->violations_ms);
        l->viol_count = 0;
    }
}

/* ---- the executables ---- */

static ipcn__cz_watch *watch_of(ipcn__cz *cz, int wd)
{
    for (uint32_t i = 0; cz && i < cz->nwatch; i++)
        if (cz->watch[i].wd == wd)
            return &cz->watch[i];
    return NULL;
}

/* Does path still lead to the file (dev, ino)?  Else *why says how not. */
static bool still_there(const char *path, uint64_t dev, uint64_t ino,
                        const char **why)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        *why = errno == ENOENT ? "removed" : "no longer readable";
        return false;
    }
    if ((uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino) {
        *why = "replaced";
        return false;
    }
    return true;
}

/* Evidence against every UP link of the watch. */
static void tell_links(ipcn_node *n, int wd, const char *path,
                       const char *why)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP && l->cz_wd == wd)
            ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_EXE_CHANGED,
                                  "its executable %s was %s on disk while "
                                  "it runs (pid %d)", path, why,
                                  (int)l->who.pid);
}

void ipcn__cz_watch_link(ipcn_node *n, ipcn__link *l)
{
    if (n->inotifyfd < 0 || !l->who.exe || l->cz_wd > 0 || l->who.pid <= 0)
        return;
    char proc[48];
    struct stat run;
    snprintf(proc, sizeof proc, "/proc/%d/exe", (int)l->who.pid);
    if (stat(proc, &run) < 0)
        return; /* gone, or not ours to look at */
    const char *why;
    if (!still_there(l->who.exe, (uint64_t)run.st_dev, (uint64_t)run.st_ino,
                     &why)) {
        /* Changed between its start and its hello. */
        ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_EXE_CHANGED,
                              "its executable %s was %s on disk since it "
                              "started (pid %d)", l->who.exe, why,
                              (int)l->who.pid);
        return;
    }
    ipcn__cz *cz = cz_get(n);
    if (!cz)
        return;
    int wd = inotify_add_watch(n->inotifyfd, l->who.exe, WATCH_MASK);
    if (wd < 0) {
        if (!cz->watch_failed_told) {
            cz->watch_failed_told = true;
            ipcn__warn("IPCN-COMPROMISE-WATCH", "%s: cannot watch %s (%s): "
                       "changes of peers' executables on disk are not seen "
                       "(see fs.inotify.max_user_watches)", n->name,
                       l->who.exe, strerror(errno));
        }
        return;
    }
    ipcn__cz_watch *w = watch_of(cz, wd);
    if (!w) {
        char *path = ipcn__strdup(l->who.exe);
        w = path ? ipcn__realloc(cz->watch, (cz->nwatch + 1) * sizeof *w)
                 : NULL;
        if (!w) {
            ipcn__free(path);
            inotify_rm_watch(n->inotifyfd, wd);
            return;
        }
        cz->watch = w;
        w = &cz->watch[cz->nwatch++];
        *w = (ipcn__cz_watch){.wd = wd, .path = path,
                              .dev = (uint64_t)run.st_dev,
                              .ino = (uint64_t)run.st_ino};
    }
    w->refs++;
    l->cz_wd = wd;
}

static void watch_drop(ipcn_node *n, ipcn__cz_watch *w, bool rm)
{
    ipcn__cz *cz = n->cz;
    if (rm && n->inotifyfd >= 0)
        inotify_rm_watch(n->inotifyfd, w->wd);
    ipcn__free(w->path);
    *w = cz->watch[--cz->nwatch];
}

void ipcn__cz_unwatch_link(ipcn_node *n, ipcn__link *l)
{
    ipcn__cz_watch *w = l->cz_wd > 0 ? watch_of(n->cz, l->cz_wd) : NULL;
    l->cz_wd = 0;
    if (w && !--w->refs)
        watch_drop(n, w, true);
}

bool ipcn__cz_inotify(ipcn_node *n, int wd, uint32_t mask)
{
    ipcn__cz_watch *w = watch_of(n->cz, wd);
    if (!w)
        return false;
    if (mask & IN_IGNORED) {
        /* The kernel dropped the watch (its file is gone for good): the
         * links keep their wd, which nothing will carry again. */
        watch_drop(n, w, false);
        return true;
    }
    const char *why = NULL;
    if (!still_there(w->path, w->dev, w->ino, &why) || (mask & IN_MODIFY)) {
        if (!why)
            why = "written";
        tell_links(n, wd, w->path, why);
    }
    return true;
}

void ipcn__cz_recheck_all(ipcn_node *n)
{
    for (uint32_t i = 0; n->cz && i < n->cz->nwatch; i++) {
        ipcn__cz_watch *w = &n->cz->watch[i];
        const char *why;
        if (!still_there(w->path, w->dev, w->ino, &why))
            tell_links(n, w->wd, w->path, why);
    }
}

void ipcn__cz_free(ipcn_node *n)
{
    ipcn__cz *cz = n->cz;
    if (!cz)
        return;
    for (uint32_t i = 0; i < cz->nrec; i++)
        ipcn__free(cz->rec[i].name);
    for (uint32_t i = 0; i < cz->nwatch; i++)
        ipcn__free(cz->watch[i].path);
    ipcn__free(cz->rec);
    ipcn__free(cz->watch);
    ipcn__free(cz);
    n->cz = NULL;
}

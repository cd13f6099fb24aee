/* SPDX-License-Identifier: MIT */
/*
 * adopt.c — which process is a component's: the readiness of a node
 * counts only when its process is the one started (or one that process
 * started, carrying the component's environment), and a new supervisor
 * adopts the components a previous one left running instead of starting
 * second copies: it finds each component's node among its peers, checks
 * that the process's environment names this robot and component, and
 * watches it through a pidfd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "sup_int.h"

bool sup_peer(sup *s, const char *name, pid_t *pid, bool *ready)
{
    ipcn_peer_list *pl = NULL;
    bool found = false;
    if (ipcn_peers(s->n, &pl) != IPCN_OK)
        return false;
    for (size_t i = 0; i < pl->count && !found; i++) {
        if (strcmp(pl->items[i].name, name))
            continue;
        ipcn_peer_info info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        if (ipcn_peer_list_get_info(pl, i, &info) != IPCN_OK)
            continue;
        *pid = (pid_t)info.pid;
        *ready = info.ready != 0;
        found = true;
    }
    ipcn_peer_list_free(pl);
    return found;
}

/* The environment that marks a process as rt's component of this robot. */
static bool env_marks(sup *s, sup_rt *rt, pid_t pid, char *version, size_t vlen)
{
    char comp[SUP_NAME_MAX + 32], robot[SUP_NAME_MAX + 32];
    snprintf(comp, sizeof comp, "IPCNET_COMPONENT=%s", rt->c->name);
    snprintf(robot, sizeof robot, "IPCNET_ROBOT=%s", s->m->robot);
    const char *kv[] = {comp, robot};
    return sup_proc_environ(pid, kv, 2, "IPCNET_COMPONENT_VERSION", version, vlen);
}

bool sup_is_ours(sup *s, sup_rt *rt, pid_t pid)
{
    if (pid <= 0 || !rt->pid)
        return false;
    if (pid == rt->pid)
        return true;
    char v[SUP_VERSION_ID_MAX + 1];
    return env_marks(s, rt, pid, v, sizeof v);
}

/* How long process pid has run, in ms (its start time in /proc/<pid>/stat
 * against CLOCK_BOOTTIME); -1 when unknown. */
static int64_t proc_age_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* the command may hold spaces and ')': fields count from the last ')' */
    char *p = strrchr(buf, ')');
    unsigned long long start = 0;
    /* after ')': state is field 3, starttime field 22 */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
                     "%*d %*d %*d %*d %*d %*d %llu", &start) != 1)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    struct timespec ts;
    if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts))
        return -1;
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t age = now - (int64_t)(start * 1000 / (unsigned long long)hz);
    return age < 0 ? 0 : age;
}

/* Is version id the trial of comp in the store? */
static bool is_trial(sup *s, const sup_component *c, const char *id)
{
    sup_version *vs = NULL;
    size_t n = 0;
    char err[256];
    bool trial = false;
    if (sup_store_list(s->m->store, c->name, &vs, &n, err, sizeof err) != IPCN_OK)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(vs[i].id, id))
            trial = vs[i].trial;
    free(vs);
    return trial;
}

void sup_adopt_all(sup *s)
{
    /* the directory and every live node's state must have arrived */
    ipcn_node_wait_synced(s->n, 1500);
    uint64_t now = sup_now_ms();
    for (size_t i = 0; i < s->m->ncomps; i++) {
        sup_rt *rt = &s->rt[i];
        pid_t pid;
        bool ready;
        char version[SUP_VERSION_ID_MAX + 1];
        if (!sup_peer(s, rt->c->node, &pid, &ready) || pid <= 0)
            continue;
        if (!env_marks(s, rt, pid, version, sizeof version)) {
            sup_log(s, rt->c->name, "its node %s runs, but pid %d is not this robot's "
                    "component: not adopted", rt->c->node, (int)pid);
            continue;
        }
        int fd = sup_pidfd_open(pid);
        if (fd < 0) {
            sup_log(s, rt->c->name, "cannot watch pid %d: not adopted", (int)pid);
            continue;
        }
        rt->pid = pid;
        rt->pidfd = fd;
        rt->child = false;
        rt->adopted = true;
        rt->gen++;
        rt->spawn_ms = now;
        snprintf(rt->version, sizeof rt->version, "%s", version);
        rt->trial = rt->c->versioned && version[0] && is_trial(s, rt->c, version);
        rt->state = SUP_ST_STARTING;
        sup_log(s, rt->c->name, "adopted: pid %d%s%s", (int)pid,
                version[0] ? ", version " : "", version);
        if (ready) {
            sup_on_ready(s, rt);
            /* its uptime is its process's, not this supervisor's */
            int64_t age = proc_age_ms(pid);
            if (age >= 0 && (uint64_t)age <= rt->ready_ms) {
                rt->ready_ms -= (uint64_t)age;
                rt->since_real_ms -= age;
                sup_publish(s, rt);
            }
        }
    }
}

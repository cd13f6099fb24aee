/* SPDX-License-Identifier: MIT */
/*
 * sup_int.h — the supervisor's state, shared by sup.c (the loop and the
 * state machine), sup_svc.c (its services and the network's events) and
 * adopt.c (readiness checks and adoption).  Everything runs on the one
 * thread that dispatches the supervisor's node.
 */
#ifndef IPCN_SUP_INT_H
#define IPCN_SUP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipcnet.h"
#include "manifest.h"
#include "restart.h"
#include "store.h"

typedef enum sup_state {
    SUP_ST_WAITING = 0,           /* for its dependencies */
    SUP_ST_STARTING,              /* running, not yet ready */
    SUP_ST_READY,                 /* running and ready */
    SUP_ST_BACKOFF,               /* down, restarts at restart_at */
    SUP_ST_STOPPING,              /* asked to stop (restart of its
                                     dependencies, a reload) */
    SUP_ST_STOPPED,               /* ended and not restarted */
    SUP_ST_FAILED,                /* past its restart intensity */
} sup_state;

const char *sup_state_name(sup_state s);

typedef struct sup_rt {
    const sup_component *c;
    size_t idx;
    sup_state state;
    pid_t pid;                    /* 0: no process */
    int pidfd;
    bool child;                   /* ours (reaped with waitid) */
    bool adopted;
    uint32_t gen;                 /* +1 per process: stale answers */
    uint64_t spawn_ms, ready_ms;  /* CLOCK_MONOTONIC */
    int64_t since_real_ms;        /* CLOCK_REALTIME of ready */
    uint64_t restart_at, kill_at; /* BACKOFF; STOPPING: SIGKILL then */
    sup_restart_hist hist;
    uint32_t restarts;
    char version[SUP_VERSION_ID_MAX + 1];
    char vdir[4096];
    bool trial, blessed;
    /* its configuration's version ("<name>.config" of the store), when
     * one is installed: picked, tried, blessed and rejected with it */
    char cversion[SUP_VERSION_ID_MAX + 1];
    char cdir[4096];
    bool ctrial;
    int last_exit;                /* -2 none, -1 unknown */
    char reason[256];
    /* why the process is being ended */
    bool unhealthy, timed_out, cascade, reload, compromised;
    bool spawn_failed;            /* the command could not be executed */
    /* health */
    uint64_t next_health;
    bool health_pending, health_ok;
} sup_rt;

typedef struct sup {
    sup_manifest *m;
    ipcn_node *n;
    char node_name[SUP_NAME_MAX + 8];
    sup_rt *rt;
    bool json;
    /* the ordered shutdown, once asked for */
    bool stop_asked, stop_failed;
    char stop_reason[256];
    ipcn_responder *waiters;      /* "system/shutdown" requests answered
                                     with the report */
    size_t nwaiters;
    char reload_path[256];
    struct health_ask *asks;      /* health requests in flight */
} sup;

uint64_t sup_now_ms(void);
int64_t sup_real_ms(void);
void sup_log(sup *s, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Publish rt's state. */
void sup_publish(sup *s, sup_rt *rt);
/* The component whose node is called name, or NULL. */
sup_rt *sup_by_node(sup *s, const char *name);
sup_rt *sup_by_name(sup *s, const char *name);
/* Ask for the ordered shutdown (the first reason stays). */
void sup_ask_stop(sup *s, const char *reason, bool failure);
/* The process of rt ended with status (see sup_proc_ended()). */
void sup_on_exit(sup *s, sup_rt *rt, int status);
/* rt is ready now. */
void sup_on_ready(sup *s, sup_rt *rt);
/* End rt's process: sig now, SIGKILL after kill_after_ms. */
void sup_end_proc(sup *s, sup_rt *rt, int sig);

/* ---- adopt.c ---- */
/* Is the peer whose pid is pid rt's process (or a process it started,
 * with rt's IPCNET_COMPONENT and IPCNET_ROBOT in its environment)? */
bool sup_is_ours(sup *s, sup_rt *rt, pid_t pid);
/* Adopt every component whose node is linked and whose process carries
 * this robot's environment. */
void sup_adopt_all(sup *s);
/* The peer called name: its pid and whether it said it is ready.  False
 * when not linked. */
bool sup_peer(sup *s, const char *name, pid_t *pid, bool *ready);

/* ---- sup_svc.c ---- */
/* Offer "system/shutdown" and the reload service, subscribe to the
 * compromise streams, set the event callback.  100 or the status. */
int sup_svc_start(sup *s);
/* Answer the shutdown requests waiting with the report's CBOR. */
struct sup_stop_report;
void sup_svc_answer(sup *s, const struct sup_stop_report *rep);
/* Send a health request of rt. */
void sup_health_ask(sup *s, sup_rt *rt);
/* Forget every health request in flight (the supervisor ends). */
void sup_health_cancel_all(sup *s);

#endif

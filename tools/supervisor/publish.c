/* SPDX-License-Identifier: MIT */
/*
 * publish.c — the supervisor's data resources and alarm stream
 * (publish.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipcnet_value.h"
#include "publish.h"

const char *sup_crit_name(ipcn_criticality c)
{
    switch (c) {
    case IPCN_CRIT_OPTIONAL: return "optional";
    case IPCN_CRIT_CRITICAL: return "critical";
    case IPCN_CRIT_IMPORTANT: return "important";
    case IPCN_CRIT_UNSET: break;
    }
    return "important";
}

void sup_component_path(char *buf, const char *robot, const char *name)
{
    snprintf(buf, SUP_PATH_MAX, "/system/supervisor/%s/components/%s", robot, name);
}

static void put_kv_text(ipcn_cbor_writer *w, const char *k, const char *v)
{
    ipcn_cbor_put_cstr(w, k);
    ipcn_cbor_put_cstr(w, v ? v : "");
}

size_t sup_status_encode(const sup_status *s, uint8_t *buf, size_t cap)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 12);
    put_kv_text(&w, "name", s->name);
    put_kv_text(&w, "node", s->node);
    put_kv_text(&w, "state", s->state);
    put_kv_text(&w, "version", s->version);
    ipcn_cbor_put_cstr(&w, "trial");
    ipcn_cbor_put_bool(&w, s->trial);
    ipcn_cbor_put_cstr(&w, "restarts");
    ipcn_cbor_put_uint(&w, s->restarts);
    ipcn_cbor_put_cstr(&w, "uptime_ms");
    ipcn_cbor_put_uint(&w, s->uptime_ms);
    ipcn_cbor_put_cstr(&w, "pid");
    ipcn_cbor_put_int(&w, s->pid);
    put_kv_text(&w, "criticality", s->criticality);
    ipcn_cbor_put_cstr(&w, "last_exit");
    if (s->last_exit == -2)
        ipcn_cbor_put_null(&w);
    else
        ipcn_cbor_put_int(&w, s->last_exit);
    ipcn_cbor_put_cstr(&w, "since_ms");
    ipcn_cbor_put_int(&w, s->since_ms);
    put_kv_text(&w, "reason", s->reason);
    size_t len = 0;
    return ipcn_cbor_writer_finish(&w, &len) == IPCN_OK ? len : 0;
}

/* Announce path once per node: IPCN_CREATED the first time, after which
 * a re-announce would only raise the version. */
static int ensure(ipcn_node *n, const char *path, ipcn_kind kind)
{
    ipcn_resource_list *l = NULL;
    int st = ipcn_find(n, path, kind, &l);
    bool have = false;
    if (st == IPCN_OK)
        for (size_t i = 0; i < l->count && !have; i++)
            have = !strcmp(l->items[i].provider, ipcn_node_name(n));
    ipcn_resource_list_free(l);
    if (have)
        return IPCN_OK;
    st = ipcn_announce(n, path, kind, "cbor", NULL, 0);
    return st == IPCN_CREATED ? IPCN_OK : st;
}

int sup_publish_status(ipcn_node *n, const char *robot, const sup_status *s)
{
    char path[SUP_PATH_MAX];
    uint8_t buf[2048];
    sup_component_path(path, robot, s->name);
    size_t len = sup_status_encode(s, buf, sizeof buf);
    if (!len)
        return IPCN_BAD_REQUEST;
    int st = ensure(n, path, IPCN_DATA);
    return st == IPCN_OK ? ipcn_publish(n, path, buf, len) : st;
}

int sup_publish_alarm(ipcn_node *n, const char *robot, const char *component,
                      const char *criticality, const char *reason)
{
    char path[SUP_PATH_MAX];
    snprintf(path, sizeof path, "/system/supervisor/%s/alarms", robot);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint8_t buf[2048];
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 4);
    put_kv_text(&w, "component", component);
    put_kv_text(&w, "criticality", criticality);
    put_kv_text(&w, "reason", reason);
    ipcn_cbor_put_cstr(&w, "time_ms");
    ipcn_cbor_put_uint(&w, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
    size_t len = 0;
    if (ipcn_cbor_writer_finish(&w, &len) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    int st = ensure(n, path, IPCN_STREAM);
    return st == IPCN_OK ? ipcn_publish(n, path, buf, len) : st;
}

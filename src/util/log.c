/* SPDX-License-Identifier: MIT */
/* log.c — log lines with stable ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

static ipcn_log_fn g_log_fn;
static void *g_log_user;
static int g_log_level = -1; /* -1: not yet read from IPCNET_LOG */

static int level_from_env(void)
{
    const char *e = getenv("IPCNET_LOG");
    if (!e)
        return IPCN_LOG_WARN;
    if (!strcmp(e, "error"))
        return IPCN_LOG_ERROR;
    if (!strcmp(e, "info"))
        return IPCN_LOG_INFO;
    if (!strcmp(e, "debug"))
        return IPCN_LOG_DEBUG;
    if (!strcmp(e, "none") || !strcmp(e, "off"))
        return -2;
    return IPCN_LOG_WARN;
}

IPCN_API int ipcn_set_log(ipcn_log_level max_level, ipcn_log_fn fn, void *user)
{
    __atomic_store_n(&g_log_level, (int)max_level, __ATOMIC_RELAXED);
    g_log_fn = fn;
    g_log_user = user;
    return IPCN_OK;
}

void ipcn__log(ipcn_log_level level, const char *id, const char *fmt, ...)
{
    int max = __atomic_load_n(&g_log_level, __ATOMIC_RELAXED);
    if (max == -1) {
        max = level_from_env();
        __atomic_store_n(&g_log_level, max, __ATOMIC_RELAXED);
    }
    if ((int)level > max)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ipcn_log_fn fn = g_log_fn;
    if (fn) {
        fn(level, id, msg, g_log_user);
        return;
    }
    static const char *names[] = {"error", "warn", "info", "debug"};
    fprintf(stderr, "ipcnet[%d] %s %s: %s\n", (int)getpid(), names[level],
            id, msg);
}

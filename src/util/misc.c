/* SPDX-License-Identifier: MIT */
/* misc.c — status names, version, clocks, random ids. */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "util/util.h"

IPCN_API const char *ipcn_status_str(int status)
{
    switch (status) {
#define IPCN__STATUS_CASE(name, code, text) \
    case code:                              \
        return text;
        IPCN_STATUS_LIST(IPCN__STATUS_CASE)
#undef IPCN__STATUS_CASE
    default:
        return status >= IPCN_STATUS_APP_FIRST ? "Application Status"
                                               : "Unknown Status";
    }
}

#define IPCN__STR2(x) #x
#define IPCN__STR(x) IPCN__STR2(x)

IPCN_API const char *ipcn_version(void)
{
    return IPCN__STR(IPCN_VERSION_MAJOR) "." IPCN__STR(
        IPCN_VERSION_MINOR) "." IPCN__STR(IPCN_VERSION_PATCH);
}

IPCN_API int ipcn_version_number(void) { return IPCN_VERSION_NUMBER; }

static uint64_t now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ipcn__now_mono_ns(void) { return now(CLOCK_MONOTONIC); }
uint64_t ipcn__now_real_ns(void) { return now(CLOCK_REALTIME); }

uint64_t ipcn__deadline_ms(int timeout_ms)
{
    return timeout_ms < 0 ? 0
                          : now(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;
}

uint64_t ipcn__random_u64(void)
{
    uint64_t v = 0;
    while (v == 0) {
        ssize_t r = getrandom(&v, sizeof v, 0);
        if (r != (ssize_t)sizeof v && errno != EINTR) {
            /* getrandom cannot fail for 8 bytes once the pool is ready;
             * fall back to the clock rather than give a fixed id. */
            v = now(CLOCK_MONOTONIC) ^ (now(CLOCK_REALTIME) << 17);
        }
    }
    return v;
}

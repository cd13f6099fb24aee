/* SPDX-License-Identifier: MIT */
/* util.h — allocation hook, logging, clocks and small helpers shared by
 * every layer. */
#ifndef IPCN_UTIL_H
#define IPCN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

#define IPCN__UNUSED __attribute__((unused))
#define ipcn__cleanup(fn) __attribute__((cleanup(fn)))
#define IPCN__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ipcn__container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Sized public structs (ipcnet.h, "Sized structs"), checked one way by
 * every call.  first is the size of the struct's first version:
 * IPCN__SIZE_TO(type, its last field in that version); known is
 * sizeof(type) as this library was built. */
#define IPCN__SIZE_TO(type, member) \
    (offsetof(type, member) + sizeof(((type *)0)->member))
/* Options read by the library: *in must have first <= size <= known, else
 * 200.  Copies its first size bytes over *dst, which the caller filled
 * with the defaults (so the fields past size keep them), and sets dst's
 * size to known.  100 or 200 (also for NULL in). */
int ipcn__sized_in(void *dst, size_t known, const void *in, size_t first);
/* Counters and results written by the library: 100 when out is not NULL
 * and its size is at least first, else 200.  Check before doing the work. */
int ipcn__sized_check(const void *out, size_t first);
/* Then write them: the first min(out's size, known) bytes of *src go to
 * *out, its size field excepted; bytes of *out past known are untouched. */
void ipcn__sized_out(void *out, const void *src, size_t known);

/* Allocation: every allocation of the library goes through these. */
void *ipcn__malloc(size_t n);
void *ipcn__calloc(size_t nmemb, size_t size);
void *ipcn__realloc(void *p, size_t n);
void ipcn__free(void *p);
char *ipcn__strdup(const char *s);
char *ipcn__strndup(const char *s, size_t n);
void *ipcn__memdup(const void *p, size_t n);

/* Logging: id is a stable identifier ("IPCN-LINK-BADFRAME"). */
void ipcn__log(ipcn_log_level level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define ipcn__err(id, ...) ipcn__log(IPCN_LOG_ERROR, id, __VA_ARGS__)
#define ipcn__warn(id, ...) ipcn__log(IPCN_LOG_WARN, id, __VA_ARGS__)
#define ipcn__info(id, ...) ipcn__log(IPCN_LOG_INFO, id, __VA_ARGS__)
#define ipcn__debug(id, ...) ipcn__log(IPCN_LOG_DEBUG, id, __VA_ARGS__)

/* Clocks, in nanoseconds. */
uint64_t ipcn__now_mono_ns(void);
uint64_t ipcn__now_real_ns(void);
/* The CLOCK_MONOTONIC time timeout_ms from now; 0 (no deadline) when
 * timeout_ms is negative. */
uint64_t ipcn__deadline_ms(int timeout_ms);

/* A random 64-bit value from getrandom(); never 0. */
uint64_t ipcn__random_u64(void);

/* Validation of outside strings (names.c). */
int ipcn__utf8_valid(const char *s, size_t n);
/* Node names: 1..64 of [A-Za-z0-9._-], not starting with '.'. 100 or 200. */
int ipcn__name_check(const char *s, size_t n);
/* Resource paths: 1..255 bytes of UTF-8 with no control characters, no
 * empty segment (no leading, trailing or double '/'), no segment that
 * contains '*'.  100 or 200. */
int ipcn__path_check(const char *s, size_t n);
/* Patterns: as paths, but a segment may be exactly "*" or "**". */
int ipcn__pattern_check(const char *s, size_t n);
/* Encodings: 0..255 bytes of printable ASCII. 100 or 200. */
int ipcn__encoding_check(const char *s, size_t n);
/* Does the path match the pattern (both already checked)? 1 or 0. */
int ipcn__pattern_match(const char *pat, size_t pn, const char *path,
                        size_t n);

#define IPCN_NAME_MAX 64
#define IPCN_PATH_MAX 255
#define IPCN_ENCODING_MAX 255
#define IPCN_META_MAX (64u << 10)

#endif

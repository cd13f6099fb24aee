/* SPDX-License-Identifier: MIT */
/* util.h — allocation hook, logging, clocks and small helpers shared by
 * every layer. */
#ifndef IPCN_UTIL_H
#define IPCN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
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
/* A node's lock file as another process wrote it, "<pid> <id> <fd>\n"
 * (protocol 6.1: pid and fd decimal, id 16 lowercase hex digits): 100
 * with the pid (> 0), or 200 for anything else. */
int ipcn__lock_line_parse(const char *s, size_t n, int32_t *pid);
/* Does the path match the pattern (both already checked)? 1 or 0. */
int ipcn__pattern_match(const char *pat, size_t pn, const char *path,
                        size_t n);

/* A node's namespace and remap rules (remap.c): how a name the program
 * gives becomes a path on the wire.  ns: "" (none), or segments of
 * [A-Za-z0-9_-] separated by '/', without a leading or trailing '/'.
 * Rules: FROM and TO expanded wire paths; of a prefix rule (both sides
 * end in a '/' and two stars), without that ending. */
#define IPCN__NS_MAX 62            /* leaves room for "ns.name" <= 64 */
#define IPCN__REMAP_RULES_MAX 64
#define IPCN__REMAP_TEXT_MAX 8192
typedef struct ipcn__remap_rule {
    char *from, *to;
    size_t from_len, to_len;
    bool prefix;
} ipcn__remap_rule;
typedef struct ipcn__names {
    char ns[IPCN__NS_MAX + 1];
    size_t ns_len;
    ipcn__remap_rule *rules;
    uint32_t nrules;
} ipcn__names;
/* Set the namespace from its text ("", "/", "a/b", "/a/b"): 100, or 200
 * with the reason in why.  Set it before adding rules. */
int ipcn__names_set_ns(ipcn__names *t, const char *s, size_t n, char *why,
                       size_t whylen);
/* Add the rules of a text "FROM=TO,FROM=TO" (empty: none), all or none:
 * 100; 200 with the reason in why; 307. */
int ipcn__names_add_rules(ipcn__names *t, const char *s, size_t n, char *why,
                          size_t whylen);
void ipcn__names_clear(ipcn__names *t);
/* Resolve the name [s, s+n) into out (IPCN_PATH_MAX + 1 bytes, NUL-ended,
 * length in *outlen): 100, or 200 (empty, or too long once expanded).
 * The result is not checked as a path or pattern: the caller does. */
int ipcn__names_resolve(const ipcn__names *t, const char *s, size_t n,
                        char *out, size_t *outlen);
/* The node name "ns.name" (the namespace's '/' as '.'; name alone without
 * one) into out (cap bytes): 100, or 200 when longer than a node name. */
int ipcn__names_node_name(const ipcn__names *t, const char *name, size_t n,
                          char *out, size_t cap);

#define IPCN_NAME_MAX 64
#define IPCN_PATH_MAX 255
#define IPCN_ENCODING_MAX 255
#define IPCN_META_MAX (64u << 10)

#endif

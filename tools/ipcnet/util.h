/* SPDX-License-Identifier: MIT */
/* util.h — small helpers of the CLI: allocation that exits on failure,
 * clocks, UTF-8 checks, hashing. */
#ifndef IPCNET_CLI_UTIL_H
#define IPCNET_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

uint64_t now_mono_ns(void);
uint64_t now_real_ns(void);

size_t utf8_seq(const unsigned char *p, size_t n);
bool utf8_valid(const void *data, size_t n);

/* in, with control bytes (C0, DEL, C1) and invalid UTF-8 as \xHH,
 * truncated to fit out (always NUL-terminated when outlen > 0). */
void escape_line(char *out, size_t outlen, const char *in);

uint64_t hash64(const void *data, size_t len); /* XXH3-64 */

/* "1.5 KiB", "12 B" */
void fmt_bytes(char *out, size_t outlen, double bytes);
/* "3d04h", "2h05m", "4m07s", "12s" */
void fmt_duration(char *out, size_t outlen, double seconds);

#endif

/* SPDX-License-Identifier: MIT */
/* sensor.h — what the files of the sensor messages (src/media/sensor*.c)
 * share: a reader of the maps they are made of, value by value and
 * bounds-checked, the writer's common pieces, and the layout of a message
 * whose tensor starts on an aligned boundary. */
#ifndef IPCN_SENSOR_INTERNAL_H
#define IPCN_SENSOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ipcnet_sensor.h"

/* ---- reading ---------------------------------------------------------- */

/* A map being read: its pairs left (definite) or until a break. */
typedef struct ipcn__smap {
    uint64_t left;
    int indefinite;
} ipcn__smap;

/* The next item must be a map: 100, or 200. */
int ipcn__s_map_open(ipcn_cbor_reader *r, ipcn__smap *m);
/* The next key of the map (a definite text string): 100 with *key, 103 at
 * the end of the map (its break consumed), 200. */
int ipcn__s_map_key(ipcn_cbor_reader *r, ipcn__smap *m, ipcn_strview *key);
/* Is key the NUL-terminated s? */
int ipcn__s_key_is(ipcn_strview key, const char *s);
/* Mark bit in *seen: 100, or 200 when it was set already (a key twice). */
int ipcn__s_once(unsigned *seen, unsigned bit);
/* After the top-level map: nothing may follow.  100 or 200. */
int ipcn__s_end(ipcn_cbor_reader *r);

/* Values: each reads one item and returns 100, or 200 when it is not of
 * the kind asked (the reader's own 200 for input that is not CBOR). */
int ipcn__s_uint(ipcn_cbor_reader *r, uint64_t max, uint64_t *out);
int ipcn__s_number(ipcn_cbor_reader *r, double *out);  /* integer or float */
int ipcn__s_bool(ipcn_cbor_reader *r, int *out);
int ipcn__s_text(ipcn_cbor_reader *r, ipcn_strview *out); /* definite */
/* A text of fewer than cap bytes without NUL bytes, copied with its NUL. */
int ipcn__s_text_copy(ipcn_cbor_reader *r, char *dst, size_t cap);
/* Numbers: an array of numbers, or a one-dimensional tensor of integers or
 * floats; at most max (more: 200); *n their count.  out NULL: only
 * checked and counted. */
int ipcn__s_numbers(ipcn_cbor_reader *r, double *out, size_t max, size_t *n);
/* ipcn__s_numbers() of exactly n. */
int ipcn__s_numbers_n(ipcn_cbor_reader *r, double *out, size_t n);
/* A key of the header ("stamp", "frame_id"): 100 when read into *h (bits
 * 0 and 1 of *seen), 203 when key is none of them, 200. */
int ipcn__s_header_key(ipcn_cbor_reader *r, ipcn_strview key,
                       ipcn_sensor_header *h, unsigned *seen);

/* ---- writing ---------------------------------------------------------- */

/* A NUL-terminated string within cap bytes (the NUL included), valid
 * UTF-8: 1, else 0. */
int ipcn__s_cstr_ok(const char *s, size_t cap);
/* The header's two pairs.  Returns the writer's status (200: invalid). */
int ipcn__s_put_header(ipcn_cbor_writer *w, const ipcn_sensor_header *h);
/* "key": [v0, v1, ...] */
int ipcn__s_put_numbers(ipcn_cbor_writer *w, const char *key,
                        const double *v, size_t n);

/* Write one map of field_pairs + 2 pairs into buf[0..cap): the pairs that
 * fields(w, ctx) writes, then "pad" (a byte string of zeros) and "data": t
 * (written in native byte order), the elements on an IPCN_SENSOR_ALIGN
 * boundary of buf.  t's elements are copied when t->data is not NULL,
 * else reserved and *data_out set.  *len: bytes written (100) or needed
 * (306).  Returns 100, 306, 200. */
typedef int (*ipcn__s_fields_fn)(ipcn_cbor_writer *w, const void *ctx);
int ipcn__s_encode_aligned(void *buf, size_t cap, uint64_t field_pairs,
                           ipcn__s_fields_fn fields, const void *ctx,
                           const ipcn_tensor *t, size_t *len,
                           void **data_out);

/* The camera_info map at r (nested in an image, or alone).  100 or 200. */
int ipcn__s_read_camera_info(ipcn_cbor_reader *r, ipcn_camera_info *out);

#endif

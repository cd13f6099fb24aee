/* SPDX-License-Identifier: MIT */
/* value.h — what the files of the value layer (src/value/) share: the
 * reader's frame kinds, the writer's raw steps, float conversions. */
#ifndef IPCN_VALUE_INTERNAL_H
#define IPCN_VALUE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet_value.h"

/* ipcn__cbor_frame.kind */
enum {
    IPCN__F_ARRAY = 1,     /* definite: remaining = items left */
    IPCN__F_MAP,           /* definite: remaining = items (2 per pair) left */
    IPCN__F_ARRAY_INDEF,   /* remaining = items seen */
    IPCN__F_MAP_INDEF,     /* remaining = items seen */
    IPCN__F_STRING_INDEF,  /* major = 2 or 3: the chunks' type */
    IPCN__F_TAG            /* remaining = 1 */
};

/* The kind of the reader's innermost open item, 0 at the top level. */
static inline int ipcn__cbor_reader_top(const ipcn_cbor_reader *r)
{
    return r->depth ? r->stack[r->depth - 1].kind : 0;
}

/* A reader *c that walks on from where r is, inside r's innermost open
 * item only (its frame is c's only one), so that the item can be measured
 * ahead (its items counted, its chunks summed) without copying r's whole
 * stack.  c checks what it reads as r would, except that it allows
 * r->depth - 1 more levels of nesting: r finds those when it gets there. */
void ipcn__cbor_reader_fork(const ipcn_cbor_reader *r, ipcn_cbor_reader *c);

/* Writer steps for code that writes an item in pieces (canonicalize, the
 * tree): a head, raw bytes, and the end of an item. */
void ipcn__cbor_w_head(ipcn_cbor_writer *w, unsigned major, uint64_t arg);
void ipcn__cbor_w_raw(ipcn_cbor_writer *w, const void *p, size_t n);
void ipcn__cbor_w_end_item(ipcn_cbor_writer *w);

/* Bytewise lexicographic order of two encodings, the shorter first when
 * one is a prefix of the other (RFC 8949 §4.2.1): <0, 0, >0. */
int ipcn__cbor_key_cmp(const uint8_t *a, size_t an, const uint8_t *b,
                       size_t bn);

/* The end of the item that starts at pos of b[0..len), which is trusted:
 * our own output, definite lengths only. */
size_t ipcn__cbor_item_end(const uint8_t *b, size_t len, size_t pos);

/* IEEE 754 binary16 <-> double.  The to- functions return 1 and set *out
 * when v is exactly representable (NaNs: when the sign and payload fit),
 * else 0. */
double ipcn__half_to_double(uint16_t h);
int ipcn__double_to_half(double v, uint16_t *out);
double ipcn__single_bits_to_double(uint32_t b);
int ipcn__double_to_single(double v, uint32_t *out);
/* The width (16, 32, 64) of the shortest float that keeps v exactly. */
unsigned ipcn__float_width(double v);

/* A tensor's encoding up to its elements: *dst is where the elements go
 * (NULL when measuring or on failure); *numel their count when not NULL.
 * Returns the writer's status (200 for an invalid tensor).  t->data is not
 * read. */
int ipcn__tensor_put_head(ipcn_cbor_writer *w, const ipcn_tensor *t,
                          uint8_t **dst, uint64_t *numel);

/* A tree (as ipcn_cbor_tree_decode()) and, when offsets is not NULL, the
 * byte offset in buf of each item's head: (*offsets)[it - root], an array
 * the caller frees with ipcn__free().  Returns as ipcn_cbor_tree_decode(). */
int ipcn__cbor_tree_decode_at(const void *buf, size_t len, uint32_t flags,
                              ipcn_cbor_item **out, size_t **offsets);

/* Types (schema.c): the type language of typed services
 * (ipcn_offer_typed()) and of typed data and streams (ipcnet_schema.h). */
#define IPCN__SCHEMA_MAX_DEPTH 16   /* types nested in one another */
#define IPCN__SCHEMA_MAX_LEN 4096   /* bytes of one type */
#define IPCN__SCHEMA_MAX_FIELDS 128 /* fields of one "map" */

/* Is schema[0..len) one valid type?  Returns 100, 200, 307. */
int ipcn__schema_valid(const void *schema, size_t len);

/* Does value[0..value_len) (one CBOR item) have the type schema (valid)?
 * root names the value in the reason ("args", "value").  Returns 100; 200
 * with a short reason in why ("args.x: expected float, got text"), always
 * NUL-terminated when whylen > 0; 307.  The work is bounded by the
 * value's size times IPCN__SCHEMA_MAX_FIELDS, plus the schema's size. */
int ipcn__schema_check_as(const void *schema, size_t schema_len,
                          const void *value, size_t value_len,
                          const char *root, char *why, size_t whylen);
/* The same, the value named "args" (a typed service's request). */
int ipcn__schema_check(const void *schema, size_t schema_len,
                       const void *value, size_t value_len, char *why,
                       size_t whylen);

/* The type a data or stream descriptor declares: meta[0..len) is one
 * well-formed CBOR map with the text key "schema".  Returns 100 with
 * *schema (allocated, ipcn__free(); the item under the key, written again)
 * and *schema_len; 103 when meta declares none (empty, not one well-formed
 * item, not a map, no such key); 200 when the key is there twice or its
 * item is not a valid type; 307. */
int ipcn__schema_from_meta(const void *meta, size_t len, uint8_t **schema,
                           size_t *schema_len);

/* Is enc ("cbor", "application/cbor", with or without parameters) CBOR? */
bool ipcn__encoding_is_cbor(const char *enc);

/* Votes (cbor_equal.c): do a[0..an) and b[0..bn), one CBOR item each,
 * hold the same value?  Numbers (integers, floats, one of each) that differ
 * by at most tol are equal (tol < 0 or NaN: 0); maps are compared as sets
 * of keys, each key exactly (its deterministic encoding), arrays in order,
 * strings, tags and simple values exactly.  Equal bytes are equal even when
 * they are not CBOR; otherwise an input that is not one well-formed item
 * (or a map with two equal keys) equals nothing.  Cost: linear in the
 * inputs plus the sorting of their maps; allocates two copies. */
bool ipcn__cbor_equal(const void *a, size_t an, const void *b, size_t bn,
                      double tol);

/* JSON numbers (json_num.c), whatever the program's locale.
 * ipcn__json_strtod(): the double of the JSON number s[0..n) (checked by
 * the caller); *ok 0 when a long number could not be copied (no memory).
 * ipcn__json_dtoa(): d with the fewest digits that read back as d, in the
 * style of Python's repr() ("0.1", "1e+16", "2.0"), "null" for NaN and the
 * infinities; writes at most IPCN__JSON_DTOA_MAX bytes with the NUL and
 * returns the length. */
#define IPCN__JSON_DTOA_MAX 40
double ipcn__json_strtod(const char *s, size_t n, int *ok);
size_t ipcn__json_dtoa(double d, char *out);

#endif

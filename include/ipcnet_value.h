/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_value.h — typed data for IPCNet values: a CBOR (RFC 8949) codec,
 * typed arrays and tensors (RFC 8746, DLPack's model), and the parser of
 * encoding strings ("video/raw;format=rgb24;width=640;height=480").
 *
 * None of these functions touches a node: they are pure functions over
 * buffers, safe to call from any thread on distinct objects.  The
 * conventions of ipcnet.h hold: every call that can fail returns a status
 * code, output parameters are untouched on failure (except where a comment
 * says that the size needed is reported), and the only statuses used here
 * are
 *   100 OK, 103 No Data (the end of a walk),
 *   200 Bad Request (malformed or invalid input, invalid arguments),
 *   203 Not Found (a lookup found nothing),
 *   301 Not Implemented (valid data this library cannot represent, e.g. a
 *       float128 typed array),
 *   306 Insufficient Storage (a caller's buffer is too small; the size
 *       needed is reported; for the getters, also a number that does not
 *       fit the C type asked),
 *   307 Insufficient Memory.
 *
 * Zero copy: the decoder never copies a byte or text string — it hands out
 * pointers into the caller's buffer, and a decoded tensor is a view of its
 * payload inside that buffer.  Such pointers are valid as long as the
 * buffer is; the caller keeps ownership of every buffer it passes in.
 *
 * Since: 0.1
 */
#ifndef IPCNET_VALUE_H
#define IPCNET_VALUE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== */
/* CBOR (RFC 8949)                                                     */
/* ================================================================== */

/** The deepest nesting of arrays, maps, tags and indefinite-length
 *  strings that the reader, the writer and the tree accept. */
#define IPCN_CBOR_MAX_DEPTH 64

/*
 * Flags of the reader, the writer and the tree decoder.
 *
 * IPCN_CBOR_DETERMINISTIC — RFC 8949 §4.2.1 "core deterministic encoding":
 *   every head in its shortest form; no indefinite lengths; floats in the
 *   shortest of half/single/double that keeps the value exactly, and every
 *   NaN as the half-precision quiet NaN f9 7e00 (§4.2.2); map keys sorted
 *   by the bytewise lexicographic order of their encodings, no two equal.
 *   The reader rejects (200) anything else; the writer produces it (it
 *   sorts each map in place when the map is complete, and fails with 200
 *   on two equal keys).  Note: cbor2's canonical=True and RFC 7049 §3.9
 *   sort keys length-first, which differs for keys of different major
 *   types (e.g. 100 before -1 here, -1 before 100 there).
 * IPCN_CBOR_SEQUENCE — the reader accepts zero or more top-level items
 *   one after the other (a CBOR sequence, RFC 8742).  Without it, the
 *   input must be exactly one item: an empty input or bytes after the
 *   item are rejected (200).
 * IPCN_CBOR_COPY_STRINGS — the tree decoder copies every string into the
 *   tree, so that the tree stays valid after the input buffer is gone.
 */
#define IPCN_CBOR_DETERMINISTIC 0x1u
#define IPCN_CBOR_SEQUENCE 0x2u
#define IPCN_CBOR_COPY_STRINGS 0x4u

/** The kinds of CBOR data items (and the break stop code, 0xff). Since: 0.1 */
typedef enum ipcn_cbor_type {
    IPCN_CBOR_UINT = 0,      /**< major type 0: u */
    IPCN_CBOR_NEGINT = 1,    /**< major type 1: the value is -1 - u */
    IPCN_CBOR_BYTES = 2,     /**< major type 2 */
    IPCN_CBOR_TEXT = 3,      /**< major type 3, valid UTF-8 */
    IPCN_CBOR_ARRAY = 4,     /**< major type 4 */
    IPCN_CBOR_MAP = 5,       /**< major type 5 */
    IPCN_CBOR_TAG = 6,       /**< major type 6: tag number u, then one item */
    IPCN_CBOR_SIMPLE = 7,    /**< simple value u other than the four below */
    IPCN_CBOR_BOOL = 8,      /**< false (u = 0) or true (u = 1) */
    IPCN_CBOR_NULL = 9,
    IPCN_CBOR_UNDEFINED = 10,
    IPCN_CBOR_FLOAT = 11,    /**< f; float_bits says how it was encoded */
    IPCN_CBOR_BREAK = 12     /**< end of an indefinite-length item */
} ipcn_cbor_type;

/**
 * One item head, as the reader reports it.  Which fields mean something
 * depends on type:
 *  - UINT: u.  NEGINT: the value is -1 - u (so every 64-bit u is valid:
 *    the range is -2^64 .. -1); ipcn_cbor_value_int64() converts.
 *  - BYTES, TEXT of definite length: ptr, len (ptr points into the input
 *    buffer; for len 0 it is still a valid pointer).  Of indefinite length
 *    (indefinite = 1): ptr is NULL and len 0; the chunks follow as
 *    definite BYTES/TEXT items at depth + 1, then a BREAK.
 *  - ARRAY: count items follow; MAP: count pairs (2 * count items, key
 *    then value) follow.  Indefinite (indefinite = 1, count 0): items
 *    follow until a BREAK.
 *  - TAG: u is the tag number; the tagged item follows at depth + 1.
 *  - SIMPLE: u is 0..19 or 32..255.  BOOL: u is 0 or 1.
 *  - FLOAT: f, and float_bits (16, 32 or 64) as encoded.
 *  - BREAK: ends the innermost indefinite-length item.
 * depth is the item's nesting level (0 for a top-level item), offset the
 * position of its head in the buffer.
 * Since: 0.1
 */
typedef struct ipcn_cbor_value {
    ipcn_cbor_type type;
    uint8_t indefinite;
    uint8_t float_bits;
    uint16_t depth;
    uint64_t u;
    double f;
    const uint8_t *ptr;
    size_t len;
    uint64_t count;
    size_t offset;
} ipcn_cbor_value;

/* ------------------------------------------------------------------ */
/* Reader: a cursor over a buffer, without allocation or copies        */
/* ------------------------------------------------------------------ */

/** One open container of a reader or writer: private. */
typedef struct ipcn__cbor_frame {
    uint64_t remaining;   /* items left (definite), items seen (indefinite) */
    size_t key_start;     /* maps: where the current key starts */
    size_t prev_key;      /* maps: the previous key, [prev_key, prev_end) */
    size_t prev_end;
    uint8_t kind;
    uint8_t major;
} ipcn__cbor_frame;

/**
 * A reader walks the items of a buffer in document order ("pre-order"):
 * a container's head, then its items.  It allocates nothing, never reads
 * outside [buf, buf + len), and checks as it goes that the input is
 * well-formed (RFC 8949 §5.3.1: complete heads, lengths within the buffer,
 * no reserved additional information 28-30, breaks only where they end an
 * indefinite-length item, chunks of indefinite strings definite and of
 * the same type, no two-byte simple values below 32), that text strings
 * are valid UTF-8, and that nesting stays within IPCN_CBOR_MAX_DEPTH; with
 * IPCN_CBOR_DETERMINISTIC, also the rules of that flag.  The cost of a
 * walk is linear in the input.  The first error is sticky: every later
 * call returns it again.
 * The fields are private; the struct is public so that it can live on the
 * stack (about 2.5 KiB).  Copying a reader forks the walk.
 * Since: 0.1
 */
typedef struct ipcn_cbor_reader {
    const uint8_t *buf;
    size_t len, pos;
    uint32_t flags;
    uint32_t depth;
    int status;
    uint32_t top_items;
    ipcn__cbor_frame stack[IPCN_CBOR_MAX_DEPTH];
} ipcn_cbor_reader;

/**
 * ipcn_cbor_reader_init() - start a walk over buf[0..len).  flags:
 * IPCN_CBOR_DETERMINISTIC, IPCN_CBOR_SEQUENCE.  buf may be NULL when len
 * is 0.  Returns 100, or 200 for NULL r, NULL buf with len > 0, or unknown
 * flags (the reader then returns 200 from every call).  Since: 0.1
 */
IPCN_API int ipcn_cbor_reader_init(ipcn_cbor_reader *r, const void *buf,
                                   size_t len, uint32_t flags);

/**
 * ipcn_cbor_next() - read the next item head (see ipcn_cbor_value).
 * Returns 100 with *out set; 103 at the end of the input once the item
 * (or, with IPCN_CBOR_SEQUENCE, every item) is complete; 200 when the
 * input is not well-formed (or not valid UTF-8, too deep, or not
 * deterministic when that was asked) — including truncated input and, in
 * single-item mode, bytes after the item.  Since: 0.1
 */
IPCN_API int ipcn_cbor_next(ipcn_cbor_reader *r, ipcn_cbor_value *out);

/**
 * ipcn_cbor_peek() - what ipcn_cbor_next() would return, without moving.
 * Since: 0.1
 */
IPCN_API int ipcn_cbor_peek(const ipcn_cbor_reader *r, ipcn_cbor_value *out);

/**
 * ipcn_cbor_skip() - ipcn_cbor_next(), then everything inside the item it
 * read (the items of an array or map, the content of a tag, the chunks of
 * an indefinite string), checking all of it.  out may be NULL.
 * Returns as ipcn_cbor_next().  Since: 0.1
 */
IPCN_API int ipcn_cbor_skip(ipcn_cbor_reader *r, ipcn_cbor_value *out);

/** ipcn_cbor_reader_offset() - how many bytes have been consumed (0 for
 *  NULL). Since: 0.1 */
IPCN_API size_t ipcn_cbor_reader_offset(const ipcn_cbor_reader *r);

/**
 * ipcn_cbor_check() - walk the whole input and return 100 when it is one
 * well-formed item (a sequence with IPCN_CBOR_SEQUENCE) satisfying flags,
 * else 200.  Allocates nothing; linear time.  Since: 0.1
 */
IPCN_API int ipcn_cbor_check(const void *buf, size_t len, uint32_t flags);

/**
 * ipcn_cbor_value_int64() - the integer value of a UINT or NEGINT item.
 * Returns 100, or 200 when v is no integer or does not fit an int64_t.
 * Since: 0.1
 */
IPCN_API int ipcn_cbor_value_int64(const ipcn_cbor_value *v, int64_t *out);

/* ------------------------------------------------------------------ */
/* Writer: straight into the caller's buffer                           */
/* ------------------------------------------------------------------ */

/**
 * A writer encodes into buf[0..cap).  When the buffer is too small it
 * keeps counting without writing, so that ipcn_cbor_writer_finish() can
 * report the size needed (a writer over (NULL, 0) only measures).  It
 * tracks the open arrays, maps and tags, so that finish() can tell an
 * incomplete value, and, with IPCN_CBOR_DETERMINISTIC, sorts each map when
 * its last value is written.  Maps already in order cost one comparison
 * per key; a map out of order of up to 16 pairs is sorted in place; a
 * bigger one through a temporary index (O(pairs log pairs); the only
 * allocation a writer makes: 24 bytes per pair plus the map's size, freed
 * at once; without memory it falls back to sorting in place, O(pairs^2)).
 * A map is not sorted when the buffer has already overflowed, since its
 * bytes are not there, but the size needed does not depend on the order.
 * Every head is written in its shortest form.  The writer never writes
 * indefinite lengths.  The fields are private (about 2.5 KiB).
 *
 * Every ipcn_cbor_put_*() returns the writer's status after the call: 100;
 * 306 once the buffer has overflowed (writing goes on counting); 200 once
 * a call was invalid (invalid UTF-8 in a text, more items than declared,
 * nesting too deep, two equal keys in a deterministic map, ...), after
 * which the writer ignores every call.  Checking only the status of
 * ipcn_cbor_writer_finish() is enough.
 * Since: 0.1
 */
typedef struct ipcn_cbor_writer {
    uint8_t *buf;
    size_t cap, len;
    size_t watch; /* a reserved string's offset, followed through sorts */
    uint32_t flags;
    uint32_t depth;
    int status;
    ipcn__cbor_frame stack[IPCN_CBOR_MAX_DEPTH];
} ipcn_cbor_writer;

/**
 * ipcn_cbor_writer_init() - start writing into buf[0..cap) (NULL, 0 to
 * measure).  flags: 0 or IPCN_CBOR_DETERMINISTIC.  Returns 100, or 200 for
 * NULL w, NULL buf with cap > 0, or unknown flags (the writer then fails
 * every call with 200).  Since: 0.1
 */
IPCN_API int ipcn_cbor_writer_init(ipcn_cbor_writer *w, void *buf, size_t cap,
                                   uint32_t flags);

/**
 * ipcn_cbor_writer_finish() - end writing.  *len (may be NULL) is set to
 * the bytes written on 100 and to the size the whole encoding needs on
 * 306 (even though only cap bytes were written).  Returns 100; 306 when
 * the buffer was too small; 200 when a call failed or an array, map or tag
 * is still waiting for items (then *len is untouched).  A deterministic
 * writer finds two equal keys only in a map whose bytes are in the buffer:
 * after a 306, a second pass with the size needed may still end in 200.
 * Since: 0.1
 */
IPCN_API int ipcn_cbor_writer_finish(ipcn_cbor_writer *w, size_t *len);

/** ipcn_cbor_put_uint() - an unsigned integer (major type 0). Since: 0.1 */
IPCN_API int ipcn_cbor_put_uint(ipcn_cbor_writer *w, uint64_t v);
/** ipcn_cbor_put_int() - a signed integer (major type 0 or 1). Since: 0.1 */
IPCN_API int ipcn_cbor_put_int(ipcn_cbor_writer *w, int64_t v);
/** ipcn_cbor_put_negint() - the integer -1 - n (major type 1), for the
 *  whole range down to -2^64. Since: 0.1 */
IPCN_API int ipcn_cbor_put_negint(ipcn_cbor_writer *w, uint64_t n);
/** ipcn_cbor_put_bytes() - a byte string, copied from p (p may be NULL
 *  when n is 0). Since: 0.1 */
IPCN_API int ipcn_cbor_put_bytes(ipcn_cbor_writer *w, const void *p,
                                 size_t n);
/**
 * ipcn_cbor_put_bytes_reserve() - write the head of an n-byte string and
 * reserve its n bytes for the caller to fill (a producer can then write
 * its payload straight into the message).  *out is the place, or NULL
 * when the buffer has overflowed; it is valid until the next call on the
 * writer (a deterministic writer moves a map's bytes when it sorts the map
 * this string completes, and *out already points where they went).  In a
 * deterministic writer the string may not be a map key (200): keys are
 * compared when the map is complete, before the caller fills them.
 * Since: 0.1
 */
IPCN_API int ipcn_cbor_put_bytes_reserve(ipcn_cbor_writer *w, size_t n,
                                         uint8_t **out);
/** ipcn_cbor_put_text() - a text string of n bytes; 200 unless valid
 *  UTF-8. Since: 0.1 */
IPCN_API int ipcn_cbor_put_text(ipcn_cbor_writer *w, const char *s, size_t n);
/** ipcn_cbor_put_cstr() - a text string from a NUL-terminated s (200 for
 *  NULL or invalid UTF-8). Since: 0.1 */
IPCN_API int ipcn_cbor_put_cstr(ipcn_cbor_writer *w, const char *s);
/** ipcn_cbor_put_array() - an array of count items; write them next.
 *  Since: 0.1 */
IPCN_API int ipcn_cbor_put_array(ipcn_cbor_writer *w, uint64_t count);
/** ipcn_cbor_put_map() - a map of pairs key/value pairs; write key, value,
 *  key, value... next. Since: 0.1 */
IPCN_API int ipcn_cbor_put_map(ipcn_cbor_writer *w, uint64_t pairs);
/** ipcn_cbor_put_tag() - a tag; write the tagged item next. Since: 0.1 */
IPCN_API int ipcn_cbor_put_tag(ipcn_cbor_writer *w, uint64_t tag);
/** ipcn_cbor_put_bool() - false (v == 0) or true. Since: 0.1 */
IPCN_API int ipcn_cbor_put_bool(ipcn_cbor_writer *w, int v);
/** ipcn_cbor_put_null() - null. Since: 0.1 */
IPCN_API int ipcn_cbor_put_null(ipcn_cbor_writer *w);
/** ipcn_cbor_put_undefined() - undefined. Since: 0.1 */
IPCN_API int ipcn_cbor_put_undefined(ipcn_cbor_writer *w);
/** ipcn_cbor_put_simple() - simple value v: 0..19 or 32..255 (20..23 are
 *  false, true, null, undefined and are accepted too); 200 for 24..31.
 *  Since: 0.1 */
IPCN_API int ipcn_cbor_put_simple(ipcn_cbor_writer *w, unsigned v);
/**
 * ipcn_cbor_put_float() - a floating-point value in the shortest of half,
 * single and double precision that keeps it exactly (a NaN keeps its sign
 * and payload when a shorter form can hold them; a deterministic writer
 * writes every NaN as f9 7e00).  Since: 0.1
 */
IPCN_API int ipcn_cbor_put_float(ipcn_cbor_writer *w, double v);
/**
 * ipcn_cbor_put_float_bits() - v as exactly bits (16, 32 or 64) wide;
 * 200 when v is not exactly representable at that width or bits is
 * another number.  A deterministic writer ignores bits and writes as
 * ipcn_cbor_put_float().  Since: 0.1
 */
IPCN_API int ipcn_cbor_put_float_bits(ipcn_cbor_writer *w, double v,
                                      unsigned bits);
/**
 * ipcn_cbor_put_encoded() - copy one complete, already encoded item (say,
 * a metadata map encoded elsewhere) as the next item.  It is checked
 * first (ipcn_cbor_check() with the writer's IPCN_CBOR_DETERMINISTIC
 * flag): 200 when it is not exactly one well-formed (deterministic) item.
 * Since: 0.1
 */
IPCN_API int ipcn_cbor_put_encoded(ipcn_cbor_writer *w, const void *item,
                                   size_t n);

/**
 * ipcn_cbor_canonicalize() - re-encode one item (in, n) in deterministic
 * form (IPCN_CBOR_DETERMINISTIC above) into out[0..cap), with a
 * deterministic writer (which allocates only to sort big maps): indefinite
 * lengths become definite, heads and floats shortest, NaNs f9 7e00, map
 * keys sorted.  Time: linear in n (times IPCN_CBOR_MAX_DEPTH at most for
 * nested indefinite-length items), plus the sorting.  *len (may be NULL)
 * is set to the bytes written, or on 306 to the size needed.  Returns 100;
 * 200 when the input is not well-formed or a map has two keys that are
 * equal once re-encoded (e.g. 1 and 1 written as 18 01; found only when
 * out is big enough to hold the map, so a measuring call may say 306 and
 * the call with that size 200); 306.  in and out must not overlap.
 * Since: 0.1
 */
IPCN_API int ipcn_cbor_canonicalize(const void *in, size_t n, void *out,
                                    size_t cap, size_t *len);

/* ------------------------------------------------------------------ */
/* Tree: a whole small value in memory                                 */
/* ------------------------------------------------------------------ */

/**
 * One node of a decoded tree.  Fields as ipcn_cbor_value, plus:
 *  - BYTES, TEXT: ptr, len — the whole string (indefinite-length strings
 *    are joined).  ptr points into the input buffer for a definite string
 *    unless IPCN_CBOR_COPY_STRINGS was given; otherwise into the tree.
 *    Text is not NUL-terminated.
 *  - ARRAY: items[0..count); MAP: items[0..2*count), key, value, key,
 *    value... in input order; TAG: items[0] is the tagged item (count 1).
 * The tree never holds a BREAK.
 * Since: 0.1
 */
typedef struct ipcn_cbor_item {
    ipcn_cbor_type type;
    uint8_t float_bits;
    uint64_t u;
    double f;
    const uint8_t *ptr;
    size_t len;
    uint64_t count;
    struct ipcn_cbor_item *items;
} ipcn_cbor_item;

/**
 * ipcn_cbor_tree_decode() - decode one item (flags: IPCN_CBOR_DETERMINISTIC
 * to require deterministic input, IPCN_CBOR_COPY_STRINGS) into a tree.
 * @out: on 100, the root; free it with ipcn_cbor_tree_free().
 * The tree is one allocation whose size is bounded by the input's
 * (at most len * sizeof(ipcn_cbor_item) + len bytes); building it is
 * iterative, linear for definite lengths and at most IPCN_CBOR_MAX_DEPTH
 * times linear with nested indefinite-length items.
 * Returns 100, 200 (as ipcn_cbor_check()), 307.  Since: 0.1
 */
IPCN_API int ipcn_cbor_tree_decode(const void *buf, size_t len,
                                   uint32_t flags, ipcn_cbor_item **out);

/** ipcn_cbor_tree_free() - free a tree from ipcn_cbor_tree_decode()
 *  (its root only).  NULL is a no-op. Since: 0.1 */
IPCN_API void ipcn_cbor_tree_free(ipcn_cbor_item *root);

/**
 * ipcn_cbor_tree_encode() - write a tree (decoded, or built by hand) with
 * w.  Iterative; 200 for a malformed tree (unknown type, BREAK, NULL items
 * with count > 0, simple values 24..31, invalid UTF-8, nesting deeper than
 * IPCN_CBOR_MAX_DEPTH).  Returns the writer's status.  Since: 0.1
 */
IPCN_API int ipcn_cbor_tree_encode(ipcn_cbor_writer *w,
                                   const ipcn_cbor_item *item);

/**
 * ipcn_cbor_map_find() - the value of the first pair of a MAP item whose
 * key is the text string key (NUL-terminated).  Returns it, or NULL when
 * there is none or map is no map.  Since: 0.1
 */
IPCN_API const ipcn_cbor_item *ipcn_cbor_map_find(const ipcn_cbor_item *map,
                                                  const char *key);

/* ================================================================== */
/* Typed arrays and tensors (RFC 8746; DLPack's model)                 */
/* ================================================================== */

/** Element types. Since: 0.1 */
typedef enum ipcn_dtype {
    IPCN_DTYPE_INVALID = 0,
    IPCN_DTYPE_BOOL = 1,     /**< one byte, 0 or 1 */
    IPCN_DTYPE_INT8 = 2,
    IPCN_DTYPE_INT16 = 3,
    IPCN_DTYPE_INT32 = 4,
    IPCN_DTYPE_INT64 = 5,
    IPCN_DTYPE_UINT8 = 6,
    IPCN_DTYPE_UINT16 = 7,
    IPCN_DTYPE_UINT32 = 8,
    IPCN_DTYPE_UINT64 = 9,
    IPCN_DTYPE_FLOAT16 = 10, /**< IEEE 754 binary16 */
    IPCN_DTYPE_BFLOAT16 = 11,/**< the top 16 bits of a binary32 */
    IPCN_DTYPE_FLOAT32 = 12,
    IPCN_DTYPE_FLOAT64 = 13
} ipcn_dtype;

/** Byte order of multi-byte elements. Since: 0.1 */
typedef enum ipcn_byte_order {
    IPCN_ORDER_LITTLE = 1,
    IPCN_ORDER_BIG = 2
} ipcn_byte_order;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define IPCN_ORDER_NATIVE IPCN_ORDER_BIG
#else
#define IPCN_ORDER_NATIVE IPCN_ORDER_LITTLE
#endif

/**
 * IPCNet's own tags (not in RFC 8746), for element types that have no
 * typed-array tag.  Each wraps an RFC 8746 typed array of the same width
 * whose bytes are the elements:
 *   IPCN_CBOR_TAG_BOOL(64(h'...'))        bool: uint8 elements, each 0 or 1
 *   IPCN_CBOR_TAG_BFLOAT16(65(h'...'))    bfloat16, big endian
 *   IPCN_CBOR_TAG_BFLOAT16(69(h'...'))    bfloat16, little endian
 * A decoder that does not know these tags still sees the uint8/uint16
 * typed array inside.  The numbers ("IPC" 0x01 and 0x02) are in the
 * first-come-first-served range of the IANA CBOR tags registry and are
 * NOT registered yet.
 */
#define IPCN_CBOR_TAG_BOOL 0x49504301u     /* 1229996801 */
#define IPCN_CBOR_TAG_BFLOAT16 0x49504302u /* 1229996802 */
/** RFC 8746 multi-dimensional arrays: row-major and column-major. */
#define IPCN_CBOR_TAG_NDARRAY 40u
#define IPCN_CBOR_TAG_NDARRAY_COLMAJOR 1040u

/** The largest number of dimensions of a tensor. */
#define IPCN_TENSOR_MAX_DIMS 16

/** ipcn_dtype_size() - bytes per element; 0 for an invalid dtype.
 *  Since: 0.1 */
IPCN_API size_t ipcn_dtype_size(ipcn_dtype dtype);
/** ipcn_dtype_name() - "float32", "bool", ... (a static string);
 *  "invalid" for others. Since: 0.1 */
IPCN_API const char *ipcn_dtype_name(ipcn_dtype dtype);
/** ipcn_dtype_from_name() - the dtype called name ("float32", "uint8",
 *  "bfloat16", "bool", ...); IPCN_DTYPE_INVALID when unknown. Since: 0.1 */
IPCN_API ipcn_dtype ipcn_dtype_from_name(const char *name);

/**
 * ipcn_typed_array_tag() - the tag that carries elements of dtype in
 * byte order (RFC 8746, 64..86, or IPCNet's own for bool and bfloat16:
 * then the RFC 8746 tag inside it is in *inner, else *inner is 0; inner
 * may be NULL).  Returns the tag, or 0 for an invalid dtype or order.
 * Since: 0.1
 */
IPCN_API uint64_t ipcn_typed_array_tag(ipcn_dtype dtype, ipcn_byte_order order,
                                       uint64_t *inner);

/**
 * A tensor: a view of elements in memory, like DLPack's DLTensor.
 * shape and strides are in elements (not bytes); ndim 0 is a scalar (one
 * element).  data points at the element of index (0, ..., 0); size is the
 * length of the payload in bytes (what a decoded view covers; for encoding
 * it is informative).  order is the byte order of the elements (for
 * one-byte dtypes always IPCN_ORDER_NATIVE).  aligned is set by decoding:
 * 1 when data is a multiple of ipcn_dtype_size(dtype), so the elements can
 * be read in place; a consumer that needs alignment and gets 0 copies
 * (ipcn_tensor_copy()).
 * Since: 0.1
 */
typedef struct ipcn_tensor {
    ipcn_dtype dtype;
    ipcn_byte_order order;
    uint32_t ndim;
    int aligned;
    const void *data;
    size_t size;
    int64_t shape[IPCN_TENSOR_MAX_DIMS];
    int64_t strides[IPCN_TENSOR_MAX_DIMS];
} ipcn_tensor;

/**
 * ipcn_tensor_init() - describe a contiguous, row-major tensor of native
 * byte order at data (not copied; the caller keeps it).  Returns 100, or
 * 200 for an invalid dtype, ndim over IPCN_TENSOR_MAX_DIMS, a negative
 * dimension, a size that overflows, or NULL data with elements.
 * Since: 0.1
 */
IPCN_API int ipcn_tensor_init(ipcn_tensor *t, ipcn_dtype dtype, uint32_t ndim,
                              const int64_t *shape, const void *data);

/** ipcn_tensor_numel() - the number of elements (product of shape); 0
 *  for NULL, too many dimensions or a product that overflows. Since: 0.1 */
IPCN_API uint64_t ipcn_tensor_numel(const ipcn_tensor *t);

/**
 * ipcn_tensor_is_contiguous() - 1 when the strides are those of a
 * row-major, gap-free layout (dimensions of size 1 are ignored), else 0.
 * Since: 0.1
 */
IPCN_API int ipcn_tensor_is_contiguous(const ipcn_tensor *t);

/**
 * ipcn_tensor_encode() - write t as
 *     40([[d0, d1, ...], typed-array])
 * (RFC 8746 row-major multi-dimensional array of a typed array in t's byte
 * order; bool and bfloat16 wrapped in IPCNet's tags, see above).  The
 * payload is written once, straight from t->data into the writer's buffer
 * (one memcpy when contiguous, else gathered through the strides, which
 * may be negative or zero).  Returns the writer's status; 200 for an
 * invalid tensor.  Since: 0.1
 */
IPCN_API int ipcn_tensor_encode(ipcn_cbor_writer *w, const ipcn_tensor *t);

/**
 * ipcn_cbor_put_typed_array() - write count elements of dtype from data
 * as a bare typed array (RFC 8746, or IPCNet's tag for bool/bfloat16),
 * data in byte order order.  Returns the writer's status.  Since: 0.1
 */
IPCN_API int ipcn_cbor_put_typed_array(ipcn_cbor_writer *w, ipcn_dtype dtype,
                                       ipcn_byte_order order,
                                       const void *data, size_t count);

/**
 * ipcn_loan_tensor() - ipcn_loan_new() for a tensor value: a slot that holds
 * the CBOR encoding of a tensor of t's dtype and shape (t->data ignored),
 * with the header already written and the elements' place aligned to 64
 * bytes, so that readers decode it in place with any dtype aligned.
 * *elems receives where to write numel * dtype size bytes, row-major,
 * native byte order.  Publish with ipcn_loan_publish(node, loan, 0).
 * Returns as ipcn_loan_new(), and 200 for an invalid tensor.  Since: 0.1
 */
IPCN_API int ipcn_loan_tensor(ipcn_node *node, const char *path,
                              const ipcn_tensor *t, ipcn_loan **out,
                              void **elems);

/**
 * ipcn_tensor_read() - read the next item of r as a tensor, without
 * copying: on 100, t->data points at the payload inside r's buffer.
 * Accepted: 40([shape, elements]) and 1040([shape, elements])
 * (column-major: strides say so), or a bare typed array (a 1-D tensor);
 * elements is an RFC 8746 typed array of tag 64..82 or 84..86 (68, the
 * clamped uint8, reads as uint8) or one of IPCNet's tags around the typed
 * array its comment names; shape an array of unsigned integers, up to
 * IPCN_TENSOR_MAX_DIMS.  Returns 100; 200 when the item is not such a
 * tensor or is inconsistent (payload length not shape product times
 * element size, a bool byte other than 0 or 1, a dimension over
 * INT64_MAX, reserved tag 76, ...) or not well-formed; 301 for a valid
 * RFC 8746 array this cannot view in place (float128, elements as a plain
 * CBOR array, an indefinite-length byte string, more dimensions than
 * IPCN_TENSOR_MAX_DIMS).  On failure the reader's position is unspecified.
 * Since: 0.1
 */
IPCN_API int ipcn_tensor_read(ipcn_cbor_reader *r, ipcn_tensor *t);

/**
 * ipcn_tensor_decode() - ipcn_tensor_read() of buf[0..len), which must be
 * exactly one item.  flags as ipcn_cbor_reader_init().  Since: 0.1
 */
IPCN_API int ipcn_tensor_decode(const void *buf, size_t len, uint32_t flags,
                                ipcn_tensor *t);

/**
 * ipcn_tensor_copy() - copy t's elements to dst as a contiguous row-major
 * array in native byte order (what a consumer that needs alignment or
 * native order does).  Returns 100; 306 when cap is less than
 * numel * ipcn_dtype_size() (nothing copied); 200 for an invalid tensor.
 * Since: 0.1
 */
IPCN_API int ipcn_tensor_copy(const ipcn_tensor *t, void *dst, size_t cap);

/* ================================================================== */
/* Encodings                                                           */
/* ================================================================== */

/*
 * An encoding string says how a value's bytes are to be read.  Grammar
 * (ABNF, RFC 5234; case-insensitive names as in media types):
 *
 *   encoding   = name [ "/" name ] *( OWS ";" OWS parameter )
 *   name       = ALNUM *126( ALNUM / "!" / "#" / "$" / "&" / "-" / "^"
 *                            / "_" / "." / "+" )      ; RFC 6838 §4.2
 *   parameter  = name "=" ( token / quoted )
 *   token      = 1*( %x21-7E except ";" DQUOTE "\" ) ; may hold "," "=" "/"
 *   quoted     = DQUOTE *( %x20-7E except DQUOTE "\" ) DQUOTE
 *   OWS        = *( SP / HTAB )
 *
 * The whole string is 1..IPCN_ENCODING_MAX_LEN bytes, with at most
 * IPCN_ENCODING_MAX_PARAMS parameters whose names are unique (compared
 * case-insensitively); nothing may precede the type or follow the last
 * parameter (no empty parameter, no trailing ";").  Examples:
 *   cbor   tensor   bytes   text/plain;charset=utf-8   application/json
 *   video/raw;format=rgb24;width=640;height=480
 *   audio/pcm;rate=48000;channels=2;format=s16le   audio/opus   video/h264
 *   pointcloud;fields=x,y,z,intensity;dtype=float32
 * Conventions of IPCNet: "cbor" is a CBOR item (RFC 8949), "tensor" one
 * written by ipcn_tensor_encode(), "bytes" opaque bytes; list-valued
 * parameters are comma-separated (ipcn_encoding_list_next()).
 */
#define IPCN_ENCODING_MAX_LEN 255
#define IPCN_ENCODING_MAX_PARAMS 16

/** A view of len bytes at ptr (not NUL-terminated). Since: 0.1 */
typedef struct ipcn_strview {
    const char *ptr;
    size_t len;
} ipcn_strview;

/** One parameter: key and value, views into the parsed string (a quoted
 *  value without its quotes).  Since: 0.1 */
typedef struct ipcn_encoding_kv {
    ipcn_strview key;
    ipcn_strview value;
} ipcn_encoding_kv;

/** A parsed encoding; every view points into the string parsed. Since: 0.1 */
typedef struct ipcn_encoding {
    ipcn_strview type;     /**< "video" */
    ipcn_strview subtype;  /**< "raw"; len 0 when there is none ("cbor") */
    uint32_t nparams;
    ipcn_encoding_kv params[IPCN_ENCODING_MAX_PARAMS]; /**< in order */
} ipcn_encoding;

/**
 * ipcn_encoding_parse() - parse the NUL-terminated s (grammar above).
 * The views of *out point into s: keep s alive while using them.
 * Returns 100; 200 for NULL, empty, over-long or malformed strings, more
 * than IPCN_ENCODING_MAX_PARAMS parameters or a repeated parameter name.
 * Since: 0.1
 */
IPCN_API int ipcn_encoding_parse(const char *s, ipcn_encoding *out);

/**
 * ipcn_encoding_is() - does e have the type (and subtype) named by
 * pattern, case-insensitively: "video/raw", "cbor"?  A pattern whose
 * subtype is a single "*" matches any subtype of its type (but not a bare
 * type); a pattern without "/" matches only an encoding without subtype.
 * Returns 1 or 0.  Since: 0.1
 */
IPCN_API int ipcn_encoding_is(const ipcn_encoding *e, const char *pattern);

/**
 * ipcn_encoding_param() - the value of parameter key (case-insensitive).
 * Returns 100 with *out set, 203 when e has no such parameter, 200 for
 * NULL arguments.  Since: 0.1
 */
IPCN_API int ipcn_encoding_param(const ipcn_encoding *e, const char *key,
                                 ipcn_strview *out);

/**
 * ipcn_encoding_param_int() - the value of parameter key as a decimal
 * integer ("-12", "48000"; no "+", no spaces, no leading zeros except "0"
 * itself, within int64_t).  Returns 100, 203 when absent, 200 when it is
 * not such an integer.  Since: 0.1
 */
IPCN_API int ipcn_encoding_param_int(const ipcn_encoding *e, const char *key,
                                     int64_t *out);

/**
 * ipcn_encoding_list_next() - iterate over a comma-separated value
 * ("x,y,z,intensity"): start with *pos = 0; each call sets *item to the
 * next element.  Returns 100 with *item set, 103 after the last element,
 * 200 for an empty element ("x,,y", "x,", ",x") or *pos out of range.
 * Since: 0.1
 */
IPCN_API int ipcn_encoding_list_next(ipcn_strview list, size_t *pos,
                                     ipcn_strview *item);

/* ================================================================== */
/* Values without hand-written CBOR: getters, a builder, JSON          */
/* ================================================================== */

/*
 * Paths.  The getters below find one item inside an encoded CBOR item by
 * a path of steps, each a map key or an array index:
 *
 *     "threshold"          the value of key "threshold" of the top map
 *     "pose.position.x"    keys within keys
 *     "joints[2]"          the third item of the array under key "joints"
 *     "[0].name", "[1][0]" an index first: the top item is an array
 *     ""                   the top item itself
 *
 * A key is a text-string key of a map; it runs to the next '.' or '[' and
 * may not be empty; a '\' makes the next character ('.', '[' or '\') part
 * of the key ("a\.b" is the one key "a.b").  An index is "[" decimal
 * digits "]" (no sign, no leading zero, within uint64_t) and picks the
 * item of that position in an array.  Brackets rather than "joints.2" so
 * that a key made of digits ("2") stays a key.  When a map has the same
 * key twice, the first pair counts.  Keys that are not text (integers,
 * ...) are never matched: read those maps with a reader or a tree.
 *
 * Statuses common to every getter:
 *   100 found (and converted);
 *   203 a key is not in its map, or an index is past the end of its array;
 *   200 the input is not exactly one well-formed CBOR item, the path is
 *       malformed, a step meets something that is not a map (for a key)
 *       or an array (for an index), or the item found is not of the type
 *       asked ("wrong type": a text where a number is asked, a float with
 *       a fraction where an integer is asked, NaN where an integer is
 *       asked, ...), or an argument is invalid (NULL buf with len > 0,
 *       NULL path);
 *   306 a number of the right kind that does not fit the type asked (an
 *       integer beyond int64_t for ipcn_cbor_map_get_int(), a negative
 *       one for _uint(), an infinity asked as an integer), or a caller's
 *       buffer too small for a string or an array: "it does not fit where
 *       you asked it to go".
 * On failure the outputs are untouched (except the sizes that a 306 of
 * _cstr() and _doubles() reports).  Each output pointer may be NULL when
 * that result is not wanted.
 *
 * Cost: the input is checked whole (ipcn_cbor_check()), then walked to the
 * item, skipping what precedes it: linear in len, no allocation, nesting
 * bounded by IPCN_CBOR_MAX_DEPTH; each call starts over, so reading k
 * values of one message costs k passes (cheap for the messages a
 * controller reads; for thousands of fields use a reader or a tree).
 * Thread-safe; the views handed out point into buf.  Since: 0.2
 */

/**
 * ipcn_cbor_map_get() - the encoded bytes of the item at path: *item
 * points into buf, *item_len is its length (an item that ipcn_cbor_check()
 * accepts, to give to ipcn_cbor_reader_init(), ipcn_tensor_decode() or a
 * getter with path "").  Any type.  Returns 100, 200, 203.  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get(const void *buf, size_t len, const char *path,
                               const uint8_t **item, size_t *item_len);

/**
 * ipcn_cbor_map_get_double() - the number at path as a double: a float
 * as it is (NaN and infinities included), an integer converted to the
 * nearest double (exact up to 2^53) — integers are accepted where a double
 * is asked, as JSON users expect ({"gain": 2}).  Returns 100, 200 (not a
 * number: text, bool, null, ...), 203.  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_double(const void *buf, size_t len,
                                      const char *path, double *out);

/**
 * ipcn_cbor_map_get_int() - the number at path as an int64_t: an integer,
 * or a float whose value is an integer (2.0, -0.0, 1e3).  Returns 100;
 * 200 (not a number, a float with a fraction, NaN); 203; 306 (outside
 * int64_t: 2^63 and more, below -2^63, an infinity).  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_int(const void *buf, size_t len,
                                   const char *path, int64_t *out);

/**
 * ipcn_cbor_map_get_uint() - as ipcn_cbor_map_get_int(), for uint64_t:
 * 306 for a negative number or one of 2^64 and more.  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_uint(const void *buf, size_t len,
                                    const char *path, uint64_t *out);

/**
 * ipcn_cbor_map_get_bool() - true or false at path: *out 1 or 0.  Only
 * the CBOR simple values true and false (not 0 or 1).  Returns 100, 200,
 * 203.  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_bool(const void *buf, size_t len,
                                    const char *path, int *out);

/**
 * ipcn_cbor_map_get_text() - the text string at path, as a view into buf:
 * *s (not NUL-terminated) and *n bytes of valid UTF-8.  Returns 100, 200,
 * 203, 301 (a text of indefinite length: its chunks are not contiguous;
 * ipcn_cbor_map_get_cstr() joins them).  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_text(const void *buf, size_t len,
                                    const char *path, const char **s,
                                    size_t *n);

/**
 * ipcn_cbor_map_get_cstr() - copy the text string at path into
 * dst[0..cap) with a NUL after it (chunks of an indefinite-length text
 * joined).  *n (may be NULL) is set to the text's length without the NUL,
 * on 100 and on 306.  A NUL inside the text is copied as it is (*n tells).
 * Returns 100, 200, 203, 306 (cap <= the length: dst untouched).
 * Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_cstr(const void *buf, size_t len,
                                    const char *path, char *dst, size_t cap,
                                    size_t *n);

/**
 * ipcn_cbor_map_get_bytes() - the byte string at path, as a view into buf.
 * Returns 100, 200, 203, 301 (indefinite length).  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_bytes(const void *buf, size_t len,
                                     const char *path, const uint8_t **p,
                                     size_t *n);

/**
 * ipcn_cbor_map_get_doubles() - the array of numbers at path ([0.1, 2,
 * -3.5]) into out[0..cap) as doubles (integers converted as by
 * ipcn_cbor_map_get_double()).  *n (may be NULL) is set to the number of
 * items on 100 and on 306.  Returns 100; 200 (not an array, or an item
 * that is not a number: nothing written); 203; 306 (more than cap items:
 * nothing written).  A tensor (RFC 8746 typed array, what Python's NumPy
 * arrays become) is not such an array: read it with ipcn_cbor_map_get()
 * and ipcn_tensor_decode().  Since: 0.2
 */
IPCN_API int ipcn_cbor_map_get_doubles(const void *buf, size_t len,
                                       const char *path, double *out,
                                       size_t cap, size_t *n);

/*
 * The builder: one CBOR item from a format and arguments, in the spirit of
 * Jansson's json_pack():
 *
 *     uint8_t buf[64];
 *     size_t len;
 *     ipcn_cbor_build(buf, sizeof buf, &len, "{s:f, s:[i,i]}",
 *                     "threshold", 0.5, "ids", 1, 2);
 *
 * The format is one item.  Blanks, ':' and ',' are ignored (they are there
 * for the eye).  Each letter is an item and takes its arguments, in order,
 * of exactly these C types (variadic arguments are not converted: pass an
 * int64_t to 'i' and the behaviour is undefined — cast):
 *
 *   s    text, const char * (NUL-terminated UTF-8; NULL is an error)
 *   s#   text, const char *, size_t (that many bytes, UTF-8)
 *   s?   text or null: const char *, NULL writes null
 *   i    integer, int          I    integer, int64_t
 *   u    integer, unsigned     U    integer, uint64_t
 *   f    float, double (a float argument is promoted: fine); written in
 *        the shortest width that keeps it exactly (ipcn_cbor_put_float())
 *   b    true or false, int (0 is false)
 *   n    null (no argument)
 *   y    byte string, const void *, size_t
 *   o    an item already encoded, const void *, size_t: checked as one
 *        well-formed CBOR item (ipcn_cbor_put_encoded()) and copied
 *   f#   an array of floats, const double *, size_t (count)
 *   I#   an array of integers, const int64_t *, size_t (count)
 *   [ ]  an array of the items between the brackets
 *   { }  a map: key, value, key, value...; a key is s, s# or an integer
 *        (i, I, u, U)
 *
 * Containers nest up to IPCN_CBOR_MAX_DEPTH.  Keys are written in the
 * order given (no sorting; use ipcn_cbor_canonicalize() for the
 * deterministic form) and a key given twice is written twice.
 *
 * The format is checked whole before any argument is read: a malformed
 * one (unknown letter, unmatched bracket, a map key that is not text or an
 * integer, a key without a value, more than one top-level item, nothing at
 * all) returns 200 without reading an argument.
 */

/**
 * ipcn_cbor_build() - encode the item fmt describes (see above) into
 * buf[0..cap).
 * @len: may be NULL; set to the bytes written on 100, and to the size
 *       needed on 306 or when buf is NULL.
 * With buf NULL (and cap 0) nothing is written: the call measures, returns
 * 100 and sets *len to the size needed.
 * Returns 100; 306 when cap is too small (what fitted was written, but
 * nothing is claimed: call again with *len bytes); 200 for a malformed
 * format, NULL fmt, NULL buf with cap > 0, or an invalid argument (NULL
 * for s, text that is not valid UTF-8, an 'o' that is not one well-formed
 * item, NULL with a count for f#, I# and y) — then *len is untouched.
 * Thread-safe; allocates nothing.  Since: 0.2
 */
IPCN_API int ipcn_cbor_build(void *buf, size_t cap, size_t *len,
                             const char *fmt, ...);

/** ipcn_cbor_vbuild() - ipcn_cbor_build() with a va_list (the caller's
 *  ap is not consumed: it is copied).  Since: 0.2 */
IPCN_API int ipcn_cbor_vbuild(void *buf, size_t cap, size_t *len,
                              const char *fmt, va_list ap);

/*
 * JSON <-> CBOR (what the CLI turns VALUE arguments into, and how it
 * prints values).
 *
 * JSON to CBOR: strict RFC 8259 — exactly one value (surrounding blanks
 * allowed), no trailing commas, no comments, no NaN or Infinity, no single
 * quotes, no byte order mark; strings valid UTF-8, escapes checked, \u
 * surrogate pairs joined and lone surrogates refused; nesting of arrays
 * and objects at most IPCN_CBOR_MAX_DEPTH.  Mapping: object -> map (keys
 * are text, in the order given; a key given twice stays twice unless
 * IPCN_CBOR_DETERMINISTIC), array -> array, string -> text, true/false/
 * null -> the simple values; a number without '.', 'e' or 'E' that fits
 * -2^64..2^64-1 -> an integer ("-0" is 0), any other number -> a float in
 * the shortest width that keeps its double exactly (a number too big for a
 * double becomes an infinity, as in JavaScript).  Definite lengths only.
 *
 * CBOR to JSON: integers as integers (the whole range), floats with the
 * fewest digits that read back as the same double ("0.1", "1e+16"; a float
 * of 16 or 32 bits prints as the double it is exactly, since JSON readers
 * read doubles) and with ".0" on integral values so that they read back as
 * floats; NaN and the infinities as null; text as strings (escaped: '"',
 * '\', control characters and DEL); byte strings as the string "h'0aff'"
 * (CBOR's diagnostic notation, RFC 8949 §8); undefined and other simple
 * values as null; tags 40 and 1040 around an RFC 8746 tensor as
 * {"dtype": "float32", "shape": [2, 3], "numel": 6, "values": [...]}
 * (row-major order); other tags are dropped and their content written.
 * JSON keys are strings: a text key is written as it is, a key of another
 * scalar type as its JSON text in a string (1 -> "1", true -> "true"), a
 * byte-string key as "h'..'", an array or map key as its compact JSON text
 * in a string ([1, 2] -> "[1,2]"); inside such a key, an array or map key
 * as the hex of its encoding ("h'8201'"), so that escaping never nests
 * deeper and the output stays linear in the input.  So CBOR -> JSON ->
 * CBOR is the identity only for the values JSON has (no bytes, tags,
 * undefined, NaN, non-text keys; floats of integral value and integers
 * stay apart thanks to the ".0").
 */

/** Where and why a JSON text was refused.  Since: 0.2 */
typedef struct ipcn_json_error {
    size_t offset;    /**< of the offending byte, from 0; the text's length
                           when the text ended too early */
    const char *what; /**< a static English phrase: "trailing comma",
                           "',' or '}' was expected", ... */
} ipcn_json_error;

/**
 * ipcn_cbor_from_json() - encode the JSON text json[0..n) (not
 * necessarily NUL-terminated) as one CBOR item into buf[0..cap).
 * @flags: 0, or IPCN_CBOR_DETERMINISTIC to write the deterministic form
 *         (keys sorted; an object with two equal keys is then refused).
 * @len:   may be NULL; set to the bytes written on 100, to the size needed
 *         on 306 or when buf is NULL.
 * @err:   may be NULL; on 200 for invalid JSON, where and why.
 * With buf NULL (cap 0) the call measures: 100 and *len.  With
 * IPCN_CBOR_DETERMINISTIC, equal keys are found only when writing (a
 * measuring call may say 100, the call with that size 200).
 * Returns 100; 200 (invalid JSON, NULL json with n > 0, NULL buf with
 * cap > 0, unknown flags, equal keys as said); 306 (cap too small; what
 * fitted was written); 307 (the counters of a text with very many arrays
 * and objects: one uint64_t per array or object, the only allocation).
 * Linear time.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_cbor_from_json(const char *json, size_t n, uint32_t flags,
                                 void *buf, size_t cap, size_t *len,
                                 ipcn_json_error *err);

/** Flags of ipcn_cbor_to_json(). */
#define IPCN_JSON_PRETTY 0x1u      /**< one member per line, indented by
                                        two spaces; else compact */
#define IPCN_JSON_TENSOR_HEAD 0x2u /**< at most IPCN_JSON_TENSOR_HEAD_MAX
                                        values of each tensor ("numel"
                                        still says how many it has): for
                                        display */
#define IPCN_JSON_TENSOR_HEAD_MAX 1024

/**
 * ipcn_cbor_to_json() - write the CBOR item cbor[0..n) (exactly one) as
 * JSON text (mapping above) into out[0..cap), with a NUL after it.
 * @flags: IPCN_JSON_PRETTY, IPCN_JSON_TENSOR_HEAD.
 * @len:   may be NULL; set to the length of the text (without the NUL) on
 *         100, on 306 and when out is NULL: the buffer needs *len + 1.
 * With out NULL (cap 0) the call measures: 100 and *len.
 * Returns 100; 200 (not exactly one well-formed item, NULL cbor with
 * n > 0, NULL out with cap > 0, unknown flags); 306 (cap <= the length;
 * out holds a truncated text without a NUL).  Linear in n (a tensor's
 * values included), no allocation.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_cbor_to_json(const void *cbor, size_t n, uint32_t flags,
                               char *out, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* IPCNET_VALUE_H */

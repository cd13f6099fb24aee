/* SPDX-License-Identifier: MIT */
/*
 * json.h — a tree of parsed JSON (the library parses: strict RFC 8259,
 * ipcn_cbor_from_json()), a printer, a growable string buffer and a
 * streaming writer for the CLI's --json output.
 */
#ifndef IPCNET_CLI_JSON_H
#define IPCNET_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- growable buffer ---- */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

void sb_free(sbuf *b);
void sb_putn(sbuf *b, const void *p, size_t n);
void sb_putc(sbuf *b, char c);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0..n) as a JSON string literal; invalid UTF-8 becomes U+FFFD. */
void sb_json_str(sbuf *b, const char *s, size_t n);

/* ---- tree ---- */
typedef enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype t;
    char *s;               /* J_STR: UTF-8 bytes (may hold NUL); J_NUM: its text */
    size_t n;              /* length of s */
    struct jval **v;       /* J_ARR: items; J_OBJ: values */
    struct jval **k;       /* J_OBJ: keys (J_STR) */
    size_t count, cap;
} jval;

/* The depth of the --json writer's documents; parsed JSON nests at most
 * IPCN_CBOR_MAX_DEPTH (64) deep. */
#define JSON_MAX_DEPTH 256

/* Parse exactly one JSON text (surrounding whitespace allowed) with the
 * library.  Returns 0 and *out, or -1 with a message in err ("at byte 4:
 * ':' was expected"). */
int json_parse(const char *p, size_t n, jval **out, char *err, size_t errlen);
/* Just check; 1 when p[0..n) is one valid JSON text. */
bool json_valid(const char *p, size_t n);
void json_free(jval *v);

jval *json_new(jtype t);
/* Append to an array (key NULL) or object; takes ownership of v. */
int json_add(jval *parent, const char *key, size_t keylen, jval *v);
jval *json_str(const char *s, size_t n);
jval *json_num_text(const char *text);

/* Reading a parsed tree: o's member key (NULL when o is not an object or
 * has none); its text ("?" when not a string); its number (0 when not a
 * number). */
const jval *jget(const jval *o, const char *key);
const char *jtext(const jval *o, const char *key);
double jnum(const jval *o, const char *key);

/* Write v: indent < 0 compact, else pretty with that many spaces. */
void json_write(sbuf *b, const jval *v, int indent);

/* True when a value prints on one line within width characters. */
bool json_fits(const jval *v, size_t width);

/* ---- streaming writer for output documents ---- */
typedef struct jw {
    sbuf b;
    int depth;
    bool need_comma[JSON_MAX_DEPTH];
} jw;

void jw_obj(jw *w, const char *key);      /* begin an object (key in a parent object) */
void jw_arr(jw *w, const char *key);
void jw_end_obj(jw *w);
void jw_end_arr(jw *w);
void jw_str(jw *w, const char *key, const char *s);      /* NULL -> null */
void jw_strn(jw *w, const char *key, const char *s, size_t n);
void jw_int(jw *w, const char *key, int64_t v);
void jw_uint(jw *w, const char *key, uint64_t v);
void jw_double(jw *w, const char *key, double v);        /* non-finite -> null */
void jw_bool(jw *w, const char *key, bool v);
void jw_null(jw *w, const char *key);
void jw_hex64(jw *w, const char *key, uint64_t v);       /* "0123456789abcdef" */
void jw_val(jw *w, const char *key, const jval *v);      /* a parsed value */
/* Print the document as one line on stdout and reset the writer.
 * Returns 0, or -1 when stdout failed (EPIPE). */
int jw_emit(jw *w);

#endif

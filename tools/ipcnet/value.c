/* SPDX-License-Identifier: MIT */
/*
 * value.c — values in and out.  In: VALUE is JSON, sent as CBOR (encoding
 * "cbor") unless --encoding says otherwise (application/json: the JSON
 * text); --file sends a file's bytes.  Out: CBOR and JSON print as JSON,
 * tensors as dtype, shape and the first values, text as itself; anything
 * else (media, binary) as a short summary — encoding, size, XXH3-64 hash —
 * unless --raw asks for the bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cbor.h"
#include "cli.h"
#include "util.h"

#define JSON_ONELINE_WIDTH 100
#define TENSOR_TEXT_VALUES 8

/* The media type without parameters or surrounding blanks. */
static size_t base_type(const char *enc, const char **start)
{
    while (*enc == ' ')
        enc++;
    size_t n = strcspn(enc, ";");
    while (n && enc[n - 1] == ' ')
        n--;
    *start = enc;
    return n;
}

bool enc_is_json(const char *enc)
{
    if (!enc)
        return false;
    const char *s;
    size_t n = base_type(enc, &s);
    return (n == 16 && !strncasecmp(s, "application/json", 16)) ||
           (n > 5 && !strncasecmp(s + n - 5, "+json", 5));
}

bool enc_is_text(const char *enc)
{
    if (!enc)
        return false;
    const char *s;
    base_type(enc, &s);
    return !strncasecmp(s, "text/", 5);
}

/* Parsed with the library's encoding parser; patterns as ipcn_encoding_is(). */
static bool enc_is(const char *enc, const char *pattern)
{
    ipcn_encoding e;
    return enc && ipcn_encoding_parse(enc, &e) == IPCN_OK && ipcn_encoding_is(&e, pattern);
}

bool enc_is_cbor(const char *enc)
{
    return enc_is(enc, "cbor") || enc_is(enc, "application/cbor");
}

bool enc_is_tensor(const char *enc)
{
    return enc_is(enc, "tensor");
}

int read_file(const char *path, sbuf *outb)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    if (fd < 0)
        return -1;
    char buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            if (fd)
                close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        sb_putn(outb, buf, (size_t)r);
    }
    if (fd)
        close(fd);
    if (!outb->p)
        sb_putn(outb, "", 0);
    return 0;
}

int value_from_args(cli *c, const char *arg, sbuf *outb, const char **enc)
{
    sbuf raw = {0};
    if (c->file) {
        if (read_file(c->file, &raw) < 0) {
            int st = errno == ENOENT ? IPCN_NOT_FOUND
                     : errno == EACCES ? IPCN_FORBIDDEN : IPCN_INTERNAL_ERROR;
            return cli_fail(st, "cannot read %s: %s", c->file, strerror(errno));
        }
        *enc = c->encoding ? c->encoding : "application/octet-stream";
    } else {
        sb_puts(&raw, arg ? arg : "");
        *enc = c->encoding ? c->encoding : "cbor";
    }
    const char *what = c->file ? c->file : "VALUE";
    if (enc_is_json(*enc) || (!c->file && enc_is_cbor(*enc))) {
        jval *v;
        char err[160];
        if (json_parse(raw.p, raw.len, &v, err, sizeof err) < 0) {
            sb_free(&raw);
            return cli_fail(IPCN_BAD_REQUEST, "%s is not valid JSON (%s): %s", what,
                            *enc, err);
        }
        int rc = 0;
        if (enc_is_json(*enc)) {
            json_write(outb, v, -1); /* compact: what travels */
        } else if (cbor_from_json(outb, v, err, sizeof err) < 0) {
            rc = cli_fail(IPCN_BAD_REQUEST, "%s: %s", what, err);
        }
        json_free(v);
        sb_free(&raw);
        return rc;
    }
    /* --file with a CBOR encoding: it must be one well-formed item. */
    if (enc_is_cbor(*enc) && ipcn_cbor_check(raw.p, raw.len, 0) != IPCN_OK) {
        sb_free(&raw);
        return cli_fail(IPCN_BAD_REQUEST, "%s is not one well-formed CBOR item", what);
    }
    if (enc_is_tensor(*enc)) {
        ipcn_tensor t;
        if (ipcn_tensor_decode(raw.p, raw.len, 0, &t) != IPCN_OK) {
            sb_free(&raw);
            return cli_fail(IPCN_BAD_REQUEST, "%s is not a CBOR tensor (RFC 8746, tag 40)",
                            what);
        }
    }
    *outb = raw;
    return 0;
}

static bool printable_text(const char *p, size_t n)
{
    if (!utf8_valid(p, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if ((ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') || ch == 0x7f)
            return false;
    }
    return true;
}

static void summary(sbuf *b, const char *enc, const void *data, size_t len)
{
    char size[32];
    fmt_bytes(size, sizeof size, (double)len);
    sb_printf(b, "<%s, %zu bytes%s%s%s, xxh3 %016llx>",
              enc && *enc ? enc : "unknown encoding", len,
              len >= 1024 ? " (" : "", len >= 1024 ? size : "",
              len >= 1024 ? ")" : "", (unsigned long long)hash64(data, len));
}

void value_text(sbuf *b, const char *enc, const void *data, size_t len,
                bool oneline)
{
    if (len == 0) {
        sb_puts(b, "(empty)");
        return;
    }
    if (sensor_text(b, enc, data, len))
        return;
    if (enc_is_tensor(enc) || enc_is_cbor(enc)) {
        ipcn_tensor t;
        if (ipcn_tensor_decode(data, len, 0, &t) == IPCN_OK) {
            tensor_text(b, &t, TENSOR_TEXT_VALUES);
            return;
        }
    }
    if (enc_is_json(enc) || enc_is_cbor(enc)) {
        jval *v;
        if (enc_is_json(enc) ? json_parse(data, len, &v, NULL, 0) == 0
                             : cbor_to_json(data, len, &v) == 0) {
            json_write(b, v, oneline || json_fits(v, JSON_ONELINE_WIDTH) ? -1 : 2);
            json_free(v);
            return;
        }
    } else if (enc_is_text(enc) && printable_text(data, len)) {
        const char *p = data;
        size_t n = len;
        while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
            n--;
        if (!oneline) {
            sb_putn(b, p, n);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\n')
                sb_puts(b, "\\n");
            else if (p[i] == '\r')
                sb_puts(b, "\\r");
            else
                sb_putc(b, p[i]);
        }
        return;
    }
    summary(b, enc, data, len);
}

void value_json(jw *w, const char *enc, const void *data, size_t len)
{
    jw_str(w, "encoding", enc ? enc : "");
    jw_uint(w, "size", len);
    if (len && sensor_json(w, enc, data, len))
        return;
    if (len && enc_is_tensor(enc)) {
        ipcn_tensor t;
        jval *v; /* as {"dtype", "shape", "numel", "values"} */
        if (ipcn_tensor_decode(data, len, 0, &t) == IPCN_OK &&
            cbor_to_json(data, len, &v) == 0) {
            jw_val(w, "value", v);
            json_free(v);
            return;
        }
    } else if (len && (enc_is_json(enc) || enc_is_cbor(enc))) {
        jval *v;
        if (enc_is_json(enc) ? json_parse(data, len, &v, NULL, 0) == 0
                             : cbor_to_json(data, len, &v) == 0) {
            jw_val(w, "value", v);
            json_free(v);
            return;
        }
    } else if (len && enc_is_text(enc) && utf8_valid(data, len)) {
        jw_strn(w, "value", data, len);
        return;
    }
    jw_null(w, "value");
    if (len) {
        char h[17];
        snprintf(h, sizeof h, "%016llx", (unsigned long long)hash64(data, len));
        jw_str(w, "xxh3", h);
    }
}

int value_raw(const void *data, size_t len)
{
    if (cli_stdout_broken)
        return -1;
    if ((len && fwrite(data, 1, len, stdout) != len) || fflush(stdout) != 0) {
        out_broken();
        return -1;
    }
    return 0;
}

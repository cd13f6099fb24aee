/* SPDX-License-Identifier: MIT */
/*
 * proto.c — the file service's requests and answers: CBOR maps with text
 * keys, written with the library's writer and read with its cursor (no
 * allocation, no copy).  Everything read here comes from the other side
 * and is hostile until checked; docs/protocol.md ("File service") is the
 * contract.
 */
#include <string.h>

#include "files/files.h"
#include "ipcnet_value.h"
#include "util/util.h"

/* ---- reading maps ---- */

/* The keys a parser knows; each may appear once. */
typedef struct keyset {
    const char *const *names;
    unsigned n;
    uint32_t seen;
} keyset;

/* Start reading a map of text keys from buf: *r is positioned after the
 * map's head; *indef and *pairs say how many pairs follow.  100 or 200. */
static int map_begin(ipcn_cbor_reader *r, const void *buf, size_t len,
                     bool *indef, uint64_t *pairs)
{
    ipcn_cbor_value v;
    if (ipcn_cbor_reader_init(r, buf, len, 0) != IPCN_OK ||
        ipcn_cbor_next(r, &v) != IPCN_OK || v.type != IPCN_CBOR_MAP)
        return IPCN_BAD_REQUEST;
    *indef = v.indefinite;
    *pairs = v.count;
    return IPCN_OK;
}

/* The next key of the map: 100 with *k the index of a known key (or -1
 * for an unknown one, whose value the caller skips); 103 at the end of
 * the map; 200 for a key that is not a definite text string, or a known
 * key seen twice. */
static int map_key(ipcn_cbor_reader *r, bool indef, uint64_t *left,
                   keyset *ks, int *k)
{
    ipcn_cbor_value v;
    if (!indef && *left == 0)
        return IPCN_NO_DATA;
    if (ipcn_cbor_next(r, &v) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (indef && v.type == IPCN_CBOR_BREAK)
        return IPCN_NO_DATA;
    if (!indef)
        (*left)--;
    if (v.type != IPCN_CBOR_TEXT || v.indefinite || v.depth != 1)
        return IPCN_BAD_REQUEST;
    *k = -1;
    for (unsigned i = 0; i < ks->n; i++) {
        if (strlen(ks->names[i]) == v.len && !memcmp(ks->names[i], v.ptr, v.len)) {
            if (ks->seen & (1u << i))
                return IPCN_BAD_REQUEST;
            ks->seen |= 1u << i;
            *k = (int)i;
            break;
        }
    }
    return IPCN_OK;
}

/* The map is done: nothing may follow it. */
static int map_end(ipcn_cbor_reader *r)
{
    ipcn_cbor_value v;
    return ipcn_cbor_next(r, &v) == IPCN_NO_DATA ? IPCN_OK : IPCN_BAD_REQUEST;
}

static int get_uint(ipcn_cbor_reader *r, uint64_t *out)
{
    ipcn_cbor_value v;
    if (ipcn_cbor_next(r, &v) != IPCN_OK || v.type != IPCN_CBOR_UINT)
        return IPCN_BAD_REQUEST;
    *out = v.u;
    return IPCN_OK;
}

/* A definite string of the given major type (text or bytes). */
static int get_str(ipcn_cbor_reader *r, ipcn_cbor_type type,
                   const uint8_t **p, size_t *n)
{
    ipcn_cbor_value v;
    if (ipcn_cbor_next(r, &v) != IPCN_OK || v.type != type || v.indefinite)
        return IPCN_BAD_REQUEST;
    *p = v.ptr;
    *n = v.len;
    return IPCN_OK;
}

/* ---- requests ---- */

enum { K_OP, K_NAME, K_VERSION, K_OFF, K_LEN, K_FIRST, K_COUNT };
static const char *const req_keys[] = {"op",  "name",  "version", "off",
                                       "len", "first", "count"};

int ipcn__files_parse_req(const void *buf, size_t len, ipcn__files_req *out,
                          const char **why)
{
    static const char *const reasons[] = {
        "the request is not a CBOR map",          /* 0 */
        "a field is malformed or repeated",       /* 1 */
        "\"op\" is missing or unknown",           /* 2 */
        "\"name\" is missing",                    /* 3 */
        "\"version\" is missing",                 /* 4 */
        "\"off\" or \"len\" is missing",          /* 5 */
        "\"first\" or \"count\" is missing",      /* 6 */
        "the request is too long",                /* 7 */
    };
    ipcn__files_req q;
    memset(&q, 0, sizeof q);
    *why = reasons[0];
    if (len > IPCN__FILES_REQ_MAX) {
        *why = reasons[7];
        return IPCN_BAD_REQUEST;
    }
    ipcn_cbor_reader r;
    bool indef;
    uint64_t left;
    if (map_begin(&r, buf, len, &indef, &left) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    keyset ks = {req_keys, IPCN__ARRAY_SIZE(req_keys), 0};
    const uint8_t *op = NULL, *name = NULL;
    size_t op_len = 0;
    int k, st;
    *why = reasons[1];
    while ((st = map_key(&r, indef, &left, &ks, &k)) == IPCN_OK) {
        switch (k) {
        case K_OP: st = get_str(&r, IPCN_CBOR_TEXT, &op, &op_len); break;
        case K_NAME: st = get_str(&r, IPCN_CBOR_TEXT, &name, &q.name_len); break;
        case K_VERSION: st = get_uint(&r, &q.version); break;
        case K_OFF: st = get_uint(&r, &q.off); break;
        case K_LEN: st = get_uint(&r, &q.len); break;
        case K_FIRST: st = get_uint(&r, &q.first); break;
        case K_COUNT: st = get_uint(&r, &q.count); break;
        default: st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        }
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA || map_end(&r) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    q.has_version = ks.seen & (1u << K_VERSION);
    if (op && op_len == 4 && !memcmp(op, "stat", 4))
        q.op = IPCN__FILES_STAT;
    else if (op && op_len == 4 && !memcmp(op, "read", 4))
        q.op = IPCN__FILES_READ;
    else if (op && op_len == 6 && !memcmp(op, "hashes", 6))
        q.op = IPCN__FILES_HASHES;
    else {
        *why = reasons[2];
        return IPCN_BAD_REQUEST;
    }
    if (!name) {
        *why = reasons[3];
        return IPCN_BAD_REQUEST;
    }
    if (q.op != IPCN__FILES_STAT && !q.has_version) {
        *why = reasons[4];
        return IPCN_BAD_REQUEST;
    }
    if (q.op == IPCN__FILES_READ && (ks.seen & (3u << K_OFF)) != (3u << K_OFF)) {
        *why = reasons[5];
        return IPCN_BAD_REQUEST;
    }
    if (q.op == IPCN__FILES_HASHES &&
        (ks.seen & (3u << K_FIRST)) != (3u << K_FIRST)) {
        *why = reasons[6];
        return IPCN_BAD_REQUEST;
    }
    q.name = (const char *)name;
    *out = q;
    *why = NULL;
    return IPCN_OK;
}

int ipcn__files_name_check(const char *name, size_t n, const char **why)
{
    if (n == 0) {
        *why = "the name is empty";
        return IPCN_BAD_REQUEST;
    }
    if (n > IPCN__FILES_NAME_MAX) {
        *why = "the name is too long";
        return IPCN_BAD_REQUEST;
    }
    if (memchr(name, 0, n)) {
        *why = "the name holds a NUL byte";
        return IPCN_BAD_REQUEST;
    }
    if (name[0] == '/') {
        *why = "absolute names are refused";
        return IPCN_FORBIDDEN;
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && name[i] != '/')
            continue;
        size_t seg = i - start;
        if (seg == 0) {
            *why = "empty segments are refused";
            return IPCN_FORBIDDEN;
        }
        if ((seg == 1 && name[start] == '.') ||
            (seg == 2 && name[start] == '.' && name[start + 1] == '.')) {
            *why = "\".\" and \"..\" segments are refused";
            return IPCN_FORBIDDEN;
        }
        start = i + 1;
    }
    *why = NULL;
    return IPCN_OK;
}

static int finish(ipcn_cbor_writer *w, size_t *len)
{
    return ipcn_cbor_writer_finish(w, len);
}

int ipcn__files_enc_stat_req(const char *name, size_t name_len, uint8_t *buf,
                             size_t cap, size_t *len)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "op");
    ipcn_cbor_put_cstr(&w, "stat");
    ipcn_cbor_put_cstr(&w, "name");
    ipcn_cbor_put_text(&w, name, name_len);
    return finish(&w, len);
}

int ipcn__files_enc_read_req(const char *name, size_t name_len,
                             uint64_t version, uint64_t off, uint64_t n,
                             uint8_t *buf, size_t cap, size_t *len)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 5);
    ipcn_cbor_put_cstr(&w, "op");
    ipcn_cbor_put_cstr(&w, "read");
    ipcn_cbor_put_cstr(&w, "name");
    ipcn_cbor_put_text(&w, name, name_len);
    ipcn_cbor_put_cstr(&w, "version");
    ipcn_cbor_put_uint(&w, version);
    ipcn_cbor_put_cstr(&w, "off");
    ipcn_cbor_put_uint(&w, off);
    ipcn_cbor_put_cstr(&w, "len");
    ipcn_cbor_put_uint(&w, n);
    return finish(&w, len);
}

int ipcn__files_enc_hashes_req(const char *name, size_t name_len,
                               uint64_t version, uint64_t first,
                               uint64_t count, uint8_t *buf, size_t cap,
                               size_t *len)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 5);
    ipcn_cbor_put_cstr(&w, "op");
    ipcn_cbor_put_cstr(&w, "hashes");
    ipcn_cbor_put_cstr(&w, "name");
    ipcn_cbor_put_text(&w, name, name_len);
    ipcn_cbor_put_cstr(&w, "version");
    ipcn_cbor_put_uint(&w, version);
    ipcn_cbor_put_cstr(&w, "first");
    ipcn_cbor_put_uint(&w, first);
    ipcn_cbor_put_cstr(&w, "count");
    ipcn_cbor_put_uint(&w, count);
    return finish(&w, len);
}

/* ---- answers ---- */

int ipcn__files_enc_stat(const ipcn__files_stat *s, uint8_t *buf, size_t cap,
                         size_t *len)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, s->has_hash ? 7 : 6);
    ipcn_cbor_put_cstr(&w, "size");
    ipcn_cbor_put_uint(&w, s->size);
    ipcn_cbor_put_cstr(&w, "mtime_ns");
    ipcn_cbor_put_uint(&w, s->mtime_ns);
    ipcn_cbor_put_cstr(&w, "version");
    ipcn_cbor_put_uint(&w, s->version);
    ipcn_cbor_put_cstr(&w, "chunk");
    ipcn_cbor_put_uint(&w, s->chunk);
    ipcn_cbor_put_cstr(&w, "max_read");
    ipcn_cbor_put_uint(&w, s->max_read);
    ipcn_cbor_put_cstr(&w, "alg");
    ipcn_cbor_put_cstr(&w, IPCN_FILES_HASH_ALG);
    if (s->has_hash) {
        ipcn_cbor_put_cstr(&w, "hash");
        ipcn_cbor_put_bytes(&w, s->hash, sizeof s->hash);
    }
    return finish(&w, len);
}

enum { S_SIZE, S_MTIME, S_VERSION, S_CHUNK, S_MAXREAD, S_ALG, S_HASH };
static const char *const stat_keys[] = {"size",     "mtime_ns", "version", "chunk",
                                        "max_read", "alg",      "hash"};

int ipcn__files_parse_stat(const void *buf, size_t len, ipcn__files_stat *out)
{
    ipcn__files_stat s;
    memset(&s, 0, sizeof s);
    ipcn_cbor_reader r;
    bool indef;
    uint64_t left, chunk = 0, max_read = 0;
    if (map_begin(&r, buf, len, &indef, &left) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    keyset ks = {stat_keys, IPCN__ARRAY_SIZE(stat_keys), 0};
    int k, st;
    const uint8_t *p;
    size_t n;
    while ((st = map_key(&r, indef, &left, &ks, &k)) == IPCN_OK) {
        switch (k) {
        case S_SIZE: st = get_uint(&r, &s.size); break;
        case S_MTIME: st = get_uint(&r, &s.mtime_ns); break;
        case S_VERSION: st = get_uint(&r, &s.version); break;
        case S_CHUNK: st = get_uint(&r, &chunk); break;
        case S_MAXREAD: st = get_uint(&r, &max_read); break;
        case S_ALG:
            st = get_str(&r, IPCN_CBOR_TEXT, &p, &n);
            s.alg_ok = st == IPCN_OK && n == strlen(IPCN_FILES_HASH_ALG) &&
                       !memcmp(p, IPCN_FILES_HASH_ALG, n);
            break;
        case S_HASH:
            st = get_str(&r, IPCN_CBOR_BYTES, &p, &n);
            if (st == IPCN_OK && n != IPCN_FILES_HASH_LEN)
                st = IPCN_BAD_REQUEST;
            if (st == IPCN_OK) {
                memcpy(s.hash, p, n);
                s.has_hash = true;
            }
            break;
        default: st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        }
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA || map_end(&r) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    uint32_t need = (1u << S_SIZE) | (1u << S_MTIME) | (1u << S_VERSION) |
                    (1u << S_CHUNK) | (1u << S_MAXREAD) | (1u << S_ALG);
    if ((ks.seen & need) != need || s.size > IPCN__FILES_MAX_SIZE ||
        chunk < IPCN__FILES_CHUNK_MIN || chunk > IPCN__FILES_CHUNK_MAX ||
        (chunk & (chunk - 1)) || max_read < chunk || max_read > UINT32_MAX)
        return IPCN_BAD_REQUEST;
    s.chunk = (uint32_t)chunk;
    s.max_read = (uint32_t)max_read;
    *out = s;
    return IPCN_OK;
}

enum { R_HASHES, R_DATA };
static const char *const read_keys[] = {"hashes", "data"};

int ipcn__files_parse_read(const void *buf, size_t len, const uint8_t **data,
                           size_t *dlen, const uint8_t **hashes, size_t *hlen)
{
    ipcn_cbor_reader r;
    bool indef;
    uint64_t left;
    if (map_begin(&r, buf, len, &indef, &left) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    keyset ks = {read_keys, IPCN__ARRAY_SIZE(read_keys), 0};
    const uint8_t *d = NULL, *h = NULL;
    size_t dn = 0, hn = 0;
    int k, st;
    while ((st = map_key(&r, indef, &left, &ks, &k)) == IPCN_OK) {
        switch (k) {
        case R_HASHES: st = get_str(&r, IPCN_CBOR_BYTES, &h, &hn); break;
        case R_DATA: st = get_str(&r, IPCN_CBOR_BYTES, &d, &dn); break;
        default: st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        }
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA || map_end(&r) != IPCN_OK || !d || !h)
        return IPCN_BAD_REQUEST;
    *data = d;
    *dlen = dn;
    *hashes = h;
    *hlen = hn;
    return IPCN_OK;
}

enum { H_FIRST, H_HASHES };
static const char *const hashes_keys[] = {"first", "hashes"};

int ipcn__files_parse_hashes(const void *buf, size_t len, uint64_t *first,
                             const uint8_t **hashes, size_t *hlen)
{
    ipcn_cbor_reader r;
    bool indef;
    uint64_t left, f = 0;
    if (map_begin(&r, buf, len, &indef, &left) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    keyset ks = {hashes_keys, IPCN__ARRAY_SIZE(hashes_keys), 0};
    const uint8_t *h = NULL;
    size_t hn = 0;
    int k, st;
    while ((st = map_key(&r, indef, &left, &ks, &k)) == IPCN_OK) {
        switch (k) {
        case H_FIRST: st = get_uint(&r, &f); break;
        case H_HASHES: st = get_str(&r, IPCN_CBOR_BYTES, &h, &hn); break;
        default: st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        }
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA || map_end(&r) != IPCN_OK ||
        !(ks.seen & (1u << H_FIRST)) || !h || hn == 0 ||
        hn % IPCN_FILES_HASH_LEN != 0 ||
        hn / IPCN_FILES_HASH_LEN > IPCN__FILES_MAX_HASHES)
        return IPCN_BAD_REQUEST;
    *first = f;
    *hashes = h;
    *hlen = hn;
    return IPCN_OK;
}

/* ---- the descriptor ---- */

int ipcn__files_enc_meta(uint8_t *buf, size_t cap, size_t *len)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 4);
    ipcn_cbor_put_cstr(&w, "protocol");
    ipcn_cbor_put_cstr(&w, IPCN__FILES_PROTOCOL);
    ipcn_cbor_put_cstr(&w, "version");
    ipcn_cbor_put_uint(&w, IPCN__FILES_VERSION);
    ipcn_cbor_put_cstr(&w, "chunk");
    ipcn_cbor_put_uint(&w, IPCN_FILES_CHUNK);
    ipcn_cbor_put_cstr(&w, "max_read");
    ipcn_cbor_put_uint(&w, IPCN__FILES_MAX_READ);
    return finish(&w, len);
}

int ipcn__files_is_meta(const void *meta, size_t len)
{
    static const char *const keys[] = {"protocol"};
    ipcn_cbor_reader r;
    bool indef;
    uint64_t left;
    if (!meta || map_begin(&r, meta, len, &indef, &left) != IPCN_OK)
        return 0;
    keyset ks = {keys, 1, 0};
    int k, st, found = 0;
    while ((st = map_key(&r, indef, &left, &ks, &k)) == IPCN_OK) {
        const uint8_t *p;
        size_t n;
        if (k == 0) {
            if (get_str(&r, IPCN_CBOR_TEXT, &p, &n) != IPCN_OK)
                return 0;
            found = n == strlen(IPCN__FILES_PROTOCOL) &&
                    !memcmp(p, IPCN__FILES_PROTOCOL, n);
        } else if (ipcn_cbor_skip(&r, NULL) != IPCN_OK) {
            return 0;
        }
    }
    return st == IPCN_NO_DATA && map_end(&r) == IPCN_OK && found;
}

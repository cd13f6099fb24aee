/* SPDX-License-Identifier: MIT */
/*
 * fuzz_files.c — libFuzzer harness of the file service (src/files/): the
 * provider's request parser and its whole answer to a request, over a
 * small fixture directory, and the requester's parsers of answers.
 *
 * The first byte of the input chooses the target, the rest is its input:
 *   0  a request served by a provider of the fixture (ipcn__files_serve);
 *   1  the same, but a request that parses gets the file's current
 *      version put in (as a requester that did a stat first would), so
 *      that reads and hashes get past the version check;
 *   2  a stat answer (ipcn__files_parse_stat);
 *   3  a read answer (ipcn__files_parse_read);
 *   4  a hashes answer (ipcn__files_parse_hashes);
 *   5  a name (ipcn__files_name_check) and a descriptor (is_meta).
 * Properties checked besides ASan/UBSan's: the provider answers every
 * request with a status of the protocol's list (100, 200, 202, 203, 207,
 * 300, 307) and a text reason or a CBOR answer, never longer than the
 * limits allow and never naming the fixture's directory; a 100 answer
 * parses with the requester's parser of its kind and is consistent (a
 * read's data within max_read with one hash per chunk, the hashes' first
 * chunk the one asked); a request parses only if the name check and the
 * operation's required fields allow it; views lie inside the input.
 *
 * The fixture (made once, removed at exit, under $TMPDIR): a.txt (100
 * bytes), b.bin (1 MiB + 3: two chunks), dir/c.txt, a link inside
 * (in -> a.txt), links out (out -> /etc/passwd, up -> ..), a FIFO.
 *
 * Seeds (corpus/files/, made with Python's cbor2; the first byte is the
 * target): stat, read, hashes requests of each file, with and without
 * the version marker; malformed ones; answers of each kind.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/files.h"
#include "fuzz_common.h"
#include "ipcnet_value.h"

static char ff_dir[512];
static ipcn__files_srv *ff_srv;

static int ff_rm(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static void ff_cleanup(void)
{
    ipcn__files_srv_free(ff_srv);
    ff_srv = NULL;
    if (ff_dir[0])
        nftw(ff_dir, ff_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static void ff_file(const char *name, size_t size)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", ff_dir, name);
    FILE *f = fopen(p, "wb");
    FUZZ_ASSERT(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)(i * 131 % 251), f);
    FUZZ_ASSERT(fclose(f) == 0);
}

static void ff_init(void)
{
    if (ff_srv)
        return;
    const char *tmp = getenv("TMPDIR");
    snprintf(ff_dir, sizeof ff_dir, "%s/ipcn-fuzz-files-XXXXXX", tmp ? tmp : "/tmp");
    FUZZ_ASSERT(mkdtemp(ff_dir));
    atexit(ff_cleanup);
    char p[600];
    ff_file("a.txt", 100);
    ff_file("b.bin", IPCN_FILES_CHUNK + 3);
    snprintf(p, sizeof p, "%s/dir", ff_dir);
    FUZZ_ASSERT(mkdir(p, 0755) == 0);
    ff_file("dir/c.txt", 10);
    snprintf(p, sizeof p, "%s/in", ff_dir);
    FUZZ_ASSERT(symlink("a.txt", p) == 0);
    snprintf(p, sizeof p, "%s/out", ff_dir);
    FUZZ_ASSERT(symlink("/etc/passwd", p) == 0);
    snprintf(p, sizeof p, "%s/up", ff_dir);
    FUZZ_ASSERT(symlink("..", p) == 0);
    snprintf(p, sizeof p, "%s/fifo", ff_dir);
    FUZZ_ASSERT(mkfifo(p, 0600) == 0);
    int fd = open(ff_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    FUZZ_ASSERT(fd >= 0);
    FUZZ_ASSERT(ipcn__files_srv_new(fd, 0, &ff_srv) == IPCN_OK);
}

static int ff_sodium = -1;

/* Serve one request and check the answer. */
static void ff_serve(const uint8_t *p, size_t n)
{
    ipcn__files_out o;
    ipcn__files_serve(ff_srv, "cbor", p, n, &o);
    int st = o.status;
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_FORBIDDEN ||
                st == IPCN_NOT_FOUND || st == IPCN_CONFLICT ||
                st == IPCN_INTERNAL_ERROR || st == IPCN_INSUFFICIENT_MEMORY);
    FUZZ_ASSERT(o.buf && o.len > 0);
    FUZZ_ASSERT(!memmem(o.buf, o.len, ff_dir, strlen(ff_dir)));
    ipcn__files_req q;
    const char *why;
    int pst = ipcn__files_parse_req(p, n, &q, &why);
    if (st != IPCN_OK) {
        FUZZ_ASSERT(!strcmp(o.encoding, "text/plain"));
        FUZZ_ASSERT(o.len < 200);
        ipcn__files_out_free(&o);
        return;
    }
    FUZZ_ASSERT(!strcmp(o.encoding, "cbor"));
    FUZZ_ASSERT(pst == IPCN_OK);
    FUZZ_ASSERT(q.name >= (const char *)p && q.name + q.name_len <= (const char *)p + n);
    FUZZ_ASSERT(ipcn__files_name_check(q.name, q.name_len, &why) == IPCN_OK);
    if (q.op == IPCN__FILES_STAT) {
        ipcn__files_stat s;
        FUZZ_ASSERT(ipcn__files_parse_stat(o.buf, o.len, &s) == IPCN_OK);
        FUZZ_ASSERT(s.alg_ok && s.chunk == IPCN_FILES_CHUNK);
        FUZZ_ASSERT(s.has_hash); /* the fixture's files are small */
    } else if (q.op == IPCN__FILES_READ) {
        const uint8_t *d, *h;
        size_t dl, hl;
        FUZZ_ASSERT(ipcn__files_parse_read(o.buf, o.len, &d, &dl, &h, &hl) == IPCN_OK);
        FUZZ_ASSERT(q.has_version && dl > 0 && dl <= q.len && dl <= IPCN__FILES_MAX_READ);
        FUZZ_ASSERT(q.off % IPCN_FILES_CHUNK == 0);
        FUZZ_ASSERT(hl == ipcn__files_nchunks(dl, IPCN_FILES_CHUNK) * IPCN_FILES_HASH_LEN);
        uint8_t leaf[IPCN_FILES_HASH_LEN];
        ipcn__files_leaf(d, dl < IPCN_FILES_CHUNK ? dl : IPCN_FILES_CHUNK, leaf);
        FUZZ_ASSERT(!memcmp(leaf, h, sizeof leaf));
    } else {
        uint64_t first;
        const uint8_t *h;
        size_t hl;
        FUZZ_ASSERT(ipcn__files_parse_hashes(o.buf, o.len, &first, &h, &hl) == IPCN_OK);
        FUZZ_ASSERT(first == q.first && hl / IPCN_FILES_HASH_LEN <= q.count);
    }
    ipcn__files_out_free(&o);
}

/* Put the named file's current version into a request that parses. */
static void ff_serve_versioned(const uint8_t *p, size_t n)
{
    ipcn__files_req q;
    const char *why;
    if (ipcn__files_parse_req(p, n, &q, &why) != IPCN_OK) {
        ff_serve(p, n);
        return;
    }
    uint8_t req[IPCN__FILES_REQ_MAX];
    size_t len = 0;
    FUZZ_ASSERT(ipcn__files_enc_stat_req(q.name, q.name_len, req, sizeof req, &len) ==
                IPCN_OK);
    ipcn__files_out o;
    ipcn__files_serve(ff_srv, "cbor", req, len, &o);
    ipcn__files_stat s;
    uint64_t version = q.version;
    if (o.status == IPCN_OK) {
        FUZZ_ASSERT(ipcn__files_parse_stat(o.buf, o.len, &s) == IPCN_OK);
        version = s.version;
    }
    ipcn__files_out_free(&o);
    int st = IPCN_OK;
    if (q.op == IPCN__FILES_READ)
        st = ipcn__files_enc_read_req(q.name, q.name_len, version, q.off, q.len, req,
                                      sizeof req, &len);
    else if (q.op == IPCN__FILES_HASHES)
        st = ipcn__files_enc_hashes_req(q.name, q.name_len, version, q.first, q.count,
                                        req, sizeof req, &len);
    FUZZ_ASSERT(st == IPCN_OK);
    ff_serve(req, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ff_sodium < 0)
        ff_sodium = ipcn__files_sodium_init();
    FUZZ_ASSERT(ff_sodium == IPCN_OK);
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0:
        ff_init();
        ff_serve(p, n);
        break;
    case 1:
        ff_init();
        ff_serve_versioned(p, n);
        break;
    case 2: {
        ipcn__files_stat s;
        if (ipcn__files_parse_stat(p, n, &s) == IPCN_OK)
            FUZZ_ASSERT(s.chunk >= IPCN__FILES_CHUNK_MIN && !(s.chunk & (s.chunk - 1)) &&
                        s.max_read >= s.chunk && s.size <= IPCN__FILES_MAX_SIZE);
        break;
    }
    case 3: {
        const uint8_t *d, *h;
        size_t dl, hl;
        if (ipcn__files_parse_read(p, n, &d, &dl, &h, &hl) == IPCN_OK)
            FUZZ_ASSERT(d >= p && d + dl <= p + n && h >= p && h + hl <= p + n);
        break;
    }
    case 4: {
        uint64_t first;
        const uint8_t *h;
        size_t hl;
        if (ipcn__files_parse_hashes(p, n, &first, &h, &hl) == IPCN_OK)
            FUZZ_ASSERT(h >= p && h + hl <= p + n && hl && hl % IPCN_FILES_HASH_LEN == 0);
        break;
    }
    default: {
        const char *why;
        int st = ipcn__files_name_check((const char *)p, n, &why);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_FORBIDDEN);
        FUZZ_ASSERT((st == IPCN_OK) == (why == NULL));
        if (st == IPCN_OK) {
            FUZZ_ASSERT(n > 0 && p[0] != '/' && p[n - 1] != '/' && !memchr(p, 0, n));
            /* a valid UTF-8 name survives a stat request's round trip */
            uint8_t req[IPCN__FILES_REQ_MAX];
            size_t len = 0;
            if (ipcn__files_enc_stat_req((const char *)p, n, req, sizeof req, &len) ==
                IPCN_OK) {
                ipcn__files_req q;
                FUZZ_ASSERT(ipcn__files_parse_req(req, len, &q, &why) == IPCN_OK);
                FUZZ_ASSERT(q.op == IPCN__FILES_STAT && q.name_len == n &&
                            !memcmp(q.name, p, n));
            }
        }
        (void)ipcn__files_is_meta(p, n);
        break;
    }
    }
    return 0;
}

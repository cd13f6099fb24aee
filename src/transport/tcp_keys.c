/* SPDX-License-Identifier: MIT */
/*
 * tcp_keys.c — the files a gateway reads: the host key, the network's trust
 * list, gateway.conf.  Every reader is bounded: a file over 1 MiB or a
 * line over 4 KiB is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport/tcp.h"
#include "transport/noise.h"
#include "util/util.h"

#define FILE_MAX (1u << 20)
#define LINE_MAX_ 4096u

/* The whole file, NUL-terminated.  100, 203, 200 (too large), 300, 307. */
static int slurp(const char *path, char **out, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? IPCN_NOT_FOUND : IPCN_INTERNAL_ERROR;
    struct stat s;
    if (fstat(fd, &s) < 0 || !S_ISREG(s.st_mode)) {
        close(fd);
        return IPCN_INTERNAL_ERROR;
    }
    if ((uint64_t)s.st_size > FILE_MAX) {
        close(fd);
        return IPCN_BAD_REQUEST;
    }
    char *buf = ipcn__malloc((size_t)s.st_size + 1);
    if (!buf) {
        close(fd);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    size_t got = 0;
    while (got < (size_t)s.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)s.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *out = buf;
    *len = got;
    if (st)
        *st = s;
    return IPCN_OK;
}

static bool key_decode(const char *text, size_t len, uint8_t key[32])
{
    size_t bin = 0;
    return len == IPCN_KEY_TEXT_LEN &&
           sodium_base642bin(key, 32, text, len, NULL, &bin, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           bin == 32;
}

/* The next line of text (from *pos), without its newline and the blanks
 * around it; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos,
                      const char **line, size_t *llen)
{
    if (*pos >= len)
        return false;
    const char *s = text + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t k = nl ? (size_t)(nl - s) : len - *pos;
    *pos += k + (nl ? 1 : 0);
    while (k && (*s == ' ' || *s == '\t')) {
        s++;
        k--;
    }
    while (k && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\r'))
        k--;
    *line = s;
    *llen = k;
    return true;
}

void ipcn__trust_free(ipcn__trust_list *t)
{
    ipcn__free(t->hosts);
    ipcn__free(t->keys);
    memset(t, 0, sizeof *t);
}

int ipcn__trust_parse(const char *text, size_t len, ipcn__trust_list *t)
{
    size_t pos = 0;
    int st = IPCN_OK;
    memset(t, 0, sizeof *t);
    const char *line;
    size_t ll, lineno = 0, cap = 0;
    while (next_line(text, len, &pos, &line, &ll)) {
        lineno++;
        if (!ll || line[0] == '#')
            continue;
        const char *sp = memchr(line, ' ', ll);
        const char *tab = memchr(line, '\t', ll);
        if (!sp || (tab && tab < sp))
            sp = tab;
        size_t nl = sp ? (size_t)(sp - line) : ll;
        const char *k = sp;
        while (k && k < line + ll && (*k == ' ' || *k == '\t'))
            k++;
        uint8_t key[32];
        if (ll > LINE_MAX_ || !sp || nl > IPCN_HOST_NAME_MAX ||
            ipcn__name_check(line, nl) != IPCN_OK ||
            !key_decode(k, (size_t)(line + ll - k), key)) {
            ipcn__err("IPCN-TRUST-LINE", "trusted:%zu: expected \"NAME KEY\"",
                      lineno);
            st = IPCN_BAD_REQUEST;
            break;
        }
        if (t->count == cap) {
            cap = cap ? cap * 2 : 8;
            ipcn_trusted *h = ipcn__realloc(t->hosts, cap * sizeof *h);
            if (h)
                t->hosts = h;
            uint8_t(*ks)[32] = h ? ipcn__realloc(t->keys, cap * 32) : NULL;
            if (!ks) {
                st = IPCN_INSUFFICIENT_MEMORY;
                break;
            }
            t->keys = ks;
        }
        ipcn_trusted *h = &t->hosts[t->count];
        memset(h, 0, sizeof *h);
        memcpy(h->name, line, nl);
        memcpy(h->key, k, IPCN_KEY_TEXT_LEN);
        memcpy(t->keys[t->count], key, 32);
        t->count++;
    }
    if (st != IPCN_OK)
        ipcn__trust_free(t);
    return st;
}

int ipcn__trust_load(const char *path, ipcn__trust_list *t)
{
    char *text;
    size_t len;
    memset(t, 0, sizeof *t);
    int st = slurp(path, &text, &len, NULL);
    if (st != IPCN_OK)
        return st;
    st = ipcn__trust_parse(text, len, t);
    if (st == IPCN_BAD_REQUEST)
        ipcn__err("IPCN-TRUST-FILE", "%s: malformed (the line is named above)",
                  path);
    ipcn__free(text);
    return st;
}

const char *ipcn__trust_name(const ipcn__trust_list *t, const uint8_t key[32])
{
    for (size_t i = 0; i < t->count; i++)
        if (sodium_memcmp(t->keys[i], key, 32) == 0)
            return t->hosts[i].name;
    return NULL;
}

void ipcn__gwconf_free(ipcn__gwconf *c)
{
    ipcn__free(c->listen);
    ipcn__free(c->peers);
    c->listen = c->peers = NULL;
}

int ipcn__gwconf_parse(const char *text, size_t len, ipcn__gwconf *c)
{
    memset(c, 0, sizeof *c);
    c->discovery = -1;
    const char *line;
    size_t ll, pos = 0, lineno = 0;
    while (next_line(text, len, &pos, &line, &ll)) {
        lineno++;
        if (!ll || line[0] == '#')
            continue;
        const char *eq = memchr(line, '=', ll);
        if (ll > LINE_MAX_ || !eq || memchr(line, 0, ll))
            goto bad;
        size_t kl = (size_t)(eq - line);
        while (kl && (line[kl - 1] == ' ' || line[kl - 1] == '\t'))
            kl--;
        const char *v = eq + 1;
        while (v < line + ll && (*v == ' ' || *v == '\t'))
            v++;
        size_t vl = (size_t)(line + ll - v);
        char **dst = NULL;
        if (kl == 6 && !memcmp(line, "listen", 6))
            dst = &c->listen;
        else if (kl == 5 && !memcmp(line, "peers", 5))
            dst = &c->peers;
        else if (kl == 9 && !memcmp(line, "discovery", 9)) {
            if (vl == 2 && !memcmp(v, "on", 2))
                c->discovery = 1;
            else if (vl == 3 && !memcmp(v, "off", 3))
                c->discovery = 0;
            else
                goto bad;
            continue;
        } else
            goto bad;
        ipcn__free(*dst);
        if (!(*dst = ipcn__strndup(v, vl))) {
            ipcn__gwconf_free(c);
            return IPCN_INSUFFICIENT_MEMORY;
        }
    }
    return IPCN_OK;
bad:
    ipcn__err("IPCN-GWCONF-LINE", "gateway.conf:%zu: expected listen, peers or "
              "discovery = VALUE", lineno);
    ipcn__gwconf_free(c);
    return IPCN_BAD_REQUEST;
}

int ipcn__gwconf_load(const char *path, ipcn__gwconf *c)
{
    char *text;
    size_t len;
    memset(c, 0, sizeof *c);
    c->discovery = -1;
    int st = slurp(path, &text, &len, NULL);
    if (st != IPCN_OK)
        return st;
    st = ipcn__gwconf_parse(text, len, c);
    ipcn__free(text);
    return st;
}

int ipcn__config_dir(char *buf, size_t cap)
{
    const char *env = getenv("IPCNET_CONFIG_DIR");
    int k;
    if (env && *env)
        k = snprintf(buf, cap, "%s", env);
    else if (geteuid() == 0)
        k = snprintf(buf, cap, "/etc/ipcnet");
    else if ((env = getenv("XDG_CONFIG_HOME")) && *env)
        k = snprintf(buf, cap, "%s/ipcnet", env);
    else if ((env = getenv("HOME")) && *env)
        k = snprintf(buf, cap, "%s/.config/ipcnet", env);
    else
        return IPCN_BAD_REQUEST;
    return k < 0 || (size_t)k >= cap ? IPCN_BAD_REQUEST : IPCN_OK;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return IPCN_INTERNAL_ERROR;
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    return ok ? IPCN_OK : IPCN_INTERNAL_ERROR;
}

static int make_key(const char *dir, const char *kpath)
{
    uint8_t priv[32], pub[32];
    char b64[IPCN_KEY_TEXT_LEN + 2], path[4096];
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return IPCN_INTERNAL_ERROR;
    randombytes_buf(priv, sizeof priv);
    if (ipcn__noise_public(priv, pub) != IPCN_OK)
        return IPCN_INTERNAL_ERROR;
    sodium_bin2base64(b64, sizeof b64, priv, 32, sodium_base64_VARIANT_ORIGINAL);
    strcat(b64, "\n");
    int st = write_file(kpath, b64, 0600);
    ipcn__noise_wipe(priv, sizeof priv);
    ipcn__noise_wipe(b64, sizeof b64);
    if (st != IPCN_OK)
        return st;
    sodium_bin2base64(b64, sizeof b64, pub, 32, sodium_base64_VARIANT_ORIGINAL);
    strcat(b64, "\n");
    snprintf(path, sizeof path, "%s/host.pub", dir);
    unlink(path);
    return write_file(path, b64, 0644);
}

int ipcn__host_key_load(const char *dir, uint8_t priv[32], uint8_t pub[32])
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/host.key", dir) >= (int)sizeof path)
        return IPCN_BAD_REQUEST;
    char *text;
    size_t len;
    struct stat st;
    int s = slurp(path, &text, &len, &st);
    if (s == IPCN_NOT_FOUND && (s = make_key(dir, path)) == IPCN_OK)
        s = slurp(path, &text, &len, &st);
    if (s != IPCN_OK)
        return s;
    int r = IPCN_OK;
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        ipcn__err("IPCN-HOSTKEY-MODE", "%s: readable by others than its owner, "
                  "or not ours (mode %o): refused", path,
                  (unsigned)(st.st_mode & 0777));
        r = IPCN_FORBIDDEN;
    } else {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
                       text[len - 1] == ' '))
            len--;
        if (!key_decode(text, len, priv) || ipcn__noise_public(priv, pub) != IPCN_OK) {
            ipcn__err("IPCN-HOSTKEY", "%s: not a key (one line of base64)", path);
            r = IPCN_BAD_REQUEST;
        }
    }
    ipcn__noise_wipe(text, len);
    ipcn__free(text);
    return r;
}

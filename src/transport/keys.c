/* SPDX-License-Identifier: MIT */
/*
 * keys.c — a host's key files and its networks' trust lists and
 * gateway.conf on disk (keys.h), and the public calls of ipcnet_hosts.h
 * that read and write them: ipcn_config_dir, ipcn_host_key,
 * ipcn_trust_add/remove/list/list_free.
 *
 * host.key is written to a temporary file and linked into place, so that
 * two processes making it at once end with one key, the first; the trust
 * list is rewritten through a temporary file renamed over it, keeping its
 * comments, so that a reader sees the old list or the new one.  The key
 * file is refused when others than its owner may read it, or when it is
 * not ours (as ssh does).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "transport/keys.h"
#include "transport/noise.h"
#include "util/util.h"

#define PATH_CAP 4096

/* ---- paths ---- */

int ipcn__config_dir(char *buf, size_t cap)
{
    if (!buf || !cap)
        return IPCN_BAD_REQUEST;
    const char *env = getenv("IPCNET_CONFIG_DIR");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int k;
    if (env && *env) {
        k = snprintf(buf, cap, "%s", env);
    } else if (geteuid() == 0) {
        k = snprintf(buf, cap, "/etc/ipcnet");
    } else if (xdg && xdg[0] == '/') { /* relative: ignored, as XDG says */
        k = snprintf(buf, cap, "%s/ipcnet", xdg);
    } else {
        if (!home || home[0] != '/') {
            struct passwd *pw = getpwuid(geteuid());
            home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
        }
        if (!home)
            return IPCN_BAD_REQUEST;
        k = snprintf(buf, cap, "%s/.config/ipcnet", home);
    }
    return k > 0 && (size_t)k < cap ? IPCN_OK : IPCN_BAD_REQUEST;
}

IPCN_API int ipcn_config_dir(char *buf, size_t cap)
{
    char tmp[PATH_CAP];
    int st = ipcn__config_dir(tmp, sizeof tmp);
    if (st != IPCN_OK)
        return st;
    if (!buf || strlen(tmp) >= cap)
        return IPCN_BAD_REQUEST;
    memcpy(buf, tmp, strlen(tmp) + 1);
    return IPCN_OK;
}

const char *ipcn__keys_network(const char *network)
{
    const char *net = network ? network : getenv("IPCNET_NETWORK");
    if (!net || !*net)
        net = "default";
    return ipcn__name_check(net, strlen(net)) == IPCN_OK ? net : NULL;
}

int ipcn__keys_path(char *buf, size_t cap, const char *dir,
                    const char *network, const char *file)
{
    int k = network ? snprintf(buf, cap, "%s/%s/%s", dir, network, file)
                    : snprintf(buf, cap, "%s/%s", dir, file);
    return k > 0 && (size_t)k < cap ? IPCN_OK : IPCN_BAD_REQUEST;
}

/* config_dir, or ipcn_config_dir()'s, into buf. */
static int dir_or_default(const char *config_dir, char *buf, size_t cap)
{
    if (!config_dir)
        return ipcn__config_dir(buf, cap);
    if (!*config_dir || strlen(config_dir) >= cap)
        return IPCN_BAD_REQUEST;
    memcpy(buf, config_dir, strlen(config_dir) + 1);
    return IPCN_OK;
}

/* mkdir -p, each missing directory made with mode. */
static int make_dirs(const char *path, mode_t mode)
{
    char p[PATH_CAP];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof p)
        return IPCN_BAD_REQUEST;
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            ipcn__err("IPCN-KEYS-MKDIR", "%s: %s", p, strerror(errno));
            return IPCN_INTERNAL_ERROR;
        }
        p[i] = c;
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return IPCN_INTERNAL_ERROR;
    return IPCN_OK;
}

/* ---- files ---- */

/* The whole regular file, NUL-terminated, at most IPCN__KEYS_FILE_MAX
 * bytes.  100, 203, 200 (too large, not a regular file), 300, 307. */
static int slurp(const char *path, char **out, size_t *len, struct stat *stp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? IPCN_NOT_FOUND : IPCN_INTERNAL_ERROR;
    struct stat st;
    int r = IPCN_OK;
    char *buf = NULL;
    size_t got = 0;
    if (fstat(fd, &st) < 0)
        r = IPCN_INTERNAL_ERROR;
    else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > IPCN__KEYS_FILE_MAX)
        r = IPCN_BAD_REQUEST;
    else if (!(buf = ipcn__malloc(IPCN__KEYS_FILE_MAX + 1)))
        r = IPCN_INSUFFICIENT_MEMORY;
    while (r == IPCN_OK) {
        /* up to one byte past the bound: a file that grew is refused */
        ssize_t k = read(fd, buf + got, IPCN__KEYS_FILE_MAX + 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            r = IPCN_INTERNAL_ERROR;
        else if (k == 0)
            break;
        else if ((got += (size_t)k) > IPCN__KEYS_FILE_MAX)
            r = IPCN_BAD_REQUEST;
    }
    close(fd);
    if (r != IPCN_OK) {
        if (buf)
            ipcn__noise_wipe(buf, got);
        ipcn__free(buf);
        return r;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    if (stp)
        *stp = st;
    return IPCN_OK;
}

static void free_secret(char *text, size_t len)
{
    if (text)
        ipcn__noise_wipe(text, len);
    ipcn__free(text);
}

/* Write text to a new file beside path (mode), synced; its name into tmp. */
static int write_temp(const char *path, const char *text, size_t len,
                      mode_t mode, char *tmp, size_t cap)
{
    int k = snprintf(tmp, cap, "%s.tmp.%ld.%llx", path, (long)getpid(),
                     (unsigned long long)ipcn__random_u64());
    if (k <= 0 || (size_t)k >= cap)
        return IPCN_BAD_REQUEST;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        ipcn__err("IPCN-KEYS-WRITE", "%s: %s", tmp, strerror(errno));
        return IPCN_INTERNAL_ERROR;
    }
    size_t off = 0;
    int r = IPCN_OK;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            r = IPCN_INTERNAL_ERROR;
            break;
        }
        off += (size_t)w;
    }
    /* the mode asked for, whatever the umask */
    if (r == IPCN_OK && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
        r = IPCN_INTERNAL_ERROR;
    if (close(fd) < 0)
        r = IPCN_INTERNAL_ERROR;
    if (r != IPCN_OK) {
        ipcn__err("IPCN-KEYS-WRITE", "%s: %s", tmp, strerror(errno));
        unlink(tmp);
    }
    return r;
}

/* Replace path with text (mode) at once. */
static int replace_file(const char *path, const char *text, size_t len, mode_t mode)
{
    char tmp[PATH_CAP + 64];
    int r = write_temp(path, text, len, mode, tmp, sizeof tmp);
    if (r != IPCN_OK)
        return r;
    if (rename(tmp, path) < 0) {
        ipcn__err("IPCN-KEYS-WRITE", "%s: %s", path, strerror(errno));
        unlink(tmp);
        return IPCN_INTERNAL_ERROR;
    }
    return IPCN_OK;
}

/* ---- the host key ---- */

/* host.key's text into priv and pub: 100, 202 or 200. */
static int key_from_file(const char *path, const struct stat *st, char *text,
                         size_t len, uint8_t priv[32], uint8_t pub[32])
{
    if (st->st_uid != geteuid() || (st->st_mode & 077)) {
        ipcn__err("IPCN-HOSTKEY-MODE", "%s: mode %o, owner uid %u: refused "
                  "(a private key must be ours and mode 0600)", path,
                  (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid);
        return IPCN_FORBIDDEN;
    }
    /* one line: the key, then a newline or not */
    if (len && text[len - 1] == '\n')
        len--;
    if (len && text[len - 1] == '\r')
        len--;
    if (ipcn__key_from_text(text, len, priv) != IPCN_OK ||
        ipcn__noise_public(priv, pub) != IPCN_OK) {
        ipcn__noise_wipe(priv, 32);
        ipcn__err("IPCN-HOSTKEY-BAD", "%s: not a key (one line of base64, "
                  "44 characters)", path);
        return IPCN_BAD_REQUEST;
    }
    return IPCN_OK;
}

/* Make a key pair: host.key linked into place (not over another's), then
 * host.pub.  100, 204 when another was there first, 300. */
static int make_key(const char *dir, const char *kpath)
{
    int r = make_dirs(dir, 0700);
    if (r != IPCN_OK)
        return r;
    uint8_t priv[32], pub[32];
    char text[IPCN_KEY_TEXT_LEN + 2], tmp[PATH_CAP + 64], ppath[PATH_CAP];
    randombytes_buf(priv, sizeof priv);
    if (ipcn__noise_public(priv, pub) != IPCN_OK) {
        ipcn__noise_wipe(priv, sizeof priv);
        return IPCN_INTERNAL_ERROR;
    }
    ipcn__key_to_text(priv, text);
    ipcn__noise_wipe(priv, sizeof priv);
    text[IPCN_KEY_TEXT_LEN] = '\n';
    r = write_temp(kpath, text, IPCN_KEY_TEXT_LEN + 1, 0600, tmp, sizeof tmp);
    ipcn__noise_wipe(text, sizeof text);
    if (r != IPCN_OK)
        return r;
    if (link(tmp, kpath) < 0) {
        int e = errno;
        unlink(tmp);
        if (e == EEXIST)
            return IPCN_METHOD_NOT_ALLOWED;
        ipcn__err("IPCN-KEYS-WRITE", "%s: %s", kpath, strerror(e));
        return IPCN_INTERNAL_ERROR;
    }
    unlink(tmp);
    ipcn__key_to_text(pub, text);
    text[IPCN_KEY_TEXT_LEN] = '\n';
    if (ipcn__keys_path(ppath, sizeof ppath, dir, NULL, "host.pub") != IPCN_OK)
        return IPCN_INTERNAL_ERROR;
    r = replace_file(ppath, text, IPCN_KEY_TEXT_LEN + 1, 0644);
    if (r == IPCN_OK)
        ipcn__info("IPCN-HOSTKEY-NEW", "%s: a new host key, public key %.*s", kpath,
                   IPCN_KEY_TEXT_LEN, text);
    return r;
}

int ipcn__host_key(const char *dir, bool create, uint8_t priv[32], uint8_t pub[32])
{
    char kpath[PATH_CAP];
    if (!dir || !priv || !pub ||
        ipcn__keys_path(kpath, sizeof kpath, dir, NULL, "host.key") != IPCN_OK)
        return IPCN_BAD_REQUEST;
    bool made = false;
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    int r = slurp(kpath, &text, &len, &st);
    if (r == IPCN_NOT_FOUND && create) {
        r = make_key(dir, kpath);
        made = r == IPCN_OK;
        if (r == IPCN_OK || r == IPCN_METHOD_NOT_ALLOWED)
            r = slurp(kpath, &text, &len, &st);
    }
    if (r == IPCN_BAD_REQUEST)
        ipcn__err("IPCN-HOSTKEY-BAD", "%s: not a regular file of a key", kpath);
    if (r != IPCN_OK)
        return r;
    r = key_from_file(kpath, &st, text, len, priv, pub);
    free_secret(text, len);
    return r == IPCN_OK && made ? IPCN_CREATED : r;
}

int ipcn__host_key_load(const char *dir, uint8_t priv[32], uint8_t pub[32])
{
    int r = ipcn__host_key(dir, true, priv, pub);
    return r == IPCN_CREATED ? IPCN_OK : r;
}

IPCN_API int ipcn_host_key(const char *config_dir, int create,
                           char pub[IPCN_KEY_TEXT_LEN + 1])
{
    char dir[PATH_CAP];
    if (!pub)
        return IPCN_BAD_REQUEST;
    int r = dir_or_default(config_dir, dir, sizeof dir);
    if (r != IPCN_OK)
        return r;
    uint8_t priv[32], pk[32];
    r = ipcn__host_key(dir, create != 0, priv, pk);
    ipcn__noise_wipe(priv, sizeof priv);
    if (r == IPCN_OK || r == IPCN_CREATED)
        ipcn__key_to_text(pk, pub);
    return r;
}

/* ---- trust lists and gateway.conf on disk ---- */

/* A settings file read whole (bounded by IPCN__KEYS_FILE_MAX): its text
 * to parse (what names it in the log).  As slurp, the refusal logged. */
static int read_settings(const char *path, char **text, size_t *len)
{
    int r = slurp(path, text, len, NULL);
    if (r == IPCN_BAD_REQUEST)
        ipcn__err("IPCN-KEYS-BADFILE", "%s: not a regular file of at most %u "
                  "bytes", path, IPCN__KEYS_FILE_MAX);
    return r;
}

int ipcn__trust_load(const char *path, ipcn__trust_list *t)
{
    char *text;
    size_t len;
    int r = read_settings(path, &text, &len);
    if (r != IPCN_OK)
        return r;
    r = ipcn__trust_parse_text(text, len, path, t, NULL);
    ipcn__free(text);
    return r;
}

int ipcn__gwconf_load(const char *path, ipcn__gwconf *c)
{
    char *text;
    size_t len;
    int r = read_settings(path, &text, &len);
    if (r != IPCN_OK)
        return r;
    r = ipcn__gwconf_parse_text(text, len, path, c, NULL);
    ipcn__free(text);
    return r;
}

/* The network's trust list path (config_dir and network as the public
 * calls take them). */
static int trust_path(const char *config_dir, const char *network, char *dir,
                      char *path, size_t cap)
{
    const char *net = ipcn__keys_network(network);
    if (!net)
        return IPCN_BAD_REQUEST;
    int r = dir_or_default(config_dir, dir, cap);
    if (r != IPCN_OK)
        return r;
    return ipcn__keys_path(path, cap, dir, net, "trusted");
}

/* The list and its text (NULL, 0 when there is no file yet). */
static int trust_read(const char *path, ipcn__trust_list *t, char **text,
                      size_t *len, mode_t *mode)
{
    struct stat st;
    *text = NULL;
    *len = 0;
    *mode = 0644;
    int r = slurp(path, text, len, &st);
    if (r == IPCN_NOT_FOUND)
        return IPCN_OK;
    if (r == IPCN_BAD_REQUEST)
        ipcn__err("IPCN-KEYS-BADFILE", "%s: not a regular file of at most %u "
                  "bytes", path, IPCN__KEYS_FILE_MAX);
    if (r != IPCN_OK)
        return r;
    *mode = st.st_mode & 0777;
    r = ipcn__trust_parse_text(*text, *len, path, t, NULL);
    if (r != IPCN_OK) {
        ipcn__free(*text);
        *text = NULL;
    }
    return r;
}

IPCN_API int ipcn_trust_add(const char *config_dir, const char *network,
                            const char *key, const char *name)
{
    char dir[PATH_CAP], path[PATH_CAP];
    uint8_t k[32];
    if (!key || !name || strlen(name) > IPCN_HOST_NAME_MAX ||
        ipcn__name_check(name, strlen(name)) != IPCN_OK ||
        ipcn__key_from_text(key, strlen(key), k) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    int r = trust_path(config_dir, network, dir, path, sizeof path);
    if (r != IPCN_OK)
        return r;
    ipcn__trust_list t = {0};
    char *text;
    size_t len;
    mode_t mode;
    if ((r = trust_read(path, &t, &text, &len, &mode)) != IPCN_OK)
        return r;
    const char *had = ipcn__trust_name(&t, k);
    bool name_there = false;
    for (size_t i = 0; i < t.count; i++)
        name_there |= strcmp(t.hosts[i].name, name) == 0;
    if (had && strcmp(had, name) == 0) {
        r = IPCN_OK; /* there already, as asked */
    } else if (had || name_there) {
        ipcn__info("IPCN-TRUST-CONFLICT", "%s: %s is there already with another "
                  "%s", path, had ? key : name, had ? "name" : "key");
        r = IPCN_CONFLICT;
    } else {
        /* the old text as it is, then the new line */
        size_t nl = len && text[len - 1] != '\n';
        size_t add = strlen(name) + 1 + IPCN_KEY_TEXT_LEN + 1;
        char *nt = ipcn__malloc(len + nl + add + 1);
        char netdir[PATH_CAP];
        if (!nt) {
            r = IPCN_INSUFFICIENT_MEMORY;
        } else {
            if (len)
                memcpy(nt, text, len);
            if (nl)
                nt[len] = '\n';
            snprintf(nt + len + nl, add + 1, "%s %s\n", name, key);
            memcpy(netdir, path, strlen(path) + 1);
            *strrchr(netdir, '/') = 0;
            r = make_dirs(dir, 0700); /* as for host.key, if it is first */
            if (r == IPCN_OK)
                r = make_dirs(netdir, 0755);
            if (r == IPCN_OK)
                r = replace_file(path, nt, len + nl + add, mode);
            if (r == IPCN_OK)
                r = IPCN_CREATED;
            ipcn__free(nt);
        }
    }
    ipcn__trust_free(&t);
    ipcn__free(text);
    return r;
}

/* Is the line s[0..n) this host's "NAME KEY" line? */
static bool line_names(const char *s, size_t n, const char *name, const char *key)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    size_t nn = 0;
    while (nn < n && s[nn] != ' ' && s[nn] != '\t')
        nn++;
    const char *k = s + nn;
    while (k < s + n && (*k == ' ' || *k == '\t'))
        k++;
    size_t kn = (size_t)(s + n - k);
    return nn == strlen(name) && memcmp(s, name, nn) == 0 &&
           kn == IPCN_KEY_TEXT_LEN && memcmp(k, key, kn) == 0;
}

IPCN_API int ipcn_trust_remove(const char *config_dir, const char *network,
                               const char *name_or_key)
{
    char dir[PATH_CAP], path[PATH_CAP];
    if (!name_or_key || !*name_or_key)
        return IPCN_BAD_REQUEST;
    int r = trust_path(config_dir, network, dir, path, sizeof path);
    if (r != IPCN_OK)
        return r;
    ipcn__trust_list t = {0};
    char *text;
    size_t len;
    mode_t mode;
    if ((r = trust_read(path, &t, &text, &len, &mode)) != IPCN_OK)
        return r;
    size_t at = t.count;
    for (size_t i = 0; i < t.count; i++)
        if (strcmp(t.hosts[i].name, name_or_key) == 0 ||
            strcmp(t.hosts[i].key, name_or_key) == 0)
            at = i;
    if (at == t.count) {
        r = IPCN_NOT_FOUND;
    } else {
        /* the text without that host's line */
        char *nt = ipcn__malloc(len + 1);
        size_t out = 0;
        if (!nt) {
            r = IPCN_INSUFFICIENT_MEMORY;
        } else {
            for (size_t off = 0; off < len;) {
                const char *nlp = memchr(text + off, '\n', len - off);
                size_t end = nlp ? (size_t)(nlp - text) + 1 : len;
                size_t ln = (nlp ? end - 1 : end) - off;
                if (!line_names(text + off, ln, t.hosts[at].name, t.hosts[at].key)) {
                    memcpy(nt + out, text + off, end - off);
                    out += end - off;
                }
                off = end;
            }
            r = replace_file(path, nt, out, mode);
            ipcn__free(nt);
        }
    }
    ipcn__trust_free(&t);
    ipcn__free(text);
    return r;
}

IPCN_API int ipcn_trust_list(const char *config_dir, const char *network,
                             ipcn_trusted **out, size_t *count)
{
    char dir[PATH_CAP], path[PATH_CAP];
    if (!out || !count)
        return IPCN_BAD_REQUEST;
    int r = trust_path(config_dir, network, dir, path, sizeof path);
    if (r != IPCN_OK)
        return r;
    ipcn__trust_list t = {0};
    r = ipcn__trust_load(path, &t);
    if (r == IPCN_NOT_FOUND)
        r = IPCN_OK;
    if (r != IPCN_OK)
        return r;
    ipcn_trusted *v = ipcn__calloc(t.count ? t.count : 1, sizeof *v);
    if (!v) {
        ipcn__trust_free(&t);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    if (t.count)
        memcpy(v, t.hosts, t.count * sizeof *v);
    *out = v;
    *count = t.count;
    ipcn__trust_free(&t);
    return IPCN_OK;
}

IPCN_API void ipcn_trust_list_free(ipcn_trusted *list)
{
    ipcn__free(list);
}

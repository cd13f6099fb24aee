/* SPDX-License-Identifier: MIT */
/*
 * cmd_dir.c — the verbs that read the network's directory: nodes, find,
 * info, graph.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cbor.h"
#include "cli.h"
#include "schema_text.h"
#include "util.h"

const char *cli_network_name(cli *c)
{
    const char *d = ipcn_node_dir(c->node);
    const char *slash = d ? strrchr(d, '/') : NULL;
    return slash ? slash + 1 : d ? d : "?";
}

/* Seconds since the process started, from /proc (same host, same pid
 * namespace as SO_PEERCRED's pid); -1 when unknown. */
static double process_uptime(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    /* Fields after the name start with field 3 (state); starttime is 22. */
    unsigned long long start = 0;
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
        if (++field == 22) {
            start = strtoull(tok, NULL, 10);
            break;
        }
    if (field != 22)
        return -1;
    double up = -1;
    f = fopen("/proc/uptime", "re");
    if (f) {
        if (fscanf(f, "%lf", &up) != 1)
            up = -1;
        fclose(f);
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (up < 0 || hz <= 0)
        return -1;
    double s = up - (double)start / (double)hz;
    return s < 0 ? 0 : s;
}

/* A criticality's word (NULL: none told). */
static const char *crit_word(uint32_t crit)
{
    switch (crit) {
    case IPCN_CRIT_OPTIONAL:
        return "optional";
    case IPCN_CRIT_IMPORTANT:
        return "important";
    case IPCN_CRIT_CRITICAL:
        return "critical";
    default:
        return NULL;
    }
}

int cli_list_peers(cli *c, ipcn_peer_list **pl)
{
    int st = ipcn_peers(c->node, pl);
    if (st != IPCN_OK)
        return cli_fail(st, "cannot list the peers");
    return 0;
}

/* A peer's principal in words: "name(uid)", its groups' names joined by
 * commas, and the first 12 hex digits of its executable's hash. */
typedef struct principal_text {
    ipcn_peer_info p;
    bool known;
    char user[80], uname[64], groups[512], sha[65];
} principal_text;

static void principal_text_of(const ipcn_peer_list *pl, size_t i,
                              principal_text *t)
{
    memset(t, 0, sizeof *t);
    t->p.size = sizeof t->p;
    t->known = ipcn_peer_list_get_info(pl, i, &t->p) == IPCN_OK;
    if (!t->known) {
        snprintf(t->user, sizeof t->user, "?");
        snprintf(t->groups, sizeof t->groups, "-");
        return;
    }
    struct passwd *pw = getpwuid((uid_t)t->p.uid);
    if (pw) {
        snprintf(t->uname, sizeof t->uname, "%s", pw->pw_name);
        snprintf(t->user, sizeof t->user, "%s(%d)", t->uname, t->p.uid);
    } else
        snprintf(t->user, sizeof t->user, "%d", t->p.uid);
    size_t len = 0;
    for (uint32_t g = 0; g < t->p.ngroups && len + 1 < sizeof t->groups; g++) {
        struct group *gr = getgrgid((gid_t)t->p.groups[g]);
        int k = gr ? snprintf(t->groups + len, sizeof t->groups - len, "%s%s",
                              g ? "," : "", gr->gr_name)
                   : snprintf(t->groups + len, sizeof t->groups - len, "%s%u",
                              g ? "," : "", t->p.groups[g]);
        if (k < 0 || (size_t)k >= sizeof t->groups - len)
            break;
        len += (size_t)k;
    }
    if (!len)
        snprintf(t->groups, sizeof t->groups, "-");
    if (t->p.exe_hashed)
        for (int k = 0; k < 32; k++)
            snprintf(t->sha + 2 * k, 3, "%02x", t->p.exe_sha256[k]);
}

static void principal_json(jw *j, const principal_text *t)
{
    jw_str(j, "user", t->uname[0] ? t->uname : NULL);
    if (!t->known) {
        jw_null(j, "groups");
        jw_null(j, "exe");
        jw_null(j, "exe_sha256");
        return;
    }
    jw_arr(j, "groups");
    for (uint32_t g = 0; g < t->p.ngroups; g++) {
        struct group *gr = getgrgid((gid_t)t->p.groups[g]);
        jw_obj(j, NULL);
        jw_uint(j, "gid", t->p.groups[g]);
        jw_str(j, "name", gr ? gr->gr_name : NULL);
        jw_end_obj(j);
    }
    jw_end_arr(j);
    jw_bool(j, "groups_truncated", t->p.groups_truncated != 0);
    jw_str(j, "exe", t->p.exe);
    jw_str(j, "exe_sha256", t->p.exe_hashed ? t->sha : NULL);
}

int cmd_nodes(cli *c)
{
    int rc;
    size_t only = SIZE_MAX; /* --node: the one item shown */
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    ipcn_peer_list *pl;
    if ((rc = cli_list_peers(c, &pl)))
        return rc;
    if (c->traffic) {
        rc = cmd_nodes_traffic(c, pl);
        ipcn_peer_list_free(pl);
        return rc;
    }
    if (c->only_node) { /* keep that one node only */
        size_t k = 0;
        for (size_t i = 0; i < pl->count; i++)
            if (!strcmp(pl->items[i].name, c->only_node))
                k = i + 1;
        if (!k) {
            ipcn_peer_list_free(pl);
            return cli_fail(IPCN_NOT_FOUND, "no node %s in the network",
                            c->only_node);
        }
        only = k - 1;
    }
    uint64_t now = now_mono_ns();
    size_t w = 4, uw = 4, gw = 6, hw = 5;
    principal_text *pt = calloc(pl->count ? pl->count : 1, sizeof *pt);
    if (!pt) {
        ipcn_peer_list_free(pl);
        return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < pl->count; i++) {
        if (only != SIZE_MAX && i != only)
            continue;
        principal_text_of(pl, i, &pt[i]);
        if (strlen(pl->items[i].name) > w)
            w = strlen(pl->items[i].name);
        if (strlen(cli_host_of(pl->items[i].name)) > hw)
            hw = strlen(cli_host_of(pl->items[i].name));
        if (strlen(pt[i].user) > uw)
            uw = strlen(pt[i].user);
        if (strlen(pt[i].groups) > gw)
            gw = strlen(pt[i].groups);
    }
    if (!c->json && pl->count)
        out("%-*s  %-*s  %-16s  %7s  %-9s  %-5s  %-*s  %-*s  %4s  %8s  %9s  %9s  %9s  %9s  %3s  %5s  %6s  %-12s  %s\n",
            (int)w, "NAME", (int)hw, "HOST", "ID", "PID", "CRIT", "READY", (int)uw, "USER", (int)gw, "GROUPS", "RES",
            "UPTIME", "FRAMES-IN", "FRAMES-OUT", "BYTES-IN", "BYTES-OUT", "BAD", "DROPS",
            "DENIED", "SHA256", "EXE");
    for (size_t i = 0; i < pl->count; i++) {
        if (only != SIZE_MAX && i != only)
            continue;
        const ipcn_peer *p = &pl->items[i];
        const principal_text *t = &pt[i];
        double up = process_uptime(p->pid);
        if (c->json) {
            jw j = {0};
            jw_obj(&j, NULL);
            jw_str(&j, "network", cli_network_name(c));
            jw_str(&j, "name", p->name);
            jw_str(&j, "host", *cli_host_of(p->name) ? cli_host_of(p->name)
                                                      : NULL);
            jw_hex64(&j, "id", p->id);
            jw_int(&j, "pid", p->pid);
            jw_int(&j, "uid", p->uid);
            jw_int(&j, "gid", p->gid);
            jw_str(&j, "criticality", t->known ? crit_word(t->p.criticality) : NULL);
            jw_bool(&j, "ready", t->known && t->p.ready);
            principal_json(&j, t);
            jw_uint(&j, "resources", p->resources);
            if (up >= 0)
                jw_double(&j, "uptime_s", up);
            else
                jw_null(&j, "uptime_s");
            jw_obj(&j, "link"); /* the counters of our own link to it */
            jw_str(&j, "from", c->node_name);
            jw_double(&j, "linked_s", (double)(now - p->linked_ns) / 1e9);
            jw_uint(&j, "frames_in", p->frames_in);
            jw_uint(&j, "frames_out", p->frames_out);
            jw_uint(&j, "bytes_in", p->bytes_in);
            jw_uint(&j, "bytes_out", p->bytes_out);
            jw_uint(&j, "bad_frames", p->bad_frames);
            jw_uint(&j, "drops", p->drops);
            jw_uint(&j, "denied", t->p.denied);
            jw_end_obj(&j);
            jw_end_obj(&j);
            emit(&j);
        } else {
            char ut[32], exe[512];
            fmt_duration(ut, sizeof ut, up);
            escape_line(exe, sizeof exe, t->p.exe ? t->p.exe : "-");
            const char *cw = t->known ? crit_word(t->p.criticality) : NULL;
            const char *host = cli_host_of(p->name);
            out("%-*s  %-*s  %016llx  %7d  %-9s  %-5s  %-*s  %-*s  %4u  %8s  %9llu  %10llu  %9llu  %9llu  %3llu  %5llu  %6llu  %-12.12s  %s\n",
                (int)w, p->name, (int)hw, *host ? host : "local",
                (unsigned long long)p->id, p->pid, cw ? cw : "-",
                t->known && t->p.ready ? "yes" : "no", (int)uw, t->user,
                (int)gw, t->groups, p->resources, ut, (unsigned long long)p->frames_in,
                (unsigned long long)p->frames_out, (unsigned long long)p->bytes_in,
                (unsigned long long)p->bytes_out, (unsigned long long)p->bad_frames,
                (unsigned long long)p->drops, (unsigned long long)t->p.denied,
                t->sha[0] ? t->sha : "-", exe);
        }
    }
    if (!c->json) {
        size_t shown = only != SIZE_MAX ? 1 : pl->count;
        if (shown)
            out("%zu node%s in network %s; counters are those of each node's link "
                "with this tool (%s); user, groups and executable are the kernel's "
                "word on each node's process\n",
                shown, shown == 1 ? "" : "s", cli_network_name(c), c->node_name);
        else
            out("no other node in network %s (%s)\n", cli_network_name(c),
                ipcn_node_dir(c->node));
    }
    free(pt);
    ipcn_peer_list_free(pl);
    out_flush();
    return 0;
}

static int parse_kind(cli *c, ipcn_kind *k)
{
    *k = IPCN_ANY;
    if (!c->kind || !strcmp(c->kind, "any"))
        return 0;
    if (!strcmp(c->kind, "data"))
        *k = IPCN_DATA;
    else if (!strcmp(c->kind, "stream"))
        *k = IPCN_STREAM;
    else if (!strcmp(c->kind, "service"))
        *k = IPCN_SERVICE;
    else
        return cli_usage_error(c->verb, "--kind takes data, stream, service or any, not '%s'",
                               c->kind);
    return 0;
}

int cli_find(cli *c, const char *pattern, ipcn_kind kind, ipcn_resource_list **rl)
{
    int st = ipcn_find(c->node, pattern, kind, rl);
    if (st == IPCN_BAD_REQUEST)
        return cli_fail(st, "invalid pattern '%s' (segments separated by '/', "
                            "'*' for one segment, '**' for any number)", pattern);
    if (st != IPCN_OK)
        return cli_fail(st, "find %s failed", pattern);
    return 0;
}

int cmd_find(cli *c)
{
    /* No pattern: the whole network, whatever the namespace. */
    const char *pattern = c->npos ? c->pos[0] : "/**";
    ipcn_kind kind;
    int rc;
    if ((rc = parse_kind(c, &kind)))
        return rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    ipcn_resource_list *rl;
    if ((rc = cli_find(c, pattern, kind, &rl)))
        return rc;
    size_t wp = 4, we = 8, wk = 7, wv = 8;
    for (size_t i = 0; i < rl->count; i++) {
        size_t a = strlen(rl->items[i].path), b = strlen(rl->items[i].encoding);
        size_t v = strlen(rl->items[i].provider);
        wp = a > wp ? a : wp;
        we = b > we ? b : we;
        wv = v > wv ? v : wv;
    }
    if (!c->json && rl->count)
        out("%-*s  %-*s  %-*s  %-*s  %s\n", (int)wp, "PATH", (int)wk, "KIND",
            (int)we, "ENCODING", (int)wv, "PROVIDER", "HOST");
    for (size_t i = 0; i < rl->count; i++) {
        const ipcn_resource *r = &rl->items[i];
        if (c->json) {
            jw j = {0};
            jw_obj(&j, NULL);
            jw_str(&j, "path", r->path);
            jw_str(&j, "kind", kind_name(r->kind));
            jw_str(&j, "encoding", r->encoding);
            jw_str(&j, "provider", r->provider);
            jw_str(&j, "host", *cli_host_of(r->provider)
                                   ? cli_host_of(r->provider) : NULL);
            jw_hex64(&j, "provider_id", r->provider_id);
            jw_uint(&j, "version", r->version);
            jw_uint(&j, "meta_size", r->meta_len);
            jw_end_obj(&j);
            emit(&j);
        } else {
            const char *host = cli_host_of(r->provider);
            out("%-*s  %-*s  %-*s  %-*s  %s\n", (int)wp, r->path, (int)wk,
                kind_name(r->kind), (int)we, *r->encoding ? r->encoding : "-",
                (int)wv, r->provider, *host ? host : "local");
        }
    }
    if (!c->json && !rl->count)
        fprintf(stderr, "no %s%sresource matches '%s' in network %s\n",
                kind ? kind_name(kind) : "", kind ? " " : "", pattern, cli_network_name(c));
    ipcn_resource_list_free(rl);
    out_flush();
    return 0;
}

static int peer_pid(cli *c, uint64_t id)
{
    ipcn_peer_list *pl;
    int pid = -1;
    if (id == ipcn_node_id(c->node))
        return (int)getpid();
    if (ipcn_peers(c->node, &pl) == IPCN_OK) {
        for (size_t i = 0; i < pl->count; i++)
            if (pl->items[i].id == id)
                pid = pl->items[i].pid;
        ipcn_peer_list_free(pl);
    }
    return pid;
}

/* The types a descriptor declares, as trees (schema_text.h): a data or
 * stream resource's "schema", a typed service's "args" and "returns". */
static void info_types(const ipcn_resource *r, const jval *meta)
{
    static const char *const svc[] = {"args", "returns"};
    const char *const data[] = {"schema"};
    bool service = r->kind == IPCN_SERVICE;
    const char *const *keys = service ? svc : data;
    for (size_t i = 0; meta && i < (service ? 2u : 1u); i++) {
        const jval *t = jget(meta, keys[i]);
        if (!t)
            continue;
        sbuf b = {0};
        schema_tree(&b, t, 0);
        /* The first line beside its label, the rest under it. */
        out("%-10s", keys[i]);
        for (size_t k = 0; k < b.len; k++)
            out(b.p[k] == '\n' && k + 1 < b.len ? "\n          " : "%c", b.p[k]);
        sb_free(&b);
    }
}

int cmd_info(cli *c)
{
    const char *path = c->pos[0];
    int rc;
    /* Not discover(path): a service may have several providers, and info
     * shows each. */
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    ipcn_resource_list *rl;
    int st = ipcn_find(c->node, path, IPCN_ANY, &rl);
    if (st != IPCN_OK)
        return cli_fail(st, st == IPCN_BAD_REQUEST ? "invalid path '%s'" : "info %s failed",
                        path);
    if (!rl->count) {
        ipcn_resource_list_free(rl);
        return cli_fail(IPCN_NOT_FOUND, "no provider for %s", path);
    }
    for (size_t i = 0; i < rl->count; i++) {
        const ipcn_resource *r = &rl->items[i];
        int pid = peer_pid(c, r->provider_id);
        jval *meta = NULL;
        bool cbor = r->meta_len && cbor_to_json(r->meta, r->meta_len, &meta) == 0;
        if (c->json) {
            jw j = {0};
            jw_obj(&j, NULL);
            jw_str(&j, "path", r->path);
            jw_str(&j, "kind", kind_name(r->kind));
            jw_str(&j, "encoding", r->encoding);
            jw_str(&j, "provider", r->provider);
            jw_hex64(&j, "provider_id", r->provider_id);
            if (pid > 0)
                jw_int(&j, "provider_pid", pid);
            else
                jw_null(&j, "provider_pid");
            jw_uint(&j, "version", r->version);
            if (cbor)
                jw_val(&j, "meta", meta);
            else
                jw_null(&j, "meta");
            jw_uint(&j, "meta_size", r->meta_len);
            sbuf hx = {0};
            for (size_t k = 0; k < r->meta_len; k++)
                sb_printf(&hx, "%02x", ((const unsigned char *)r->meta)[k]);
            jw_strn(&j, "meta_hex", hx.p ? hx.p : "", hx.len);
            sb_free(&hx);
            /* The declared type of a data or stream resource (its meta's
             * "schema"), null when untyped. */
            const jval *type = r->kind != IPCN_SERVICE && cbor
                                   ? schema_of_meta(meta) : NULL;
            if (type)
                jw_val(&j, "schema", type);
            else
                jw_null(&j, "schema");
            jw_end_obj(&j);
            emit(&j);
        } else {
            if (i)
                out("\n");
            out("path      %s\n", r->path);
            out("kind      %s\n", kind_name(r->kind));
            out("encoding  %s\n", *r->encoding ? r->encoding : "(unknown)");
            if (pid > 0)
                out("provider  %s (id %016llx, pid %d)\n", r->provider,
                    (unsigned long long)r->provider_id, pid);
            else
                out("provider  %s (id %016llx)\n", r->provider,
                    (unsigned long long)r->provider_id);
            out("version   %llu\n", (unsigned long long)r->version);
            if (!r->meta_len) {
                out("metadata  (none)\n");
            } else if (cbor) {
                sbuf b = {0};
                json_write(&b, meta, json_fits(meta, 60) ? -1 : 2);
                /* Indent continuation lines under the first. */
                out("metadata  ");
                for (size_t k = 0; k < b.len; k++)
                    out(b.p[k] == '\n' ? "\n          " : "%c", b.p[k]);
                out("\n          (CBOR, %zu bytes)\n", r->meta_len);
                sb_free(&b);
            } else {
                out("metadata  %zu bytes, not CBOR, xxh3 %016llx:", r->meta_len,
                    (unsigned long long)hash64(r->meta, r->meta_len));
                for (size_t k = 0; k < r->meta_len && k < 64; k++)
                    out("%s%02x", k % 16 ? " " : "\n          ",
                        ((const unsigned char *)r->meta)[k]);
                out("%s\n", r->meta_len > 64 ? " ..." : "");
            }
            info_types(r, cbor ? meta : NULL);
        }
        json_free(meta);
    }
    ipcn_resource_list_free(rl);
    out_flush();
    return 0;
}


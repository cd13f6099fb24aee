/* SPDX-License-Identifier: MIT */
/*
 * cmd_policy.c — `ipcnet policy check FILE` and `ipcnet policy explain`.
 *
 * No public call reads a policy file, so this verb uses the library's
 * policy layer itself (src/policy/, compiled into the tool with every
 * symbol hidden: see tools/CMakeLists.txt): the very code a node runs,
 * never a second reading of the format.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "policy/policy.h"
#include "util/util.h"

const char cmd_policy_help[] =
    "usage: ipcnet policy check FILE [--strict]\n"
    "       ipcnet policy explain [--policy FILE] --as WHO VERB PATH [options]\n\n"
    "check: read FILE as a node reads the network's policy and print\n"
    "'FILE: ok (N rules, M groups, default P)' and a line for each of its\n"
    "limits, reputation, detect and debug sections, or 'FILE:LINE: reason' for the\n"
    "first thing wrong (a policy is taken whole or refused whole).  check looks\n"
    "at the content only; with --strict also at the owner and mode rule a node\n"
    "applies (a regular file, not a symbolic link, owned by root or by you,\n"
    "writable by nobody else).  Exit 0 ok, 1 refused.\n\n"
    "explain: decide whether WHO may do VERB (read, write, execute, provide)\n"
    "on PATH under the policy and print the decision (100 allowed, 202 refused,\n"
    "201 the deciding rule needs what is not known of WHO), the rule that\n"
    "decided (its line, verbs, who and what) and why; under 'default: audit'\n"
    "also what 'deny' would have done.  Exit 0 allowed, 1 refused, 2 bad\n"
    "usage or a policy that does not load.\n\n"
    "With --json each prints one JSON document: check {file, ok, rules,\n"
    "groups, default, limits, reputation, detect, components,\n"
    "debug_liveness_ms} (or {file, ok:\n"
    "false, status, error}); explain {status, allowed, verb, path, policy, as,\n"
    "rule: {line, kind, verbs, who, what} or null, default, why, audited,\n"
    "would}.\n\n"
    "  --policy FILE   the policy (default: $IPCNET_POLICY, else policy.yaml in\n"
    "                  the network's directory, see --network and --dir)\n"
    "  --as WHO        the principal, one of:\n"
    "                    user:NAME|UID   a user as the passwd and group files\n"
    "                                    say (uid, primary and supplementary\n"
    "                                    groups; no node name, no executable)\n"
    "                    node:NAME       a live node of the network: this tool\n"
    "                                    joins it and takes the node's uid, gid,\n"
    "                                    pid, groups, executable and its SHA-256\n"
    "                                    as its link took them from the kernel\n"
    "                                    (what the link could not read stays\n"
    "                                    unknown, as for the nodes)\n"
    "                    'uid:N gid:N [groups:N,N,..] [node:NAME] [exe:PATH]\n"
    "                     [sha256:HEX]'  a principal described field by field\n"
    "                                    (it starts with uid:; gid is required)\n"
    "                    'host:HOST user:NAME [node:NAME@HOST]'\n"
    "                                    a node of another host: its host's\n"
    "                                    name, its user's name there (no uid,\n"
    "                                    groups or executable: a rule that\n"
    "                                    needs them decides 201)\n"
    "  --strict        (check) the owner and mode rule too\n";

#define POLICY_WHY 1024

/* The network's policy file: $IPCNET_POLICY, else <network dir>/policy.yaml
 * with the network directory found as ipcn_node_open() finds it. */
static int default_policy(cli *c, char *buf, size_t n)
{
    const char *env = getenv("IPCNET_POLICY");
    if (env && *env)
        return snprintf(buf, n, "%s", env) < (int)n ? 0 : -1;
    const char *net = c->network ? c->network : getenv("IPCNET_NETWORK");
    if (!net || !*net)
        net = "default";
    const char *base = c->dir ? c->dir : getenv("IPCNET_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int k;
    if (base && *base)
        k = snprintf(buf, n, "%s/%s/policy.yaml", base, net);
    else if (xdg && *xdg)
        k = snprintf(buf, n, "%s/ipcnet/%s/policy.yaml", xdg, net);
    else
        k = snprintf(buf, n, "/tmp/ipcnet-%u/%s/policy.yaml",
                     (unsigned)getuid(), net);
    return k > 0 && (size_t)k < n ? 0 : -1;
}

/* Read a policy: the content always, the owner and mode rule when strict.
 * Prints why (on stderr; with --json also as a document) and returns -1
 * when it does not load. */
static int load(cli *c, const char *file, bool strict, ipcn__policy **p)
{
    char why[POLICY_WHY];
    int st;
    if (strict) {
        st = ipcn__policy_load(file, -1, p, why, sizeof why);
    } else {
        sbuf b = {0};
        if (read_file(file, &b) < 0) {
            snprintf(why, sizeof why, "%s: %s", file, strerror(errno));
            st = IPCN_NOT_FOUND;
        } else {
            st = ipcn__policy_parse(b.p ? b.p : "", b.len, file, p, why,
                                    sizeof why);
        }
        sb_free(&b);
    }
    if (st != IPCN_OK) {
        fprintf(stderr, "%s\n", why);
        if (c->json) {
            jw j = {0};
            jw_obj(&j, NULL);
            jw_str(&j, "file", file);
            jw_bool(&j, "ok", false);
            jw_int(&j, "status", st);
            jw_str(&j, "error", why);
            jw_end_obj(&j);
            emit(&j);
        }
        return -1;
    }
    return 0;
}

/* A duration in the unit the policy file would use for it. */
static const char *ms_text(uint64_t ms, char *buf, size_t n)
{
    if (ms && ms % 3600000 == 0)
        snprintf(buf, n, "%lluh", (unsigned long long)(ms / 3600000));
    else if (ms && ms % 60000 == 0)
        snprintf(buf, n, "%llumin", (unsigned long long)(ms / 60000));
    else if (ms && ms % 1000 == 0)
        snprintf(buf, n, "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(buf, n, "%llums", (unsigned long long)ms);
    return buf;
}

/* check's lines on the guard sections the file has (none: nothing). */
static void check_guard(const ipcn__guard *g)
{
    char a[24], b[24], d[24];
    static const char *const follows[] = {"never", "trusted", "agree", "any"};
    static const char *const actions[] = {"report", "isolate", "shutdown"};
    if (g->nlimits)
        out("  limits: %u\n", g->nlimits);
    if (g->rep.enabled) {
        const ipcn__reputation_cfg *r = &g->rep;
        out("  reputation: quarantine below %d for %s (doubling, up to %s), "
            "ban below %d, half-life %s; follow reports: %s",
            (int)r->quarantine_below, ms_text(r->quarantine_ms, a, sizeof a),
            ms_text(r->quarantine_max_ms, b, sizeof b), (int)r->ban_below,
            ms_text(r->half_life_ms, d, sizeof d), follows[r->follow]);
        if (r->follow == IPCN__FOLLOW_AGREE)
            out(" (%u)", r->agree);
        out("; %u whitelisted, %u blacklisted, %u trusted\n", r->nwhite,
            r->nblack, r->ntrusted);
    }
    if (g->detect.enabled) {
        const ipcn__detect_cfg *t = &g->detect;
        out("  detect: action %s; %u violation%s within %s", actions[t->action],
            t->violations, t->violations == 1 ? "" : "s",
            ms_text(t->violations_ms, a, sizeof a));
        if (t->anomaly_factor > 0)
            out("; anomaly %gx for %s", t->anomaly_factor,
                ms_text(t->anomaly_ms, b, sizeof b));
        out("; %u component%s\n", t->ncomponents,
            t->ncomponents == 1 ? "" : "s");
    }
    if (g->debug_liveness_ms && g->debug_all)
        out("  debug: every node is waited for up to %s when silent\n",
            ms_text(g->debug_liveness_ms, a, sizeof a));
    else if (g->debug_liveness_ms)
        out("  debug: a node may ask its peers to wait up to %s for it "
            "(IPCNET_DEBUG_LIVENESS)\n", ms_text(g->debug_liveness_ms, a, sizeof a));
}

static int policy_check(cli *c)
{
    if (c->npos != 2)
        return cli_usage_error("policy", c->npos < 2 ? "check: missing FILE"
                                                     : "check takes one FILE");
    if (c->as || c->policy)
        return cli_usage_error("policy", "check takes neither --as nor --policy");
    ipcn__policy *p = NULL;
    if (load(c, c->pos[1], c->strict, &p) < 0)
        return EXIT_FAIL;
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "file", c->pos[1]);
        jw_bool(&j, "ok", true);
        jw_uint(&j, "rules", p->nrules);
        jw_uint(&j, "groups", p->ngroups);
        jw_str(&j, "default", ipcn__profile_name(p->profile));
        jw_uint(&j, "limits", p->guard.nlimits);
        jw_bool(&j, "reputation", p->guard.rep.enabled);
        jw_bool(&j, "detect", p->guard.detect.enabled);
        jw_uint(&j, "components", p->guard.detect.ncomponents);
        jw_uint(&j, "debug_liveness_ms", p->guard.debug_liveness_ms);
        jw_end_obj(&j);
        emit(&j);
        ipcn__policy_free(p);
        return EXIT_OK;
    }
    out("%s: ok (%u rule%s, %u group%s, default %s)\n", c->pos[1], p->nrules,
        p->nrules == 1 ? "" : "s", p->ngroups, p->ngroups == 1 ? "" : "s",
        ipcn__profile_name(p->profile));
    check_guard(&p->guard);
    ipcn__policy_free(p);
    return EXIT_OK;
}

/* ---- the principal ---- */

static void add_group(ipcn__principal *w, uint32_t g)
{
    for (uint32_t i = 0; i < w->ngroups; i++)
        if (w->groups[i] == g)
            return;
    if (w->ngroups < IPCN_PRINCIPAL_MAX_GROUPS)
        w->groups[w->ngroups++] = g;
    else
        w->groups_truncated = true;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool parse_u32(const char *s, uint32_t *v)
{
    if (!all_digits(s))
        return false;
    errno = 0;
    unsigned long x = strtoul(s, NULL, 10);
    if (errno || x > 0x7fffffffUL)
        return false;
    *v = (uint32_t)x;
    return true;
}

/* user:NAME|UID, from the passwd and group databases. */
static int as_user(const char *v, ipcn__principal *w)
{
    struct passwd *pw;
    uint32_t uid;
    pw = parse_u32(v, &uid) ? getpwuid(uid) : getpwnam(v);
    if (!pw)
        return cli_usage_error("policy", "--as user:%s: no such user", v);
    w->uid = (int32_t)pw->pw_uid;
    w->gid = (int32_t)pw->pw_gid;
    w->creds_known = true;
    gid_t gl[256];
    int n = 256;
    if (getgrouplist(pw->pw_name, pw->pw_gid, gl, &n) < 0) {
        n = 256;
        w->groups_truncated = true;
    }
    for (int i = 0; i < n; i++)
        add_group(w, (uint32_t)gl[i]);
    return 0;
}

/* node:NAME, a live node of the network: its principal as this tool's link
 * took it from the kernel (ipcn_peer_list_get_info()): uid, gid, pid,
 * supplementary groups, executable and its SHA-256, the same facts a node
 * linked to it decides by (no /proc of this tool's own: the API has every
 * field, and an executable the link could not read stays unknown, as for
 * the nodes, so that a rule naming it gives 201 here too). */
static int as_node(cli *c, const char *v, ipcn__principal *w, char *exe,
                   size_t n)
{
    int rc;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)))
        return rc;
    ipcn_peer_list *pl = NULL;
    int st = ipcn_peers(c->node, &pl);
    if (st != IPCN_OK)
        return cli_fail(st, "cannot list the peers");
    size_t i = 0;
    while (i < pl->count && strcmp(pl->items[i].name, v))
        i++;
    ipcn_peer_info pp = {.size = sizeof pp};
    st = i < pl->count ? ipcn_peer_list_get_info(pl, i, &pp)
                       : IPCN_NOT_FOUND;
    if (st != IPCN_OK) {
        ipcn_peer_list_free(pl);
        return cli_fail(st, "no live node %s in the network", v);
    }
    w->pid = pp.pid;
    w->uid = pp.uid;
    w->gid = pp.gid;
    w->creds_known = true;
    w->node_id = pl->items[i].id;
    for (uint32_t g = 0; g < pp.ngroups; g++)
        add_group(w, pp.groups[g]);
    w->groups_truncated = w->groups_truncated || pp.groups_truncated;
    if (pp.exe && strlen(pp.exe) < n) {
        strcpy(exe, pp.exe);
        w->exe = exe;
        w->exe_hashed = pp.exe_hashed != 0;
        memcpy(w->exe_sha256, pp.exe_sha256, sizeof w->exe_sha256);
    }
    ipcn_peer_list_free(pl);
    w->name = (char *)v;
    return 0;
}

static int hexval(int ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* 'host:HOST user:NAME node:NAME@HOST': a principal of another host, as a
 * TCP or routed link gives it (policy.h): no uid, groups or executable. */
static int as_remote(char *text, ipcn__principal *w)
{
    char *save = NULL;
    w->uid = w->gid = -1;
    for (char *t = strtok_r(text, " \t", &save); t;
         t = strtok_r(NULL, " \t", &save)) {
        char *v = strchr(t, ':');
        if (!v || !v[1])
            return cli_usage_error("policy", "--as: '%s' is not KEY:VALUE", t);
        *v++ = 0;
        if (!strcmp(t, "host") && !w->host)
            w->host = v;
        else if (!strcmp(t, "user") && !w->user)
            w->user = v;
        else if (!strcmp(t, "node") && !w->name)
            w->name = v;
        else
            return cli_usage_error("policy", "--as: '%s:%s' is not one of "
                                   "host:HOST, user:NAME, node:NAME@HOST", t, v);
    }
    if (!w->host || !w->user)
        return cli_usage_error("policy", "--as: a node of another host needs "
                               "host:HOST and user:NAME");
    return 0;
}

/* 'uid:N gid:N groups:N,N node:NAME exe:PATH sha256:HEX'. */
static int as_fields(char *text, ipcn__principal *w)
{
    char *save = NULL;
    bool have_gid = false;
    for (char *t = strtok_r(text, " \t", &save); t;
         t = strtok_r(NULL, " \t", &save)) {
        char *v = strchr(t, ':');
        if (!v)
            return cli_usage_error("policy", "--as: '%s' is not KEY:VALUE", t);
        *v++ = 0;
        uint32_t x;
        if (!strcmp(t, "uid") && parse_u32(v, &x)) {
            w->uid = (int32_t)x;
            w->creds_known = true;
        } else if (!strcmp(t, "gid") && parse_u32(v, &x)) {
            w->gid = (int32_t)x;
            have_gid = true;
        } else if (!strcmp(t, "groups")) {
            char *s2 = NULL;
            for (char *g = strtok_r(v, ",", &s2); g; g = strtok_r(NULL, ",", &s2)) {
                if (!parse_u32(g, &x))
                    return cli_usage_error("policy", "--as groups: '%s' is not a "
                                           "group id", g);
                add_group(w, x);
            }
        } else if (!strcmp(t, "node") && *v) {
            w->name = v;
        } else if (!strcmp(t, "exe") && v[0] == '/') {
            w->exe = v;
        } else if (!strcmp(t, "sha256") && strlen(v) == 64) {
            for (int i = 0; i < 32; i++) {
                int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
                if (hi < 0 || lo < 0)
                    return cli_usage_error("policy", "--as sha256: 64 hex digits");
                w->exe_sha256[i] = (uint8_t)(hi << 4 | lo);
            }
            w->exe_hashed = true;
        } else {
            return cli_usage_error("policy", "--as: '%s:%s' is not one of uid:N, "
                                   "gid:N, groups:N,N, node:NAME, exe:/PATH, "
                                   "sha256:HEX", t, v);
        }
    }
    if (!w->creds_known || !have_gid)
        return cli_usage_error("policy", "--as: a description needs uid:N and "
                               "gid:N");
    return 0;
}

static void print_principal(const ipcn__principal *w)
{
    if (w->host) {
        out("as:      host %s, user %s, node %s (of another host: no uid, "
            "groups or executable)\n", w->host, w->user,
            w->name ? w->name : "-");
        return;
    }
    out("as:      uid %d, gid %d, groups ", (int)w->uid, (int)w->gid);
    for (uint32_t i = 0; i < w->ngroups; i++)
        out("%s%u", i ? "," : "", w->groups[i]);
    out("%s%s", w->ngroups ? "" : "-", w->groups_truncated ? ",..." : "");
    out(", node %s, exe %s, sha256 %s\n", w->name ? w->name : "-",
        w->exe ? w->exe : "-", w->exe_hashed ? "known" : "-");
}

/* "deny write who [any] what [motors/cmd]" */
static void print_rule(const char *file, const ipcn__rule *r)
{
    out("rule:    %s:%u: %s ", file, r->line, r->deny ? "deny" : "allow");
    if (r->verbs == IPCN__V_ALL) {
        out("all");
    } else {
        bool first = true;
        for (uint32_t v = 1; v <= IPCN__V_PROVIDE; v <<= 1)
            if (r->verbs & v) {
                out("%s%s", first ? "" : ",", ipcn__verb_name(v));
                first = false;
            }
    }
    out(" who [");
    for (uint32_t i = 0; i < r->nwho; i++) {
        char buf[1024];
        ipcn__selector_format(&r->who[i], buf, sizeof buf);
        out("%s\"%s\"", i ? ", " : "", buf);
    }
    out("] what [");
    for (uint32_t i = 0; i < r->nwhat; i++)
        out("%s%s", i ? ", " : "", r->what[i]);
    out("]\n");
}

static void json_explain(const char *file, const ipcn__policy *p,
                         const ipcn__principal *w, uint32_t verb,
                         const char *path, const ipcn__decision *d)
{
    jw j = {0};
    jw_obj(&j, NULL);
    jw_int(&j, "status", d->status);
    jw_bool(&j, "allowed", d->status == IPCN_OK);
    jw_str(&j, "verb", ipcn__verb_name(verb));
    jw_str(&j, "path", path);
    jw_str(&j, "policy", file);
    jw_obj(&j, "as");
    jw_str(&j, "host", w->host);
    jw_str(&j, "user", w->user);
    jw_int(&j, "uid", w->uid);
    jw_int(&j, "gid", w->gid);
    jw_arr(&j, "groups");
    for (uint32_t i = 0; i < w->ngroups; i++)
        jw_uint(&j, NULL, w->groups[i]);
    jw_end_arr(&j);
    jw_str(&j, "node", w->name);
    jw_str(&j, "exe", w->exe);
    jw_bool(&j, "sha256_known", w->exe_hashed);
    jw_end_obj(&j);
    if (d->rule >= 0) {
        const ipcn__rule *r = &p->rules[d->rule];
        jw_obj(&j, "rule");
        jw_uint(&j, "line", r->line);
        jw_str(&j, "kind", r->deny ? "deny" : "allow");
        jw_arr(&j, "verbs");
        for (uint32_t v = 1; v <= IPCN__V_PROVIDE; v <<= 1)
            if (r->verbs & v)
                jw_str(&j, NULL, ipcn__verb_name(v));
        jw_end_arr(&j);
        jw_arr(&j, "who");
        for (uint32_t i = 0; i < r->nwho; i++) {
            char buf[1024];
            ipcn__selector_format(&r->who[i], buf, sizeof buf);
            jw_str(&j, NULL, buf);
        }
        jw_end_arr(&j);
        jw_arr(&j, "what");
        for (uint32_t i = 0; i < r->nwhat; i++)
            jw_str(&j, NULL, r->what[i]);
        jw_end_arr(&j);
        jw_end_obj(&j);
    } else {
        jw_null(&j, "rule");
    }
    jw_str(&j, "default", ipcn__profile_name(p->profile));
    jw_str(&j, "why", d->why);
    jw_bool(&j, "audited", d->audited);
    if (d->audited)
        jw_int(&j, "would", d->would);
    jw_end_obj(&j);
    emit(&j);
}

static int policy_explain(cli *c)
{
    if (c->npos != 3)
        return cli_usage_error("policy", "explain takes VERB and PATH");
    if (!c->as)
        return cli_usage_error("policy", "explain needs --as WHO");
    const char *vname = c->pos[1], *path = c->pos[2];
    uint32_t verb = ipcn__verb_parse(vname);
    if (!verb || verb == IPCN__V_ALL)
        return cli_usage_error("policy", "'%s' is not a verb (read, write, "
                               "execute, provide)", vname);
    if (ipcn__path_check(path, strlen(path)) != IPCN_OK)
        return cli_usage_error("policy", "'%s' is not a resource path", path);

    ipcn__principal w = {0};
    char exe[4096], *desc = NULL;
    int rc;
    if (!strncmp(c->as, "user:", 5) && !strchr(c->as, ' ')) {
        rc = as_user(c->as + 5, &w);
    } else if (!strncmp(c->as, "node:", 5) && !strchr(c->as, ' ')) {
        rc = as_node(c, c->as + 5, &w, exe, sizeof exe);
    } else if (!strncmp(c->as, "uid:", 4)) {
        if (!(desc = strdup(c->as)))
            return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
        rc = as_fields(desc, &w);
    } else if (!strncmp(c->as, "host:", 5)) {
        if (!(desc = strdup(c->as)))
            return cli_fail(IPCN_INSUFFICIENT_MEMORY, "out of memory");
        rc = as_remote(desc, &w);
    } else {
        rc = cli_usage_error("policy", "--as takes user:NAME, node:NAME, "
                             "'uid:N ...' or 'host:HOST user:NAME', not '%s'",
                             c->as);
    }
    if (rc) {
        free(desc);
        return rc == EXIT_FAIL ? EXIT_USAGE : rc;
    }

    char deffile[4096];
    const char *file = c->policy;
    if (!file) {
        if (default_policy(c, deffile, sizeof deffile) < 0) {
            free(desc);
            return cli_usage_error("policy", "the policy file's path is too long");
        }
        file = deffile;
    }
    ipcn__policy *p = NULL;
    if (load(c, file, false, &p) < 0) {
        free(desc);
        return EXIT_USAGE;
    }
    /* Content only, as for check; but say when a node would refuse it. */
    char why[POLICY_WHY];
    ipcn__policy *strict = NULL;
    int st = ipcn__policy_load(file, -1, &strict, why, sizeof why);
    if (st == IPCN_FORBIDDEN)
        cli_warn("%s (a node run by this user would refuse the file)", why);
    ipcn__policy_free(strict);

    ipcn__decision d;
    st = ipcn__policy_decide(p, NULL, &w, verb, path, strlen(path), &d);
    if (c->json) {
        json_explain(file, p, &w, verb, path, &d);
        ipcn__policy_free(p);
        free(desc);
        return st == IPCN_OK ? EXIT_OK : EXIT_FAIL;
    }
    out("%s: %d %s\n", st == IPCN_OK ? "allowed" : "refused", st,
        ipcn_status_str(st));
    out("verb:    %s %s\n", ipcn__verb_name(verb), path);
    print_principal(&w);
    if (d.rule >= 0)
        print_rule(file, &p->rules[d.rule]);
    else
        out("rule:    none (%s: default %s)\n", file,
            ipcn__profile_name(p->profile));
    out("why:     %s\n", d.why);
    if (d.audited)
        out("audit:   deny would have refused it: %d %s (logged and counted)\n",
            d.would, ipcn_status_str(d.would));
    ipcn__policy_free(p);
    free(desc);
    return st == IPCN_OK ? EXIT_OK : EXIT_FAIL;
}

int cmd_policy(cli *c)
{
    if (c->npos < 1)
        return cli_usage_error("policy", "missing check or explain");
    if (!strcmp(c->pos[0], "check"))
        return policy_check(c);
    if (!strcmp(c->pos[0], "explain")) {
        if (c->strict)
            return cli_usage_error("policy", "--strict is an option of check");
        return policy_explain(c);
    }
    return cli_usage_error("policy", "'%s': check or explain", c->pos[0]);
}

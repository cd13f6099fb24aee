/* SPDX-License-Identifier: MIT */
/*
 * manifest_comp.c — one component of a launch manifest (manifest_impl.h;
 * docs/manifest.md, "A component"): its command, node, directory,
 * environment, criticality, dependencies and sections (restart, health,
 * trial, shutdown, safe_state), with their defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_impl.h"
#include "util/util.h"

#define ENV_MAX 256u
#define ENV_KEY_MAX 128u

/* ---- the sections of a component ---- */

static int read_command(mctx *x, sup_component *k, const ipcn__yn *v)
{
    char w[128];
    WHAT(w, k, "command");
    if (v->kind != IPCN__Y_SEQ)
        return ipcn__pl_fail(&x->c, v->line,
                             "%s: a list of words expected ([program, arg, "
                             "...]: no shell), not %s",
                             w, sup__mf_kind(v));
    ipcn__items items;
    const ipcn__yn *one;
    uint32_t n;
    int st = ipcn__pl_list(&x->c, v, w, &items, &n, &one);
    if (st != IPCN_OK)
        return st;
    if (!(k->argv = calloc(n + 1, sizeof *k->argv)))
        return sup__mf_oom(x);
    for (uint32_t i = 0; i < n; i++) {
        if (!(k->argv[i] = sup__mf_strdup(items[i]->text)))
            return sup__mf_oom(x);
        k->argc++;
    }
    return IPCN_OK;
}

static bool env_key_ok(const char *s, size_t len)
{
    if (!len || len > ENV_KEY_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int read_env(mctx *x, sup_component *k, const ipcn__yn *v)
{
    static const char *const reserved[] = {
        "IPCNET_COMPONENT",         "IPCNET_ROBOT",       "IPCNET_CRITICALITY",
        "IPCNET_COMPONENT_VERSION", "IPCNET_VERSION_DIR", NULL};
    char w[128];
    WHAT(w, k, "env");
    int st = sup__mf_map(x, v, w);
    if (st != IPCN_OK)
        return st;
    uint32_t n = v->nkid / 2;
    if (n > ENV_MAX)
        return ipcn__pl_fail(&x->c, v->line, "%s: more than %u variables", w,
                             ENV_MAX);
    if (!(k->env = calloc(n + 1, sizeof *k->env)))
        return sup__mf_oom(x);
    for (uint32_t i = 0; i < n; i++) {
        const ipcn__yn *key = v->kid[2 * i], *val = v->kid[2 * i + 1];
        if (key->kind != IPCN__Y_SCALAR || !env_key_ok(key->text, key->len))
            return ipcn__pl_fail(&x->c, key->line,
                                 "%s: a variable's name is 1 to %u of A-Z "
                                 "a-z 0-9 _, not starting with a digit",
                                 w, ENV_KEY_MAX);
        for (const char *const *r = reserved; *r; r++)
            if (!strcmp(*r, key->text))
                return ipcn__pl_fail(&x->c, key->line,
                                     "%s: %s is set by the supervisor", w,
                                     key->text);
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(v->kid[2 * j]->text, key->text))
                return ipcn__pl_fail(&x->c, key->line, "%s: %s given twice", w,
                                     key->text);
        if (val->kind != IPCN__Y_SCALAR)
            return ipcn__pl_fail(&x->c, val->line,
                                 "%s: %s: a value expected, not %s", w,
                                 key->text, sup__mf_kind(val));
        size_t len = key->len + 1 + val->len + 1;
        if (!(k->env[i] = malloc(len)))
            return sup__mf_oom(x);
        snprintf(k->env[i], len, "%s=%s", key->text, val->text);
        k->nenv++;
    }
    return IPCN_OK;
}

int sup__mf_find(const sup_manifest *m, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(m->comps[i].name, name))
            return (int)i;
    return -1;
}

static int read_deps(mctx *x, sup_component *k, size_t self, const ipcn__yn *v)
{
    char w[128];
    WHAT(w, k, "depends_on");
    ipcn__items items;
    const ipcn__yn *one;
    uint32_t n;
    int st = ipcn__pl_list(&x->c, v, w, &items, &n, &one);
    if (st != IPCN_OK)
        return st;
    if (!(k->deps = calloc(n, sizeof *k->deps)) ||
        !(x->deplines[self] = calloc(n, sizeof **x->deplines)))
        return sup__mf_oom(x);
    for (uint32_t i = 0; i < n; i++) {
        const ipcn__yn *it = items[i];
        sup_dep *d = &k->deps[i];
        const char *name = it->text;
        if (!strncmp(it->text, "resource:", 9)) {
            name += 9;
            if (ipcn__pattern_check(name, strlen(name)) != IPCN_OK)
                return ipcn__pl_fail(&x->c, it->line,
                                     "%s: \"%.60s\" is not a resource "
                                     "pattern (segments separated by /, "
                                     "each a name, * or **)",
                                     w, name);
            d->resource = true;
        } else {
            int j = sup__mf_find(x->m, x->m->ncomps, name);
            if (j < 0)
                return ipcn__pl_fail(&x->c, it->line,
                                     "%s: no component \"%.64s\" (a "
                                     "resource is \"resource:PATTERN\")",
                                     w, name);
            if ((size_t)j == self)
                return ipcn__pl_fail(&x->c, it->line,
                                     "%s: a component cannot depend on "
                                     "itself",
                                     w);
            d->index = (size_t)j;
        }
        for (uint32_t q = 0; q < i; q++)
            if (!strcmp(items[q]->text, it->text))
                return ipcn__pl_fail(&x->c, it->line,
                                     "%s: \"%.64s\" given "
                                     "twice",
                                     w, it->text);
        if (!(d->name = sup__mf_strdup(name)))
            return sup__mf_oom(x);
        x->deplines[self][i] = it->line;
        k->ndeps++;
    }
    return IPCN_OK;
}

/* A section's map, its keys checked; NULL section: nothing to read. */
static int section(mctx *x, const sup_component *k, const ipcn__yn *v,
                   const char *key, const char *const *keys)
{
    char w[128];
    WHAT(w, k, key);
    int st = sup__mf_map(x, v, w);
    return st == IPCN_OK ? ipcn__pl_keys(&x->c, v, w, keys) : st;
}

/* A number of a section, when it is there. */
static int opt_u32(mctx *x, const sup_component *k, const ipcn__yn *map,
                   const char *sec, const char *key, uint32_t lo, uint32_t hi,
                   uint32_t *out)
{
    const ipcn__yn *v = ipcn__pl_get(map, key);
    if (!v)
        return IPCN_OK;
    char w[160];
    snprintf(w, sizeof w, "component \"%s\": %s: %s", k->name, sec, key);
    return sup__mf_u32(x, v, w, lo, hi, out);
}

static int read_restart(mctx *x, sup_component *k, const ipcn__yn *v)
{
    static const char *const keys[] = {
        "when",       "strategy",       "intensity", "period_ms",
        "backoff_ms", "backoff_max_ms", NULL};
    static const sup_mf_word whens[] = {{"on-failure", SUP_RESTART_ON_FAILURE},
                                        {"always", SUP_RESTART_ALWAYS},
                                        {"never", SUP_RESTART_NEVER},
                                        {NULL, 0}};
    static const sup_mf_word strategies[] = {{"one_for_one", SUP_ONE_FOR_ONE},
                                             {"rest_for_one", SUP_REST_FOR_ONE},
                                             {NULL, 0}};
    int st = section(x, k, v, "restart", keys), val;
    const ipcn__yn *e;
    char w[128];
    if (st == IPCN_OK && (e = ipcn__pl_get(v, "when"))) {
        WHAT(w, k, "restart: when");
        if ((st = sup__mf_word(x, e, w, whens, &val)) == IPCN_OK)
            k->when = (sup_restart_when)val;
    }
    if (st == IPCN_OK && (e = ipcn__pl_get(v, "strategy"))) {
        WHAT(w, k, "restart: strategy");
        if ((st = sup__mf_word(x, e, w, strategies, &val)) == IPCN_OK)
            k->strategy = (sup_strategy)val;
    }
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "restart", "intensity", 0, 1000, &k->intensity);
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "restart", "period_ms", 1, SUP_MF_DAY,
                     &k->period_ms);
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "restart", "backoff_ms", 1, SUP_MF_HOUR,
                     &k->backoff_ms);
    if (st != IPCN_OK)
        return st;
    /* the cap's default never undercuts a longer first delay */
    if (!ipcn__pl_get(v, "backoff_max_ms") && k->backoff_max_ms < k->backoff_ms)
        k->backoff_max_ms = k->backoff_ms;
    if ((st = opt_u32(x, k, v, "restart", "backoff_max_ms", 1, SUP_MF_HOUR,
                      &k->backoff_max_ms)) != IPCN_OK)
        return st;
    if (k->backoff_max_ms < k->backoff_ms)
        return ipcn__pl_fail(&x->c, ipcn__pl_get(v, "backoff_max_ms")->line,
                             "component \"%s\": restart: backoff_max_ms (%u) "
                             "is below backoff_ms (%u)",
                             k->name, k->backoff_max_ms, k->backoff_ms);
    return IPCN_OK;
}

static int read_health(mctx *x, sup_component *k, const ipcn__yn *v)
{
    static const char *const keys[] = {"service", "interval_ms", "timeout_ms",
                                       NULL};
    int st = section(x, k, v, "health", keys);
    if (st != IPCN_OK)
        return st;
    const ipcn__yn *s = ipcn__pl_get(v, "service");
    char w[128];
    WHAT(w, k, "health: service");
    if (!s)
        return ipcn__pl_fail(&x->c, v->line,
                             "%s: is missing (the service "
                             "to request)",
                             w);
    if ((st = sup__mf_service(x, s, w, &k->health_service)) != IPCN_OK ||
        (st = opt_u32(x, k, v, "health", "interval_ms", 10, SUP_MF_HOUR,
                      &k->health_interval_ms)) != IPCN_OK)
        return st;
    if (!ipcn__pl_get(v, "timeout_ms") &&
        k->health_timeout_ms > k->health_interval_ms)
        k->health_timeout_ms = k->health_interval_ms;
    if ((st = opt_u32(x, k, v, "health", "timeout_ms", 1, SUP_MF_HOUR,
                      &k->health_timeout_ms)) != IPCN_OK)
        return st;
    if (k->health_timeout_ms > k->health_interval_ms)
        return ipcn__pl_fail(&x->c, ipcn__pl_get(v, "timeout_ms")->line,
                             "component \"%s\": health: timeout_ms (%u) is "
                             "longer than interval_ms (%u)",
                             k->name, k->health_timeout_ms,
                             k->health_interval_ms);
    return IPCN_OK;
}

static int read_trial(mctx *x, sup_component *k, const ipcn__yn *v)
{
    static const char *const keys[] = {"tries", "bless_after_ms", NULL};
    int st = section(x, k, v, "trial", keys);
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "trial", "tries", 1, 100, &k->tries);
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "trial", "bless_after_ms", 0, SUP_MF_DAY,
                     &k->bless_after_ms);
    return st;
}

static int read_shutdown(mctx *x, sup_component *k, const ipcn__yn *v)
{
    static const char *const keys[] = {"phase", "deadline_ms", "kill_after_ms",
                                       NULL};
    static const sup_mf_word phases[] = {{"producer", SUP_PHASE_PRODUCER},
                                         {"consumer", SUP_PHASE_CONSUMER},
                                         {"rest", SUP_PHASE_REST},
                                         {NULL, 0}};
    int st = section(x, k, v, "shutdown", keys), val;
    const ipcn__yn *e;
    if (st == IPCN_OK && (e = ipcn__pl_get(v, "phase"))) {
        char w[128];
        WHAT(w, k, "shutdown: phase");
        if ((st = sup__mf_word(x, e, w, phases, &val)) == IPCN_OK)
            k->phase = (sup_phase)val;
    }
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "shutdown", "deadline_ms", 1, 600000,
                     &k->stop_deadline_ms);
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "shutdown", "kill_after_ms", 1, 600000,
                     &k->kill_after_ms);
    return st;
}

static int read_safe(mctx *x, sup_component *k, const ipcn__yn *v)
{
    static const char *const keys[] = {"deadline_ms", "request", NULL};
    int st = section(x, k, v, "safe_state", keys);
    const ipcn__yn *r;
    k->has_safe_state = true;
    if (st == IPCN_OK)
        st = opt_u32(x, k, v, "safe_state", "deadline_ms", 1, 600000,
                     &k->safe_deadline_ms);
    if (st == IPCN_OK && (r = ipcn__pl_get(v, "request"))) {
        char w[128];
        WHAT(w, k, "safe_state: request");
        st = sup__mf_service(x, r, w, &k->safe_request);
    }
    return st;
}

/* ---- a component ---- */

void sup__mf_defaults(sup_component *k)
{
    k->criticality = IPCN_CRIT_IMPORTANT;
    k->ready_timeout_ms = 10000;
    k->when = SUP_RESTART_ON_FAILURE;
    k->strategy = SUP_ONE_FOR_ONE;
    k->intensity = 5;
    k->period_ms = 30000;
    k->backoff_ms = 100;
    k->backoff_max_ms = 5000;
    k->health_interval_ms = 1000;
    k->health_timeout_ms = 500;
    k->tries = 3;
    k->bless_after_ms = 10000;
    k->phase = SUP_PHASE_REST;
    k->stop_deadline_ms = 2000;
    k->kill_after_ms = 1000;
    k->safe_deadline_ms = 3000;
}

static int read_node(mctx *x, sup_component *k, size_t self, const ipcn__yn *v)
{
    char w[128];
    WHAT(w, k, "node");
    if (v) {
        int st = sup__mf_name(x, v, w, SUP_NAME_MAX);
        if (st != IPCN_OK)
            return st;
    }
    if (!(k->node = sup__mf_strdup(v ? v->text : k->name)))
        return sup__mf_oom(x);
    uint32_t line = v ? v->line : k->line;
    if (!strncmp(k->node, "sup.", 4) && !strcmp(k->node + 4, x->m->robot))
        return ipcn__pl_fail(&x->c, line,
                             "%s: \"%s\" is the supervisor's own node name", w,
                             k->node);
    for (size_t j = 0; j < self; j++)
        if (!strcmp(x->m->comps[j].node, k->node))
            return ipcn__pl_fail(&x->c, line,
                                 "%s: \"%s\" is also the node of component "
                                 "\"%s\" (line %u)",
                                 w, k->node, x->m->comps[j].name,
                                 x->m->comps[j].line);
    return IPCN_OK;
}

static int read_where(mctx *x, sup_component *k, const ipcn__yn *v)
{
    const ipcn__yn *ver = ipcn__pl_get(v, "versioned"),
                   *dir = ipcn__pl_get(v, "dir"), *trial;
    char w[128];
    int st;
    WHAT(w, k, "versioned");
    if (ver && (st = sup__mf_bool(x, ver, w, &k->versioned)) != IPCN_OK)
        return st;
    WHAT(w, k, "dir");
    if (dir && k->versioned)
        return ipcn__pl_fail(&x->c, dir->line,
                             "%s: not with versioned: true (the command runs "
                             "from its version directory)",
                             w);
    if (!(k->dir = sup__mf_strdup(x->m->dir)))
        return sup__mf_oom(x);
    if (dir && (st = sup__mf_path(x, dir, w, &k->dir)) != IPCN_OK)
        return st;
    if ((trial = ipcn__pl_get(v, "trial")) && !k->versioned)
        return ipcn__pl_fail(&x->c, trial->line,
                             "component \"%s\": trial: only for a component "
                             "with versioned: true",
                             k->name);
    return IPCN_OK;
}

int sup__mf_comp(mctx *x, size_t self, const ipcn__yn *v)
{
    static const char *const keys[] = {
        "command",     "node",       "versioned",        "dir",     "env",
        "criticality", "depends_on", "ready_timeout_ms", "restart", "health",
        "trial",       "shutdown",   "safe_state",       NULL};
    static const sup_mf_word crits[] = {{"critical", IPCN_CRIT_CRITICAL},
                                        {"important", IPCN_CRIT_IMPORTANT},
                                        {"optional", IPCN_CRIT_OPTIONAL},
                                        {NULL, 0}};
    sup_component *k = &x->m->comps[self];
    char w[128];
    snprintf(w, sizeof w, "component \"%s\"", k->name);
    if (v->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(&x->c, v->line,
                             "%s: a mapping expected (command, node, "
                             "criticality, ...), not %s",
                             w, sup__mf_kind(v));
    int st = ipcn__pl_keys(&x->c, v, w, keys), val;
    const ipcn__yn *e;
    if (st != IPCN_OK)
        return st;
    if (!(e = ipcn__pl_get(v, "command")))
        return ipcn__pl_fail(&x->c, k->line, "%s: command: is missing", w);
    if ((st = read_command(x, k, e)) != IPCN_OK ||
        (st = read_node(x, k, self, ipcn__pl_get(v, "node"))) != IPCN_OK ||
        (st = read_where(x, k, v)) != IPCN_OK)
        return st;
    if ((e = ipcn__pl_get(v, "env")) && (st = read_env(x, k, e)) != IPCN_OK)
        return st;
    if (!k->env && !(k->env = calloc(1, sizeof *k->env)))
        return sup__mf_oom(x);
    if ((e = ipcn__pl_get(v, "criticality"))) {
        WHAT(w, k, "criticality");
        if ((st = sup__mf_word(x, e, w, crits, &val)) != IPCN_OK)
            return st;
        k->criticality = (ipcn_criticality)val;
    }
    if ((e = ipcn__pl_get(v, "depends_on")) &&
        (st = read_deps(x, k, self, e)) != IPCN_OK)
        return st;
    if ((e = ipcn__pl_get(v, "ready_timeout_ms"))) {
        WHAT(w, k, "ready_timeout_ms");
        if ((st = sup__mf_u32(x, e, w, 1, SUP_MF_HOUR, &k->ready_timeout_ms)) !=
            IPCN_OK)
            return st;
    }
    static const struct {
        const char *key;
        int (*read)(mctx *, sup_component *, const ipcn__yn *);
    } sections[] = {{"restart", read_restart},
                    {"health", read_health},
                    {"trial", read_trial},
                    {"shutdown", read_shutdown},
                    {"safe_state", read_safe}};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if ((e = ipcn__pl_get(v, sections[i].key)) &&
            (st = sections[i].read(x, k, e)) != IPCN_OK)
            return st;
    return IPCN_OK;
}

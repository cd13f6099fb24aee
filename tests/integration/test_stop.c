/* SPDX-License-Identifier: MIT */
/*
 * test_stop.c — the ordered shutdown (tools/supervisor/stop.c) over a real
 * network: components are helper processes (helpers/stop_comp.c), the
 * test is the supervisor (its node "sup"), the manifest is built here.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "stop.h"
#include "testutil.h"

#define MAXC 8

typedef struct fixture {
    ipcn_node *sup;
    sup_manifest m;
    sup_component comps[MAXC];
    size_t order[MAXC];
    sup_dep deps[MAXC][MAXC];
    sup_proc procs[MAXC];
    char log[300];
} fixture;

static fixture F;

/* Component i called name, in phase, started after those before it. */
static sup_component *comp(size_t i, const char *name, sup_phase phase)
{
    sup_component *c = &F.comps[i];
    memset(c, 0, sizeof *c);
    c->name = c->node = (char *)name;
    c->criticality = IPCN_CRIT_IMPORTANT;
    c->phase = phase;
    c->stop_deadline_ms = 2000;
    c->kill_after_ms = 1000;
    c->safe_deadline_ms = 3000;
    c->deps = F.deps[i];
    F.order[i] = i;
    if (F.m.ncomps < i + 1)
        F.m.ncomps = i + 1;
    return c;
}

static void depend(size_t i, size_t on)
{
    sup_component *c = &F.comps[i];
    c->deps[c->ndeps++] = (sup_dep){.name = F.comps[on].name, .index = on};
}

static int pidfd_open_(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static bool peer_linked(const char *name)
{
    ipcn_peer_list *pl = NULL;
    bool found = false;
    if (ipcn_peers(F.sup, &pl) == IPCN_OK)
        for (size_t i = 0; i < pl->count; i++)
            found = found || !strcmp(pl->items[i].name, name);
    ipcn_peer_list_free(pl);
    return found;
}

/* Start component i's process with flags (NULL-terminated) and wait until
 * its node is linked to "sup". */
static void start(size_t i, ...)
{
    const char *args[16] = {F.comps[i].node, F.log};
    int k = 2;
    va_list ap;
    va_start(ap, i);
    const char *a;
    while ((a = va_arg(ap, const char *)) && k < 15)
        args[k++] = a;
    va_end(ap);
    args[k] = NULL;
    pid_t pid = tu_spawn("stop_comp", args);
    assert_true(pid > 0);
    F.procs[i] = (sup_proc){.c = &F.comps[i], .pid = pid,
                            .pidfd = pidfd_open_(pid), .child = true};
    assert_true(F.procs[i].pidfd >= 0);
    uint64_t end = tu_now_ms() + 20000;
    while (!peer_linked(F.comps[i].node)) {
        assert_true(tu_now_ms() < end);
        ipcn_node_dispatch(F.sup, 20);
    }
}

static bool gone(size_t i)
{
    struct pollfd p = {.fd = F.procs[i].pidfd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static const sup_stop_item *item_of(const sup_stop_report *rep,
                                    const char *name, int phase)
{
    for (size_t i = 0; i < rep->count; i++)
        if (!strcmp(rep->items[i].component, name) &&
            rep->items[i].phase == phase)
            return &rep->items[i];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    F.m.comps = F.comps;
    F.m.order = F.order;
    F.m.robot = (char *)"test";
    snprintf(F.log, sizeof F.log, "%s/log.%d", tu_net_dir(), (int)getpid());
    unlink(F.log);
    for (size_t i = 0; i < MAXC; i++)
        F.procs[i].pidfd = -1;
    assert_int_equal(ipcn_node_open(&F.sup, "sup", NULL), IPCN_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* What a failed test left running (by its pidfd: a pid the shutdown
     * reaped may be another process's by now). */
    for (size_t i = 0; i < MAXC; i++) {
        if (F.procs[i].pidfd < 0)
            continue;
        if (!gone(i)) {
            syscall(SYS_pidfd_send_signal, F.procs[i].pidfd, SIGKILL, NULL, 0);
            waitpid(F.procs[i].pid, NULL, 0);
        } else {
            waitpid(F.procs[i].pid, NULL, WNOHANG);
        }
        close(F.procs[i].pidfd);
    }
    ipcn_node_close(F.sup);
    unlink(F.log);
    return 0;
}

/* A component with no stop handler is sent SIGTERM at once and goes; one
 * that ignores SIGTERM is killed after kill_after_ms, and named; the whole
 * run stays within the sum of the deadlines. */
static void test_term_then_kill_named(void **state)
{
    (void)state;
    comp(0, "polite", SUP_PHASE_REST);
    sup_component *s = comp(1, "stubborn", SUP_PHASE_REST);
    s->stop_deadline_ms = 300;
    s->kill_after_ms = 400;
    start(0, NULL);
    start(1, "ignore-term", NULL);
    sup_stop_report rep;
    assert_int_equal(sup_stop_run(F.sup, &F.m, F.procs, 2, "test", &rep),
                     IPCN_OK);
    sup_stop_print(&rep, false);
    assert_false(rep.clean);
    const sup_stop_item *p = item_of(&rep, "polite", 4);
    const sup_stop_item *k = item_of(&rep, "stubborn", 4);
    assert_non_null(p);
    assert_non_null(k);
    assert_int_equal(k->outcome, SUP_OUT_KILLED);
    /* no handler (103), or a library without the service (203) */
    assert_true(p->status == IPCN_NO_DATA || p->status == IPCN_NOT_FOUND);
    assert_int_equal(p->outcome, SUP_OUT_TERMINATED);
    assert_true(gone(0));
    assert_true(gone(1));
    /* reaped: no child left */
    assert_int_equal(waitpid(F.procs[0].pid, NULL, WNOHANG), -1);
    /* bounded: the sum of every deadline, plus the wait after SIGKILL */
    uint32_t bound = 2000 + 1000 + 300 + 400 + 500 + 1000 /* slack */;
    printf("shutdown took %u ms (bound %u ms)\n", rep.total_ms, bound);
    assert_true(rep.total_ms <= bound);
    /* the report travels as CBOR and comes back the same */
    void *cbor = NULL;
    size_t len = 0;
    assert_int_equal(sup_stop_report_encode(&rep, &cbor, &len), IPCN_OK);
    sup_stop_report back;
    assert_int_equal(sup_stop_report_decode(cbor, len, &back), IPCN_OK);
    assert_int_equal(back.count, rep.count);
    assert_int_equal(back.clean, rep.clean);
    assert_int_equal(back.total_ms, rep.total_ms);
    for (size_t i = 0; i < rep.count; i++) {
        assert_string_equal(back.items[i].component, rep.items[i].component);
        assert_int_equal(back.items[i].phase, rep.items[i].phase);
        assert_int_equal(back.items[i].outcome, rep.items[i].outcome);
        assert_int_equal(back.items[i].status, rep.items[i].status);
        assert_int_equal(back.items[i].ms, rep.items[i].ms);
    }
    assert_int_equal(sup_stop_report_decode(cbor, len - 1, &back),
                     IPCN_BAD_REQUEST);
    free(cbor);
    free(back.items);
    free(rep.items);
}

/* A compromised component is killed before anything else and asked
 * nothing; the others then stop as usual. */
static void test_compromised_isolated_first(void **state)
{
    (void)state;
    comp(0, "camera", SUP_PHASE_PRODUCER);
    comp(1, "rogue", SUP_PHASE_CONSUMER);
    comp(2, "planner", SUP_PHASE_REST);
    depend(1, 0);
    depend(2, 1);
    start(0, NULL);
    start(1, "ignore-term", NULL);
    start(2, NULL);
    F.procs[1].compromised = true;
    sup_stop_report rep;
    assert_int_equal(sup_stop_run(F.sup, &F.m, F.procs, 3, "compromise",
                                  &rep), IPCN_OK);
    sup_stop_print(&rep, false);
    assert_true(rep.count == 3);
    assert_string_equal(rep.items[0].component, "rogue");
    assert_int_equal(rep.items[0].phase, 0);
    assert_int_equal(rep.items[0].outcome, SUP_OUT_ISOLATED);
    assert_int_equal(rep.items[0].status, 0); /* never asked */
    assert_null(item_of(&rep, "rogue", SUP_PHASE_CONSUMER));
    assert_string_equal(rep.items[1].component, "camera");
    assert_string_equal(rep.items[2].component, "planner");
    for (size_t i = 0; i < 3; i++)
        assert_true(gone(i));
    assert_false(rep.clean); /* a compromise is never a clean shutdown */
    /* the rogue got no SIGTERM it could see: it ignored it anyway, and
     * it never logged past "up" */
    free(rep.items);
}

/* A component not running is reported so, and nothing is sent to it. */
static void test_not_running(void **state)
{
    (void)state;
    comp(0, "absent", SUP_PHASE_REST)->has_safe_state = true;
    F.procs[0] = (sup_proc){.c = &F.comps[0], .pid = 0, .pidfd = -1};
    sup_stop_report rep;
    assert_int_equal(sup_stop_run(F.sup, &F.m, F.procs, 1, NULL, &rep),
                     IPCN_OK);
    assert_int_equal(rep.count, 2);
    assert_int_equal(rep.items[0].phase, 1);
    assert_int_equal(rep.items[0].outcome, SUP_OUT_NOT_RUNNING);
    assert_int_equal(rep.items[1].outcome, SUP_OUT_NOT_RUNNING);
    assert_true(rep.clean);
    free(rep.items);
    assert_int_equal(sup_stop_run(NULL, &F.m, F.procs, 1, NULL, &rep),
                     IPCN_BAD_REQUEST);
}

/* ---- the log the components write ---- */

/* The time stamp (ns) of the first line "<ns> node what..." in the log,
 * or 0. */
static uint64_t logged(const char *node, const char *what)
{
    FILE *f = fopen(F.log, "r");
    if (!f)
        return 0;
    char line[512], pre[200];
    snprintf(pre, sizeof pre, " %s %s", node, what);
    uint64_t at = 0;
    while (!at && fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        if (sp && !strncmp(sp, pre, strlen(pre)) &&
            (sp[strlen(pre)] == ' ' || sp[strlen(pre)] == '\n'))
            at = strtoull(line, NULL, 10);
    }
    fclose(f);
    return at;
}

/* The phases run in order: every safe state (one confirmed late, with
 * ipcn_shutdown_done()) before any stop; producers, then consumers, then
 * the rest, each in reverse dependency order; each told its phase. */
static void test_phases_in_order(void **state)
{
    (void)state;
    comp(0, "base", SUP_PHASE_REST)->has_safe_state = true;
    comp(1, "arm", SUP_PHASE_REST)->has_safe_state = true;
    comp(2, "camera", SUP_PHASE_PRODUCER);
    comp(3, "detector", SUP_PHASE_CONSUMER);
    comp(4, "planner", SUP_PHASE_REST);
    depend(1, 0);
    depend(3, 2);
    depend(4, 1);
    depend(4, 3);
    start(0, "safe", "stop", NULL);
    start(1, "safe-late=200", "stop", NULL);
    start(2, "stop", NULL);
    start(3, "stop", NULL);
    start(4, "stop", NULL);
    sup_stop_report rep;
    assert_int_equal(sup_stop_run(F.sup, &F.m, F.procs, 5, "end of shift",
                                  &rep), IPCN_OK);
    sup_stop_print(&rep, false);
    assert_true(rep.clean);
    assert_int_equal(rep.count, 7);
    for (size_t i = 0; i < rep.count; i++) {
        assert_int_equal(rep.items[i].outcome, SUP_OUT_DONE);
        assert_int_equal(rep.items[i].status, IPCN_OK);
    }
    for (size_t i = 0; i < 5; i++)
        assert_true(gone(i));
    uint64_t safe_base = logged("base", "safe_state 1");
    uint64_t safe_arm = logged("arm", "safe_state confirmed");
    uint64_t s_cam = logged("camera", "stop 2"), s_det = logged("detector", "stop 3");
    uint64_t s_plan = logged("planner", "stop 4"), s_arm = logged("arm", "stop 4");
    uint64_t s_base = logged("base", "stop 4");
    assert_true(safe_base && safe_arm && s_cam && s_det && s_plan && s_arm &&
                s_base);
    uint64_t safe_last = safe_base > safe_arm ? safe_base : safe_arm;
    assert_true(safe_last < s_cam);         /* safe states first */
    assert_true(s_cam < s_det);             /* producers, then consumers */
    assert_true(s_det < s_plan);            /* then the rest: */
    assert_true(s_plan < s_arm);            /* dependents first */
    assert_true(s_arm < s_base);
    /* the report is in the order they ran */
    assert_int_equal(rep.items[0].phase, 1);
    assert_int_equal(rep.items[1].phase, 1);
    assert_string_equal(rep.items[2].component, "camera");
    assert_string_equal(rep.items[3].component, "detector");
    assert_string_equal(rep.items[4].component, "planner");
    assert_string_equal(rep.items[5].component, "arm");
    assert_string_equal(rep.items[6].component, "base");
    free(rep.items);
}

/* A component that answers its stop but stays, and ignores SIGTERM, is
 * killed and named; one that never confirms its safe state is named as
 * having missed it; the whole is bounded by the sum of the deadlines. */
static void test_ignored_stop_killed_named(void **state)
{
    (void)state;
    sup_component *a = comp(0, "slowsafe", SUP_PHASE_REST);
    a->has_safe_state = true;
    a->safe_deadline_ms = 300;
    sup_component *s = comp(1, "stubborn", SUP_PHASE_REST);
    s->stop_deadline_ms = 300;
    s->kill_after_ms = 300;
    start(0, "safe-late=60000", "stop", NULL);
    start(1, "stop-ignore", "ignore-term", NULL);
    sup_stop_report rep;
    assert_int_equal(sup_stop_run(F.sup, &F.m, F.procs, 2, "test", &rep),
                     IPCN_OK);
    sup_stop_print(&rep, false);
    assert_false(rep.clean);
    const sup_stop_item *m = item_of(&rep, "slowsafe", 1);
    const sup_stop_item *k = item_of(&rep, "stubborn", 4);
    assert_non_null(m);
    assert_non_null(k);
    assert_int_equal(m->outcome, SUP_OUT_MISSED);
    assert_int_equal(m->status, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(k->outcome, SUP_OUT_KILLED);
    assert_int_equal(k->status, IPCN_OK); /* it said yes, and stayed */
    assert_int_equal(item_of(&rep, "slowsafe", 4)->outcome, SUP_OUT_DONE);
    assert_true(logged("stubborn", "stop 4"));
    assert_true(gone(0));
    assert_true(gone(1));
    uint32_t bound = 300 + (2000 + 1000) + (300 + 300 + 500) + 1000;
    printf("shutdown took %u ms (bound %u ms)\n", rep.total_ms, bound);
    assert_true(rep.total_ms <= bound);
    free(rep.items);
}

/* The supervisor's own "system/shutdown" in this test: it would run the
 * shutdown; here it notes that it was called. */
static int shutdown_called;
static int on_system_shutdown(ipcn_node *n, const ipcn_msg *req,
                              ipcn_reply_ctx *ctx, void *user)
{
    (void)n, (void)req, (void)ctx, (void)user;
    shutdown_called++;
    return IPCN_OK;
}

/* Only the node "ops" may EXECUTE system/shutdown (the components are
 * denied it): a component gets 202 from the supervisor's service and from
 * another component's @sys/<node>/shutdown, and nothing stops. */
static void test_no_permission(void **state)
{
    (void)state;
    char policy[400];
    snprintf(policy, sizeof policy, "%s/stop-policy.yaml", tu_net_dir());
    FILE *f = fopen(policy, "w");
    assert_non_null(f);
    fputs("version: 1\n"
          "default: allow\n"
          "groups:\n"
          "  components: [\"node:arm\", \"node:rogue\", \"node:intruder\"]\n"
          "rules:\n"
          "  - deny: execute\n"
          "    who: \"group:components\"\n"
          "    what: \"system/shutdown\"\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(policy, 0644), 0);
    setenv("IPCNET_POLICY", policy, 1);
    /* the supervisor's node reads the policy when it opens */
    ipcn_node_close(F.sup);
    assert_int_equal(ipcn_node_open(&F.sup, "sup", NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(F.sup, "system/shutdown", "cbor",
                                on_system_shutdown, NULL), IPCN_OK);
    comp(0, "arm", SUP_PHASE_REST)->has_safe_state = true;
    comp(1, "rogue", SUP_PHASE_REST);
    start(0, "safe", "stop", NULL);
    start(1, "ask=system/shutdown", "ask=@sys/arm/shutdown", NULL);
    uint64_t end = tu_now_ms() + 30000;
    while (!logged("rogue", "asked @sys/arm/shutdown")) {
        assert_true(tu_now_ms() < end);
        ipcn_node_dispatch(F.sup, 20);
    }
    assert_true(logged("rogue", "asked system/shutdown 202"));
    assert_true(logged("rogue", "asked @sys/arm/shutdown 202"));
    assert_int_equal(shutdown_called, 0);
    assert_false(logged("arm", "stop"));
    assert_false(logged("arm", "safe_state"));
    assert_false(gone(0));
    assert_false(gone(1));
    /* a node denied it that runs the shutdown driver itself is refused
     * by every component, and then signals nothing either */
    ipcn_node *intruder = NULL;
    assert_int_equal(ipcn_node_open(&intruder, "intruder", NULL), IPCN_OK);
    end = tu_now_ms() + 20000;
    while (ipcn_node_wait_synced(intruder, 10) != IPCN_OK) {
        assert_true(tu_now_ms() < end);
        ipcn_node_dispatch(F.sup, 10); /* it is in the network too */
    }
    sup_stop_report rep;
    assert_int_equal(sup_stop_run(intruder, &F.m, F.procs, 2, "rogue", &rep),
                     IPCN_OK);
    sup_stop_print(&rep, false);
    assert_false(rep.clean);
    assert_int_equal(item_of(&rep, "arm", 1)->outcome, SUP_OUT_FAILED);
    assert_int_equal(item_of(&rep, "arm", 1)->status, IPCN_FORBIDDEN);
    assert_int_equal(item_of(&rep, "arm", 4)->outcome, SUP_OUT_FAILED);
    assert_int_equal(item_of(&rep, "arm", 4)->status, IPCN_FORBIDDEN);
    free(rep.items);
    ipcn_node_close(intruder);
    assert_false(logged("arm", "stop"));
    assert_false(logged("arm", "safe_state"));
    assert_false(gone(0));
    /* the supervisor itself may: the same shutdown then runs */
    assert_int_equal(sup_stop_run(F.sup, &F.m, F.procs, 2, "ops", &rep),
                     IPCN_OK);
    assert_int_equal(item_of(&rep, "arm", 1)->outcome, SUP_OUT_DONE);
    assert_int_equal(item_of(&rep, "arm", 4)->outcome, SUP_OUT_DONE);
    free(rep.items);
    unsetenv("IPCNET_POLICY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_phases_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ignored_stop_killed_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_term_then_kill_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compromised_isolated_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_running, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

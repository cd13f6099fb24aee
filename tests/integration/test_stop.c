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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_term_then_kill_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compromised_isolated_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_running, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

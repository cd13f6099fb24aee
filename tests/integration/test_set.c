/* SPDX-License-Identifier: MIT */
/*
 * test_set.c — ipcn_set(): the value of a data resource set by another
 * process (a forked provider) and by the provider's own node: the new
 * value in queries and in subscribers' samples, the version (the value's
 * seq) and 207 on a stale one, a provider's check that sees the value and
 * its setter and refuses some, the encoding rule without a check, and the
 * statuses of a set of a stream, a service, nothing, and bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "ipcnet.h"
#include "v_util.h"
#include "v_verbs.h"

/* ------------------------------------------------------------------ */
/* The provider, in a process of its own                               */
/* ------------------------------------------------------------------ */

/* The check of ps/checked: tells what it saw on ps/seen ("value|encoding|
 * setter"), then refuses "refuse" (202) and "app" (an application code),
 * accepts the rest. */
static int provider_check(ipcn_node *n, const char *path, const ipcn_msg *v,
                          const char *encoding, void *user)
{
    (void)user;
    char seen[256];
    int k = snprintf(seen, sizeof seen, "%.*s|%s|%s|%s", (int)v->len,
                     (const char *)v->data, encoding, v->src_name, path);
    ipcn_publish(n, "ps/seen", seen, (size_t)k);
    if (v->len == 6 && !memcmp(v->data, "refuse", 6))
        return IPCN_FORBIDDEN;
    if (v->len == 3 && !memcmp(v->data, "app", 3))
        return 1042;
    return IPCN_OK;
}

static void provider_main(void)
{
    ipcn_node *n = NULL;
    ipcn_node_opts o = slow_heartbeat(); /* test_set_given_up stops it */
    if (ipcn_node_open(&n, "psp", &o) != IPCN_OK)
        _exit(2);
    int ok = ipcn_announce(n, "ps/plain", IPCN_DATA, "text/plain", NULL, 0) ==
                 IPCN_CREATED &&
             ipcn_announce(n, "ps/checked", IPCN_DATA, "text/plain", NULL, 0) ==
                 IPCN_CREATED &&
             ipcn_announce(n, "ps/seen", IPCN_DATA, "text/plain", NULL, 0) ==
                 IPCN_CREATED &&
             ipcn_announce(n, "ps/stream", IPCN_STREAM, NULL, NULL, 0) ==
                 IPCN_CREATED &&
             ipcn_offer(n, "ps/svc", NULL, dummy_handler, NULL) == IPCN_OK &&
             ipcn_data_on_set(n, "ps/checked", provider_check, NULL) ==
                 IPCN_OK &&
             ipcn_publish(n, "ps/plain", "v1", 2) == IPCN_OK &&
             ipcn_node_start_thread(n) == IPCN_OK;
    if (!ok)
        _exit(3);
    sleep(30); /* killed by the teardown long before */
    _exit(0);
}

static pid_t start_provider(ipcn_node *n)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        provider_main();
    v_track_pid(pid);
    if (!v_wait_count(n, "ps/**", IPCN_ANY, 5, V_WAIT_MS))
        fail_msg("the provider did not show up");
    return pid;
}

static char *query_text(ipcn_node *n, const char *path, uint64_t *seq)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(n, path, &m, V_WAIT_MS), IPCN_OK);
    char *s = strndup(m->data, m->len);
    if (seq)
        *seq = m->seq;
    ipcn_msg_free(m);
    return s;
}

static void assert_value(ipcn_node *n, const char *path, const char *want,
                         uint64_t want_seq)
{
    uint64_t seq = 0;
    char *s = query_text(n, path, &seq);
    assert_string_equal(s, want);
    assert_int_equal(seq, want_seq);
    free(s);
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

static void test_set_remote(void **state)
{
    (void)state;
    ipcn_node *n = v_open("pss", NULL);
    start_provider(n);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "ps/plain", 0, v_collect, c, &sub),
                     IPCN_OK);
    assert_value(n, "ps/plain", "v1", 1);

    uint64_t ver = 0;
    assert_int_equal(ipcn_set(n, "ps/plain", "v2", 2, "text/plain", 0,
                              V_WAIT_MS, &ver),
                     IPCN_OK);
    assert_int_equal(ver, 2);
    assert_value(n, "ps/plain", "v2", 2);
    /* Subscribers get it as a sample, from the provider (after the value
     * it had when they subscribed: a data resource is latched). */
    assert_true(v_wait_samples(n, c, 2, V_WAIT_MS));
    pthread_mutex_lock(&c->mu);
    assert_string_equal(c->s[0].data, "v1");
    assert_int_equal(c->s[0].seq, 1);
    assert_string_equal(c->s[1].data, "v2");
    assert_int_equal(c->s[1].seq, 2);
    assert_string_equal(c->s[1].src, "psp");
    assert_string_equal(c->s[1].enc, "text/plain");
    pthread_mutex_unlock(&c->mu);

    /* No encoding: the resource's.  new_version is optional. */
    assert_int_equal(ipcn_set(n, "ps/plain", "v3", 2, NULL, 0, V_WAIT_MS,
                              NULL),
                     IPCN_OK);
    assert_value(n, "ps/plain", "v3", 3);
    /* An empty value. */
    assert_int_equal(ipcn_set(n, "ps/plain", NULL, 0, "", 0, V_WAIT_MS, &ver),
                     IPCN_OK);
    assert_int_equal(ver, 4);
    assert_value(n, "ps/plain", "", 4);
    assert_true(v_wait_samples(n, c, 4, V_WAIT_MS));

    /* Without a check, another encoding is refused; nothing changes. */
    ver = 77;
    assert_int_equal(ipcn_set(n, "ps/plain", "x", 1, "image/png", 0,
                              V_WAIT_MS, &ver),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ver, 77);
    assert_value(n, "ps/plain", "", 4);
    ipcn_unsubscribe(n, sub);
    v_coll_free(c);
}

static void test_set_version(void **state)
{
    (void)state;
    ipcn_node *n = v_open("psv", NULL);
    start_provider(n);
    uint64_t ver = 0;
    /* Stale: 207, the current version back, nothing set. */
    assert_int_equal(ipcn_set(n, "ps/plain", "a", 1, NULL, 5, V_WAIT_MS, &ver),
                     IPCN_CONFLICT);
    assert_int_equal(ver, 1);
    assert_value(n, "ps/plain", "v1", 1);
    /* Retry with it. */
    assert_int_equal(ipcn_set(n, "ps/plain", "a", 1, NULL, ver, V_WAIT_MS,
                              &ver),
                     IPCN_OK);
    assert_int_equal(ver, 2);
    assert_value(n, "ps/plain", "a", 2);
    /* The same expected version again is stale now. */
    assert_int_equal(ipcn_set(n, "ps/plain", "b", 1, NULL, 1, V_WAIT_MS, &ver),
                     IPCN_CONFLICT);
    assert_int_equal(ver, 2);
    assert_int_equal(ipcn_set(n, "ps/plain", "b", 1, NULL, 2, V_WAIT_MS, &ver),
                     IPCN_OK);
    assert_int_equal(ver, 3);
    /* A resource with no value yet has version 0: any expected version
     * but 0 (= any) is stale. */
    assert_int_equal(ipcn_set(n, "ps/checked", "c", 1, NULL, 1, V_WAIT_MS,
                              &ver),
                     IPCN_CONFLICT);
    assert_int_equal(ver, 0);
}

static void test_set_checked(void **state)
{
    (void)state;
    ipcn_node *n = v_open("psc", NULL);
    start_provider(n);
    uint64_t ver = 0;
    assert_int_equal(ipcn_set(n, "ps/checked", "good", 4, "text/plain", 0,
                              V_WAIT_MS, &ver),
                     IPCN_OK);
    assert_int_equal(ver, 1);
    assert_value(n, "ps/checked", "good", 1);
    /* The check saw the value, its encoding and its setter. */
    assert_value(n, "ps/seen", "good|text/plain|psc|ps/checked", 1);

    /* Refused: the check's status comes back, nothing is set. */
    ver = 55;
    assert_int_equal(ipcn_set(n, "ps/checked", "refuse", 6, NULL, 0,
                              V_WAIT_MS, &ver),
                     IPCN_FORBIDDEN);
    assert_int_equal(ver, 55);
    assert_value(n, "ps/seen", "refuse|text/plain|psc|ps/checked", 2);
    assert_int_equal(ipcn_set(n, "ps/checked", "app", 3, NULL, 0, V_WAIT_MS,
                              &ver),
                     1042);
    assert_value(n, "ps/checked", "good", 1);

    /* A check decides on encodings itself: this one takes any. */
    assert_int_equal(ipcn_set(n, "ps/checked", "odd", 3, "text/x-odd", 1,
                              V_WAIT_MS, &ver),
                     IPCN_OK);
    assert_int_equal(ver, 2);
    assert_value(n, "ps/seen", "odd|text/x-odd|psc|ps/checked", 4);
    /* A stale version is refused before the check runs. */
    assert_int_equal(ipcn_set(n, "ps/checked", "late", 4, NULL, 1, V_WAIT_MS,
                              &ver),
                     IPCN_CONFLICT);
    assert_int_equal(ver, 2);
    assert_value(n, "ps/seen", "odd|text/x-odd|psc|ps/checked", 4);
}

/* A set whose setter gave up (304) before the provider could look at it
 * (stopped) is not started: its check never sees it, nothing is set. */
static void test_set_given_up(void **state)
{
    (void)state;
    ipcn_node_opts o = slow_heartbeat();
    ipcn_node *n = v_open("psg", &o);
    pid_t pid = start_provider(n);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    int ws = 0; /* stopped indeed, before the set is sent */
    assert_int_equal(waitpid(pid, &ws, WUNTRACED), pid);
    assert_true(WIFSTOPPED(ws));
    uint64_t ver = 0;
    assert_int_equal(ipcn_set(n, "ps/checked", "late", 4, NULL, 0, 300, &ver),
                     IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(ver, 0);
    assert_int_equal(kill(pid, SIGCONT), 0);
    /* Queued after it, so answered after it was dropped (or run). */
    assert_int_equal(ipcn_set(n, "ps/checked", "next", 4, NULL, 0, V_WAIT_MS,
                              &ver),
                     IPCN_OK);
    assert_int_equal(ver, 1);
    assert_value(n, "ps/seen", "next|text/plain|psg|ps/checked", 1);
}

static void test_set_wrong_targets(void **state)
{
    (void)state;
    ipcn_node *n = v_open("psw", NULL);
    start_provider(n);
    uint64_t ver = 9;
    assert_int_equal(ipcn_set(n, "ps/stream", "x", 1, NULL, 0, V_WAIT_MS,
                              &ver),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_set(n, "ps/svc", "x", 1, NULL, 0, V_WAIT_MS, &ver),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_set(n, "ps/none", "x", 1, NULL, 0, V_WAIT_MS, &ver),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_set(n, "ps//bad", "x", 1, NULL, 0, V_WAIT_MS, &ver),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_set(n, "ps/*", "x", 1, NULL, 0, V_WAIT_MS, &ver),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_set(n, NULL, "x", 1, NULL, 0, V_WAIT_MS, &ver),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_set(n, "ps/plain", NULL, 1, NULL, 0, V_WAIT_MS,
                              &ver),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_set(NULL, "ps/plain", "x", 1, NULL, 0, V_WAIT_MS,
                              &ver),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ver, 9);
    /* ipcn_data_on_set() is for this node's own data resources. */
    assert_int_equal(ipcn_data_on_set(n, "ps/plain", provider_check, NULL),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_data_on_set(NULL, "ps/plain", NULL, NULL),
                     IPCN_BAD_REQUEST);
}

/* A check on this node: count its calls, refuse "no". */
static int local_calls;
static pthread_t local_thread;
static int local_check(ipcn_node *n, const char *path, const ipcn_msg *v,
                       const char *encoding, void *user)
{
    (void)path, (void)encoding;
    local_calls++;
    local_thread = pthread_self();
    assert_ptr_equal(user, &local_calls);
    assert_true(v->src_id == ipcn_node_id(n));
    return v->len == 2 && !memcmp(v->data, "no", 2) ? IPCN_FORBIDDEN : IPCN_OK;
}

static void test_set_local(void **state)
{
    (void)state;
    ipcn_node *n = v_open("psl", NULL);
    assert_int_equal(ipcn_announce(n, "pl/d", IPCN_DATA, "text/plain", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "pl/s", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_data_on_set(n, "pl/s", local_check, NULL),
                     IPCN_METHOD_NOT_ALLOWED);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "pl/d", 0, v_collect, c, &sub), IPCN_OK);

    /* No check: set at once, without I/O (a zero timeout is enough). */
    uint64_t ver = 0;
    assert_int_equal(ipcn_set(n, "pl/d", "one", 3, NULL, 0, 0, &ver), IPCN_OK);
    assert_int_equal(ver, 1);
    assert_value(n, "pl/d", "one", 1);
    assert_int_equal(ipcn_set(n, "pl/d", "x", 1, "image/png", 0, 0, &ver),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_set(n, "pl/d", "x", 1, NULL, 7, 0, &ver),
                     IPCN_CONFLICT);
    assert_int_equal(ver, 1);
    assert_int_equal(ipcn_set(n, "pl/s", "x", 1, NULL, 0, 0, &ver),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_set(n, "pl/none", "x", 1, NULL, 0, 0, &ver),
                     IPCN_NOT_FOUND);

    /* With a check: called on this thread, inside ipcn_set(). */
    assert_int_equal(ipcn_data_on_set(n, "pl/d", local_check, &local_calls),
                     IPCN_OK);
    assert_int_equal(ipcn_set(n, "pl/d", "two", 3, NULL, 1, 0, &ver), IPCN_OK);
    assert_int_equal(ver, 2);
    assert_int_equal(local_calls, 1);
    assert_true(pthread_equal(local_thread, pthread_self()));
    assert_int_equal(ipcn_set(n, "pl/d", "no", 2, NULL, 0, 0, &ver),
                     IPCN_FORBIDDEN);
    assert_int_equal(local_calls, 2);
    assert_value(n, "pl/d", "two", 2);
    /* Removed: the encoding rule again. */
    assert_int_equal(ipcn_data_on_set(n, "pl/d", NULL, NULL), IPCN_OK);
    assert_int_equal(ipcn_set(n, "pl/d", "no", 2, NULL, 0, 0, &ver), IPCN_OK);
    assert_int_equal(local_calls, 2);
    assert_int_equal(ver, 3);

    /* This node's subscription got every value set. */
    assert_true(v_wait_samples(n, c, 3, V_WAIT_MS));
    pthread_mutex_lock(&c->mu);
    assert_string_equal(c->s[0].data, "one");
    assert_string_equal(c->s[1].data, "two");
    assert_string_equal(c->s[2].data, "no");
    assert_int_equal(c->s[2].seq, 3);
    pthread_mutex_unlock(&c->mu);
    ipcn_unsubscribe(n, sub);
    v_coll_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_set_remote),
        V_TEST(test_set_version),
        V_TEST(test_set_checked),
        V_TEST(test_set_given_up),
        V_TEST(test_set_wrong_targets),
        V_TEST(test_set_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

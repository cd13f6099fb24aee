/* SPDX-License-Identifier: MIT */
/*
 * test_limits_gate.c — the rate limits and quotas of the gate
 * (transport/limits.c) on their own: token buckets, which policy entries
 * apply to which link (who, what, per node or per user), requests and
 * samples over a rate, the caps, the fair share of the request queue,
 * providers' own limits, and the generation that makes links work out
 * again what applies to them.  A node and links made here without
 * sockets; the clock is the node's round time, set by the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/node.h"
#include "policy/policy.h"
#include "transport/gate.h"
#include "transport/limits.h"
#include "transport/reputation.h"
#include "util/util.h"

#define MS 1000000ull

static ipcn_node nd;
static ipcn__link rogue, good, rogue2;

static void link_make(ipcn__link *l, const char *name, int32_t uid)
{
    memset(l, 0, sizeof *l);
    l->state = LINK_UP;
    l->who.name = (char *)name;
    l->who.uid = uid;
    l->who.creds_known = true;
    ipcn__limits_link_init(l);
    ipcn__list_insert_tail(&nd.links, &l->node_entry);
}

/* One limit entry of the policy: who (a selector's text, or NULL: any),
 * what (a pattern, or NULL: every path). */
static ipcn__limit *limit_add(const char *who, const char *what)
{
    ipcn__guard *g = &nd.policy->guard;
    g->limits = ipcn__realloc(g->limits, (g->nlimits + 1) * sizeof *g->limits);
    assert_non_null(g->limits);
    ipcn__limit *lim = &g->limits[g->nlimits++];
    memset(lim, 0, sizeof *lim);
    lim->line = 10 + g->nlimits;
    if (who) {
        char why[128];
        lim->who = ipcn__calloc(1, sizeof *lim->who);
        assert_int_equal(ipcn__selector_parse(who, lim->who, why, sizeof why),
                         IPCN_OK);
        lim->nwho = 1;
    }
    if (what) {
        lim->what = ipcn__calloc(1, sizeof *lim->what);
        lim->what[0] = ipcn__strdup(what);
        lim->nwhat = 1;
    }
    nd.policy_gen++;
    return lim;
}

/* The offences of RATE_LIMITED on record for l (reputation.c). */
static uint64_t evidence(const ipcn__link *l)
{
    ipcn__rep *r = ipcn__rep_find(&nd, l->who.name, l->who.uid, -1);
    return r ? r->evidence[IPCN__OFF_RATE_LIMITED] : 0;
}

static int setup(void **state)
{
    (void)state;
    memset(&nd, 0, sizeof nd);
    nd.name = "self";
    ipcn_node_opts_init(&nd.opts);
    ipcn__list_init(&nd.links);
    ipcn__list_init(&nd.lim_users);
    ipcn__list_init(&nd.lim_conns);
    ipcn__list_init(&nd.fair_uids);
    ipcn__list_init(&nd.reps);
    nd.policy = ipcn__policy_new(IPCN__PROFILE_ALLOW);
    assert_non_null(nd.policy);
    nd.policy_gen = 1;
    /* The round's time, which the test moves; ahead of the clock that
     * buckets start full at. */
    nd.round_ns = ipcn__now_mono_ns() + 3600000 * MS;
    link_make(&rogue, "rogue-1", 2001);
    link_make(&rogue2, "rogue-2", 2001);
    link_make(&good, "good", 2002);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ipcn__limits_link_free(&nd, &rogue);
    ipcn__limits_link_free(&nd, &rogue2);
    ipcn__limits_link_free(&nd, &good);
    assert_true(ipcn__list_empty(&nd.lim_users)); /* nothing left behind */
    assert_true(ipcn__list_empty(&nd.fair_uids));
    assert_int_equal(nd.peer_queued, 0);
    ipcn__limits_node_free(&nd);
    ipcn__rep_free_all(&nd);
    ipcn__policy_free(nd.policy);
    return 0;
}

static void test_bucket(void **state)
{
    (void)state;
    ipcn__rate r = {.per_s = 10, .burst = 5};
    ipcn__bucket b;
    ipcn__bucket_init(&b, &r, 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ipcn__bucket_wait(&b, &r, 1, 0), 0);
        ipcn__bucket_take(&b, 1);
    }
    assert_int_equal(ipcn__bucket_wait(&b, &r, 1, 0), 100); /* 1 / 10 s */
    assert_int_equal(ipcn__bucket_wait(&b, &r, 1, 50 * MS), 50);
    assert_int_equal(ipcn__bucket_wait(&b, &r, 1, 100 * MS), 0);
    /* Never more than the depth, however long it was idle. */
    assert_int_equal(ipcn__bucket_wait(&b, &r, 1, 3600000 * MS), 0);
    assert_true(b.tokens <= 5.0);
    /* A cost over the depth needs a full bucket, and leaves it in debt. */
    assert_int_equal(ipcn__bucket_wait(&b, &r, 20, 3600000 * MS), 0);
    ipcn__bucket_take(&b, 20);
    assert_int_equal(ipcn__bucket_wait(&b, &r, 1, 3600000 * MS), 1600);
    /* Depth without a burst: one second's worth, at least 1. */
    ipcn__rate one = {.per_s = 0.5};
    assert_true(ipcn__bucket_depth(&one) == 1.0);
    ipcn__rate ps = {.per_s = 300};
    assert_true(ipcn__bucket_depth(&ps) == 300.0);
}

static void test_requests(void **state)
{
    (void)state;
    ipcn__limit *lim = limit_add("node:rogue*", "svc/**");
    lim->requests = (ipcn__rate){10, 5};
    uint32_t retry = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(ipcn__limit_request(&nd, &rogue, "svc/a", 8, &retry),
                         IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &rogue, "svc/a", 8, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(retry, 100);
    assert_int_equal(rogue.rate_limited, 1);
    assert_int_equal(nd.stats.rate_limited, 1);
    assert_int_equal(evidence(&rogue), 1);
    /* Another path is not its business; nor another peer. */
    assert_int_equal(ipcn__limit_request(&nd, &rogue, "other/a", 8, &retry),
                     IPCN_OK);
    for (int i = 0; i < 100; i++)
        assert_int_equal(ipcn__limit_request(&nd, &good, "svc/a", 8, &retry),
                         IPCN_OK);
    /* A peer no limit names costs one comparison from now on. */
    assert_true(ipcn__limits_none(&nd, &good));
    assert_false(ipcn__limits_none(&nd, &rogue));
    assert_null(good.lim);
    /* Refilled with time: 100 ms is one request. */
    nd.round_ns += 100 * MS;
    assert_int_equal(ipcn__limit_request(&nd, &rogue, "svc/a", 8, &retry),
                     IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &rogue, "svc/a", 8, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    /* Each refusal is evidence (charged at most once per 100 ms). */
    assert_int_equal(evidence(&rogue), 2);
    assert_int_equal(ipcn__limit_request(&nd, &rogue, "svc/a", 8, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(evidence(&rogue), 3);
    assert_int_equal(rogue.rate_limited, 3);
    /* rogue-2, same uid, per node: a bucket of its own. */
    assert_int_equal(ipcn__limit_request(&nd, &rogue2, "svc/b", 8, &retry),
                     IPCN_OK);
}

static void test_bytes_and_per_user(void **state)
{
    (void)state;
    ipcn__limit *lim = limit_add("user:2001", NULL);
    lim->per_user = true;
    lim->bytes = (ipcn__rate){1000, 0}; /* depth: one second's worth */
    uint32_t retry = 0;
    assert_int_equal(ipcn__limit_request(&nd, &rogue, "a/b", 600, &retry),
                     IPCN_OK);
    /* The uid's other link shares the budget. */
    assert_int_equal(ipcn__limit_request(&nd, &rogue2, "a/b", 600, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(retry, 200); /* 200 more bytes at 1000/s */
    assert_int_equal(ipcn__limit_request(&nd, &good, "a/b", 600, &retry),
                     IPCN_OK);
    /* One shared state for the uid's two links. */
    int k = 0;
    for (ipcn__list *e = nd.lim_users.next; e != &nd.lim_users; e = e->next)
        k++;
    assert_int_equal(k, 1);
    assert_true(ipcn__limit_sample(&nd, &rogue, "a/b", 300)); /* bytes too */
    assert_false(ipcn__limit_sample(&nd, &rogue2, "a/b", 300));
    assert_int_equal(rogue2.samples_limited, 1);
    assert_int_equal(nd.stats.samples_limited, 1);
}

static void test_samples(void **state)
{
    (void)state;
    ipcn__limit *lim = limit_add("node:rogue-1", "cam/**");
    lim->samples = (ipcn__rate){100, 3};
    for (int i = 0; i < 3; i++)
        assert_true(ipcn__limit_sample(&nd, &rogue, "cam/front", 1000));
    assert_false(ipcn__limit_sample(&nd, &rogue, "cam/front", 1000));
    assert_false(ipcn__limit_sample(&nd, &rogue, "cam/back", 10));
    assert_true(ipcn__limit_sample(&nd, &rogue, "imu/x", 10));
    assert_true(ipcn__limit_sample(&nd, &rogue2, "cam/front", 10));
    assert_int_equal(rogue.samples_limited, 2);
    assert_int_equal(nd.stats.samples_limited, 2);
    assert_int_equal(nd.stats.rate_limited, 0);
    nd.round_ns += 10 * MS;
    assert_true(ipcn__limit_sample(&nd, &rogue, "cam/front", 1000));
    assert_false(ipcn__limit_sample(&nd, &rogue, "cam/front", 1000));
}

static void test_caps(void **state)
{
    (void)state;
    ipcn__limit *lim = limit_add("node:rogue*", "svc/**");
    lim->inflight = 2;
    lim->subscriptions = 1;
    lim->announcements = 1;
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "svc/a"), IPCN_OK);
    ipcn__limit_queued(&nd, &rogue, 1);
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "svc/a"), IPCN_OK);
    ipcn__limit_queued(&nd, &rogue, 1);
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "svc/a"),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(rogue.rate_limited, 1);
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "x/a"), IPCN_OK);
    assert_int_equal(ipcn__gate_request(&nd, &good, "svc/a"), IPCN_OK);
    ipcn__limit_queued(&nd, &rogue, -1);
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "svc/a"), IPCN_OK);
    ipcn__limit_queued(&nd, &rogue, -1);
    assert_int_equal(rogue.inflight, 0);
    assert_int_equal(nd.peer_queued, 0);
    /* Per user: the uid's links together. */
    lim->per_user = true;
    nd.policy_gen++;
    ipcn__limit_queued(&nd, &rogue, 1);
    ipcn__limit_queued(&nd, &rogue2, 1);
    assert_int_equal(ipcn__gate_request(&nd, &rogue2, "svc/a"),
                     IPCN_TOO_MANY_REQUESTS);
    ipcn__limit_queued(&nd, &rogue2, -1);
    /* Subscriptions and announcements: held by the uid's links. */
    rogue.npatterns = 1;
    assert_int_equal(ipcn__gate_pattern(&nd, &rogue2, "svc/**"),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(ipcn__gate_pattern(&nd, &rogue2, "other/**"), IPCN_OK);
    assert_int_equal(ipcn__gate_pattern(&nd, &good, "svc/**"), IPCN_OK);
    rogue.npatterns = 0;
    rogue2.resources = 1;
    assert_int_equal(ipcn__gate_resource(&nd, &rogue, "svc/z"),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(nd.meta_refused, 2);
    rogue2.resources = 0;
    assert_int_equal(ipcn__gate_resource(&nd, &rogue, "svc/z"), IPCN_OK);
}

static void test_fair_share(void **state)
{
    (void)state;
    /* One user alone may fill the queue up to the per-peer bound. */
    for (unsigned i = 0; i < IPCN_FAIR_QUEUE; i++) {
        assert_int_equal(ipcn__gate_request(&nd, &rogue, "s/a"), IPCN_OK);
        ipcn__limit_queued(&nd, &rogue, 1);
    }
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "s/a"), IPCN_OK);
    /* Another user comes: it gets its share, the first one waits. */
    assert_int_equal(ipcn__gate_request(&nd, &good, "s/a"), IPCN_OK);
    ipcn__limit_queued(&nd, &good, 1);
    assert_int_equal(nd.fair_active, 2);
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "s/a"),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(ipcn__gate_request(&nd, &rogue2, "s/a"),
                     IPCN_TOO_MANY_REQUESTS); /* the same uid */
    assert_int_equal(rogue.rate_limited + rogue2.rate_limited, 2);
    for (unsigned i = 1; i < IPCN_FAIR_QUEUE / 2; i++) {
        assert_int_equal(ipcn__gate_request(&nd, &good, "s/a"), IPCN_OK);
        ipcn__limit_queued(&nd, &good, 1);
    }
    assert_int_equal(ipcn__gate_request(&nd, &good, "s/a"),
                     IPCN_TOO_MANY_REQUESTS); /* its half */
    /* The queue drains: no one is refused below the threshold. */
    while (rogue.inflight)
        ipcn__limit_queued(&nd, &rogue, -1);
    assert_int_equal(nd.fair_active, 1);
    assert_int_equal(ipcn__gate_request(&nd, &rogue, "s/a"), IPCN_OK);
    while (good.inflight)
        ipcn__limit_queued(&nd, &good, -1);
    assert_int_equal(nd.fair_active, 0);
}

/* Peers of other hosts: "host:user", never a uid (theirs mean nothing
 * here, and the link's uid field is the same for all of them).  A budget
 * per user is per host:user. */
static ipcn__link gpu_cam, gpu_arm, nuc_cam, local_m1;

static void remote_make(ipcn__link *l, const char *name, const char *host,
                        const char *user)
{
    memset(l, 0, sizeof *l);
    l->state = LINK_UP;
    l->who.name = (char *)name;
    l->who.host = (char *)host;
    l->who.user = (char *)user;
    l->who.uid = -1;
    l->who.creds_known = false;
    ipcn__limits_link_init(l);
    ipcn__list_insert_tail(&nd.links, &l->node_entry);
}

static int setup_remote(void **state)
{
    setup(state);
    remote_make(&gpu_cam, "cam@gpu", "gpu", "robot");
    remote_make(&gpu_arm, "arm@gpu", "gpu", "robot");
    remote_make(&nuc_cam, "cam@nuc", "nuc", "robot");
    link_make(&local_m1, "local-m1", -1); /* a uid equal to theirs */
    return 0;
}

static int teardown_remote(void **state)
{
    ipcn__limits_link_free(&nd, &gpu_cam);
    ipcn__limits_link_free(&nd, &gpu_arm);
    ipcn__limits_link_free(&nd, &nuc_cam);
    ipcn__limits_link_free(&nd, &local_m1);
    return teardown(state);
}

static size_t list_len(const ipcn__list *h)
{
    size_t k = 0;
    for (const ipcn__list *e = h->next; e != h; e = e->next)
        k++;
    return k;
}

static void test_remote_per_user(void **state)
{
    (void)state;
    /* Every peer, per user: gpu's robot, nuc's robot and the local uid -1
     * are three users. */
    ipcn__limit *lim = limit_add(NULL, NULL);
    lim->per_user = true;
    lim->requests = (ipcn__rate){1, 1};
    uint32_t retry = 0;
    assert_int_equal(ipcn__limit_request(&nd, &gpu_cam, "a", 0, &retry), IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &gpu_arm, "a", 0, &retry),
                     IPCN_TOO_MANY_REQUESTS); /* same host, same user */
    assert_int_equal(ipcn__limit_request(&nd, &nuc_cam, "a", 0, &retry), IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &local_m1, "a", 0, &retry), IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &nuc_cam, "a", 0, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(gpu_arm.rate_limited, 1);
    assert_int_equal(nuc_cam.rate_limited, 1);
    assert_int_equal(list_len(&nd.lim_users), 3);
    /* Another user of gpu is another budget. */
    gpu_arm.who.user = "ops";
    nd.policy_gen++;
    assert_int_equal(ipcn__limit_request(&nd, &gpu_arm, "a", 0, &retry), IPCN_OK);
    assert_int_equal(list_len(&nd.lim_users), 4);
}

static void test_remote_selectors(void **state)
{
    (void)state;
    /* Only gpu's peers; a user of another host by name, beside host:. */
    ipcn__limit *gpu = limit_add("host:gpu", NULL);
    gpu->samples = (ipcn__rate){1, 1};
    ipcn__limit *robots = limit_add("host:* user:robot-ipcn-nowhere", "x/**");
    robots->requests = (ipcn__rate){1, 1};
    assert_true(ipcn__limit_sample(&nd, &gpu_cam, "s", 1));
    assert_false(ipcn__limit_sample(&nd, &gpu_cam, "s", 1));
    assert_true(ipcn__limit_sample(&nd, &nuc_cam, "s", 1));
    assert_true(ipcn__limit_sample(&nd, &nuc_cam, "s", 1));
    assert_true(ipcn__limit_sample(&nd, &local_m1, "s", 1));
    assert_true(ipcn__limit_sample(&nd, &local_m1, "s", 1));
    uint32_t retry;
    nuc_cam.who.user = "robot-ipcn-nowhere";
    nd.policy_gen++;
    assert_int_equal(ipcn__limit_request(&nd, &nuc_cam, "x/a", 0, &retry), IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &nuc_cam, "x/a", 0, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(ipcn__limit_request(&nd, &gpu_cam, "x/a", 0, &retry), IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &gpu_cam, "x/a", 0, &retry), IPCN_OK);
    /* A uid names no one of another host: a limit for uid -1 (or any
     * uid) is not theirs; one on what only their host's kernel knows
     * does not apply to them either (unknown matches nothing). */
    ipcn__limit *uid = limit_add("user:0", NULL);
    uid->samples = (ipcn__rate){1, 1};
    ipcn__limit *grp = limit_add("unix_group:0", NULL);
    grp->samples = (ipcn__rate){1, 1};
    nuc_cam.who.uid = 0; /* whatever a link of another host says */
    nuc_cam.who.gid = 0;
    assert_true(ipcn__limit_sample(&nd, &nuc_cam, "t", 1));
    assert_true(ipcn__limit_sample(&nd, &nuc_cam, "t", 1));
    assert_int_equal(nuc_cam.samples_limited, 0);
    /* ... while they do apply to this host's root */
    local_m1.who.uid = 0;
    nd.policy_gen++;
    assert_true(ipcn__limit_sample(&nd, &local_m1, "t", 1));
    assert_false(ipcn__limit_sample(&nd, &local_m1, "t", 1));
}

static void test_remote_caps_and_fair(void **state)
{
    (void)state;
    ipcn__limit *lim = limit_add("host:*", "svc/**");
    lim->per_user = true;
    lim->subscriptions = 1;
    gpu_cam.npatterns = 1;
    assert_int_equal(ipcn__gate_pattern(&nd, &gpu_arm, "svc/**"),
                     IPCN_TOO_MANY_REQUESTS); /* gpu:robot holds one */
    assert_int_equal(ipcn__gate_pattern(&nd, &nuc_cam, "svc/**"), IPCN_OK);
    assert_int_equal(ipcn__gate_pattern(&nd, &local_m1, "svc/**"), IPCN_OK);
    gpu_cam.npatterns = 0;
    /* The fair share: gpu:robot filled the queue; nuc:robot is another
     * user, who gets its share while gpu:robot waits. */
    for (unsigned i = 0; i < IPCN_FAIR_QUEUE; i++)
        ipcn__limit_queued(&nd, i % 2 ? &gpu_arm : &gpu_cam, 1);
    assert_int_equal(nd.fair_active, 1);
    assert_int_equal(ipcn__gate_request(&nd, &nuc_cam, "s/a"), IPCN_OK);
    ipcn__limit_queued(&nd, &nuc_cam, 1);
    assert_int_equal(nd.fair_active, 2);
    assert_int_equal(ipcn__gate_request(&nd, &gpu_cam, "s/a"),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(ipcn__gate_request(&nd, &local_m1, "s/a"), IPCN_OK);
    while (gpu_cam.inflight)
        ipcn__limit_queued(&nd, &gpu_cam, -1);
    while (gpu_arm.inflight)
        ipcn__limit_queued(&nd, &gpu_arm, -1);
    ipcn__limit_queued(&nd, &nuc_cam, -1);
    assert_int_equal(nd.fair_active, 0);
}

static void test_provider_limits(void **state)
{
    (void)state;
    ipcn__rate rq = {5, 2}, none = {0, 0};
    uint64_t gen = nd.policy_gen;
    uint32_t retry = 0;
    assert_int_equal(ipcn__limit_request(&nd, &good, "svc/p", 1, &retry),
                     IPCN_OK);
    assert_true(ipcn__limits_none(&nd, &good));
    assert_int_equal(ipcn__limits_provider_set(&nd, "svc/p", &rq, &none,
                                               &none, 0, false),
                     IPCN_OK);
    assert_true(nd.policy_gen > gen); /* every link works it out again */
    assert_false(ipcn__limits_none(&nd, &good));
    /* Every peer, a bucket each. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ipcn__limit_request(&nd, &good, "svc/p", 1, &retry),
                         IPCN_OK);
        assert_int_equal(ipcn__limit_request(&nd, &rogue, "svc/p", 1, &retry),
                         IPCN_OK);
    }
    assert_int_equal(ipcn__limit_request(&nd, &good, "svc/p", 1, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(retry, 200);
    assert_int_equal(ipcn__limit_request(&nd, &good, "svc/q", 1, &retry),
                     IPCN_OK);
    /* With the policy's: the stricter wins. */
    ipcn__limit *lim = limit_add("node:good", NULL);
    lim->requests = (ipcn__rate){1, 1};
    assert_int_equal(ipcn__limit_request(&nd, &good, "svc/p", 1, &retry),
                     IPCN_OK);
    assert_int_equal(ipcn__limit_request(&nd, &good, "svc/p", 1, &retry),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(retry, 1000);
    /* Replaced, then removed. */
    ipcn__rate more = {1000, 1000};
    assert_int_equal(ipcn__limits_provider_set(&nd, "svc/p", &more, &none,
                                               &none, 0, false),
                     IPCN_OK);
    assert_int_equal(nd.nplimits, 1);
    assert_int_equal(ipcn__limits_provider_set(&nd, "svc/p", NULL, NULL, NULL,
                                               0, true),
                     IPCN_OK);
    assert_int_equal(nd.nplimits, 0);
    nd.policy->guard.nlimits = 0; /* (freed with the policy) */
    nd.policy_gen++;
    assert_int_equal(ipcn__limit_request(&nd, &good, "svc/p", 1, &retry),
                     IPCN_OK);
    assert_true(ipcn__limits_none(&nd, &good));
    nd.policy->guard.nlimits = 1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_and_per_user, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_per_user, setup_remote,
                                        teardown_remote),
        cmocka_unit_test_setup_teardown(test_remote_selectors, setup_remote,
                                        teardown_remote),
        cmocka_unit_test_setup_teardown(test_remote_caps_and_fair, setup_remote,
                                        teardown_remote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

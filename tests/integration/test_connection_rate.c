/* SPDX-License-Identifier: MIT */
/*
 * test_connection_rate.c — the policy's "connections" rate (issue 15,
 * items 1 and 3): a process that opens links in a loop — clean ones, a
 * connect and nothing wrong said — is held to its uid's rate: past the
 * bucket each connection is refused at accept with ERROR 205 carrying the
 * time to wait in corr, counted in links_refused and charged to the
 * process ("connections"); with a reputation section it ends quarantined
 * (the process, by uid and pid: never its whole user), and a legitimate
 * node of the same user keeps its link and is served throughout.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"

#define LOOPS 40
#define RATE 5 /* connections: 5/s, burst (one second's worth) 5 */

static char policy[640];
static ipcn_node *victim, *legit;

static int on_echo(ipcn_node *n, const ipcn_msg *m, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)user;
    return ipcn_reply_set(ctx, m->data, m->len, m->encoding);
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, NULL), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/cvictim.sock",
             raw_target.dir);
    snprintf(policy, sizeof policy, "%s/conn-policy.yaml", raw_target.dir);
    FILE *f = fopen(policy, "w");
    assert_non_null(f);
    fprintf(f, "version: 1\ndefault: allow\n"
               "limits:\n  - connections: %d/s\n"
               "reputation:\n  quarantine_below: -100\n  half_life: 1h\n"
               "  quarantine_for: 1h\n  penalties: {connections: 30}\n",
            RATE);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(policy, 0644), 0);
    setenv("IPCNET_POLICY", policy, 1);
    victim = open_node("cvictim");
    assert_int_equal(ipcn_offer(victim, "cv/echo", "", on_echo, NULL),
                     IPCN_OK);
    legit = open_node("clegit");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ipcn_node_close(legit);
    ipcn_node_close(victim);
    unsetenv("IPCNET_POLICY");
    unlink(policy);
    return 0;
}

static int echo(void)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(legit, "cv/echo", "x", 1, "text/plain", &m,
                          IO_TIMEOUT_MS);
    ipcn_msg_free(m);
    return st;
}

/* One connection of the loop: the ERROR the victim sent before closing
 * (its status and corr), or 0 when it took the connection (its HELLO and
 * no ERROR within a moment). */
static uint16_t one_connection(uint64_t *corr)
{
    int fd = -1;
    if (raw_socket(false, &fd) != 0)
        _exit(2);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    /* Its first words within a generous while; once they are here, a
     * refusal follows them at once (written in the same round), so a
     * moment more tells a taken connection (the loop stays fast). */
    struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t in[4096];
    size_t have = 0;
    ssize_t k;
    uint16_t st = 0;
    while (have < sizeof in && (k = read(fd, in + have, sizeof in - have)) > 0) {
        have += (size_t)k;
        struct timeval moment = {.tv_sec = 0, .tv_usec = 20 * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &moment, sizeof moment);
    }
    for (size_t off = 0; off + HDR <= have;) {
        uint32_t len = ld32(in + off + 12);
        if (in[off + 5] == T_ERROR) {
            st = ld16(in + off + 8);
            *corr = ld64(in + off + 32);
        }
        off += HDR + len;
    }
    close(fd);
    return st;
}

static void t_connection_loop(void **state)
{
    (void)state;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (echo() != IPCN_OK) { /* until clegit knows of cv/echo */
        if (tu_now_ms() > end)
            fail_msg("clegit never reached cv/echo");
        usleep(10000);
    }
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    uint64_t t0 = tu_now_ms();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        uint16_t got[LOOPS];
        uint64_t corr[LOOPS] = {0};
        for (int i = 0; i < LOOPS; i++)
            got[i] = one_connection(&corr[i]);
        (void)!write(pfd[1], got, sizeof got);
        (void)!write(pfd[1], corr, sizeof corr);
        _exit(0);
    }
    close(pfd[1]);
    uint16_t got[LOOPS] = {0};
    uint64_t corr[LOOPS] = {0};
    size_t have = 0;
    ssize_t k;
    char *dst = (char *)got;
    while (have < sizeof got && (k = read(pfd[0], dst + have, sizeof got - have)) > 0)
        have += (size_t)k;
    have = 0;
    dst = (char *)corr;
    while (have < sizeof corr && (k = read(pfd[0], dst + have, sizeof corr - have)) > 0)
        have += (size_t)k;
    close(pfd[0]);
    assert_int_equal(tu_wait(pid, 60000), 0);
    double elapsed_s = (double)(tu_now_ms() - t0) / 1000.0;
    unsigned taken = 0, refused = 0;
    for (int i = 0; i < LOOPS; i++) {
        if (!got[i]) {
            taken++;
            continue;
        }
        assert_int_equal(got[i], 205);
        assert_true(corr[i] >= 1 && corr[i] <= 3600000);
        refused++;
    }
    print_message("connection loop: %u taken, %u refused in %.2f s\n", taken,
                  refused, elapsed_s);
    /* The bucket: its depth, and what refilled meanwhile. */
    assert_true(taken <= RATE + RATE * elapsed_s + 1);
    assert_true(refused >= 1);
    /* The process, not its user, is quarantined, for its connections. */
    char subject[64];
    snprintf(subject, sizeof subject, "uid %d pid %d", (int)geteuid(),
             (int)pid);
    ipcn_quarantine_list *ql = NULL;
    assert_int_equal(ipcn_quarantines(victim, IPCN_QUARANTINE_ALL, &ql),
                     IPCN_OK);
    bool found = false;
    for (size_t i = 0; i < ql->count; i++) {
        ipcn_quarantine_record q = {.size = sizeof q};
        assert_int_equal(ipcn_quarantine_list_get(ql, i, &q), IPCN_OK);
        if (strcmp(q.subject, subject))
            continue;
        found = true;
        assert_int_equal(q.state, IPCN_QUARANTINE_QUARANTINED);
        assert_true(q.evidence[IPCN_OFFENCE_CONNECTIONS] >= 4);
        assert_int_equal(q.evidence[IPCN_OFFENCE_BAD_FRAME], 0);
    }
    ipcn_quarantine_list_free(ql);
    assert_true(found);
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(victim, &s), IPCN_OK);
    assert_true(s.links_refused >= 4);
    /* The legitimate node of the same user: linked and served. */
    assert_int_equal(echo(), IPCN_OK);
    ipcn_peer_list *pl = NULL;
    assert_int_equal(ipcn_peers(victim, &pl), IPCN_OK);
    bool linked = false;
    for (size_t i = 0; i < pl->count; i++)
        linked = linked || !strcmp(pl->items[i].name, "clegit");
    ipcn_peer_list_free(pl);
    assert_true(linked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_connection_loop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * test_store_kill.c — kill a process at every durable step of a script of
 * installs, blesses, rollbacks, rejects and picks of the versions store
 * ($IPCNET_SUP_CRASHPOINT=N: SIGKILL after the Nth step), then recover and
 * check, for each of the N:
 *   - the invariants (store_util.h): no journal or debris left; pointers
 *     name complete versions whose files match their hashes; one good,
 *     never bad; a trial neither good nor bad;
 *   - the operation killed is either finished or undone: the state is the
 *     one before it or the one after it, as a run without a kill left it;
 *   - the store still works: the rest of the script, run on it, ends in
 *     the same state as the run without a kill;
 *   - at every third point, the recovery is killed too: at its step 1,
 *     then the next recovery at its step 2, and so on, until one ends.
 * At least 200 points are required.  Each run prints the state the
 * script ends in and how many points fell in each operation.
 */
#include <signal.h>
#include <sys/wait.h>

#include "store_util.h"

#define MIN_POINTS 200

typedef enum { INSTALL, PICK, BLESS, REJECT, ROLLBACK } op_kind;

typedef struct op {
    op_kind kind;
    const char *id;       /* install: its id, bless/reject: which */
    uint32_t tries;
} op;

/* One version's life after another: each kind of operation, each way. */
static const op script[] = {
    {INSTALL, "1", 3},    /* the first: good at once */
    {INSTALL, "2", 2},    /* a trial */
    {PICK, NULL, 0},      /* its try counted */
    {BLESS, "2", 0},      /* good */
    {INSTALL, "3", 1},
    {ROLLBACK, NULL, 0},  /* a trial rejected by the operator */
    {ROLLBACK, NULL, 0},  /* good 2 -> 1, 2 bad */
    {INSTALL, "4", 1},
    {PICK, NULL, 0},      /* its last try */
    {PICK, NULL, 0},      /* tries ran out: rejected in the pick */
    {INSTALL, "5", 2},
    {REJECT, "5", 0},     /* restart intensity exceeded */
    {INSTALL, "6", 3},
    {INSTALL, "7", 3},    /* replaces trial 6 */
    {BLESS, "7", 0},
    {ROLLBACK, NULL, 0},  /* good 7 -> 1 */
};
#define NOPS (sizeof script / sizeof script[0])

static char src[1024];

static int run_op(const char *root, size_t k)
{
    const op *o = &script[k];
    char err[512], id[SUP_VERSION_ID_MAX + 1], dir[1100];
    sup_pick p;
    switch (o->kind) {
    case INSTALL:
        su_fmt(dir, sizeof dir, "%s/%s", src, o->id);
        return sup_store_install(root, "arm", dir, o->id, o->tries, id, sizeof id, err,
                                 sizeof err);
    case PICK:
        return sup_store_pick(root, "arm", &p, err, sizeof err);
    case BLESS:
        return sup_store_bless(root, "arm", o->id, err, sizeof err);
    case REJECT:
        return sup_store_reject(root, "arm", o->id, "restart intensity exceeded", err,
                                sizeof err);
    case ROLLBACK:
        return sup_store_rollback(root, "arm", id, sizeof id, err, sizeof err);
    }
    return IPCN_INTERNAL_ERROR;
}

static void fresh(const char *root)
{
    su_rm_tree(root);
    if (mkdir(root, 0755) < 0) {
        perror(root);
        exit(1);
    }
}

static int failures;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "crash point %ld: ", n);                        \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            failures++;                                                     \
            return;                                                         \
        }                                                                   \
    } while (0)

static char states[NOPS + 1][4096];   /* states[k]: before op k, without a kill */

/* Run the script in a child killed at step n.  Returns the index of the
 * operation it was killed in, or -1 when it ran to the end. */
static long killed_in(const char *root, long n)
{
    int fds[2];
    if (pipe(fds) < 0) {
        perror("pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char v[32];
        su_fmt(v, sizeof v, "%ld", n);
        setenv("IPCNET_SUP_CRASHPOINT", v, 1);
        for (size_t k = 0; k < NOPS; k++) {
            unsigned char b = (unsigned char)k;
            if (write(fds[1], &b, 1) != 1)
                _exit(3);
            int rc = run_op(root, k);
            if (rc != IPCN_OK)
                _exit(2);
        }
        _exit(0);
    }
    close(fds[1]);
    long last = -1;
    unsigned char b;
    while (read(fds[0], &b, 1) == 1)
        last = b;
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        exit(1);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return -1;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        fprintf(stderr, "crash point %ld: the script failed (status 0x%x) in op %ld\n", n,
                status, last);
        exit(1);
    }
    return last;
}

/* Recover in children killed at their step 1, then 2, 3, ..., each on what
 * the one before left, until one recovery runs to its end.  Returns the
 * kills, or -1. */
static int killed_recoveries(const char *root)
{
    for (int kills = 0; kills < 1000; kills++) {
        pid_t pid = fork();
        if (pid == 0) {
            char err[512], m[16];
            snprintf(m, sizeof m, "%d", kills + 1);
            setenv("IPCNET_SUP_CRASHPOINT", m, 1);
            int rc = sup_store_recover(root, "arm", err, sizeof err);
            if (rc != IPCN_OK)
                fprintf(stderr, "recover: %d %s\n", rc, err);
            _exit(rc == IPCN_OK ? 0 : 2);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0) {
            perror("waitpid");
            exit(1);
        }
        if (WIFEXITED(status))
            return WEXITSTATUS(status) == 0 ? kills : -1;
    }
    return -1;
}

static long recovery_kills;

static void one_point(const char *root, long n, long k)
{
    char err[512], why[512], now[4096];
    /* every third point: the recoveries are killed too */
    int kills = n % 3 == 1 ? killed_recoveries(root) : 0;
    CHECK(kills >= 0, "op %ld: a recovery killed at its steps did not end well", k);
    recovery_kills += kills;
    int rc = sup_store_recover(root, "arm", err, sizeof err);
    CHECK(rc == IPCN_OK, "recover after a kill in op %ld: %d %s", k, rc, err);
    CHECK(su_invariants(root, "arm", why, sizeof why), "op %ld: %s", k, why);
    su_state(root, "arm", now, sizeof now);
    bool undone = !strcmp(now, states[k]), done = !strcmp(now, states[k + 1]);
    CHECK(undone || done, "op %ld left neither the state before nor after:\n  now    %s\n"
          "  before %s\n  after  %s", k, now, states[k], states[k + 1]);
    /* the rest of the script on the recovered store */
    for (size_t j = done ? (size_t)k + 1 : (size_t)k; j < NOPS; j++) {
        rc = run_op(root, j);
        CHECK(rc == IPCN_OK, "op %zu after the recovery: %d", j, rc);
    }
    su_state(root, "arm", now, sizeof now);
    CHECK(!strcmp(now, states[NOPS]), "the script ended in\n  %s\n  not %s", now,
          states[NOPS]);
    CHECK(su_invariants(root, "arm", why, sizeof why), "at the end: %s", why);
}

int main(void)
{
    unsetenv("IPCNET_SUP_CRASHPOINT");
    /* The kills test what a killed process leaves, not what a power cut
     * does: a file system in memory (fsync costs nothing) keeps the
     * hundreds of runs quick. */
    const char *scratch = su_scratch_in("/dev/shm");
    printf("scratch: %s\n", scratch);
    char root[1024];
    su_fmt(src, sizeof src, "%s/src", scratch);
    su_fmt(root, sizeof root, "%s/store", scratch);
    mkdir(src, 0755);
    for (size_t k = 0; k < NOPS; k++)
        if (script[k].kind == INSTALL) {
            char dir[1100];
            su_fmt(dir, sizeof dir, "%s/%s", src, script[k].id);
            su_make_tree(dir, script[k].id, 3);
        }

    /* The run without a kill: the state before and after each operation. */
    fresh(root);
    for (size_t k = 0; k < NOPS; k++) {
        su_state(root, "arm", states[k], sizeof states[k]);
        int rc = run_op(root, k);
        if (rc != IPCN_OK) {
            fprintf(stderr, "op %zu failed without a kill: %d\n", k, rc);
            return 1;
        }
    }
    su_state(root, "arm", states[NOPS], sizeof states[NOPS]);
    printf("final state: %s\n", states[NOPS]);

    long n = 1, per_op[NOPS] = {0};
    for (;; n++) {
        fresh(root);
        long k = killed_in(root, n);
        if (k < 0)
            break;
        per_op[k]++;
        one_point(root, n, k);
    }
    long points = n - 1;
    printf("%ld crash points (and %ld kills of their recoveries), %d failed; per "
           "operation:", points, recovery_kills, failures);
    for (size_t k = 0; k < NOPS; k++)
        printf(" %ld", per_op[k]);
    printf("\n");
    if (points < MIN_POINTS) {
        fprintf(stderr, "only %ld crash points (at least %d wanted)\n", points, MIN_POINTS);
        return 1;
    }
    return failures ? 1 : 0;
}

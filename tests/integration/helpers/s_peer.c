/* SPDX-License-Identifier: MIT */
/*
 * s_peer.c — a helper of test_shm.c: a node that publishes through
 * shared-memory loans or subscribes and holds samples, driven by text
 * requests on its service ctl/<name> (answered on the node's thread).
 *
 *   ipcn-test-s_peer NAME LIFETIME_MS
 *
 * Commands (the answer's body says what happened):
 *   announce PATH              a stream
 *   config PATH SLOTS POLICY   ipcn_pool_config (POLICY: drop | refuse)
 *   pub PATH SIZE COUNT        COUNT loans of SIZE bytes, filled with
 *                              pattern(seq), published -> "ok N" or the
 *                              first failing status "st S after N"
 *   scribble PATH SIZE         publish one, then write to it after
 *   nsubs                      how many subscription patterns it knows
 *   serve PATH SIZE            offer a service answering SIZE bytes of
 *                              pattern(7)
 *   stats PATH                 "slots free loaned held pools published
 *                               reclaimed refused"
 *   sub PATTERN DEPTH          a subscription without callback
 *   take N                     take N samples (1 s each) and hold them
 *                              -> "took K shared S bad B"
 *   check                      check the held samples again
 *                              -> "held K bad B"
 *   release                    free every held sample
 *   substats                   the subscription's counters: "received
 *                              delivered dropped lost withheld unmappable
 *                              resets notices"
 *   rlimit MIB                 limit the address space (RLIMIT_AS) to
 *                              what is mapped now plus MIB MiB
 * The helper exits after LIFETIME_MS whatever happens.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ipcnet.h"
#include "shm_pattern.h"

static ipcn_node *node;
static ipcn_sub sub;
static ipcn_msg *held[1024];
static int nheld;

static int reply(ipcn_reply_ctx *ctx, int st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reply(ipcn_reply_ctx *ctx, int st, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ipcn_reply_set(ctx, buf, strlen(buf), "text/plain");
    return st;
}

static size_t serve_size;

static int on_big(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)n, (void)req, (void)user;
    uint8_t *p = malloc(serve_size);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    s_fill(p, serve_size, 7);
    int st = ipcn_reply_set(ctx, p, serve_size, "bytes");
    free(p);
    return st;
}

static int on_ctl(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)user;
    char cmd[32] = "", a[128] = "", b[64] = "", c[64] = "";
    sscanf(req->data, "%31s %127s %63s %63s", cmd, a, b, c);
    if (!strcmp(cmd, "announce"))
        return ipcn_announce(n, a, IPCN_STREAM, "bytes", NULL, 0);
    if (!strcmp(cmd, "config")) {
        ipcn_pool_opts o;
        ipcn_pool_opts_init(&o);
        o.slots = (uint32_t)atoi(b);
        o.policy = !strcmp(c, "refuse") ? IPCN_POOL_REFUSE : IPCN_POOL_DROP_OLDEST;
        return ipcn_pool_config(n, a, &o);
    }
    if (!strcmp(cmd, "pub")) {
        size_t size = strtoull(b, NULL, 10);
        int count = atoi(c);
        for (int i = 0; i < count; i++) {
            ipcn_loan *loan;
            int st = ipcn_loan_new(n, a, size, &loan);
            if (st == IPCN_OK) {
                ipcn_pool_stats ps = {.size = sizeof ps};
                ipcn_pool_get_stats(n, a, &ps);
                s_fill(ipcn_loan_data(loan), size, ps.published + 1);
                st = ipcn_loan_publish(n, loan, size);
            }
            if (st != IPCN_OK)
                return reply(ctx, IPCN_OK, "st %d after %d", st, i);
        }
        return reply(ctx, IPCN_OK, "ok %d", count);
    }
    if (!strcmp(cmd, "scribble")) {
        size_t size = strtoull(b, NULL, 10);
        ipcn_loan *loan;
        int st = ipcn_loan_new(n, a, size, &loan);
        if (st != IPCN_OK)
            return st;
        uint8_t *p = ipcn_loan_data(loan);
        s_fill(p, size, 1);
        st = ipcn_loan_publish(n, loan, size);
        /* What a buggy publisher does: write after publishing. */
        p[size / 2] ^= 0xFF;
        return st;
    }
    if (!strcmp(cmd, "nsubs")) {
        ipcn_subscription_list *sl;
        int st = ipcn_subscriptions(n, &sl);
        if (st != IPCN_OK)
            return st;
        size_t k = sl->count;
        ipcn_subscription_list_free(sl);
        return reply(ctx, IPCN_OK, "%zu", k);
    }
    if (!strcmp(cmd, "serve")) {
        serve_size = strtoull(b, NULL, 10);
        return ipcn_offer(n, a, "", on_big, NULL);
    }
    if (!strcmp(cmd, "stats")) {
        ipcn_pool_stats s = {.size = sizeof s};
        int st = ipcn_pool_get_stats(n, a, &s);
        if (st != IPCN_OK)
            return st;
        return reply(ctx, IPCN_OK, "%u %u %u %u %u %llu %llu %llu", s.slots,
                     s.free, s.loaned, s.held, s.pools,
                     (unsigned long long)s.published,
                     (unsigned long long)s.reclaimed,
                     (unsigned long long)s.refused);
    }
    if (!strcmp(cmd, "sub"))
        return ipcn_subscribe(n, a, (uint32_t)atoi(b), NULL, NULL, &sub);
    if (!strcmp(cmd, "take")) {
        int want = atoi(a), took = 0, shared = 0, bad = 0;
        while (took < want && nheld < 1024) {
            ipcn_msg *m;
            if (ipcn_sub_take(n, sub, &m, 1000) != IPCN_OK)
                break;
            took++;
            shared += (m->flags & IPCN_MSG_SHARED) != 0;
            bad += !s_check(m->data, m->len, m->seq) ||
                   ipcn_msg_verify(m) != IPCN_OK;
            held[nheld++] = m;
        }
        return reply(ctx, IPCN_OK, "took %d shared %d bad %d", took, shared, bad);
    }
    if (!strcmp(cmd, "check")) {
        int bad = 0;
        for (int i = 0; i < nheld; i++) {
            int v = ipcn_msg_verify(held[i]); /* always: its blame counts */
            bad += !s_check(held[i]->data, held[i]->len, held[i]->seq) ||
                   v != IPCN_OK;
        }
        return reply(ctx, IPCN_OK, "held %d bad %d", nheld, bad);
    }
    if (!strcmp(cmd, "verify_failures")) { /* blamed on publishers */
        ipcn_node_stats ns = {.size = sizeof ns};
        int st = ipcn_node_get_stats(n, &ns);
        if (st != IPCN_OK)
            return st;
        return reply(ctx, IPCN_OK, "%llu",
                     (unsigned long long)ns.verify_failures);
    }
    if (!strcmp(cmd, "substats")) {
        ipcn_sub_stats ss = {.size = sizeof ss};
        int st = ipcn_sub_get_stats(n, sub, &ss);
        if (st != IPCN_OK)
            return st;
        return reply(ctx, IPCN_OK, "%llu %llu %llu %llu %llu %llu %llu %llu",
                     (unsigned long long)ss.received,
                     (unsigned long long)ss.delivered,
                     (unsigned long long)ss.dropped, (unsigned long long)ss.lost,
                     (unsigned long long)ss.withheld,
                     (unsigned long long)ss.unmappable,
                     (unsigned long long)ss.resets,
                     (unsigned long long)ss.notices);
    }
    if (!strcmp(cmd, "rlimit")) {
        unsigned long long kb = 0;
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
                break;
        if (f)
            fclose(f);
        if (!kb)
            return IPCN_INTERNAL_ERROR;
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max =
            (rlim_t)(kb * 1024 + strtoull(a, NULL, 10) * 1024 * 1024);
        return setrlimit(RLIMIT_AS, &rl) == 0 ? IPCN_OK : IPCN_INTERNAL_ERROR;
    }
    if (!strcmp(cmd, "release")) {
        while (nheld)
            ipcn_msg_free(held[--nheld]);
        return IPCN_OK;
    }
    return IPCN_BAD_REQUEST;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    alarm((unsigned)(atoi(argv[2]) / 1000 + 1));
    if (ipcn_node_open(&node, argv[1], NULL) != IPCN_OK)
        return 1;
    char path[128];
    snprintf(path, sizeof path, "ctl/%s", argv[1]);
    if (ipcn_offer(node, path, "text/plain", on_ctl, NULL) != IPCN_OK)
        return 1;
    ipcn_node_start_thread(node);
    usleep((useconds_t)atoi(argv[2]) * 1000);
    ipcn_node_close(node);
    return 0;
}

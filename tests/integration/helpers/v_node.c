/* SPDX-License-Identifier: MIT */
/*
 * v_node.c — a scriptable IPCNet node for the integration tests of the
 * verbs (test_verbs_*.c, test_threads.c, test_events.c).
 *
 *   ipcn-test-v_node NAME LIFETIME_MS [SPEC...]
 *
 * It opens node NAME, sets up what the SPECs say, offers the control service
 * "ctl/NAME" last (so that a peer that sees ctl/NAME has seen everything
 * else) and dispatches until told to exit, until LIFETIME_MS passes, or
 * until its parent dies (PR_SET_PDEATHSIG and a getppid() check), so that
 * it never outlives a crashed test.
 *
 * SPECs, applied in order:
 *   hb=MS  dead=MS  txlimit=BYTES  maxpayload=BYTES  net=NAME   (options)
 *   data:PATH[:ENC]       announce a data resource
 *   datam:PATH:N          announce a data resource with N bytes of meta,
 *                         byte i = (i * 7 + 3) & 0xff
 *   stream:PATH[:ENC]     announce a stream
 *   pub:PATH:VALUE        publish a value
 *   echo:PATH             service: 100, the request's body and encoding
 *   err:PATH              service: 202, body "denied" (text/plain)
 *   app:PATH              service: 1234, body "app-error" (text/plain)
 *   hole:PATH             service: defers and never answers
 *   later:PATH            service: defers; another thread answers 100
 *                         "later:<body>" after 20 ms
 *   status:PATH           service: returns the status its body names
 *                         (decimal), body "s"
 *   noctl                 do not offer ctl/NAME
 *
 * Control requests (text, space-separated) to ctl/NAME; the reply status is
 * the status of the call made, the body its result:
 *   pub PATH VALUE              ipcn_publish
 *   burst PATH N [SIZE [FILE]]  publish N samples "v1".."vN" (or SIZE bytes
 *                               each); then create FILE if given
 *   announce PATH KIND ENC      ipcn_announce (KIND data|stream|service)
 *   withdraw PATH               ipcn_withdraw
 *   query PATH TIMEOUT          ipcn_query; body "SEQ VALUE", its encoding
 *   set PATH VALUE TIMEOUT      ipcn_set (text/plain); body: the new version
 *   request PATH BODY TIMEOUT   ipcn_request; body and encoding of the reply
 *   sub PATTERN DEPTH           ipcn_subscribe (pull mode); body: the id
 *   take ID TIMEOUT             ipcn_sub_take; body "STATUS SEQ PATH SRC DATA"
 *   substats ID                 body "received delivered dropped lost queued"
 *   stats                       body "drops peers frames_in frames_out"
 *   exit                        answer, then close the node and exit 0
 *
 * Exit status: 0 after "exit", 3 when the lifetime ran out, 4 on a bad
 * argument, else the status of a failed ipcn_node_open() (207 for a name
 * conflict; 300 and up less 100).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"

static ipcn_node *node;
static volatile int want_exit;
static char ctl_path[128];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- services ---- */

static int svc_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)n, (void)user;
    ipcn_reply_set(ctx, req->data, req->len, req->encoding);
    return IPCN_OK;
}

static int svc_err(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)req, (void)user;
    ipcn_reply_set(ctx, "denied", 6, "text/plain");
    return IPCN_FORBIDDEN;
}

static int svc_app(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)req, (void)user;
    ipcn_reply_set(ctx, "app-error", 9, "text/plain");
    return 1234;
}

static int svc_hole(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)n, (void)req, (void)user;
    (void)ipcn_reply_defer(ctx);
    return IPCN_ACCEPTED;
}

static int svc_status(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                      void *user)
{
    (void)n, (void)user;
    ipcn_reply_set(ctx, "s", 1, "text/plain");
    return atoi(req->data);
}

/* Deferred answers, from worker threads that are joined before close. */
#define MAX_LATER 256
struct later {
    ipcn_responder resp;
    char *body;
    size_t len;
};
static pthread_t later_threads[MAX_LATER];
static int nlater;

static void *later_main(void *arg)
{
    struct later *l = arg;
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    ipcn_respond(node, l->resp, IPCN_OK, l->body, l->len, "text/plain");
    free(l->body);
    free(l);
    return NULL;
}

static int svc_later(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                     void *user)
{
    (void)n, (void)user;
    struct later *l = calloc(1, sizeof *l);
    if (!l || nlater >= MAX_LATER) {
        free(l);
        return IPCN_TOO_MANY_REQUESTS;
    }
    l->len = req->len + 6;
    l->body = malloc(l->len + 1);
    memcpy(l->body, "later:", 6);
    memcpy(l->body + 6, req->data, req->len);
    l->resp = ipcn_reply_defer(ctx);
    if (pthread_create(&later_threads[nlater], NULL, later_main, l) != 0) {
        free(l->body);
        free(l);
        return IPCN_INTERNAL_ERROR;
    }
    nlater++;
    return IPCN_ACCEPTED;
}

/* ---- control ---- */

static ipcn_kind kind_of(const char *s)
{
    if (!strcmp(s, "data"))
        return IPCN_DATA;
    if (!strcmp(s, "stream"))
        return IPCN_STREAM;
    if (!strcmp(s, "service"))
        return IPCN_SERVICE;
    return (ipcn_kind)99;
}

static int reply_text(ipcn_reply_ctx *ctx, int st, const char *enc,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int reply_text(ipcn_reply_ctx *ctx, int st, const char *enc,
                      const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    if ((size_t)k >= sizeof buf)
        k = sizeof buf - 1;
    ipcn_reply_set(ctx, buf, (size_t)k, enc);
    return st;
}

static int do_burst(const char *path, long count, long size, const char *file)
{
    int st = IPCN_OK;
    char *buf = size > 0 ? malloc((size_t)size) : NULL;
    for (long i = 1; i <= count; i++) {
        int r;
        if (buf) {
            memset(buf, (int)('a' + i % 26), (size_t)size);
            r = ipcn_publish(node, path, buf, (size_t)size);
        } else {
            char v[32];
            int k = snprintf(v, sizeof v, "v%ld", i);
            r = ipcn_publish(node, path, v, (size_t)k);
        }
        if (r != IPCN_OK)
            st = r;
    }
    free(buf);
    if (file) {
        int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    return st;
}

static int svc_ctl(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)user;
    char cmd[1024];
    size_t len = req->len < sizeof cmd - 1 ? req->len : sizeof cmd - 1;
    memcpy(cmd, req->data, len);
    cmd[len] = 0;
    char *save = NULL;
    char *verb = strtok_r(cmd, " ", &save);
    char *a1 = strtok_r(NULL, " ", &save);
    char *a2 = strtok_r(NULL, " ", &save);
    char *a3 = strtok_r(NULL, " ", &save);
    char *a4 = strtok_r(NULL, " ", &save);
    if (!verb)
        return IPCN_BAD_REQUEST;
    if (!strcmp(verb, "pub") && a1 && a2)
        return ipcn_publish(n, a1, a2, strlen(a2));
    if (!strcmp(verb, "burst") && a1 && a2)
        return do_burst(a1, atol(a2), a3 ? atol(a3) : 0, a4);
    if (!strcmp(verb, "announce") && a1 && a2)
        return ipcn_announce(n, a1, kind_of(a2), a3, NULL, 0);
    if (!strcmp(verb, "withdraw") && a1)
        return ipcn_withdraw(n, a1);
    if (!strcmp(verb, "query") && a1 && a2) {
        ipcn_msg *m = NULL;
        int st = ipcn_query(n, a1, &m, atoi(a2));
        if (st == IPCN_OK && m) {
            st = reply_text(ctx, st, m->encoding, "%llu %s",
                            (unsigned long long)m->seq, (const char *)m->data);
            ipcn_msg_free(m);
        }
        return st;
    }
    if (!strcmp(verb, "set") && a1 && a2 && a3) {
        uint64_t ver = 0;
        int st = ipcn_set(n, a1, a2, strlen(a2), "text/plain", 0, atoi(a3),
                          &ver);
        return st == IPCN_OK ? reply_text(ctx, st, "text/plain", "%llu",
                                          (unsigned long long)ver)
                             : st;
    }
    if (!strcmp(verb, "request") && a1 && a2 && a3) {
        ipcn_msg *m = NULL;
        int st = ipcn_request(n, a1, a2, strlen(a2), "text/plain", &m, atoi(a3));
        if (m) {
            ipcn_reply_set(ctx, m->data, m->len, m->encoding);
            ipcn_msg_free(m);
        }
        return st;
    }
    if (!strcmp(verb, "sub") && a1) {
        ipcn_sub s;
        int st = ipcn_subscribe(n, a1, a2 ? (uint32_t)atol(a2) : 0, NULL, NULL, &s);
        if (st == IPCN_OK)
            st = reply_text(ctx, st, "text/plain", "%u", s.id);
        return st;
    }
    if (!strcmp(verb, "take") && a1 && a2) {
        ipcn_sub s = {(uint32_t)atol(a1)};
        ipcn_msg *m = NULL;
        int st = ipcn_sub_take(n, s, &m, atoi(a2));
        if (st == IPCN_OK && m) {
            st = reply_text(ctx, st, m->encoding, "%d %llu %s %s %s", m->status,
                            (unsigned long long)m->seq, m->path, m->src_name,
                            (const char *)m->data);
            ipcn_msg_free(m);
        }
        return st;
    }
    if (!strcmp(verb, "substats") && a1) {
        ipcn_sub s = {(uint32_t)atol(a1)};
        ipcn_sub_stats ss = {.size = sizeof ss};
        int st = ipcn_sub_get_stats(n, s, &ss);
        if (st == IPCN_OK)
            st = reply_text(ctx, st, "text/plain", "%llu %llu %llu %llu %u",
                            (unsigned long long)ss.received,
                            (unsigned long long)ss.delivered,
                            (unsigned long long)ss.dropped,
                            (unsigned long long)ss.lost, ss.queued);
        return st;
    }
    if (!strcmp(verb, "stats")) {
        ipcn_node_stats ns = {.size = sizeof ns};
        int st = ipcn_node_get_stats(n, &ns);
        return reply_text(ctx, st, "text/plain", "%llu %u %llu %llu",
                          (unsigned long long)ns.drops, ns.peers,
                          (unsigned long long)ns.frames_in,
                          (unsigned long long)ns.frames_out);
    }
    if (!strcmp(verb, "ready"))
        return ipcn_node_ready(n);
    if (!strcmp(verb, "peerstate") && a1) { /* "CRITICALITY READY" */
        ipcn_peer_list *pl = NULL;
        int st = ipcn_peers(n, &pl);
        if (st != IPCN_OK)
            return st;
        st = IPCN_NOT_FOUND;
        for (size_t i = 0; i < pl->count; i++) {
            ipcn_peer_info pi = {.size = sizeof pi};
            if (strcmp(pl->items[i].name, a1) ||
                ipcn_peer_list_get_info(pl, i, &pi) != IPCN_OK)
                continue;
            st = reply_text(ctx, IPCN_OK, "text/plain", "%u %d",
                            pi.criticality, pi.ready);
        }
        ipcn_peer_list_free(pl);
        return st;
    }
    if (!strcmp(verb, "exit")) {
        want_exit = 1;
        return IPCN_OK;
    }
    return IPCN_NOT_IMPLEMENTED;
}

/* ---- main ---- */

static char *field(char *s, int k)
{
    /* the k-th ':'-separated field (0 = the spec's verb), in place */
    for (int i = 0; i < k && s; i++) {
        s = strchr(s, ':');
        if (s)
            *s++ = 0;
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s NAME LIFETIME_MS [SPEC...]\n", argv[0]);
        return 4;
    }
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return 5;
    signal(SIGPIPE, SIG_IGN);
    const char *name = argv[1];
    uint64_t end = now_ms() + (uint64_t)atol(argv[2]);

    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    int first = 3;
    for (; first < argc; first++) {
        const char *s = argv[first];
        if (!strncmp(s, "hb=", 3))
            o.heartbeat_ms = (uint32_t)atol(s + 3);
        else if (!strncmp(s, "dead=", 5))
            o.dead_after_ms = (uint32_t)atol(s + 5);
        else if (!strncmp(s, "txlimit=", 8))
            o.tx_limit = (uint32_t)atol(s + 8);
        else if (!strncmp(s, "maxpayload=", 11))
            o.max_payload = (uint32_t)atol(s + 11);
        else if (!strncmp(s, "net=", 4))
            o.network = s + 4;
        else if (!strncmp(s, "crit=", 5))
            o.criticality = (uint32_t)atol(s + 5);
        else
            break;
    }
    int st = ipcn_node_open(&node, name, &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "v_node %s: open: %d %s\n", name, st, ipcn_status_str(st));
        return st < 256 ? st : st - 100;
    }
    int ctl = 1;
    for (int i = first; i < argc; i++) {
        char spec[1024];
        snprintf(spec, sizeof spec, "%s", argv[i]);
        if (!strcmp(spec, "noctl")) {
            ctl = 0;
            continue;
        }
        char *path = field(spec, 1);
        char *arg = path ? field(path, 1) : NULL;
        if (!path) {
            fprintf(stderr, "v_node %s: bad spec %s\n", name, argv[i]);
            return 4;
        }
        if (!strcmp(spec, "data") || !strcmp(spec, "stream"))
            st = ipcn_announce(node, path, !strcmp(spec, "data") ? IPCN_DATA : IPCN_STREAM,
                               arg, NULL, 0);
        else if (!strcmp(spec, "datam")) {
            size_t n = arg ? (size_t)atol(arg) : 0;
            unsigned char *meta = malloc(n ? n : 1);
            for (size_t k = 0; k < n; k++)
                meta[k] = (unsigned char)((k * 7 + 3) & 0xff);
            st = ipcn_announce(node, path, IPCN_DATA, "application/cbor", meta, n);
            free(meta);
        } else if (!strcmp(spec, "pub"))
            st = ipcn_publish(node, path, arg ? arg : "", arg ? strlen(arg) : 0);
        else if (!strcmp(spec, "echo"))
            st = ipcn_offer(node, path, "text/plain", svc_echo, NULL);
        else if (!strcmp(spec, "err"))
            st = ipcn_offer(node, path, "text/plain", svc_err, NULL);
        else if (!strcmp(spec, "app"))
            st = ipcn_offer(node, path, "text/plain", svc_app, NULL);
        else if (!strcmp(spec, "hole"))
            st = ipcn_offer(node, path, "text/plain", svc_hole, NULL);
        else if (!strcmp(spec, "status"))
            st = ipcn_offer(node, path, "text/plain", svc_status, NULL);
        else if (!strcmp(spec, "later"))
            st = ipcn_offer(node, path, "text/plain", svc_later, NULL);
        else {
            fprintf(stderr, "v_node %s: bad spec %s\n", name, argv[i]);
            return 4;
        }
        if (!IPCN_IS_OK(st)) {
            fprintf(stderr, "v_node %s: %s: %d %s\n", name, argv[i], st,
                    ipcn_status_str(st));
            ipcn_node_close(node);
            return 4;
        }
    }
    if (ctl) {
        snprintf(ctl_path, sizeof ctl_path, "ctl/%s", name);
        st = ipcn_offer(node, ctl_path, "text/plain", svc_ctl, NULL);
        if (st != IPCN_OK) {
            fprintf(stderr, "v_node %s: offer ctl: %d\n", name, st);
            ipcn_node_close(node);
            return 4;
        }
    }
    int rc = 3;
    while (now_ms() < end) {
        if (getppid() != parent)
            break;
        ipcn_node_dispatch(node, 50);
        if (want_exit) {
            rc = 0;
            break;
        }
    }
    for (int i = 0; i < nlater; i++)
        pthread_join(later_threads[i], NULL);
    ipcn_node_close(node);
    return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_service.c — services: offer (--echo, or --exec CMD run per request
 * with the request on its stdin and its stdout as the answer) and call.
 *
 * --exec runs the command in a child and answers later (ipcn_reply_defer),
 * so the node keeps dispatching — and stays alive for its peers — however
 * long the command takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cbor.h"
#include "cli.h"
#include "util.h"

#define MAX_JOBS 8
#define MAX_OUTPUT (16u << 20)

typedef struct job {
    bool used, exited, timed_out, too_big;
    pid_t pid;
    int pidfd, in_fd, out_fd, err_fd;
    int wstatus;
    sbuf in, outb, errb;
    size_t in_off;
    ipcn_responder resp;
    uint64_t deadline_ns;
    uint64_t nr;
    char from[72];
} job;

typedef struct offer_state {
    cli *c;
    const char *path;
    job jobs[MAX_JOBS];
    long long served;   /* answered */
    uint64_t nr;        /* requests seen */
} offer_state;

/* undelivered: why the answer did not reach the requester (0: it did) */
static void log_request(offer_state *o, uint64_t nr, const char *from,
                        const char *enc, const void *data, size_t len, int status,
                        int undelivered)
{
    cli *c = o->c;
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "request");
        jw_uint(&j, "nr", nr);
        jw_str(&j, "path", o->path);
        jw_str(&j, "from", from);
        jw_int(&j, "status", status);
        if (undelivered)
            jw_int(&j, "undelivered", undelivered);
        value_json(&j, enc, data, len);
        jw_end_obj(&j);
        emit(&j);
    } else {
        sbuf b = {0};
        value_text(&b, enc, data, len, true);
        out("#%llu from %s: %s -> %d %s", (unsigned long long)nr, from, b.p,
            status, ipcn_status_str(status));
        if (undelivered)
            out(" (not delivered: %d %s)", undelivered, ipcn_status_str(undelivered));
        out("\n");
        out_flush();
        sb_free(&b);
    }
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int spawn(offer_state *o, job *j, const ipcn_msg *req)
{
    int in[2], outp[2], errp[2];
    /* A CBOR request reaches the command as JSON text (shell tools read
     * text); IPCNET_REQUEST_ENCODING then says application/json. */
    sbuf input = {0};
    const char *in_enc = req->encoding ? req->encoding : "";
    jval *jv;
    if (req->len && enc_is_cbor(req->encoding) &&
        cbor_to_json(req->data, req->len, &jv) == 0) {
        json_write(&input, jv, -1);
        json_free(jv);
        in_enc = "application/json";
    } else {
        sb_putn(&input, req->data, req->len);
    }
    if (pipe2(in, O_CLOEXEC) < 0) {
        sb_free(&input);
        return -1;
    }
    if (pipe2(outp, O_CLOEXEC) < 0) {
        close(in[0]), close(in[1]);
        sb_free(&input);
        return -1;
    }
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
        sb_free(&input);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
        close(errp[0]), close(errp[1]);
        sb_free(&input);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* do not outlive a killed offer */
        if (getppid() != parent)
            _exit(127);
        dup2(in[0], 0);
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setenv("IPCNET_REQUEST_PATH", o->path, 1);
        setenv("IPCNET_REQUEST_FROM", req->src_name ? req->src_name : "", 1);
        setenv("IPCNET_REQUEST_ENCODING", in_enc, 1);
        execl("/bin/sh", "sh", "-c", o->c->exec, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no race with a kill of the group */
    close(in[0]), close(outp[1]), close(errp[1]);
    memset(j, 0, sizeof *j);
    j->used = true;
    j->pid = pid;
    j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    j->in_fd = in[1];
    j->out_fd = outp[0];
    j->err_fd = errp[0];
    set_nonblock(j->in_fd);
    set_nonblock(j->out_fd);
    set_nonblock(j->err_fd);
    j->in = input; /* the job owns it now */
    if (!j->in.len) {
        close(j->in_fd);
        j->in_fd = -1;
    }
    snprintf(j->from, sizeof j->from, "%s", req->src_name ? req->src_name : "?");
    j->deadline_ns = now_mono_ns() + (uint64_t)o->c->exec_timeout_ms * 1000000ull;
    return 0;
}

static int on_request(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                      void *user)
{
    (void)node;
    offer_state *o = user;
    cli *c = o->c;
    uint64_t nr = ++o->nr;
    if (c->echo) {
        ipcn_reply_set(ctx, req->data, req->len, req->encoding);
        log_request(o, nr, req->src_name, req->encoding, req->data, req->len, IPCN_OK, 0);
        o->served++;
        return IPCN_OK;
    }
    if (req->len && enc_is_cbor(req->encoding) &&
        ipcn_cbor_check(req->data, req->len, 0) != IPCN_OK) {
        /* Never handed to the command raw: it expects JSON text. */
        static const char msg[] = "the request is not one well-formed CBOR item";
        ipcn_reply_set(ctx, msg, sizeof msg - 1, "text/plain");
        log_request(o, nr, req->src_name, req->encoding, req->data, req->len,
                    IPCN_BAD_REQUEST, 0);
        o->served++;
        return IPCN_BAD_REQUEST;
    }
    job *j = NULL;
    for (int i = 0; i < MAX_JOBS && !j; i++)
        if (!o->jobs[i].used)
            j = &o->jobs[i];
    if (!j) {
        static const char msg[] = "too many requests running";
        ipcn_reply_set(ctx, msg, sizeof msg - 1, "text/plain");
        log_request(o, nr, req->src_name, req->encoding, req->data, req->len,
                    IPCN_TOO_MANY_REQUESTS, 0);
        o->served++;
        return IPCN_TOO_MANY_REQUESTS;
    }
    if (spawn(o, j, req) < 0) {
        char msg[128];
        int n = snprintf(msg, sizeof msg, "cannot start the command: %s", strerror(errno));
        ipcn_reply_set(ctx, msg, (size_t)n, "text/plain");
        log_request(o, nr, req->src_name, req->encoding, req->data, req->len,
                    IPCN_INTERNAL_ERROR, 0);
        o->served++;
        return IPCN_INTERNAL_ERROR;
    }
    j->nr = nr;
    j->resp = ipcn_reply_defer(ctx);
    return IPCN_ACCEPTED;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read what is there; false at EOF or error. */
static bool drain(job *j, int *fd, sbuf *b)
{
    char buf[65536];
    for (;;) {
        ssize_t r = read(*fd, buf, sizeof buf);
        if (r > 0) {
            if (b->len + (size_t)r > MAX_OUTPUT) {
                j->too_big = true;
                close_fd(fd);
                return false;
            }
            sb_putn(b, buf, (size_t)r);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return true;
        close_fd(fd);
        return false;
    }
}

static void trim(sbuf *b)
{
    while (b->len && (b->p[b->len - 1] == '\n' || b->p[b->len - 1] == '\r'))
        b->p[--b->len] = 0;
}

static void finish(offer_state *o, job *j)
{
    cli *c = o->c;
    int status;
    const char *enc;
    sbuf body = {0};
    if (j->timed_out) {
        status = IPCN_GATEWAY_TIMEOUT;
        sb_printf(&body, "the command did not finish within %d ms", c->exec_timeout_ms);
        enc = "text/plain";
    } else if (j->too_big) {
        status = IPCN_INSUFFICIENT_STORAGE;
        sb_printf(&body, "the command wrote more than %u bytes", MAX_OUTPUT);
        enc = "text/plain";
    } else if (WIFEXITED(j->wstatus) && WEXITSTATUS(j->wstatus) == 0) {
        status = IPCN_OK;
        sbuf *s = &j->outb;
        jval *v;
        if (c->reply_encoding) {
            enc = c->reply_encoding;
            sb_putn(&body, s->p ? s->p : "", s->len);
        } else if (s->len && json_parse(s->p, s->len, &v, NULL, 0) == 0) {
            /* JSON from the command travels as CBOR, as VALUE does. */
            enc = "cbor";
            if (cbor_from_json(&body, v, NULL, 0) < 0) {
                body.len = 0;
                enc = "application/json";
                json_write(&body, v, -1);
            }
            json_free(v);
        } else if (utf8_valid(s->p, s->len)) {
            enc = "text/plain; charset=utf-8";
            sb_putn(&body, s->p ? s->p : "", s->len);
        } else {
            enc = "application/octet-stream";
            sb_putn(&body, s->p, s->len);
        }
    } else {
        status = IPCN_INTERNAL_ERROR;
        sbuf *s = j->errb.len ? &j->errb : &j->outb;
        trim(s);
        if (WIFEXITED(j->wstatus))
            sb_printf(&body, "the command exited with status %d", WEXITSTATUS(j->wstatus));
        else
            sb_printf(&body, "the command was killed by signal %d", WTERMSIG(j->wstatus));
        if (s->len)
            sb_printf(&body, ": %.*s", (int)(s->len > 4000 ? 4000 : s->len), s->p);
        enc = "text/plain";
    }
    int st = ipcn_respond(c->node, j->resp, status, body.p, body.len, enc);
    log_request(o, j->nr, j->from, enc, body.p, body.len, status,
                st == IPCN_OK ? 0 : st);
    o->served++;
    sb_free(&body);
    close_fd(&j->in_fd);
    close_fd(&j->out_fd);
    close_fd(&j->err_fd);
    close_fd(&j->pidfd);
    sb_free(&j->in);
    sb_free(&j->outb);
    sb_free(&j->errb);
    j->used = false;
}

/* Advance the jobs after a round of poll; extra[] as built by offer_fds(). */
static void offer_jobs(offer_state *o)
{
    uint64_t now = now_mono_ns();
    for (int i = 0; i < MAX_JOBS; i++) {
        job *j = &o->jobs[i];
        if (!j->used)
            continue;
        if (j->in_fd >= 0) {
            while (j->in_off < j->in.len) {
                ssize_t w = write(j->in_fd, j->in.p + j->in_off, j->in.len - j->in_off);
                if (w > 0) {
                    j->in_off += (size_t)w;
                    continue;
                }
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0 && errno == EAGAIN)
                    break;
                j->in_off = j->in.len; /* EPIPE: it does not read its input */
            }
            if (j->in_off >= j->in.len)
                close_fd(&j->in_fd);
        }
        if (j->out_fd >= 0)
            drain(j, &j->out_fd, &j->outb);
        if (j->err_fd >= 0)
            drain(j, &j->err_fd, &j->errb);
        if (!j->exited && (j->too_big || now >= j->deadline_ns) && !j->timed_out) {
            j->timed_out = !j->too_big;
            kill(-j->pid, SIGKILL);
        }
        if (!j->exited && waitpid(j->pid, &j->wstatus, WNOHANG) == j->pid)
            j->exited = true;
        if (j->exited) {
            /* What it wrote before it exited is in the pipes now; anything
             * a left-over grandchild writes later is not our answer. */
            if (j->out_fd >= 0)
                drain(j, &j->out_fd, &j->outb);
            if (j->err_fd >= 0)
                drain(j, &j->err_fd, &j->errb);
            finish(o, j);
        }
    }
}

static int offer_fds(offer_state *o, struct pollfd *pf, int max, int *timeout)
{
    int n = 0;
    uint64_t now = now_mono_ns();
    for (int i = 0; i < MAX_JOBS; i++) {
        job *j = &o->jobs[i];
        if (!j->used || n + 4 > max)
            continue;
        if (j->in_fd >= 0)
            pf[n++] = (struct pollfd){.fd = j->in_fd, .events = POLLOUT};
        if (j->out_fd >= 0)
            pf[n++] = (struct pollfd){.fd = j->out_fd, .events = POLLIN};
        if (j->err_fd >= 0)
            pf[n++] = (struct pollfd){.fd = j->err_fd, .events = POLLIN};
        if (j->pidfd >= 0)
            pf[n++] = (struct pollfd){.fd = j->pidfd, .events = POLLIN};
        int left = j->deadline_ns > now ? (int)((j->deadline_ns - now) / 1000000 + 1) : 0;
        int t = j->pidfd >= 0 ? left : (left < 20 ? left : 20);
        if (*timeout < 0 || t < *timeout)
            *timeout = t;
    }
    return n;
}

int cmd_offer(cli *c)
{
    const char *path = c->pos[0];
    if (c->echo == !!c->exec)
        return cli_usage_error(c->verb, "offer takes exactly one of --echo and --exec CMD");
    if (c->exec_timeout_ms < 0)
        c->exec_timeout_ms = 10000;
    static offer_state o;
    memset(&o, 0, sizeof o);
    o.c = c;
    o.path = path;
    int rc;
    cli_catch_signals();
    if ((rc = cli_open(c)) || (rc = cli_discover(c, NULL)) || cli_stop)
        return rc;
    const char *enc = c->encoding ? c->encoding : "cbor";
    int st = ipcn_offer(c->node, path, enc, on_request, &o);
    if (st != IPCN_OK)
        return cli_fail(st, st == IPCN_BAD_REQUEST
                                ? "cannot offer '%s': invalid path or encoding"
                                : "cannot offer %s", path);
    if (c->at_most_once) {
        ipcn_offer_opts oo;
        ipcn_offer_opts_init(&oo);
        oo.at_most_once = true;
        if ((st = ipcn_offer_set_opts(c->node, path, &oo)) != IPCN_OK)
            return cli_fail(st, "cannot offer %s at most once", path);
    }
    ipcn_node_ready(c->node); /* its peers (a supervisor) are told too */
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "ready");
        jw_str(&j, "path", path);
        jw_str(&j, "kind", "service");
        jw_str(&j, "node", c->node_name);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("offering service %s as node %s (%s; Ctrl-C to stop)\n", cli_wire_path(c, path),
            c->node_name, c->echo ? "echo" : c->exec);
        out_flush();
    }
    while (!cli_stop && (c->count < 0 || o.served < c->count)) {
        struct pollfd pf[48];
        int timeout = -1;
        int n = offer_fds(&o, pf, 48, &timeout);
        cli_pump(c, timeout, pf, n);
        offer_jobs(&o);
    }
    /* Stopped with requests still running: end them; the requesters get
     * 303 when the node leaves. */
    for (int i = 0; i < MAX_JOBS; i++) {
        job *j = &o.jobs[i];
        if (!j->used)
            continue;
        kill(-j->pid, SIGKILL);
        while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close_fd(&j->in_fd);
        close_fd(&j->out_fd);
        close_fd(&j->err_fd);
        close_fd(&j->pidfd);
        sb_free(&j->in);
        sb_free(&j->outb);
        sb_free(&j->errb);
        j->used = false;
    }
    cli_close(c);
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "event", "stopped");
        jw_str(&j, "path", path);
        jw_int(&j, "answered", o.served);
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("%lld request%s answered; withdrew %s\n", o.served,
            o.served == 1 ? "" : "s", path);
        out_flush();
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* call                                                                 */
/* ------------------------------------------------------------------ */

int cmd_call(cli *c)
{
    const char *path = c->pos[0];
    sbuf val = {0};
    const char *enc = NULL;
    int rc = 0;
    if (c->timeout_ms < 0)
        c->timeout_ms = 5000;
    if ((c->npos > 1 || c->file) &&
        (rc = value_from_args(c, c->npos > 1 ? c->pos[1] : NULL, &val, &enc)))
        return rc;
    /* Every provider is wanted for --all and --vote: the whole directory. */
    bool modes = c->all || c->vote || c->request_id;
    if ((rc = cli_open(c)) || (rc = cli_discover(c, c->all || c->vote ? NULL : path))) {
        sb_free(&val);
        return rc;
    }
    if (modes) {
        rc = call_modes(c, path, val.p, val.len, enc);
        sb_free(&val);
        return rc;
    }
    ipcn_msg *r = NULL;
    int st = ipcn_request(c->node, path, val.p, val.len, enc, &r, c->timeout_ms);
    size_t sent = val.len;
    sb_free(&val);
    if (!IPCN_IS_OK(st)) {
        if (r) {
            sbuf b = {0};
            if (r->len)
                value_text(&b, r->encoding, r->data, r->len, true);
            rc = cli_fail(st, "%s answered%s%s", path, b.len ? ": " : " with no body",
                          b.len ? b.p : "");
            sb_free(&b);
            ipcn_msg_free(r);
            return rc;
        }
        switch (st) {
        case IPCN_NOT_FOUND:
            return cli_fail(st, "no provider for %s", path);
        case IPCN_METHOD_NOT_ALLOWED:
            return cli_fail(st, "%s is not a service (try: ipcnet query or ipcnet echo)", path);
        case IPCN_GATEWAY_TIMEOUT:
            return cli_fail(st, "no answer from %s within %d ms", path, c->timeout_ms);
        case IPCN_SERVICE_UNAVAILABLE:
            return cli_fail(st, "every provider of %s left before answering", path);
        case IPCN_TOO_MANY_REQUESTS:
            return cli_fail(st, "the link to the provider of %s is saturated", path);
        case IPCN_BAD_REQUEST:
            if (sent > (16u << 20)) /* the default max_payload */
                return cli_fail(st, "cannot request %s: the request is too large "
                                "(%zu bytes, more than 16 MiB)", path, sent);
            return cli_fail(st, "cannot request '%s': invalid path", path);
        default:
            return cli_fail(st, "call %s failed", path);
        }
    }
    if (!r)
        return 0;
    if (c->raw) {
        value_raw(r->data, r->len);
    } else if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "path", path);
        jw_str(&j, "provider", r->src_name);
        jw_int(&j, "status", st);
        value_json(&j, r->encoding, r->data, r->len);
        jw_end_obj(&j);
        emit(&j);
    } else {
        sbuf b = {0};
        value_text(&b, r->encoding, r->data, r->len, false);
        out("%s\n", b.p);
        sb_free(&b);
        out_flush();
    }
    ipcn_msg_free(r);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * main.c — ipcnet-bridge-mqtt (also run as `ipcnet bridge mqtt`): the
 * command line, the MQTT connection (libmosquitto, MQTT 5 with a fall
 * back to 3.1.1, TLS, user and password, reconnection with back-off), and
 * the status line of the counters (on SIGUSR1 and at exit).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mqtt_protocol.h>

#include "bridge.h"

static const char usage_text[] =
    "usage: ipcnet bridge mqtt --broker mqtt://HOST[:PORT] [options]\n"
    "       (the program ipcnet-bridge-mqtt)\n\n"
    "Connect this IPCNet network to an MQTT broker (docs/bridges.md).\n\n"
    "  --broker URL        mqtt://HOST[:PORT] (1883) or mqtts://HOST[:PORT] (8883, TLS)\n"
    "  --cafile FILE       TLS: the CA certificate(s) that sign the broker's\n"
    "  --capath DIR        TLS: a directory of CA certificates\n"
    "  --cert FILE, --key FILE  TLS: this client's certificate and key\n"
    "  --user NAME         MQTT user name; the password comes from\n"
    "                      --password-file FILE (its first line) or\n"
    "                      $IPCNET_MQTT_PASSWORD, never the command line\n"
    "  --export PATTERN    publish the streams and data resources matching\n"
    "                      PATTERN on PREFIX+path (data: retained); repeatable\n"
    "  --import TOPIC[=PATH]  publish the MQTT messages of TOPIC (a filter) on\n"
    "                      IPCNet streams announced by the bridge; repeatable\n"
    "  --service PATH      offer PATH in IPCNet; requests go to MQTT responders\n"
    "                      on PREFIX_req/PATH (MQTT 5); repeatable\n"
    "  --call PATTERN      let MQTT clients call the IPCNet services matching\n"
    "                      PATTERN on PREFIX_call/PATH (MQTT 5); repeatable\n"
    "  --prefix P          topic prefix (default \"ipcnet/\")\n"
    "  --qos 0|1           of the bridge's publications (default 1)\n"
    "  --buffer N          outgoing messages kept while the broker is away or\n"
    "                      slow (default 1000); past it samples are dropped\n"
    "                      and counted\n"
    "  --buffer-bytes N    the same bound in payload bytes (default 64 MiB)\n"
    "  --json              publish CBOR values as JSON (application/json)\n"
    "  --mqtt-version 5|3  the protocol to speak (default 5, falling back to\n"
    "                      3.1.1 when the broker refuses it)\n"
    "  --timeout MS        bridged requests, both ways (default 5000)\n"
    "  --stats PATH        also hold the counters as data resource PATH (JSON)\n"
    "  --max-imports N     at most N imported streams (default 256); messages for\n"
    "                      more are counted (import_errors)\n"
    "  --origin HEX        this bridge's origin mark and MQTT client id suffix\n"
    "                      (default: a hash of the network and --name, stable)\n"
    "  --network NAME, --dir DIR, --name NAME (default \"mqtt-bridge\")\n\n"
    "Prints a line when connected, and the counters on SIGUSR1 and at exit\n"
    "(\"stats ...\"); runs until SIGINT or SIGTERM.\n";

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void br_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&log_lock);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&log_lock);
    va_end(ap);
}

void br_count(bridge *b, uint64_t *counter)
{
    pthread_mutex_lock(&b->lock);
    (*counter)++;
    pthread_mutex_unlock(&b->lock);
}

bool br_topic(const bridge *b, const char *sub, const char *path, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s%s", b->o.prefix, sub ? sub : "", path);
    return n > 0 && (size_t)n < cap;
}

const char *br_encoding(const char *ctype)
{
    if (!ctype)
        return "application/octet-stream";
    if (!strcmp(ctype, "application/cbor"))
        return "cbor";
    size_t n = 0;
    for (const char *c = ctype; *c; c++, n++)
        if (*c < 0x20 || *c > 0x7e || n >= 255)
            return "application/octet-stream";
    return n ? ctype : "application/octet-stream";
}

bool br_has_origin(const bridge *b, const mosquitto_property *props)
{
    const mosquitto_property *it = props;
    char *name = NULL, *value = NULL;
    bool first = true, found = false;
    while (!found && (it = mosquitto_property_read_string_pair(it, MQTT_PROP_USER_PROPERTY,
                                                               &name, &value, !first))) {
        first = false;
        found = !strcmp(name, "ipcnet-origin") && !strcmp(value, b->origin);
        free(name);
        free(value);
        name = value = NULL;
    }
    return found;
}

/* The counters as "k=v k=v ..." (json false) or a JSON object. */
/* Samples of the exports the bridge's node dropped before the bridge took
 * them (its queue was full) or that never reached it (lost on the way, by
 * sequence number): read while the node is open. */
static void read_sub_stats(bridge *b)
{
    uint64_t dropped = 0, lost = 0;
    for (int i = 0; b->node && i < b->nsubs; i++) {
        ipcn_sub_stats ss = {.size = sizeof ss};
        if (ipcn_sub_get_stats(b->node, b->subs[i], &ss) == IPCN_OK) {
            dropped += ss.dropped;
            lost += ss.lost;
        }
    }
    if (b->node) {
        b->sub_dropped = dropped;
        b->sub_lost = lost;
    }
}

static void format_stats(bridge *b, bool json, char *out, size_t cap)
{
    read_sub_stats(b);
    uint64_t sub_dropped = b->sub_dropped, sub_lost = b->sub_lost;
    pthread_mutex_lock(&b->lock);
    br_counters c = b->c;
    bool conn = b->connected;
    size_t q = b->queued;
    int v = atomic_load(&b->version);
    pthread_mutex_unlock(&b->lock);
    const struct {
        const char *k;
        uint64_t v;
    } kv[] = {{"connected", conn},          {"exported", c.exported},
              {"published", c.published},   {"buffered", q},
              {"dropped", c.dropped},       {"sub_dropped", sub_dropped},
              {"sub_lost", sub_lost},       {"resent", c.resent},
              {"imported", c.imported},     {"import_errors", c.import_errors},
              {"loops", c.loops},           {"export_errors", c.export_errors},
              {"denied", c.denied},         {"not_found", c.not_found},
              {"requests", c.requests},     {"calls", c.calls},
              {"calls_refused", c.calls_refused},
              {"connects", c.connects},     {"disconnects", c.disconnects}};
    size_t len = 0;
    int n = json ? snprintf(out, cap, "{\"mqtt\":\"%s\"", v == 5 ? "5" : "3.1.1")
                 : snprintf(out, cap, "stats connected=%d mqtt=%s", conn, v == 5 ? "5" : "3.1.1");
    if (n < 0 || (size_t)n >= cap)
        return;
    len = (size_t)n;
    for (size_t i = json ? 0 : 1; i < sizeof kv / sizeof kv[0]; i++) {
        n = json ? snprintf(out + len, cap - len, ",\"%s\":%" PRIu64, kv[i].k, kv[i].v)
                 : snprintf(out + len, cap - len, " %s=%" PRIu64, kv[i].k, kv[i].v);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
    if (json && len + 1 < cap)
        memcpy(out + len, "}", 2);
}

static void print_stats(bridge *b)
{
    char line[1024];
    format_stats(b, false, line, sizeof line);
    br_log("%s", line);
}

/* --stats PATH: the counters as the value of a data resource, when they
 * changed (at most every 200 ms, the main loop's tick). */
static void publish_stats(bridge *b, char *last, size_t cap)
{
    char now[1024];
    format_stats(b, true, now, sizeof now);
    if (!strcmp(now, last))
        return;
    char abs[300];
    snprintf(abs, sizeof abs, "/%s", b->o.stats_path);
    if (ipcn_publish(b->node, abs, now, strlen(now)) == IPCN_OK)
        snprintf(last, cap, "%s", now);
}

/* ---- MQTT callbacks (libmosquitto's loop thread) ---- */

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    bridge *b = obj;
    (void)flags, (void)props;
    int v = atomic_load(&b->version);
    if (rc == 0) {
        br_count(b, &b->c.connects);
        br_log("connected %s:%d MQTT %s%s", b->o.host, b->o.port, v == 5 ? "5" : "3.1.1",
               v == 5 ? "" : " (off: No Local, properties, services)");
        b->subs_pending = 0;
        br_import_subscribe(b);
        br_service_subscribe(b);
        br_out_connected(b);
        return;
    }
    /* A refusal.  Under MQTT 5 libmosquitto (2.0) then ends its loop
     * (the main thread sees it and connects again, with back-off); a
     * broker that only speaks 3.1.1 answers "unacceptable protocol
     * version" (rc 1 of 3.1.1, which libmosquitto reports as 0x84). */
    if (v == 5 && !b->fallback_tried &&
        (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION || rc == 1 /* 3.1.1 refusal */)) {
        b->fallback_tried = true;
        atomic_store(&b->version, 4);
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        br_log("the broker refuses MQTT 5: falling back to 3.1.1");
        return;
    }
    br_log("connection refused: %s", v == 5 ? mosquitto_reason_string(rc)
                                            : mosquitto_connack_string(rc));
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc,
                          const mosquitto_property *props)
{
    bridge *b = obj;
    (void)m, (void)props;
    bool stopping = atomic_load(&b->stopping);
    pthread_mutex_lock(&b->lock);
    bool was = b->connected;
    if (was && !stopping)
        b->c.disconnects++;
    pthread_mutex_unlock(&b->lock);
    br_out_disconnected(b);
    if (was && !stopping)
        br_log("disconnected (%s): reconnecting", mosquitto_strerror(rc));
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *props)
{
    bridge *b = obj;
    (void)m, (void)props;
    if (reason >= 0x80)
        br_log("the broker refused publication %d: %s (dropped)", mid,
               mosquitto_reason_string(reason));
    br_out_acked(b, mid, reason >= 0x80);
}

/* A SUBACK: once every subscription of this connection is in place, say
 * so ("subscribed"): from then on nothing published for the bridge is
 * missed. */
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    bridge *b = obj;
    (void)m, (void)mid, (void)props;
    for (int i = 0; i < n; i++)
        if (granted[i] >= 0x80)
            br_log("a subscription was refused by the broker: %s",
                   mosquitto_reason_string(granted[i]));
    if (b->subs_pending > 0 && --b->subs_pending == 0)
        br_log("subscribed");
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    bridge *b = obj;
    (void)m;
    if (!br_service_message(b, msg, props))
        br_import_message(b, msg, props);
}

/* libmosquitto's loop, in the bridge's thread, for one connection: it
 * ends when the connection does (refused, lost, or never made), and the
 * main thread, seeing loop_ended, connects again with its back-off. */
static void *loop_main(void *arg)
{
    bridge *b = arg;
    int rc;
    do
        rc = mosquitto_loop(b->mosq, 1000, 1);
    while (rc == MOSQ_ERR_SUCCESS);
    b->loop_rc = rc;
    b->loop_errno = errno;
    atomic_store(&b->loop_ended, true);
    return NULL;
}

/* ---- the command line ---- */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "200 Bad Request: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(ipcnet bridge mqtt --help)\n");
    va_end(ap);
    return 2;
}

static bool parse_broker(br_opts *o, const char *url)
{
    const char *h;
    if (!strncmp(url, "mqtt://", 7)) {
        h = url + 7;
        o->port = 1883;
    } else if (!strncmp(url, "mqtts://", 8)) {
        h = url + 8;
        o->tls = true;
        o->port = 8883;
    } else
        return false;
    const char *colon, *end;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end)
            return false;
        h++;
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] && !colon)
            return false;
    } else {
        colon = strrchr(h, ':');
        end = colon ? colon : h + strlen(h);
    }
    size_t n = (size_t)(end - h);
    if (!n || n >= sizeof o->host)
        return false;
    memcpy(o->host, h, n);
    o->host[n] = 0;
    if (colon) {
        char *e;
        long p = strtol(colon + 1, &e, 10);
        if (!colon[1] || *e || p < 1 || p > 65535)
            return false;
        o->port = (int)p;
    }
    return true;
}

static char *read_password(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return NULL;
    char line[1024];
    char *r = fgets(line, sizeof line, f) ? strdup(line) : strdup("");
    fclose(f);
    if (r)
        r[strcspn(r, "\r\n")] = 0;
    return r;
}

static int parse(br_opts *o, int argc, char **argv)
{
    bool have_broker = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if (!strcmp(a, "--password"))
            return usage_error("%s: give the password in a file (--password-file) or "
                               "$IPCNET_MQTT_PASSWORD, not on the command line", a);
        if (i + 1 >= argc || strncmp(a, "--", 2))
            return usage_error("unknown or incomplete argument '%s'", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--broker")) {
            if (!parse_broker(o, v))
                return usage_error("--broker %s: expected mqtt://HOST[:PORT] or "
                                   "mqtts://HOST[:PORT]", v);
            have_broker = true;
        } else if (!strcmp(a, "--cafile"))
            o->cafile = v;
        else if (!strcmp(a, "--capath"))
            o->capath = v;
        else if (!strcmp(a, "--cert"))
            o->cert = v;
        else if (!strcmp(a, "--key"))
            o->key = v;
        else if (!strcmp(a, "--user"))
            o->user = v;
        else if (!strcmp(a, "--password-file")) {
            free(o->password);
            if (!(o->password = read_password(v)))
                return usage_error("--password-file %s: cannot read it", v);
        } else if (!strcmp(a, "--prefix"))
            o->prefix = v;
        else if (!strcmp(a, "--network"))
            o->network = v;
        else if (!strcmp(a, "--dir"))
            o->dir = v;
        else if (!strcmp(a, "--name"))
            o->name = v;
        else if (!strcmp(a, "--stats"))
            o->stats_path = v;
        else if (!strcmp(a, "--origin")) {
            size_t n = strlen(v);
            if (n < 1 || n > 16 || strspn(v, "0123456789abcdef") != n)
                return usage_error("--origin %s: 1 to 16 lower-case hex digits", v);
            o->origin = v;
        } else if (!strcmp(a, "--max-imports")) {
            char *e;
            long n = strtol(v, &e, 10);
            if (!*v || *e || n < 1 || n > 1000000)
                return usage_error("--max-imports %s: 1 to 1000000 streams", v);
            o->max_imports = (size_t)n;
        }
        else if (!strcmp(a, "--qos")) {
            if (strcmp(v, "0") && strcmp(v, "1"))
                return usage_error("--qos %s: 0 or 1", v);
            o->qos = v[0] - '0';
        } else if (!strcmp(a, "--buffer")) {
            char *e;
            long n = strtol(v, &e, 10);
            if (!*v || *e || n < 1 || n > 10000000)
                return usage_error("--buffer %s: 1 to 10000000 messages", v);
            o->buffer = (size_t)n;
        } else if (!strcmp(a, "--buffer-bytes")) {
            char *e;
            long long n = strtoll(v, &e, 10);
            if (!*v || *e || n < 1024 || n > (1ll << 40))
                return usage_error("--buffer-bytes %s: 1024 to 2^40", v);
            o->buffer_bytes = (size_t)n;
        } else if (!strcmp(a, "--timeout")) {
            char *e;
            long n = strtol(v, &e, 10);
            if (!*v || *e || n < 1 || n > 3600000)
                return usage_error("--timeout %s: 1 to 3600000 ms", v);
            o->timeout_ms = (int)n;
        } else if (!strcmp(a, "--mqtt-version")) {
            if (strcmp(v, "5") && strcmp(v, "3") && strcmp(v, "3.1.1"))
                return usage_error("--mqtt-version %s: 5 or 3 (3.1.1)", v);
            o->mqtt_version = v[0] == '5' ? 5 : 4;
        } else {
            const char **list = NULL;
            int *count = NULL;
            if (!strcmp(a, "--export"))
                list = o->exports, count = &o->nexports;
            else if (!strcmp(a, "--import"))
                list = o->imports, count = &o->nimports;
            else if (!strcmp(a, "--service"))
                list = o->services, count = &o->nservices;
            else if (!strcmp(a, "--call"))
                list = o->calls, count = &o->ncalls;
            else
                return usage_error("unknown option '%s'", a);
            if (*count >= BR_MAX_LIST)
                return usage_error("%s: at most 32 of them", a);
            list[(*count)++] = v;
        }
    }
    if (!have_broker)
        return usage_error("%s", "--broker is required");
    if (!o->password && o->user && getenv("IPCNET_MQTT_PASSWORD"))
        o->password = strdup(getenv("IPCNET_MQTT_PASSWORD"));
    return 0;
}

int main(int argc, char **argv)
{
    static bridge br;
    bridge *b = &br;
    b->o = (br_opts){.prefix = "ipcnet/", .qos = 1, .buffer = 1000,
                     .buffer_bytes = (size_t)64 << 20, .mqtt_version = 5,
                     .timeout_ms = 5000, .name = "mqtt-bridge", .max_imports = 256};
    int rc = parse(&b->o, argc, argv);
    if (rc)
        return rc;
    pthread_mutex_init(&b->lock, NULL);

    /* Signals go to the main thread only: block them before any thread. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    ipcn_node_opts no;
    ipcn_node_opts_init(&no);
    no.network = b->o.network;
    no.dir = b->o.dir;
    int st = ipcn_node_open(&b->node, b->o.name, &no);
    if (st != IPCN_OK) {
        fprintf(stderr, "%d %s: cannot join the network as '%s'\n", st, ipcn_status_str(st),
                b->o.name);
        free(b->o.password);
        return 1;
    }
    if (b->o.origin)
        snprintf(b->origin, sizeof b->origin, "%s", b->o.origin);
    else {
        /* stable across restarts: the bridge's own retained messages of
         * its previous run carry the same mark (dropped, not imported),
         * and the broker sees the same client id */
        uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
        const char *net = b->o.network ? b->o.network : "";
        for (const char *parts[] = {net, "\n", b->o.name}, **pp = parts; pp < parts + 3; pp++)
            for (const char *c = *pp; *c; c++)
                h = (h ^ (unsigned char)*c) * 1099511628211ull;
        snprintf(b->origin, sizeof b->origin, "%016" PRIx64, h);
    }
    snprintf(b->reply_topic, sizeof b->reply_topic, "%s_reply/%.16s", b->o.prefix, b->origin);
    atomic_store(&b->version, b->o.mqtt_version);

    mosquitto_lib_init();
    char client_id[64];
    snprintf(client_id, sizeof client_id, "ipcnet-%.16s", b->origin);
    b->mosq = mosquitto_new(client_id, true, b);
    if (!b->mosq) {
        fprintf(stderr, "307 Insufficient Memory: mosquitto_new\n");
        ipcn_node_close(b->node);
        return 1;
    }
    mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION,
                         b->o.mqtt_version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_connect_v5_callback_set(b->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(b->mosq, on_disconnect);
    mosquitto_publish_v5_callback_set(b->mosq, on_publish);
    mosquitto_message_v5_callback_set(b->mosq, on_message);
    mosquitto_subscribe_v5_callback_set(b->mosq, on_subscribe);
    mosquitto_threaded_set(b->mosq, true); /* its loop runs in loop_main() */
    if (b->o.user)
        mosquitto_username_pw_set(b->mosq, b->o.user, b->o.password);
    int exit_code = 0;
    if (b->o.tls || b->o.cafile || b->o.capath) {
        rc = mosquitto_tls_set(b->mosq, b->o.cafile, b->o.capath, b->o.cert, b->o.key, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "200 Bad Request: TLS: %s\n", mosquitto_strerror(rc));
            exit_code = 2;
            goto out;
        }
    }

    /* IPCNet first, so that nothing of the broker's reaches a half-made
     * bridge; samples exported before the connection wait in the buffer. */
    if (b->o.stats_path) {
        char abs[300];
        snprintf(abs, sizeof abs, "/%s", b->o.stats_path);
        st = ipcn_announce(b->node, abs, IPCN_DATA, "application/json", NULL, 0);
        if (st != IPCN_OK && st != IPCN_CREATED) {
            fprintf(stderr, "%d %s: --stats %s\n", st, ipcn_status_str(st), b->o.stats_path);
            exit_code = 1;
            goto out;
        }
    }
    char last_stats[1024] = "";
    if ((st = ipcn_node_start_thread(b->node)) != IPCN_OK ||
        (st = br_service_start(b)) != IPCN_OK || (st = br_export_start(b)) != IPCN_OK) {
        fprintf(stderr, "%d %s: cannot start the bridge\n", st, ipcn_status_str(st));
        exit_code = 1;
        goto out;
    }
    br_log("bridge %s ready: network %s, origin %s", ipcn_node_name(b->node),
           b->o.network ? b->o.network : "(default)", b->origin);

    /* The connection: mosquitto_connect_async (it does not block on TCP;
     * resolving the broker's name does), then libmosquitto's loop in a
     * thread of the bridge's (loop_main) until the connection ends:
     * refused (a wrong password; a 3.1.1-only broker, for the fall-back),
     * lost, or never made.  Then the main thread connects again after 1, 2,
     * 4, then every 8 s (at once for the fall-back to 3.1.1), starting
     * over from 1 s once connected. */
    bool started = false;
    int backoff_ms = 1000, wait_ms = 0, start_version = 0;
    uint64_t seen_connects = 0, start_connects = 0;
    for (;;) {
        if (started && atomic_load(&b->loop_ended)) {
            pthread_join(b->loop_thread, NULL);
            started = false;
            pthread_mutex_lock(&b->lock);
            uint64_t connects = b->c.connects;
            pthread_mutex_unlock(&b->lock);
            if (atomic_load(&b->version) != start_version) {
                wait_ms = 0; /* the fall-back: at once */
            } else {
                if (connects == start_connects)
                    br_log("cannot connect to %s:%d (%s): trying again in %d ms", b->o.host,
                           b->o.port,
                           b->loop_rc == MOSQ_ERR_ERRNO ? strerror(b->loop_errno)
                                                        : mosquitto_strerror(b->loop_rc),
                           backoff_ms);
                wait_ms = backoff_ms;
                backoff_ms = backoff_ms * 2 > 8000 ? 8000 : backoff_ms * 2;
            }
        }
        if (!started && wait_ms <= 0) {
            start_version = atomic_load(&b->version);
            pthread_mutex_lock(&b->lock);
            start_connects = b->c.connects;
            pthread_mutex_unlock(&b->lock);
            rc = mosquitto_connect_async(b->mosq, b->o.host, b->o.port, 10);
            if (rc == MOSQ_ERR_SUCCESS) {
                atomic_store(&b->loop_ended, false);
                if ((rc = pthread_create(&b->loop_thread, NULL, loop_main, b)) != 0) {
                    fprintf(stderr, "300 Internal Process Error: cannot start the MQTT "
                                    "thread: %s\n", strerror(rc));
                    exit_code = 1;
                    break;
                }
                started = true;
            } else {
                br_log("cannot connect to %s:%d (%s): trying again in %d ms", b->o.host,
                       b->o.port, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc),
                       backoff_ms);
                wait_ms = backoff_ms;
                backoff_ms = backoff_ms * 2 > 8000 ? 8000 : backoff_ms * 2;
            }
        }
        struct timespec ts = {0, 200 * 1000000L};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGUSR1)
            print_stats(b);
        else if (sig == SIGINT || sig == SIGTERM)
            break;
        else if (sig < 0)
            wait_ms -= 200;
        pthread_mutex_lock(&b->lock);
        uint64_t connects = b->c.connects;
        pthread_mutex_unlock(&b->lock);
        if (connects != seen_connects) {
            seen_connects = connects;
            backoff_ms = 1000; /* connected: the next loss starts over */
        }
        br_service_sweep(b, false);
        if (b->o.stats_path)
            publish_stats(b, last_stats, sizeof last_stats);
    }
    if (started) {
        /* What is buffered goes out before the bridge leaves, while the
         * broker takes it (at most 2 s); what is left is in the last
         * status line.  Then the loop ends once the DISCONNECT is out (it
         * waits at most 1 s in poll); should it not within 2 s, it is
         * cancelled. */
        br_out_flush(b, 2000);
        atomic_store(&b->stopping, true);
        mosquitto_disconnect(b->mosq);
        for (int i = 0; i < 100 && !atomic_load(&b->loop_ended); i++) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (!atomic_load(&b->loop_ended))
            pthread_cancel(b->loop_thread);
        pthread_join(b->loop_thread, NULL);
    }
out:
    read_sub_stats(b);
    ipcn_node_close(b->node);
    b->node = NULL;
    print_stats(b);
    br_service_free(b);
    br_export_free(b);
    br_import_free(b);
    br_out_free(b);
    mosquitto_destroy(b->mosq);
    mosquitto_lib_cleanup();
    free(b->o.password);
    return exit_code;
}

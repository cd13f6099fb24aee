/* SPDX-License-Identifier: MIT */
/*
 * outq.c — the bounded buffer of the bridge's outgoing publications.
 *
 * The bridge bounds what it has not delivered yet: a FIFO of at most
 * --buffer messages and --buffer-bytes bytes of payload.  A message is
 * counted in it until the broker acknowledged it (PUBACK, QoS 1) or it was
 * written (QoS 0).  QoS 1 messages are handed to libmosquitto at once (at
 * most BR_MAX_INFLIGHT unacknowledged), connected or not: libmosquitto
 * keeps them and sends them, again after a reconnect, in order, until
 * acknowledged (at least once, as QoS 1 promises); the bridge never sends
 * one a second time.  QoS 0 messages wait here while the broker is away.
 * A sample that finds the buffer full is not taken and is counted
 * (dropped): the only loss, and it is counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mqtt_protocol.h>

#include "bridge.h"

struct br_outmsg {
    br_outmsg *next;
    char *topic;
    void *data;
    size_t len;
    bool retain;
    char *ctype, *src, *status, *rtopic;
    uint64_t seq;
    void *corr;
    size_t corr_len;
    int mid;       /* 0: not handed to libmosquitto yet; -1: being handed;
                      else libmosquitto's until acknowledged (QoS 1) */
};

static void msg_free(br_outmsg *m)
{
    free(m->topic);
    free(m->data);
    free(m->ctype);
    free(m->src);
    free(m->status);
    free(m->rtopic);
    free(m->corr);
    free(m);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static mosquitto_property *props_of(bridge *b, const br_outmsg *m)
{
    if (b->version != 5)
        return NULL;
    mosquitto_property *p = NULL;
    if (m->ctype)
        mosquitto_property_add_string(&p, MQTT_PROP_CONTENT_TYPE, m->ctype);
    mosquitto_property_add_string_pair(&p, MQTT_PROP_USER_PROPERTY, "ipcnet-origin",
                                       b->origin);
    if (m->src)
        mosquitto_property_add_string_pair(&p, MQTT_PROP_USER_PROPERTY, "ipcnet-src",
                                           m->src);
    if (m->seq) {
        char s[24];
        snprintf(s, sizeof s, "%llu", (unsigned long long)m->seq);
        mosquitto_property_add_string_pair(&p, MQTT_PROP_USER_PROPERTY, "ipcnet-seq", s);
    }
    if (m->status)
        mosquitto_property_add_string_pair(&p, MQTT_PROP_USER_PROPERTY, "ipcnet-status",
                                           m->status);
    if (m->rtopic)
        mosquitto_property_add_string(&p, MQTT_PROP_RESPONSE_TOPIC, m->rtopic);
    if (m->corr)
        mosquitto_property_add_binary(&p, MQTT_PROP_CORRELATION_DATA, m->corr,
                                      (uint16_t)m->corr_len);
    return p;
}

/* Is mid among the acknowledgements that came before publish returned? */
static bool take_early(bridge *b, int mid)
{
    for (int i = 0; i < b->nearly; i++)
        if (b->early_acks[i] == mid) {
            b->early_acks[i] = b->early_acks[--b->nearly];
            return true;
        }
    return false;
}

static void remove_msg(bridge *b, br_outmsg *m, bool refused)
{
    br_outmsg **pp = &b->head, *prev = NULL;
    while (*pp && *pp != m) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = m->next;
    if (b->tail == m)
        b->tail = prev;
    b->queued--;
    b->queued_bytes -= m->len;
    if (refused)
        b->c.dropped++;
    else
        b->c.published++;
    msg_free(m);
}

/* Hand unsent messages to libmosquitto while the window allows.  Called
 * with the lock held; drops it around each mosquitto call.
 *
 * QoS 1: once mosquitto_publish_v5() took a message (success, or
 * MOSQ_ERR_NO_CONN: libmosquitto 2.0 queues it before it finds no
 * connection), it is libmosquitto's: it sends it, and again after a
 * reconnect, in order, until the broker acknowledges it.  The bridge keeps
 * it (counted against --buffer) until then and never publishes it again:
 * a second copy would be a duplicate, and an old retained value sent
 * after a newer one would replace it on the broker.  So QoS 1 messages are
 * handed over connected or not; only the window (BR_MAX_INFLIGHT) keeps
 * the rest here.  QoS 0: handed over only while connected, done when
 * written. */
static void pump(bridge *b)
{
    while (b->inflight < BR_MAX_INFLIGHT && (b->o.qos > 0 || b->connected)) {
        br_outmsg *m = b->head;
        while (m && m->mid)
            m = m->next;
        if (!m)
            return;
        m->mid = -1; /* being sent: no one else picks it */
        b->inflight++;
        b->publishing++;
        mosquitto_property *p = props_of(b, m);
        int mid = 0;
        pthread_mutex_unlock(&b->lock);
        int rc = mosquitto_publish_v5(b->mosq, &mid, m->topic, (int)m->len, m->data,
                                      b->o.qos, m->retain, p);
        mosquitto_property_free_all(&p);
        pthread_mutex_lock(&b->lock);
        b->publishing--;
        bool taken = rc == MOSQ_ERR_SUCCESS ||
                     (b->o.qos > 0 && (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST));
        if (taken && b->o.qos > 0) {
            m->mid = mid;
            if (take_early(b, mid)) {
                b->inflight--;
                remove_msg(b, m, false);
            }
        } else if (taken) {
            b->inflight--; /* QoS 0: written */
            remove_msg(b, m, false);
        } else {
            m->mid = 0;
            b->inflight--;
            if (rc != MOSQ_ERR_NO_CONN && rc != MOSQ_ERR_CONN_LOST) {
                br_log("publish %s refused: %s (dropped)", m->topic, mosquitto_strerror(rc));
                remove_msg(b, m, true);
                continue;
            }
            break; /* QoS 0, not connected: sent once connected */
        }
    }
    /* Acknowledgements kept for a publication still being handed over
     * are stale once none is: forget them (a 16-bit mid comes again). */
    if (!b->publishing)
        b->nearly = 0;
}

bool br_out_push(bridge *b, const char *topic, const void *data, size_t len,
                 bool retain, const char *content_type, const char *src,
                 uint64_t seq, const void *corr, size_t corr_len,
                 const char *status, const char *rtopic)
{
    pthread_mutex_lock(&b->lock);
    if (b->queued >= b->o.buffer || len > b->o.buffer_bytes - b->queued_bytes) {
        b->c.dropped++;
        pthread_mutex_unlock(&b->lock);
        return false;
    }
    br_outmsg *m = calloc(1, sizeof *m);
    if (m) {
        m->topic = strdup(topic);
        m->data = malloc(len ? len : 1);
        m->ctype = dup_or_null(content_type);
        m->src = dup_or_null(src);
        m->status = dup_or_null(status);
        m->rtopic = dup_or_null(rtopic);
        if (corr_len) {
            m->corr = malloc(corr_len);
            if (m->corr)
                memcpy(m->corr, corr, corr_len);
        }
    }
    if (!m || !m->topic || !m->data || (content_type && *content_type && !m->ctype) ||
        (corr_len && !m->corr) || (status && !m->status) ||
        (rtopic && !m->rtopic)) {
        if (m)
            msg_free(m);
        b->c.dropped++;
        pthread_mutex_unlock(&b->lock);
        return false;
    }
    if (len)
        memcpy(m->data, data, len);
    m->len = len;
    m->retain = retain;
    m->seq = seq;
    m->corr_len = corr_len;
    if (b->tail)
        b->tail->next = m;
    else
        b->head = m;
    b->tail = m;
    b->queued++;
    b->queued_bytes += len;
    pump(b);
    pthread_mutex_unlock(&b->lock);
    return true;
}

void br_out_connected(bridge *b)
{
    pthread_mutex_lock(&b->lock);
    /* libmosquitto sends again what it holds unacknowledged (QoS 1) */
    if (b->c.connects > 1)
        b->c.resent += b->inflight;
    b->connected = true;
    pump(b);
    pthread_mutex_unlock(&b->lock);
}

void br_out_disconnected(bridge *b)
{
    pthread_mutex_lock(&b->lock);
    b->connected = false; /* what libmosquitto holds stays in flight */
    pthread_mutex_unlock(&b->lock);
}

void br_out_acked(bridge *b, int mid, bool refused)
{
    pthread_mutex_lock(&b->lock);
    br_outmsg *m = b->o.qos > 0 ? b->head : NULL;
    while (m && m->mid != mid)
        m = m->next;
    if (m) {
        b->inflight--;
        remove_msg(b, m, refused);
    } else if (b->publishing &&
               b->nearly < (int)(sizeof b->early_acks / sizeof b->early_acks[0])) {
        /* maybe the message a publish call is handing over right now */
        b->early_acks[b->nearly++] = mid;
    }
    pump(b);
    pthread_mutex_unlock(&b->lock);
}

bool br_out_flush(bridge *b, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        pthread_mutex_lock(&b->lock);
        bool done = !b->queued || !b->connected;
        pthread_mutex_unlock(&b->lock);
        if (done || waited >= timeout_ms)
            return done;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void br_out_free(bridge *b)
{
    br_outmsg *m = b->head;
    while (m) {
        br_outmsg *n = m->next;
        msg_free(m);
        m = n;
    }
    b->head = b->tail = NULL;
    b->queued = 0;
    b->queued_bytes = 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/test/ros_peer.c - a stand-in for a ROS 2 node: a Cyclone
 * DDS program built from the same ROS 2 IDL with idlc, not linked to
 * libipcnet.  It speaks the ROS 2 wire form by itself (rt/, rq/, rr/, the
 * request header) and checks what the bridge sends it:
 *  - rt/camera/image_raw (sensor_msgs/Image): frames whose every field and
 *    pixel byte is the one ipcn_peer.c published (see pixel());
 *  - rt/robot/mode (std_msgs/String): "auto", read by a transient-local
 *    reader made only once test/done came (so after the bridge wrote the
 *    value: the latched value must reach a really late reader);
 *  - rt/robot/status (std_msgs/String, from a second bridge run with
 *    --best-effort): "ready", read late the same way (a data resource's
 *    writer stays reliable and transient local);
 *  - rt/robot/battery_level (std_msgs/String): "87", the IPCNet path
 *    robot/battery-level (or robot/battery.level), read late the same way;
 *  - publishes rt/raw (ipcnet_msgs/msg/Cbor) every 100 ms, "ok" as
 *    text/plain and "BAD" with an encoding IPCNet refuses (a control
 *    byte), in turn: the bridge must drop the latter, not publish it under
 *    the encoding announced before;
 *  - publishes rt/cmd_vel (geometry_msgs/Twist) TWIST every 100 ms until
 *    rt/test/done (std_msgs/String, transient local) says the IPCNet side
 *    has everything it waited for;
 *  - serves rq/reverseRequest -> rr/reverseReply (ipcnet_msgs/srv/Call):
 *    the bytes reversed;
 *  - reads rq/silentRequest and never answers (the bridge's 304);
 *  - serves rq/badencRequest -> rr/badencReply with an encoding IPCNet
 *    cannot carry (a control byte): the bridge answers its caller 302;
 *  - floods rq/robot/holdRequest (8 requests every 10 ms; ipcn_peer never
 *    answers): the bridge answers 205 beyond its 64 in flight;
 *  - calls rq/robot/upperRequest (an IPCNet service through the bridge)
 *    with "hello dds" and checks "HELLO DDS" in the reply with its GUID
 *    and sequence number.
 * Ends when every check passed and test/done came (exit 0), or at SIGTERM
 * or its deadline (exit 1).
 *
 *   ros_peer [seconds]        (the test)
 *   ros_peer bench-echo       (bench: echo rt/bench/ping to rt/bench/pong)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dds/dds.h>

#include "ipcnet_msgs.h"
#include "ros2_msgs.h"
#include "peer_common.h"

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static dds_entity_t endpoint(dds_entity_t pp, const dds_topic_descriptor_t *d,
                             const char *name, int writer, int transient)
{
    dds_entity_t t = dds_create_topic(pp, d, name, NULL, NULL);
    if (t < 0) {
        fprintf(stderr, "ros_peer: topic %s: %s\n", name, dds_strretcode(t));
        exit(1);
    }
    dds_qos_t *q = dds_create_qos();
    dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 10);
    if (transient)
        dds_qset_durability(q, DDS_DURABILITY_TRANSIENT_LOCAL);
    dds_entity_t e = writer ? dds_create_writer(pp, t, q, NULL)
                            : dds_create_reader(pp, t, q, NULL);
    dds_delete_qos(q);
    if (e < 0) {
        fprintf(stderr, "ros_peer: endpoint %s: %s\n", name, dds_strretcode(e));
        exit(1);
    }
    return e;
}

/* One Image: every field as ipcn_peer.c made it, each frame once and in
 * order (reliable; a path two --export patterns match is written once). */
static int check_image(const sensor_msgs_msg_dds__Image_ *m)
{
    static long last = -1;
    unsigned k;
    if (sscanf(m->header.frame_id, "frame-%u", &k) != 1)
        return fprintf(stderr, "ros_peer: frame_id %s\n", m->header.frame_id), 0;
    if ((long)k <= last)
        return fprintf(stderr, "ros_peer: frame %u after %ld\n", k, last), 0;
    last = k;
    uint64_t ns = (uint64_t)m->header.stamp.sec * 1000000000u + m->header.stamp.nanosec;
    if (ns != frame_stamp(k) || m->height != IMG_H || m->width != IMG_W ||
        strcmp(m->encoding, "rgb8") || m->is_bigendian || m->step != IMG_W * 3 ||
        m->data._length != IMG_H * IMG_W * 3)
        return fprintf(stderr, "ros_peer: image %u: wrong fields\n", k), 0;
    for (uint32_t i = 0; i < m->data._length; i++)
        if (m->data._buffer[i] != pixel(k, i))
            return fprintf(stderr, "ros_peer: image %u: byte %u\n", k, i), 0;
    return 1;
}

static int bench_echo(dds_entity_t pp)
{
    dds_entity_t r = endpoint(pp, &ipcnet_msgs_msg_dds__Cbor__desc, "rt/bench/ping", 0, 0);
    dds_entity_t w = endpoint(pp, &ipcnet_msgs_msg_dds__Cbor__desc, "rt/bench/pong", 1, 0);
    dds_entity_t ws = dds_create_waitset(pp);
    dds_waitset_attach(ws, dds_create_readcondition(r, DDS_ANY_STATE), 0);
    while (!stop) {
        dds_waitset_wait(ws, NULL, 0, DDS_MSECS(100));
        void *s[8] = {NULL};
        dds_sample_info_t in[8];
        dds_return_t n = dds_take(r, s, in, 8, 8);
        for (dds_return_t i = 0; i < n; i++)
            if (in[i].valid_data)
                dds_write(w, s[i]);
        if (n > 0)
            dds_return_loan(r, s, n);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 && strcmp(argv[1], "bench-echo") ? atoi(argv[1]) : 30;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    dds_entity_t pp = dds_create_participant(DDS_DOMAIN_DEFAULT, NULL, NULL);
    if (pp < 0)
        return fprintf(stderr, "ros_peer: participant: %s\n", dds_strretcode(pp)), 1;
    if (argc > 1 && !strcmp(argv[1], "bench-echo"))
        return bench_echo(pp);

    dds_entity_t img = endpoint(pp, &sensor_msgs_msg_dds__Image__desc, "rt/camera/image_raw", 0, 0);
    dds_entity_t mode = 0, status = 0, battery = 0; /* made late, see above */
    dds_entity_t done = endpoint(pp, &std_msgs_msg_dds__String__desc, "rt/test/done", 0, 1);
    dds_entity_t cmd = endpoint(pp, &geometry_msgs_msg_dds__Twist__desc, "rt/cmd_vel", 1, 0);
    dds_entity_t raw = endpoint(pp, &ipcnet_msgs_msg_dds__Cbor__desc, "rt/raw", 1, 0);
    dds_entity_t srv_rq = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Request__desc,
                                   "rq/reverseRequest", 0, 0);
    dds_entity_t srv_rr = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Response__desc,
                                   "rr/reverseReply", 1, 0);
    dds_entity_t silent_rq = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Request__desc,
                                      "rq/silentRequest", 0, 0);
    (void)silent_rq; /* matched, never taken: requests unanswered */
    dds_entity_t bad_rq = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Request__desc,
                                   "rq/badencRequest", 0, 0);
    dds_entity_t bad_rr = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Response__desc,
                                   "rr/badencReply", 1, 0);
    dds_entity_t cli_rq = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Request__desc,
                                   "rq/robot/upperRequest", 1, 0);
    dds_entity_t cli_rr = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Response__desc,
                                   "rr/robot/upperReply", 0, 0);
    dds_entity_t hold_rq = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Request__desc,
                                    "rq/robot/holdRequest", 1, 0);
    dds_entity_t hold_rr = endpoint(pp, &ipcnet_msgs_srv_dds__Call_Response__desc,
                                    "rr/robot/holdReply", 0, 0);
    int hold_sent = 0, hold_205 = 0;
    uint64_t my_guid = 0;
    dds_guid_t g;
    if (dds_get_guid(cli_rq, &g) == DDS_RETCODE_OK)
        memcpy(&my_guid, g.v + 8, 8);

    int images = 0, bad = 0, mode_ok = 0, served = 0, called = 0, done_seen = 0;
    int bad_served = 0, status_ok = 0, battery_ok = 0;
    int64_t seq = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long last_cmd = -1000, last_call = -1000;
    while (!stop) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > seconds * 1000L)
            break;
        void *s[8] = {NULL};
        dds_sample_info_t in[8];
        dds_return_t n = dds_take(img, s, in, 8, 8);
        for (dds_return_t i = 0; i < n; i++)
            if (in[i].valid_data)
                check_image(s[i]) ? images++ : bad++;
        if (n > 0)
            dds_return_loan(img, s, n);
        if (!mode && done_seen && images > 0) {
            mode = endpoint(pp, &std_msgs_msg_dds__String__desc, "rt/robot/mode", 0, 1);
            status = endpoint(pp, &std_msgs_msg_dds__String__desc, "rt/robot/status", 0, 1);
            battery = endpoint(pp, &std_msgs_msg_dds__String__desc,
                               "rt/robot/battery_level", 0, 1);
        }
        n = battery ? dds_take(battery, s, in, 8, 8) : 0;
        for (dds_return_t i = 0; i < n; i++)
            if (in[i].valid_data) {
                const char *d = ((std_msgs_msg_dds__String_ *)s[i])->data;
                if (!strcmp(d, "87"))
                    battery_ok = 1;
                else
                    bad++, fprintf(stderr, "ros_peer: battery %s\n", d);
            }
        if (n > 0)
            dds_return_loan(battery, s, n);
        n = status ? dds_take(status, s, in, 8, 8) : 0;
        for (dds_return_t i = 0; i < n; i++)
            if (in[i].valid_data) {
                const char *d = ((std_msgs_msg_dds__String_ *)s[i])->data;
                if (!strcmp(d, "ready"))
                    status_ok = 1;
                else
                    bad++, fprintf(stderr, "ros_peer: status %s\n", d);
            }
        if (n > 0)
            dds_return_loan(status, s, n);
        n = mode ? dds_take(mode, s, in, 8, 8) : 0;
        for (dds_return_t i = 0; i < n; i++)
            if (in[i].valid_data) {
                const char *d = ((std_msgs_msg_dds__String_ *)s[i])->data;
                if (!strcmp(d, "auto"))
                    mode_ok = 1;
                else
                    bad++, fprintf(stderr, "ros_peer: mode %s\n", d);
            }
        if (n > 0)
            dds_return_loan(mode, s, n);
        n = dds_take(done, s, in, 8, 8);
        for (dds_return_t i = 0; i < n; i++)
            done_seen |= in[i].valid_data;
        if (n > 0)
            dds_return_loan(done, s, n);
        if (done_seen && images > 0 && !bad && mode_ok && status_ok && battery_ok &&
            hold_205 > 0 && served > 0 &&
            called && bad_served > 0)
            break;
        /* the service the IPCNet node calls */
        n = dds_take(srv_rq, s, in, 8, 8);
        for (dds_return_t i = 0; i < n; i++) {
            if (!in[i].valid_data)
                continue;
            const ipcnet_msgs_srv_dds__Call_Request_ *rq = s[i];
            ipcnet_msgs_srv_dds__Call_Response_ rp;
            memset(&rp, 0, sizeof rp);
            rp.client_guid = rq->client_guid;
            rp.sequence_number = rq->sequence_number;
            rp.status = 100;
            rp.encoding = "text/plain";
            uint8_t buf[256];
            uint32_t len = rq->data._length < sizeof buf ? rq->data._length : 0;
            for (uint32_t k = 0; k < len; k++)
                buf[k] = rq->data._buffer[len - 1 - k];
            rp.data._buffer = buf;
            rp.data._length = rp.data._maximum = len;
            if (dds_write(srv_rr, &rp) == DDS_RETCODE_OK)
                served++;
        }
        if (n > 0)
            dds_return_loan(srv_rq, s, n);
        /* the service whose replies IPCNet cannot carry */
        n = dds_take(bad_rq, s, in, 8, 8);
        for (dds_return_t i = 0; i < n; i++) {
            if (!in[i].valid_data)
                continue;
            const ipcnet_msgs_srv_dds__Call_Request_ *rq = s[i];
            ipcnet_msgs_srv_dds__Call_Response_ rp;
            memset(&rp, 0, sizeof rp);
            rp.client_guid = rq->client_guid;
            rp.sequence_number = rq->sequence_number;
            rp.status = 100;
            rp.encoding = "text/plain\x01";
            rp.data._buffer = (uint8_t *)"x";
            rp.data._length = rp.data._maximum = 1;
            if (dds_write(bad_rr, &rp) == DDS_RETCODE_OK)
                bad_served++;
        }
        if (n > 0)
            dds_return_loan(bad_rq, s, n);
        /* the IPCNet service this node calls */
        n = dds_take(cli_rr, s, in, 8, 8);
        for (dds_return_t i = 0; i < n; i++) {
            if (!in[i].valid_data)
                continue;
            const ipcnet_msgs_srv_dds__Call_Response_ *rp = s[i];
            if (rp->client_guid != my_guid || rp->sequence_number != seq)
                continue;
            if (rp->status == 100 && rp->data._length == 9 &&
                !memcmp(rp->data._buffer, "HELLO DDS", 9))
                called = 1;
            else
                bad++, fprintf(stderr, "ros_peer: upper: status %d\n", rp->status);
        }
        if (n > 0)
            dds_return_loan(cli_rr, s, n);
        /* the flood of robot/hold, until one is answered 205 */
        n = dds_take(hold_rr, s, in, 8, 8);
        for (dds_return_t i = 0; i < n; i++)
            if (in[i].valid_data &&
                ((ipcnet_msgs_srv_dds__Call_Response_ *)s[i])->status == 205)
                hold_205++;
        if (n > 0)
            dds_return_loan(hold_rr, s, n);
        if (!hold_205 && hold_sent < 2000) {
            dds_publication_matched_status_t pm;
            dds_subscription_matched_status_t sm;
            dds_get_publication_matched_status(hold_rq, &pm);
            dds_get_subscription_matched_status(hold_rr, &sm);
            for (int k = 0; k < 8 && pm.current_count > 0 && sm.current_count > 0; k++) {
                ipcnet_msgs_srv_dds__Call_Request_ rq;
                memset(&rq, 0, sizeof rq);
                rq.client_guid = 1;
                rq.sequence_number = ++hold_sent;
                rq.encoding = "text/plain";
                rq.data._buffer = (uint8_t *)"x";
                rq.data._length = rq.data._maximum = 1;
                dds_write(hold_rq, &rq);
            }
        }
        if (!called && ms - last_call >= 500) {
            dds_publication_matched_status_t pm;
            dds_subscription_matched_status_t sm;
            dds_get_publication_matched_status(cli_rq, &pm);
            dds_get_subscription_matched_status(cli_rr, &sm);
            if (pm.current_count > 0 && sm.current_count > 0) {
                ipcnet_msgs_srv_dds__Call_Request_ rq;
                memset(&rq, 0, sizeof rq);
                rq.client_guid = my_guid;
                rq.sequence_number = ++seq;
                rq.encoding = "text/plain";
                rq.data._buffer = (uint8_t *)"hello dds";
                rq.data._length = rq.data._maximum = 9;
                dds_write(cli_rq, &rq);
                last_call = ms;
            }
        }
        if (ms - last_cmd >= 100) {
            geometry_msgs_msg_dds__Twist_ tw;
            memcpy(&tw, TWIST, sizeof tw);
            dds_write(cmd, &tw);
            last_cmd = ms;
            ipcnet_msgs_msg_dds__Cbor_ c;
            memset(&c, 0, sizeof c);
            int odd = (ms / 100) % 2;
            c.encoding = odd ? "text/plain\x01" : "text/plain";
            c.data._buffer = (uint8_t *)(odd ? "BAD" : "ok");
            c.data._length = c.data._maximum = odd ? 3 : 2;
            dds_write(raw, &c);
        }
        dds_sleepfor(DDS_MSECS(10));
    }
    dds_delete(pp);
    printf("ros_peer: robot/hold: %d sent, %d answered 205\n", hold_sent, hold_205);
    printf("ros_peer: images %d, bad %d, mode %s, status %s, battery %s, served %d, "
           "badenc served %d, call %s, done %s\n", images, bad, mode_ok ? "ok" : "missing",
           status_ok ? "ok" : "missing", battery_ok ? "ok" : "missing", served,
           bad_served,
           called ? "ok" : "missing", done_seen ? "yes" : "no");
    return images > 0 && !bad && mode_ok && status_ok && battery_ok && hold_205 > 0 &&
           served > 0 &&
           bad_served > 0 &&
           called &&
           done_seen ? 0 : 1;
}

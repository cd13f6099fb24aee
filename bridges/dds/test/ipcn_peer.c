/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/test/ipcn_peer.c - the IPCNet side of the DDS bridge test:
 * an IPCNet node (libipcnet only, no DDS) that
 *  - publishes the image stream camera/image_raw ("cbor;sensor=image",
 *    frames of peer_common.h) every 50 ms;
 *  - holds the data robot/mode = "auto" (text/plain), set before any DDS
 *    reader exists: a late ROS 2 reader gets it (transient local); and
 *    robot/status = "ready", exported by a second bridge run with
 *    --best-effort (its data writers stay reliable, transient local);
 *  - holds robot/battery-level = "87" (rt/robot/battery_level: '-' is
 *    mapped to '_') and robot/battery.level = "87" too, whose topic would
 *    be the same: the bridge refuses one of them and counts it;
 *  - offers robot/upper (text in, text upper-cased out), which ros_peer
 *    calls through the bridge;
 *  - offers robot/hold: defers every request and never answers (the
 *    bridge's --timeout ends them); ros_peer floods it and must get 205
 *    from the bridge beyond its 64 DDS requests in flight per service;
 *  - gets cmd_vel (geometry_msgs/Twist from ros_peer, imported by the
 *    bridge) and checks every bit of its six doubles;
 *  - calls ros/reverse (ros_peer's service, imported by the bridge);
 *  - gets raw (ipcnet_msgs/msg/Cbor from ros_peer, imported by the
 *    best-effort bridge): "ok" as text/plain, never "BAD" (sent by
 *    ros_peer with an encoding IPCNet refuses: dropped by the bridge);
 *  - calls ros/missing (imported by the bridge, no DDS server): 303 at
 *    once; ros/silent (its DDS server never answers): 304 after the
 *    bridge's --timeout;
 *  - calls ros/badenc (imported; its DDS server replies with an encoding
 *    IPCNet cannot carry): 302 from the bridge, not a timeout.
 * When the Twist and the replies came, sets test/done and waits for the
 * test's SIGTERM (sent once ros_peer is done), then exits 0; 1 at the
 * deadline (argv[1] seconds, default 30).
 */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipcnet.h"
#include "ipcnet_sensor.h"
#include "ipcnet_value.h"
#include "peer_common.h"

static atomic_int twist_ok, twist_bad, upper_served, raw_ok, raw_bad;

static void on_raw(ipcn_node *node, const ipcn_msg *m, void *user)
{
    if (m->status != IPCN_OK)
        return;
    if (m->len == 2 && !memcmp(m->data, "ok", 2) && !strcmp(m->encoding, "text/plain"))
        raw_ok++;
    else {
        raw_bad++;
        fprintf(stderr, "ipcn_peer: raw: %.*s as %s\n", (int)m->len,
                (const char *)m->data, m->encoding);
    }
}

/* Calls of imported services that must end with one status: state 0 to
 * ask, 1 asked, 2 got it, 3 got something else.  A call may be asked
 * again while the bridge's offer (203) or DDS discovery (303 from a
 * service that has a server) is not there yet. */
typedef struct probe {
    const char *path;
    int want;
    atomic_int state;
    long last;
} probe;
static probe probes[] = {
    {"ros/missing", IPCN_SERVICE_UNAVAILABLE, 0, -1000}, /* no DDS server */
    {"ros/silent", IPCN_GATEWAY_TIMEOUT, 0, -1000},      /* one never answering */
    {"ros/badenc", IPCN_BAD_GATEWAY, 0, -1000},          /* a bad encoding */
};
#define NPROBES (sizeof probes / sizeof probes[0])

static void on_probe(ipcn_node *node, int status, const ipcn_msg *reply,
                     void *user)
{
    probe *p = user;
    if (status == p->want)
        p->state = 2;
    else if (status == IPCN_NOT_FOUND || status == IPCN_SERVICE_UNAVAILABLE ||
             (status == IPCN_GATEWAY_TIMEOUT && p->want == IPCN_BAD_GATEWAY))
        p->state = 0; /* not offered or not matched yet: again */
    else
        fprintf(stderr, "ipcn_peer: %s: %d\n", p->path, status), p->state = 3;
}

static int probes_done(void)
{
    for (size_t i = 0; i < NPROBES; i++)
        if (probes[i].state != 2)
            return 0;
    return 1;
}

static void on_cmd(ipcn_node *node, const ipcn_msg *m, void *user)
{
    static const char *const P[6] = {"linear.x", "linear.y", "linear.z",
                                     "angular.x", "angular.y", "angular.z"};
    if (m->status != IPCN_OK)
        return;
    if (strcmp(m->encoding, "cbor;ros=geometry_msgs/msg/Twist")) {
        fprintf(stderr, "ipcn_peer: cmd_vel encoding %s\n", m->encoding);
        twist_bad++;
        return;
    }
    for (int i = 0; i < 6; i++) {
        double v;
        if (ipcn_cbor_map_get_double(m->data, m->len, P[i], &v) != IPCN_OK ||
            memcmp(&v, &TWIST[i], sizeof v)) {
            fprintf(stderr, "ipcn_peer: cmd_vel %s wrong\n", P[i]);
            twist_bad++;
            return;
        }
    }
    twist_ok++;
}

static atomic_int n_held;

static int on_hold(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    ipcn_reply_defer(ctx); /* never answered: the bridge's --timeout ends it */
    n_held++;
    return IPCN_ACCEPTED;
}

static int on_upper(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    char buf[256];
    if (req->len >= sizeof buf)
        return IPCN_BAD_REQUEST;
    for (size_t i = 0; i < req->len; i++)
        buf[i] = (char)toupper(((const unsigned char *)req->data)[i]);
    upper_served++;
    ipcn_reply_set(ctx, buf, req->len, "text/plain");
    return IPCN_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 30;
    /* SIGTERM waited for at the end (sigtimedwait), blocked in every
     * thread (the node's is made after this) */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    ipcn_node *node;
    int st = ipcn_node_open(&node, "ipcn-peer", NULL);
    if (st != IPCN_OK)
        return fprintf(stderr, "ipcn_peer: open: %d\n", st), 1;
    const char *img_enc = ipcn_sensor_encoding(IPCN_SENSOR_IMAGE);
    ipcn_sub sub;
    if (ipcn_announce(node, "camera/image_raw", IPCN_STREAM, img_enc, NULL, 0) / 100 != 1 ||
        ipcn_announce(node, "robot/mode", IPCN_DATA, "text/plain", NULL, 0) / 100 != 1 ||
        ipcn_announce(node, "test/done", IPCN_DATA, "text/plain", NULL, 0) / 100 != 1 ||
        ipcn_publish(node, "robot/mode", "auto", 4) != IPCN_OK ||
        ipcn_announce(node, "robot/status", IPCN_DATA, "text/plain", NULL, 0) / 100 != 1 ||
        ipcn_publish(node, "robot/status", "ready", 5) != IPCN_OK ||
        ipcn_announce(node, "robot/battery-level", IPCN_DATA, "text/plain", NULL, 0) / 100 != 1 ||
        ipcn_publish(node, "robot/battery-level", "87", 2) != IPCN_OK ||
        ipcn_announce(node, "robot/battery.level", IPCN_DATA, "text/plain", NULL, 0) / 100 != 1 ||
        ipcn_publish(node, "robot/battery.level", "87", 2) != IPCN_OK ||
        ipcn_offer(node, "robot/upper", "text/plain", on_upper, NULL) != IPCN_OK ||
        ipcn_offer(node, "robot/hold", "text/plain", on_hold, NULL) != IPCN_OK ||
        ipcn_subscribe(node, "cmd_vel", 16, on_cmd, NULL, &sub) != IPCN_OK ||
        ipcn_subscribe(node, "raw", 16, on_raw, NULL, &sub) != IPCN_OK ||
        ipcn_node_start_thread(node) != IPCN_OK)
        return fprintf(stderr, "ipcn_peer: setup failed\n"), 1;

    static uint8_t px[IMG_H * IMG_W * 3];
    int reverse_ok = 0, rc = 1;
    unsigned k = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long last_call = -1000;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > seconds * 1000L) {
            fprintf(stderr, "ipcn_peer: deadline: twist %d (bad %d), reverse %s, "
                            "upper served %d, ros/missing %d, ros/silent %d, ros/badenc %d, raw %d "
                            "(bad %d)\n", (int)twist_ok,
                    (int)twist_bad, reverse_ok ? "ok" : "missing",
                    (int)upper_served, (int)probes[0].state, (int)probes[1].state,
                    (int)probes[2].state,
                    (int)raw_ok, (int)raw_bad);
            break;
        }
        ipcn_image img;
        for (uint32_t i = 0; i < sizeof px; i++)
            px[i] = pixel(k, i);
        ipcn_image_init(&img, "rgb8", IMG_H, IMG_W, px);
        char fid[32];
        snprintf(fid, sizeof fid, "frame-%u", k);
        ipcn_sensor_header_set(&img.header, frame_stamp(k), fid);
        st = ipcn_publish_image(node, "camera/image_raw", &img);
        if (st != IPCN_OK)
            fprintf(stderr, "ipcn_peer: publish_image: %d\n", st);
        k++;
        if (!reverse_ok && ms - last_call >= 300) {
            ipcn_msg *r = NULL;
            last_call = ms;
            st = ipcn_request(node, "ros/reverse", "hello dds", 9, "text/plain", &r, 1000);
            if (st == IPCN_OK && r && r->len == 9 && !memcmp(r->data, "sdd olleh", 9) &&
                !strcmp(r->encoding, "text/plain"))
                reverse_ok = 1;
            else if (st == IPCN_OK)
                fprintf(stderr, "ipcn_peer: ros/reverse answered wrong\n");
            ipcn_msg_free(r);
        }
        for (size_t i = 0; i < NPROBES; i++) {
            probe *p = &probes[i];
            if (p->state != 0 || ms - p->last < 300)
                continue;
            p->last = ms;
            p->state = 1;
            st = ipcn_request_async(node, p->path, "x", 1, "text/plain", 10000,
                                    on_probe, p, NULL);
            if (st == IPCN_NOT_FOUND)
                p->state = 0;
            else if (st != IPCN_ACCEPTED)
                p->state = 3;
        }
        if (reverse_ok && twist_ok > 0 && !twist_bad && upper_served > 0 &&
            probes_done() && raw_ok > 0 && !raw_bad) {
            ipcn_publish(node, "test/done", "done", 4);
            rc = 0;
            break;
        }
        sleep_ms(50);
    }
    /* stay until the script stops us (SIGTERM, once ros_peer is done): no
     * guess at how long test/done takes to reach the bridge */
    if (raw_bad)
        rc = 1;
    if (rc == 0) {
        struct timespec left = {seconds, 0};
        int sig = sigtimedwait(&term, NULL, &left);
        if (sig != SIGTERM && sig != SIGINT) {
            fprintf(stderr, "ipcn_peer: not stopped by the test in %d s\n", seconds);
            rc = 1;
        }
    }
    printf("ipcn_peer: frames %u, twist %d, reverse %s, upper served %d, "
           "ros/missing %s, ros/silent %s, ros/badenc %s\n", k, (int)twist_ok,
           reverse_ok ? "ok" : "missing", (int)upper_served,
           probes[0].state == 2 ? "303" : "wrong", probes[1].state == 2 ? "304" : "wrong",
           probes[2].state == 2 ? "302" : "wrong");
    ipcn_node_close(node);
    return rc;
}

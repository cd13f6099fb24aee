/* SPDX-License-Identifier: MIT */
/*
 * arm.c — the demo robot's arm: it holds its pose in the data resource
 * robot/arm/pose (CBOR {"pose": "work" | "moving" | "rest", "angle": deg})
 * and swings while it works.  Asked for its safe state it answers 102 at
 * once, moves to its rest pose over the next few rounds of its loop, and
 * only then confirms with ipcn_shutdown_done(): the supervisor waits for
 * that confirmation (up to the manifest's safe_state deadline) before it
 * stops anything.
 */
#include <math.h>

#include "component.h"
#include "ipcnet_value.h"

#define POSE "robot/arm/pose"
#define STEP_DEG 15.0        /* how far it moves per 50 ms */

static double angle = 40.0;
static int resting;          /* 0 working, 1 moving to rest, 2 at rest */

static void publish_pose(ipcn_node *n)
{
    uint8_t buf[64];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "pose");
    ipcn_cbor_put_cstr(&w, resting == 2 ? "rest" : resting ? "moving" : "work");
    ipcn_cbor_put_cstr(&w, "angle");
    ipcn_cbor_put_float(&w, angle);
    if (ipcn_cbor_writer_finish(&w, &len) == IPCN_OK)
        ipcn_publish(n, POSE, buf, len);
}

static int on_safe_state(ipcn_node *n, const ipcn_shutdown_info *info,
                         void *user)
{
    (void)user;
    fprintf(stderr, "arm: moving to the rest pose (%u ms allowed)\n",
            info->deadline_ms);
    if (resting == 2)
        return IPCN_OK;
    resting = 1;
    publish_pose(n);
    return IPCN_ACCEPTED; /* confirmed when at rest */
}

int main(int argc, char **argv)
{
    ipcn_node *n = robot_open(argc, argv, "arm");
    ipcn_on_shutdown(n, IPCN_SHUTDOWN_SAFE_STATE, on_safe_state, NULL);
    if (ipcn_announce(n, POSE, IPCN_DATA, "cbor", NULL, 0) > IPCN_CREATED) {
        fprintf(stderr, "arm: cannot announce %s\n", POSE);
        return 1;
    }
    publish_pose(n);
    ipcn_node_ready(n);
    double t = 0;
    while (!robot_stop) {
        ipcn_node_dispatch(n, 50);
        if (resting == 1) {
            angle = fabs(angle) <= STEP_DEG ? 0.0
                    : angle - (angle > 0 ? STEP_DEG : -STEP_DEG);
            if (angle == 0.0) {
                resting = 2;
                robot_log(n, "safe_state", 1);
                ipcn_shutdown_done(n, IPCN_SHUTDOWN_SAFE_STATE, IPCN_OK);
            }
            publish_pose(n);
        } else if (resting == 0) {
            t += 0.05;
            angle = 40.0 * sin(t);
            publish_pose(n);
        }
    }
    ipcn_node_close(n);
    return 0;
}

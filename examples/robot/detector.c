/* SPDX-License-Identifier: MIT */
/*
 * detector.c — the demo robot's detector: it consumes the camera's frames
 * (robot/camera/frames) and publishes what it "detects" on the stream
 * robot/detections (CBOR {"frame": N, "objects": K}).  A consumer: the
 * shutdown stops it after the producers (the camera).
 */
#include "component.h"
#include "ipcnet_value.h"

#define FRAMES "robot/camera/frames"
#define DETECTIONS "robot/detections"

static uint64_t frames;

static void on_frame(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)user;
    if (m->status != IPCN_OK)
        return; /* the camera went away */
    frames++;
    uint8_t buf[64];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "frame");
    ipcn_cbor_put_uint(&w, m->seq);
    ipcn_cbor_put_cstr(&w, "objects");
    ipcn_cbor_put_uint(&w, m->len % 4); /* a stand-in for a model */
    if (ipcn_cbor_writer_finish(&w, &len) == IPCN_OK)
        ipcn_publish(n, DETECTIONS, buf, len);
}

int main(int argc, char **argv)
{
    ipcn_node *n = robot_open(argc, argv, "detector");
    ipcn_sub sub;
    if (ipcn_announce(n, DETECTIONS, IPCN_STREAM, "cbor", NULL, 0) > IPCN_CREATED ||
        ipcn_subscribe(n, FRAMES, 8, on_frame, NULL, &sub) != IPCN_OK) {
        fprintf(stderr, "detector: cannot set up its resources\n");
        return 1;
    }
    ipcn_node_ready(n);
    while (!robot_stop)
        ipcn_node_dispatch(n, 100);
    fprintf(stderr, "detector: %llu frames seen\n", (unsigned long long)frames);
    ipcn_node_close(n);
    return 0;
}

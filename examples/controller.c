/* SPDX-License-Identifier: MIT */
/*
 * controller.c — the controller of issue 21's trial, with the value
 * helpers of ipcnet_value.h: getters by path that convert, and a builder
 * that takes a format.  (examples/controller_raw.c is the same program
 * with the CBOR codec by hand, examples/controller.cpp with ipcn::Value.)
 *
 * It steers the base toward the best detection: it holds its parameters in
 * robot/controller/params ({"threshold": 0.5, "gain": 2}, settable with
 * `ipcnet set`), reads robot/detections ({"frame": N, "objects": [{"label":
 * "cup", "score": 0.9, "x": 0.4}, ...]}) and publishes robot/base/cmd
 * ({"frame": N, "linear": v, "angular": w, "target": "cup" or null}).
 * Usage: controller [COUNT]: stop after COUNT commands (default: never).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet.h"
#include "ipcnet_value.h"

static double threshold = 0.5, gain = 2.0;
static long sent, count = -1;
static volatile sig_atomic_t stop;

static void on_term(int sig) { (void)sig; stop = 1; }

/* `ipcnet set robot/controller/params '{"threshold": 0.8, "gain": 2}'` */
static int on_set(ipcn_node *n, const char *path, const ipcn_msg *v,
                  const char *enc, void *user)
{
    (void)n, (void)path, (void)enc, (void)user;
    double th, g;
    if (ipcn_cbor_map_get_double(v->data, v->len, "threshold", &th) != IPCN_OK ||
        ipcn_cbor_map_get_double(v->data, v->len, "gain", &g) != IPCN_OK || th < 0 || th > 1)
        return IPCN_BAD_REQUEST;
    threshold = th, gain = g;
    return IPCN_OK;
}

static void on_detections(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)user;
    uint64_t frame;
    if (m->status != IPCN_OK ||
        ipcn_cbor_map_get_uint(m->data, m->len, "frame", &frame) != IPCN_OK)
        return;
    double best = threshold, x = 0, score, ox;
    char path[32], label[64], l[64];
    int found = 0;
    const uint8_t *o; /* objects[i], its bytes inside m->data */
    size_t olen;
    for (int i = 0;; i++) {
        snprintf(path, sizeof path, "objects[%d]", i);
        if (ipcn_cbor_map_get(m->data, m->len, path, &o, &olen) != IPCN_OK)
            break;
        if (ipcn_cbor_map_get_double(o, olen, "score", &score) == IPCN_OK && score >= best &&
            ipcn_cbor_map_get_double(o, olen, "x", &ox) == IPCN_OK &&
            ipcn_cbor_map_get_cstr(o, olen, "label", l, sizeof l, NULL) == IPCN_OK)
            best = score, x = ox, found = 1, memcpy(label, l, sizeof l);
    }
    uint8_t buf[256];
    size_t len;
    if (ipcn_cbor_build(buf, sizeof buf, &len, "{s:U, s:f, s:f, s:s?}", "frame", frame,
                        "linear", found ? 0.5 : 0.0, "angular", -gain * x, "target",
                        found ? label : NULL) == IPCN_OK &&
        ipcn_publish(n, "robot/base/cmd", buf, len) == IPCN_OK && ++sent == count)
        stop = 1;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        count = atol(argv[1]);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    ipcn_node *n;
    ipcn_sub sub;
    int st = ipcn_node_open(&n, "controller", NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "controller: %d %s\n", st, ipcn_status_str(st));
        return 1;
    }
    uint8_t params[64];
    size_t len;
    if (ipcn_announce(n, "robot/controller/params", IPCN_DATA, "cbor", NULL, 0) > IPCN_CREATED ||
        ipcn_data_on_set(n, "robot/controller/params", on_set, NULL) != IPCN_OK ||
        ipcn_cbor_build(params, sizeof params, &len, "{s:f, s:f}", "threshold", threshold,
                        "gain", gain) != IPCN_OK ||
        ipcn_publish(n, "robot/controller/params", params, len) != IPCN_OK ||
        ipcn_announce(n, "robot/base/cmd", IPCN_STREAM, "cbor", NULL, 0) > IPCN_CREATED ||
        ipcn_subscribe(n, "robot/detections", 8, on_detections, NULL, &sub) != IPCN_OK) {
        fprintf(stderr, "controller: cannot set up its resources\n");
        return 1;
    }
    while (!stop)
        ipcn_node_dispatch(n, 100);
    ipcn_node_close(n);
    return 0;
}

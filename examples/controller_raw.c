/* SPDX-License-Identifier: MIT */
/*
 * controller_raw.c — the controller of issue 21's trial as it was written
 * before the value helpers: every value read and written by hand with the
 * CBOR codec (tree decode, map lookups, a switch over integer and float
 * types, eight writer calls per map).  examples/controller.c is the same
 * program with the helpers of ipcnet_value.h; both are built, and
 * test_example_controller checks that they behave alike.
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

/* A CBOR number as a double: 100, or 200 when it is none. */
static int number(const ipcn_cbor_item *it, double *out)
{
    if (!it)
        return IPCN_NOT_FOUND;
    switch (it->type) {
    case IPCN_CBOR_UINT: *out = (double)it->u; return IPCN_OK;
    case IPCN_CBOR_NEGINT: *out = -1.0 - (double)it->u; return IPCN_OK;
    case IPCN_CBOR_FLOAT: *out = it->f; return IPCN_OK;
    default: return IPCN_BAD_REQUEST;
    }
}

static int publish_params(ipcn_node *n)
{
    uint8_t buf[64];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "threshold");
    ipcn_cbor_put_float(&w, threshold);
    ipcn_cbor_put_cstr(&w, "gain");
    ipcn_cbor_put_float(&w, gain);
    int st = ipcn_cbor_writer_finish(&w, &len);
    return st == IPCN_OK ? ipcn_publish(n, "robot/controller/params", buf, len) : st;
}

/* `ipcnet set robot/controller/params '{"threshold": 0.8, "gain": 2}'` */
static int on_set(ipcn_node *n, const char *path, const ipcn_msg *v,
                  const char *enc, void *user)
{
    (void)n, (void)path, (void)enc, (void)user;
    ipcn_cbor_item *root = NULL;
    if (ipcn_cbor_tree_decode(v->data, v->len, 0, &root) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    double th, g;
    int st = number(ipcn_cbor_map_find(root, "threshold"), &th);
    if (st == IPCN_OK)
        st = number(ipcn_cbor_map_find(root, "gain"), &g);
    ipcn_cbor_tree_free(root);
    if (st != IPCN_OK || th < 0 || th > 1)
        return IPCN_BAD_REQUEST;
    threshold = th, gain = g;
    return IPCN_OK;
}

static void on_detections(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)user;
    ipcn_cbor_item *root = NULL;
    if (m->status != IPCN_OK || ipcn_cbor_tree_decode(m->data, m->len, 0, &root) != IPCN_OK)
        return;
    const ipcn_cbor_item *frame = ipcn_cbor_map_find(root, "frame");
    const ipcn_cbor_item *objs = ipcn_cbor_map_find(root, "objects");
    if (!frame || frame->type != IPCN_CBOR_UINT || !objs || objs->type != IPCN_CBOR_ARRAY) {
        ipcn_cbor_tree_free(root);
        return;
    }
    double best = threshold, x = 0;
    const ipcn_cbor_item *label = NULL;
    for (uint64_t i = 0; i < objs->count; i++) {
        const ipcn_cbor_item *o = &objs->items[i], *l = ipcn_cbor_map_find(o, "label");
        double score, ox;
        if (number(ipcn_cbor_map_find(o, "score"), &score) == IPCN_OK && score >= best &&
            number(ipcn_cbor_map_find(o, "x"), &ox) == IPCN_OK && l && l->type == IPCN_CBOR_TEXT)
            best = score, x = ox, label = l;
    }
    uint8_t buf[256];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 4);
    ipcn_cbor_put_cstr(&w, "frame");
    ipcn_cbor_put_uint(&w, frame->u);
    ipcn_cbor_put_cstr(&w, "linear");
    ipcn_cbor_put_float(&w, label ? 0.5 : 0.0);
    ipcn_cbor_put_cstr(&w, "angular");
    ipcn_cbor_put_float(&w, -gain * x);
    ipcn_cbor_put_cstr(&w, "target");
    if (label)
        ipcn_cbor_put_text(&w, (const char *)label->ptr, label->len);
    else
        ipcn_cbor_put_null(&w);
    if (ipcn_cbor_writer_finish(&w, &len) == IPCN_OK &&
        ipcn_publish(n, "robot/base/cmd", buf, len) == IPCN_OK && ++sent == count)
        stop = 1;
    ipcn_cbor_tree_free(root);
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
    if (ipcn_announce(n, "robot/controller/params", IPCN_DATA, "cbor", NULL, 0) > IPCN_CREATED ||
        ipcn_data_on_set(n, "robot/controller/params", on_set, NULL) != IPCN_OK ||
        publish_params(n) != IPCN_OK ||
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

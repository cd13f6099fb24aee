/* SPDX-License-Identifier: MIT */
/*
 * t_typed_pub — a C process that publishes typed values (issue 4's "done
 * when"): a CBOR map, a tensor and a raw video frame, each with its
 * encoding.
 *
 *   ipcn-test-t_typed_pub <name> <lifetime_s> [prefix=typed] [net=NAME]
 *
 * Announces and publishes (data resources):
 *   PREFIX/map     "cbor": {"name": "arm-7", "count": 42, "neg": -1000,
 *                  "ratio": 0.15625, "pi": 3.141592653589793, "ok": true,
 *                  "none": null, "blob": h'00010203fe', "list": [1, "two", 3.5]}
 *   PREFIX/tensor  "tensor": float32 [2, 3, 4], element i = 0.5 * i - 3
 *                  (ipcn_tensor_encode: 40([[2, 3, 4], 85(h'...')]))
 *   PREFIX/frame   "video/raw;format=rgb24;width=4;height=2": 24 bytes,
 *                  pixel (y, x) channel c = 100 * y + 10 * x + c
 * then prints "ready" on stdout and serves queries until SIGTERM (exit 0).
 * Exit 3 when the node cannot open, 4 when encoding or announcing fails.
 * tests/integration/test_typed_values.c and
 * tests/value/test_typed_values_py.py hold the same expectations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"
#include "l_common.h"

#define FRAME_ENC "video/raw;format=rgb24;width=4;height=2"

static int ok(int st)
{
    return IPCN_IS_OK(st);
}

static void put_map(ipcn_cbor_writer *w)
{
    static const uint8_t blob[] = {0x00, 0x01, 0x02, 0x03, 0xfe};
    ipcn_cbor_put_map(w, 9);
    ipcn_cbor_put_cstr(w, "name");
    ipcn_cbor_put_cstr(w, "arm-7");
    ipcn_cbor_put_cstr(w, "count");
    ipcn_cbor_put_uint(w, 42);
    ipcn_cbor_put_cstr(w, "neg");
    ipcn_cbor_put_int(w, -1000);
    ipcn_cbor_put_cstr(w, "ratio");
    ipcn_cbor_put_float(w, 0.15625);
    ipcn_cbor_put_cstr(w, "pi");
    ipcn_cbor_put_float(w, 3.141592653589793);
    ipcn_cbor_put_cstr(w, "ok");
    ipcn_cbor_put_bool(w, 1);
    ipcn_cbor_put_cstr(w, "none");
    ipcn_cbor_put_null(w);
    ipcn_cbor_put_cstr(w, "blob");
    ipcn_cbor_put_bytes(w, blob, sizeof blob);
    ipcn_cbor_put_cstr(w, "list");
    ipcn_cbor_put_array(w, 3);
    ipcn_cbor_put_uint(w, 1);
    ipcn_cbor_put_cstr(w, "two");
    ipcn_cbor_put_float(w, 3.5);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s name lifetime_s [prefix=P] [net=NAME]\n", argv[0]);
        return 2;
    }
    l_helper_setup((unsigned)atoi(argv[2]));
    const char *prefix = l_opt(argc, argv, "prefix", "typed");
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, argv[1], &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "t_typed_pub: open: %d %s\n", st, ipcn_status_str(st));
        return 3;
    }

    /* the map */
    uint8_t mbuf[256];
    size_t mlen = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, mbuf, sizeof mbuf, 0);
    put_map(&w);
    int s1 = ipcn_cbor_writer_finish(&w, &mlen);

    /* the tensor */
    float elems[24];
    for (int i = 0; i < 24; i++)
        elems[i] = 0.5f * (float)i - 3.0f;
    const int64_t shape[3] = {2, 3, 4};
    ipcn_tensor t;
    uint8_t tbuf[256];
    size_t tlen = 0;
    int s2 = ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 3, shape, elems);
    if (s2 == IPCN_OK) {
        ipcn_cbor_writer_init(&w, tbuf, sizeof tbuf, 0);
        ipcn_tensor_encode(&w, &t);
        s2 = ipcn_cbor_writer_finish(&w, &tlen);
    }

    /* the frame */
    uint8_t frame[2 * 4 * 3];
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++)
            for (int c = 0; c < 3; c++)
                frame[(y * 4 + x) * 3 + c] = (uint8_t)(100 * y + 10 * x + c);

    char pm[160], pt[160], pf[160];
    snprintf(pm, sizeof pm, "%s/map", prefix);
    snprintf(pt, sizeof pt, "%s/tensor", prefix);
    snprintf(pf, sizeof pf, "%s/frame", prefix);
    int step = 0;
    if (s1 != IPCN_OK || s2 != IPCN_OK ||
        (++step, !ok(st = ipcn_announce(n, pm, IPCN_DATA, "cbor", NULL, 0))) ||
        (++step, !ok(st = ipcn_publish(n, pm, mbuf, mlen))) ||
        (++step, !ok(st = ipcn_announce(n, pt, IPCN_DATA, "tensor", NULL, 0))) ||
        (++step, !ok(st = ipcn_publish(n, pt, tbuf, tlen))) ||
        (++step, !ok(st = ipcn_announce(n, pf, IPCN_DATA, FRAME_ENC, NULL, 0))) ||
        (++step, !ok(st = ipcn_publish(n, pf, frame, sizeof frame)))) {
        fprintf(stderr, "t_typed_pub: failed at step %d: map %d, tensor %d, node %d %s\n",
                step, s1, s2, st, ipcn_status_str(st));
        ipcn_node_close(n);
        return 4;
    }
    printf("ready\n");
    fflush(stdout);
    while (!l_term)
        ipcn_node_dispatch(n, 50);
    ipcn_node_close(n);
    return 0;
}

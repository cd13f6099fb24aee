/* SPDX-License-Identifier: MIT */
/*
 * td_pub — a provider of typed data and streams (ipcnet_schema.h) for
 * tests/integration/test_typed_data.c, in a process of its own.
 *
 *   ipcn-test-td_pub <name> <lifetime_s> [net=NAME]
 *
 * Announces:
 *   td/pose  stream, ipcn_announce_typed() with meta {"rate": 10}, type
 *            {"map": {"x": "float", "y": "float", "tag": {"optional": "text"}}}
 *   td/gain  data, ipcn_announce() with meta
 *            {"units": "dB", "schema": {"map": {"gain": "float"}}},
 *            holding {"gain": 1.5}
 * and offers (untyped) td/ctl:
 *   a CBOR body:        ipcn_publish() of it on td/pose; the answer (100)
 *                       is that call's status, as text;
 *   "stats" (text):     "typed_refused=R typed_dropped=D" of this node.
 * then prints "ready" and serves until SIGTERM (exit 0) or its lifetime
 * ends.  Exit 3 when the node cannot open, 4 when an announce fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_schema.h"
#include "ipcnet_value.h"
#include "l_common.h"

static int on_ctl(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)user;
    char s[96];
    if (!strcmp(req->encoding, "cbor")) {
        int st = ipcn_publish(n, "td/pose", req->data, req->len);
        snprintf(s, sizeof s, "%d", st);
    } else {
        ipcn_node_stats ns = {.size = sizeof ns};
        if (ipcn_node_get_stats(n, &ns) != IPCN_OK)
            return IPCN_INTERNAL_ERROR;
        snprintf(s, sizeof s, "typed_refused=%llu typed_dropped=%llu",
                 (unsigned long long)ns.typed_refused,
                 (unsigned long long)ns.typed_dropped);
    }
    ipcn_reply_set(ctx, s, strlen(s), "text/plain");
    return IPCN_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s name lifetime_s [net=NAME]\n", argv[0]);
        return 2;
    }
    l_helper_setup((unsigned)atoi(argv[2]));
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, argv[1], &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "td_pub: open: %d %s\n", st, ipcn_status_str(st));
        return 3;
    }
    /* the pose type, and {"rate": 10} */
    uint8_t pose[128], rate[16], gmeta[128], gain[32];
    size_t pn = 0, rn = 0, gmn = 0, gn = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, pose, sizeof pose, 0);
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "map");
    ipcn_cbor_put_map(&w, 3);
    ipcn_cbor_put_cstr(&w, "x");
    ipcn_cbor_put_cstr(&w, "float");
    ipcn_cbor_put_cstr(&w, "y");
    ipcn_cbor_put_cstr(&w, "float");
    ipcn_cbor_put_cstr(&w, "tag");
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "optional");
    ipcn_cbor_put_cstr(&w, "text");
    ipcn_cbor_writer_finish(&w, &pn);
    ipcn_cbor_writer_init(&w, rate, sizeof rate, 0);
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "rate");
    ipcn_cbor_put_uint(&w, 10);
    ipcn_cbor_writer_finish(&w, &rn);
    ipcn_cbor_writer_init(&w, gmeta, sizeof gmeta, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "units");
    ipcn_cbor_put_cstr(&w, "dB");
    ipcn_cbor_put_cstr(&w, "schema");
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "map");
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "gain");
    ipcn_cbor_put_cstr(&w, "float");
    ipcn_cbor_writer_finish(&w, &gmn);
    ipcn_cbor_writer_init(&w, gain, sizeof gain, 0);
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "gain");
    ipcn_cbor_put_float(&w, 1.5);
    if (ipcn_cbor_writer_finish(&w, &gn) != IPCN_OK ||
        (st = ipcn_announce_typed(n, "td/pose", IPCN_STREAM, "cbor", pose, pn,
                                  rate, rn)) != IPCN_CREATED ||
        (st = ipcn_announce(n, "td/gain", IPCN_DATA, "cbor", gmeta, gmn)) !=
            IPCN_CREATED ||
        (st = ipcn_publish(n, "td/gain", gain, gn)) != IPCN_OK ||
        (st = ipcn_offer(n, "td/ctl", "", on_ctl, NULL)) != IPCN_OK) {
        fprintf(stderr, "td_pub: announce: %d %s\n", st, ipcn_status_str(st));
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

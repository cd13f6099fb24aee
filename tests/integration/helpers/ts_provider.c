/* SPDX-License-Identifier: MIT */
/*
 * ts_provider — a typed service for tests/integration/test_typed_service.c.
 *
 *   ipcn-test-ts_provider <name> <lifetime_s> [net=NAME]
 *
 * Offers (ipcn_offer_typed):
 *   typed/scale   args {"map": {"x": "float", "k": {"optional": "int"}}},
 *                 returns "float"; answers 100 with the CBOR float x * k
 *                 (x an integer or a float: "float" takes both)
 *                 (k defaults to 2) and counts its calls;
 * and (ipcn_offer, untyped):
 *   typed/calls   answers 100 with the call count of typed/scale as text.
 * then prints "ready" and serves until SIGTERM (exit 0) or its lifetime
 * ends.  Exit 3 when the node cannot open, 4 when an offer fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"
#include "l_common.h"

static int calls;

static int on_scale(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)n, (void)user;
    calls++;
    ipcn_cbor_item *root = NULL;
    if (ipcn_cbor_tree_decode(req->data, req->len, 0, &root) != IPCN_OK)
        return IPCN_INTERNAL_ERROR; /* the library checked it: cannot be */
    const ipcn_cbor_item *x = ipcn_cbor_map_find(root, "x");
    const ipcn_cbor_item *k = ipcn_cbor_map_find(root, "k");
    int64_t kv = 2;
    if (k)
        kv = k->type == IPCN_CBOR_UINT ? (int64_t)k->u : -1 - (int64_t)k->u;
    /* "float" takes integers too ({"x": 1}): read either. */
    double xv = x->type == IPCN_CBOR_UINT     ? (double)x->u
                : x->type == IPCN_CBOR_NEGINT ? -1.0 - (double)x->u
                                              : x->f;
    double r = xv * (double)kv;
    ipcn_cbor_tree_free(root);
    uint8_t buf[16];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_float(&w, r);
    if (ipcn_cbor_writer_finish(&w, &len) != IPCN_OK)
        return IPCN_INTERNAL_ERROR;
    ipcn_reply_set(ctx, buf, len, "cbor");
    return IPCN_OK;
}

static int on_calls(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)n, (void)req, (void)user;
    char s[32];
    snprintf(s, sizeof s, "%d", calls);
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
        fprintf(stderr, "ts_provider: open: %d %s\n", st, ipcn_status_str(st));
        return 3;
    }
    /* {"map": {"x": "float", "k": {"optional": "int"}}} and "float" */
    static const uint8_t args[] = {
        0xa1, 0x63, 'm', 'a', 'p', 0xa2, 0x61, 'x', 0x65, 'f', 'l', 'o', 'a',
        't', 0x61, 'k', 0xa1, 0x68, 'o', 'p', 't', 'i', 'o', 'n', 'a', 'l',
        0x63, 'i', 'n', 't'};
    static const uint8_t rets[] = {0x65, 'f', 'l', 'o', 'a', 't'};
    if ((st = ipcn_offer_typed(n, "typed/scale", args, sizeof args, rets,
                               sizeof rets, on_scale, NULL)) != IPCN_OK ||
        (st = ipcn_offer(n, "typed/calls", "text/plain", on_calls, NULL)) !=
            IPCN_OK) {
        fprintf(stderr, "ts_provider: offer: %d %s\n", st, ipcn_status_str(st));
        ipcn_node_close(n);
        return 4;
    }
    printf("ready\n");
    while (!l_term)
        ipcn_node_dispatch(n, 50);
    ipcn_node_close(n);
    return 0;
}

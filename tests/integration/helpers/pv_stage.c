/* SPDX-License-Identifier: MIT */
/*
 * pv_stage — one stage of the provenance pipeline test (test_prov.c).
 *
 *   ipcn-test-pv_stage camera <lifetime_s> [tick_ms=20]
 *   ipcn-test-pv_stage detector <lifetime_s>
 *   ipcn-test-pv_stage planner <lifetime_s>
 *
 * camera: announces the stream cam/rgb with provenance on and publishes
 * "frame-<k>" (k = 1, 2, ...) padded to 64 bytes every tick_ms.
 * detector: for each frame, publishes on det/boxes "boxes(<frame>)"
 * derived from it, on det/pass the frame unchanged as a declared
 * pass-through, and on det/tampered the frame with its first byte changed
 * while declaring a pass-through (the lie the verifier must catch).
 * planner: for each det/boxes, publishes on plan/cmd "cmd(<boxes>)"
 * derived from it.  Dispatches on the main thread until SIGTERM (exit 0)
 * or the lifetime ends.  Exit 3: open failed, 4: announce or subscribe
 * failed, 5: a publish failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l_common.h"

static int failed;

static void derive(ipcn_node *n, const ipcn_msg *msg, const char *path,
                   const char *what, uint32_t flags)
{
    ipcn_prov_ref ref;
    int st = ipcn_msg_prov_ref(msg, &ref);
    if (st != IPCN_OK) {
        fprintf(stderr, "pv_stage: %s seq %llu: no record: %d\n", msg->path,
                (unsigned long long)msg->seq, st);
        failed = 1;
        return;
    }
    char out[256];
    int k = snprintf(out, sizeof out, "%s(%.*s)", what, (int)msg->len,
                     (const char *)msg->data);
    if (k < 0 || (size_t)k >= sizeof out)
        k = sizeof out - 1;
    st = ipcn_publish_derived_ex(n, path, out, (size_t)k, &ref, 1, flags);
    if (st != IPCN_OK && st != IPCN_NOT_FOUND) {
        fprintf(stderr, "pv_stage: publish %s: %d\n", path, st);
        failed = 1;
    }
}

static void on_frame(ipcn_node *n, const ipcn_msg *msg, void *user)
{
    (void)user;
    if (msg->status != IPCN_OK) /* a notice (a provider gone...) */
        return;
    derive(n, msg, "det/boxes", "boxes", 0);
    ipcn_prov_ref ref;
    if (ipcn_msg_prov_ref(msg, &ref) != IPCN_OK)
        return;
    if (ipcn_publish_derived_ex(n, "det/pass", msg->data, msg->len, &ref, 1,
                                IPCN_PROV_PASSTHROUGH) != IPCN_OK)
        failed = 1;
    char bad[256];
    size_t len = msg->len < sizeof bad ? msg->len : sizeof bad;
    memcpy(bad, msg->data, len);
    bad[0] ^= 0x20; /* a changed payload, declared unchanged */
    if (ipcn_publish_derived_ex(n, "det/tampered", bad, len, &ref, 1,
                                IPCN_PROV_PASSTHROUGH) != IPCN_OK)
        failed = 1;
}

static void on_boxes(ipcn_node *n, const ipcn_msg *msg, void *user)
{
    (void)user;
    if (msg->status != IPCN_OK)
        return;
    derive(n, msg, "plan/cmd", "cmd", 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s camera|detector|planner lifetime_s\n",
                argv[0]);
        return 2;
    }
    const char *role = argv[1];
    l_helper_setup((unsigned)atoi(argv[2]));
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    if (ipcn_node_open(&n, role, &o) != IPCN_OK)
        return 3;
    int st = IPCN_OK;
    ipcn_sub sub;
    if (!strcmp(role, "camera")) {
        st = ipcn_announce(n, "cam/rgb", IPCN_STREAM, "text/plain", NULL, 0);
        if (IPCN_IS_OK(st))
            st = ipcn_prov_enable(n, "cam/rgb", 1);
    } else if (!strcmp(role, "detector")) {
        const char *paths[] = {"det/boxes", "det/pass", "det/tampered"};
        for (int i = 0; i < 3 && IPCN_IS_OK(st); i++)
            st = ipcn_announce(n, paths[i], IPCN_STREAM, "text/plain", NULL, 0);
        if (IPCN_IS_OK(st))
            st = ipcn_subscribe(n, "cam/rgb", 64, on_frame, NULL, &sub);
    } else {
        st = ipcn_announce(n, "plan/cmd", IPCN_STREAM, "text/plain", NULL, 0);
        if (IPCN_IS_OK(st))
            st = ipcn_subscribe(n, "det/boxes", 64, on_boxes, NULL, &sub);
    }
    if (!IPCN_IS_OK(st)) {
        fprintf(stderr, "pv_stage %s: set-up: %d\n", role, st);
        ipcn_node_close(n);
        return 4;
    }
    long tick = l_opt_long(argc, argv, "tick_ms", 20);
    uint64_t next = l_now_ms();
    unsigned k = 0;
    while (!l_term && !failed) {
        if (!strcmp(role, "camera") && l_now_ms() >= next) {
            char frame[64];
            memset(frame, '.', sizeof frame);
            int len = snprintf(frame, sizeof frame, "frame-%u", ++k);
            frame[len] = '.';
            if (ipcn_publish(n, "cam/rgb", frame, sizeof frame) != IPCN_OK)
                failed = 1;
            next += (uint64_t)tick;
        }
        ipcn_node_dispatch(n, 5);
    }
    ipcn_node_close(n);
    return failed ? 5 : 0;
}

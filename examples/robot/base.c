/* SPDX-License-Identifier: MIT */
/*
 * base.c — the demo robot's mobile base: it publishes its velocity on the
 * data resource robot/base/velocity (CBOR {"linear": m/s, "angular":
 * rad/s}).  Its safe state is a stop, done at once: the handler sets the
 * velocity to zero, publishes it, and answers 100.
 */
#include "component.h"
#include "ipcnet_value.h"

#define VELOCITY "robot/base/velocity"

static double linear = 0.3, angular = 0.1;

static void publish_velocity(ipcn_node *n)
{
    uint8_t buf[64];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "linear");
    ipcn_cbor_put_float(&w, linear);
    ipcn_cbor_put_cstr(&w, "angular");
    ipcn_cbor_put_float(&w, angular);
    if (ipcn_cbor_writer_finish(&w, &len) == IPCN_OK)
        ipcn_publish(n, VELOCITY, buf, len);
}

static int on_safe_state(ipcn_node *n, const ipcn_shutdown_info *info,
                         void *user)
{
    (void)info;
    (void)user;
    linear = angular = 0;
    publish_velocity(n);
    robot_log(n, "safe_state", 1);
    fprintf(stderr, "base: stopped\n");
    return IPCN_OK;
}

int main(int argc, char **argv)
{
    ipcn_node *n = robot_open(argc, argv, "base");
    ipcn_on_shutdown(n, IPCN_SHUTDOWN_SAFE_STATE, on_safe_state, NULL);
    if (ipcn_announce(n, VELOCITY, IPCN_DATA, "cbor", NULL, 0) > IPCN_CREATED) {
        fprintf(stderr, "base: cannot announce %s\n", VELOCITY);
        return 1;
    }
    publish_velocity(n);
    ipcn_node_ready(n);
    while (!robot_stop)
        ipcn_node_dispatch(n, 100);
    ipcn_node_close(n);
    return 0;
}

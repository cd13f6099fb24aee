/* SPDX-License-Identifier: MIT */
/*
 * test_gateway_parse.c — the addresses a gateway listens on and dials
 * (tcp://IPv4:P, tcp://[IPv6]:P, tcp://name:P), good and malformed.  (The
 * trust list and gateway.conf readers are keys.c's: test_keys.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <string.h>

#include "ipcnet.h"
#include "node/gateway.h"

static void test_addr(void **state)
{
    (void)state;
    char host[64];
    uint16_t port = 0;
    assert_int_equal(ipcn__gw_addr_parse("tcp://10.0.0.2:7447", host, sizeof host, &port),
                     IPCN_OK);
    assert_string_equal(host, "10.0.0.2");
    assert_int_equal(port, 7447);
    assert_int_equal(ipcn__gw_addr_parse("tcp://[fe80::1%eth0]:1", host, sizeof host, &port),
                     IPCN_OK);
    assert_string_equal(host, "fe80::1%eth0");
    assert_int_equal(port, 1);
    assert_int_equal(ipcn__gw_addr_parse("tcp://gpu-board.local:65535", host, sizeof host,
                                         &port), IPCN_OK);
    assert_string_equal(host, "gpu-board.local");
    assert_int_equal(port, 65535);
    static const char *const bad[] = {
        NULL, "", "tcp://", "tcp://:1", "tcp://a:", "tcp://a:0", "tcp://a:65536",
        "tcp://a:123456", "tcp://a:1x", "tcp://a:-1", "tcp://::1:1", "tcp://[::1]",
        "tcp://[::1]1", "tcp://[]:1", "udp://a:1", "TCP://a:1", "tcp://a b:1",
        "tcp://a/b:1", "tcp://a\n:1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ipcn__gw_addr_parse(bad[i], host, sizeof host, &port),
                         IPCN_BAD_REQUEST);
    /* A host part that does not fit the caller's buffer. */
    assert_int_equal(ipcn__gw_addr_parse("tcp://abcdefgh:1", host, 8, &port),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__gw_addr_parse("tcp://abcdefg:1", host, 8, &port), IPCN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

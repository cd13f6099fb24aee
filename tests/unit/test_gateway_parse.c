/* SPDX-License-Identifier: MIT */
/*
 * test_gateway_parse.c — what a gateway reads, bounds-checked: addresses
 * (tcp://IPv4:P, tcp://[IPv6]:P, tcp://name:P), the trust list ("NAME
 * KEY" lines) and gateway.conf ("key = value" lines), good and malformed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <string.h>

#include "node/gateway.h"
#include "transport/tcp.h"

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

#define KEY1 "ntiKMZIZLTJQEmbsul3i2n02o0JXBvrvcC86NlJxLE4="
#define KEY2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void test_trust(void **state)
{
    (void)state;
    ipcn__trust_list t;
    const char *good = "# hosts\n\n  main-board " KEY1 "\r\ngpu\t" KEY2 "   \n";
    assert_int_equal(ipcn__trust_parse(good, strlen(good), &t), IPCN_OK);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.hosts[0].name, "main-board");
    assert_string_equal(t.hosts[0].key, KEY1);
    assert_string_equal(t.hosts[1].name, "gpu");
    uint8_t zero[32] = {0};
    assert_string_equal(ipcn__trust_name(&t, zero), "gpu");
    zero[31] = 1;
    assert_null(ipcn__trust_name(&t, zero));
    ipcn__trust_free(&t);
    assert_int_equal(ipcn__trust_parse("", 0, &t), IPCN_OK);
    assert_int_equal(t.count, 0);
    static const char *const bad[] = {
        "gpu\n",                               /* no key */
        "gpu " KEY1 " extra\n",                /* more */
        "gpu " KEY1 "x\n",                     /* 45 characters */
        "gpu AAAA\n",                          /* short */
        "gpu !AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", /* not base64 */
        "bad/name " KEY1 "\n",                 /* not a node name */
        ". " KEY1 "\n",
        "a234567890123456789012345678901234567890123456789012345678901234 " KEY1 "\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ipcn__trust_parse(bad[i], strlen(bad[i]), &t), IPCN_BAD_REQUEST);
        assert_int_equal(t.count, 0);
        assert_null(t.hosts);
    }
    /* A NUL inside a line is not a key. */
    const char nul[] = "gpu " KEY1 "\0\n";
    assert_int_equal(ipcn__trust_parse(nul, sizeof nul - 1, &t), IPCN_BAD_REQUEST);
}

static void test_gwconf(void **state)
{
    (void)state;
    ipcn__gwconf c;
    const char *good = "# gateway\nlisten = tcp://0.0.0.0:7447\n"
                       "peers=tcp://10.0.0.2:7447,tcp://[::1]:7447\n\ndiscovery = on\n";
    assert_int_equal(ipcn__gwconf_parse(good, strlen(good), &c), IPCN_OK);
    assert_string_equal(c.listen, "tcp://0.0.0.0:7447");
    assert_string_equal(c.peers, "tcp://10.0.0.2:7447,tcp://[::1]:7447");
    assert_int_equal(c.discovery, 1);
    ipcn__gwconf_free(&c);
    assert_int_equal(ipcn__gwconf_parse("discovery=off", 13, &c), IPCN_OK);
    assert_int_equal(c.discovery, 0);
    assert_null(c.listen);
    ipcn__gwconf_free(&c);
    assert_int_equal(ipcn__gwconf_parse("", 0, &c), IPCN_OK);
    assert_int_equal(c.discovery, -1);
    static const char *const bad[] = {"listen\n", "port = 1\n", "discovery = yes\n",
                                      "= x\n", "listens = x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ipcn__gwconf_parse(bad[i], strlen(bad[i]), &c), IPCN_BAD_REQUEST);
        assert_null(c.listen);
        assert_null(c.peers);
    }
    char longline[5000];
    memset(longline, 'x', sizeof longline);
    memcpy(longline, "peers=", 6);
    assert_int_equal(ipcn__gwconf_parse(longline, sizeof longline, &c), IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr),
        cmocka_unit_test(test_trust),
        cmocka_unit_test(test_gwconf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

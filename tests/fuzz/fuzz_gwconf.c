/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gwconf.c — libFuzzer harness of the gateway.conf parser
 * (src/transport/keys_parse.c, ipcn__gwconf_parse_text).
 *
 * The input is the file's text.  Properties: the parser answers 100 or
 * 200 (307 only when memory fails); a refusal leaves the earlier result
 * as it was; an accepted file gives values of printable ASCII with no
 * blank, discovery -1, 0 or 1, and written back as "key = value" lines it
 * parses to the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "transport/keys.h"

static void fg_value(const char *v)
{
    if (!v)
        return;
    for (const char *p = v; *p; p++)
        FUZZ_ASSERT((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f);
}

static int fg_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    /* an earlier result, which a refusal must leave */
    ipcn__gwconf c = {0};
    static const char earlier[] = "discovery = on\n";
    if (ipcn__gwconf_parse(earlier, sizeof earlier - 1, &c) != IPCN_OK) {
        free(text);
        return 0;
    }
    int st = ipcn__gwconf_parse_text(text, size, "fuzz", &c, NULL);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_INSUFFICIENT_MEMORY);
    if (st != IPCN_OK) {
        FUZZ_ASSERT(c.discovery == 1 && !c.listen && !c.peers);
    } else {
        FUZZ_ASSERT(c.discovery >= -1 && c.discovery <= 1);
        fg_value(c.listen);
        fg_value(c.peers);
        size_t cap = size + 64;
        char *back = malloc(cap);
        if (back) {
            int n = snprintf(back, cap, "%s%s%s%s%s%s%s",
                             c.listen ? "listen = " : "", c.listen ? c.listen : "",
                             c.listen ? "\n" : "",
                             c.peers ? "peers = " : "", c.peers ? c.peers : "",
                             c.peers ? "\n" : "",
                             c.discovery < 0 ? "" : c.discovery ? "discovery = on\n"
                                                                : "discovery = off\n");
            FUZZ_ASSERT(n >= 0 && (size_t)n < cap);
            ipcn__gwconf d = {0};
            int st2 = ipcn__gwconf_parse(back, (size_t)n, &d);
            FUZZ_ASSERT(st2 == IPCN_OK || st2 == IPCN_INSUFFICIENT_MEMORY);
            if (st2 == IPCN_OK)
                FUZZ_ASSERT(fg_same(c.listen, d.listen) && fg_same(c.peers, d.peers) &&
                            c.discovery == d.discovery);
            ipcn__gwconf_free(&d);
            free(back);
        }
    }
    ipcn__gwconf_free(&c);
    free(text);
    return 0;
}

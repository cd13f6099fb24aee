/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mqtt_topic.c — libFuzzer harness of the MQTT bridge's parsers of
 * what a broker sends (bridges/mqtt/topic.c): the IPCNet path of an
 * imported message's topic, and the status of an answer's user property.
 *
 * The input is "SPEC\0TOPIC\0PREFIX\0STATUS" (missing parts are empty).
 * Properties: a mapped path is NUL-ended inside its buffer, valid
 * (br_path_ok), at most 255 bytes, and the same on a second call; with a
 * small buffer the call fails or gives the same path; a parsed status is
 * the fallback or in 100..65535.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "../../bridges/mqtt/topic.h"

static char *fm_part(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, *p, n);
        c[n] = 0;
    }
    *p = nul ? nul + 1 : end;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *spec = fm_part(&p, end), *topic = fm_part(&p, end), *prefix = fm_part(&p, end),
         *status = fm_part(&p, end);
    if (spec && topic && prefix && status) {
        char out[300], again[300], small[16];
        memset(out, 0x55, sizeof out);
        bool ok = br_map_path(prefix, spec, topic, out, sizeof out);
        FUZZ_ASSERT(memchr(out, 0, sizeof out) != NULL);
        if (ok) {
            FUZZ_ASSERT(br_path_ok(out));
            FUZZ_ASSERT(strlen(out) >= 1 && strlen(out) <= 255);
        }
        bool ok2 = br_map_path(prefix, spec, topic, again, sizeof again);
        FUZZ_ASSERT(ok2 == ok && (!ok || !strcmp(out, again)));
        bool oks = br_map_path(prefix, spec, topic, small, sizeof small);
        FUZZ_ASSERT(memchr(small, 0, sizeof small) != NULL);
        FUZZ_ASSERT(!oks || (ok && !strcmp(small, out)));
        FUZZ_ASSERT(!br_map_path(prefix, spec, topic, small, 0));
        char filter[8];
        br_import_filter(spec, filter, sizeof filter);
        FUZZ_ASSERT(memchr(filter, 0, sizeof filter) != NULL);
        int st = br_parse_status(status, -1);
        FUZZ_ASSERT(st == -1 || (st >= 100 && st <= 65535));
    }
    free(spec);
    free(topic);
    free(prefix);
    free(status);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trust.c — libFuzzer harness of a network's trust list parser
 * (src/transport/keys_parse.c, ipcn__trust_parse_text).
 *
 * The input is the file's text.  Properties: the parser answers 100 or
 * 200 (307 only when memory fails); a refusal leaves the earlier list as
 * it was and names a line of the input; an accepted list holds valid,
 * distinct names and canonical, distinct keys whose decoded bytes match
 * their text and which ipcn__trust_name() finds, and written back as
 * "NAME KEY" lines it parses to the same list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "transport/keys.h"
#include "util/util.h"

static void ft_check(const ipcn__trust_list *t)
{
    for (size_t i = 0; i < t->count; i++) {
        const ipcn_trusted *h = &t->hosts[i];
        size_t nn = strnlen(h->name, sizeof h->name);
        FUZZ_ASSERT(nn < sizeof h->name && nn <= IPCN_HOST_NAME_MAX);
        FUZZ_ASSERT(ipcn__name_check(h->name, nn) == IPCN_OK);
        FUZZ_ASSERT(strnlen(h->key, sizeof h->key) == IPCN_KEY_TEXT_LEN);
        uint8_t k[32];
        FUZZ_ASSERT(ipcn__key_from_text(h->key, IPCN_KEY_TEXT_LEN, k) == IPCN_OK);
        FUZZ_ASSERT(memcmp(k, t->keys[i], 32) == 0);
        const char *name = ipcn__trust_name(t, k);
        FUZZ_ASSERT(name && strcmp(name, h->name) == 0);
        for (size_t j = 0; j < i; j++) {
            FUZZ_ASSERT(strcmp(t->hosts[j].name, h->name) != 0);
            FUZZ_ASSERT(memcmp(t->keys[j], k, 32) != 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan then sees any read past the given length. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    ipcn__trust_list t = {0};
    size_t line = 0;
    int st = ipcn__trust_parse_text(text, size, "fuzz", &t, &line);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_INSUFFICIENT_MEMORY);
    if (st == IPCN_BAD_REQUEST) {
        FUZZ_ASSERT(t.count == 0 && t.hosts == NULL);
        /* a line of the input, or 0 for the whole text */
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += text[i] == '\n';
        FUZZ_ASSERT(line <= lines);
    }
    if (st == IPCN_OK) {
        ft_check(&t);
        /* written back, it reads the same */
        size_t cap = t.count * (IPCN_HOST_NAME_MAX + IPCN_KEY_TEXT_LEN + 2) + 1;
        char *back = malloc(cap), *p = back;
        if (back) {
            for (size_t i = 0; i < t.count; i++) {
                size_t nn = strlen(t.hosts[i].name);
                memcpy(p, t.hosts[i].name, nn);
                p[nn] = ' ';
                memcpy(p + nn + 1, t.hosts[i].key, IPCN_KEY_TEXT_LEN);
                p[nn + 1 + IPCN_KEY_TEXT_LEN] = '\n';
                p += nn + 2 + IPCN_KEY_TEXT_LEN;
            }
            ipcn__trust_list u = {0};
            int st2 = ipcn__trust_parse_text(back, (size_t)(p - back), "fuzz", &u, NULL);
            FUZZ_ASSERT(st2 == IPCN_OK || st2 == IPCN_INSUFFICIENT_MEMORY);
            if (st2 == IPCN_OK) {
                FUZZ_ASSERT(u.count == t.count);
                for (size_t i = 0; i < t.count; i++) {
                    FUZZ_ASSERT(strcmp(u.hosts[i].name, t.hosts[i].name) == 0);
                    FUZZ_ASSERT(strcmp(u.hosts[i].key, t.hosts[i].key) == 0);
                }
            }
            ipcn__trust_free(&u);
            free(back);
        }
    }
    ipcn__trust_free(&t);
    free(text);
    return 0;
}

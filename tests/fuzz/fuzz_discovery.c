/* SPDX-License-Identifier: MIT */
/*
 * fuzz_discovery.c — libFuzzer harness of the discovery beacon's parser
 * and of what a gateway decides on hearing a datagram (src/node/
 * discovery.c).
 *
 * Properties: a datagram the parser takes is exactly a beacon (23 bytes,
 * re-encoded byte for byte); a dial is asked only for a beacon whose
 * fingerprint is a trusted key's, to the datagram's source at the port it
 * told, and never twice for one host within the retry time.
 * The keys: FD_KEY_TRUSTED is bytes 1..32, FD_KEY_SELF bytes 101..132
 * (tests/fuzz/corpus/discovery holds their beacons).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet.h"
#include "node/discovery.h"

static ipcn__disc *fd_disc;
static uint8_t fd_trusted[32], fd_self[32];
static uint64_t fd_now;

static void fd_init(void)
{
    if (fd_disc)
        return;
    for (int i = 0; i < 32; i++) {
        fd_trusted[i] = (uint8_t)(1 + i);
        fd_self[i] = (uint8_t)(101 + i);
    }
    ipcn__disc_cfg cfg = {.tcp_port = 7447, .retry_ms = 1000};
    memcpy(cfg.self_key, fd_self, 32);
    FUZZ_ASSERT(ipcn__disc_new(&cfg, &fd_disc) == IPCN_OK);
    FUZZ_ASSERT(ipcn__disc_trust(fd_disc, (const uint8_t(*)[32])fd_trusted, 1) == IPCN_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fd_init();
    /* An exact-size copy: ASan then sees any read past the length. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    uint8_t fp[IPCN_DISC_FP_LEN];
    uint16_t port = 0;
    int st = ipcn__disc_beacon_parse(buf, size, fp, &port);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_VERSION_NOT_SUPPORTED);
    if (st == IPCN_OK) {
        uint8_t again[IPCN_DISC_BEACON_LEN];
        FUZZ_ASSERT(size == IPCN_DISC_BEACON_LEN && port != 0);
        ipcn__disc_beacon_encode(fp, port, again);
        FUZZ_ASSERT(memcmp(again, buf, size) == 0);
    }
    /* Heard from 10.0.0.2, 400 ms after the last datagram: a dial at
     * most every third one for the one trusted host (retry 1 s). */
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.0.0.2", &src.sin_addr);
    fd_now += 400000000ull;
    ipcn__disc_stats before, after;
    ipcn__disc_get_stats(fd_disc, &before);
    uint8_t key[32];
    char addr[64];
    bool dial = ipcn__disc_heard(fd_disc, fd_now, &src, buf, size, NULL, NULL, key, addr,
                                 sizeof addr);
    ipcn__disc_get_stats(fd_disc, &after);
    FUZZ_ASSERT(after.heard == before.heard + 1);
    if (dial) {
        uint8_t tfp[IPCN_DISC_FP_LEN];
        ipcn__disc_fingerprint(fd_trusted, tfp);
        char want[64];
        snprintf(want, sizeof want, "tcp://10.0.0.2:%u", (unsigned)port);
        FUZZ_ASSERT(st == IPCN_OK && memcmp(fp, tfp, sizeof fp) == 0);
        FUZZ_ASSERT(memcmp(key, fd_trusted, 32) == 0 && strcmp(addr, want) == 0);
        FUZZ_ASSERT(after.dials == before.dials + 1);
    } else {
        FUZZ_ASSERT(after.dials == before.dials);
    }
    free(buf);
    return 0;
}

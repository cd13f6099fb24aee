/* SPDX-License-Identifier: MIT */
/*
 * noise_npm.c — our Noise (src/transport/noise.c) against an independent
 * implementation: the npm package noise-protocol, run by Node.js
 * (tests/interop/noise_peer.js, over its stdin and stdout, each message
 * after a 2-byte big-endian length as on a TCP link).  Run by
 * test_noise_npm.sh, which installs the package into the build tree.
 *
 *   ipcn-noise-npm NOISE_PEER_JS     (NODE_PATH names the package's home)
 *
 * Both ways: our initiator with its responder, then the reverse.  Each
 * time both sides learn the other's static key and the same handshake
 * hash, then transport messages go both ways (300 round trips, crossing
 * the nonce's first byte, and the largest message); a flipped bit in our
 * message makes it refuse and quit; with another network's prologue the
 * handshake fails on whichever side reads message 2 (its initiator).
 * Exit 0 when all held, 1 otherwise (what failed on stderr).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "transport/noise.h"
#include "util/util.h"

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "noise_npm.c:%d: failed: %s\n", __LINE__, #cond); \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

static const char *script;

typedef struct peer {
    pid_t pid;
    FILE *to, *from;
} peer;

static void start(peer *p, const char *role, const char *prologue)
{
    int in[2], out[2];
    CHECK(pipe(in) == 0 && pipe(out) == 0);
    p->pid = fork();
    CHECK(p->pid >= 0);
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execlp("node", "node", script, role, prologue, (char *)NULL);
        fprintf(stderr, "node: %s\n", strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->to = fdopen(in[1], "w");
    p->from = fdopen(out[0], "r");
    CHECK(p->to && p->from);
}

/* The peer's exit status. */
static int finish(peer *p)
{
    fclose(p->to);
    fclose(p->from);
    int ws;
    CHECK(waitpid(p->pid, &ws, 0) == p->pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static void send_msg(peer *p, const uint8_t *m, size_t n)
{
    CHECK(n <= IPCN_NOISE_MAX_MSG);
    uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    CHECK(fwrite(len, 1, 2, p->to) == 2 && fwrite(m, 1, n, p->to) == n);
    CHECK(fflush(p->to) == 0);
}

/* A message, or -1 when the peer closed. */
static long recv_msg(peer *p, uint8_t *m)
{
    uint8_t len[2];
    if (fread(len, 1, 2, p->from) != 2)
        return -1;
    size_t n = (size_t)len[0] << 8 | len[1];
    CHECK(fread(m, 1, n, p->from) == n);
    return (long)n;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    sodium_bin2hex(out, n * 2 + 1, b, n);
}

/* The handshake; returns 0, or the step (1..3) at which ours refused. */
static int handshake(peer *p, ipcn__noise_hs *hs, bool initiator)
{
    static uint8_t msg[IPCN_NOISE_MAX_MSG], pl[IPCN_NOISE_MAX_MSG];
    for (int i = 0; i < 3; i++) {
        size_t n = 0;
        if ((i % 2 == 0) == initiator) {
            CHECK(ipcn__noise_write_message(hs, NULL, 0, msg, sizeof msg, &n) == IPCN_OK);
            send_msg(p, msg, n);
        } else {
            long r = recv_msg(p, msg);
            if (r < 0)
                return -(i + 1); /* the peer quit before */
            if (ipcn__noise_read_message(hs, msg, (size_t)r, pl, sizeof pl, &n) != IPCN_OK)
                return i + 1;
            CHECK(n == 0);
        }
    }
    CHECK(ipcn__noise_done(hs));
    return 0;
}

static void session(bool initiator)
{
    static const char prologue[] = "IPCNet/1 interop";
    static uint8_t ct[IPCN_NOISE_MAX_MSG], pt[IPCN_NOISE_MAX_MSG], big[IPCN_NOISE_MAX_MSG];
    peer p;
    start(&p, initiator ? "responder" : "initiator", prologue);
    uint8_t priv[32];
    randombytes_buf(priv, sizeof priv);
    ipcn__noise_hs hs;
    CHECK(ipcn__noise_init(&hs, initiator, (const uint8_t *)prologue, strlen(prologue),
                           priv) == IPCN_OK);
    CHECK(handshake(&p, &hs, initiator) == 0);
    char s_hex[65], rs_hex[65], h_hex[129];
    hex(hs.s_pub, 32, s_hex);
    CHECK(hs.has_rs);
    hex(hs.rs, 32, rs_hex);
    ipcn__noise_cipher tx, rx;
    uint8_t h[IPCN_NOISE_HASH];
    CHECK(ipcn__noise_split(&hs, &tx, &rx, h) == IPCN_OK);
    hex(h, sizeof h, h_hex);

    /* its view: its key is the one we learned, ours the one it learned,
     * and the handshake hash is the same */
    long n = recv_msg(&p, ct);
    CHECK(n >= 16);
    CHECK(ipcn__noise_decrypt(&rx, NULL, 0, ct, (size_t)n, pt) == IPCN_OK);
    pt[n - 16] = 0;
    char want[512];
    snprintf(want, sizeof want, "{\"s\":\"%s\",\"rs\":\"%s\",\"h\":\"%s\"}", rs_hex, s_hex,
             h_hex);
    if (strcmp((char *)pt, want) != 0) {
        fprintf(stderr, "its view: %s\nours:     %s\n", (char *)pt, want);
        exit(1);
    }

    /* transport both ways: its replies to ours */
    for (int i = 0; i < 300; i++) {
        char m[64];
        int len = snprintf(m, sizeof m, "message %d of ours", i);
        CHECK(ipcn__noise_encrypt(&tx, NULL, 0, (const uint8_t *)m, (size_t)len, ct) ==
              IPCN_OK);
        send_msg(&p, ct, (size_t)len + 16);
        n = recv_msg(&p, ct);
        CHECK(n == len + 5 + 16);
        CHECK(ipcn__noise_decrypt(&rx, NULL, 0, ct, (size_t)n, pt) == IPCN_OK);
        CHECK(memcmp(pt, "echo:", 5) == 0 && memcmp(pt + 5, m, (size_t)len) == 0);
    }
    /* the largest: ours of 65535 - 16 - 5 bytes, its of 65535 - 16 */
    size_t bn = IPCN_NOISE_MAX_MSG - 16 - 5;
    randombytes_buf(big, bn);
    CHECK(ipcn__noise_encrypt(&tx, NULL, 0, big, bn, ct) == IPCN_OK);
    send_msg(&p, ct, bn + 16);
    n = recv_msg(&p, ct);
    CHECK(n == IPCN_NOISE_MAX_MSG);
    CHECK(ipcn__noise_decrypt(&rx, NULL, 0, ct, (size_t)n, pt) == IPCN_OK);
    CHECK(memcmp(pt + 5, big, bn) == 0);
    /* a replay of its last message is refused here */
    CHECK(ipcn__noise_decrypt(&rx, NULL, 0, ct, (size_t)n, pt) == IPCN_BAD_REQUEST);

    /* a flipped bit: it refuses and quits (3) */
    CHECK(ipcn__noise_encrypt(&tx, NULL, 0, (const uint8_t *)"flipped", 7, ct) == IPCN_OK);
    ct[3] ^= 0x10;
    send_msg(&p, ct, 7 + 16);
    CHECK(recv_msg(&p, ct) == -1);
    CHECK(finish(&p) == 3);

    /* a clean end, in another session where ours negotiates the cipher
     * as a gateway does (docs/protocol.md 19.1.1, "Which cipher"): it
     * offers AESGCM as initiator, the npm side (which does not negotiate)
     * takes the offer as a payload and answers in ChaChaPoly; as
     * responder ours gets no offer.  ChaChaPoly either way. */
    ipcn__noise_cipher_clear(&tx);
    ipcn__noise_cipher_clear(&rx);
    start(&p, initiator ? "responder" : "initiator", prologue);
    CHECK(ipcn__noise_init_nego(&hs, IPCN_NOISE_CHACHAPOLY | IPCN_NOISE_AESGCM,
                                initiator, (const uint8_t *)prologue, strlen(prologue),
                                priv) == IPCN_OK);
    CHECK(handshake(&p, &hs, initiator) == 0);
    CHECK(ipcn__noise_split(&hs, &tx, &rx, NULL) == IPCN_OK);
    CHECK(tx.suite == IPCN_NOISE_CHACHAPOLY && rx.suite == IPCN_NOISE_CHACHAPOLY);
    CHECK((n = recv_msg(&p, ct)) > 16);
    CHECK(ipcn__noise_decrypt(&rx, NULL, 0, ct, (size_t)n, pt) == IPCN_OK);
    CHECK(ipcn__noise_encrypt(&tx, NULL, 0, (const uint8_t *)"bye", 3, ct) == IPCN_OK);
    send_msg(&p, ct, 19);
    CHECK(recv_msg(&p, ct) == 19);
    CHECK(ipcn__noise_decrypt(&rx, NULL, 0, ct, 19, pt) == IPCN_OK);
    CHECK(memcmp(pt, "bye", 3) == 0);
    CHECK(finish(&p) == 0);
    ipcn__noise_cipher_clear(&tx);
    ipcn__noise_cipher_clear(&rx);

    /* another network: the initiator refuses message 2 */
    start(&p, initiator ? "responder" : "initiator", "IPCNet/1 elsewhere");
    CHECK(ipcn__noise_init(&hs, initiator, (const uint8_t *)prologue, strlen(prologue),
                           priv) == IPCN_OK);
    int r = handshake(&p, &hs, initiator);
    if (initiator) {
        CHECK(r == 2); /* ours refused its message 2 */
    } else {
        CHECK(r == -3); /* it refused ours, and quit before message 3 */
    }
    int st = finish(&p);
    CHECK(initiator ? (st == 0 || st == 4) : st == 3);
    ipcn__noise_wipe(priv, sizeof priv);
    fprintf(stderr, "noise_npm: ours as %s: handshake, 300 round trips, the largest "
                    "message, replay, flipped bit, negotiating side, other prologue: "
                    "ok\n",
            initiator ? "initiator" : "responder");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s noise_peer.js   (NODE_PATH: noise-protocol's home)\n",
                argv[0]);
        return 2;
    }
    script = argv[1];
    signal(SIGPIPE, SIG_IGN);
    CHECK(sodium_init() >= 0);
    session(true);
    session(false);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * raw_client.h — a raw, hostile client: it speaks the wire by hand and uses
 * nothing of libipcnet.  Frames are built with a little-endian writer of
 * its own and sealed with XXH3-64 straight from xxhash.h; what the node
 * sends back is parsed and checked here too (its checksum included).  It
 * also speaks link rings (protocol 7.4) with its own code: it can write its
 * frames into a ring of its own and read the node's out of the node's.
 *
 * The protocol constants below are our own copy of docs/protocol.md, not
 * the library's.  Set raw_target (the node's directory and socket) before
 * encoding a hello or opening a client.  Failures are cmocka failures.
 */
#ifndef IPCN_TEST_RAW_CLIENT_H
#define IPCN_TEST_RAW_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- the protocol, as docs/protocol.md describes it (our own copy) ---- */

enum {
    T_HELLO = 1, T_BYE, T_PING, T_PONG, T_ANNOUNCE, T_WITHDRAW, T_SUBSCRIBE,
    T_UNSUBSCRIBE, T_SAMPLE, T_QUERY, T_QUERY_REPLY, T_REQUEST, T_REPLY,
    T_ERROR
};
#define T_RING 21   /* protocol 7.4: the sender's frames go on in a ring */
#define T_SET 24    /* protocol 12.3: set a data resource's value */
#define T_QUARANTINE 25 /* protocol 7.5: the sender quarantined a peer */
#define T_STATE 26  /* protocol 7.6: the sender's criticality and readiness */
#define T_ROUTE 27   /* protocol 19.2: a node a router reaches */
#define T_FORWARD 28 /* protocol 19.2: a frame on its way through routers */
#define T_SHM_RELEASE 17 /* protocol 10.1: slots given back */
#define CAP_ROUTE 256u /* takes ROUTE and FORWARD (a client whose hello says
                          so may get FORWARD frames) */
#define CAP_SHM 1u /* protocol 10.1: slots given back (SHM_RELEASE) */
#define CAP_RING 2u
#define CAP_STATE 64u
#define CAP_REDUNDANCY 128u /* protocol 3: the 8-byte extensions of ANNOUNCE,
                               REQUEST, REPLY and QUERY_REPLY */
#define CAP_LATCH 1024u /* protocol 10.3: a SUBSCRIBE with a corr (a replay),
                          and the keep of ANNOUNCE's extension */
#define ANN_OWNED 1u  /* ANNOUNCE extension flags */
#define ANN_ONCE 2u
#define RING_HDR 4096u /* the page of indices before a ring's data */
#define RING_MIN (64u << 10)
#define RING_MAX (16u << 20)
#define HDR 48
#define MAX_PAYLOAD (16u << 20)
#define ST_OK 100
#define ST_ACCEPTED 102
#define ST_BAD_REQUEST 200
#define ST_NOT_FOUND 203
#define ST_NOT_ALLOWED 204
#define ST_TOO_MANY 205
#define ST_CONFLICT 207
#define ST_VERSION 305
#define ST_LOOP 308

#define IO_TIMEOUT_MS 8000   /* generous: a sanitized victim on 2 cores */

/* The node the raw clients speak to.  dir is its network directory's
 * parent (the IPCNET_DIR: name locks go in dir/default/), sock its
 * socket; count numbers the clients made (their ids and names). */
struct raw_target {
    char dir[512];
    char sock[600];
    uint64_t count;
};
extern struct raw_target raw_target;

/* ---- a little-endian writer ---- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

void b_put(buf *b, const void *p, size_t n);
void st16(uint8_t *p, uint16_t v);
void st32(uint8_t *p, uint32_t v);
void st64(uint8_t *p, uint64_t v);
uint16_t ld16(const uint8_t *p);
uint32_t ld32(const uint8_t *p);
uint64_t ld64(const uint8_t *p);
void b_u8(buf *b, uint8_t v);
void b_u16(buf *b, uint16_t v);
void b_u32(buf *b, uint32_t v);
void b_u64(buf *b, uint64_t v);
/* A string: u16 length, the bytes, a NUL. */
void b_str(buf *b, const char *s, size_t n);
/* A blob: u32 length, the bytes. */
void b_blob(buf *b, const void *p, size_t n);

/* XXH3-64, seed 0, over header bytes 0..39 then the payload. */
uint64_t cksum(const uint8_t *hdr, const uint8_t *payload, size_t len);
/* Begin a frame: a v1 header with ttl 8, flags 0, reserved 0.  Returns its
 * offset in b. */
size_t f_begin(buf *b, uint8_t type, uint64_t src, uint64_t corr);
/* Recompute the checksum of the frame at off (after patching a field). */
void f_seal(buf *b, size_t off);
/* Finish: set the payload length and the checksum. */
void f_end(buf *b, size_t off);

/* The receive limit our hellos announce (a case sets it out of range),
 * and the capabilities (the shared-memory cases set bit 0, the cases that
 * read the victim's ring bit 1). */
extern uint32_t hello_max_payload;
extern uint32_t hello_caps;

/* Take the lock of a name we say hello as (protocol 7.3), kept until
 * names_release(); names no node could have are left alone. */
void name_claim(const char *name, size_t len);
void names_release(void);

/* ---- frames, each appended to b; they return the frame's offset ---- */

/* A HELLO, without taking the name's lock (a squatter's, or a client that
 * holds the lock its own way). */
size_t enc_hello_nolock(buf *b, uint64_t src, const char *net, size_t netlen,
                        const char *name, size_t namelen, uint8_t minv,
                        uint8_t maxv);
/* A HELLO after name_claim(). */
size_t enc_hello_v(buf *b, uint64_t src, const char *net, size_t netlen,
                   const char *name, size_t namelen, uint8_t minv, uint8_t maxv);
size_t enc_hello(buf *b, uint64_t src, const char *name);
size_t enc_text(buf *b, uint8_t type, uint64_t src, const char *s, size_t n);
size_t enc_stamp(buf *b, uint8_t type, uint64_t src, uint64_t stamp);
size_t enc_announce(buf *b, uint64_t src, uint8_t kind, uint64_t version,
                    const char *path, size_t pathlen);
size_t enc_sample(buf *b, uint64_t src, uint64_t seq, const char *path,
                  const void *data, size_t len);
/* A SAMPLE with a corr (what a replay sends, protocol 10.5) and an
 * encoding. */
size_t enc_sample_corr(buf *b, uint64_t src, uint64_t corr, uint64_t seq,
                       const char *path, const char *enc, const void *data,
                       size_t len);
size_t enc_request(buf *b, uint8_t type, uint64_t src, uint64_t corr,
                   const char *path, const void *data, size_t len);
size_t enc_reply(buf *b, uint8_t type, uint64_t src, uint64_t corr,
                 uint16_t status);
/* A SET (protocol 12.3) of path to data, of encoding enc. */
size_t enc_set(buf *b, uint64_t src, uint64_t corr, uint64_t expect_version,
               const char *path, const char *enc, const void *data,
               size_t len);
/* A QUARANTINE report (protocol 7.5): action 1 quarantined, 2 banned;
 * nkinds evidence counters. */
size_t enc_quarantine(buf *b, uint64_t src, uint8_t action, int32_t uid,
                      int32_t pid, int32_t score, uint64_t duration_ms,
                      const uint64_t *evidence, uint8_t nkinds,
                      const char *subject, const char *detail);
/* A STATE frame (protocol 7.6): criticality, flags (bit 0 ready), the
 * reserved u16 (0 in a good one). */
size_t enc_state(buf *b, uint64_t src, uint8_t criticality, uint8_t flags,
                 uint16_t reserved);
/* A RING frame (protocol 7.4): our direction goes on in a ring. */
size_t enc_ring(buf *b, uint64_t src, uint32_t size, uint32_t reserved);

/* ---- the raw client ---- */

typedef struct rframe {
    uint8_t type, ttl;
    uint16_t status;
    uint32_t len;
    uint64_t src, dst, corr;
    uint8_t *pl;        /* payload copy, NUL-terminated one past len */
    /* decoded bodies */
    const char *text;   /* ERROR, BYE, WITHDRAW, (UN)SUBSCRIBE; QUERY: path */
    size_t text_len;
    uint64_t stamp;     /* PING, PONG */
    const uint8_t *data;/* REPLY, QUERY_REPLY, SAMPLE */
    size_t data_len;
    /* ANNOUNCE's extension (to a client whose hello has CAP_REDUNDANCY):
     * has_ext, then strength and flags. */
    bool has_ext;
    int32_t strength;
    uint8_t ann_flags;
    uint16_t keep;      /* its keep (to a client with CAP_LATCH too) */
    uint64_t seq;       /* SAMPLE, REPLY, QUERY_REPLY */
} rframe;

typedef struct raw {
    int fd;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    bool eof;
    uint64_t id;         /* our node id: the src of our frames */
    uint64_t victim_id;  /* src of the victim's hello */
    unsigned frames, hellos, samples;
    unsigned errors[1024];  /* ERROR frames by status */
    unsigned replies[1024]; /* REPLY and QUERY_REPLY by status */
    uint16_t last_error;
    char last_text[128];
    uint64_t last_pong;
    /* the requests a flood is waiting for: 1 bit per correlation id */
    uint8_t *answered;
    uint64_t corr_base;
    size_t ncorr;
    unsigned dup_answers;
    /* Link rings (protocol 7.4), each direction on its own. */
    int fds_in[16];      /* descriptors received, in order */
    unsigned nfds_in;
    bool in_ring;        /* the victim's frames come through its ring */
    bool in_noread;      /* ... which we stopped reading */
    uint8_t *in_map;     /* its memfd, mapped */
    uint32_t in_size;
    uint64_t in_tail;    /* what we read of it */
    unsigned tokens_in;  /* tokens it sent on the socket */
    bool out_ring;       /* our frames go through our ring */
    uint8_t *out_map;
    uint32_t out_size;
    uint64_t out_head;   /* what we wrote into it */
    unsigned bells_out;  /* tokens we sent */
    /* The REDUNDANCY extensions (protocol 3): the victim's HELLO caps, and
     * what came with CAP_REDUNDANCY in hello_caps (without it, any
     * extension is a malformed body: the victim must not send one). */
    uint32_t victim_caps;
    unsigned ext_announces, ext_loads;
    uint32_t last_load;
    unsigned releases;      /* slots given back in SHM_RELEASE frames */
    uint32_t last_release[3]; /* the last one: pool id, slot, gen */
} raw;

/* A link ring's shared fields (protocol 7.4): head at 0, tail at 64,
 * reader_sleeps at 128, writer_waits at 192, native little-endian atomics. */
static inline uint64_t *rg_head(uint8_t *m) { return (uint64_t *)(void *)m; }
static inline uint64_t *rg_tail(uint8_t *m) { return (uint64_t *)(void *)(m + 64); }
static inline uint32_t *rg_sleeps(uint8_t *m) { return (uint32_t *)(void *)(m + 128); }
static inline uint32_t *rg_waits(uint8_t *m) { return (uint32_t *)(void *)(m + 192); }

extern buf B; /* scratch for frames */
extern buf C; /* a copy of B, kept (not freed) if a case fails half-way */
extern raw *live[512]; /* every raw client alive (raw_free_all frees them) */

void rframe_free(rframe *f);
/* Connect to the socket at path (made non-blocking after connect unless
 * nonblock, where the connect itself is).  Returns 0 with *fd_out, or the
 * errno of connect(). */
int raw_connect(const char *path, bool nonblock, int *fd_out);
/* raw_connect() to raw_target.sock. */
int raw_socket(bool nonblock, int *fd_out);
raw *raw_new(void);
/* A new client, connected to raw_target.sock. */
raw *raw_open(void);
void raw_free(raw *r);
/* Free every client, the scratch frame and the names claimed. */
void raw_free_all(void);
/* Read what is there, waiting up to timeout_ms for something.  Returns the
 * bytes read, 0 at end of stream, -1 when nothing came in time. */
ssize_t raw_fill(raw *r, int timeout_ms);
/* The next frame within timeout_ms: 1 with *f, 0 at end of stream, -1 on
 * timeout. */
int raw_next(raw *r, rframe *f, int timeout_ms);
/* Parse everything already received, without waiting. */
void raw_drain(raw *r);
/* Write n bytes (on our ring once our direction switched); see
 * raw_client.c.  Returns the bytes written. */
size_t raw_write_ex(raw *r, const void *p, size_t n, bool read_meanwhile,
                    int stall_ms);
/* Bytes straight onto the socket, whatever our direction carries. */
void raw_sock_write(raw *r, const void *p, size_t n);
void raw_write(raw *r, const void *p, size_t n);
/* Write B and empty it. */
void raw_send_buf(raw *r);
/* Send a PING and wait for its PONG. */
void raw_ping(raw *r, uint64_t stamp);
/* A linked hostile client: connected, hello sent, link up (PONG). */
raw *raw_link(void);
/* Read to the end of the stream: one ERROR status, then a close. */
void raw_expect_close_ex(raw *r, uint16_t status, bool error_optional);
void raw_expect_close(raw *r, uint16_t status);
/* Connect, send the bytes, expect ERROR status and a close. */
void attack_expect(const void *bytes, size_t n, uint16_t status);
/* attack_expect() with B (emptied). */
void attack_expect_buf(uint16_t status);

/* Send B with nfd descriptors attached to its first byte. */
void raw_send_fds(raw *r, const int *fds, int nfd);
/* A memfd of size bytes, sealed with seals (0: none). */
int make_memfd(size_t size, int seals);

/* ---- our side of a link ring (raw_ring.c) ---- */

/* A token on our socket: a bell, once our direction has switched. */
void raw_bell(raw *r);
/* Room in our ring by the victim's tail (*tail). */
size_t ring_room(raw *r, uint64_t *tail);
/* Copy k bytes (k <= room) at our ring's head, publish, bell if asked. */
void ring_copy_in(raw *r, const uint8_t *p, size_t k);
/* Into our ring: bytes, head, a bell if the victim sleeps; when full, wait
 * for room (as raw_write_ex).  Returns the bytes written. */
size_t ring_put(raw *r, const void *p, size_t n, bool read_meanwhile,
                int stall_ms);
/* Our direction switches to a ring of size bytes (a sealed memfd in a RING
 * frame), holding prefill already, asking for a bell when waits. */
void raw_ring_start_ex(raw *r, uint32_t size, const void *prefill,
                       size_t prefill_len, bool waits);
void raw_ring_start(raw *r, uint32_t size);
/* One token on the socket, with a descriptor when fd >= 0.  False when the
 * victim has hung up. */
bool raw_token_try(raw *r, uint8_t token, int fd);
void raw_token(raw *r, uint8_t token, int fd);

/* A seeded generator (splitmix64): the same bytes on every run. */
extern uint64_t rng_state;
uint64_t rng(void);

#endif

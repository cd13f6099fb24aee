/* SPDX-License-Identifier: MIT */
/*
 * wire.h — frames of the IPCNet protocol, version 1 (docs/protocol.md).
 *
 * Pure functions over byte buffers: no I/O, no allocation except through the
 * growable writer.  Every length read from a buffer is checked against the
 * buffer before use; decoded strings and blobs point into the frame.
 */
#ifndef IPCN_WIRE_H
#define IPCN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPCN_WIRE_MAGIC 0x4E435049u /* bytes 'I' 'P' 'C' 'N' */
#define IPCN_WIRE_VERSION 1
#define IPCN_WIRE_HDR_SIZE 48
#define IPCN_WIRE_MAX_PAYLOAD (16u << 20) /* hard ceiling of any link */
#define IPCN_WIRE_DEFAULT_TTL 8
/* Returned by decoders that need more bytes; never a status code. */
#define IPCN_WIRE_NEED_MORE 0

enum ipcn__ftype {
    IPCN_F_HELLO = 1,
    IPCN_F_BYE = 2,
    IPCN_F_PING = 3,
    IPCN_F_PONG = 4,
    IPCN_F_ANNOUNCE = 5,
    IPCN_F_WITHDRAW = 6,
    IPCN_F_SUBSCRIBE = 7,
    IPCN_F_UNSUBSCRIBE = 8,
    IPCN_F_SAMPLE = 9,
    IPCN_F_QUERY = 10,
    IPCN_F_QUERY_REPLY = 11,
    IPCN_F_REQUEST = 12,
    IPCN_F_REPLY = 13,
    IPCN_F_ERROR = 14,
    /* Shared-memory samples (capability IPCN_CAP_SHM on both sides). */
    IPCN_F_SHM_POOL = 15,    /* a pool's memfd, passed with SCM_RIGHTS */
    IPCN_F_SHM_SAMPLE = 16,  /* a sample whose bytes are in a pool slot */
    IPCN_F_SHM_RELEASE = 17, /* the reader is done with these slots */
    IPCN_F_SHM_REVOKE = 18,  /* the publisher took this slot back */
    IPCN_F_SHM_DROP = 19,    /* the pool is retired: unmap when unused */
    IPCN_F_SHM_REPLY = 20,   /* a REPLY whose body is in a pool slot */
    /* Shared-memory link rings (capability IPCN_CAP_RING on both sides). */
    IPCN_F_RING = 21,        /* the sender's frames go on in this ring */
    /* Capability IPCN_CAP_WITHHELD on both sides (and SHM). */
    IPCN_F_SHM_WITHHELD = 22, /* a sample not sent: the reader holds its
                                 share of the pool (SAMPLE layout, encoding
                                 and data empty) */
    /* Capability IPCN_CAP_CANCEL on the receiver's side. */
    IPCN_F_CANCEL = 23,       /* the requester gave up request corr: do not
                                 start it (empty body) */
    /* Capability IPCN_CAP_SET on the receiver's side. */
    IPCN_F_SET = 24,          /* set the value of a data resource of the
                                 receiver; answered by a REPLY whose seq is
                                 the resource's version */
    /* Capability IPCN_CAP_QUARANTINE on the receiver's side. */
    IPCN_F_QUARANTINE = 25,   /* the sender quarantined or banned a peer:
                                 the subject, the evidence (never
                                 forwarded, never answered) */
    /* Capability IPCN_CAP_STATE on the receiver's side. */
    IPCN_F_STATE = 26,        /* the sender's criticality and readiness
                                 (never forwarded, never answered) */
    /* Capability IPCN_CAP_ROUTE on the receiver's side (several hosts). */
    IPCN_F_ROUTE = 27,        /* a node the sender reaches, and the routers
                                 the way passes (a path vector), or that it
                                 no longer does (GONE); sent by a router to
                                 its link peers, never forwarded as is */
    IPCN_F_FORWARD = 28,      /* a frame for a node that is not the link
                                 peer: src and dst are its two ends, ttl and
                                 hops count routers, the body carries the
                                 routers passed and the inner frame */
    /* Capability IPCN_CAP_SHMREQ on the receiver's side (and SHM). */
    IPCN_F_SHM_REQUEST = 29,  /* a REQUEST whose body is in a slot of the
                                 requester's pool (SHM_SAMPLE's layout:
                                 seq the request id or 0, timestamp_ns the
                                 timeout in ms, at most 2^32-1) */
    IPCN_F__MAX = 29
};

/* Capability bits a node announces in its hello. */
#define IPCN_CAP_NONE 0u
#define IPCN_CAP_SHM 1u  /* takes and sends shared-memory samples */
#define IPCN_CAP_RING 2u /* reads a peer's frames from a shared ring */
#define IPCN_CAP_WITHHELD 4u /* takes SHM_WITHHELD notices */
#define IPCN_CAP_CANCEL 8u   /* takes CANCEL of its requests */
#define IPCN_CAP_SET 16u     /* takes SET of its data resources */
#define IPCN_CAP_QUARANTINE 32u /* takes QUARANTINE reports */
#define IPCN_CAP_STATE 64u   /* takes STATE frames */
#define IPCN_CAP_REDUNDANCY 128u /* takes the extensions of ANNOUNCE (strength,
                                    flags), REQUEST (request id) and
                                    REPLY/QUERY_REPLY (load) */
#define IPCN_CAP_ROUTE 256u  /* takes ROUTE and FORWARD frames: can be
                                reached through routers */
#define IPCN_CAP_LIVENESS 512u /* takes the extension of STATE (how long
                                  to wait for the sender: debugging) */
#define IPCN_CAP_LATCH 1024u /* takes a SUBSCRIBE with a corr (a replay:
                                the kept samples of what it matches, each
                                a SAMPLE or SHM_SAMPLE with that corr, then
                                a REPLY), and the keep of ANNOUNCE's
                                extension */
#define IPCN_CAP_NOSUM 2048u /* on a TCP link: frames it sends may carry
                                 checksum 0 (docs/protocol.md 19.1.2) */
#define IPCN_CAP_PROV 4096u /* takes SAMPLE's provenance extension
                               (docs/protocol.md 20) */
#define IPCN_CAP_HISTORY 8192u /* takes the extension of QUERY (a past
                                  version of a data resource, answered from
                                  its debug history, protocol.md 10.6) */

#define IPCN_CAP_SHMREQ 16384u /* takes SHM_REQUEST (docs/protocol.md
                                  12.9) */

/* Limits of a link ring's data area (a power of two), checked on both
 * sides; the memfd is one page of indices, then the data. */
#define IPCN_RING_MIN_SIZE (64u << 10)
#define IPCN_RING_MAX_SIZE (16u << 20)
#define IPCN_RING_HDR_SIZE 4096u

/* Limits of shared-memory pools, checked on both sides. */
#define IPCN_SHM_MAX_SLOTS 1024u
#define IPCN_SHM_MAX_SLOT_SIZE ((uint64_t)4 << 30)
#define IPCN_SHM_MAX_POOL_SIZE ((uint64_t)64 << 30) /* address space */
#define IPCN_SHM_MAX_RELEASE 512u /* slots per RELEASE frame */
#define IPCN_SHM_F_CHECKSUM 1u    /* SHM_SAMPLE: checksum was taken */

typedef struct ipcn__hdr {
    uint8_t version;
    uint8_t type;
    uint8_t flags;   /* must be 0 in v1 */
    uint8_t ttl;     /* hops left; a frame arriving with 0 is refused (308) */
    uint16_t status; /* replies, errors, bye; else 0 */
    uint8_t hops;    /* hops taken so far */
    uint32_t len;    /* payload bytes after the header */
    uint64_t src;    /* sender node id */
    uint64_t dst;    /* destination node id; 0 = the linked peer */
    uint64_t corr;   /* correlation id; 0 when none */
    uint64_t checksum;
} ipcn__hdr;

/* A string inside a frame: len bytes, NUL-terminated at p[len]. */
typedef struct ipcn__str {
    const char *p;
    uint16_t len;
} ipcn__str;

typedef struct ipcn__blob {
    const uint8_t *p;
    uint32_t len;
} ipcn__blob;

typedef struct ipcn__hello {
    uint8_t min_version, max_version;
    uint32_t caps;
    uint32_t heartbeat_ms;
    uint32_t max_payload; /* the largest payload the sender accepts */
    ipcn__str network;
    ipcn__str name;
} ipcn__hello;

/* ANNOUNCE's extension (capability REDUNDANCY on the receiver's side):
 * i32 strength, u8 flags, u8 reserved (0), u16 keep; flags and keep not
 * both 0.  OWNED: one of several providers of a data or stream path, ranked
 * by strength (exclusive ownership); ONCE: a service that runs each request
 * id at most once.  keep (sent non-zero only to a peer with LATCH too): the
 * samples the provider keeps for a subscriber that comes later, at most
 * IPCN_WIRE_KEEP_MAX; 0 or 1 on data (1: its current value), 0 on a service. */
#define IPCN_ANN_OWNED 1u
#define IPCN_ANN_ONCE 2u
#define IPCN_WIRE_KEEP_MAX 1024u
typedef struct ipcn__announce {
    uint8_t kind;
    uint64_t version;
    ipcn__str path;
    ipcn__str encoding;
    ipcn__blob meta;
    uint8_t has_ext;     /* the extension is (to be) present */
    uint8_t flags;       /* IPCN_ANN_* */
    int32_t strength;
    uint16_t keep;       /* samples kept for late subscribers */
} ipcn__announce;

typedef struct ipcn__sample {
    uint64_t seq;
    uint64_t timestamp_ns;
    ipcn__str path;
    ipcn__str encoding;
    ipcn__blob data;
    ipcn__blob prov;     /* SAMPLE's extension: an encoded provenance
                            record (wire/prov.h), len 0 when absent */
} ipcn__sample;

/* SHM_POOL: the memfd comes with the frame (SCM_RIGHTS). */
typedef struct ipcn__shm_pool {
    uint32_t pool_id;
    uint32_t slots;
    uint32_t share;      /* slots one reader node should hold at most */
    uint64_t slot_size;  /* a multiple of the page size */
} ipcn__shm_pool;

/* SHM_SAMPLE: a SAMPLE whose data is in slot of pool, at offset.
 * SHM_REPLY has the same body (path empty), its status and corr in the
 * header.  SHM_REQUEST too: seq is the request id (0: none), timestamp_ns
 * the timeout in ms (at most UINT32_MAX), corr in the header. */
typedef struct ipcn__shm_sample {
    uint64_t seq;
    uint64_t timestamp_ns;
    ipcn__str path;
    ipcn__str encoding;
    uint32_t pool_id;
    uint32_t slot;
    uint32_t gen;        /* the slot's generation: it changes on reuse */
    uint32_t flags;      /* IPCN_SHM_F_* */
    uint64_t offset;     /* of the data inside the slot */
    uint64_t len;
    uint64_t checksum;   /* XXH3-64 of the data, taken at publish */
} ipcn__shm_sample;

/* RING: the memfd comes with the frame (SCM_RIGHTS); size is its data
 * area, a power of two within the limits above. */
typedef struct ipcn__ring_info {
    uint32_t size;
} ipcn__ring_info;

/* SHM_RELEASE, SHM_REVOKE: (pool, slot, gen) triples; SHM_DROP: count 1,
 * slot and gen 0.  Points into the frame: read with ipcn__shm_ref_at(). */
typedef struct ipcn__shm_refs {
    uint32_t count;
    const uint8_t *p;    /* count * 12 bytes */
} ipcn__shm_refs;

typedef struct ipcn__shm_ref {
    uint32_t pool_id, slot, gen;
} ipcn__shm_ref;

/* REQUEST and QUERY (QUERY has no data).  A REQUEST's extension
 * (capability REDUNDANCY on the receiver's side): u64 request_id, not 0;
 * absent when request_id is 0.  A QUERY's extension (capability HISTORY
 * on the receiver's side): u64 version, not 0, the past version asked
 * (protocol.md 10.6); absent when version is 0. */
typedef struct ipcn__request {
    uint32_t timeout_ms;
    ipcn__str path;
    ipcn__str encoding;
    ipcn__blob data;
    uint64_t request_id;
    uint64_t version;
} ipcn__request;

/* SET: the new value of a data resource; expect_version 0 = any, else
 * the resource's version must be this one. */
typedef struct ipcn__set {
    uint32_t timeout_ms;
    uint64_t expect_version;
    ipcn__str path;
    ipcn__str encoding;
    ipcn__blob data;
} ipcn__set;

/* REPLY and QUERY_REPLY; status in header.  The extension (capability
 * REDUNDANCY on the receiver's side): u32 load (the provider's requests
 * queued and running), u32 reserved (0). */
typedef struct ipcn__reply {
    uint64_t seq;
    uint64_t timestamp_ns;
    ipcn__str encoding;
    ipcn__blob data;
    uint8_t has_load;
    uint32_t load;
} ipcn__reply;

/* QUARANTINE: the sender's verdict on a subject (a node name, or a
 * process by uid and pid when name is empty), with its evidence: kinds
 * counters (u64 each, in the order of the offences, guard.h), read with
 * ipcn__quarantine_evidence(). */
#define IPCN_QR_QUARANTINED 1
#define IPCN_QR_BANNED 2
#define IPCN_QR_MAX_KINDS 16
typedef struct ipcn__quarantine {
    uint8_t action;         /* IPCN_QR_QUARANTINED or _BANNED */
    uint8_t kinds;          /* evidence counters: 1..16 */
    int32_t uid, pid;       /* pid 0: a named subject's is not told */
    int32_t score;          /* the sender's score of it (<= 0) */
    uint64_t duration_ms;   /* its quarantine (0: banned, until lifted) */
    const uint8_t *evidence; /* kinds * 8 bytes */
    ipcn__str subject;      /* a node name, or empty: the process */
    ipcn__str detail;       /* the latest evidence, as text */
} ipcn__quarantine;

/* Evidence counter k of q (0 past its kinds). */
uint64_t ipcn__quarantine_evidence(const ipcn__quarantine *q, uint32_t k);

/* STATE: what the sender says of itself, the whole of it each time: its
 * criticality (0 none, 1 optional, 2 important, 3 critical) and flags
 * (IPCN_STATE_READY; the other bits 0); then a reserved u16 (0).  The
 * extension (has_ext; only to a peer with IPCN_CAP_LIVENESS): u32
 * liveness_ms (1 .. IPCN_STATE_LIVENESS_MAX), how long the sender asks to
 * be waited for when silent (debugging), then a reserved u32 (0). */
#define IPCN_STATE_CRIT_MAX 3
#define IPCN_STATE_READY 1u
#define IPCN_STATE_LIVENESS_MAX 86400000u /* a day */
typedef struct ipcn__state {
    uint8_t criticality;
    uint8_t flags;
    uint8_t has_ext;
    uint32_t liveness_ms;
} ipcn__state;

/* ROUTE: node_id is reachable through the sender, by the routers in
 * path (node ids, the one nearest the node first, the sender last; 1 ..
 * IPCN_ROUTE_MAX_PATH of them).  name, host and user say who it is (its
 * host's name as the first router's trust list names that host; the user
 * on that host); uid is that user's id there (-1: not told).  GONE: the
 * sender no longer reaches it (name, host, user may be empty).  ROUTER:
 * the node forwards frames itself.  Layout: u64 node_id, u8 flags, u8
 * npath, u16 0, i32 uid, str name, str host, str user, u64 path[npath]. */
#define IPCN_ROUTE_GONE 1u
#define IPCN_ROUTE_ROUTER 2u
#define IPCN_ROUTE_MAX_PATH 16u
typedef struct ipcn__route {
    uint64_t node_id;
    uint8_t flags;
    uint8_t npath;
    int32_t uid;
    ipcn__str name, host, user;
    const uint8_t *path; /* npath * 8 bytes: ipcn__wire_path_at() */
} ipcn__route;

/* FORWARD: the header's src and dst are the inner frame's two ends (the
 * inner frame's own src and dst must be the same); its ttl is the hops
 * left (each router takes one; 0 on arrival: 308) and hops the hops
 * taken.  Body: u64 seq (the origin's count of the frames it sent
 * through routers, to any node: strictly increasing, never 0), u8 flags,
 * u8 npath (0 .. IPCN_FWD_MAX_PATH), u16 0, u32 0, u64 path[npath] (the
 * routers passed, in order; each appends its own id), then the inner
 * frame: a whole frame, checked as one.  BOUNCE: a router could not
 * deliver it; the header's status says why (302, 304, 308, 205), src is
 * the router, dst the origin, and the inner frame is only the header (48
 * bytes) of the frame that was not delivered. */
#define IPCN_FWD_BOUNCE 1u
#define IPCN_FWD_MAX_PATH 16u
#define IPCN_FWD_BODY_FIXED 16u
/* The most a FORWARD adds to its inner frame. */
#define IPCN_FWD_OVERHEAD_MAX \
    (IPCN_WIRE_HDR_SIZE + IPCN_FWD_BODY_FIXED + 8u * IPCN_FWD_MAX_PATH)
typedef struct ipcn__forward {
    uint64_t seq;
    uint8_t flags;
    uint8_t npath;
    const uint8_t *path; /* npath * 8 bytes: ipcn__wire_path_at() */
    ipcn__blob inner;
} ipcn__forward;

/* Node id i of a ROUTE's or FORWARD's path (unchecked: i < npath). */
uint64_t ipcn__wire_path_at(const uint8_t *path, uint32_t i);

/* One decoded frame.  Which body member is valid depends on hdr.type:
 * HELLO hello; ANNOUNCE announce; SAMPLE, SHM_WITHHELD sample; QUERY, REQUEST request;
 * QUERY_REPLY, REPLY reply; SET set; WITHDRAW, SUBSCRIBE, UNSUBSCRIBE text (the path
 * or pattern); BYE, ERROR text (a reason); PING, PONG stamp; CANCEL none; SHM_POOL
 * shm_pool; SHM_SAMPLE, SHM_REPLY, SHM_REQUEST shm_sample; SHM_RELEASE, SHM_REVOKE, SHM_DROP
 * shm_refs; RING ring; QUARANTINE quarantine; STATE state; ROUTE route;
 * FORWARD forward. */
typedef struct ipcn__frame {
    ipcn__hdr hdr;
    union {
        ipcn__hello hello;
        ipcn__announce announce;
        ipcn__sample sample;
        ipcn__request request;
        ipcn__reply reply;
        ipcn__set set;
        ipcn__str text;
        uint64_t stamp;
        ipcn__shm_pool shm_pool;
        ipcn__shm_sample shm_sample;
        ipcn__shm_refs shm_refs;
        ipcn__ring_info ring;
        ipcn__quarantine quarantine;
        ipcn__state state;
        ipcn__route route;
        ipcn__forward forward;
    } u;
} ipcn__frame;

/*
 * ipcn__frame_check() - is there one complete, valid frame at buf?
 * Returns IPCN_WIRE_NEED_MORE with *need set to the total bytes wanted (the
 * header, or the whole frame once the header is known); 100 with *need set
 * to the frame's size when a whole frame with a valid checksum is there;
 * 305 for a version other than 1 (magic intact); 200 for anything else
 * wrong (magic, flags, reserved byte, type, payload over max_payload,
 * checksum).  Reads at most avail bytes.
 */
int ipcn__frame_check(const uint8_t *buf, size_t avail, uint32_t max_payload,
                      size_t *need);
/* The same, without the checksum when verify_sum is false: for frames
 * that came in authenticated records (a TCP link's, docs/protocol.md
 * 19.1.2), whose checksum the sender may leave 0. */
int ipcn__frame_check_ex(const uint8_t *buf, size_t avail, uint32_t max_payload,
                         size_t *need, bool verify_sum);

/*
 * ipcn__frame_decode() - decode a frame that ipcn__frame_check() accepted
 * (frame_len bytes).  Returns 100, or 200 when the body does not match its
 * type's layout exactly (overruns, missing terminators, embedded NULs,
 * trailing bytes, an unknown resource kind).  Pointers in *out point into
 * buf.
 */
int ipcn__frame_decode(const uint8_t *buf, size_t frame_len, ipcn__frame *out);

/* Read the header fields without any check (for tests and tools). */
void ipcn__hdr_read(const uint8_t *buf, ipcn__hdr *out);

/* ---- encoding ---- */

/* A writer appending to a growable buffer (allocator hook). */
typedef struct ipcn__wbuf {
    uint8_t *p;
    size_t len, cap;
    size_t grow_max; /* growth by a quarter stops here (0: no limit); a
                        bigger need is met exactly.  Kept by free. */
    int oom; /* set when a growth failed; the content is then incomplete */
    bool no_sum; /* frames finished here get checksum 0: the queue of a link
                    whose records are authenticated (TCP).  Kept by free. */
} ipcn__wbuf;

void ipcn__wbuf_free(ipcn__wbuf *w);
void ipcn__wbuf_u8(ipcn__wbuf *w, uint8_t v);
void ipcn__wbuf_u16(ipcn__wbuf *w, uint16_t v);
void ipcn__wbuf_u32(ipcn__wbuf *w, uint32_t v);
void ipcn__wbuf_u64(ipcn__wbuf *w, uint64_t v);
void ipcn__wbuf_bytes(ipcn__wbuf *w, const void *p, size_t n);
/* str: u16 length, bytes, a NUL.  n must be <= 65535. */
void ipcn__wbuf_str(ipcn__wbuf *w, const char *s, size_t n);
/* blob: u32 length, bytes. */
void ipcn__wbuf_blob(ipcn__wbuf *w, const void *p, uint32_t n);

/* Start a frame: append a header with the given fields (len and checksum
 * filled in by ipcn__frame_end).  Returns the frame's offset in w. */
size_t ipcn__frame_begin(ipcn__wbuf *w, const ipcn__hdr *h);
/* Finish the frame begun at off: set its length and checksum.
 * Returns 100, 200 when the payload is over IPCN_WIRE_MAX_PAYLOAD, 307 when
 * the writer ran out of memory. */
int ipcn__frame_end(ipcn__wbuf *w, size_t off);

/* Whole-frame encoders, appending one frame to w.  h gives type-independent
 * header fields (type is set by each function).  Return as ipcn__frame_end. */
int ipcn__enc_hello(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__hello *b);
int ipcn__enc_text(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type, const char *s,
                   size_t n);
int ipcn__enc_stamp(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type, uint64_t stamp);
/* A frame with an empty body (CANCEL). */
int ipcn__enc_empty(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type);
int ipcn__enc_announce(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__announce *b);
/* SAMPLE, or SHM_WITHHELD when h->type says so (encoding, data empty). */
int ipcn__enc_sample(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__sample *b);
int ipcn__enc_request(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type,
                      const ipcn__request *b);
int ipcn__enc_reply(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type,
                    const ipcn__reply *b);
int ipcn__enc_set(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__set *b);

int ipcn__enc_shm_pool(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__shm_pool *b);
/* SHM_SAMPLE, or SHM_REPLY or SHM_REQUEST when h->type is that on entry. */
int ipcn__enc_shm_sample(ipcn__wbuf *w, ipcn__hdr *h,
                         const ipcn__shm_sample *b);
/* RELEASE, REVOKE (1..IPCN_SHM_MAX_RELEASE refs) and DROP (one ref). */
int ipcn__enc_shm_refs(ipcn__wbuf *w, ipcn__hdr *h, uint8_t type,
                       const ipcn__shm_ref *refs, uint32_t count);
ipcn__shm_ref ipcn__shm_ref_at(const ipcn__shm_refs *r, uint32_t i);
int ipcn__enc_ring(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__ring_info *b);
/* QUARANTINE: q->kinds counters from evidence (q->evidence is ignored). */
int ipcn__enc_quarantine(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__quarantine *q,
                         const uint64_t *evidence);
int ipcn__enc_state(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__state *b);
/* ROUTE: b's fields, its npath ids from path (b->path is ignored). */
int ipcn__enc_route(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__route *b,
                    const uint64_t *path);
/* FORWARD: b's seq and flags, npath ids from path (b->path and b->inner
 * are ignored), then inner_len bytes of inner (a whole frame, or a header
 * for a BOUNCE). */
int ipcn__enc_forward(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__forward *b,
                      const uint64_t *path, const uint8_t *inner,
                      size_t inner_len);

/* The checksum of a frame: XXH3-64 (seed 0) over header bytes 0..39 then
 * the payload. */
uint64_t ipcn__frame_checksum(const uint8_t *hdr40, const uint8_t *payload,
                              size_t len);

/* A string view from a C string, capped at 65535 bytes (callers validate
 * lengths before encoding). */
ipcn__str ipcn__str_of(const char *s);
ipcn__blob ipcn__blob_of(const void *p, size_t n);

#endif

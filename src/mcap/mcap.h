/* SPDX-License-Identifier: MIT */
/*
 * mcap.h — an MCAP writer and reader (https://mcap.dev/spec, major version
 * 0), written from the specification for `ipcnet record`, `play` and
 * `info`.  Its own static library (ipcnet_mcap), linked by the CLI and the
 * tests, never by libipcnet: it is the only code that links libzstd.
 *
 * Writer: Header, then Schema, Channel and Message records inside Chunk
 * records (compression "zstd" or ""), each chunk followed by one Message
 * Index per channel it holds; at close DataEnd (with the data section's
 * CRC32), the summary (Schemas, Channels, Chunk Indexes, Statistics,
 * grouped by opcode), Summary Offsets, Footer (with the summary CRC32) and
 * the magic.  A message's bytes go straight from the caller's buffer into
 * the compressor (no copy of them is kept: a shared-memory sample is
 * compressed from its mapping).  Each finished chunk is written out at
 * once, with consecutive write(2) calls (its head, its compressed records,
 * then its Message Indexes), before the next message is taken, so a
 * writer killed with kill -9 leaves a file whose chunks up to the last
 * finished one are readable (a reader reads a chunk without its indexes;
 * one cut in two is not read).
 *
 * Reader: a file is hostile input.  Every length is checked against what
 * is left of its record and of the file; a chunk's declared uncompressed
 * size is capped (mcap_read_opts.max_chunk) and must match what zstd gives;
 * every CRC that is not 0 is checked; a message must name a channel
 * declared before it.  A file that ends early (no DataEnd, no footer, a
 * record cut in two) is read up to its last whole record and reported as
 * cut off, not as an error.  Memory: the file is read through a mapping
 * (or a caller's buffer), one decompressed chunk at a time.
 *
 * Statuses: the functions return 0 or a negative MCAP_E* code.  Not
 * thread-safe: one writer or reader per thread.
 */
#ifndef IPCNET_MCAP_H
#define IPCNET_MCAP_H

#include <stddef.h>
#include <stdint.h>

#define MCAP_OK 0
#define MCAP_EIO (-1)      /* open, write, fsync or mmap failed (errno) */
#define MCAP_ENOMEM (-2)
#define MCAP_EINVAL (-3)   /* a bad argument */
#define MCAP_EFORMAT (-4)  /* the file is not well-formed (see err) */
#define MCAP_ECRC (-5)     /* a CRC32 does not match */
#define MCAP_ELIMIT (-6)   /* over a reader's bound (chunk size, ids) */
#define MCAP_ESTOP (-7)    /* the callback asked to stop */

/* Record opcodes (spec "Records"). */
enum {
    MCAP_OP_HEADER = 0x01, MCAP_OP_FOOTER = 0x02, MCAP_OP_SCHEMA = 0x03,
    MCAP_OP_CHANNEL = 0x04, MCAP_OP_MESSAGE = 0x05, MCAP_OP_CHUNK = 0x06,
    MCAP_OP_MESSAGE_INDEX = 0x07, MCAP_OP_CHUNK_INDEX = 0x08,
    MCAP_OP_ATTACHMENT = 0x09, MCAP_OP_ATTACHMENT_INDEX = 0x0A,
    MCAP_OP_STATISTICS = 0x0B, MCAP_OP_METADATA = 0x0C,
    MCAP_OP_METADATA_INDEX = 0x0D, MCAP_OP_SUMMARY_OFFSET = 0x0E,
    MCAP_OP_DATA_END = 0x0F
};

extern const uint8_t mcap_magic[8];

/** CRC-32 (ISO-HDLC, as zlib's crc32()), continued from crc (0 to start). */
uint32_t mcap_crc32(uint32_t crc, const void *p, size_t n);

/* ---- Writer ------------------------------------------------------ */

typedef struct mcap_writer mcap_writer;

typedef struct mcap_write_opts {
    const char *profile;   /* Header.profile ("" when NULL) */
    const char *library;   /* Header.library ("" when NULL) */
    int compress;          /* 1: "zstd" (default), 0: none */
    int zstd_level;        /* 0: 1 (fast) */
    size_t chunk_size;     /* finish a chunk past this many uncompressed
                              bytes; 0: 1 MiB */
    int fsync_chunks;      /* fdatasync(2) after each chunk */
} mcap_write_opts;

void mcap_write_opts_init(mcap_write_opts *o);

/** Create (truncate) path and write the magic and Header.  o may be NULL. */
int mcap_writer_open(mcap_writer **out, const char *path,
                     const mcap_write_opts *o);

/** A schema (id >= 1 returned in *id).  The bytes are copied. */
int mcap_writer_add_schema(mcap_writer *w, const char *name,
                           const char *encoding, const void *data,
                           size_t len, uint16_t *id);

/** A channel (id >= 1 returned in *id); schema_id 0: none.  meta: nmeta
 *  key/value pairs, keys[i] -> vals[i], copied. */
int mcap_writer_add_channel(mcap_writer *w, uint16_t schema_id,
                            const char *topic, const char *msg_encoding,
                            const char *const *keys, const char *const *vals,
                            size_t nmeta, uint16_t *id);

/** One message.  data is read once, into the compressor, before return. */
int mcap_writer_message(mcap_writer *w, uint16_t channel, uint32_t seq,
                        uint64_t log_time, uint64_t publish_time,
                        const void *data, size_t len);

/** Finish the open chunk (if any) and write(2) it with its indexes. */
int mcap_writer_flush(mcap_writer *w);

/** Uncompressed bytes of the open chunk (0: none open). */
size_t mcap_writer_pending(const mcap_writer *w);
/** Bytes written to the file so far. */
uint64_t mcap_writer_offset(const mcap_writer *w);

/** Flush, write DataEnd, the summary, the footer and the magic, close.
 *  Frees w whatever happens; returns the first error met. */
int mcap_writer_close(mcap_writer *w);

/** Close the file without a summary or footer (what a crash leaves);
 *  for tests. */
void mcap_writer_abandon(mcap_writer *w);

/* ---- Reader ------------------------------------------------------ */

typedef struct mcap_schema {
    uint16_t id;
    const char *name, *encoding;   /* NUL-terminated copies */
    const uint8_t *data;
    size_t len;
} mcap_schema;

typedef struct mcap_channel {
    uint16_t id, schema_id;
    const char *topic, *encoding;
    size_t nmeta;
    const char *const *keys, *const *vals;
} mcap_channel;

typedef struct mcap_message {
    const mcap_channel *channel;
    uint32_t seq;
    uint64_t log_time, publish_time;
    const uint8_t *data;   /* valid during the callback */
    size_t len;
} mcap_message;

/** What a scan found.  Strings live as long as the reader. */
typedef struct mcap_info {
    const char *profile, *library;
    uint64_t messages, chunks, data_end_offset;
    uint64_t start_time, end_time;      /* log times; 0 when no message */
    const char *compression;            /* of the last chunk ("" none) */
    int complete;          /* DataEnd, summary and footer read and valid */
    int cut_off;           /* the file ends before its footer */
    uint64_t good_bytes;   /* bytes up to the end of the last whole
                              record read */
    int have_stats;        /* a Statistics record was read */
    uint64_t stats_messages;
    char why[160];         /* why it was cut off, or the error */
} mcap_info;

/* The largest uncompressed chunk a reader takes unless told (a hostile
 * chunk of a few KiB may say it unpacks to GiBs: that much is allocated
 * and filled before its CRC can tell).  The writer's chunks stay below it
 * unless one message alone is larger. */
#define MCAP_MAX_CHUNK_DEFAULT ((size_t)64 << 20)

typedef struct mcap_read_opts {
    size_t max_chunk;      /* largest uncompressed chunk; 0:
                              MCAP_MAX_CHUNK_DEFAULT */
} mcap_read_opts;

/** Message callback: return 0 to go on, non-zero to stop (MCAP_ESTOP). */
typedef int (*mcap_msg_fn)(const mcap_message *m, void *user);

typedef struct mcap_reader mcap_reader;

/** Map path read-only.  o may be NULL. */
int mcap_reader_open(mcap_reader **out, const char *path,
                     const mcap_read_opts *o);
/** Read from a caller's buffer (kept, not copied, until close). */
int mcap_reader_open_mem(mcap_reader **out, const void *buf, size_t len,
                         const mcap_read_opts *o);
void mcap_reader_close(mcap_reader *r);

/**
 * Read the file from its start: each message in file order to fn (NULL:
 * count only), then, when there is one, the summary and footer (checked
 * against what was read).  Returns 0 when the file was read to its end or
 * was cut off (info->cut_off, info->why say where), or the first error
 * (MCAP_EFORMAT, MCAP_ECRC, MCAP_ELIMIT, MCAP_ENOMEM, MCAP_ESTOP); info
 * then holds what was read before it.  May be called once per reader.
 */
int mcap_reader_scan(mcap_reader *r, mcap_msg_fn fn, void *user,
                     mcap_info *info);

/** The channels read so far (ids ascending); count in *n. */
const mcap_channel *const *mcap_reader_channels(const mcap_reader *r,
                                                 size_t *n);
/** A schema read so far, or NULL. */
const mcap_schema *mcap_reader_schema(const mcap_reader *r, uint16_t id);
/** Messages read so far on channel id. */
uint64_t mcap_reader_channel_count(const mcap_reader *r, uint16_t id);
/** The channel's metadata value of key, or NULL. */
const char *mcap_channel_meta(const mcap_channel *c, const char *key);

const char *mcap_strerror(int code);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_media.h — media streams: video, audio and point clouds as IPCNet
 * streams whose encoding says how to decode each sample.
 *
 * Five parts, all pure functions over buffers (none touches a node):
 *  - an H.264 Annex B splitter that cuts a byte stream into access units
 *    (one sample each), fed incrementally, with bounded memory;
 *  - a parser of H.264 sequence parameter sets (picture size, frame rate);
 *  - a WAV (RIFF) parser that finds the PCM format and the data chunk, and
 *    a writer of the RIFF header that a receiver puts back in front of the
 *    PCM it received;
 *  - the description of a media stream (ipcn_media_desc): the encoding
 *    string and the metadata map (CBOR) a publisher announces, parsed back
 *    by a subscriber, and the presentation time of a sample from its
 *    sequence number;
 *  - the IPCNet point-cloud sweep file (".pcs"), a raw container of
 *    float32 sweeps used by `ipcnet stream-send`.
 * How a stream of samples uses these (one sample per access unit, audio
 * packet or sweep; the empty sample that ends a stream; gaps by sequence
 * number) is in docs/protocol.md, "Media streams".
 *
 * The conventions of ipcnet.h hold: every call that can fail returns a
 * status code, output parameters are untouched on failure unless a comment
 * says otherwise, strings and buffers passed in stay the caller's.  Every
 * parser here reads input from outside (files, peers): it never reads
 * outside the bytes it is given, whatever they hold, and is fuzzed
 * (tests/fuzz/fuzz_h264.c, fuzz_wav.c, fuzz_mediadesc.c).  The statuses
 * used are
 *   100 OK, 103 No Data (more input is needed, or the end),
 *   104 Partial Data (a truncated file: what is there is described),
 *   200 Bad Request (malformed input, invalid arguments),
 *   203 Not Found (the thing looked for is not there),
 *   301 Not Implemented (valid input this layer does not handle),
 *   306 Insufficient Storage (a buffer or a bound too small),
 *   307 Insufficient Memory.
 * Functions on distinct objects are safe to call from any thread at once;
 * one splitter is not to be used by two threads at the same time.
 *
 * Since: 0.1
 */
#ifndef IPCNET_MEDIA_H
#define IPCNET_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"
#include "ipcnet_value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== */
/* H.264 Annex B: access units                                         */
/* ================================================================== */

/*
 * An H.264 byte stream (ITU-T H.264 Annex B) is a series of NAL units,
 * each preceded by a start code 00 00 01 (often 00 00 00 01: a zero byte
 * and the code).  An access unit is the NAL units of one coded picture
 * with the parameter sets and SEI that go with it.  The splitter starts a
 * new access unit at the first of these NAL units (the rule of H.264
 * 7.4.1.2.3, with the first slice of a picture found by its address):
 *   - an access unit delimiter (type 9), whenever the current unit holds
 *     any NAL unit;
 *   - SEI (6), SPS (7), PPS (8) or types 14..18, once the current unit
 *     holds a VCL NAL unit (types 1..5, a slice or slice data partition);
 *   - a slice (types 1, 5) or slice data partition A (2) whose
 *     first_mb_in_slice (read as Exp-Golomb ue(v), emulation prevention
 *     bytes removed) is 0, once the current unit holds a VCL NAL unit.
 * Other NAL units (partitions B and C, end of sequence and of stream,
 * filler, auxiliary and extension slices, reserved and unspecified types)
 * belong to the current unit.  Streams that send the slices of a picture
 * out of order (arbitrary slice order, Baseline only) are cut where the
 * slice of address 0 comes.
 *
 * Each access unit is handed out as the bytes of the stream, start codes
 * and zero bytes included: a zero run before a start code goes with the
 * NAL unit it precedes, so the first unit holds the stream's leading zero
 * bytes and the last its trailing ones.  Concatenating the units gives the
 * stream back byte for byte, unless garbage was dropped (200) or a unit
 * was too large (306).
 */

/** An H.264 splitter; opaque.  Free with ipcn_media_h264_free(). */
typedef struct ipcn_media_h264 ipcn_media_h264;

/** The largest access unit a splitter keeps by default: a sample and its
 *  path and encoding still fit a frame of the default max_payload. */
#define IPCN_MEDIA_H264_MAX_AU_DEFAULT ((size_t)15 << 20)

/** ipcn_media_au.flags */
#define IPCN_MEDIA_AU_PICTURE 0x1u /**< holds a VCL NAL unit (a picture) */
#define IPCN_MEDIA_AU_IDR 0x2u     /**< an IDR picture: decoding can start */
#define IPCN_MEDIA_AU_SPS 0x4u     /**< holds a sequence parameter set */
#define IPCN_MEDIA_AU_PPS 0x8u     /**< holds a picture parameter set */
#define IPCN_MEDIA_AU_END 0x10u    /**< holds an end of sequence or stream */

/** One access unit, as ipcn_media_h264_next() hands it out. Since: 0.1 */
typedef struct ipcn_media_au {
    const uint8_t *data;   /**< the unit's bytes, inside the splitter */
    size_t len;
    uint64_t offset;       /**< where they start in the whole stream */
    uint32_t nal_count;    /**< NAL units in it */
    uint32_t flags;        /**< IPCN_MEDIA_AU_* */
} ipcn_media_au;

/** Counters of a splitter; a sized struct (ipcnet.h).  Since: 0.1 */
typedef struct ipcn_media_h264_stats {
    uint32_t size;           /**< sizeof(ipcn_media_h264_stats): set it */
    uint64_t bytes_in;       /**< fed */
    uint64_t aus;            /**< access units handed out */
    uint64_t nals;           /**< NAL units in them */
    uint64_t garbage_bytes;  /**< dropped: not in any NAL unit, or in one
                                  with forbidden_zero_bit set */
    uint64_t dropped_aus;    /**< dropped for being over max_au */
    uint64_t dropped_bytes;  /**< their bytes */
    uint64_t error_offset;   /**< stream offset of the last 200 or 306 */
} ipcn_media_h264_stats;

/**
 * ipcn_media_h264_new() - a splitter that keeps access units of at most
 * max_au bytes (0: IPCN_MEDIA_H264_MAX_AU_DEFAULT).
 * @out: on 100, the splitter; free it with ipcn_media_h264_free().
 * Returns 100; 200 for NULL out or max_au under 64 or over 1 GiB; 307.
 * Since: 0.1
 */
IPCN_API int ipcn_media_h264_new(size_t max_au, ipcn_media_h264 **out);

/** ipcn_media_h264_free() - free a splitter.  NULL: no-op.  Since: 0.1 */
IPCN_API void ipcn_media_h264_free(ipcn_media_h264 *s);

/**
 * ipcn_media_h264_feed() - give the splitter the next len bytes of the
 * stream (copied; chunks may be cut anywhere, even inside a start code).
 * Call ipcn_media_h264_next() until it returns 103 before feeding more:
 * the splitter holds at most the access unit being assembled (max_au)
 * and the input not yet split.
 * Returns 100; 200 for NULL arguments (data may be NULL when len is 0) or
 * after ipcn_media_h264_finish(); 306 when more than max_au bytes of
 * earlier input are still unsplit (nothing is taken: call next() first);
 * 307 (nothing is taken).  Since: 0.1
 */
IPCN_API int ipcn_media_h264_feed(ipcn_media_h264 *s, const void *data,
                                  size_t len);

/**
 * ipcn_media_h264_finish() - say that the stream has ended: the units
 * still held come out of ipcn_media_h264_next(), the last one ending at
 * the last byte.  Returns 100, 200 for NULL.  Since: 0.1
 */
IPCN_API int ipcn_media_h264_finish(ipcn_media_h264 *s);

/**
 * ipcn_media_h264_next() - the next complete access unit.
 * @out: on 100, the unit; its data points inside the splitter and stays
 *       valid until the next ipcn_media_h264_feed() or _free().
 * Returns
 *   100 with a unit;
 *   103 when the splitter needs more input (after finish(): the end);
 *   200 when it dropped garbage: bytes before the first start code other
 *       than zero bytes, or a NAL unit whose forbidden_zero_bit is set
 *       (the stream is not H.264, or is corrupt); error_offset says where;
 *   306 when it dropped an access unit longer than max_au (the rest of
 *       that unit is dropped as it comes, up to the next unit's start);
 *   200 also for NULL arguments.
 * After 200 or 306, calling again goes on with the rest of the stream:
 * whether to give up is the caller's choice.  Since: 0.1
 */
IPCN_API int ipcn_media_h264_next(ipcn_media_h264 *s, ipcn_media_au *out);

/** ipcn_media_h264_get_stats() - Returns 100, 200 for NULL or a size
 *  under the first version's.  Since: 0.1 */
IPCN_API int ipcn_media_h264_get_stats(const ipcn_media_h264 *s,
                                       ipcn_media_h264_stats *out);

/**
 * ipcn_media_h264_nal_next() - walk the NAL units of buf[0..len) (an
 * access unit, or any part of an Annex B stream): start with *pos = 0;
 * each call sets *nal, *nal_len to the next NAL unit, from its header byte
 * to the byte before the next start code (trailing zero bytes excluded),
 * and moves *pos on.  Returns 100 with a unit, 103 when there is no more,
 * 200 for NULL arguments or *pos beyond len.  Since: 0.1
 */
IPCN_API int ipcn_media_h264_nal_next(const void *buf, size_t len,
                                      size_t *pos, const uint8_t **nal,
                                      size_t *nal_len);

/** What ipcn_media_h264_parse_sps() reads from a sequence parameter set.
 *  Since: 0.1 */
typedef struct ipcn_media_h264_sps {
    uint32_t profile_idc;        /**< 66 Baseline, 77 Main, 100 High... */
    uint32_t constraint_flags;   /**< constraint_set0..5 flags, as sent */
    uint32_t level_idc;          /**< 10 times the level: 30 for 3.0 */
    uint32_t sps_id;
    uint32_t chroma_format_idc;  /**< 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 */
    uint32_t bit_depth_luma;     /**< bits: 8..14 */
    uint32_t bit_depth_chroma;
    uint32_t width, height;      /**< the picture shown: coded size minus
                                      the cropping window, in pixels */
    uint32_t coded_width, coded_height; /**< whole macroblocks */
    uint32_t frame_mbs_only;     /**< 1: frames only; 0: fields may occur */
    uint32_t fps_num, fps_den;   /**< frame rate from the VUI timing info,
                                      time_scale / (2 * num_units_in_tick),
                                      reduced; 0 and 0 when not sent */
    uint32_t fixed_frame_rate;   /**< the VUI's fixed_frame_rate_flag */
} ipcn_media_h264_sps;

/**
 * ipcn_media_h264_parse_sps() - read the sequence parameter set nal[0..len)
 * (one NAL unit from its header byte, emulation prevention bytes still in,
 * as ipcn_media_h264_nal_next() gives it).  The fields up to the VUI's
 * timing info are read; what follows is not.
 * Returns 100; 200 when it is not an SPS (type 7) or is malformed or cut
 * short, or a value is out of the standard's range (a picture over 16384
 * pixels on a side, cropping larger than the picture, ...).  An SPS cut
 * short inside its VUI is accepted, without frame rate.  Since: 0.1
 */
IPCN_API int ipcn_media_h264_parse_sps(const void *nal, size_t len,
                                       ipcn_media_h264_sps *out);

/**
 * ipcn_media_h264_find_sps() - the first SPS of buf[0..len) (an access
 * unit) that parses.  Returns 100; 203 when there is none; 200 when the
 * SPS found is malformed (the status of ipcn_media_h264_parse_sps()).
 * Since: 0.1
 */
IPCN_API int ipcn_media_h264_find_sps(const void *buf, size_t len,
                                      ipcn_media_h264_sps *out);

/* ================================================================== */
/* PCM sample formats                                                  */
/* ================================================================== */

/** How one PCM sample is stored (interleaved frames, little endian).
 *  Since: 0.1 */
typedef enum ipcn_media_pcm {
    IPCN_MEDIA_PCM_INVALID = 0,
    IPCN_MEDIA_PCM_U8 = 1,     /**< "u8": unsigned, 128 is silence */
    IPCN_MEDIA_PCM_S16LE = 2,  /**< "s16le" */
    IPCN_MEDIA_PCM_S24LE = 3,  /**< "s24le": 3 bytes per sample */
    IPCN_MEDIA_PCM_S32LE = 4,  /**< "s32le" (also 20 or 24 valid bits in
                                    a 32-bit container) */
    IPCN_MEDIA_PCM_F32LE = 5,  /**< "f32le": IEEE 754 binary32 */
    IPCN_MEDIA_PCM_F64LE = 6   /**< "f64le": IEEE 754 binary64 */
} ipcn_media_pcm;

/** ipcn_media_pcm_name() - "s16le"...; "" for an invalid value.
 *  Since: 0.1 */
IPCN_API const char *ipcn_media_pcm_name(ipcn_media_pcm fmt);
/** ipcn_media_pcm_bytes() - bytes per sample: 1..8; 0 when invalid.
 *  Since: 0.1 */
IPCN_API unsigned ipcn_media_pcm_bytes(ipcn_media_pcm fmt);
/** ipcn_media_pcm_from_name() - the format named s[0..n)
 *  (case-insensitive); IPCN_MEDIA_PCM_INVALID when none. Since: 0.1 */
IPCN_API ipcn_media_pcm ipcn_media_pcm_from_name(const char *s, size_t n);

/* ================================================================== */
/* WAV (RIFF WAVE)                                                     */
/* ================================================================== */

/** ipcn_media_wav.flags */
#define IPCN_MEDIA_WAV_TRUNCATED 0x1u    /**< the data chunk is shorter than
                                              its header says */
#define IPCN_MEDIA_WAV_SIZE_UNKNOWN 0x2u /**< data size 0 or 0xffffffff
                                              (a writer that could not seek
                                              back): the rest of the file */
#define IPCN_MEDIA_WAV_PARTIAL_FRAME 0x4u /**< the data ended inside a
                                               frame: those bytes are left
                                               out of data_len */

/** WAVE format tags (the fmt chunk's first field). */
#define IPCN_MEDIA_WAVE_PCM 0x0001u
#define IPCN_MEDIA_WAVE_FLOAT 0x0003u
#define IPCN_MEDIA_WAVE_EXTENSIBLE 0xfffeu

/** A WAV file's format and where its samples are. Since: 0.1 */
typedef struct ipcn_media_wav {
    ipcn_media_pcm format;
    uint32_t rate;          /**< frames per second, 1..2^31 - 1 */
    uint32_t channels;      /**< 1..IPCN_MEDIA_MAX_CHANNELS */
    uint32_t bits;          /**< bits per sample as stored: 8..64 */
    uint32_t valid_bits;    /**< bits that carry the signal (<= bits) */
    uint32_t channel_mask;  /**< speaker positions (EXTENSIBLE); else 0 */
    uint32_t block_align;   /**< bytes per frame: channels * bits / 8 */
    uint16_t format_tag;    /**< as in the file: PCM, FLOAT or EXTENSIBLE */
    uint16_t fmt_size;      /**< the fmt chunk's size: 16, 18, 40... */
    uint32_t has_fact;      /**< 1 when a fact chunk came before data */
    uint64_t data_offset;   /**< where the samples start in the file */
    uint64_t data_len;      /**< their bytes: whole frames only */
    uint64_t frames;        /**< data_len / block_align */
    uint32_t flags;         /**< IPCN_MEDIA_WAV_* */
} ipcn_media_wav;

#define IPCN_MEDIA_MAX_CHANNELS 64

/**
 * ipcn_media_wav_parse() - read a WAV file held in buf[0..len).  The
 * chunks are walked from the start: "fmt " must come before "data"; LIST,
 * fact and any other chunk are skipped (a chunk of odd size is followed by
 * a pad byte); the first "data" chunk ends the walk.  Nothing is read
 * outside buf, whatever the sizes in the headers say.
 * Accepted: integer PCM of 8, 16, 24 or 32 bits, IEEE float of 32 or 64,
 * as WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT or WAVE_FORMAT_EXTENSIBLE
 * (whose subformat GUID must be PCM's or float's).
 * Returns 100; 104 when the data chunk is cut short (a truncated file:
 * *out describes the whole frames that are there, flags has TRUNCATED);
 * 200 when it is not a RIFF WAVE file or a header is inconsistent (no fmt
 * chunk before data, no data chunk, a chunk running past the end before
 * data, a block_align other than channels * bits / 8, no channels, rate
 * 0, ...); 301 for a valid WAVE of another encoding (ADPCM, mu-law, ...);
 * 200 for NULL arguments.  Since: 0.1
 */
IPCN_API int ipcn_media_wav_parse(const void *buf, size_t len,
                                  ipcn_media_wav *out);

/** The longest header ipcn_media_wav_header() writes. */
#define IPCN_MEDIA_WAV_HEADER_MAX 80
/** data_len for a header whose sizes are unknown (written 0xffffffff). */
#define IPCN_MEDIA_WAV_UNKNOWN_SIZE UINT64_MAX

/**
 * ipcn_media_wav_header() - write the RIFF header that goes in front of
 * data_len bytes of samples of format w: "RIFF", "WAVE", the fmt chunk,
 * a fact chunk when w->has_fact, and the data chunk's header.  Only
 * format, rate, channels, valid_bits, channel_mask, format_tag, fmt_size
 * and has_fact are read.  format_tag 0 picks the usual layout (the one
 * SoX writes): WAVE_FORMAT_EXTENSIBLE (fmt size 40) for more than 2
 * channels or more than 16 bits, else PCM (fmt size 16) or float (fmt
 * size 18, with a fact chunk); fmt_size 0 picks the smallest for
 * format_tag.  A data chunk of odd size is followed by a pad byte, which
 * the caller writes after the samples; the RIFF size counts it.
 * @buf, @cap: where to write (IPCN_MEDIA_WAV_HEADER_MAX is always enough).
 * @len:       on 100, the bytes written.
 * Returns 100; 200 for an invalid format, a layout that cannot hold it
 * (float under WAVE_FORMAT_PCM, integers under WAVE_FORMAT_IEEE_FLOAT,
 * EXTENSIBLE with a fmt size other than 40, a fmt size that is odd or
 * outside 16..40, another format tag), a byte rate over 32 bits, or
 * data_len too large for RIFF's 32-bit sizes (except
 * IPCN_MEDIA_WAV_UNKNOWN_SIZE, written as 0xffffffff); 306 when cap is
 * too small (*len says how much is needed).  Since: 0.1
 */
IPCN_API int ipcn_media_wav_header(const ipcn_media_wav *w, uint64_t data_len,
                                   void *buf, size_t cap, size_t *len);

/* ================================================================== */
/* Stream description: encoding and metadata                           */
/* ================================================================== */

/** Since: 0.1 */
typedef enum ipcn_media_kind {
    IPCN_MEDIA_NONE = 0,
    IPCN_MEDIA_VIDEO = 1,       /**< coded (h264) or raw pictures */
    IPCN_MEDIA_AUDIO = 2,       /**< PCM audio */
    IPCN_MEDIA_POINTCLOUD = 3   /**< sweeps of points */
} ipcn_media_kind;

/**
 * What a media stream is.  Its encoding string and its metadata map (the
 * announce's meta) are both made from it, and a subscriber gets it back
 * from the two (ipcn_media_desc_decode()).  A sized struct (ipcnet.h).
 * Initialise with
 * ipcn_media_desc_init().  Fields of the other kinds are ignored; 0 (or
 * "") means unknown where a comment allows it.
 *
 * Time: samples are numbered by the stream's sequence number, 1 for the
 * first (ipcn_msg.seq), and sample k is presented at media time
 * (k - 1) * the sample duration: 1 / fps for video, samples_per_packet /
 * rate for audio, 1 / rate for point clouds (ipcn_media_pts_ns()).
 * Since: 0.1
 */
typedef struct ipcn_media_desc {
    uint32_t size;              /**< sizeof(ipcn_media_desc), set by _init */
    ipcn_media_kind kind;
    uint64_t samples;           /**< samples in the stream when known
                                     ahead (not counting its end); 0 */
    struct {
        char codec[16];         /**< "h264" or "raw" */
        char format[16];        /**< raw: pixel format ("rgb24", "gray8",
                                     "yuv420p"...); h264: "" */
        uint32_t width, height; /**< pixels; 0 unknown for h264 */
        uint32_t fps_num, fps_den; /**< frames per second; 0, 0 unknown */
    } video;
    struct {
        ipcn_media_pcm format;
        uint32_t rate;          /**< frames per second */
        uint32_t channels;
        uint32_t valid_bits;    /**< 0: all of the sample's bits */
        uint32_t channel_mask;  /**< 0: unknown */
        uint32_t samples_per_packet; /**< frames per sample (the last may
                                     hold fewer); 0 unknown */
        /* the layout of the WAV file it came from, so that a receiver
         * rebuilds the same header; 0: ipcn_media_wav_header()'s choice */
        uint16_t wav_format_tag, wav_fmt_size;
        uint32_t wav_fact;
    } audio;
    struct {
        char fields[64];        /**< comma-separated: "x,y,z,intensity" */
        ipcn_dtype dtype;       /**< of every field; IPCN_DTYPE_FLOAT32 */
        uint32_t points_per_sample; /**< 0: varies */
        uint32_t rate_num, rate_den; /**< sweeps per second; 0, 0 unknown */
    } pointcloud;
} ipcn_media_desc;

/** ipcn_media_desc_init() - zero *d, set its size and kind. Since: 0.1 */
IPCN_API void ipcn_media_desc_init(ipcn_media_desc *d, ipcn_media_kind kind);

/**
 * ipcn_media_encoding() - the encoding string of the stream d describes,
 * NUL-terminated in buf[0..cap):
 *   video/h264;stream-format=byte-stream;alignment=au
 *   video/raw;format=rgb24;width=640;height=480
 *   audio/pcm;rate=48000;channels=2;format=s16le
 *   pointcloud;fields=x,y,z,intensity;dtype=float32
 * Returns 100; 200 for an invalid description (an unknown codec, a PCM
 * format, rate or channel count out of range, a raw video without size,
 * fields that are not a comma-separated list of names, ...); 306 when cap
 * is too small (IPCN_ENCODING_MAX_LEN + 1 is always enough).  Since: 0.1
 */
IPCN_API int ipcn_media_encoding(const ipcn_media_desc *d, char *buf,
                                 size_t cap);

/**
 * ipcn_media_meta_encode() - the stream's metadata: a CBOR map with text
 * keys, in deterministic encoding (keys are listed in docs/protocol.md,
 * "Media streams"):
 *   video:      {"media": "video", "codec", "width", "height", "fps": [n, d]}
 *   audio:      {"media": "audio", "codec": "pcm", "rate", "channels",
 *                "format", "bits", "samples_per_packet", "channel_mask",
 *                "wav": {"format_tag", "fmt_size", "fact"}}
 *   pointcloud: {"media": "pointcloud", "fields": [...], "dtype",
 *                "point_stride", "points_per_sample", "rate": [n, d]}
 * plus "samples" when known; unknown values are left out.
 * @len: on 100 the bytes written; on 306 the size needed.
 * Returns 100; 200 for an invalid description (as ipcn_media_encoding());
 * 306 when cap is too small (buf may be NULL with cap 0 to measure).
 * Since: 0.1
 */
IPCN_API int ipcn_media_meta_encode(const ipcn_media_desc *d, void *buf,
                                    size_t cap, size_t *len);

/**
 * ipcn_media_desc_decode() - what a subscriber knows of a stream from its
 * encoding and its metadata (both from the publisher, so both outside
 * input).  The encoding decides the kind and how samples decode; the
 * metadata adds what the encoding does not say (picture size and frame
 * rate of H.264, packet size, WAV layout, points per sweep).  meta may be
 * NULL (meta_len 0), or not a media map (its keys are then ignored).
 * @out: a sized struct (ipcnet.h): set its size (ipcn_media_desc_init()
 *       does) before the call.
 * Returns 100; 203 when encoding is not a media encoding of this layer
 * (say, "cbor"); 200 when encoding is malformed or invalid (unknown PCM
 * format, rate 0, ...), or when meta is a media map that contradicts the
 * encoding or holds a value of the wrong type or out of range; 307; 200
 * also for a NULL out or a size under the first version's.
 * Since: 0.1
 */
IPCN_API int ipcn_media_desc_decode(const char *encoding, const void *meta,
                                    size_t meta_len, ipcn_media_desc *out);

/**
 * ipcn_media_sample_bytes() - the size a sample of d must have, or the
 * unit its size must be a multiple of: *exact 1 when every sample has
 * that size (raw video: width * height * bytes per pixel; a point cloud
 * with points_per_sample), 0 when it is the unit (audio: block_align; a
 * point cloud with a varying count: the point's size); H.264 samples have
 * no fixed size (*unit 0).  Returns 100, 200 for an invalid description,
 * 301 for a raw pixel format this layer does not know.  Since: 0.1
 */
IPCN_API int ipcn_media_sample_bytes(const ipcn_media_desc *d, uint64_t *unit,
                                     int *exact);

/**
 * ipcn_media_pts_ns() - the media time, in ns from the stream's first
 * sample, at which the sample of sequence number seq (1 for the first) is
 * presented: (seq - 1) times the sample duration, computed exactly and
 * rounded down.  Returns 100; 203 when d does not say the duration (no
 * frame rate, no packet size...); 200 for seq 0, an invalid description,
 * or a time past 2^64 ns.  Since: 0.1
 */
IPCN_API int ipcn_media_pts_ns(const ipcn_media_desc *d, uint64_t seq,
                               uint64_t *out);

/* ================================================================== */
/* Point-cloud sweep files (".pcs")                                    */
/* ================================================================== */

/*
 * A raw file of lidar sweeps, IPCNet's own, all little endian:
 *   header  16 bytes: "IPCNPCS1", u32 rate_num, u32 rate_den
 *           (sweeps per second; 0, 0 when unknown)
 *   sweep   8 bytes: u32 points, u32 0 (reserved); then points records
 *           of 16 bytes: float32 x, y, z, intensity
 * repeated to the end of the file.  A sweep travels as one sample of
 * encoding "pointcloud;fields=x,y,z,intensity;dtype=float32": its points'
 * records, 16 * points bytes.
 */
#define IPCN_MEDIA_PCS_MAGIC "IPCNPCS1"
#define IPCN_MEDIA_PCS_HEADER 16
#define IPCN_MEDIA_PCS_SWEEP_HEADER 8
#define IPCN_MEDIA_PCS_POINT 16
/** The most points a sweep may hold: its bytes fit a default frame. */
#define IPCN_MEDIA_PCS_MAX_POINTS (1u << 20)

/**
 * ipcn_media_pcs_header() - check a .pcs file's header in buf[0..len) and
 * describe its stream in *out (kind POINTCLOUD, fields x,y,z,intensity,
 * float32, the rate; points_per_sample 0), a sized struct (ipcnet.h)
 * whose size the caller sets.  Returns 100; 200 when buf does not start
 * with the header, or the rate has one of its two numbers 0 but not the
 * other, or for a size of *out under the first version's.  Since: 0.1
 */
IPCN_API int ipcn_media_pcs_header(const void *buf, size_t len,
                                   ipcn_media_desc *out);

/**
 * ipcn_media_pcs_next() - the next sweep of a .pcs file held in
 * buf[0..len): start with *pos = IPCN_MEDIA_PCS_HEADER.  On 100, *points
 * and *bytes (16 * *count) give its records inside buf, *count its points,
 * and *pos moves past it.  Returns 100; 103 at the end (*pos == len); 200
 * when the sweep header is cut short, its reserved word is not 0, it
 * holds more than IPCN_MEDIA_PCS_MAX_POINTS, or its records run past len;
 * 200 for NULL arguments or *pos beyond len.  Since: 0.1
 */
IPCN_API int ipcn_media_pcs_next(const void *buf, size_t len, size_t *pos,
                                 const uint8_t **points, size_t *bytes,
                                 uint32_t *count);

/** ipcn_media_pcs_write_header() - the 16-byte file header. Since: 0.1 */
IPCN_API void ipcn_media_pcs_write_header(uint8_t out[16], uint32_t rate_num,
                                          uint32_t rate_den);
/** ipcn_media_pcs_write_sweep() - a sweep's 8-byte header. Since: 0.1 */
IPCN_API void ipcn_media_pcs_write_sweep(uint8_t out[8], uint32_t points);

#ifdef __cplusplus
}
#endif
#endif /* IPCNET_MEDIA_H */

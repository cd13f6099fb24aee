/* SPDX-License-Identifier: MIT */
/*
 * cbor_vectors.h — the examples of RFC 8949: Appendix A (encoded data
 * items and the values they stand for) and Appendix F (items that are not
 * well-formed).  Used by tests/unit/test_cbor.c and, as fuzz seeds, by
 * tests/fuzz/gen_corpus.c.
 *
 * Appendix A's values are written in the diagnostic notation of
 * tests/value/cbor_render.h (CR_DIAG): the RFC's, except that floats are
 * spelled as Python's repr() spells them ("1e+300" for the RFC's
 * "1.0e+300", "5.960464477539063e-08" for "5.960464477539063e-8",
 * "6.103515625e-05" for "0.00006103515625") and indefinite-length items as
 * the values they stand for ("(_ h'0102', h'030405')" is h'0102030405').
 * RFC 7049's example simple(24), f8 18, is left out: RFC 8949 §3.3 made
 * it not well-formed (it is in Appendix F).
 * shortest: the RFC's bytes are the preferred (shortest, definite)
 * encoding of the value, so re-encoding gives them back; this is false for
 * the non-shortest floats and for the indefinite-length items.
 */
#ifndef IPCN_CBOR_VECTORS_H
#define IPCN_CBOR_VECTORS_H

typedef struct cbor_vec {
    const char *hex;
    const char *diag;
    int shortest;
} cbor_vec;

static const cbor_vec cbor_appendix_a[] = {
    {"00", "0", 1},
    {"01", "1", 1},
    {"0a", "10", 1},
    {"17", "23", 1},
    {"1818", "24", 1},
    {"1819", "25", 1},
    {"1864", "100", 1},
    {"1903e8", "1000", 1},
    {"1a000f4240", "1000000", 1},
    {"1b000000e8d4a51000", "1000000000000", 1},
    {"1bffffffffffffffff", "18446744073709551615", 1},
    {"c249010000000000000000", "2(h'010000000000000000')", 1},
    {"3bffffffffffffffff", "-18446744073709551616", 1},
    {"c349010000000000000000", "3(h'010000000000000000')", 1},
    {"20", "-1", 1},
    {"29", "-10", 1},
    {"3863", "-100", 1},
    {"3903e7", "-1000", 1},
    {"f90000", "0.0", 1},
    {"f98000", "-0.0", 1},
    {"f93c00", "1.0", 1},
    {"fb3ff199999999999a", "1.1", 1},
    {"f93e00", "1.5", 1},
    {"f97bff", "65504.0", 1},
    {"fa47c35000", "100000.0", 1},
    {"fa7f7fffff", "3.4028234663852886e+38", 1},
    {"fb7e37e43c8800759c", "1e+300", 1},
    {"f90001", "5.960464477539063e-08", 1},
    {"f90400", "6.103515625e-05", 1},
    {"f9c400", "-4.0", 1},
    {"fbc010666666666666", "-4.1", 1},
    {"f97c00", "Infinity", 1},
    {"f97e00", "NaN", 1},
    {"f9fc00", "-Infinity", 1},
    {"fa7f800000", "Infinity", 0},
    {"fa7fc00000", "NaN", 0},
    {"faff800000", "-Infinity", 0},
    {"fb7ff0000000000000", "Infinity", 0},
    {"fb7ff8000000000000", "NaN", 0},
    {"fbfff0000000000000", "-Infinity", 0},
    {"f4", "false", 1},
    {"f5", "true", 1},
    {"f6", "null", 1},
    {"f7", "undefined", 1},
    {"f0", "simple(16)", 1},
    {"f8ff", "simple(255)", 1},
    {"c074323031332d30332d32315432303a30343a30305a",
     "0(\"2013-03-21T20:04:00Z\")", 1},
    {"c11a514b67b0", "1(1363896240)", 1},
    {"c1fb41d452d9ec200000", "1(1363896240.5)", 1},
    {"d74401020304", "23(h'01020304')", 1},
    {"d818456449455446", "24(h'6449455446')", 1},
    {"d82076687474703a2f2f7777772e6578616d706c652e636f6d",
     "32(\"http://www.example.com\")", 1},
    {"40", "h''", 1},
    {"4401020304", "h'01020304'", 1},
    {"60", "\"\"", 1},
    {"6161", "\"a\"", 1},
    {"6449455446", "\"IETF\"", 1},
    {"62225c", "\"\\\"\\\\\"", 1},
    {"62c3bc", "\"\xc3\xbc\"", 1},
    {"63e6b0b4", "\"\xe6\xb0\xb4\"", 1},
    {"64f0908591", "\"\xf0\x90\x85\x91\"", 1},
    {"80", "[]", 1},
    {"83010203", "[1, 2, 3]", 1},
    {"8301820203820405", "[1, [2, 3], [4, 5]]", 1},
    {"98190102030405060708090a0b0c0d0e0f101112131415161718181819",
     "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, "
     "20, 21, 22, 23, 24, 25]", 1},
    {"a0", "{}", 1},
    {"a201020304", "{1: 2, 3: 4}", 1},
    {"a26161016162820203", "{\"a\": 1, \"b\": [2, 3]}", 1},
    {"826161a161626163", "[\"a\", {\"b\": \"c\"}]", 1},
    {"a56161614161626142616361436164614461656145",
     "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"d\": \"D\", \"e\": \"E\"}", 1},
    {"5f42010243030405ff", "h'0102030405'", 0},
    {"7f657374726561646d696e67ff", "\"streaming\"", 0},
    {"9fff", "[]", 0},
    {"9f018202039f0405ffff", "[1, [2, 3], [4, 5]]", 0},
    {"9f01820203820405ff", "[1, [2, 3], [4, 5]]", 0},
    {"83018202039f0405ff", "[1, [2, 3], [4, 5]]", 0},
    {"83019f0203ff820405", "[1, [2, 3], [4, 5]]", 0},
    {"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
     "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, "
     "20, 21, 22, 23, 24, 25]", 0},
    {"bf61610161629f0203ffff", "{\"a\": 1, \"b\": [2, 3]}", 0},
    {"826161bf61626163ff", "[\"a\", {\"b\": \"c\"}]", 0},
    {"bf6346756ef563416d7421ff", "{\"Fun\": true, \"Amt\": -2}", 0},
};

/* RFC 8949 Appendix F.1: not well-formed, each must be rejected. */
static const char *const cbor_appendix_f[] = {
    /* end of input in a head */
    "18", "19", "1a", "1b", "19 01", "1a 01 02", "1b 01 02 03 04 05 06 07",
    "38", "58", "78", "98", "9a 01 ff 00", "b8", "d8", "f8", "f9 00",
    "fa 00 00", "fb 00 00 00",
    /* definite-length strings with short data */
    "41", "61", "5a ff ff ff ff 00", "5b ff ff ff ff ff ff ff ff 01 02 03",
    "7a ff ff ff ff 00", "7b 7f ff ff ff ff ff ff ff 01 02 03",
    /* definite-length maps and arrays not closed with enough items */
    "81", "81 81 81 81 81 81 81 81 81", "82 00", "a1", "a2 01 02", "a1 00",
    "a2 00 00 00",
    /* tag number not followed by tag content */
    "c0",
    /* indefinite-length strings not closed by a break */
    "5f 41 00", "7f 61 00",
    /* indefinite-length maps and arrays not closed by a break */
    "9f", "9f 01 02", "bf", "bf 01 02 01 02", "81 9f", "9f 80 00",
    "9f 9f 9f 9f 9f ff ff ff ff", "9f 81 9f 81 9f 9f ff ff ff",
    /* reserved additional information values */
    "1c", "1d", "1e", "3c", "3d", "3e", "5c", "5d", "5e", "7c", "7d", "7e",
    "9c", "9d", "9e", "bc", "bd", "be", "dc", "dd", "de", "fc", "fd", "fe",
    /* reserved two-byte encodings of simple values */
    "f8 00", "f8 01", "f8 18", "f8 1f",
    /* indefinite-length string chunks not of the correct type */
    "5f 00 ff", "5f 21 ff", "5f 61 00 ff", "5f 80 ff", "5f a0 ff",
    "5f c0 00 ff", "5f e0 ff", "7f 41 00 ff",
    /* indefinite-length string chunks not definite length */
    "5f 5f 41 00 ff ff", "7f 7f 61 00 ff ff",
    /* break on its own outside of an indefinite-length item */
    "ff",
    /* break in a definite-length array or map or a tag */
    "81 ff", "82 00 ff", "a1 ff", "a1 ff 00", "a1 00 ff", "a2 00 00 ff",
    "9f 81 ff", "9f 82 9f 81 9f 9f ff ff ff ff",
    /* break in an indefinite-length map in a value position */
    "bf 00 ff", "bf 00 00 00 ff",
    /* major type 0, 1, 6 with additional information 31 */
    "1f", "3f", "df",
};

#endif

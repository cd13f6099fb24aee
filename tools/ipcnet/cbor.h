/* SPDX-License-Identifier: MIT */
/*
 * cbor.h — just enough CBOR (RFC 8949) for resource metadata, which is a
 * CBOR map by convention: JSON -> CBOR for `--meta JSON`, and CBOR -> a JSON
 * tree for `info`.  Byte strings come out as "h'0a0b'" strings, tags are
 * dropped (their content stays), undefined becomes null.  The typed value
 * layer of the library will replace this.
 */
#ifndef IPCNET_CLI_CBOR_H
#define IPCNET_CLI_CBOR_H

#include "json.h"

/* Encode a JSON tree as CBOR (integers that fit 64 bits as integers, other
 * numbers as float64, definite lengths). */
void cbor_from_json(sbuf *out, const jval *v);
/* Decode exactly one CBOR item filling p[0..n).  Returns 0 and *out, or -1
 * when the bytes are not one well-formed item. */
int cbor_to_json(const void *p, size_t n, jval **out);

#endif

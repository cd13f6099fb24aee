/* SPDX-License-Identifier: MIT */
/*
 * cbor.h — JSON <-> CBOR for the CLI's trees, by the library
 * (ipcn_cbor_from_json(), ipcn_cbor_to_json(): the mapping is documented
 * in ipcnet_value.h): VALUE and `--meta JSON` go out as CBOR; CBOR values
 * and metadata print as JSON.  Byte strings come out as "h'0a0b'" strings,
 * tensors (tag 40/1040 with an RFC 8746 typed array) as
 * {"dtype", "shape", "numel", "values"} (at most 1024 values), other tags
 * are dropped (their content stays), undefined and simple values become
 * null.
 */
#ifndef IPCNET_CLI_CBOR_H
#define IPCNET_CLI_CBOR_H

#include <stdbool.h>

#include "ipcnet_value.h"
#include "json.h"

/* Encode a JSON tree as one CBOR item (appended to out) with
 * ipcn_cbor_from_json() (integers that fit 64 bits as integers, other
 * numbers as the shortest float that keeps the value, definite lengths,
 * map order kept).  Returns 0, or -1 with why in err. */
int cbor_from_json(sbuf *out, const jval *v, char *err, size_t errlen);
/* Decode exactly one CBOR item filling p[0..n).  Returns 0 and *out, or -1
 * when the bytes are not one well-formed item. */
int cbor_to_json(const void *p, size_t n, jval **out);

/* A tensor for a person: "tensor float32 [2, 3]: 0, 1, 2, 3, 4, 5" (at most
 * max_values values, then ", ..."). */
void tensor_text(sbuf *b, const ipcn_tensor *t, size_t max_values);

#endif

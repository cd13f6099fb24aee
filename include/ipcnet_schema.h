/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_schema.h — typed data and streams: a data or stream resource
 * declares the type of its values when it is announced, in the type
 * language of typed services (ipcn_offer_typed() in ipcnet.h), and every
 * value of it is checked against that type.
 *
 *   publisher:  uint8_t t[64]; size_t tn = ...;  // {"map": {"gain": "float"}}
 *               ipcn_announce_typed(node, "ctl/gain", IPCN_DATA, "cbor",
 *                                   t, tn, NULL, 0);
 *               ipcn_publish(node, "ctl/gain", v, vn);  // 200 when v does
 *                                                       // not conform
 *   anyone:     `ipcnet info ctl/gain` prints the type as a tree.
 *
 * The type travels in the descriptor: its meta is a CBOR map whose text key
 * "schema" holds the type (docs/protocol.md, "Typed data and streams").  So
 * ipcn_find() shows it to every node (ipcn_resource.meta), and
 * ipcn_announce() with such a meta (from C, Python's announce(schema=) or
 * `ipcnet pub --meta '{"schema": ...}'`) types the resource just as
 * ipcn_announce_typed() does; ipcn_announce_owned() too.  The values of a
 * typed resource are CBOR: its encoding must be "cbor" or
 * "application/cbor".  Numbers: an integer is accepted where a float is
 * declared ({"gain": 2} against {"map": {"gain": "float"}}), as JSON has it.
 *
 * Where values are checked:
 *   - at the publisher: ipcn_publish() and ipcn_loan_publish() of a value
 *     that is not one CBOR item of the type return 200 and send nothing;
 *     an ipcn_set() of such a value is answered 200 with the reason as a
 *     text/plain body ("value.gain: expected float, got text"), before
 *     the provider's set check (ipcn_data_on_set()) runs.  Each refusal is
 *     counted in ipcn_node_stats.typed_refused, and the first per
 *     announce is logged (IPCN-TYPE-REFUSED) with its reason.
 *   - at every node that receives a value of it, before the application
 *     sees it: a sample that does not conform is dropped, counted in
 *     ipcn_node_stats.typed_dropped and, on each subscription it would
 *     have reached, in ipcn_sub_stats.nonconforming; a query's answer that
 *     does not conform ends the query with 302.  The first per announce is
 *     logged (IPCN-TYPE-DROPPED).  The publisher's library never sends
 *     such a value; this check is for a publisher that skips it (another
 *     implementation, a hostile process), so that what a subscriber of a
 *     typed resource receives is always of the declared type.  A dropped
 *     value is not held against the publisher's reputation.
 *   - A shared-memory sample is checked when it arrives, in the slot: a
 *     publisher that writes to the slot afterwards is caught by
 *     ipcn_msg_verify(), not by this check.
 *
 * What it costs: a typed value is decoded once per check (at the publisher,
 * and at each receiving node, only when a subscription there wants it);
 * untyped resources cost nothing.  A type is at most 4096 bytes, nests at
 * most 16 deep and has at most 128 fields per "map", so that a type from a
 * peer bounds the work of a check to the value's size times 128.
 *
 * Re-announcing a path with another type (or none) changes the type from
 * then on; the current value of a data resource is not checked again.
 *
 * The conventions of ipcnet.h hold: every call returns a status code,
 * output parameters are untouched on failure unless said otherwise.
 *
 * Since: 0.2
 */
#ifndef IPCNET_SCHEMA_H
#define IPCNET_SCHEMA_H

#include <stddef.h>

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * ipcn_announce_typed() - announce a data or stream resource whose values
 * have the type schema (see the top): as ipcn_announce() with the meta
 * meta and the pair "schema": schema added to it.
 * @encoding: "cbor" or "application/cbor" (NULL or "": "cbor").
 * @schema, @schema_len: one type, as ipcn_offer_typed() describes it, as
 *            one CBOR item; copied.
 * @meta, @meta_len: NULL, 0, or a CBOR map without a "schema" key (units,
 *            rate, ...); copied.
 * Returns 101 when new, 100 when it replaced this node's own descriptor;
 * 200 for invalid arguments, an invalid type, another encoding, a kind
 * other than data or stream, a meta that is not a CBOR map or already has
 * "schema"; 202 when the policy does not let this node provide path; 207
 * as ipcn_announce(); 307.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_announce_typed(ipcn_node *node, const char *path,
                                 ipcn_kind kind, const char *encoding,
                                 const void *schema, size_t schema_len,
                                 const void *meta, size_t meta_len);

/**
 * ipcn_schema_check() - does value[0..value_len), one CBOR item, have the
 * type schema?  The same check as a typed resource's (and a typed
 * service's arguments').  @why, @whylen: where the reason of a refusal
 * goes ("value.pose.x: expected float, got text", "value.y: missing
 * field", "invalid schema"), always NUL-terminated when whylen > 0; may
 * be NULL.
 * Returns 100 when it has; 200 when it has not (or is not one well-formed
 * CBOR item), when schema is not a valid type, for NULL arguments; 307.
 * Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_schema_check(const void *schema, size_t schema_len,
                               const void *value, size_t value_len,
                               char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * schema_text.h — a type (ipcnet_schema.h, in its JSON form) as an
 * indented tree of field types and names, in the manner of
 * `ros2 interface show`: used by `ipcnet info` and `ipcnet echo`.
 *
 *   map                     <- the type itself
 *     float gain            <- a field: its type, its name
 *     map pose              <- a map's fields follow, indented
 *       float x
 *     text[] tags           <- {"array": "text"}
 *     int|null parent       <- {"nullable": "int"}
 *     text note  (optional) <- {"optional": "text"}
 */
#ifndef IPCNET_CLI_SCHEMA_TEXT_H
#define IPCNET_CLI_SCHEMA_TEXT_H

#include <stdbool.h>

#include "json.h"

/* Append the lines of type t to b, each after indent spaces and ending
 * with '\n'.  Anything that is not a type shows as "?". */
void schema_tree(sbuf *b, const jval *t, int indent);

/* The type a descriptor's meta (as JSON) declares for a data or stream
 * resource ("schema"), or NULL. */
const jval *schema_of_meta(const jval *meta);

#endif

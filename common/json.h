/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* A JSON string of arbitrary bytes (what hosts send): invalid UTF-8 becomes U+FFFD. */
json_t *json_bytes(const uint8_t *p, size_t len);
/*
 * The same string written as JSON text (quoted, escaped) at the end of b,
 * without a json_t: what a long answer is rendered with. 0, or -ENOBUFS
 * past b's max (b then holds part of it).
 */
int json_buf_string(struct buf *b, const uint8_t *p, size_t len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A JSON string of arbitrary bytes (what hosts send): invalid UTF-8 becomes U+FFFD. */
json_t *json_bytes(const uint8_t *p, size_t len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PARSE_OUT_H
#define VIGIL_PARSE_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Fields one line may gain from its parser: a JSON line of thousands of keys does not become a record of them. */
#define PARSE_FIELDS_MAX 64

/*
 * Where a parser writes what it found: fields in export format appended to
 * b (the caller's), named the journal's way. A name is made of the parser's
 * key: ASCII letters upper-cased, anything else but digits '_', leading
 * characters up to the first letter dropped ("@timestamp" is TIMESTAMP,
 * "req.path" REQ_PATH), cut at EXPORT_KEY_MAX. A name a record already has
 * or the agent reserves (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, VIGIL_*,
 * CONTAINER_*, K8S_*, ...) gets the prefix USER_: a line cannot pass for
 * another stream, another container or a probe.
 * A field past PARSE_FIELDS_MAX, or of a key with no letter, is left out
 * and counted in dropped.
 */
struct parse_out {
	struct buf *b;
	size_t n;       /* fields written */
	size_t dropped; /* fields left out */
	/* A field name (as made here) whose value is a level: *level is set when a field of that name is put. */
	const char *level_key;
	int *level;
};

/* One field; a value of "-" (a web server's "none") or nothing is left out silently. 0, or -ENOBUFS from b. */
int parse_put(struct parse_out *o, const char *key, size_t klen, const void *value, size_t vlen);

/* key folded into a field name in out (EXPORT_KEY_MAX + 1 bytes); its length, 0 when key has no letter. */
size_t parse_field_name(const char *key, size_t klen, char *out);

/* The syslog priority a level states: 0..7 as a digit, or a word (error, WARN, Info, …), any case; -1 if neither. */
int parse_level(const char *v, size_t len);

#endif

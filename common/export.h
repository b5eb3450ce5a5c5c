/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_EXPORT_H
#define VIGIL_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Journal Export Format (systemd docs/JOURNAL_EXPORT_FORMATS.md): entries of
 * "KEY=value\n" text fields or "KEY\n" + le64 length + bytes + "\n" binary
 * fields, separated by a blank line. The payload of every batch.
 */

#define EXPORT_KEY_MAX 64

/* Writer: appends to a caller-owned buf (whose max bounds the batch). */
int export_put(struct buf *b, const char *key, const void *value, size_t len);
int export_put_n(struct buf *b, const char *key, size_t klen, const void *value, size_t len);
int export_put_str(struct buf *b, const char *key, const char *value);
int export_put_u64(struct buf *b, const char *key, uint64_t value);
int export_end_entry(struct buf *b);

/* Writes v in decimal with a NUL; returns the digits' length. */
size_t format_u64(uint64_t v, char out[21]);

/* True if key is a valid journal field name (A-Z, 0-9, _, not leading digit, <= 64). */
bool export_key_valid(const char *key, size_t len);

/*
 * Reader: zero-copy iteration over a buffer that outlives the reader. Fields
 * point into that buffer. Every limit is enforced; a violation is -EBADMSG
 * (malformed) or -E2BIG (a limit), and the reader is then unusable.
 */
struct export_limits {
	size_t max_entries;
	size_t max_fields;      /* per entry */
	size_t max_field_bytes; /* per value */
	size_t max_entry_bytes; /* sum of one entry's encoded size */
};

struct export_field {
	const char *key;
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
};

struct export_reader {
	const uint8_t *p;
	const uint8_t *end;
	struct export_limits lim;
	size_t entries;
};

void export_reader_init(struct export_reader *r, const void *data, size_t len,
			const struct export_limits *lim);
/*
 * Decodes the next entry into fields[0..cap) (cap >= lim.max_fields).
 * Returns 1 with *ret_n set, 0 at the end of input, or a negative errno.
 */
int export_reader_next(struct export_reader *r, struct export_field *fields, size_t cap,
		       size_t *ret_n);

/* Finds a field by key in a decoded entry, or NULL. */
const struct export_field *export_find(const struct export_field *f, size_t n, const char *key);
/* Whether f (may be NULL) holds exactly the string s. */
bool export_field_is(const struct export_field *f, const char *s);

/* A field value that is a decimal number of up to 19 digits (a timestamp, a count) into *ret. */
bool export_value_u64(const uint8_t *v, size_t len, uint64_t *ret);

#endif

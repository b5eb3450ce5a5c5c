/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ENROLL_CERTS_H
#define VIGIL_ENROLL_CERTS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The agents' certificates enrollment issued: `agent_certs` in meta.db,
 * each its serial, the name it was issued for, the SHA-256 of its public
 * key, how it came (the token's id, or "renewal" of another serial), when
 * it was issued, when it expires and when it was revoked. This file alone
 * holds SQL that names the table.
 */

int enroll_certs_schema(sqlite3 *meta);

struct agent_cert {
	const char *serial, *name, *key_id, *origin; /* borrowed */
	uint64_t issued_us, expires_us, revoked_us;  /* revoked_us 0: not */
	const char *revoked_by;                      /* NULL: not revoked */
};

int enroll_cert_add(sqlite3 *meta, const struct agent_cert *c);

/*
 * The serial of a certificate in force at now_us (issued, not expired,
 * not revoked) for name whose key is not key_id, into serial (size bytes):
 * 0 if there is one, -ENOENT if there is none.
 */
int enroll_cert_other_key(sqlite3 *meta, const char *name, const char *key_id, uint64_t now_us, char *serial,
			  size_t size);
/* Whether serial is revoked: 1, 0, or -ENOENT when it is not one of the table's. */
int enroll_cert_revoked(sqlite3 *meta, const char *serial);

/*
 * Revokes serial, or every certificate in force of the name what (what is
 * tried as a serial first), at now_us, by by. How many were revoked, and
 * -ENOENT when what names none in force. fn(serial, ctx) for each.
 */
int enroll_certs_revoke(sqlite3 *meta, const char *what, const char *by, uint64_t now_us,
			void (*fn)(const char *serial, void *ctx), void *ctx);

/* fn(c, ctx) for each certificate, newest first (revoked_only: those revoked); stops at fn's non-zero answer. */
int enroll_certs_each(sqlite3 *meta, bool revoked_only, int (*fn)(const struct agent_cert *c, void *ctx), void *ctx);

#endif

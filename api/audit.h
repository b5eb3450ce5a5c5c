/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_AUDIT_H
#define VIGIL_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/hash.h"
#include "store/sealing.h"

/*
 * The audit log (what GB/T 22239-2019 8.1.4.3 asks of audit records): when,
 * who, what action on which object, success or failure, and from where. It
 * lives in DATA_DIR/audit.db, apart from meta.db so that its fsyncs never
 * wait on ingest. Rows are only ever appended: no API changes or deletes
 * one, SQL triggers refuse UPDATE and DELETE, and every row's hash chains
 * it to the row before, so a change made behind the collector's back shows
 * in audit_verify(). Retention alone drops rows, whole calendar months at
 * a time, and keeps an anchor (the first row kept and the hash before it)
 * so the chain stays verifiable across the cut; the cut is itself a row.
 * Several processes may append at once (the collector,
 * `vigil-collector --create-token`). This file alone holds SQL that names
 * its tables, `audit` and `anchor`.
 */

struct audit;

/* [audit] */
struct audit_conf {
	uint64_t retention_days;
	uint64_t session_idle_ms;
	uint64_t auth_failure_window_ms;
};

struct audit_event {
	const char *user;   /* token name; "-" when no valid token was given */
	const char *role;   /* "-" when none */
	const char *action; /* e.g. "logs.read", "token.create", "auth.failed" */
	const char *object; /* what was acted on: a path with its query, a token name */
	bool success;
	unsigned status;    /* the HTTP status; 0 outside HTTP */
	const char *source; /* the peer's address, or "local" */
	const char *detail; /* what was done to what, in words: "token bob, role viewer"; NULL: nothing to add */
};

/*
 * Opens (creating) DATA_DIR/audit.db; *ret is owned by the caller, freed by
 * audit_close(). A new log chains its rows with alg; one made before keeps
 * the digest it was made with.
 */
int audit_open(const char *data_dir, enum hash_alg alg, struct audit **ret);
void audit_close(struct audit *a);

/* Appends one row, durably (fsync) before it returns 0. Thread-safe. */
int audit_record(struct audit *a, const struct audit_event *ev);

struct audit_filter {
	uint64_t since, until; /* microseconds; 0: open */
	const char *user, *action; /* NULL: any */
	const char *object;        /* text in the request target or the detail ("alert 12"); NULL: any */
	int64_t after;             /* rows with a larger id only (the cursor) */
	uint32_t limit;
};
/* Matching rows, oldest first, as a new JSON array in *items; *last is the last row's id (or after). */
int audit_query(struct audit *a, const struct audit_filter *f, json_t **items, int64_t *last);

/*
 * Drops the calendar months (UTC) that ended more than days before now, and
 * records that it did. Returns the number of rows dropped.
 */
int audit_retention(struct audit *a, uint64_t now_us, uint64_t days);

/* The digest the log chains with. */
enum hash_alg audit_hash(const struct audit *a);
/*
 * The log's name: random, drawn when it was made (hex), the same at every
 * opening; what names this collector's chain among those a shared store
 * holds (audit_share.h).
 */
#define AUDIT_NAME_BYTES 8
const char *audit_name(const struct audit *a);
/* The newest row's id and hash (an empty log: 0 and zeros; all dropped: the anchor's). */
int audit_head(struct audit *a, int64_t *ret_id, uint8_t ret_hash[HASH_SIZE]);
/* Row id's stored hash: 0, -ESTALE if retention dropped it, -ENOENT if it is missing. */
int audit_hash_of(struct audit *a, int64_t id, uint8_t ret_hash[HASH_SIZE]);

/* The log as the seals see it (store/sealing.h): a lives as long as what is returned is used. */
struct seal_audit audit_sealed(struct audit *a);

/* Walks the chain from the anchor: 0 if intact, else the id of the first row that does not match. */
int audit_verify(struct audit *a, uint64_t *rows, int64_t *first_bad);

#endif

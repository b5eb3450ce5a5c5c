/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>

#include "api/audit.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"
#include <inttypes.h>

#define NO_DELETE_TRIGGER                                                                            \
	"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"                         \
	" BEGIN SELECT RAISE(ABORT, 'audit rows cannot be deleted'); END;"

/*
 * anchor: where the chain starts after retention dropped the oldest months:
 * the first row kept and the hash of the row before it.
 */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, user TEXT NOT NULL,"
	" role TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, outcome TEXT NOT NULL,"
	" status INTEGER NOT NULL, source TEXT NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS audit_ts ON audit(ts);"
	"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit rows cannot be changed'); END;"
	NO_DELETE_TRIGGER
	"CREATE TABLE IF NOT EXISTS anchor(one INTEGER PRIMARY KEY CHECK(one = 1), first_id INTEGER NOT NULL,"
	" prev_hash BLOB NOT NULL, dropped INTEGER NOT NULL, dropped_before INTEGER NOT NULL);"
	/* The chain's digest, fixed when the log is made (a log from before it has none: SHA-256). */
	"CREATE TABLE IF NOT EXISTS chain(one INTEGER PRIMARY KEY CHECK(one = 1), alg TEXT NOT NULL);";

#define COLUMNS "id, ts, user, role, action, object, outcome, status, source, hash, detail"

struct audit {
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *last, *insert, *query, *walk, *anchor, *hash_of;
	enum hash_alg alg;
	char name[2 * AUDIT_NAME_BYTES + 1];
};

void audit_close(struct audit *a)
{
	if (!a)
		return;
	sqlite3_finalize(a->last);
	sqlite3_finalize(a->insert);
	sqlite3_finalize(a->query);
	sqlite3_finalize(a->walk);
	sqlite3_finalize(a->anchor);
	sqlite3_finalize(a->hash_of);
	db_close(a->db);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* detail: what was done to what, in words (added after the first release; '' in older rows). */
static int migrate(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version = 0, r = db_prepare(db, "PRAGMA user_version", &st);

	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 1)
		r = db_exec(db, "BEGIN IMMEDIATE; ALTER TABLE audit ADD COLUMN detail TEXT NOT NULL DEFAULT '';"
				" PRAGMA user_version=1; COMMIT;");
	/* The chain's name (audit_name()), given it at the first opening that knows of names. */
	if (r == 0 && version < 2)
		r = db_exec(db, "BEGIN IMMEDIATE; ALTER TABLE chain ADD COLUMN name TEXT; PRAGMA user_version=2; COMMIT;");
	return r;
}

/* The chain's name: drawn at random when the log gets one, so that no two collectors' logs share it. */
static int log_name(struct audit *a)
{
	uint8_t raw[AUDIT_NAME_BYTES];
	sqlite3_stmt *st;
	int r = random_bytes(raw, sizeof(raw));

	if (r == 0)
		r = db_prepare(a->db, "UPDATE chain SET name=coalesce(name, ?) RETURNING name", &st);
	if (r < 0)
		return r;
	hex_encode(raw, sizeof(raw), a->name);
	sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		(void)snprintf(a->name, sizeof(a->name), "%s", (const char *)sqlite3_column_text(st, 0));
	else
		r = db_errno(sqlite3_errcode(a->db));
	sqlite3_finalize(st);
	return r;
}

const char *audit_name(const struct audit *a)
{
	return a->name;
}

/* The digest the log was made with; a new log takes want. */
static int log_alg(sqlite3 *db, enum hash_alg want, enum hash_alg *ret)
{
	sqlite3_stmt *st;
	int r = db_exec(db, "BEGIN IMMEDIATE");

	if (r == 0)
		r = db_prepare(db,
			       "INSERT OR IGNORE INTO chain(one, alg) SELECT 1, CASE WHEN EXISTS(SELECT 1 FROM audit)"
			       " OR EXISTS(SELECT 1 FROM anchor) THEN 'sha256' ELSE ?1 END",
			       &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, hash_name(want), -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_errno(sqlite3_errcode(db));
		sqlite3_finalize(st);
	}
	if (r == 0)
		r = db_prepare(db, "SELECT alg FROM chain", &st);
	if (r == 0) {
		r = sqlite3_step(st) == SQLITE_ROW ? hash_parse((const char *)sqlite3_column_text(st, 0), ret) : -EUCLEAN;
		sqlite3_finalize(st);
	}
	(void)sqlite3_exec(db, r == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	if (r == 0 && *ret != want)
		log_notice("audit: the audit log's hash chain is %s since it was made and stays so", hash_name(*ret));
	return r;
}

int audit_open(const char *data_dir, enum hash_alg alg, struct audit **ret)
{
	struct audit *a = calloc(1, sizeof(*a));
	char path[4096];
	int r;

	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	(void)snprintf(path, sizeof(path), "%s/audit.db", data_dir);
	r = db_open(path, true, false, DB_SYNC_FULL, &a->db);
	/* Pages retention frees are given back to the disk: in a new file; an old one reuses them. */
	if (r == 0)
		r = db_exec(a->db, "PRAGMA auto_vacuum=INCREMENTAL");
	if (r == 0)
		r = db_exec(a->db, schema);
	if (r == 0)
		r = migrate(a->db);
	if (r == 0)
		r = log_alg(a->db, alg, &a->alg);
	if (r == 0)
		r = log_name(a);
	if (r == 0)
		r = db_prepare(a->db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &a->last);
	if (r == 0)
		r = db_prepare(a->db, "SELECT hash FROM audit WHERE id=?", &a->hash_of);
	if (r == 0)
		r = db_prepare(a->db, "SELECT first_id, prev_hash FROM anchor", &a->anchor);
	if (r == 0)
		r = db_prepare(a->db, "INSERT INTO audit(" COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?)", &a->insert);
	if (r == 0)
		r = db_prepare(a->db,
			       "SELECT " COLUMNS " FROM audit WHERE id>?1 AND ts>=?2 AND (?3=0 OR ts<=?3)"
			       " AND (?4 IS NULL OR user=?4) AND (?5 IS NULL OR action=?5)"
			       " AND (?7 IS NULL OR instr(object, ?7) > 0 OR instr(detail, ?7) > 0) ORDER BY id LIMIT ?6",
			       &a->query);
	if (r == 0)
		r = db_prepare(a->db, "SELECT " COLUMNS " FROM audit ORDER BY id", &a->walk);
	if (r < 0) {
		audit_close(a);
		return r;
	}
	*ret = a;
	return 0;
}

/* One row as hashed: the text fields are user, role, action, object, outcome. */
struct audit_row {
	int64_t id;
	uint64_t ts;
	const char *text[5];
	unsigned status;
	const char *source;
	const char *detail;
};

static void put_field(struct buf *b, const void *v, size_t len)
{
	uint8_t n[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24) };

	(void)buf_append(b, n, sizeof(n));
	(void)buf_append(b, v, len);
}

static void put_num(struct buf *b, uint64_t v)
{
	uint8_t num[8];

	put_le64(num, v);
	put_field(b, num, sizeof(num));
}

/*
 * hash = H(previous row's hash | the row), H the log's digest (SHA-256 or
 * SM3), every field length-prefixed
 * so that no two rows hash alike by moving bytes between fields. detail
 * counts when it is not empty: rows from before it existed keep their hash.
 */
static int row_hash(enum hash_alg alg, const struct audit_row *row, const uint8_t prev[SHA256_SIZE],
		    uint8_t out[SHA256_SIZE])
{
	struct buf b;
	int r;

	buf_init(&b, 64 * 1024);
	put_num(&b, (uint64_t)row->id);
	put_num(&b, row->ts);
	for (size_t i = 0; i < ARRAY_SIZE(row->text); i++)
		put_field(&b, row->text[i], strlen(row->text[i]));
	put_num(&b, row->status);
	put_field(&b, row->source, strlen(row->source));
	if (row->detail && *row->detail)
		put_field(&b, row->detail, strlen(row->detail));
	r = b.len >= b.max ? -E2BIG : hash_v(alg, out, prev, (size_t)SHA256_SIZE, b.data, b.len, NULL);
	buf_free(&b);
	return r;
}

/* Where the chain starts: after the anchor retention left, else at row 1 from zeros. */
static void chain_start(struct audit *a, int64_t *ret_first, uint8_t prev[SHA256_SIZE])
{
	*ret_first = 0;
	memset(prev, 0, SHA256_SIZE);
	if (sqlite3_step(a->anchor) == SQLITE_ROW && sqlite3_column_bytes(a->anchor, 1) == SHA256_SIZE) {
		*ret_first = sqlite3_column_int64(a->anchor, 0);
		memcpy(prev, sqlite3_column_blob(a->anchor, 1), SHA256_SIZE);
	}
	(void)sqlite3_reset(a->anchor);
}

static int append(struct audit *a, const struct audit_event *ev, uint64_t ts)
{
	struct audit_row row = { .id = 1, .ts = ts, .status = ev->status, .source = ev->source,
				 .detail = ev->detail ? ev->detail : "",
				 .text = { ev->user, ev->role, ev->action, ev->object,
					   ev->success ? "success" : "failure" } };
	uint8_t prev[SHA256_SIZE] = { 0 }, hash[SHA256_SIZE];
	int rc, r;

	if (sqlite3_step(a->last) == SQLITE_ROW) {
		row.id = sqlite3_column_int64(a->last, 0) + 1;
		if (sqlite3_column_bytes(a->last, 1) == SHA256_SIZE)
			memcpy(prev, sqlite3_column_blob(a->last, 1), SHA256_SIZE);
		(void)sqlite3_reset(a->last);
	} else {
		/* Empty: the first row ever, or every row went to retention and the chain goes on from the anchor. */
		(void)sqlite3_reset(a->last);
		chain_start(a, &row.id, prev);
		row.id = MAX(row.id, (int64_t)1);
	}
	r = row_hash(a->alg, &row, prev, hash);
	if (r < 0)
		return r;
	sqlite3_bind_int64(a->insert, 1, row.id);
	sqlite3_bind_int64(a->insert, 2, (sqlite3_int64)ts);
	for (size_t i = 0; i < ARRAY_SIZE(row.text); i++)
		sqlite3_bind_text(a->insert, 3 + (int)i, row.text[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(a->insert, 8, row.status);
	sqlite3_bind_text(a->insert, 9, row.source, -1, SQLITE_STATIC);
	sqlite3_bind_blob(a->insert, 10, hash, SHA256_SIZE, SQLITE_STATIC);
	sqlite3_bind_text(a->insert, 11, row.detail, -1, SQLITE_STATIC);
	rc = sqlite3_step(a->insert);
	(void)sqlite3_reset(a->insert);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int audit_record(struct audit *a, const struct audit_event *ev)
{
	uint64_t ts = now_realtime_us();
	int r;

	pthread_mutex_lock(&a->lock);
	/* IMMEDIATE: another process appending waits here, so ids and the chain stay in order. */
	r = db_exec(a->db, "BEGIN IMMEDIATE");
	if (r == 0) {
		r = append(a, ev, ts);
		r = db_end(a->db, r);
	}
	pthread_mutex_unlock(&a->lock);
	if (r < 0)
		log_error("audit: cannot record %s by %s on %s: %s", ev->action, ev->user, ev->object, strerror(-r));
	return r;
}

static json_t *row_json(sqlite3_stmt *st)
{
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "id",
			 (json_int_t)sqlite3_column_int64(st, 0), "ts", (json_int_t)sqlite3_column_int64(st, 1),
			 "user", sqlite3_column_text(st, 2), "role", sqlite3_column_text(st, 3), "action",
			 sqlite3_column_text(st, 4), "object", sqlite3_column_text(st, 5), "outcome",
			 sqlite3_column_text(st, 6), "status", sqlite3_column_int(st, 7), "source",
			 sqlite3_column_text(st, 8), "detail", sqlite3_column_text(st, 10));
}

int audit_query(struct audit *a, const struct audit_filter *f, json_t **items, int64_t *last)
{
	sqlite3_stmt *st = a->query;
	json_t *arr = json_array();
	int rc;

	if (!arr)
		return -ENOMEM;
	*last = f->after;
	pthread_mutex_lock(&a->lock);
	sqlite3_bind_int64(st, 1, f->after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->since);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)f->until);
	sqlite3_bind_text(st, 4, f->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, f->limit);
	sqlite3_bind_text(st, 7, f->object, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*last = sqlite3_column_int64(st, 0);
		json_array_append_new(arr, row_json(st));
	}
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&a->lock);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return db_errno(rc);
	}
	*items = arr;
	return 0;
}

int audit_verify(struct audit *a, uint64_t *rows, int64_t *first_bad)
{
	sqlite3_stmt *st = a->walk;
	uint8_t prev[SHA256_SIZE], hash[SHA256_SIZE];
	int64_t expect;
	int rc, r = 0;

	*rows = 0;
	*first_bad = 0;
	pthread_mutex_lock(&a->lock);
	chain_start(a, &expect, prev);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row row = { .id = sqlite3_column_int64(st, 0), .ts = (uint64_t)sqlite3_column_int64(st, 1),
					 .status = (unsigned)sqlite3_column_int64(st, 7),
					 .source = (const char *)sqlite3_column_text(st, 8),
					 .detail = (const char *)sqlite3_column_text(st, 10) };

		for (int i = 0; i < 5; i++)
			row.text[i] = (const char *)sqlite3_column_text(st, 2 + i);
		(*rows)++;
		r = row_hash(a->alg, &row, prev, hash);
		if (r < 0)
			break;
		/* The first row kept must be the anchor's: rows after a cut cannot go unnoticed. */
		if ((expect && row.id != expect) || sqlite3_column_bytes(st, 9) != SHA256_SIZE ||
		    memcmp(sqlite3_column_blob(st, 9), hash, SHA256_SIZE)) {
			*first_bad = row.id;
			break;
		}
		expect = 0;
		memcpy(prev, hash, sizeof(prev));
	}
	(void)sqlite3_reset(st);
	pthread_mutex_unlock(&a->lock);
	if (r < 0)
		return r;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int audit_head(struct audit *a, int64_t *ret_id, uint8_t ret_hash[HASH_SIZE])
{
	int64_t first;
	int rc, r = 0;

	pthread_mutex_lock(&a->lock);
	rc = sqlite3_step(a->last);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(a->last, 1) == HASH_SIZE) {
		*ret_id = sqlite3_column_int64(a->last, 0);
		memcpy(ret_hash, sqlite3_column_blob(a->last, 1), HASH_SIZE);
	} else if (rc == SQLITE_DONE) {
		chain_start(a, &first, ret_hash);
		*ret_id = first ? first - 1 : 0;
	} else {
		r = rc == SQLITE_ROW ? -EUCLEAN : db_errno(rc);
	}
	(void)sqlite3_reset(a->last);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int audit_hash_of(struct audit *a, int64_t id, uint8_t ret_hash[HASH_SIZE])
{
	uint8_t anchor_hash[HASH_SIZE];
	int64_t first;
	int rc, r;

	pthread_mutex_lock(&a->lock);
	chain_start(a, &first, anchor_hash);
	sqlite3_bind_int64(a->hash_of, 1, id);
	rc = sqlite3_step(a->hash_of);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(a->hash_of, 0) == HASH_SIZE) {
		memcpy(ret_hash, sqlite3_column_blob(a->hash_of, 0), HASH_SIZE);
		r = 0;
	} else if (rc == SQLITE_DONE && first && id == first - 1) {
		/* The row before the cut: the anchor keeps its hash. */
		memcpy(ret_hash, anchor_hash, HASH_SIZE);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = first && id < first - 1 ? -ESTALE : -ENOENT;
	} else {
		r = rc == SQLITE_ROW ? -EUCLEAN : db_errno(rc);
	}
	(void)sqlite3_reset(a->hash_of);
	pthread_mutex_unlock(&a->lock);
	return r;
}

static int sealed_head(void *ctx, int64_t *ret_id, uint8_t ret_hash[HASH_SIZE])
{
	return audit_head(ctx, ret_id, ret_hash);
}

static int sealed_hash_of(void *ctx, int64_t id, uint8_t ret_hash[HASH_SIZE])
{
	return audit_hash_of(ctx, id, ret_hash);
}

struct seal_audit audit_sealed(struct audit *a)
{
	return (struct seal_audit){ sealed_head, sealed_hash_of, a };
}

enum hash_alg audit_hash(const struct audit *a)
{
	return a->alg;
}

/* The last row before cutoff (id and hash into *ret_last, ret_hash): -ENOENT if none. */
static int last_before(struct audit *a, uint64_t cutoff, int64_t *ret_last, uint8_t ret_hash[SHA256_SIZE],
		       int64_t *ret_n)
{
	sqlite3_stmt *st;
	int r = db_prepare(a->db, "SELECT max(id), count(*) FROM audit WHERE ts < ?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
	r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*ret_last = sqlite3_column_int64(st, 0);
		*ret_n = sqlite3_column_int64(st, 1);
		r = 0;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	r = db_prepare(a->db, "SELECT hash FROM audit WHERE id = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, *ret_last);
	r = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SHA256_SIZE ? 0 : -EUCLEAN;
	if (r == 0)
		memcpy(ret_hash, sqlite3_column_blob(st, 0), SHA256_SIZE);
	sqlite3_finalize(st);
	return r;
}

/* Deletes rows up to last and moves the anchor past them, in the caller's transaction. */
static int drop_through(struct audit *a, int64_t last, const uint8_t hash[SHA256_SIZE], int64_t n, uint64_t cutoff)
{
	sqlite3_stmt *st;
	int r = db_exec(a->db, "DROP TRIGGER audit_no_delete");

	if (r == 0)
		r = db_prepare(a->db, "DELETE FROM audit WHERE id <= ?1", &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, last);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_errno(sqlite3_errcode(a->db));
		sqlite3_finalize(st);
	}
	if (r == 0)
		r = db_exec(a->db, NO_DELETE_TRIGGER);
	if (r == 0)
		r = db_prepare(a->db, "INSERT INTO anchor(one, first_id, prev_hash, dropped, dropped_before)"
				      " VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT(one) DO UPDATE SET first_id = ?1,"
				      " prev_hash = ?2, dropped = dropped + ?3, dropped_before = ?4", &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, last + 1);
		sqlite3_bind_blob(st, 2, hash, SHA256_SIZE, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, n);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)cutoff);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_errno(sqlite3_errcode(a->db));
		sqlite3_finalize(st);
	}
	return r;
}

int audit_retention(struct audit *a, uint64_t now_us, uint64_t days)
{
	uint64_t cutoff = month_start_us(now_us - MIN(now_us, days * 86400 * USEC_PER_SEC));
	uint8_t hash[SHA256_SIZE];
	char object[128], day[16];
	int64_t last = 0, n = 0;
	int r;

	pthread_mutex_lock(&a->lock);
	r = db_exec(a->db, "BEGIN IMMEDIATE");
	if (r == 0) {
		r = last_before(a, cutoff, &last, hash, &n);
		if (r == 0)
			r = drop_through(a, last, hash, n, cutoff);
		if (r == 0) {
			format_day((uint32_t)(cutoff / (86400 * USEC_PER_SEC)), day, sizeof(day));
			(void)snprintf(object, sizeof(object), "audit rows through %" PRId64 " (before %s)", last, day);
			r = append(a, &(struct audit_event){ .user = "vigil", .role = "-", .action = "audit.retention",
							     .object = object, .success = true, .source = "local" },
				   now_realtime_us());
		}
		r = db_end(a->db, r);
	}
	if (r == 0)
		(void)db_exec(a->db, "PRAGMA incremental_vacuum");
	pthread_mutex_unlock(&a->lock);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return log_error_errno(r, "audit: retention failed: %m");
	log_info("audit: removed %" PRId64 " rows from before %s (kept %" PRIu64 " days, by whole months)", n, day,
		 days);
	return (int)MIN(n, (int64_t)INT32_MAX);
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/db.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/seals.h"

/* Rows are appended only: a seal changed or removed breaks the seals' own chain. */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS seals(id INTEGER PRIMARY KEY, made INTEGER NOT NULL, day INTEGER NOT NULL,"
	" blocks INTEGER NOT NULL, last_block INTEGER NOT NULL, head BLOB NOT NULL, audit_id INTEGER NOT NULL,"
	" audit_head BLOB NOT NULL, closed INTEGER NOT NULL, chain TEXT NOT NULL, method TEXT NOT NULL,"
	" key_id TEXT NOT NULL, prev BLOB NOT NULL, sig BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS seals_by_day ON seals(day, id);"
	"CREATE TRIGGER IF NOT EXISTS seals_no_update BEFORE UPDATE ON seals"
	" BEGIN SELECT RAISE(ABORT, 'seals cannot be changed'); END;"
	"CREATE TRIGGER IF NOT EXISTS seals_no_delete BEFORE DELETE ON seals"
	" BEGIN SELECT RAISE(ABORT, 'seals cannot be deleted'); END;";

/* Added with the shared store's chains: '' and 0 in seals made before, which bound none. */
static const char shared_columns[] =
	"ALTER TABLE seals ADD COLUMN shared_chain TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE seals ADD COLUMN shared_pos INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE seals ADD COLUMN shared_head BLOB;";

#define COLUMNS_BEFORE_SHARED \
	"id, made, day, blocks, last_block, head, audit_id, audit_head, closed, chain, method, key_id, prev, sig"
#define COLUMNS COLUMNS_BEFORE_SHARED ", shared_chain, shared_pos, shared_head"

/*
 * SELECT of the columns, then tail: a meta.db no collector of this version
 * has written yet (a reader's, an auditor's copy) reads as seals that bound
 * no shared chain.
 */
static int select_seals(sqlite3 *meta, const char *tail, sqlite3_stmt **ret)
{
	char sql[512];

	(void)snprintf(sql, sizeof(sql), "SELECT %s FROM seals %s",
		       db_has_column(meta, "seals", "shared_chain") ? COLUMNS : COLUMNS_BEFORE_SHARED ", '', 0, NULL",
		       tail);
	return db_prepare(meta, sql, ret);
}

int seals_schema(sqlite3 *meta)
{
	int r = db_exec(meta, schema);

	return r == 0 && !db_has_column(meta, "seals", "shared_chain") ? db_exec(meta, shared_columns) : r;
}

int seal_message(const struct seal *s, char *buf, size_t size)
{
	char day[16], head[2 * HASH_SIZE + 1], audit[2 * HASH_SIZE + 1], prev[2 * HASH_SIZE + 1], shared[160] = "";
	int n;

	if (s->day)
		format_day(s->day, day, sizeof(day));
	else
		(void)snprintf(day, sizeof(day), "none");
	hex_encode(s->head, HASH_SIZE, head);
	hex_encode(s->audit_head, HASH_SIZE, audit);
	hex_encode(s->prev, HASH_SIZE, prev);
	/* Only in the seals of a shared store: a seal made before reads as it was signed. */
	if (s->shared_chain[0]) {
		char h[2 * HASH_SIZE + 1];

		hex_encode(s->shared_head, HASH_SIZE, h);
		(void)snprintf(shared, sizeof(shared), "shared_chain=%s\nshared_pos=%" PRId64 "\nshared_head=%s\n",
			       s->shared_chain, s->shared_pos, h);
	}
	n = snprintf(buf, size,
		     "vigil-seal-1\nid=%" PRId64 "\nmade=%" PRIu64 "\nday=%s\nchain=%s\nblocks=%" PRId64
		     "\nlast_block=%" PRId64 "\nhead=%s\naudit_id=%" PRId64 "\naudit_head=%s\n%sclosed=%d\nmethod=%s"
		     "\nkey=%s\nprev=%s\n",
		     s->id, s->made, day, s->chain, s->blocks, s->last_block, head, s->audit_id, audit, shared,
		     s->closed, s->method, s->key_id, prev);
	return n < 0 || (size_t)n >= size ? -E2BIG : n;
}

static json_t *hex_json(const uint8_t *p, size_t len)
{
	char hex[2 * SEALKEY_SIG_MAX + 1];

	hex_encode(p, MIN(len, (size_t)SEALKEY_SIG_MAX), hex);
	return json_string(hex);
}

static json_t *seal_json(const struct seal *s)
{
	char msg[SEAL_MESSAGE_MAX], when[64], day[16] = "";
	json_t *j;

	if (seal_message(s, msg, sizeof(msg)) < 0)
		return NULL;
	format_rfc3339_us(s->made, when, sizeof(when));
	if (s->day)
		format_day(s->day, day, sizeof(day));
	j = json_pack("{s:I, s:I, s:s, s:s?, s:I, s:I, s:o, s:I, s:o, s:b, s:s, s:s, s:s, s:o, s:s, s:o}", "id",
			 (json_int_t)s->id, "ts", (json_int_t)s->made, "made", when, "day", s->day ? day : NULL,
			 "blocks", (json_int_t)s->blocks, "last_block", (json_int_t)s->last_block, "head",
			 hex_json(s->head, HASH_SIZE), "audit_id", (json_int_t)s->audit_id, "audit_head",
			 hex_json(s->audit_head, HASH_SIZE), "closed", s->closed, "chain", s->chain, "method", s->method,
			 "key", s->key_id, "prev", hex_json(s->prev, HASH_SIZE), "message", msg, "signature",
			 hex_json(s->sig, s->sig_len));
	if (j && s->shared_chain[0] &&
	    json_object_set_new(j, "shared", json_pack("{s:s, s:I, s:o}", "chain", s->shared_chain, "pos",
							 (json_int_t)s->shared_pos, "head",
							 hex_json(s->shared_head, HASH_SIZE))) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int seal_link(const struct seal *s, uint8_t out[HASH_SIZE])
{
	char msg[SEAL_MESSAGE_MAX];
	int n = seal_message(s, msg, sizeof(msg));

	return n < 0 ? n : hash_v(HASH_SM3, out, msg, (size_t)n, s->sig, s->sig_len, NULL);
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	(void)snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* Row st into *s; a row whose hashes or signature have the wrong size reads with sig_len 0: it seals nothing. */
static void read_row(sqlite3_stmt *st, struct seal *s)
{
	int sig_len = sqlite3_column_bytes(st, 13);

	*s = (struct seal){ .id = sqlite3_column_int64(st, 0), .made = (uint64_t)sqlite3_column_int64(st, 1),
			    .day = (uint32_t)sqlite3_column_int64(st, 2), .blocks = sqlite3_column_int64(st, 3),
			    .last_block = sqlite3_column_int64(st, 4), .audit_id = sqlite3_column_int64(st, 6),
			    .closed = sqlite3_column_int(st, 8) != 0 };
	copy_text(s->chain, sizeof(s->chain), st, 9);
	copy_text(s->method, sizeof(s->method), st, 10);
	copy_text(s->key_id, sizeof(s->key_id), st, 11);
	copy_text(s->shared_chain, sizeof(s->shared_chain), st, 14);
	s->shared_pos = sqlite3_column_int64(st, 15);
	if (s->shared_chain[0] && sqlite3_column_bytes(st, 16) != HASH_SIZE)
		return;
	if (s->shared_chain[0])
		memcpy(s->shared_head, sqlite3_column_blob(st, 16), HASH_SIZE);
	if (sqlite3_column_bytes(st, 5) != HASH_SIZE || sqlite3_column_bytes(st, 7) != HASH_SIZE ||
	    sqlite3_column_bytes(st, 12) != HASH_SIZE || sig_len <= 0 || sig_len > SEALKEY_SIG_MAX)
		return;
	memcpy(s->head, sqlite3_column_blob(st, 5), HASH_SIZE);
	memcpy(s->audit_head, sqlite3_column_blob(st, 7), HASH_SIZE);
	memcpy(s->prev, sqlite3_column_blob(st, 12), HASH_SIZE);
	memcpy(s->sig, sqlite3_column_blob(st, 13), (size_t)sig_len);
	s->sig_len = (size_t)sig_len;
}

int seals_newest(sqlite3 *meta, uint32_t day, struct seal *ret)
{
	sqlite3_stmt *st;
	int r = select_seals(meta, "WHERE ?1=0 OR day=?1 ORDER BY id DESC LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, day);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		read_row(st, ret);
	r = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : db_errno(r);
	sqlite3_finalize(st);
	return r;
}

int seals_insert(sqlite3 *meta, const struct seal *s)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "INSERT INTO seals(" COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->made);
	sqlite3_bind_int64(st, 3, s->day);
	sqlite3_bind_int64(st, 4, s->blocks);
	sqlite3_bind_int64(st, 5, s->last_block);
	sqlite3_bind_blob(st, 6, s->head, HASH_SIZE, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, s->audit_id);
	sqlite3_bind_blob(st, 8, s->audit_head, HASH_SIZE, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, s->closed);
	sqlite3_bind_text(st, 10, s->chain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, s->method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, s->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 13, s->prev, HASH_SIZE, SQLITE_STATIC);
	sqlite3_bind_blob(st, 14, s->sig, (int)s->sig_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, s->shared_chain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 16, s->shared_pos);
	if (s->shared_chain[0])
		sqlite3_bind_blob(st, 17, s->shared_head, HASH_SIZE, SQLITE_STATIC);
	r = sqlite3_step(st);
	r = r == SQLITE_DONE ? 0 : db_errno(r);
	sqlite3_finalize(st);
	return r;
}

int seals_each(sqlite3 *meta, int64_t after, unsigned limit, int (*fn)(const struct seal *s, void *ctx), void *ctx)
{
	struct seal s;
	sqlite3_stmt *st;
	int rc, r;

	/* A store no collector of this version has opened yet has no seals. */
	if (!db_has_column(meta, "seals", "sig"))
		return 0;
	r = select_seals(meta, "WHERE id > ?1 ORDER BY id LIMIT ?2", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &s);
		r = fn(&s, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

struct page {
	json_t *items;
	int64_t last;
};

static int add_seal(const struct seal *s, void *ctx)
{
	struct page *p = ctx;
	json_t *j = seal_json(s);

	if (!j || json_array_append_new(p->items, j) < 0)
		return -ENOMEM;
	p->last = s->id;
	return 0;
}

int seals_page(sqlite3 *meta, int64_t after, unsigned limit, json_t **items, int64_t *last)
{
	struct page p = { json_array(), after };
	int r = p.items ? seals_each(meta, after, limit, add_seal, &p) : -ENOMEM;

	if (r < 0) {
		json_decref(p.items);
		return r;
	}
	*items = p.items;
	*last = p.last;
	return 0;
}

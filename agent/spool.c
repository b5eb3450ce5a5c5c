/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "agent/spool.h"

enum {
	ST_INSERT,
	ST_CP_UPSERT,
	ST_CP_DELETE,
	ST_CP_GET,
	ST_CP_LIST,
	ST_NEXT,
	ST_NEXT_SEQ,
	ST_ACK,
	ST_QUARANTINE,
	ST_COUNTER_SET,
	ST_META_SET,
	ST_CURSOR_SET,
	ST_CURSOR_GET,
	ST_META_GET,
	_ST_MAX,
};

static const char *const sql[_ST_MAX] = {
	[ST_INSERT] = "INSERT INTO batches(seq, created_us, records, frame) VALUES (?,?,?,?)",
	[ST_CP_UPSERT] = "INSERT OR REPLACE INTO files(source, dev, ino, offset, fp, fp_len, path, updated_us) "
			 "VALUES (?,?,?,?,?,?,?,?)",
	[ST_CP_DELETE] = "DELETE FROM files WHERE source=? AND dev=? AND ino=?",
	[ST_CP_GET] = "SELECT offset, fp, fp_len, path FROM files WHERE source=? AND dev=? AND ino=?",
	[ST_CP_LIST] = "SELECT dev, ino, offset, fp, fp_len, path FROM files WHERE source=?",
	[ST_NEXT] = "SELECT seq, records, frame FROM batches WHERE seq>? ORDER BY seq LIMIT 1",
	/* Without the frame: its overflow pages are not read. */
	[ST_NEXT_SEQ] = "SELECT seq FROM batches WHERE seq>? ORDER BY seq LIMIT 1",
	[ST_ACK] = "DELETE FROM batches WHERE seq=? RETURNING length(frame)",
	[ST_QUARANTINE] = "INSERT INTO quarantine(seq, created_us, records, frame, reason, quarantined_us) "
			  "SELECT seq, created_us, records, frame, ?, ? FROM batches WHERE seq=?",
	[ST_COUNTER_SET] = "INSERT OR REPLACE INTO counters(name, value) VALUES (?,?)",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)",
	[ST_CURSOR_SET] = "INSERT OR REPLACE INTO cursors(source, cursor, updated_us) VALUES (?,?,?)",
	[ST_CURSOR_GET] = "SELECT cursor FROM cursors WHERE source=?",
	[ST_META_GET] = "SELECT value FROM meta WHERE key=?",
};

static const char schema[] =
	"PRAGMA secure_delete=OFF;"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS batches(seq INTEGER PRIMARY KEY, created_us INTEGER NOT NULL,"
	" records INTEGER NOT NULL, frame BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS quarantine(seq INTEGER PRIMARY KEY, created_us INTEGER,"
	" records INTEGER, frame BLOB, reason TEXT, quarantined_us INTEGER);"
	"CREATE TABLE IF NOT EXISTS files(source TEXT NOT NULL, dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
	" offset INTEGER NOT NULL, fp BLOB, fp_len INTEGER, path TEXT, updated_us INTEGER,"
	" PRIMARY KEY(source, dev, ino)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS cursors(source TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_us INTEGER)"
	" WITHOUT ROWID;";

struct spool {
	sqlite3 *db;
	sqlite3_stmt *st[_ST_MAX];
	uint64_t next_seq;
	uint64_t bytes;
	uint64_t pending;
	uint64_t max_bytes;
	uint64_t ctr[_SPOOL_CTR_MAX];
	bool ctr_dirty; /* counted since the last transaction */
	bool ctr_dirty_durable; /* of them, one a power cut must not take back: any but the acknowledgements' */
	bool sync_full;         /* [spool] sync: every commit fsynced, but for acknowledgements (spool_ack()) */
	bool has_state; /* held anything when opened: made by an earlier run */
	char *path;
};

const char *spool_counter_name(enum spool_counter c)
{
	static const char *const names[_SPOOL_CTR_MAX] = {
		[SPOOL_CTR_LINES_TRUNCATED] = "lines_truncated",
		[SPOOL_CTR_BATCHES_QUARANTINED] = "batches_quarantined",
		[SPOOL_CTR_RECORDS_QUARANTINED] = "records_quarantined",
		[SPOOL_CTR_BATCHES_SPOOLED] = "batches_spooled",
		[SPOOL_CTR_RECORDS_SPOOLED] = "records_spooled",
		[SPOOL_CTR_BATCHES_ACKED] = "batches_acked",
		[SPOOL_CTR_BATCHES_DUPLICATE] = "batches_duplicate",
		[SPOOL_CTR_FILES_TRUNCATED] = "files_truncated",
		[SPOOL_CTR_FILES_VANISHED] = "files_vanished",
		[SPOOL_CTR_JOURNAL_GAPS] = "journal_gaps",
		[SPOOL_CTR_JOURNAL_ENTRIES_SKIPPED] = "journal_entries_skipped",
		[SPOOL_CTR_RECORDS_DROPPED] = "records_dropped",
		[SPOOL_CTR_BATCHES_CONFLICT] = "batches_conflict",
		[SPOOL_CTR_BATCHES_REFUSED] = "batches_refused",
		[SPOOL_CTR_LINES_UNPARSED] = "lines_unparsed",
		[SPOOL_CTR_LINES_UNFRAMED] = "lines_unframed",
		[SPOOL_CTR_SYSLOG_RECEIVED] = "syslog_received",
		[SPOOL_CTR_SYSLOG_UNPARSED] = "syslog_unparsed",
		[SPOOL_CTR_SYSLOG_TRUNCATED] = "syslog_truncated",
		[SPOOL_CTR_SYSLOG_RELAYED] = "syslog_relayed",
		[SPOOL_CTR_SYSLOG_DROPPED] = "syslog_dropped",
	};
	return (unsigned)c < _SPOOL_CTR_MAX ? names[c] : "unknown";
}

static int step_done(struct spool *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("spool %s: %s", s->path, sqlite3_errmsg(s->db));
		return db_errno(rc);
	}
	return 0;
}

static int load_state(struct spool *s)
{
	sqlite3_stmt *st;
	int r = db_prepare(s->db, "SELECT coalesce(max(seq),0), count(*), coalesce(sum(length(frame)),0) FROM batches", &st);

	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->next_seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
		s->pending = (uint64_t)sqlite3_column_int64(st, 1);
		s->bytes = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	r = db_prepare(s->db, "SELECT EXISTS(SELECT 1 FROM meta) OR EXISTS(SELECT 1 FROM batches) OR"
			      " EXISTS(SELECT 1 FROM files) OR EXISTS(SELECT 1 FROM cursors) OR"
			      " EXISTS(SELECT 1 FROM quarantine) OR EXISTS(SELECT 1 FROM counters)", &st);
	if (r < 0)
		return r;
	s->has_state = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	/* Acked batches are deleted; the high-water mark survives in meta. */
	r = db_prepare(s->db, "SELECT value FROM meta WHERE key='next_seq'", &st);
	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		s->next_seq = MAX(s->next_seq, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	r = db_prepare(s->db, "SELECT name, value FROM counters", &st);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		for (int c = 0; c < _SPOOL_CTR_MAX; c++)
			if (name && strcmp(name, spool_counter_name(c)) == 0)
				s->ctr[c] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

/* The spool of state_dir; existing: only if there is one already (it is not made). */
static int spool_open_as(const char *state_dir, enum db_sync sync, uint64_t max_bytes, bool existing, struct spool **ret)
{
	struct spool *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->max_bytes = max_bytes;
	s->sync_full = sync == DB_SYNC_FULL;
	if (asprintf(&s->path, "%s/spool.db", state_dir) < 0) {
		s->path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = existing && access(s->path, F_OK) < 0 ? -errno : db_open(s->path, !existing, false, sync, &s->db);
	if (r < 0)
		goto fail;
	r = db_exec(s->db, schema);
	if (r < 0)
		goto fail;
	for (int i = 0; i < _ST_MAX; i++) {
		r = db_prepare(s->db, sql[i], &s->st[i]);
		if (r < 0)
			goto fail;
	}
	r = load_state(s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	spool_free(s);
	return r;
}

int spool_open(const char *state_dir, enum db_sync sync, uint64_t max_bytes, struct spool **ret)
{
	return spool_open_as(state_dir, sync, max_bytes, false, ret);
}

int spool_open_existing(const char *state_dir, struct spool **ret)
{
	return spool_open_as(state_dir, DB_SYNC_NORMAL, 0, true, ret);
}

void spool_free(struct spool *s)
{
	if (!s)
		return;
	for (int i = 0; i < _ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	db_close(s->db);
	free(s->path);
	free(s);
}

static int finish(struct spool *s, int r);

static int meta_put(struct spool *s, const char *key, const char *value)
{
	sqlite3_stmt *m = s->st[ST_META_SET];

	sqlite3_bind_text(m, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 2, value, -1, SQLITE_STATIC);
	return step_done(s, m);
}

/* The id stored in meta into ret: 0, -ENOENT if none, -EUCLEAN if it is not 32 hex digits. */
static int stored_id(struct spool *s, uint8_t ret[AGENT_ID_SIZE])
{
	sqlite3_stmt *st = s->st[ST_META_GET];
	int rc, r = -ENOENT;

	sqlite3_bind_text(st, 1, "agent_id", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);
		r = hex && strlen(hex) == 2 * AGENT_ID_SIZE && hex_decode(hex, ret, AGENT_ID_SIZE) == 0 ? 0 : -EUCLEAN;
	} else if (rc != SQLITE_DONE) {
		r = db_errno(rc);
	}
	(void)sqlite3_reset(st);
	return r;
}

static int put_id(struct spool *s, const uint8_t id[AGENT_ID_SIZE])
{
	char hex[2 * AGENT_ID_SIZE + 1];

	hex_encode(id, AGENT_ID_SIZE, hex);
	return meta_put(s, "agent_id", hex);
}

int spool_identity(struct spool *s, const uint8_t *legacy, uint8_t ret[AGENT_ID_SIZE])
{
	uint8_t id[AGENT_ID_SIZE];
	int r = stored_id(s, id);

	if (r == -EUCLEAN)
		return log_error_errno(r, "spool %s: the stored agent id is malformed", s->path);
	if (r == -ENOENT) {
		if (s->has_state && legacy)
			memcpy(id, legacy, AGENT_ID_SIZE);
		else if ((r = random_bytes(id, sizeof(id))) < 0)
			return r;
		r = put_id(s, id);
	}
	if (r < 0)
		return r;
	memcpy(ret, id, AGENT_ID_SIZE);
	return 0;
}

/* Rewrites the header of every pending batch to name id; frames that do not decode are left. */
static int readdress_batches(struct spool *s, const uint8_t id[AGENT_ID_SIZE])
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int rc, r = db_prepare(s->db, "SELECT seq, substr(frame, 1, ?) FROM batches", &sel);

	if (r == 0)
		r = db_prepare(s->db, "UPDATE batches SET frame = ? || substr(frame, ?) WHERE seq = ?", &upd);
	if (r == 0)
		sqlite3_bind_int(sel, 1, FRAME_HEADER_SIZE);
	while (r == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		uint8_t hdr[FRAME_HEADER_SIZE];
		struct frame_header h;

		if (frame_header_decode(sqlite3_column_blob(sel, 1), (size_t)sqlite3_column_bytes(sel, 1), &h) < 0)
			continue;
		memcpy(h.agent_id, id, AGENT_ID_SIZE);
		frame_header_encode(&h, hdr);
		sqlite3_bind_blob(upd, 1, hdr, sizeof(hdr), SQLITE_STATIC);
		sqlite3_bind_int(upd, 2, FRAME_HEADER_SIZE + 1);
		sqlite3_bind_int64(upd, 3, sqlite3_column_int64(sel, 0));
		r = step_done(s, upd);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return r;
}

int spool_new_identity(struct spool *s, uint8_t ret_old[AGENT_ID_SIZE], uint8_t ret[AGENT_ID_SIZE])
{
	uint8_t old[AGENT_ID_SIZE] = { 0 }, id[AGENT_ID_SIZE];
	int r = random_bytes(id, sizeof(id));

	if (r == 0)
		r = db_exec(s->db, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = stored_id(s, old);
	if (r == -ENOENT || r == -EUCLEAN)
		r = 0;
	if (r == 0)
		r = put_id(s, id);
	if (r == 0)
		r = readdress_batches(s, id);
	r = finish(s, r);
	if (r < 0)
		return r;
	memcpy(ret_old, old, AGENT_ID_SIZE);
	memcpy(ret, id, AGENT_ID_SIZE);
	return 0;
}

uint64_t spool_next_seq(const struct spool *s) { return s->next_seq; }
uint64_t spool_bytes(const struct spool *s) { return s->bytes; }
uint64_t spool_pending(const struct spool *s) { return s->pending; }
bool spool_full(const struct spool *s) { return s->bytes >= s->max_bytes; }
uint64_t spool_counter(const struct spool *s, enum spool_counter c) { return s->ctr[c]; }
void spool_count(struct spool *s, enum spool_counter c, uint64_t n)
{
	s->ctr[c] += n;
	s->ctr_dirty = true;
	if (c != SPOOL_CTR_BATCHES_ACKED && c != SPOOL_CTR_BATCHES_DUPLICATE)
		s->ctr_dirty_durable = true;
}

bool spool_counters_dirty(const struct spool *s) { return s->ctr_dirty; }

static int write_checkpoint(struct spool *s, const struct spool_checkpoint *cp, uint64_t now)
{
	sqlite3_stmt *st = s->st[cp->forget ? ST_CP_DELETE : ST_CP_UPSERT];

	if (cp->cursor) {
		st = s->st[ST_CURSOR_SET];
		sqlite3_bind_text(st, 1, cp->source, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, cp->cursor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		return step_done(s, st);
	}

	sqlite3_bind_text(st, 1, cp->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)cp->dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)cp->ino);
	if (!cp->forget) {
		sqlite3_bind_int64(st, 4, (sqlite3_int64)cp->offset);
		sqlite3_bind_blob(st, 5, cp->fp, sizeof(cp->fp), SQLITE_STATIC);
		sqlite3_bind_int(st, 6, (int)cp->fp_len);
		sqlite3_bind_text(st, 7, cp->path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	}
	return step_done(s, st);
}

static int write_counters(struct spool *s)
{
	sqlite3_stmt *st = s->st[ST_COUNTER_SET];
	int r;

	for (int c = 0; c < _SPOOL_CTR_MAX; c++) {
		sqlite3_bind_text(st, 1, spool_counter_name(c), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)s->ctr[c]);
		r = step_done(s, st);
		if (r < 0)
			return r;
	}
	s->ctr_dirty = s->ctr_dirty_durable = false;
	return 0;
}

/* Ends a write transaction begun with BEGIN IMMEDIATE: counters go with it. */
static int finish(struct spool *s, int r)
{
	if (r == 0)
		r = write_counters(s);
	return db_end(s->db, r);
}

int spool_append(struct spool *s, uint64_t seq, uint64_t created_us, uint32_t records,
		 const void *frame, size_t len, const struct spool_checkpoint *cps, size_t n_cps)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	uint64_t now = now_realtime_us();
	int r;

	if (seq != s->next_seq)
		return -EINVAL;
	r = db_exec(s->db, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)created_us);
	sqlite3_bind_int(st, 3, (int)records);
	sqlite3_bind_blob(st, 4, frame, (int)len, SQLITE_STATIC);
	r = step_done(s, st);
	for (size_t i = 0; r == 0 && i < n_cps; i++)
		r = write_checkpoint(s, &cps[i], now);
	if (r == 0) {
		sqlite3_stmt *m = s->st[ST_META_SET];
		sqlite3_bind_text(m, 1, "next_seq", -1, SQLITE_STATIC);
		sqlite3_bind_int64(m, 2, (sqlite3_int64)(seq + 1));
		r = step_done(s, m);
	}
	s->ctr[SPOOL_CTR_BATCHES_SPOOLED]++;
	s->ctr[SPOOL_CTR_RECORDS_SPOOLED] += records;
	r = finish(s, r);
	if (r < 0) {
		s->ctr[SPOOL_CTR_BATCHES_SPOOLED]--;
		s->ctr[SPOOL_CTR_RECORDS_SPOOLED] -= records;
		return r;
	}
	s->next_seq = seq + 1;
	s->bytes += len;
	s->pending++;
	return 0;
}

int spool_checkpoints_write(struct spool *s, const struct spool_checkpoint *cps, size_t n_cps)
{
	uint64_t now = now_realtime_us();
	int r = db_exec(s->db, "BEGIN IMMEDIATE");

	for (size_t i = 0; r == 0 && i < n_cps; i++)
		r = write_checkpoint(s, &cps[i], now);
	return finish(s, r);
}

static void read_checkpoint_row(sqlite3_stmt *st, int col, struct spool_checkpoint *cp)
{
	const void *fp = sqlite3_column_blob(st, col + 1);
	int fplen = sqlite3_column_bytes(st, col + 1);

	cp->offset = (uint64_t)sqlite3_column_int64(st, col);
	memset(cp->fp, 0, sizeof(cp->fp));
	if (fp && fplen == (int)sizeof(cp->fp))
		memcpy(cp->fp, fp, sizeof(cp->fp));
	cp->fp_len = (uint32_t)sqlite3_column_int(st, col + 2);
	cp->path = (const char *)sqlite3_column_text(st, col + 3);
	cp->forget = false;
}

int spool_checkpoint_get(struct spool *s, const char *source, uint64_t dev, uint64_t ino,
			 struct spool_checkpoint *ret)
{
	sqlite3_stmt *st = s->st[ST_CP_GET];
	int rc, r = -ENOENT;

	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ino);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_checkpoint_row(st, 0, ret);
		ret->path = NULL;
		ret->source = source;
		ret->dev = dev;
		ret->ino = ino;
		r = 0;
	} else if (rc != SQLITE_DONE) {
		r = db_errno(rc);
	}
	(void)sqlite3_reset(st);
	return r;
}

int spool_checkpoint_foreach(struct spool *s, const char *source,
			     void (*cb)(const struct spool_checkpoint *cp, void *userdata),
			     void *userdata)
{
	sqlite3_stmt *st;
	int rc, r;

	/* A private statement: cb may call back into the spool. */
	r = db_prepare(s->db, sql[ST_CP_LIST], &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct spool_checkpoint cp = { .source = source };
		cp.dev = (uint64_t)sqlite3_column_int64(st, 0);
		cp.ino = (uint64_t)sqlite3_column_int64(st, 1);
		read_checkpoint_row(st, 2, &cp);
		cb(&cp, userdata);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int spool_checkpoint_forget(struct spool *s, const char *source, uint64_t dev, uint64_t ino)
{
	struct spool_checkpoint cp = { .source = source, .dev = dev, .ino = ino, .forget = true };

	return write_checkpoint(s, &cp, 0);
}

int spool_cursor_get(struct spool *s, const char *source, char **ret)
{
	sqlite3_stmt *st = s->st[ST_CURSOR_GET];
	int rc, r = -ENOENT;

	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		char *c = strdup((const char *)sqlite3_column_text(st, 0));
		r = c ? 0 : -ENOMEM;
		if (c)
			*ret = c;
	} else if (rc != SQLITE_DONE) {
		r = db_errno(rc);
	}
	(void)sqlite3_reset(st);
	return r;
}

int spool_next_batch(struct spool *s, uint64_t after, struct spool_batch *ret)
{
	sqlite3_stmt *st = s->st[ST_NEXT];
	int rc, r = -ENOENT;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		uint8_t *p = malloc(len ? len : 1);
		if (!p) {
			r = -ENOMEM;
		} else {
			memcpy(p, sqlite3_column_blob(st, 2), len);
			*ret = (struct spool_batch){ .seq = (uint64_t)sqlite3_column_int64(st, 0),
						     .records = (uint32_t)sqlite3_column_int(st, 1),
						     .frame = p, .len = len };
			r = 0;
		}
	} else if (rc != SQLITE_DONE) {
		r = db_errno(rc);
	}
	(void)sqlite3_reset(st);
	return r;
}

int spool_next_pending(struct spool *s, uint64_t after, uint64_t *ret_seq)
{
	sqlite3_stmt *st = s->st[ST_NEXT_SEQ];
	int rc, r = -ENOENT;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_seq = (uint64_t)sqlite3_column_int64(st, 0);
		r = 0;
	} else if (rc != SQLITE_DONE) {
		r = db_errno(rc);
	}
	(void)sqlite3_reset(st);
	return r;
}

/* Deletes batch seq in the open transaction; *ret_len is its frame's size, 0 if gone. */
static int delete_batch(struct spool *s, uint64_t seq, uint64_t *ret_len)
{
	sqlite3_stmt *st = s->st[ST_ACK];
	int rc;

	*ret_len = 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_len = (uint64_t)sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/* After the commit: the in-memory size and count follow the table. */
static void forget_batch(struct spool *s, uint64_t len)
{
	if (!len)
		return;
	s->bytes -= MIN(s->bytes, len);
	s->pending -= s->pending > 0;
}

/*
 * An acknowledgement a power cut takes back sends its batch again, which the
 * collector answers as a duplicate: its commit is not fsynced, and the next
 * append's fsync takes it along (the WAL is written in order). Half the
 * fsyncs of a quiet host's small batches.
 */
int spool_ack(struct spool *s, uint64_t seq)
{
	bool lazy = s->sync_full && !s->ctr_dirty_durable;
	int r = lazy ? db_exec(s->db, "PRAGMA synchronous=NORMAL") : 0;
	uint64_t len = 0;

	if (r == 0)
		r = db_exec(s->db, "BEGIN IMMEDIATE");
	if (r == 0)
		r = delete_batch(s, seq, &len);
	r = finish(s, r);
	if (lazy)
		(void)db_exec(s->db, "PRAGMA synchronous=FULL");
	if (r == 0)
		forget_batch(s, len);
	if (r < 0)
		log_error("spool %s: cannot delete acknowledged batch %" PRIu64 ": %s", s->path, seq,
			  sqlite3_errmsg(s->db));
	return r;
}

int spool_quarantine(struct spool *s, uint64_t seq, const char *reason)
{
	sqlite3_stmt *st = s->st[ST_QUARANTINE];
	int r = db_exec(s->db, "BEGIN IMMEDIATE");
	uint64_t len = 0;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now_realtime_us());
	sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
	r = step_done(s, st);
	if (r == 0)
		r = delete_batch(s, seq, &len);
	r = finish(s, r);
	if (r == 0)
		forget_batch(s, len);
	return r;
}

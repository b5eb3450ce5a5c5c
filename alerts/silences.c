/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "alerts/alert.h"
#include "alerts/silences.h"
#include "common/conf.h"
#include "common/db.h"
#include "common/macro.h"
#include "common/log.h"
#include "common/util.h"
#include "store/storage.h"

int silences_schema(sqlite3 *db)
{
	int r = db_exec(db, "CREATE TABLE IF NOT EXISTS silences(id INTEGER PRIMARY KEY, matchers TEXT NOT NULL,"
			    " starts INTEGER NOT NULL, ends INTEGER NOT NULL, creator TEXT NOT NULL,"
			    " comment TEXT NOT NULL, created INTEGER NOT NULL, every INTEGER NOT NULL DEFAULT 0,"
			    " until INTEGER NOT NULL DEFAULT 0);");

	/* Recurring windows came after the table. */
	if (r == 0 && !db_has_column(db, "silences", "every"))
		r = db_exec(db, "ALTER TABLE silences ADD COLUMN every INTEGER NOT NULL DEFAULT 0;"
				" ALTER TABLE silences ADD COLUMN until INTEGER NOT NULL DEFAULT 0;");
	return r;
}

static json_t *string_or_null(const char *v)
{
	return v ? json_string(v) : json_null();
}

/* A silence as the API shows it; a recurring one tells its period (seconds), until, and its next window's start. */
static json_t *silence_json(const struct silence_rec *s, uint64_t now)
{
	json_t *m = json_loads(s->matchers, 0, NULL), *j;

	j = json_pack("{s:I, s:o, s:I, s:I, s:o, s:o, s:I, s:b}", "id", (json_int_t)s->id, "matchers",
		      m ? m : json_object(), "starts", (json_int_t)s->t.starts, "ends", (json_int_t)s->t.ends, "creator",
		      string_or_null(s->creator), "comment", string_or_null(s->comment), "created",
		      (json_int_t)s->created, "active", silence_in_force(&s->t, now));
	if (j && s->t.every) {
		json_object_set_new(j, "every", json_integer((json_int_t)(s->t.every / USEC_PER_SEC)));
		json_object_set_new(j, "until", json_integer((json_int_t)s->t.until));
		json_object_set_new(j, "next_start", json_integer((json_int_t)silence_next_start(&s->t, now)));
	}
	return j;
}

const char *silence_check_matchers(json_t *m)
{
	const char *key;
	json_t *v;

	if (!json_is_object(m) || json_object_size(m) == 0 || json_object_size(m) > 16)
		return "matchers: expected an object of 1 to 16 label names and values";
	json_object_foreach(m, key, v)
		if (!name_valid(key, 64, "") || !json_is_string(v) || strlen(json_string_value(v)) > 256)
			return "matchers: names of letters, digits, '_', '-', '.'; values strings up to 256 bytes";
	return NULL;
}

#define SILENCE_MAX_US (366 * 86400 * USEC_PER_SEC)

/* every (a duration) and until (default a year after starts) of a recurring silence; NULL, or what is wrong. */
static const char *silence_recurrence(json_t *body, uint64_t now, struct silence_time *t)
{
	const char *every = json_string_value(json_object_get(body, "every")),
		   *until = json_string_value(json_object_get(body, "until"));
	uint64_t ms;

	if (!every)
		return until ? "until: applies to a recurring silence (every)" : NULL;
	if (conf_parse_duration_ms(every, 1000, &ms) < 0 || ms < 3600 * 1000)
		return "every: expected a duration of at least 1h, e.g. 1d or 7d";
	t->every = ms * 1000;
	if (t->ends - t->starts >= t->every)
		return "every: each window must end before the next starts";
	t->until = t->starts + SILENCE_MAX_US;
	if (until && parse_time_param(until, now, &t->until) < 0)
		return "until: expected RFC 3339 or epoch seconds";
	/* A year from the first window, which may be to come: not from now. */
	if (t->until <= now || t->until <= t->starts || t->until - t->starts > SILENCE_MAX_US)
		return "until: in the future, after starts, within a year of it";
	return NULL;
}

/* starts (default now) and ends (or starts + duration) from the body, and a recurrence; NULL, or what is wrong. */
static const char *silence_span(json_t *body, uint64_t now, struct silence_time *t)
{
	const char *s = json_string_value(json_object_get(body, "starts")),
		   *e = json_string_value(json_object_get(body, "ends")),
		   *d = json_string_value(json_object_get(body, "duration"));
	uint64_t ms;

	*t = (struct silence_time){ .starts = now };
	if (s && parse_time_param(s, now, &t->starts) < 0)
		return "starts: expected RFC 3339 or epoch seconds";
	if (!e == !d)
		return "expected one of ends (RFC 3339 or epoch seconds) and duration (e.g. \"2h\")";
	if (e && parse_time_param(e, now, &t->ends) < 0)
		return "ends: expected RFC 3339 or epoch seconds";
	if (d) {
		if (conf_parse_duration_ms(d, 1000, &ms) < 0 || ms == 0)
			return "duration: expected e.g. 90m, 2h, 1d";
		t->ends = t->starts + ms * 1000;
	}
	if (t->ends <= t->starts || (t->ends <= now && !json_object_get(body, "every")))
		return "the silence must end after it starts, and in the future";
	if (t->ends - now > SILENCE_MAX_US && t->ends > now)
		return "a silence lasts at most a year";
	return silence_recurrence(body, now, t);
}

/* A silence's body: its matchers, comment and times into *t; NULL, or what is wrong. */
static const char *silence_parse(json_t *body, uint64_t now, struct silence_time *t)
{
	const char *comment = json_string_value(json_object_get(body, "comment"));
	const char *why = silence_check_matchers(json_object_get(body, "matchers"));

	if (!why && (!comment || !*comment || strlen(comment) > 1000))
		why = "comment: required, up to 1000 bytes (why, and who to ask)";
	return why ? why : silence_span(body, now, t);
}

const char *silence_check(json_t *body, uint64_t now_us)
{
	struct silence_time t;

	return silence_parse(body, now_us, &t);
}

struct json_fn {
	uint64_t now;
	json_t *items; /* an array, or where the one goes (SILENCE_ONE) */
	json_t **one;
};

static int append_json(const struct silence_rec *rec, void *ctx)
{
	struct json_fn *f = ctx;
	json_t *j = silence_json(rec, f->now);

	if (!j)
		return -ENOMEM;
	if (f->one) {
		*f->one = j;
		return 1;
	}
	return json_array_append_new(f->items, j);
}

static int get_one(const struct silence_store *s, int64_t id, uint64_t now, json_t **ret)
{
	struct json_fn f = { .now = now, .one = ret };
	int r;

	*ret = NULL;
	r = s->ops->each(s->db, SILENCE_ONE, id, now, append_json, &f);
	return r < 0 ? r : *ret ? 0 : -ENOENT;
}

int silences_add(const struct silence_store *s, json_t *body, const char *creator, uint64_t now, json_t **ret,
		 const char **reason)
{
	struct silence_rec rec = { .creator = creator, .comment = json_string_value(json_object_get(body, "comment")),
				   .created = now };
	_cleanup_free_ char *matchers = NULL;
	int r;

	*reason = silence_parse(body, now, &rec.t);
	if (*reason)
		return -EINVAL;
	matchers = json_dumps(json_object_get(body, "matchers"), JSON_COMPACT | JSON_SORT_KEYS);
	if (!matchers)
		return -ENOMEM;
	rec.matchers = matchers;
	r = s->ops->add(s->db, &rec, &rec.id);
	return r < 0 ? r : get_one(s, rec.id, now, ret);
}

int silences_expire(const struct silence_store *s, int64_t id, uint64_t now, json_t **ret)
{
	int r = s->ops->expire(s->db, id, now);

	if (r == 0 && ret)
		r = get_one(s, id, now, ret);
	return r;
}

int silences_list(const struct silence_store *s, bool all, uint64_t now, json_t *items)
{
	struct json_fn f = { .now = now, .items = items };

	return s->ops->each(s->db, all ? SILENCE_ALL : SILENCE_NOT_OVER, 0, now, append_json, &f);
}

static int append_in_force(const struct silence_rec *rec, void *ctx)
{
	struct json_fn *f = ctx;
	json_t *m;

	if (!silence_in_force(&rec->t, f->now))
		return 0;
	m = json_loads(rec->matchers, 0, NULL);
	if (json_is_object(m))
		json_array_append(f->items, m);
	json_decref(m);
	return 0;
}

int silences_in_force(const struct silence_store *s, uint64_t now, json_t *matchers)
{
	struct json_fn f = { .now = now, .items = json_array() };
	int r = f.items ? s->ops->each(s->db, SILENCE_IN_FORCE, 0, now, append_in_force, &f) : -ENOMEM;

	/* Those last read stay when the store cannot be read: a silence does not lapse for it. */
	if (r == 0) {
		json_array_clear(matchers);
		r = json_array_extend(matchers, f.items) == 0 ? 0 : -ENOMEM;
	}
	json_decref(f.items);
	return r;
}

const char *silence_order(enum silence_pick pick)
{
	/* The API's lists are bounded; what the evaluator applies and what --migrate copies are not. */
	return pick == SILENCE_EVERY ? "" : pick == SILENCE_IN_FORCE ? "DESC" : "DESC LIMIT 1000";
}

/* meta.db's silences. */
static int sqlite_add(void *db, const struct silence_rec *s, int64_t *ret_id)
{
	sqlite3_stmt *st = NULL;
	int rc, r = db_prepare(db,
			       "INSERT INTO silences(matchers, starts, ends, every, until, creator, comment, created)"
			       " VALUES (?,?,?,?,?,?,?,?)",
			       &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, s->matchers, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->t.starts);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)s->t.ends);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)s->t.every);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)s->t.until);
	sqlite3_bind_text(st, 6, s->creator, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, s->comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)s->created);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_errno(rc);
	*ret_id = sqlite3_last_insert_rowid(db);
	return 0;
}

static int sqlite_expire(void *db, int64_t id, uint64_t now)
{
	sqlite3_stmt *st;
	int rc, r;

	/* A recurring silence ends for good: no window from now on. */
	r = db_prepare(db, "UPDATE silences SET ends=min(ends, ?2), until=CASE WHEN every>0 THEN ?2 ELSE until END"
			   " WHERE id=?1 AND (every=0 AND ends>?2 OR every>0 AND until>?2)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	r = rc != SQLITE_DONE ? db_errno(rc) : sqlite3_changes(db) ? 0 : -ENOENT;
	sqlite3_finalize(st);
	return r;
}

static int sqlite_each(void *db, enum silence_pick pick, int64_t id, uint64_t now,
		       int (*fn)(const struct silence_rec *s, void *ctx), void *ctx)
{
	static const char *const where[] = {
		[SILENCE_ONE] = "id=?1",
		[SILENCE_NOT_OVER] = "(every=0 AND ends>?2) OR (every>0 AND until>?2)",
		[SILENCE_ALL] = "1",
		[SILENCE_IN_FORCE] = "starts<=?2 AND (every=0 AND ends>?2 OR every>0 AND until>?2)",
		[SILENCE_EVERY] = "1",
	};
	char sql[512];
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, r;

	(void)snprintf(sql, sizeof(sql), "SELECT id, matchers, creator, comment, created, starts, ends, every, until"
					 " FROM silences WHERE %s ORDER BY id %s", where[pick], silence_order(pick));
	r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct silence_rec rec = {
			.id = sqlite3_column_int64(st, 0), .matchers = (const char *)sqlite3_column_text(st, 1),
			.creator = (const char *)sqlite3_column_text(st, 2),
			.comment = (const char *)sqlite3_column_text(st, 3),
			.created = (uint64_t)sqlite3_column_int64(st, 4),
			.t = { (uint64_t)sqlite3_column_int64(st, 5), (uint64_t)sqlite3_column_int64(st, 6),
			       (uint64_t)sqlite3_column_int64(st, 7), (uint64_t)sqlite3_column_int64(st, 8) },
		};

		r = fn(&rec, ctx);
	}
	sqlite3_finalize(st);
	return r < 0 ? r : r > 0 || rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static void sqlite_close(void *db)
{
	(void)db;
}

const struct silence_store_ops silence_store_sqlite = {
	.name = "meta.db", .add = sqlite_add, .expire = sqlite_expire, .each = sqlite_each, .close = sqlite_close,
};

struct migration {
	struct silence_store to;
	const struct silence_rec *want; /* the row to compare with, when verifying */
	struct silences_copy *rep;
};

static bool same_silence(const struct silence_rec *a, const struct silence_rec *b)
{
	return strcmp(a->matchers, b->matchers) == 0 && strcmp(a->comment, b->comment) == 0 &&
	       a->t.starts == b->t.starts && a->t.ends == b->t.ends && a->t.every == b->t.every && a->t.until == b->t.until;
}

static int compare(const struct silence_rec *there, void *ctx)
{
	struct migration *m = ctx;

	m->rep->verified += same_silence(there, m->want);
	return 1;
}

static int copy_silence(const struct silence_rec *rec, void *ctx)
{
	struct migration *m = ctx;
	uint64_t verified = m->rep->verified;
	int r = m->to.ops->put(m->to.db, rec);

	if (r < 0)
		return r;
	m->rep->silences++;
	m->rep->copied += r;
	m->rep->present += !r;
	m->want = rec;
	r = m->to.ops->each(m->to.db, SILENCE_ONE, rec->id, 0, compare, m);
	if (r == 0 && m->rep->verified == verified)
		log_warning("--migrate: silence %" PRId64 " differs in the database; left as it is there", rec->id);
	return r;
}

int silences_migrate(const char *data_dir, const char *url, const char *password_file, struct silences_copy *ret)
{
	struct migration m = { .to = { &silence_store_pg, NULL }, .rep = ret };
	sqlite3 *meta = NULL;
	int r;

	*ret = (struct silences_copy){ 0 };
	r = storage_meta_connect(data_dir, true, &meta);
	if (r == 0)
		r = silences_schema(meta);
	if (r == 0)
		r = silence_store_pg_open(url, password_file, &m.to.db);
	if (r == 0)
		r = sqlite_each(meta, SILENCE_EVERY, 0, 0, copy_silence, &m);
	if (m.to.db)
		silence_store_pg.close(m.to.db);
	db_close(meta);
	if (r < 0)
		return log_error_errno(r, "--migrate: the silences of %s: %m", data_dir);
	return ret->verified == ret->silences ? 0 : -EUCLEAN;
}

/* Whether each of a silence's matchers equals a label, or the rule or severity. */
bool silences_match(json_t *matchers, const char *rule, const char *severity, json_t *labels)
{
	json_t *m, *v;
	const char *key;
	size_t i;

	json_array_foreach(matchers, i, m) {
		bool all = true;

		json_object_foreach(m, key, v) {
			const char *have = strcmp(key, "rule") == 0	     ? rule :
					   strcmp(key, "severity") == 0 ? severity :
									  json_string_value(json_object_get(labels, key));
			all &= have && strcmp(have, json_string_value(v)) == 0;
		}
		if (all)
			return true;
	}
	return false;
}

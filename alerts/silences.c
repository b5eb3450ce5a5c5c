/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "alerts/alert.h"
#include "alerts/silences.h"
#include "common/conf.h"
#include "common/db.h"
#include "common/macro.h"
#include "common/util.h"

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

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v ? json_string((const char *)v) : json_null();
}

/* Columns starts, ends, every, until from col on. */
static struct silence_time silence_time_of(sqlite3_stmt *st, int col)
{
	return (struct silence_time){ .starts = (uint64_t)sqlite3_column_int64(st, col),
				      .ends = (uint64_t)sqlite3_column_int64(st, col + 1),
				      .every = (uint64_t)sqlite3_column_int64(st, col + 2),
				      .until = (uint64_t)sqlite3_column_int64(st, col + 3) };
}

#define SILENCE_COLUMNS "id, matchers, creator, comment, created, starts, ends, every, until"

/* A row of SILENCE_COLUMNS; a recurring one tells its period (seconds), until, and its next window's start. */
static json_t *silence_json(sqlite3_stmt *st, uint64_t now)
{
	json_t *m = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL), *j;
	struct silence_time t = silence_time_of(st, 5);

	j = json_pack("{s:I, s:o, s:I, s:I, s:o, s:o, s:I, s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		      "matchers", m ? m : json_object(), "starts", (json_int_t)t.starts, "ends", (json_int_t)t.ends,
		      "creator", text_or_null(st, 2), "comment", text_or_null(st, 3), "created",
		      (json_int_t)sqlite3_column_int64(st, 4), "active", silence_in_force(&t, now));
	if (j && t.every) {
		json_object_set_new(j, "every", json_integer((json_int_t)(t.every / USEC_PER_SEC)));
		json_object_set_new(j, "until", json_integer((json_int_t)t.until));
		json_object_set_new(j, "next_start", json_integer((json_int_t)silence_next_start(&t, now)));
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

static int get_one(sqlite3 *db, int64_t id, uint64_t now, json_t **ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " SILENCE_COLUMNS " FROM silences WHERE id=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	*ret = sqlite3_step(st) == SQLITE_ROW ? silence_json(st, now) : NULL;
	sqlite3_finalize(st);
	return *ret ? 0 : -ENOMEM;
}

int silences_add(sqlite3 *db, json_t *body, const char *creator, uint64_t now, json_t **ret, const char **reason)
{
	const char *comment = json_string_value(json_object_get(body, "comment"));
	struct silence_time t;
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *matchers = NULL;
	int rc, r;

	*reason = silence_parse(body, now, &t);
	if (*reason)
		return -EINVAL;
	matchers = json_dumps(json_object_get(body, "matchers"), JSON_COMPACT | JSON_SORT_KEYS);
	if (!matchers)
		return -ENOMEM;
	r = db_prepare(db,
		       "INSERT INTO silences(matchers, starts, ends, every, until, creator, comment, created)"
		       " VALUES (?,?,?,?,?,?,?,?)",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, matchers, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)t.starts);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)t.ends);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)t.every);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)t.until);
	sqlite3_bind_text(st, 6, creator, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_errno(rc);
	return get_one(db, sqlite3_last_insert_rowid(db), now, ret);
}

int silences_expire(sqlite3 *db, int64_t id, uint64_t now, json_t **ret)
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
	if (r == 0 && ret)
		r = get_one(db, id, now, ret);
	return r;
}

int silences_list(sqlite3 *db, bool all, uint64_t now, json_t *items)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db,
			       "SELECT " SILENCE_COLUMNS " FROM silences"
			       " WHERE ?1 OR (every=0 AND ends>?2) OR (every>0 AND until>?2) ORDER BY id DESC LIMIT 1000",
			       &st);

	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, all);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(items, silence_json(st, now));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int silences_in_force(sqlite3 *db, uint64_t now, json_t *matchers)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "SELECT matchers, starts, ends, every, until FROM silences"
				   " WHERE starts<=?1 AND (every=0 AND ends>?1 OR every>0 AND until>?1)", &st);

	if (r < 0)
		return r;
	json_array_clear(matchers);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct silence_time t = silence_time_of(st, 1);
		json_t *m;

		if (!silence_in_force(&t, now))
			continue;
		m = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		if (json_is_object(m))
			json_array_append(matchers, m);
		json_decref(m);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
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

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/storage.h"
#include "dialtests/catalog.h"

#define DIALTEST_FILE_MAX (256 * 1024)

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS dialtests(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
	" definition TEXT NOT NULL, file TEXT, author TEXT NOT NULL, created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS dialtest_changes(id INTEGER PRIMARY KEY, dialtest INTEGER NOT NULL,"
	" ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, definition TEXT);"
	"CREATE INDEX IF NOT EXISTS dialtest_changes_by_test ON dialtest_changes(dialtest, id);";

struct snapshot {
	struct dialtests_snapshot pub; /* first: what readers are handed */
	atomic_uint refs;
	struct dialtest_entry items[];
};

struct dialtests {
	const struct dialtests_conf *conf;
	struct dt_policy policy;
	pthread_mutex_t lock; /* now, and the database connection */
	sqlite3 *db;
	struct snapshot *now;
};

static void snapshot_unref(struct snapshot *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t i = 0; i < s->pub.n; i++)
		dialtest_free(s->items[i].test);
	free(s);
}

const struct dialtests_snapshot *dialtests_get(struct dialtests *d)
{
	struct snapshot *s;

	pthread_mutex_lock(&d->lock);
	s = d->now;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&d->lock);
	return &s->pub;
}

const struct dialtests_snapshot *dialtests_ref(const struct dialtests_snapshot *s)
{
	atomic_fetch_add(&((struct snapshot *)s)->refs, 1);
	return s;
}

void dialtests_release(const struct dialtests_snapshot *s)
{
	snapshot_unref((struct snapshot *)s);
}

const struct dialtest_entry *dialtests_find(const struct dialtests_snapshot *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].id == id)
			return &s->items[i];
	return NULL;
}

/* Every stored definition, parsed; one that does not hold (any more) is logged and left out. */
static int snapshot_build(struct dialtests *d, struct snapshot **ret)
{
	sqlite3_stmt *st;
	struct snapshot *s;
	size_t n = 0, cap = 0;
	int r = db_prepare(d->db, "SELECT count(*) FROM dialtests", &st);

	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		cap = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	s = calloc(1, sizeof(*s) + cap * sizeof(s->items[0]));
	if (!s)
		return -ENOMEM;
	atomic_init(&s->refs, 1);
	s->pub.items = s->items;
	r = db_prepare(d->db, "SELECT id, name, definition FROM dialtests ORDER BY id", &st);
	while (r == 0 && n < cap && sqlite3_step(st) == SQLITE_ROW) {
		json_t *def = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
		char why[256] = "not a JSON object";

		s->items[n].id = sqlite3_column_int64(st, 0);
		if (def && dialtest_parse(def, &d->policy, &s->items[n].test, why, sizeof(why)) == 0)
			s->pub.n = ++n;
		else
			log_error("dialtests: %s (id %lld) is left out: %s", sqlite3_column_text(st, 1),
				  (long long)sqlite3_column_int64(st, 0), why);
		json_decref(def);
	}
	sqlite3_finalize(st);
	if (r < 0) {
		snapshot_unref(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* A file's definition; -EINVAL with "FILE: reason" in why. */
static json_t *read_file(const char *path, const struct dt_policy *policy, char *why, size_t size)
{
	json_error_t err;
	json_t *def = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	struct dialtest *t = NULL;
	char reason[256];

	if (!def) {
		(void)snprintf(why, size, "%s:%d: %s", path, err.line, err.text);
		return NULL;
	}
	if (dialtest_parse(def, policy, &t, reason, sizeof(reason)) < 0) {
		(void)snprintf(why, size, "%s: %s", path, reason);
		json_decref(def);
		return NULL;
	}
	dialtest_free(t);
	return def;
}

static int json_file_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

/*
 * Calls fn for each *.json file of dir in name order with its definition,
 * or NULL and why it does not hold. A missing dir has no files.
 */
static int each_file(const char *dir, const struct dt_policy *policy,
		     int (*fn)(const char *path, json_t *def, const char *why, void *ud), void *ud)
{
	struct dirent **names;
	int n = dir ? scandir(dir, &names, json_file_filter, alphasort) : 0, r = 0;

	if (n < 0)
		return errno == ENOENT ? 0 : log_error_errno(errno, "dialtests: cannot read %s: %m", dir);
	for (int i = 0; i < n; i++) {
		char path[4096], why[4096 + 512] = "";
		json_t *def;

		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		def = read_file(path, policy, why, sizeof(why));
		if (r == 0)
			r = fn(path, def, why, ud);
		json_decref(def);
		free(names[i]);
	}
	free(names);
	return r;
}

static int print_bad(const char *path, json_t *def, const char *why, void *ud)
{
	int *bad = ud;

	if (!def) {
		fprintf(stderr, "%s\n", why);
		(*bad)++;
	}
	return 0;
}

struct dt_policy dialtests_policy(const struct dialtests_conf *conf)
{
	return (struct dt_policy){ .secrets_dir = conf->secrets_dir, .secrets_env = conf->secrets_env };
}

int dialtests_check_dir(const struct dialtests_conf *conf)
{
	struct dt_policy policy = dialtests_policy(conf);
	int bad = 0;

	(void)each_file(conf->dir, &policy, print_bad, &bad);
	return bad;
}

static int add_change(struct dialtests *d, int64_t id, const char *actor, const char *action, const char *def)
{
	sqlite3_stmt *st;
	int r = db_prepare(d->db, "INSERT INTO dialtest_changes(dialtest, ts, actor, action, definition) VALUES (?,?,?,?,?)",
			   &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now_realtime_us());
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, def, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return r;
}

/* The definition as stored: what the API adds (id, author, times) taken out. */
static char *stored_text(json_t *def)
{
	json_t *copy = json_deep_copy(def);
	char *text;

	json_object_del(copy, "id");
	json_object_del(copy, "author");
	json_object_del(copy, "created");
	json_object_del(copy, "updated");
	json_object_del(copy, "defined_in");
	json_object_del(copy, "history");
	text = copy ? json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(copy);
	return text;
}

/* A file's test into the table (its name's row, the file's from now on), unless the API defined that name. */
static int sync_file(const char *path, json_t *def, const char *why, void *ud)
{
	struct dialtests *d = ud;
	const char *name = json_string_value(json_object_get(def, "name"));
	char *text = def ? stored_text(def) : NULL, actor[4200];
	sqlite3_stmt *st = NULL, *seen = NULL;
	int r;

	if (!def) {
		log_error("dialtests: %s", why);
		return 0;
	}
	if (!text)
		return -ENOMEM;
	(void)snprintf(actor, sizeof(actor), "file:%s", path);
	r = db_prepare(d->db, "INSERT INTO dialtests(name, definition, file, author, created, updated)"
			      " VALUES (?1,?2,?3,?5,?4,?4) ON CONFLICT(name) DO UPDATE SET definition=?2, file=?3,"
			      " updated=CASE WHEN definition=?2 THEN updated ELSE ?4 END WHERE file IS NOT NULL"
			      " RETURNING id, created=?4, updated=?4", &st);
	if (r == 0)
		r = db_prepare(d->db, "INSERT OR IGNORE INTO temp.seen(name) VALUES (?)", &seen);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)now_realtime_us());
		sqlite3_bind_text(st, 5, actor, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			log_error("dialtests: %s: %s is a test defined through the API; this file is left out", path, name);
		else if (sqlite3_column_int(st, 2))
			r = add_change(d, sqlite3_column_int64(st, 0), actor,
				       sqlite3_column_int(st, 1) ? "created" : "updated", text);
		(void)sqlite3_reset(st);
		sqlite3_bind_text(seen, 1, name, -1, SQLITE_STATIC);
		if (r == 0)
			r = sqlite3_step(seen) == SQLITE_DONE ? 0 : -EIO;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(seen);
	free(text);
	return r;
}

/* The files are the truth for the tests they define: sync them in, drop the rows of files gone. */
static int sync_files(struct dialtests *d)
{
	int r = db_exec(d->db, "BEGIN IMMEDIATE; CREATE TEMP TABLE IF NOT EXISTS seen(name TEXT PRIMARY KEY);"
			       " DELETE FROM temp.seen;");

	if (r == 0)
		r = each_file(d->conf->dir, &d->policy, sync_file, d);
	if (r == 0)
		r = db_exec(d->db, "INSERT INTO dialtest_changes(dialtest, ts, actor, action)"
				   " SELECT id, CAST(strftime('%s','now') AS INTEGER) * 1000000, 'file:' || file, 'deleted'"
				   " FROM dialtests WHERE file IS NOT NULL AND name NOT IN (SELECT name FROM temp.seen);"
				   " DELETE FROM dialtests WHERE file IS NOT NULL AND name NOT IN (SELECT name FROM temp.seen);");
	(void)db_exec(d->db, r == 0 ? "COMMIT" : "ROLLBACK");
	return r;
}

void dialtests_free(struct dialtests *d)
{
	if (!d)
		return;
	snapshot_unref(d->now);
	db_close(d->db);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int dialtests_open(const struct dialtests_conf *conf, const struct storage_conf *storage, struct dialtests **ret)
{
	struct dialtests *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->conf = conf;
	d->policy = dialtests_policy(conf);
	pthread_mutex_init(&d->lock, NULL);
	r = storage_meta_connect(storage->data_dir, storage->sync, &d->db);
	if (r == 0)
		r = db_exec(d->db, schema);
	if (r == 0)
		r = sync_files(d);
	if (r == 0)
		r = snapshot_build(d, &d->now);
	if (r < 0) {
		dialtests_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

/* A row of (id, definition, file, author, created, updated) as the API shows it. */
static json_t *row_json(sqlite3_stmt *st)
{
	json_t *o = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
	json_object_set_new(o, "defined_in", json_string(sqlite3_column_type(st, 2) == SQLITE_NULL ? "api" : "file"));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(o, "file", json_string((const char *)sqlite3_column_text(st, 2)));
	json_object_set_new(o, "author", json_string((const char *)sqlite3_column_text(st, 3)));
	json_object_set_new(o, "created", json_integer(sqlite3_column_int64(st, 4)));
	json_object_set_new(o, "updated", json_integer(sqlite3_column_int64(st, 5)));
	return o;
}

#define ROW_COLUMNS "id, definition, file, author, created, updated"

int dialtests_list(struct dialtests *d, json_t **ret)
{
	json_t *items = json_array();
	sqlite3_stmt *st = NULL;
	int r;

	if (!items)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	r = db_prepare(d->db, "SELECT " ROW_COLUMNS " FROM dialtests ORDER BY id", &st);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW)
		r = json_array_append_new(items, row_json(st)) == 0 ? 0 : -ENOMEM;
	sqlite3_finalize(st);
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		json_decref(items);
		return r;
	}
	*ret = json_pack("{s:o}", "items", items);
	return *ret ? 0 : -ENOMEM;
}

static int show_locked(struct dialtests *d, int64_t id, json_t **ret)
{
	sqlite3_stmt *st;
	json_t *o = NULL, *history = json_array();
	int r = db_prepare(d->db, "SELECT " ROW_COLUMNS " FROM dialtests WHERE id=?", &st);

	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		o = sqlite3_step(st) == SQLITE_ROW ? row_json(st) : NULL;
		r = o ? 0 : -ENOENT;
		sqlite3_finalize(st);
	}
	if (r == 0)
		r = db_prepare(d->db, "SELECT ts, actor, action FROM dialtest_changes WHERE dialtest=? ORDER BY id", &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(history, json_pack("{s:I, s:s, s:s}", "ts", (json_int_t)sqlite3_column_int64(st, 0),
								 "actor", sqlite3_column_text(st, 1), "action",
								 sqlite3_column_text(st, 2)));
		sqlite3_finalize(st);
		json_object_set_new(o, "history", history);
		history = NULL;
	}
	json_decref(history);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	*ret = o;
	return 0;
}

int dialtests_show(struct dialtests *d, int64_t id, json_t **ret)
{
	int r;

	pthread_mutex_lock(&d->lock);
	r = show_locked(d, id, ret);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/*
 * 0 when test id may be changed through the API; -ENOENT, or -EPERM (a
 * file defines it; the reason says so, and then what to do), with reason.
 */
static int api_owned(struct dialtests *d, int64_t id, const char *then, char *reason, size_t size)
{
	sqlite3_stmt *st;
	int r = db_prepare(d->db, "SELECT file FROM dialtests WHERE id=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st) != SQLITE_ROW ? -ENOENT : sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : -EPERM;
	if (r == -EPERM)
		(void)snprintf(reason, size, "dial test %lld is defined in %s; %s", (long long)id,
			       sqlite3_column_text(st, 0), then);
	else if (r == -ENOENT)
		(void)snprintf(reason, size, "no dial test %lld", (long long)id);
	sqlite3_finalize(st);
	return r;
}

static int store_locked(struct dialtests *d, int64_t *id, const char *text, const char *author)
{
	sqlite3_stmt *st;
	uint64_t now = now_realtime_us();
	bool create = *id == 0;
	int rc, r = db_prepare(d->db, *id ? "UPDATE dialtests SET definition=?1, name=json_extract(?1, '$.name'),"
					   " author=?2, updated=?3 WHERE id=?4" :
					   "INSERT INTO dialtests(name, definition, author, created, updated)"
					   " VALUES (json_extract(?1, '$.name'), ?1, ?2, ?3, ?3)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	if (*id)
		sqlite3_bind_int64(st, 4, *id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return -EIO;
	if (!*id)
		*id = sqlite3_last_insert_rowid(d->db);
	return add_change(d, *id, author, create ? "created" : "updated", text);
}

/* Moves to a new snapshot after a change; under the lock, in the change's transaction. */
static int rebuild_locked(struct dialtests *d)
{
	struct snapshot *s;
	int r = snapshot_build(d, &s);

	if (r < 0)
		return r;
	snapshot_unref(d->now);
	d->now = s;
	return 0;
}

int dialtests_put(struct dialtests *d, int64_t id, json_t *def, const char *author, json_t **ret, char *reason,
		  size_t reason_size)
{
	struct dialtest *t = NULL;
	char *text = NULL;
	bool create = id == 0;
	int r = dialtest_parse(def, &d->policy, &t, reason, reason_size);

	dialtest_free(t);
	if (r < 0)
		return r;
	text = stored_text(def);
	if (!text)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	r = db_exec(d->db, "BEGIN IMMEDIATE");
	if (r == 0 && !create)
		r = api_owned(d, id, "change it there", reason, reason_size);
	if (r == 0) {
		r = store_locked(d, &id, text, author);
		if (r == -EEXIST)
			(void)snprintf(reason, reason_size, "a dial test called %s exists",
				       json_string_value(json_object_get(def, "name")));
	}
	if (r == 0)
		r = rebuild_locked(d);
	(void)db_exec(d->db, r == 0 ? "COMMIT" : "ROLLBACK");
	if (r == 0)
		r = show_locked(d, id, ret);
	pthread_mutex_unlock(&d->lock);
	free(text);
	return r;
}

int dialtests_delete(struct dialtests *d, int64_t id, const char *actor, char *reason, size_t reason_size)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&d->lock);
	r = db_exec(d->db, "BEGIN IMMEDIATE");
	if (r == 0)
		r = api_owned(d, id, "remove the file", reason, reason_size);
	if (r == 0)
		r = db_prepare(d->db, "DELETE FROM dialtests WHERE id=?", &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
	}
	if (r == 0)
		r = add_change(d, id, actor, "deleted", NULL);
	if (r == 0)
		r = rebuild_locked(d);
	(void)db_exec(d->db, r == 0 ? "COMMIT" : "ROLLBACK");
	pthread_mutex_unlock(&d->lock);
	return r;
}

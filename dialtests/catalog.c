/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "dialtests/catalog.h"
#include "dialtests/dtstore.h"
#include "store/storage.h"

/* Files in [dialtests] dir a collector reads: bounded as every list is. */
#define DIALTEST_FILES_MAX 10000

struct snapshot {
	struct dialtests_snapshot pub; /* first: what readers are handed */
	atomic_uint refs;
	struct dialtest_entry *items;
};

struct dialtests {
	const struct dialtests_conf *conf;
	struct dt_policy policy;
	pthread_mutex_t lock; /* now, version, and the store's connection */
	struct dt_store store;
	uint64_t version; /* the store's, when now was built */
	struct snapshot *now;
	atomic_uint_fast32_t agents_digest; /* now's, also read without the lock: every batch's reply moves with it */
	char origin[256]; /* this collector, as the tests of its files name it */
};

static void snapshot_unref(struct snapshot *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t i = 0; i < s->pub.n; i++) {
		dialtest_free(s->items[i].test);
		free(s->items[i].for_agents);
	}
	free(s->items);
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

const struct dialtest_entry *dialtests_find_name(const struct dialtests_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].test->name, name) == 0)
			return &s->items[i];
	return NULL;
}

struct building {
	struct snapshot *s;
	const struct dt_policy *policy;
	size_t cap;
};

/* A stored definition, parsed into the snapshot; one that does not hold (any more) is logged and left out. */
static int add_entry(const struct dt_row *row, void *ctx)
{
	struct building *b = ctx;
	struct snapshot *s = b->s;
	json_t *def = json_loads(row->definition, 0, NULL);
	char why[256] = "not a JSON object";
	struct dialtest *t = NULL;

	char *for_agents = NULL;

	if (!def || dialtest_parse(def, b->policy, &t, why, sizeof(why)) < 0) {
		log_error("dialtests: %s (id %lld) is left out: %s", row->name, (long long)row->id, why);
		json_decref(def);
		return 0;
	}
	if (t->n_vantages && (json_object_set_new(def, "id", json_integer(row->id)) < 0 ||
			      !(for_agents = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS)))) {
		json_decref(def);
		dialtest_free(t);
		return -ENOMEM;
	}
	json_decref(def);
	if (s->pub.n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct dialtest_entry *items = reallocarray(s->items, cap, sizeof(*items));

		if (!items) {
			dialtest_free(t);
			free(for_agents);
			return -ENOMEM;
		}
		s->items = items;
		s->pub.items = items;
		b->cap = cap;
	}
	s->items[s->pub.n++] = (struct dialtest_entry){ row->id, t, for_agents };
	return 0;
}

/* FNV-1a over what the agents are sent, 0 when they are sent nothing: a change to any test they run changes it. */
static uint32_t agents_digest(const struct snapshot *s)
{
	uint32_t h = FNV1A_32_INIT;
	bool any = false;

	for (size_t i = 0; i < s->pub.n; i++)
		if (s->items[i].for_agents) {
			any = true;
			h = fnv1a_32(h, s->items[i].for_agents);
		}
	return any ? h : 0;
}

static int snapshot_build(struct dialtests *d, struct snapshot **ret)
{
	struct building b = { .s = calloc(1, sizeof(*b.s)), .policy = &d->policy };
	int r;

	if (!b.s)
		return -ENOMEM;
	atomic_init(&b.s->refs, 1);
	r = d->store.ops->each(d->store.db, 0, add_entry, &b);
	if (r < 0) {
		snapshot_unref(b.s);
		return r;
	}
	b.s->pub.agents_digest = agents_digest(b.s);
	*ret = b.s;
	return 0;
}

/* Puts snapshot s, of the store at version v, in force (taking it); under the lock. */
static void install_locked(struct dialtests *d, struct snapshot *s, uint64_t v)
{
	snapshot_unref(d->now);
	d->now = s;
	d->version = v;
	atomic_store(&d->agents_digest, s->pub.agents_digest);
}

uint32_t dialtests_agents_digest(struct dialtests *d)
{
	return (uint32_t)atomic_load(&d->agents_digest);
}

/*
 * Ends a change's transaction (r: how it went) and, when it committed, moves
 * to the snapshot s built in it; under the lock. s is taken either way.
 */
static int finish_locked(struct dialtests *d, int r, struct snapshot *s)
{
	uint64_t v = 0;

	r = d->store.ops->end(d->store.db, r, &v);
	if (r < 0) {
		snapshot_unref(s);
		return r;
	}
	install_locked(d, s, v);
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
	const struct dt_change c = { .dialtest = id, .ts = now_realtime_us(), .actor = actor, .action = action,
				     .definition = def };

	return d->store.ops->add_change(d->store.db, &c);
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

struct syncing {
	struct dialtests *d;
	char **names; /* of the files' tests read */
	size_t n;
};

/* A file's test into the store (its name's, the file's from now on), unless the API defined that name. */
static int sync_file(const char *path, json_t *def, const char *why, void *ud)
{
	struct syncing *sy = ud;
	struct dialtests *d = sy->d;
	const char *name = json_string_value(json_object_get(def, "name"));
	char *text = def ? stored_text(def) : NULL, actor[4200];
	int64_t id = 0;
	int r;

	if (!def) {
		log_error("dialtests: %s", why);
		return 0;
	}
	if (!text || sy->n == DIALTEST_FILES_MAX || !(sy->names[sy->n] = strdup(name))) {
		free(text);
		return sy->n == DIALTEST_FILES_MAX ? log_error_errno(-E2BIG, "dialtests: more than %d files in %s",
								     DIALTEST_FILES_MAX, d->conf->dir) : -ENOMEM;
	}
	sy->n++;
	(void)snprintf(actor, sizeof(actor), "file:%s", path);
	r = d->store.ops->sync_file(d->store.db, name, text, path, d->origin, now_realtime_us(), &id);
	if (r == DT_SYNC_API)
		log_error("dialtests: %s: %s is a test defined through the API; this file is left out", path, name);
	else if (r == DT_SYNC_CREATED || r == DT_SYNC_UPDATED)
		r = add_change(d, id, actor, r == DT_SYNC_CREATED ? "created" : "updated", text);
	free(text);
	return r < 0 ? r : 0;
}

/* The files are the truth for the tests they define: sync them in, drop the tests of files gone. */
static int sync_files(struct dialtests *d)
{
	struct syncing sy = { .d = d, .names = calloc(DIALTEST_FILES_MAX, sizeof(char *)) };
	struct snapshot *s = NULL;
	int r = sy.names ? d->store.ops->begin(d->store.db) : -ENOMEM;

	if (r < 0) {
		free(sy.names);
		return r;
	}
	r = each_file(d->conf->dir, &d->policy, sync_file, &sy);
	if (r == 0)
		r = d->store.ops->sync_gone(d->store.db, (const char *const *)sy.names, sy.n, d->origin, now_realtime_us());
	if (r == 0)
		r = snapshot_build(d, &s);
	r = finish_locked(d, r, s);
	for (size_t i = 0; i < sy.n; i++)
		free(sy.names[i]);
	free(sy.names);
	return r;
}

int dialtests_origin(const struct dialtests_conf *conf, char *host, size_t size)
{
	if (conf->host)
		(void)snprintf(host, size, "%s", conf->host);
	else if (gethostname(host, size) < 0)
		return -errno;
	host[size - 1] = 0;
	return 0;
}

void dialtests_free(struct dialtests *d)
{
	if (!d)
		return;
	snapshot_unref(d->now);
	if (d->store.ops)
		d->store.ops->close(d->store.db);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* With backend=postgresql the tests are the shared database's: one made through any collector runs where the schedule does. */
static int open_store(struct dialtests *d, const struct storage_conf *storage)
{
	if (storage_conf_shared(storage))
		return dt_store_pg_open(storage->url, storage->password_file, &d->store);
	return dt_store_sqlite_open(storage->data_dir, storage->sync, &d->store);
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
	r = dialtests_origin(conf, d->origin, sizeof(d->origin));
	if (r == 0)
		r = open_store(d, storage);
	if (r == 0)
		r = sync_files(d);
	if (r < 0) {
		dialtests_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int dialtests_refresh(struct dialtests *d)
{
	struct snapshot *s = NULL;
	uint64_t v = 0;
	int r;

	pthread_mutex_lock(&d->lock);
	r = d->store.ops->version(d->store.db, &v);
	if (r == 0 && v != d->version && (r = snapshot_build(d, &s)) == 0) {
		install_locked(d, s, v);
		r = 1;
		log_info("dialtests: the dial tests changed through another collector are in force");
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* A row as the API shows it: the definition with id, where it is defined, author and times. */
static json_t *row_json(const struct dt_row *row)
{
	json_t *o = json_loads(row->definition, 0, NULL);

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(row->id));
	json_object_set_new(o, "defined_in", json_string(row->file ? "file" : "api"));
	if (row->file)
		json_object_set_new(o, "file", json_string(row->file));
	json_object_set_new(o, "author", json_string(row->author));
	json_object_set_new(o, "created", json_integer((json_int_t)row->created));
	json_object_set_new(o, "updated", json_integer((json_int_t)row->updated));
	return o;
}

static int append_row(const struct dt_row *row, void *ctx)
{
	return json_array_append_new(ctx, row_json(row)) == 0 ? 0 : -ENOMEM;
}

int dialtests_list(struct dialtests *d, json_t **ret)
{
	json_t *items = json_array();
	int r;

	if (!items)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	r = d->store.ops->each(d->store.db, 0, append_row, items);
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		json_decref(items);
		return r;
	}
	*ret = json_pack("{s:o}", "items", items);
	return *ret ? 0 : -ENOMEM;
}

static int take_row(const struct dt_row *row, void *ctx)
{
	json_t **o = ctx;

	*o = row_json(row);
	return *o ? 0 : -ENOMEM;
}

static int append_change(const struct dt_change *c, void *ctx)
{
	json_t *entry = json_pack("{s:I, s:s, s:s}", "ts", (json_int_t)c->ts, "actor", c->actor, "action", c->action);

	return json_array_append_new(ctx, entry) == 0 ? 0 : -ENOMEM;
}

static int show_locked(struct dialtests *d, int64_t id, json_t **ret)
{
	json_t *o = NULL, *history = json_array();
	int r = history ? d->store.ops->each(d->store.db, id, take_row, &o) : -ENOMEM;

	if (r == 0 && !o)
		r = -ENOENT;
	if (r == 0)
		r = d->store.ops->history(d->store.db, id, append_change, history);
	if (r == 0) {
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

static int take_file(const struct dt_row *row, void *ctx)
{
	char **file = ctx;

	*file = strdup(row->file ? row->file : "");
	return *file ? 0 : -ENOMEM;
}

/*
 * 0 when test id may be changed through the API; -ENOENT, or -EPERM (a
 * file defines it; the reason says so, and then what to do), with reason.
 */
static int api_owned(struct dialtests *d, int64_t id, const char *then, char *reason, size_t size)
{
	char *file = NULL;
	int r = d->store.ops->each(d->store.db, id, take_file, &file);

	if (r == 0)
		r = !file ? -ENOENT : *file ? -EPERM : 0;
	if (r == -EPERM)
		(void)snprintf(reason, size, "dial test %lld is defined in %s; %s", (long long)id, file, then);
	else if (r == -ENOENT)
		(void)snprintf(reason, size, "no dial test %lld", (long long)id);
	free(file);
	return r;
}

/*
 * A change through the API, in one transaction with the snapshot it makes:
 * both or neither. The transaction sees every collector's change before it.
 */
static int change_locked(struct dialtests *d, int64_t *id, json_t *def, const char *actor, char *reason,
			 size_t reason_size)
{
	const char *name = json_string_value(json_object_get(def, "name"));
	char *text = def ? stored_text(def) : NULL;
	struct snapshot *s = NULL;
	bool create = *id == 0;
	int r = def && !text ? -ENOMEM : d->store.ops->begin(d->store.db);

	if (r < 0) {
		free(text);
		return r;
	}
	if (!create)
		r = api_owned(d, *id, def ? "change it there" : "remove the file", reason, reason_size);
	if (r == 0 && def) {
		r = d->store.ops->put(d->store.db, id, name, text, actor, now_realtime_us());
		if (r == -EEXIST)
			(void)snprintf(reason, reason_size, "a dial test called %s exists", name);
	} else if (r == 0) {
		r = d->store.ops->remove(d->store.db, *id);
	}
	if (r == 0)
		r = add_change(d, *id, actor, !def ? "deleted" : create ? "created" : "updated", text);
	if (r == 0)
		r = snapshot_build(d, &s);
	r = finish_locked(d, r, s);
	free(text);
	return r;
}

int dialtests_put(struct dialtests *d, int64_t id, json_t *def, const char *author, json_t **ret, char *reason,
		  size_t reason_size)
{
	struct dialtest *t = NULL;
	int r = dialtest_parse(def, &d->policy, &t, reason, reason_size);

	dialtest_free(t);
	if (r < 0)
		return r;
	pthread_mutex_lock(&d->lock);
	r = change_locked(d, &id, def, author, reason, reason_size);
	if (r == 0)
		r = show_locked(d, id, ret);
	pthread_mutex_unlock(&d->lock);
	return r;
}

int dialtests_delete(struct dialtests *d, int64_t id, const char *actor, char *reason, size_t reason_size)
{
	int r;

	pthread_mutex_lock(&d->lock);
	r = change_locked(d, &id, NULL, actor, reason, reason_size);
	pthread_mutex_unlock(&d->lock);
	return r;
}

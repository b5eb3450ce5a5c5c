/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "alerts/catalog.h"
#include "alerts/defstore.h"
#include "alerts/rules.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "search/logseries.h"
#include "store/storage.h"

#define DEF_KEYS_MAX 64
#define NAME_MAX_LEN 64


/* What differs between the kinds of definitions: the rest of this file is the same for each. */
struct kind {
	const char *name; /* in the definitions table and in messages */
	const struct conf_section *section;
	size_t size;
	/* The checks across keys; t says which targets exist. Errors as "where: [kind \"NAME\"] ...". */
	void (*check)(const void *inst, const struct target_lookup *t, struct conf_errors *errs);
	void *const *(*in_file)(const struct alert_defs *f, size_t *n);
};

static void rule_check(const void *inst, const struct target_lookup *t, struct conf_errors *errs)
{
	alert_rule_check(inst, t, "", errs);
}

static void notify_check(const void *inst, const struct target_lookup *t, struct conf_errors *errs)
{
	alert_notify_check(inst, "", errs);
}

static void logmetric_check_conf(const void *inst, const struct target_lookup *t, struct conf_errors *errs)
{
	const struct logmetric_conf *m = inst;
	struct logmetric_def d = alert_logmetric_def(m);
	char err[512];

	if (logmetric_check(&d, err, sizeof(err)) < 0)
		conf_error_add(errs, "", "[logmetric \"%s\"] %s", m->name, err);
}

static void *const *file_rules(const struct alert_defs *f, size_t *n)
{
	*n = f->n_rules;
	return (void *const *)f->rules;
}

static void *const *file_targets(const struct alert_defs *f, size_t *n)
{
	*n = f->n_notifies;
	return (void *const *)f->notifies;
}

static void *const *file_logmetrics(const struct alert_defs *f, size_t *n)
{
	*n = f->n_logmetrics;
	return (void *const *)f->logmetrics;
}

/* In the order a snapshot is built: targets before the rules that name them. */
static const struct kind kinds[_CATALOG_KIND_MAX] = {
	[CATALOG_NOTIFY] = { "notify", &alert_notify_section, sizeof(struct notify_conf), notify_check, file_targets },
	[CATALOG_RULE] = { "rule", &alert_rule_section, sizeof(struct rule_conf), rule_check, file_rules },
	[CATALOG_LOGMETRIC] = { "logmetric", &alert_logmetric_section, sizeof(struct logmetric_conf),
				logmetric_check_conf, file_logmetrics },
};

const char *catalog_kind_name(enum catalog_kind kind)
{
	return kinds[kind].name;
}

struct snapshot {
	struct catalog_snapshot pub; /* first: what readers are handed */
	atomic_uint refs;
	const void **all[_CATALOG_KIND_MAX]; /* of each kind, the file's, then own[] */
	size_t n_all[_CATALOG_KIND_MAX];
	void **own[_CATALOG_KIND_MAX];       /* the API's, owned */
	size_t n_own[_CATALOG_KIND_MAX];
};

struct catalog {
	const struct alert_defs *file;
	pthread_mutex_t lock; /* now, version, and the store's connection */
	struct defs_store store;
	uint64_t version; /* the store's when now was built */
	struct snapshot *now;
};

/* A change being made: the definition of (kind, name) it puts, or NULL when it deletes it. */
struct change {
	enum catalog_kind kind;
	const char *name;
	json_t *def;
};

static void snapshot_unref(struct snapshot *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t k = 0; k < _CATALOG_KIND_MAX; k++) {
		conf_named_free((void **)s->own[k], s->n_own[k], kinds[k].section);
		free(s->all[k]);
	}
	logmatch_unref(s->pub.logmatch);
	logmetrics_unref(s->pub.logmetrics);
	free(s);
}

const struct catalog_snapshot *catalog_get(struct catalog *c)
{
	struct snapshot *s;

	pthread_mutex_lock(&c->lock);
	s = c->now;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&c->lock);
	return &s->pub;
}

void catalog_release(const struct catalog_snapshot *s)
{
	snapshot_unref((struct snapshot *)s);
}

struct logmatch *catalog_logmatch(struct catalog *c)
{
	struct logmatch *m;

	pthread_mutex_lock(&c->lock);
	m = logmatch_ref(c->now->pub.logmatch);
	pthread_mutex_unlock(&c->lock);
	return m;
}

struct logmetrics *catalog_logmetrics(struct catalog *c)
{
	struct logmetrics *m;

	pthread_mutex_lock(&c->lock);
	m = logmetrics_ref(c->now->pub.logmetrics);
	pthread_mutex_unlock(&c->lock);
	return m;
}

const struct notify_conf *catalog_target(const struct catalog_snapshot *s, const char *name)
{
	return conf_named_find((const void *const *)s->targets, s->n_targets, name);
}

const struct rule_conf *catalog_rule(const struct catalog_snapshot *s, const char *name)
{
	return conf_named_find((const void *const *)s->rules, s->n_rules, name);
}

/* A value of a definition as the text a config file would hold. */
static int value_text(const char *key, json_t *v, char *buf, size_t size, char *reason, size_t reason_size)
{
	const char *k;
	json_t *x;
	size_t used = 0, i;

	if (json_is_string(v))
		(void)snprintf(buf, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		(void)snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		(void)snprintf(buf, size, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		(void)snprintf(buf, size, "%s", json_is_true(v) ? "yes" : "no");
	else if (json_is_array(v) && strcmp(key, "labels") == 0) {
		buf[0] = 0;
		json_array_foreach(v, i, x) {
			if (!json_is_string(x)) {
				(void)snprintf(reason, reason_size, "labels[%zu]: expected a string", i);
				return -EINVAL;
			}
			used += (size_t)snprintf(buf + MIN(used, size), size - MIN(used, size), "%s%s", used ? " " : "",
						 json_string_value(x));
		}
	} else if (json_is_object(v) && strcmp(key, "labels") == 0) {
		buf[0] = 0;
		json_object_foreach(v, k, x) {
			if (!json_is_string(x)) {
				(void)snprintf(reason, reason_size, "labels.%s: expected a string", k);
				return -EINVAL;
			}
			used += (size_t)snprintf(buf + MIN(used, size), size - MIN(used, size), "%s%s=%s",
						 used ? " " : "", k, json_string_value(x));
		}
	} else {
		(void)snprintf(reason, reason_size, "%s: expected a string, number or boolean", key);
		return -EINVAL;
	}
	return 0;
}

static void instance_free(enum catalog_kind kind, void *inst)
{
	conf_free_section(kinds[kind].section, inst);
	free(*(char **)inst);
	free(inst);
}

/* A definition's struct (its name first), owned by the caller; errors into errs as "where: ...". */
static void *instance_new(enum catalog_kind kind, const char *name, json_t *def, struct conf_errors *errs)
{
	const struct conf_section *sec = kinds[kind].section;
	size_t size = kinds[kind].size;
	const char *keys[DEF_KEYS_MAX], *key, *values[DEF_KEYS_MAX];
	char texts[DEF_KEYS_MAX][1024], where[128], why[256];
	size_t n = 0;
	json_t *v;
	void **one = NULL;
	size_t n_one = 0;
	char **inst;

	(void)snprintf(where, sizeof(where), "[%s \"%s\"]", kinds[kind].name, name);
	json_object_foreach(def, key, v) {
		if (strcmp(key, "name") == 0)
			continue;
		if (n == DEF_KEYS_MAX) {
			conf_error_add(errs, where, "more than %d keys", DEF_KEYS_MAX);
			return NULL;
		}
		if (value_text(key, v, texts[n], sizeof(texts[n]), why, sizeof(why)) < 0) {
			conf_error_add(errs, where, "%s", why);
			return NULL;
		}
		keys[n] = key;
		values[n] = texts[n];
		n++;
	}
	inst = conf_named_append(&one, &n_one, size, name);
	free(one);
	if (!inst) {
		conf_error_add(errs, where, "out of memory");
		return NULL;
	}
	if (conf_instance_fill(sec, inst, keys, values, n, where, errs) < 0) {
		instance_free(kind, inst);
		return NULL;
	}
	return inst;
}

static bool any_target(const void *userdata, const char *name)
{
	return true;
}

int catalog_check(enum catalog_kind kind, const char *name, json_t *def, struct conf_errors *errs)
{
	const struct target_lookup t = { any_target, NULL };
	void *inst = json_is_object(def) ? instance_new(kind, name, def, errs) : NULL;

	if (!inst)
		return -EINVAL;
	kinds[kind].check(inst, &t, errs);
	instance_free(kind, inst);
	return errs->n ? -EINVAL : 0;
}

static int own_add(void ***list, size_t *n, void *inst)
{
	void **grown = realloc(*list, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*list = grown;
	(*list)[(*n)++] = inst;
	return 0;
}

/* Whether a definition row is the one the change replaces or removes. */
static bool changed(const struct change *ch, enum catalog_kind kind, const char *name)
{
	return ch && ch->kind == kind && strcmp(ch->name, name) == 0;
}

/*
 * The API's definitions of kind: stored rows (but the changed one) and the
 * change's new definition. A stored row that does not hold is logged and
 * left out; the change's must hold, its errors go to errs.
 */
/* What add_defined() goes through. */
struct adding {
	struct snapshot *s;
	enum catalog_kind kind;
	const struct change *ch;
};

static int add_row(const struct defs_row *row, void *ctx)
{
	struct adding *a = ctx;
	json_t *def;
	struct conf_errors mine = { 0 };
	void *inst;
	int r = 0;

	if (changed(a->ch, a->kind, row->name))
		return 0;
	def = json_loads(row->definition, 0, NULL);
	inst = json_is_object(def) ? instance_new(a->kind, row->name, def, &mine) : NULL;
	if (inst)
		r = own_add(&a->s->own[a->kind], &a->s->n_own[a->kind], inst);
	else
		log_error("catalog: the stored [%s \"%s\"] does not hold and is left out: %s", kinds[a->kind].name,
			  row->name, mine.n ? mine.msg[0] : "not a JSON object");
	conf_errors_free(&mine);
	json_decref(def);
	return r;
}

static int add_defined(struct catalog *c, struct snapshot *s, enum catalog_kind kind, const struct change *ch,
		       struct conf_errors *errs)
{
	struct adding a = { s, kind, ch };
	void ***list = &s->own[kind];
	size_t *n = &s->n_own[kind];
	int r = c->store.ops->each(c->store.db, kinds[kind].name, add_row, &a);

	if (r == 0 && ch && ch->kind == kind && ch->def) {
		void *inst = instance_new(kind, ch->name, ch->def, errs);

		r = inst ? own_add(list, n, inst) : -EINVAL;
	}
	return r;
}

static int join(const void *const *a, size_t na, void *const *b, size_t nb, const void ***ret)
{
	const void **all = calloc(na + nb + 1, sizeof(*all));

	if (!all)
		return -ENOMEM;
	if (na)
		memcpy(all, a, na * sizeof(*all));
	if (nb)
		memcpy(all + na, b, nb * sizeof(*all));
	*ret = all;
	return 0;
}

static bool snapshot_has_target(const void *userdata, const char *name)
{
	const struct snapshot *s = userdata;

	return conf_named_find((const void *const *)s->all[CATALOG_NOTIFY], s->n_all[CATALOG_NOTIFY], name) != NULL;
}

/*
 * The checks across keys, on each definition of kind from the API (the
 * file's were checked at start): the changed one reports into errs, a stored
 * one that no longer holds (a target it names is gone) is left out.
 */
static int check_defined(struct snapshot *s, enum catalog_kind kind, const struct change *ch,
			 struct conf_errors *errs)
{
	const struct target_lookup t = { snapshot_has_target, s };
	const void **all = s->all[kind];
	size_t *n = &s->n_all[kind], kept = *n - s->n_own[kind];

	for (size_t i = kept; i < *n; i++) {
		const char *name = *(char *const *)all[i];
		struct conf_errors mine = { 0 };

		kinds[kind].check(all[i], &t, &mine);
		if (mine.n && changed(ch, kind, name)) {
			for (size_t e = 0; e < mine.n; e++)
				conf_error_add(errs, "", "%s", mine.msg[e] + 2);
		} else if (mine.n) {
			log_error("catalog: the stored [%s \"%s\"] is left out:%s", kinds[kind].name, name,
				  mine.msg[0] + 1);
			conf_errors_free(&mine);
			continue;
		}
		conf_errors_free(&mine);
		all[kept++] = all[i];
	}
	*n = kept;
	return errs->n ? -EINVAL : 0;
}

static int build_logmatch(struct snapshot *s)
{
	struct logmatch_rule lr[LOGMATCH_RULES_MAX];
	char err[256];
	size_t n = 0, bad;

	for (size_t i = 0; i < s->pub.n_rules; i++) {
		const struct rule_conf *r = s->pub.rules[i];
		const struct rule_type *type = rule_type_find(r->type);

		if (!type || !type->matches_lines)
			continue;
		if (n == LOGMATCH_RULES_MAX)
			return -E2BIG;
		lr[n++] = (struct logmatch_rule){ r->name, r->pattern, r->unit, r->source };
	}
	return logmatch_new(lr, n, &s->pub.logmatch, &bad, err, sizeof(err));
}

/* The log metrics compiled for ingest; one too many is the change's error. */
static int build_logmetrics(struct snapshot *s, struct conf_errors *errs)
{
	struct logmetric_def defs[LOGMETRICS_MAX];
	size_t n = s->n_all[CATALOG_LOGMETRIC];
	char err[512];
	int r;

	if (n > LOGMETRICS_MAX) {
		conf_error_add(errs, "", "more than %d log metrics (the file's and the API's)", LOGMETRICS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		defs[i] = alert_logmetric_def(s->all[CATALOG_LOGMETRIC][i]);
	r = logmetrics_new(defs, n, &s->pub.logmetrics, err, sizeof(err));
	if (r == -EINVAL)
		conf_error_add(errs, "", "%s", err);
	return r;
}

/* Of each kind, the file's definitions and then the API's (but the one ch changes, then its new one). */
static int gather(struct catalog *c, struct snapshot *s, const struct change *ch, struct conf_errors *errs)
{
	int r = 0;

	for (size_t k = 0; r == 0 && k < _CATALOG_KIND_MAX; k++) {
		size_t nf;
		void *const *f = kinds[k].in_file(c->file, &nf);

		r = add_defined(c, s, k, ch, errs);
		if (r == 0)
			r = join((const void *const *)f, nf, s->own[k], s->n_own[k], &s->all[k]);
		s->n_all[k] = r == 0 ? nf + s->n_own[k] : 0;
	}
	return r;
}

static int snapshot_build(struct catalog *c, const struct change *ch, struct conf_errors *errs,
			  struct snapshot **ret)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	atomic_init(&s->refs, 1);
	r = gather(c, s, ch, errs);
	for (size_t k = 0; r == 0 && k < _CATALOG_KIND_MAX; k++)
		r = check_defined(s, k, ch, errs);
	/* What readers are handed: what the checks kept. */
	s->pub.targets = (const struct notify_conf *const *)s->all[CATALOG_NOTIFY];
	s->pub.n_targets = s->n_all[CATALOG_NOTIFY];
	s->pub.rules = (const struct rule_conf *const *)s->all[CATALOG_RULE];
	s->pub.n_rules = s->n_all[CATALOG_RULE];
	if (r == 0)
		r = build_logmatch(s);
	if (r == 0)
		r = build_logmetrics(s, errs);
	if (r < 0) {
		snapshot_unref(s);
		return r;
	}
	*ret = s;
	return 0;
}

int defs_store_open(const struct storage_conf *storage, struct defs_store *ret)
{
	if (storage_conf_shared(storage))
		return defs_store_pg_open(storage->url, storage->password_file, ret);
	return defs_store_sqlite_open(storage->data_dir, storage->sync, ret);
}

void catalog_free(struct catalog *c)
{
	if (!c)
		return;
	snapshot_unref(c->now);
	if (c->store.ops)
		c->store.ops->close(c->store.db);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int catalog_open(const struct storage_conf *storage, const struct alert_defs *file, struct catalog **ret)
{
	struct catalog *c = calloc(1, sizeof(*c));
	struct conf_errors errs = { 0 };
	int r;

	if (!c)
		return -ENOMEM;
	c->file = file;
	pthread_mutex_init(&c->lock, NULL);
	r = defs_store_open(storage, &c->store);
	if (r == 0)
		r = c->store.ops->version(c->store.db, &c->version);
	if (r == 0)
		r = snapshot_build(c, NULL, &errs, &c->now);
	conf_errors_free(&errs);
	if (r < 0) {
		catalog_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/*
 * The URL's scheme, host and port only: its query holds a DingTalk robot's
 * access_token, its path a Feishu hook's, its userinfo a password.
 */
static json_t *url_shown(const char *url)
{
	const char *host = strstr(url, "://"), *end, *at;
	json_t *j;
	char *s;

	if (!host)
		return json_string("(hidden)");
	host += 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at)
		host = at + 1;
	if (asprintf(&s, "%.*s%.*s%s", (int)(strstr(url, "://") + 3 - url), url, (int)(end - host), host,
		     *end ? "/..." : "") < 0)
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

static int put_authorship(const struct defs_row *row, void *ctx)
{
	json_t *o = ctx;

	json_object_set_new(o, "author", json_string(row->author));
	json_object_set_new(o, "created", json_integer((json_int_t)row->created));
	json_object_set_new(o, "updated", json_integer((json_int_t)row->updated));
	return 0;
}

static json_t *entry_json(struct catalog *c, enum catalog_kind kind, const void *inst, bool file)
{
	const struct conf_section *sec = kinds[kind].section;
	json_t *o = json_pack("{s:s, s:s}", "name", *(char *const *)inst, "defined_in", file ? "config" : "api");
	char v[1024];

	for (size_t i = 0; o && i < sec->n_keys; i++) {
		const struct conf_key *k = &sec->keys[i];

		if (conf_key_is_default(k, inst) && !k->def && !k->required)
			continue;
		conf_key_format(k, inst, v, sizeof(v));
		if (strcmp(k->name, "secret") == 0 || strcmp(k->name, "secret_file") == 0)
			continue;
		if (strcmp(k->name, "url") == 0)
			json_object_set_new(o, "url", url_shown(v));
		else
			json_object_set_new(o, k->name, json_string(v));
	}
	if (o && kind == CATALOG_NOTIFY) {
		const struct notify_conf *t = inst;

		json_object_set_new(o, "signed", json_boolean(t->secret || t->secret_file));
	}
	if (o && !file)
		(void)c->store.ops->get(c->store.db, kinds[kind].name, *(char *const *)inst, put_authorship, o);
	return o;
}

static bool in_file(const struct alert_defs *f, enum catalog_kind kind, const char *name)
{
	size_t n;
	void *const *defs = kinds[kind].in_file(f, &n);

	return conf_named_find((const void *const *)defs, n, name) != NULL;
}

/* Under the lock. */
static int list_locked(struct catalog *c, enum catalog_kind kind, const char *name, json_t **ret)
{
	const struct snapshot *s = c->now;
	json_t *items = json_array();

	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_all[kind]; i++) {
		const void *inst = s->all[kind][i];
		const char *iname = *(char *const *)inst;

		if (name && strcmp(name, iname) != 0)
			continue;
		if (json_array_append_new(items, entry_json(c, kind, inst, in_file(c->file, kind, iname))) < 0) {
			json_decref(items);
			return -ENOMEM;
		}
	}
	if (name) {
		*ret = json_incref(json_array_get(items, 0));
		json_decref(items);
		return *ret ? 0 : -ENOENT;
	}
	*ret = json_pack("{s:o}", "items", items);
	return *ret ? 0 : -ENOMEM;
}

int catalog_list(struct catalog *c, enum catalog_kind kind, const char *name, json_t **ret)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = list_locked(c, kind, name, ret);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static bool exists(struct catalog *c, enum catalog_kind kind, const char *name)
{
	return conf_named_find((const void *const *)c->now->all[kind], c->now->n_all[kind], name) != NULL;
}

static int store_row(struct catalog *c, const struct change *ch, const char *author)
{
	char *text = ch->def ? json_dumps(ch->def, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int r = ch->def && !text ? -ENOMEM :
		c->store.ops->put(c->store.db, kinds[ch->kind].name, ch->name, text, author, now_realtime_us());

	free(text);
	return r;
}

/* Whether (kind, name) may be created (or changed: !create) through the API; the reason when not. */
static int refuse(struct catalog *c, const struct change *ch, bool create, char *reason, size_t size)
{
	const char *what = kinds[ch->kind].name;

	if (!name_valid(ch->name, NAME_MAX_LEN, "")) {
		(void)snprintf(reason, size, "name: 1 to %d letters, digits, '_', '.' or '-'", NAME_MAX_LEN);
		return -EINVAL;
	}
	if (in_file(c->file, ch->kind, ch->name)) {
		(void)snprintf(reason, size, "[%s \"%s\"] is defined in the configuration file; change it there",
			       what, ch->name);
		return -EPERM;
	}
	if (create && exists(c, ch->kind, ch->name)) {
		(void)snprintf(reason, size, "[%s \"%s\"] exists; PUT replaces it", what, ch->name);
		return -EEXIST;
	}
	if (!create && !exists(c, ch->kind, ch->name)) {
		(void)snprintf(reason, size, "no [%s \"%s\"]", what, ch->name);
		return -ENOENT;
	}
	return 0;
}


/* The snapshot built from what the store holds now, in force (under the lock); version: the store's. */
static int rebuild(struct catalog *c, uint64_t version)
{
	struct conf_errors errs = { 0 };
	struct snapshot *s = NULL;
	int r = snapshot_build(c, NULL, &errs, &s);

	conf_errors_free(&errs);
	if (r < 0)
		return r;
	snapshot_unref(c->now);
	c->now = s;
	c->version = version;
	return 0;
}

int catalog_refresh(struct catalog *c)
{
	uint64_t v = 0;
	int r;

	pthread_mutex_lock(&c->lock);
	r = c->store.ops->version(c->store.db, &v);
	if (r == 0 && v != c->version && (r = rebuild(c, v)) == 0)
		log_info("catalog: the definitions changed through another collector are in force");
	pthread_mutex_unlock(&c->lock);
	return r;
}

/*
 * Stores the change and moves to the snapshot it makes, in one transaction:
 * both or neither. The transaction begins with the definitions as the
 * store has them (another collector's change since included), against
 * which the change is judged (check(): refuse(), in_use()).
 */
static int apply(struct catalog *c, const struct change *ch, bool create, const char *author, char *reason,
		 size_t size)
{
	struct conf_errors errs = { 0 };
	struct snapshot *s = NULL;
	uint64_t v = 0;
	int r = c->store.ops->begin(c->store.db, &v);

	if (r == 0 && v != c->version)
		r = rebuild(c, v);
	if (r == 0)
		r = refuse(c, ch, create, reason, size);
	if (r == 0 && !ch->def)
		r = catalog_in_use(&c->now->pub, ch->kind, ch->name, reason, size);
	if (r == 0)
		r = store_row(c, ch, author);
	if (r == 0)
		r = snapshot_build(c, ch, &errs, &s);
	if (r == -EINVAL && !*reason)
		(void)snprintf(reason, size, "%s",
			       !errs.n ? "invalid" : strncmp(errs.msg[0], ": ", 2) == 0 ? errs.msg[0] + 2 : errs.msg[0]);
	conf_errors_free(&errs);
	r = c->store.ops->end(c->store.db, r, &v);
	if (r < 0) {
		snapshot_unref(s);
		return r;
	}
	snapshot_unref(c->now);
	c->now = s;
	c->version = v;
	return 0;
}

int catalog_put(struct catalog *c, enum catalog_kind kind, const char *name, json_t *def, bool create,
		const char *author, json_t **ret, char *reason, size_t reason_size)
{
	const struct change ch = { kind, name, def };
	int r;

	if (!json_is_object(def)) {
		(void)snprintf(reason, reason_size, "expected a JSON object of the section's keys");
		return -EINVAL;
	}
	*reason = '\0';
	pthread_mutex_lock(&c->lock);
	r = apply(c, &ch, create, author, reason, reason_size);
	if (r == 0)
		r = list_locked(c, kind, name, ret);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int catalog_delete(struct catalog *c, enum catalog_kind kind, const char *name, char *reason, size_t reason_size)
{
	const struct change ch = { kind, name, NULL };
	int r;

	*reason = '\0';
	pthread_mutex_lock(&c->lock);
	r = apply(c, &ch, false, "", reason, reason_size);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int catalog_routes(struct catalog *c, json_t **ret)
{
	json_t *items = json_array();

	for (size_t i = 0; items && i < c->file->n_routes; i++) {
		const struct route_conf *rt = c->file->routes[i];

		json_array_append_new(items, json_pack("{s:s, s:s?, s:s?, s:s}", "name", rt->name, "match", rt->match,
						       "notify", rt->notify, "defined_in", "config"));
	}
	*ret = items ? json_pack("{s:o}", "items", items) : NULL;
	return *ret ? 0 : -ENOMEM;
}


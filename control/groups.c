/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "alerts/defstore.h"
#include "common/confmsg.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "control/compose.h"
#include "control/fragment.h"
#include "control/groups.h"
#include "control/vantages.h"

#define KIND DEFS_KIND_CONFIG_GROUP
#define KIND_VERSION DEFS_KIND_CONFIG_VERSION
#define ORDER_DEFAULT 50
#define ORDER_MAX 1000
/* "# group NAME (version V)\n" around a name, and the newline a config may lack. */
#define GROUP_MARK_BOUND 48

/*
 * A group as stored: its definition as the store holds it, {selector,
 * order, config, version} and, while a version is rolled out, rollout
 * {canary, percent} and released {selector, order, config, version}.
 */
struct group {
	char *name, *author;
	uint64_t updated;
	json_t *def; /* owned; the views' strings point into it */
};

struct config_groups {
	pthread_mutex_t lock; /* everything below, and the store's connection */
	struct defs_store store;
	uint64_t store_version; /* the store's when groups were read */
	struct group *groups;   /* in composing order */
	struct compose_group *view; /* groups[i]'s at i, its released version's at n + i */
	size_t n;
	atomic_uint_fast32_t generation; /* also read without the lock: every batch's reply carries it */
	struct dialtests *dialtests;      /* borrowed: the tests agents run go with their configuration */
};

static void groups_clear(struct group *groups, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(groups[i].name);
		free(groups[i].author);
		json_decref(groups[i].def);
	}
	free(groups);
}

/* The stored rows, as read. */
struct reading {
	struct group *list;
	size_t n;
};

static bool def_reads(json_t *def)
{
	json_t *rel = json_object_get(def, "released");

	return json_is_string(json_object_get(def, "config")) &&
	       (!rel || json_is_string(json_object_get(rel, "config")));
}

/* One stored row into the list; a row that does not read is logged and left out. */
static int add_row(const struct defs_row *row, void *ctx)
{
	struct reading *rd = ctx;
	json_t *def = json_loads(row->definition, 0, NULL);
	struct group *grown;

	if (!def_reads(def)) {
		log_warning("config group %s: its stored definition does not read; left out", row->name);
		json_decref(def);
		return 0;
	}
	grown = realloc(rd->list, (rd->n + 1) * sizeof(*grown));
	if (!grown) {
		json_decref(def);
		return -ENOMEM;
	}
	rd->list = grown;
	rd->list[rd->n++] = (struct group){ .name = strdup(row->name), .author = strdup(row->author ? row->author : ""),
					    .updated = row->updated, .def = def };
	return rd->list[rd->n - 1].name && rd->list[rd->n - 1].author ? 0 : -ENOMEM;
}

static const char *def_str(json_t *def, const char *key)
{
	const char *v = json_string_value(json_object_get(def, key));

	return v ? v : "";
}

/* def (a version of the group called name) as composed. */
static struct compose_group view_of(const char *name, json_t *def)
{
	return (struct compose_group){ .name = name, .selector = def_str(def, "selector"),
				       .order = json_integer_value(json_object_get(def, "order")),
				       .version = (uint64_t)json_integer_value(json_object_get(def, "version")),
				       .config = def_str(def, "config") };
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	struct compose_group vx = view_of(x->name, x->def), vy = view_of(y->name, y->def);

	return compose_group_cmp(&vx, &vy);
}

/* The groups as the store has them now, in force (under the lock). */
static int reload(struct config_groups *g)
{
	struct reading rd = { 0 };
	struct compose_group *view;
	int r = g->store.ops->each(g->store.db, KIND, add_row, &rd);

	view = r == 0 ? calloc(MAX(2 * rd.n, 1u), sizeof(*view)) : NULL;
	if (!view) {
		groups_clear(rd.list, rd.n);
		return r < 0 ? r : -ENOMEM;
	}
	if (rd.n)
		qsort(rd.list, rd.n, sizeof(*rd.list), group_cmp);
	for (size_t i = 0; i < rd.n; i++) {
		json_t *rollout = json_object_get(rd.list[i].def, "rollout");
		json_t *released = json_object_get(rd.list[i].def, "released");

		view[i] = view_of(rd.list[i].name, rd.list[i].def);
		if (!rollout)
			continue;
		view[i].staged = true;
		view[i].canary = json_string_value(json_object_get(rollout, "canary"));
		view[i].percent = (unsigned)json_integer_value(json_object_get(rollout, "percent"));
		if (released) {
			view[rd.n + i] = view_of(rd.list[i].name, released);
			view[i].released = &view[rd.n + i];
		}
	}
	groups_clear(g->groups, g->n);
	free(g->view);
	g->groups = rd.list;
	g->view = view;
	g->n = rd.n;
	atomic_store(&g->generation, compose_generation(view, rd.n));
	return 0;
}

int config_groups_open(const struct storage_conf *storage, struct config_groups **ret)
{
	struct config_groups *g = calloc(1, sizeof(*g));
	int r;

	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	r = defs_store_open(storage, &g->store);
	if (r == 0)
		r = g->store.ops->version(g->store.db, &g->store_version);
	if (r == 0)
		r = reload(g);
	if (r < 0) {
		config_groups_free(g);
		return r;
	}
	*ret = g;
	return 0;
}

void config_groups_free(struct config_groups *g)
{
	if (!g)
		return;
	if (g->store.ops)
		g->store.ops->close(g->store.db);
	groups_clear(g->groups, g->n);
	free(g->view);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int config_groups_refresh(struct config_groups *g)
{
	uint64_t v = 0;
	int r;

	pthread_mutex_lock(&g->lock);
	r = g->store.ops->version(g->store.db, &v);
	if (r == 0 && v != g->store_version && (r = reload(g)) == 0) {
		g->store_version = v;
		log_info("config groups: those changed through another collector are in force");
	}
	pthread_mutex_unlock(&g->lock);
	return r;
}

void config_groups_set_dialtests(struct config_groups *g, struct dialtests *d)
{
	g->dialtests = d;
}

uint32_t config_groups_generation(struct config_groups *g)
{
	return vantage_generation((uint32_t)atomic_load(&g->generation),
				  g->dialtests ? dialtests_agents_digest(g->dialtests) : 0);
}

/* The groups' text into out and the tests into tests (NULL: not wanted), under the lock. */
static int compose_locked(struct config_groups *g, const char *labels, const char *agent, struct buf *out,
			  struct buf *tests, uint32_t *ret_version)
{
	const struct dialtests_snapshot *s = tests && g->dialtests ? dialtests_get(g->dialtests) : NULL;
	size_t n = 0;
	int r = compose(g->view, g->n, labels, agent, out, &n, ret_version), k = 0;

	if (r == 0 && tests)
		r = k = vantage_tests(s, labels, tests);
	dialtests_release(s);
	if (r < 0)
		return r;
	*ret_version = vantage_version(*ret_version, tests);
	return n || k ? CONFIG_OK : CONFIG_NONE;
}

int config_groups_compose(struct config_groups *g, const char *labels, const char *agent, struct buf *out,
			  struct buf *tests, uint32_t *ret_version)
{
	int r;

	pthread_mutex_lock(&g->lock);
	r = compose_locked(g, labels, agent, out, tests, ret_version);
	pthread_mutex_unlock(&g->lock);
	return r;
}

uint32_t config_groups_version_for(struct config_groups *g, const char *labels, const char *agent)
{
	uint32_t version = 0;
	struct buf b, t;
	int r;

	buf_init(&b, CONFIG_TEXT_MAX);
	buf_init(&t, CONFIG_TEXT_MAX);
	r = config_groups_compose(g, labels, agent, &b, &t, &version);
	buf_free(&b);
	buf_free(&t);
	return r == CONFIG_OK ? version : 0;
}

static json_t *group_json(const struct group *gr)
{
	json_t *j = json_deep_copy(gr->def);

	if (j) {
		json_object_set_new(j, "name", json_string(gr->name));
		json_object_set_new(j, "author", json_string(gr->author));
		json_object_set_new(j, "updated", json_integer((json_int_t)gr->updated));
		if (!json_object_get(j, "selector"))
			json_object_set_new(j, "selector", json_string(""));
	}
	return j;
}

int config_groups_list(struct config_groups *g, const char *name, json_t **ret)
{
	json_t *items = json_array();
	int r = name ? -ENOENT : 0;

	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; items && i < g->n; i++) {
		if (name && strcmp(name, g->groups[i].name) != 0)
			continue;
		if (name) {
			json_decref(items);
			items = NULL;
			*ret = group_json(&g->groups[i]);
			r = *ret ? 0 : -ENOMEM;
			break;
		}
		json_array_append_new(items, group_json(&g->groups[i]));
	}
	if (!name) {
		*ret = items ? json_pack("{s:I, s:o}", "generation", (json_int_t)atomic_load(&g->generation), "items",
					 items) :
			       NULL;
		r = *ret ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&g->lock);
	if (name)
		json_decref(items);
	return r;
}

struct versions {
	const char *name;
	size_t len;
	json_t *items;
	uint64_t max;
};

static int add_version(const struct defs_row *row, void *ctx)
{
	struct versions *v = ctx;
	json_t *j;

	if (strncmp(row->name, v->name, v->len) != 0 || row->name[v->len] != '/')
		return 0;
	j = json_loads(row->definition, 0, NULL);
	if (!j)
		return 0;
	v->max = MAX(v->max, (uint64_t)json_integer_value(json_object_get(j, "version")));
	json_object_set_new(j, "author", json_string(row->author ? row->author : ""));
	json_object_set_new(j, "updated", json_integer((json_int_t)row->updated));
	if (v->items)
		json_array_append_new(v->items, j);
	else
		json_decref(j);
	return 0;
}

static int version_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "version"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "version"));

	return (x > y) - (x < y);
}

int config_groups_versions(struct config_groups *g, const char *name, json_t **ret)
{
	struct versions v = { name, strlen(name), json_array(), 0 };
	json_t **list, *sorted = json_array();
	size_t n;
	int r;

	pthread_mutex_lock(&g->lock);
	r = v.items && sorted ? g->store.ops->each(g->store.db, KIND_VERSION, add_version, &v) : -ENOMEM;
	pthread_mutex_unlock(&g->lock);
	n = json_array_size(v.items);
	list = r == 0 ? calloc(MAX(n, 1u), sizeof(*list)) : NULL;
	if (r == 0 && !list)
		r = -ENOMEM;
	if (r == 0 && n == 0)
		r = -ENOENT;
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			list[i] = json_array_get(v.items, i);
		qsort(list, n, sizeof(*list), version_cmp);
		for (size_t i = 0; i < n; i++)
			json_array_append(sorted, list[i]);
		*ret = json_pack("{s:s, s:O}", "name", name, "items", sorted);
		r = *ret ? 0 : -ENOMEM;
	}
	free(list);
	json_decref(sorted);
	json_decref(v.items);
	return r;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n <= GROUP_NAME_MAX && isalnum((unsigned char)name[0]) &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* The first error of errs (or all in one when they fit) as the reason. */
static void errors_reason(const struct conf_errors *errs, char *reason, size_t size)
{
	size_t at = 0;

	reason[0] = 0;
	for (size_t i = 0; i < errs->n && at < size; i++)
		at += (size_t)snprintf(reason + at, size - at, "%s%s", i ? "; " : "", errs->msg[i]);
}

/* rollout (NULL: none) as {"canary": "k=v …", "percent": 0..100}, one of them at least. */
static int check_rollout(json_t *rollout, char *reason, size_t size)
{
	json_t *canary = json_object_get(rollout, "canary"), *percent = json_object_get(rollout, "percent");
	const char *bad, *key;
	size_t bad_len;
	json_t *v;

	if (!rollout)
		return 0;
	json_object_foreach(rollout, key, v)
		if (strcmp(key, "canary") != 0 && strcmp(key, "percent") != 0)
			return snprintf(reason, size, "rollout.%.64s: unknown key (expected canary, percent)", key), -EINVAL;
	if (!json_is_object(rollout) || (!canary && !percent))
		return snprintf(reason, size, "rollout: expected {\"canary\": \"k=v\", \"percent\": 0..100}"), -EINVAL;
	if (canary && (!json_is_string(canary) || !*json_string_value(canary) ||
		       labels_check(json_string_value(canary), &bad, &bad_len) < 0))
		return snprintf(reason, size, "rollout.canary: expected key=value pairs separated by spaces"), -EINVAL;
	if (percent && (!json_is_integer(percent) || json_integer_value(percent) < 0 || json_integer_value(percent) > 100))
		return snprintf(reason, size, "rollout.percent: expected an integer from 0 to 100"), -EINVAL;
	return 0;
}

/* def checked as a group called name: 0 or -EINVAL with reason. */
static int check_def(const char *name, json_t *def, char *reason, size_t size)
{
	const char *sel = json_string_value(json_object_get(def, "selector"));
	const char *config = json_string_value(json_object_get(def, "config"));
	json_t *order = json_object_get(def, "order");
	struct conf_errors errs = { 0 };
	const char *bad, *key;
	size_t bad_len;
	json_t *v;
	int r;

	json_object_foreach(def, key, v) {
		if (strcmp(key, "selector") != 0 && strcmp(key, "order") != 0 && strcmp(key, "config") != 0 &&
		    strcmp(key, "name") != 0 && strcmp(key, "rollout") != 0) {
			(void)snprintf(reason, size, "%.64s: unknown key (expected selector, order, config, rollout)", key);
			return -EINVAL;
		}
	}
	r = check_rollout(json_object_get(def, "rollout"), reason, size);
	if (r < 0)
		return r;
	if (!name_ok(name))
		return snprintf(reason, size, "name: expected 1 to %d letters, digits, '_', '.' or '-', from a letter or digit",
				GROUP_NAME_MAX),
		       -EINVAL;
	if (json_object_get(def, "selector") && (!sel || labels_check(sel, &bad, &bad_len) < 0))
		return snprintf(reason, size, "selector: expected key=value pairs separated by spaces"), -EINVAL;
	if (order && (!json_is_integer(order) || json_integer_value(order) < 0 ||
		      json_integer_value(order) > ORDER_MAX))
		return snprintf(reason, size, "order: expected an integer from 0 to %d", ORDER_MAX), -EINVAL;
	if (!config || strlen(config) > GROUP_CONFIG_MAX)
		return snprintf(reason, size, "config: expected the agent configuration's text, up to %d bytes",
				GROUP_CONFIG_MAX),
		       -EINVAL;
	r = fragment_check(name, config, &errs);
	if (r < 0)
		errors_reason(&errs, reason, size);
	conf_errors_free(&errs);
	return r < 0 ? -EINVAL : 0;
}

/* The group called name now, or NULL (under the lock). */
static const struct group *find(const struct config_groups *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->groups[i].name, name) == 0)
			return &g->groups[i];
	return NULL;
}

/* row (taken) as name's, and as its version V when version: in the change begun. */
static int put_row(struct config_groups *g, const char *name, json_t *row, const char *author, bool version)
{
	char *text = row ? json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS) : NULL, vname[GROUP_NAME_MAX + 24];
	uint64_t at = now_realtime_us();
	int r = text ? g->store.ops->put(g->store.db, KIND, name, text, author, at) : -ENOMEM;

	(void)snprintf(vname, sizeof(vname), "%s/%" JSON_INTEGER_FORMAT, name,
		       json_integer_value(json_object_get(row, "version")));
	if (r == 0 && version) {
		/* A version's row is the group as given, without what the rollout keeps beside it. */
		json_object_del(row, "released");
		free(text);
		text = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
		r = text ? g->store.ops->put(g->store.db, KIND_VERSION, vname, text, author, at) : -ENOMEM;
	}
	free(text);
	json_decref(row);
	return r;
}

/* The version of now (a group's stored definition) every agent it selects runs while another is rolled out. */
static json_t *released_of(json_t *now)
{
	json_t *rel = json_object_get(now, "released");

	if (json_object_get(now, "rollout"))
		return rel ? json_deep_copy(rel) : NULL;
	rel = json_deep_copy(now);
	json_object_del(rel, "rollout");
	return rel;
}

/* The most an agent selected by every group could be given, name's config taken as config (under the lock). */
static size_t composed_bound(const struct config_groups *g, const char *name, const char *config)
{
	size_t n = strlen(name) + strlen(config) + GROUP_MARK_BOUND;

	for (size_t i = 0; i < g->n; i++) {
		json_t *rel = json_object_get(g->groups[i].def, "released");

		if (strcmp(g->groups[i].name, name) != 0)
			n += strlen(g->groups[i].name) + GROUP_MARK_BOUND +
			     MAX(strlen(def_str(g->groups[i].def, "config")), strlen(def_str(rel, "config")));
	}
	return n;
}

/* The next version of name from def, in the change begun (under the lock). */
static int store_version(struct config_groups *g, const char *name, json_t *def, const char *author)
{
	struct versions v = { name, strlen(name), NULL, 0 };
	const struct group *now = find(g, name);
	json_t *rollout = json_object_get(def, "rollout"), *row, *rel;
	int r = g->store.ops->each(g->store.db, KIND_VERSION, add_version, &v);
	uint64_t next = MAX(v.max, now ? (uint64_t)json_integer_value(json_object_get(now->def, "version")) : 0) + 1;

	if (r < 0)
		return r;
	/* What the agents are sent has a bound (CONFIG_TEXT_MAX): refused here, not found out there. */
	if (composed_bound(g, name, json_string_value(json_object_get(def, "config"))) > CONFIG_TEXT_MAX)
		return -EFBIG;
	row = json_pack("{s:s, s:I, s:s, s:I}", "selector", json_string_value(json_object_get(def, "selector")) ?: "",
			"order",
			json_object_get(def, "order") ? json_integer_value(json_object_get(def, "order")) : ORDER_DEFAULT,
			"config", json_string_value(json_object_get(def, "config")), "version", (json_int_t)next);
	if (row && rollout) {
		json_object_set(row, "rollout", rollout);
		rel = now ? released_of(now->def) : NULL;
		if (rel)
			json_object_set_new(row, "released", rel);
	}
	return put_row(g, name, row, author, true);
}

/* The version rolled out of name, for every agent it selects: in the change begun (under the lock). */
static int release(struct config_groups *g, const char *name, json_t *def, const char *author)
{
	const struct group *now = find(g, name);
	json_t *row;

	if (!now)
		return -ENOENT;
	if (!json_object_get(now->def, "rollout"))
		return -EALREADY;
	row = json_deep_copy(now->def);
	json_object_del(row, "rollout");
	json_object_del(row, "released");
	return put_row(g, name, row, author, false);
}

/* change(g, ...) in one of the store's transactions, then the groups as it left them in force (under the lock). */
static int in_change(struct config_groups *g, int (*change)(struct config_groups *g, const char *name, json_t *def,
							      const char *author),
		     const char *name, json_t *def, const char *author)
{
	uint64_t v = 0;
	int r = g->store.ops->begin(g->store.db, &v);

	if (r == 0 && v != g->store_version && (r = reload(g)) == 0)
		g->store_version = v;
	if (r == 0)
		r = change(g, name, def, author);
	r = g->store.ops->end(g->store.db, r, &v);
	if (r == 0 && (r = reload(g)) == 0)
		g->store_version = v;
	return r;
}

int config_groups_put(struct config_groups *g, const char *name, json_t *def, const char *author, json_t **ret,
		      char *reason, size_t reason_size)
{
	int r;

	*reason = 0;
	if (!json_is_object(def))
		return snprintf(reason, reason_size, "expected a JSON object: selector, order, config"), -EINVAL;
	r = check_def(name, def, reason, reason_size);
	if (r < 0)
		return r;
	pthread_mutex_lock(&g->lock);
	r = in_change(g, store_version, name, def, author);
	pthread_mutex_unlock(&g->lock);
	if (r == -EFBIG)
		return snprintf(reason, reason_size, "config: with the other groups it would be over %d KiB for an agent "
				"they all select", CONFIG_TEXT_MAX / 1024),
		       -EINVAL;
	if (r < 0)
		return snprintf(reason, reason_size, "cannot store the group"), r;
	return config_groups_list(g, name, ret);
}

static int remove_group(struct config_groups *g, const char *name, json_t *def, const char *author)
{
	return find(g, name) ? g->store.ops->put(g->store.db, KIND, name, NULL, author, now_realtime_us()) : -ENOENT;
}

int config_groups_promote(struct config_groups *g, const char *name, const char *author, json_t **ret, char *reason,
			  size_t reason_size)
{
	int r;

	pthread_mutex_lock(&g->lock);
	r = in_change(g, release, name, NULL, author);
	pthread_mutex_unlock(&g->lock);
	if (r == -ENOENT || r == -EALREADY)
		return snprintf(reason, reason_size, r == -ENOENT ? "no config group called %s" :
								    "config group %s is not being rolled out", name),
		       r == -ENOENT ? r : -EINVAL;
	if (r < 0)
		return snprintf(reason, reason_size, "cannot store the group"), r;
	return config_groups_list(g, name, ret);
}

int config_groups_delete(struct config_groups *g, const char *name, char *reason, size_t reason_size)
{
	int r;

	pthread_mutex_lock(&g->lock);
	r = in_change(g, remove_group, name, NULL, NULL);
	pthread_mutex_unlock(&g->lock);
	(void)snprintf(reason, reason_size, r == -ENOENT ? "no config group called %s" : "cannot delete group %s", name);
	return r;
}

int config_groups_preview(struct config_groups *g, const char *labels, const char *agent, json_t **ret)
{
	json_t *names = json_array();
	uint32_t version = 0;
	struct buf b, t;
	int r;

	buf_init(&b, CONFIG_TEXT_MAX);
	buf_init(&t, CONFIG_TEXT_MAX);
	pthread_mutex_lock(&g->lock);
	r = names ? compose_locked(g, labels, agent, &b, &t, &version) : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < g->n; i++) {
		const struct compose_group *c = compose_choose(&g->view[i], labels, agent);

		if (c)
			json_array_append_new(names, json_pack("{s:s, s:I}", "name", c->name, "version",
							       (json_int_t)c->version));
	}
	pthread_mutex_unlock(&g->lock);
	if (r >= 0)
		*ret = json_pack("{s:s, s:o, s:I, s:s%, s:o}", "labels", labels, "groups", names, "version",
				 (json_int_t)(r == CONFIG_OK ? version : 0), "config", b.data ? (char *)b.data : "",
				 b.len, "dialtests",
				 t.len ? json_loadb((const char *)t.data, t.len, 0, NULL) : json_array());
	else
		json_decref(names);
	buf_free(&b);
	buf_free(&t);
	return r < 0 ? r : *ret ? 0 : -ENOMEM;
}

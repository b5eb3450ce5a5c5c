/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "alerts/alerting.h"
#include "alerts/catalog.h"
#include "api/http-internal.h"
#include "search/logseries.h"

/*
 * Rules (/api/v1/rules), notification targets (/api/v1/notify) and log
 * metrics (/api/v1/logmetrics): the file's, and those defined through the API.
 */

static const char *const prefixes[] = { [CATALOG_RULE] = "/api/v1/rules/", [CATALOG_NOTIFY] = "/api/v1/notify/",
					[CATALOG_LOGMETRIC] = "/api/v1/logmetrics/" };
static const char *const kind_words[] = { [CATALOG_RULE] = "rule", [CATALOG_NOTIFY] = "target",
					  [CATALOG_LOGMETRIC] = "log metric" };

/*
 * A log metric as the catalogue lists it, made what a reader of its series
 * needs: labels as a list, step in milliseconds, and the names of its
 * series (a count-only metric has no statistics of a value).
 */
static int logmetric_item(json_t *item, const struct logmetrics *m)
{
	const struct logmetric_def *d = logmetrics_find(m, json_string_value(json_object_get(item, "name")));
	json_t *names = json_array(), *labels = json_array();
	char name[LOGMETRIC_NAME_MAX + 32];

	/* Deleted since it was listed: shown as listed. */
	if (!d || !names || !labels) {
		json_decref(names);
		json_decref(labels);
		return d ? -ENOMEM : 0;
	}
	for (int st = 0; st < (d->value ? _LOGSTAT_MAX : LOGSTAT_SUM); st++) {
		(void)snprintf(name, sizeof(name), LOGSERIES_PREFIX "%s.%s", d->name, logstat_name(st));
		json_array_append_new(names, json_string(name));
	}
	for (const char *p = d->labels ? d->labels : ""; *(p += strspn(p, " \t"));) {
		size_t n = strcspn(p, " \t");

		json_array_append_new(labels, json_stringn(p, n));
		p += n;
	}
	json_object_del(item, "step");
	if (!json_object_get(item, "query"))
		json_object_set_new(item, "query", json_string(""));
	json_object_set_new(item, "labels", labels);
	json_object_set_new(item, "step_ms", json_integer((json_int_t)d->step_ms));
	json_object_set_new(item, "metrics", names);
	return 0;
}

/* What an answer shows of each item of kind ({"items":[…]} or one): a target's queue, a log metric's series. */
static int decorate(struct request *rq, enum catalog_kind kind, json_t *j)
{
	json_t *items = json_object_get(j, "items"), *item;
	struct logmetrics *m = kind == CATALOG_LOGMETRIC ? catalog_logmetrics(http_catalog(rq)) : NULL;
	size_t i;
	int r = 0;

	if (!items)
		items = json_pack("[O]", j);
	else
		json_incref(items);
	json_array_foreach(items, i, item) {
		if (r == 0 && kind == CATALOG_NOTIFY)
			r = alerting_notify_queue(http_alerting(rq), item);
		else if (r == 0 && kind == CATALOG_LOGMETRIC)
			r = logmetric_item(item, m);
	}
	json_decref(items);
	logmetrics_unref(m);
	return r;
}

/* NAME of PREFIX/NAME, or NULL when the path has more (or nothing) after the prefix. */
static const char *path_name(const struct request *rq, enum catalog_kind kind)
{
	const char *p = rq->url + strlen(prefixes[kind]);

	return *p && !strchr(p, '/') ? p : NULL;
}

static enum MHD_Result get_one(struct request *rq, enum catalog_kind kind)
{
	const char *name = path_name(rq, kind);
	json_t *j;
	int r;

	if (!name)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected %sNAME", prefixes[kind]);
	r = catalog_list(http_catalog(rq), kind, name, &j);
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no %s called %s", kind_words[kind], name);
	if (r == 0)
		r = decorate(rq, kind, j);
	if (r < 0) {
		json_decref(j);
		return respond_errno(rq, r, "cannot read the definitions");
	}
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* GET of every definition of kind, the file's and the API's. */
static enum MHD_Result get_all(struct request *rq, enum catalog_kind kind)
{
	json_t *j = NULL;
	int r = catalog_list(http_catalog(rq), kind, NULL, &j);

	if (r == 0)
		r = decorate(rq, kind, j);
	if (r < 0) {
		json_decref(j);
		return respond_errno(rq, r, "cannot read the definitions");
	}
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* "rule disk-full (type metric)" for the audit log; a definition's other keys may hold secrets. */
static void def_detail(struct request *rq, enum catalog_kind kind, const char *name, json_t *def, const char *done)
{
	const char *type = json_string_value(json_object_get(def, "type"));

	audit_detail(rq, "%s %.200s%s%.64s%s %s", kind_words[kind], name ? name : "?",
		     type ? " (type " : "", type ? type : "", type ? ")" : "", done);
}

/* POST (create: the body names it) or PUT (replace: the path names it). */
static enum MHD_Result put(struct request *rq, enum catalog_kind kind, bool create)
{
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered), *j = NULL;
	const char *name = create ? json_string_value(json_object_get(body, "name")) : path_name(rq, kind);
	char reason[512] = "";
	int r;

	if (!body)
		return answered;
	if (!name) {
		json_decref(body);
		return create ? respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "name: expected a string") :
				respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected %sNAME", prefixes[kind]);
	}
	def_detail(rq, kind, name, body, create ? "defined" : "redefined");
	r = catalog_put(http_catalog(rq), kind, name, body, create, rq->user, &j, reason, sizeof(reason));
	json_decref(body);
	if (r < 0)
		return respond_errno(rq, r, reason);
	if (kind == CATALOG_LOGMETRIC && (r = decorate(rq, kind, j)) < 0) {
		json_decref(j);
		return respond_errno(rq, r, "cannot read the definitions");
	}
	return respond_json(rq, create ? MHD_HTTP_CREATED : MHD_HTTP_OK, j);
}

static enum MHD_Result delete(struct request *rq, enum catalog_kind kind)
{
	const char *name = path_name(rq, kind);
	char reason[512] = "";
	int r;

	if (!name)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected %sNAME", prefixes[kind]);
	def_detail(rq, kind, name, NULL, "deleted");
	r = catalog_delete(http_catalog(rq), kind, name, reason, sizeof(reason));
	if (r < 0)
		return respond_errno(rq, r, reason);
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:b}", "name", name, "deleted", 1));
}

/* GET /api/v1/rules: every rule in force, the file's and the API's. */
enum MHD_Result api_get_rules(struct request *rq)
{
	return get_all(rq, CATALOG_RULE);
}

/* GET /api/v1/routes: the configuration file's routes (they are defined there only). */
enum MHD_Result api_get_routes(struct request *rq)
{
	json_t *j;
	int r = catalog_routes(http_catalog(rq), &j);

	return r < 0 ? respond_errno(rq, r, "cannot list the routes") : respond_json(rq, MHD_HTTP_OK, j);
}

enum MHD_Result api_get_rule(struct request *rq)
{
	return get_one(rq, CATALOG_RULE);
}

enum MHD_Result api_post_rule(struct request *rq)
{
	return put(rq, CATALOG_RULE, true);
}

enum MHD_Result api_put_rule(struct request *rq)
{
	return put(rq, CATALOG_RULE, false);
}

enum MHD_Result api_delete_rule(struct request *rq)
{
	return delete(rq, CATALOG_RULE);
}

/* GET /api/v1/notify: every target with its queue. */
enum MHD_Result api_get_notify(struct request *rq)
{
	return get_all(rq, CATALOG_NOTIFY);
}

enum MHD_Result api_get_target(struct request *rq)
{
	return get_one(rq, CATALOG_NOTIFY);
}

enum MHD_Result api_post_target(struct request *rq)
{
	return put(rq, CATALOG_NOTIFY, true);
}

enum MHD_Result api_put_target(struct request *rq)
{
	return put(rq, CATALOG_NOTIFY, false);
}

enum MHD_Result api_delete_target(struct request *rq)
{
	return delete(rq, CATALOG_NOTIFY);
}

/* GET /api/v1/logmetrics: every log metric, and the names its series are read by. */
enum MHD_Result api_get_logmetrics(struct request *rq)
{
	return get_all(rq, CATALOG_LOGMETRIC);
}

enum MHD_Result api_get_logmetric(struct request *rq)
{
	return get_one(rq, CATALOG_LOGMETRIC);
}

enum MHD_Result api_post_logmetric(struct request *rq)
{
	return put(rq, CATALOG_LOGMETRIC, true);
}

enum MHD_Result api_put_logmetric(struct request *rq)
{
	return put(rq, CATALOG_LOGMETRIC, false);
}

enum MHD_Result api_delete_logmetric(struct request *rq)
{
	return delete(rq, CATALOG_LOGMETRIC);
}

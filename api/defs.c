/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "alerts/alerting.h"
#include "alerts/catalog.h"
#include "api/http-internal.h"

/* Rules (/api/v1/rules) and notification targets (/api/v1/notify) defined through the API. */

static const char *const prefixes[] = { [CATALOG_RULE] = "/api/v1/rules/", [CATALOG_NOTIFY] = "/api/v1/notify/" };

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
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no %s called %s",
				     kind == CATALOG_RULE ? "rule" : "target", name);
	if (r < 0)
		return respond_errno(rq, r, "cannot read the definitions");
	if (kind == CATALOG_NOTIFY)
		(void)alerting_notify_queue(http_alerting(rq), j);
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* "rule disk-full (type metric)" for the audit log; a definition's other keys may hold secrets. */
static void def_detail(struct request *rq, enum catalog_kind kind, const char *name, json_t *def, const char *done)
{
	const char *type = json_string_value(json_object_get(def, "type"));

	audit_detail(rq, "%s %.200s%s%.64s%s %s", kind == CATALOG_RULE ? "rule" : "target", name ? name : "?",
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
	json_t *j;
	int r = catalog_list(http_catalog(rq), CATALOG_RULE, NULL, &j);

	return r < 0 ? respond_errno(rq, r, "cannot read the definitions") : respond_json(rq, MHD_HTTP_OK, j);
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
	json_t *j, *item;
	size_t i;
	int r = catalog_list(http_catalog(rq), CATALOG_NOTIFY, NULL, &j);

	json_array_foreach(r == 0 ? json_object_get(j, "items") : NULL, i, item)
		if (r == 0)
			r = alerting_notify_queue(http_alerting(rq), item);
	if (r < 0) {
		json_decref(j);
		return respond_errno(rq, r, "cannot read the definitions");
	}
	return respond_json(rq, MHD_HTTP_OK, j);
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

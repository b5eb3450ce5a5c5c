/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "api/http-internal.h"
#include "control/groups.h"

/* The config groups (docs/control.md): /api/v1/config-groups[/NAME[/versions|/promote]], /api/v1/config-preview. */

#define PREFIX "/api/v1/config-groups/"

static struct config_groups *groups_of(const struct request *rq)
{
	return http_groups(rq);
}

/* NAME of PREFIX NAME[/REST] into buf, and REST (NULL: none); NULL when there is no NAME. */
static const char *path_name(const struct request *rq, char *buf, size_t size, const char **rest)
{
	const char *p = rq->url + strlen(PREFIX), *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	*rest = slash ? slash + 1 : NULL;
	if (!n || n >= size)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = 0;
	return buf;
}

enum MHD_Result api_get_groups(struct request *rq)
{
	json_t *j;
	int r = config_groups_list(groups_of(rq), NULL, &j);

	return r < 0 ? respond_errno(rq, r, "cannot list the config groups") : respond_json(rq, MHD_HTTP_OK, j);
}

/* GET PREFIX NAME, PREFIX NAME/versions */
enum MHD_Result api_get_group(struct request *rq)
{
	char buf[GROUP_NAME_MAX + 1];
	const char *rest, *name = path_name(rq, buf, sizeof(buf), &rest);
	json_t *j;
	int r;

	if (!name || (rest && strcmp(rest, "versions") != 0))
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "NAME or " PREFIX "NAME/versions");
	r = rest ? config_groups_versions(groups_of(rq), name, &j) : config_groups_list(groups_of(rq), name, &j);
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no config group called %s", name);
	return r < 0 ? respond_errno(rq, r, "cannot read the config groups") : respond_json(rq, MHD_HTTP_OK, j);
}

/* PUT PREFIX NAME: defines the group, or its next version. */
enum MHD_Result api_put_group(struct request *rq)
{
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered), *j = NULL;
	char buf[GROUP_NAME_MAX + 1], reason[1024] = "";
	const char *rest, *name = path_name(rq, buf, sizeof(buf), &rest);
	int r;

	if (!body)
		return answered;
	if (!name || rest) {
		json_decref(body);
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "NAME");
	}
	/* The selector says whom it reaches; the configuration itself may name hosts and paths. */
	audit_detail(rq, "config group %.64s (selector %.200s)%s defined", name,
		     json_string_value(json_object_get(body, "selector")) ?: "",
		     json_object_get(body, "rollout") ? ", rolled out" : "");
	r = config_groups_put(groups_of(rq), name, body, rq->user, &j, reason, sizeof(reason));
	json_decref(body);
	return r < 0 ? respond_errno(rq, r, reason) : respond_json(rq, MHD_HTTP_OK, j);
}

/* POST PREFIX NAME/promote: the version being rolled out, for every agent the group selects. */
enum MHD_Result api_post_group(struct request *rq)
{
	char buf[GROUP_NAME_MAX + 1], reason[256] = "";
	const char *rest, *name = path_name(rq, buf, sizeof(buf), &rest);
	json_t *j = NULL;
	int r;

	if (!name || !rest || strcmp(rest, "promote") != 0)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "NAME/promote");
	audit_detail(rq, "config group %.64s promoted", name);
	r = config_groups_promote(groups_of(rq), name, rq->user, &j, reason, sizeof(reason));
	return r < 0 ? respond_errno(rq, r, reason) : respond_json(rq, MHD_HTTP_OK, j);
}

enum MHD_Result api_delete_group(struct request *rq)
{
	char buf[GROUP_NAME_MAX + 1], reason[256] = "";
	const char *rest, *name = path_name(rq, buf, sizeof(buf), &rest);
	int r;

	if (!name || rest)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "NAME");
	audit_detail(rq, "config group %.64s deleted", name);
	r = config_groups_delete(groups_of(rq), name, reason, sizeof(reason));
	return r < 0 ? respond_errno(rq, r, reason) :
		       respond_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:b}", "name", name, "deleted", 1));
}

/* GET /api/v1/config-preview?labels=k=v+k=v&agent=ID: what an agent of those labels (and that id) runs. */
enum MHD_Result api_get_config_preview(struct request *rq)
{
	const char *labels = arg(rq, "labels");
	json_t *j;
	int r = config_groups_preview(groups_of(rq), labels ? labels : "", arg(rq, "agent"), &j);

	return r < 0 ? respond_errno(rq, r, "cannot compose the configuration") : respond_json(rq, MHD_HTTP_OK, j);
}

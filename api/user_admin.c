/* SPDX-License-Identifier: Apache-2.0 */
/* The users' management, for admins: GET and POST /api/v1/users, POST /api/v1/users/NAME. */
#include "config.h"

#include <stdio.h>

#include "api/http-internal.h"
#include "api/roles.h"
#include "common/util.h"

/* GET /api/v1/users: every user (no hash, no secret). */
enum MHD_Result api_get_users(struct request *rq)
{
	json_t *items = json_array();

	if (!items || accounts_list(http_accounts(rq), items) < 0) {
		json_decref(items);
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read the users");
	}
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

/* POST /api/v1/users {"name","role","password"}: 201; the user changes the password at the first login. */
enum MHD_Result api_post_user(struct request *rq)
{
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered);
	const char *name, *role, *pw;
	char why[256] = "";
	int r;

	if (!body)
		return answered;
	name = json_string_value(json_object_get(body, "name"));
	role = json_string_value(json_object_get(body, "role"));
	pw = json_string_value(json_object_get(body, "password"));
	audit_detail(rq, "user %.64s, role %.32s", name ? name : "?", role ? role : "?");
	if (role_check(role, why, sizeof(why))) {
		answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "role: %s", why);
	} else if (!name || !pw) {
		answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					 "expected {\"name\": ..., \"role\": ..., \"password\": ...}");
	} else {
		r = accounts_create(http_accounts(rq), name, role, pw, true, now_realtime_us(), why, sizeof(why));
		answered = r == 0 ? respond_json(rq, MHD_HTTP_CREATED,
						 json_pack("{s:s, s:s, s:b}", "name", name, "role", role,
							   "must_change_password", 1)) :
				    respond_errno(rq, r, why);
	}
	json_decref(body);
	return answered;
}

/* The action of POST /api/v1/users/NAME on name; why says what is wrong. */
static int act(struct request *rq, const char *name, const char *action, json_t *body, char *why, size_t size)
{
	const char *role = json_string_value(json_object_get(body, "role"));
	const char *pw = json_string_value(json_object_get(body, "password"));
	uint64_t now = now_realtime_us();
	char expected[160];

	/* An admin who disables or demotes themselves could leave no one to undo it. */
	if (strcmp(name, rq->user) == 0 && strcmp(action, "reset-password") != 0) {
		(void)snprintf(why, size, "an admin cannot %s their own user: ask another admin", action);
		return -EPERM;
	}
	if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0)
		return accounts_set_disabled(http_accounts(rq), name, action[0] == 'd', now);
	if (strcmp(action, "role") == 0) {
		if (role_check(role, expected, sizeof(expected))) {
			(void)snprintf(why, size, "role: %s", expected);
			return -EINVAL;
		}
		audit_detail(rq, "user %s: role %s", name, role);
		return accounts_set_role(http_accounts(rq), name, role, now);
	}
	if (strcmp(action, "reset-password") == 0) {
		if (!pw) {
			(void)snprintf(why, size, "reset-password: expected \"password\"");
			return -EINVAL;
		}
		return accounts_reset_password(http_accounts(rq), name, pw, now, why, size);
	}
	(void)snprintf(why, size, "action: expected disable, enable, role or reset-password");
	return -EINVAL;
}

/* POST /api/v1/users/NAME {"action": "disable"|"enable"|"role"|"reset-password", "role", "password"}. */
enum MHD_Result api_post_user_action(struct request *rq)
{
	const char *name = rq->url + strlen("/api/v1/users/");
	enum MHD_Result answered;
	json_t *body;
	const char *action;
	char why[256] = "";
	int r;

	if (!name_valid(name, USER_NAME_MAX, "@"))
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/users/NAME");
	body = request_object(rq, false, &answered);
	if (!body)
		return answered;
	action = json_string_value(json_object_get(body, "action"));
	audit_detail(rq, "user %s: %.32s", name, action ? action : "?");
	r = action ? act(rq, name, action, body, why, sizeof(why)) : -EINVAL;
	if (r == -ENOENT)
		(void)snprintf(why, sizeof(why), "no user %s", name);
	if (r == -EINVAL && !why[0])
		(void)snprintf(why, sizeof(why), "expected {\"action\": disable|enable|role|reset-password, ...}");
	answered = r < 0 ? respond_errno(rq, r, why) :
			   respond_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:s}", "name", name, "done", action));
	json_decref(body);
	return answered;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "common/util.h"
#include "api/accounts.h"
#include "api/http-internal.h"
#include "api/roles.h"

/* API tokens: the users of the API, each with one role (admin only). */

#define TOKEN_NAME_MAX 64

static int add_token(const char *name, const char *role, uint64_t created, const uint8_t hash[SHA256_SIZE], void *ctx)
{
	(void)hash;
	(void)json_array_append_new(ctx, json_pack("{s:s, s:s, s:I}", "name", name, "role", role, "created",
						   (json_int_t)created));
	return 0;
}

/* GET /api/v1/tokens: every token's name, role and creation time; never the token. */
enum MHD_Result api_get_tokens(struct request *rq)
{
	json_t *items = json_array();

	int r = items ? accounts_tokens_each(http_accounts(rq), add_token, items) : -ENOMEM;

	if (r < 0) {
		json_decref(items);
		return respond_errno(rq, r, "cannot read the tokens");
	}
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

/* POST /api/v1/tokens {"name":"…","role":"…"}: 201 with the token, shown this once. */
enum MHD_Result api_post_token(struct request *rq)
{
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered);
	const char *name, *role;
	char *token = NULL, why[160];
	int r;

	if (!body)
		return answered;
	name = json_string_value(json_object_get(body, "name"));
	role = json_string_value(json_object_get(body, "role"));
	audit_detail(rq, "token %.64s, role %.32s", name ? name : "?", role ? role : "?");
	if (!name_valid(name, TOKEN_NAME_MAX, "@")) {
		json_decref(body);
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "name: 1 to %d letters, digits, '_', '.', '@' or '-'", TOKEN_NAME_MAX);
	}
	if (role_check(role, why, sizeof(why))) {
		json_decref(body);
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "role: %s", why);
	}
	r = accounts_token_create(http_accounts(rq), name, role, now_realtime_us(), &token);
	if (r == 0)
		answered = respond_json(rq, MHD_HTTP_CREATED,
					json_pack("{s:s, s:s, s:s}", "name", name, "role", role, "token", token));
	else if (r == -EEXIST)
		answered = respond_error(rq, MHD_HTTP_CONFLICT, "conflict", "a token named %s exists", name);
	else
		answered = respond_errno(rq, r, "cannot create the token");
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	json_decref(body);
	return answered;
}

/* DELETE /api/v1/tokens/NAME: revoked at once; not the token asking (that would lock its user out mid-call). */
enum MHD_Result api_delete_token(struct request *rq)
{
	const char *name = rq->url + strlen("/api/v1/tokens/");
	int r;

	if (!name_valid(name, TOKEN_NAME_MAX, "@"))
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/tokens/NAME");
	audit_detail(rq, "token %s revoked", name);
	if (strcmp(name, rq->user) == 0)
		return respond_error(rq, MHD_HTTP_CONFLICT, "conflict",
				     "a token cannot revoke itself; use another admin token");
	r = accounts_token_delete(http_accounts(rq), name);
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no token named %s", name);
	if (r < 0)
		return respond_errno(rq, r, "cannot revoke the token");
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:b}", "name", name, "revoked", 1));
}

/* SPDX-License-Identifier: Apache-2.0 */
/* GET /api/v1/verify (the chains and the seals) and GET /api/v1/seals. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "api/audit.h"
#include "api/http-internal.h"
#include "api/http.h"
#include "common/conf.h"
#include "common/util.h"
#include "store/sealing.h"
#include "store/storage.h"

static void add_problem(uint32_t day, int64_t block, const char *what, void *userdata)
{
	char id[64];

	(void)snprintf(id, sizeof(id), "%u-%" PRId64, day, block);
	json_array_append_new(userdata, json_pack("{s:s, s:s}", "block", id, "problem", what));
}

static void add_seal_problem(int64_t seal, const char *what, void *userdata)
{
	json_array_append_new(userdata, json_pack("{s:I, s:s}", "seal", (json_int_t)seal, "problem", what));
}

/* The seals' part of the answer, or NULL with *err set when they cannot be read. */
static json_t *seals_part(struct request *rq, int *err)
{
	const struct sealkey *key = http_seal_key(rq);
	struct seal_audit audit = audit_sealed(http_audit_log(rq));
	json_t *problems = json_array();
	struct seals_report rep;
	char when[64];

	*err = seals_verify(rq->rd, key, &audit,
			    storage_retention_cutoff(now_realtime_us(), http_storage_conf(rq)->retention_days), 100,
			    add_seal_problem, problems, &rep);
	if (*err < 0) {
		json_decref(problems);
		return NULL;
	}
	format_rfc3339_us(rep.newest_made, when, sizeof(when));
	return json_pack("{s:b, s:s?, s:s?, s:I, s:I, s:I, s:s?, s:i, s:o}", "ok", rep.problems == 0, "method",
			 key ? sealkey_method(key) : NULL, "key", key ? sealkey_id(key) : NULL, "checked",
			 (json_int_t)rep.checked, "unchecked", (json_int_t)rep.unchecked, "expired",
			 (json_int_t)rep.expired, "newest", rep.newest_made ? when : NULL, "problem_count", rep.problems,
			 "problems", problems);
}

enum MHD_Result api_get_verify(struct request *rq)
{
	json_t *problems = json_array(), *seals = NULL;
	uint64_t blocks = 0, audit_rows = 0;
	int64_t audit_bad = 0;
	int r = storage_verify(rq->rd, &blocks, 100, add_problem, problems), ra = 0, rs = 0;

	if (r >= 0)
		ra = audit_verify(http_audit_log(rq), &audit_rows, &audit_bad);
	if (r >= 0 && ra == 0)
		seals = seals_part(rq, &rs);
	if (r < 0 || ra < 0 || rs < 0) {
		json_decref(problems);
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read the store: %s",
				     strerror(r < 0 ? -r : ra < 0 ? -ra : -rs));
	}
	return respond_json(rq, MHD_HTTP_OK,
			    json_pack("{s:b, s:s, s:I, s:i, s:o, s:{s:b, s:s, s:I, s:I}, s:o}", "ok",
				      r == 0 && audit_bad == 0 && json_is_true(json_object_get(seals, "ok")), "hash",
				      hash_name(http_storage_hash(rq)), "blocks", (json_int_t)blocks, "problem_count", r,
				      "problems", problems, "audit", "ok", audit_bad == 0, "hash",
				      hash_name(audit_hash(http_audit_log(rq))), "rows", (json_int_t)audit_rows,
				      "first_bad", (json_int_t)audit_bad, "seals", seals));
}

/* GET /api/v1/seals?cursor=&limit=: oldest first, paged by id. */
enum MHD_Result api_get_seals(struct request *rq)
{
	const char *cursor = arg(rq, "cursor");
	uint64_t after = 0;
	uint32_t limit = 100;
	json_t *items;
	int64_t last;
	char next[32];
	int r;

	if (cursor && (conf_parse_uint(cursor, &after) < 0 || after > INT64_MAX))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "cursor: expected a next_cursor value from an earlier answer");
	if (limit_arg(rq, &limit) < 0)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "limit: expected 1..%" PRIu64,
				     http_conf_of(rq)->max_limit);
	r = seals_page(storage_reader_meta(rq->rd), (int64_t)after, limit, &items, &last);
	if (r < 0)
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read the seals: %s",
				     strerror(-r));
	(void)snprintf(next, sizeof(next), "%" PRId64, last);
	(void)snprintf(rq->cursor_out, sizeof(rq->cursor_out), "%s", next);
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o, s:s}", "items", items, "next_cursor", next));
}

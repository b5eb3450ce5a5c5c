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
#include "store/copies.h"
#include "store/pgstore.h"
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

/* The seals' part of the answer (with pg, the shared store's chains they bind), or NULL with *err set. */
static json_t *seals_part(struct request *rq, struct pgstore *pg, int *err)
{
	const struct sealkey *key = http_seal_key(rq);
	struct seal_audit audit = audit_sealed(http_audit_log(rq));
	struct seal_shared shared = copies_sealed(pg);
	json_t *problems = json_array();
	struct seals_report rep;
	char when[64];

	*err = seals_verify(rq->rd, key, &audit, pg ? &shared : NULL,
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

/* The shared store's chains (pgstore_verify_chains()): its part of the answer, or NULL with *err set. */
static json_t *shared_part(struct pgstore *pg, int *err)
{
	json_t *problems = json_array();
	struct pgstore_chains_check v = { .max_problems = 100, .problem = add_problem, .userdata = problems };

	*err = pgstore_verify_chains(pg, &v);
	if (*err < 0) {
		json_decref(problems);
		return NULL;
	}
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:o}", "ok", v.problems == 0, "chains", (json_int_t)v.chains,
			 "blocks", (json_int_t)v.blocks, "unchained", (json_int_t)v.unchained, "problem_count",
			 (json_int_t)v.problems, "problems", problems);
}

enum MHD_Result api_get_verify(struct request *rq)
{
	json_t *problems = json_array(), *seals = NULL, *shared = NULL;
	uint64_t blocks = 0, audit_rows = 0;
	int64_t audit_bad = 0;
	struct pgstore *pg = NULL;
	int r = storage_verify(rq->rd, &blocks, 100, add_problem, problems), ra = 0, rs = 0, rp = 0;

	if (r >= 0)
		ra = audit_verify(http_audit_log(rq), &audit_rows, &audit_bad);
	if (r >= 0 && ra == 0 && (rp = storage_reader_shared(rq->rd, &pg)) == 1)
		shared = shared_part(pg, &rp);
	if (r >= 0 && ra == 0 && rp >= 0)
		seals = seals_part(rq, pg, &rs);
	if (rp < 0) {
		json_decref(problems);
		return respond_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
				     "cannot read the shared store's chains: %s", strerror(-rp));
	}
	if (r < 0 || ra < 0 || rs < 0) {
		json_decref(problems);
		json_decref(shared);
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot read the store: %s",
				     strerror(r < 0 ? -r : ra < 0 ? -ra : -rs));
	}
	return respond_json(rq, MHD_HTTP_OK,
			    json_pack("{s:b, s:s, s:I, s:i, s:o, s:{s:b, s:s, s:I, s:I}, s:o, s:o?}", "ok",
				      r == 0 && audit_bad == 0 && json_is_true(json_object_get(seals, "ok")) &&
					      (!shared || json_is_true(json_object_get(shared, "ok"))),
				      "hash",
				      hash_name(http_storage_hash(rq)), "blocks", (json_int_t)blocks, "problem_count", r,
				      "problems", problems, "audit", "ok", audit_bad == 0, "hash",
				      hash_name(audit_hash(http_audit_log(rq))), "rows", (json_int_t)audit_rows,
				      "first_bad", (json_int_t)audit_bad, "seals", seals, "shared", shared));
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

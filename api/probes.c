/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/json.h"
#include "common/util.h"
#include "api/http-internal.h"
#include "store/fleet.h"

static json_t *text(struct bytes b)
{
	return json_bytes((const uint8_t *)b.p, b.len);
}

static const char *const statuses[] = { "ok", "warning", "critical", "unknown", NULL };

static bool known_status(const char *s)
{
	for (const char *const *k = statuses; *k; k++)
		if (strcmp(*k, s) == 0)
			return true;
	return false;
}

json_t *probe_state_json(const struct probe_state_row *p)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:I, s:o}", "host", text(p->host), "name", text(p->name),
			 "type", text(p->type), "status", text(p->status), "latency_us", (json_int_t)p->latency_us,
			 "message", text(p->message), "ts", (json_int_t)p->ts, "agent",
			 json_bytes((const uint8_t *)p->agent, strlen(p->agent)));
}

int probe_state_append(const struct probe_state_row *p, void *ctx)
{
	return json_array_append_new(ctx, probe_state_json(p));
}

/* GET /api/v1/probes?host=&status=: the latest result of every probe of every host. */
enum MHD_Result api_get_probes(struct request *rq)
{
	struct probe_state_filter f = { .host = arg(rq, "host"), .status = arg(rq, "status") };
	json_t *items;
	int r;

	if (f.status && !known_status(f.status))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "status: expected ok, warning, critical or unknown");
	items = json_array();
	r = fleet_probes_each(rq->rd, &f, probe_state_append, items);
	if (r < 0) {
		json_decref(items);
		return respond_errno(rq, r, "cannot read the probes");
	}
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

/* Splits "HOST/NAME/history" (URL-decoded by libmicrohttpd) at the slashes. */
static int split_history_path(const char *rest, char *host, size_t hsz, char *name, size_t nsz)
{
	const char *slash = strchr(rest, '/'), *hist;
	size_t hl, nl;

	if (!slash)
		return -EINVAL;
	hist = strrchr(slash + 1, '/');
	if (!hist || strcmp(hist, "/history") != 0)
		return -EINVAL;
	hl = (size_t)(slash - rest);
	nl = (size_t)(hist - slash - 1);
	if (!hl || !nl || hl >= hsz || nl >= nsz)
		return -EINVAL;
	memcpy(host, rest, hl);
	host[hl] = 0;
	memcpy(name, slash + 1, nl);
	name[nl] = 0;
	return 0;
}

#define HISTORY_MAX 10000

/* What one GET .../history reads, and has found so far. */
struct history_query {
	uint64_t since, until;
	json_t *items;
	size_t rows;
	bool truncated;
	struct answer_budget budget;
	uint64_t last_ts;
};

static int add_result(const struct probe_result *p, void *ctx)
{
	struct history_query *q = ctx;

	if (q->rows++ == HISTORY_MAX || !answer_budget_take(&q->budget, p->message_len + p->type_len)) {
		q->truncated = true;
		return 1;
	}
	q->last_ts = p->ts;
	json_array_append_new(q->items, json_pack("{s:I, s:o, s:I, s:o, s:o}", "ts", (json_int_t)p->ts, "status",
						  json_bytes((const uint8_t *)p->status, p->status_len), "latency_us",
						  (json_int_t)p->latency_us, "message",
						  json_bytes((const uint8_t *)p->message, p->message_len), "type",
						  json_bytes((const uint8_t *)p->type, p->type_len)));
	return 0;
}

/* GET /api/v1/probes/{host}/{name}/history?since=&until=: results in time order, from the shards. */
enum MHD_Result api_get_probe_history(struct request *rq)
{
	char host[256], name[512];
	struct history_query q = { .budget = answer_budget(rq) };
	json_t *j;
	int r;

	if (split_history_path(rq->url + strlen("/api/v1/probes/"), host, sizeof(host), name, sizeof(name)) < 0)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found",
				     "expected /api/v1/probes/HOST/NAME/history");
	if (since_until_args(rq, &q.since, &q.until) < 0)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", SINCE_UNTIL_HELP);
	q.items = json_array();
	r = fleet_probe_history(rq->rd, host, name, q.since, q.until, HISTORY_MAX + 1, add_result, &q);
	if (r < 0) {
		json_decref(q.items);
		return respond_errno(rq, r, "cannot read the probe's results");
	}
	j = json_pack("{s:o, s:o, s:o, s:b}", "host", json_bytes((const uint8_t *)host, strlen(host)), "name",
		      json_bytes((const uint8_t *)name, strlen(name)), "items", q.items, "truncated", q.truncated);
	/* Oldest first: the next page starts after the newest shown (a since= value, to the microsecond). */
	if (q.truncated) {
		char next[40];
		format_rfc3339_us(q.last_ts + 1, next, sizeof(next));
		json_object_set_new(j, "next_since", json_string(next));
	}
	return respond_json(rq, MHD_HTTP_OK, j);
}

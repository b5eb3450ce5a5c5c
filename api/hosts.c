/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "common/json.h"
#include "common/util.h"
#include "api/http-internal.h"
#include "control/vantages.h"
#include "control/groups.h"
#include "store/fleet.h"

/* A JSON text as JSON, or an empty object. */
static json_t *json_or_empty(const char *v)
{
	json_t *j = v ? json_loads(v, 0, NULL) : NULL;

	return j ? j : json_object();
}

/* A host's agent id is shown as in conflict for a day after the last batch refused for it. */
#define CONFLICT_SHOWN_US (24 * 3600 * USEC_PER_SEC)

static int conflict_json(const struct agent_conflict *c, void *ctx)
{
	return json_object_set_new(ctx, c->agent,
				   json_pack("{s:s, s:I, s:I, s:I, s:I}", "hosts", c->hosts ? c->hosts : "", "seq",
					     (json_int_t)c->seq, "batches_refused", (json_int_t)c->count, "first_seen",
					     (json_int_t)c->first_seen, "last_seen", (json_int_t)c->last_seen));
}

/* What a listing needs: the ids two hosts send with (cloned VMs), read once, not once a host (a round trip each on PostgreSQL). */
struct hosts_answer {
	const struct request *rq;
	json_t *items;
	json_t *conflicts; /* by agent id: the hosts named */
};

static int answer_init(struct hosts_answer *a, struct request *rq)
{
	uint64_t now = now_realtime_us();

	*a = (struct hosts_answer){ rq, json_array(), json_object() };
	return fleet_conflicts_each(rq->rd, NULL, now - MIN(now, CONFLICT_SHOWN_US), conflict_json, a->conflicts);
}

static void answer_free(struct hosts_answer *a)
{
	json_decref(a->items);
	json_decref(a->conflicts);
}

/* The version of the central configuration the host should run (docs/control.md), by the labels it reported. */
static json_int_t config_expected(const struct hosts_answer *a, const struct host_row *h, json_t *labels)
{
	char text[1024];

	if (!labels_text_of_json(labels, text, sizeof(text)))
		return 0;
	return config_groups_version_for(http_groups(a->rq), text, h->id);
}

static json_t *host_json(const struct hosts_answer *a, const struct host_row *h)
{
	uint64_t now = now_realtime_us();
	bool silent = now - MIN(now, h->last_seen) > http_silent_after_us(a->rq);
	json_t *conflict = json_object_get(a->conflicts, h->id), *labels = json_or_empty(h->labels);
	json_int_t expected = config_expected(a, h, labels);

	return json_pack("{s:s, s:o, s:I, s:I, s:s, s:I, s:I, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o, s:I}",
			 "id", h->id, "hostname", json_bytes((const uint8_t *)h->hostname.p, h->hostname.len),
			 "first_seen", (json_int_t)h->first_seen, "last_seen", (json_int_t)h->last_seen,
			 "status", silent ? "silent" : "up", "batches", (json_int_t)h->batches,
			 "records", (json_int_t)h->records, "inventory", json_or_empty(h->inventory),
			 "labels", labels, "probes", "ok", (json_int_t)h->probes[0],
			 "warning", (json_int_t)h->probes[1], "critical", (json_int_t)h->probes[2],
			 "unknown", (json_int_t)h->probes[3], "id_conflict", conflict ? json_incref(conflict) : json_null(),
			 "certificate", h->certificate ? json_string(h->certificate) : json_null(),
			 "config_expected", expected);
}

static int add_host(const struct host_row *h, void *ctx)
{
	struct hosts_answer *a = ctx;

	return json_array_append_new(a->items, host_json(a, h));
}

/* GET /api/v1/hosts: every host, with inventory, labels, up/silent and probe counts. */
enum MHD_Result api_get_hosts(struct request *rq)
{
	struct hosts_answer a;
	/* The collector's own identity (its dial tests) is no host of the fleet: /api/v1/dialtests shows it. */
	struct host_filter all = { 0 };
	int r = answer_init(&a, rq);

	if (r == 0)
		r = fleet_hosts_each(rq->rd, &all, add_host, &a);
	if (r < 0) {
		answer_free(&a);
		return respond_errno(rq, r, "cannot read the hosts");
	}
	json_decref(a.conflicts);
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "items", a.items));
}

/* GET /api/v1/hosts/{id}: one host (by agent id or host name) and its probes' latest results. */
enum MHD_Result api_get_host(struct request *rq)
{
	const char *id = rq->url + strlen("/api/v1/hosts/");
	struct hosts_answer a;
	struct host_filter one = { .id_or_name = id };
	struct probe_state_filter of_host = { 0 };
	json_t *host, *probes;
	int r;

	if (strchr(id, '/'))
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/hosts/ID");
	r = answer_init(&a, rq);
	if (r == 0)
		r = fleet_hosts_each(rq->rd, &one, add_host, &a);
	if (r < 0) {
		answer_free(&a);
		return respond_errno(rq, r, "cannot read the host");
	}
	host = json_incref(json_array_get(a.items, 0));
	answer_free(&a);
	if (!host)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no host %s", id);
	probes = json_array();
	of_host.agent = json_string_value(json_object_get(host, "id"));
	r = fleet_probes_each(rq->rd, &of_host, probe_state_append, probes);
	json_object_set_new(host, "probe_results", probes);
	if (r < 0) {
		json_decref(host);
		return respond_errno(rq, r, "cannot read the host's probes");
	}
	return respond_json(rq, MHD_HTTP_OK, host);
}

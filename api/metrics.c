/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/json.h"
#include "common/util.h"
#include "alerts/catalog.h"
#include "api/http-internal.h"
#include "search/logseries.h"
#include "store/fleet.h"

#include "common/metrics.h"

#define POINTS_MAX 100000
#define POINTS_TARGET 500

/* One bucket of one series, as SQLite gives it per shard; merged across shards. */
struct point {
	char *host, *instance;
	int64_t bucket;
	double sum, min, max;
	int64_t count;
};

static int point_cmp(const void *a, const void *b)
{
	const struct point *x = a, *y = b;
	int c = strcmp(x->host, y->host);

	if (!c)
		c = strcmp(x->instance, y->instance);
	if (!c)
		c = x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
	return c;
}

struct points {
	struct point *p;
	size_t n, cap;
};

static void points_free(struct points *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->p[i].host);
		free(ps->p[i].instance);
	}
	free(ps->p);
}

static int add_bucket(const struct metric_bucket *m, void *ctx)
{
	struct points *ps = ctx;
	struct point *pt;

	if (ps->n == POINTS_MAX)
		return -E2BIG;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 256;
		struct point *grown = realloc(ps->p, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		ps->p = grown;
		ps->cap = cap;
	}
	pt = &ps->p[ps->n];
	pt->host = strdup(m->host);
	pt->instance = strdup(m->instance);
	if (!pt->host || !pt->instance) {
		free(pt->host);
		free(pt->instance);
		return -ENOMEM;
	}
	pt->bucket = m->bucket;
	pt->sum = m->sum;
	pt->min = m->min;
	pt->max = m->max;
	pt->count = m->count;
	ps->n++;
	return 0;
}

/* Sorted points into [{"host","instance","points":[[ts, avg, min, max], ...]}], merging split buckets. */
static json_t *series_json(struct points *ps)
{
	json_t *series = json_array(), *cur = NULL, *points = NULL;

	if (ps->n)
		qsort(ps->p, ps->n, sizeof(*ps->p), point_cmp);
	for (size_t i = 0; i < ps->n; i++) {
		struct point *pt = &ps->p[i];
		if (i + 1 < ps->n && point_cmp(pt, &ps->p[i + 1]) == 0) {
			struct point *next = &ps->p[i + 1];
			next->sum += pt->sum;
			next->count += pt->count;
			next->min = pt->min < next->min ? pt->min : next->min;
			next->max = pt->max > next->max ? pt->max : next->max;
			continue;
		}
		if (!cur || strcmp(json_string_value(json_object_get(cur, "host")), pt->host) ||
		    strcmp(json_string_value(json_object_get(cur, "instance")), pt->instance)) {
			points = json_array();
			cur = json_pack("{s:o, s:o, s:o}", "host", json_bytes((const uint8_t *)pt->host, strlen(pt->host)),
					"instance", json_bytes((const uint8_t *)pt->instance, strlen(pt->instance)),
					"points", points);
			json_array_append_new(series, cur);
		}
		json_array_append_new(points, json_pack("[I, f, f, f]", (json_int_t)pt->bucket,
							 pt->sum / (double)pt->count, pt->min, pt->max));
	}
	return series;
}

/* Whether any collector holds a point of the metric: an empty answer means a quiet range, not a typo. */
static int metric_known(struct request *rq, const char *name)
{
	char metric[LOGMETRIC_NAME_MAX + 1];
	enum logstat st;

	return logstat_parse(name, metric, &st) == 0 ? fleet_metric_known(rq->rd, metric, true)
						     : fleet_metric_known(rq->rd, name, false);
}

/* Whether a log metric called name is defined now: its series are known before it stored anything. */
static bool logmetric_defined(struct request *rq, const char *name)
{
	struct logmetrics *m = catalog_logmetrics(http_catalog(rq));
	bool found = logmetrics_find(m, name) != NULL;

	logmetrics_unref(m);
	return found;
}

static int add_part(const struct logmetric_part *p, void *ctx)
{
	/* A chart shows hosts: agents of one host name are one series. */
	return logseries_add(ctx, "", p->host, p->labels, p->ts, p->count, p->sketch, p->sketch_len);
}

static int put_log_point(const char *agent, const char *host, const char *labels, uint64_t bucket, double value,
			 void *ctx)
{
	return add_bucket(&(struct metric_bucket){ .host = host, .instance = labels, .bucket = (int64_t)bucket,
						   .sum = value, .min = value, .max = value, .count = 1 }, ctx);
}

/*
 * A log metric's buckets into ps: the rows of every shard (or collector)
 * merged first (a step's rows may lie in two), then the statistic of each.
 */
static int log_points(struct request *rq, const char *metric, enum logstat st, const char *host, uint64_t since,
		      uint64_t until, uint64_t step_us, struct points *ps)
{
	struct logseries *ls = NULL;
	int r = logseries_new(step_us, &ls);

	if (r == 0)
		r = fleet_logmetric_rows(rq->rd, metric, host, since, until, false, add_part, ls);
	if (r == 0)
		r = logseries_each(ls, st, put_log_point, ps);
	logseries_free(ls);
	return r;
}

/* GET /api/v1/metrics?name=&host=&since=&until=&step=: a metric's series, downsampled to step. */
enum MHD_Result api_get_metrics(struct request *rq)
{
	const char *name = arg(rq, "name"), *host = arg(rq, "host"), *step_s = arg(rq, "step");
	uint64_t now = now_realtime_us(), since = now - 3600 * USEC_PER_SEC, until = now, step_ms = 0;
	char metric[LOGMETRIC_NAME_MAX + 1];
	struct points ps = { 0 };
	enum logstat st;
	json_t *series;
	int r, log, known = 0;

	if (!name)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "name: required, e.g. cpu.user_pct, memory.used_pct, filesystem.used_pct");
	log = logstat_parse(name, metric, &st);
	if (log == -EINVAL)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "name: a log metric is log.NAME.STAT, STAT one of " LOGSTAT_NAMES);
	if (since_until_args(rq, &since, &until) < 0 || until < since)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "since/until: expected RFC 3339, epoch seconds, or a duration ago, since <= until");
	if (step_s && (conf_parse_duration_ms(step_s, 1000, &step_ms) < 0 || step_ms < 1000))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "step: a duration of 1s or more");
	/* Without a step, about POINTS_TARGET points a series. */
	if (!step_ms)
		step_ms = MAX((until - since) / 1000 / POINTS_TARGET, UINT64_C(10000));
	r = log == 0 ? log_points(rq, metric, st, host, since, until, step_ms * 1000, &ps) :
		       fleet_metric_buckets(rq->rd, name, host, since, until, step_ms * 1000, add_bucket, &ps);
	if (r == 0 && !ps.n && !(log == 0 && logmetric_defined(rq, metric)))
		r = known = metric_known(rq, name);
	if (r < 0) {
		points_free(&ps);
		return r == -E2BIG ? respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
						   "more than %d points: ask for a larger step or a shorter range", POINTS_MAX)
				   : respond_errno(rq, r, "cannot read the metric");
	}
	if (!ps.n && !(log == 0 && logmetric_defined(rq, metric)) && !known) {
		points_free(&ps);
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found",
				     "no metric named %s is stored; names are <set>.<field>, e.g. cpu.user_pct, "
				     "memory.used_pct, filesystem.used_pct, agent.rss_bytes, or log.NAME.STAT of a "
				     "[logmetric] section", name);
	}
	series = series_json(&ps);
	points_free(&ps);
	return respond_json(rq, MHD_HTTP_OK,
			    json_pack("{s:o, s:I, s:I, s:I, s:o}", "name", json_bytes((const uint8_t *)name, strlen(name)),
				      "step_ms", (json_int_t)step_ms, "since", (json_int_t)since, "until",
				      (json_int_t)until, "series", series));
}

/* GET /metrics: the collector's own counters, in Prometheus' text format. */
enum MHD_Result api_get_self_metrics(struct request *rq)
{
	struct buf b;

	buf_init(&b, 1024 * 1024);
	if (metrics_render(&b) < 0) {
		buf_free(&b);
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "metrics too large");
	}
	return respond_bytes(rq, MHD_HTTP_OK, "text/plain; version=0.0.4", (char *)TAKE_PTR(b.data), b.len, NULL);
}

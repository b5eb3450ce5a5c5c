/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <nng/nng.h>
#include <pthread.h>
#include <string.h>

#include "common/macro.h"
#include "common/metrics.h"

struct metrics metrics;
static atomic_uint_fast32_t watched_socket;

static pthread_mutex_t extra_lock = PTHREAD_MUTEX_INITIALIZER;
static int (*extra_render)(struct buf *out, void *ctx);
static void *extra_ctx;

void metrics_set_extra(int (*render)(struct buf *out, void *ctx), void *ctx)
{
	pthread_mutex_lock(&extra_lock);
	extra_render = render;
	extra_ctx = ctx;
	pthread_mutex_unlock(&extra_lock);
}

/* The extra part's counters, under the lock that metrics_set_extra() takes to unset it. */
static int render_extra(struct buf *out)
{
	int r = 0;

	pthread_mutex_lock(&extra_lock);
	if (extra_render)
		r = extra_render(out, extra_ctx);
	pthread_mutex_unlock(&extra_lock);
	return r;
}

void metrics_watch_socket(uint32_t id)
{
	atomic_store(&watched_socket, id);
}

/* The listener statistics worth an operator's eye, with what they mean. */
static const struct {
	const char *stat;
	const char *reason;
} transport_stats[] = {
	{ "proto", "protocol" },  /* not an SP peer, or a bad handshake: garbage on the socket */
	{ "auth", "tls_auth" },   /* TLS peer without an acceptable certificate */
};

static uint64_t child_value(nng_stat *node, const char *name)
{
	for (nng_stat *c = nng_stat_child(node); c; c = nng_stat_next(c))
		if (strcmp(nng_stat_name(c), name) == 0)
			return nng_stat_value(c);
	return 0;
}

static int render_transport(struct buf *o)
{
	uint64_t sum[ARRAY_SIZE(transport_stats)] = { 0 };
	uint32_t id = atomic_load(&watched_socket);
	nng_stat *all;
	int r;

	if (!id || nng_stats_get(&all) != 0)
		return 0;
	for (nng_stat *n = all ? nng_stat_child(all) : NULL; n; n = nng_stat_next(n)) {
		if (strcmp(nng_stat_name(n), "listener") != 0 || child_value(n, "socket") != id)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(transport_stats); i++)
			sum[i] += child_value(n, transport_stats[i].stat);
	}
	nng_stats_free(all);
	r = buf_printf(o, "# HELP vigil_ingest_transport_errors_total Connections dropped before a batch "
			  "could be read, by reason.\n# TYPE vigil_ingest_transport_errors_total counter\n");
	for (size_t i = 0; i < ARRAY_SIZE(transport_stats); i++)
		r |= buf_printf(o, "vigil_ingest_transport_errors_total{reason=\"%s\"} %" PRIu64 "\n",
				transport_stats[i].reason, sum[i]);
	return r;
}

#define LOAD(x) ((uint64_t)atomic_load_explicit(&(x), memory_order_relaxed))

static int counter(struct buf *o, const char *name, const char *help, uint64_t v)
{
	return buf_printf(o, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name, v);
}

static int render_syslog(struct buf *o)
{
	int r = buf_printf(o, "# HELP vigil_syslog_messages_total Syslog messages received, by transport.\n"
			      "# TYPE vigil_syslog_messages_total counter\n"
			      "vigil_syslog_messages_total{transport=\"udp\"} %" PRIu64 "\n"
			      "vigil_syslog_messages_total{transport=\"tcp\"} %" PRIu64 "\n"
			      "vigil_syslog_messages_total{transport=\"tls\"} %" PRIu64 "\n",
			   LOAD(metrics.syslog_messages[0]), LOAD(metrics.syslog_messages[1]),
			   LOAD(metrics.syslog_messages[2]));

	r |= counter(o, "vigil_syslog_bytes_total", "Bytes of the syslog messages received.", LOAD(metrics.syslog_bytes));
	r |= counter(o, "vigil_syslog_unparsed_total",
		     "Syslog messages without a <PRI> or with a broken header, stored whole as their message.",
		     LOAD(metrics.syslog_unparsed));
	r |= counter(o, "vigil_syslog_truncated_total", "Syslog messages longer than max_message, cut there.",
		     LOAD(metrics.syslog_truncated));
	r |= counter(o, "vigil_syslog_dropped_total", "Syslog records dropped before they were stored (queue full).",
		     LOAD(metrics.syslog_dropped));
	r |= counter(o, "vigil_syslog_udp_overflows_total",
		     "Syslog datagrams the kernel dropped because the socket's buffer was full.",
		     LOAD(metrics.syslog_udp_overflows));
	r |= counter(o, "vigil_syslog_connections_total", "Syslog TCP and TLS connections accepted.",
		     LOAD(metrics.syslog_connections));
	r |= counter(o, "vigil_syslog_refused_total", "Syslog connections refused: max_connections were open.",
		     LOAD(metrics.syslog_refused));
	r |= counter(o, "vigil_syslog_tls_failures_total", "Syslog TLS handshakes that failed.",
		     LOAD(metrics.syslog_tls_failures));
	r |= buf_printf(o, "# HELP vigil_syslog_connections Syslog connections open.\n"
			   "# TYPE vigil_syslog_connections gauge\nvigil_syslog_connections %" PRId64 "\n",
			(int64_t)atomic_load(&metrics.syslog_connections_open));
	return r;
}

int metrics_render(struct buf *o)
{
	int r = 0;

	r |= buf_printf(o, "# HELP vigil_ingest_batches_total Batches received, by outcome.\n"
			   "# TYPE vigil_ingest_batches_total counter\n"
			   "vigil_ingest_batches_total{result=\"stored\"} %" PRIu64 "\n"
			   "vigil_ingest_batches_total{result=\"duplicate\"} %" PRIu64 "\n"
			   "vigil_ingest_batches_total{result=\"rejected\"} %" PRIu64 "\n"
			   "vigil_ingest_batches_total{result=\"retry\"} %" PRIu64 "\n"
			   "vigil_ingest_batches_total{result=\"conflict\"} %" PRIu64 "\n"
			   "vigil_ingest_batches_total{result=\"refused\"} %" PRIu64 "\n"
			   "vigil_ingest_batches_total{result=\"revoked\"} %" PRIu64 "\n",
			LOAD(metrics.batches_stored), LOAD(metrics.batches_duplicate),
			LOAD(metrics.batches_rejected), LOAD(metrics.batches_retry), LOAD(metrics.batches_conflict),
			LOAD(metrics.batches_refused), LOAD(metrics.batches_revoked));
	r |= counter(o, "vigil_ingest_records_total", "Records stored.", LOAD(metrics.records_stored));
	r |= buf_printf(o, "# HELP vigil_ingest_config_requests_total Agents' requests for their central configuration, by answer.\n"
			   "# TYPE vigil_ingest_config_requests_total counter\n"
			   "vigil_ingest_config_requests_total{result=\"ok\"} %" PRIu64 "\n"
			   "vigil_ingest_config_requests_total{result=\"none\"} %" PRIu64 "\n"
			   "vigil_ingest_config_requests_total{result=\"unavailable\"} %" PRIu64 "\n"
			   "vigil_ingest_config_requests_total{result=\"malformed\"} %" PRIu64 "\n",
			LOAD(metrics.config_ok), LOAD(metrics.config_none), LOAD(metrics.config_unavailable),
			LOAD(metrics.config_bad));
	r |= buf_printf(o, "# HELP vigil_ingest_cut_total Left out of the rows derived from batches by their limits"
			   " (the blocks keep every record).\n"
			   "# TYPE vigil_ingest_cut_total counter\n"
			   "vigil_ingest_cut_total{what=\"metric_rows\"} %" PRIu64 "\n"
			   "vigil_ingest_cut_total{what=\"probe_rows\"} %" PRIu64 "\n"
			   "vigil_ingest_cut_total{what=\"probe_message_bytes\"} %" PRIu64 "\n"
			   "vigil_ingest_cut_total{what=\"inventory_fields\"} %" PRIu64 "\n"
			   "vigil_ingest_cut_total{what=\"future_times\"} %" PRIu64 "\n"
			   "vigil_ingest_cut_total{what=\"logmetric_series\"} %" PRIu64 "\n",
			LOAD(metrics.cut_metric_rows), LOAD(metrics.cut_probe_rows), LOAD(metrics.cut_message_bytes),
			LOAD(metrics.cut_inventory_fields), LOAD(metrics.cut_future_times),
			LOAD(metrics.cut_logmetric_series));
	r |= counter(o, "vigil_ingest_unindexed_batches_total",
		     "Batches stored without a token index (too many distinct tokens): searches read them whole.",
		     LOAD(metrics.batches_unindexed));
	r |= counter(o, "vigil_ingest_index_bytes_total", "Bytes of the token indexes stored with the blocks.",
		     LOAD(metrics.index_bytes));
	r |= counter(o, "vigil_ingest_bytes_total", "Request bytes received (compressed).", LOAD(metrics.bytes_in));
	r |= counter(o, "vigil_ingest_raw_bytes_total", "Uncompressed bytes of stored batches.",
		     LOAD(metrics.raw_bytes_stored));
	r |= buf_printf(o, "# HELP vigil_ingest_errors_total Batches refused, by reason.\n"
			   "# TYPE vigil_ingest_errors_total counter\n");
	for (int e = 1; e < _FRAME_ERR_MAX; e++)
		r |= buf_printf(o, "vigil_ingest_errors_total{reason=\"%s\"} %" PRIu64 "\n",
				frame_error_name(e), LOAD(metrics.errors[e]));
	r |= counter(o, "vigil_ingest_connections_total", "Agent connections accepted.", LOAD(metrics.connections));
	r |= buf_printf(o, "# HELP vigil_ingest_connections Agent connections open.\n"
			   "# TYPE vigil_ingest_connections gauge\nvigil_ingest_connections %" PRId64 "\n",
			(int64_t)atomic_load(&metrics.connections_active));
	r |= counter(o, "vigil_storage_commits_total", "Storage group commits.", LOAD(metrics.commits));
	r |= buf_printf(o, "# HELP vigil_storage_commit_seconds_total Time spent in storage commits.\n"
			   "# TYPE vigil_storage_commit_seconds_total counter\n"
			   "vigil_storage_commit_seconds_total %.6f\n", (double)LOAD(metrics.commit_us) / 1e6);
	r |= render_transport(o);
	r |= counter(o, "vigil_http_requests_total", "HTTP requests served.", LOAD(metrics.http_requests));
	r |= counter(o, "vigil_http_unauthorized_total", "HTTP requests refused for a missing or bad token.",
		     LOAD(metrics.http_unauthorized));
	r |= counter(o, "vigil_http_errors_total", "HTTP requests answered with a 4xx/5xx other than 401.",
		     LOAD(metrics.http_errors));
	r |= counter(o, "vigil_alert_evaluations_total", "Evaluations of the alert rules.",
		     LOAD(metrics.alert_evaluations));
	r |= counter(o, "vigil_alert_evaluation_errors_total", "Evaluations of the alert rules that failed.",
		     LOAD(metrics.alert_evaluation_errors));
	r |= buf_printf(o, "# HELP vigil_alert_evaluation_seconds_total Time spent evaluating the alert rules.\n"
			   "# TYPE vigil_alert_evaluation_seconds_total counter\n"
			   "vigil_alert_evaluation_seconds_total %.6f\n", (double)LOAD(metrics.alert_evaluation_us) / 1e6);
	r |= buf_printf(o, "# HELP vigil_notifications_total Notification attempts, by outcome.\n"
			   "# TYPE vigil_notifications_total counter\n"
			   "vigil_notifications_total{result=\"sent\"} %" PRIu64 "\n"
			   "vigil_notifications_total{result=\"retry\"} %" PRIu64 "\n"
			   "vigil_notifications_total{result=\"failed\"} %" PRIu64 "\n",
			LOAD(metrics.notifications_sent), LOAD(metrics.notifications_retried),
			LOAD(metrics.notifications_failed));
	r |= buf_printf(o, "# HELP vigil_dialtest_runs_total Dial test runs, by outcome.\n"
			   "# TYPE vigil_dialtest_runs_total counter\n"
			   "vigil_dialtest_runs_total{outcome=\"ok\"} %" PRIu64 "\n"
			   "vigil_dialtest_runs_total{outcome=\"assertion_failed\"} %" PRIu64 "\n"
			   "vigil_dialtest_runs_total{outcome=\"probe_error\"} %" PRIu64 "\n",
			LOAD(metrics.dialtest_runs[0]), LOAD(metrics.dialtest_runs[1]), LOAD(metrics.dialtest_runs[2]));
	r |= counter(o, "vigil_dialtest_runs_skipped_total",
		     "Planned dial test starts missed: the test's last run was still going, or the limits held it.",
		     LOAD(metrics.dialtest_runs_skipped));
	r |= counter(o, "vigil_dialtest_results_dropped_total",
		     "Dial test results dropped before they were stored (queue full, or refused).",
		     LOAD(metrics.dialtest_results_dropped));
	r |= render_syslog(o);
	r |= render_extra(o);
	return r ? -ENOBUFS : 0;
}

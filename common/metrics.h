/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/frame.h"

/* The collector's own counters, updated from any thread, shown at GET /metrics. */
struct metrics {
	atomic_uint_fast64_t batches_stored;
	atomic_uint_fast64_t batches_duplicate;
	atomic_uint_fast64_t batches_conflict; /* (agent, seq) stored with another frame: two hosts, one id */
	atomic_uint_fast64_t batches_refused;  /* under TLS, an agent id another certificate holds */
	atomic_uint_fast64_t batches_revoked;  /* under TLS, with a certificate enrollment revoked */
	/* Left out of the rows derived from batches by their limits (verify.h): */
	atomic_uint_fast64_t cut_metric_rows, cut_probe_rows, cut_message_bytes, cut_inventory_fields, cut_future_times,
		cut_logmetric_series;
	atomic_uint_fast64_t batches_unindexed; /* stored without a token index: too many distinct tokens */
	atomic_uint_fast64_t index_bytes;       /* bytes of the stored blocks' token indexes */
	atomic_uint_fast64_t batches_rejected;
	atomic_uint_fast64_t batches_retry;
	/* Config requests (common/confmsg.h), by answer: */
	atomic_uint_fast64_t config_ok, config_none, config_unavailable, config_bad;
	atomic_uint_fast64_t records_stored;
	atomic_uint_fast64_t bytes_in;
	atomic_uint_fast64_t raw_bytes_stored;
	atomic_uint_fast64_t errors[_FRAME_ERR_MAX];
	atomic_uint_fast64_t connections;
	atomic_int_fast64_t connections_active;
	atomic_uint_fast64_t commits;
	atomic_uint_fast64_t commit_us;
	atomic_uint_fast64_t http_requests;
	atomic_uint_fast64_t http_unauthorized;
	atomic_uint_fast64_t http_errors;
	atomic_uint_fast64_t alert_evaluations;
	atomic_uint_fast64_t alert_evaluation_errors;
	atomic_uint_fast64_t alert_evaluation_us;
	atomic_uint_fast64_t notifications_sent;
	atomic_uint_fast64_t notifications_retried;
	atomic_uint_fast64_t notifications_failed; /* given up after the last attempt */
	atomic_uint_fast64_t dialtest_runs[3];      /* by outcome: ok, assertion_failed, probe_error */
	atomic_uint_fast64_t dialtest_runs_skipped; /* a planned start missed: the last run still going, or limits */
	atomic_uint_fast64_t dialtest_results_dropped;
	atomic_uint_fast64_t syslog_messages[3];   /* received, by transport: udp, tcp, tls */
	atomic_uint_fast64_t syslog_bytes;
	atomic_uint_fast64_t syslog_unparsed;      /* kept whole as their message: no <PRI>, or a broken header */
	atomic_uint_fast64_t syslog_truncated;     /* longer than max_message: cut there */
	atomic_uint_fast64_t syslog_dropped;       /* records dropped before they were stored */
	atomic_uint_fast64_t syslog_udp_overflows; /* datagrams the kernel dropped: the socket's buffer was full */
	atomic_uint_fast64_t syslog_connections;   /* TCP and TLS connections accepted */
	atomic_uint_fast64_t syslog_refused;       /* connections refused: max_connections open */
	atomic_uint_fast64_t syslog_tls_failures;  /* TLS handshakes that failed */
	atomic_int_fast64_t syslog_connections_open;
};

extern struct metrics metrics;

static inline void metrics_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/*
 * nng counts what never becomes a message (garbage, failed TLS handshakes,
 * oversized messages) per listener: metrics_render() includes the listener
 * statistics of this socket id.
 */
void metrics_watch_socket(uint32_t id);

/*
 * A part with counters of its own (labelled, one set per instance: the
 * forwarders) renders them after the rest; render(out, ctx) from any thread.
 * One part at a time; NULL unsets it, and returns once no render is running.
 */
void metrics_set_extra(int (*render)(struct buf *out, void *ctx), void *ctx);

/* Renders every counter in the Prometheus text format (0.0.4) into out. */
int metrics_render(struct buf *out);

#endif

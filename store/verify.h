/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_VERIFY_H
#define VIGIL_VERIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/logmatch.h"
#include "common/export.h"
#include "common/frame.h"
#include "search/logmetric.h"
#include "search/tokens.h"

#define VERIFY_STREAMS_MAX 64
#define VERIFY_VALUE_MAX 512

/*
 * What one batch may add to the rows derived from it, however it was built
 * (a 6.6 KB batch once asked for 4.5 million metric rows): past these, what
 * is left out is counted (struct verify_cut); the block keeps every record.
 */
#define VERIFY_METRIC_FIELDS_MAX 64     /* numeric fields of one metric record */
#define VERIFY_METRIC_ROWS_MAX 16384    /* metric values of one batch */
#define VERIFY_PROBE_ROWS_MAX 4096      /* probe results of one batch */
#define VERIFY_PROBE_MESSAGE_MAX 4096   /* bytes of a probe result's message in its rows */
#define VERIFY_INVENTORY_FIELDS_MAX 64  /* HOST_* fields of the inventory */
#define VERIFY_INVENTORY_VALUE_MAX 4096 /* bytes of one of them */
/* Past this ahead of the collector's clock, an agent's record takes the collector's time in the derived rows. */
#define VERIFY_FUTURE_US (300 * UINT64_C(1000000))

/* What a batch's derived rows left out by the limits above. */
struct verify_cut {
	uint64_t metric_rows, probe_rows, message_bytes, inventory_fields;
	uint64_t future_times; /* the agent's records dated past VERIFY_FUTURE_US ahead */
	uint64_t logmetric_series; /* log metric series past LOGMETRIC_SERIES_MAX */
};

/*
 * What ingest learns by decoding a batch once: the index entries of its
 * block. Pure logic, no I/O (fuzzed by tests/fuzz/fuzz-batch.c).
 */
/* A probe result found in a batch; strings point into the decoded payload. */
struct probe_row {
	uint64_t ts;
	uint64_t latency_us;
	const char *name, *type, *status, *message;
	size_t name_len, type_len, status_len, message_len;
	/* A dial test's run (PROBE_TYPE=dialtest): its id, outcome and whole result (JSON); else NULL. */
	uint64_t dialtest_id;
	const char *outcome, *result;
	size_t outcome_len, result_len;
};

/* Whether p's status is "ok". */
bool probe_row_ok(const struct probe_row *p);

/* One value of a metric record: name is "<set>.<field>", e.g. "filesystem.used_pct". */
struct metric_row {
	uint64_t ts;
	double value;
	char name[96];
	const char *instance; /* mount, device or interface; may be "" */
	size_t instance_len;
};

struct batch_info {
	bool local;   /* set by the caller: the batch is the collector's own, the only source of dial test metrics */
	bool relayed; /* set by the caller: the collector relays it for a device, which runs no dial test */
	/*
	 * Set by the caller: whether dial test id runs on agents, which speak
	 * for their own runs of it; NULL: any does. An agent's result of
	 * another test is none of its own, and is left out.
	 */
	bool (*dialtest_on_agents)(void *ctx, uint64_t id);
	void *dialtest_ctx;
	uint32_t records;
	uint64_t ts_min, ts_max;
	char host[256];           /* _HOSTNAME of the first record not from the journal, or "" */
	char strings[VERIFY_STREAMS_MAX * (VERIFY_VALUE_MAX + 1)];
	const char *streams[VERIFY_STREAMS_MAX]; /* point into strings */
	size_t n_streams;
	bool streams_overflow;    /* more distinct streams than indexed */
	struct probe_row *probes; /* VIGIL_KIND=probe records; owned, see batch_info_free() */
	size_t n_probes, cap_probes;
	struct metric_row *metrics; /* VIGIL_KIND=metric values; owned, see batch_info_free() */
	size_t n_metrics, cap_metrics;
	char *inventory; /* JSON of the batch's last VIGIL_KIND=inventory record, or NULL; owned */
	char *labels;    /* JSON object of its HOST_LABELS, or NULL; owned */
	struct logmatch_hit *hits; /* per log rule of the batch's logmatch; owned, see batch_info_free() */
	size_t cap_hits;
	struct verify_cut cut;
	bool no_index;                 /* set by the caller: build no filter */
	struct tokens_builder *tokens; /* reused across batches; owned */
	uint8_t *index;  /* the batch's filter (search/tokens.h), or NULL: none asked, or too many distinct tokens; owned */
	size_t index_len;
	const struct logmetrics *logmetrics; /* set by the caller: the log metrics its log records feed, or NULL */
	struct logmetric_acc *logmetric_acc; /* reused across batches; owned */
	const struct logmetric_row *logmetric_rows; /* the batch's series (into logmetric_acc) */
	size_t n_logmetric_rows;
};

void batch_info_free(struct batch_info *info);

/*
 * Decodes every entry of raw within lim into info (reused across batches:
 * what the last batch left is cleared first), matching log records against
 * lm (NULL: no log rules) into info->hits. Records without a usable
 * __REALTIME_TIMESTAMP count as received at now_us. Returns FRAME_OK,
 * FRAME_ERR_DECODE, or FRAME_ERR_STORAGE when memory ran out (worth a retry);
 * info is only meaningful on FRAME_OK.
 */
enum frame_error batch_verify(const uint8_t *raw, size_t len, const struct export_limits *lim,
			      const struct logmatch *lm, uint64_t now_us, struct batch_info *info);

/* "k=v k=v" labels into a new JSON object. */
json_t *labels_json(const uint8_t *v, size_t len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a batch as ingest sees it, built around the fuzzed
 * payload. The input's first byte is a control byte, the rest the
 * decompressed payload (Journal Export Format); the harness frames and
 * compresses it (checksum included), so mutations reach the decoder and
 * the derived rows instead of dying at the zstd checksum. Control bit 0:
 * the batch is the collector's own (dial test results are read); bit 1:
 * the header's record count is one off; bit 2: the frame is cut short;
 * bit 3: the collector relays it for a device. Of an agent's, only the
 * results of dial test 7 (one run on agents) may be read.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/verify.h"
#include "common/frame.h"
#include "tests/fuzz/fuzz.h"

#define TEST_ON_AGENTS 7

static bool on_agents(void *ctx, uint64_t id)
{
	(void)ctx;
	return id == TEST_ON_AGENTS;
}

static bool inside(const struct buf *b, const char *p, size_t len)
{
	const char *start = (const char *)b->data;

	return len == 0 || (p >= start && p + len <= start + b->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_limits flim = { .max_message = 1 << 20, .max_raw = 4 << 20,
						  .max_records = 1000 };
	static const struct export_limits elim = { .max_entries = 1000, .max_fields = 64,
						   .max_field_bytes = 65536, .max_entry_bytes = 131072 };
	static ZSTD_CCtx *cctx;
	static ZSTD_DCtx *dctx;
	struct frame_header h = { .version = FRAME_VERSION, .seq = 1, .records = 1, .created_us = 1 };
	struct batch_info info = { 0 };
	struct buf msg, raw;
	uint8_t control;

	if (size < 1)
		return 0;
	control = data[0];
	data++;
	size--;
	if (!cctx) {
		cctx = ZSTD_createCCtx();
		dctx = ZSTD_createDCtx();
	}
	memset(h.agent_id, 0xa5, sizeof(h.agent_id));
	h.raw_len = (uint32_t)size;
	buf_init(&msg, flim.max_message * 2);
	buf_init(&raw, flim.max_raw);
	if (frame_build(cctx, &h, data, size, 1, &msg) < 0)
		goto out;
	if (control & 2)
		msg.len -= msg.len > FRAME_HEADER_SIZE + 1 ? 1 : 0;
	if (frame_open(dctx, msg.data, msg.len, &flim, &h, &raw) != FRAME_OK)
		goto out;
	info.local = control & 1;
	info.relayed = control & 8;
	info.dialtest_on_agents = on_agents;
	if (batch_verify(raw.data, raw.len, &elim, NULL, 1, &info) == FRAME_OK) {
		/* What is derived keeps within the caps and points inside what was decoded. */
		if (info.n_metrics > VERIFY_METRIC_ROWS_MAX || info.n_probes > VERIFY_PROBE_ROWS_MAX ||
		    info.n_streams > VERIFY_STREAMS_MAX)
			__builtin_trap();
		for (size_t i = 0; i < info.n_probes; i++) {
			const struct probe_row *p = &info.probes[i];

			if (p->message_len > VERIFY_PROBE_MESSAGE_MAX || !inside(&raw, p->name, p->name_len) ||
			    !inside(&raw, p->message, p->message_len) ||
			    (p->result && !info.local && (info.relayed || p->dialtest_id != TEST_ON_AGENTS)))
				__builtin_trap();
		}
		for (size_t i = 0; i < info.n_metrics; i++)
			if (!info.local && strncmp(info.metrics[i].name, "dialtest.", 9) == 0)
				__builtin_trap();
	}
out:
	batch_info_free(&info);
	buf_free(&raw);
	buf_free(&msg);
	return 0;
}

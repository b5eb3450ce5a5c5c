/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/export.h"
#include "common/frame.h"
#include "common/macro.h"

static const struct frame_limits lim = { .max_message = 1 << 20, .max_raw = 1 << 20, .max_records = 1000 };

static void make_payload(struct buf *raw, int records)
{
	buf_init(raw, 1 << 20);
	for (int i = 0; i < records; i++) {
		assert_int_equal(export_put_str(raw, "MESSAGE", "a log line that compresses well"), 0);
		assert_int_equal(export_end_entry(raw), 0);
	}
}

static void build(struct buf *out, const struct frame_header *h, const struct buf *raw)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();

	buf_init(out, 16 << 20);
	assert_int_equal(frame_build(cctx, h, raw->data, raw->len, 3, out), 0);
	ZSTD_freeCCtx(cctx);
}

static enum frame_error open_msg(const void *msg, size_t len, struct frame_header *h, struct buf *out)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	enum frame_error e = frame_open(dctx, msg, len, &lim, h, out);

	ZSTD_freeDCtx(dctx);
	return e;
}

static void roundtrip(void **state)
{
	struct frame_header h = { .version = FRAME_VERSION, .seq = 42, .records = 10, .created_us = 7 }, got;
	struct buf raw, msg, out;

	make_payload(&raw, 10);
	h.raw_len = (uint32_t)raw.len;
	memset(h.agent_id, 0xab, AGENT_ID_SIZE);
	build(&msg, &h, &raw);
	assert_true(msg.len < raw.len);
	buf_init(&out, lim.max_raw);
	assert_int_equal(open_msg(msg.data, msg.len, &got, &out), FRAME_OK);
	assert_int_equal(got.seq, 42);
	assert_int_equal(got.records, 10);
	assert_int_equal(got.created_us, 7);
	assert_memory_equal(got.agent_id, h.agent_id, AGENT_ID_SIZE);
	assert_int_equal(out.len, raw.len);
	assert_memory_equal(out.data, raw.data, raw.len);
	buf_free(&raw);
	buf_free(&msg);
	buf_free(&out);
}

/* Each case damages a good message and names the refusal it must get. */
static void damaged(void **state)
{
	struct frame_header h = { .version = FRAME_VERSION, .seq = 1, .records = 50 }, got;
	struct buf raw, msg, out, copy;

	make_payload(&raw, 50);
	h.raw_len = (uint32_t)raw.len;
	build(&msg, &h, &raw);
	buf_init(&out, lim.max_raw);
	buf_init(&copy, 2 << 20);

	/* truncation anywhere */
	for (size_t cut = 0; cut < msg.len; cut += 7) {
		enum frame_error e = open_msg(msg.data, cut, &got, &out);
		assert_int_not_equal(e, FRAME_OK);
	}
	/*
	 * Every single-bit flip in the compressed body is refused, or (zstd's
	 * unused header bit) decodes to exactly the original: never other data.
	 */
	for (size_t pos = FRAME_HEADER_SIZE; pos < msg.len; pos++)
		for (int bit = 0; bit < 8; bit++) {
			buf_reset(&copy);
			assert_int_equal(buf_append(&copy, msg.data, msg.len), 0);
			copy.data[pos] ^= (uint8_t)(1u << bit);
			if (open_msg(copy.data, copy.len, &got, &out) == FRAME_OK &&
			    (out.len != raw.len || memcmp(out.data, raw.data, raw.len) != 0))
				fail_msg("flip of bit %d at %zu went unnoticed", bit, pos);
		}
	/* header fields */
	buf_reset(&copy);
	assert_int_equal(buf_append(&copy, msg.data, msg.len), 0);
	copy.data[0] = 'X';
	assert_int_equal(open_msg(copy.data, copy.len, &got, &out), FRAME_ERR_MAGIC);
	copy.data[0] = msg.data[0];
	copy.data[4] = 9;
	assert_int_equal(open_msg(copy.data, copy.len, &got, &out), FRAME_ERR_VERSION);
	copy.data[4] = msg.data[4];
	put_le32(copy.data + 36, (uint32_t)raw.len + 1);
	assert_int_equal(open_msg(copy.data, copy.len, &got, &out), FRAME_ERR_SIZE_MISMATCH);
	put_le32(copy.data + 36, (uint32_t)raw.len);
	put_le32(copy.data + 32, 0);
	assert_int_equal(open_msg(copy.data, copy.len, &got, &out), FRAME_ERR_RECORDS);
	put_le32(copy.data + 32, 5000);
	assert_int_equal(open_msg(copy.data, copy.len, &got, &out), FRAME_ERR_RECORDS);
	put_le32(copy.data + 32, 50);
	/* trailing garbage after the zstd frame */
	assert_int_equal(buf_append(&copy, "junk", 4), 0);
	assert_int_equal(open_msg(copy.data, copy.len, &got, &out), FRAME_ERR_DECOMPRESS);
	assert_int_equal(open_msg(msg.data, FRAME_HEADER_SIZE - 1, &got, &out), FRAME_ERR_SHORT);

	buf_free(&raw);
	buf_free(&msg);
	buf_free(&out);
	buf_free(&copy);
}

/* A small frame that claims (truthfully) to expand past the limit is refused before work. */
static void decompression_bomb(void **state)
{
	struct frame_header h = { .version = FRAME_VERSION, .seq = 1, .records = 1 }, got;
	struct buf raw, msg, out;
	size_t big = 8 << 20;

	buf_init(&raw, big);
	assert_int_equal(buf_reserve(&raw, big), 0);
	memset(raw.data, 'A', big);
	raw.len = big;
	h.raw_len = (uint32_t)big;
	build(&msg, &h, &raw);
	assert_true(msg.len < 4096);
	buf_init(&out, lim.max_raw);
	assert_int_equal(open_msg(msg.data, msg.len, &got, &out), FRAME_ERR_TOO_LARGE);
	/* Lying in the header about the size is caught against the frame's own. */
	put_le32(msg.data + 36, 1000);
	assert_int_equal(open_msg(msg.data, msg.len, &got, &out), FRAME_ERR_SIZE_MISMATCH);
	assert_true(out.cap <= lim.max_raw);
	buf_free(&raw);
	buf_free(&msg);
	buf_free(&out);
}

static void oversized_message(void **state)
{
	static uint8_t big[(1 << 20) + 1];
	struct frame_header got;
	struct buf out;

	buf_init(&out, lim.max_raw);
	assert_int_equal(open_msg(big, sizeof(big), &got, &out), FRAME_ERR_TOO_LARGE);
	buf_free(&out);
}

static void reply_roundtrip(void **state)
{
	struct reply r = { .status = REPLY_REJECTED, .seq = 99, .server_time_us = 5, .retry_after_ms = 7 }, got;
	uint8_t out[REPLY_HEADER_SIZE + REPLY_REASON_MAX];
	size_t n;

	strcpy(r.reason, "decode");
	n = reply_encode(&r, out);
	assert_int_equal(reply_decode(out, n, &got), 0);
	assert_int_equal(got.status, REPLY_REJECTED);
	assert_int_equal(got.seq, 99);
	assert_string_equal(got.reason, "decode");
	assert_int_equal(reply_decode(out, n - 1, &got), -EBADMSG);
	out[4] = 9;
	assert_int_equal(reply_decode(out, n, &got), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(damaged),
		cmocka_unit_test(decompression_bomb),
		cmocka_unit_test(oversized_message),
		cmocka_unit_test(reply_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "agent/spool.h"
#include "common/macro.h"
#include "tmpdir.h"


static void append_is_atomic_with_checkpoints(void **state)
{
	struct spool_checkpoint cp = { .source = "app", .dev = 1, .ino = 2, .offset = 100, .fp_len = 10,
				       .path = "/x/app.log" }, got;
	struct spool_batch b;
	struct spool *s;

	memset(cp.fp, 7, sizeof(cp.fp));
	assert_int_equal(spool_open(test_dir, DB_SYNC_NORMAL, 1 << 20, &s), 0);
	assert_int_equal(spool_next_seq(s), 1);
	assert_int_equal(spool_checkpoint_get(s, "app", 1, 2, &got), -ENOENT);
	/* A wrong sequence number changes nothing. */
	assert_int_equal(spool_append(s, 5, 1, 1, "x", 1, &cp, 1), -EINVAL);
	assert_int_equal(spool_checkpoint_get(s, "app", 1, 2, &got), -ENOENT);
	assert_int_equal(spool_append(s, 1, 1, 3, "frame-1", 7, &cp, 1), 0);
	cp.offset = 200;
	assert_int_equal(spool_append(s, 2, 2, 4, "frame-22", 8, &cp, 1), 0);
	assert_int_equal(spool_pending(s), 2);
	assert_int_equal(spool_bytes(s), 15);
	spool_count(s, SPOOL_CTR_LINES_TRUNCATED, 3);
	assert_int_equal(spool_checkpoints_write(s, NULL, 0), 0);
	spool_free(s);

	/* Reopen: everything is where it was. */
	assert_int_equal(spool_open(test_dir, DB_SYNC_NORMAL, 1 << 20, &s), 0);
	assert_int_equal(spool_next_seq(s), 3);
	assert_int_equal(spool_checkpoint_get(s, "app", 1, 2, &got), 0);
	assert_int_equal(got.offset, 200);
	assert_int_equal(got.fp_len, 10);
	assert_memory_equal(got.fp, cp.fp, sizeof(cp.fp));
	assert_int_equal(spool_counter(s, SPOOL_CTR_LINES_TRUNCATED), 3);
	assert_int_equal(spool_counter(s, SPOOL_CTR_RECORDS_SPOOLED), 7);
	assert_int_equal(spool_next_batch(s, 0, &b), 0);
	assert_int_equal(b.seq, 1);
	assert_int_equal(b.records, 3);
	assert_memory_equal(b.frame, "frame-1", 7);
	free(b.frame);
	assert_int_equal(spool_next_batch(s, 1, &b), 0);
	assert_int_equal(b.seq, 2);
	free(b.frame);
	assert_int_equal(spool_next_batch(s, 2, &b), -ENOENT);
	spool_free(s);
}

static void ack_quarantine_and_sequence_survive(void **state)
{
	struct spool_checkpoint forget = { .source = "app", .dev = 1, .ino = 2, .forget = true }, got;
	struct spool_batch b;
	struct spool *s;

	assert_int_equal(spool_open(test_dir, DB_SYNC_FULL, 1 << 20, &s), 0);
	assert_int_equal(spool_ack(s, 1), 0);
	assert_int_equal(spool_quarantine(s, 2, "decode"), 0);
	assert_int_equal(spool_pending(s), 0);
	assert_int_equal(spool_bytes(s), 0);
	assert_int_equal(spool_next_batch(s, 0, &b), -ENOENT);
	assert_int_equal(spool_checkpoints_write(s, &forget, 1), 0);
	assert_int_equal(spool_checkpoint_get(s, "app", 1, 2, &got), -ENOENT);
	spool_free(s);
	/* Sequence numbers are never reused, even when the spool is empty. */
	assert_int_equal(spool_open(test_dir, DB_SYNC_FULL, 1 << 20, &s), 0);
	assert_int_equal(spool_next_seq(s), 3);
	spool_free(s);
}

static void full_at_cap(void **state)
{
	static uint8_t frame[4096];
	struct spool *s;
	uint64_t seq;

	assert_int_equal(spool_open(test_dir, DB_SYNC_NORMAL, 10000, &s), 0);
	seq = spool_next_seq(s);
	assert_false(spool_full(s));
	assert_int_equal(spool_append(s, seq, 0, 1, frame, sizeof(frame), NULL, 0), 0);
	assert_int_equal(spool_append(s, seq + 1, 0, 1, frame, sizeof(frame), NULL, 0), 0);
	assert_false(spool_full(s));
	assert_int_equal(spool_append(s, seq + 2, 0, 1, frame, sizeof(frame), NULL, 0), 0);
	assert_true(spool_full(s));
	assert_int_equal(spool_ack(s, seq), 0);
	assert_false(spool_full(s));
	spool_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_is_atomic_with_checkpoints),
		cmocka_unit_test(ack_quarantine_and_sequence_survive),
		cmocka_unit_test(full_at_cap),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

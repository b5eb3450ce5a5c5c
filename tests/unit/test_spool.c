/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/spool.h"
#include "common/macro.h"
#include "tests/unit/tmpdir.h"


static void append_is_atomic_with_checkpoints(void **state)
{
	struct spool_checkpoint cp = { .source = "app", .dev = 1, .ino = 2, .offset = 100, .fp_len = 10,
				       .path = "/x/app.log" }, got;
	struct spool_batch b;
	uint64_t seq;
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
	assert_int_equal(spool_next_pending(s, 0, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(spool_next_pending(s, 1, &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(spool_next_pending(s, 2, &seq), -ENOENT);
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

static void open_in(const char *sub, struct spool **ret)
{
	char dir[300];

	(void)snprintf(dir, sizeof(dir), "%s/%s", test_dir, sub);
	assert_int_equal(mkdir(dir, 0750), 0);
	assert_int_equal(spool_open(dir, DB_SYNC_NORMAL, 1 << 20, ret), 0);
}

static void reopen_in(const char *sub, struct spool **ret)
{
	char dir[300];

	(void)snprintf(dir, sizeof(dir), "%s/%s", test_dir, sub);
	assert_int_equal(spool_open(dir, DB_SYNC_NORMAL, 1 << 20, ret), 0);
}

/* An id per installation, kept; an old spool keeps its legacy id; a new id re-addresses what is pending. */
static void identity(void **state)
{
	static const uint8_t legacy[AGENT_ID_SIZE] = { 0xab, 0xcd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
	uint8_t one[AGENT_ID_SIZE], two[AGENT_ID_SIZE], again[AGENT_ID_SIZE], old[AGENT_ID_SIZE], fresh[AGENT_ID_SIZE];
	struct frame_header h = { .version = FRAME_VERSION, .seq = 1, .records = 1, .raw_len = 5 }, got;
	uint8_t frame[FRAME_HEADER_SIZE + 4] = { 0 };
	struct spool_batch b;
	struct spool *s, *t;

	/* Two new spools on one machine: two ids, not the machine's. */
	open_in("a", &s);
	open_in("b", &t);
	assert_int_equal(spool_identity(s, legacy, one), 0);
	assert_int_equal(spool_identity(t, legacy, two), 0);
	assert_memory_not_equal(one, two, AGENT_ID_SIZE);
	assert_memory_not_equal(one, legacy, AGENT_ID_SIZE);
	spool_free(t);
	/* Kept across a restart. */
	memcpy(h.agent_id, one, AGENT_ID_SIZE);
	frame_header_encode(&h, frame);
	memcpy(frame + FRAME_HEADER_SIZE, "zstd", 4);
	assert_int_equal(spool_append(s, 1, 1, 1, frame, sizeof(frame), NULL, 0), 0);
	spool_free(s);
	reopen_in("a", &s);
	assert_int_equal(spool_identity(s, legacy, again), 0);
	assert_memory_equal(one, again, AGENT_ID_SIZE);
	/* A new id, and the pending batch goes out under it, its payload untouched. */
	assert_int_equal(spool_new_identity(s, old, fresh), 0);
	assert_memory_equal(old, one, AGENT_ID_SIZE);
	assert_memory_not_equal(fresh, one, AGENT_ID_SIZE);
	assert_int_equal(spool_next_batch(s, 0, &b), 0);
	assert_int_equal(b.len, sizeof(frame));
	assert_int_equal(frame_header_decode(b.frame, b.len, &got), 0);
	assert_memory_equal(got.agent_id, fresh, AGENT_ID_SIZE);
	assert_int_equal(got.seq, 1);
	assert_memory_equal(b.frame + FRAME_HEADER_SIZE, "zstd", 4);
	free(b.frame);
	spool_free(s);
	reopen_in("a", &s);
	assert_int_equal(spool_identity(s, legacy, again), 0);
	assert_memory_equal(again, fresh, AGENT_ID_SIZE);
	spool_free(s);
	/* A spool with state from before ids were kept takes the legacy id. */
	open_in("c", &s);
	assert_int_equal(spool_checkpoints_write(s, NULL, 0), 0); /* writes the counters: state */
	spool_free(s);
	reopen_in("c", &s);
	assert_int_equal(spool_identity(s, legacy, again), 0);
	assert_memory_equal(again, legacy, AGENT_ID_SIZE);
	spool_free(s);
}

/* A look from outside: nothing before the agent made its spool (and none made), then what it holds. */
static void a_look_from_outside(void **state)
{
	char dir[300], path[320];
	struct spool *s, *look;
	struct stat st;

	(void)snprintf(dir, sizeof(dir), "%s/look", test_dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/spool.db", dir);
	assert_int_equal(spool_open_existing(dir, &look), -ENOENT);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(spool_open(dir, DB_SYNC_NORMAL, 1 << 20, &s), 0);
	assert_int_equal(spool_append(s, 1, 1, 3, "frame-1", 7, NULL, 0), 0);
	assert_int_equal(spool_open_existing(dir, &look), 0);
	assert_int_equal(spool_pending(look), 1);
	assert_int_equal(spool_next_seq(look), 2);
	/* The agent writes on while the look is open. */
	assert_int_equal(spool_append(s, 2, 2, 1, "frame-2", 7, NULL, 0), 0);
	spool_free(look);
	spool_free(s);
}

/* The fsyncs SQLite asks for, counted: this definition is the one the library calls. */
static unsigned syncs;

int fdatasync(int fd)
{
	syncs++;
	return (int)syscall(SYS_fdatasync, fd);
}

int fsync(int fd)
{
	syncs++;
	return (int)syscall(SYS_fsync, fd);
}

/*
 * With [spool] sync, an append is fsynced and an acknowledgement is not (a
 * power cut that takes it back sends the batch again, a duplicate), unless
 * a counter a power cut must not take back goes with it.
 */
static void acknowledgements_need_no_fsync(void **state)
{
	char dir[300];
	struct spool *s;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/sync", test_dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(spool_open(dir, DB_SYNC_FULL, 1 << 20, &s), 0);
	syncs = 0;
	assert_int_equal(spool_append(s, 1, 1, 3, "frame-1", 7, NULL, 0), 0);
	assert_true(syncs > 0);
	syncs = 0;
	spool_count(s, SPOOL_CTR_BATCHES_ACKED, 1);
	assert_int_equal(spool_ack(s, 1), 0);
	assert_int_equal(syncs, 0);
	assert_int_equal(spool_append(s, 2, 2, 3, "frame-2", 7, NULL, 0), 0);
	assert_true(syncs > 0);
	syncs = 0;
	spool_count(s, SPOOL_CTR_RECORDS_DROPPED, 1);
	assert_int_equal(spool_ack(s, 2), 0);
	assert_true(syncs > 0);
	assert_int_equal(spool_pending(s), 0);
	spool_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_is_atomic_with_checkpoints),
		cmocka_unit_test(ack_quarantine_and_sequence_survive),
		cmocka_unit_test(full_at_cap),
		cmocka_unit_test(identity),
		cmocka_unit_test(a_look_from_outside),
		cmocka_unit_test(acknowledgements_need_no_fsync),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

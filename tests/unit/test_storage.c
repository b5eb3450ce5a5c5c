/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "store/chain.h"
#include "store/hosts.h"
#include "store/storage.h"
#include "common/macro.h"
#include "tests/unit/tmpdir.h"
#include "common/hash.h"


static void make_block(struct block_in *b, uint8_t agent, uint64_t seq, const char *frame)
{
	*b = (struct block_in){ .seq = seq, .host = "web-1", .received_us = 1000 + seq, .ts_min = seq,
				.ts_max = seq + 10, .records = 3, .raw_len = 99, .zframe = frame,
				.zlen = strlen(frame), .n_streams = 1, .streams = { "app" } };
	memset(b->agent, agent, AGENT_ID_SIZE);
	assert_int_equal(sha256(frame, strlen(frame), b->digest), 0);
}

static int64_t query_int(const char *db, const char *sql)
{
	char path[300];
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	(void)snprintf(path, sizeof(path), "%s/%s", test_dir, db);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void exec_sql(const char *db, const char *sql)
{
	char path[300];
	sqlite3 *h;

	(void)snprintf(path, sizeof(path), "%s/%s", test_dir, db);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static void duplicates_within_and_across_groups(void **state)
{
	struct block_in a, b, c, *group[3] = { &a, &b, &c };
	struct storage *s;

	assert_int_equal(storage_open(test_dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	make_block(&a, 1, 1, "frame-a");
	make_block(&b, 1, 2, "frame-b");
	make_block(&c, 1, 1, "frame-a"); /* the same batch twice in one group */
	assert_int_equal(storage_store(s, group, 3), 0);
	assert_int_equal(a.result, BLOCK_STORED);
	assert_int_equal(b.result, BLOCK_STORED);
	assert_int_equal(c.result, BLOCK_DUPLICATE);
	make_block(&a, 1, 2, "frame-b"); /* resent later */
	make_block(&b, 2, 2, "frame-x"); /* same seq, other agent */
	assert_int_equal(storage_store(s, group, 2), 0);
	assert_int_equal(a.result, BLOCK_DUPLICATE);
	assert_int_equal(b.result, BLOCK_STORED);
	storage_free(s);
	assert_int_equal(query_int("meta.db", "SELECT count(*) FROM dedup"), 3);
	assert_int_equal(query_int("meta.db", "SELECT sum(records) FROM hosts"), 9);
	assert_int_equal(query_int("meta.db", "SELECT blocks FROM shards"), 3);
}

/*
 * The writer's steps overlapped as ingest runs them: group 2's own step
 * before group 1's shared one. A batch group 1 holds, sent again in group
 * 2, is a duplicate already; a batch that names no host keeps the name
 * found for it until its shared step, and not after.
 */
static void steps_overlap(void **state)
{
	struct block_in a, b, c, *g1[1] = { &a }, *g2[2] = { &b, &c };
	struct storage *s;
	uint32_t day1 = 0, day2 = 0;

	assert_int_equal(storage_open(test_dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	make_block(&a, 9, 1, "frame-9-1");
	assert_int_equal(storage_store_own(s, g1, 1, &day1), 0);
	make_block(&b, 9, 1, "frame-9-1");
	make_block(&c, 9, 2, "frame-9-2");
	c.host = NULL;
	assert_int_equal(storage_store_own(s, g2, 2, &day2), 0);
	assert_int_equal(b.result, BLOCK_DUPLICATE);
	assert_int_equal(c.result, BLOCK_STORED);
	assert_string_equal(c.host, "web-1");
	assert_int_equal(storage_store_shared(s, 0, day1, g1, 1), 0);
	assert_int_equal(a.result, BLOCK_STORED);
	assert_int_equal(storage_store_shared(s, 0, day2, g2, 2), 0);
	assert_null(c.host);
	assert_int_equal(day1, day2);
	/* A first step that failed is what the second returns, the shared store not asked. */
	assert_int_equal(storage_store_shared(s, -EIO, day2, g2, 2), -EIO);
	storage_free(s);
	assert_int_equal(query_int("meta.db", "SELECT count(*) FROM dedup WHERE agent LIKE '09%'"), 2);
}

/* The only shard's path relative to test_dir. */
static void shard_name(char *out, size_t size)
{
	char path[300];
	sqlite3 *h;
	sqlite3_stmt *st;

	(void)snprintf(path, sizeof(path), "%s/meta.db", test_dir);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT file FROM shards", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	(void)snprintf(out, size, "shards/%s.db", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* The hash chain links every block to the one before, across groups. */
static void hash_chain(void **state)
{
	char shard[64];

	shard_name(shard, sizeof(shard));
	assert_int_equal(query_int(shard, "SELECT count(*) FROM blocks WHERE length(hash) = 32"), 3);
	assert_int_equal(query_int(shard, "SELECT count(*) FROM blocks b JOIN blocks p ON p.id = b.id - 1 "
					  "WHERE b.prev_hash <> p.hash"), 0);
	assert_int_equal(query_int(shard, "SELECT count(DISTINCT hash) FROM blocks"), 3);
}

/*
 * A crash after the shard's COMMIT and before meta's: meta is rewound to
 * what it was, and opening the store must record the blocks again.
 */
static void reconcile_after_crash_between_commits(void **state)
{
	struct block_in a, *group[1] = { &a };
	struct storage *s;

	exec_sql("meta.db", "DELETE FROM dedup WHERE seq = 2 AND agent LIKE '02%';"
			    "UPDATE hosts SET batches = batches - 1, records = records - 3 WHERE id LIKE '02%';"
			    "UPDATE shards SET blocks = blocks - 1, records = records - 3,"
			    " synced_block = synced_block - 1;");
	assert_int_equal(query_int("meta.db", "SELECT count(*) FROM dedup"), 2);
	assert_int_equal(storage_open(test_dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	assert_int_equal(query_int("meta.db", "SELECT count(*) FROM dedup"), 3);
	assert_int_equal(query_int("meta.db", "SELECT sum(records) FROM hosts"), 9);
	assert_int_equal(query_int("meta.db", "SELECT blocks FROM shards"), 3);
	assert_int_equal(query_int("meta.db", "SELECT records FROM shards"), 9);
	make_block(&a, 2, 2, "frame-x");
	assert_int_equal(storage_store(s, group, 1), 0);
	assert_int_equal(a.result, BLOCK_DUPLICATE);
	storage_free(s);
}

static int conflict_seen(const struct agent_conflict *c, void *ctx)
{
	struct agent_conflict *ret = ctx;

	*ret = *c;
	ret->hosts = strdup(c->hosts);
	ret->agent = NULL;
	return 0;
}

/* The same (agent, seq) with another frame is a conflict: refused, recorded, never a duplicate. */
static void conflicts_are_not_duplicates(void **state)
{
	struct block_in a, b, c, *group[3] = { &a, &b, &c };
	struct agent_conflict seen = { 0 };
	struct storage *s;
	sqlite3 *meta;

	assert_int_equal(storage_open(test_dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	make_block(&a, 7, 1, "frame-7-1");
	assert_int_equal(storage_store(s, group, 1), 0);
	assert_int_equal(a.result, BLOCK_STORED);
	make_block(&a, 7, 1, "frame-7-1");
	make_block(&b, 7, 1, "frame-other");
	b.host = "web-2";
	make_block(&c, 7, 2, "frame-7-2");
	assert_int_equal(storage_store(s, group, 3), 0);
	assert_int_equal(a.result, BLOCK_DUPLICATE);
	assert_int_equal(b.result, BLOCK_CONFLICT);
	assert_string_equal(b.conflict_host, "web-1");
	assert_int_equal(c.result, BLOCK_STORED);
	/* Within one group: the second is compared with the first, uncommitted yet. */
	make_block(&a, 7, 3, "frame-7-3");
	make_block(&b, 7, 3, "frame-7-3-other");
	b.host = "web-2";
	assert_int_equal(storage_store(s, group, 2), 0);
	assert_int_equal(a.result, BLOCK_STORED);
	assert_int_equal(b.result, BLOCK_CONFLICT);
	storage_free(s);
	/* A dedup row from before digests: the stored frame is read to compare. */
	exec_sql("meta.db", "UPDATE dedup SET digest = NULL WHERE agent LIKE '07%'");
	assert_int_equal(storage_open(test_dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	make_block(&a, 7, 2, "frame-7-2");
	make_block(&b, 7, 2, "frame-7-2-other");
	b.host = "web-3";
	assert_int_equal(storage_store(s, group, 2), 0);
	assert_int_equal(a.result, BLOCK_DUPLICATE);
	assert_int_equal(b.result, BLOCK_CONFLICT);
	storage_free(s);
	assert_int_equal(query_int("meta.db", "SELECT count(*) FROM dedup WHERE agent LIKE '07%'"), 3);
	assert_int_equal(query_int("meta.db", "SELECT sum(count) FROM agent_conflicts"), 3);
	assert_int_equal(storage_meta_connect(test_dir, false, &meta), 0);
	assert_int_equal(hosts_conflicts_each(meta, "07070707070707070707070707070707", 0, conflict_seen, &seen), 0);
	db_close(meta);
	assert_string_equal(seen.hosts, "web-1, web-2, web-3");
	assert_int_equal(seen.count, 3);
	assert_int_equal(seen.seq, 3);
	free((char *)seen.hosts);
}

/* A shared block's hash covers each of its fields (chain.h): change any one and the hash changes; its digest too. */
static void shared_hash_covers_every_field(void **state)
{
	uint8_t agent[AGENT_ID_SIZE] = { 1 }, digest[HASH_SIZE] = { 2 }, filter[4] = { 3 }, prev[HASH_SIZE] = { 4 };
	const char *streams[] = { "app", "nginx" }, *other_streams[] = { "app", "nginy" };
	const struct chain_shared_block b = { .chain = "00aa", .pos = 7, .day = 20794, .agent = agent, .seq = 9,
					      .host = "web-1", .received = 10, .ts_min = 11, .ts_max = 12, .records = 13,
					      .raw_len = 14, .digest = digest, .filter = filter, .filter_len = sizeof(filter),
					      .streams = streams, .n_streams = 2 };
	uint8_t other_agent[AGENT_ID_SIZE] = { 5 }, other_digest[HASH_SIZE] = { 6 }, other_prev[HASH_SIZE] = { 7 };
	struct chain_shared_block v[18];
	uint8_t want[HASH_SIZE], got[HASH_SIZE];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		v[i] = b;
	v[0].chain = "00ab";
	v[1].pos = 8;
	v[2].day = 20795;
	v[3].agent = other_agent;
	v[4].seq = 10;
	v[5].host = NULL;
	v[6].received = 11;
	v[7].ts_min = 12;
	v[8].ts_max = 13;
	v[9].records = 14;
	v[10].raw_len = 15;
	v[11].digest = other_digest;
	v[12].filter = NULL;
	v[12].filter_len = 0;
	v[13].filter_len = 3;
	v[14].n_streams = 1;
	v[15].streams = other_streams;
	v[16].n_streams = 0;
	v[17].streams = NULL;
	v[17].n_streams = 0;
	assert_int_equal(chain_shared_hash(HASH_SHA256, prev, &b, want), 0);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		assert_int_equal(chain_shared_hash(HASH_SHA256, prev, &v[i], got), 0);
		assert_memory_not_equal(got, want, HASH_SIZE);
	}
	assert_int_equal(chain_shared_hash(HASH_SHA256, other_prev, &b, got), 0);
	assert_memory_not_equal(got, want, HASH_SIZE);
	assert_int_equal(chain_shared_hash(HASH_SM3, prev, &b, got), 0);
	assert_memory_not_equal(got, want, HASH_SIZE);
	assert_int_equal(chain_shared_hash(HASH_SHA256, prev, &b, got), 0);
	assert_memory_equal(got, want, HASH_SIZE);
}

/* Another writer holding meta.db past the busy timeout (5 s), as hold_meta() does until release_meta(). */
static sqlite3 *hold_meta(const char *dir)
{
	char path[300];
	sqlite3 *h;

	(void)snprintf(path, sizeof(path), "%s/meta.db", dir);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	return h;
}

static void release_meta(sqlite3 *h)
{
	assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/*
 * meta.db busy when the day's shard opens: the store fails (its agent
 * retries) and the shard is listed at the next one, not left where no reader
 * looks. Busy after a shard's commit: the blocks meta missed are recorded
 * before the next store, not at the next start.
 */
static void busy_meta_loses_nothing_from_view(void **state)
{
	struct block_in a, *group[1] = { &a };
	char dir[300];
	struct storage *s;
	sqlite3 *h;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/busy", test_dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(storage_open(dir, DB_SYNC_NORMAL, HASH_SHA256, &s), 0);
	h = hold_meta(dir);
	make_block(&a, 3, 1, "frame-3-1");
	assert_int_equal(storage_store(s, group, 1), -EAGAIN);
	assert_int_equal(a.result, BLOCK_FAILED);
	release_meta(h);
	make_block(&a, 3, 1, "frame-3-1");
	assert_int_equal(storage_store(s, group, 1), 0);
	assert_int_equal(a.result, BLOCK_STORED);
	assert_int_equal(query_int("busy/meta.db", "SELECT blocks FROM shards"), 1);

	h = hold_meta(dir);
	make_block(&a, 3, 2, "frame-3-2");
	assert_int_equal(storage_store(s, group, 1), 0);
	assert_int_equal(a.result, BLOCK_STORED);
	release_meta(h);
	assert_int_equal(query_int("busy/meta.db", "SELECT count(*) FROM dedup"), 1);
	make_block(&a, 3, 3, "frame-3-3");
	assert_int_equal(storage_store(s, group, 1), 0);
	assert_int_equal(query_int("busy/meta.db", "SELECT count(*) FROM dedup"), 3);
	assert_int_equal(query_int("busy/meta.db", "SELECT blocks FROM shards"), 3);
	assert_int_equal(query_int("busy/meta.db", "SELECT batches FROM hosts"), 3);
	storage_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duplicates_within_and_across_groups),
		cmocka_unit_test(hash_chain),
		cmocka_unit_test(reconcile_after_crash_between_commits),
		cmocka_unit_test(conflicts_are_not_duplicates),
		cmocka_unit_test(steps_overlap),
		cmocka_unit_test(shared_hash_covers_every_field),
		cmocka_unit_test(busy_meta_loses_nothing_from_view),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

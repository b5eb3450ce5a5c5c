/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <zstd.h>

#include "agent/pipeline.h"
#include "common/frame.h"
#include "common/macro.h"
#include "tests/unit/tmpdir.h"

/* The sources, as the pipeline sees them: one file at a position the test moves. */
struct sources {
	uint64_t offset;
	unsigned done_ok, done_failed, committed, wakes;
};

static size_t checkpoints_max(void *userdata)
{
	return 1;
}

static size_t checkpoints(void *userdata, struct spool_checkpoint *cps, size_t cap)
{
	struct sources *src = userdata;

	assert_true(cap >= 1);
	cps[0] = (struct spool_checkpoint){ .source = "app", .dev = 1, .ino = 2, .offset = src->offset,
					    .path = "/x/app.log" };
	return 1;
}

static void checkpoints_done(void *userdata, bool ok)
{
	struct sources *src = userdata;

	if (ok)
		src->done_ok++;
	else
		src->done_failed++;
}

static void committed(void *userdata)
{
	struct sources *src = userdata;

	src->committed++;
}

static void wake(void *userdata)
{
	struct sources *src = userdata;

	src->wakes++;
}

struct fixture {
	struct sources src;
	struct agent_conf conf;
	struct spool *spool;
	sd_event *event;
	struct pipeline *p;
};

static void fixture_open(struct fixture *f, const char *dir, uint64_t max_records)
{
	static const uint8_t id[AGENT_ID_SIZE] = { 1, 2, 3 };
	const struct pipeline_hooks hooks = {
		.checkpoints_max = checkpoints_max,
		.checkpoints = checkpoints,
		.checkpoints_done = checkpoints_done,
		.committed = committed,
		.wake = wake,
		.userdata = &f->src,
	};

	memset(f, 0, sizeof(*f));
	f->conf.batch.max_records = max_records;
	f->conf.batch.max_bytes = 1 << 20;
	f->conf.batch.max_delay_ms = 60000;
	f->conf.batch.zstd_level = 1;
	f->conf.spool.max_bytes = 1 << 20;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(spool_open(dir, DB_SYNC_NORMAL, f->conf.spool.max_bytes, &f->spool), 0);
	assert_true(sd_event_new(&f->event) >= 0);
	assert_int_equal(pipeline_new(f->event, f->spool, &f->conf, id, "web-1", &hooks, &f->p), 0);
}

static void fixture_close(struct fixture *f)
{
	pipeline_free(f->p);
	sd_event_unref(f->event);
	spool_free(f->spool);
}

/* The spooled batch after seq, decompressed: its header and raw records. */
static void spooled(struct spool *s, uint64_t after, struct frame_header *h, struct buf *raw)
{
	const struct frame_limits lim = { .max_message = 1 << 24, .max_raw = 1 << 24, .max_records = 1000 };
	ZSTD_DCtx *d = ZSTD_createDCtx();
	struct spool_batch b;

	assert_int_equal(spool_next_batch(s, after, &b), 0);
	buf_init(raw, lim.max_raw);
	assert_int_equal(frame_open(d, b.frame, b.len, &lim, h, raw), FRAME_OK);
	assert_int_equal(h->records, b.records);
	free(b.frame);
	ZSTD_freeDCtx(d);
}

static size_t count(const struct buf *raw, const char *needle)
{
	const char *start = (const char *)raw->data, *p = start;
	size_t n = 0;

	while ((p = memmem(p, raw->len - (size_t)(p - start), needle, strlen(needle)))) {
		n++;
		p++;
	}
	return n;
}

static void a_full_batch_is_sealed_with_its_checkpoints(void **state)
{
	struct spool_checkpoint cp;
	struct frame_header h;
	struct fixture f;
	struct buf raw;
	char dir[300];

	(void)snprintf(dir, sizeof(dir), "%s/full", test_dir);
	fixture_open(&f, dir, 3);
	f.src.offset = 100;
	assert_int_equal(pipeline_add_own(f.p, "metric", NULL, false), 0);
	assert_int_equal(pipeline_add_own(f.p, "metric", NULL, false), 0);
	assert_true(pipeline_busy_since(f.p)); /* a batch is open */
	/* The third fills the batch: sealed with the position of now, not of later. */
	assert_int_equal(pipeline_add_own(f.p, "metric", NULL, false), 0);
	f.src.offset = 200;
	assert_int_equal(pipeline_drain(f.p), 0);
	assert_int_equal(spool_pending(f.spool), 1);
	spooled(f.spool, 0, &h, &raw);
	assert_int_equal(h.seq, 1);
	assert_int_equal(h.records, 3);
	assert_int_equal(h.agent_id[2], 3);
	assert_int_equal(count(&raw, "VIGIL_KIND=metric\n"), 3);
	assert_int_equal(count(&raw, "_HOSTNAME=web-1\n"), 3);
	buf_free(&raw);
	assert_int_equal(spool_checkpoint_get(f.spool, "app", 1, 2, &cp), 0);
	/* The drain found no records: it stored the moved position on its own. */
	assert_int_equal(cp.offset, 200);
	assert_int_equal(f.src.committed, 1);
	assert_int_equal(f.src.done_ok, 2);
	assert_int_equal(f.src.done_failed, 0);
	assert_true(f.src.wakes >= 1);
	assert_true(pipeline_busy_since(f.p));
	assert_false(pipeline_busy_since(f.p));
	fixture_close(&f);
}

/*
 * A record sealed at once (a changed probe status) does not wait for the
 * batch to fill; a small batch is compressed where it is sealed and
 * committed then, waking no thread and waiting for no turn of the loop.
 */
static void now_seals_at_once(void **state)
{
	struct frame_header h;
	struct fixture f;
	struct buf raw;
	char dir[300];

	(void)snprintf(dir, sizeof(dir), "%s/now", test_dir);
	fixture_open(&f, dir, 1000);
	assert_int_equal(pipeline_add_own(f.p, "metric", NULL, false), 0);
	assert_int_equal(pipeline_add_own(f.p, "probe", NULL, true), 0);
	assert_int_equal(spool_pending(f.spool), 1);
	assert_int_equal(f.src.committed, 1);
	assert_int_equal(pipeline_add_own(f.p, "metric", NULL, false), 0);
	assert_int_equal(pipeline_drain(f.p), 0);
	assert_int_equal(spool_pending(f.spool), 2);
	spooled(f.spool, 0, &h, &raw);
	assert_int_equal(h.records, 2);
	assert_int_equal(count(&raw, "VIGIL_KIND=probe\n"), 1);
	buf_free(&raw);
	spooled(f.spool, 1, &h, &raw);
	assert_int_equal(h.seq, 2);
	assert_int_equal(h.records, 1);
	buf_free(&raw);
	fixture_close(&f);
}

/*
 * A commit the spool refuses (another writer holds it) keeps the batch and
 * the sources' positions, pauses reading, and goes through on the tick.
 */
static void a_failed_commit_loses_nothing(void **state)
{
	struct spool_checkpoint cp;
	struct frame_header h;
	struct fixture f;
	struct buf raw;
	char dir[300], db[340];
	sqlite3 *other;

	(void)snprintf(dir, sizeof(dir), "%s/busy", test_dir);
	(void)snprintf(db, sizeof(db), "%s/spool.db", dir);
	fixture_open(&f, dir, 1000);
	f.src.offset = 300;
	assert_int_equal(sqlite3_open(db, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(pipeline_add_own(f.p, "metric", NULL, false), 0);
	assert_true(pipeline_drain(f.p) < 0);
	assert_false(pipeline_can_read(f.p));
	assert_int_equal(f.src.done_ok, 0);
	/* A record that goes into the next batch meanwhile is kept, not counted as dropped, though its flush fails. */
	assert_int_equal(pipeline_add_own(f.p, "probe", NULL, true), 0);
	assert_int_equal(spool_counter(f.spool, SPOOL_CTR_RECORDS_DROPPED), 0);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(other), SQLITE_OK);
	pipeline_tick(f.p);
	assert_true(pipeline_can_read(f.p));
	assert_int_equal(spool_pending(f.spool), 1);
	assert_int_equal(f.src.done_ok, 1);
	assert_int_equal(spool_checkpoint_get(f.spool, "app", 1, 2, &cp), 0);
	assert_int_equal(cp.offset, 300);
	spooled(f.spool, 0, &h, &raw);
	assert_int_equal(h.records, 1);
	buf_free(&raw);
	assert_int_equal(pipeline_drain(f.p), 0);
	spooled(f.spool, 1, &h, &raw);
	assert_int_equal(count(&raw, "VIGIL_KIND=probe\n"), 1);
	buf_free(&raw);
	assert_int_equal(spool_counter(f.spool, SPOOL_CTR_RECORDS_DROPPED), 0);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_full_batch_is_sealed_with_its_checkpoints),
		cmocka_unit_test(now_seals_at_once),
		cmocka_unit_test(a_failed_commit_loses_nothing),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

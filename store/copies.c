/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/hash.h"
#include "common/util.h"
#include "store/copies.h"
#include "store/pgstore.h"
#include "store/shards.h"

struct check {
	struct storage_reader *rd;
	struct pgstore *pg;
	struct pgstore_copy v[COPIES_BATCH];
	uint32_t day;
	int64_t ids[COPIES_BATCH]; /* each copy's block here */
	bool settled[COPIES_BATCH]; /* received before the settle time */
	uint64_t settle_us;
	size_t n, problems, max_problems;
	void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata);
	void *userdata;
	struct copies_report *rep;
};

static void tell(struct check *k, int64_t id, const char *what)
{
	if (k->problems++ < k->max_problems)
		k->problem(k->day, id, what, k->userdata);
}

static int flush(struct check *k)
{
	int r = k->n ? pgstore_check_copies(k->pg, k->v, k->n) : 0;

	for (size_t i = 0; r == 0 && i < k->n; i++) {
		k->rep->checked++;
		if (k->v[i].state == PGSTORE_SAME)
			k->rep->same++;
		else if (k->v[i].state == PGSTORE_ALTERED) {
			k->rep->altered++;
			tell(k, k->ids[i], "the database holds another frame under its (agent, seq): altered there");
		} else if (!k->settled[i]) {
			k->rep->pending++;
		} else {
			k->rep->missing++;
			tell(k, k->ids[i], "not in the database: deleted there, or never acknowledged to its agent");
		}
	}
	k->n = 0;
	return r;
}

static int check_block(const struct block_row *b, void *ctx)
{
	struct check *k = ctx;
	struct pgstore_copy *c = &k->v[k->n];
	size_t zlen = 0;
	const void *frame = blocks_row_frame(b, &zlen);

	/* A frame this store cannot give is the chain's problem, told by the walk of the chain. */
	if (!frame)
		return 0;
	*c = (struct pgstore_copy){ .seq = b->seq, .state = PGSTORE_MISSING };
	if (hex_decode(b->agent, c->agent, AGENT_ID_SIZE) < 0 || hash_digest(HASH_SHA256, frame, zlen, c->digest) < 0)
		return -EUCLEAN;
	k->ids[k->n] = b->id;
	k->settled[k->n] = b->received < k->settle_us;
	return ++k->n == COPIES_BATCH ? flush(k) : 0;
}

static int check_day(uint32_t day, void *ctx)
{
	struct check *k = ctx;
	sqlite3 *shard = storage_reader_shard(k->rd, day);
	int r;

	if (!shard)
		return 0;
	k->day = day;
	r = blocks_each_after(shard, 0, check_block, k);
	return r == 0 ? flush(k) : r;
}

int storage_verify_copies(struct storage_reader *rd, const struct storage_conf *c, size_t max_problems,
			  void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata), void *userdata,
			  struct copies_report *ret)
{
	struct check *k = calloc(1, sizeof(*k));
	int r = k ? pgstore_open(c, false, &k->pg) : -ENOMEM;

	*ret = (struct copies_report){ 0 };
	if (r == 0) {
		k->rd = rd;
		k->max_problems = max_problems;
		k->problem = problem;
		k->userdata = userdata;
		k->rep = ret;
		k->settle_us = now_realtime_us() - COPIES_SETTLE_US;
		r = shards_each(storage_reader_meta(rd), &(struct shard_range){ 0 }, check_day, k);
	}
	if (k)
		pgstore_free(k->pg);
	free(k);
	return r;
}

static int sealed_hash_of(void *ctx, const char *name, int64_t pos, uint8_t ret_hash[HASH_SIZE])
{
	return pgstore_chain_hash_of(ctx, name, pos, ret_hash);
}

struct seal_shared copies_sealed(struct pgstore *p)
{
	return (struct seal_shared){ .hash_of = sealed_hash_of, .ctx = p };
}

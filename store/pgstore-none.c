/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "store/pgstore.h"

/* Built without libpq (configure --without-postgresql, or none found): backend=postgresql is refused. */

bool pgstore_built(void)
{
	return false;
}

bool pgstore_dialect_known(const char *name)
{
	(void)name;
	return false;
}

int pgstore_open(const struct storage_conf *c, bool writer, struct pgstore **ret)
{
	(void)c;
	(void)writer;
	(void)ret;
	return -EOPNOTSUPP;
}

void pgstore_free(struct pgstore *p)
{
	(void)p;
}

int pgstore_store(struct pgstore *p, uint32_t day, struct block_in **blocks, size_t n)
{
	(void)p;
	(void)day;
	for (size_t i = 0; i < n; i++)
		if (blocks[i]->result == BLOCK_STORED || blocks[i]->result == BLOCK_DUPLICATE)
			blocks[i]->result = BLOCK_FAILED;
	return -EOPNOTSUPP;
}

int pgstore_copy(struct pgstore *p, uint32_t day, struct block_in **blocks, size_t n)
{
	(void)p;
	(void)day;
	(void)blocks;
	(void)n;
	return -EOPNOTSUPP;
}

int pgstore_has(struct pgstore *p, const struct block_in *b)
{
	(void)p;
	(void)b;
	return -EOPNOTSUPP;
}

int pgstore_retention(struct pgstore *p, uint32_t cutoff, unsigned *ret_days)
{
	(void)p;
	(void)cutoff;
	*ret_days = 0;
	return -EOPNOTSUPP;
}

int pgstore_select(struct pgstore *p, const struct pgstore_select *q, int (*fn)(const struct block_row *b, void *ctx),
		   void *ctx)
{
	(void)p;
	(void)q;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_cursor_check(struct pgstore *p, uint64_t xid, int64_t id, uint32_t rec)
{
	(void)p;
	(void)xid;
	(void)id;
	(void)rec;
	return -EOPNOTSUPP;
}

int pgstore_hosts_each(struct pgstore *p, const struct host_filter *f, int (*fn)(const struct host_row *h, void *ctx),
		       void *ctx)
{
	(void)p;
	(void)f;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_metric_latest(struct pgstore *p, const char *name, uint64_t since_us, const char *host_glob,
			  const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	(void)p;
	(void)name;
	(void)since_us;
	(void)host_glob;
	(void)instance_glob;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_log_matches(struct pgstore *p, const char *rule, uint64_t since_us, const char *host_glob,
			int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	(void)p;
	(void)rule;
	(void)since_us;
	(void)host_glob;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_dialtest_results(struct pgstore *p, int64_t id, uint64_t since, uint64_t until, size_t limit,
			     int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx)
{
	(void)p;
	(void)id;
	(void)since;
	(void)until;
	(void)limit;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_logmetric_rows(struct pgstore *p, const char *metric, const char *host, uint64_t since, uint64_t until,
			   bool recent, int (*fn)(const struct logmetric_part *part, void *ctx), void *ctx)
{
	(void)p;
	(void)metric;
	(void)host;
	(void)since;
	(void)until;
	(void)recent;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_probe_history(struct pgstore *p, const char *host, const char *name, uint64_t since, uint64_t until,
			  size_t limit, int (*fn)(const struct probe_result *pr, void *ctx), void *ctx)
{
	(void)p;
	(void)host;
	(void)name;
	(void)since;
	(void)until;
	(void)limit;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_metric_buckets(struct pgstore *p, const char *name, const char *host, uint64_t since, uint64_t until,
			   uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx)
{
	(void)p;
	(void)name;
	(void)host;
	(void)since;
	(void)until;
	(void)step;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_metric_known(struct pgstore *p, const char *name, bool log)
{
	(void)p;
	(void)name;
	(void)log;
	return -EOPNOTSUPP;
}

int pgstore_probes_each(struct pgstore *p, const struct probe_state_filter *f,
			int (*fn)(const struct probe_state_row *s, void *ctx), void *ctx)
{
	(void)p;
	(void)f;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_conflicts_each(struct pgstore *p, const char *agent, uint64_t since_us,
			   int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx)
{
	(void)p;
	(void)agent;
	(void)since_us;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_copy_fleet(struct pgstore *p, sqlite3 *meta, struct pgstore_fleet_copy *ret)
{
	(void)p;
	(void)meta;
	*ret = (struct pgstore_fleet_copy){ 0 };
	return -EOPNOTSUPP;
}

int pgstore_bound_certificates(struct pgstore *p, struct block_in **blocks, size_t n)
{
	(void)p;
	(void)blocks;
	(void)n;
	return -EOPNOTSUPP;
}

int pgstore_records_after(struct pgstore *p, uint64_t xid, int64_t id, uint32_t rec, uint64_t *ret)
{
	(void)p;
	(void)xid;
	(void)id;
	(void)rec;
	(void)ret;
	return -EOPNOTSUPP;
}

int pgstore_lead(struct pgstore *p, const char *work, const char *holder)
{
	(void)p;
	(void)work;
	(void)holder;
	return -EOPNOTSUPP;
}

int pgstore_position_get(struct pgstore *p, const char *name, struct forward_state *ret, char *cursor, size_t size)
{
	(void)p;
	(void)name;
	(void)ret;
	(void)cursor;
	(void)size;
	return -EOPNOTSUPP;
}

int pgstore_position_put(struct pgstore *p, const struct forward_state *s)
{
	(void)p;
	(void)s;
	return -EOPNOTSUPP;
}

int pgstore_positions_each(struct pgstore *p, int (*fn)(const struct forward_state *s, void *ctx), void *ctx)
{
	(void)p;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_lockout_add(struct pgstore *p, const char *user, uint64_t now, uint64_t until)
{
	(void)p;
	(void)user;
	(void)now;
	(void)until;
	return -EOPNOTSUPP;
}

int pgstore_lockouts_each(struct pgstore *p, uint64_t since_us, int (*fn)(const struct lockout_count *l, void *ctx),
			  void *ctx)
{
	(void)p;
	(void)since_us;
	(void)fn;
	(void)ctx;
	return -EOPNOTSUPP;
}

int pgstore_listen(const struct storage_conf *c, struct pgstore_listener **ret)
{
	(void)c;
	(void)ret;
	return -EOPNOTSUPP;
}

int pgstore_listener_fd(struct pgstore_listener *l)
{
	(void)l;
	return -1;
}

int pgstore_listened(struct pgstore_listener *l)
{
	(void)l;
	return -EOPNOTSUPP;
}

void pgstore_listener_free(struct pgstore_listener *l)
{
	(void)l;
}

int pgstore_check_copies(struct pgstore *p, struct pgstore_copy *v, size_t n)
{
	(void)p;
	(void)v;
	(void)n;
	return -EOPNOTSUPP;
}

int pgstore_verify_chains(struct pgstore *p, struct pgstore_chains_check *v)
{
	(void)p;
	(void)v;
	return -EOPNOTSUPP;
}

void pgstore_chain_head(const struct pgstore *p, char name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE])
{
	(void)p;
	name[0] = '\0';
	*ret_pos = 0;
	memset(ret_hash, 0, HASH_SIZE);
}

int pgstore_chain_hash_of(struct pgstore *p, const char *chain, int64_t pos, uint8_t ret_hash[HASH_SIZE])
{
	(void)p;
	(void)chain;
	(void)pos;
	(void)ret_hash;
	return -EOPNOTSUPP;
}

int pgstore_digest_agree(struct pgstore *p, enum hash_alg alg)
{
	(void)p;
	(void)alg;
	return -EOPNOTSUPP;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>

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

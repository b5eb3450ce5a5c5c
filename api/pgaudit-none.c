/* SPDX-License-Identifier: Apache-2.0 */
/* Built without libpq: backend=postgresql is refused before this is asked (pgstore_built()). */
#include "config.h"

#include <errno.h>

#include "api/pgaudit.h"

int pgaudit_open(const struct storage_conf *c, struct audit *local, struct pgaudit **ret)
{
	(void)c;
	(void)local;
	(void)ret;
	return -EOPNOTSUPP;
}

void pgaudit_free(struct pgaudit *p)
{
	(void)p;
}

int pgaudit_copy(struct pgaudit *p)
{
	(void)p;
	return -EOPNOTSUPP;
}

int pgaudit_query(struct pgaudit *p, const struct audit_filter *f, json_t **items, int64_t *last)
{
	(void)p;
	(void)f;
	(void)items;
	(void)last;
	return -EOPNOTSUPP;
}

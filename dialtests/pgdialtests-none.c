/* SPDX-License-Identifier: Apache-2.0 */
/* Built without libpq: backend=postgresql is refused before this is asked (pgstore_built()). */
#include "config.h"

#include <errno.h>

#include "dialtests/dtstore.h"

int dt_store_pg_open(const char *url, const char *password_file, struct dt_store *ret)
{
	(void)url;
	(void)password_file;
	(void)ret;
	return -EOPNOTSUPP;
}

int dt_store_pg_import_row(struct dt_store *s, const struct dt_row *row)
{
	(void)s;
	(void)row;
	return -EOPNOTSUPP;
}

int dt_store_pg_import_change(struct dt_store *s, const struct dt_change *c)
{
	(void)s;
	(void)c;
	return -EOPNOTSUPP;
}

int dt_store_pg_import_done(struct dt_store *s)
{
	(void)s;
	return -EOPNOTSUPP;
}

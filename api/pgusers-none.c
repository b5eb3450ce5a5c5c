/* SPDX-License-Identifier: Apache-2.0 */
/* Built without libpq: backend=postgresql is refused before this is asked (pgstore_built()). */
#include "config.h"

#include <errno.h>

#include "api/userdb.h"

const struct userdb_ops userdb_pg = { .name = "PostgreSQL" };

int userdb_pg_open(const char *url, const char *password_file, void **ret)
{
	(void)url;
	(void)password_file;
	(void)ret;
	return -EOPNOTSUPP;
}

int userdb_pg_import(void *db, const struct user *u, const char *const *recovery, size_t n)
{
	(void)db;
	(void)u;
	(void)recovery;
	(void)n;
	return -EOPNOTSUPP;
}

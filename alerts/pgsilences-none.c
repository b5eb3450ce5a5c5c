/* SPDX-License-Identifier: Apache-2.0 */
/* Built without libpq: backend=postgresql is refused before this is asked (pgstore_built()). */
#include "config.h"

#include <errno.h>

#include "alerts/silences.h"

const struct silence_store_ops silence_store_pg = { .name = "PostgreSQL" };

int silence_store_pg_open(const char *url, const char *password_file, void **ret)
{
	(void)url;
	(void)password_file;
	(void)ret;
	return -EOPNOTSUPP;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Built without libpq: backend=postgresql is refused before this is asked (pgstore_built()). */
#include "config.h"

#include <errno.h>

#include "alerts/defstore.h"

int defs_store_pg_open(const char *url, const char *password_file, struct defs_store *ret)
{
	(void)url;
	(void)password_file;
	(void)ret;
	return -EOPNOTSUPP;
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGLOCKOUTS_H
#define VIGIL_PGLOCKOUTS_H

#include <stdint.h>

#include "store/lockouts.h"
#include "store/pg.h"

/*
 * The console's lockouts shared in PostgreSQL (`lockouts`, as
 * store/lockouts.h keeps them in meta.db): whichever collector locked a
 * user, the lockout rule of the one that evaluates counts it. This file
 * alone holds SQL that names the table on PostgreSQL.
 */
int pglockouts_schema(PGconn *c);
/* As lockouts_add() and lockouts_each(). */
int pglockouts_add(PGconn *c, const char *user, uint64_t now, uint64_t until);
int pglockouts_each(PGconn *c, uint64_t since_us, int (*fn)(const struct lockout_count *l, void *ctx), void *ctx);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGAUDIT_H
#define VIGIL_PGAUDIT_H

#include <jansson.h>

#include "api/audit.h"
#include "store/storage.h"

/*
 * The audit logs of every collector on the database they share: each
 * collector's rows copied into its table audit_log, under the name of its
 * chain (audit_name()). A copy, not the log: the log is each collector's
 * audit.db, written durably before the request is answered whether the
 * database answers or not, chained and sealed there. Copies are made one
 * collector at a time (a transaction lock), so the rows' order in the
 * table (seq) is the order they committed in and a reader paging by it
 * never skips one. This file alone holds SQL that names audit_log.
 */
struct pgaudit;

/* Connects and makes the table; local is borrowed and outlives *ret. -EOPNOTSUPP without libpq; pg.h's errors. */
int pgaudit_open(const struct storage_conf *c, struct audit *local, struct pgaudit **ret);
void pgaudit_free(struct pgaudit *p);

/*
 * Copies the local rows the table does not have yet (and deletes there
 * those local retention dropped): what the collector does each second.
 * How many were copied, or the database's error (the next call goes on).
 */
int pgaudit_copy(struct pgaudit *p);

/*
 * audit_query() over every collector's rows, in the order copied; f->after
 * and *last are that order's (seq), and each row names its "chain" and
 * the "collector" (host) that copied it.
 */
int pgaudit_query(struct pgaudit *p, const struct audit_filter *f, json_t **items, int64_t *last);

#endif

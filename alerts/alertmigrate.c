/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>

#include "alerts/alertstore.h"
#include "alerts/queue.h"
#include "common/db.h"
#include "common/log.h"
#include "store/storage.h"

/* vigil-collector --migrate: meta.db's alerts, events and notifications into the shared database's store. */

struct migration {
	struct alert_store *to;
	const char *table;
	uint64_t *rows; /* the table's count in the report */
	struct alerts_copy *rep;
};

static int copy_row(json_t *row, void *ctx)
{
	struct migration *m = ctx;
	int r = m->to->ops->put_row(m->to->db, m->table, row), same;

	if (r < 0)
		return r;
	(*m->rows)++;
	m->rep->copied += r;
	m->rep->present += !r;
	same = m->to->ops->holds_row(m->to->db, m->table, row);
	if (same < 0)
		return same;
	m->rep->verified += same;
	if (!same)
		log_warning("--migrate: %s row %" PRId64 " differs in the database (its id is another's there); left as it is",
			    m->table, (int64_t)json_integer_value(json_object_get(row, "id")));
	return 0;
}

int alerts_migrate(const char *data_dir, const char *url, const char *password_file, struct alerts_copy *ret)
{
	struct migration m = { .rep = ret };
	sqlite3 *meta = NULL;
	struct alert_store *local = NULL;
	int r;

	*ret = (struct alerts_copy){ 0 };
	r = storage_meta_connect(data_dir, true, &meta);
	/* Opened as the evaluator opens it: the tables made in a store that never had an alert. */
	if (r == 0)
		r = alert_store_open(meta, &local);
	if (r == 0)
		r = alert_store_open_pg(url, password_file, &m.to);
	if (r == 0) {
		m.table = "alerts", m.rows = &ret->alerts;
		r = alert_rows_export(meta, m.table, copy_row, &m);
	}
	if (r == 0) {
		m.table = "alert_events", m.rows = &ret->events;
		r = alert_rows_export(meta, m.table, copy_row, &m);
	}
	if (r == 0) {
		m.table = "notifications", m.rows = &ret->notifications;
		r = queue_rows_export(meta, copy_row, &m);
	}
	if (r == 0)
		r = m.to->ops->rows_done(m.to->db);
	alert_store_free(m.to);
	alert_store_free(local);
	db_close(meta);
	if (r < 0)
		return log_error_errno(r, "--migrate: the alerts of %s: %m", data_dir);
	return ret->verified == ret->alerts + ret->events + ret->notifications ? 0 : -EUCLEAN;
}

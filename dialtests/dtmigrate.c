/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "dialtests/catalog.h"
#include "dialtests/dtstore.h"

/* vigil-collector --migrate: meta.db's dial tests and their history, with their ids, into the shared database's. */

struct migration {
	struct dt_store from, to;
	struct dialtests_copy *rep;
	const struct dt_row *row;  /* as meta.db has it, while it is compared */
	const struct dt_change *c; /* likewise */
	bool same;
};

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int compare_row(const struct dt_row *row, void *ctx)
{
	struct migration *m = ctx;

	m->same = same_text(row->name, m->row->name) && same_text(row->definition, m->row->definition) &&
		  same_text(row->file, m->row->file);
	return 0;
}

static int compare_change(const struct dt_change *c, void *ctx)
{
	struct migration *m = ctx;

	m->same |= c->id == m->c->id && c->ts == m->c->ts && same_text(c->action, m->c->action);
	return 0;
}

static int count(struct dialtests_copy *rep, int copied)
{
	if (copied < 0)
		return copied;
	rep->copied += copied;
	rep->present += !copied;
	return 0;
}

static int copy_change(const struct dt_change *c, void *ctx)
{
	struct migration *m = ctx;
	int r = count(m->rep, dt_store_pg_import_change(&m->to, c));

	m->rep->changes++;
	m->c = c;
	m->same = false;
	if (r == 0)
		r = m->to.ops->history(m->to.db, c->dialtest, compare_change, m);
	if (r == 0 && m->same)
		m->rep->verified++;
	else if (r == 0)
		log_warning("--migrate: change %" PRId64 " of dial test %" PRId64 " differs in the database; left as it is",
			    c->id, c->dialtest);
	return r;
}

static int copy_test(const struct dt_row *row, void *ctx)
{
	struct migration *m = ctx;
	int r = count(m->rep, dt_store_pg_import_row(&m->to, row));

	m->rep->tests++;
	m->row = row;
	m->same = false;
	if (r == 0)
		r = m->to.ops->each(m->to.db, row->id, compare_row, m);
	if (r == 0 && m->same)
		m->rep->verified++;
	else if (r == 0)
		log_warning("--migrate: dial test %" PRId64 " (%s) differs in the database (its id or name is another's"
			    " there); left as it is", row->id, row->name);
	if (r == 0 && m->same)
		r = m->from.ops->history(m->from.db, row->id, copy_change, m);
	return r;
}

int dialtests_migrate(const char *data_dir, const char *url, const char *password_file, struct dialtests_copy *ret)
{
	struct migration m = { .rep = ret };
	int r;

	*ret = (struct dialtests_copy){ 0 };
	r = dt_store_sqlite_open(data_dir, true, &m.from);
	if (r == 0)
		r = dt_store_pg_open(url, password_file, &m.to);
	if (r == 0)
		r = m.from.ops->each(m.from.db, 0, copy_test, &m);
	if (r == 0)
		r = dt_store_pg_import_done(&m.to);
	if (m.to.ops)
		m.to.ops->close(m.to.db);
	if (m.from.ops)
		m.from.ops->close(m.from.db);
	if (r < 0)
		return log_error_errno(r, "--migrate: the dial tests of %s: %m", data_dir);
	return ret->verified == ret->tests + ret->changes ? 0 : -EUCLEAN;
}

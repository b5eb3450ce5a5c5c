/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <string.h>

#include "alerts/catalog.h"
#include "alerts/defstore.h"
#include "common/log.h"

/* vigil-collector --migrate: meta.db's definitions made through the API into the shared database's. */

struct migration {
	struct defs_store from, to;
	const char *kind;
	struct defs_copy *rep;
	const struct defs_row *row; /* as meta.db has it, while it is compared */
	int found;                  /* -1 none there, 0 another, 1 the same */
};

static int compare(const struct defs_row *row, void *ctx)
{
	struct migration *m = ctx;

	m->found = strcmp(row->definition, m->row->definition) == 0 && strcmp(row->author, m->row->author) == 0;
	return 0;
}

static int there(struct migration *m)
{
	m->found = -1;
	return m->to.ops->get(m->to.db, m->kind, m->row->name, compare, m);
}

/* Put with its creation time, then changed at its last change's: the upsert keeps created. */
static int copy_def(const struct defs_row *row, void *ctx)
{
	struct migration *m = ctx;
	int r;

	m->rep->defs++;
	m->row = row;
	r = there(m);
	if (r == 0 && m->found < 0) {
		r = m->to.ops->put(m->to.db, m->kind, row->name, row->definition, row->author, row->created);
		if (r == 0)
			r = m->to.ops->put(m->to.db, m->kind, row->name, row->definition, row->author, row->updated);
		if (r == 0)
			r = there(m);
		m->rep->copied += r == 0;
	} else if (r == 0) {
		m->rep->present++;
	}
	if (r == 0 && m->found > 0)
		m->rep->verified++;
	else if (r == 0)
		log_warning("--migrate: [%s \"%s\"] differs in the database; left as it is there", m->kind, row->name);
	return r;
}

int defs_migrate(const char *data_dir, const char *url, const char *password_file, struct defs_copy *ret)
{
	struct migration m = { .rep = ret };
	uint64_t v = 0;
	int r;

	*ret = (struct defs_copy){ 0 };
	r = defs_store_sqlite_open(data_dir, true, &m.from);
	if (r == 0)
		r = defs_store_pg_open(url, password_file, &m.to);
	/* One change of the database's: the collectors running on it build the definitions again after it. */
	if (r == 0)
		r = m.to.ops->begin(m.to.db, &v);
	if (r == 0) {
		for (int k = 0; r == 0 && k < _CATALOG_KIND_MAX + 2; k++) {
			m.kind = k < _CATALOG_KIND_MAX ? catalog_kind_name(k) :
				 k == _CATALOG_KIND_MAX ? DEFS_KIND_CONFIG_GROUP : DEFS_KIND_CONFIG_VERSION;
			r = m.from.ops->each(m.from.db, m.kind, copy_def, &m);
		}
		r = m.to.ops->end(m.to.db, r, &v);
	}
	if (m.to.ops)
		m.to.ops->close(m.to.db);
	if (m.from.ops)
		m.from.ops->close(m.from.db);
	if (r < 0)
		return log_error_errno(r, "--migrate: the definitions of %s: %m", data_dir);
	return ret->verified == ret->defs ? 0 : -EUCLEAN;
}

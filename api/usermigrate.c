/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/usermigrate.h"
#include "api/userdb.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"

struct copy {
	void *to; /* the database's, of userdb_pg */
	struct usermigrate_report *rep;
};

static int copy_user(const struct user *u, const char *const *recovery, size_t n, void *ctx)
{
	struct copy *c = ctx;
	struct user there;
	int r = userdb_pg_import(c->to, u, recovery, n);

	c->rep->users++;
	if (r == 0)
		c->rep->users_copied++;
	else if (r == -EEXIST)
		c->rep->users_present++;
	else
		return r;
	r = userdb_pg.get(c->to, u->name, &there);
	if (r == 0 && strcmp(there.password, u->password) == 0 && strcmp(there.role, u->role) == 0)
		c->rep->verified++;
	else if (r == 0 || r == -ENOENT)
		log_warning("--migrate: user %s differs in the database (made there too?): left as it is there", u->name);
	explicit_bzero(&there, sizeof(there));
	return r == -ENOENT ? 0 : r;
}

static int copy_token(const char *name, const char *role, uint64_t created, const uint8_t hash[SHA256_SIZE], void *ctx)
{
	struct copy *c = ctx;
	char there_name[128], there_role[32];
	int r = userdb_pg.token_insert(c->to, name, role, hash, created);

	c->rep->tokens++;
	if (r == 0)
		c->rep->tokens_copied++;
	else if (r == -EEXIST)
		c->rep->tokens_present++;
	else
		return r;
	r = userdb_pg.token_find(c->to, hash, there_name, sizeof(there_name), there_role, sizeof(there_role));
	if (r == 0 && strcmp(there_name, name) == 0 && strcmp(there_role, role) == 0)
		c->rep->verified++;
	else if (r == 0 || r == -EACCES)
		log_warning("--migrate: token %s differs in the database (made there too?): left as it is there", name);
	return r == -EACCES ? 0 : r;
}

int usermigrate_run(const char *data_dir, const char *url, const char *password_file, struct usermigrate_report *ret)
{
	struct copy c = { .rep = ret };
	char path[4096];
	sqlite3 *meta = NULL;
	int r;

	*ret = (struct usermigrate_report){ 0 };
	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	/* Not created: a store that never had a user or a token has none to copy. */
	if (access(path, F_OK) != 0)
		return 0;
	r = db_open(path, false, false, DB_SYNC_FULL, &meta);
	if (r == 0)
		r = users_schema(meta);
	if (r == 0)
		r = auth_schema(meta);
	if (r == 0)
		r = userdb_pg_open(url, password_file, &c.to);
	if (r == 0)
		r = users_export(meta, copy_user, &c);
	if (r == 0)
		r = auth_tokens_each(meta, copy_token, &c);
	if (c.to)
		userdb_pg.close(c.to);
	db_close(meta);
	if (r < 0)
		return log_error_errno(r, "--migrate: the users and tokens of %s: %m", path);
	return ret->verified == ret->users + ret->tokens ? 0 : -EUCLEAN;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's users and sessions and the API's tokens in the database
 * the collectors share (userdb.h): `users`, `user_recovery`, `sessions`
 * and `tokens` in PostgreSQL. The same rows as users.c, sessions.c and
 * auth.c keep in meta.db, and the same guarantees across collectors: a
 * failed login counts wherever it was tried (one statement reads and
 * writes the count), a TOTP code and a recovery code are good once
 * whichever collector sees them first (the write is conditional), a
 * session's id and a token are stored only as their SHA-256.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/userdb.h"
#include "common/hash.h"
#include "common/macro.h"
#include "store/pg.h"

struct pgusers {
	struct pg_link link; /* connected again at the next call outside a transaction after the server went away */
	bool in_tx; /* begin() opened one: a lost connection fails the rest of it, never half of it on a new one */
};

static int schema(PGconn *c, void *ctx)
{
	static const char *const tables[] = {
		"CREATE TABLE IF NOT EXISTS users(name text PRIMARY KEY, role text NOT NULL, password text NOT NULL,"
		" must_change boolean NOT NULL DEFAULT false, disabled boolean NOT NULL DEFAULT false, totp bytea,"
		" totp_pending bytea, totp_step bigint NOT NULL DEFAULT 0, failures bigint NOT NULL DEFAULT 0,"
		" failures_since bigint NOT NULL DEFAULT 0, locked_until bigint NOT NULL DEFAULT 0,"
		" created bigint NOT NULL, updated bigint NOT NULL, last_login bigint NOT NULL DEFAULT 0)",
		/* A row per unused recovery code: using one is deleting its row, which only one collector can. */
		"CREATE TABLE IF NOT EXISTS user_recovery(name text NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
		" hash text NOT NULL, PRIMARY KEY (name, hash))",
		"CREATE TABLE IF NOT EXISTS sessions(id bytea PRIMARY KEY, username text NOT NULL, csrf text NOT NULL,"
		" created bigint NOT NULL, last_seen bigint NOT NULL)",
		"CREATE INDEX IF NOT EXISTS sessions_user ON sessions(username)",
		"CREATE TABLE IF NOT EXISTS tokens(name text PRIMARY KEY, role text NOT NULL, hash bytea UNIQUE NOT NULL,"
		" created bigint NOT NULL)",
	};
	int r = 0;

	(void)ctx;
	/* Two collectors creating them at once: the loser's error is the winner's table. */
	for (size_t i = 0; (r == 0 || r == -EEXIST) && i < ARRAY_SIZE(tables); i++)
		r = pg_exec(c, tables[i]);
	return r == -EEXIST ? 0 : r;
}

/*
 * Every failure to get a usable connection is -EPIPE: the store's, never
 * the asker's. pg_connect()'s -EACCES (the database refused the
 * collector's own password) must not read as a token or session refused,
 * which would send every console user to the login.
 */
static int connected(struct pgusers *p)
{
	int r = !p->link.c && p->in_tx ? -EPIPE : pg_link_up(&p->link);

	return r < 0 ? -EPIPE : 0;
}

/* sql with params: its rows into *ret (the caller's to PQclear()), or NULL ret. */
static int query(struct pgusers *p, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	int r = connected(p);

	return pg_link_settle(&p->link, r < 0 ? r : pg_run(p->link.c, sql, params, n, ret));
}

/* A statement that writes: -ENOENT when it wrote no row. */
static int change(struct pgusers *p, const char *sql, const struct pg_param *params, int n)
{
	long long rows = 0;
	int r = connected(p);

	if (r == 0)
		r = pg_link_settle(&p->link, pg_run_count(p->link.c, sql, params, n, &rows));
	return r == 0 && rows == 0 ? -ENOENT : r;
}

#define PG_BYTES(v, n) { .value = (const char *)(v), .len = (int)(n), .binary = true }

int userdb_pg_open(const char *url, const char *password_file, void **ret)
{
	struct pgusers *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = pg_link_init(&p->link, &(struct pg_conf){ .url = url, .password_file = password_file });
	p->link.on_connect = schema;
	if (r == 0)
		r = connected(p);
	if (r < 0) {
		userdb_pg.close(p);
		return r;
	}
	*ret = p;
	return 0;
}

static void pg_close(void *db)
{
	struct pgusers *p = db;

	if (!p)
		return;
	pg_link_free(&p->link);
	free(p);
}

static int pg_begin(void *db)
{
	struct pgusers *p = db;
	int r = connected(p);

	if (r == 0)
		r = pg_link_settle(&p->link, pg_exec(p->link.c, "BEGIN"));
	p->in_tx = r == 0;
	return r;
}

static int pg_end(void *db, bool commit)
{
	struct pgusers *p = db;
	int r = p->link.c ? pg_link_settle(&p->link, pg_exec(p->link.c, commit ? "COMMIT" : "ROLLBACK")) : -EPIPE;

	p->in_tx = false;
	return r;
}

#define USER_COLUMNS                                                                                            \
	"name, role, password, must_change, disabled, totp, totp_pending, totp_step, failures, failures_since," \
	" locked_until, created, last_login"

/* A bytea column of size bytes into out; whether there was one of that size. */
static bool bytes_of(const PGresult *res, int row, int col, uint8_t *out, size_t size)
{
	size_t n = 0;
	unsigned char *b;

	if (PQgetisnull(res, row, col))
		return false;
	b = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n);
	if (b && n == size)
		memcpy(out, b, n);
	if (b)
		explicit_bzero(b, n);
	PQfreemem(b);
	return b && n == size;
}

static bool flag(const PGresult *res, int row, int col)
{
	return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

static void user_of(const PGresult *res, int row, struct user *u)
{
	memset(u, 0, sizeof(*u));
	(void)snprintf(u->name, sizeof(u->name), "%s", PQgetvalue(res, row, 0));
	(void)snprintf(u->role, sizeof(u->role), "%s", PQgetvalue(res, row, 1));
	(void)snprintf(u->password, sizeof(u->password), "%s", PQgetvalue(res, row, 2));
	u->must_change = flag(res, row, 3);
	u->disabled = flag(res, row, 4);
	u->has_totp = bytes_of(res, row, 5, u->totp, sizeof(u->totp));
	u->has_pending = bytes_of(res, row, 6, u->pending, sizeof(u->pending));
	u->totp_step = (uint64_t)pg_int(res, row, 7);
	u->failures = (uint64_t)pg_int(res, row, 8);
	u->failures_since = (uint64_t)pg_int(res, row, 9);
	u->locked_until = (uint64_t)pg_int(res, row, 10);
	u->created = (uint64_t)pg_int(res, row, 11);
	u->last_login = (uint64_t)pg_int(res, row, 12);
}

static int pg_get(void *db, const char *name, struct user *ret)
{
	const struct pg_param p[] = { PG_TEXT(name) };
	PGresult *res = NULL;
	int r = query(db, "SELECT " USER_COLUMNS " FROM users WHERE name=$1", p, 1, &res);

	if (r == 0 && PQntuples(res) == 1)
		user_of(res, 0, ret);
	else if (r == 0)
		r = -ENOENT;
	PQclear(res);
	return r;
}

static int pg_create(void *db, const char *name, const char *role, const char *hash, bool must_change, uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(role), PG_TEXT(hash), PG_TEXT(must_change ? "t" : "f"),
				      PG_TEXT(t.s) };

	return change(db, "INSERT INTO users(name, role, password, must_change, created, updated)"
			  " VALUES ($1, $2, $3, $4::boolean, $5::bigint, $5::bigint)", p, 5);
}

static int pg_list(void *db, json_t *items)
{
	PGresult *res = NULL;
	struct user u;
	int r = query(db, "SELECT " USER_COLUMNS " FROM users ORDER BY name", NULL, 0, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		user_of(res, i, &u);
		json_array_append_new(items, user_json(&u));
	}
	explicit_bzero(&u, sizeof(u));
	PQclear(res);
	return r;
}

static int pg_set_password(void *db, const char *name, const char *hash, bool must_change, uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(hash), PG_TEXT(must_change ? "t" : "f"), PG_TEXT(t.s) };

	/* A new password also unlocks: an admin's reset is how a locked-out user gets back in. */
	return change(db, "UPDATE users SET password=$2, must_change=$3::boolean, updated=$4::bigint, failures=0,"
			  " locked_until=0 WHERE name=$1", p, 4);
}

static int pg_set_role(void *db, const char *name, const char *role, uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(role), PG_TEXT(t.s) };

	return change(db, "UPDATE users SET role=$2, updated=$3::bigint WHERE name=$1", p, 3);
}

static int pg_set_disabled(void *db, const char *name, bool disabled, uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(disabled ? "t" : "f"), PG_TEXT(t.s) };

	return change(db, "UPDATE users SET disabled=$2::boolean, updated=$3::bigint WHERE name=$1", p, 3);
}

static int pg_login_failed(void *db, const char *name, uint64_t now, uint64_t window_us, uint64_t max, bool *ret_locked)
{
	const struct pg_num t = pg_num((long long)now), w = pg_num((long long)window_us), m = pg_num((long long)max);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(t.s), PG_TEXT(w.s), PG_TEXT(m.s) };
	PGresult *res = NULL;
	int r;

	/*
	 * One statement: two collectors counting failures of one user at once
	 * each add theirs (the row is locked between). COUNT is this failure's
	 * number, a new count when the window of the first has passed.
	 */
#define NOW "$2::bigint"
#define WINDOW "$3::bigint"
#define COUNT "(CASE WHEN " NOW "-failures_since>" WINDOW " THEN 1 ELSE failures+1 END)"
	r = query(db, "UPDATE users SET failures=CASE WHEN " COUNT ">=$4::bigint THEN 0 ELSE " COUNT " END,"
		      " failures_since=CASE WHEN " NOW "-failures_since>" WINDOW " THEN " NOW " ELSE failures_since END,"
		      " locked_until=CASE WHEN " COUNT ">=$4::bigint THEN " NOW "+" WINDOW " ELSE locked_until END"
		      " WHERE name=$1 RETURNING locked_until=" NOW "+" WINDOW, p, 4, &res);
#undef COUNT
#undef WINDOW
#undef NOW
	if (r == 0 && PQntuples(res) == 1)
		*ret_locked = flag(res, 0, 0);
	else if (r == 0)
		r = -ENOENT;
	PQclear(res);
	return r;
}

static int pg_login_ok(void *db, const char *name, uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(t.s) };

	return change(db, "UPDATE users SET failures=0, last_login=$2::bigint WHERE name=$1", p, 2);
}

static int pg_set_totp_step(void *db, const char *name, uint64_t step)
{
	const struct pg_num s = pg_num((long long)step);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(s.s) };

	return change(db, "UPDATE users SET totp_step=$2::bigint WHERE name=$1 AND totp_step<$2::bigint", p, 2);
}

static int pg_set_totp_pending(void *db, const char *name, const uint8_t *secret)
{
	const struct pg_param p[] = { PG_TEXT(name), PG_BYTES(secret, secret ? TOTP_SECRET_SIZE : 0) };

	return change(db, "UPDATE users SET totp_pending=$2 WHERE name=$1", p, 2);
}

/* The secret and the recovery codes of name, in the caller's transaction. */
static int set_totp_in(struct pgusers *p, const char *name, const uint8_t *secret, const char *const *recovery,
		       size_t n)
{
	const struct pg_param who[] = { PG_TEXT(name), PG_BYTES(secret, secret ? TOTP_SECRET_SIZE : 0) };
	int r = change(p, "UPDATE users SET totp=$2, totp_pending=NULL WHERE name=$1", who, 2);

	if (r == 0)
		r = query(p, "DELETE FROM user_recovery WHERE name=$1", who, 1, NULL);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct pg_param code[] = { PG_TEXT(name), PG_TEXT(recovery[i]) };

		r = change(p, "INSERT INTO user_recovery(name, hash) VALUES ($1, $2)", code, 2);
	}
	return r;
}

/* u's row, as it is in the other store, and its recovery codes when it was not there: in the caller's transaction. */
static int import_in(struct pgusers *p, const struct user *u, const char *const *recovery, size_t n)
{
	const struct pg_num step = pg_num((long long)u->totp_step), fails = pg_num((long long)u->failures),
			 since = pg_num((long long)u->failures_since), locked = pg_num((long long)u->locked_until),
			 created = pg_num((long long)u->created), last = pg_num((long long)u->last_login);
	const struct pg_param row[] = {
		PG_TEXT(u->name), PG_TEXT(u->role), PG_TEXT(u->password), PG_TEXT(u->must_change ? "t" : "f"),
		PG_TEXT(u->disabled ? "t" : "f"), PG_BYTES(u->has_totp ? u->totp : NULL, sizeof(u->totp)),
		PG_BYTES(u->has_pending ? u->pending : NULL, sizeof(u->pending)), PG_TEXT(step.s), PG_TEXT(fails.s),
		PG_TEXT(since.s), PG_TEXT(locked.s), PG_TEXT(created.s), PG_TEXT(last.s),
	};
	int r = change(p, "INSERT INTO users(name, role, password, must_change, disabled, totp, totp_pending, totp_step,"
			  " failures, failures_since, locked_until, created, updated, last_login) VALUES ($1, $2, $3,"
			  " $4::boolean, $5::boolean, $6, $7, $8::bigint, $9::bigint, $10::bigint, $11::bigint, $12::bigint,"
			  " $12::bigint, $13::bigint) ON CONFLICT (name) DO NOTHING", row, 13);

	if (r == -ENOENT)
		return -EEXIST;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct pg_param code[] = { PG_TEXT(u->name), PG_TEXT(recovery[i]) };

		r = change(p, "INSERT INTO user_recovery(name, hash) VALUES ($1, $2)", code, 2);
	}
	return r;
}

/* A write of several statements in a transaction: the caller's if one is open (*own false), else one of its own. */
static int own_begin(struct pgusers *p, bool *own)
{
	*own = !p->in_tx;
	return *own ? pg_begin(p) : 0;
}

/* Ends what own_begin() opened: commits after r == 0, else rolls back; r, or the commit's error. */
static int own_end(struct pgusers *p, bool own, int r)
{
	if (!own)
		return r;
	if (r == 0)
		return pg_end(p, true);
	(void)pg_end(p, false);
	return r;
}

int userdb_pg_import(void *db, const struct user *u, const char *const *recovery, size_t n)
{
	struct pgusers *p = db;
	bool own;
	int r = own_begin(p, &own);

	if (r == 0)
		r = import_in(p, u, recovery, n);
	return own_end(p, own, r);
}

static int pg_set_totp(void *db, const char *name, const uint8_t *secret, const char *const *recovery, size_t n)
{
	struct pgusers *p = db;
	bool own;
	int r = own_begin(p, &own);

	if (r == 0)
		r = set_totp_in(p, name, secret, recovery, n);
	return own_end(p, own, r);
}

static int pg_use_recovery(void *db, const char *name, const char *hash)
{
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(hash) };

	return change(db, "DELETE FROM user_recovery WHERE name=$1 AND hash=$2", p, 2);
}

/* The session id as stored: its SHA-256 (the id itself lives only in the browser's cookie). */
static int id_hash(const char *id, uint8_t out[SHA256_SIZE])
{
	return id && sha256(id, strlen(id), out) < 0 ? -EIO : 0;
}

static int pg_session_create(void *db, const char *id, const char *user, const char *csrf, uint64_t now)
{
	uint8_t h[SHA256_SIZE];
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_BYTES(h, sizeof(h)), PG_TEXT(user), PG_TEXT(csrf), PG_TEXT(t.s) };
	int r = id_hash(id, h);

	return r < 0 ? r : change(db, "INSERT INTO sessions(id, username, csrf, created, last_seen)"
				      " VALUES ($1, $2, $3, $4::bigint, $4::bigint)", p, 4);
}

static int pg_session_get(void *db, const char *id, struct session *ret)
{
	uint8_t h[SHA256_SIZE];
	const struct pg_param p[] = { PG_BYTES(h, sizeof(h)) };
	PGresult *res = NULL;
	int r = id_hash(id, h);

	if (r == 0)
		r = query(db, "SELECT username, csrf, created, last_seen FROM sessions WHERE id=$1", p, 1, &res);
	if (r == 0 && PQntuples(res) == 1) {
		(void)snprintf(ret->user, sizeof(ret->user), "%s", PQgetvalue(res, 0, 0));
		(void)snprintf(ret->csrf, sizeof(ret->csrf), "%s", PQgetvalue(res, 0, 1));
		ret->created = (uint64_t)pg_int(res, 0, 2);
		ret->last_seen = (uint64_t)pg_int(res, 0, 3);
	} else if (r == 0) {
		r = -EACCES;
	}
	PQclear(res);
	return r;
}

static int pg_session_touch(void *db, const char *id, uint64_t now)
{
	uint8_t h[SHA256_SIZE];
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_BYTES(h, sizeof(h)), PG_TEXT(t.s) };
	int r = id_hash(id, h);

	/* Never back: collectors' clocks differ a little. */
	return r < 0 ? r : query(db, "UPDATE sessions SET last_seen=$2::bigint WHERE id=$1 AND last_seen<$2::bigint", p, 2,
				 NULL);
}

static int pg_session_delete(void *db, const char *id)
{
	uint8_t h[SHA256_SIZE];
	const struct pg_param p[] = { PG_BYTES(h, sizeof(h)) };
	int r = id_hash(id, h);

	return r < 0 ? r : query(db, "DELETE FROM sessions WHERE id=$1", p, 1, NULL);
}

static int pg_session_delete_user(void *db, const char *user, const char *except)
{
	uint8_t h[SHA256_SIZE];
	const struct pg_param p[] = { PG_TEXT(user), except ? (struct pg_param)PG_BYTES(h, sizeof(h)) : (struct pg_param){ 0 } };
	int r = id_hash(except, h);

	return r < 0 ? r : query(db, "DELETE FROM sessions WHERE username=$1 AND ($2::bytea IS NULL OR id<>$2::bytea)", p,
				 2, NULL);
}

static int pg_session_prune(void *db, uint64_t now, uint64_t idle_us, uint64_t lifetime_us)
{
	const struct pg_num idle = pg_num((long long)(now - MIN(now, idle_us))), life = pg_num((long long)(now - MIN(now, lifetime_us)));
	const struct pg_param p[] = { PG_TEXT(idle.s), PG_TEXT(life.s) };

	return query(db, "DELETE FROM sessions WHERE last_seen<$1::bigint OR created<$2::bigint", p, 2, NULL);
}

static int pg_token_insert(void *db, const char *name, const char *role, const uint8_t hash[SHA256_SIZE], uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(role), PG_BYTES(hash, SHA256_SIZE), PG_TEXT(t.s) };

	return change(db, "INSERT INTO tokens(name, role, hash, created) VALUES ($1, $2, $3, $4::bigint)", p, 4);
}

static int pg_token_delete(void *db, const char *name)
{
	const struct pg_param p[] = { PG_TEXT(name) };

	return change(db, "DELETE FROM tokens WHERE name=$1", p, 1);
}

static int pg_token_find(void *db, const uint8_t hash[SHA256_SIZE], char *name, size_t name_size, char *role,
			 size_t role_size)
{
	const struct pg_param p[] = { PG_BYTES(hash, SHA256_SIZE) };
	PGresult *res = NULL;
	int r = query(db, "SELECT name, role FROM tokens WHERE hash=$1", p, 1, &res);

	if (r == 0 && PQntuples(res) == 1) {
		(void)snprintf(name, name_size, "%s", PQgetvalue(res, 0, 0));
		(void)snprintf(role, role_size, "%s", PQgetvalue(res, 0, 1));
	} else if (r == 0) {
		r = -EACCES;
	}
	PQclear(res);
	return r;
}

static int pg_tokens_each(void *db, auth_token_fn fn, void *ctx)
{
	PGresult *res = NULL;
	uint8_t hash[SHA256_SIZE];
	int r = query(db, "SELECT name, role, created, hash FROM tokens ORDER BY name", NULL, 0, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		r = bytes_of(res, i, 3, hash, sizeof(hash)) ? 0 : -EUCLEAN;
		if (r == 0)
			r = fn(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), (uint64_t)pg_int(res, i, 2), hash, ctx);
	}
	PQclear(res);
	return r;
}

const struct userdb_ops userdb_pg = {
	.name = "PostgreSQL",
	.close = pg_close,
	.begin = pg_begin,
	.end = pg_end,
	.get = pg_get,
	.create = pg_create,
	.list = pg_list,
	.set_password = pg_set_password,
	.set_role = pg_set_role,
	.set_disabled = pg_set_disabled,
	.login_failed = pg_login_failed,
	.login_ok = pg_login_ok,
	.set_totp_step = pg_set_totp_step,
	.set_totp_pending = pg_set_totp_pending,
	.set_totp = pg_set_totp,
	.use_recovery = pg_use_recovery,
	.session_create = pg_session_create,
	.session_get = pg_session_get,
	.session_touch = pg_session_touch,
	.session_delete = pg_session_delete,
	.session_delete_user = pg_session_delete_user,
	.session_prune = pg_session_prune,
	.token_insert = pg_token_insert,
	.token_delete = pg_token_delete,
	.token_find = pg_token_find,
	.tokens_each = pg_tokens_each,
};

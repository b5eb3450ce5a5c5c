/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include "api/accounts.h"
#include "api/auth.h"
#include "api/userdb.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"
#include "store/lockouts.h"
#include "store/storage.h"

/* A session's last_seen is written at most this often: a read stays a read. */
#define TOUCH_US (30 * USEC_PER_SEC)
#define ISSUER "vigil"

struct accounts {
	const struct users_conf *conf;
	sqlite3 *meta; /* the lockouts; the users and sessions too unless they are shared */
	struct pgstore *shared; /* with backend=postgresql: where the lockouts go instead */
	const struct userdb_ops *ops;
	void *db;
	pthread_mutex_t lock;
};

/* The users and sessions: in meta.db, or with backend=postgresql in the database the collectors share. */
static int open_userdb(struct accounts *a, const struct storage_conf *storage)
{
	int r;

	if (!storage_conf_shared(storage)) {
		a->ops = &userdb_sqlite;
		a->db = a->meta;
		r = users_schema(a->meta);
		if (r == 0)
			r = sessions_schema(a->meta);
		return r < 0 ? r : auth_schema(a->meta);
	}
	r = userdb_pg_open(storage->url, storage->password_file, &a->db);
	if (r == 0)
		a->ops = &userdb_pg;
	/* The lockout rule of whichever collector evaluates counts a lockout made through this one. */
	return r == 0 ? pgstore_open(storage, false, &a->shared) : r;
}

int accounts_open(const struct storage_conf *storage, const struct users_conf *conf, struct accounts **ret)
{
	struct accounts *a = calloc(1, sizeof(*a));
	char path[4096];
	int r;

	if (!a)
		return -ENOMEM;
	a->conf = conf;
	pthread_mutex_init(&a->lock, NULL);
	(void)snprintf(path, sizeof(path), "%s/meta.db", storage->data_dir);
	r = mkdir_p(storage->data_dir, 0750);
	if (r == 0)
		r = db_open(path, true, false, DB_SYNC_FULL, &a->meta);
	if (r == 0)
		r = lockouts_schema(a->meta);
	if (r < 0) {
		accounts_free(a);
		return log_error_errno(r, "users: cannot open %s: %m", path);
	}
	r = open_userdb(a, storage);
	if (r < 0) {
		accounts_free(a);
		return log_error_errno(r, "users: cannot open their store: %m");
	}
	log_info("users: the users, sessions and API tokens are in %s", a->ops->name);
	*ret = a;
	return 0;
}

void accounts_free(struct accounts *a)
{
	if (!a)
		return;
	if (a->ops)
		a->ops->close(a->db);
	pgstore_free(a->shared);
	db_close(a->meta);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void who_of(const struct accounts *a, const struct user *u, const struct session *s, struct session_who *who)
{
	(void)snprintf(who->user, sizeof(who->user), "%s", u->name);
	(void)snprintf(who->role, sizeof(who->role), "%s", u->role);
	(void)snprintf(who->csrf, sizeof(who->csrf), "%s", s->csrf);
	who->must_change = u->must_change;
	who->must_enrol = !u->has_totp && word_listed(a->conf->totp_roles, u->role);
}

/* Whether the login's second factor holds for u (a TOTP code, or a recovery code, used up). */
static bool second_factor(struct accounts *a, struct user *u, const struct login_request *rq, uint64_t now)
{
	uint8_t hash[SHA256_SIZE];
	char hex[2 * SHA256_SIZE + 1];
	uint64_t step = u->totp_step;

	if (rq->totp)
		return totp_check(u->totp, sizeof(u->totp), rq->totp, now / USEC_PER_SEC, &step) &&
		       a->ops->set_totp_step(a->db, u->name, step) == 0;
	if (!rq->recovery || sha256(rq->recovery, strlen(rq->recovery), hash) < 0)
		return false;
	hex_encode(hash, sizeof(hash), hex);
	return a->ops->use_recovery(a->db, u->name, hex) == 0;
}

/*
 * The login's verdict (enum login_result), or a negative errno when the
 * store cannot say. The password is checked outside the lock: an argon2id
 * check takes tens of milliseconds, and every session's request takes the
 * lock.
 */
static int check_login(struct accounts *a, struct user *u, const struct login_request *rq, uint64_t now)
{
	bool ok;
	int r;

	pthread_mutex_lock(&a->lock);
	r = a->ops->get(a->db, rq->user, u);
	pthread_mutex_unlock(&a->lock);
	if (r < 0) {
		password_check_nobody(rq->password);
		return r == -ENOENT ? LOGIN_WRONG : r;
	}
	if (u->locked_until > now)
		return LOGIN_LOCKED;
	if (password_check(u->password, rq->password) < 0)
		return LOGIN_WRONG;
	if (u->disabled)
		return LOGIN_DISABLED;
	if (!u->has_totp)
		return LOGIN_OK;
	if (!rq->totp && !rq->recovery)
		return LOGIN_CODE_NEEDED;
	pthread_mutex_lock(&a->lock);
	ok = second_factor(a, u, rq, now);
	pthread_mutex_unlock(&a->lock);
	return ok ? LOGIN_OK : LOGIN_WRONG;
}

/* A random id (a session's, or its CSRF token): SESSION_ID_LEN hex characters. */
static int new_id(char out[SESSION_ID_LEN + 1])
{
	uint8_t raw[SESSION_ID_LEN / 2];
	int r = random_bytes(raw, sizeof(raw));

	if (r == 0)
		hex_encode(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return r;
}

/* Whether span passed between then and now; none did when then is later (another collector's clock ahead). */
static bool passed(uint64_t then, uint64_t now, uint64_t span)
{
	return now > then && now - then > span;
}

/*
 * The session id if it has not ended at now (one that ended is deleted):
 * seen at now, written at most every TOUCH_US so that reads stay reads.
 */
static int live_session(struct accounts *a, const char *id, uint64_t now, struct session *s)
{
	int r = a->ops->session_get(a->db, id, s);

	if (r == 0 && (passed(s->last_seen, now, a->conf->session_idle_ms * 1000) ||
		       passed(s->created, now, a->conf->session_lifetime_ms * 1000))) {
		(void)a->ops->session_delete(a->db, id);
		r = -EACCES;
	}
	if (r == 0 && passed(s->last_seen, now, TOUCH_US - 1))
		(void)a->ops->session_touch(a->db, id, now);
	return r;
}

int accounts_login(struct accounts *a, const struct login_request *rq, uint64_t now, char id[SESSION_ID_LEN + 1],
		   struct session_who *who, uint64_t *locked_until)
{
	const uint64_t window = a->conf->lockout_ms * 1000;
	struct session s = { 0 };
	struct user u = { 0 };
	int res = check_login(a, &u, rq, now);
	bool locked = false;
	int r = 0;

	pthread_mutex_lock(&a->lock);
	if (res == LOGIN_WRONG && u.name[0] &&
	    a->ops->login_failed(a->db, u.name, now, window, a->conf->lockout_failures, &locked) == 0 && locked) {
		log_warning("users: %s locked for %" PRIu64 " s after %" PRIu64 " failed logins", u.name,
			    a->conf->lockout_ms / 1000, a->conf->lockout_failures);
		res = LOGIN_LOCKED;
		u.locked_until = now + window;
		/* For the lockout rule; the lock holds whether or not this row could be written. */
		if ((a->shared ? pgstore_lockout_add(a->shared, u.name, now, u.locked_until)
			       : lockouts_add(a->meta, u.name, now, u.locked_until)) < 0)
			log_warning("users: %s's lockout not recorded for the lockout rule", u.name);
	}
	*locked_until = u.locked_until;
	if (res == LOGIN_OK) {
		(void)a->ops->session_prune(a->db, now, a->conf->session_idle_ms * 1000,
					    a->conf->session_lifetime_ms * 1000);
		r = new_id(id);
		if (r == 0)
			r = new_id(s.csrf);
		if (r == 0)
			r = a->ops->session_create(a->db, id, u.name, s.csrf, now);
		if (r == 0)
			r = a->ops->login_ok(a->db, u.name, now);
		who_of(a, &u, &s, who);
	}
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(&u, sizeof(u));
	return r < 0 ? r : res;
}

int accounts_session(struct accounts *a, const char *id, uint64_t now, struct session_who *who)
{
	struct session s;
	struct user u;
	int r;

	pthread_mutex_lock(&a->lock);
	r = strlen(id) == SESSION_ID_LEN ? live_session(a, id, now, &s) : -EACCES;
	if (r == 0)
		r = a->ops->get(a->db, s.user, &u) == 0 && !u.disabled ? 0 : -EACCES;
	if (r == 0)
		who_of(a, &u, &s, who);
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(&u, sizeof(u));
	return r;
}

int accounts_logout(struct accounts *a, const char *id)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = a->ops->session_delete(a->db, id);
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* The hash of password into hash when it meets the policy; -EINVAL with why. */
static int new_hash(struct accounts *a, const char *password, char hash[PASSWORD_HASH_MAX], char *why, size_t size)
{
	const struct password_policy policy = { a->conf->password_min_length, a->conf->password_min_classes };

	if (password_weak(password, &policy, why, size))
		return -EINVAL;
	return password_hash(password, hash);
}

int accounts_create(struct accounts *a, const char *name, const char *role, const char *password, bool must_change,
		    uint64_t now, char *why, size_t size)
{
	char hash[PASSWORD_HASH_MAX];
	int r;

	if (!name_valid(name, USER_NAME_MAX, "@")) {
		(void)snprintf(why, size, "name: 1 to %d letters, digits, '_', '.', '@' or '-'", USER_NAME_MAX);
		return -EINVAL;
	}
	r = new_hash(a, password, hash, why, size);
	if (r < 0)
		return r;
	pthread_mutex_lock(&a->lock);
	r = a->ops->create(a->db, name, role, hash, must_change, now);
	pthread_mutex_unlock(&a->lock);
	if (r == -EEXIST)
		(void)snprintf(why, size, "a user named %s exists", name);
	return r;
}

int accounts_list(struct accounts *a, json_t *items)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = a->ops->list(a->db, items);
	pthread_mutex_unlock(&a->lock);
	return r;
}

/*
 * A change of a user's row that ends their sessions (but keep_session):
 * change_begin() takes the lock and opens the transaction, change_end()
 * ends the sessions if r is 0, commits or rolls back, and lets go.
 */
static int change_begin(struct accounts *a)
{
	pthread_mutex_lock(&a->lock);
	return a->ops->begin(a->db);
}

static int change_end(struct accounts *a, int r, const char *name, const char *keep_session)
{
	if (r == 0)
		r = a->ops->session_delete_user(a->db, name, keep_session);
	if (r == 0)
		r = a->ops->end(a->db, true);
	else
		(void)a->ops->end(a->db, false);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int accounts_reset_password(struct accounts *a, const char *name, const char *password, uint64_t now, char *why,
			    size_t size)
{
	char hash[PASSWORD_HASH_MAX];
	int r = new_hash(a, password, hash, why, size);

	if (r == 0) {
		r = change_begin(a);
		if (r == 0)
			r = a->ops->set_password(a->db, name, hash, true, now);
		r = change_end(a, r, name, NULL);
	}
	if (r == -ENOENT)
		(void)snprintf(why, size, "no user %s", name);
	return r;
}

static int check_old(struct accounts *a, const char *name, const char *old)
{
	struct user u;
	int r = a->ops->get(a->db, name, &u);

	if (r == 0 && password_check(u.password, old) < 0)
		r = -EACCES;
	explicit_bzero(&u, sizeof(u));
	return r;
}

int accounts_check_password(struct accounts *a, const char *name, const char *password)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = check_old(a, name, password);
	pthread_mutex_unlock(&a->lock);
	return r == -ENOENT ? -EACCES : r;
}

int accounts_change_password(struct accounts *a, const char *name, const char *old, const char *password,
			     const char *keep_session, uint64_t now, char *why, size_t size)
{
	char hash[PASSWORD_HASH_MAX];
	int r;

	if (strcmp(old, password) == 0) {
		(void)snprintf(why, size, "the new password must differ from the old one");
		return -EINVAL;
	}
	r = new_hash(a, password, hash, why, size);
	if (r == 0) {
		r = change_begin(a);
		if (r == 0)
			r = check_old(a, name, old);
		if (r == 0)
			r = a->ops->set_password(a->db, name, hash, false, now);
		r = change_end(a, r, name, keep_session);
	}
	if (r == -EACCES)
		(void)snprintf(why, size, "the current password is wrong");
	return r;
}

int accounts_set_role(struct accounts *a, const char *name, const char *role, uint64_t now)
{
	int r = change_begin(a);

	if (r == 0)
		r = a->ops->set_role(a->db, name, role, now);
	return change_end(a, r, name, NULL);
}

int accounts_set_disabled(struct accounts *a, const char *name, bool disabled, uint64_t now)
{
	int r = change_begin(a);

	if (r == 0)
		r = a->ops->set_disabled(a->db, name, disabled, now);
	return change_end(a, r, name, NULL);
}

int accounts_totp_begin(struct accounts *a, const char *name, char *secret, size_t secret_size, char *uri,
			size_t uri_size)
{
	uint8_t key[TOTP_SECRET_SIZE];
	int r = random_bytes(key, sizeof(key));

	if (r == 0)
		r = base32_encode(key, sizeof(key), secret, secret_size);
	if (r == 0) {
		pthread_mutex_lock(&a->lock);
		r = a->ops->set_totp_pending(a->db, name, key);
		pthread_mutex_unlock(&a->lock);
	}
	explicit_bzero(key, sizeof(key));
	/* Key URI format of Google Authenticator, which the other apps read too. */
	if (r == 0 && snprintf(uri, uri_size, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d",
			       ISSUER, name, secret, ISSUER, TOTP_DIGITS, TOTP_STEP_S) >= (int)uri_size)
		r = -ENOBUFS;
	return r;
}

/* RECOVERY_CODES fresh codes into codes and their hashes (hex) into hashes. */
static int recovery_codes(char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1],
			  char hashes[RECOVERY_CODES][2 * SHA256_SIZE + 1])
{
	uint8_t raw[RECOVERY_CODE_LEN / 2], hash[SHA256_SIZE];
	int r = 0;

	for (size_t i = 0; r == 0 && i < RECOVERY_CODES; i++) {
		r = random_bytes(raw, sizeof(raw));
		if (r == 0) {
			hex_encode(raw, sizeof(raw), codes[i]);
			r = sha256(codes[i], RECOVERY_CODE_LEN, hash);
		}
		if (r == 0)
			hex_encode(hash, sizeof(hash), hashes[i]);
	}
	explicit_bzero(raw, sizeof(raw));
	return r;
}

int accounts_totp_confirm(struct accounts *a, const char *name, const char *code, uint64_t now,
			  char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1])
{
	char hashes[RECOVERY_CODES][2 * SHA256_SIZE + 1];
	const char *h[RECOVERY_CODES];
	uint64_t step = 0;
	struct user u;
	int r;

	for (size_t i = 0; i < RECOVERY_CODES; i++)
		h[i] = hashes[i];
	pthread_mutex_lock(&a->lock);
	r = a->ops->get(a->db, name, &u);
	if (r == 0 && (!u.has_pending || !totp_check(u.pending, sizeof(u.pending), code, now / USEC_PER_SEC, &step)))
		r = -EACCES;
	if (r == 0)
		r = recovery_codes(codes, hashes);
	if (r == 0)
		r = a->ops->set_totp(a->db, name, u.pending, h, RECOVERY_CODES);
	if (r == 0)
		r = a->ops->set_totp_step(a->db, name, step);
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(&u, sizeof(u));
	return r;
}

int accounts_token_create(struct accounts *a, const char *name, const char *role, uint64_t now, char **ret_token)
{
	uint8_t raw[32], hash[SHA256_SIZE];
	char hex[2 * sizeof(raw) + 1], *token = NULL;
	int r = random_bytes(raw, sizeof(raw));

	if (r == 0) {
		hex_encode(raw, sizeof(raw), hex);
		if (asprintf(&token, "vgl_%s", hex) < 0) {
			token = NULL;
			r = -ENOMEM;
		}
	}
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(hex, sizeof(hex));
	if (r == 0)
		r = sha256(token, strlen(token), hash);
	if (r == 0) {
		pthread_mutex_lock(&a->lock);
		r = a->ops->token_insert(a->db, name, role, hash, now);
		pthread_mutex_unlock(&a->lock);
	}
	if (r == 0)
		*ret_token = TAKE_PTR(token);
	else if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	return r;
}

int accounts_token_delete(struct accounts *a, const char *name)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = a->ops->token_delete(a->db, name);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int accounts_token_lookup(struct accounts *a, const char *token, char *name, size_t name_size, char *role,
			  size_t role_size)
{
	uint8_t hash[SHA256_SIZE];
	int r = sha256(token, strlen(token), hash);

	if (r < 0)
		return r;
	pthread_mutex_lock(&a->lock);
	r = a->ops->token_find(a->db, hash, name, name_size, role, role_size);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int accounts_tokens_each(struct accounts *a, auth_token_fn fn, void *ctx)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = a->ops->tokens_each(a->db, fn, ctx);
	pthread_mutex_unlock(&a->lock);
	return r;
}

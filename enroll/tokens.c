/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/db.h"
#include "common/hash.h"
#include "common/util.h"
#include "enroll/tokens.h"

int enroll_tokens_schema(sqlite3 *meta)
{
	return db_exec(meta, "CREATE TABLE IF NOT EXISTS enroll_tokens(id TEXT PRIMARY KEY, hash BLOB NOT NULL,"
			     " labels TEXT, created INTEGER NOT NULL, created_by TEXT NOT NULL,"
			     " expires INTEGER NOT NULL, uses_max INTEGER NOT NULL, uses INTEGER NOT NULL DEFAULT 0,"
			     " revoked INTEGER NOT NULL DEFAULT 0)");
}

static int secret_hash(const char *secret, uint8_t out[SHA256_SIZE])
{
	return sha256(secret, strlen(secret), out);
}

int enroll_token_add(sqlite3 *meta, struct enroll_token *t, char *secret)
{
	uint8_t id[ENROLL_TOKEN_ID_HEX / 2], raw[ENROLL_TOKEN_SECRET_HEX / 2], hash[SHA256_SIZE];
	sqlite3_stmt *st;
	int r = random_bytes(id, sizeof(id));

	if (r == 0)
		r = random_bytes(raw, sizeof(raw));
	if (r < 0)
		return r;
	hex_encode(id, sizeof(id), t->id);
	hex_encode(raw, sizeof(raw), secret);
	explicit_bzero(raw, sizeof(raw));
	r = secret_hash(secret, hash);
	if (r == 0)
		r = db_prepare(meta, "INSERT INTO enroll_tokens(id, hash, labels, created, created_by, expires, uses_max)"
				     " VALUES (?,?,?,?,?,?,?)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_STATIC);
	if (t->labels && *t->labels)
		sqlite3_bind_text(st, 3, t->labels, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)t->created_us);
	sqlite3_bind_text(st, 5, t->created_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)t->expires_us);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)t->uses_max);
	r = db_step_done(meta, st);
	sqlite3_finalize(st);
	return r;
}

/* Why id (whose secret matched or not) was not taken: the state it is in. */
static int refusal_of(sqlite3 *meta, const char *id, const uint8_t hash[SHA256_SIZE], uint64_t now_us,
		      enum enroll_token_refusal *why)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT revoked, expires, uses, uses_max FROM enroll_tokens WHERE id=? AND hash=?",
			       &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, SHA256_SIZE, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*why = sqlite3_column_int64(st, 0) ? ENROLL_TOKEN_REVOKED
		       : (uint64_t)sqlite3_column_int64(st, 1) <= now_us ? ENROLL_TOKEN_EXPIRED
		       : sqlite3_column_int64(st, 2) >= sqlite3_column_int64(st, 3) ? ENROLL_TOKEN_USED_UP
										: ENROLL_TOKEN_OK;
	else if (rc == SQLITE_DONE)
		*why = ENROLL_TOKEN_UNKNOWN;
	else
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

/* The labels of token id into labels. */
static int labels_of(sqlite3 *meta, const char *id, char *labels, size_t size)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT coalesce(labels, '') FROM enroll_tokens WHERE id=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		(void)snprintf(labels, size, "%s", (const char *)sqlite3_column_text(st, 0));
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int enroll_token_use(sqlite3 *meta, const char *id, const char *secret, uint64_t now_us, char *labels, size_t size,
		     enum enroll_token_refusal *why)
{
	uint8_t hash[SHA256_SIZE];
	sqlite3_stmt *st;
	int r = secret_hash(secret, hash);

	labels[0] = 0;
	if (r == 0)
		r = db_prepare(meta, "UPDATE enroll_tokens SET uses=uses+1 WHERE id=? AND hash=? AND revoked=0"
				     " AND expires>? AND uses<uses_max", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now_us);
	r = db_step_done(meta, st);
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (sqlite3_changes(meta) == 1) {
		*why = ENROLL_TOKEN_OK;
		return labels_of(meta, id, labels, size);
	}
	return refusal_of(meta, id, hash, now_us, why);
}

int enroll_token_revoke(sqlite3 *meta, const char *id, uint64_t now_us)
{
	char labels[8];
	sqlite3_stmt *st;
	int r = db_prepare(meta, "UPDATE enroll_tokens SET revoked=? WHERE id=? AND revoked=0", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_us);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	r = db_step_done(meta, st);
	sqlite3_finalize(st);
	if (r < 0 || sqlite3_changes(meta) == 1)
		return r;
	r = labels_of(meta, id, labels, sizeof(labels));
	return r == 0 ? -EALREADY : r;
}

int enroll_tokens_each(sqlite3 *meta, int (*fn)(const struct enroll_token *t, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT id, labels, created, created_by, expires, uses_max, uses, revoked"
				     " FROM enroll_tokens ORDER BY created DESC, id", &st);

	if (r < 0)
		return r;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct enroll_token t = { .labels = (const char *)sqlite3_column_text(st, 1),
					  .created_us = (uint64_t)sqlite3_column_int64(st, 2),
					  .created_by = (const char *)sqlite3_column_text(st, 3),
					  .expires_us = (uint64_t)sqlite3_column_int64(st, 4),
					  .uses_max = (uint64_t)sqlite3_column_int64(st, 5),
					  .uses = (uint64_t)sqlite3_column_int64(st, 6),
					  .revoked_us = (uint64_t)sqlite3_column_int64(st, 7) };

		(void)snprintf(t.id, sizeof(t.id), "%s", (const char *)sqlite3_column_text(st, 0));
		r = fn(&t, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

const char *enroll_token_refusal_text(enum enroll_token_refusal why)
{
	static const char *const text[] = {
		[ENROLL_TOKEN_OK] = "good",
		[ENROLL_TOKEN_UNKNOWN] = "unknown token (no such id, or the wrong secret)",
		[ENROLL_TOKEN_EXPIRED] = "the token has expired",
		[ENROLL_TOKEN_USED_UP] = "the token has been used as many times as it allows",
		[ENROLL_TOKEN_REVOKED] = "the token was revoked",
	};

	return text[why];
}

static bool hex_word(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int enroll_token_parse(const char *text, struct enroll_token_text *ret)
{
	const char *id, *secret, *ca;

	if (!text || strlen(text) != ENROLL_TOKEN_TEXT_MAX || strncmp(text, "vgl1.", 5) != 0)
		return -EINVAL;
	id = text + 5;
	secret = id + ENROLL_TOKEN_ID_HEX + 1;
	ca = secret + ENROLL_TOKEN_SECRET_HEX + 1;
	if (secret[-1] != '.' || ca[-1] != '.' || !hex_word(id, ENROLL_TOKEN_ID_HEX) ||
	    !hex_word(secret, ENROLL_TOKEN_SECRET_HEX) || !hex_word(ca, 64))
		return -EINVAL;
	(void)snprintf(ret->id, sizeof(ret->id), "%.*s", ENROLL_TOKEN_ID_HEX, id);
	(void)snprintf(ret->secret, sizeof(ret->secret), "%.*s", ENROLL_TOKEN_SECRET_HEX, secret);
	(void)snprintf(ret->ca, sizeof(ret->ca), "%s", ca);
	return 0;
}

void enroll_token_format(const struct enroll_token_text *t, char out[ENROLL_TOKEN_TEXT_MAX + 1])
{
	(void)snprintf(out, ENROLL_TOKEN_TEXT_MAX + 1, "vgl1.%s.%s.%s", t->id, t->secret, t->ca);
}

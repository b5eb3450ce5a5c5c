/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ENROLL_TOKENS_H
#define VIGIL_ENROLL_TOKENS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Enrollment tokens: `enroll_tokens` in meta.db, each an id (shown, and
 * named in the audit log), the SHA-256 of its secret (the clear secret is
 * shown once, when it is made), the labels it gives the agents it enrolls,
 * when it expires, how many enrollments it allows and has had, and when it
 * was revoked. This file alone holds SQL that names the table.
 */

#define ENROLL_TOKEN_ID_HEX 16
#define ENROLL_TOKEN_SECRET_HEX 32

int enroll_tokens_schema(sqlite3 *meta);

struct enroll_token {
	char id[ENROLL_TOKEN_ID_HEX + 1];
	const char *labels;     /* "k=v …", or NULL; borrowed */
	const char *created_by; /* borrowed */
	uint64_t created_us, expires_us, revoked_us; /* revoked_us 0: not */
	uint64_t uses_max, uses;
};

/*
 * Adds t (its id is made here, into t->id) with a new secret into
 * secret (ENROLL_TOKEN_SECRET_HEX + 1 bytes).
 */
int enroll_token_add(sqlite3 *meta, struct enroll_token *t, char *secret);

enum enroll_token_refusal {
	ENROLL_TOKEN_OK,
	ENROLL_TOKEN_UNKNOWN,  /* no such id, or the wrong secret */
	ENROLL_TOKEN_EXPIRED,
	ENROLL_TOKEN_USED_UP,
	ENROLL_TOKEN_REVOKED,
};
/*
 * Takes one use of token id at now_us if secret is its secret and it is
 * still good; what refused it into *why. The token's labels into labels
 * (size bytes). Race-free: one statement decides and counts. Run it in
 * the caller's transaction, so that a use is counted only with the
 * certificate it paid for.
 */
int enroll_token_use(sqlite3 *meta, const char *id, const char *secret, uint64_t now_us, char *labels, size_t size,
		     enum enroll_token_refusal *why);
/* Revokes id at now_us: -ENOENT if there is no such token, -EALREADY if it was revoked before. */
int enroll_token_revoke(sqlite3 *meta, const char *id, uint64_t now_us);
/* fn(t, ctx) for every token, newest first; stops at fn's non-zero answer (returned). */
int enroll_tokens_each(sqlite3 *meta, int (*fn)(const struct enroll_token *t, void *ctx), void *ctx);

const char *enroll_token_refusal_text(enum enroll_token_refusal why);

/*
 * The text an admin hands to hosts: "vgl1.ID.SECRET.CA", CA the SHA-256
 * fingerprint of the collector's CA, by which an agent knows it reached
 * the collector the token was made for before it sends the secret.
 */
#define ENROLL_TOKEN_TEXT_MAX (5 + ENROLL_TOKEN_ID_HEX + 1 + ENROLL_TOKEN_SECRET_HEX + 1 + 64)
struct enroll_token_text {
	char id[ENROLL_TOKEN_ID_HEX + 1];
	char secret[ENROLL_TOKEN_SECRET_HEX + 1];
	char ca[64 + 1];
};
int enroll_token_parse(const char *text, struct enroll_token_text *ret);
void enroll_token_format(const struct enroll_token_text *t, char out[ENROLL_TOKEN_TEXT_MAX + 1]);

#endif

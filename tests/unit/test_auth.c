/* SPDX-License-Identifier: Apache-2.0 */
/* The API's tokens (accounts.h over api/auth.c, the owner of the tokens table), on a temporary meta.db. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "api/accounts.h"
#include "common/db.h"
#include "common/macro.h"
#include "common/hash.h"
#include "store/storage.h"
#include "tests/unit/tmpdir.h"

static const struct users_conf conf = { .totp_roles = "" };

static struct accounts *open_accounts(void)
{
	struct storage_conf storage = { .data_dir = test_dir };
	struct accounts *a;

	assert_int_equal(accounts_open(&storage, &conf, &a), 0);
	return a;
}

static void tokens(void **state)
{
	struct accounts *a = open_accounts();
	char *token, name[64], role[16];
	char *again = NULL;

	assert_int_equal(accounts_token_create(a, "alice", "security", 1, &token), 0);
	assert_int_equal(strncmp(token, "vgl_", 4), 0);
	assert_int_equal(strlen(token), 68);
	assert_int_equal(accounts_token_create(a, "alice", "admin", 2, &again), -EEXIST);
	assert_null(again);
	assert_int_equal(accounts_token_lookup(a, token, name, sizeof(name), role, sizeof(role)), 0);
	assert_string_equal(name, "alice");
	assert_string_equal(role, "security");
	token[10] ^= 1;
	assert_int_equal(accounts_token_lookup(a, token, name, sizeof(name), role, sizeof(role)), -EACCES);
	free(token);
	assert_int_equal(accounts_token_delete(a, "alice"), 0);
	assert_int_equal(accounts_token_delete(a, "alice"), -ENOENT);
	accounts_free(a);
}

/* What is stored is the token's SHA-256, and nothing of the token itself. */
static void only_the_hash(void **state)
{
	struct accounts *a = open_accounts();
	char *token, path[300];
	uint8_t hash[SHA256_SIZE];
	sqlite3 *meta;
	sqlite3_stmt *st;

	assert_int_equal(accounts_token_create(a, "bob", "viewer", 3, &token), 0);
	accounts_free(a);
	assert_int_equal(sha256(token, strlen(token), hash), 0);
	(void)snprintf(path, sizeof(path), "%s/meta.db", test_dir);
	assert_int_equal(db_open(path, false, true, DB_SYNC_NORMAL, &meta), 0);
	assert_int_equal(sqlite3_prepare_v2(meta, "SELECT hash, instr(name || role || created, ?) FROM tokens"
					    " WHERE name='bob'", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, token + 4, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(st, 0), SHA256_SIZE);
	assert_memory_equal(sqlite3_column_blob(st, 0), hash, SHA256_SIZE);
	assert_int_equal(sqlite3_column_int(st, 1), 0);
	sqlite3_finalize(st);
	db_close(meta);
	free(token);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens),
		cmocka_unit_test(only_the_hash),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

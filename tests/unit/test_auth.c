/* SPDX-License-Identifier: Apache-2.0 */
/* api/auth.c, the owner of the tokens table, on a temporary meta.db. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "api/auth.h"
#include "common/db.h"
#include "common/macro.h"
#include "common/hash.h"
#include "tests/unit/tmpdir.h"

static void tokens(void **state)
{
	char *token, name[64], role[16], path[300];
	char *again = NULL;
	sqlite3 *meta;

	assert_int_equal(auth_token_create(test_dir, "alice", "security", &token), 0);
	assert_int_equal(strncmp(token, "vgl_", 4), 0);
	assert_int_equal(strlen(token), 68);
	assert_int_equal(auth_token_create(test_dir, "alice", "admin", &again), -EEXIST);
	assert_null(again);
	(void)snprintf(path, sizeof(path), "%s/meta.db", test_dir);
	assert_int_equal(db_open(path, false, true, DB_SYNC_NORMAL, &meta), 0);
	assert_int_equal(auth_token_lookup(meta, token, name, sizeof(name), role, sizeof(role)), 0);
	assert_string_equal(name, "alice");
	assert_string_equal(role, "security");
	token[10] ^= 1;
	assert_int_equal(auth_token_lookup(meta, token, name, sizeof(name), role, sizeof(role)), -EACCES);
	free(token);
	assert_int_equal(auth_token_delete(test_dir, "alice"), 0);
	assert_int_equal(auth_token_delete(test_dir, "alice"), -ENOENT);
	db_close(meta);
}

/* What is stored is the token's SHA-256, and nothing of the token itself. */
static void only_the_hash(void **state)
{
	char *token, path[300];
	uint8_t hash[SHA256_SIZE];
	sqlite3 *meta;
	sqlite3_stmt *st;

	assert_int_equal(auth_token_create(test_dir, "bob", "viewer", &token), 0);
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

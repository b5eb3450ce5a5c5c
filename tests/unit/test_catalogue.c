/* SPDX-License-Identifier: Apache-2.0 */
/* The dial test catalogue on a real meta.db: files and the API, stable ids, snapshots. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dialtests/catalog.h"
#include "store/storage.h"
#include "tests/unit/tmpdir.h"

static const char file_test[] = "{\"name\":\"license-api\",\"steps\":[{\"name\":\"get\",\"url\":\"http://127.0.0.1:9/\"}]}";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

struct fixture {
	char data[300], dir[300], file[340], bad[340];
	struct dialtests_conf conf;
	struct storage_conf storage;
	struct storage *store; /* makes meta.db, as the collector's does */
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	(void)snprintf(f->data, sizeof(f->data), "%s/data", test_dir);
	(void)snprintf(f->dir, sizeof(f->dir), "%s/dialtests.d", test_dir);
	(void)snprintf(f->file, sizeof(f->file), "%s/license.json", f->dir);
	(void)snprintf(f->bad, sizeof(f->bad), "%s/broken.json", f->dir);
	assert_int_equal(mkdir(f->data, 0700), 0);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	write_file(f->file, file_test);
	write_file(f->bad, "{\"name\":\"broken\",\"steps\":[]}");
	f->conf = (struct dialtests_conf){ .dir = f->dir, .secrets_env = "VIGIL_SECRET_" };
	f->storage = (struct storage_conf){ .data_dir = f->data };
	assert_int_equal(storage_open(f->data, DB_SYNC_NORMAL, HASH_SHA256, &f->store), 0);
}

static int64_t id_of(const struct dialtests_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].test->name, name) == 0)
			return s->items[i].id;
	return 0;
}

static json_t *def(const char *name, const char *url)
{
	return json_pack("{s:s, s:[{s:s, s:s}]}", "name", name, "steps", "name", "get", "url", url);
}

/*
 * The files' tests and the API's share one catalogue: each keeps its id
 * across restarts, a file's test is changed only in its file, a reader's
 * snapshot does not change under it, and bad definitions say why and store
 * nothing.
 */
static void files_and_the_api(void **state)
{
	const struct dialtests_snapshot *before, *after;
	struct fixture f;
	struct dialtests *d;
	json_t *got, *j;
	char reason[256];
	int64_t file_id, api_id;

	fixture_init(&f);
	assert_int_equal(dialtests_open(&f.conf, &f.storage, &d), 0);
	before = dialtests_get(d);
	assert_int_equal(before->n, 1); /* broken.json is left out */
	file_id = id_of(before, "license-api");
	assert_true(file_id > 0);

	j = def("exchange-api", "http://127.0.0.1:9/x");
	assert_int_equal(dialtests_put(d, 0, j, "admin", &got, reason, sizeof(reason)), 0);
	api_id = json_integer_value(json_object_get(got, "id"));
	assert_string_equal(json_string_value(json_object_get(got, "defined_in")), "api");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(got, "history"), 0), "action")),
			    "created");
	json_decref(got);
	assert_int_equal(dialtests_put(d, 0, j, "admin", &got, reason, sizeof(reason)), -EEXIST);
	assert_non_null(strstr(reason, "exchange-api"));
	json_decref(j);

	j = json_pack("{s:s, s:[]}", "name", "empty", "steps");
	reason[0] = 0;
	assert_int_equal(dialtests_put(d, 0, j, "admin", &got, reason, sizeof(reason)), -EINVAL);
	assert_true(reason[0] != 0);
	json_decref(j);
	j = def("license-api", "http://127.0.0.1:9/y");
	assert_int_equal(dialtests_put(d, file_id, j, "admin", &got, reason, sizeof(reason)), -EPERM);
	assert_non_null(strstr(reason, "license.json"));
	json_decref(j);
	assert_int_equal(dialtests_delete(d, file_id, "admin", reason, sizeof(reason)), -EPERM);

	after = dialtests_get(d);
	assert_int_equal(after->n, 2);
	assert_int_equal(before->n, 1);
	assert_non_null(dialtests_find(after, api_id));
	assert_null(dialtests_find(before, api_id));
	dialtests_release(before);
	dialtests_release(after);
	dialtests_free(d);

	/* A restart keeps both ids; a file removed takes its test with it. */
	assert_int_equal(dialtests_open(&f.conf, &f.storage, &d), 0);
	after = dialtests_get(d);
	assert_int_equal(id_of(after, "license-api"), file_id);
	assert_int_equal(id_of(after, "exchange-api"), api_id);
	dialtests_release(after);
	dialtests_free(d);
	assert_int_equal(unlink(f.file), 0);
	assert_int_equal(dialtests_open(&f.conf, &f.storage, &d), 0);
	after = dialtests_get(d);
	assert_int_equal(after->n, 1);
	assert_int_equal(id_of(after, "exchange-api"), api_id);
	dialtests_release(after);
	assert_int_equal(dialtests_show(d, file_id, &got), -ENOENT);
	assert_int_equal(dialtests_delete(d, api_id, "admin", reason, sizeof(reason)), 0);
	assert_int_equal(dialtests_show(d, api_id, &got), -ENOENT);
	after = dialtests_get(d);
	assert_int_equal(after->n, 0);
	dialtests_release(after);
	dialtests_free(d);
	storage_free(f.store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(files_and_the_api),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "agent/agent_conf.h"
#include "common/conf.h"
#include "common/macro.h"

static char dir[] = "/tmp/vigil-conf-XXXXXX";
static char path[256];

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	(void)snprintf(path, sizeof(path), "%s/agent.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Loads text with conf_load and returns the error strings joined by '|'. */
static char *load_errors(const char *text, struct agent_conf *c)
{
	struct conf_errors errs = { 0 };
	char *joined = calloc(1, 8192);

	write_file(path, text);
	(void)conf_load(&agent_conf_schema, path, c, &errs);
	for (size_t i = 0; i < errs.n; i++) {
		strcat(joined, errs.msg[i]);
		strcat(joined, "|");
	}
	conf_errors_free(&errs);
	return joined;
}

static void defaults_and_values(void **state)
{
	struct agent_conf *c;

	write_file(path, "[collector]\naddress=tcp://127.0.0.1:1\n"
			 "[batch]\nmax_delay_ms=2s\nmax_bytes=64K\n"
			 "[tail \"app\"]\npath=/var/log/app/*.log\n"
			 "[tail \"web\"]\npath=/var/log/nginx/access.log\nread_from=tail\n");
	assert_int_equal(agent_conf_load(path, &c), 0);
	assert_string_equal(c->agent.state_dir, "/var/lib/vigil-agent");
	assert_int_equal(c->batch.max_records, 8192);
	assert_int_equal(c->batch.max_delay_ms, 2000);
	assert_int_equal(c->batch.max_bytes, 65536);
	assert_true(c->spool.sync);
	assert_int_equal(c->n_tails, 2);
	assert_string_equal(c->tails[0]->name, "app");
	assert_string_equal(c->tails[1]->read_from, "tail");
	assert_int_equal(c->tails[1]->max_line_bytes, 65536);
	agent_conf_free(c);
}

struct err_case {
	const char *text;
	const char *expect; /* substring of the joined errors, with file:line */
};

static void errors_name_file_and_line(void **state)
{
	static const struct err_case cases[] = {
		{ "[collector]\naddress=tcp://x:1\nbogus=1\n", "agent.conf:3: [collector]: unknown key 'bogus'" },
		{ "[collector]\naddress=tcp://x:1\n[nope]\nx=1\n", "agent.conf:4: unknown section [nope]" },
		{ "[collector]\naddress=tcp://x:1\n[batch]\nmax_records=0\n", "agent.conf:4: [batch] max_records=0: expected out of range" },
		{ "[collector]\naddress=tcp://x:1\n[batch]\nmax_records=lots\n", "agent.conf:4: [batch] max_records=lots: expected a non-negative integer" },
		{ "[collector]\naddress=tcp://x:1\n[spool]\nsync=perhaps\n", "expected a boolean" },
		{ "[collector]\naddress=tcp://x:1\n\n[tail \"a\"]\nread_from=head\n", "agent.conf:5: [tail \"a\"]: missing required key 'path'" },
		{ "[collector]\naddress=tcp://x:1\n[tail]\npath=/x\n", "agent.conf:4: section [tail] needs a name" },
		{ "[collector]\naddress=tcp://x:1\n[agent \"x\"]\nid=1\n", "agent.conf:4: section [agent] takes no name" },
		{ "[agent]\nid=1\n", "missing section [collector] with required key 'address'" },
		{ "[collector]\naddress=tcp://x:1\nthis line is not ini\n", "agent.conf:3: syntax error" },
		{ "address=tcp://x:1\n", "agent.conf:1: key 'address' outside of any section" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct agent_conf *c = calloc(1, sizeof(*c));
		char *errs = load_errors(cases[i].text, c);

		if (!strstr(errs, cases[i].expect))
			fail_msg("case %zu: expected '%s' in '%s'", i, cases[i].expect, errs);
		free(errs);
		agent_conf_free(c);
	}
}

static void dropins_override_in_name_order(void **state)
{
	char d[300], f[400];
	struct agent_conf *c;

	(void)snprintf(d, sizeof(d), "%s.d", path);
	assert_int_equal(mkdir(d, 0755), 0);
	write_file(path, "[collector]\naddress=tcp://127.0.0.1:1\n[batch]\nmax_records=10\n");
	(void)snprintf(f, sizeof(f), "%s/20-late.conf", d);
	write_file(f, "[batch]\nmax_records=30\n");
	(void)snprintf(f, sizeof(f), "%s/10-early.conf", d);
	write_file(f, "[batch]\nmax_records=20\nzstd_level=5\n");
	(void)snprintf(f, sizeof(f), "%s/ignored.txt", d);
	write_file(f, "garbage\n");
	assert_int_equal(agent_conf_load(path, &c), 0);
	assert_int_equal(c->batch.max_records, 30);
	assert_int_equal(c->batch.zstd_level, 5);
	agent_conf_free(c);

	(void)snprintf(f, sizeof(f), "%s/30-bad.conf", d);
	write_file(f, "[batch]\n\nmax_bytes=huge\n");
	{
		struct agent_conf *c2 = calloc(1, sizeof(*c2));
		char *errs = load_errors("[collector]\naddress=tcp://127.0.0.1:1\n", c2);
		assert_non_null(strstr(errs, "30-bad.conf:3: [batch] max_bytes=huge"));
		free(errs);
		agent_conf_free(c2);
	}
}

static void value_parsers(void **state)
{
	uint64_t v;
	bool b;

	assert_int_equal(conf_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(conf_parse_size("12x", &v), -EINVAL);
	assert_int_equal(conf_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(conf_parse_duration_ms("250ms", 1000, &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(conf_parse_duration_ms("30", 1000, &v), 0);
	assert_int_equal(v, 30000);
	assert_int_equal(conf_parse_duration_ms("2h", 1, &v), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(conf_parse_duration_ms("-1s", 1, &v), -EINVAL);
	assert_int_equal(conf_parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(conf_parse_bool("maybe", &b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_and_values),
		cmocka_unit_test(errors_name_file_and_line),
		cmocka_unit_test(dropins_override_in_name_order),
		cmocka_unit_test(value_parsers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

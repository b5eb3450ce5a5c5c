/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "agent/agent_conf.h"
#include "agent/central_policy.h"
#include "common/confmsg.h"
#include "common/macro.h"
#include "control/compose.h"
#include "control/fragment.h"
#include "control/vantages.h"

static void selectors(void **state)
{
	assert_true(selector_matches("", "zone=a"));
	assert_true(selector_matches(NULL, NULL));
	assert_true(selector_matches("zone=a", "role=web zone=a"));
	assert_true(selector_matches("zone=a  role=web", "role=web zone=a dept=x"));
	assert_false(selector_matches("zone=a role=db", "role=web zone=a"));
	assert_false(selector_matches("zone=a", "zone=ab"));
	assert_false(selector_matches("zone=a", "xzone=a"));
	assert_false(selector_matches("zone=a", NULL));
}

static const struct compose_group groups[] = {
	{ "base", "", 10, 3, "[metrics]\ninterval=30s\n", false, NULL, 0, NULL },
	{ "web", "role=web", 20, 1, "[probe \"nginx\"]\ntype=unit\nunit=nginx.service", false, NULL, 0, NULL },
	{ "db", "role=db", 20, 2, "[probe \"pg\"]\ntype=tcp\naddress=127.0.0.1:5432\n", false, NULL, 0, NULL },
};

static void composing(void **state)
{
	struct buf b;
	uint32_t v1 = 0, v2 = 0, v3 = 0;
	size_t n = 0;

	buf_init(&b, 1 << 16);
	assert_int_equal(compose(groups, ARRAY_SIZE(groups), "role=web", NULL, &b, &n, &v1), 0);
	assert_int_equal(n, 2);
	assert_int_equal(buf_terminate(&b), 0);
	assert_string_equal((char *)b.data, "# group base (version 3)\n[metrics]\ninterval=30s\n"
					    "# group web (version 1)\n[probe \"nginx\"]\ntype=unit\nunit=nginx.service\n");
	assert_int_not_equal(v1, 0);
	/* The same text, the same version; another text, another. */
	assert_int_equal(compose(groups, ARRAY_SIZE(groups), "zone=x role=web", NULL, &b, &n, &v2), 0);
	assert_int_equal(v1, v2);
	assert_int_equal(compose(groups, ARRAY_SIZE(groups), "role=db", NULL, &b, &n, &v3), 0);
	assert_int_not_equal(v1, v3);
	assert_int_equal(compose(groups + 1, 1, "role=db", NULL, &b, &n, &v3), 0);
	assert_int_equal(n, 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void generations(void **state)
{
	struct compose_group g[ARRAY_SIZE(groups)];
	uint32_t before = compose_generation(groups, ARRAY_SIZE(groups));

	assert_int_not_equal(before, 0);
	assert_int_not_equal(compose_generation(NULL, 0), 0);
	memcpy(g, groups, sizeof(g));
	assert_int_equal(compose_generation(g, ARRAY_SIZE(g)), before);
	g[1].version = 2;
	assert_int_not_equal(compose_generation(g, ARRAY_SIZE(g)), before);
	g[1].version = 1;
	g[1].selector = "role=web zone=a";
	assert_int_not_equal(compose_generation(g, ARRAY_SIZE(g)), before);
	g[1].selector = groups[1].selector;
	g[1].order = 30;
	assert_int_not_equal(compose_generation(g, ARRAY_SIZE(g)), before);
	assert_int_not_equal(compose_generation(g, 2), compose_generation(g, 3));
}

static void rollouts(void **state)
{
	const struct compose_group released = { "web", "role=web", 20, 1, "[metrics]\ninterval=10s\n", false, NULL, 0, NULL };
	struct compose_group g = { "web", "role=web", 20, 2, "[metrics]\ninterval=20s\n", .staged = true,
				   .canary = "canary=yes", .percent = 25, .released = &released };
	char agent[33];
	unsigned in = 0, n = 400;

	/* Canaries get the new version, the others the released one, and each the same one each time. */
	assert_ptr_equal(compose_choose(&g, "role=web canary=yes", "00"), &g);
	for (unsigned i = 0; i < n; i++) {
		const struct compose_group *c;

		(void)snprintf(agent, sizeof(agent), "%032x", i * 7919u);
		c = compose_choose(&g, "role=web", agent);
		assert_true(c == &g || c == &released);
		assert_ptr_equal(compose_choose(&g, "role=web", agent), c);
		assert_int_equal(c == &g, rollout_bucket("web", agent) < 25);
		in += c == &g;
	}
	/* About a quarter: 25 % of 400 is 100, and 60..140 is over four standard deviations wide. */
	assert_in_range(in, 60, 140);
	/* A new group being rolled out reaches no one outside it; the selector still holds. */
	g.released = NULL;
	g.percent = 0;
	assert_null(compose_choose(&g, "role=web", "00"));
	assert_ptr_equal(compose_choose(&g, "role=web canary=yes", "00"), &g);
	assert_null(compose_choose(&g, "role=db canary=yes", "00"));
	g.percent = 100;
	assert_ptr_equal(compose_choose(&g, "role=web", "00"), &g);
	/* Staged or not, and the canary, move the generation. */
	{
		uint32_t staged = compose_generation(&g, 1);

		g.staged = false;
		assert_int_not_equal(compose_generation(&g, 1), staged);
	}
}

static int policy(const struct central_policy *p, const char *text, const char *want)
{
	struct conf_errors errs = { 0 };
	int r = central_policy_check(p, "central", text, &errs);

	if (want) {
		assert_true(errs.n >= 1);
		if (!strstr(errs.msg[0], want))
			fail_msg("%s: expected '%s'", errs.msg[0], want);
	} else if (errs.n) {
		fail_msg("refused: %s", errs.msg[0]);
	}
	conf_errors_free(&errs);
	return r;
}

static void policies(void **state)
{
	const struct central_policy strict = { false, "/var/log/* /srv/app/logs/*" };
	const struct central_policy loose = { true, "/var/log/*" };

	assert_int_equal(policy(&strict, "[tail \"a\"]\npath=/var/log/nginx/*.log\nparser=web\n[parser \"web\"]\nformat=json\n"
				"[journal]\nenabled=yes\nunits=nginx.service\n[metrics]\ninterval=30s\n"
				"[probe \"n\"]\ntype=unit\nunit=nginx.service\n[probe \"f\"]\ntype=file\npath=/srv/app/logs/x\n",
				NULL),
			 0);
	assert_int_equal(policy(&strict, "[probe \"r\"]\ntype=command\n", "central:2: [probe \"r\"] type=command: this host's"), -EPERM);
	assert_int_equal(policy(&strict, "\n[probe \"r\"]\ncommand=/bin/true\n", "central:3: [probe \"r\"] command=/bin/true"), -EPERM);
	assert_int_equal(policy(&loose, "[probe \"r\"]\ntype=command\ncommand=/bin/true\n", NULL), 0);
	assert_int_equal(policy(&strict, "[tail \"x\"]\npath=/etc/shadow\n", "not within this host's [central] allow_paths"), -EPERM);
	assert_int_equal(policy(&strict, "[tail \"x\"]\npath=/var/log/../../etc/shadow\n", "allow_paths"), -EPERM);
	assert_int_equal(policy(&strict, "[probe \"c\"]\ntype=cert\nfile=/etc/ssl/private/key.pem\n", "allow_paths"), -EPERM);
	assert_int_equal(policy(&strict, "[journal]\ndirectory=/root\n", "allow_paths"), -EPERM);
	for (const char *const *s = (const char *const[]){ "[collector]\naddress=tcp://x:1\n", "[spool]\nsync=no\n",
							     "[batch]\nzstd_level=19\n", "[enroll]\nurl=https://x\n",
							     "[syslog]\nlisten=udp://0.0.0.0:514\n",
							     "[central]\nallow_commands=yes\n", "[agent]\nlabels=zone=x\n",
							     "[agent]\nstate_dir=/tmp\n", NULL };
	     *s; s++)
		assert_int_equal(policy(&loose, *s, "this host's own to set"), -EPERM);
	assert_false(central_path_allowed("/var/log/*", "var/log/x"));
	assert_false(central_path_allowed("/var/log/*", "/var/log/./x"));
	assert_false(central_path_allowed("/var/log/*", "/var/log/x/.."));
	assert_false(central_path_allowed(NULL, "/var/log/x"));
	assert_true(central_path_allowed("/opt/* /var/log/*", "/var/log/a/b.log"));
}

static void fragments(void **state)
{
	struct conf_errors errs = { 0 };

	assert_int_equal(fragment_check("web", "[probe \"n\"]\ntype=unit\nunit=nginx.service\n", &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(fragment_check("web", "# x\n[probe \"n\"]\nunit=nginx.service\n", &errs), -EINVAL);
	assert_true(errs.n >= 1);
	assert_non_null(strstr(errs.msg[0], "group web:3: [probe \"n\"]: missing required key 'type'"));
	conf_errors_free(&errs);
	assert_int_equal(fragment_check("web", "[tail \"t\"]\npath=/var/log/x\nmax_line_bytes=1\n", &errs), -EINVAL);
	assert_non_null(strstr(errs.msg[0], "group web:3: [tail \"t\"] max_line_bytes=1"));
	conf_errors_free(&errs);
	assert_int_equal(fragment_check("web", "[spool]\nsync=no\n", &errs), -EPERM);
	assert_non_null(strstr(errs.msg[0], "group web:2: [spool] sync=no: this host's own to set"));
	conf_errors_free(&errs);
}

static void messages(void **state)
{
	struct config_request q = { .running = 7 }, back;
	uint8_t out[CONFREQ_HEADER_SIZE + CONFREQ_LABELS_MAX];
	struct config_reply rep = { .status = CONFIG_OK, .generation = 9, .version = 11, .text = (const uint8_t *)"[metrics]\n",
				    .text_len = 10 },
			    got;
	struct buf b;
	size_t n;

	memset(q.agent_id, 0xab, sizeof(q.agent_id));
	(void)snprintf(q.labels, sizeof(q.labels), "zone=a role=web");
	n = config_request_encode(&q, out);
	assert_int_equal(confmsg_magic(out, n), CONFREQ_MAGIC);
	assert_int_equal(config_request_decode(out, n, &back), 0);
	assert_int_equal(back.running, 7);
	assert_string_equal(back.labels, "zone=a role=web");
	assert_memory_equal(back.agent_id, q.agent_id, sizeof(q.agent_id));
	assert_int_equal(config_request_decode(out, n - 1, &back), -EBADMSG);
	out[CONFREQ_HEADER_SIZE + 2] = 0;
	assert_int_equal(config_request_decode(out, n, &back), -EBADMSG);
	buf_init(&b, 1 << 20);
	assert_int_equal(config_reply_encode(&rep, &b), 0);
	assert_int_equal(config_reply_decode(b.data, b.len, &got), 0);
	assert_int_equal(got.status, CONFIG_OK);
	assert_int_equal(got.generation, 9);
	assert_int_equal(got.version, 11);
	assert_int_equal(got.text_len, 10);
	assert_memory_equal(got.text, "[metrics]\n", 10);
	assert_int_equal(config_reply_decode(b.data, b.len + 1, &got), -EBADMSG);
	b.data[4] = 7;
	assert_int_equal(config_reply_decode(b.data, b.len, &got), -EBADMSG);
	rep.text_len = CONFIG_TEXT_MAX + 1;
	assert_int_equal(config_reply_encode(&rep, &b), -EINVAL);
	/* The dial tests after the text, their length in the header; only an agent that says it takes them asks. */
	assert_false(back.takes_dialtests);
	q.takes_dialtests = true;
	n = config_request_encode(&q, out);
	assert_int_equal(config_request_decode(out, n, &back), 0);
	assert_true(back.takes_dialtests);
	rep.text_len = 10;
	rep.tests = (const uint8_t *)"[{\"id\":1}]";
	rep.tests_len = 10;
	buf_reset(&b);
	assert_int_equal(config_reply_encode(&rep, &b), 0);
	assert_int_equal(b.len, CONFREP_HEADER_SIZE + 20);
	assert_int_equal(config_reply_decode(b.data, b.len, &got), 0);
	assert_int_equal(got.text_len, 10);
	assert_int_equal(got.tests_len, 10);
	assert_memory_equal(got.tests, "[{\"id\":1}]", 10);
	assert_int_equal(config_reply_decode(b.data, b.len - 1, &got), -EBADMSG);
	rep.tests_len = CONFIG_TESTS_MAX + 1;
	assert_int_equal(config_reply_encode(&rep, &b), -EINVAL);
	buf_free(&b);
}

/* The tests an agent runs: those whose run_on selects its labels, enabled; they move its version and the generation. */
static void vantage_tests_of_labels(void **state)
{
	static const struct dt_policy policy = { "/nonexistent", "VIGIL_SECRET_" };
	const char *defs[] = {
		"{\"id\":1,\"name\":\"web\",\"run_on\":[{\"zone\":\"a\"}],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
		"{\"id\":2,\"name\":\"off\",\"enabled\":false,\"run_on\":[{\"zone\":\"a\"}],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
		"{\"id\":3,\"name\":\"b\",\"run_on\":[\"collector\",{\"zone\":\"b\",\"role\":\"web\"}],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
		"{\"id\":4,\"name\":\"here\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
	};
	struct dialtest_entry items[ARRAY_SIZE(defs)];
	struct dialtests_snapshot s = { items, ARRAY_SIZE(defs), 77 };
	char err[256];
	struct buf b;

	for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
		json_t *j = json_loads(defs[i], 0, NULL);

		assert_int_equal(dialtest_parse(j, &policy, &items[i].test, err, sizeof(err)), 0);
		items[i].id = (int64_t)i + 1;
		items[i].for_agents = items[i].test->n_vantages ? (char *)defs[i] : NULL;
		json_decref(j);
	}
	buf_init(&b, 1 << 20);
	assert_int_equal(vantage_tests(&s, "zone=a role=db", &b), 1);
	assert_memory_equal(b.data, "[", 1);
	assert_non_null(memmem(b.data, b.len, "\"name\":\"web\"", 12));
	assert_int_equal(vantage_tests(&s, "zone=b role=web", &b), 1);
	assert_int_equal(vantage_tests(&s, "zone=b", &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(vantage_version(5, &b), 5);
	assert_int_equal(vantage_tests(&s, "zone=a", &b), 1);
	assert_int_not_equal(vantage_version(5, &b), 5);
	assert_true(dialtest_runs_on(items[0].test, "{\"zone\":\"a\",\"role\":\"x\"}"));
	assert_false(dialtest_runs_on(items[0].test, "{\"zone\":\"b\"}"));
	assert_false(dialtest_runs_on(items[3].test, "{\"zone\":\"a\"}"));
	assert_int_not_equal(vantage_generation(9, s.agents_digest), vantage_generation(9, 0));
	assert_int_equal(vantage_generation(9, 0), 9);
	buf_free(&b);
	for (size_t i = 0; i < ARRAY_SIZE(defs); i++)
		dialtest_free(items[i].test);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(selectors), cmocka_unit_test(composing), cmocka_unit_test(generations),
		cmocka_unit_test(rollouts),  cmocka_unit_test(policies), cmocka_unit_test(fragments),
		cmocka_unit_test(messages),  cmocka_unit_test(vantage_tests_of_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "dialtests/dialtest.h"

static const char good[] =
	"{\"name\":\"license-api\",\"interval\":\"60s\",\"timeout\":\"10s\",\"retries\":1,\"labels\":{\"dept\":\"data\"},"
	"\"secrets\":{\"probe_pw\":{\"file\":\"/etc/vigil/secrets/pw\"}},"
	"\"steps\":[{\"name\":\"login\",\"method\":\"POST\",\"url\":\"https://api.example/login\","
	"\"headers\":{\"Content-Type\":\"application/json\"},"
	"\"body\":\"{\\\"user\\\":\\\"probe\\\",\\\"password\\\":\\\"{{secret:probe_pw}}\\\"}\","
	"\"assert\":[{\"type\":\"status\",\"in\":[200]},{\"type\":\"json\",\"path\":\"$.code\",\"op\":\"==\",\"value\":0},"
	"{\"type\":\"latency\",\"max_ms\":500}],"
	"\"extract\":[{\"name\":\"token\",\"from\":\"json\",\"path\":\"$.data.token\"}]},"
	"{\"name\":\"query\",\"url\":\"https://api.example/items\",\"headers\":{\"Authorization\":\"Bearer {{token}}\"},"
	"\"assert\":[{\"type\":\"body\",\"regex\":\"\\\"items\\\"\"}]}]}";

static const struct dt_policy policy = { .secrets_dir = "/etc/vigil/secrets", .secrets_env = "VIGIL_SECRET_" };

static struct dialtest *parse(const char *text, int want, const char *want_err)
{
	json_t *j = json_loads(text, 0, NULL);
	struct dialtest *t = NULL;
	char err[256] = "";

	assert_non_null(j);
	assert_int_equal(dialtest_parse(j, &policy, &t, err, sizeof(err)), want);
	if (want_err)
		assert_string_equal(err, want_err);
	json_decref(j);
	return t;
}

static void the_issue_example_parses(void **state)
{
	struct dialtest *t = parse(good, 0, NULL);

	assert_string_equal(t->name, "license-api");
	assert_int_equal(t->interval_us, 60000000);
	assert_int_equal(t->retries, 1);
	assert_int_equal(t->n_steps, 2);
	assert_string_equal(t->steps[0].method, "POST");
	assert_int_equal(t->steps[0].n_asserts, 3);
	assert_int_equal(t->steps[0].asserts[1].type, DT_JSON);
	assert_int_equal(t->steps[0].n_extracts, 1);
	assert_true(t->steps[1].tls_verify);
	assert_null(t->steps[1].method);
	assert_string_equal(t->secrets[0].file, "/etc/vigil/secrets/pw");
	dialtest_free(t);
}

static void bad_definitions_say_where(void **state)
{
	parse("{\"name\":\"x\"}", -EINVAL, "steps: expected a list of 1 to 10 steps");
	parse("{\"name\":\"a b\",\"steps\":[]}", -EINVAL, "name: 1 to 64 letters, digits, '_', '.', '-'");
	parse("{\"name\":\"x\",\"colour\":1}", -EINVAL, "colour: unknown key");
	parse("{\"name\":\"x\",\"interval\":\"soon\",\"steps\":[]}", -EINVAL,
	      "interval: expected a duration such as \"500ms\", \"10s\", \"5m\"");
	parse("{\"name\":\"x\",\"steps\":[{\"name\":\"s\",\"url\":\"ftp://x\"}]}", -EINVAL,
	      "steps[0].url: expected http:// or https://");
	parse("{\"name\":\"x\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\",\"assert\":[{\"type\":\"status\",\"in\":[200]},"
	      "{\"type\":\"json\",\"path\":\"$.a\",\"op\":\"~\",\"value\":1}]}]}",
	      -EINVAL, "steps[0].assert[1].op: expected ==, !=, <, >, contains or exists");
	parse("{\"name\":\"x\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\",\"assert\":[{\"type\":\"body\",\"regex\":\"(\"}]}]}",
	      -EINVAL, "steps[0].assert[0].regex: Unmatched ( or \\(");
	parse("{\"name\":\"x\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\",\"extract\":[{\"name\":\"t\",\"from\":\"regex\","
	      "\"regex\":\"a(b)\",\"group\":2}]}]}",
	      -EINVAL, "steps[0].extract[0].group: the regex has 1 groups");
	parse("{\"name\":\"x\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"},{\"name\":\"s\",\"url\":\"http://y\"}]}",
	      -EINVAL, "steps: two steps are called s");
	parse("{\"name\":\"x\",\"secrets\":{\"p\":{\"value\":\"hunter2\"}},\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
	      -EINVAL, "secrets: p: expected {\"file\":\"PATH\"} or {\"env\":\"VARIABLE\"}");
	/* Secrets only from the configured folder and variables: not the collector's other files or environment. */
	parse("{\"name\":\"x\",\"secrets\":{\"p\":{\"file\":\"/etc/vigil/collector.conf\"}},\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
	      -EINVAL, "secrets: p: a file in /etc/vigil/secrets ([dialtests] secrets_dir), not /etc/vigil/collector.conf");
	parse("{\"name\":\"x\",\"secrets\":{\"p\":{\"file\":\"/etc/vigil/secrets/../collector.conf\"}},\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
	      -EINVAL, "secrets: p: a file in /etc/vigil/secrets ([dialtests] secrets_dir), not /etc/vigil/secrets/../collector.conf");
	parse("{\"name\":\"x\",\"secrets\":{\"p\":{\"env\":\"PATH\"}},\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
	      -EINVAL, "secrets: p: a variable whose name starts with VIGIL_SECRET_ ([dialtests] secrets_env_prefix), not PATH");
}

/* Where a test runs and when it fails across its vantage points. */
static void vantages_and_quorums(void **state)
{
	struct dialtest *t = parse("{\"name\":\"x\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}", 0, NULL);

	assert_true(t->on_collector);
	assert_int_equal(t->n_vantages, 0);
	assert_int_equal(t->fail_k, 1);
	assert_int_equal(t->fail_n, 0);
	dialtest_free(t);
	t = parse("{\"name\":\"x\",\"run_on\":[{\"zone\":\"internet\",\"role\":\"probe\"},{\"dc\":\"b\"}],"
		  "\"fail_when\":\"2 of 3\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\","
		  "\"headers\":{\"Accept\":\"application/json\"}}]}",
		  0, NULL);
	assert_false(t->on_collector);
	assert_int_equal(t->n_vantages, 2);
	assert_string_equal(t->vantages[0], "zone=internet role=probe");
	assert_string_equal(t->vantages[1], "dc=b");
	assert_int_equal(t->fail_k, 2);
	assert_int_equal(t->fail_n, 3);
	dialtest_free(t);
	parse("{\"name\":\"x\",\"run_on\":[],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}", -EINVAL,
	      "run_on: expected a list of \"collector\" and label selectors such as {\"zone\": \"internet\"}");
	parse("{\"name\":\"x\",\"run_on\":[\"agents\"],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}", -EINVAL,
	      "run_on: [0]: expected \"collector\" or a label selector");
	parse("{\"name\":\"x\",\"run_on\":[{\"zone\":\"a b\"}],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
	      -EINVAL, "run_on: zone: expected a label's name and its value, as [agent] labels has them");
	parse("{\"name\":\"x\",\"run_on\":[{}],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}", -EINVAL,
	      "run_on: a selector holds 1 label or more, within 511 bytes");
	/* What an agent is sent, every agent that runs it holds: no credential, no file of the collector's. */
	parse("{\"name\":\"x\",\"run_on\":[{\"zone\":\"a\"}],\"steps\":[{\"name\":\"s\",\"url\":\"http://x\","
	      "\"headers\":{\"X-Api-Key\":\"k\"}}]}",
	      -EINVAL, "run_on: a test run on agents goes to every one of them: it may hold no credential or file of the"
		       " collector's (it has headers); run it on the collector alone");
	parse("{\"name\":\"x\",\"run_on\":[\"collector\",{\"zone\":\"a\"}],\"secrets\":{\"p\":{\"env\":\"VIGIL_SECRET_P\"}},"
	      "\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}",
	      -EINVAL, "run_on: a test run on agents goes to every one of them: it may hold no credential or file of the"
		       " collector's (it has secrets); run it on the collector alone");
	t = parse("{\"name\":\"x\",\"run_on\":[\"collector\"],\"secrets\":{\"p\":{\"env\":\"VIGIL_SECRET_P\"}},"
		  "\"steps\":[{\"name\":\"s\",\"url\":\"http://x\",\"bearer\":\"{{secret:p}}\"}]}",
		  0, NULL);
	dialtest_free(t);
	parse("{\"name\":\"x\",\"fail_when\":\"3 of 2\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}", -EINVAL,
	      "fail_when: expected \"K of N\", 1 <= K <= N <= 64: failing when K vantages fail");
	parse("{\"name\":\"x\",\"fail_when\":\"2 of 3 \",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}", -EINVAL,
	      "fail_when: expected \"K of N\", 1 <= K <= N <= 64: failing when K vantages fail");
	parse("{\"name\":\"x\",\"fail_when\":\"0 of 1\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\"}]}", -EINVAL,
	      "fail_when: expected \"K of N\", 1 <= K <= N <= 64: failing when K vantages fail");
}

static void json_paths_walk_objects_and_arrays(void **state)
{
	json_t *j = json_loads("{\"data\":{\"items\":[{\"id\":7},{\"id\":8}],\"odd key\":true}}", 0, NULL);

	assert_int_equal(json_integer_value(dt_json_path(j, "$.data.items[1].id")), 8);
	assert_true(json_is_true(dt_json_path(j, "$.data['odd key']")));
	assert_ptr_equal(dt_json_path(j, "$"), j);
	assert_null(dt_json_path(j, "$.data.items[2]"));
	assert_null(dt_json_path(j, "$.nope.deeper"));
	assert_null(dt_json_path(j, "data"));
	json_decref(j);
}

static void assertions_hold_or_say_what_was_seen(void **state)
{
	struct dialtest *t = parse(good, 0, NULL);
	const char body[] = "{\"code\":3,\"data\":{\"token\":\"abc\"}}";
	struct dt_response r = { .status = 200, .body = body, .body_len = strlen(body),
				 .headers = "HTTP/1.1 200 OK\r\nX-Token: zz9\r\n\r\n", .total_ms = 700 };
	json_t *f;
	char *s, why[128];

	assert_true(dt_assert_holds(&t->steps[0].asserts[0], &r, &f));
	assert_false(dt_assert_holds(&t->steps[0].asserts[1], &r, &f));
	s = json_dumps(f, JSON_COMPACT);
	assert_string_equal(s, "{\"type\":\"json\",\"path\":\"$.code\",\"op\":\"==\",\"expected\":0,\"actual\":3}");
	free(s);
	json_decref(f);
	assert_false(dt_assert_holds(&t->steps[0].asserts[2], &r, &f));
	assert_string_equal(json_string_value(json_object_get(f, "type")), "latency");
	json_decref(f);
	r.status = 503;
	assert_false(dt_assert_holds(&t->steps[0].asserts[0], &r, &f));
	s = json_dumps(f, JSON_COMPACT);
	assert_string_equal(s, "{\"type\":\"status\",\"expected\":[200],\"actual\":503}");
	free(s);
	json_decref(f);
	s = dt_extract_value(&t->steps[0].extracts[0], &r, why, sizeof(why));
	assert_string_equal(s, "abc");
	free(s);
	assert_false(dt_assert_holds(&t->steps[1].asserts[0], &r, &f));
	assert_string_equal(json_string_value(json_object_get(f, "regex")), "\"items\"");
	json_decref(f);
	dt_response_clear(&r);
	dialtest_free(t);
}

static void json_ops_and_other_kinds(void **state)
{
	static const char def[] =
		"{\"name\":\"x\",\"steps\":[{\"name\":\"s\",\"url\":\"http://x\",\"assert\":["
		"{\"type\":\"json\",\"path\":\"$.n\",\"op\":\"<\",\"value\":10},"
		"{\"type\":\"json\",\"path\":\"$.tags\",\"op\":\"contains\",\"value\":\"gov\"},"
		"{\"type\":\"json\",\"path\":\"$.msg\",\"op\":\"contains\",\"value\":\"ok\"},"
		"{\"type\":\"json\",\"path\":\"$.gone\",\"op\":\"exists\"},"
		"{\"type\":\"json\",\"path\":\"$.n\",\"op\":\"!=\",\"value\":5.0},"
		"{\"type\":\"header\",\"name\":\"content-type\",\"regex\":\"^application/json\"},"
		"{\"type\":\"body\",\"not_regex\":\"error\"},"
		"{\"type\":\"cert\",\"min_days\":30},"
		"{\"type\":\"tls\",\"min_version\":\"1.2\"}],"
		"\"extract\":[{\"name\":\"h\",\"from\":\"header\",\"header\":\"X-Id\"},"
		"{\"name\":\"r\",\"from\":\"regex\",\"regex\":\"\\\"n\\\":([0-9]+)\"}]}]}";
	struct dialtest *t = parse(def, 0, NULL);
	const char body[] = "{\"n\":5,\"tags\":[\"gov\",\"data\"],\"msg\":\"all ok\"}";
	struct dt_response r = { .status = 200, .body = body, .body_len = strlen(body),
				 .headers = "HTTP/1.1 302 Found\r\nX-Id: old\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Id: 42\r\n",
				 .has_cert = true, .cert_days = 9, .tls = 13 };
	bool expect[] = { true, true, true, false, false, true, true, false, true };
	char why[128], *s;
	json_t *f;

	for (size_t i = 0; i < t->steps[0].n_asserts; i++) {
		assert_int_equal(dt_assert_holds(&t->steps[0].asserts[i], &r, &f), expect[i]);
		assert_true(expect[i] == (f == NULL));
		json_decref(f);
	}
	/* The dialer keeps only the last response's headers; here both are given: the first match counts. */
	s = dt_extract_value(&t->steps[0].extracts[0], &r, why, sizeof(why));
	assert_string_equal(s, "old");
	free(s);
	s = dt_extract_value(&t->steps[0].extracts[1], &r, why, sizeof(why));
	assert_string_equal(s, "5");
	free(s);
	dt_response_clear(&r);
	dialtest_free(t);
}

static const char *vars(const char *name, void *userdata)
{
	return strcmp(name, "token") == 0 ? "T0K" : NULL;
}

static const char *secrets(const char *name, void *userdata)
{
	return strcmp(name, "pw") == 0 ? "s3cret" : NULL;
}

static void templates_expand_or_name_what_is_missing(void **state)
{
	char *out = NULL, err[128];

	assert_int_equal(dt_render("Bearer {{token}}; pw={{secret:pw}}{{", vars, secrets, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "Bearer T0K; pw=s3cret{{");
	free(out);
	assert_int_equal(dt_render("", vars, secrets, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(dt_render("x {{later}}", vars, secrets, NULL, &out, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "{{later}}: no such variable (yet)");
	assert_int_equal(dt_render("{{secret:nope}}", vars, secrets, NULL, &out, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "{{secret:nope}}: no such secret, or it cannot be read");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_issue_example_parses),
		cmocka_unit_test(bad_definitions_say_where),
		cmocka_unit_test(vantages_and_quorums),
		cmocka_unit_test(json_paths_walk_objects_and_arrays),
		cmocka_unit_test(assertions_hold_or_say_what_was_seen),
		cmocka_unit_test(json_ops_and_other_kinds),
		cmocka_unit_test(templates_expand_or_name_what_is_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

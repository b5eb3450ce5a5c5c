/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the definitions the API takes from a request body. The
 * input's first byte picks the parser (4 log metric; else 0 rule,
 * 1 notification target, 2 silence, 3 dial test, by its value mod 4), the
 * rest is the JSON body.
 * A dial test that holds has each step's URL and body rendered, with
 * values that hold line breaks and quotes ({{json:name}} escapes them).
 */
#include "config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "alerts/alerting.h"
#include "alerts/silences.h"
#include "alerts/catalog.h"
#include "dialtests/dialtest.h"
#include "tests/fuzz/fuzz.h"

/* 2026-11-30: fixed, so that a crash replays. */
#define NOW_US 1796000000000000ull

static const char *value(const char *name, void *userdata)
{
	return name[0] == 'x' ? "a\"\r\nX-Injected: 1" : "v";
}

static void dialtest(json_t *def)
{
	static const struct dt_policy policy = { .secrets_dir = "/etc/vigil/secrets", .secrets_env = "VIGIL_SECRET_" };
	struct dialtest *t = NULL;
	char err[256];

	if (dialtest_parse(def, &policy, &t, err, sizeof(err)) < 0)
		return;
	for (size_t i = 0; i < t->n_steps; i++) {
		const char *tpls[] = { t->steps[i].url, t->steps[i].body };

		for (size_t k = 0; k < sizeof(tpls) / sizeof(tpls[0]); k++) {
			char *out = NULL;

			if (tpls[k] && dt_render(tpls[k], value, value, NULL, &out, err, sizeof(err)) == 0)
				(void)dt_line_safe(out);
			free(out);
		}
	}
	dialtest_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors errs = { 0 };
	json_t *body;

	if (size < 1)
		return 0;
	body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!body)
		return 0;
	switch (data[0] == 4 ? 4 : data[0] % 4) {
	case 4:
		(void)catalog_check(CATALOG_LOGMETRIC, "fuzz", body, &errs);
		break;
	case 0:
		(void)catalog_check(CATALOG_RULE, "fuzz", body, &errs);
		break;
	case 1:
		(void)catalog_check(CATALOG_NOTIFY, "fuzz", body, &errs);
		break;
	case 2:
		(void)silence_check(body, NOW_US);
		break;
	default:
		dialtest(body);
	}
	conf_errors_free(&errs);
	json_decref(body);
	return 0;
}

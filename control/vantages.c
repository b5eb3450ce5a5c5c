/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "common/hash.h"
#include "common/util.h"
#include "control/compose.h"
#include "control/vantages.h"

static bool runs_on(const struct dialtest *t, const char *labels)
{
	for (size_t i = 0; i < t->n_vantages; i++)
		if (selector_matches(t->vantages[i], labels))
			return true;
	return false;
}

bool labels_text_of_json(json_t *labels, char *out, size_t size)
{
	size_t at = 0;
	const char *k;
	json_t *v;

	out[0] = 0;
	json_object_foreach(labels, k, v)
		if (json_is_string(v) && at < size)
			at += (size_t)snprintf(out + at, size - at, "%s%s=%s", at ? " " : "", k, json_string_value(v));
	return at < size;
}

bool dialtest_runs_on(const struct dialtest *t, const char *labels_json)
{
	json_t *j = t->n_vantages ? json_loads(labels_json, 0, NULL) : NULL;
	char text[1024];
	bool on = j && labels_text_of_json(j, text, sizeof(text)) && runs_on(t, text);

	json_decref(j);
	return on;
}

int vantage_tests(const struct dialtests_snapshot *s, const char *labels, struct buf *out)
{
	int n = 0, r = 0;

	buf_reset(out);
	for (size_t i = 0; r == 0 && s && i < s->n; i++) {
		const struct dialtest_entry *e = &s->items[i];

		if (!e->for_agents || !e->test->enabled || !runs_on(e->test, labels))
			continue;
		r = buf_printf(out, "%c%s", n++ ? ',' : '[', e->for_agents);
	}
	if (r == 0 && n)
		r = buf_putc(out, ']');
	return r < 0 ? r : n;
}

uint32_t vantage_version(uint32_t text_version, const struct buf *tests)
{
	uint8_t digest[SHA256_SIZE];
	uint8_t head[4];
	uint32_t v;

	if (!tests || !tests->len)
		return text_version;
	put_le32(head, text_version);
	if (hash_v(HASH_SHA256, digest, head, sizeof(head), tests->data, tests->len, NULL) < 0)
		return 1;
	v = get_le32(digest);
	return v ? v : 1;
}

uint32_t vantage_generation(uint32_t groups_generation, uint32_t agents_digest)
{
	uint32_t v = groups_generation ^ (agents_digest * 2654435761u);

	return v ? v : 1;
}

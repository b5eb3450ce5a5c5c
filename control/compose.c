/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/hash.h"
#include "common/macro.h"
#include "control/compose.h"

/* Whether labels has the word w (n bytes) as one of its own. */
static bool has_word(const char *labels, const char *w, size_t n)
{
	for (const char *p = labels; *(p += strspn(p, " \t"));) {
		size_t m = strcspn(p, " \t");

		if (m == n && memcmp(p, w, n) == 0)
			return true;
		p += m;
	}
	return false;
}

bool selector_matches(const char *selector, const char *labels)
{
	for (const char *p = selector ? selector : ""; *(p += strspn(p, " \t"));) {
		size_t n = strcspn(p, " \t");

		if (!has_word(labels ? labels : "", p, n))
			return false;
		p += n;
	}
	return true;
}

unsigned rollout_bucket(const char *group, const char *agent)
{
	uint8_t digest[SHA256_SIZE];
	char key[256];
	int n = snprintf(key, sizeof(key), "%s/%s", group, agent ? agent : "");

	if (sha256(key, (size_t)MAX(n, 0), digest) < 0)
		return 99;
	return get_le32(digest) % 100;
}

const struct compose_group *compose_choose(const struct compose_group *g, const char *labels, const char *agent)
{
	const struct compose_group *take = g;

	if (g->staged && !(g->canary && *g->canary && selector_matches(g->canary, labels)) &&
	    rollout_bucket(g->name, agent) >= g->percent)
		take = g->released;
	return take && selector_matches(take->selector, labels) ? take : NULL;
}

static uint32_t first_word(const uint8_t *digest)
{
	uint32_t v = get_le32(digest);

	return v ? v : 1;
}

int compose(const struct compose_group *groups, size_t n, const char *labels, const char *agent, struct buf *out,
	    size_t *ret_n, uint32_t *ret_version)
{
	uint8_t digest[SHA256_SIZE];
	size_t taken = 0;
	int r = 0;

	buf_reset(out);
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct compose_group *g = compose_choose(&groups[i], labels, agent);
		size_t len;

		if (!g)
			continue;
		len = strlen(g->config);
		r = buf_printf(out, "# group %s (version %" PRIu64 ")\n", g->name, g->version);
		if (r == 0)
			r = buf_append(out, g->config, len);
		if (r == 0 && len && g->config[len - 1] != '\n')
			r = buf_putc(out, '\n');
		taken++;
	}
	if (r == 0)
		r = sha256(out->data, out->len, digest);
	if (r < 0)
		return r;
	*ret_n = taken;
	*ret_version = first_word(digest);
	return 0;
}

uint32_t compose_generation(const struct compose_group *groups, size_t n)
{
	uint8_t digest[SHA256_SIZE];
	struct buf b;
	int r = 0;

	buf_init(&b, SIZE_MAX);
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct compose_group *g = &groups[i];

		r = buf_printf(&b, "%s%c%" PRIu64 "%c%s%c%" PRId64 "%c%d%c%s%c%u%c%" PRIu64 "%c%s%c", g->name, 0, g->version,
			       0, g->selector, 0, g->order, 0, g->staged, 0, g->canary ? g->canary : "", 0, g->percent, 0,
			       g->released ? g->released->version : 0, 0, g->released ? g->released->selector : "", 0);
	}
	r = r == 0 ? sha256(b.data ? b.data : (const uint8_t *)"", b.len, digest) : r;
	buf_free(&b);
	/* Out of memory: a number no set of groups gives, so agents ask and are answered "unavailable". */
	return r == 0 ? first_word(digest) : 1;
}

int compose_group_cmp(const void *a, const void *b)
{
	const struct compose_group *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

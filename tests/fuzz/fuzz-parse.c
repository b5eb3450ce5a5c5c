/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what the agent makes of a log line it did not write.
 * The first byte picks a parser (json, logfmt, nginx, apache, a regex) or a
 * container framing (cri, docker), or the sketch decoder; the rest is the
 * line (or the stored sketch). A parser either adds fields that read back
 * as a valid export entry, at most PARSE_FIELDS_MAX of them, or leaves its
 * buffer as it was; a framing's message lies within the line or its
 * scratch; a sketch that decodes merges into a distribution that answers.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/export.h"
#include "common/macro.h"
#include "parse/container.h"
#include "parse/parser.h"
#include "search/sketch.h"
#include "tests/fuzz/fuzz.h"

static const struct { const char *format, *pattern; } parsers[] = {
	{ "json", NULL },
	{ "logfmt", NULL },
	{ "nginx", NULL },
	{ "apache", "%h %l %u %t \\\"%r\\\" %>s %b %D %{X-Id}i" },
	{ "regex", "^(?<time>[0-9:]+) \\[(?<level>[a-z]+)\\] (user|svc)=(?<who>\\w+)( took (?<ms>[0-9]+)ms)?" },
};
static const char *const framings[] = { "cri", "docker" };

static void check_parser(size_t k, const char *line, size_t len)
{
	struct export_limits lim = { 1, PARSE_FIELDS_MAX + 1, 1 << 20, 1 << 22 };
	struct export_field f[PARSE_FIELDS_MAX + 1];
	struct export_reader rd;
	struct parser *p;
	struct buf b;
	struct parse_out o = { .b = &b };
	char err[256];
	size_t n;
	int r;

	if (parser_new(parsers[k].format, parsers[k].pattern, &p, err, sizeof(err)) < 0)
		abort();
	buf_init(&b, 1 << 20);
	r = parser_run(p, line, len, &o);
	if (r < 0 || (r == 0 && (b.len || o.n)) || o.n > PARSE_FIELDS_MAX)
		abort();
	if (r == 1 && o.n) {
		if (export_end_entry(&b) < 0)
			abort();
		export_reader_init(&rd, b.data, b.len, &lim);
		if (export_reader_next(&rd, f, PARSE_FIELDS_MAX + 1, &n) != 1 || n != o.n)
			abort();
	}
	buf_free(&b);
	parser_free(p);
}

static void check_framing(size_t k, const char *line, size_t len)
{
	const struct line_format *fmt = line_format_find(framings[k]);
	struct line_view v;
	struct buf scratch;

	buf_init(&scratch, len + 1);
	(void)fmt->decode(line, len, &scratch, &v);
	if (!((v.msg >= line && v.msg + v.len <= line + len) ||
	      (v.msg == (const char *)scratch.data && v.len <= scratch.len)))
		abort();
	buf_free(&scratch);
}

static void check_sketch(const uint8_t *p, size_t len)
{
	struct sketch s = { 0 };

	if (sketch_decode_merge(&s, p, len) == 0 && (!s.count || s.n > SKETCH_BINS_MAX))
		abort();
	if (s.count)
		(void)sketch_quantile(&s, 0.99);
	sketch_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pick;

	if (size < 1)
		return 0;
	pick = data[0] % (ARRAY_SIZE(parsers) + ARRAY_SIZE(framings) + 1);
	if (pick < ARRAY_SIZE(parsers))
		check_parser(pick, (const char *)data + 1, size - 1);
	else if (pick < ARRAY_SIZE(parsers) + ARRAY_SIZE(framings))
		check_framing(pick - ARRAY_SIZE(parsers), (const char *)data + 1, size - 1);
	else
		check_sketch(data + 1, size - 1);
	return 0;
}

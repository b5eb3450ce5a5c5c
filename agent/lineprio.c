/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "common/macro.h"
#include "agent/lineprio.h"
#include "parse/out.h"

/* Level words are looked for in this many leading bytes only: cheap and rarely wrong. */
#define SCAN_BYTES 80

static bool is_word_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool all_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

int line_priority(const char *line, size_t len)
{
	size_t n = MIN(len, (size_t)SCAN_BYTES);

	if (n >= 3 && line[0] == '<' && line[1] >= '0' && line[1] <= '9') {
		int v = 0;
		size_t i = 1;
		for (; i < n && i < 5 && line[i] >= '0' && line[i] <= '9'; i++)
			v = v * 10 + (line[i] - '0');
		if (i < n && line[i] == '>' && v <= 191)
			return v & 7;
	}
	for (size_t i = 0; i < n; i++) {
		size_t w;
		int prio;
		if (!is_word_char(line[i]) || (i > 0 && is_word_char(line[i - 1])))
			continue;
		for (w = i; w < n && is_word_char(line[w]); w++)
			;
		/* In a line's text, level words are upper case and 3 to 8 letters long: "Error" is prose. */
		if (w - i >= 3 && w - i <= 8 && all_upper(line + i, w - i) && (prio = parse_level(line + i, w - i)) >= 0)
			return prio;
		i = w;
	}
	return -1;
}

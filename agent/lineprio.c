/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "common/macro.h"
#include "agent/lineprio.h"

/* Level words are looked for in this many leading bytes only: cheap and rarely wrong. */
#define SCAN_BYTES 80

static bool is_word_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int line_priority(const char *line, size_t len)
{
#define W(s, p) { s, sizeof(s) - 1, p }
	static const struct { const char *word; size_t len; int prio; } words[] = {
		W("EMERG", 0), W("PANIC", 0), W("ALERT", 1), W("CRIT", 2), W("CRITICAL", 2),
		W("FATAL", 2), W("ERROR", 3), W("ERR", 3), W("WARNING", 4), W("WARN", 4),
		W("NOTICE", 5), W("INFO", 6), W("DEBUG", 7), W("TRACE", 7),
	};
#undef W
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
		if (!is_word_char(line[i]) || (i > 0 && is_word_char(line[i - 1])))
			continue;
		for (w = i; w < n && is_word_char(line[w]); w++)
			;
		/* Level words are upper case and 3 to 8 letters long. */
		if (w - i >= 3 && w - i <= 8 && line[i] >= 'A' && line[i] <= 'Z')
			for (size_t k = 0; k < ARRAY_SIZE(words); k++)
				if (words[k].len == w - i && memcmp(line + i, words[k].word, w - i) == 0)
					return words[k].prio;
		i = w;
	}
	return -1;
}

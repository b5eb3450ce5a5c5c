/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdbool.h>
#include <strings.h>

#include "common/macro.h"
#include "lineprio.h"

/* Level words are looked for in this many leading bytes only: cheap and rarely wrong. */
#define SCAN_BYTES 80

static bool is_word_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int line_priority(const char *line, size_t len)
{
	static const struct { const char *word; int prio; } words[] = {
		{ "EMERG", 0 }, { "PANIC", 0 }, { "ALERT", 1 }, { "CRIT", 2 }, { "CRITICAL", 2 },
		{ "FATAL", 2 }, { "ERROR", 3 }, { "ERR", 3 }, { "WARNING", 4 }, { "WARN", 4 },
		{ "NOTICE", 5 }, { "INFO", 6 }, { "DEBUG", 7 }, { "TRACE", 7 },
	};
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
		for (size_t k = 0; k < ARRAY_SIZE(words); k++)
			if (strlen(words[k].word) == w - i && strncmp(line + i, words[k].word, w - i) == 0)
				return words[k].prio;
		i = w;
	}
	return -1;
}

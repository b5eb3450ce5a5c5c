/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "probes/argv.h"

void argv_free(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

char **argv_split(const char *cmd)
{
	size_t len = strlen(cmd), n = 0;
	char **argv = calloc(len / 2 + 2, sizeof(char *)), *word = malloc(len + 1);
	size_t w = 0;
	bool in_word = false;
	char quote = 0;

	if (!argv || !word)
		goto nomem;
	for (const char *c = cmd;; c++) {
		if (!*c) {
			if (quote)
				goto bad;
			break;
		}
		if (quote == '\'') {
			if (*c == '\'')
				quote = 0;
			else
				word[w++] = *c;
			continue;
		}
		if (quote == '"') {
			if (*c == '"')
				quote = 0;
			else if (*c == '\\' && c[1] && strchr("\"\\$`", c[1]))
				word[w++] = *++c;
			else
				word[w++] = *c;
			continue;
		}
		if (*c == ' ' || *c == '\t' || *c == '\n') {
			if (in_word) {
				word[w] = 0;
				if (!(argv[n++] = strdup(word)))
					goto nomem;
				w = 0;
				in_word = false;
			}
			continue;
		}
		in_word = true;
		if (*c == '\'' || *c == '"')
			quote = *c;
		else if (*c == '\\' && c[1])
			word[w++] = *++c;
		else
			word[w++] = *c;
	}
	if (in_word) {
		word[w] = 0;
		if (!(argv[n++] = strdup(word)))
			goto nomem;
	}
	free(word);
	if (n == 0) {
		argv_free(argv);
		errno = EINVAL;
		return NULL;
	}
	return argv;
bad:
	free(word);
	argv_free(argv);
	errno = EINVAL;
	return NULL;
nomem:
	free(word);
	argv_free(argv);
	errno = ENOMEM;
	return NULL;
}

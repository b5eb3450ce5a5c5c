/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/macro.h"
#include "probes/argv.h"

struct split_case {
	const char *cmd;
	const char *words[6]; /* NULL-terminated; words[0] NULL: must fail */
};

static void split_like_a_shell(void **state)
{
	static const struct split_case cases[] = {
		{ "check_tcp -H 127.0.0.1 -p 22", { "check_tcp", "-H", "127.0.0.1", "-p", "22", NULL } },
		{ "  a   b\t c  ", { "a", "b", "c", NULL } },
		{ "echo 'a b' \"c d\"", { "echo", "a b", "c d", NULL } },
		{ "x 'it''s' \"q\\\"q\" \"\\n\"", { "x", "its", "q\"q", "\\n", NULL } },
		{ "a\\ b c\\'d", { "a b", "c'd", NULL } },
		{ "'' x", { "", "x", NULL } },
		{ "no; shell | here $HOME `x`", { "no;", "shell", "|", "here", "$HOME", NULL } },
		{ "'unterminated", { NULL } },
		{ "\"also", { NULL } },
		{ "   ", { NULL } },
		{ "", { NULL } },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char **argv = argv_split(cases[i].cmd);
		size_t n = 0;

		if (!cases[i].words[0]) {
			if (argv)
				fail_msg("'%s' should not split", cases[i].cmd);
			assert_int_equal(errno, EINVAL);
			continue;
		}
		if (!argv)
			fail_msg("'%s' did not split", cases[i].cmd);
		for (; cases[i].words[n] && n < 5; n++)
			if (!argv[n] || strcmp(argv[n], cases[i].words[n]) != 0)
				fail_msg("'%s': word %zu is '%s', expected '%s'", cases[i].cmd, n,
					 argv[n] ? argv[n] : "(none)", cases[i].words[n]);
		/* A case listing five words checks only those (the array holds no more). */
		if (n < 5 && argv[n])
			fail_msg("'%s': extra word '%s'", cases[i].cmd, argv[n]);
		argv_free(argv);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_like_a_shell),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

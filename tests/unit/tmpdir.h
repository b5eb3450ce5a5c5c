/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TEST_TMPDIR_H
#define VIGIL_TEST_TMPDIR_H

/* A fresh directory for a cmocka group: test_dir is set by tmpdir_setup. */
#include <stdio.h>
#include <stdlib.h>

static char test_dir[] = "/tmp/vigil-unit-XXXXXX";

static int tmpdir_setup(void **state)
{
	(void)state;
	return mkdtemp(test_dir) ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
	char cmd[300];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif

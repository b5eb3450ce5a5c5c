/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ARGV_H
#define VIGIL_ARGV_H

/*
 * Splits a command line into words the way a POSIX shell would for a
 * simple command: whitespace separates, 'single' and "double" quotes group,
 * backslash escapes (inside double quotes only before " \ $ `). No
 * expansion of any kind. Returns a NULL-terminated vector (free with
 * argv_free) or NULL with errno: EINVAL for an unterminated quote or an
 * empty command.
 */
char **argv_split(const char *cmd);
void argv_free(char **argv);

#endif

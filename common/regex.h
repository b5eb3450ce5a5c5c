/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_REGEX_H
#define VIGIL_REGEX_H

#include <regex.h>
#include <stddef.h>

#define REGEX_MAX_LEN 1024       /* bytes of a pattern */
#define REGEX_MAX_REPEAT 1000    /* the largest count of a {m,n} */
#define REGEX_MAX_EXPANDED 20000 /* elements once every {m,n} and + is copied out */

/*
 * regcomp() of an extended regular expression that cannot take the process
 * down. glibc copies a repeated element out once per repetition, and piled
 * up quantifiers multiply: "o" and 23 '+' took 8 GB and minutes to compile.
 * So a pattern is refused first when it is longer than REGEX_MAX_LEN, puts a
 * quantifier right after another ("a++", "a{2}*"), counts past
 * REGEX_MAX_REPEAT, or would grow past REGEX_MAX_EXPANDED elements. 0, or
 * -EINVAL with why in err; *re is the caller's to regfree() on success.
 */
int regex_compile(regex_t *re, const char *pattern, int cflags, char *err, size_t err_size);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SILENCES_H
#define VIGIL_SILENCES_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Silences and maintenance windows: `silences` in meta.db (matchers,
 * times, who made it and why). An alert whose labels (or rule, or
 * severity) match all of a silence's matchers while it is in force is
 * marked silenced and not told. This file alone holds SQL that names the
 * table; the caller holds whatever lock guards the connection.
 */

/* Creates the table (and adds what older versions lack). */
int silences_schema(sqlite3 *db);

/* Whether m holds as a silence's matchers (1 to 16 label names and their values): NULL, or what is wrong. */
const char *silence_check_matchers(json_t *m);
/* Whether body holds as a silence at now_us (nothing stored): NULL, or what is wrong. */
const char *silence_check(json_t *body, uint64_t now_us);
/* From a request body: matchers, comment, starts/ends or duration, every/until. -EINVAL with *reason. */
int silences_add(sqlite3 *db, json_t *body, const char *creator, uint64_t now, json_t **ret, const char **reason);
/* Ends silence id now; gives it as it is now in *ret (NULL: not wanted). -ENOENT if none is in force or to come. */
int silences_expire(sqlite3 *db, int64_t id, uint64_t now, json_t **ret);
/* Those not over yet (all: every one), newest first, at most 1000, appended to items. */
int silences_list(sqlite3 *db, bool all, uint64_t now, json_t *items);

/* The matchers of the silences in force at now, into matchers (an array, cleared first). */
int silences_in_force(sqlite3 *db, uint64_t now, json_t *matchers);
/* Whether one of matchers (from silences_in_force()) holds for an alert of rule, severity and labels. */
bool silences_match(json_t *matchers, const char *rule, const char *severity, json_t *labels);

#endif

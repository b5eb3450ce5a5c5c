/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CATALOG_H
#define VIGIL_CATALOG_H

#include <jansson.h>
#include <stddef.h>

#include "alerts/defs.h"
#include "alerts/logmatch.h"
#include "search/logmetric.h"
#include "store/storage.h"

/*
 * The rules, notification targets and log metrics in force: the
 * configuration file's [rule], [notify] and [logmetric] sections, and those
 * defined through the API (kept as the JSON they were given in, in
 * meta.db's `definitions` or the shared database's: defstore.h). Readers take
 * an immutable snapshot and release it when done; a change through the API
 * builds a new snapshot, so an evaluation or a delivery under way keeps the
 * definitions it started with.
 */
struct catalog;

struct catalog_snapshot {
	const struct rule_conf *const *rules;
	size_t n_rules;
	const struct notify_conf *const *targets;
	size_t n_targets;
	struct logmatch *logmatch; /* the log rules' patterns; shared by reference with ingest */
	struct logmetrics *logmetrics; /* the log metrics compiled; shared by reference with ingest */
};

enum catalog_kind {
	CATALOG_NOTIFY,
	CATALOG_RULE,
	CATALOG_LOGMETRIC,
	_CATALOG_KIND_MAX,
};
/* What the store calls kind: "notify", "rule", "logmetric". */
const char *catalog_kind_name(enum catalog_kind kind);

/*
 * --migrate: meta.db's definitions made through the API into the shared
 * database (one change there), each read back; run again, those there
 * already are left. -EUCLEAN when one differs there (logged).
 */
struct defs_copy {
	uint64_t defs, copied, present, verified;
};
int defs_migrate(const char *data_dir, const char *url, const char *password_file, struct defs_copy *ret);

/*
 * storage and file (the configuration file's definitions) are borrowed and
 * must outlive *ret. Definitions in meta.db that no longer hold (a target
 * they name left the file) are logged and left out.
 */
int catalog_open(const struct storage_conf *storage, const struct alert_defs *file, struct catalog **ret);
void catalog_free(struct catalog *c);

/*
 * With backend=postgresql: the definitions made through another collector
 * (the store's version moved) built and put in force now. Called each
 * [alerts] interval by the evaluator, on every collector.
 */
int catalog_refresh(struct catalog *c);

/* A reference to the definitions now; release it with catalog_release(). */
const struct catalog_snapshot *catalog_get(struct catalog *c);
void catalog_release(const struct catalog_snapshot *s); /* NULL is fine */
/* A reference to the log rules' patterns now (logmatch_unref() it). */
struct logmatch *catalog_logmatch(struct catalog *c);
/* A reference to the log metrics now (logmetrics_unref() it). */
struct logmetrics *catalog_logmetrics(struct catalog *c);
const struct notify_conf *catalog_target(const struct catalog_snapshot *s, const char *name);
const struct rule_conf *catalog_rule(const struct catalog_snapshot *s, const char *name);

/*
 * {"items":[...]} of kind, or the one called name (-ENOENT): each with its
 * keys as a config file gives them, "defined_in" ("config" or "api"), and for
 * API definitions "author" and "updated". Secrets are never shown, nor a
 * target URL's query (it may hold a key).
 */
int catalog_list(struct catalog *c, enum catalog_kind kind, const char *name, json_t **ret);
/* The file's [route] sections, in its order: {"items":[{"name","match","notify","defined_in"}]}. */
int catalog_routes(struct catalog *c, json_t **ret);

/*
 * Defines (create) or redefines (!create) name from def, a JSON object of
 * the section's keys (strings, numbers, booleans; a rule's labels also as an
 * object). Checked as the file's sections are; the answer is the stored
 * definition as catalog_list() shows it. -EINVAL, -EEXIST (create: taken),
 * -ENOENT (!create: none), -EPERM (defined in the file) with reason.
 */
int catalog_put(struct catalog *c, enum catalog_kind kind, const char *name, json_t *def, bool create,
		const char *author, json_t **ret, char *reason, size_t reason_size);
/*
 * Whether def holds as a definition of kind called name, checked as
 * catalog_put() checks it (any target a rule names taken as defined),
 * nothing stored: 0, or -EINVAL with the errors in errs. For the fuzzers.
 */
int catalog_check(enum catalog_kind kind, const char *name, json_t *def, struct conf_errors *errs);
/* Why (kind, name) may not go while what s has besides uses it (a target or log metric a rule does): -EBUSY with reason, or 0. */
int catalog_in_use(const struct catalog_snapshot *s, enum catalog_kind kind, const char *name, char *reason,
		   size_t size);
/* -ENOENT, -EPERM (in the file), -EBUSY (a target or log metric a rule uses) with reason. */
int catalog_delete(struct catalog *c, enum catalog_kind kind, const char *name, char *reason, size_t reason_size);

#endif

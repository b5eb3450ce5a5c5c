/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/defs.h"
#include "common/conf.h"
#include "store/storage.h"

/*
 * The rule types (type= of a [rule]): an ops table. Each type finds the
 * things a rule of it watches (probes, hosts, metric instances, ...) and
 * hands each, as a candidate, to the evaluator, which keeps the alerts'
 * lifecycle; the type knows nothing of alerts, the evaluator nothing of
 * types. A new type is an entry in rules.c.
 */

/* What a rule sees for one thing it watches. */
struct candidate {
	const char *agent, *host;
	const char *item; /* the probe's name, the metric's instance; "" for host rules */
	bool active;      /* probe and host rules: the condition holds */
	bool has_sample;  /* metric rules: the condition is the sample against the rule's threshold, */
	double sample;    /* which depends on the alert's side of it (hysteresis) */
	bool suppressed;  /* the host is silent: its probes' alerts are not its own problem */
	char value[512];
};

/* What a dial test's state across its vantage points is judged by (its "fail_when": "K of N"). */
struct rule_quorum {
	unsigned k, n;        /* failing when k vantages fail; unknown while fewer than n report (0: never) */
	uint64_t interval_us; /* a vantage whose newest run is older than 3 intervals no longer reports */
};

/* One evaluation of one rule, as the evaluator hands it to the rule's type. */
struct rule_eval {
	const struct rule_conf *rule;
	uint64_t now;
	sqlite3 *meta;            /* the evaluator's connection to meta.db (lockouts) */
	struct storage_reader *fleet; /* the fleet's state and what the rules read of the derived rows (fleet.h) */
	uint64_t silent_after_us; /* [hosts] silent_after */
	uint64_t interval_us;     /* [alerts] interval */
	/* Whether agent has not been heard from for silent_after. */
	bool (*host_silent)(struct rule_eval *e, const char *agent);
	/* Steps (or opens) the alert of c. */
	int (*consider)(struct rule_eval *e, const struct candidate *c);
	/*
	 * A dial test's fail_when and interval by its name (alerting_env's),
	 * and whether a host of labels (JSON; NULL: the collector) is one of
	 * its vantage points; false: not, or no such test.
	 */
	bool (*dialtest_quorum)(struct rule_eval *e, const char *name, const char *labels, struct rule_quorum *ret);
	void *evaluator;
};

/* The groups of keys only some types take (a type's keys bits). */
enum {
	RULE_KEYS_PROBE = 1 << 0,       /* probe= */
	RULE_KEYS_CONSECUTIVE = 1 << 1, /* consecutive= */
	RULE_KEYS_SILENT = 1 << 2,      /* silent_for= */
	RULE_KEYS_METRIC = 1 << 3,      /* metric=, instance= */
	RULE_KEYS_THRESHOLD = 1 << 4,   /* above=, below=, recover= */
	RULE_KEYS_LOG = 1 << 5,         /* pattern=, unit=, source= */
	RULE_KEYS_DIALTEST = 1 << 6,    /* dialtest=, condition=, vantage= */
	RULE_KEYS_COUNT = 1 << 7,       /* count=, window= */
};

struct rule_type {
	const char *name;       /* type= */
	const char *item_label; /* the label that names what an alert is about; NULL: "instance" */
	const char *summary;    /* the summary when the rule gives none */
	const char *gone;       /* an open alert's value once what it watched is no longer reported */
	unsigned keys;          /* the RULE_KEYS_* groups it takes */
	bool matches_lines;     /* its pattern= is matched against log lines at ingest, its values hold them */
	/* Hands each thing e->rule watches to e->consider(); 0 or a negative errno. */
	int (*evaluate)(struct rule_eval *e);
	/* Adds what this type needs of a rule's keys to errs (NULL: nothing more than its groups). */
	void (*check)(const struct rule_conf *r, const char *where, struct conf_errors *errs);
};

/* The type called name, or NULL. */
const struct rule_type *rule_type_find(const char *name);
/* Every type, in the order they are listed: n_rule_types of them. */
extern const struct rule_type *const rule_types[];
extern const size_t n_rule_types;
/* The keys of group (one RULE_KEYS_* bit) as a rule's errors name them ("metric= and instance="). */
const char *rule_keys_name(unsigned group, bool *ret_plural);
/* Whether r sets any key of group. */
bool rule_keys_set(const struct rule_conf *r, unsigned group);

#endif

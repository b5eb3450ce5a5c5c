/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_COLL_CONF_H
#define VIGIL_COLL_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/transport.h"

/* One [rule "NAME"] section: when alerts open, and how they behave. */
struct rule_conf {
	char *name;
	char *type;     /* probe, host_silent or metric */
	char *severity; /* info, warning, critical or disaster */
	char *summary;  /* a template: {{host}}, {{probe}}, {{instance}}, {{value}}, {{rule}}, any label */
	uint64_t for_ms;
	char *host;     /* glob on host names */
	char *labels;   /* "k=v k=v", added to the alerts' labels */
	char *probe;    /* probe: glob on probe names */
	uint64_t consecutive; /* probe: results not ok in a row */
	uint64_t silent_for_ms; /* host_silent */
	char *metric;   /* metric: "<set>.<field>", e.g. filesystem.used_pct */
	char *instance; /* metric: glob on the instance (a mount, a disk, an interface) */
	char *above, *below, *recover; /* metric: numbers; one of above and below */
	uint64_t flap_changes;
	uint64_t flap_window_ms;
	bool clear_ack_on_recovery;
	char *notify;   /* target names, space-separated */
	uint64_t escalate_after_ms; /* firing and unacknowledged this long: tell escalate_to */
	char *escalate_to;
};

/* One [notify "NAME"] section: where alerts are sent. */
struct notify_conf {
	char *name;
	char *type;        /* webhook, dingtalk, wecom or feishu */
	char *url;
	char *secret;      /* dingtalk, feishu: the robot's signing secret */
	char *secret_file; /* the same, read from a file (first line) */
	char *lang;        /* zh or en */
};

/* The collector's configuration; owns every string in it. */
struct coll_conf {
	struct {
		struct transport_conf t;
		uint64_t contexts;
		uint64_t max_message;
		uint64_t max_raw;
		uint64_t max_records;
		uint64_t max_field;
	} ingest;
	struct {
		char *data_dir;
		bool sync;
		uint64_t retention_days;
	} storage;
	struct {
		char *listen;
		uint64_t threads;
		uint64_t max_limit;
	} http;
	struct {
		uint64_t silent_after_ms;
	} hosts;
	struct {
		uint64_t interval_ms;
	} alerts;
	struct rule_conf **rules;
	size_t n_rules;
	struct notify_conf **notifies;
	size_t n_notifies;
};

/* The target named name, or NULL. */
const struct notify_conf *coll_conf_notify(const struct coll_conf *c, const char *name);

extern const struct conf_schema coll_conf_schema;

/* Loads path; on error prints file:line messages to stderr. */
int coll_conf_load(const char *path, struct coll_conf **ret);
void coll_conf_free(struct coll_conf *c);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_AGENT_CONF_H
#define VIGIL_AGENT_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/transport.h"
#include "probes/probe.h"
#include "syslog/receiver.h"

/* One [tail "NAME"] section. */
struct tail_conf {
	char *name;
	char *path; /* glob */
	char *read_from; /* "head" or "tail" for files found at first start */
	uint64_t max_line_bytes;
	char *format; /* how lines are framed: plain, cri, docker (parse/container.h) */
	char *parser; /* a [parser] section's name, or NULL */
};

/* One [parser "NAME"] section (parse/parser.h): used by tails that name it and by the journal's units and identifiers it lists. */
struct parser_conf {
	char *name;
	char *format;
	char *pattern;
	char *priority_field; /* a parsed field whose level becomes PRIORITY (tail lines) */
	char *units;          /* space-separated _SYSTEMD_UNIT values whose journal messages it parses */
	char *identifiers;    /* ... SYSLOG_IDENTIFIER values */
};

/* The [journal] section. */
struct journal_conf {
	bool enabled;
	char *directory;   /* NULL: the local journal */
	char *units;       /* space-separated _SYSTEMD_UNIT values */
	char *identifiers; /* space-separated SYSLOG_IDENTIFIER values */
	uint64_t priority; /* entries up to this PRIORITY (0 emerg .. 7 debug) */
	uint64_t settle_ms; /* how long the newest entry waits for a newer one before it is read alone */
};

/* The whole agent configuration; owns every string, tail_conf and parser_conf in it. */
struct agent_conf {
	struct {
		char *state_dir;
		char *id;
		char *hostname;
		char *labels;
		bool inventory;
		uint64_t heartbeat_ms;
	} agent;
	struct {
		struct transport_conf t;
		uint64_t inflight;
		uint64_t timeout_ms;
		uint64_t backoff_max_ms;
	} collector;
	struct {
		uint64_t max_records;
		uint64_t max_bytes;
		uint64_t max_delay_ms;
		uint64_t zstd_level;
	} batch;
	struct {
		uint64_t max_bytes;
		bool sync;
	} spool;
	struct journal_conf journal;
	struct syslog_conf syslog; /* devices relayed (agent/relay.h) */
	struct {
		char *url; /* where the certificate is renewed; NULL: it is not */
	} enroll;
	struct {
		bool enabled;
		uint64_t interval_ms;
	} metrics;
	struct {
		bool enabled;        /* run what the collector's config groups give this host */
		bool allow_commands; /* ... command probes among it */
		bool allow_dialtests; /* ... and its dial tests, this host a vantage point */
		char *allow_paths;   /* globs its paths must be within */
	} central;
	struct tail_conf **tails;
	size_t n_tails;
	struct parser_conf **parsers;
	size_t n_parsers;
	struct probe_conf **probes;
	size_t n_probes;
};

extern const struct conf_schema agent_conf_schema;

/* Loads path into a new config; on error prints file:line messages to stderr. */
int agent_conf_load(const char *path, struct agent_conf **ret);
/*
 * agent_conf_load() with central (NULL: none), the drop-in the collector's
 * configuration was written to, read after all the local files; the
 * errors into errs, not printed.
 */
int agent_conf_load_layers(const char *path, const char *central, struct agent_conf **ret,
			   struct conf_errors *errs);
/*
 * text, a config group (control/groups.h) called name, checked alone as an
 * agent would read it, all but [collector]: 0, or -EINVAL with its errors
 * ("name:LINE: ...") in errs.
 */
int agent_conf_check_fragment(const char *name, const char *text, struct conf_errors *errs);
void agent_conf_free(struct agent_conf *c);

#endif

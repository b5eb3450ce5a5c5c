/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/buf.h"
#include "common/conf.h"

/*
 * Availability probes, shared by the agent (host checks) and the collector
 * (dial tests). A probe runs on the caller's sd-event loop every interval
 * (the first run spread over the interval), never blocks it, and is cut off
 * at its timeout. Each run ends in one result.
 */

enum probe_status {
	PROBE_OK,
	PROBE_WARNING,
	PROBE_CRITICAL,
	PROBE_UNKNOWN, /* the probe could not tell (bad setup, no permission) */
	_PROBE_STATUS_MAX,
};
const char *probe_status_name(enum probe_status s);

/* One [probe "NAME"] section: the keys of every type, each type uses its own. */
struct probe_conf {
	char *name;
	char *type;
	uint64_t interval_ms;
	uint64_t timeout_ms;
	char *address;   /* tcp */
	char *send;      /* tcp */
	char *expect;    /* tcp */
	bool tls;        /* tcp */
	char *tls_ca;    /* tcp, http */
	char *command;   /* command: argv, split like a shell would */
	char *path;      /* file */
	uint64_t max_age_ms, min_size, max_size; /* file */
	char *process;   /* process: its name (comm) */
	char *pidfile;   /* process */
	char *cmdline;   /* process: POSIX extended regex on the command line */
	uint64_t min_count, max_count; /* process */
	char *url;       /* http */
	char *expect_status; /* http: codes or classes, e.g. "200 204" or "2xx 3xx" */
	char *contains;  /* http: body substring */
	char *regex;     /* http: body extended regex */
	bool tls_verify; /* tcp, http */
	bool follow_redirects; /* http */
	char *file;      /* cert: a PEM file (else address= is a TLS endpoint) */
	uint64_t warning_days, critical_days; /* cert */
	char *unit;      /* unit: a systemd unit name */
};

#define PROBE_CONF_N_KEYS 28
extern const struct conf_key probe_conf_keys[PROBE_CONF_N_KEYS];
/* Adds file-level errors: unknown type, keys a type needs or cannot use. */
void probe_conf_check(const struct probe_conf *c, const char *file, struct conf_errors *errs);

/* A finished run. details holds PROBE_* fields in export format (owned by the probe). */
struct probe_result {
	enum probe_status status;
	uint64_t latency_us;
	char message[256];
	struct buf *details;
};

struct probe;

/* Called on the loop after every run; changed: the status differs from the run before. */
typedef void (*probe_report_fn)(void *userdata, const struct probe *p, const struct probe_result *r,
				bool changed);

/* conf is borrowed. The first run starts within one interval, and within 10 s. */
int probe_new(sd_event *event, const struct probe_conf *conf, probe_report_fn report, void *userdata,
	      struct probe **ret);
/* Stops a running check (killing its processes) and frees. NULL is fine. */
void probe_free(struct probe *p);
const struct probe_conf *probe_conf(const struct probe *p);

#endif

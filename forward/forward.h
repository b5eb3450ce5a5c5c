/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_H
#define VIGIL_FORWARD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "store/storage.h"

/*
 * [forward "NAME"]: every stored record that the filter takes, sent to a
 * receiver (a SIEM, a syslog relay) in ingest order, by cursor, from where
 * the receiver last acknowledged (docs/security-center.md). A forwarder is a
 * thread of its own that reads storage as a puller of the API does; while its
 * receiver is away it falls behind and says how far (the metrics), and it
 * never skips a record it was meant to send.
 */
struct forward_conf {
	char *name;
	char *type;      /* syslog */
	char *what;      /* logs (stored records), alerts (the alerts' events) or audit (the audit log) */
	char *url;       /* tcp://, tls:// or udp://HOST:PORT */
	char *framing;   /* octet-counted or lf (streams) */
	char *format;    /* format.h: rfc5424 or json */
	char *filter;    /* the log center's query language; NULL: every record of kind */
	char *kind;      /* VIGIL_KIND of what is sent: log (lines), or any */
	char *start;     /* with no position yet: oldest (everything kept) or now */
	char *sd_id;     /* the structured data element that carries the record's id */
	char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	uint64_t batch;       /* records read and sent at a time */
	uint64_t rate;        /* messages a second at most; 0: no limit */
	uint64_t max_message; /* bytes; a longer message is cut and counted */
	uint64_t timeout_ms;  /* connecting, sending, and the receiver acknowledging what was sent */
	uint64_t retry_max_ms;
};

struct forward_defs {
	struct forward_conf **list;
	size_t n;
};

extern const struct conf_section forward_section;
/* conf_section.instance for [forward "name"]: owned by d. */
struct forward_conf *forward_defs_add(struct forward_defs *d, const char *name);
void forward_defs_free(struct forward_defs *d);
/* Adds what is wrong with f's values to errs, each at its key's file:line. */
void forward_conf_check(const struct forward_conf *f, const struct conf_origin *o, struct conf_errors *errs);

/*
 * What forwarders of alerts and of the audit log read, handed in by the
 * collector (this library sits below both): alerting_events() and
 * audit_query() with their contexts; NULL when there is none.
 */
struct forward_sources {
	/* {"items":[events after after, oldest first, at most limit], "next_cursor":"ID"} into *ret (the caller's). */
	int (*alert_events)(void *alerts, int64_t after, unsigned limit, json_t **ret);
	void *alerts;
	/* The audit rows after after, oldest first, at most limit, as a new array in *items; the last id in *last. */
	int (*audit_rows)(void *audit, int64_t after, unsigned limit, json_t **items, int64_t *last);
	void *audit;
};

struct forwarders;
/*
 * Starts a forwarder for each of d (borrowed, like storage and what sources
 * hands in: they outlive *ret); with none, *ret is NULL. Their counters
 * join GET /metrics.
 */
int forwarders_start(const struct forward_defs *d, const struct storage_conf *storage,
		     const struct forward_sources *sources, struct forwarders **ret);
/* Stops each (its position is kept as of the last records its receiver acknowledged) and frees. NULL is fine. */
void forwarders_stop(struct forwarders *f);

#endif

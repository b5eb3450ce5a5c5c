/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_H
#define VIGIL_FORWARD_H

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

struct forwarders;
/*
 * Starts a forwarder for each of d (borrowed, like storage: both outlive
 * *ret); with none, *ret is NULL. Their counters join GET /metrics.
 */
int forwarders_start(const struct forward_defs *d, const struct storage_conf *storage, struct forwarders **ret);
/* Stops each (its position is kept as of the last records its receiver acknowledged) and frees. NULL is fine. */
void forwarders_stop(struct forwarders *f);

#endif

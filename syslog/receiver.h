/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SYSLOG_RECEIVER_H
#define VIGIL_SYSLOG_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/conf.h"

/*
 * Syslog in (docs/security-center.md): the collector's [syslog] listens on
 * udp://, tcp:// (octet-counted or LF-framed, RFC 6587, told apart frame by
 * frame) and tls:// (RFC 5425), parses each message (syslog/parse.h) into a
 * record (syslog/record.h), and hands the records of each sender, a batch
 * at a time, to a sink under the sender's own identity, so that every
 * device is a host. One thread; every buffer, connection and sender
 * bounded; what is dropped is counted.
 */

struct syslog_conf {
	char *listen; /* space-separated URLs; NULL: no syslog */
	char *tls_cert, *tls_key, *tls_client_ca;
	uint64_t max_message;     /* bytes; a longer message is cut there, counted */
	uint64_t max_connections; /* TCP and TLS, at once */
	uint64_t idle_timeout_ms;
	char *utc_offset;         /* of RFC 3164 timestamps: "local" or ±HH:MM */
	uint64_t queue;           /* batches waiting to be stored */
};

/* The keys of [syslog], for a program's schema (offsets into struct syslog_conf). */
#define SYSLOG_CONF_N_KEYS 9
extern const struct conf_key syslog_conf_keys[SYSLOG_CONF_N_KEYS];

/* Cross-key checks of c, each error at where (file:line) in errs. */
void syslog_conf_check(const struct syslog_conf *c, const char *where, struct conf_errors *errs);

/* Where the records go: put is called from the receiver's thread. */
struct syslog_sink {
	void (*put)(void *ctx, const uint8_t sender[16], const struct buf *records, uint32_t n);
	void *ctx;
};

struct syslog_receiver;

/* Listens (c and sink outlive *ret); with no listen=, *ret is NULL. Owned by the caller: syslog_stop(). */
int syslog_start(const struct syslog_conf *c, const struct syslog_sink *sink, struct syslog_receiver **ret);
/* Hands what was received to the sink, closes everything. NULL is fine. */
void syslog_stop(struct syslog_receiver *r);

#endif

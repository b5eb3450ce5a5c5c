/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SYSLOG_RECORD_H
#define VIGIL_SYSLOG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "syslog/parse.h"

/*
 * A received syslog message as a record (docs/security-center.md, Syslog
 * in): MESSAGE, PRIORITY, __REALTIME_TIMESTAMP (the message's, else when it
 * was received), _HOSTNAME (the sender's name, else its address) and
 * SYSLOG_IDENTIFIER as every log record has them, and the rest of the header
 * in fields of its own; each structured data parameter as
 * SYSLOG_SD_<ID>_<NAME> (upper case, '_' for what a field name cannot hold).
 * Pure.
 */
#define SYSLOG_SD_PARAMS_MAX 32 /* parameters made fields, of one message; the rest stay in SYSLOG_SD */

struct syslog_origin {
	const char *source;    /* VIGIL_SOURCE: "syslog" */
	const char *transport; /* udp, tcp or tls */
	const char *peer;      /* the sender's address, without its port */
	uint64_t received_us;
	bool truncated;        /* longer than max_message: cut there */
};

/* The host m is from: its header's HOSTNAME, else the sender's address. */
void syslog_record_host(const struct syslog_msg *m, const struct syslog_origin *o, char *host, size_t size);

/*
 * Appends m as one entry of host to out. 0, or -ENOBUFS when out is full
 * (nothing of the entry left in it).
 */
int syslog_record(struct buf *out, const struct syslog_msg *m, const struct syslog_origin *o, const char *host);

/* The sender's inventory record (VIGIL_KIND=inventory): what makes it a host with an address. */
int syslog_record_inventory(struct buf *out, const struct syslog_origin *o, const char *host);

/* The 16 bytes a sender's records are stored under: of its host name, so it stays one host across addresses. */
int syslog_sender_id(const char *host, uint8_t out[16]);

#endif

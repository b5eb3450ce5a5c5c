/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include "alerting.h"
#include "audit.h"
#include "catalog.h"
#include "dialer.h"
#include "dialtests.h"
#include "coll_conf.h"

/*
 * The HTTP API (docs/api.md) on libmicrohttpd's thread pool. Every request
 * carries "Authorization: Bearer TOKEN"; handlers read the store through
 * their own storage_reader connections.
 */
struct http_server;

/* What the handlers act on besides the store; all borrowed, they must outlive the server. */
struct http_deps {
	struct audit *audit;
	struct alerting *alerting;
	struct catalog *catalog;
	struct dialtests *dialtests;
	struct dialer *dialer;
};

/* conf is borrowed and must outlive the server. */
int http_start(const struct coll_conf *conf, const struct http_deps *deps, struct http_server **ret);
void http_stop(struct http_server *h);
/* Writes the failed authentications counted in the minute that ended (http_audit.h); every minute. */
void http_audit_tick(struct http_server *h);

#endif

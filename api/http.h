/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include "alerts/alerting.h"
#include "api/audit.h"
#include "alerts/catalog.h"
#include "dialtests/dialer.h"
#include "dialtests/catalog.h"
#include "collector/coll_conf.h"

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
/*
 * Periodic work, at least once a minute: the failed authentications counted
 * in a window that ended (http_audit.h), a daemon a reload replaced.
 */
void http_tick(struct http_server *h);
/*
 * SIGHUP: reads the certificate, key and client CA again and serves new
 * connections with them; open connections finish on the old ones (up to
 * 10 s). On an error the running ones stay, and it is logged.
 */
int http_reload(struct http_server *h);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include "alerting.h"
#include "catalog.h"
#include "coll_conf.h"

/*
 * The HTTP API (docs/api.md) on libmicrohttpd's thread pool. Every request
 * carries "Authorization: Bearer TOKEN"; handlers read the store through
 * their own storage_reader connections.
 */
struct http_server;

/* conf, alerting and catalog are borrowed and must outlive the server. */
int http_start(const struct coll_conf *conf, struct alerting *alerting, struct catalog *catalog,
	       struct http_server **ret);
void http_stop(struct http_server *h);

#endif

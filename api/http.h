/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include "alerts/alerting.h"
#include "api/accounts.h"
#include "api/audit.h"
#include "alerts/catalog.h"
#include "dialtests/dialer.h"
#include "dialtests/catalog.h"
#include "enroll/enroll.h"
#include "search/logmetric.h"
#include "store/hosts.h"
#include "store/storage.h"

/*
 * The HTTP API (docs/api.md) on libmicrohttpd's thread pool. Every request
 * carries "Authorization: Bearer TOKEN"; handlers read the store through
 * their own storage_reader connections.
 */
struct http_server;

/* [http] */
struct http_conf {
	char *listen;
	uint64_t threads;
	uint64_t connections;
	uint64_t per_address;
	uint64_t idle_timeout_ms;
	uint64_t max_limit;
	uint64_t scan_budget;
	uint64_t search_threads;
	uint64_t max_answer;
	char *tls_cert, *tls_key, *tls_client_ca;
	char *console_dir; /* the console's built files; NULL: none */
};

/* The configuration the API serves by; all borrowed, outliving the server. */
struct api_env {
	const struct http_conf *http;
	const struct storage_conf *storage;
	const struct hosts_conf *hosts;
	const struct audit_conf *audit;
	const struct users_conf *users;
	const char *ingest_listen; /* [ingest] listen= */
};

/* What the handlers act on besides the store; all borrowed, they must outlive the server. */
struct pgaudit;
struct http_deps {
	struct audit *audit;
	struct pgaudit *audit_shared; /* NULL: no shared store */
	struct alerting *alerting;
	struct catalog *catalog;
	struct config_groups *groups;
	struct dialtests *dialtests;
	struct dialer *dialer;
	const struct sealkey *seal_key; /* NULL: seals are not checked */
	struct enrollment *enrollment;  /* NULL: [enroll] enabled=no */
	enum hash_alg store_hash;
};

int http_start(const struct api_env *env, const struct http_deps *deps, struct http_server **ret);
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

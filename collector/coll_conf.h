/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_COLL_CONF_H
#define VIGIL_COLL_CONF_H

#include "alerts/alerting.h"
#include "alerts/defs.h"
#include "api/audit.h"
#include "api/http.h"
#include "common/conf.h"
#include "dialtests/catalog.h"
#include "enroll/ca.h"
#include "forward/forward.h"
#include "store/hosts.h"
#include "store/ingest.h"
#include "store/storage.h"
#include "syslog/receiver.h"

/*
 * collector.conf: one section per part of the collector, each part's struct
 * defined in its own header; this file holds the key tables (what each key
 * is, its default, bounds and help), the checks across parts, and nothing
 * that runs.
 */
struct coll_conf {
	struct ingest_conf ingest;
	struct storage_conf storage;
	struct http_conf http;
	struct hosts_conf hosts;
	struct alerts_conf alerts;
	struct dialtests_conf dialtests;
	struct audit_conf audit;
	struct users_conf users;
	struct alert_defs defs; /* the [rule], [notify], [route] and [logmetric] sections */
	struct forward_defs forwards; /* the [forward] sections */
	struct syslog_conf syslog;
	struct enroll_conf enroll;
};

/* Every section and key, for --list-config-keys. */
const struct conf_schema *coll_conf_schema(void);

/* Loads path; on error prints file:line messages to stderr. *ret is the caller's: coll_conf_free(). */
int coll_conf_load(const char *path, struct coll_conf **ret);
void coll_conf_free(struct coll_conf *c);

#endif

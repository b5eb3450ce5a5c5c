/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_INGEST_H
#define VIGIL_INGEST_H

#include "alerts/catalog.h"
#include "collector/coll_conf.h"
#include "store/storage.h"

/*
 * Receives batches on an nng REP socket with [ingest] contexts in parallel.
 * Each context verifies its batch on an nng thread (bounded decompression,
 * full decode), then hands it to the one writer thread, which stores a group
 * of batches per transaction and replies only after COMMIT.
 */
struct ingest;

/* Where the collector's own records (dial test results) come in, as an agent's would. */
#define INGEST_LOCAL_URL "inproc://vigil-collector-local"

/*
 * conf, storage and catalog are borrowed; storage is used by the writer
 * thread only. Each batch's log records are matched against the log rules
 * the catalog has when the batch arrives.
 */
int ingest_start(const struct coll_conf *conf, struct storage *storage, struct catalog *catalog,
		 struct ingest **ret);
/*
 * fn(userdata) is called on the writer thread after each commit that stored
 * what may change an alert: a probe result not ok or changed, or lines a log
 * rule matched.
 */
void ingest_on_stored(struct ingest *in, void (*fn)(void *userdata), void *userdata);
/* Stops receiving, lets the writer finish what it holds, and frees. NULL is fine. */
void ingest_stop(struct ingest *in);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_INGEST_H
#define VIGIL_INGEST_H

#include "coll_conf.h"
#include "storage.h"

/*
 * Receives batches on an nng REP socket with [ingest] contexts in parallel.
 * Each context verifies its batch on an nng thread (bounded decompression,
 * full decode), then hands it to the one writer thread, which stores a group
 * of batches per transaction and replies only after COMMIT.
 */
struct ingest;

/* conf and storage are borrowed; storage is used by the writer thread only. */
int ingest_start(const struct coll_conf *conf, struct storage *storage, struct ingest **ret);
/* Stops receiving, lets the writer finish what it holds, and frees. NULL is fine. */
void ingest_stop(struct ingest *in);

#endif

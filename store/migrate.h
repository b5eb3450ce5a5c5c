/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_MIGRATE_H
#define VIGIL_MIGRATE_H

#include <stdint.h>

#include "store/pgstore.h"
#include "store/storage.h"

/*
 * vigil-collector --migrate URL: copies the blocks of the SQLite store in
 * data_dir into the shared store on PostgreSQL that to names (docs/scale.md),
 * day by day in ingest order, each day's blocks in transactions of at most
 * MIGRATE_BATCH blocks. Resumable: a block that is there already (copied by
 * an earlier run cut short, or shipped to another collector) is a duplicate
 * and left as it is. Verified after each transaction: every block of the
 * store must be there under its (agent, seq) with a frame whose SHA-256,
 * computed by the database from what it stores, is the local frame's.
 * Each block copied goes with the rows the database derives from it (its
 * probe results, metric values and dial test runs: pgderived.h), decoded
 * again from its frame as ingest decoded it, so the history the API shows
 * reaches back past the move; the log metrics' rows do not (they are the
 * log metrics of the day they were stored). Then the fleet's state (pgstore_copy_fleet(): hosts, probes' latest
 * results), each row found there afterwards.
 */
#define MIGRATE_BATCH 64

struct migrate_report {
	unsigned days;
	uint64_t blocks;    /* in the SQLite store */
	uint64_t copied;    /* by this run */
	uint64_t present;   /* there already, the same frame */
	uint64_t conflicts; /* there with another frame (two agents with one id): not copied */
	uint64_t verified;  /* found with the same frame after its transaction */
	uint64_t unreadable; /* frames the SQLite store could not give */
	uint64_t underived;  /* frames copied whose rows could not be derived again (they do not decode) */
	struct pgstore_fleet_copy fleet;
};

/* 0 when every block, host and probe is there and verified; -EUCLEAN when some is not (the report says which kind); else -errno. */
int storage_migrate(const char *data_dir, const struct storage_conf *to, struct migrate_report *ret);

#endif

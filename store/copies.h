/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_COPIES_H
#define VIGIL_COPIES_H

#include <stddef.h>
#include <stdint.h>

#include "store/pgstore.h"
#include "store/sealing.h"
#include "store/storage.h"

/*
 * --verify of a collector on PostgreSQL: the database serves what the
 * collectors stored there (the API, the console, the security center's
 * pulls), and its blocks carry no chain; each collector's own store does.
 * So every block of this collector's own store, which its chain vouches
 * for, must be in the database under its (agent, seq), with a frame whose
 * SHA-256 the database computes from the bytes it holds equal to the one
 * computed here: else it was altered there, or deleted (or its batch was
 * never acknowledged, when the database refused it and its agent gave up).
 * Checked COPIES_BATCH at a time; each problem (up to max_problems) told
 * to problem() with its day and block in this store. A running collector
 * writes a block here and then there: one received in the last
 * COPIES_SETTLE_US and not there yet is pending, no problem.
 */
#define COPIES_BATCH 500
#define COPIES_SETTLE_US (10 * UINT64_C(1000000))

struct copies_report {
	uint64_t checked, same, altered, missing, pending;
};

int storage_verify_copies(struct storage_reader *rd, const struct storage_conf *c, size_t max_problems,
			  void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata), void *userdata,
			  struct copies_report *ret);

/* The seals' view of the shared store for --verify (sealing.h): its blocks' hashes read through p, which outlives it. */
struct seal_shared copies_sealed(struct pgstore *p);

#endif

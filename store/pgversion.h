/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGVERSION_H
#define VIGIL_PGVERSION_H

#include <stdint.h>

#include "store/pg.h"

/*
 * A catalog the collectors share in the database (the definitions, the dial
 * tests), versioned: a change is a transaction that holds its version row
 * (FOR UPDATE, so every collector's change waits for the one before and is
 * judged against the last) and moves it on; a collector that sees the
 * version moved builds the catalog again. The version row is table's
 * (id 1, v), which its owner's schema makes.
 */
struct pg_versioned {
	struct pg_link link;
	const char *table; /* static: the program's own name, never input */
	bool in_tx;        /* a change is open: a lost connection is its end, never a new one under it */
};

/* A statement on the catalog's connection, in the change when one is open (pg_link_run_tx()). */
int pg_versioned_run(struct pg_versioned *p, const char *sql, const struct pg_param *params, int n, PGresult **ret);
/* Opens a change: the version it starts from into *ret (NULL: not wanted). */
int pg_versioned_begin(struct pg_versioned *p, uint64_t *ret);
/* Commits (r 0, the version moved on into *ret) or rolls back (r < 0, given back). */
int pg_versioned_end(struct pg_versioned *p, int r, uint64_t *ret);
/* The version now. */
int pg_versioned_get(struct pg_versioned *p, uint64_t *ret);

#endif

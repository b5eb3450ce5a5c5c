/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PG_H
#define VIGIL_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * PostgreSQL through libpq (docs/scale.md): connections, statements with
 * parameters (never text built from input), errors as negative errnos
 * with the server's SQLSTATE, and the dialect: the few statements that
 * differ between PostgreSQL and the databases that speak its protocol.
 * Only PostgreSQL itself is a dialect here; what another would need is in
 * docs/scale.md.
 */

/* Where the database is: a libpq URL, and the password in a file of its own (never in a config). */
struct pg_conf {
	const char *url;           /* postgresql://user@host:port/db?sslmode=verify-full&sslrootcert=…, or a socket */
	const char *password_file; /* NULL: none (peer or certificate authentication, or a passfile libpq finds) */
};

/*
 * Connects; on failure logs why (never the password) and returns -ECONNREFUSED,
 * -EACCES (authentication) or -EIO. The connection is the caller's: PQfinish().
 */
int pg_connect(const struct pg_conf *conf, PGconn **ret);

/* Statements with text parameters (NULL: SQL NULL) and binary ones (lengths given). */
struct pg_param {
	const char *value;
	int len;     /* 0: a text value, NUL-terminated */
	bool binary; /* value is len bytes of bytea */
};
#define PG_TEXT(s) { .value = (s) }

/*
 * Runs sql with params on c; *ret the result when it returns rows
 * (PGRES_TUPLES_OK), the caller's to PQclear(); NULL ret: none wanted.
 * Errors are negative: -EEXIST a unique violation or an object another
 * session made at the same moment (23505, 42P07, 42710), -EAGAIN a
 * serialization failure or deadlock (40001, 40P01: run the transaction
 * again), -EPIPE the connection is gone, -EIO anything else (logged with
 * its SQLSTATE and message once).
 */
int pg_run(PGconn *c, const char *sql, const struct pg_param *params, int n, PGresult **ret);
/* pg_run() of a statement that writes: how many rows it wrote into *ret_rows. */
int pg_run_count(PGconn *c, const char *sql, const struct pg_param *params, int n, long long *ret_rows);
/* SQL the program wrote itself, without parameters, one statement or several (schema, BEGIN, COMMIT). */
int pg_exec(PGconn *c, const char *sql);

/* Column col of row r of res (text format) as an integer; 0 for NULL. */
long long pg_int(const PGresult *res, int r, int col);

/* What differs between the databases that speak PostgreSQL's protocol. */
struct pg_dialect {
	const char *name;
	/* The id of the running transaction (assigned now), and the oldest one still running: 64-bit, never wrapping. */
	const char *xid_now, *xid_horizon;
	/* What makes a table the partition of parent for day [day, day+1) (days since the epoch), after CREATE TABLE name. */
	int (*partition_of)(const char *parent, unsigned day, char *out, size_t size);
};

/* The dialect of name ("postgresql"), or NULL. */
const struct pg_dialect *pg_dialect_find(const char *name);

#endif

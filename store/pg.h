/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PG_H
#define VIGIL_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * Connects, within PG_CONNECT_TIMEOUT seconds unless the URL says
 * connect_timeout=; on failure logs why (never the password) and returns
 * -ECONNREFUSED (not reached: refused, no such socket, no answer in
 * time), -EACCES (authentication) or -EIO. The connection is the caller's:
 * PQfinish().
 */
#define PG_CONNECT_TIMEOUT "5"
int pg_connect(const struct pg_conf *conf, PGconn **ret);

/*
 * A connection that comes back: made at its first use, and again at the
 * use after the server went away (a restart, a failover). The link owns
 * its copies of the URL and password file's path, and the connection.
 */
struct pg_link {
	char *url, *password_file;
	PGconn *c;                               /* NULL until connected, and after the server went away */
	int (*on_connect)(PGconn *c, void *ctx); /* on each new connection (the schema); NULL: nothing */
	void *ctx;
};
/* l with copies of conf's strings, not connected yet; -ENOMEM. */
int pg_link_init(struct pg_link *l, const struct pg_conf *conf);
/* 0 when l->c is connected (connecting, then on_connect, if it was not), or pg_connect()'s error. */
int pg_link_up(struct pg_link *l);
/* pg_link_init(), then on_connect(c, ctx) on each connection, connected now: pg_link_up()'s error (l freed). */
int pg_link_start(struct pg_link *l, const struct pg_conf *conf, int (*on_connect)(PGconn *c, void *ctx), void *ctx);
/* After a call's result r: -EPIPE, or a connection no longer up, drops it (the next pg_link_up() connects). r. */
int pg_link_settle(struct pg_link *l, int r);
/*
 * fn(c, ctx) on l's connection outside a transaction, as pg_link_run()
 * runs its statement (once more on a new connection when the one it had
 * was found gone): for calls of several statements (a lease's asking).
 */
int pg_link_call(struct pg_link *l, int (*fn)(PGconn *c, void *ctx), void *ctx);
void pg_link_free(struct pg_link *l);

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
#define PG_PARAMS_MAX 24 /* more: -E2BIG */
int pg_run(PGconn *c, const char *sql, const struct pg_param *params, int n, PGresult **ret);
/*
 * pg_run() on l outside a transaction: connected first if it was not, and
 * when the connection it had is found gone at this use (the server
 * restarted since the last one), run once more on a new one, so the first
 * asking after a restart is answered. Only for a statement that may run
 * twice (a read, or a write whose repeat does no harm): a server that went
 * away after running it and before answering runs it again.
 */
int pg_link_run(struct pg_link *l, const char *sql, const struct pg_param *params, int n, PGresult **ret);
/*
 * A statement of a store that opens transactions on l: outside one (in_tx
 * false) as pg_link_run(); inside one, a lost connection is the
 * transaction's end (-EPIPE), never a new connection under it.
 */
int pg_link_run_tx(struct pg_link *l, bool in_tx, const char *sql, const struct pg_param *params, int n,
		   PGresult **ret);
/* pg_run() of a statement that writes: how many rows it wrote into *ret_rows. */
int pg_run_count(PGconn *c, const char *sql, const struct pg_param *params, int n, long long *ret_rows);
/* SQL the program wrote itself, without parameters, one statement or several (schema, BEGIN, COMMIT). */
int pg_exec(PGconn *c, const char *sql);
/*
 * pg_exec() of schema SQL (CREATE … IF NOT EXISTS): two collectors creating
 * the same object at once, the loser's error (-EEXIST) is the winner's
 * object, and running it once more finds it there.
 */
int pg_schema(PGconn *c, const char *sql);

/*
 * An array parameter (a column of rows unnest() makes into rows, one
 * statement for many), its elements appended in PostgreSQL's text form to
 * a (reset) buf: pg_array_text()'s as valid UTF-8 (each byte of s that is
 * no part of a sequence, and NUL, as U+FFFD; s NULL: SQL NULL), then
 * pg_array_end() closes it and gives the text to send. -ENOBUFS past the
 * buf's bound. pg_array_bytes(): an element of a bytea[] (v NULL: NULL).
 */
struct buf;
int pg_array_text(struct buf *a, const char *s, size_t len);
int pg_array_bytes(struct buf *a, const uint8_t *v, size_t len);
int pg_array_int(struct buf *a, long long v);
const char *pg_array_end(struct buf *a);

/* A number as the text parameter it is sent as; kept in a variable of its own while the statement runs. */
struct pg_num {
	char s[24];
};
struct pg_num pg_num(long long v);

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

/*
 * A table partitioned by day (PARTITION BY RANGE (day)) has a partition
 * parent_DAY for each: pg_partition_make() makes day's (outside a
 * transaction that writes into it), pg_partition_drop() drops it (with
 * its rows: retention), pg_partitions_before() lists the days of those
 * before cutoff, oldest first, a row each in *ret (column 0).
 */
int pg_partition_make(PGconn *c, const struct pg_dialect *d, const char *parent, uint32_t day);
int pg_partition_drop(PGconn *c, const char *parent, uint32_t day);
int pg_partitions_before(PGconn *c, const char *parent, uint32_t cutoff, PGresult **ret);

/* The dialect of name ("postgresql"), or NULL. */
const struct pg_dialect *pg_dialect_find(const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/file.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/pg.h"

#define PASSWORD_MAX 1024

/* The first line of the password file, into pw; -errno, logged. */
static int read_password(const char *path, char *pw, size_t size)
{
	char *text = NULL;
	struct stat st;
	int r;

	/* A password others can read is no longer the collector's: said before it is used. */
	if (stat(path, &st) == 0 && (st.st_mode & 0007))
		return log_error_errno(EACCES, "postgresql: the password file %s can be read by others (mode %04o): chmod o-rwx it",
				       path, (unsigned)(st.st_mode & 07777));
	r = file_read_text(path, PASSWORD_MAX, &text);
	if (r < 0)
		return log_error_errno(r, "postgresql: cannot read the password file %s: %m", path);
	text[strcspn(text, "\r\n")] = 0;
	(void)snprintf(pw, size, "%s", text);
	explicit_bzero(text, strlen(text));
	free(text);
	return 0;
}

/* The URL without its password, if it has one, for the log. */
static void url_for_log(const char *url, char *out, size_t size)
{
	const char *scheme = strstr(url, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;

	if (colon)
		(void)snprintf(out, size, "%.*s:***%s", (int)(colon - url), url, at);
	else
		(void)snprintf(out, size, "%s", url);
}

/* The server's notices ("already exists, skipping") are for the debug log, not stderr. */
static void on_notice(void *arg, const char *message)
{
	log_debug("postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

int pg_connect(const struct pg_conf *conf, PGconn **ret)
{
	/*
	 * Before dbname, so that the URL's own connect_timeout wins: without
	 * one a server that never answers (a host gone, a firewall dropping)
	 * would hold the caller, and whatever waits on it, for good.
	 */
	const char *keys[] = { "connect_timeout", "dbname", "password", "application_name", NULL };
	const char *values[] = { PG_CONNECT_TIMEOUT, conf->url, NULL, "vigil-collector", NULL };
	char pw[PASSWORD_MAX + 1] = "", where[1024];
	PGconn *c;
	int r = 0;

	if (conf->password_file && (r = read_password(conf->password_file, pw, sizeof(pw))) < 0)
		return r;
	values[2] = pw[0] ? pw : NULL;
	/* expand_dbname: the URL in dbname is parsed as a connection string. */
	c = PQconnectdbParams(keys, values, 1);
	explicit_bzero(pw, sizeof(pw));
	if (!c)
		return -ENOMEM;
	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);

		url_for_log(conf->url, where, sizeof(where));
		r = strstr(m, "authentication") || strstr(m, "password") ? -EACCES
		    : strstr(m, "refused") || strstr(m, "No such file") || strstr(m, "timeout") ? -ECONNREFUSED
									   : -EIO;
		log_error("postgresql: cannot connect to %s: %.*s", where, (int)strcspn(m, "\n"), m);
		PQfinish(c);
		return r;
	}
	(void)PQsetNoticeProcessor(c, on_notice, NULL);
	*ret = c;
	return 0;
}

int pg_link_init(struct pg_link *l, const struct pg_conf *conf)
{
	*l = (struct pg_link){ .url = strdup(conf->url ? conf->url : "") };
	if (conf->password_file)
		l->password_file = strdup(conf->password_file);
	if (!l->url || (conf->password_file && !l->password_file)) {
		pg_link_free(l);
		return -ENOMEM;
	}
	return 0;
}

int pg_link_up(struct pg_link *l)
{
	int r;

	if (l->c)
		return 0;
	r = pg_connect(&(struct pg_conf){ .url = l->url, .password_file = l->password_file }, &l->c);
	if (r == 0 && l->on_connect && (r = l->on_connect(l->c, l->ctx)) < 0) {
		PQfinish(l->c);
		l->c = NULL;
	}
	return r;
}

int pg_link_start(struct pg_link *l, const struct pg_conf *conf, int (*on_connect)(PGconn *c, void *ctx), void *ctx)
{
	int r = pg_link_init(l, conf);

	l->on_connect = on_connect;
	l->ctx = ctx;
	if (r == 0 && (r = pg_link_up(l)) < 0)
		pg_link_free(l);
	return r;
}

int pg_link_settle(struct pg_link *l, int r)
{
	if (r == -EPIPE || (l->c && PQstatus(l->c) != CONNECTION_OK)) {
		PQfinish(l->c);
		l->c = NULL;
	}
	return r;
}

int pg_schema(PGconn *c, const char *sql)
{
	int r = pg_exec(c, sql);

	return r == -EEXIST ? pg_exec(c, sql) : r;
}

int pg_link_call(struct pg_link *l, int (*fn)(PGconn *c, void *ctx), void *ctx)
{
	bool had = l->c != NULL;
	int r = pg_link_up(l);

	r = pg_link_settle(l, r < 0 ? r : fn(l->c, ctx));
	if (r == -EPIPE && had && (r = pg_link_up(l)) == 0)
		r = pg_link_settle(l, fn(l->c, ctx));
	return r;
}

/* A statement of pg_link_run(), as pg_link_call() calls it. */
struct link_statement {
	const char *sql;
	const struct pg_param *params;
	int n;
	PGresult **ret;
};

static int run_statement(PGconn *c, void *ctx)
{
	const struct link_statement *s = ctx;

	return pg_run(c, s->sql, s->params, s->n, s->ret);
}

int pg_link_run(struct pg_link *l, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	struct link_statement s = { sql, params, n, ret };

	return pg_link_call(l, run_statement, &s);
}

int pg_link_run_tx(struct pg_link *l, bool in_tx, const char *sql, const struct pg_param *params, int n,
		   PGresult **ret)
{
	if (!in_tx)
		return pg_link_run(l, sql, params, n, ret);
	return pg_link_settle(l, l->c ? pg_run(l->c, sql, params, n, ret) : -EPIPE);
}

void pg_link_free(struct pg_link *l)
{
	PQfinish(l->c);
	free(l->url);
	free(l->password_file);
	*l = (struct pg_link){ 0 };
}

static int errno_of(PGconn *c, const PGresult *res, const char *sql)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);

	if (PQstatus(c) != CONNECTION_OK)
		return -EPIPE;
	/* A unique key, or an object made by another session at the same moment (CREATE … IF NOT EXISTS races). */
	if (state && (strcmp(state, "23505") == 0 || strcmp(state, "42P07") == 0 || strcmp(state, "42710") == 0))
		return -EEXIST;
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		return -EAGAIN;
	log_error("postgresql: %s: %.*s (SQLSTATE %s)", sql, (int)strcspn(msg, "\n"), msg, state ? state : "none");
	return -EIO;
}

/* The one place a statement with parameters is sent; its result, whatever it is, into *ret (the caller's). */
static int run(PGconn *c, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	const char *values[PG_PARAMS_MAX];
	int lens[PG_PARAMS_MAX], formats[PG_PARAMS_MAX], r = 0;
	PGresult *res;
	ExecStatusType st;

	if (n > (int)ARRAY_SIZE(values))
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		values[i] = params[i].value;
		lens[i] = params[i].len;
		formats[i] = params[i].binary;
	}
	res = PQexecParams(c, sql, n, NULL, values, lens, formats, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		r = errno_of(c, res, sql);
	if (r == 0)
		*ret = TAKE_PTR(res);
	PQclear(res);
	return r;
}

int pg_run(PGconn *c, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	PGresult *res = NULL;
	int r = run(c, sql, params, n, &res);

	if (r == 0 && ret && PQresultStatus(res) == PGRES_TUPLES_OK)
		*ret = TAKE_PTR(res);
	PQclear(res);
	return r;
}

int pg_run_count(PGconn *c, const char *sql, const struct pg_param *params, int n, long long *ret_rows)
{
	PGresult *res = NULL;
	int r = run(c, sql, params, n, &res);

	if (r == 0)
		*ret_rows = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return r;
}

struct pg_num pg_num(long long v)
{
	struct pg_num n;

	(void)snprintf(n.s, sizeof(n.s), "%lld", v);
	return n;
}

/* Opens the array, or separates the element to come from the one before. */
static int array_next(struct buf *a)
{
	return buf_putc(a, a->len ? ',' : '{');
}

int pg_array_text(struct buf *a, const char *s, size_t len)
{
	int r = array_next(a);

	if (r == 0 && !s)
		return buf_append(a, "NULL", 4);
	if (r == 0)
		r = buf_putc(a, '"');
	for (size_t i = 0, k, n; r == 0 && i < len; i += k) {
		const char *put;

		k = utf8_valid_char(s + i, len - i, &put, &n);
		/* Inside quotes only '"' and '\\' need a backslash. */
		if (*put == '"' || *put == '\\')
			r = buf_putc(a, '\\');
		if (r == 0)
			r = buf_append(a, put, n);
	}
	return r == 0 ? buf_putc(a, '"') : r;
}

int pg_array_bytes(struct buf *a, const uint8_t *v, size_t len)
{
	char small[2 * 64 + 3], *hex = small;
	int r;

	if (!v)
		return pg_array_text(a, NULL, 0);
	/* An agent id or a digest (a row's every time) on the stack; a sketch on the heap. */
	if (len > 64 && !(hex = malloc(2 * len + 3)))
		return -ENOMEM;
	/* bytea's hex input ("\x…"), an element of the array's text. */
	hex[0] = '\\';
	hex[1] = 'x';
	hex_encode(v, len, hex + 2);
	r = pg_array_text(a, hex, 2 * len + 2);
	if (hex != small)
		free(hex);
	return r;
}

int pg_array_int(struct buf *a, long long v)
{
	int r = array_next(a);

	return r == 0 ? buf_printf(a, "%lld", v) : r;
}

const char *pg_array_end(struct buf *a)
{
	int r = a->len ? 0 : buf_putc(a, '{');

	if (r == 0)
		r = buf_putc(a, '}');
	if (r == 0)
		r = buf_terminate(a);
	return r == 0 ? (const char *)a->data : NULL;
}

int pg_exec(PGconn *c, const char *sql)
{
	/* PQexec: the schema is several statements, which a statement with parameters may not be. */
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : errno_of(c, res, sql);

	PQclear(res);
	return r;
}

long long pg_int(const PGresult *res, int r, int col)
{
	return PQgetisnull(res, r, col) ? 0 : strtoll(PQgetvalue(res, r, col), NULL, 10);
}

static int postgresql_partition(const char *parent, unsigned day, char *out, size_t size)
{
	int n = snprintf(out, size, "PARTITION OF %s FOR VALUES FROM (%u) TO (%u)", parent, day, day + 1);

	return n > 0 && (size_t)n < size ? 0 : -E2BIG;
}

static const struct pg_dialect dialects[] = {
	/* txid_*: PostgreSQL 9.4 to 17 (pg_current_xact_id() and xid8 are 13's new names for them). */
	{ "postgresql", "txid_current()", "txid_snapshot_xmin(txid_current_snapshot())", postgresql_partition },
};

int pg_partition_make(PGconn *c, const struct pg_dialect *d, const char *parent, uint32_t day)
{
	char of[256], sql[512];
	int r = d->partition_of(parent, day, of, sizeof(of));

	if (r == 0) {
		(void)snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS %s_%" PRIu32 " %s", parent, day, of);
		r = pg_schema(c, sql);
	}
	return r;
}

int pg_partition_drop(PGconn *c, const char *parent, uint32_t day)
{
	char sql[192];

	(void)snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s_%" PRIu32, parent, day);
	return pg_exec(c, sql);
}

int pg_partitions_before(PGconn *c, const char *parent, uint32_t cutoff, PGresult **ret)
{
	const struct pg_num cut = pg_num(cutoff), from = pg_num((long long)strlen(parent) + 2);
	char pattern[128];
	const struct pg_param p[] = { PG_TEXT(parent), PG_TEXT(pattern), PG_TEXT(from.s), PG_TEXT(cut.s) };

	/* The days from the catalogue's names (parent_DAY), numbers only. */
	(void)snprintf(pattern, sizeof(pattern), "^%s_[0-9]+$", parent);
	return pg_run(c, "SELECT substr(c.relname, $3::integer)::integer AS day FROM pg_inherits i"
			 " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass AND c.relname ~ $2"
			 " AND substr(c.relname, $3::integer)::integer < $4::integer ORDER BY day",
		      p, ARRAY_SIZE(p), ret);
}

const struct pg_dialect *pg_dialect_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(dialects); i++)
		if (strcmp(dialects[i].name, name) == 0)
			return &dialects[i];
	return NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "common/util.h"
#include "forward/forward-internal.h"

#define F(f) offsetof(struct forward_conf, f)

static const struct conf_key forward_keys[] = {
	{ "type", CONF_STR, F(type), "syslog", .help = "syslog" },
	{ "what", CONF_STR, F(what), "logs", .help = "logs (the stored records filter= and kind= take), alerts (every alert's events: fired, acknowledged, resolved, ...) audit (the audit log) or seals (the store's seals as they are made: an outside witness, docs/storage.md)" },
	{ "url", CONF_STR, F(url), NULL, .required = true, .help = "the receiver: tcp://HOST:PORT, tls://HOST:PORT (RFC 5425), udp://HOST:PORT, relp://HOST:PORT (RELP: each message acknowledged by the receiving program) or relp+tls://HOST:PORT (RELP over TLS); [IPv6]:PORT" },
	{ "framing", CONF_STR, F(framing), "octet-counted", .help = "on tcp:// and tls://: octet-counted (RFC 6587 3.4.1, what RFC 5425 asks) or lf (a line feed after each message; one inside a message is sent as #012)" },
	{ "format", CONF_STR, F(format), "rfc5424", .help = "rfc5424 (the record's id in structured data), cef or leef (the same header, then ArcSight's CEF 0 or QRadar's LEEF 1.0), or json (the API's item: id, ts, host, source, message, fields)" },
	{ "filter", CONF_STR, F(filter), NULL, .help = "which records: the log query language (docs/logs.md), e.g. unit:sshd.service OR priority:<=3; default all" },
	{ "kind", CONF_STR, F(kind), "log", .help = "log (lines from files and the journal), probe, metric, dialtest, ... or any" },
	{ "start", CONF_STR, F(start), "oldest", .help = "where a forwarder with no position yet begins: oldest (every record kept) or now (what is stored from now on)" },
	{ "sd_id", CONF_STR, F(sd_id), "vigil@32473", .help = "rfc5424: the structured data element holding the record's id (name@ your organisation's IANA enterprise number; 32473 is the number for examples)" },
	{ "tls_ca", CONF_STR, F(tls_ca), NULL, .help = "tls:// and relp+tls://: the CA (PEM) the receiver's certificate must chain to (default: the system's)" },
	{ "tls_cert", CONF_STR, F(tls_cert), NULL, .help = "tls:// and relp+tls://: a client certificate (PEM) for receivers that ask for one (mutual TLS)" },
	{ "tls_key", CONF_STR, F(tls_key), NULL, .help = "tls:// and relp+tls://: the client certificate's private key (PEM)" },
	{ "tls_server_name", CONF_STR, F(tls_server_name), NULL, .help = "tls:// and relp+tls://: the name the receiver's certificate must hold (default the URL's host)" },
	{ "batch", CONF_UINT, F(batch), "1000", 1, 100000, .help = "records read, sent and acknowledged at a time; the position moves by batches" },
	{ "rate", CONF_UINT, F(rate), "0", 0, 10000000, .help = "messages a second at most (0: as fast as the receiver takes them)" },
	{ "max_message", CONF_SIZE, F(max_message), "8K", 480, 1024 * 1024, .help = "bytes of a message at most (rsyslog's default is 8K); a longer one is cut and counted" },
	{ "timeout", CONF_SECS, F(timeout_ms), "10s", 100, 600000, .help = "for connecting, sending, and the receiver's TCP acknowledging what was sent" },
	{ "retry_max", CONF_SECS, F(retry_max_ms), "30s", 100, 3600000, .help = "the longest wait between attempts while the receiver is away (doubling from 1s)" },
};

const struct conf_section forward_section = { "forward", true, forward_keys, ARRAY_SIZE(forward_keys), 0, NULL };

_Static_assert(offsetof(struct forward_conf, name) == 0, "conf_named_append: the name comes first");

struct forward_conf *forward_defs_add(struct forward_defs *d, const char *name)
{
	return conf_named_append((void ***)&d->list, &d->n, sizeof(struct forward_conf), name);
}

void forward_defs_free(struct forward_defs *d)
{
	conf_named_free((void **)d->list, d->n, &forward_section);
	*d = (struct forward_defs){ 0 };
}

static bool one_of(const char *v, const char *a, const char *b)
{
	return v && (strcmp(v, a) == 0 || strcmp(v, b) == 0);
}

/* Adds "where key is: [forward "NAME"] key=value: message" to errs. */
static void key_error(const struct forward_conf *f, const struct conf_origin *o, const char *key, const char *value,
		      const char *why, struct conf_errors *errs)
{
	char where[4200];

	conf_error_add(errs, conf_origin_where(o, f, key, where, sizeof(where)), "[forward \"%s\"]%s%s%s%s: %s", f->name,
		       key ? " " : "", key ? key : "", value ? "=" : "", value ? value : "", why);
}

/* What a forwarder of events (what=alerts, audit or seals) cannot take: the log records' filter and formats. */
static void check_events(const struct forward_conf *f, const struct conf_origin *o, struct conf_errors *errs)
{
	if (f->filter)
		key_error(f, o, "filter", NULL, "is for what=logs", errs);
	if (strcmp(f->kind, "log") != 0)
		key_error(f, o, "kind", f->kind, "is for what=logs", errs);
	if (forward_format_find(f->format) && strcmp(f->format, "rfc5424") && strcmp(f->format, "json"))
		key_error(f, o, "format", f->format, "what=alerts, audit and seals are sent as rfc5424 or json", errs);
}

/* A file the forwarder reads at each connection: there now, or said at once rather than at each attempt. */
static void check_readable(const struct forward_conf *f, const struct conf_origin *o, const char *key,
			   const char *path, struct conf_errors *errs)
{
	char why[300];

	if (!path || access(path, R_OK) == 0)
		return;
	(void)snprintf(why, sizeof(why), "cannot read it: %s", strerror(errno));
	key_error(f, o, key, path, why, errs);
}

void forward_conf_check(const struct forward_conf *f, const struct conf_origin *o, struct conf_errors *errs)
{
	char why[512];
	struct query *q;

	if (strspn(f->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(f->name))
		key_error(f, o, NULL, NULL, "a name of letters, digits, '_', '.' and '-'", errs);
	if (!f->type || strcmp(f->type, "syslog") != 0)
		key_error(f, o, "type", f->type, "expected syslog", errs);
	if (!forward_source_find(f->what))
		key_error(f, o, "what", f->what, "expected " FORWARD_SOURCE_NAMES, errs);
	else if (strcmp(f->what, "logs") != 0)
		check_events(f, o, errs);
	if (f->url && forward_url_check(f->url, why, sizeof(why)) < 0)
		key_error(f, o, "url", f->url, why, errs);
	if (!one_of(f->framing, "octet-counted", "lf"))
		key_error(f, o, "framing", f->framing, "expected octet-counted or lf", errs);
	if (!forward_format_find(f->format)) {
		(void)snprintf(why, sizeof(why), "expected one of %s", forward_format_names());
		key_error(f, o, "format", f->format, why, errs);
	}
	if (!one_of(f->start, "oldest", "now"))
		key_error(f, o, "start", f->start, "expected oldest or now", errs);
	if (!f->sd_id || !forward_sd_id_valid(f->sd_id))
		key_error(f, o, "sd_id", f->sd_id, "expected 1 to 32 printable characters but '=', ']', '\"'", errs);
	if (f->filter && query_parse(f->filter, &q, why, sizeof(why)) < 0)
		key_error(f, o, "filter", NULL, why, errs);
	else if (f->filter)
		query_free(q);
	if ((f->tls_ca || f->tls_cert || f->tls_key || f->tls_server_name) && f->url && strncmp(f->url, "tls://", 6) &&
	    strncmp(f->url, "relp+tls://", 11))
		key_error(f, o, f->tls_ca ? "tls_ca" : f->tls_cert ? "tls_cert" : f->tls_key ? "tls_key" : "tls_server_name",
			  NULL, "tls_ca=, tls_cert=, tls_key= and tls_server_name= are for tls:// and relp+tls://", errs);
	if (!f->tls_cert != !f->tls_key)
		key_error(f, o, f->tls_cert ? "tls_cert" : "tls_key", NULL, "tls_cert= and tls_key= go together", errs);
	check_readable(f, o, "tls_ca", f->tls_ca, errs);
	check_readable(f, o, "tls_cert", f->tls_cert, errs);
	check_readable(f, o, "tls_key", f->tls_key, errs);
}

#define RETRY_FIRST_MS 1000
/* How often a forwarder that has sent everything looks for more. */
#define IDLE_MS 1000

/* Waits ms or until stopped; whether to go on. */
static bool pause_ms(struct forwarders *o, uint64_t ms)
{
	struct timespec at = deadline_after_ms(CLOCK_MONOTONIC, ms);
	bool go;

	pthread_mutex_lock(&o->lock);
	while (!o->stopping && pthread_cond_timedwait(&o->wake, &o->lock, &at) == 0)
		;
	go = !o->stopping;
	pthread_mutex_unlock(&o->lock);
	return go;
}

/* How many are after the position (a gauge: a failure to count keeps the last count). */
static void note_behind(struct forwarder *f)
{
	uint64_t n;

	if (f->src->behind && f->src->behind(f, &n) == 0)
		atomic_store(&f->stats.behind, n);
}

/* The position and how the forwarder fares into forward_positions; error: the last attempt's failure. */
static int save_state(struct forwarder *f, const char *error)
{
	char cursor[FORWARD_CURSOR_MAX + 1];

	struct forward_state s;

	note_behind(f);
	f->saved_lag_us = atomic_load(&f->stats.lag_us);
	f->src->format(&f->pos, cursor);
	s = (struct forward_state){ .name = f->conf->name, .cursor = f->has_pos ? cursor : NULL, .sent = f->sent,
				    .lag_us = atomic_load(&f->stats.lag_us), .behind = atomic_load(&f->stats.behind),
				    .updated = now_realtime_us(), .error = error };
	return f->pg ? pgstore_position_put(f->pg, &s) : forward_state_put(f->meta, &s);
}

/* A failed attempt: logged when the forwarder was working, counted and kept always, retried after a growing wait. */
static void attempt_failed(struct forwarder *f, int r, const char *err)
{
	char why[600];

	metrics_add(&f->stats.failures, 1);
	atomic_store(&f->stats.connected, false);
	forward_conn_close(TAKE_PTR(f->conn));
	(void)snprintf(why, sizeof(why), "%s (%s)", err, strerror(-r));
	if (!f->failing)
		log_warning("forward %s: %s: %s; retrying, falling behind meanwhile", f->conf->name, f->conf->url, why);
	f->failing = true;
	if ((r = save_state(f, why)) < 0)
		log_warning("forward %s: cannot note the failure: %s", f->conf->name, strerror(-r));
	(void)pause_ms(f->owner, f->retry_ms);
	f->retry_ms = MIN(f->retry_ms * 2, f->conf->retry_max_ms);
}

/* The page to the receiver and acknowledged by it; then the position may move past it. */
static int deliver(struct forwarder *f, struct page *p)
{
	const struct forward_target t = { f->conf->url, f->conf->tls_ca, f->conf->tls_cert, f->conf->tls_key,
					  f->conf->tls_server_name };
	char err[512] = "";
	uint64_t dropped = 0;
	int r = 0;

	if (!f->conn && (r = forward_conn_open(&t, (unsigned)f->conf->timeout_ms, &f->conn, err, sizeof(err))) == 0)
		atomic_store(&f->stats.connected, true);
	if (r == 0)
		r = forward_conn_send(f->conn, p->text.data, p->text.len, &dropped, err, sizeof(err));
	if (r == 0)
		r = forward_conn_settle(f->conn, (unsigned)f->conf->timeout_ms, &f->owner->stop, err, sizeof(err));
	/* Stopping: the page goes again at the next start, as after a crash. */
	if (r == -ECANCELED)
		return r;
	if (r < 0) {
		attempt_failed(f, r, err);
		return r;
	}
	metrics_add(&f->stats.dropped, dropped);
	metrics_add(&f->stats.sent, p->n);
	if (f->failing)
		log_notice("forward %s: %s takes records again", f->conf->name, f->conf->url);
	f->failing = false;
	f->retry_ms = RETRY_FIRST_MS;
	return 0;
}

/* The position past p, kept (and a lag that changed): what the filter did not take is passed over too. */
static int advance(struct forwarder *f, const struct page *p)
{
	const struct log_cursor *a = &p->next.log, *b = &f->pos.log;

	if (a->day == b->day && a->block == b->block && a->rec == b->rec && p->next.id == f->pos.id && !p->n &&
	    atomic_load(&f->stats.lag_us) == f->saved_lag_us)
		return 0;
	f->pos = p->next;
	f->has_pos = true;
	f->sent += p->n;
	return save_state(f, NULL);
}

/* The position kept (meta.db's, or the shared store's where the last to forward left it), or start= when none is. */
static int load_position(struct forwarder *f)
{
	char cursor[FORWARD_CURSOR_MAX + 1];
	struct forward_state kept;
	int r = f->pg ? pgstore_position_get(f->pg, f->conf->name, &kept, cursor, sizeof(cursor))
		      : forward_state_get(f->meta, f->conf->name, &kept, cursor);

	f->has_pos = false;
	f->pos = (struct position){ 0 };
	if (r == 1 && *cursor && f->src->parse(cursor, &f->pos) < 0)
		return log_error_errno(EBADMSG, "forward %s: its position, '%s', is not one of what=%s", f->conf->name,
				       cursor, f->conf->what);
	if (r == 1) {
		f->has_pos = *cursor != 0;
		f->sent = kept.sent;
	}
	if (r == 0 && strcmp(f->conf->start, "now") == 0 && (r = f->src->newest(f)) == 1)
		r = save_state(f, NULL);
	return r < 0 ? r : 0;
}

static int forwarder_open(struct forwarder *f)
{
	const struct storage_conf *s = f->owner->storage;
	int r = storage_reader_open(s->data_dir, &f->rd);

	if (r == 0 && f->src->shared)
		storage_reader_share(f->rd, s);
	if (r == 0 && (r = storage_reader_shared(f->rd, &f->pg)) > 0) {
		(void)snprintf(f->lease, sizeof(f->lease), "forward:%s", f->conf->name);
		process_name(f->holder, sizeof(f->holder));
		/* The position is the shared store's, read when this collector comes to forward. */
		return 0;
	}
	if (r == 0)
		r = storage_meta_connect(s->data_dir, s->sync, &f->meta);
	if (r == 0)
		r = forward_positions_schema(f->meta);
	return r == 0 ? load_position(f) : r;
}

/*
 * Whether this collector forwards now: always on its own store; on the
 * shared one while it holds the forwarder's lease. On taking it, the
 * position is where the last to hold it left it; on losing it, the
 * connection to the receiver goes (and what was read with it).
 */
static bool forward_leads(struct forwarder *f, bool *pending)
{
	bool was = f->leads;
	int r;

	if (!f->pg)
		return true;
	r = pgstore_lead(f->pg, f->lease, f->holder);
	f->leads = r == 1 && (was || load_position(f) == 0);
	if (f->leads && !was) {
		log_info("forward %s: this collector (%s) forwards now, from %s", f->conf->name, f->holder,
			 f->has_pos ? "its position" : "the start");
		atomic_store(&f->stats.sent, f->sent);
	}
	if (!f->leads && was) {
		log_info("forward %s: another collector forwards now; this one stands by", f->conf->name);
		forward_conn_close(TAKE_PTR(f->conn));
		atomic_store(&f->stats.connected, false);
		*pending = false;
	}
	if (r < 0 && !f->lead_failing)
		log_warning("forward %s: cannot tell which collector forwards: %s", f->conf->name, strerror(-r));
	f->lead_failing = r < 0;
	return f->leads;
}

/* Waits until the rate allows n more messages sent since t0 (monotonic µs). */
static bool keep_rate(struct forwarder *f, uint64_t t0, size_t n)
{
	uint64_t due = t0 + n * USEC_PER_SEC / (f->conf->rate ? f->conf->rate : 1), now = now_monotonic_us();

	return !f->conf->rate || due <= now || pause_ms(f->owner, (due - now + 999) / 1000);
}

/*
 * One turn: the next page read (unless one waits to be acknowledged), sent,
 * and the position moved past it; then a pause when the store has nothing
 * more. Whether to go on (false: stopping).
 */
static bool forward_turn(struct forwarder *f, struct page *p, bool *pending)
{
	uint64_t t0 = now_monotonic_us(), now = now_realtime_us();
	int more = 0, r;

	if (!forward_leads(f, pending))
		return pause_ms(f->owner, IDLE_MS);
	if (!*pending && (more = f->src->read(f, p)) < 0) {
		char cursor[FORWARD_CURSOR_MAX + 1];
		f->src->format(&f->pos, cursor);
		if (!f->read_failing)
			log_warning("forward %s: cannot read %s after %s: %s", f->conf->name, f->conf->what,
				    f->has_pos ? cursor : "the start",
				    more == -ERANGE ? "the position is past what is stored (was the store replaced?)"
						    : strerror(-more));
		f->read_failing = true;
		return pause_ms(f->owner, IDLE_MS);
	}
	f->read_failing = false;
	atomic_store(&f->stats.lag_us, p->n && p->oldest_ts ? now - MIN(p->oldest_ts, now) : 0);
	*pending = p->n && deliver(f, p) < 0;
	if (*pending)
		return pause_ms(f->owner, 0);
	if (more)
		atomic_store(&f->stats.lag_us, 0);
	/* The receiver has the page: going on is right; a restart before the next write sends it again. */
	if ((r = advance(f, p)) < 0)
		log_warning("forward %s: cannot keep its position: %s", f->conf->name, strerror(-r));
	return keep_rate(f, t0, p->n) && (!more || pause_ms(f->owner, IDLE_MS));
}

static void *forwarder_main(void *arg)
{
	struct forwarder *f = arg;
	struct page p = { .n = 0 };
	bool pending = false;
	int r = forwarder_open(f);

	/* The count goes on from what the position kept: records acknowledged over the forwarder's life. */
	atomic_store(&f->stats.sent, f->sent);
	if (r < 0) {
		log_error("forward %s: cannot read the store: %s; this forwarder does not run", f->conf->name,
			  strerror(-r));
		return NULL;
	}
	buf_init(&p.text, SIZE_MAX / 2);
	while (forward_turn(f, &p, &pending))
		;
	buf_free(&p.text);
	return NULL;
}

#define S(f) offsetof(struct forward_stats, f)

/* The forwarders' counters and gauges in the Prometheus text format, labelled by name (GET /metrics). */
static int render_metrics(struct buf *out, void *ctx)
{
	static const struct {
		const char *name, *type, *help;
		size_t offset; /* of its atomic_uint_fast64_t in struct forward_stats */
		bool us_as_seconds;
	} rows[] = {
		{ "vigil_forward_records_total", "counter", "Records the receiver acknowledged, since the forwarder began.",
		  S(sent), false },
		{ "vigil_forward_truncated_total", "counter", "Messages cut to max_message.", S(truncated), false },
		{ "vigil_forward_dropped_total", "counter", "Datagrams the network refused (udp://).", S(dropped), false },
		{ "vigil_forward_failures_total", "counter", "Attempts that failed (each retried: nothing is skipped).",
		  S(failures), false },
		{ "vigil_forward_expired_days_total", "counter",
		  "Days retention removed before the forwarder had sent them whole (logged).", S(expired), false },
		{ "vigil_forward_lag_seconds", "gauge", "The age of the oldest record not yet acknowledged (0: caught up).",
		  S(lag_us), true },
		{ "vigil_forward_behind_records", "gauge",
		  "Records stored after the forwarder's position (before its filter).", S(behind), false },
		{ "vigil_forward_connected", "gauge", "Whether the forwarder holds a connection to its receiver.",
		  S(connected), false },
	};
	struct forwarders *o = ctx;
	int r = 0;

	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		r |= buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", rows[k].name, rows[k].help, rows[k].name, rows[k].type);
		for (size_t i = 0; i < o->n; i++) {
			const void *at = (const uint8_t *)&o->fw[i].stats + rows[k].offset;
			uint64_t v = atomic_load((const atomic_uint_fast64_t *)at);
			r |= rows[k].us_as_seconds ? buf_printf(out, "%s{forward=\"%s\"} %.3f\n", rows[k].name,
								 o->fw[i].conf->name, (double)v / 1e6)
						   : buf_printf(out, "%s{forward=\"%s\"} %" PRIu64 "\n", rows[k].name,
								 o->fw[i].conf->name, v);
		}
	}
	return r;
}

static int forwarder_init(struct forwarder *f, struct forwarders *o, const struct forward_conf *c)
{
	char err[512];

	f->conf = c;
	f->src = forward_source_find(c->what);
	f->owner = o;
	f->retry_ms = RETRY_FIRST_MS;
	f->style = (struct forward_style){ .format = forward_format_find(c->format),
					   .octet_counted = forward_url_frames(c->url) ||
							    strcmp(c->framing, "octet-counted") == 0,
					   .max_message = c->max_message, .sd_id = c->sd_id,
					   .truncated = &f->stats.truncated };
	if (c->filter && query_parse(c->filter, &f->filter, err, sizeof(err)) < 0)
		return log_error_errno(EINVAL, "forward %s: filter: %s", c->name, err);
	return 0;
}

static void forwarders_free(struct forwarders *o)
{
	for (size_t i = 0; i < o->n; i++) {
		struct forwarder *f = &o->fw[i];
		forward_conn_close(f->conn);
		storage_reader_free(f->rd);
		db_close(f->meta);
		query_free(f->filter);
	}
	pthread_cond_destroy(&o->wake);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* Forwarders taken out of the configuration are no longer behind (their alerts go); their positions stay. */
static int retire_others(const struct forward_defs *d, const struct storage_conf *storage)
{
	const char **names = calloc(d->n + 1, sizeof(*names));
	sqlite3 *meta = NULL;
	int r = names ? storage_meta_connect(storage->data_dir, storage->sync, &meta) : -ENOMEM;

	for (size_t i = 0; i < d->n && names; i++)
		names[i] = d->list[i]->name;
	if (r == 0)
		r = forward_positions_schema(meta);
	if (r == 0)
		r = forward_states_retire(meta, names, d->n);
	db_close(meta);
	free(names);
	return r;
}

int forwarders_start(const struct forward_defs *d, const struct storage_conf *storage,
		     const struct forward_sources *sources, struct forwarders **ret)
{
	struct forwarders *o;
	pthread_condattr_t ca;
	int r = retire_others(d, storage);

	*ret = NULL;
	if (r < 0)
		return log_error_errno(r, "cannot read the forwarders' positions in meta.db: %m");
	if (!d->n)
		return 0;
	o = calloc(1, sizeof(*o) + d->n * sizeof(o->fw[0]));
	if (!o)
		return -ENOMEM;
	o->storage = storage;
	o->sources = *sources;
	if (gethostname(o->host, sizeof(o->host) - 1) < 0)
		(void)snprintf(o->host, sizeof(o->host), "-");
	o->n = d->n;
	(void)pthread_mutex_init(&o->lock, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&o->wake, &ca);
	(void)pthread_condattr_destroy(&ca);
	for (size_t i = 0; r == 0 && i < d->n; i++)
		r = forwarder_init(&o->fw[i], o, d->list[i]);
	for (size_t i = 0; r == 0 && i < d->n; i++) {
		r = -pthread_create(&o->fw[i].thread, NULL, forwarder_main, &o->fw[i]);
		o->fw[i].started = r == 0;
	}
	if (r < 0) {
		forwarders_stop(o);
		return log_error_errno(r, "cannot start the forwarders: %m");
	}
	metrics_set_extra(render_metrics, o);
	*ret = o;
	return 0;
}

void forwarders_stop(struct forwarders *o)
{
	if (!o)
		return;
	metrics_set_extra(NULL, NULL);
	pthread_mutex_lock(&o->lock);
	o->stopping = true;
	atomic_store(&o->stop, true);
	pthread_cond_broadcast(&o->wake);
	pthread_mutex_unlock(&o->lock);
	for (size_t i = 0; i < o->n; i++)
		if (o->fw[i].started)
			(void)pthread_join(o->fw[i].thread, NULL);
	forwarders_free(o);
}

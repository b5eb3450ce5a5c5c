/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "forward/forward-internal.h"
#include "store/seals.h"
#include "store/shards.h"

/*
 * What a forwarder reads, what= (logs, alerts, audit): each reads its next
 * page after the position, framed for the receiver, and says where it is as
 * text (forward_positions' cursor).
 */

/* The scan budget of a page: a filter that takes little stops at this many decompressed bytes, and goes on. */
#define PAGE_BUDGET (64u << 20)

static uint32_t page_limit(const struct forwarder *f)
{
	return (uint32_t)(f->conf->rate && f->conf->rate < f->conf->batch ? f->conf->rate : f->conf->batch);
}

/*
 * A position in a day retention removed (the forwarder was behind by more
 * than retention_days): what was left of that day is gone unsent. Said and
 * counted once a day lost; the read goes on from the next day kept.
 */
static void note_expired(struct forwarder *f)
{
	sqlite3 *meta = storage_reader_meta(f->rd);
	uint32_t day = f->pos.log.day, newest = 0;

	/* A day after the newest is no day retention removed: the read says what is wrong with it. */
	if (!f->has_pos || day == f->expired_day || shards_known(meta, day) || shards_newest(meta, &newest) < 0 ||
	    day > newest)
		return;
	f->expired_day = day;
	metrics_add(&f->stats.expired, 1);
	log_warning("forward %s: the day of its position (%u) was removed by retention before it was sent: what was "
		    "left of it is not forwarded (vigil_forward_expired_days_total); going on from the next day kept",
		    f->conf->name, day);
}

static int logs_read(struct forwarder *f, struct page *p)
{
	struct log_query q = { .match = f->filter, .kind = strcmp(f->conf->kind, "any") ? f->conf->kind : NULL,
			       .limit = page_limit(f), .has_cursor = f->has_pos, .after = f->pos.log,
			       .scan_budget = PAGE_BUDGET, .threads = 1, .render = forward_render,
			       .render_ctx = &f->style };
	struct log_result res;
	int r;

	p->oldest_ts = 0;
	f->style.oldest_ts = &p->oldest_ts;
	note_expired(f);
	r = log_query_run(f->rd, &q, &res);
	if (r < 0)
		return r;
	buf_free(&p->text);
	p->text = res.items;
	p->n = res.n_items;
	p->next = f->pos;
	if (res.blocks || res.skipped)
		p->next.log = res.next;
	return res.complete;
}

static int logs_newest(struct forwarder *f)
{
	struct log_query q = { .limit = 1, .newest_first = true, .scan_budget = PAGE_BUDGET, .threads = 1 };
	struct log_result res;
	int r = log_query_run(f->rd, &q, &res);

	if (r < 0)
		return r;
	buf_free(&res.items);
	if (!res.n_items)
		return 0;
	f->pos.log = res.next;
	f->has_pos = true;
	return 1;
}

static int logs_behind(struct forwarder *f, uint64_t *ret)
{
	const struct log_cursor *c = &f->pos.log;

	if (f->pg)
		return pgstore_records_after(f->pg, f->has_pos ? c->xid : 0, f->has_pos ? c->block : 0, c->rec, ret);
	return storage_reader_records_after(f->rd, f->has_pos ? c->day : 0, c->block, c->rec, ret);
}

static int logs_parse(const char *text, struct position *ret)
{
	return log_cursor_parse(text, &ret->log);
}

static void logs_format(const struct position *p, char *out)
{
	log_cursor_format(&p->log, out, FORWARD_CURSOR_MAX + 1);
}

/* Events (alerts, audit) by id: the page's items rendered, its last id the next position. */
static int events_page(struct forwarder *f, struct page *p, json_t *items, int64_t last,
		       int (*render)(struct forwarder *f, struct buf *o, const json_t *item))
{
	json_t *item;
	size_t i;
	int r = 0;

	p->oldest_ts = 0;
	f->style.oldest_ts = &p->oldest_ts;
	buf_reset(&p->text);
	json_array_foreach(items, i, item) {
		if ((r = render(f, &p->text, item)) < 0)
			break;
	}
	p->n = r < 0 ? 0 : json_array_size(items);
	p->next = f->pos;
	p->next.id = last;
	json_decref(items);
	return r < 0 ? r : p->n < page_limit(f);
}

static int render_alert(struct forwarder *f, struct buf *o, const json_t *item)
{
	return forward_render_alert_event(o, item, &f->style);
}

static int alerts_fetch(struct forwarder *f, int64_t after, unsigned limit, json_t **items, int64_t *last)
{
	const struct forward_sources *s = &f->owner->sources;
	json_t *j;
	int r = s->alert_events ? s->alert_events(s->alerts, after, limit, &j) : -ENOTSUP;
	const json_t *next;

	if (r < 0)
		return r;
	next = json_object_get(j, "next_cursor");
	*last = json_is_string(next) ? strtoll(json_string_value(next), NULL, 10) : after;
	*items = json_incref(json_object_get(j, "items"));
	json_decref(j);
	return *items ? 0 : -EBADMSG;
}

/* The events after the position (fetched, each rendered) as the next page. */
static int events_read(struct forwarder *f, struct page *p,
		       int (*fetch)(struct forwarder *f, int64_t after, unsigned limit, json_t **items, int64_t *last),
		       int (*render)(struct forwarder *f, struct buf *o, const json_t *item))
{
	json_t *items;
	int64_t last;
	int r = fetch(f, f->pos.id, page_limit(f), &items, &last);

	return r < 0 ? r : events_page(f, p, items, last, render);
}

static int alerts_read(struct forwarder *f, struct page *p)
{
	return events_read(f, p, alerts_fetch, render_alert);
}

static int render_audit(struct forwarder *f, struct buf *o, const json_t *item)
{
	return forward_render_audit_row(o, item, f->owner->host, &f->style);
}

static int audit_fetch(struct forwarder *f, int64_t after, unsigned limit, json_t **items, int64_t *last)
{
	const struct forward_sources *s = &f->owner->sources;

	return s->audit_rows ? s->audit_rows(s->audit, after, limit, items, last) : -ENOTSUP;
}

static int audit_read(struct forwarder *f, struct page *p)
{
	return events_read(f, p, audit_fetch, render_audit);
}

static int render_seal(struct forwarder *f, struct buf *o, const json_t *item)
{
	return forward_render_seal(o, item, f->owner->host, &f->style);
}

/* The seals are the store's own: read from meta.db, as the logs are. */
static int seals_fetch(struct forwarder *f, int64_t after, unsigned limit, json_t **items, int64_t *last)
{
	return seals_page(storage_reader_meta(f->rd), after, limit, items, last);
}

static int seals_read(struct forwarder *f, struct page *p)
{
	return events_read(f, p, seals_fetch, render_seal);
}

/* The last id there is, by reading to the end a large page at a time (once, at a forwarder's first start). */
static int events_newest(struct forwarder *f,
			 int (*fetch)(struct forwarder *f, int64_t after, unsigned limit, json_t **items, int64_t *last))
{
	int64_t at = 0, last;
	json_t *items;
	size_t n;

	do {
		int r = fetch(f, at, 10000, &items, &last);
		if (r < 0)
			return r;
		n = json_array_size(items);
		json_decref(items);
		at = last;
	} while (n == 10000);
	if (!at)
		return 0;
	f->pos.id = at;
	f->has_pos = true;
	return 1;
}

static int alerts_newest(struct forwarder *f)
{
	return events_newest(f, alerts_fetch);
}

static int audit_newest(struct forwarder *f)
{
	return events_newest(f, audit_fetch);
}

static int seals_newest_id(struct forwarder *f)
{
	return events_newest(f, seals_fetch);
}

static int id_parse(const char *text, struct position *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0)
		return -EINVAL;
	ret->id = v;
	return 0;
}

static void id_format(const struct position *p, char *out)
{
	(void)snprintf(out, FORWARD_CURSOR_MAX + 1, "%" PRId64, p->id);
}

static const struct source sources[] = {
	{ "logs", logs_read, logs_newest, logs_behind, logs_parse, logs_format, true },
	{ "alerts", alerts_read, alerts_newest, NULL, id_parse, id_format, true },
	{ "audit", audit_read, audit_newest, NULL, id_parse, id_format, false },
	{ "seals", seals_read, seals_newest_id, NULL, id_parse, id_format, false },
};

const struct source *forward_source_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(sources); i++)
		if (strcmp(sources[i].name, name) == 0)
			return &sources[i];
	return NULL;
}

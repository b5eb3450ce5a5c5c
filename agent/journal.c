/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "agent/journal.h"


/*
 * journald and journal-remote make an entry findable before they have
 * linked its fields, and sd-journal (252) skips a field it finds half
 * linked without a word: read at that moment, an entry loses its MESSAGE.
 * An entry older than the newest was finished before the newest was
 * begun; the newest is read once a newer one follows it, or [journal]
 * settle= after it was first seen (its writer stopped for good halfway).
 */

/* How long a start looks again for the entry at the saved cursor (seek_saved()), and how often. */
#define RESUME_WAIT_MS 2000u
#define RESUME_STEP_MS 50u

struct journal_source {
	const struct journal_conf *conf;
	struct parser_set *parsers;
	struct spool *spool;
	struct source_sink sink;
	sd_event *event;
	sd_journal *j;
	sd_journal *newest_j; /* the same journal, only asked for its newest entry */
	sd_event_source *io;
	sd_event_source *settle; /* wakes the reader when a held entry has waited [journal] settle= */
	struct buf entry;
	char *cursor;      /* of the last entry the sink took; owned */
	char *snapshot;    /* the cursor in the transaction being written; owned */
	bool dirty;
	bool on_entry;     /* j is on an entry not taken yet: held to settle, or the sink could not take it */
	uint64_t settling_since; /* monotonic, since the newest entry was held; 0: none is */
};

static int add_matches(sd_journal *j, const char *field, const char *values)
{
	_cleanup_free_ char *dup = values ? strdup(values) : NULL;
	char *save = NULL, m[512];
	int r, n = 0;

	if (!values)
		return 0;
	if (!dup)
		return -ENOMEM;
	for (char *v = strtok_r(dup, " \t,", &save); v; v = strtok_r(NULL, " \t,", &save)) {
		int len = snprintf(m, sizeof(m), "%s=%s", field, v);
		if (len < 0 || (size_t)len >= sizeof(m))
			return -ENAMETOOLONG;
		r = sd_journal_add_match(j, m, (size_t)len);
		if (r < 0)
			return r;
		n++;
	}
	/* Values of one field are ORed; different fields are ANDed. */
	return n ? sd_journal_add_conjunction(j) : 0;
}

static int add_filters(struct journal_source *js, sd_journal *j)
{
	char prios[8 * 11] = "";
	int r;

	r = add_matches(j, FIELD_UNIT, js->conf->units);
	if (r == 0)
		r = add_matches(j, FIELD_IDENTIFIER, js->conf->identifiers);
	if (r == 0 && js->conf->priority < 7) {
		for (uint64_t p = 0; p <= js->conf->priority; p++)
			(void)snprintf(prios + strlen(prios), sizeof(prios) - strlen(prios), "%s%" PRIu64,
				       p ? " " : "", p);
		r = add_matches(j, FIELD_PRIORITY, prios);
	}
	return r;
}

/* A record that tells the collector entries may be missing between two cursors. */
static int emit_gap(struct journal_source *js, const char *lost)
{
	struct buf b;
	int r;

	buf_init(&b, 4096);
	r = export_put_u64(&b, FIELD_TIME, now_realtime_us());
	if (r == 0)
		r = export_put_str(&b, FIELD_KIND, KIND_EVENT);
	if (r == 0)
		r = export_put_str(&b, FIELD_SOURCE, SOURCE_JOURNAL);
	if (r == 0)
		r = export_put_str(&b, FIELD_EVENT, "journal_gap");
	if (r == 0)
		r = export_put_str(&b, FIELD_PRIORITY, "4");
	if (r == 0)
		r = export_put_str(&b, FIELD_MESSAGE,
				   "journal: the last shipped entry is no longer in the journal (vacuumed or "
				   "rotated away); resuming at the oldest entry, entries in between may be missing");
	if (r == 0)
		r = export_put_str(&b, FIELD_LOST_CURSOR, lost);
	if (r == 0)
		r = js->sink.record(js->sink.userdata, b.data, b.len);
	buf_free(&b);
	return r;
}

/*
 * Steps to the entry at cursor (or the first after it). sd-journal 252 can
 * answer "no entry" for a cursor just behind a writer that is appending
 * (about 1 seek in 20,000 near the tail; in CI the agent then took it for a
 * vacuumed cursor and read the whole journal again), while a vacuumed
 * cursor lands on a later entry. So "nothing there" is asked again, for up
 * to RESUME_WAIT_MS: 1 at an entry, 0 if none came, or -errno.
 */
static int seek_saved(struct journal_source *js, const char *cursor)
{
	int r;

	for (unsigned i = 0;; i++) {
		r = sd_journal_seek_cursor(js->j, cursor);
		if (r >= 0)
			r = sd_journal_next(js->j);
		if (r != 0 || i == RESUME_WAIT_MS / RESUME_STEP_MS)
			return r;
		if (i == 0)
			log_info("journal: no entry at cursor %s yet; looking again for %u ms", cursor, RESUME_WAIT_MS);
		(void)usleep(RESUME_STEP_MS * 1000);
		(void)sd_journal_process(js->j);
	}
}

/*
 * Resumes right after the last entry spooled: seek to its cursor, step, and
 * check that the entry there is that one. A cursor that matches nothing
 * means the entry was vacuumed: start at the oldest entry, say so.
 */
static int position(struct journal_source *js)
{
	_cleanup_free_ char *saved = NULL;
	int r = spool_cursor_get(js->spool, SOURCE_JOURNAL, &saved);

	if (r == -ENOENT)
		return sd_journal_seek_head(js->j);
	if (r < 0)
		return r;
	r = seek_saved(js, saved);
	if (r > 0 && sd_journal_test_cursor(js->j, saved) > 0) {
		js->cursor = TAKE_PTR(saved);
		return 0;
	}
	log_warning("journal: cursor %s not found; resuming at the oldest entry", saved);
	js->sink.count(js->sink.userdata, SPOOL_CTR_JOURNAL_GAPS);
	r = sd_journal_seek_head(js->j);
	if (r < 0)
		return r;
	r = emit_gap(js, saved);
	if (r == 0)
		r = js->sink.advanced(js->sink.userdata);
	return r;
}

/*
 * One field of an entry: a name the agent reserves for its own records
 * (any program may log VIGIL_KIND=probe through journald) is renamed, so
 * the entry stays a log line and its fields stay readable.
 */
static int put_field(struct buf *b, const char *key, size_t klen, const void *value, size_t vlen)
{
	char renamed[EXPORT_KEY_MAX + 1];
	int n;

	if (!field_reserved(key, klen))
		return export_put_n(b, key, klen, value, vlen);
	n = snprintf(renamed, sizeof(renamed), FIELD_RENAMED_PREFIX "%.*s", (int)klen, key);
	if (n < 0 || (size_t)n >= sizeof(renamed))
		return -EINVAL;
	return export_put_n(b, renamed, (size_t)n, value, vlen);
}

/* The value of the current entry's field key (as "KEY="), or NULL. */
static const char *entry_value(struct journal_source *js, const char *key, size_t *len)
{
	const void *data;
	size_t n, k = strlen(key);

	if (sd_journal_get_data(js->j, key, &data, &n) < 0 || n <= k)
		return NULL;
	*len = n - k - 1;
	return (const char *)data + k + 1;
}

/* The fields the parser of the entry's unit or identifier finds in its message, after its own. */
static void parse_entry(struct journal_source *js)
{
	size_t ulen = 0, ilen = 0, mlen;
	const char *unit = entry_value(js, FIELD_UNIT, &ulen), *ident = entry_value(js, FIELD_IDENTIFIER, &ilen);
	struct agent_parser *ap = parser_set_for_journal(js->parsers, unit, ulen, ident, ilen);
	const char *msg;
	int prio;

	/* The entry states its own PRIORITY: a parser's level does not replace it. */
	if (ap && (msg = entry_value(js, FIELD_MESSAGE, &mlen)) && agent_parser_run(ap, msg, mlen, &js->entry, &prio) <= 0)
		js->sink.count(js->sink.userdata, SPOOL_CTR_LINES_UNPARSED);
}

/* Copies the current entry's fields into js->entry in export format. */
static int read_entry(struct journal_source *js)
{
	const void *data;
	size_t len;
	uint64_t rt, mono;
	sd_id128_t boot;
	int r;

	buf_reset(&js->entry);
	r = sd_journal_get_realtime_usec(js->j, &rt);
	if (r == 0)
		r = export_put_u64(&js->entry, FIELD_TIME, rt);
	if (r == 0 && sd_journal_get_monotonic_usec(js->j, &mono, &boot) >= 0)
		r = export_put_u64(&js->entry, "__MONOTONIC_TIMESTAMP", mono);
	if (r == 0)
		r = export_put_str(&js->entry, FIELD_SOURCE, SOURCE_JOURNAL);
	SD_JOURNAL_FOREACH_DATA(js->j, data, len) {
		const char *eq = memchr(data, '=', len);
		if (r < 0)
			break;
		if (!eq)
			continue;
		r = put_field(&js->entry, data, (size_t)(eq - (const char *)data), eq + 1,
			      len - (size_t)(eq - (const char *)data) - 1);
		/* A field name journald accepted but the export format would not: skip the field. */
		if (r == -EINVAL)
			r = 0;
	}
	if (r == 0 && parser_set_for_journal_any(js->parsers))
		parse_entry(js);
	return r;
}

/* The cursor of the newest entry the filters match, or NULL if none (or it cannot be told). */
static char *newest_cursor(struct journal_source *js)
{
	char *c = NULL;

	(void)sd_journal_process(js->newest_j);
	if (sd_journal_seek_tail(js->newest_j) >= 0 && sd_journal_previous(js->newest_j) > 0 &&
	    sd_journal_get_cursor(js->newest_j, &c) < 0)
		c = NULL;
	return c;
}

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct journal_source *js = userdata;

	js->sink.wake(js->sink.userdata);
	return 0;
}

/* Whether the entry j is on, whose cursor is c, must wait (see settle= above); arms the wake-up if so. */
static bool must_settle(struct journal_source *js, const char *c, const char *newest)
{
	uint64_t now = now_monotonic_us(), settle_us = js->conf->settle_ms * 1000;
	int r;

	if (!newest || strcmp(c, newest) != 0) {
		js->settling_since = 0;
		return false;
	}
	if (!js->settling_since)
		js->settling_since = now;
	if (now - js->settling_since >= settle_us) {
		js->settling_since = 0;
		return false;
	}
	r = js->settle ? sd_event_source_set_time(js->settle, js->settling_since + settle_us)
		       : sd_event_add_time(js->event, &js->settle, CLOCK_MONOTONIC,
					   js->settling_since + settle_us, 0, on_settle, js);
	if (r >= 0)
		r = sd_event_source_set_enabled(js->settle, SD_EVENT_ONESHOT);
	/* Without the timer, the agent's poll once a second wakes the reader. */
	if (r < 0)
		log_debug("journal: cannot arm the settle timer: %s", strerror(-r));
	return true;
}

/* Hands the entry j is on, whose cursor is c (taken over), to the sink. 1: taken; 0: not (retry); <0: error. */
static int take_entry(struct journal_source *js, char *c, size_t *used)
{
	int r = read_entry(js);

	if (r < 0) {
		log_warning_errno(r, "journal: entry unreadable (%m), skipping it.");
		js->sink.count(js->sink.userdata, SPOOL_CTR_JOURNAL_ENTRIES_SKIPPED);
	} else {
		r = js->sink.record(js->sink.userdata, js->entry.data, js->entry.len);
		if (r == -ENOBUFS) {
			log_warning("journal: an entry of %zu bytes does not fit a batch, skipping it.", js->entry.len);
			js->sink.count(js->sink.userdata, SPOOL_CTR_JOURNAL_ENTRIES_SKIPPED);
		} else if (r < 0) {
			/* Not taken (the spool failing): read it again next time. */
			free(c);
			js->on_entry = true;
			return r;
		}
		*used += js->entry.len;
	}
	free(js->cursor);
	js->cursor = c;
	js->dirty = true;
	return js->sink.advanced(js->sink.userdata);
}

static int journal_work(void *impl, size_t budget)
{
	struct journal_source *js = impl;
	_cleanup_free_ char *newest = NULL;
	size_t used = 0;
	int r;

	(void)sd_journal_process(js->j);
	newest = newest_cursor(js);
	while (used < budget) {
		char *c;

		if (!js->sink.can_read(js->sink.userdata))
			return 1;
		r = js->on_entry ? 1 : sd_journal_next(js->j);
		js->on_entry = false;
		if (r == 0)
			return 0;
		if (r < 0) {
			/* A corrupted entry or file: skip it rather than stall. */
			log_warning_errno(r, "journal: cannot read the next entry (%m), skipping it.");
			js->sink.count(js->sink.userdata, SPOOL_CTR_JOURNAL_ENTRIES_SKIPPED);
			continue;
		}
		r = sd_journal_get_cursor(js->j, &c);
		if (r < 0)
			return r;
		if (must_settle(js, c, newest)) {
			free(c);
			js->on_entry = true;
			return 0;
		}
		r = take_entry(js, c, &used);
		if (r < 0)
			return r;
	}
	return 1;
}

static int on_journal(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct journal_source *js = userdata;

	js->sink.wake(js->sink.userdata);
	return 0;
}

static int open_journal(const struct journal_source *js, sd_journal **ret)
{
	return js->conf->directory ? sd_journal_open_directory(ret, js->conf->directory, 0)
				   : sd_journal_open(ret, SD_JOURNAL_LOCAL_ONLY);
}

static void journal_free(void *impl)
{
	struct journal_source *js = impl;

	if (!js)
		return;
	sd_event_source_disable_unref(js->io);
	sd_event_source_disable_unref(js->settle);
	sd_journal_close(js->j);
	sd_journal_close(js->newest_j);
	buf_free(&js->entry);
	free(js->cursor);
	free(js->snapshot);
	free(js);
}

static size_t journal_checkpoints(void *impl, struct spool_checkpoint *cp, size_t cap)
{
	struct journal_source *js = impl;

	if (!js || !js->dirty || !js->cursor || cap == 0)
		return 0;
	free(js->snapshot);
	js->snapshot = strdup(js->cursor);
	if (!js->snapshot)
		return 0;
	js->dirty = false;
	*cp = (struct spool_checkpoint){ .source = SOURCE_JOURNAL, .cursor = js->snapshot };
	return 1;
}

static void journal_checkpoints_done(void *impl, bool ok)
{
	struct journal_source *js = impl;

	if (!ok && js->snapshot)
		js->dirty = true;
	free(js->snapshot);
	js->snapshot = NULL;
}

static size_t journal_checkpoints_max(const void *impl)
{
	return 1;
}

static const struct source_ops journal_source_ops = {
	.kind = "journal",
	.work = journal_work,
	.checkpoints_max = journal_checkpoints_max,
	.checkpoints = journal_checkpoints,
	.checkpoints_done = journal_checkpoints_done,
	.free = journal_free,
};

int journal_source_new(const struct journal_conf *conf, struct parser_set *parsers, struct spool *spool,
		       const struct source_sink *sink,
		       sd_event *event, struct source *ret)
{
	struct journal_source *js = calloc(1, sizeof(*js));
	int r, fd;

	if (!js)
		return -ENOMEM;
	js->conf = conf;
	js->parsers = parsers;
	js->spool = spool;
	js->sink = *sink;
	js->event = event;
	buf_init(&js->entry, JOURNAL_ENTRY_MAX);
	r = open_journal(js, &js->j);
	if (r == 0)
		r = open_journal(js, &js->newest_j);
	if (r < 0) {
		log_error_errno(r, "journal: cannot open %s: %m", conf->directory ? conf->directory : "the local journal");
		goto fail;
	}
	/* Whole fields: the entry buffer's ceiling bounds them instead. */
	(void)sd_journal_set_data_threshold(js->j, 0);
	r = add_filters(js, js->j);
	if (r == 0)
		r = add_filters(js, js->newest_j);
	/* Its own inotify watch (never polled but by sd_journal_process()) keeps it on new files. */
	if (r == 0)
		(void)sd_journal_get_fd(js->newest_j);
	if (r < 0) {
		log_error_errno(r, "journal: bad filter: %m");
		goto fail;
	}
	r = position(js);
	if (r < 0) {
		log_error_errno(r, "journal: cannot position: %m");
		goto fail;
	}
	fd = sd_journal_get_fd(js->j);
	if (fd >= 0)
		r = sd_event_add_io(event, &js->io, fd, (uint32_t)sd_journal_get_events(js->j), on_journal, js);
	if (fd < 0 || r < 0)
		log_warning("journal: no change notification (%s); following by the poll timer only.",
			    strerror(fd < 0 ? -fd : -r));
	*ret = (struct source){ .ops = &journal_source_ops, .impl = js };
	return 0;
fail:
	journal_free(js);
	return r;
}

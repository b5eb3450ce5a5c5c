/* SPDX-License-Identifier: Apache-2.0 */
/* The owners of the alert tables, on a real SQLite file: the store, silences, the queue, routing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "alerts/alertstore.h"
#include "alerts/queue.h"
#include "alerts/routes.h"
#include "alerts/silences.h"
#include "common/db.h"
#include "common/macro.h"
#include "common/util.h"
#include "tests/unit/tmpdir.h"

#define T0 (1800000000ull * USEC_PER_SEC)
#define HOUR (3600 * USEC_PER_SEC)

static sqlite3 *open_db(const char *name)
{
	char path[300];
	sqlite3 *db;

	(void)snprintf(path, sizeof(path), "%s/%s.db", test_dir, name);
	assert_int_equal(db_open(path, true, false, DB_SYNC_NORMAL, &db), 0);
	return db;
}

static int64_t save(struct alert_store *s, const char *fp, const char *host, const char *labels, struct alert *al,
		    int64_t id, uint64_t now)
{
	const struct alert_quiet q = { 0 };
	const struct alert_row row = { .fingerprint = fp, .rule = "disk", .agent = "a1", .host = host,
				       .labels = labels, .severity = "warning", .summary = "disk full",
				       .value = "97", .al = al, .q = &q, .now = now };

	assert_int_equal(alert_store_save(s, &row, &id), 0);
	return id;
}

static json_t *list(struct alert_store *s, const struct alert_filter *f)
{
	json_t *items = json_array();
	int64_t total = -1;

	assert_int_equal(alert_store_list(s, f, items, &total), 0);
	assert_int_equal(total, json_array_size(items));
	return items;
}

/* A list holds the newest 1000 and says how many the filter selects in all; the counts per severity ignore its severity. */
static void a_long_list_says_its_total(void **state)
{
	sqlite3 *db = open_db("alerts-many");
	struct alert al = { .state = ALERT_FIRING, .pending_since_us = T0, .fired_us = T0 };
	struct alert_store *s;
	json_t *items = json_array(), *counts;
	int64_t total = 0, last = 0;
	char fp[32];

	assert_int_equal(alert_store_open(db, &s), 0);
	assert_int_equal(db_exec(db, "BEGIN"), 0);
	for (int i = 0; i < 1005; i++) {
		(void)snprintf(fp, sizeof(fp), "fp-%d", i);
		last = save(s, fp, i % 2 ? "web-1" : "web-2", "{}", &al, 0, T0 + (uint64_t)i);
	}
	assert_int_equal(db_exec(db, "COMMIT"), 0);
	assert_int_equal(alert_store_list(s, &(struct alert_filter){ 0 }, items, &total), 0);
	assert_int_equal(json_array_size(items), 1000);
	assert_int_equal(total, 1005);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")), last);
	json_array_clear(items);
	assert_int_equal(alert_store_list(s, &(struct alert_filter){ .host = "web-1" }, items, &total), 0);
	assert_int_equal(total, 502);
	assert_int_equal(json_array_size(items), 502);
	counts = json_object();
	assert_int_equal(alert_store_counts(s, &(struct alert_filter){ .host = "web-1", .severity = "critical" }, counts), 0);
	assert_int_equal(json_integer_value(json_object_get(counts, "warning")), 502);
	assert_int_equal(json_object_size(counts), 1);
	json_decref(counts);
	json_decref(items);
	alert_store_free(s);
	db_close(db);
}

/* One open alert a fingerprint; actions change it and its history; a closed one makes room for the next. */
static void the_alert_store(void **state)
{
	sqlite3 *db = open_db("alerts");
	struct alert_quiet q;
	struct alert_store *s;
	struct alert al = { .state = ALERT_FIRING, .pending_since_us = T0, .fired_us = T0 };
	json_t *j, *j2, *h;
	int64_t id, again;

	assert_int_equal(alert_store_open(db, &s), 0);
	id = save(s, "fp-1", "web-1", "{\"mount\":\"/var\"}", &al, 0, T0);
	assert_true(id > 0);
	assert_int_equal(alert_store_load(s, "fp-1", &al, &q, &again), 0);
	assert_int_equal(again, id);
	assert_int_equal(al.state, ALERT_FIRING);
	assert_int_equal(al.fired_us, T0);
	assert_int_equal(alert_store_load(s, "fp-2", &al, &q, &again), 0);
	assert_int_equal(again, 0);

	assert_int_equal(alert_store_act(s, id, "ack", "zhang.wei", T0 + 1), 0);
	assert_int_equal(alert_store_event(s, id, T0 + 1, "zhang.wei", "ack", "looking"), 0);
	assert_int_equal(alert_store_act(s, id, "assign", "li.na", T0 + 2), 0);
	assert_int_equal(alert_store_act(s, id, "reboot", NULL, T0 + 2), -EINVAL);
	assert_null(alert_action_arg("reboot"));
	assert_string_equal(alert_action_arg("assign"), "to");
	assert_int_equal(alert_store_get(s, id, &j), 0);
	assert_non_null(j);
	assert_int_equal(alert_store_get(s, id + 1000, &j2), -ENOENT);
	assert_string_equal(json_string_value(json_object_get(j, "acked_by")), "zhang.wei");
	assert_string_equal(json_string_value(json_object_get(j, "assignee")), "li.na");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "labels"), "mount")), "/var");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "firing");
	json_decref(j);
	h = json_array();
	assert_int_equal(alert_store_history(s, id, h), 0);
	assert_int_equal(json_array_size(h), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "note")), "looking");
	json_decref(h);

	/* The filters: by host, by label, by state. */
	j = list(s, &(struct alert_filter){ .host = "web-2" });
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	j = list(s, &(struct alert_filter){ .label_key = "mount", .label_value = "/var" });
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);

	assert_int_equal(alert_store_act(s, id, "close", "", T0 + 3), 0);
	j = list(s, &(struct alert_filter){ 0 });
	assert_int_equal(json_array_size(j), 0); /* closed ones are asked for by name */
	json_decref(j);
	j = list(s, &(struct alert_filter){ .state = "closed" });
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	assert_int_equal(alert_store_load(s, "fp-1", &al, &q, &again), 0);
	assert_int_equal(again, 0);
	al = (struct alert){ .state = ALERT_PENDING, .pending_since_us = T0 + 4 };
	again = save(s, "fp-1", "web-1", "{}", &al, 0, T0 + 4);
	assert_true(again > id);
	alert_store_free(s);
	db_close(db);
}

static json_t *silence_body(const char *matchers, const char *comment, const char *duration, const char *every)
{
	json_t *b = json_pack("{s:o}", "matchers", json_loads(matchers, 0, NULL));

	if (comment)
		json_object_set_new(b, "comment", json_string(comment));
	if (duration)
		json_object_set_new(b, "duration", json_string(duration));
	if (every)
		json_object_set_new(b, "every", json_string(every));
	return b;
}

static int64_t silence_add(const struct silence_store *db, json_t *body, uint64_t now)
{
	const char *reason = NULL;
	json_t *got;
	int64_t id;

	assert_int_equal(silences_add(db, body, "zhang.wei", now, &got, &reason), 0);
	assert_null(reason);
	id = json_integer_value(json_object_get(got, "id"));
	json_decref(got);
	json_decref(body);
	return id;
}

static bool silenced(const struct silence_store *db, uint64_t now, const char *host)
{
	json_t *m = json_array(), *labels = json_pack("{s:s}", "host", host);
	bool hit;

	assert_int_equal(silences_in_force(db, now, m), 0);
	hit = silences_match(m, "disk", "warning", labels);
	json_decref(m);
	json_decref(labels);
	return hit;
}

/* A silence holds while in force and for what it matches; a window recurs; bad bodies say why and store nothing. */
static void silences_and_windows(void **state)
{
	sqlite3 *meta = open_db("silences");
	const struct silence_store store = { &silence_store_sqlite, meta }, *db = &store;
	const char *reason = NULL;
	json_t *body, *got = NULL, *items;
	int64_t id;

	assert_int_equal(silences_schema(meta), 0);
	body = silence_body("{\"host\":\"web-1\"}", NULL, "2h", NULL);
	assert_int_equal(silences_add(db, body, "zhang.wei", T0, &got, &reason), -EINVAL);
	assert_non_null(strstr(reason, "comment"));
	json_decref(body);
	body = silence_body("{}", "upgrade", "2h", NULL);
	assert_int_equal(silences_add(db, body, "zhang.wei", T0, &got, &reason), -EINVAL);
	assert_non_null(strstr(reason, "matchers"));
	json_decref(body);
	items = json_array();
	assert_int_equal(silences_list(db, true, T0, items), 0);
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);

	id = silence_add(db, silence_body("{\"host\":\"web-1\"}", "kernel upgrade", "2h", NULL), T0);
	assert_true(silenced(db, T0 + HOUR, "web-1"));
	assert_false(silenced(db, T0 + HOUR, "web-2"));
	assert_false(silenced(db, T0 + 3 * HOUR, "web-1"));
	assert_int_equal(silences_expire(db, id, T0 + HOUR, NULL), 0);
	assert_false(silenced(db, T0 + HOUR + 1, "web-1"));
	assert_int_equal(silences_expire(db, id, T0 + HOUR + 1, NULL), -ENOENT);

	/* Every day for an hour from T0: in force on day 3 at +30 min, not at +2 h. */
	id = silence_add(db, silence_body("{\"host\":\"db-1\"}", "nightly backup", "1h", "1d"), T0);
	assert_true(silenced(db, T0 + 3 * 24 * HOUR + HOUR / 2, "db-1"));
	assert_false(silenced(db, T0 + 3 * 24 * HOUR + 2 * HOUR, "db-1"));
	items = json_array();
	assert_int_equal(silences_list(db, false, T0 + 2 * HOUR, items), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")), id);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "every")), 86400);
	json_decref(items);
	db_close(meta);
}

struct seen {
	int64_t ids[8];
	char targets[8][32];
	size_t n;
};

static int note_due(const struct queued *q, const char *target, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < ARRAY_SIZE(s->ids));
	s->ids[s->n] = q->id;
	(void)snprintf(s->targets[s->n++], sizeof(s->targets[0]), "%s", target);
	return 0;
}

static struct seen due(struct alert_store *db, uint64_t now)
{
	struct seen s = { 0 };

	assert_int_equal(queue_due(db, now, 10, note_due, &s), 0);
	return s;
}

/* Queued oldest first; an attempt's outcome moves it; what is waiting for later is not due. */
static void the_notification_queue(void **state)
{
	sqlite3 *meta = open_db("queue");
	struct alert_store *db;
	struct queue_stats st;
	struct seen s;
	int64_t a, b, c;

	assert_int_equal(alert_store_open(meta, &db), 0);
	assert_int_equal(queue_add(db, 1, "ops", "fired", "{\"id\":1}", T0, &a), 0);
	assert_int_equal(queue_add(db, 1, "security", "fired", "{\"id\":1}", T0, &b), 0);
	assert_int_equal(queue_add(db, 2, "ops", "fired", "{\"id\":2}", T0, &c), 0);
	s = due(db, T0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], a);
	assert_string_equal(s.targets[1], "security");

	assert_int_equal(queue_record(db, &(struct queued){ .id = a }, QUEUE_SENT, 0, NULL, T0 + 1, 0), 0);
	assert_int_equal(queue_record(db, &(struct queued){ .id = b }, QUEUE_FAILED, 0, "HTTP 403", T0 + 1, 0), 0);
	assert_int_equal(queue_record(db, &(struct queued){ .id = c }, QUEUE_QUEUED, T0 + 60 * USEC_PER_SEC,
				      "timed out", T0 + 1, 0),
			 0);
	s = due(db, T0 + 2);
	assert_int_equal(s.n, 0);
	s = due(db, T0 + 60 * USEC_PER_SEC);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], c);

	assert_int_equal(queue_stats(db, "ops", &st), 0);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(queue_stats(db, "security", &st), 0);
	assert_int_equal(st.failed, 1);
	assert_true(st.has_error);
	assert_string_equal(st.last_error, "HTTP 403");
	assert_int_equal(queue_sent_since(db, "ops", T0), 1);
	assert_int_equal(queue_sent_since(db, "ops", T0 + 2), 0);
	alert_store_free(db);
	db_close(meta);
}

static size_t queued_for(struct alert_store *db, const char *target)
{
	struct queue_stats st;

	assert_int_equal(queue_stats(db, target, &st), 0);
	return (size_t)st.queued;
}

/* Each target once: the rule's and the matching routes'; routes only when the change is routed. */
static void routes_tell_each_target_once(void **state)
{
	sqlite3 *meta = open_db("routes");
	struct alert_store *db;
	struct route_conf crit = { .name = "crit", .match = "severity=crit* env=prod", .notify = "pager ops" };
	struct route_conf *routes[] = { &crit };
	const struct alert_defs defs = { .routes = routes, .n_routes = 1 };
	json_t *alert = json_pack("{s:I, s:s, s:s, s:s, s:{s:s}}", "id", (json_int_t)7, "event", "fired", "rule",
				  "disk", "severity", "critical", "labels", "env", "prod");
	bool queued = false;

	assert_int_equal(alert_store_open(meta, &db), 0);
	assert_true(route_matches(&crit, alert));
	assert_int_equal(routes_tell(db, &defs, "ops", true, alert, T0, &queued), 0);
	assert_true(queued);
	assert_int_equal(queued_for(db, "ops"), 1);
	assert_int_equal(queued_for(db, "pager"), 1);

	/* Not routed (an operator's note): the rule's targets only. */
	assert_int_equal(routes_tell(db, &defs, "ops", false, alert, T0, &queued), 0);
	assert_int_equal(queued_for(db, "ops"), 2);
	assert_int_equal(queued_for(db, "pager"), 1);

	json_object_set_new(json_object_get(alert, "labels"), "env", json_string("test"));
	assert_false(route_matches(&crit, alert));
	queued = false;
	assert_int_equal(routes_tell(db, &defs, "", true, alert, T0, &queued), 0);
	assert_false(queued);
	json_decref(alert);
	alert_store_free(db);
	db_close(meta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_alert_store),
		cmocka_unit_test(a_long_list_says_its_total),
		cmocka_unit_test(silences_and_windows),
		cmocka_unit_test(the_notification_queue),
		cmocka_unit_test(routes_tell_each_target_once),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "alerts/alerting.h"
#include "alerts/alert.h"
#include "alerts/catalog.h"
#include "common/buf.h"
#include "common/util.h"
#include "alerts/rules.h"
#include "api/http-internal.h"

#define LINE_HIDDEN "[a log line: for the roles operator, admin and security]"

/* s with each needle replaced by LINE_HIDDEN, as a new JSON string (NULL when s is NULL). */
static json_t *without(const char *s, const char *needle)
{
	struct buf b;
	json_t *j;
	const char *hit;

	if (!s)
		return NULL;
	buf_init(&b, SIZE_MAX / 2);
	while ((hit = strstr(s, needle))) {
		(void)buf_append(&b, s, (size_t)(hit - s));
		(void)buf_append(&b, LINE_HIDDEN, strlen(LINE_HIDDEN));
		s = hit + strlen(needle);
	}
	(void)buf_append(&b, s, strlen(s));
	j = json_stringn((const char *)b.data, b.len);
	buf_free(&b);
	return j;
}

/*
 * A log rule's alert names the line it matched ("3 in 300 s: LINE") in its
 * value, its summary and its history; one who may not read logs (a viewer)
 * sees the count, not the line.
 */
static void hide_log_line(struct request *rq, json_t *alert)
{
	const struct catalog_snapshot *snap = catalog_get(http_catalog(rq));
	const struct rule_conf *rule = catalog_rule(snap, json_string_value(json_object_get(alert, "rule")));
	const struct rule_type *type = rule ? rule_type_find(rule->type) : NULL;
	const char *value = json_string_value(json_object_get(alert, "value")), *line = value ? strstr(value, " s: ") : NULL;
	char *needle = line && line[4] ? strdup(line + 4) : NULL;
	json_t *e;
	size_t i;

	if (needle && type && type->matches_lines) {
		if (json_is_string(json_object_get(alert, "note")))
			json_object_set_new(alert, "note", without(json_string_value(json_object_get(alert, "note")), needle));
		json_object_set_new(alert, "value", without(value, needle));
		json_object_set_new(alert, "summary", without(json_string_value(json_object_get(alert, "summary")), needle));
		json_array_foreach(json_object_get(alert, "history"), i, e)
			if (json_is_string(json_object_get(e, "note")))
				json_object_set_new(e, "note", without(json_string_value(json_object_get(e, "note")), needle));
	}
	free(needle);
	catalog_release(snap);
}

/* hide_log_line() for each item of a list answer j, unless the asker may read logs. */
static void hide_log_lines(struct request *rq, json_t *j)
{
	json_t *a;
	size_t i;

	json_array_foreach(request_reads_logs(rq) ? NULL : json_object_get(j, "items"), i, a)
		hide_log_line(rq, a);
}

/* 400 with reason for -EINVAL (a body that does not hold), else 500: what could not be done, and why. */
/* -EINVAL with why the request is wrong; else as respond_errno() (the shared database out of reach: 503). */
static enum MHD_Result respond_failure(struct request *rq, int r, const char *reason, const char *what)
{
	return respond_errno(rq, r, r == -EINVAL ? reason : what);
}

/* GET /api/v1/alerts?state=&severity=&host=&label=KEY=VALUE&assignee=&unacked=1&q= */
enum MHD_Result api_get_alerts(struct request *rq)
{
	struct alert_filter f = { .state = arg(rq, "state"), .severity = arg(rq, "severity"), .host = arg(rq, "host"),
				  .assignee = arg(rq, "assignee"), .text = arg(rq, "q"),
				  .hide_log_lines = !request_reads_logs(rq) };
	const char *label = arg(rq, "label"), *eq = label ? strchr(label, '=') : NULL, *unacked = arg(rq, "unacked");
	char key[65];
	json_t *j;
	int r;

	if (f.state && alert_state_from_name(f.state) < 0)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "state: expected pending, firing, resolved or closed");
	if (f.severity && alert_severity_from_name(f.severity) < 0)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "severity: expected info, warning, critical or disaster");
	if (label) {
		size_t n = eq ? (size_t)(eq - label) : 0;

		/* The key becomes a JSON path: only what name_valid() lets through. */
		(void)snprintf(key, sizeof(key), "%.*s", (int)MIN(n, sizeof(key) - 1), label);
		if (!eq || n >= sizeof(key) || !name_valid(key, 64, ""))
			return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					     "label: expected KEY=VALUE, KEY of letters, digits, '_', '-', '.'");
		f.label_key = key;
		f.label_value = eq + 1;
	}
	if (unacked && strcmp(unacked, "0") && strcmp(unacked, "1"))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "unacked: expected 0 or 1");
	f.unacked = unacked && unacked[0] == '1';
	if (f.text && strlen(f.text) > ALERT_TEXT_MAX)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "q: longer than %d bytes", ALERT_TEXT_MAX);
	/* "-": nobody's (an empty parameter is no parameter). */
	if (f.assignee && strcmp(f.assignee, "-") == 0)
		f.assignee = "";
	r = alerting_list(http_alerting(rq), &f, &j);
	if (r < 0)
		return respond_errno(rq, r, "cannot read alerts");
	hide_log_lines(rq, j);
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* Events a page gives at most, and without limit=. */
#define EVENTS_MAX 10000
#define EVENTS_DEFAULT 1000

/*
 * GET /api/v1/alerts/events?cursor=ID&limit=N: every alert's events (opened,
 * fired, acknowledged, notified, resolved, ...) after event ID, oldest
 * first, for a security center that pulls alarms as it pulls logs.
 */
enum MHD_Result api_get_alert_events(struct request *rq)
{
	const char *cursor = arg(rq, "cursor"), *limit = arg(rq, "limit");
	uint64_t after = 0, n = EVENTS_DEFAULT;
	json_t *j;
	int r;

	if (cursor && (conf_parse_uint(cursor, &after) < 0 || after > INT64_MAX))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "cursor: expected the next_cursor of a page");
	if (limit && (conf_parse_uint(limit, &n) < 0 || n < 1 || n > EVENTS_MAX))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "limit: expected 1 to %d", EVENTS_MAX);
	r = alerting_events(http_alerting(rq), (int64_t)after, (unsigned)n, &j);
	if (r < 0)
		return respond_errno(rq, r, "cannot read alert events");
	hide_log_lines(rq, j);
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* "/api/v1/alerts/ID[/ACTION]" into id and action ("" when none); -EINVAL when malformed. */
static int split_alert_path(const char *url, int64_t *id, char *action, size_t size)
{
	const char *p = url + strlen("/api/v1/alerts/"), *slash = strchr(p, '/');
	char num[24];
	uint64_t v;

	if (!slash)
		slash = p + strlen(p);
	if (slash == p || (size_t)(slash - p) >= sizeof(num) || strlen(slash) >= size + 1)
		return -EINVAL;
	(void)snprintf(num, sizeof(num), "%.*s", (int)(slash - p), p);
	if (conf_parse_uint(num, &v) < 0 || v == 0 || v > INT64_MAX)
		return -EINVAL;
	*id = (int64_t)v;
	(void)snprintf(action, size, "%s", *slash ? slash + 1 : "");
	return 0;
}

static enum MHD_Result answer_alert(struct request *rq, int64_t id)
{
	json_t *j;
	int r = alerting_get(http_alerting(rq), id, &j);

	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no alert %lld", (long long)id);
	if (r < 0)
		return respond_errno(rq, r, "cannot read alert");
	if (!request_reads_logs(rq))
		hide_log_line(rq, j);
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* GET /api/v1/alerts/ID: the alert with its history. */
enum MHD_Result api_get_alert(struct request *rq)
{
	char action[32];
	int64_t id;

	if (split_alert_path(rq->url, &id, action, sizeof(action)) < 0 || *action)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/alerts/ID");
	return answer_alert(rq, id);
}

/* "alert 12: assign to bob, note 'on it'" for the audit log. */
static void action_detail(struct request *rq, int64_t id, const char *action, json_t *body)
{
	const char *to = json_string_value(json_object_get(body, "to")),
		   *sev = json_string_value(json_object_get(body, "severity")),
		   *note = json_string_value(json_object_get(body, "note"));

	audit_detail(rq, "alert %lld: %s%s%s%s%s%s%.300s%s", (long long)id, action, to ? " to " : "", to ? to : "",
		     sev ? " " : "", sev ? sev : "", note ? ", note '" : "", note ? note : "", note ? "'" : "");
}

/* "silence 5: {"host":"web-1"} from T to T, every 604800 s, 'comment'" for the audit log. */
static void silence_detail(struct request *rq, json_t *s)
{
	char *m = json_dumps(json_object_get(s, "matchers"), JSON_COMPACT | JSON_SORT_KEYS);
	char starts[40] = "", ends[40] = "", every[48] = "";
	const char *comment = json_string_value(json_object_get(s, "comment"));

	if (json_is_integer(json_object_get(s, "starts")))
		format_rfc3339_us((uint64_t)json_integer_value(json_object_get(s, "starts")), starts, sizeof(starts));
	if (json_is_integer(json_object_get(s, "ends")))
		format_rfc3339_us((uint64_t)json_integer_value(json_object_get(s, "ends")), ends, sizeof(ends));
	if (json_is_integer(json_object_get(s, "every")))
		(void)snprintf(every, sizeof(every), ", every %" JSON_INTEGER_FORMAT " s",
			       json_integer_value(json_object_get(s, "every")));
	audit_detail(rq, "silence %" JSON_INTEGER_FORMAT ": %.200s from %s to %s%s, '%.150s'",
		     json_integer_value(json_object_get(s, "id")), m ? m : "{}", starts, ends, every,
		     comment ? comment : "");
	free(m);
}

/* POST /api/v1/alerts/ID/ACTION with a JSON object body (may be empty): answers the alert as it is now. */
enum MHD_Result api_post_alert_action(struct request *rq)
{
	const char *reason = NULL;
	enum MHD_Result answered;
	char action[32];
	json_t *body;
	int64_t id;
	int r;

	if (split_alert_path(rq->url, &id, action, sizeof(action)) < 0 || !*action)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/alerts/ID/ACTION");
	body = request_object(rq, true, &answered);
	if (!body)
		return answered;
	action_detail(rq, id, action, body);
	r = alerting_act(http_alerting(rq), id, action, rq->user, body, &reason);
	json_decref(body);
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no alert %lld", (long long)id);
	if (r == -EINVAL)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", reason);
	if (r == -EALREADY)
		return respond_error(rq, MHD_HTTP_CONFLICT, "conflict", "alert %lld is closed; only comment applies",
				     (long long)id);
	if (r < 0)
		return respond_errno(rq, r, "cannot change alert");
	return answer_alert(rq, id);
}

/* GET /api/v1/silences[?all=1]: those not over yet (all: every one), newest first. */
enum MHD_Result api_get_silences(struct request *rq)
{
	const char *all = arg(rq, "all");
	json_t *j;
	int r = alerting_silences(http_alerting(rq), all && strcmp(all, "0") != 0, &j);

	if (r < 0)
		return respond_errno(rq, r, "cannot read silences");
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* POST /api/v1/silences {"matchers":{...},"comment":"...","duration":"2h"}: 201 with the silence. */
enum MHD_Result api_post_silence(struct request *rq)
{
	const char *reason = NULL;
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered), *j;
	int r;

	if (!body)
		return answered;
	r = alerting_silence_add(http_alerting(rq), body, rq->user, &j, &reason);
	silence_detail(rq, r == 0 ? j : body);
	json_decref(body);
	if (r < 0)
		return respond_failure(rq, r, reason, "cannot store the silence");
	return respond_json(rq, MHD_HTTP_CREATED, j);
}

/* POST /api/v1/silences/preview {"matchers":{...}}: the open alerts such a silence would silence. */
enum MHD_Result api_post_silence_preview(struct request *rq)
{
	const char *reason = NULL;
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered), *j = NULL;
	int r;

	if (!body)
		return answered;
	r = alerting_silence_preview(http_alerting(rq), json_object_get(body, "matchers"), &j, &reason);
	json_decref(body);
	if (r < 0)
		return respond_failure(rq, r, reason, "cannot read alerts");
	hide_log_lines(rq, j);
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* DELETE /api/v1/silences/ID: ends it now (the row stays, for the record). */
enum MHD_Result api_delete_silence(struct request *rq)
{
	const char *p = rq->url + strlen("/api/v1/silences/");
	uint64_t id;
	json_t *j;
	int r;

	if (conf_parse_uint(p, &id) < 0 || id == 0 || id > INT64_MAX)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/silences/ID");
	audit_detail(rq, "silence %" PRIu64, id);
	r = alerting_silence_expire(http_alerting(rq), (int64_t)id, &j);
	if (r == 0) {
		silence_detail(rq, j);
		json_decref(j);
	}
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no silence %" PRIu64 " in force or to come",
				     id);
	if (r < 0)
		return respond_errno(rq, r, "cannot end the silence");
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:I, s:b}", "id", (json_int_t)id, "expired", 1));
}

/* POST /api/v1/notify/NAME/test: 202 with the queued notification's id. */
enum MHD_Result api_post_notify_test(struct request *rq)
{
	const char *p = rq->url + strlen("/api/v1/notify/"), *slash = strchr(p, '/');
	char name[256];
	int64_t id = 0;
	int r;

	if (!slash || strcmp(slash, "/test") != 0 || slash == p || (size_t)(slash - p) >= sizeof(name))
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/notify/NAME/test");
	(void)snprintf(name, sizeof(name), "%.*s", (int)(slash - p), p);
	audit_detail(rq, "target %s: a test message", name);
	r = alerting_notify_test(http_alerting(rq), name, rq->user, &id);
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no [notify \"%s\"] target", name);
	if (r < 0)
		return respond_errno(rq, r, "cannot queue");
	return respond_json(rq, MHD_HTTP_ACCEPTED,
			    json_pack("{s:I, s:s}", "notification_id", (json_int_t)id, "target", name));
}

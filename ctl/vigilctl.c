/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/macro.h"
#include "common/util.h"

#define RESPONSE_MAX (256u * 1024 * 1024)
#define FOLLOW_INTERVAL_MS 1000

struct ctl {
	const char *url;
	const char *token;
	const char *cacert;     /* the CA an https:// collector's certificate is checked against */
	const char *cert, *key; /* a client certificate, for a collector with [http] tls_client_ca */
	bool json;
	CURL *curl;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) { interrupted = 1; }

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
	return buf_append(userdata, p, size * n) < 0 ? 0 : size * n;
}

/* Appends "&name=value" (URL-escaped) to url when value is set. */
static int add_param(struct ctl *c, struct buf *url, const char *name, const char *value)
{
	char *esc;
	int r;

	if (!value)
		return 0;
	esc = curl_easy_escape(c->curl, value, 0);
	if (!esc)
		return -ENOMEM;
	r = buf_printf(url, "%c%s=%s", memchr(url->data, '?', url->len) ? '&' : '?', name, esc);
	curl_free(esc);
	return r;
}

/* A query parameter for api_get_path(); NULL values are left out. */
struct param {
	const char *name;
	const char *value;
};

static json_t *api_get(struct ctl *c, const char *url);

/* GETs c->url + path with the set parameters. */
static json_t *api_get_path(struct ctl *c, const char *path, const struct param *params, size_t n)
{
	struct buf url;
	json_t *j = NULL;
	int r;

	buf_init(&url, 16384);
	r = buf_printf(&url, "%s%s", c->url, path);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_param(c, &url, params[i].name, params[i].value);
	if (r == 0)
		r = buf_terminate(&url);
	if (r == 0)
		j = api_get(c, (const char *)url.data);
	else
		fprintf(stderr, "vigilctl: request too long\n");
	buf_free(&url);
	return j;
}

static void print_json_line(json_t *item)
{
	char *s = json_dumps(item, JSON_COMPACT);

	if (s)
		printf("%s\n", s);
	free(s);
}

/*
 * GETs url, or sends body with method (POST, DELETE); returns the parsed
 * JSON answer (owned by the caller), or NULL after printing why.
 */
static json_t *api_request(struct ctl *c, const char *method, const char *url, const char *post)
{
	struct curl_slist *hdr = NULL;
	char auth[512];
	long status = 0;
	struct buf body;
	json_error_t jerr;
	json_t *j = NULL;
	CURLcode rc;

	buf_init(&body, RESPONSE_MAX);
	(void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	hdr = curl_slist_append(hdr, auth);
	curl_easy_reset(c->curl);
	(void)curl_easy_setopt(c->curl, CURLOPT_URL, url);
	(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
	(void)curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &body);
	(void)curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	(void)curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	/* The token goes over TLS 1.2 or later, to the host named, or not at all. */
	(void)curl_easy_setopt(c->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->cacert)
		(void)curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->cacert);
	if (c->cert)
		(void)curl_easy_setopt(c->curl, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		(void)curl_easy_setopt(c->curl, CURLOPT_SSLKEY, c->key);
	if (post) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
		(void)curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, post);
	}
	if (method)
		(void)curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vigilctl: %s: %s\n", url, curl_easy_strerror(rc));
		goto out;
	}
	(void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	j = json_loadb((const char *)body.data, body.len, 0, &jerr);
	if (status / 100 != 2) {
		json_t *reason = j ? json_object_get(j, "reason") : NULL;
		fprintf(stderr, "vigilctl: %s: HTTP %ld: %s\n", url, status,
			json_is_string(reason) ? json_string_value(reason) : "(no reason given)");
		json_decref(j);
		j = NULL;
	} else if (!j) {
		fprintf(stderr, "vigilctl: %s: bad JSON: %s\n", url, jerr.text);
	}
out:
	buf_free(&body);
	return j;
}

static json_t *api_get(struct ctl *c, const char *url)
{
	return api_request(c, NULL, url, NULL);
}

static void print_log(const struct ctl *c, json_t *item)
{
	char ts[40];

	if (c->json) {
		print_json_line(item);
		return;
	}
	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(item, "ts")), ts, sizeof(ts));
	printf("%s %s %s: %s\n", ts, json_string_value(json_object_get(item, "host")),
	       json_string_value(json_object_get(item, "source")),
	       json_string_value(json_object_get(item, "message")));
}

struct logs_args {
	const char *host, *source, *q, *since, *until, *limit, *status, *kind;
	const char *state, *severity, *note, *to; /* alerts */
	const char *starts, *ends, *duration, *every; /* silences (and until) */
	const char *name, *step, *window; /* metrics, dialtest summary */
	bool follow, all, reverse;
};

/* Lines vigilctl logs prints at most unless --limit says otherwise (not with --follow). */
#define LOGS_LIMIT_DEFAULT 1000
/* Records asked for in one request. */
#define LOGS_PAGE 1000

/* --limit as a count; 0 when absent; -1 when malformed (said). */
static int64_t logs_limit(const struct logs_args *a)
{
	uint64_t n;

	if (!a->limit)
		return 0;
	if (conf_parse_uint(a->limit, &n) < 0 || n == 0 || n > INT32_MAX) {
		fprintf(stderr, "vigilctl: --limit %s: expected a positive number\n", a->limit);
		return -1;
	}
	return (int64_t)n;
}

/*
 * Follows next_cursor until the answer says the range is complete (with
 * --follow: on and on), or --limit lines are printed. A search stops at the
 * collector's scan budget per request, which is why one request is not
 * enough: "complete" says whether it saw everything.
 */
static int cmd_logs(struct ctl *c, const struct logs_args *a)
{
	_cleanup_free_ char *cursor = NULL;
	struct timespec pause = { .tv_sec = FOLLOW_INTERVAL_MS / 1000,
				  .tv_nsec = (FOLLOW_INTERVAL_MS % 1000) * 1000000L };
	const char *kind = !a->kind ? "log" : strcmp(a->kind, "all") == 0 ? NULL : a->kind;
	int64_t limit = logs_limit(a), printed = 0;
	bool complete = false;
	char page[24];

	if (limit < 0 || (a->follow && a->reverse)) {
		if (limit >= 0)
			fprintf(stderr, "vigilctl: logs --follow reads forward; --reverse does not go with it\n");
		return 2;
	}
	if (!limit && !a->follow)
		limit = LOGS_LIMIT_DEFAULT;
	while (!interrupted && (!limit || printed < limit)) {
		const struct param params[] = {
			{ "host", a->host },   { "source", a->source }, { "q", a->q },	       { "kind", kind },
			{ "since", a->since }, { "until", a->until },   { "limit", page },      { "cursor", cursor },
			{ "order", a->reverse ? "desc" : NULL },
		};
		json_t *j, *items, *item;
		size_t i;

		(void)snprintf(page, sizeof(page), "%" PRId64, limit ? MIN(limit - printed, (int64_t)LOGS_PAGE) : LOGS_PAGE);
		j = api_get_path(c, "/api/v1/logs", params, ARRAY_SIZE(params));
		if (!j)
			return 1;
		items = json_object_get(j, "items");
		json_array_foreach(items, i, item)
			print_log(c, item);
		printed += (int64_t)json_array_size(items);
		complete = json_is_true(json_object_get(j, "complete"));
		free(cursor);
		cursor = strdup(json_string_value(json_object_get(j, "next_cursor")) ?: "");
		json_decref(j);
		(void)fflush(stdout);
		if (complete && !a->follow)
			break;
		/* Not complete: more is waiting (a full page, or the scan budget spent): fetch it at once. */
		if (complete)
			(void)nanosleep(&pause, NULL);
	}
	if (!complete && !interrupted && !a->follow)
		fprintf(stderr, "vigilctl: stopped after %" PRId64 " lines (--limit %" PRId64 "); more may match: "
				"raise --limit or narrow the search\n", printed, limit);
	return 0;
}

static int cmd_hosts(struct ctl *c)
{
	json_t *j = api_get_path(c, "/api/v1/hosts", NULL, 0), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json)
		printf("%-32s %-24s %-28s %10s %12s\n", "ID", "HOSTNAME", "LAST SEEN", "BATCHES", "RECORDS");
	json_array_foreach(json_object_get(j, "items"), i, item) {
		char seen[40];
		if (c->json) {
			print_json_line(item);
			continue;
		}
		format_rfc3339_us((uint64_t)json_integer_value(json_object_get(item, "last_seen")), seen, sizeof(seen));
		printf("%-32s %-24s %-28s %10" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(item, "id")),
		       json_string_value(json_object_get(item, "hostname")), seen,
		       json_integer_value(json_object_get(item, "batches")),
		       json_integer_value(json_object_get(item, "records")));
	}
	json_decref(j);
	return 0;
}

static int cmd_probes(struct ctl *c, const struct logs_args *a)
{
	const struct param params[] = { { "host", a->host }, { "status", a->status } };
	json_t *j = api_get_path(c, "/api/v1/probes", params, ARRAY_SIZE(params)), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json)
		printf("%-20s %-24s %-8s %-9s %10s  %s\n", "HOST", "PROBE", "TYPE", "STATUS", "LATENCY", "MESSAGE");
	json_array_foreach(json_object_get(j, "items"), i, item) {
		if (c->json) {
			print_json_line(item);
			continue;
		}
		printf("%-20s %-24s %-8s %-9s %8.1fms  %s\n", json_string_value(json_object_get(item, "host")),
		       json_string_value(json_object_get(item, "name")), json_string_value(json_object_get(item, "type")),
		       json_string_value(json_object_get(item, "status")),
		       (double)json_integer_value(json_object_get(item, "latency_us")) / 1000.0,
		       json_string_value(json_object_get(item, "message")));
	}
	json_decref(j);
	return 0;
}

static const char *text(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "-";
}

static int cmd_alerts(struct ctl *c, const struct logs_args *a)
{
	const struct param params[] = { { "state", a->state }, { "severity", a->severity }, { "host", a->host } };
	json_t *j = api_get_path(c, "/api/v1/alerts", params, ARRAY_SIZE(params)), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json)
		printf("%-6s %-9s %-9s %-20s %-16s %-12s %s\n", "ID", "STATE", "SEVERITY", "HOST", "RULE", "ACKED BY",
		       "SUMMARY");
	json_array_foreach(json_object_get(j, "items"), i, item) {
		if (c->json) {
			print_json_line(item);
			continue;
		}
		printf("%-6" JSON_INTEGER_FORMAT " %-9s %-9s %-20s %-16s %-12s %s%s\n",
		       json_integer_value(json_object_get(item, "id")), text(item, "state"), text(item, "severity"),
		       text(item, "host"), text(item, "rule"), text(item, "acked_by"), text(item, "summary"),
		       json_is_true(json_object_get(item, "suppressed")) ? " (suppressed)" : "");
	}
	json_decref(j);
	return 0;
}

static void print_alert(const struct ctl *c, json_t *j)
{
	char ts[40];
	json_t *e;
	size_t i;

	if (c->json) {
		print_json_line(j);
		return;
	}
	printf("alert %" JSON_INTEGER_FORMAT ": %s\n  %s, %s, host %s, rule %s, acked by %s, assigned to %s\n",
	       json_integer_value(json_object_get(j, "id")), text(j, "summary"), text(j, "state"), text(j, "severity"),
	       text(j, "host"), text(j, "rule"), text(j, "acked_by"), text(j, "assignee"));
	json_array_foreach(json_object_get(j, "history"), i, e) {
		format_rfc3339_us((uint64_t)json_integer_value(json_object_get(e, "ts")), ts, sizeof(ts));
		printf("  %s %-14s %-16s %s\n", ts, text(e, "actor"), text(e, "action"), text(e, "note"));
	}
}

/* alert ID [ACTION]: shows the alert with its history, or acts on it first. */
static int cmd_alert(struct ctl *c, const struct logs_args *a, const char *id, const char *action)
{
	json_t *body = json_object(), *j;
	char path[128], url[1024];
	char *post = NULL;

	if (strspn(id, "0123456789") != strlen(id) || !*id) {
		fprintf(stderr, "vigilctl: alert %s: expected a number\n", id);
		json_decref(body);
		return 2;
	}
	(void)snprintf(path, sizeof(path), "/api/v1/alerts/%s%s%s", id, action ? "/" : "", action ? action : "");
	(void)snprintf(url, sizeof(url), "%s%s", c->url, path);
	if (a->note)
		json_object_set_new(body, "note", json_string(a->note));
	if (a->to)
		json_object_set_new(body, "to", json_string(a->to));
	if (a->severity)
		json_object_set_new(body, "severity", json_string(a->severity));
	post = action ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	j = api_request(c, NULL, url, post);
	free(post);
	if (!j)
		return 1;
	print_alert(c, j);
	json_decref(j);
	return 0;
}

/* ack|unack|assign|comment|severity|close ID [USER|LEVEL]: alert ID ACTION, shorter. */
static int cmd_act(struct ctl *c, struct logs_args *a, const char *action, char **words, size_t n)
{
	bool takes = strcmp(action, "assign") == 0 || strcmp(action, "severity") == 0;

	if (n != (takes ? 2u : 1u)) {
		fprintf(stderr, "vigilctl: expected %s ID%s\n", action,
			strcmp(action, "assign") == 0 ? " USER" : takes ? " LEVEL" : "");
		return 2;
	}
	if (strcmp(action, "assign") == 0)
		a->to = words[1];
	else if (takes)
		a->severity = words[1];
	return cmd_alert(c, a, words[0], action);
}

static void print_silence(const struct ctl *c, json_t *s)
{
	char starts[40], ends[40], every[32] = "once", *m;

	if (c->json) {
		print_json_line(s);
		return;
	}
	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(s, "starts")), starts, sizeof(starts));
	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(s, "ends")), ends, sizeof(ends));
	if (json_object_get(s, "every"))
		(void)snprintf(every, sizeof(every), "every %" JSON_INTEGER_FORMAT "s",
			       json_integer_value(json_object_get(s, "every")));
	m = json_dumps(json_object_get(s, "matchers"), JSON_COMPACT | JSON_SORT_KEYS);
	printf("%-5" JSON_INTEGER_FORMAT " %-6s %-26s %-26s %-14s %-12s %s  %s\n",
	       json_integer_value(json_object_get(s, "id")), json_is_true(json_object_get(s, "active")) ? "yes" : "no",
	       starts, ends, every, text(s, "creator"), m ? m : "?", text(s, "comment"));
	free(m);
}

static int cmd_silence_list(struct ctl *c, const struct logs_args *a)
{
	const struct param params[] = { { "all", a->all ? "1" : NULL } };
	json_t *j = api_get_path(c, "/api/v1/silences", params, ARRAY_SIZE(params)), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json)
		printf("%-5s %-6s %-26s %-26s %-14s %-12s %s\n", "ID", "ACTIVE", "STARTS", "ENDS", "REPEATS", "CREATOR",
		       "MATCHERS  COMMENT");
	json_array_foreach(json_object_get(j, "items"), i, item)
		print_silence(c, item);
	json_decref(j);
	return 0;
}

/* silence add KEY=VALUE... -m COMMENT (--duration D | --ends T) [--starts T] [--every D [--until T]] */
static int cmd_silence_add(struct ctl *c, const struct logs_args *a, char **words, size_t n)
{
	json_t *m = json_object(), *body, *j;
	char url[1024], *post;

	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');

		if (!eq || eq == words[i]) {
			fprintf(stderr, "vigilctl: silence add: '%s' is not KEY=VALUE\n", words[i]);
			json_decref(m);
			return 2;
		}
		*eq = 0;
		json_object_set_new(m, words[i], json_string(eq + 1));
	}
	body = json_pack("{s:o}", "matchers", m);
	if (a->note)
		json_object_set_new(body, "comment", json_string(a->note));
	if (a->starts)
		json_object_set_new(body, "starts", json_string(a->starts));
	if (a->ends)
		json_object_set_new(body, "ends", json_string(a->ends));
	if (a->duration)
		json_object_set_new(body, "duration", json_string(a->duration));
	if (a->every)
		json_object_set_new(body, "every", json_string(a->every));
	if (a->until)
		json_object_set_new(body, "until", json_string(a->until));
	post = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	(void)snprintf(url, sizeof(url), "%s/api/v1/silences", c->url);
	j = post ? api_request(c, NULL, url, post) : NULL;
	free(post);
	if (!j)
		return 1;
	print_silence(c, j);
	json_decref(j);
	return 0;
}

/* silence list|add|expire ... */
static int cmd_silence(struct ctl *c, struct logs_args *a, char **words, size_t n)
{
	char url[1024];
	json_t *j;

	if (n == 1 && strcmp(words[0], "list") == 0)
		return cmd_silence_list(c, a);
	if (n >= 2 && strcmp(words[0], "add") == 0)
		return cmd_silence_add(c, a, words + 1, n - 1);
	if (n == 2 && strcmp(words[0], "expire") == 0 && strspn(words[1], "0123456789") == strlen(words[1])) {
		(void)snprintf(url, sizeof(url), "%s/api/v1/silences/%s", c->url, words[1]);
		j = api_request(c, "DELETE", url, NULL);
		if (!j)
			return 1;
		if (!c->json)
			printf("silence %s ended\n", words[1]);
		else
			print_json_line(j);
		json_decref(j);
		return 0;
	}
	fprintf(stderr, "vigilctl: expected silence list, silence add KEY=VALUE..., or silence expire ID\n");
	return 2;
}

static void print_dialtest_line(json_t *t)
{
	printf("%-5" JSON_INTEGER_FORMAT " %-24s %-8s %-5zu %-5s %s\n", json_integer_value(json_object_get(t, "id")),
	       text(t, "name"), json_object_get(t, "interval") ? text(t, "interval") : "60s",
	       json_array_size(json_object_get(t, "steps")), text(t, "defined_in"),
	       json_is_false(json_object_get(t, "enabled")) ? "disabled" : "");
}

/* A phase's share of the bar, in characters. */
static size_t bar_len(json_t *timings, const char *phase, double per_char)
{
	double v = json_number_value(json_object_get(timings, phase));

	return per_char > 0 ? (size_t)(v / per_char + 0.5) : 0;
}

/*
 * A run as a waterfall: a line per step with its status and a bar of its
 * phases (d DNS, c connect, t TLS, w waiting for the first byte, r
 * receiving), all to one scale, then the figures.
 */
static void print_waterfall(json_t *r)
{
	static const char *const phases[] = { "dns", "connect", "tls", "ttfb", "transfer" };
	static const char marks[] = "dctwr";
	double longest = 0, per_char;
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(r, "steps"), i, s)
		longest = MAX(longest, json_number_value(json_object_get(json_object_get(s, "timings_ms"), "total")));
	per_char = longest / 40.0;
	printf("%s: %s (%" JSON_INTEGER_FORMAT " attempt%s): %s\n", text(r, "name"), text(r, "outcome"),
	       json_integer_value(json_object_get(r, "attempts")), json_integer_value(json_object_get(r, "attempts")) > 1 ? "s" : "",
	       text(r, "message"));
	json_array_foreach(json_object_get(r, "steps"), i, s) {
		json_t *t = json_object_get(s, "timings_ms");
		char bar[64] = "";
		size_t n = 0;

		for (size_t p = 0; p < ARRAY_SIZE(phases); p++)
			for (size_t k = bar_len(t, phases[p], per_char); k > 0 && n < 40; k--)
				bar[n++] = marks[p];
		bar[n] = 0;
		printf("  %-16s %3" JSON_INTEGER_FORMAT " [%-40s] dns %.1f connect %.1f tls %.1f ttfb %.1f transfer %.1f = %.1f ms%s%s\n",
		       text(s, "name"), json_integer_value(json_object_get(s, "status")), bar,
		       json_number_value(json_object_get(t, "dns")), json_number_value(json_object_get(t, "connect")),
		       json_number_value(json_object_get(t, "tls")), json_number_value(json_object_get(t, "ttfb")),
		       json_number_value(json_object_get(t, "transfer")), json_number_value(json_object_get(t, "total")),
		       json_is_true(json_object_get(s, "ok")) ? "" : "  FAILED",
		       json_object_get(s, "error") && !json_is_null(json_object_get(s, "error")) ? " (error)" : "");
	}
}

/* A file's (or stdin's, "-") JSON as a request body; NULL after saying why. */
static char *read_json(const char *path)
{
	json_error_t err;
	json_t *j = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &err) : json_load_file(path, 0, &err);
	char *text;

	if (!j) {
		fprintf(stderr, "vigilctl: %s:%d: %s\n", path, err.line, err.text);
		return NULL;
	}
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

/* metrics --name N [--host H] [--since T] [--until T] [--step D]: a series' points, one a line. */
static int cmd_metrics(struct ctl *c, const struct logs_args *a)
{
	const struct param params[] = { { "name", a->name }, { "host", a->host }, { "since", a->since },
					{ "until", a->until }, { "step", a->step } };
	json_t *j, *series, *pt;
	size_t i, k;

	if (!a->name) {
		fprintf(stderr, "vigilctl: metrics needs --name, e.g. cpu.user_pct, memory.used_pct, filesystem.used_pct\n");
		return 2;
	}
	j = api_get_path(c, "/api/v1/metrics", params, ARRAY_SIZE(params));
	if (!j)
		return 1;
	if (c->json)
		print_json_line(j);
	else
		printf("%-20s %-16s %-26s %12s %12s %12s\n", "HOST", "INSTANCE", "TIME", "AVG", "MIN", "MAX");
	json_array_foreach(c->json ? NULL : json_object_get(j, "series"), i, series) {
		json_array_foreach(json_object_get(series, "points"), k, pt) {
			char ts[40];

			format_rfc3339_us((uint64_t)json_integer_value(json_array_get(pt, 0)), ts, sizeof(ts));
			printf("%-20s %-16s %-26s %12.6g %12.6g %12.6g\n", text(series, "host"), text(series, "instance"),
			       ts, json_number_value(json_array_get(pt, 1)), json_number_value(json_array_get(pt, 2)),
			       json_number_value(json_array_get(pt, 3)));
		}
	}
	json_decref(j);
	return 0;
}

/* dialtest summary ID [--window D]: availability and each step's latency percentiles. */
static void print_summary(const struct ctl *c, json_t *j)
{
	json_t *avail = json_object_get(j, "availability_pct"), *st, *v;
	const char *name;

	if (c->json) {
		print_json_line(j);
		return;
	}
	printf("dial test %" JSON_INTEGER_FORMAT " over %" JSON_INTEGER_FORMAT " s: %" JSON_INTEGER_FORMAT
	       " runs, %" JSON_INTEGER_FORMAT " ok",
	       json_integer_value(json_object_get(j, "id")), json_integer_value(json_object_get(j, "window_s")),
	       json_integer_value(json_object_get(j, "runs")), json_integer_value(json_object_get(j, "ok")));
	if (json_is_number(avail))
		printf(", availability %.3f%%", json_number_value(avail));
	printf("\n%-24s %8s %10s %10s %10s\n", "STEP", "RUNS", "P50 MS", "P95 MS", "P99 MS");
	json_object_foreach(json_object_get(j, "steps"), name, st)
		printf("%-24s %8" JSON_INTEGER_FORMAT " %10.1f %10.1f %10.1f\n", name,
		       json_integer_value(json_object_get(st, "runs")), json_number_value(json_object_get(st, "p50_ms")),
		       json_number_value(json_object_get(st, "p95_ms")), json_number_value(json_object_get(st, "p99_ms")));
	json_object_foreach(json_object_get(j, "failures"), name, v)
		printf("failures: %-30s %" JSON_INTEGER_FORMAT "\n", name, json_integer_value(v));
}

/* The run asked with "scheduled" = planned among test id's results, or NULL. */
static json_t *find_run(struct ctl *c, const char *id, const char *since, json_int_t planned)
{
	const struct param params[] = { { "since", since }, { "limit", "1000" } };
	char path[128];
	json_t *j, *item, *found = NULL;
	size_t i;

	(void)snprintf(path, sizeof(path), "/api/v1/dialtests/%s/results", id);
	j = api_get_path(c, path, params, ARRAY_SIZE(params));
	json_array_foreach(json_object_get(j, "items"), i, item)
		if (json_integer_value(json_object_get(item, "scheduled")) == planned)
			found = json_incref(item);
	json_decref(j);
	return found;
}

/*
 * dialtest run ID: asks for the run (the collector answers at once, 202)
 * and follows its results until it is there: at most the test's timeouts,
 * retries and a minute's wait for the limits.
 */
static json_t *run_and_follow(struct ctl *c, const char *id, const char *test_url)
{
	struct timespec pause = { .tv_nsec = 250 * 1000000L };
	char url[1100], since[40];
	json_t *def = api_get(c, test_url), *asked, *result = NULL;
	uint64_t timeout_ms = 10000, deadline;
	json_int_t planned;

	if (!def)
		return NULL;
	(void)conf_parse_duration_ms(json_string_value(json_object_get(def, "timeout")) ?: "10s", 1000, &timeout_ms);
	deadline = now_monotonic_us() + 60 * USEC_PER_SEC +
		   (timeout_ms * 1000 * json_array_size(json_object_get(def, "steps")) + USEC_PER_SEC) *
			   (uint64_t)(json_integer_value(json_object_get(def, "retries")) + 1);
	json_decref(def);
	(void)snprintf(url, sizeof(url), "%s/run", test_url);
	asked = api_request(c, "POST", url, "");
	if (!asked)
		return NULL;
	planned = json_integer_value(json_object_get(asked, "scheduled"));
	json_decref(asked);
	format_rfc3339_us((uint64_t)planned, since, sizeof(since));
	while (!interrupted && !(result = find_run(c, id, since, planned)) && now_monotonic_us() < deadline)
		(void)nanosleep(&pause, NULL);
	if (!result && !interrupted)
		fprintf(stderr, "vigilctl: dialtest run %s: no result in time; it may still come: dialtest results %s\n",
			id, id);
	return result;
}

/* dialtest list|show ID|add FILE|edit ID FILE|run ID|results ID [--since T] [--limit N] */
static int cmd_dialtest(struct ctl *c, const struct logs_args *a, char **words, size_t n)
{
	const char *sub = n ? words[0] : "", *id = n > 1 && strcmp(sub, "add") != 0 ? words[1] : "";
	char url[1024], *body = NULL;
	json_t *j = NULL, *item;
	bool failed = false;
	size_t i;

	if (*id && strspn(id, "0123456789") != strlen(id)) {
		fprintf(stderr, "vigilctl: dialtest %s %s: expected an id\n", sub, id);
		return 2;
	}
	(void)snprintf(url, sizeof(url), "%s/api/v1/dialtests%s%s", c->url, *id ? "/" : "", id);
	if (n == 1 && strcmp(sub, "list") == 0) {
		j = api_get(c, url);
		if (j && !c->json)
			printf("%-5s %-24s %-8s %-5s %s\n", "ID", "NAME", "INTERVAL", "STEPS", "DEFINED");
		json_array_foreach(json_object_get(j, "items"), i, item) {
			if (c->json)
				print_json_line(item);
			else
				print_dialtest_line(item);
		}
	} else if (n == 2 && strcmp(sub, "show") == 0) {
		j = api_get(c, url);
		if (j) {
			(void)json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
			putchar('\n');
		}
	} else if ((n == 2 && strcmp(sub, "add") == 0) || (n == 3 && strcmp(sub, "edit") == 0)) {
		body = read_json(words[n - 1]);
		j = body ? api_request(c, strcmp(sub, "add") == 0 ? "POST" : "PUT", url, body) : NULL;
		if (j && !c->json)
			printf("id %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(j, "id")));
		else if (j)
			print_json_line(j);
	} else if (n == 2 && strcmp(sub, "run") == 0) {
		j = run_and_follow(c, id, url);
		if (j && c->json)
			print_json_line(j);
		else if (j)
			print_waterfall(j);
		/* The run was made and the test failed: exit 3, as verify does for a broken chain. */
		if (j && !json_is_true(json_object_get(j, "ok")))
			failed = true;
	} else if (n == 2 && strcmp(sub, "summary") == 0) {
		const struct param params[] = { { "window", a->window } };
		char path[128];

		(void)snprintf(path, sizeof(path), "/api/v1/dialtests/%s/summary", id);
		j = api_get_path(c, path, params, ARRAY_SIZE(params));
		if (j)
			print_summary(c, j);
	} else if (n == 2 && strcmp(sub, "results") == 0) {
		const struct param params[] = { { "since", a->since }, { "until", a->until }, { "limit", a->limit } };
		char path[128];

		(void)snprintf(path, sizeof(path), "/api/v1/dialtests/%s/results", id);
		j = api_get_path(c, path, params, ARRAY_SIZE(params));
		json_array_foreach(json_object_get(j, "items"), i, item) {
			char ts[40];

			if (c->json) {
				print_json_line(item);
				continue;
			}
			format_rfc3339_us((uint64_t)json_integer_value(json_object_get(item, "started")), ts, sizeof(ts));
			printf("%s %-16s %zu steps  %s\n", ts, text(item, "outcome"),
			       json_array_size(json_object_get(item, "steps")), text(item, "message"));
		}
	} else {
		fprintf(stderr, "vigilctl: expected dialtest list, show ID, add FILE, edit ID FILE, run ID, results ID"
				" or summary ID\n");
		return 2;
	}
	free(body);
	if (!j)
		return 1;
	json_decref(j);
	return failed ? 3 : 0;
}

static int cmd_rules(struct ctl *c)
{
	json_t *j = api_get_path(c, "/api/v1/rules", NULL, 0), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json)
		printf("%-24s %-12s %-9s %-7s %s\n", "NAME", "TYPE", "SEVERITY", "DEFINED", "NOTIFY");
	json_array_foreach(json_object_get(j, "items"), i, item) {
		if (c->json)
			print_json_line(item);
		else
			printf("%-24s %-12s %-9s %-7s %s\n", text(item, "name"), text(item, "type"),
			       text(item, "severity"), text(item, "defined_in"), text(item, "notify"));
	}
	json_decref(j);
	return 0;
}

static int cmd_verify(struct ctl *c)
{
	json_t *j = api_get_path(c, "/api/v1/verify", NULL, 0), *item;
	size_t i;
	int ok;

	if (!j)
		return 1;
	json_array_foreach(json_object_get(j, "problems"), i, item)
		printf("block %s: %s\n", json_string_value(json_object_get(item, "block")),
		       json_string_value(json_object_get(item, "problem")));
	ok = json_is_true(json_object_get(j, "ok"));
	printf("%" JSON_INTEGER_FORMAT " blocks checked: %s\n", json_integer_value(json_object_get(j, "blocks")),
	       ok ? "the hash chain is intact" : "TAMPERING OR DAMAGE FOUND");
	json_decref(j);
	return ok ? 0 : 3;
}

static void usage(FILE *f)
{
	(void)fprintf(f,
		"Usage: vigilctl [--url URL] [--token TOKEN] [--cacert FILE] [--cert FILE --key FILE] [--json]\n"
		"                COMMAND [OPTIONS]\n\n"
		"Commands:\n"
		"  logs [--host H] [--source S] [-q TEXT] [--since T] [--until T] [--limit N]\n"
		"       [--kind log|probe|metric|inventory|heartbeat|all] [--reverse | --follow]\n"
		"  hosts\n"
		"  metrics --name N [--host H] [--since T] [--until T] [--step D]\n"
		"  probes [--host H] [--status ok|warning|critical|unknown]\n"
		"  alerts [--state pending|firing|resolved|closed] [--severity S] [--host H]\n"
		"  alert ID  show an alert and its history\n"
		"  alert ID ack|unack|assign|comment|severity|close [--note N] [--to WHO] [--severity S]\n"
		"  ack ID [-m NOTE]    unack ID    comment ID -m NOTE    close ID [-m NOTE]\n"
		"  assign ID USER [-m NOTE]        severity ID info|warning|critical|disaster\n"
		"  silence list [--all]\n"
		"  silence add KEY=VALUE... -m COMMENT (--duration D | --ends T) [--starts T]\n"
		"              [--every D [--until T]]   (a recurring maintenance window)\n"
		"  silence expire ID\n"
		"  rules     the alert rules in force\n"
		"  dialtest list | show ID | add FILE | edit ID FILE | results ID [--since T] [--limit N]\n"
		"  dialtest run ID   run it now; print each step's phases as a waterfall (exit 3 if it fails)\n"
		"  dialtest summary ID [--window D]   availability and latency percentiles\n"
		"  verify    check the stored logs' hash chain (exit 3 if broken)\n\n"
		"The URL defaults to $VIGIL_URL or http://127.0.0.1:8080; the token comes from\n"
		"--token or $VIGIL_TOKEN; an https:// collector's certificate is checked against\n"
		"--cacert or $VIGIL_CACERT (default the system's CAs). Times: RFC 3339, epoch\n"
		"seconds, or a duration ago (15m).\n");
}

static const struct option opts[] = {
	{ "url", required_argument, NULL, 'u' },    { "token", required_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },         { "host", required_argument, NULL, 'H' },
	{ "source", required_argument, NULL, 's' }, { "since", required_argument, NULL, 'S' },
	{ "until", required_argument, NULL, 'U' },  { "limit", required_argument, NULL, 'l' },
	{ "follow", no_argument, NULL, 'f' },       { "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },      { "status", required_argument, NULL, 'X' },
	{ "state", required_argument, NULL, 'A' },  { "severity", required_argument, NULL, 'E' },
	{ "note", required_argument, NULL, 'm' },   { "to", required_argument, NULL, 'O' },
	{ "starts", required_argument, NULL, 'B' }, { "ends", required_argument, NULL, 'Z' },
	{ "duration", required_argument, NULL, 'D' }, { "every", required_argument, NULL, 'R' },
	{ "all", no_argument, NULL, 'a' },          { "kind", required_argument, NULL, 'K' },
	{ "reverse", no_argument, NULL, 'r' },      { "name", required_argument, NULL, 'N' },
	{ "step", required_argument, NULL, 'P' },   { "window", required_argument, NULL, 'W' },
	{ "cacert", required_argument, NULL, 'C' }, { "cert", required_argument, NULL, 'c' },
	{ "key", required_argument, NULL, 'k' },
	{ 0 },
};

/*
 * Parses options up to the first non-option ("+" in optstring) or all of
 * them. Returns -1 to go on, or an exit code.
 */
static int parse_opts(int argc, char **argv, const char *optstring, struct ctl *c, struct logs_args *la)
{
	int opt;

	while ((opt = getopt_long(argc, argv, optstring, opts, NULL)) >= 0) {
		switch (opt) {
		case 'u': c->url = optarg; break;
		case 't': c->token = optarg; break;
		case 'j': c->json = true; break;
		case 'H': la->host = optarg; break;
		case 's': la->source = optarg; break;
		case 'S': la->since = optarg; break;
		case 'U': la->until = optarg; break;
		case 'l': la->limit = optarg; break;
		case 'f': la->follow = true; break;
		case 'q': la->q = optarg; break;
		case 'X': la->status = optarg; break;
		case 'A': la->state = optarg; break;
		case 'E': la->severity = optarg; break;
		case 'm': la->note = optarg; break;
		case 'O': la->to = optarg; break;
		case 'B': la->starts = optarg; break;
		case 'Z': la->ends = optarg; break;
		case 'D': la->duration = optarg; break;
		case 'R': la->every = optarg; break;
		case 'a': la->all = true; break;
		case 'K': la->kind = optarg; break;
		case 'r': la->reverse = true; break;
		case 'N': la->name = optarg; break;
		case 'P': la->step = optarg; break;
		case 'W': la->window = optarg; break;
		case 'C': c->cacert = optarg; break;
		case 'c': c->cert = optarg; break;
		case 'k': c->key = optarg; break;
		case 'V': printf("vigilctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	return -1;
}

static bool is_action(const char *cmd)
{
	static const char *const actions[] = { "ack", "unack", "assign", "comment", "severity", "close" };

	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (strcmp(cmd, actions[i]) == 0)
			return true;
	return false;
}

/* Whether cmd takes n words after it (the commands that take them check which). */
static bool words_fit(const char *cmd, size_t n)
{
	if (strcmp(cmd, "alert") == 0)
		return n == 1 || n == 2;
	if (is_action(cmd) || strcmp(cmd, "silence") == 0 || strcmp(cmd, "dialtest") == 0)
		return n >= 1;
	return n == 0;
}

int main(int argc, char **argv)
{
	struct ctl c = { .url = getenv("VIGIL_URL"), .token = getenv("VIGIL_TOKEN"), .cacert = getenv("VIGIL_CACERT") };
	struct logs_args la = { 0 };
	const char *cmd;
	char **words;
	size_t n_words;
	int r;

	if (!c.url)
		c.url = "http://127.0.0.1:8080";
	r = parse_opts(argc, argv, "+u:t:jH:s:S:U:l:fq:m:hV", &c, &la);
	if (r >= 0)
		return r;
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	/*
	 * Options may follow the command and mix with its words: the rest is
	 * parsed afresh (optind 0), the command standing in for argv[0], and
	 * GNU getopt moves the words behind the options.
	 */
	cmd = argv[optind];
	words = argv + optind;
	n_words = (size_t)(argc - optind);
	optind = 0;
	r = parse_opts((int)n_words, words, "u:t:jH:s:S:U:l:fq:m:hV", &c, &la);
	if (r >= 0)
		return r;
	n_words -= (size_t)optind;
	words += optind;
	if (!words_fit(cmd, n_words)) {
		usage(stderr);
		return 2;
	}
	if (!c.token) {
		fprintf(stderr, "vigilctl: no token: set VIGIL_TOKEN or pass --token\n");
		return 2;
	}
	(void)signal(SIGINT, on_sigint);
	(void)signal(SIGTERM, on_sigint);
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
	c.curl = curl_easy_init();
	if (!c.curl)
		return 1;
	if (strcmp(cmd, "logs") == 0) {
		r = cmd_logs(&c, &la);
	} else if (strcmp(cmd, "hosts") == 0) {
		r = cmd_hosts(&c);
	} else if (strcmp(cmd, "metrics") == 0) {
		r = cmd_metrics(&c, &la);
	} else if (strcmp(cmd, "probes") == 0) {
		r = cmd_probes(&c, &la);
	} else if (strcmp(cmd, "alerts") == 0) {
		r = cmd_alerts(&c, &la);
	} else if (strcmp(cmd, "alert") == 0) {
		r = cmd_alert(&c, &la, words[0], n_words > 1 ? words[1] : NULL);
	} else if (is_action(cmd)) {
		r = cmd_act(&c, &la, cmd, words, n_words);
	} else if (strcmp(cmd, "silence") == 0) {
		r = cmd_silence(&c, &la, words, n_words);
	} else if (strcmp(cmd, "rules") == 0) {
		r = cmd_rules(&c);
	} else if (strcmp(cmd, "dialtest") == 0) {
		r = cmd_dialtest(&c, &la, words, n_words);
	} else if (strcmp(cmd, "verify") == 0) {
		r = cmd_verify(&c);
	} else {
		fprintf(stderr, "vigilctl: unknown command '%s'\n", cmd);
		usage(stderr);
		r = 2;
	}
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	return r;
}

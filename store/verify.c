/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fields.h"
#include "common/macro.h"
#include "common/json.h"
#include "store/verify.h"

/* Only short, printable values are indexed; the block keeps every byte anyway. */
static bool indexable(const uint8_t *v, size_t len)
{
	if (len == 0 || len > VERIFY_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return false;
	return true;
}

static void add_stream(struct batch_info *info, size_t *used, const uint8_t *v, size_t len)
{
	char *dst;

	if (!indexable(v, len))
		return;
	for (size_t i = 0; i < info->n_streams; i++)
		if (strlen(info->streams[i]) == len && memcmp(info->streams[i], v, len) == 0)
			return;
	if (info->n_streams == VERIFY_STREAMS_MAX) {
		info->streams_overflow = true;
		return;
	}
	dst = info->strings + *used;
	memcpy(dst, v, len);
	dst[len] = 0;
	*used += len + 1;
	info->streams[info->n_streams++] = dst;
}

static bool key_is(const struct export_field *f, const char *key, size_t len)
{
	return f->key_len == len && memcmp(f->key, key, len) == 0;
}

/* Which of field_stream_keys names f, or -1. */
static int stream_key(const struct export_field *f)
{
	static const size_t lens[] = { FIELD_LEN(FIELD_SOURCE), FIELD_LEN(FIELD_PATH), FIELD_LEN(FIELD_UNIT),
				       FIELD_LEN(FIELD_IDENTIFIER) };

	_Static_assert(ARRAY_SIZE(lens) == FIELD_STREAM_KEYS, "one length per key");
	for (int k = 0; field_stream_keys[k]; k++)
		if (key_is(f, field_stream_keys[k], lens[k]))
			return k;
	return -1;
}

/*
 * Remembers the last value of each stream key: records of one batch mostly
 * repeat them, and a repeat needs no search.
 */
#define SEEN_FIELDS 16
struct seen {
	const uint8_t *value[FIELD_STREAM_KEYS];
	size_t len[FIELD_STREAM_KEYS];
	/* The same for the fields a record indexes, by their place in it: a repeat's token is in the filter already. */
	struct export_field field[SEEN_FIELDS];
};

static bool field_same(const struct export_field *a, const struct export_field *b)
{
	return a->key_len == b->key_len && a->value_len == b->value_len && a->key &&
	       memcmp(a->key, b->key, a->key_len) == 0 && memcmp(a->value, b->value, a->value_len) == 0;
}

void batch_info_free(struct batch_info *info)
{
	free(info->probes);
	info->probes = NULL;
	info->n_probes = info->cap_probes = 0;
	free(info->metrics);
	info->metrics = NULL;
	info->n_metrics = info->cap_metrics = 0;
	free(info->inventory);
	free(info->labels);
	info->inventory = info->labels = NULL;
	free(info->hits);
	info->hits = NULL;
	info->cap_hits = 0;
	logmetric_acc_free(info->logmetric_acc);
	info->logmetric_acc = NULL;
	info->logmetric_rows = NULL;
	info->n_logmetric_rows = 0;
	tokens_builder_free(info->tokens);
	info->tokens = NULL;
	free(info->index);
	info->index = NULL;
}

json_t *labels_json(const uint8_t *v, size_t len)
{
	json_t *o = json_object();
	size_t i = 0;

	while (i < len) {
		size_t start = i, eq;
		while (i < len && v[i] != ' ' && v[i] != '\t')
			i++;
		for (eq = start; eq < i && v[eq] != '='; eq++)
			;
		if (eq > start && eq < i) {
			json_t *key = json_bytes(v + start, eq - start);
			if (key)
				json_object_set_new(o, json_string_value(key), json_bytes(v + eq + 1, i - eq - 1));
			json_decref(key);
		}
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
	}
	return o;
}

/* HOST_* fields become the host's inventory: {"os": ..., "cpus": 4, "addresses": [...]}. */
static int note_inventory(struct batch_info *info, const struct export_field *f, size_t n)
{
	json_t *inv = json_object(), *labels = NULL;
	char key[EXPORT_KEY_MAX + 1];

	for (size_t i = 0, fields = 0; i < n; i++) {
		uint64_t num;
		if (f[i].key_len <= 5 || memcmp(f[i].key, "HOST_", 5) != 0)
			continue;
		if (++fields > VERIFY_INVENTORY_FIELDS_MAX || f[i].value_len > VERIFY_INVENTORY_VALUE_MAX) {
			info->cut.inventory_fields++;
			continue;
		}
		if (f[i].key_len == 11 && memcmp(f[i].key, "HOST_LABELS", 11) == 0) {
			json_decref(labels);
			labels = labels_json(f[i].value, f[i].value_len);
			continue;
		}
		for (size_t k = 5; k < f[i].key_len; k++)
			key[k - 5] = (char)(f[i].key[k] >= 'A' && f[i].key[k] <= 'Z' ? f[i].key[k] + 32 : f[i].key[k]);
		key[f[i].key_len - 5] = 0;
		if (strcmp(key, "addresses") == 0) {
			json_t *a = json_array(), *all = json_bytes(f[i].value, f[i].value_len);
			char *dup = strdup(json_string_value(all) ? json_string_value(all) : ""), *save = NULL;
			for (char *w = dup ? strtok_r(dup, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save))
				json_array_append_new(a, json_string(w));
			free(dup);
			json_decref(all);
			json_object_set_new(inv, key, a);
		} else if (export_value_u64(f[i].value, f[i].value_len, &num)) {
			json_object_set_new(inv, key, json_integer((json_int_t)num));
		} else {
			json_object_set_new(inv, key, json_bytes(f[i].value, f[i].value_len));
		}
	}
	free(info->inventory);
	free(info->labels);
	info->inventory = json_dumps(inv, JSON_COMPACT);
	if (!labels)
		labels = json_object();
	info->labels = labels ? json_dumps(labels, JSON_COMPACT) : NULL;
	json_decref(inv);
	json_decref(labels);
	return info->inventory && info->labels ? 0 : -ENOMEM;
}

/* The length of the longest prefix of p within max bytes that does not cut a UTF-8 character. */
static size_t utf8_prefix(const char *p, size_t max)
{
	size_t n = max;

	while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* The fields that say which instance a metric set describes, not a value. */
static bool instance_key(const struct export_field *f)
{
	return key_is(f, FIELD_METRIC_MOUNT, FIELD_LEN(FIELD_METRIC_MOUNT)) ||
	       key_is(f, FIELD_METRIC_DEVICE, FIELD_LEN(FIELD_METRIC_DEVICE)) ||
	       key_is(f, FIELD_METRIC_INTERFACE, FIELD_LEN(FIELD_METRIC_INTERFACE)) ||
	       key_is(f, FIELD_METRIC_TEST, FIELD_LEN(FIELD_METRIC_TEST));
}

static bool parse_number(const uint8_t *v, size_t len, double *ret)
{
	char tmp[32], *end;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, v, len);
	tmp[len] = 0;
	*ret = strtod(tmp, &end);
	return *end == 0;
}

static bool set_name(const uint8_t *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
			return false;
	return true;
}

/* Every numeric METRIC_* field of a metric record becomes a row "<set>.<field>". */
static int note_metric(struct batch_info *info, const struct export_field *f, size_t n, uint64_t ts)
{
	const struct export_field *set = export_find(f, n, FIELD_METRIC_SET), *inst = NULL;

	/* A set is a plain word: "dialtest\0x" or "a.b" would name another set's rows. */
	if (!set || set->value_len == 0 || set->value_len > 32 || !set_name(set->value, set->value_len))
		return 0;
	for (size_t i = 0; i < n && !inst; i++)
		if (instance_key(&f[i]))
			inst = &f[i];
	for (size_t i = 0, fields = 0; i < n; i++) {
		struct metric_row *row;
		double v;

		if (f[i].key_len <= FIELD_LEN(FIELD_METRIC_PREFIX) ||
		    memcmp(f[i].key, FIELD_METRIC_PREFIX, FIELD_LEN(FIELD_METRIC_PREFIX)) != 0 || &f[i] == set || instance_key(&f[i]) ||
		    !parse_number(f[i].value, f[i].value_len, &v))
			continue;
		if (++fields > VERIFY_METRIC_FIELDS_MAX || info->n_metrics >= VERIFY_METRIC_ROWS_MAX) {
			info->cut.metric_rows++;
			continue;
		}
		if (info->n_metrics == info->cap_metrics) {
			size_t cap = info->cap_metrics ? info->cap_metrics * 2 : 64;
			struct metric_row *grown = realloc(info->metrics, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			info->metrics = grown;
			info->cap_metrics = cap;
		}
		row = &info->metrics[info->n_metrics++];
		row->ts = ts;
		row->value = v;
		row->instance = inst && inst->value_len <= VERIFY_VALUE_MAX ? (const char *)inst->value : "";
		row->instance_len = inst && inst->value_len <= VERIFY_VALUE_MAX ? inst->value_len : 0;
		(void)snprintf(row->name, sizeof(row->name), "%.*s.", (int)set->value_len, (const char *)set->value);
		for (size_t k = 7, o = strlen(row->name); k < f[i].key_len && o + 1 < sizeof(row->name); k++, o++) {
			char c = f[i].key[k];
			row->name[o] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			row->name[o + 1] = 0;
		}
	}
	return 0;
}

static void field_str(const struct export_field *f, const char **ret, size_t *ret_len)
{
	*ret = f ? (const char *)f->value : "";
	*ret_len = f ? f->value_len : 0;
}

/* A dial test's result rides on its probe record; kept apart for GET /api/v1/dialtests/{id}/results. */
static void note_dialtest(struct probe_row *row, const struct export_field *f, size_t n)
{
	const struct export_field *id = export_find(f, n, FIELD_DIALTEST_ID);

	field_str(export_find(f, n, FIELD_DIALTEST_RESULT), &row->result, &row->result_len);
	field_str(export_find(f, n, FIELD_DIALTEST_OUTCOME), &row->outcome, &row->outcome_len);
	if (!id || !row->result_len || !export_value_u64(id->value, id->value_len, &row->dialtest_id))
		row->result = NULL;
}

/* Whether an agent's (not a relayed device's) run of a dial test is of a test run on agents. */
static bool vantage_may_speak(const struct batch_info *info, const struct export_field *f, size_t n)
{
	const struct export_field *id = export_find(f, n, FIELD_DIALTEST_ID);
	uint64_t v;

	if (info->relayed || !id || !export_value_u64(id->value, id->value_len, &v))
		return false;
	return !info->dialtest_on_agents || info->dialtest_on_agents(info->dialtest_ctx, v);
}

/* The agent's own kinds that are queried by value become rows: probe results, metrics, the inventory. */
static int note_kind(struct batch_info *info, const struct export_field *f, size_t n, uint64_t ts)
{
	const struct export_field *kind = export_find(f, n, FIELD_KIND), *lat;
	struct probe_row *row;

	if (export_field_is(kind, KIND_INVENTORY))
		return note_inventory(info, f, n);
	/*
	 * Dial tests' metrics are the collector's own, which the latency and
	 * certificate rules judge. An agent speaks for its own runs of them, as
	 * a vantage point (its host, the batch's): no relayed device does.
	 */
	if ((!info->local && export_field_is(export_find(f, n, FIELD_METRIC_SET), DIALTEST_TYPE)) ||
	    (!info->local && export_field_is(export_find(f, n, FIELD_PROBE_TYPE), DIALTEST_TYPE) &&
	     !vantage_may_speak(info, f, n)))
		return 0;
	if (export_field_is(kind, KIND_METRIC))
		return note_metric(info, f, n, ts);
	if (!export_field_is(kind, KIND_PROBE))
		return 0;
	if (info->n_probes >= VERIFY_PROBE_ROWS_MAX) {
		info->cut.probe_rows++;
		return 0;
	}
	if (info->n_probes == info->cap_probes) {
		size_t cap = info->cap_probes ? info->cap_probes * 2 : 16;
		struct probe_row *grown = realloc(info->probes, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		info->probes = grown;
		info->cap_probes = cap;
	}
	row = &info->probes[info->n_probes];
	*row = (struct probe_row){ .ts = ts };
	field_str(export_find(f, n, FIELD_PROBE_NAME), &row->name, &row->name_len);
	field_str(export_find(f, n, FIELD_PROBE_TYPE), &row->type, &row->type_len);
	field_str(export_find(f, n, FIELD_PROBE_STATUS), &row->status, &row->status_len);
	field_str(export_find(f, n, FIELD_MESSAGE), &row->message, &row->message_len);
	/* The whole message stays in the block; the rows keep what a screen shows. */
	if (row->message_len > VERIFY_PROBE_MESSAGE_MAX) {
		info->cut.message_bytes += row->message_len - VERIFY_PROBE_MESSAGE_MAX;
		row->message_len = utf8_prefix(row->message, VERIFY_PROBE_MESSAGE_MAX);
	}
	lat = export_find(f, n, FIELD_PROBE_LATENCY_US);
	if (lat)
		(void)export_value_u64(lat->value, lat->value_len, &row->latency_us);
	if (export_field_is(export_find(f, n, FIELD_PROBE_TYPE), DIALTEST_TYPE))
		note_dialtest(row, f, n);
	if (row->name_len && row->name_len <= VERIFY_VALUE_MAX)
		info->n_probes++;
	return 0;
}

/*
 * The batch's host is the _HOSTNAME of the first record the agent made
 * itself. Journal entries keep journald's, which names another host when the
 * agent's hostname= differs or directory= holds another host's journal.
 */
static void note_host(struct batch_info *info, const struct export_field *f, size_t n)
{
	const struct export_field *h = export_find(f, n, FIELD_HOST), *src = export_find(f, n, FIELD_SOURCE);

	if (!h || export_field_is(src, SOURCE_JOURNAL))
		return;
	if (h->value_len < sizeof(info->host) && indexable(h->value, h->value_len)) {
		memcpy(info->host, h->value, h->value_len);
		info->host[h->value_len] = 0;
	}
}

/*
 * Whether the agent made the record itself (a probe result, a metric, the
 * inventory, a heartbeat): every record read from a source (a file, the
 * journal) names it in VIGIL_SOURCE, and only the agent's own have none.
 * What a source's record says in VIGIL_KIND, PROBE_*, METRIC_* or HOST_*
 * (a program may write any field into the journal) is kept as log, never
 * acted on.
 */
static bool agents_own(const struct export_field *f, size_t n)
{
	return !export_find(f, n, FIELD_SOURCE);
}

/* The record's tokens into the batch's index: its message's, and one per field it indexes. */
static void index_record(struct tokens_builder *b, struct seen *seen, const struct export_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (key_is(&f[i], FIELD_MESSAGE, FIELD_LEN(FIELD_MESSAGE))) {
			tokens_of_text(f[i].value, f[i].value_len, tokens_builder_add, b);
		} else if (i < SEEN_FIELDS && field_same(&seen->field[i], &f[i])) {
			continue;
		} else if (f[i].value_len <= TOKENS_VALUE_MAX && tokens_field_indexed(f[i].key, f[i].key_len)) {
			tokens_builder_add(tokens_of_field(f[i].key, f[i].key_len, f[i].value, f[i].value_len), b);
			if (i < SEEN_FIELDS)
				seen->field[i] = f[i];
		}
	}
}

/* A log record (time t) into the series of the log metrics it matches; host: terms look at its own _HOSTNAME. */
static int note_logmetrics(struct batch_info *info, const struct export_field *f, size_t n, uint64_t t,
			   uint64_t now_us)
{
	const struct export_field *h = export_find(f, n, FIELD_HOST);
	char host[256] = "";
	struct query_record r = { .fields = f, .n = n, .host = host, .agent = "" };

	if (h && h->value_len < sizeof(host) && !memchr(h->value, 0, h->value_len)) {
		memcpy(host, h->value, h->value_len);
		host[h->value_len] = '\0';
	}
	/* A line dated years ahead would stay in every rule's "recent" window: it counts as received now. */
	if (t > now_us + VERIFY_FUTURE_US) {
		info->cut.future_times++;
		t = now_us;
	}
	return logmetric_acc_add(info->logmetric_acc, info->logmetrics, &r, t, &info->cut.logmetric_series);
}

static int note_entry(struct batch_info *info, size_t *used, struct seen *seen, const struct logmatch *lm,
		      const struct export_field *f, size_t n, uint64_t now_us)
{
	uint64_t t = now_us;

	if (!info->no_index)
		index_record(info->tokens, seen, f, n);

	if (!info->host[0])
		note_host(info, f, n);
	for (size_t i = 0; i < n; i++) {
		int k;

		if (key_is(&f[i], FIELD_TIME, FIELD_LEN(FIELD_TIME))) {
			if (!export_value_u64(f[i].value, f[i].value_len, &t))
				t = now_us;
			continue;
		}
		k = stream_key(&f[i]);
		if (k < 0 || (seen->len[k] == f[i].value_len && seen->value[k] &&
			      memcmp(seen->value[k], f[i].value, f[i].value_len) == 0))
			continue;
		seen->value[k] = f[i].value;
		seen->len[k] = f[i].value_len;
		add_stream(info, used, f[i].value, f[i].value_len);
	}
	info->ts_min = MIN(info->ts_min, t);
	info->ts_max = MAX(info->ts_max, t);
	logmatch_record(lm, f, n, t, info->hits);
	if (!agents_own(f, n))
		return logmetrics_count(info->logmetrics) ? note_logmetrics(info, f, n, t, now_us) : 0;
	/*
	 * A probe result or metric dated years ahead would stay "latest" (a
	 * probe's state, a metric's last value) until then, whatever comes
	 * after it: the rows take the collector's time; the block keeps it as sent.
	 */
	if (t > now_us + VERIFY_FUTURE_US) {
		info->cut.future_times++;
		t = now_us;
	}
	return note_kind(info, f, n, t);
}

/* One zeroed hit per rule of lm. */
static int hits_reset(struct batch_info *info, const struct logmatch *lm)
{
	size_t n = logmatch_count(lm);

	if (n > info->cap_hits) {
		struct logmatch_hit *grown = realloc(info->hits, n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		info->hits = grown;
		info->cap_hits = n;
	}
	if (n)
		memset(info->hits, 0, n * sizeof(*info->hits));
	return 0;
}

enum frame_error batch_verify(const uint8_t *raw, size_t len, const struct export_limits *lim,
			      const struct logmatch *lm, uint64_t now_us, struct batch_info *info)
{
	struct export_field *fields = malloc(lim->max_fields * sizeof(*fields));
	struct seen seen = { 0 };
	struct export_reader rd;
	size_t n, used = 0;
	int r;

	if (!info->tokens && !info->no_index)
		info->tokens = tokens_builder_new();
	if (!info->logmetric_acc && logmetrics_count(info->logmetrics))
		(void)logmetric_acc_new(&info->logmetric_acc);
	if (!fields || (!info->tokens && !info->no_index) || hits_reset(info, lm) < 0 ||
	    (!info->logmetric_acc && logmetrics_count(info->logmetrics))) {
		free(fields);
		return FRAME_ERR_STORAGE;
	}
	if (info->tokens)
		tokens_builder_reset(info->tokens);
	free(info->index);
	info->index = NULL;
	info->index_len = 0;
	info->records = 0;
	info->ts_min = UINT64_MAX;
	info->ts_max = 0;
	info->host[0] = 0;
	info->n_streams = 0;
	info->streams_overflow = false;
	info->n_probes = 0;
	info->n_metrics = 0;
	info->cut = (struct verify_cut){ 0 };
	info->logmetric_rows = NULL;
	info->n_logmetric_rows = 0;
	if (info->logmetric_acc)
		logmetric_acc_reset(info->logmetric_acc);
	free(info->inventory);
	free(info->labels);
	info->inventory = info->labels = NULL;
	export_reader_init(&rd, raw, len, lim);
	while ((r = export_reader_next(&rd, fields, lim->max_fields, &n)) > 0) {
		r = note_entry(info, &used, &seen, lm, fields, n, now_us);
		if (r < 0)
			break;
		info->records++;
	}
	free(fields);
	if (r == 0 && info->records && !info->no_index)
		r = tokens_builder_write(info->tokens, &info->index, &info->index_len);
	/* Too many distinct tokens: the block is stored without a filter, and searches read it. */
	if (r == -E2BIG)
		r = 0;
	if (r == 0 && info->logmetric_acc)
		r = logmetric_acc_rows(info->logmetric_acc, &info->logmetric_rows, &info->n_logmetric_rows);
	if (r == -ENOMEM)
		return FRAME_ERR_STORAGE;
	return r < 0 || info->records == 0 ? FRAME_ERR_DECODE : FRAME_OK;
}

bool probe_row_ok(const struct probe_row *p)
{
	return p->status_len == 2 && memcmp(p->status, "ok", 2) == 0;
}

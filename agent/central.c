/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "agent/central.h"
#include "agent/central_policy.h"
#include "agent/vantage.h"
#include "common/export.h"
#include "common/file.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"

#define HEADER "# vigil-agent: the collector's configuration for this host, version "
#define GROUP_MARK "# group "
#define POLICY_NAME "central" /* what the policy check's errors name the text */

struct central {
	sd_event *event;
	const char *config_path;
	char *path;    /* STATE_DIR/central.conf: what runs */
	char *pending; /* ... .new: what is being checked */
	char *tests_path, *tests_pending; /* STATE_DIR/central-dialtests.json, .new: {"version": V, "tests": [...]} */
	json_t *tests; /* the dial tests in force with central.conf; NULL: none */
	/* The local files' [central] and [agent] labels, as the last load read them. */
	bool enabled;
	bool allow_commands;
	bool allow_dialtests;
	char *allow_paths;
	char *labels; /* what the groups select by */
	struct shipper *sh;
	uint8_t id[AGENT_ID_SIZE];
	uint32_t seen;    /* the newest generation a reply named */
	uint32_t asked;   /* the generation of the last answer */
	bool busy;        /* a request is out */
	uint32_t running; /* central.conf's version in force; 0: none */
	uint64_t applied_us;
	uint32_t wanted; /* the version that failed */
	char error[1024];
	sd_event_source *reload;
	bool reload_needed; /* a new central.conf, not only a new report */
	void (*changed)(void *ud, bool reload);
	void *ud;
};

static int on_reload(sd_event_source *s, void *userdata)
{
	struct central *ce = userdata;
	bool reload = ce->reload_needed;

	ce->reload = sd_event_source_disable_unref(ce->reload);
	ce->reload_needed = false;
	ce->changed(ce->ud, reload);
	return 0;
}

/* Deferred: the answer is handled inside the shipper, which a reload may replace. */
static void changed(struct central *ce, bool reload)
{
	ce->reload_needed |= reload;
	if (!ce->reload && sd_event_add_defer(ce->event, &ce->reload, on_reload, ce) < 0)
		log_error("central: cannot schedule the reload; what came is in force at the next one");
}

/* "group NAME:LINE" of line of text, the composed file (its groups begin at GROUP_MARK lines), into buf. */
static const char *group_where(const char *text, unsigned line, char *buf, size_t size)
{
	unsigned n = 1, mark = 0;
	const char *name = NULL;
	size_t name_len = 0;

	for (const char *p = text; *p && n < line; n++) {
		if (strncmp(p, GROUP_MARK, strlen(GROUP_MARK)) == 0) {
			name = p + strlen(GROUP_MARK);
			name_len = strcspn(name, " \n");
			mark = n;
		}
		p = strchrnul(p, '\n');
		if (*p)
			p++;
	}
	if (name)
		(void)snprintf(buf, size, "group %.*s:%u", (int)name_len, name, line - mark);
	else
		(void)snprintf(buf, size, "central.conf:%u", line);
	return buf;
}

/* The first error, its place as the groups have it, as the one reported; all of them logged. */
static void note_failure(struct central *ce, const char *file, const char *text, const struct conf_errors *errs)
{
	size_t fl = strlen(file);

	ce->error[0] = 0;
	for (size_t i = 0; i < errs->n; i++) {
		const char *m = errs->msg[i], *rest = m;
		char where[300], group[256];
		unsigned line = 0;

		/* The loader names the file, the policy check "central": either way "NAME:LINE: ...". */
		for (size_t k = 0; k < 2 && !line; k++) {
			const char *name = k ? POLICY_NAME : file;
			size_t n = k ? strlen(POLICY_NAME) : fl;

			if (strncmp(m, name, n) == 0 && m[n] == ':' && sscanf(m + n + 1, "%u", &line) == 1)
				rest = strchr(m + n + 1, ':') ? strchr(m + n + 1, ':') + 1 : m;
		}
		if (line)
			(void)snprintf(where, sizeof(where), "%s:", group_where(text, line, group, sizeof(group)));
		else
			where[0] = 0;
		log_error("central configuration version %" PRIu32 ": %s%s", ce->wanted, where, rest);
		if (!ce->error[0])
			(void)snprintf(ce->error, sizeof(ce->error), "%s%s", where, rest);
	}
	if (!ce->error[0])
		(void)snprintf(ce->error, sizeof(ce->error), "cannot be read");
}

static uint64_t file_mtime_us(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_mtim.tv_sec * 1000000 + (uint64_t)st.st_mtim.tv_nsec / 1000 : 0;
}

static uint32_t version_of(const char *text)
{
	uint32_t v = 0;

	return strncmp(text, HEADER, strlen(HEADER)) == 0 && sscanf(text + strlen(HEADER), "%" SCNu32, &v) == 1 ? v : 0;
}

/*
 * file (the composed text, read) checked against the local [central] of
 * the last load and loaded over the local files into *ret; the failure
 * noted. 0, or < 0.
 */
static int load_layer(struct central *ce, const char *file, const char *text, struct agent_conf **ret)
{
	const struct central_policy p = { ce->allow_commands, ce->allow_paths };
	struct conf_errors errs = { 0 };
	int r = central_policy_check(&p, POLICY_NAME, text, &errs);

	if (r == 0)
		r = agent_conf_load_layers(ce->config_path, file, ret, &errs);
	if (r < 0)
		note_failure(ce, file, text, &errs);
	conf_errors_free(&errs);
	return r;
}

/*
 * The dial tests that go with version (text: the file as stored; NULL, no
 * file: a central.conf of an agent before dial tests), checked against the
 * local [central]; NULL into *ret when there are none. The failure noted,
 * as the configuration's is.
 */
static int load_tests(struct central *ce, const char *text, uint32_t version, json_t **ret)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL, *tests = json_object_get(j, "tests");
	int r = 0;

	*ret = NULL;
	if (!text)
		return 0;
	if (!json_is_array(tests) || json_integer_value(json_object_get(j, "version")) != version) {
		(void)snprintf(ce->error, sizeof(ce->error), "%s: not the dial tests of version %" PRIu32, ce->tests_path,
			       version);
		r = -EINVAL;
	} else if (json_array_size(tests) && !ce->allow_dialtests) {
		(void)snprintf(ce->error, sizeof(ce->error), "%zu dial tests: this host's [central] allow_dialtests=no",
			       json_array_size(tests));
		r = -EPERM;
	} else if (json_array_size(tests) && (r = vantage_check(tests, ce->error, sizeof(ce->error))) == 0) {
		*ret = json_incref(tests);
	}
	json_decref(j);
	return r;
}

/* The local settings central.c works by, copied from local. */
static int take_local(struct central *ce, const struct agent_conf *local)
{
	char *paths = local->central.allow_paths ? strdup(local->central.allow_paths) : NULL;
	char *labels = strdup(local->agent.labels ? local->agent.labels : "");
	const char *dir = local->agent.state_dir;

	if ((local->central.allow_paths && !paths) || !labels ||
	    (!ce->path && (asprintf(&ce->path, "%s/central.conf", dir) < 0 ||
			   asprintf(&ce->pending, "%s/central.conf.new", dir) < 0 ||
			   asprintf(&ce->tests_path, "%s/central-dialtests.json", dir) < 0 ||
			   asprintf(&ce->tests_pending, "%s/central-dialtests.json.new", dir) < 0))) {
		free(paths);
		free(labels);
		return -ENOMEM;
	}
	free(ce->allow_paths);
	ce->allow_paths = paths;
	free(ce->labels);
	ce->labels = labels;
	ce->enabled = local->central.enabled;
	ce->allow_commands = local->central.allow_commands;
	ce->allow_dialtests = local->central.allow_dialtests;
	return 0;
}

int central_load(struct central *ce, struct agent_conf **ret)
{
	struct agent_conf *local, *full = NULL;
	char *text = NULL;
	int r = agent_conf_load(ce->config_path, &local);

	if (r < 0)
		return r;
	r = take_local(ce, local);
	if (r < 0) {
		agent_conf_free(local);
		return r;
	}
	/* Asked again at the next reply: the local settings, or the labels, may be others now. */
	ce->asked = 0;
	ce->running = 0;
	json_decref(TAKE_PTR(ce->tests));
	if (ce->enabled && file_read_text(ce->path, CONFIG_TEXT_MAX + 4096, &text) == 0) {
		char *tests_text = NULL;
		json_t *tests = NULL;

		ce->wanted = version_of(text);
		(void)file_read_text(ce->tests_path, CONFIG_TESTS_MAX + 4096, &tests_text);
		if (load_layer(ce, ce->path, text, &full) == 0 && load_tests(ce, tests_text, ce->wanted, &tests) == 0) {
			agent_conf_free(local);
			local = full;
			full = NULL;
			ce->tests = tests;
			ce->running = ce->wanted;
			ce->wanted = 0;
			ce->error[0] = 0;
			ce->applied_us = file_mtime_us(ce->path);
		}
		agent_conf_free(full);
		free(tests_text);
	}
	free(text);
	*ret = local;
	return 0;
}

static void ask(struct central *ce)
{
	struct config_request q = { .running = ce->running, .takes_dialtests = true };

	if (!ce->enabled || !ce->sh || ce->busy || ce->seen == ce->asked)
		return;
	memcpy(q.agent_id, ce->id, sizeof(q.agent_id));
	(void)snprintf(q.labels, sizeof(q.labels), "%s", ce->labels);
	if (shipper_ask_config(ce->sh, &q) == 0)
		ce->busy = true;
}

static void on_generation(void *ud, uint32_t generation)
{
	struct central *ce = ud;

	ce->seen = generation;
	ask(ce);
}

/*
 * The dial tests of rep checked and put in place (none: an empty list),
 * before central.conf: with its version in them, so that after a crash
 * before the configuration's rename neither is taken for the other's.
 */
static int put_tests(struct central *ce, const struct config_reply *rep)
{
	json_t *tests = rep->tests_len ? json_loadb((const char *)rep->tests, rep->tests_len, 0, NULL) : json_array();
	json_t *file = tests ? json_pack("{s:I, s:O}", "version", (json_int_t)rep->version, "tests", tests) : NULL;
	char *text = file ? json_dumps(file, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_t *held = NULL;
	int r;

	if (!tests) {
		(void)snprintf(ce->error, sizeof(ce->error), "dial tests: not a JSON list");
		r = -EINVAL;
	} else {
		r = text ? load_tests(ce, text, rep->version, &held) : -ENOMEM;
	}
	if (r == 0 && (r = file_write_atomic(ce->tests_pending, text, strlen(text), 0640)) == 0 &&
	    rename(ce->tests_pending, ce->tests_path) < 0)
		r = -errno;
	json_decref(held);
	json_decref(file);
	json_decref(tests);
	free(text);
	return r;
}

/* text (the version given) checked as central.conf would be read, and put there when it holds. */
static void apply(struct central *ce, const struct config_reply *rep)
{
	struct agent_conf *full = NULL;
	struct buf b;
	int r;

	ce->wanted = rep->version;
	ce->error[0] = 0;
	buf_init(&b, CONFIG_TEXT_MAX + 4096);
	r = buf_printf(&b, HEADER "%" PRIu32 " (docs/control.md); rewritten as the collector says, do not edit\n",
		       rep->version);
	if (r == 0)
		r = buf_append(&b, rep->text, rep->text_len);
	if (r == 0)
		r = buf_terminate(&b);
	if (r == 0)
		r = file_write_atomic(ce->pending, b.data, b.len, 0640);
	if (r == 0 && (r = load_layer(ce, ce->pending, (const char *)b.data, &full)) == 0)
		r = put_tests(ce, rep);
	if (r == 0 && rename(ce->pending, ce->path) < 0)
		r = -errno;
	if (r == 0) {
		log_info("central configuration version %" PRIu32 " holds; putting it in force", rep->version);
		changed(ce, true);
	} else {
		(void)unlink(ce->pending);
		if (!ce->error[0])
			(void)snprintf(ce->error, sizeof(ce->error), "%s", strerror(-r));
		log_warning("central configuration version %" PRIu32 " refused (%s); version %" PRIu32 " stays in force",
			    rep->version, ce->error, ce->running);
		changed(ce, false);
	}
	agent_conf_free(full);
	buf_free(&b);
}

static void on_answer(void *ud, const struct config_reply *rep, int err)
{
	struct central *ce = ud;

	ce->busy = false;
	if (err < 0 || rep->status == CONFIG_UNAVAILABLE) {
		log_debug("central: no configuration this time (%s); asked again at a later reply",
			  err < 0 ? strerror(-err) : "the collector cannot say now");
		return;
	}
	ce->asked = rep->generation;
	if (rep->status == CONFIG_NONE && (ce->running || access(ce->path, F_OK) == 0)) {
		log_info("central: no config group is for this host any more; its own files alone are in force");
		if (unlink(ce->path) < 0 && errno != ENOENT)
			log_error_errno(errno, "central: cannot remove %s: %m", ce->path);
		if (unlink(ce->tests_path) < 0 && errno != ENOENT)
			log_error_errno(errno, "central: cannot remove %s: %m", ce->tests_path);
		changed(ce, true);
	} else if (rep->status == CONFIG_OK && (rep->version != ce->running || ce->error[0])) {
		apply(ce, rep);
	}
	ask(ce);
}

void central_attach(struct central *ce, sd_event *event, struct shipper *sh, const uint8_t *agent_id)
{
	ce->event = event;
	ce->sh = sh;
	ce->busy = false;
	memcpy(ce->id, agent_id, sizeof(ce->id));
	shipper_on_config(sh, on_generation, on_answer, ce);
}

int central_inventory(const struct central *ce, struct buf *out)
{
	int r = 0;

	if (ce->running) {
		r |= export_put_u64(out, "HOST_CONFIG_VERSION", ce->running);
		r |= export_put_u64(out, "HOST_CONFIG_APPLIED", ce->applied_us);
	}
	if (ce->error[0]) {
		r |= export_put_u64(out, "HOST_CONFIG_WANTED", ce->wanted);
		r |= export_put_str(out, "HOST_CONFIG_ERROR", ce->error);
	}
	return r ? -ENOBUFS : 0;
}

json_t *central_dialtests(const struct central *ce)
{
	return ce->tests;
}

void central_report(const struct central *ce, FILE *f)
{
	if (ce->error[0])
		(void)fprintf(f, "%s: not in force: %s\n", ce->path, ce->error);
	else if (ce->running)
		(void)fprintf(f, "%s: version %" PRIu32 " in force\n", ce->path, ce->running);
}

int central_new(const char *config_path, void (*on_changed)(void *ud, bool reload), void *ud, struct central **ret)
{
	struct central *ce = calloc(1, sizeof(*ce));

	if (!ce)
		return -ENOMEM;
	ce->config_path = config_path;
	ce->changed = on_changed;
	ce->ud = ud;
	*ret = ce;
	return 0;
}

void central_free(struct central *ce)
{
	if (!ce)
		return;
	sd_event_source_disable_unref(ce->reload);
	free(ce->path);
	free(ce->pending);
	free(ce->tests_path);
	free(ce->tests_pending);
	json_decref(ce->tests);
	free(ce->allow_paths);
	free(ce->labels);
	free(ce);
}

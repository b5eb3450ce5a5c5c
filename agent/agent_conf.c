/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stddef.h>

#include "agent/agent_conf.h"
#include "common/macro.h"
#include "common/util.h"
#include "parse/container.h"
#include "parse/parser.h"

#define A(f) offsetof(struct agent_conf, agent.f) - offsetof(struct agent_conf, agent)
#define C(f) offsetof(struct agent_conf, collector.f) - offsetof(struct agent_conf, collector)
#define B(f) offsetof(struct agent_conf, batch.f) - offsetof(struct agent_conf, batch)
#define S(f) offsetof(struct agent_conf, spool.f) - offsetof(struct agent_conf, spool)
#define T(f) offsetof(struct tail_conf, f)
#define J(f) offsetof(struct journal_conf, f)
#define P(f) offsetof(struct parser_conf, f)
#define M(f) offsetof(struct agent_conf, metrics.f) - offsetof(struct agent_conf, metrics)

static const struct conf_key agent_keys[] = {
	{ "state_dir", CONF_STR, A(state_dir), "/var/lib/vigil-agent", .help = "spool and checkpoints" },
	{ "id", CONF_STR, A(id), NULL, .help = "agent id, 32 hex digits; default: app-specific machine id" },
	{ "hostname", CONF_STR, A(hostname), NULL, .help = "hostname sent with records; default: gethostname()" },
	{ "labels", CONF_STR, A(labels), NULL, .help = "key=value pairs describing the host (zone, department, role)" },
	{ "inventory", CONF_BOOL, A(inventory), "yes", .help = "send the host's inventory at start and when it changes" },
	{ "heartbeat", CONF_SECS, A(heartbeat_ms), "30s", 0, 3600000, .help = "a heartbeat when nothing else was sent for this long (0: never)" },
};

static const struct conf_key collector_keys[] = {
	{ "address", CONF_STR, C(t.address), NULL, .required = true, .help = "tcp://, ipc:// or tls+tcp:// URL; several collectors' separated by spaces (spread over, failed over)" },
	{ "tls_ca", CONF_STR, C(t.tls_ca), NULL, .help = "CA bundle that signed the collector's certificate" },
	{ "tls_cert", CONF_STR, C(t.tls_cert), NULL, .help = "this agent's certificate (PEM)" },
	{ "tls_key", CONF_STR, C(t.tls_key), NULL, .help = "this agent's private key (PEM)" },
	{ "tls_server_name", CONF_STR, C(t.tls_server_name), NULL, .help = "name to verify in the collector's certificate" },
	{ "inflight", CONF_UINT, C(inflight), "4", 1, 64, .help = "batches awaiting acknowledgement at once" },
	{ "timeout", CONF_MSEC, C(timeout_ms), "30s", 100, 3600000, .help = "time to wait for an acknowledgement" },
	{ "backoff_max", CONF_MSEC, C(backoff_max_ms), "30s", 100, 3600000, .help = "longest wait between retries" },
};

static const struct conf_key batch_keys[] = {
	{ "max_records", CONF_UINT, B(max_records), "8192", 1, 65536, .help = "records per batch" },
	{ "max_bytes", CONF_SIZE, B(max_bytes), "2M", 4096, 16 * 1024 * 1024, .help = "uncompressed bytes per batch" },
	{ "max_delay_ms", CONF_MSEC, B(max_delay_ms), "500", 1, 600000, .help = "longest a record waits for its batch" },
	{ "zstd_level", CONF_UINT, B(zstd_level), "1", 1, 19, .help = "zstd compression level" },
};

static const struct conf_key spool_keys[] = {
	{ "max_bytes", CONF_SIZE, S(max_bytes), "1G", 1024 * 1024, UINT64_C(1) << 50, .help = "spool size at which reading pauses" },
	{ "sync", CONF_BOOL, S(sync), "yes", .help = "fsync every spool commit (survives power loss)" },
};

static const struct conf_key journal_keys[] = {
	{ "enabled", CONF_BOOL, J(enabled), "no", .help = "ship the systemd journal" },
	{ "directory", CONF_STR, J(directory), NULL, .help = "read journal files from this directory instead of the local journal" },
	{ "units", CONF_STR, J(units), NULL, .help = "only these units (space-separated _SYSTEMD_UNIT values)" },
	{ "identifiers", CONF_STR, J(identifiers), NULL, .help = "only these identifiers (space-separated SYSLOG_IDENTIFIER values)" },
	{ "priority", CONF_UINT, J(priority), "7", 0, 7, .help = "only entries of this priority or more urgent (0 emerg .. 7 debug)" },
	{ "settle", CONF_MSEC, J(settle_ms), "1s", 10, 60000, .help = "how long the newest entry waits for a newer one (its writer may not have linked all its fields yet)" },
};

static const struct conf_key enroll_keys[] = {
	{ "url", CONF_STR, offsetof(struct agent_conf, enroll.url) - offsetof(struct agent_conf, enroll), NULL, .help = "the collector's HTTPS API the certificate of [collector] tls_cert= was enrolled at (vigil-agent --enroll writes it): the agent renews it there when a third of its life is left" },
};

static const struct conf_key metrics_keys[] = {
	{ "enabled", CONF_BOOL, M(enabled), "yes", .help = "send host metrics (cpu, memory, load, filesystems, disks, network, the agent)" },
	{ "interval", CONF_SECS, M(interval_ms), "10s", 1000, 3600000, .help = "time between samples" },
};

#define CE(f) offsetof(struct agent_conf, central.f) - offsetof(struct agent_conf, central)
static const struct conf_key central_keys[] = {
	{ "enabled", CONF_BOOL, CE(enabled), "yes", .help = "run what the collector's config groups give this host (docs/control.md); never its [collector], [spool], [batch], [enroll], [syslog] or [central]" },
	{ "allow_commands", CONF_BOOL, CE(allow_commands), "no", .help = "let the collector's configuration add command probes, which run programs on this host" },
	{ "allow_dialtests", CONF_BOOL, CE(allow_dialtests), "yes", .help = "run the collector's dial tests whose run_on selects this host's labels (HTTP requests from this host; never with a credential)" },
	{ "allow_paths", CONF_STR, CE(allow_paths), "/var/log/*", .help = "globs (space-separated; * matches / too) every path the collector's configuration names must be within" },
};

static const struct conf_key tail_keys[] = {
	{ "path", CONF_STR, T(path), NULL, .required = true, .help = "glob of files to follow" },
	{ "read_from", CONF_STR, T(read_from), "head", .help = "head or tail: where to start in files found at first start" },
	{ "max_line_bytes", CONF_SIZE, T(max_line_bytes), "64K", 256, 16 * 1024 * 1024, .help = "longer lines are cut and counted" },
	{ "format", CONF_STR, T(format), "plain", .help = "plain, or a container runtime's lines: cri (containerd, CRI-O) or docker (json-file)" },
	{ "parser", CONF_STR, T(parser), NULL, .help = "a [parser] section that makes fields of each line" },
};

static const struct conf_key parser_keys[] = {
	{ "format", CONF_STR, P(format), NULL, .required = true, .help = "json, logfmt, nginx, apache or regex" },
	{ "pattern", CONF_STR, P(pattern), NULL, .help = "nginx: combined, main or a log_format; apache: combined, common or a LogFormat; regex: a regex with (?<name>...) groups" },
	{ "priority_field", CONF_STR, P(priority_field), NULL, .help = "a parsed field (level) whose value sets a tail line's PRIORITY" },
	{ "units", CONF_STR, P(units), NULL, .help = "parse the journal messages of these units (space-separated)" },
	{ "identifiers", CONF_STR, P(identifiers), NULL, .help = "parse the journal messages of these SYSLOG_IDENTIFIER values" },
};

/*
 * Appends a zeroed struct of size to a list of pointers; the struct's first
 * member is its name (char *). Returns it, or NULL on allocation failure.
 */
_Static_assert(offsetof(struct tail_conf, name) == 0, "conf_named_append: the name comes first");
_Static_assert(offsetof(struct probe_conf, name) == 0, "conf_named_append: the name comes first");
_Static_assert(offsetof(struct parser_conf, name) == 0, "conf_named_append: the name comes first");

static void *parser_instance(void *target, const char *name)
{
	struct agent_conf *c = target;

	return conf_named_append((void ***)&c->parsers, &c->n_parsers, sizeof(struct parser_conf), name);
}

static void *tail_instance(void *target, const char *name)
{
	struct agent_conf *c = target;

	return conf_named_append((void ***)&c->tails, &c->n_tails, sizeof(struct tail_conf), name);
}

static void *probe_instance(void *target, const char *name)
{
	struct agent_conf *c = target;

	return conf_named_append((void ***)&c->probes, &c->n_probes, sizeof(struct probe_conf), name);
}

static const struct conf_section sections[] = {
	{ "agent", false, agent_keys, ARRAY_SIZE(agent_keys), offsetof(struct agent_conf, agent), NULL },
	{ "collector", false, collector_keys, ARRAY_SIZE(collector_keys), offsetof(struct agent_conf, collector), NULL },
	{ "batch", false, batch_keys, ARRAY_SIZE(batch_keys), offsetof(struct agent_conf, batch), NULL },
	{ "spool", false, spool_keys, ARRAY_SIZE(spool_keys), offsetof(struct agent_conf, spool), NULL },
	{ "journal", false, journal_keys, ARRAY_SIZE(journal_keys), offsetof(struct agent_conf, journal), NULL },
	{ "metrics", false, metrics_keys, ARRAY_SIZE(metrics_keys), offsetof(struct agent_conf, metrics), NULL },
	{ "syslog", false, syslog_conf_keys, SYSLOG_CONF_N_KEYS, offsetof(struct agent_conf, syslog), NULL },
	{ "enroll", false, enroll_keys, ARRAY_SIZE(enroll_keys), offsetof(struct agent_conf, enroll), NULL },
	{ "central", false, central_keys, ARRAY_SIZE(central_keys), offsetof(struct agent_conf, central), NULL },
	{ "probe", true, probe_conf_keys, PROBE_CONF_N_KEYS, 0, probe_instance },
	{ "tail", true, tail_keys, ARRAY_SIZE(tail_keys), 0, tail_instance },
	{ "parser", true, parser_keys, ARRAY_SIZE(parser_keys), 0, parser_instance },
};

#define PROBE_SECTION (&sections[ARRAY_SIZE(sections) - 3])
#define TAIL_SECTION (&sections[ARRAY_SIZE(sections) - 2])
#define PARSER_SECTION (&sections[ARRAY_SIZE(sections) - 1])

const struct conf_schema agent_conf_schema = { sections, ARRAY_SIZE(sections) };

static void check_tail(const struct agent_conf *c, const struct tail_conf *t, const struct conf_origin *o,
		       struct conf_errors *errs)
{
	char where[4200];

	if (strcmp(t->read_from, "head") && strcmp(t->read_from, "tail"))
		conf_error_add(errs, conf_origin_where(o, t, "read_from", where, sizeof(where)),
			       "[tail \"%s\"] read_from=%s: expected head or tail", t->name, t->read_from);
	if (!line_format_find(t->format))
		conf_error_add(errs, conf_origin_where(o, t, "format", where, sizeof(where)),
			       "[tail \"%s\"] format=%s: expected " LINE_FORMAT_NAMES, t->name, t->format);
	if (t->parser && !conf_named_find((const void *const *)c->parsers, c->n_parsers, t->parser))
		conf_error_add(errs, conf_origin_where(o, t, "parser", where, sizeof(where)),
			       "[tail \"%s\"] parser=%s: no [parser \"%s\"] section", t->name, t->parser, t->parser);
}

/* The first word of list that an earlier parser's list (got by member) has too; its length in *len. */
static const char *claimed_twice(const struct agent_conf *c, size_t i, size_t member, size_t *len)
{
	const char *list = *(char *const *)((const uint8_t *)c->parsers[i] + member);

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, " \t");
		for (size_t k = 0; n && k < i; k++)
			if (list_has_word(*(char *const *)((const uint8_t *)c->parsers[k] + member), p, n)) {
				*len = n;
				return p;
			}
		p += n;
		p += strspn(p, " \t");
	}
	return NULL;
}

static void check_parser(const struct agent_conf *c, size_t i, const struct conf_origin *o, struct conf_errors *errs)
{
	static const struct { const char *key; size_t member; } lists[] = {
		{ "units", P(units) }, { "identifiers", P(identifiers) },
	};
	const struct parser_conf *pc = c->parsers[i];
	struct parser *p = NULL;
	char where[4200], err[512];
	const char *dup;
	size_t len;

	if (pc->format && parser_new(pc->format, pc->pattern, &p, err, sizeof(err)) == -EINVAL)
		conf_error_add(errs, conf_origin_where(o, pc, strncmp(err, "pattern", 7) == 0 ? "pattern" : "format",
						       where, sizeof(where)),
			       "[parser \"%s\"] %s", pc->name, err);
	parser_free(p);
	for (size_t k = 0; k < ARRAY_SIZE(lists); k++)
		if ((dup = claimed_twice(c, i, lists[k].member, &len)))
			conf_error_add(errs, conf_origin_where(o, pc, lists[k].key, where, sizeof(where)),
				       "[parser \"%s\"] %s: %.*s is parsed by another parser already", pc->name,
				       lists[k].key, (int)len, dup);
}

/* What a fragment may be checked for alone: all but the connection to the collector. */
static void check_fragment(const void *target, const struct conf_origin *o, struct conf_errors *errs)
{
	const struct agent_conf *c = target;
	const char *bad;
	char where[4200];
	size_t bad_len;

	if (c->agent.labels && labels_check(c->agent.labels, &bad, &bad_len) < 0)
		conf_error_add(errs, conf_origin_where(o, &c->agent, "labels", where, sizeof(where)),
			       "[agent] labels: '%.*s' is not key=value", (int)bad_len, bad);
	for (size_t i = 0; i < c->n_probes; i++)
		probe_conf_check(c->probes[i], conf_origin_where(o, c->probes[i], "type", where, sizeof(where)), errs);
	for (size_t i = 0; i < c->n_tails; i++)
		check_tail(c, c->tails[i], o, errs);
	for (size_t i = 0; i < c->n_parsers; i++)
		check_parser(c, i, o, errs);
	syslog_conf_check(&c->syslog, conf_origin_where(o, &c->syslog, "listen", where, sizeof(where)), errs);
}

static void check_values(const void *target, const struct conf_origin *o, struct conf_errors *errs)
{
	const struct agent_conf *c = target;
	char where[4200];

	transport_conf_check(&c->collector.t, "collector", true,
			     conf_origin_where(o, &c->collector, "address", where, sizeof(where)), errs);
	if (c->enroll.url && (strncmp(c->enroll.url, "https://", 8) != 0 || !transport_is_tls(&c->collector.t)))
		conf_error_add(errs, conf_origin_where(o, &c->enroll, "url", where, sizeof(where)),
			       "[enroll] url=%s: expected https://HOST:PORT, with [collector] on tls+tcp:// and its"
			       " tls_cert= and tls_key= (what vigil-agent --enroll writes)", c->enroll.url);
	check_fragment(target, o, errs);
}

int agent_conf_load_layers(const char *path, const char *central, struct agent_conf **ret,
			   struct conf_errors *errs)
{
	struct agent_conf *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = conf_load_layers(&agent_conf_schema, path, central, c, check_values, errs);
	if (r < 0) {
		agent_conf_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int agent_conf_load(const char *path, struct agent_conf **ret)
{
	struct conf_errors errs = { 0 };
	int r = agent_conf_load_layers(path, NULL, ret, &errs);

	conf_errors_print(&errs);
	conf_errors_free(&errs);
	return r;
}

int agent_conf_check_fragment(const char *name, const char *text, struct conf_errors *errs)
{
	struct agent_conf *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = conf_load_text(&agent_conf_schema, name, text, c, check_fragment, errs);
	agent_conf_free(c);
	return r;
}

void agent_conf_free(struct agent_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		if (sections[i].named)
			continue;
		conf_free_section(&sections[i], (uint8_t *)c + sections[i].offset);
	}
	conf_named_free((void **)c->tails, c->n_tails, TAIL_SECTION);
	conf_named_free((void **)c->probes, c->n_probes, PROBE_SECTION);
	conf_named_free((void **)c->parsers, c->n_parsers, PARSER_SECTION);
	free(c);
}

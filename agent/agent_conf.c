/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stddef.h>

#include "agent/agent_conf.h"
#include "common/macro.h"
#include "common/util.h"

#define A(f) offsetof(struct agent_conf, agent.f) - offsetof(struct agent_conf, agent)
#define C(f) offsetof(struct agent_conf, collector.f) - offsetof(struct agent_conf, collector)
#define B(f) offsetof(struct agent_conf, batch.f) - offsetof(struct agent_conf, batch)
#define S(f) offsetof(struct agent_conf, spool.f) - offsetof(struct agent_conf, spool)
#define T(f) offsetof(struct tail_conf, f)
#define J(f) offsetof(struct journal_conf, f)
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
	{ "address", CONF_STR, C(t.address), NULL, .required = true, .help = "tcp://, ipc:// or tls+tcp:// URL" },
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
};

static const struct conf_key metrics_keys[] = {
	{ "enabled", CONF_BOOL, M(enabled), "yes", .help = "send host metrics (cpu, memory, load, filesystems, disks, network, the agent)" },
	{ "interval", CONF_SECS, M(interval_ms), "10s", 1000, 3600000, .help = "time between samples" },
};

static const struct conf_key tail_keys[] = {
	{ "path", CONF_STR, T(path), NULL, .required = true, .help = "glob of files to follow" },
	{ "read_from", CONF_STR, T(read_from), "head", .help = "head or tail: where to start in files found at first start" },
	{ "max_line_bytes", CONF_SIZE, T(max_line_bytes), "64K", 256, 16 * 1024 * 1024, .help = "longer lines are cut and counted" },
};

/*
 * Appends a zeroed struct of size to a list of pointers; the struct's first
 * member is its name (char *). Returns it, or NULL on allocation failure.
 */
_Static_assert(offsetof(struct tail_conf, name) == 0, "conf_named_append: the name comes first");
_Static_assert(offsetof(struct probe_conf, name) == 0, "conf_named_append: the name comes first");

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
	{ "probe", true, probe_conf_keys, PROBE_CONF_N_KEYS, 0, probe_instance },
	{ "tail", true, tail_keys, ARRAY_SIZE(tail_keys), 0, tail_instance },
};

#define PROBE_SECTION (&sections[ARRAY_SIZE(sections) - 2])
#define TAIL_SECTION (&sections[ARRAY_SIZE(sections) - 1])

const struct conf_schema agent_conf_schema = { sections, ARRAY_SIZE(sections) };

static void check_values(const void *target, const struct conf_origin *o, struct conf_errors *errs)
{
	const struct agent_conf *c = target;
	const char *bad;
	char where[4200];
	size_t bad_len;

	transport_conf_check(&c->collector.t, "collector",
			     conf_origin_where(o, &c->collector, "address", where, sizeof(where)), errs);
	if (c->agent.labels && labels_check(c->agent.labels, &bad, &bad_len) < 0)
		conf_error_add(errs, conf_origin_where(o, &c->agent, "labels", where, sizeof(where)),
			       "[agent] labels: '%.*s' is not key=value", (int)bad_len, bad);
	for (size_t i = 0; i < c->n_probes; i++)
		probe_conf_check(c->probes[i], conf_origin_where(o, c->probes[i], "type", where, sizeof(where)), errs);
	for (size_t i = 0; i < c->n_tails; i++)
		if (strcmp(c->tails[i]->read_from, "head") && strcmp(c->tails[i]->read_from, "tail"))
			conf_error_add(errs, conf_origin_where(o, c->tails[i], "read_from", where, sizeof(where)),
				       "[tail \"%s\"] read_from=%s: expected head or tail", c->tails[i]->name,
				       c->tails[i]->read_from);
}

int agent_conf_load(const char *path, struct agent_conf **ret)
{
	struct agent_conf *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = conf_load_report(&agent_conf_schema, path, c, check_values);
	if (r < 0) {
		agent_conf_free(c);
		return r;
	}
	*ret = c;
	return 0;
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
	free(c);
}

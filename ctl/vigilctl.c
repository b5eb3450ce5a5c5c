/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "common/macro.h"
#include "ctl/ctl.h"

#define ROLES_STATE "viewer, operator, admin"
#define ROLES_LOGS "operator, admin, security"
#define ROLES_OPS "operator, admin"

/* Every command: what it takes and who may run it (the API decides; this is what usage says). */
static const struct ctl_command commands[] = {
	{ "logs", 0, 0,
	  "[--host H] [--source S] [-q TEXT] [--priority 0..7] [--since T] [--until T] [--limit N]\n"
	  "       [--kind log|probe|metric|inventory|heartbeat|all] [--reverse | --follow]",
	  "stored records, followed until the range is complete", ROLES_LOGS, cmd_logs },
	{ "hosts", 0, 0, "", "every host, last seen, what it sent", ROLES_STATE, cmd_hosts },
	{ "metrics", 0, 0, "--name N [--host H] [--since T] [--until T] [--step D]", "a metric's series",
	  ROLES_STATE, cmd_metrics },
	{ "probes", 0, 0, "[--host H] [--status ok|warning|critical|unknown]", "every probe's latest result",
	  ROLES_STATE, cmd_probes },
	{ "alerts", 0, 0,
	  "[--state pending|firing|resolved|closed] [--severity S] [--host H] [--assignee WHO|-]\n"
	  "       [--unacked] [-q TEXT]",
	  "the alerts",
	  ROLES_STATE, cmd_alerts },
	{ "alert", 1, 2, "ID [ack|unack|assign|comment|severity|close] [--note N] [--to WHO] [--severity S]",
	  "an alert and its history, or an action on it", ROLES_STATE, cmd_alert },
	{ "ack", 1, 1, "ID [-m NOTE]", "acknowledges an alert", ROLES_OPS, cmd_act },
	{ "unack", 1, 1, "ID", "takes the acknowledgement back", ROLES_OPS, cmd_act },
	{ "assign", 2, 2, "ID USER [-m NOTE]", "gives an alert to someone", ROLES_OPS, cmd_act },
	{ "comment", 1, 1, "ID -m NOTE", "adds a note to its history", ROLES_OPS, cmd_act },
	{ "severity", 2, 2, "ID info|warning|critical|disaster", "changes its severity", ROLES_OPS, cmd_act },
	{ "close", 1, 1, "ID [-m NOTE]", "closes it", ROLES_OPS, cmd_act },
	{ "silence", 1, 64,
	  "list [--all] | add KEY=VALUE... -m COMMENT (--duration D | --ends T) [--starts T]\n"
	  "       [--every D [--until T]] | expire ID",
	  "silences and recurring maintenance windows", ROLES_STATE " (add, expire: " ROLES_OPS ")", cmd_silence },
	{ "rules", 0, 0, "", "the alert rules in force", ROLES_STATE, cmd_rules },
	{ "logmetric", 1, 6, "list | show NAME | add NAME [KEY=VALUE…] | set NAME [KEY=VALUE…] | delete NAME",
	  "log metrics: series counted (and measured) from log records at ingest", ROLES_STATE " (add, set, delete: admin)",
	  cmd_logmetric },
	{ "dialtest", 1, 3,
	  "list | show ID | add FILE | edit ID FILE | run ID | results ID [--since T] [--limit N]\n"
	  "       | summary ID [--window D]",
	  "interface dial tests; run prints a waterfall and exits 3 if the test fails",
	  ROLES_STATE " (run: " ROLES_OPS "; add, edit: admin)", cmd_dialtest },
	{ "user", 1, 3, "list | add NAME ROLE | disable NAME | enable NAME | role NAME ROLE | reset-password NAME",
	  "named users of the console (add and reset-password read the password from standard input)", "admin",
	  cmd_user },
	{ "enroll-token", 1, 2, "create [--labels K=V,…] [--expires 24h] [--uses N] | list | revoke ID",
	  "tokens hosts enroll their agents with (vigil-agent --enroll)", "admin", cmd_enroll_token },
	{ "agent-cert", 1, 2, "list | revoke SERIAL|NAME", "the agents' certificates enrollment issued", "admin",
	  cmd_agent_cert },
	{ "config-group", 1, 17,
	  "list | show NAME | versions NAME | set NAME FILE [--selector K=V…] [--order N]\n"
	  "       [--canary K=V…] [--percent N] | promote NAME | delete NAME | preview [K=V…]",
	  "config groups: agent configuration for the hosts whose labels a selector holds (docs/control.md)",
	  ROLES_OPS " (set, delete: admin)", cmd_config_group },
	{ "verify", 0, 0, "", "checks the stored logs' and the audit log's hash chains and the seals (exit 3 if broken)", "admin, security", cmd_verify },
};

static void usage(FILE *f)
{
	(void)fprintf(f, "Usage: vigilctl [--url URL] [--token TOKEN] [--cacert FILE] [--cert FILE --key FILE] [--json]\n"
			 "                COMMAND [OPTIONS]\n\nCommands (and the roles that may run them):\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		(void)fprintf(f, "  %s%s%s\n      %s [%s]\n", commands[i].name, *commands[i].args ? " " : "",
			      commands[i].args, commands[i].help, commands[i].roles);
	(void)fprintf(f, "\nThe URL defaults to $VIGIL_URL or http://127.0.0.1:8080; the token comes from\n"
			 "--token or $VIGIL_TOKEN; an https:// collector's certificate is checked against\n"
			 "--cacert or $VIGIL_CACERT (default the system's CAs). Times: RFC 3339, epoch\n"
			 "seconds, or a duration ago (15m).\n");
}

static void on_signal(int sig)
{
	(void)sig;
	ctl_interrupted = 1;
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
	{ "key", required_argument, NULL, 'k' },    { "priority", required_argument, NULL, 'p' },
	{ "assignee", required_argument, NULL, 'G' }, { "unacked", no_argument, NULL, 'n' },
	{ "labels", required_argument, NULL, 'L' }, { "expires", required_argument, NULL, 'x' },
	{ "uses", required_argument, NULL, 'y' },
	{ "selector", required_argument, NULL, 'g' }, { "order", required_argument, NULL, 'o' },
	{ "canary", required_argument, NULL, 'Y' }, { "percent", required_argument, NULL, 'e' },
	{ 0 },
};

/*
 * Parses options up to the first non-option ("+" in optstring) or all of
 * them. Returns -1 to go on, or an exit code.
 */
static int parse_opts(int argc, char **argv, const char *optstring, struct ctl *c)
{
	struct ctl_args *la = &c->a;
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
		case 'p': la->priority = optarg; break;
		case 'G': la->assignee = optarg; break;
		case 'n': la->unacked = true; break;
		case 'L': la->labels = optarg; break;
		case 'x': la->expires = optarg; break;
		case 'y': la->uses = optarg; break;
		case 'g': la->selector = optarg; break;
		case 'o': la->order = optarg; break;
		case 'Y': la->canary = optarg; break;
		case 'e': la->percent = optarg; break;
		case 'V': printf("vigilctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	return -1;
}

int ctl_run_sub(struct ctl *c, const char *group, const struct ctl_command *table, size_t n_table, char **words,
		size_t n)
{
	for (size_t i = 0; i < n_table; i++) {
		const struct ctl_command *s = &table[i];

		if (strcmp(words[0], s->name) == 0 && n - 1 >= s->min_words && n - 1 <= s->max_words) {
			c->sub = s->name;
			return s->run(c, words + 1, n - 1);
		}
	}
	fprintf(stderr, "vigilctl: expected one of:\n");
	for (size_t i = 0; i < n_table; i++)
		fprintf(stderr, "  %s %s%s%s\n", group, table[i].name, *table[i].args ? " " : "", table[i].args);
	return 2;
}

static const struct ctl_command *command_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctl c = { .url = getenv("VIGIL_URL"), .token = getenv("VIGIL_TOKEN"), .cacert = getenv("VIGIL_CACERT") };
	const struct ctl_command *cmd;
	char **words;
	size_t n_words;
	int r;

	if (!c.url)
		c.url = "http://127.0.0.1:8080";
	r = parse_opts(argc, argv, "+u:t:jH:s:S:U:l:fq:m:hV", &c);
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
	c.cmd = argv[optind];
	words = argv + optind;
	n_words = (size_t)(argc - optind);
	optind = 0;
	r = parse_opts((int)n_words, words, "u:t:jH:s:S:U:l:fq:m:hV", &c);
	if (r >= 0)
		return r;
	n_words -= (size_t)optind;
	words += optind;
	cmd = command_of(c.cmd);
	if (!cmd) {
		fprintf(stderr, "vigilctl: unknown command '%s'\n", c.cmd);
		usage(stderr);
		return 2;
	}
	if (n_words < cmd->min_words || n_words > cmd->max_words) {
		fprintf(stderr, "vigilctl: expected %s %s\n", cmd->name, cmd->args);
		return 2;
	}
	if (!c.token) {
		fprintf(stderr, "vigilctl: no token: set VIGIL_TOKEN or pass --token\n");
		return 2;
	}
	(void)signal(SIGINT, on_signal);
	(void)signal(SIGTERM, on_signal);
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
	c.curl = curl_easy_init();
	if (!c.curl)
		return 1;
	r = cmd->run(&c, words, n_words);
	curl_easy_cleanup(c.curl);
	curl_global_cleanup();
	return r;
}

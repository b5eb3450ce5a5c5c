/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * vigilctl: the command line over the collector's HTTP API. Each command
 * is a row of the command table (vigilctl.c): its name, the words it takes,
 * its usage, the roles that may run it, and its handler, in the file of
 * its resource (cmd_logs.c, cmd_fleet.c, cmd_alerts.c, cmd_dialtests.c).
 * The API helpers are in api.c.
 */

/* The options, as the command line gave them. */
struct ctl_args {
	const char *host, *source, *q, *since, *until, *limit, *status, *kind, *priority;
	const char *state, *severity, *note, *to, *assignee; /* alerts */
	const char *starts, *ends, *duration, *every; /* silences (and until) */
	const char *name, *step, *window;             /* metrics, dialtest summary */
	const char *labels, *expires, *uses;          /* enroll-token create */
	const char *selector, *order, *canary, *percent; /* config-group set */
	bool follow, all, reverse, unacked;
};

struct ctl {
	const char *url;
	const char *token;
	const char *cacert;     /* the CA an https:// collector's certificate is checked against */
	const char *cert, *key; /* a client certificate, for a collector with [http] tls_client_ca */
	bool json;
	CURL *curl;
	struct ctl_args a;
	const char *cmd; /* the command's name, as given */
	const char *sub; /* a sub-table's command (ctl_run_sub()), as given */
};

/* Set by SIGINT and SIGTERM: a command that follows (logs --follow, dialtest run) stops. */
extern volatile sig_atomic_t ctl_interrupted;

/* A command's row: run(c, words after the command, their number) gives the exit status. */
struct ctl_command {
	const char *name;
	size_t min_words, max_words;
	const char *args;  /* its usage after the name */
	const char *help;
	const char *roles; /* who may: the API's roles */
	int (*run)(struct ctl *c, char **words, size_t n);
};

/*
 * Runs the row of table (a command's own words: "silence add") named by
 * words[0]; 2 after printing the table's usage when none fits.
 */
int ctl_run_sub(struct ctl *c, const char *group, const struct ctl_command *table, size_t n_table, char **words,
		size_t n);

/* A query parameter for ctl_get(); NULL values are left out. */
struct param {
	const char *name;
	const char *value;
};

/* GETs c->url + path with the set parameters: the parsed answer (the caller's), or NULL after saying why. */
json_t *ctl_get(struct ctl *c, const char *path, const struct param *params, size_t n);
/* Sends body (NULL: none) to c->url + path with method (NULL: GET, or POST with a body). */
json_t *ctl_request(struct ctl *c, const char *method, const char *path, const char *body);
/* POSTs body (taken; NULL is an error) as JSON, its text wiped after (it may hold a password). */
json_t *ctl_post(struct ctl *c, const char *path, json_t *body);
void ctl_print_json(json_t *item);
/*
 * GETs path and prints its "items": each as JSON with --json, else header
 * (NULL: none) and row(item) for each. The exit status.
 */
int ctl_list(struct ctl *c, const char *path, const struct param *params, size_t n, const char *header,
	     void (*row)(json_t *item));
/* A string member, or "-". */
const char *ctl_text(json_t *o, const char *key);
/* A file's (or stdin's, "-") JSON as a request body; NULL after saying why. */
char *ctl_read_json(const char *path);
/* Whether s is all digits (an id). */
bool ctl_is_id(const char *s);

/* The handlers. */
int cmd_logs(struct ctl *c, char **words, size_t n);
int cmd_metrics(struct ctl *c, char **words, size_t n);
int cmd_hosts(struct ctl *c, char **words, size_t n);
int cmd_probes(struct ctl *c, char **words, size_t n);
int cmd_verify(struct ctl *c, char **words, size_t n);
int cmd_alerts(struct ctl *c, char **words, size_t n);
int cmd_alert(struct ctl *c, char **words, size_t n);
int cmd_act(struct ctl *c, char **words, size_t n);
int cmd_silence(struct ctl *c, char **words, size_t n);
int cmd_rules(struct ctl *c, char **words, size_t n);
int cmd_logmetric(struct ctl *c, char **words, size_t n);
int cmd_dialtest(struct ctl *c, char **words, size_t n);
int cmd_user(struct ctl *c, char **words, size_t n);
int cmd_enroll_token(struct ctl *c, char **words, size_t n);
int cmd_agent_cert(struct ctl *c, char **words, size_t n);
int cmd_config_group(struct ctl *c, char **words, size_t n);

#endif

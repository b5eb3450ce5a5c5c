/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_RUN_H
#define VIGIL_RUN_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "common/buf.h"
#include "dialtests/dialtest.h"
#include "fetch/curl_loop.h"

/*
 * One run of a dial test (the dialer's, dialer.c): its steps one after the
 * other on curl multi, each request filled in from the earlier steps'
 * variables and the test's secrets, each answer checked and its values
 * extracted; a failed attempt is tried again (retries=); the result has
 * every step's outcome and phases, with every secret redacted.
 */

enum run_outcome { RUN_OK, RUN_ASSERTION, RUN_ERROR };
/* ok, assertion_failed, probe_error */
extern const char *const run_outcome_names[];

struct run;

/* What runs work with; borrowed, outliving them. */
struct run_env {
	const char *secrets_dir; /* a secret's file must be in it ([dialtests] secrets_dir) */
	sd_event *event;
	struct curl_loop *curl;
	/* A run ended: result (taken over) is what the results API shows. The callee frees the run. */
	void (*finished)(struct run *r, json_t *result, void *ctx);
	void *ctx;
};

#define RUN_VARS_MAX 64

/* What keeps a run's test alive (a snapshot of the definitions): release(ref) when the run is freed. */
struct run_ref {
	const void *ref;
	void (*release)(const void *ref);
};

struct run {
	const struct run_env *env;
	struct run_ref ref; /* t stays valid while it is held */
	const struct dialtest *t;
	int64_t id;
	bool scheduled; /* by the schedule, not asked for */
	bool asked;     /* through the API: its result is stored at once */
	uint64_t planned_us, started_us;
	unsigned attempt;
	size_t step;
	char host[256]; /* of the first step: what per_host counts */
	CURL *easy;
	struct curl_slist *headers;
	char *url, *body, *user, *password, *bearer; /* the current step's, rendered */
	char origin[512]; /* scheme://host:port of url: redirects may not leave it */
	char refused[1024]; /* why on_prereq stopped a redirect */
	struct buf resp, resp_headers;
	int tls;
	char curl_error[CURL_ERROR_SIZE];
	char *var_names[RUN_VARS_MAX], *var_values[RUN_VARS_MAX];
	size_t n_vars;
	char *secrets[DIALTEST_ITEMS_MAX]; /* read at the attempt's start; NULL: unreadable */
	json_t *steps;
	enum run_outcome outcome;
	char message[512];
	sd_event_source *retry;
	struct run *next; /* the dialer's list */
};

/* A run of t (called id) planned for planned_us, taking over ref (released even on failure); NULL when out of memory. */
struct run *run_new(const struct run_env *env, const struct dialtest *t, int64_t id, struct run_ref ref,
		    uint64_t planned_us);
/* Starts its first step; it ends through env->finished, at once when it cannot start. */
void run_start(struct run *r);
/* Stops it where it is and frees it. NULL is fine. */
void run_free(struct run *r);
/* The steps' total time, and their smallest certificate days left (INT64_MAX: none was TLS). */
void run_sums(const struct run *r, int64_t *days, double *total_ms);
/*
 * A finished run's probe record fields (name, type dialtest, status,
 * latency, message, and the test's id, outcome, labels, and result as text)
 * appended to out: what probe_state, the alert rules and the results take.
 */
int run_probe_fields(const struct run *r, json_t *result, const char *text, struct buf *out);
/* The host of url (for per_host) into out. */
void run_url_host(const char *url, char *out, size_t size);

#endif

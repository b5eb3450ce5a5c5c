/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DIALTEST_H
#define VIGIL_DIALTEST_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/*
 * Interface dial tests (docs/dialtests.md): a definition in JSON, checked
 * once into struct dialtest, and the pure parts of a run: templates
 * ({{var}}, {{secret:NAME}}), JSON paths, assertions and extractions over a
 * step's response. No I/O here; the collector's dialer runs the requests.
 */

#define DIALTEST_NAME_MAX 64
#define DIALTEST_STEPS_MAX 10
#define DIALTEST_ITEMS_MAX 32 /* assertions, extractions, headers, secrets: each */
#define DIALTEST_STATUS_MAX 16
#define DIALTEST_VANTAGES_MAX 16 /* run_on's agent selectors */
#define DIALTEST_QUORUM_MAX 64
#define DIALTEST_SELECTOR_MAX 512

enum dt_assert_type {
	DT_STATUS,
	DT_BODY,
	DT_HEADER,
	DT_JSON,
	DT_LATENCY,
	DT_CERT,
	DT_TLS,
};

enum dt_match {
	DT_CONTAINS,  /* body: a substring */
	DT_REGEX,     /* body or header: an extended regex */
	DT_NOT_REGEX, /* body: must not match */
};

enum dt_op { DT_EQ, DT_NE, DT_LT, DT_GT, DT_HAS, DT_EXISTS };

struct dt_assert {
	enum dt_assert_type type;
	long status[DIALTEST_STATUS_MAX]; /* status: the set */
	size_t n_status;
	enum dt_match match;              /* body, header */
	char *text;                       /* body: the substring or the regex's source; header: the regex's */
	regex_t re;                       /* compiled when match is a regex */
	char *header;                     /* header: its name */
	char *path;                       /* json: where */
	enum dt_op op;
	json_t *value;                    /* json: compared with (not for exists) */
	uint64_t max_ms;                  /* latency: the step's total */
	int64_t min_days;                 /* cert: days left */
	int min_tls;                      /* tls: 10, 11, 12, 13 for 1.0 .. 1.3 */
};

enum dt_from { DT_FROM_JSON, DT_FROM_REGEX, DT_FROM_HEADER };

struct dt_extract {
	char *name;
	enum dt_from from;
	char *path;    /* json */
	char *header;  /* header */
	regex_t re;    /* regex (over the body) */
	unsigned group;
};

struct dt_step {
	char *name;
	char *method;
	char *url;   /* templates: url, header values, body, auth */
	char *body;
	char *header_names[DIALTEST_ITEMS_MAX], *header_values[DIALTEST_ITEMS_MAX];
	size_t n_headers;
	char *basic_user, *basic_password;
	char *bearer;
	bool tls_verify;
	char *tls_ca, *client_cert, *client_key;
	bool follow_redirects;
	int http_version; /* 0: curl's choice; 10, 11, 20 */
	struct dt_assert asserts[DIALTEST_ITEMS_MAX];
	size_t n_asserts;
	struct dt_extract extracts[DIALTEST_ITEMS_MAX];
	size_t n_extracts;
};

/* A secret by reference: a file's first line, or an environment variable. Never stored or shown. */
struct dt_secret {
	char *name;
	char *file;
	char *env;
};

struct dialtest {
	char *name;
	uint64_t interval_us, timeout_us; /* timeout: each step's */
	unsigned retries;
	bool enabled;
	json_t *labels;     /* an object of strings */
	struct dt_secret secrets[DIALTEST_ITEMS_MAX];
	size_t n_secrets;
	struct dt_step steps[DIALTEST_STEPS_MAX];
	size_t n_steps;
	/* run_on: the collector, and the agents whose labels hold one of the selectors ("k=v k=v") */
	bool on_collector;
	char *vantages[DIALTEST_VANTAGES_MAX];
	size_t n_vantages;
	/* fail_when "K of N": failing when K vantages fail; unknown while fewer than N report (0: never) */
	unsigned fail_k, fail_n;
};

/*
 * Where secrets may come from ([dialtests] secrets_dir, secrets_env_prefix):
 * a definition names files and variables, and may name no others, so a dial
 * test cannot read the collector's other files or environment.
 */
struct dt_policy {
	const char *secrets_dir;   /* absolute, without a trailing '/' */
	const char *secrets_env;   /* the prefix of every variable named */
};

/*
 * Whether a header's value names no credential: shown to every reader, and
 * sent to the agents that run a test. Every other header's is hidden.
 */
bool dt_header_plain(const char *name);

/* Whether path is a file directly or below dir, with no "." or ".." to climb out. */
bool dt_path_inside(const char *path, const char *dir);

/*
 * Checks a definition (docs/dialtests.md) into *ret (the caller's; free
 * with dialtest_free()) under policy. -EINVAL with err saying what is wrong
 * and where ("steps[1].assert[0].op: expected ==, !=, <, >, contains or
 * exists").
 */
int dialtest_parse(json_t *def, const struct dt_policy *policy, struct dialtest **ret, char *err, size_t err_size);
void dialtest_free(struct dialtest *t);

/* What a step's response was, for assertions and extractions. */
struct dt_response {
	long status;
	const char *body; /* not terminated; body_len bytes (the first DT_BODY_MAX kept) */
	size_t body_len;
	const char *headers; /* the raw header block of the last response, terminated */
	double total_ms;
	bool has_cert;
	int64_t cert_days;
	int tls; /* 10 .. 13, 0 when not TLS */
	json_t *json; /* the body parsed, on first need (owned; dt_response_clear()) */
	bool json_tried;
};
#define DT_BODY_MAX (1024 * 1024)
void dt_response_clear(struct dt_response *r);

/*
 * Whether the assertion holds; if not, *failure is a new object saying
 * which and what was seen: {"type":"status","expected":[200],"actual":500}.
 */
bool dt_assert_holds(const struct dt_assert *a, struct dt_response *r, json_t **failure);

/* The value x takes from the response (the caller's), or NULL with why. */
char *dt_extract_value(const struct dt_extract *x, struct dt_response *r, char *why, size_t why_size);

/* The value at a path such as $.data.items[0].id, or NULL (borrowed from root). */
json_t *dt_json_path(json_t *root, const char *path);

/*
 * Expands {{name}} (looked up with var), {{secret:NAME}} (with secret) and
 * {{json:name}} (a variable escaped to go inside a JSON string) in tpl into
 * a new string. -ENOENT with the name in err when one is not known.
 */
typedef const char *(*dt_lookup_fn)(const char *name, void *userdata);
int dt_render(const char *tpl, dt_lookup_fn var, dt_lookup_fn secret, void *userdata, char **ret, char *err,
	      size_t err_size);

/*
 * Whether a rendered header value or URL holds a byte that would end the
 * line it goes on (CR, LF) or cut it (NUL can not be in a C string): what an
 * answer's values could use to add headers to the next request.
 */
bool dt_line_safe(const char *s);

/*
 * Replaces, in every string of j, each of the n secret values (as they are,
 * JSON-escaped and percent-encoded) by "[secret:NAME]": what a tested
 * service echoes of a secret is not stored or shown. -ENOMEM when it could
 * not finish: j may then still hold a secret, and must not be kept.
 */
_must_check_ int dt_redact(json_t *j, const char *const *values, const char *const *names, size_t n);

/* A header's value in a raw header block (case-insensitive name), copied into out; false when absent. */
bool dt_header(const char *headers, const char *name, char *out, size_t size);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CONF_H
#define VIGIL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Table-driven INI configuration (read with inih), systemd-style: FILE, then
 * FILE.d/ *.conf in name order, later values overriding earlier ones. The same
 * tables drive parsing, defaults, validation and docs. Every error names
 * file:line; loading goes on after an error so all of them are reported.
 */

enum conf_type {
	CONF_STR,  /* char *, owned by the target, freed by conf_free_section() */
	CONF_BOOL, /* bool */
	CONF_UINT, /* uint64_t */
	CONF_SIZE, /* uint64_t bytes; K, M, G suffixes (1024-based) */
	CONF_MSEC, /* uint64_t milliseconds; ms, s, m, h suffixes, bare = ms */
	CONF_SECS, /* uint64_t milliseconds; ms, s, m, h suffixes, bare = s */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;
	const char *def;   /* default as text; NULL = empty/zero */
	uint64_t min, max; /* numeric bounds, checked when max != 0 */
	bool required;
	const char *help;
};

struct conf_section {
	const char *name;
	bool named; /* [NAME "instance"] sections, any number of them */
	const struct conf_key *keys;
	size_t n_keys;
	/* Unnamed: where its struct lives inside the target. */
	size_t offset;
	/*
	 * Named: returns the struct for instance, creating it on first use
	 * (owned by the target), or NULL on allocation failure.
	 */
	void *(*instance)(void *target, const char *instance);
};

struct conf_schema {
	const struct conf_section *sections;
	size_t n_sections;
};

#define CONF_ERRORS_MAX 64

/* Collected "file:line: message" strings; owned, freed by conf_errors_free(). */
struct conf_errors {
	char *msg[CONF_ERRORS_MAX];
	size_t n;
	size_t dropped;
};

/*
 * Applies the defaults of every unnamed section, then loads path and its
 * drop-ins into target. Returns 0, or -EINVAL with errs filled in, or another
 * negative errno if path cannot be read at all (also reported in errs).
 */
int conf_load(const struct conf_schema *s, const char *path, void *target,
	      struct conf_errors *errs);
/* Where the sections and keys of a load were given: for check's errors. */
struct conf_origin;
/*
 * "file:line" of key in the section instance inst (key NULL, or not given:
 * where the instance begins) into buf, which it returns; the loaded path
 * when no file gave inst (every key at its default).
 */
const char *conf_origin_where(const struct conf_origin *o, const void *inst, const char *key, char *buf,
			      size_t size);
/* Cross-key rules, after loading: errors into errs, placed with o. */
typedef void conf_check_fn(const void *target, const struct conf_origin *o, struct conf_errors *errs);
/*
 * conf_load(), then check (may be NULL), then every error printed to
 * stderr. Returns 0, or a negative errno when anything was wrong.
 */
int conf_load_report(const struct conf_schema *s, const char *path, void *target, conf_check_fn *check);
/*
 * conf_load() with one more layer, extra (NULL: none), read after path's
 * drop-ins as the last of them when it exists, then check (may be NULL);
 * the errors into errs. 0, -EINVAL, or the errno of path unread.
 */
int conf_load_layers(const struct conf_schema *s, const char *path, const char *extra, void *target,
		     conf_check_fn *check, struct conf_errors *errs);
/*
 * A fragment of a configuration, text, called name in its errors
 * ("name:LINE: ..."), into a zeroed target: defaults, the text, the
 * required keys of the named sections it has (an unnamed section it lacks
 * is the base's to give), then check. 0 or -EINVAL with errs filled in.
 */
int conf_load_text(const struct conf_schema *s, const char *name, const char *text, void *target,
		   conf_check_fn *check, struct conf_errors *errs);

/* Adds "where: message" (where is file or file:line). */
void conf_error_add(struct conf_errors *errs, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void conf_errors_print(const struct conf_errors *errs);
void conf_errors_free(struct conf_errors *errs);

/* Prints every key as "[section] key=default (type) help", one a line. */
void conf_schema_print(const struct conf_schema *s, FILE *f);

/* True if instance's field for k holds k's default (empty/zero without one). */
bool conf_key_is_default(const struct conf_key *k, const void *instance);

/* Frees the CONF_STR members of one section's struct. */
void conf_free_section(const struct conf_section *sec, void *instance);

/*
 * For a named section's instance(): appends a zeroed struct of size whose
 * first member is a char * name (set to a copy of name) to *list, which
 * owns it. NULL when out of memory. conf_named_free() frees the list.
 */
void *conf_named_append(void ***list, size_t *n, size_t size, const char *name);
void conf_named_free(void **list, size_t n, const struct conf_section *sec);
/* The struct of list (as conf_named_append() made them: the name first) called name, or NULL. */
const void *conf_named_find(const void *const *list, size_t n, const char *name);

/*
 * Fills inst, a zeroed instance of sec, from n key/value pairs given by
 * other means than a file (the API): defaults first, then each pair, then
 * the required keys. Errors go to errs as "where: message"; -EINVAL if any.
 */
int conf_instance_fill(const struct conf_section *sec, void *inst, const char *const *keys,
		       const char *const *values, size_t n, const char *where, struct conf_errors *errs);

/* inst's value for k as a config file would give it ("30s", "yes", "64"). */
void conf_key_format(const struct conf_key *k, const void *inst, char *buf, size_t size);

/* Value parsers shared with the rest of the project; 0 or -EINVAL/-ERANGE. */
int conf_parse_bool(const char *v, bool *ret);
int conf_parse_uint(const char *v, uint64_t *ret);
int conf_parse_size(const char *v, uint64_t *ret);
int conf_parse_duration_ms(const char *v, uint64_t bare_unit_ms, uint64_t *ret);

#endif

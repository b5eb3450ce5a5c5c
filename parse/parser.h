/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PARSER_H
#define VIGIL_PARSER_H

#include <stddef.h>

#include "parse/out.h"

/*
 * A [parser "NAME"] section's parser: a log line into fields (docs/logs.md
 * "Parsers"), the line itself kept as it was. Formats:
 *
 *   json     an object; nested objects flattened (req.path is REQ_PATH),
 *            arrays kept as JSON text, null left out
 *   logfmt   key=value key="quoted value" bare-key
 *   nginx    nginx's log_format ($remote_addr - …); pattern: "combined"
 *            (the default), "main" (combined and $http_x_forwarded_for), or
 *            a log_format's text
 *   apache   Apache's LogFormat (%h %l %u %t …); pattern: "combined" (the
 *            default), "common", or a LogFormat's text
 *   regex    a POSIX extended regex whose (?<name>…) groups are the fields
 *
 * Web servers' fields have the same names from both (REMOTE_ADDR, STATUS,
 * REQUEST, BODY_BYTES_SENT, …), and REQUEST also gives REQUEST_METHOD,
 * REQUEST_URI, REQUEST_PATH and SERVER_PROTOCOL, STATUS gives STATUS_CLASS
 * (5xx): one log metric serves both.
 *
 * A parser is used by one thread at a time (it keeps a scratch copy of the
 * line for regexec()).
 */
struct parser;

struct parser_ops {
	const char *name;
	/* pattern may be NULL (the format's default, if it has one). 0, -EINVAL with why in err, -ENOMEM. */
	int (*compile)(const char *pattern, void **ret, char *err, size_t err_size);
	/* 1: fields written; 0: the line is not in the format. */
	int (*run)(void *state, const char *line, size_t len, struct parse_out *o);
	void (*free)(void *state);
};

/* Compiles format (one of the names above) and its pattern: 0, -EINVAL with why in err, -ENOMEM. Owned: parser_free(). */
int parser_new(const char *format, const char *pattern, struct parser **ret, char *err, size_t err_size);
void parser_free(struct parser *p);
#define PARSER_FORMAT_NAMES "json, logfmt, nginx, apache or regex"

/*
 * Parses one line into o. 1: parsed (o holds its fields); 0: not in the
 * format, and o is as it was (the line is kept unparsed); -ENOBUFS from o's
 * buffer, which is then as it was too.
 */
int parser_run(struct parser *p, const char *line, size_t len, struct parse_out *o);

extern const struct parser_ops parser_json_ops, parser_logfmt_ops, parser_nginx_ops, parser_apache_ops,
	parser_regex_ops;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "parse/parser.h"

struct parser {
	const struct parser_ops *ops;
	void *state;
};

static const struct parser_ops *const formats[] = {
	&parser_json_ops, &parser_logfmt_ops, &parser_nginx_ops, &parser_apache_ops, &parser_regex_ops,
};

int parser_new(const char *format, const char *pattern, struct parser **ret, char *err, size_t err_size)
{
	const struct parser_ops *ops = NULL;
	struct parser *p;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(formats) && !ops; i++)
		if (strcmp(formats[i]->name, format) == 0)
			ops = formats[i];
	if (!ops) {
		(void)snprintf(err, err_size, "format=%s: expected " PARSER_FORMAT_NAMES, format);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ops = ops;
	r = ops->compile(pattern && *pattern ? pattern : NULL, &p->state, err, err_size);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void parser_free(struct parser *p)
{
	if (!p)
		return;
	p->ops->free(p->state);
	free(p);
}

int parser_run(struct parser *p, const char *line, size_t len, struct parse_out *o)
{
	struct parse_out before = *o;
	size_t at = o->b->len;
	int r = p->ops->run(p->state, line, len, o);

	if (r <= 0) {
		*o = before;
		o->b->len = at;
	}
	return r;
}

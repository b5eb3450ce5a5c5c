/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "agent/tail-internal.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/macro.h"
#include "parse/out.h"

void tail_partial_drop(struct tail_file *f)
{
	buf_reset(&f->partial);
	f->pending = false;
	f->held = 0;
}

/* A message to the sink, with the fields its framing and its parser give it. */
static int emit(struct tail_file *f, const char *msg, size_t len, const struct line_view *v)
{
	struct tail_source *t = f->src;
	struct tail_line l = { .msg = msg, .len = len, .time_us = v->time_us, .priority = -1 };
	int r = 0;

	buf_reset(&t->line_fields);
	if (v->stream)
		r = export_put_str(&t->line_fields, FIELD_CONTAINER_STREAM, v->stream);
	if (r == 0 && t->parser) {
		r = agent_parser_run(t->parser, msg, len, &t->line_fields, &l.priority);
		if (r == 0)
			t->sink.count(t->sink.userdata, SPOOL_CTR_LINES_UNPARSED);
	}
	/* Fields that do not fit are left out: the line itself is never lost for them. */
	if (r == -ENOBUFS)
		t->sink.count(t->sink.userdata, SPOOL_CTR_LINES_UNPARSED);
	l.fields = t->line_fields.data;
	l.fields_len = t->line_fields.len;
	return t->sink.line(t->sink.userdata, f, &l);
}

/*
 * One line of the file, as its format frames it: a whole message goes to
 * the sink, a part is held until its last part (or the file's end) comes.
 */
static int take_line(struct tail_file *f, const char *line, size_t len)
{
	struct tail_source *t = f->src;
	const struct source_sink *s = &t->sink;
	struct line_view v;
	size_t room;
	int r;

	if (t->format->decode(line, len, &t->scratch, &v) < 0)
		s->count(s->userdata, SPOOL_CTR_LINES_UNFRAMED);
	if (!v.partial && !f->pending)
		return emit(f, v.msg, v.len, &v);
	room = f->partial.max - f->partial.len;
	/* Past max_line_bytes a message is cut, and counted once. */
	if (v.len > room && room > 0)
		s->count(s->userdata, SPOOL_CTR_LINES_TRUNCATED);
	if (buf_append(&f->partial, v.msg, MIN(v.len, room)) < 0)
		return -ENOMEM;
	f->pending = v.partial;
	if (v.partial)
		return 0;
	r = emit(f, (const char *)f->partial.data, f->partial.len, &v);
	buf_reset(&f->partial);
	return r;
}

/* n bytes of the file taken: past the checkpoint, unless they are parts of a message still held. */
static void advance(struct tail_file *f, uint64_t n)
{
	if (f->pending) {
		f->held += n;
	} else {
		f->offset += f->held + n;
		f->held = 0;
	}
	f->dirty = true;
}

/* At a file's end, a message whose last part never came goes as it is. */
static int flush_partial(struct tail_file *f)
{
	struct line_view v = { 0 };
	int r;

	if (!f->pending)
		return 0;
	r = emit(f, (const char *)f->partial.data, f->partial.len, &v);
	if (r < 0)
		return r;
	buf_reset(&f->partial);
	f->pending = false;
	advance(f, 0);
	return f->src->sink.advanced(f->src->sink.userdata);
}

int tail_emit_lines(struct tail_file *f, bool final)
{
	const struct source_sink *s = &f->src->sink;
	size_t max = f->src->conf->max_line_bytes;
	char *p = f->buf, *end = f->buf + f->buf_len, *nl;
	int r = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		size_t len = (size_t)(nl - p);
		if (f->skipping) {
			f->skipping = false;
		} else {
			r = take_line(f, p, MIN(len, max));
			if (r < 0)
				break;
			if (len > max)
				s->count(s->userdata, SPOOL_CTR_LINES_TRUNCATED);
		}
		advance(f, len + 1);
		p = nl + 1;
		r = s->advanced(s->userdata);
		if (r < 0)
			break;
	}
	if (r == 0 && p < end && ((size_t)(end - p) >= max || final)) {
		/* An over-long line goes out cut; a finished file's last line without newline goes out whole. */
		size_t len = (size_t)(end - p);
		if (!f->skipping) {
			r = take_line(f, p, MIN(len, max));
			if (r == 0 && len > max)
				s->count(s->userdata, SPOOL_CTR_LINES_TRUNCATED);
		}
		if (r == 0) {
			f->skipping = !final;
			advance(f, len);
			p = end;
			r = s->advanced(s->userdata);
		}
	}
	if (r == 0 && final)
		r = flush_partial(f);
	f->buf_len = (size_t)(end - p);
	if (f->buf_len && p != f->buf)
		memmove(f->buf, p, f->buf_len);
	return r;
}

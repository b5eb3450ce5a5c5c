/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"


#include "common/export.h"
#include "common/macro.h"

static const bool key_char[256] = {
	['A' ... 'Z'] = true, ['0' ... '9'] = true, ['_'] = true,
};

bool export_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > EXPORT_KEY_MAX || (key[0] >= '0' && key[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!key_char[(uint8_t)key[i]])
			return false;
	return true;
}

static bool is_control(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * The text form cannot carry a newline; other control bytes are kept binary
 * too. Eight bytes at a time: a word with no byte below 0x20 and none equal
 * to 0x7f (the common case) needs no closer look.
 */
static bool needs_binary(const uint8_t *v, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w, del;
		memcpy(&w, v + i, 8);
		del = w ^ (0x7f * ones);
		if ((((w - 0x20 * ones) & ~w) | ((del - ones) & ~del)) & highs)
			for (size_t k = i; k < i + 8; k++)
				if (is_control(v[k]))
					return true;
	}
	for (; i < len; i++)
		if (is_control(v[i]))
			return true;
	return false;
}

int export_put(struct buf *b, const char *key, const void *value, size_t len)
{
	return export_put_n(b, key, strlen(key), value, len);
}

int export_put_n(struct buf *b, const char *key, size_t klen, const void *value, size_t len)
{
	uint8_t le[8];
	int r;

	if (!export_key_valid(key, klen))
		return -EINVAL;
	r = buf_reserve(b, klen + len + 10);
	if (r < 0)
		return r;
	if (needs_binary(value, len)) {
		put_le64(le, len);
		(void)buf_append(b, key, klen);
		(void)buf_putc(b, '\n');
		(void)buf_append(b, le, 8);
	} else {
		(void)buf_append(b, key, klen);
		(void)buf_putc(b, '=');
	}
	(void)buf_append(b, value, len);
	(void)buf_putc(b, '\n');
	return 0;
}

int export_put_str(struct buf *b, const char *key, const char *value)
{
	return export_put(b, key, value, strlen(value));
}

size_t format_u64(uint64_t v, char out[21])
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}

int export_put_u64(struct buf *b, const char *key, uint64_t value)
{
	char tmp[21];
	size_t n = format_u64(value, tmp);

	return export_put(b, key, tmp, n);
}

int export_end_entry(struct buf *b)
{
	return buf_putc(b, '\n');
}

void export_reader_init(struct export_reader *r, const void *data, size_t len,
			const struct export_limits *lim)
{
	r->p = data;
	r->end = r->p + len;
	r->lim = *lim;
	r->entries = 0;
}

/* Parses one field at r->p. Returns 1, 0 at the blank line or end, or -errno. */
static int read_field(struct export_reader *r, struct export_field *f)
{
	const uint8_t *nl, *eq;
	uint64_t len;

	if (r->p >= r->end)
		return 0;
	if (*r->p == '\n') {
		r->p++;
		return 0;
	}
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (!nl)
		return -EBADMSG;
	eq = memchr(r->p, '=', (size_t)(nl - r->p));
	f->key = (const char *)r->p;
	if (eq) {
		f->key_len = (size_t)(eq - r->p);
		f->value = eq + 1;
		f->value_len = (size_t)(nl - eq - 1);
		r->p = nl + 1;
	} else {
		f->key_len = (size_t)(nl - r->p);
		if ((size_t)(r->end - nl - 1) < 8)
			return -EBADMSG;
		len = get_le64(nl + 1);
		f->value = nl + 9;
		if (len > (uint64_t)(r->end - f->value) || (size_t)(r->end - f->value) - len < 1 ||
		    f->value[len] != '\n')
			return len > r->lim.max_field_bytes ? -E2BIG : -EBADMSG;
		f->value_len = (size_t)len;
		r->p = f->value + len + 1;
	}
	if (!export_key_valid(f->key, f->key_len))
		return -EBADMSG;
	if (f->value_len > r->lim.max_field_bytes)
		return -E2BIG;
	return 1;
}

int export_reader_next(struct export_reader *r, struct export_field *fields, size_t cap,
		       size_t *ret_n)
{
	const uint8_t *start;
	size_t n = 0;
	int k;

	/* Tolerate extra blank lines between entries, as journal-remote does. */
	while (r->p < r->end && *r->p == '\n')
		r->p++;
	if (r->p >= r->end)
		return 0;
	if (r->entries >= r->lim.max_entries)
		return -E2BIG;
	start = r->p;
	for (;;) {
		struct export_field f;

		k = read_field(r, &f);
		if (k < 0)
			return k;
		if (k == 0)
			break;
		if (n >= r->lim.max_fields || n >= cap)
			return -E2BIG;
		if ((size_t)(r->p - start) > r->lim.max_entry_bytes)
			return -E2BIG;
		fields[n++] = f;
	}
	r->entries++;
	*ret_n = n;
	return 1;
}

const struct export_field *export_find(const struct export_field *f, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (f[i].key_len == klen && memcmp(f[i].key, key, klen) == 0)
			return &f[i];
	return NULL;
}

bool export_field_is(const struct export_field *f, const char *s)
{
	size_t n = strlen(s);

	return f && f->value_len == n && memcmp(f->value, s, n) == 0;
}

bool export_value_u64(const uint8_t *v, size_t len, uint64_t *ret)
{
	uint64_t n = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*ret = n;
	return true;
}

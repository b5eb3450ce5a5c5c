/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer with a hard ceiling set at init (curl's dynbuf).
 * The buffer owns data; buf_free() releases it. Appends beyond max fail with
 * -ENOBUFS and leave the buffer unchanged.
 */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
static inline void buf_reset(struct buf *b) { b->len = 0; }
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
/* A string literal, its length counted by the compiler. */
#define buf_append_lit(b, s) buf_append((b), "" s, sizeof(s) - 1)
/* One byte; inline, for the renderers that put one between every value. */
static inline int buf_putc(struct buf *b, char c)
{
	/* cap never exceeds max, so room below cap is room below max. */
	if (b->len < b->cap) {
		b->data[b->len++] = (uint8_t)c;
		return 0;
	}
	return buf_append(b, &c, 1);
}
/* n in decimal. */
int buf_put_u64(struct buf *b, uint64_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a NUL without counting it in len, so data can be used as a C string. */
int buf_terminate(struct buf *b);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_UTIL_H
#define VIGIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

uint64_t now_realtime_us(void);
uint64_t now_monotonic_us(void);
/* ms from now on clock, as the deadline pthread_cond_timedwait() takes (the condition's clock). */
struct timespec deadline_after_ms(clockid_t clock, uint64_t ms);

/* n in decimal into out (U64_DECIMAL_MAX bytes, no NUL): the digits' count. */
#define U64_DECIMAL_MAX 20
size_t u64_decimal(uint64_t n, char *out);

/* Lower-case hex; out must hold 2*len+1 bytes. */
void hex_encode(const void *data, size_t len, char *out);
/* Exactly 2*len hex digits into out; -EINVAL otherwise. */
int hex_decode(const char *s, void *out, size_t len);

int random_bytes(void *out, size_t len);

/* "2026-11-21T08:00:00.123456Z" into out (>= 32 bytes). */
void format_rfc3339_us(uint64_t us, char *out, size_t size);
/* RFC 3339 with Z or an offset, any fraction (kept to microseconds): 0, -EINVAL, -ERANGE before 1970. */
int parse_rfc3339(const char *s, uint64_t *ret_us);
/*
 * A point in time for API parameters: RFC 3339 ("2026-11-21T08:00:00Z",
 * optional fraction), integer seconds since the epoch, or a duration ago
 * ("15m", "2h", "7d"). now_us anchors the relative form.
 */
int parse_time_param(const char *s, uint64_t now_us, uint64_t *ret_us);

/* Days since the epoch, UTC, of a microsecond timestamp; names daily shards. */
static inline uint32_t day_of_us(uint64_t us) { return (uint32_t)(us / (86400 * USEC_PER_SEC)); }
/* YYYYMMDD of a day number. */
void format_day(uint32_t day, char *out, size_t size);
/* The start (00:00 UTC on the 1st) of the calendar month holding us. */
uint64_t month_start_us(uint64_t us);

/* Creates dir and its parents with mode; existing is fine. */
int mkdir_p(const char *dir, unsigned mode);

/* Checks "k=v k=v" labels; returns 0 or -EINVAL with the bad word in *ret_bad. */
int labels_check(const char *labels, const char **ret_bad, size_t *ret_len);
/* Whether word (len bytes, may be NULL) is one of the space- or tab-separated words of list (may be NULL). */
bool list_has_word(const char *list, const char *word, size_t len);

/* strlen(s), or 0 for NULL. */
static inline size_t strlen_or_0(const char *s) { return s ? strlen(s) : 0; }

/* The length of the longest prefix of s within max bytes that does not cut a UTF-8 sequence. */
size_t utf8_prefix(const char *s, size_t max);

/* The length of the valid UTF-8 sequence at s (at most n bytes, n > 0), or 0 when there is none. */
size_t utf8_sequence(const unsigned char *s, size_t n);

/*
 * s's len bytes into out as valid UTF-8 without NUL, each byte that is no
 * part of a sequence (and NUL) as U+FFFD, cut at a whole character when
 * size is short (UTF8_VALID_SIZE(len) never is): a database that checks
 * its text (PostgreSQL) takes what a host sent. Returns out.
 */
#define UTF8_VALID_SIZE(len) (3 * (len) + 1)
char *utf8_valid_copy(const char *s, size_t len, char *out, size_t size);
/*
 * The character at s (n > 0 bytes left) as valid UTF-8 without NUL: into
 * *ret_put and *ret_len the bytes that stand for it (s's own, or U+FFFD
 * for a byte that is no part of a sequence, and for NUL); how many bytes
 * of s they stand for. What utf8_valid_copy() writes, a character a step.
 */
size_t utf8_valid_char(const char *s, size_t n, const char **ret_put, size_t *ret_len);

/* Replaces each byte of s that is not part of valid UTF-8 with '?' (JSON needs valid UTF-8). */
void utf8_sanitize(char *s);

/*
 * Whether s (NULL is not) is 1 to max bytes of ASCII letters, digits, '_',
 * '.', '-' and the bytes of also (may be ""): names of rules, targets, dial
 * tests, label keys, tokens.
 */
bool name_valid(const char *s, size_t max, const char *also);

/* FNV-1a (32 bits) of s, going on from h (FNV1A_32_INIT to begin): for hash tables and change digests, not security. */
#define FNV1A_32_INIT 2166136261u
uint32_t fnv1a_32(uint32_t h, const char *s);

/* The next word of a list separated by spaces or tabs into word (cut to size); advances *p. False at the end (a NULL *p is an empty list). */
bool next_word(const char **p, char *word, size_t size);
/* Whether word is one of the words of list (separated by spaces or tabs; NULL is an empty list). */
bool word_listed(const char *list, const char *word);

/*
 * SCHEME://HOST:PORT (HOST an IPv6 address in brackets, given without
 * them) into the buffers; -EINVAL when url is not one, or a part does not
 * fit.
 */
int url_split(const char *url, char *scheme, size_t ssize, char *host, size_t hsize, char *port, size_t psize);

/* This process among others that may do the same work: "hostname[pid]", cut to size. */
void process_name(char *out, size_t size);

#endif

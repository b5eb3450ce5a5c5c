/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/macro.h"
#include "common/util.h"

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;

	(void)clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_realtime_us(void) { return clock_us(CLOCK_REALTIME); }
uint64_t now_monotonic_us(void) { return clock_us(CLOCK_MONOTONIC); }

struct timespec deadline_after_ms(clockid_t clock, uint64_t ms)
{
	struct timespec at;

	(void)clock_gettime(clock, &at);
	at.tv_sec += (time_t)(ms / 1000);
	at.tv_nsec += (long)(ms % 1000) * 1000000;
	at.tv_sec += at.tv_nsec / 1000000000;
	at.tv_nsec %= 1000000000;
	return at;
}

size_t u64_decimal(uint64_t n, char *out)
{
	char d[U64_DECIMAL_MAX];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + n % 10);
	while ((n /= 10) && i);
	memcpy(out, d + i, sizeof(d) - i);
	return sizeof(d) - i;
}

void hex_encode(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *s, void *out, size_t len)
{
	uint8_t *p = out;

	if (strlen(s) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int random_bytes(void *out, size_t len)
{
	uint8_t *p = out;

	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void format_rfc3339_us(uint64_t us, char *out, size_t size)
{
	time_t t = (time_t)(us / USEC_PER_SEC);
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		       (unsigned)(us % USEC_PER_SEC));
}

int parse_rfc3339(const char *s, uint64_t *ret_us)
{
	struct tm tm = { 0 };
	unsigned frac = 0, digits = 0;
	const char *p;
	time_t t;

	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits < 6) {
				frac = frac * 10 + (unsigned)(*p - '0');
				digits++;
			}
	while (digits && digits < 6) {
		frac *= 10;
		digits++;
	}
	t = timegm(&tm);
	/* Z, or an offset east (+08:00) or west of UTC. */
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		long off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;

		if (off > 24 * 3600L)
			return -EINVAL;
		t -= *p == '+' ? off : -off;
	} else if (strcmp(p, "Z") != 0) {
		return -EINVAL;
	}
	if (t < 0)
		return -ERANGE;
	*ret_us = (uint64_t)t * USEC_PER_SEC + frac;
	return 0;
}

int parse_time_param(const char *s, uint64_t now_us, uint64_t *ret_us)
{
	uint64_t v;

	if (conf_parse_uint(s, &v) == 0) {
		if (v > UINT64_MAX / USEC_PER_SEC)
			return -ERANGE;
		*ret_us = v * USEC_PER_SEC;
		return 0;
	}
	if (conf_parse_duration_ms(s, 1000, &v) == 0) {
		if (v > now_us / USEC_PER_MSEC)
			return -ERANGE;
		*ret_us = now_us - v * USEC_PER_MSEC;
		return 0;
	}
	return parse_rfc3339(s, ret_us);
}

void format_day(uint32_t day, char *out, size_t size)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)snprintf(out, size, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

uint64_t month_start_us(uint64_t us)
{
	time_t t = (time_t)(us / USEC_PER_SEC);
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (uint64_t)timegm(&tm) * USEC_PER_SEC;
}

int mkdir_p(const char *dir, unsigned mode)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -EINVAL;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int labels_check(const char *labels, const char **ret_bad, size_t *ret_len)
{
	const char *p = labels;

	while (*p) {
		size_t n = strcspn(p, " \t"), eq = strcspn(p, "=");
		if (n && (eq == 0 || eq >= n - 1 || memchr(p + eq + 1, '=', n - eq - 1))) {
			*ret_bad = p;
			*ret_len = n;
			return -EINVAL;
		}
		p += n;
		p += strspn(p, " \t");
	}
	return 0;
}

size_t utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

size_t utf8_sequence(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	uint32_t cp;

	if (len == 0 || len > n)
		return 0;
	cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

void utf8_sanitize(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t len = utf8_sequence((const unsigned char *)s + i, n - i);

		if (len == 0)
			s[i++] = '?';
		else
			i += len;
	}
}

size_t utf8_valid_char(const char *s, size_t n, const char **ret_put, size_t *ret_len)
{
	size_t k = s[0] ? utf8_sequence((const unsigned char *)s, n) : 0;

	*ret_put = k ? s : "\xef\xbf\xbd";
	*ret_len = k ? k : 3;
	return k ? k : 1;
}

char *utf8_valid_copy(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0, k, n; i < len; i += k) {
		const char *put;

		k = utf8_valid_char(s + i, len - i, &put, &n);
		if (o + n >= size)
			break;
		memcpy(out + o, put, n);
		o += n;
	}
	if (size > 0)
		out[o] = 0;
	return out;
}

bool name_valid(const char *s, size_t max, const char *also)
{
	size_t n = strlen_or_0(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("_.-", c) ||
		      strchr(also, c)))
			return false;
	}
	return true;
}

static bool separator(char c)
{
	return c == ' ' || c == '\t';
}

bool word_listed(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; n && p && (p = strstr(p, word)); p++)
		if ((p == list || separator(p[-1])) && (separator(p[n]) || p[n] == 0))
			return true;
	return false;
}

bool next_word(const char **p, char *word, size_t size)
{
	size_t n;

	if (!*p)
		return false;
	*p += strspn(*p, " \t");
	n = strcspn(*p, " \t");
	if (n == 0)
		return false;
	(void)snprintf(word, size, "%.*s", (int)n, *p);
	*p += n;
	return true;
}

bool list_has_word(const char *list, const char *word, size_t len)
{
	for (const char *p = list; p && *p && word;) {
		size_t n;
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n && n == len && memcmp(p, word, len) == 0)
			return true;
		p += n;
	}
	return false;
}

int url_split(const char *url, char *scheme, size_t ssize, char *host, size_t hsize, char *port, size_t psize)
{
	const char *sep = url ? strstr(url, "://") : NULL, *h, *colon;
	size_t hlen, plen;
	uint64_t n;

	if (!sep || sep == url || (size_t)(sep - url) >= ssize)
		return -EINVAL;
	h = sep + 3;
	if (*h == '[') {
		const char *end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
		h++;
		hlen = (size_t)(end - h);
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - h);
	}
	plen = strlen(colon + 1);
	if (!hlen || hlen >= hsize || plen >= psize || conf_parse_uint(colon + 1, &n) < 0 || n < 1 || n > 65535 ||
	    memchr(h, '/', hlen))
		return -EINVAL;
	memcpy(scheme, url, (size_t)(sep - url));
	scheme[sep - url] = '\0';
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memcpy(port, colon + 1, plen + 1);
	return 0;
}

void process_name(char *out, size_t size)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0)
		(void)snprintf(host, sizeof(host), "?");
	(void)snprintf(out, size, "%s[%ld]", host, (long)getpid());
}

uint32_t fnv1a_32(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

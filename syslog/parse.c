/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "syslog/parse.h"

#define USEC UINT64_C(1000000)
#define HEADER_FIELD_MAX 255 /* RFC 5424's longest, HOSTNAME */
#define TAG_MAX 48

struct cur {
	const uint8_t *p, *end;
};

static bool at(const struct cur *c, uint8_t ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool digit(const struct cur *c, size_t i)
{
	return c->p + i < c->end && c->p[i] >= '0' && c->p[i] <= '9';
}

/* n digits (all of them there) as a number, consumed; -1 if they are not. */
static int number(struct cur *c, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		if (!digit(c, i))
			return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (*c->p++ - '0');
	return v;
}

static bool skip(struct cur *c, uint8_t ch)
{
	if (!at(c, ch))
		return false;
	c->p++;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + (int64_t)(yoe * 365 + yoe / 4 - yoe / 100 + doy) - 719468;
}

/* A wall-clock time and a zone's offset as µs since the epoch; 0 when out of range. */
static uint64_t to_us(int y, int mo, int d, int h, int mi, int s, uint32_t frac_us, int32_t offset_s)
{
	int64_t t;

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return 0;
	t = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60 + s - offset_s;
	return t > 0 ? (uint64_t)t * USEC + frac_us : 0;
}

/* ".ddd…" (up to 6 digits kept, more skipped) as µs. */
static uint32_t fraction(struct cur *c)
{
	uint32_t us = 0, scale = 100000;

	if (!at(c, '.') || !digit(c, 1))
		return 0;
	c->p++;
	for (; digit(c, 0); c->p++, scale /= 10)
		us += (uint32_t)(*c->p - '0') * scale;
	return us;
}

/* HH:MM:SS into *h, *mi, *s; false if they are not there. */
static bool clock_time(struct cur *c, int *h, int *mi, int *s)
{
	return (*h = number(c, 2)) >= 0 && skip(c, ':') && (*mi = number(c, 2)) >= 0 && skip(c, ':') &&
	       (*s = number(c, 2)) >= 0;
}

/* RFC 3339 (RFC 5424's TIMESTAMP): YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM); 0 if it is not one. */
static uint64_t rfc3339(struct cur *c)
{
	int y, mo, d, h, mi, s, oh, om, sign;
	uint32_t frac;

	if ((y = number(c, 4)) < 0 || !skip(c, '-') || (mo = number(c, 2)) < 0 || !skip(c, '-') ||
	    (d = number(c, 2)) < 0 || !(skip(c, 'T') || skip(c, 't')) || !clock_time(c, &h, &mi, &s))
		return 0;
	frac = fraction(c);
	if (skip(c, 'Z') || skip(c, 'z'))
		return to_us(y, mo, d, h, mi, s, frac, 0);
	if (!at(c, '+') && !at(c, '-'))
		return 0;
	sign = *c->p++ == '+' ? 1 : -1;
	if ((oh = number(c, 2)) < 0 || !skip(c, ':') || (om = number(c, 2)) < 0)
		return 0;
	return to_us(y, mo, d, h, mi, s, frac, sign * (oh * 3600 + om * 60));
}

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int month(struct cur *c)
{
	for (int m = 0; m < 12 && c->end - c->p >= 3; m++)
		if (memcmp(c->p, months[m], 3) == 0) {
			c->p += 3;
			return m + 1;
		}
	return 0;
}

/* The year of now_us (UTC). */
static int year_of(uint64_t now_us)
{
	int y = 1970;

	while (to_us(y + 1, 1, 1, 0, 0, 0, 0, 0) <= now_us && y < 9999)
		y++;
	return y;
}

/* A zone right after a time, as devices write it: ±HH:MM, ±HHMM, or " UTC"/" GMT"; else assumed. */
static int32_t zone(struct cur *c, int32_t assumed)
{
	struct cur z = *c;
	int sign, h, m;

	if (z.end - z.p >= 4 && (memcmp(z.p, " UTC", 4) == 0 || memcmp(z.p, " GMT", 4) == 0)) {
		c->p += 4;
		return 0;
	}
	if (!at(&z, '+') && !at(&z, '-'))
		return assumed;
	sign = *z.p++ == '+' ? 1 : -1;
	if ((h = number(&z, 2)) < 0 || h > 14)
		return assumed;
	(void)skip(&z, ':');
	if ((m = number(&z, 2)) < 0 || m > 59)
		return assumed;
	*c = z;
	return sign * (h * 3600 + m * 60);
}

/*
 * RFC 3164's "Mmm dd hh:mm:ss", and what devices add to it: a leading '*'
 * or '.' (an unsynchronised clock), the year after the day, a fraction, a
 * zone, a ':' after it. Without a year: the one that puts it nearest now (a
 * December line read in January is last year's). 0 if it is not one.
 */
static uint64_t bsd_time(struct cur *c, const struct syslog_parse_opts *o)
{
	int mo, d, y = 0, h, mi, s;
	int32_t offset;
	uint32_t frac;
	uint64_t t;

	if (at(c, '*') || at(c, '.'))
		c->p++;
	if (!(mo = month(c)) || !skip(c, ' '))
		return 0;
	(void)skip(c, ' ');
	if ((d = digit(c, 1) ? number(c, 2) : number(c, 1)) < 0 || !skip(c, ' '))
		return 0;
	if (digit(c, 3) && c->p + 4 < c->end && c->p[4] == ' ') {
		y = number(c, 4);
		c->p++;
	}
	if (!clock_time(c, &h, &mi, &s))
		return 0;
	frac = fraction(c);
	offset = zone(c, o->utc_offset_s);
	(void)skip(c, ':');
	if (y)
		return to_us(y, mo, d, h, mi, s, frac, offset);
	y = year_of(o->now_us);
	t = to_us(y, mo, d, h, mi, s, frac, offset);
	if (t > o->now_us + 7 * 86400 * USEC)
		t = to_us(y - 1, mo, d, h, mi, s, frac, offset);
	return t;
}

/* A space-delimited token of printable ASCII, at most max; RFC 5424's "-" is absent. */
static bool token(struct cur *c, size_t max, bool nil, struct syslog_slice *ret)
{
	const uint8_t *start = c->p;

	while (c->p < c->end && *c->p > ' ' && *c->p < 127)
		c->p++;
	if (c->p == start || (size_t)(c->p - start) > max)
		return false;
	*ret = nil && c->p - start == 1 && *start == '-' ? (struct syslog_slice){ 0 } :
							  (struct syslog_slice){ start, (size_t)(c->p - start) };
	return true;
}

/* One SD-ELEMENT's SD-ID or PARAM-NAME: printable ASCII but '=', ' ', ']' and '"'. */
static bool sd_name(struct cur *c, struct syslog_slice *ret)
{
	const uint8_t *start = c->p;

	while (c->p < c->end && *c->p > ' ' && *c->p < 127 && *c->p != '=' && *c->p != ']' && *c->p != '"')
		c->p++;
	*ret = (struct syslog_slice){ start, (size_t)(c->p - start) };
	return ret->len > 0 && ret->len <= 32;
}

/* A PARAM-VALUE between quotes, escapes kept; false if the quote never closes. */
static bool sd_value(struct cur *c, struct syslog_slice *ret)
{
	const uint8_t *start;

	if (!skip(c, '"'))
		return false;
	for (start = c->p; c->p < c->end && *c->p != '"'; c->p++)
		if (*c->p == '\\' && c->p + 1 < c->end)
			c->p++;
	*ret = (struct syslog_slice){ start, (size_t)(c->p - start) };
	return skip(c, '"');
}

/* Walks the SD-ELEMENTs at c, calling fn for each param when fn is given. */
static int sd_walk(struct cur *c,
		   int (*fn)(struct syslog_slice id, struct syslog_slice name, struct syslog_slice value, void *ctx),
		   void *ctx)
{
	struct syslog_slice id, name, value;
	int r;

	if (!at(c, '['))
		return -EBADMSG;
	while (skip(c, '[')) {
		if (!sd_name(c, &id))
			return -EBADMSG;
		while (skip(c, ' ')) {
			if (!sd_name(c, &name) || !skip(c, '=') || !sd_value(c, &value))
				return -EBADMSG;
			if (fn && (r = fn(id, name, value, ctx)) != 0)
				return r;
		}
		if (!skip(c, ']'))
			return -EBADMSG;
	}
	return 0;
}

int syslog_sd_each(struct syslog_slice sd,
		   int (*fn)(struct syslog_slice id, struct syslog_slice name, struct syslog_slice value, void *ctx),
		   void *ctx)
{
	struct cur c = { sd.p, sd.p + sd.len };

	return sd.p ? sd_walk(&c, fn, ctx) : 0;
}

size_t syslog_sd_unescape(struct syslog_slice value, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < value.len; i++) {
		/* RFC 5424 6.3.3: only \", \\ and \] are escapes; any other backslash stays. */
		if (value.p[i] == '\\' && i + 1 < value.len &&
		    (value.p[i + 1] == '"' || value.p[i + 1] == '\\' || value.p[i + 1] == ']'))
			i++;
		out[n++] = value.p[i];
	}
	return n;
}

static struct syslog_slice rest(const struct cur *c)
{
	return c->p < c->end ? (struct syslog_slice){ c->p, (size_t)(c->end - c->p) } : (struct syslog_slice){ 0 };
}

/* RFC 5424 after "<PRI>1 "; false (with m->error) if the header is not one. */
static bool parse_5424(struct cur *c, struct syslog_msg *m)
{
	static const uint8_t bom[3] = { 0xef, 0xbb, 0xbf };
	struct syslog_slice ts;
	struct cur tc;

	m->error = "an RFC 5424 header field is missing or malformed";
	if (!token(c, 64, true, &ts) || !skip(c, ' ') || !token(c, HEADER_FIELD_MAX, true, &m->hostname) ||
	    !skip(c, ' ') || !token(c, 48, true, &m->app) || !skip(c, ' ') || !token(c, 128, true, &m->procid) ||
	    !skip(c, ' ') || !token(c, 32, true, &m->msgid) || !skip(c, ' '))
		return false;
	tc = (struct cur){ ts.p, ts.p + ts.len };
	if (ts.p && (!(m->ts_us = rfc3339(&tc)) || tc.p != tc.end)) {
		m->error = "the RFC 5424 timestamp is not RFC 3339";
		return false;
	}
	m->sd.p = c->p;
	if (skip(c, '-')) {
		m->sd.p = NULL;
	} else if (sd_walk(c, NULL, NULL) < 0) {
		m->error = "the structured data is malformed";
		return false;
	} else {
		m->sd.len = (size_t)(c->p - m->sd.p);
	}
	if (c->p < c->end && !skip(c, ' ')) {
		m->error = "no space after the structured data";
		return false;
	}
	if (c->end - c->p >= 3 && memcmp(c->p, bom, 3) == 0)
		c->p += 3;
	m->msg = rest(c);
	m->error = NULL;
	return true;
}

/* "TAG[PID]: " or "TAG: " at c, consumed into app and procid; else nothing is. */
static void bsd_tag(struct cur *c, struct syslog_msg *m)
{
	const uint8_t *start = c->p, *q = c->p;

	while (q < c->end && q - start < TAG_MAX && *q > ' ' && *q < 127 && *q != '[' && *q != ':')
		q++;
	if (q == start || q == c->end)
		return;
	m->app = (struct syslog_slice){ start, (size_t)(q - start) };
	if (*q == '[') {
		const uint8_t *pid = ++q;
		while (q < c->end && *q >= '0' && *q <= '9')
			q++;
		if (q == pid || q + 1 >= c->end || q[0] != ']' || q[1] != ':') {
			m->app = (struct syslog_slice){ 0 };
			return;
		}
		m->procid = (struct syslog_slice){ pid, (size_t)(q - pid) };
		q++;
	}
	if (*q != ':') {
		m->app = (struct syslog_slice){ 0 };
		return;
	}
	c->p = q + 1;
	(void)skip(c, ' ');
}

/* Whether the token at c is a TAG (ends in ':', or has "[PID]"), not a hostname. */
static bool looks_like_tag(const struct cur *c)
{
	for (const uint8_t *q = c->p; q < c->end && *q != ' '; q++)
		if (*q == ':' || *q == '[')
			return true;
	return false;
}

/* RFC 3164 after "<PRI>": TIMESTAMP HOSTNAME TAG: MSG, each part optional as devices send it. */
static void parse_3164(struct cur *c, const struct syslog_parse_opts *o, struct syslog_msg *m)
{
	struct cur t = *c;

	m->format = SYSLOG_RFC3164;
	m->ts_us = digit(&t, 0) ? rfc3339(&t) : bsd_time(&t, o);
	/* No timestamp: RFC 3164 4.3.3 takes all of it as the message. */
	if (m->ts_us && (skip(&t, ' ') || t.p == t.end)) {
		*c = t;
		if (!looks_like_tag(c) && token(c, HEADER_FIELD_MAX, false, &m->hostname))
			(void)skip(c, ' ');
		bsd_tag(c, m);
	} else {
		m->ts_us = 0;
	}
	m->msg = rest(c);
}

void syslog_parse(const uint8_t *p, size_t len, const struct syslog_parse_opts *o, struct syslog_msg *m)
{
	struct cur c = { p, p + len };
	int pri = -1, digits = 0;

	*m = (struct syslog_msg){ .facility = -1, .severity = -1 };
	while (c.end > c.p && (c.end[-1] == '\n' || c.end[-1] == '\r' || c.end[-1] == 0))
		c.end--;
	if (skip(&c, '<')) {
		for (pri = 0; digit(&c, 0) && digits < 3; digits++)
			pri = pri * 10 + (*c.p++ - '0');
		if (!digits || !skip(&c, '>') || pri > 191)
			pri = -1;
	}
	if (pri < 0) {
		*m = (struct syslog_msg){ .format = SYSLOG_UNPARSED, .facility = -1, .severity = -1,
					  .msg = { p, (size_t)(c.end - p) }, .error = "no <PRI> at the start" };
		return;
	}
	m->facility = pri / 8;
	m->severity = pri % 8;
	if (c.end - c.p >= 2 && c.p[0] == '1' && c.p[1] == ' ') {
		c.p += 2;
		m->format = SYSLOG_RFC5424;
		if (!parse_5424(&c, m)) {
			const char *why = m->error;
			*m = (struct syslog_msg){ .format = SYSLOG_UNPARSED, .facility = pri / 8, .severity = pri % 8,
						  .msg = { p, (size_t)(c.end - p) }, .error = why };
		}
		return;
	}
	parse_3164(&c, o, m);
}

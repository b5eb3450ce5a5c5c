/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "alerts/message.h"
#include "common/macro.h"
#include "common/util.h"

static const char *const severity_zh[][2] = {
	{ "info", "信息" }, { "warning", "警告" }, { "critical", "严重" }, { "disaster", "灾难" },
};

static const char *word(const char *lang, const char *en, const char *zh)
{
	return strcmp(lang, "zh") == 0 ? zh : en;
}

static const char *severity_word(const char *lang, const char *sev)
{
	for (size_t i = 0; strcmp(lang, "zh") == 0 && i < ARRAY_SIZE(severity_zh); i++)
		if (strcmp(severity_zh[i][0], sev) == 0)
			return severity_zh[i][1];
	return sev;
}

static const char *event_word(const char *lang, const char *event)
{
	if (strcmp(event, "fired") == 0)
		return word(lang, "FIRING", "告警");
	if (strcmp(event, "resolved") == 0)
		return word(lang, "RESOLVED", "已恢复");
	if (strcmp(event, "test") == 0)
		return word(lang, "TEST, nothing is wrong", "测试: 无故障");
	if (strcmp(event, "escalated") == 0)
		return word(lang, "ESCALATED, nobody acknowledged it", "升级: 无人确认");
	return word(lang, "FLAPPING", "频繁波动");
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/*
 * "[critical] FIRING: summary" (cut to fit title, whole characters only)
 * and a markdown body: what, where, since when, severity, the value, the link to the alert.
 */
static void message(const struct notify_conf *t, json_t *p, char *title, size_t tsize, struct buf *text)
{
	const char *lang = t->lang, *sev = severity_word(lang, str(p, "severity"));
	time_t since = (time_t)(json_integer_value(json_object_get(p, "started")) / 1000000);
	char when[64];
	struct tm tm;
	size_t n;

	if (localtime_r(&since, &tm))
		(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	else
		(void)snprintf(when, sizeof(when), "?");
	(void)buf_printf(text, "[%s] %s: %s", sev, event_word(lang, str(p, "event")), str(p, "summary"));
	(void)buf_terminate(text);
	n = utf8_prefix((const char *)text->data, tsize - 1);
	memcpy(title, text->data, n);
	title[n] = 0;
	buf_reset(text);
	(void)buf_printf(text, "### [%s] %s: %s\n\n- %s: %s\n- %s: %s\n- %s: %s\n- %s: %s\n- %s: %s\n- %s: %lld\n", sev,
			 event_word(lang, str(p, "event")), str(p, "summary"), word(lang, "Host", "主机"), str(p, "host"),
			 word(lang, "Rule", "规则"), str(p, "rule"), word(lang, "Severity", "级别"), sev,
			 word(lang, "Since", "开始时间"), when, word(lang, "Value", "当前值"), str(p, "value"),
			 word(lang, "Alert", "告警编号"), (long long)json_integer_value(json_object_get(p, "id")));
	if (*str(p, "url"))
		(void)buf_printf(text, "- %s: %s\n", word(lang, "Details", "详情"), str(p, "url"));
	(void)buf_terminate(text);
}

/*
 * What a digest says: how many notifications it carries, then a line for
 * each (severity, event, summary, host), cut to whole lines when long.
 */
static void digest_message(const struct notify_conf *t, json_t *payloads, char *title, size_t tsize,
			   struct buf *text)
{
	const char *lang = t->lang;
	size_t i, n = json_array_size(payloads);
	json_t *p;

	(void)snprintf(title, tsize, lang[0] == 'z' ? "vigil: %zu 条通知合并发送 (限流)" :
						      "vigil: %zu notifications in one (rate limit)", n);
	(void)buf_printf(text, "### %s\n\n", title);
	json_array_foreach(payloads, i, p) {
		size_t before = text->len;

		if (buf_printf(text, "- [%s] %s: %s (%s %s, %s %lld)\n", severity_word(lang, str(p, "severity")),
			       event_word(lang, str(p, "event")), str(p, "summary"), word(lang, "host", "主机"),
			       str(p, "host"), word(lang, "alert", "告警"),
			       (long long)json_integer_value(json_object_get(p, "id"))) < 0 ||
		    text->len > MESSAGE_TEXT_MAX - 64) {
			text->len = before;
			(void)buf_printf(text, "- … %zu %s\n", n - i, word(lang, "more", "条未列出"));
			break;
		}
	}
	(void)buf_terminate(text);
}

void message_render(const struct notify_conf *t, json_t *payloads, char *title, size_t tsize, struct buf *text)
{
	if (json_array_size(payloads) == 1)
		message(t, json_array_get(payloads, 0), title, tsize, text);
	else
		digest_message(t, payloads, title, tsize, text);
}

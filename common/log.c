/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

static const char *log_ident = "vigil";
static int log_max_level = LOG_INFO;
static int log_journal = -1;

void log_setup(const char *ident)
{
	const char *lvl = getenv("VIGIL_LOG_LEVEL");

	log_ident = ident;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (lvl && *lvl >= '0' && *lvl <= '7' && !lvl[1])
		log_max_level = *lvl - '0';
}

void log_set_max_level(int level) { log_max_level = level; }
int log_get_max_level(void) { return log_max_level; }

static void __attribute__((format(printf, 2, 0))) log_vmsg(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
					     "warning", "notice", "info", "debug" };
	char line[2048];

	if (level > log_max_level)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal > 0)
		(void)fprintf(stderr, "<%d>%s\n", level, line);
	else
		(void)fprintf(stderr, "%s: %s: %s\n", log_ident, names[level & 7], line);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int log_errno(int level, int err, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	errno = err < 0 ? -err : err;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
	errno = saved;
	return err < 0 ? err : -err;
}

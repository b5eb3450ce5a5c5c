/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <syslog.h>

#include "common/macro.h"

/*
 * Logging to stderr. Under systemd (JOURNAL_STREAM set) lines carry a "<N>"
 * priority prefix that journald understands; otherwise "ident: level: msg".
 * Log once, where the decision is made, naming the instance (STYLE.md 8).
 */
void log_setup(const char *ident);
void log_set_max_level(int level);
int log_get_max_level(void);
void log_msg(int level, const char *fmt, ...) _printf_(2, 3);

/* Logs and returns -abs(err), so a caller can log and return in one statement. */
int log_errno(int level, int err, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_error_errno(e, ...) log_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_errno(LOG_WARNING, (e), __VA_ARGS__)

#endif

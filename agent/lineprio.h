/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LINEPRIO_H
#define VIGIL_LINEPRIO_H

#include <stddef.h>

/*
 * The syslog priority (0..7) a log line states near its start, as a
 * "<N>" prefix or a level word (ERROR, WARN, INFO, ...), or -1.
 */
int line_priority(const char *line, size_t len);

#endif

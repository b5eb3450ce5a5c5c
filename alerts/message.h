/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_MESSAGE_H
#define VIGIL_MESSAGE_H

#include <jansson.h>
#include <stddef.h>

#include "alerts/defs.h"
#include "common/buf.h"

/*
 * What a notification says, in the target's language (lang= zh or en):
 * for one alert "[critical] FIRING: summary" and a markdown list of what,
 * where, since when, the value and the link; for several (a digest) how
 * many, then a line each. Pure: no I/O.
 */

/* The longest text a message holds (WeCom refuses markdown past it); a digest is cut to whole lines within. */
#define MESSAGE_TEXT_MAX 2048

/* The title (cut to fit tsize, whole characters) and the text of a message carrying payloads. */
void message_render(const struct notify_conf *t, json_t *payloads, char *title, size_t tsize, struct buf *text);

#endif

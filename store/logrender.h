/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOGRENDER_H
#define VIGIL_LOGRENDER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/export.h"
#include "store/logquery.h"

/*
 * A stored record as an item of a log answer (api.md, GET /api/v1/logs),
 * written as JSON text straight from its decoded fields: no tree per record.
 */

/* The record's source: its tail, unit or identifier (not its path, which is in fields); "" for none. */
const char *log_record_source(const struct export_field *f, size_t n, size_t *ret_len);
/*
 * The item of the record at pos (its id), from host, time ts, into o after
 * separator (0: none): 0, or -ENOBUFS / -ENOMEM with o as far as it got.
 */
int log_render_item(struct buf *o, char separator, const struct log_cursor *pos, const char *host,
		    const struct export_field *f, size_t n, uint64_t ts);

#endif

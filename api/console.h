/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CONSOLE_H
#define VIGIL_CONSOLE_H

#include <microhttpd.h>
#include <stdbool.h>

/*
 * The console's files, as console/build.py leaves them in a folder
 * (index.html, and assets/NAME.HASH.EXT whose names change with their
 * content), read once at start into memory and served on the API's port.
 * Only what was read is served: no path reaches the file system. GET and
 * HEAD only; a hashed asset is cached for a year, the page is asked for
 * again each time (ETag); every answer carries a Content-Security-Policy
 * that lets the page load and call nothing but its own origin, and may not
 * be framed.
 */
struct console;

/* Reads dir; -ENOENT when it has no index.html, -EFBIG past the limits on files and bytes. */
int console_load(const char *dir, struct console **ret);
void console_free(struct console *c);

/* The headers every answer of the collector's HTTP server carries, API and console alike. */
void console_common_headers(struct MHD_Response *resp, bool tls);

/*
 * Answers url: an asset by name, any other path the page (its router shows
 * the view). c may be NULL (no console installed): 404 saying so. The
 * status queued in *status.
 */
enum MHD_Result console_serve(const struct console *c, struct MHD_Connection *conn, const char *url,
			      const char *method, bool tls, unsigned *status);

#endif

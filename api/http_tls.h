/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HTTP_TLS_H
#define VIGIL_HTTP_TLS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/http.h"

/*
 * HTTPS for the API: the certificate, key and client CA of [http] read
 * from their PEM files for libmicrohttpd (GnuTLS underneath), TLS 1.2 and
 * 1.3 only, and each request's client certificate checked against the
 * client CA when one is configured. Read at start and again at each
 * reload; a struct is immutable once read.
 */
struct http_tls;

/* Options http_tls_options() adds at most. */
#define HTTP_TLS_OPTIONS 4

/*
 * Reads the files [http] names into *ret (owned by the caller); *ret is
 * NULL when no tls_cert is configured (plain HTTP). A file that cannot be
 * read, or that GnuTLS does not take, is an error, logged with its path.
 */
int http_tls_load(const struct http_conf *conf, struct http_tls **ret);
void http_tls_free(struct http_tls *t);

/* MHD options for t into ops (up to HTTP_TLS_OPTIONS, borrowing t's memory); returns how many. */
size_t http_tls_options(const struct http_tls *t, struct MHD_OptionItem *ops);

/*
 * Whether the client of c may go on: true without a client CA; with one,
 * when it presented a certificate that chains to it and is valid now.
 * Otherwise why says what was wrong.
 */
bool http_tls_client_ok(const struct http_tls *t, struct MHD_Connection *c, char *why, size_t size);

#endif

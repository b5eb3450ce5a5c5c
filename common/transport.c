/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/tls.h"
#include "common/file.h"
#include "common/transport.h"
#include "common/util.h"

bool transport_is_tls(const struct transport_conf *t)
{
	return t->address && strncmp(t->address, "tls+tcp://", 10) == 0;
}

static bool scheme_known(const char *a)
{
	return !strncmp(a, "tcp://", 6) || !strncmp(a, "ipc://", 6) || !strncmp(a, "tls+tcp://", 10);
}

void transport_conf_check(const struct transport_conf *t, const char *section, bool many, const char *file,
			  struct conf_errors *errs)
{
	const char *p = t->address;
	char a[1024];
	size_t n = 0;
	bool tls = transport_is_tls(t);

	while (next_word(&p, a, sizeof(a))) {
		n++;
		if (!scheme_known(a))
			conf_error_add(errs, file, "[%s] address=%s: expected tcp://, ipc:// or tls+tcp://", section, a);
		else if (tls != (strncmp(a, "tls+tcp://", 10) == 0))
			conf_error_add(errs, file, "[%s] address=%s: every address is tls+tcp://, or none is", section, a);
	}
	if (n > 1 && !many)
		conf_error_add(errs, file, "[%s] %s: one address only", section, t->address);
	if (n > TRANSPORT_ADDRESSES_MAX)
		conf_error_add(errs, file, "[%s] address=: at most %d addresses", section, TRANSPORT_ADDRESSES_MAX);
	if (tls && (!t->tls_ca || !t->tls_cert || !t->tls_key))
		conf_error_add(errs, file, "[%s] address=%s: tls+tcp:// needs tls_ca, tls_cert and tls_key",
			       section, t->address);
}

int nng_to_errno(int rv)
{
	switch (rv) {
	case 0: return 0;
	case NNG_ENOMEM: return -ENOMEM;
	case NNG_EINVAL: return -EINVAL;
	case NNG_EADDRINUSE: return -EADDRINUSE;
	case NNG_ECONNREFUSED: return -ECONNREFUSED;
	case NNG_ETIMEDOUT: return -ETIMEDOUT;
	case NNG_ECLOSED: return -EPIPE;
	case NNG_ENOENT: return -ENOENT;
	case NNG_EPERM: return -EPERM;
	case NNG_ENOTSUP: return -EOPNOTSUPP;
	case NNG_EADDRINVAL: return -EADDRNOTAVAIL;
	case NNG_ECRYPTO:
	case NNG_EPEERAUTH: return -EACCES;
	default: return -EIO;
	}
}

/* The host of "tls+tcp://HOST:PORT" ("[HOST]:PORT" for IPv6) into out. */
static int address_host(const char *address, char *out, size_t size)
{
	const char *h = strstr(address, "://"), *end;

	if (!h)
		return -EINVAL;
	h += 3;
	if (*h == '[') {
		end = strchr(++h, ']');
	} else {
		end = strrchr(h, ':');
	}
	if (!end || end == h || (size_t)(end - h) >= size)
		return -EINVAL;
	(void)snprintf(out, size, "%.*s", (int)(end - h), h);
	return 0;
}

static int tls_config(const struct transport_conf *t, const char *address, bool server, nng_tls_config **ret)
{
	_cleanup_free_ char *cert = NULL, *key = NULL;
	char host[256];
	nng_tls_config *cfg;
	int rv, r = tls_engine_init();

	if (r < 0)
		return log_error_errno(r, "%s: cannot set up TLS on OpenSSL: %m", address);
	rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT);
	if (rv)
		return log_error_errno(nng_to_errno(rv), "%s: TLS setup: %s", address, nng_strerror(rv));
	r = file_read_text(t->tls_cert, PEM_FILE_MAX, &cert);
	if (r < 0) {
		log_error_errno(r, "%s: cannot read tls_cert %s: %m", address, t->tls_cert);
		goto fail;
	}
	r = file_read_text(t->tls_key, PEM_FILE_MAX, &key);
	if (r < 0) {
		log_error_errno(r, "%s: cannot read tls_key %s: %m", address, t->tls_key);
		goto fail;
	}
	rv = nng_tls_config_ca_file(cfg, t->tls_ca);
	if (rv == 0)
		rv = nng_tls_config_own_cert(cfg, cert, key, NULL);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	/* The collector's certificate must name the host dialled, unless tls_server_name names another. */
	if (rv == 0 && !server && !t->tls_server_name && address_host(address, host, sizeof(host)) < 0) {
		r = log_error_errno(EINVAL, "%s: no host in the address to check the certificate against", address);
		goto fail;
	}
	if (rv == 0 && !server)
		rv = nng_tls_config_server_name(cfg, t->tls_server_name ? t->tls_server_name : host);
	if (rv) {
		r = log_error_errno(nng_to_errno(rv), "%s: TLS files (ca %s, cert %s, key %s): %s",
				    address, t->tls_ca, t->tls_cert, t->tls_key, nng_strerror(rv));
		goto fail;
	}
	*ret = cfg;
	return 0;
fail:
	nng_tls_config_free(cfg);
	return r;
}

/* One dialer, to address (one word of the list). */
static int dial_one(nng_socket sock, const struct transport_conf *t, const char *address)
{
	nng_tls_config *cfg = NULL;
	nng_dialer d;
	int rv, r;

	rv = nng_dialer_create(&d, sock, address);
	if (rv)
		return log_error_errno(nng_to_errno(rv), "%s: cannot dial: %s", address, nng_strerror(rv));
	if (transport_is_tls(t)) {
		r = tls_config(t, address, false, &cfg);
		if (r < 0)
			return r;
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rv)
			return log_error_errno(nng_to_errno(rv), "%s: TLS: %s", address, nng_strerror(rv));
	}
	(void)nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 100);
	(void)nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 5000);
	rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	if (rv)
		return log_error_errno(nng_to_errno(rv), "%s: cannot dial: %s", address, nng_strerror(rv));
	return 0;
}

int transport_dial(nng_socket sock, const struct transport_conf *t)
{
	const char *p = t->address;
	char a[1024];
	int r = 0;

	/* A dialer each: the REQ socket spreads requests over the pipes up, and sends again on another when one goes. */
	while (r == 0 && next_word(&p, a, sizeof(a)))
		r = dial_one(sock, t, a);
	return r;
}

int transport_listen(nng_socket sock, const struct transport_conf *t)
{
	nng_tls_config *cfg = NULL;
	nng_listener l;
	int rv, r;

	rv = nng_listener_create(&l, sock, t->address);
	if (rv)
		return log_error_errno(nng_to_errno(rv), "%s: cannot listen: %s", t->address, nng_strerror(rv));
	if (transport_is_tls(t)) {
		r = tls_config(t, t->address, true, &cfg);
		if (r < 0)
			return r;
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rv)
			return log_error_errno(nng_to_errno(rv), "%s: TLS: %s", t->address, nng_strerror(rv));
	}
	rv = nng_listener_start(l, 0);
	if (rv)
		return log_error_errno(nng_to_errno(rv), "%s: cannot listen: %s", t->address, nng_strerror(rv));
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool transport_conf_equal(const struct transport_conf *a, const struct transport_conf *b)
{
	return same_str(a->address, b->address) && same_str(a->tls_ca, b->tls_ca) &&
	       same_str(a->tls_cert, b->tls_cert) && same_str(a->tls_key, b->tls_key) &&
	       same_str(a->tls_server_name, b->tls_server_name);
}

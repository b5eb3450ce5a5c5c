/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/decoder.h>
#endif
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/macro.h"
#include "common/tls.h"
#include "common/transport.h"
#include "common/util.h"

struct nng_tls_engine_config {
	SSL_CTX *ctx;
	char *server_name; /* the name (or address) the peer's certificate must hold; client side */
	bool server;
};

struct nng_tls_engine_conn {
	SSL *ssl;
	struct tls_peer peer; /* the verified peer certificate's, once the handshake is done */
};

/*
 * nng reads NNG_OPT_TLS_VERIFIED through the engine's verified() on the
 * caller's thread, under the connection's lock: a query set here for that
 * call is how tls_peer() learns which connection a pipe has.
 */
struct peer_query {
	struct tls_peer *ret;
	int r;
};
static _Thread_local struct peer_query *peer_query;

static BIO_METHOD *bio_method;

/* The BIO OpenSSL reads and writes through: nng's buffers for the TCP stream. */
static int bio_write(BIO *b, const char *data, int len)
{
	size_t n = (size_t)len;
	int rv = nng_tls_engine_send(BIO_get_data(b), (const uint8_t *)data, &n);

	BIO_clear_retry_flags(b);
	if (rv == 0)
		return (int)n;
	if (rv == NNG_EAGAIN)
		BIO_set_retry_write(b);
	return -1;
}

static int bio_read(BIO *b, char *data, int len)
{
	size_t n = (size_t)len;
	int rv = nng_tls_engine_recv(BIO_get_data(b), (uint8_t *)data, &n);

	BIO_clear_retry_flags(b);
	if (rv == 0)
		return (int)n;
	if (rv == NNG_EAGAIN)
		BIO_set_retry_read(b);
	return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* nng sends what it is given at once: there is nothing to flush. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void make_bio_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "nng");

	if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) && BIO_meth_set_ctrl(m, bio_ctrl))
		bio_method = m;
	else
		BIO_meth_free(m);
}

/* Why a handshake failed, as nng counts it: a certificate refused (either side's) is NNG_EPEERAUTH. */
static int handshake_error(SSL *ssl)
{
	unsigned long e = ERR_peek_error();
	int reason = ERR_GET_REASON(e);

	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return NNG_EPEERAUTH;
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE || reason == SSL_R_CERTIFICATE_VERIFY_FAILED ||
	     reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
	     reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN || reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
	     reason == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE || reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED))
		return NNG_EPEERAUTH;
	return NNG_ECRYPTO;
}

/* The nng result of an SSL call that returned n <= 0. */
static int ssl_result(SSL *ssl, int n, bool handshake)
{
	int rv;

	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE: rv = NNG_EAGAIN; break;
	case SSL_ERROR_ZERO_RETURN: rv = NNG_ECLOSED; break;
	case SSL_ERROR_SYSCALL: rv = handshake ? NNG_ECONNSHUT : NNG_ECLOSED; break;
	default: rv = handshake ? handshake_error(ssl) : NNG_ECRYPTO; break;
	}
	ERR_clear_error();
	return rv;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static X509 *peer_certificate(SSL *ssl)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	return X509_up_ref(SSL_get0_peer_certificate(ssl)) ? SSL_get0_peer_certificate(ssl) : NULL;
#else
	return SSL_get_peer_certificate(ssl);
#endif
}

/* The subject's CN, else the first DNS name; a name that is not printable ASCII is none. */
static void certificate_name(X509 *c, char *out, size_t size)
{
	GENERAL_NAMES *names;
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, out, (int)size);

	if (n > 0 && (size_t)n < size && strlen(out) == (size_t)n && printable(out))
		return;
	out[0] = 0;
	names = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *d;
		int len;

		if (g->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len > 0 && (size_t)len < size && memchr(d, 0, (size_t)len) == NULL) {
			memcpy(out, d, (size_t)len);
			out[len] = 0;
			if (!printable(out))
				out[0] = 0;
		}
		break;
	}
	GENERAL_NAMES_free(names);
}

void tls_certificate_serial(X509 *c, char *out, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	out[0] = 0;
	if (hex && strlen(hex) < size)
		for (size_t i = 0; (out[i] = (char)tolower((unsigned char)hex[i])); i++)
			;
	OPENSSL_free(hex);
	BN_free(bn);
	ERR_clear_error();
}

static int conn_init(nng_tls_engine_conn *ec, void *tls, nng_tls_engine_config *cfg)
{
	BIO *bio;

	ec->ssl = SSL_new(cfg->ctx);
	bio = bio_method ? BIO_new(bio_method) : NULL;
	if (!ec->ssl || !bio) {
		BIO_free(bio);
		SSL_free(TAKE_PTR(ec->ssl));
		ERR_clear_error();
		return NNG_ENOMEM;
	}
	BIO_set_data(bio, tls);
	BIO_set_init(bio, 1);
	SSL_set_bio(ec->ssl, bio, bio);
	if (cfg->server) {
		SSL_set_accept_state(ec->ssl);
		return 0;
	}
	SSL_set_connect_state(ec->ssl);
	if (!cfg->server_name)
		return 0;
	/* An address is checked against the certificate's IP names, a name against its DNS names. */
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ec->ssl), cfg->server_name) == 1)
		return 0;
	ERR_clear_error();
	if (SSL_set_tlsext_host_name(ec->ssl, cfg->server_name) != 1 || SSL_set1_host(ec->ssl, cfg->server_name) != 1) {
		ERR_clear_error();
		SSL_free(TAKE_PTR(ec->ssl));
		return NNG_EINVAL;
	}
	return 0;
}

static void conn_fini(nng_tls_engine_conn *ec)
{
	SSL_free(ec->ssl);
}

static void conn_close(nng_tls_engine_conn *ec)
{
	/* A close-notify, if it can be sent now; the TCP connection is nng's to close. */
	(void)SSL_shutdown(ec->ssl);
	ERR_clear_error();
}

static int conn_handshake(nng_tls_engine_conn *ec)
{
	X509 *peer;
	int n;

	ERR_clear_error();
	n = SSL_do_handshake(ec->ssl);
	if (n != 1)
		return ssl_result(ec->ssl, n, true);
	peer = SSL_get_verify_result(ec->ssl) == X509_V_OK ? peer_certificate(ec->ssl) : NULL;
	if (peer) {
		certificate_name(peer, ec->peer.name, sizeof(ec->peer.name));
		tls_certificate_serial(peer, ec->peer.serial, sizeof(ec->peer.serial));
		X509_free(peer);
	}
	return 0;
}

static int conn_recv(nng_tls_engine_conn *ec, uint8_t *buf, size_t *szp)
{
	int n;

	ERR_clear_error();
	n = SSL_read(ec->ssl, buf, (int)MIN(*szp, (size_t)INT_MAX));
	if (n <= 0)
		return ssl_result(ec->ssl, n, false);
	*szp = (size_t)n;
	return 0;
}

static int conn_send(nng_tls_engine_conn *ec, const uint8_t *buf, size_t *szp)
{
	int n;

	ERR_clear_error();
	n = SSL_write(ec->ssl, buf, (int)MIN(*szp, (size_t)INT_MAX));
	if (n <= 0)
		return ssl_result(ec->ssl, n, false);
	*szp = (size_t)n;
	return 0;
}

static bool conn_verified(nng_tls_engine_conn *ec)
{
	bool v = SSL_is_init_finished(ec->ssl) && SSL_get_verify_result(ec->ssl) == X509_V_OK && ec->peer.serial[0];
	struct peer_query *q = peer_query;

	if (q && v) {
		*q->ret = ec->peer;
		q->r = 0;
	}
	return v;
}

static int config_init(nng_tls_engine_config *cfg, nng_tls_mode mode)
{
	long opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE;

	cfg->server = mode == NNG_TLS_MODE_SERVER;
	cfg->ctx = SSL_CTX_new(TLS_method());
	if (!cfg->ctx)
		goto fail;
	(void)SSL_CTX_set_options(cfg->ctx, opts);
	/* nng may hand a rest of the same message from another offset: partial writes, moving buffers. */
	(void)SSL_CTX_set_mode(cfg->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	(void)SSL_CTX_set_session_cache_mode(cfg->ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_min_proto_version(cfg->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(cfg->ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(cfg->ctx, TLS_CIPHERS_TLS12) != 1 || SSL_CTX_set_num_tickets(cfg->ctx, 0) != 1)
		goto fail;
	SSL_CTX_set_verify(cfg->ctx, cfg->server ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	return 0;
fail:
	ERR_clear_error();
	SSL_CTX_free(TAKE_PTR(cfg->ctx));
	return NNG_ENOMEM;
}

static void config_fini(nng_tls_engine_config *cfg)
{
	SSL_CTX_free(cfg->ctx);
	free(cfg->server_name);
}

static int config_server(nng_tls_engine_config *cfg, const char *name)
{
	char *dup = strdup(name);

	if (!dup)
		return NNG_ENOMEM;
	free(cfg->server_name);
	cfg->server_name = dup;
	return 0;
}

static int config_auth(nng_tls_engine_config *cfg, nng_tls_auth_mode mode)
{
	int v;

	switch (mode) {
	case NNG_TLS_AUTH_MODE_NONE: v = SSL_VERIFY_NONE; break;
	case NNG_TLS_AUTH_MODE_OPTIONAL: v = SSL_VERIFY_PEER; break;
	case NNG_TLS_AUTH_MODE_REQUIRED: v = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; break;
	default: return NNG_EINVAL;
	}
	SSL_CTX_set_verify(cfg->ctx, v, NULL);
	return 0;
}

/* Adds every certificate (crl false) or CRL (crl true) in pem to the store; how many, or -1. */
static int store_add_pem(X509_STORE *store, const char *pem, bool crl)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	int n = 0;

	while (b && n >= 0) {
		X509 *c = crl ? NULL : PEM_read_bio_X509(b, NULL, NULL, NULL);
		X509_CRL *l = crl ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;

		if (!c && !l)
			break;
		if (c ? X509_STORE_add_cert(store, c) != 1 : X509_STORE_add_crl(store, l) != 1)
			n = -1;
		else
			n++;
		X509_free(c);
		X509_CRL_free(l);
	}
	/* The loop ends at the first PEM block of neither kind, or at the end: not an error. */
	ERR_clear_error();
	BIO_free(b);
	return b ? n : -1;
}

static int config_ca_chain(nng_tls_engine_config *cfg, const char *certs, const char *crl)
{
	X509_STORE *store = SSL_CTX_get_cert_store(cfg->ctx);
	int n = store_add_pem(store, certs, false), m = crl ? store_add_pem(store, crl, true) : 0;

	if (n <= 0 || m < 0)
		return NNG_EINVAL;
	/* A revoked certificate is refused; with CRLs given, every CA in the chain must have one. */
	if (m > 0)
		(void)X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

static int key_password(char *buf, int size, int rwflag, void *userdata)
{
	const char *pass = userdata;
	size_t len = strlen_or_0(pass);

	(void)rwflag;
	if (len > (size_t)size)
		return -1;
	memcpy(buf, pass, len);
	return (int)len;
}

static int config_own_cert(nng_tls_engine_config *cfg, const char *cert, const char *key, const char *pass)
{
	BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
	X509 *leaf = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL, *extra;
	EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, key_password, (void *)pass) : NULL;
	int rv = leaf && pk && SSL_CTX_use_certificate(cfg->ctx, leaf) == 1 && SSL_CTX_use_PrivateKey(cfg->ctx, pk) == 1 &&
			 SSL_CTX_check_private_key(cfg->ctx) == 1
		     ? 0
		     : NNG_EINVAL;

	/* The rest of the file is the chain up to the CA, sent with the certificate. */
	while (rv == 0 && (extra = PEM_read_bio_X509(cb, NULL, NULL, NULL)))
		if (SSL_CTX_add0_chain_cert(cfg->ctx, extra) != 1) {
			X509_free(extra);
			rv = NNG_EINVAL;
		}
	ERR_clear_error();
	X509_free(leaf);
	EVP_PKEY_free(pk);
	BIO_free(cb);
	BIO_free(kb);
	return rv;
}

static int proto_version(nng_tls_version v)
{
	switch (v) {
	case NNG_TLS_1_2: return TLS1_2_VERSION;
	case NNG_TLS_1_3: return TLS1_3_VERSION;
	default: return 0;
	}
}

static int config_version(nng_tls_engine_config *cfg, nng_tls_version min, nng_tls_version max)
{
	int lo = proto_version(min), hi = proto_version(max);

	/* Below TLS 1.2 is not offered at all. */
	if (!lo || !hi || lo > hi)
		return NNG_ENOTSUP;
	if (SSL_CTX_set_min_proto_version(cfg->ctx, lo) != 1 || SSL_CTX_set_max_proto_version(cfg->ctx, hi) != 1) {
		ERR_clear_error();
		return NNG_ENOTSUP;
	}
	return 0;
}

static nng_tls_engine_config_ops config_ops = {
	.size = sizeof(nng_tls_engine_config),
	.init = config_init,
	.fini = config_fini,
	.server = config_server,
	.auth = config_auth,
	.ca_chain = config_ca_chain,
	.own_cert = config_own_cert,
	.version = config_version,
};

static nng_tls_engine_conn_ops conn_ops = {
	.size = sizeof(nng_tls_engine_conn),
	.init = conn_init,
	.fini = conn_fini,
	.close = conn_close,
	.handshake = conn_handshake,
	.recv = conn_recv,
	.send = conn_send,
	.verified = conn_verified,
};

static nng_tls_engine engine = {
	.version = NNG_TLS_ENGINE_VERSION,
	.config_ops = &config_ops,
	.conn_ops = &conn_ops,
	.name = "openssl",
	.description = OPENSSL_VERSION_TEXT,
	.fips_mode = false,
};

static int init_result;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static void fetched_keymgmt(EVP_KEYMGMT *km, void *ctx)
{
}

static void fetched_decoder(OSSL_DECODER *d, void *ctx)
{
}

/*
 * OpenSSL 3.0 fills its caches of key managers and decoders as handshakes
 * first need them; ASan saw, once in tls.sh, a handshake read freed memory
 * there (OPENSSL_sk_dup under EVP_KEYMGMT_do_all_provided, decoding the
 * peer's certificate while another handshake ran). Fetched here once,
 * before any connection, they are in place and no handshake changes them.
 */
static void warm_openssl(void)
{
	EVP_KEYMGMT_do_all_provided(NULL, fetched_keymgmt, NULL);
	OSSL_DECODER_do_all_provided(NULL, fetched_decoder, NULL);
}
#else
static void warm_openssl(void)
{
}
#endif

static void register_engine(void)
{
	nng_tls_config *cfg;
	int rv;

	warm_openssl();
	make_bio_method();
	if (!bio_method) {
		init_result = -ENOMEM;
		return;
	}
	/* nng sets up its own engine when it first starts: after that, ours replaces it. */
	rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
	if (rv == 0) {
		nng_tls_config_free(cfg);
		rv = nng_tls_engine_register(&engine);
	}
	init_result = nng_to_errno(rv);
}

int tls_engine_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, register_engine);
	return init_result;
}

int tls_peer(nng_pipe p, struct tls_peer *ret)
{
	struct peer_query q = { .ret = ret, .r = -ENOENT };
	bool verified = false;
	int rv;

	peer_query = &q;
	rv = nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED, &verified);
	peer_query = NULL;
	if (rv == NNG_ENOTSUP || rv == NNG_ENOENT)
		return -ENOENT;
	if (rv)
		return rv == NNG_ECLOSED ? -EPIPE : nng_to_errno(rv);
	return verified ? q.r : -ENOENT;
}

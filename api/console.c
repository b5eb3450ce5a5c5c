/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/console.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"

#define FILES_MAX 256
#define BYTES_MAX (32u * 1024 * 1024)
#define NAME_MAX_LEN 128

/*
 * Nothing but the console's own origin: no inline script or style, no
 * eval, no plugin, no other site to load from or talk to, no framing.
 * Images may be data: URLs (the QR code is drawn to a canvas and needs
 * none; the favicon is one).
 */
#define CSP                                                                                                  \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self';" \
	" connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

struct asset {
	char name[NAME_MAX_LEN]; /* "index.html", or an asset's name under assets/ */
	const char *type;
	unsigned char *data;
	size_t len;
	char etag[2 + 2 * 16 + 1]; /* "\"" + 128 bits of its SHA-256 + "\"" */
};

struct console {
	struct asset index;
	struct asset *assets; /* sorted by name */
	size_t n;
};

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
	{ ".png", "image/png" },                 { ".woff2", "font/woff2" },
	{ ".json", "application/json" },         { ".txt", "text/plain; charset=utf-8" },
};

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < ARRAY_SIZE(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* The regular file name in dirfd (never through a symbolic link), up to *budget bytes, into a. */
static int asset_read(int dirfd, const char *name, size_t *budget, struct asset *a)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint8_t md[SHA256_SIZE];
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > *budget)
		return -EFBIG;
	a->data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!a->data)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, a->data + got, (size_t)st.st_size - got);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	a->len = got;
	*budget -= got;
	(void)snprintf(a->name, sizeof(a->name), "%s", name);
	a->type = type_of(name);
	if (sha256(a->data, a->len, md) < 0)
		return -ENOMEM;
	a->etag[0] = '"';
	hex_encode(md, 16, a->etag + 1);
	(void)snprintf(a->etag + 33, sizeof(a->etag) - 33, "\"");
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct asset *)a)->name, ((const struct asset *)b)->name);
}

/* Every file of dir/assets into c->assets; a name the server would not serve, or too many, is an error. */
static int assets_read(const char *dir, size_t *budget, struct console *c)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int r = 0;

	(void)snprintf(path, sizeof(path), "%s/assets", dir);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	c->assets = calloc(FILES_MAX, sizeof(*c->assets));
	if (!c->assets)
		r = -ENOMEM;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (c->n == FILES_MAX || !name_valid(de->d_name, NAME_MAX_LEN - 1, "._-") || !type_of(de->d_name)) {
			r = log_error_errno(c->n == FILES_MAX ? EFBIG : EINVAL,
					    "console: %s/%s: %s", path, de->d_name,
					    c->n == FILES_MAX ? "more than 256 files" : "not a name or type the console serves");
			break;
		}
		r = asset_read(dirfd(d), de->d_name, budget, &c->assets[c->n]);
		if (r < 0)
			log_error_errno(r, "console: %s/%s: %m", path, de->d_name);
		else
			c->n++;
	}
	closedir(d);
	if (r == 0)
		qsort(c->assets, c->n, sizeof(*c->assets), by_name);
	return r;
}

int console_load(const char *dir, struct console **ret)
{
	struct console *c = calloc(1, sizeof(*c));
	size_t budget = BYTES_MAX;
	_cleanup_close_ int fd = -1;
	int r;

	if (!c)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? -errno : asset_read(fd, "index.html", &budget, &c->index);
	if (r == -ENOENT || r == -ENOTDIR)
		log_warning("console: no %s/index.html; the collector serves the API only", dir);
	else if (r < 0)
		log_error_errno(r, "console: %s/index.html: %m", dir);
	if (r == 0)
		r = assets_read(dir, &budget, c);
	if (r == -EFBIG)
		log_error("console: %s holds more than %u bytes", dir, BYTES_MAX);
	if (r < 0) {
		console_free(c);
		return r == -ENOTDIR ? -ENOENT : r;
	}
	log_info("console: %zu files from %s", c->n + 1, dir);
	*ret = c;
	return 0;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	free(c->index.data);
	for (size_t i = 0; i < c->n; i++)
		free(c->assets[i].data);
	free(c->assets);
	free(c);
}

void console_common_headers(struct MHD_Response *resp, bool tls)
{
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	(void)MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	if (tls)
		(void)MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp, bool tls,
			     unsigned *ret_status)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	console_common_headers(resp, tls);
	(void)MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	(void)MHD_add_response_header(resp, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	*ret_status = status;
	return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *text, bool tls,
				   unsigned *ret_status)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

	if (resp) {
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
		(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	}
	return queue(conn, status, resp, tls, ret_status);
}

static const struct asset *asset_find(const struct console *c, const char *url)
{
	struct asset key;

	if (strncmp(url, "/assets/", 8) != 0)
		return &c->index;
	if (strlen(url + 8) >= sizeof(key.name))
		return NULL;
	(void)snprintf(key.name, sizeof(key.name), "%s", url + 8);
	return c->n ? bsearch(&key, c->assets, c->n, sizeof(*c->assets), by_name) : NULL;
}

enum MHD_Result console_serve(const struct console *c, struct MHD_Connection *conn, const char *url,
			      const char *method, bool tls, unsigned *status)
{
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool head = strcmp(method, "HEAD") == 0, not_modified;
	const struct asset *a;
	struct MHD_Response *resp;

	if (!head && strcmp(method, "GET") != 0)
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "the console answers GET and HEAD only\n", tls,
				   status);
	if (!c)
		return answer_text(conn, MHD_HTTP_NOT_FOUND,
				   "no console here: [http] console_dir has no index.html (the API is under /api/v1/)\n",
				   tls, status);
	a = asset_find(c, url);
	if (!a)
		return answer_text(conn, MHD_HTTP_NOT_FOUND, "no such asset\n", tls, status);
	not_modified = inm && strcmp(inm, a->etag) == 0;
	/* For HEAD, MHD sends the headers of the whole answer and no body. */
	resp = MHD_create_response_from_buffer(not_modified ? 0 : a->len, a->data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
	/* An asset's name changes with its content; the page names the assets of its build, so it is asked for again. */
	(void)MHD_add_response_header(resp, "Cache-Control",
				      a == &c->index ? "no-cache" : "public, max-age=31536000, immutable");
	return queue(conn, not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp, tls, status);
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/macro.h"
#include "ctl/ctl.h"

#define RESPONSE_MAX (256u * 1024 * 1024)

volatile sig_atomic_t ctl_interrupted;

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
	return buf_append(userdata, p, size * n) < 0 ? 0 : size * n;
}

/* Appends "&name=value" (URL-escaped) to url when value is set. */
static int add_param(struct ctl *c, struct buf *url, const char *name, const char *value)
{
	char *esc;
	int r;

	if (!value)
		return 0;
	esc = curl_easy_escape(c->curl, value, 0);
	if (!esc)
		return -ENOMEM;
	r = buf_printf(url, "%c%s=%s", memchr(url->data, '?', url->len) ? '&' : '?', name, esc);
	curl_free(esc);
	return r;
}

/*
 * GETs url, or sends body with method (POST, DELETE); returns the parsed
 * JSON answer (owned by the caller), or NULL after printing why.
 */
static json_t *request_url(struct ctl *c, const char *method, const char *url, const char *post)
{
	struct curl_slist *hdr = NULL;
	char auth[512];
	long status = 0;
	struct buf body;
	json_error_t jerr;
	json_t *j = NULL;
	CURLcode rc;

	buf_init(&body, RESPONSE_MAX);
	(void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	hdr = curl_slist_append(hdr, auth);
	curl_easy_reset(c->curl);
	(void)curl_easy_setopt(c->curl, CURLOPT_URL, url);
	(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
	(void)curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &body);
	(void)curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	(void)curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	/* The token goes over TLS 1.2 or later, to the host named, or not at all. */
	(void)curl_easy_setopt(c->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->cacert)
		(void)curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->cacert);
	if (c->cert)
		(void)curl_easy_setopt(c->curl, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		(void)curl_easy_setopt(c->curl, CURLOPT_SSLKEY, c->key);
	if (post) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
		(void)curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, post);
	}
	if (method)
		(void)curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vigilctl: %s: %s\n", url, curl_easy_strerror(rc));
		goto out;
	}
	(void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	j = json_loadb((const char *)body.data, body.len, 0, &jerr);
	if (status / 100 != 2) {
		json_t *reason = j ? json_object_get(j, "reason") : NULL;
		fprintf(stderr, "vigilctl: %s: HTTP %ld: %s\n", url, status,
			json_is_string(reason) ? json_string_value(reason) : "(no reason given)");
		json_decref(j);
		j = NULL;
	} else if (!j) {
		fprintf(stderr, "vigilctl: %s: bad JSON: %s\n", url, jerr.text);
	}
out:
	buf_free(&body);
	return j;
}

json_t *ctl_get(struct ctl *c, const char *path, const struct param *params, size_t n)
{
	struct buf url;
	json_t *j = NULL;
	int r;

	buf_init(&url, 16384);
	r = buf_printf(&url, "%s%s", c->url, path);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_param(c, &url, params[i].name, params[i].value);
	if (r == 0)
		r = buf_terminate(&url);
	if (r == 0)
		j = request_url(c, NULL, (const char *)url.data, NULL);
	else
		fprintf(stderr, "vigilctl: request too long\n");
	buf_free(&url);
	return j;
}

int ctl_list(struct ctl *c, const char *path, const struct param *params, size_t n, const char *header,
	     void (*row)(json_t *item))
{
	json_t *j = ctl_get(c, path, params, n), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json && header)
		fputs(header, stdout);
	json_array_foreach(json_object_get(j, "items"), i, item) {
		if (c->json)
			ctl_print_json(item);
		else
			row(item);
	}
	json_decref(j);
	return 0;
}

json_t *ctl_request(struct ctl *c, const char *method, const char *path, const char *body)
{
	char url[2048];

	(void)snprintf(url, sizeof(url), "%s%s", c->url, path);
	return request_url(c, method, url, body);
}

json_t *ctl_post(struct ctl *c, const char *path, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_t *j;

	json_decref(body);
	if (!text) {
		fprintf(stderr, "vigilctl: out of memory\n");
		return NULL;
	}
	j = ctl_request(c, "POST", path, text);
	explicit_bzero(text, strlen(text));
	free(text);
	return j;
}

void ctl_print_json(json_t *item)
{
	char *s = json_dumps(item, JSON_COMPACT);

	if (s)
		printf("%s\n", s);
	free(s);
}

const char *ctl_text(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "-";
}

char *ctl_read_json(const char *path)
{
	json_error_t err;
	json_t *j = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &err) : json_load_file(path, 0, &err);
	char *text;

	if (!j) {
		fprintf(stderr, "vigilctl: %s:%d: %s\n", path, err.line, err.text);
		return NULL;
	}
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

bool ctl_is_id(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

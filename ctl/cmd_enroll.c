/* SPDX-License-Identifier: Apache-2.0 */
/* vigilctl enroll-token and agent-cert: enrollment, for admins (/api/v1/enroll/…). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/util.h"
#include "ctl/ctl.h"

/* A time member of o as RFC 3339 (to the second), or "-". */
static const char *when(json_t *o, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	format_rfc3339_us((uint64_t)json_integer_value(v) / USEC_PER_SEC * USEC_PER_SEC, buf, size);
	buf[strcspn(buf, ".")] = 0;
	return buf;
}

static void token_row(json_t *t)
{
	char expires[40], revoked[40];

	printf("%-16s %-20s %5lld/%-5lld %-20s %-20s %s\n", ctl_text(t, "id"), when(t, "expires", expires, sizeof(expires)),
	       (long long)json_integer_value(json_object_get(t, "uses")),
	       (long long)json_integer_value(json_object_get(t, "uses_max")), when(t, "revoked", revoked, sizeof(revoked)),
	       ctl_text(t, "created_by"), ctl_text(t, "labels"));
}

static int token_list(struct ctl *c, char **words, size_t n)
{
	char header[160];

	(void)snprintf(header, sizeof(header), "%-16s %-20s %11s %-20s %-20s %s\n", "ID", "EXPIRES", "USES", "REVOKED",
		       "BY", "LABELS");
	return ctl_list(c, "/api/v1/enroll/tokens", NULL, 0, header, token_row);
}

static int token_create(struct ctl *c, char **words, size_t n)
{
	const struct ctl_args *a = &c->a;
	char *end = NULL, labels[1024];
	long long uses = strtoll(a->uses ? a->uses : "1", &end, 10);
	json_t *body, *j;

	/* zone=a,role=web as well as "zone=a role=web". */
	(void)snprintf(labels, sizeof(labels), "%s", a->labels ? a->labels : "");
	for (char *p = labels; (p = strchr(p, ','));)
		*p = ' ';
	if (!end || *end || uses < 1) {
		fprintf(stderr, "vigilctl: --uses: how many hosts may enroll with the token, a number from 1\n");
		return 2;
	}
	body = json_pack("{s:s, s:I, s:s?}", "expires", a->expires ? a->expires : "24h", "uses", (json_int_t)uses,
			 "labels", a->labels ? labels : NULL);
	j = ctl_post(c, "/api/v1/enroll/tokens", body);
	if (!j)
		return 1;
	if (c->json)
		ctl_print_json(j);
	else
		printf("%s\n\nShown this once. On each host, as root:\n  vigil-agent --config /etc/vigil/agent.conf"
		       " --enroll %s --token %s\n  systemctl enable --now vigil-agent\n",
		       ctl_text(j, "token"), strncmp(c->url, "https://", 8) == 0 ? c->url : "https://COLLECTOR:PORT",
		       ctl_text(j, "token"));
	json_decref(j);
	return 0;
}

/* DELETE path/words[0]; prints what the answer's key lists. */
static int revoke_item(struct ctl *c, const char *path, const char *what)
{
	char url[512];
	json_t *j;

	(void)snprintf(url, sizeof(url), "%s/%s", path, what);
	j = ctl_request(c, "DELETE", url, NULL);
	if (!j)
		return 1;
	if (c->json) {
		ctl_print_json(j);
	} else {
		json_t *serials = json_object_get(j, "revoked");
		size_t i;
		json_t *s;

		if (json_is_array(serials))
			json_array_foreach (serials, i, s)
				printf("revoked certificate %s\n", json_string_value(s));
		else
			printf("revoked %s\n", what);
	}
	json_decref(j);
	return 0;
}

static int token_revoke(struct ctl *c, char **words, size_t n)
{
	return revoke_item(c, "/api/v1/enroll/tokens", words[0]);
}

static const struct ctl_command token_commands[] = {
	{ "create", 0, 0, "[--labels K=V,…] [--expires 24h] [--uses 1]",
	  "a token hosts enroll with (shown once); the labels go to the agents it enrolls", NULL, token_create },
	{ "list", 0, 0, "", "the tokens, their uses and state; never their secrets", NULL, token_list },
	{ "revoke", 1, 1, "ID", "no host enrolls with it any more", NULL, token_revoke },
};

int cmd_enroll_token(struct ctl *c, char **words, size_t n)
{
	return ctl_run_sub(c, "enroll-token", token_commands, ARRAY_SIZE(token_commands), words, n);
}

static void cert_row(json_t *o)
{
	char issued[40], expires[40], revoked[40];
	json_t *r = json_object_get(o, "revoked");

	printf("%-32s %-24s %-20s %-20s %-20s %s\n", ctl_text(o, "serial"), ctl_text(o, "name"),
	       when(o, "issued", issued, sizeof(issued)), when(o, "expires", expires, sizeof(expires)),
	       r ? when(r, "at", revoked, sizeof(revoked)) : "-", ctl_text(o, "origin"));
}

static int cert_list(struct ctl *c, char **words, size_t n)
{
	char header[192];

	(void)snprintf(header, sizeof(header), "%-32s %-24s %-20s %-20s %-20s %s\n", "SERIAL", "NAME", "ISSUED",
		       "EXPIRES", "REVOKED", "ORIGIN");
	return ctl_list(c, "/api/v1/enroll/certs", NULL, 0, header, cert_row);
}

static int cert_revoke(struct ctl *c, char **words, size_t n)
{
	return revoke_item(c, "/api/v1/enroll/certs", words[0]);
}

static const struct ctl_command cert_commands[] = {
	{ "list", 0, 0, "", "the certificates enrollment issued, newest first", NULL, cert_list },
	{ "revoke", 1, 1, "SERIAL|NAME", "revoked (a name: its certificates in force); ingest refuses their batches",
	  NULL, cert_revoke },
};

int cmd_agent_cert(struct ctl *c, char **words, size_t n)
{
	return ctl_run_sub(c, "agent-cert", cert_commands, ARRAY_SIZE(cert_commands), words, n);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Who asks (a token or a session), and the session endpoints: log in and out, the password, TOTP. */
#include "config.h"

#include <qrencode.h>
#include <stdio.h>
#include <strings.h>

#include "api/http-internal.h"
#include "api/http.h"
#include "common/util.h"

/* The request is the session id's, whose user rq->who holds. */
static void as_session(struct request *rq, const char *id)
{
	rq->by_session = true;
	(void)snprintf(rq->session_id, sizeof(rq->session_id), "%s", id);
	(void)snprintf(rq->user, sizeof(rq->user), "%s", rq->who.user);
	(void)snprintf(rq->role, sizeof(rq->role), "%s", rq->who.role);
}

int request_authenticate(struct request *rq)
{
	const char *auth = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *id = MHD_lookup_connection_value(rq->c, MHD_COOKIE_KIND, SESSION_COOKIE);
	int r;

	if (auth)
		return strncasecmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) > 256 ?
			       -EACCES :
			       accounts_token_lookup(http_accounts(rq), auth + 7, rq->user, sizeof(rq->user), rq->role,
						     sizeof(rq->role));
	if (!id)
		return -EACCES;
	r = accounts_session(http_accounts(rq), id, now_realtime_us(), &rq->who);
	if (r == 0)
		as_session(rq, id);
	return r;
}

/* Whether a and b are equal, in a time that does not say where they differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t n = strlen(b);
	unsigned char d = 0;

	if (strlen(a) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

const char *session_refusal(struct request *rq, bool self_route, const char **why)
{
	const char *token = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "X-CSRF-Token");

	if (!rq->by_session)
		return NULL;
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0 && (!token || !same_secret(token, rq->who.csrf))) {
		*why = "a change made with a session cookie needs the session's X-CSRF-Token header";
		return "csrf";
	}
	if (self_route)
		return NULL;
	if (rq->who.must_change) {
		*why = "the password was set by an admin: change it first (POST /api/v1/session/password)";
		return "password_change_required";
	}
	if (rq->who.must_enrol) {
		*why = "this role needs a second factor: enrol TOTP first (POST /api/v1/session/totp)";
		return "totp_enrolment_required";
	}
	return NULL;
}


/* The string member name of body if it is one of at most max bytes, else NULL. */
static const char *member(json_t *body, const char *name, size_t max)
{
	const char *v = json_string_value(json_object_get(body, name));

	return v && strlen(v) <= max ? v : NULL;
}

static json_t *who_json(const struct request *rq)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "user", rq->user, "role", rq->role, "by",
			      rq->by_session ? "session" : "token");

	if (j && rq->by_session) {
		json_object_set_new(j, "csrf", json_string(rq->who.csrf));
		json_object_set_new(j, "must_change_password", json_boolean(rq->who.must_change));
		json_object_set_new(j, "must_enrol_totp", json_boolean(rq->who.must_enrol));
	}
	return j;
}

/* The session's cookie: only for this server's paths, never to scripts, never from another site. */
static void set_cookie(struct request *rq, const char *id, bool end)
{
	(void)snprintf(rq->set_cookie, sizeof(rq->set_cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
		       SESSION_COOKIE, id, http_tls_on(rq) ? "; Secure" : "", end ? "; Max-Age=0" : "");
}

static enum MHD_Result login_answer(struct request *rq, int r, const char *user, uint64_t locked_until)
{
	char until[40];

	switch (r) {
	case LOGIN_OK:
		return respond_json(rq, MHD_HTTP_OK, who_json(rq));
	case LOGIN_CODE_NEEDED:
		return respond_error(rq, MHD_HTTP_UNAUTHORIZED, "code_required",
				     "%s has a second factor: give totp (six digits) or a recovery code (recovery)", user);
	case LOGIN_LOCKED:
		format_rfc3339_us(locked_until, until, sizeof(until));
		return respond_error(rq, MHD_HTTP_FORBIDDEN, "locked",
				     "too many failed logins: %s is locked until %s (an admin's password reset unlocks)",
				     user, until);
	case LOGIN_DISABLED:
		return respond_error(rq, MHD_HTTP_FORBIDDEN, "disabled", "%s is disabled", user);
	case LOGIN_WRONG:
		return respond_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized", "wrong user name, password or code");
	default:
		return respond_errno(rq, r, "cannot log in");
	}
}

/* POST /api/v1/session {"user","password","totp"|"recovery"}: a session cookie and its CSRF token. */
enum MHD_Result api_post_session(struct request *rq)
{
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered);
	struct login_request in;
	char id[SESSION_ID_LEN + 1];
	uint64_t locked = 0;
	int r;

	if (!body)
		return answered;
	in = (struct login_request){ .user = member(body, "user", USER_NAME_MAX),
				     .password = member(body, "password", PASSWORD_MAX),
				     .totp = member(body, "totp", 16), .recovery = member(body, "recovery", 64) };
	if (!in.user || !in.password) {
		json_decref(body);
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "expected {\"user\": NAME, \"password\": PASSWORD} and, with a second factor,"
				     " \"totp\" or \"recovery\"");
	}
	audit_detail(rq, "login as %s", in.user);
	r = accounts_login(http_accounts(rq), &in, now_realtime_us(), id, &rq->who, &locked);
	if (r == LOGIN_OK) {
		as_session(rq, id);
		set_cookie(rq, id, false);
		explicit_bzero(id, sizeof(id));
	}
	answered = login_answer(rq, r, in.user, locked);
	json_decref(body);
	return answered;
}

/* GET /api/v1/session: who asks, and for a session its CSRF token and what it must do first. */
enum MHD_Result api_get_session(struct request *rq)
{
	return respond_json(rq, MHD_HTTP_OK, who_json(rq));
}

static enum MHD_Result need_session(struct request *rq)
{
	return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
			     "%s %s is for a console session; a token has none", rq->method, rq->url);
}

/* The body of a request only a session may make; NULL after queuing the answer in *answered. */
static json_t *session_body(struct request *rq, enum MHD_Result *answered)
{
	if (!rq->by_session) {
		*answered = need_session(rq);
		return NULL;
	}
	return request_object(rq, false, answered);
}

/* DELETE /api/v1/session: logs out; the cookie is cleared. */
enum MHD_Result api_delete_session(struct request *rq)
{
	if (!rq->by_session)
		return need_session(rq);
	(void)accounts_logout(http_accounts(rq), rq->session_id);
	set_cookie(rq, "", true);
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
}

/* POST /api/v1/session/password {"old","new"}: the user's other sessions end. */
enum MHD_Result api_post_password(struct request *rq)
{
	enum MHD_Result answered;
	json_t *body;
	const char *old, *new;
	char why[256] = "";
	int r;

	body = session_body(rq, &answered);
	if (!body)
		return answered;
	old = member(body, "old", PASSWORD_MAX);
	new = member(body, "new", PASSWORD_MAX);
	if (!old || !new) {
		json_decref(body);
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "expected {\"old\": ..., \"new\": ...}");
	}
	r = accounts_change_password(http_accounts(rq), rq->user, old, new, rq->session_id, now_realtime_us(), why,
				     sizeof(why));
	json_decref(body);
	if (r == -EACCES)
		return respond_error(rq, MHD_HTTP_FORBIDDEN, "forbidden", "%s", why);
	if (r < 0)
		return respond_errno(rq, r, why);
	rq->who.must_change = false;
	return respond_json(rq, MHD_HTTP_OK, who_json(rq));
}

/* Whether body's "password" is the session user's own (what TOTP enrolment asks again). */
static bool password_again(struct request *rq, json_t *body)
{
	const char *pw = member(body, "password", PASSWORD_MAX);

	return pw && accounts_check_password(http_accounts(rq), rq->user, pw) == 0;
}

/*
 * The URI as a QR code for an authenticator app to scan: its rows, each a
 * string of '1' (dark) and '0' modules, for the console to draw (a canvas,
 * never markup). The code holds the secret: its buffer is wiped.
 */
static json_t *qr_rows(const char *uri)
{
	QRcode *qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	json_t *rows = qr ? json_array() : NULL;
	char row[256];

	for (int y = 0; rows && y < qr->width && qr->width < (int)sizeof(row); y++) {
		for (int x = 0; x < qr->width; x++)
			row[x] = qr->data[y * qr->width + x] & 1 ? '1' : '0';
		row[qr->width] = 0;
		json_array_append_new(rows, json_string(row));
	}
	explicit_bzero(row, sizeof(row));
	if (qr) {
		explicit_bzero(qr->data, (size_t)qr->width * (size_t)qr->width);
		QRcode_free(qr);
	}
	return rows ? rows : json_null();
}

/* POST /api/v1/session/totp {"password"}: a new secret to enrol, as base32, an otpauth:// URI and its QR code. */
enum MHD_Result api_post_totp(struct request *rq)
{
	enum MHD_Result answered;
	char secret[64], uri[512];
	json_t *body;
	int r;

	body = session_body(rq, &answered);
	if (!body)
		return answered;
	if (!password_again(rq, body)) {
		json_decref(body);
		return respond_error(rq, MHD_HTTP_FORBIDDEN, "forbidden", "enrolling a second factor needs the password");
	}
	json_decref(body);
	r = accounts_totp_begin(http_accounts(rq), rq->user, secret, sizeof(secret), uri, sizeof(uri));
	if (r < 0)
		return respond_errno(rq, r, "cannot make a secret");
	answered = respond_json(rq, MHD_HTTP_OK,
				json_pack("{s:s, s:s, s:o}", "secret", secret, "uri", uri, "qr", qr_rows(uri)));
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(uri, sizeof(uri));
	return answered;
}

/* POST /api/v1/session/totp/confirm {"code"}: TOTP is on; the recovery codes, shown this once. */
enum MHD_Result api_post_totp_confirm(struct request *rq)
{
	char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	enum MHD_Result answered;
	json_t *body, *list;
	const char *code;
	int r;

	body = session_body(rq, &answered);
	if (!body)
		return answered;
	code = member(body, "code", 16);
	r = code ? accounts_totp_confirm(http_accounts(rq), rq->user, code, now_realtime_us(), codes) : -EACCES;
	json_decref(body);
	if (r == -EACCES)
		return respond_error(rq, MHD_HTTP_FORBIDDEN, "forbidden",
				     "wrong code: give the six digits the app shows for the secret of POST /api/v1/session/totp");
	if (r < 0)
		return respond_errno(rq, r, "cannot enrol");
	list = json_array();
	for (size_t i = 0; i < RECOVERY_CODES; i++)
		json_array_append_new(list, json_string(codes[i]));
	explicit_bzero(codes, sizeof(codes));
	rq->who.must_enrol = false;
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:b, s:o}", "totp", 1, "recovery_codes", list));
}

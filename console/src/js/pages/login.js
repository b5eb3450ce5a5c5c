// SPDX-License-Identifier: Apache-2.0
// Before the console: the login (with the second factor when the account
// has one), then what the session must do first: change a password an
// admin set, enrol TOTP for a role that needs it.
import { api, setCsrf } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { when } from "../time.js";

function field(label, input) {
	return h("label.field", h("span", label), input);
}

function loginForm(main, ctx) {
	const user = h("input", { name: "user", autocomplete: "username", required: true });
	const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
	const code = h("input", { name: "totp", autocomplete: "one-time-code", inputMode: "numeric", maxLength: 6 });
	const recovery = h("input", { name: "recovery", autocomplete: "off" });
	const codeRow = h("div", { hidden: true }, field(t("login.totp"), code),
		h("button.link", { type: "button", on: { click: () => { recoveryRow.hidden = false; code.value = ""; } } }, t("login.recovery")));
	const recoveryRow = h("div", { hidden: true }, field(t("login.recovery_code"), recovery));
	const submit = async (ev) => {
		ev.preventDefault();
		const body = { user: user.value, password: password.value };
		if (recovery.value)
			body.recovery = recovery.value.trim();
		else if (code.value)
			body.totp = code.value.trim();
		try {
			ctx.signedIn(await api("POST", "/api/v1/session", body));
		} catch (e) {
			if (e.error === "code_required") {
				codeRow.hidden = false;
				ctx.flash(t("login.code_required"), "info");
				code.focus();
				return;
			}
			password.value = "";
			const until = /until (\S+)/.exec(e.message);
			ctx.flash(e.error === "locked" ? t("login.locked", { until: until ? when(Date.parse(until[1]) * 1000) : "" }) :
				e.error === "disabled" ? t("login.disabled") : e.error === "unauthorized" ? t("login.wrong") :
				e.status === 0 ? t("err.network") : t("err.generic", { reason: e.message }), "error");
		}
	};
	main.append(h("h1", t("login.title")), h("form.card", { id: "login", on: { submit } },
		field(t("login.user"), user), field(t("login.password"), password), codeRow, recoveryRow,
		h("button.primary", { type: "submit" }, t("login.submit"))));
	user.focus();
}

function passwordForm(main, ctx) {
	const old = h("input", { name: "old", type: "password", autocomplete: "current-password", required: true });
	const fresh = h("input", { name: "new", type: "password", autocomplete: "new-password", required: true });
	const again = h("input", { name: "again", type: "password", autocomplete: "new-password", required: true });
	const submit = async (ev) => {
		ev.preventDefault();
		if (fresh.value !== again.value) {
			ctx.flash(t("pw.mismatch"), "error");
			return;
		}
		try {
			await api("POST", "/api/v1/session/password", { old: old.value, new: fresh.value });
			ctx.signedIn(await api("GET", "/api/v1/session"));
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};
	main.append(h("h1", t("pw.title")), h("p", t("pw.why")), h("form.card", { id: "password", on: { submit } },
		field(t("pw.old"), old), field(t("pw.new"), fresh), field(t("pw.again"), again), h("p.hint", t("pw.policy")),
		h("button.primary", { type: "submit" }, t("pw.submit"))));
	old.focus();
}

// The QR code's modules (rows of '1' and '0' from the API) drawn on a canvas, with the quiet zone around.
function qrCanvas(rows) {
	const scale = 6, quiet = 4, n = rows.length, size = (n + 2 * quiet) * scale;
	const c = h("canvas.qr", { id: "totp-qr", ariaLabel: "QR" });
	c.width = c.height = size;
	const g = c.getContext("2d");
	g.fillStyle = "#fff";
	g.fillRect(0, 0, size, size);
	g.fillStyle = "#000";
	rows.forEach((row, y) => [...row].forEach((m, x) => {
		if (m === "1")
			g.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
	}));
	return c;
}

function totpForm(main, ctx) {
	const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
	const step = h("div");
	const begin = async (ev) => {
		ev.preventDefault();
		try {
			const s = await api("POST", "/api/v1/session/totp", { password: password.value });
			password.value = "";
			fill(step, confirmStep(s, ctx));
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};
	fill(step, h("form.card", { id: "totp-begin", on: { submit: begin } }, field(t("totp.password"), password),
		h("button.primary", { type: "submit" }, t("totp.begin"))));
	main.append(h("h1", t("totp.title")), h("p", t("totp.why")), step);
	password.focus();
}

function confirmStep(s, ctx) {
	const code = h("input", { name: "code", autocomplete: "one-time-code", inputMode: "numeric", maxLength: 6, required: true });
	const box = h("div");
	const confirm = async (ev) => {
		ev.preventDefault();
		try {
			const r = await api("POST", "/api/v1/session/totp/confirm", { code: code.value.trim() });
			fill(box, h("div.card", { id: "recovery" }, h("p", t("totp.recovery")),
				h("ul.codes", r.recovery_codes.map((c) => h("li", c))),
				h("button.primary", { type: "button", on: { click: async () => ctx.signedIn(await api("GET", "/api/v1/session")) } },
					t("totp.done"))));
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};
	fill(box, h("form.card", { id: "totp-confirm", on: { submit: confirm } }, h("p", t("totp.scan")),
		s.qr ? qrCanvas(s.qr) : null, h("p", h("code", { id: "totp-secret" }, s.secret)),
		field(t("totp.code"), code), h("button.primary", { type: "submit" }, t("totp.confirm"))));
	return box;
}

export function render(main, ctx) {
	if (!ctx.session) {
		setCsrf("");
		loginForm(main, ctx);
	} else if (ctx.session.must_change_password) {
		passwordForm(main, ctx);
	} else {
		totpForm(main, ctx);
	}
}

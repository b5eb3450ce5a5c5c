// SPDX-License-Identifier: Apache-2.0
// Users and API tokens, for the system administrator: who may log in, with
// which role, whether they have a second factor or are locked; a new user,
// a reset password (changed at the next login), disable, enable, another
// role; tokens for programs and wall screens, shown once when made.
import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { when } from "../time.js";

const ROLES = ["viewer", "operator", "admin", "security", "auditor"];

function roleSelect(name, current) {
	return h("select", { name, ariaLabel: t("audit.role") }, ROLES.map((r) => h("option", { value: r, selected: r === current }, t("role." + r))));
}

export function render(main, ctx) {
	const users = h("tbody", { id: "users" });
	const tokens = h("tbody", { id: "tokens" });
	const shownToken = h("div", { id: "token-made" });

	const act = async (name, body) => {
		try {
			await api("POST", "/api/v1/users/" + encodeURIComponent(name), body);
			ctx.flash(t("users.done", { name }), "info");
			load();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};

	function userRow(u) {
		const locked = u.locked_until > Date.now() * 1000;
		const role = roleSelect("role", u.role);
		const pw = h("input", { name: "password", type: "password", autocomplete: "new-password", placeholder: t("users.new_password") });
		const self = u.name === ctx.session.user;
		return h("tr", { data: { name: u.name } },
			h("td", u.name), h("td", t("role." + u.role)),
			h("td", [u.disabled ? t("users.disabled") : locked ? t("users.locked", { until: when(u.locked_until) }) : t("users.active"),
				u.must_change ? " · " + t("users.must_change") : ""]),
			h("td", u.totp ? t("users.totp_on") : t("users.totp_off")),
			h("td", when(u.last_login) || "—"),
			h("td.actions-cell",
				self ? h("span.hint", t("users.self")) : [
					h("button", { type: "button", on: { click: () => act(u.name, { action: u.disabled ? "enable" : "disable" }) } },
						u.disabled ? t("users.enable") : t("users.disable")),
					role, h("button", { type: "button", on: { click: () => act(u.name, { action: "role", role: role.value }) } }, t("users.set_role"))],
				pw, h("button", { type: "button", on: { click: () => pw.value && act(u.name, { action: "reset-password", password: pw.value }) } },
					t("users.reset"))));
	}

	async function load() {
		try {
			const [u, tk] = await Promise.all([api("GET", "/api/v1/users"), api("GET", "/api/v1/tokens")]);
			fill(users, u.items.map(userRow));
			fill(tokens, tk.items.length ? tk.items.map((x) => h("tr", { data: { name: x.name } }, h("td", x.name), h("td", t("role." + x.role)),
				h("td", when(x.created)), h("td", h("button.danger", { type: "button", on: { click: () => dropToken(x.name) } }, t("users.revoke"))))) :
				h("tr", h("td.empty", { colSpan: 4 }, t("users.no_tokens"))));
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	}

	async function dropToken(name) {
		if (!confirm(t("users.revoke_confirm", { name })))
			return;
		try {
			await api("DELETE", "/api/v1/tokens/" + encodeURIComponent(name));
			load();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	}

	const nu = { name: h("input", { name: "name", required: true, placeholder: t("login.user"), autocomplete: "off" }), role: roleSelect("role", "operator"),
		password: h("input", { name: "password", type: "password", required: true, autocomplete: "new-password", placeholder: t("login.password") }) };
	const addUser = async (ev) => {
		ev.preventDefault();
		try {
			await api("POST", "/api/v1/users", { name: nu.name.value.trim(), role: nu.role.value, password: nu.password.value });
			ctx.flash(t("users.created", { name: nu.name.value.trim() }), "info");
			nu.name.value = nu.password.value = "";
			load();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};
	const nt = { name: h("input", { name: "token-name", required: true, placeholder: t("users.token_name"), autocomplete: "off" }), role: roleSelect("token-role", "viewer") };
	const addToken = async (ev) => {
		ev.preventDefault();
		try {
			const r = await api("POST", "/api/v1/tokens", { name: nt.name.value.trim(), role: nt.role.value });
			const wall = `${location.origin}/wall#token=${r.token}`;
			fill(shownToken, h("div.card", h("p", t("users.token_once")), h("p", h("code", { id: "token-value" }, r.token)),
				r.role === "viewer" ? [h("p", t("users.wall_link")), h("p", h("code", { id: "wall-link" }, wall))] : null));
			nt.name.value = "";
			load();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};

	fill(main, h("div.toolbar", h("h1", t("users.title"))),
		h("form.card.row", { id: "user-new", on: { submit: addUser } }, h("strong", t("users.new")), nu.name, nu.role, nu.password,
			h("button.primary", { type: "submit" }, t("users.create"))),
		h("p.hint", t("pw.policy"), " ", t("users.given")),
		h("table.list", h("thead", h("tr", ["login.user", "audit.role", "col.state", "users.totp", "users.last_login", ""].map((k) =>
			h("th", { scope: "col" }, k ? t(k) : "")))), users),
		h("h2", t("users.tokens")),
		h("form.card.row", { id: "token-new", on: { submit: addToken } }, h("strong", t("users.new_token")), nt.name, nt.role,
			h("button.primary", { type: "submit" }, t("users.make_token"))),
		shownToken,
		h("table.list", h("thead", h("tr", ["users.token_name", "audit.role", "users.created_at", ""].map((k) => h("th", { scope: "col" }, k ? t(k) : "")))),
			tokens));
	load();
}

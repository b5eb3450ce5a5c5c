// SPDX-License-Identifier: Apache-2.0
// Enrollment, for the system administrator: tokens hosts enroll their
// agents with (made here, shown once, with the command to run on a host),
// their uses and state, and the certificates enrollment issued, each
// revocable. Names, labels and origins came from hosts: text only.
import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { when } from "../time.js";

const EXPIRES = ["1h", "24h", "7d", "30d"];

function tokenState(x, now) {
	if (x.revoked)
		return t("enroll.revoked");
	if (x.expires <= now)
		return t("enroll.expired");
	return x.uses >= x.uses_max ? t("enroll.used_up") : t("enroll.valid");
}

function certState(c, now) {
	if (c.revoked)
		return t("enroll.revoked_by", { by: c.revoked.by || "?", at: when(c.revoked.at) });
	return c.expires <= now ? t("enroll.expired") : t("enroll.valid");
}

export function render(main, ctx) {
	const tokens = h("tbody", { id: "enroll-tokens" });
	const certs = h("tbody", { id: "enroll-certs" });
	const made = h("div", { id: "enroll-made" });
	const fingerprint = h("code", { id: "enroll-ca" });
	const fail = (e) => ctx.flash(t("err.generic", { reason: e.message }), "error");

	async function drop(path, what, confirmKey) {
		if (!confirm(t(confirmKey, { name: what })))
			return;
		try {
			await api("DELETE", path + encodeURIComponent(what));
			ctx.flash(t("enroll.revoked_done", { name: what }), "info");
			load();
		} catch (e) {
			fail(e);
		}
	}

	function tokenRow(x, now) {
		const live = !x.revoked && x.expires > now && x.uses < x.uses_max;
		return h("tr", { data: { id: x.id } }, h("td", h("code", x.id)), h("td", x.labels || "—"), h("td", `${x.uses} / ${x.uses_max}`),
			h("td", when(x.expires)), h("td", tokenState(x, now)), h("td", x.created_by),
			h("td", live ? h("button.danger", { type: "button", on: { click: () => drop("/api/v1/enroll/tokens/", x.id, "enroll.revoke_token_confirm") } },
				t("users.revoke")) : ""));
	}

	function certRow(c, now) {
		return h("tr", { data: { serial: c.serial } }, h("td", c.name), h("td", h("code", c.serial)), h("td", when(c.issued)),
			h("td", when(c.expires)), h("td", certState(c, now)), h("td", c.origin),
			h("td", !c.revoked && c.expires > now ? h("button.danger", { type: "button",
				on: { click: () => drop("/api/v1/enroll/certs/", c.serial, "enroll.revoke_cert_confirm") } }, t("users.revoke")) : ""));
	}

	async function load() {
		let tk, cs;
		try {
			[tk, cs] = await Promise.all([api("GET", "/api/v1/enroll/tokens"), api("GET", "/api/v1/enroll/certs")]);
		} catch (e) {
			if (e.status === 404)
				fill(main, h("div.toolbar", h("h1", t("enroll.title"))), h("p.card", { id: "enroll-off" }, t("enroll.off")));
			else
				fail(e);
			return;
		}
		const now = Date.now() * 1000;
		fill(fingerprint, tk.ca_fingerprint);
		fill(tokens, tk.items.length ? tk.items.map((x) => tokenRow(x, now)) : h("tr", h("td.empty", { colSpan: 7 }, t("enroll.no_tokens"))));
		fill(certs, cs.items.length ? cs.items.map((c) => certRow(c, now)) : h("tr", h("td.empty", { colSpan: 7 }, t("enroll.no_certs"))));
	}

	const form = {
		labels: h("input", { name: "labels", placeholder: "zone=gov-a role=web", autocomplete: "off", ariaLabel: t("enroll.labels") }),
		expires: h("select", { name: "expires", ariaLabel: t("enroll.expires") },
			EXPIRES.map((d) => h("option", { value: d, selected: d === "24h" }, t("enroll.for_" + d)))),
		uses: h("input", { name: "uses", type: "number", min: 1, max: 1000000, value: 1, required: true, ariaLabel: t("enroll.uses") }),
	};
	const create = async (ev) => {
		ev.preventDefault();
		try {
			const r = await api("POST", "/api/v1/enroll/tokens", { labels: form.labels.value.trim(), expires: form.expires.value,
				uses: Number(form.uses.value) });
			const command = `vigil-agent --config /etc/vigil/agent.conf --enroll ${location.origin} --token ${r.token}`;
			fill(made, h("div.card", h("p", t("enroll.once")), h("p", h("code", { id: "enroll-token-value" }, r.token)),
				h("p", t("enroll.run")), h("pre.command", { id: "enroll-command" }, command + "\nsystemctl enable --now vigil-agent")));
			form.labels.value = "";
			load();
		} catch (e) {
			fail(e);
		}
	};
	const head = (keys) => h("thead", h("tr", keys.map((k) => h("th", { scope: "col" }, k ? t(k) : ""))));

	fill(main, h("div.toolbar", h("h1", t("enroll.title"))),
		h("p.hint", t("enroll.intro"), " ", t("enroll.ca"), " ", fingerprint),
		h("form.card.row", { id: "enroll-new", on: { submit: create } }, h("strong", t("enroll.new")),
			h("label", t("enroll.labels"), " ", form.labels), h("label", t("enroll.expires"), " ", form.expires),
			h("label", t("enroll.uses"), " ", form.uses), h("button.primary", { type: "submit" }, t("users.make_token"))),
		made,
		h("table.list", head(["enroll.id", "enroll.labels", "enroll.uses", "enroll.expires_at", "col.state", "enroll.by", ""]), tokens),
		h("h2", t("enroll.certs")),
		h("table.list", head(["col.host", "enroll.serial", "enroll.issued", "enroll.expires_at", "col.state", "enroll.origin", ""]), certs));
	load();
}

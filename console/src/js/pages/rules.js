// SPDX-License-Identifier: Apache-2.0
// Rules, targets and routes: what raises alarms and where they go, as the
// collector holds them (the file's and those defined through the API);
// an admin sends a target a test message and sees whether it went.
import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { canAct } from "./common.js";

// A rule's keys but those every row shows, as "key=value" chips.
const SHOWN = new Set(["name", "type", "severity", "defined_in", "author", "created", "updated"]);

function keys(def) {
	return Object.entries(def).filter(([k]) => !SHOWN.has(k)).map(([k, v]) => h("span.chip", `${k}=${v}`));
}

export function render(main, ctx) {
	const rules = h("tbody", { id: "rules" });
	const targets = h("tbody", { id: "targets" });
	const routes = h("tbody", { id: "routes" });
	const admin = ctx.session.role === "admin";

	async function test(name) {
		try {
			const r = await api("POST", `/api/v1/notify/${encodeURIComponent(name)}/test`, {});
			ctx.flash(t("rules.test_queued", { name, id: r.notification_id }), "info");
			setTimeout(loadTargets, 2000);
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	}

	async function loadTargets() {
		const n = await api("GET", "/api/v1/notify");
		fill(targets, n.items.length ? n.items.map((x) => h("tr", { data: { name: x.name } }, h("td", x.name), h("td", x.type),
			h("td", x.url || ""), h("td", x.signed ? t("rules.signed") : ""),
			h("td", t("rules.queue", { queued: x.queued, sent: x.sent, failed: x.failed })),
			h("td.msg", x.last_error || ""),
			h("td", admin ? h("button", { type: "button", on: { click: () => test(x.name) } }, t("rules.test")) : null))) :
			h("tr", h("td.empty", { colSpan: 7 }, t("rules.no_targets"))));
	}

	(async () => {
		try {
			const r = await api("GET", "/api/v1/rules");
			fill(rules, r.items.map((x) => h("tr", { data: { name: x.name } }, h("td", x.name), h("td", x.type),
				h("td", x.severity ? t("sev." + x.severity) : ""), h("td", x.defined_in === "api" ? t("dt.api") : t("dt.file")),
				h("td", keys(x)))));
			if (canAct(ctx.session)) {
				await loadTargets();
				const ro = await api("GET", "/api/v1/routes");
				fill(routes, ro.items.length ? ro.items.map((x) => h("tr", h("td", x.name), h("td", x.match || ""), h("td", x.notify || ""))) :
					h("tr", h("td.empty", { colSpan: 3 }, t("rules.no_routes"))));
			}
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	})();
	const head = (ks) => h("thead", h("tr", ks.map((k) => h("th", { scope: "col" }, k ? t(k) : ""))));
	fill(main, h("div.toolbar", h("h1", t("rules.title"))), h("p.hint", t("rules.how")),
		h("h2", t("rules.rules")), h("table.list", head(["dt.name", "hosts.type", "col.severity", "dt.defined_in", "rules.keys"]), rules),
		canAct(ctx.session) ? [
			h("h2", t("rules.targets")),
			h("table.list", head(["dt.name", "hosts.type", "rules.url", "rules.secret", "rules.delivered", "rules.last_error", ""]), targets),
			h("h2", t("rules.routes")), h("table.list", head(["dt.name", "rules.match", "rules.notify"]), routes)] : null);
}

// SPDX-License-Identifier: Apache-2.0
// The audit log, for the security and audit administrators: who did what,
// from where, with what outcome, searched by user, action, object and time; page by
// page in the order it was written (its hash chain's order).
import { api, withQuery } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { when } from "../time.js";

const PAGE = 200;
const RANGES = ["1h", "24h", "7d", "30d"];

export function render(main, ctx) {
	const q = ctx.query;
	const f = { user: q.get("user") || "", action: q.get("action") || "", object: q.get("object") || "",
		since: RANGES.includes(q.get("since")) ? q.get("since") : "24h" };
	const user = h("input", { name: "user", value: f.user, placeholder: t("audit.user") });
	const action = h("input", { name: "action", value: f.action, placeholder: t("audit.action") });
	const object = h("input", { name: "object", value: f.object, placeholder: t("audit.object") });
	const since = h("select", { name: "since", ariaLabel: t("hosts.range") },
		RANGES.map((r) => h("option", { value: r, selected: r === f.since }, t("range." + r))));
	const body = h("tbody", { id: "audit" });
	// Shown once rows carry it: the log several collectors share names the one each row was recorded on.
	const collectorHead = h("th", { scope: "col", hidden: true }, t("audit.collector"));
	const state = h("p.hint", { id: "audit-state", role: "status" });
	const more = h("button", { type: "button", id: "more", hidden: true, on: { click: () => load(false) } }, t("logs.more"));
	let cursor = null, shown = 0;

	async function load(fresh) {
		if (fresh) {
			cursor = null;
			shown = 0;
			fill(body);
		}
		try {
			const r = await api("GET", withQuery("/api/v1/audit", { user: f.user, action: f.action, object: f.object, since: f.since, limit: PAGE, cursor }));
			if (r.items.some((a) => a.collector !== undefined))
				collectorHead.hidden = false;
			for (const a of r.items)
				body.append(h("tr", { data: { id: a.seq ?? a.id } }, h("td.ts", when(a.ts)),
					collectorHead.hidden ? null : h("td.collector", { title: a.chain || "" }, a.collector || ""),
					h("td", a.user), h("td", a.role), h("td", a.action),
					h("td", h("span.outcome-" + a.outcome, `${t("audit." + a.outcome)} ${a.status || ""}`)),
					h("td", a.source), h("td.msg", a.detail || a.object)));
			shown += r.items.length;
			cursor = r.next_cursor;
			more.hidden = r.items.length < PAGE;
			fill(state, t("audit.count", { n: shown }));
			if (!shown)
				fill(body, h("tr", h("td.empty", { colSpan: collectorHead.hidden ? 7 : 8 }, t("audit.none"))));
		} catch (e) {
			fill(state, e.status === 403 ? t("err.forbidden", { reason: e.message }) : t("err.generic", { reason: e.message }));
		}
	}

	const apply = (ev) => {
		ev.preventDefault();
		Object.assign(f, { user: user.value.trim(), action: action.value.trim(), object: object.value.trim(), since: since.value });
		history.replaceState(null, "", withQuery("/audit", f));
		load(true);
	};
	fill(main, h("div.toolbar", h("h1", t("audit.title"))),
		h("form.filters", { id: "audit-search", on: { submit: apply } }, user, action, object, since, h("button.primary", { type: "submit" }, t("logs.search"))),
		state,
		h("table.list", h("thead", h("tr", h("th", { scope: "col" }, t("hosts.at")), collectorHead,
			["audit.user", "audit.role", "audit.action", "audit.outcome", "audit.source", "audit.detail"]
				.map((k) => h("th", { scope: "col" }, t(k))))), body), more);
	load(true);
}

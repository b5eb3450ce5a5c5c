// SPDX-License-Identifier: Apache-2.0
// Silences: those in force and to come (or every one), a new one made from
// label matchers with a preview of the open problems it would silence
// (asked of the collector, which matches as the evaluator does), and ending
// one now.
import { api, withQuery } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { seconds, when } from "../time.js";
import { canAct, labelChips, severityBadge } from "./common.js";

const DURATIONS = ["1h", "2h", "4h", "8h", "1d", "7d"];

function silenceState(s, now) {
	if (s.ends <= now)
		return "ended";
	return s.active ? "active" : "pending";
}

function matcherRow(onChange, key, value) {
	const k = h("input.m-key", { name: "label", placeholder: t("silences.label"), value: key || "" });
	const v = h("input.m-value", { name: "value", placeholder: t("silences.value"), value: value || "" });
	const row = h("div.row.matcher", k, "=", v,
		h("button.link", { type: "button", on: { click: () => { row.remove(); onChange(); } } }, t("silences.remove")));
	k.addEventListener("input", onChange);
	v.addEventListener("input", onChange);
	return row;
}

function form(ctx, reload) {
	const rows = h("div", { id: "matchers" });
	const preview = h("div.preview", { id: "preview", role: "status" });
	const duration = h("select", { name: "duration", ariaLabel: t("silences.duration") },
		DURATIONS.map((d) => h("option", { value: d, selected: d === "2h" }, t("dur." + d))));
	const comment = h("input", { name: "comment", required: true, placeholder: t("silences.comment") });
	// A maintenance window: the same window again every day or week, for a year (the API's default).
	const every = h("select", { name: "every", ariaLabel: t("silences.recur") },
		["", "1d", "7d"].map((e) => h("option", { value: e }, t(e ? "silences.every_" + e : "silences.once"))));
	let seq = 0;
	const matchers = () => {
		const m = {};
		for (const r of rows.querySelectorAll(".matcher")) {
			const k = r.querySelector(".m-key").value.trim(), v = r.querySelector(".m-value").value.trim();
			if (k)
				m[k] = v;
		}
		return m;
	};
	// Asked again as the matchers change; an answer to an older question is dropped.
	const ask = async () => {
		const m = matchers(), mine = ++seq;
		if (!Object.keys(m).length) {
			fill(preview);
			return;
		}
		try {
			const r = await api("POST", "/api/v1/silences/preview", { matchers: m });
			if (mine !== seq)
				return;
			fill(preview, h("p", r.count ? t("silences.preview", { n: r.count }) : t("silences.preview_none")),
				h("ul", r.items.slice(0, 20).map((a) => h("li", severityBadge(a.severity), " ",
					h("a", { href: "/alerts/" + a.id, data: { link: "" } }, a.summary || a.rule)))));
		} catch (e) {
			if (mine === seq)
				fill(preview, h("p.error", e.message));
		}
	};
	const submit = async (ev) => {
		ev.preventDefault();
		try {
			const body = { matchers: matchers(), duration: duration.value, comment: comment.value };
			if (every.value)
				body.every = every.value;
			const s = await api("POST", "/api/v1/silences", body);
			ctx.flash(t("silences.create") + " #" + s.id + " ✓", "info");
			reload();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};
	const host = ctx.query.get("host");
	rows.append(matcherRow(ask, host ? "host" : "", host || ""));
	if (host)
		setTimeout(ask);
	return h("form.card", { id: "silence-new", on: { submit } }, h("h2", t("silences.new")), rows,
		h("button.link", { type: "button", on: { click: () => rows.append(matcherRow(ask)) } }, "+ " + t("silences.add_matcher")),
		h("div.row", duration, every, comment, h("button.primary", { type: "submit" }, t("silences.create"))), preview);
}

export function render(main, ctx) {
	const all = ctx.query.get("all") === "1";
	const list = h("tbody", { id: "silences" });
	const act = canAct(ctx.session);

	async function load() {
		try {
			const r = await api("GET", withQuery("/api/v1/silences", { all: all ? "1" : "" }));
			const now = Date.now() * 1000;
			fill(list, r.items.length ? r.items.map((s) => {
				const st = silenceState(s, now);
				return h("tr", { data: { id: s.id } },
					h("td", h("span.state.sil-" + st, t("silences." + st))),
					h("td", labelChips(s.matchers)),
					h("td", when(s.starts)), h("td", when(s.ends), s.every ? h("div.hint", t("silences.every", { d: seconds(s.every) })) : null),
					h("td", s.creator), h("td", s.comment),
					h("td", act && st !== "ended" ? h("button.danger", { type: "button", on: { click: () => expire(s.id) } },
						t("silences.expire")) : null));
			}) : h("tr", h("td.empty", { colSpan: 7 }, t("silences.none"))));
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	}

	async function expire(id) {
		try {
			await api("DELETE", "/api/v1/silences/" + id);
			load();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	}

	const toggle = h("label", h("input", { type: "checkbox", checked: all, on: { change: (ev) =>
		ctx.navigate(ev.target.checked ? "/silences?all=1" : "/silences", true) } }), " ", t("silences.show_ended"));
	fill(main, h("div.toolbar", h("h1", t("silences.title")), h("span.spacer"), toggle),
		act ? form(ctx, load) : null,
		h("table.list", h("thead", h("tr", ["col.state", "silences.matchers", "silences.from", "silences.to", "silences.creator",
			"silences.comment", ""].map((k) => h("th", { scope: "col" }, k ? t(k) : "")))), list));
	load();
}

// SPDX-License-Identifier: Apache-2.0
// Business performance (业务性能): each log metric over the whole fleet — its
// rate, and the p99 of a metric with a value — one line per host and label
// values; an admin defines, changes and deletes the API's log metrics here
// (logs.md, Log metrics). What comes from hosts is text, never markup.
import { api, withQuery } from "../api.js";
import { chart } from "../chart.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { RANGES } from "./common.js";

// Lines a chart draws: the busiest; the rest are said, not drawn.
const LINES_MAX = 8;
const FIELDS = ["name", "query", "value", "labels", "step"];

// The series with the most in them first, named by host and labels; at most LINES_MAX.
function busiest(series) {
	const total = (s) => s.points.reduce((a, p) => a + (p[1] || 0), 0);
	const named = series.map((s) => ({ ...s, instance: [s.host, s.instance].filter(Boolean).join(" ") }));
	return named.sort((a, b) => total(b) - total(a)).slice(0, LINES_MAX);
}

function field(name, value, hint) {
	const input = h("input", { name: "lm-" + name, value: value || "", autocomplete: "off" });
	return h("label.field", h("span", t("perf." + name)), input, hint ? h("span.hint", hint) : null);
}

export function render(main, ctx) {
	const range = RANGES[ctx.query.get("range")] ? ctx.query.get("range") : "1h";
	const admin = ctx.session.role === "admin";
	const list = h("div", { id: "logmetrics" });
	const editorBox = h("div", { id: "lm-editor" });
	let drawn = [];
	let stopped = false;
	const clear = () => {
		drawn.forEach((c) => c.destroy());
		drawn = [];
	};

	// The editor for a new log metric (m undefined) or for m, an API one.
	function editor(m) {
		const why = h("p.error", { id: "lm-error", hidden: true, role: "alert" });
		const inputs = {
			name: field("name", m?.name, t("perf.name_hint")),
			query: field("query", m?.query, t("perf.query_hint")),
			value: field("value", m?.value, t("perf.value_hint")),
			labels: field("labels", (m?.labels || []).join(" "), t("perf.labels_hint")),
			step: field("step", m ? m.step_ms / 1000 + "s" : "1m"),
		};
		if (m)
			inputs.name.querySelector("input").readOnly = true;
		const submit = async (ev) => {
			ev.preventDefault();
			const body = {};
			for (const k of FIELDS) {
				const v = inputs[k].querySelector("input").value.trim();
				if (v)
					body[k] = v;
			}
			try {
				const saved = m ? await api("PUT", "/api/v1/logmetrics/" + encodeURIComponent(m.name), body) :
					await api("POST", "/api/v1/logmetrics", body);
				ctx.flash(t("perf.saved", { name: saved.name }), "info");
				fill(editorBox);
				load();
			} catch (e) {
				why.hidden = false;
				fill(why, t("err.generic", { reason: e.message }));
			}
		};
		fill(editorBox, h("form.card", { id: "lm-form", on: { submit } },
			h("h2", m ? t("perf.edit_title", { name: m.name }) : t("perf.new")),
			FIELDS.map((k) => inputs[k]), why,
			h("div.row", h("button.primary", { type: "submit", id: "lm-save" }, t("perf.save")),
				h("button.link", { type: "button", on: { click: () => fill(editorBox) } }, t("perf.cancel")))));
		inputs[m ? "query" : "name"].querySelector("input").focus();
	}

	async function remove(m, button) {
		// A second click confirms: a metric's series stop being kept.
		if (!button.dataset.confirm) {
			button.dataset.confirm = "1";
			fill(button, t("perf.confirm_delete"));
			return;
		}
		try {
			await api("DELETE", "/api/v1/logmetrics/" + encodeURIComponent(m.name));
			ctx.flash(t("perf.deleted", { name: m.name }), "info");
			load();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	}

	// One log metric: what it counts, its charts over the fleet, and for an admin its actions.
	async function card(m, width, made, span) {
		const names = [[`log.${m.name}.rate`, "/s"], ...(m.value ? [[`log.${m.name}.p99`, ""]] : [])];
		const results = await Promise.all(names.map(([name]) =>
			api("GET", withQuery("/api/v1/metrics", { name, since: range })).catch(() => null)));
		const charts = results.flatMap((r, i) => {
			if (!r || !r.series.length)
				return [];
			const c = chart(names[i][0], busiest(r.series), width, names[i][1], null, span);
			made.push(c);
			const more = r.series.length - LINES_MAX;
			return [h("div", c.el, more > 0 ? h("p.hint", t("perf.more_lines", { n: more })) : null)];
		});
		const chips = [["perf.query", m.query || t("perf.all")], ["perf.value", m.value], ["perf.labels", m.labels.join(" ")],
			["perf.step", m.step_ms / 1000 + "s"]].filter(([, v]) => v).map(([k, v]) => h("span.chip", `${t(k)}: ${v}`));
		const own = admin && m.defined_in === "api";
		return h("section.card.logmetric", { data: { name: m.name } },
			h("div.toolbar", h("h2", m.name), h("span.hint", m.defined_in === "api" ? t("dt.api") : t("dt.file")), h("span.spacer"),
				own ? h("button", { type: "button", data: { action: "edit" }, on: { click: () => editor(m) } }, t("perf.edit")) : null,
				own ? h("button.danger", { type: "button", data: { action: "delete" }, on: { click: (ev) => remove(m, ev.currentTarget) } },
					t("perf.delete")) : null),
			h("div", chips),
			h("div.charts", charts.length ? charts : h("p.hint", t("perf.no_points"))));
	}

	async function load() {
		try {
			const r = await api("GET", "/api/v1/logmetrics");
			if (stopped)
				return;
			const width = Math.max(320, Math.floor(((list.clientWidth || 960) - 16) / 2) - 18);
			const made = [], now = Date.now() / 1000, span = [now - RANGES[range], now];
			const cards = await Promise.all(r.items.map((m) => card(m, width, made, span)));
			if (stopped) {
				made.forEach((c) => c.destroy());
				return;
			}
			clear();
			drawn = made;
			fill(list, cards.length ? cards : h("p.empty", { id: "lm-none" }, t("perf.none")));
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	}

	const pick = h("select", { name: "range", ariaLabel: t("hosts.range"), on: { change: (ev) =>
		ctx.navigate(withQuery("/perf", { range: ev.target.value }), true) } },
	Object.keys(RANGES).map((x) => h("option", { value: x, selected: x === range }, t("range." + x))));
	fill(main, h("div.toolbar", h("h1", t("perf.title")), h("span.spacer"), pick,
		admin ? h("button.primary", { type: "button", id: "lm-new", on: { click: () => editor() } }, t("perf.new")) : null),
	h("p.hint", t("perf.how")), editorBox, list);
	load();
	return () => {
		stopped = true;
		clear();
	};
}

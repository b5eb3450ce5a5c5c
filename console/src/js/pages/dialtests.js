// SPDX-License-Identifier: Apache-2.0
// Dial tests (拨测): the tests with their last day's availability; one
// test's vantage points side by side (the collector and the agents it
// runs on, each newest run by phase) with its state by fail_when, its step
// latencies, its runs, each run as a waterfall of its steps' phases; a run
// asked for now; the definition edited (admins), its errors said where
// they are (a JSON path, or the line and column of bad JSON).
import { api, withQuery } from "../api.js";
import { chart } from "../chart.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { when } from "../time.js";
import { canAct, poll } from "./common.js";

const PHASES = ["dns", "connect", "tls", "ttfb", "transfer", "redirect"];

function outcome(r) {
	return h("span.pc.pc-" + (r.ok ? "ok" : r.outcome === "probe_error" ? "unknown" : "critical"), t("dt." + r.outcome));
}

// The steps of a run one after another, each as its phases, on one scale.
export function waterfall(run) {
	const total = run.steps.reduce((s, x) => s + (x.timings_ms?.total || 0), 0) || 1;
	let at = 0;
	return h("div.waterfall", { id: "waterfall" }, run.steps.map((st) => {
		const tm = st.timings_ms || {};
		const bar = h("div.wf-bar");
		const lead = h("span.wf-lead");
		lead.style.width = (100 * at / total) + "%";
		bar.append(lead);
		for (const p of PHASES) {
			if (!tm[p])
				continue;
			const seg = h("span.wf-" + p, { title: `${t("dt.phase." + p)} ${tm[p].toFixed(1)} ms` });
			seg.style.width = (100 * tm[p] / total) + "%";
			bar.append(seg);
		}
		at += tm.total || 0;
		return h("div.wf-row", { data: { step: st.name } },
			h("span.wf-name", st.name, " ", st.status ? h("span.hint", String(st.status)) : null), bar,
			h("span.wf-total", (tm.total ?? 0).toFixed(1) + " ms"),
			h("div.wf-phases.hint", PHASES.filter((p) => tm[p]).map((p) => `${t("dt.phase." + p)} ${tm[p].toFixed(1)}`).join(" · ")),
			st.failed_assertion ? h("p.note.error", t("dt.failed_assertion", { type: st.failed_assertion.type }), " ",
				JSON.stringify(st.failed_assertion)) : null,
			st.error ? h("p.note.error", `${st.error.kind}: ${st.error.message}`) : null);
	}), h("div.hint", PHASES.map((p) => h("span.wf-key", h("span.wf-" + p), t("dt.phase." + p)))));
}

// A vantage's name as ops staff read it: the collector, or the agent's host (text, as every host's string is).
const vantageName = (v) => v === "collector" ? t("dt.collector") : v;

// Where a test runs, as its run_on says: the collector, and label selectors of agents.
const runsOn = (d) => (d.run_on || ["collector"]).map((x) => typeof x === "string" ? vantageName(x) :
	Object.entries(x).map(([k, v]) => `${k}=${v}`).join(" ")).join("、");

// A run's phases summed over its steps.
const phaseOf = (r, p) => r.steps.reduce((n, st) => n + (st.timings_ms?.[p] || 0), 0);

// The vantages side by side: each one's newest run by phase, its last day's availability, and the test's state.
function vantagesTable(v, sum, show) {
	const state = h("p", { id: "vantage-state", data: { state: v.state } },
		h("span.pc.pc-" + (v.state === "ok" ? "ok" : v.state === "failing" ? "critical" : "unknown"), t("dt.vstate." + v.state)), " ",
		t(v.fail_when.endsWith(" of 0") ? "dt.quorum_any" : "dt.quorum", { failing: v.failing, reporting: v.reporting, rule: v.fail_when }));
	const rows = v.items.map((r) => {
		const per = sum?.vantages?.[r.vantage];
		const tr = h("tr", { data: { vantage: r.vantage, ok: String(r.ok) } },
			h("th", { scope: "row" }, h("button.link", { type: "button" }, vantageName(r.vantage))), h("td", outcome(r)),
			h("td.ts", when(r.started)), ...PHASES.slice(0, 5).concat("total").map((p) => h("td.num", phaseOf(r, p).toFixed(1))),
			h("td", per ? `${Math.round(1000 * per.ok / per.runs) / 10}%（${per.ok}/${per.runs}）` : "—"), h("td.msg", r.message || ""));
		tr.querySelector("button").addEventListener("click", () => show(r));
		return tr;
	});
	return [h("h2", t("dt.vantages")), state,
		h("table.list", { id: "vantages" }, h("thead", h("tr", [t("dt.vantage"), t("dt.outcome"), t("dt.started"),
			...PHASES.slice(0, 5).map((p) => t("dt.phase." + p) + " ms"), t("dt.total_ms"), t("dt.availability"), t("dt.message")]
			.map((k) => h("th", { scope: "col" }, k)))),
		h("tbody", rows.length ? rows : h("tr", h("td.empty", { colSpan: 11 }, t("dt.no_vantages")))))];
}

// Where bad JSON is, as "line L, column C", from the parser's message.
function jsonWhere(text, e) {
	const m = /position (\d+)/.exec(e.message), lc = /line (\d+) column (\d+)/.exec(e.message);
	if (lc)
		return t("dt.json_at", { line: lc[1], col: lc[2], msg: e.message });
	if (!m)
		return e.message;
	const before = text.slice(0, Number(m[1])).split("\n");
	return t("dt.json_at", { line: before.length, col: before[before.length - 1].length + 1, msg: e.message });
}

function editor(def, ctx, onSaved) {
	const shown = { ...def };
	for (const k of ["id", "defined_in", "author", "created", "updated", "history", "file"])
		delete shown[k];
	const area = h("textarea.code", { name: "definition", rows: 18, ariaLabel: t("dt.definition") });
	area.value = JSON.stringify(shown, null, 2);
	const why = h("p.error", { id: "editor-error", hidden: true, role: "alert" });
	const save = async () => {
		let body;
		why.hidden = true;
		try {
			body = JSON.parse(area.value);
		} catch (e) {
			fill(why, jsonWhere(area.value, e));
			why.hidden = false;
			return;
		}
		try {
			const saved = def.id ? await api("PUT", "/api/v1/dialtests/" + def.id, body) : await api("POST", "/api/v1/dialtests", body);
			ctx.flash(t("dt.saved", { name: saved.name }), "info");
			onSaved(saved);
		} catch (e) {
			fill(why, t("dt.refused", { reason: e.message }));
			why.hidden = false;
		}
	};
	return h("section.card", { id: "editor" }, h("h2", def.id ? t("dt.edit") : t("dt.new")),
		def.defined_in === "file" ? h("p.hint", t("dt.in_file", { file: def.file || "" })) : null,
		h("p.hint", t("dt.editor_how")), area, why,
		h("button.primary", { type: "button", id: "save", disabled: def.defined_in === "file", on: { click: save } }, t("dt.save")));
}

function list(main, ctx) {
	const body = h("tbody", { id: "dialtests" });
	const admin = ctx.session.role === "admin";
	(async () => {
		try {
			const r = await api("GET", "/api/v1/dialtests");
			const [sums, lasts] = await Promise.all([
				Promise.all(r.items.slice(0, 100).map((d) => api("GET", `/api/v1/dialtests/${d.id}/summary`).catch(() => null))),
				Promise.all(r.items.slice(0, 100).map((d) => api("GET", withQuery(`/api/v1/dialtests/${d.id}/results`, { since: "24h", limit: 1 }))
					.then((x) => x.items[0] || null, () => null)))]);
			fill(body, r.items.length ? r.items.map((d, i) => h("tr", { data: { id: d.id } },
				h("td", h("a", { href: "/dialtests/" + d.id, data: { link: "" } }, d.name)),
				h("td", d.interval ?? ""), h("td.runs-on", runsOn(d)), h("td", String(d.steps?.length ?? 0)),
				h("td", d.enabled === false ? t("dt.disabled") : t("dt.enabled")),
				h("td", sums[i] && sums[i].runs ? `${sums[i].availability_pct}%（${sums[i].ok}/${sums[i].runs}）` : "—"),
				h("td", sums[i]?.steps ? Object.values(sums[i].steps).reduce((m, v) => Math.max(m, v.p95_ms), 0) + " ms" : "—"),
				h("td", lasts[i] ? [outcome(lasts[i]), " ", when(lasts[i].started)] : "—"),
				h("td", d.defined_in === "file" ? t("dt.file") : t("dt.api")))) :
				h("tr", h("td.empty", { colSpan: 9 }, t("dt.none"))));
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	})();
	fill(main, h("div.toolbar", h("h1", t("dt.title")), h("span.spacer"),
		admin ? h("a", { href: "/dialtests/new", data: { link: "" }, id: "new-dialtest" }, "+ " + t("dt.new")) : null),
	h("table.list", h("thead", h("tr", ["dt.name", "dt.interval", "dt.run_on", "dt.steps", "dt.state", "dt.availability", "dt.p95", "dt.last", "dt.defined_in"]
		.map((k) => h("th", { scope: "col" }, t(k))))), body));
}

function detail(main, ctx) {
	const id = ctx.params[0];
	const results = h("tbody", { id: "runs" });
	const fall = h("div", { id: "waterfall-box" });
	const sum = h("div", { id: "summary" });
	const vbox = h("section", { id: "vantages-box" });
	let poller = null, wanted = null, left = false, lastSum = null;

	const showFall = (x) => fill(fall, h("h2", t("dt.waterfall", { at: when(x.started), vantage: vantageName(x.vantage) })), waterfall(x));

	async function loadVantages() {
		const v = await api("GET", `/api/v1/dialtests/${id}/vantages`).catch(() => null);
		if (v && poller?.live !== false)
			fill(vbox, vantagesTable(v, lastSum, showFall));
	}

	async function loadRuns() {
		try {
			const r = await api("GET", withQuery(`/api/v1/dialtests/${id}/results`, { since: "24h", limit: 50 }));
			if (!poller.live)
				return;
			fill(results, r.items.length ? r.items.map((x) => {
				const tr = h("tr", { data: { scheduled: x.scheduled, vantage: x.vantage } }, h("td", outcome(x)),
					h("td", vantageName(x.vantage)), h("td.ts", when(x.started)), h("td", String(x.attempts ?? 1)),
					h("td.msg", x.message || ""));
				tr.addEventListener("click", () => showFall(x));
				return tr;
			}) : h("tr", h("td.empty", { colSpan: 5 }, t("dt.no_runs"))));
			drawTrend(r.items.filter((x) => x.vantage === "collector"));
			loadVantages();
			const first = r.items.find((x) => !wanted || (x.scheduled === wanted && x.vantage === "collector"));
			if (first && (!fall.firstChild || wanted)) {
				showFall(first);
				if (wanted)
					loadSummary();
				wanted = null;
			}
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
		// Quicker while a run asked for is awaited.
		return wanted ? 1000 : 10000;
	}

	// The runs over time: each phase summed over the steps, and the failed runs marked at their total.
	const trend = h("div", { id: "trend" });
	let trendChart = null;
	function drawTrend(runs) {
		const ok = runs.slice().reverse();
		const phase = (r, p) => r.steps.reduce((n, st) => n + (st.timings_ms?.[p] || 0), 0);
		const series = PHASES.slice(0, 5).map((p) => ({ instance: t("dt.phase." + p), points: ok.map((r) => [r.started, phase(r, p)]) }));
		const failed = t("dt.failed_runs");
		series.push({ instance: failed, points: ok.filter((r) => !r.ok).map((r) => [r.started, phase(r, "total")]) });
		trendChart?.destroy();
		trendChart = ok.length ? chart(t("dt.trend"), series, Math.max(320, (main.clientWidth || 1000) - 24), " ms", new Set([failed])) : null;
		fill(trend, trendChart ? trendChart.el : null);
	}

	async function loadSummary() {
		const s = await api("GET", `/api/v1/dialtests/${id}/summary`).catch(() => null);
		if (!s)
			return;
		lastSum = s;
		loadVantages();
		if (!s.runs) {
			fill(sum, h("p", t("dt.no_runs")));
			return;
		}
		fill(sum, h("p", t("dt.summary", { pct: s.availability_pct, ok: s.ok, runs: s.runs })),
			h("table.list", h("thead", h("tr", ["dt.step", "p50", "p95", "p99"].map((k) => h("th", { scope: "col" }, k.startsWith("dt.") ? t(k) : k)))),
				h("tbody", Object.entries(s.steps || {}).map(([name, v]) => h("tr", h("td", name), h("td", v.p50_ms + " ms"),
					h("td", v.p95_ms + " ms"), h("td", v.p99_ms + " ms"))))));
	}

	const runNow = async () => {
		try {
			const r = await api("POST", `/api/v1/dialtests/${id}/run`, {});
			wanted = r.scheduled;
			ctx.flash(t("dt.asked"), "info");
			poller?.now(500);
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};

	(async () => {
		try {
			const d = await api("GET", "/api/v1/dialtests/" + id);
			fill(main, h("a.back", { href: "/dialtests", data: { link: "" } }, "← " + t("dt.back")),
				h("div.toolbar", h("h1", d.name), h("span.spacer"),
					canAct(ctx.session) ? h("button.primary", { type: "button", id: "run", on: { click: runNow } }, t("dt.run")) : null),
				vbox, sum, trend, fall, h("h2", t("dt.runs")),
				h("table.list.runs", h("thead", h("tr", ["dt.outcome", "dt.vantage", "dt.started", "dt.attempts", "dt.message"]
					.map((k) => h("th", { scope: "col" }, t(k))))),
					results),
				ctx.session.role === "admin" ? editor(d, ctx, () => ctx.navigate("/dialtests/" + id, true)) : null);
			loadSummary();
			if (!left)
				poller = poll(loadRuns, 10000);
		} catch (e) {
			fill(main, h("p", e.status === 404 ? t("dt.not_found") : t("err.generic", { reason: e.message })));
		}
	})();
	return () => {
		left = true;
		poller?.stop();
		trendChart?.destroy();
	};
}

function create(main, ctx) {
	const sample = { name: "", interval: "60s", timeout: "10s", steps: [{ name: "get", url: "https://", assert: [{ type: "status", in: [200] }] }] };
	fill(main, h("a.back", { href: "/dialtests", data: { link: "" } }, "← " + t("dt.back")),
		h("h1", t("dt.new")), editor(sample, ctx, (saved) => ctx.navigate("/dialtests/" + saved.id)));
}

export function render(main, ctx) {
	if (!ctx.params.length)
		return list(main, ctx);
	return ctx.params[0] === "new" ? create(main, ctx) : detail(main, ctx);
}

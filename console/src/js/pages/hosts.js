// SPDX-License-Identifier: Apache-2.0
// Hosts: every agent's host, whether it is heard from, its probes at a
// glance, filtered by status and text; one host's inventory, probes, open
// problems, metric charts over a range and newest lines.
import { api, withQuery } from "../api.js";
import { chart } from "../chart.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { span, when } from "../time.js";
import { labelChips, poll, RANGES, readsLogs, severityBadge } from "./common.js";

const REFRESH_MS = 10000;
// The charts of a host's page: metric name, the unit its axis shows.
const CHARTS = [["cpu.user_pct", "%"], ["memory.used_pct", "%"], ["load.load1", ""], ["filesystem.used_pct", "%"],
	["network.rx_bps", ""], ["diskio.write_bps", ""]];

function probeCounts(p) {
	return h("span.probes", ["ok", "warning", "critical", "unknown"].filter((k) => p?.[k]).map((k) =>
		h("span.pc.pc-" + k, { title: t("probe." + k) }, `${t("probe." + k)} ${p[k]}`)));
}

// The list's filters, applied by the page: a status, and text in the name, labels or OS.
function shown(x, f) {
	const text = `${x.hostname} ${Object.entries(x.labels || {}).map(([k, v]) => k + "=" + v).join(" ")} ${x.inventory?.os || ""}`;
	return (!f.status || x.status === f.status) && (!f.q || text.toLowerCase().includes(f.q.toLowerCase()));
}

function list(main, ctx) {
	const body = h("tbody", { id: "hosts" });
	const f = { status: ["up", "silent"].includes(ctx.query.get("status")) ? ctx.query.get("status") : "", q: ctx.query.get("q") || "" };
	const status = h("select", { name: "status", ariaLabel: t("col.state") }, ["", "up", "silent"].map((v) =>
		h("option", { value: v, selected: v === f.status }, v ? t("host." + v) : t("hosts.all"))));
	const q = h("input", { name: "q", type: "search", value: f.q, placeholder: t("hosts.search") });
	let items = [];
	const draw = () => {
		const xs = items.filter((x) => shown(x, f));
		fill(body, xs.length ? xs.map((x) => h("tr", { data: { id: x.id } },
			h("td", h("span.state.host-" + x.status, t("host." + x.status))),
			h("td", h("a", { href: "/hosts/" + x.id, data: { link: "" } }, x.hostname), x.id_conflict ? h("span.flag.error", t("host.conflict")) : null),
			h("td", labelChips(x.labels)),
			h("td", x.inventory?.os || ""),
			h("td", { title: when(x.last_seen) }, span(x.last_seen)),
			h("td", probeCounts(x.probes)))) : h("tr", h("td.empty", { colSpan: 6 }, t("hosts.none"))));
	};
	const apply = () => {
		Object.assign(f, { status: status.value, q: q.value.trim() });
		history.replaceState(null, "", withQuery("/hosts", f));
		draw();
	};
	status.addEventListener("change", apply);
	q.addEventListener("input", apply);
	const load = async () => {
		try {
			const r = await api("GET", "/api/v1/hosts");
			if (!poller.live)
				return;
			items = r.items;
			draw();
		} catch (e) {
			ctx.flash(t("err.generic", { reason: e.message }), "error");
		}
	};
	fill(main, h("div.toolbar", h("h1", t("hosts.title"))), h("form.filters", { on: { submit: (ev) => ev.preventDefault() } }, status, q),
		h("table.list", h("thead", h("tr", ["col.state", "col.host", "alert.labels", "hosts.os", "hosts.last_seen", "hosts.probes"]
			.map((k) => h("th", { scope: "col" }, t(k))))), body));
	const poller = poll(load, REFRESH_MS);
	return () => poller.stop();
}

function inventory(x) {
	const inv = x.inventory || {};
	const row = (k, v) => (v ? [h("dt", t(k)), h("dd", String(v))] : null);
	return h("dl.facts", { id: "inventory" },
		row("col.state", t("host." + x.status)), row("hosts.id", x.id), row("hosts.os", inv.os), row("hosts.kernel", inv.kernel),
		row("hosts.arch", inv.arch), row("hosts.cpus", inv.cpus), row("hosts.memory", inv.memory_bytes ? (inv.memory_bytes / 2 ** 30).toFixed(1) + " GiB" : ""),
		row("hosts.addresses", (inv.addresses || []).join(", ")), row("hosts.agent", inv.agent_version),
		row("hosts.first_seen", when(x.first_seen)), row("hosts.last_seen", when(x.last_seen)),
		row("hosts.certificate", x.certificate), row("alert.labels", Object.keys(x.labels || {}).length ? h("span", labelChips(x.labels)) : ""),
		row("hosts.config_version", inv.config_version), row("hosts.config_expected", x.config_expected),
		row("hosts.config_error", inv.config_error));
}

const STRIP_CELLS = 96;
const WORST = ["ok", "unknown", "warning", "critical"];

// A probe's last 24 h as STRIP_CELLS cells of 15 minutes, each the worst status it saw (blank: no result).
async function historyStrip(host, probe, cell) {
	const r = await api("GET", withQuery(`/api/v1/probes/${encodeURIComponent(host)}/${encodeURIComponent(probe)}/history`,
		{ since: "24h" })).catch(() => null);
	if (!r)
		return;
	const now = Date.now() * 1000, span = 86400e6, worst = new Array(STRIP_CELLS).fill(-1);
	for (const x of r.items) {
		const i = Math.floor((x.ts - (now - span)) / (span / STRIP_CELLS));
		if (i >= 0 && i < STRIP_CELLS)
			worst[i] = Math.max(worst[i], WORST.indexOf(x.status));
	}
	fill(cell, h("span.strip", { title: t("hosts.strip"), data: { cells: String(worst.filter((w) => w >= 0).length) } },
		worst.map((w) => h("span" + (w >= 0 ? ".pc-" + WORST[w] : "")))));
}

function probesTable(items, host) {
	const rows = (items || []).map((p) => {
		const strip = h("td.strip-cell");
		historyStrip(host, p.name, strip);
		return h("tr", { data: { probe: p.name } }, h("td", h("span.pc.pc-" + p.status, t("probe." + p.status))), h("td", p.name), h("td", p.type),
			h("td", p.message || ""), h("td", p.latency_us ? (p.latency_us / 1000).toFixed(1) + " ms" : ""), h("td", when(p.ts)), strip);
	});
	return h("table.list", { id: "probes" }, h("thead", h("tr", ["col.state", "hosts.probe", "hosts.type", "hosts.message", "hosts.latency", "hosts.at",
		"hosts.strip"].map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", rows));
}

function detail(main, ctx) {
	const id = ctx.params[0];
	const range = RANGES[ctx.query.get("range")] ? ctx.query.get("range") : "1h";
	const charts = h("div.charts", { id: "charts" });
	let drawn = [];
	const clear = () => {
		drawn.forEach((c) => c.destroy());
		drawn = [];
	};
	// The host's metrics, then each log metric's rate (and its p99, of one with a value): logs.md, Log metrics.
	const chartsOf = async () => {
		const r = await api("GET", "/api/v1/logmetrics").catch(() => null);
		return CHARTS.concat((r?.items || []).flatMap((m) =>
			[[`log.${m.name}.rate`, "/s"], ...(m.value ? [[`log.${m.name}.p99`, ""]] : [])]));
	};
	const drawCharts = async (host) => {
		const names = await chartsOf();
		const results = await Promise.all(names.map(([name]) =>
			api("GET", withQuery("/api/v1/metrics", { name, host: host.id, since: range })).catch(() => null)));
		clear();
		// Two to a row: the figure's border and padding take 18 px, the gap 16.
		const width = Math.max(320, Math.floor(((charts.clientWidth || 960) - 16) / 2) - 18);
		const now = Date.now() / 1000, axis = [now - RANGES[range], now];
		fill(charts, results.flatMap((r, i) => {
			if (!r || !r.series.length)
				return [];
			const c = chart(names[i][0], r.series, width, names[i][1], null, axis);
			drawn.push(c);
			return [c.el];
		}));
		if (!drawn.length)
			fill(charts, h("p.hint", t("hosts.no_metrics")));
	};
	const problemsBox = h("div", { id: "host-problems" });
	const logsBox = h("div", { id: "host-logs" });
	const openProblems = async (host) => {
		const r = await api("GET", withQuery("/api/v1/alerts", { host: host.id })).catch(() => null);
		fill(problemsBox, !r ? null : r.items.length ? h("ul.plain", r.items.slice(0, 50).map((a) => h("li", severityBadge(a.severity), " ",
			h("a", { href: "/alerts/" + a.id, data: { link: "" } }, a.summary || a.rule)))) : h("p.hint", t("problems.none")));
	};
	// The newest lines, for the roles that read logs.
	const latestLines = async (host) => {
		if (!readsLogs(ctx.session))
			return;
		const r = await api("GET", withQuery("/api/v1/logs", { host: host.id, kind: "log", order: "desc", limit: 20 })).catch(() => null);
		if (r)
			fill(logsBox, h("h2", t("hosts.latest_logs")), r.items.length ? h("table.list.logs", h("tbody", r.items.map((l) =>
				h("tr", h("td.ts", when(l.ts)), h("td", l.source || ""), h("td.msg", l.message ?? ""))))) : h("p.hint", t("logs.none")),
			h("a", { href: withQuery("/logs", { host: host.hostname }), data: { link: "" } }, t("hosts.more_logs")));
	};
	const pick = h("select", { name: "range", ariaLabel: t("hosts.range"), on: { change: (ev) =>
		ctx.navigate(withQuery("/hosts/" + id, { range: ev.target.value }), true) } },
	Object.keys(RANGES).map((r) => h("option", { value: r, selected: r === range }, t("range." + r))));
	(async () => {
		try {
			const x = await api("GET", "/api/v1/hosts/" + encodeURIComponent(id));
			fill(main, h("a.back", { href: "/hosts", data: { link: "" } }, "← " + t("hosts.back")),
				h("div.toolbar", h("h1", x.hostname), h("span.spacer"),
					h("a", { href: withQuery("/alerts", { host: x.hostname }), data: { link: "" } }, t("hosts.its_problems")),
					h("a", { href: withQuery("/silences", { host: x.hostname }), data: { link: "" } }, t("hosts.silence"))),
				inventory(x), h("h2", t("hosts.probes")), probesTable(x.probe_results, x.id),
				h("h2", t("hosts.its_problems")), problemsBox, h("div.toolbar", h("h2", t("hosts.metrics")), pick), charts,
				logsBox);
			await Promise.all([drawCharts(x), openProblems(x), latestLines(x)]);
		} catch (e) {
			fill(main, h("p", e.status === 404 ? t("hosts.not_found") : t("err.generic", { reason: e.message })));
		}
	})();
	return clear;
}

export function render(main, ctx) {
	return ctx.params.length && ctx.params[0] ? detail(main, ctx) : list(main, ctx);
}

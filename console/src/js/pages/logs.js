// SPDX-License-Identifier: Apache-2.0
// Logs: a search over the stored lines, newest first, that says whether it
// looked everywhere (and goes on where it stopped), its matches over time as bars; a live tail that polls
// for what follows the newest line; the whole query exported as NDJSON or CSV.
import { api, withQuery } from "../api.js";
import { bars } from "../chart.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { when } from "../time.js";
import { poll } from "./common.js";

const PAGE = 200;
const TAIL_MS = 2000;
const SHOWN_MAX = 5000;
const EXPORT_MAX = 100000;
const COUNT_CALLS = 10;
const RANGES = ["15m", "1h", "24h", "7d"];
// What the top values can be counted by: the query language's names for them.
const TOP_BY = ["host", "source", "unit", "priority"];
const PRIORITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

function line(r) {
	const prio = r.fields?.PRIORITY;
	const tr = h("tr", { data: { id: r.id } },
		h("td.ts", when(r.ts)), h("td", r.host || ""), h("td", r.source || ""),
		h("td", prio !== undefined ? h("span.prio.prio-" + prio, PRIORITIES[prio] || prio) : ""),
		h("td.msg", r.message ?? ""));
	tr.addEventListener("click", () => {
		const next = tr.nextElementSibling;
		if (next?.classList.contains("fields")) {
			next.remove();
			return;
		}
		tr.after(h("tr.fields", h("td", { colSpan: 5 }, h("dl.facts", Object.entries(r.fields || {}).map(([k, v]) =>
			[h("dt", k), h("dd", Array.isArray(v) ? v.join(" | ") : String(v))])))));
	});
	return tr;
}

function download(name, type, text) {
	const url = URL.createObjectURL(new Blob([text], { type }));
	const a = h("a", { href: url });
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function csvCell(v) {
	const s = v === undefined || v === null ? "" : String(v);
	return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function render(main, ctx) {
	const q = ctx.query;
	const f = { q: q.get("q") || "", host: q.get("host") || "", source: q.get("source") || "",
		priority: /^[0-7]$/.test(q.get("priority") || "") ? q.get("priority") : "",
		since: RANGES.includes(q.get("since")) ? q.get("since") : "1h", by: TOP_BY.includes(q.get("by")) ? q.get("by") : "" };
	const inputs = {
		q: h("input", { name: "q", type: "search", value: f.q, placeholder: t("logs.q") }),
		host: h("input", { name: "host", value: f.host, placeholder: t("col.host") }),
		source: h("input", { name: "source", value: f.source, placeholder: t("logs.source") }),
		since: h("select", { name: "since", ariaLabel: t("hosts.range") }, RANGES.map((r) => h("option", { value: r, selected: r === f.since }, t("range." + r)))),
		priority: h("select", { name: "priority", ariaLabel: t("logs.priority") }, ["", "3", "4", "5", "6"].map((p) =>
			h("option", { value: p, selected: p === f.priority }, p ? t("logs.at_most", { p: PRIORITIES[p] }) : t("logs.any_priority")))),
	};
	const body = h("tbody", { id: "lines" });
	const state = h("p.hint", { id: "search-state", role: "status" });
	const more = h("button", { type: "button", id: "more", hidden: true, on: { click: () => search(false) } }, t("logs.more"));
	const tailBox = h("input", { type: "checkbox", id: "tail", on: { change: () => (tailBox.checked ? startTail() : stopTail()) } });
	let rows = [], cursor = null, tail = null, left = false, busy = false, seq = 0;
	// What the search's pages read, summed: the index's work is shown, and blocks from before it are said to be scanned.
	let scanned = { blocks: 0, skipped: 0, unindexed: 0 };

	const params = (extra) => ({ q: f.q, host: f.host, source: f.source, priority: f.priority, kind: "log", ...extra });

	// A new search supersedes one under way (its answer is dropped); "go on" waits for the one under way.
	// The matches over the range as bars, the count followed by cursor until it is whole (or COUNT_CALLS asks).
	const counts = h("div", { id: "log-counts" });
	let chartShown = null, countSeq = 0;
	async function drawCounts() {
		const mine = ++countSeq;
		let sum = null, after = null, complete = false;
		try {
			for (let i = 0; i < COUNT_CALLS && !complete; i++) {
				const r = await api("GET", withQuery("/api/v1/logs/count", params({ since: f.since, cursor: after })));
				if (sum)
					r.buckets.forEach((b, j) => { sum.buckets[j][1] += b[1]; });
				else
					sum = r;
				after = r.next_cursor;
				complete = r.complete;
			}
		} catch (e) {
			return;
		}
		if (mine !== countSeq || left)
			return;
		chartShown?.destroy();
		const total = sum.buckets.reduce((n, b) => n + b[1], 0);
		chartShown = bars(t(complete ? "logs.counts" : "logs.counts_part", { n: total }), sum.buckets,
			Math.max(320, (main.clientWidth || 1000) - 24));
		chartShown.el.dataset.total = String(total);
		fill(counts, chartShown.el);
	}

	// The most frequent values of by among the matches; a click adds the value to the query.
	const topBy = h("select", { name: "by", ariaLabel: t("logs.top_by"),
		on: { change: () => { f.by = topBy.value; history.replaceState(null, "", withQuery("/logs", f)); drawTop(); } } },
	["", ...TOP_BY].map((v) => h("option", { value: v, selected: v === f.by }, t(v ? "logs.top." + v : "logs.top_none"))));
	const topBox = h("div.top-values", { id: "log-top" });
	let topSeq = 0;
	async function drawTop() {
		const mine = ++topSeq;
		if (!f.by) {
			fill(topBox);
			return;
		}
		let r;
		try {
			r = await api("GET", withQuery("/api/v1/logs/stats", params({ since: f.since, by: f.by, top: 10 })));
		} catch (e) {
			r = null;
		}
		if (mine !== topSeq || left || !r)
			return;
		const pick = (v) => {
			inputs.q.value = `${inputs.q.value} ${f.by}:"${v.replace(/[\\"]/g, "\\$&")}"`.trim();
			apply(new Event("submit"));
		};
		fill(topBox, h("span", t("logs.top", { by: t("logs.top." + f.by) })),
			r.top.length ? r.top.map((x) => h("button.chip", { type: "button", data: { value: x.value }, on: { click: () => pick(x.value) } },
				`${x.value || "—"} · ${x.count}`)) : h("span.hint", t("logs.top_empty")),
			r.without ? h("span.hint", t("logs.top_without", { n: r.without })) : null,
			r.complete ? null : h("span.hint", t("logs.top_part")));
	}

	async function search(fresh) {
		if (busy && !fresh)
			return;
		const mine = ++seq;
		busy = true;
		if (fresh) {
			rows = [];
			cursor = null;
			scanned = { blocks: 0, skipped: 0, unindexed: 0 };
			fill(body);
			drawCounts();
			drawTop();
		}
		try {
			const r = await api("GET", withQuery("/api/v1/logs", params({ since: f.since, order: "desc", limit: PAGE, cursor })));
			if (left || mine !== seq)
				return;
			rows.push(...r.items);
			for (const it of r.items)
				body.append(line(it));
			cursor = r.next_cursor;
			more.hidden = r.complete || tailBox.checked;
			for (const k of Object.keys(scanned))
				scanned[k] += r.scanned[k] || 0;
			if (!tailBox.checked)
				fill(state, r.complete ? t("logs.complete", { n: rows.length }) :
					r.stopped === "budget" ? t("logs.budget", { n: rows.length, mb: Math.round(r.scanned.bytes / 1048576) }) :
						t("logs.page_full", { n: rows.length }),
				h("span", { id: "search-scanned" }, " ", t("logs.scanned", { read: scanned.blocks, skipped: scanned.skipped }),
					scanned.unindexed ? " " + t("logs.unindexed", { n: scanned.unindexed }) : ""));
			if (!rows.length && r.complete)
				fill(body, h("tr", h("td.empty", { colSpan: 5 }, t("logs.none"))));
		} catch (e) {
			fill(state, e.status === 403 ? t("err.forbidden", { reason: e.message }) : t("err.generic", { reason: e.message }));
		} finally {
			if (mine === seq)
				busy = false;
		}
	}

	// The tail asks, in ingest order, for what follows the newest line it has (p: the tail it is, until stopped).
	async function tick(p, from) {
		try {
			const r = await api("GET", withQuery("/api/v1/logs", params({ order: "asc", limit: PAGE, cursor: from.after })));
			if (!p.live)
				return;
			body.querySelector("td.empty")?.parentElement.remove();
			for (const it of r.items) {
				rows.unshift(it);
				body.prepend(line(it));
			}
			while (rows.length > SHOWN_MAX) {
				rows.pop();
				body.lastElementChild.remove();
			}
			from.after = r.next_cursor;
		} catch (e) {
			fill(state, t("err.generic", { reason: e.message }));
		}
	}

	// From the newest line stored now; "following" is said once that is known, so what comes after it is shown.
	async function startTail() {
		more.hidden = true;
		try {
			const r = await api("GET", withQuery("/api/v1/logs", params({ order: "desc", limit: 1 })));
			if (left || !tailBox.checked)
				return;
			fill(state, t("logs.tailing"));
			const from = { after: r.items.length ? r.items[0].id : r.next_cursor };
			tail?.stop();
			const p = poll(() => tick(p, from), TAIL_MS);
			tail = p;
		} catch (e) {
			fill(state, t("err.generic", { reason: e.message }));
		}
	}

	function stopTail() {
		tail?.stop();
		tail = null;
		fill(state, t("logs.tail_stopped", { n: rows.length }));
	}

	function apply(ev) {
		ev.preventDefault();
		Object.assign(f, { q: inputs.q.value.trim(), host: inputs.host.value.trim(), source: inputs.source.value.trim(),
			priority: inputs.priority.value, since: inputs.since.value });
		history.replaceState(null, "", withQuery("/logs", f));
		if (tailBox.checked) {
			stopTail();
			startTail();
		} else {
			search(true);
		}
	}

	// The whole query, page after page from its newest line, up to EXPORT_MAX lines (said when cut).
	async function everyLine() {
		const all = [];
		let after = null;
		for (;;) {
			const r = await api("GET", withQuery("/api/v1/logs", params({ since: f.since, order: "desc", limit: 1000, cursor: after })));
			all.push(...r.items);
			after = r.next_cursor;
			fill(state, t("logs.exporting", { n: all.length }));
			if (r.complete || all.length >= EXPORT_MAX)
				return { lines: all.slice(0, EXPORT_MAX), cut: !r.complete || all.length > EXPORT_MAX };
		}
	}

	const exportAs = async (kind) => {
		const stamp = new Date().toISOString().replace(/[:.]/g, "-");
		let got;
		try {
			got = await everyLine();
		} catch (e) {
			fill(state, t("err.generic", { reason: e.message }));
			return;
		}
		fill(state, got.cut ? t("logs.export_cut", { n: got.lines.length }) : t("logs.exported", { n: got.lines.length }));
		if (kind === "ndjson")
			download(`vigil-logs-${stamp}.ndjson`, "application/x-ndjson", got.lines.map((r) => JSON.stringify(r)).join("\n") + "\n");
		else
			download(`vigil-logs-${stamp}.csv`, "text/csv", "\ufeffid,time,host,source,priority,message\r\n" + got.lines.map((r) =>
				[r.id, when(r.ts), r.host, r.source, r.fields?.PRIORITY, r.message].map(csvCell).join(",")).join("\r\n") + "\r\n");
	};

	fill(main,
		h("div.toolbar", h("h1", t("logs.title")), h("span.spacer"),
			h("label", tailBox, " ", t("logs.tail")),
			h("button", { type: "button", id: "export-ndjson", on: { click: () => exportAs("ndjson") } }, t("logs.export_ndjson")),
			h("button", { type: "button", id: "export-csv", on: { click: () => exportAs("csv") } }, t("logs.export_csv"))),
		h("form.filters", { id: "log-search", on: { submit: apply } }, inputs.q, inputs.host, inputs.source, inputs.priority, inputs.since,
			h("button.primary", { type: "submit" }, t("logs.search"))),
		h("p.hint", t("logs.how")),
		counts,
		h("div.toolbar", h("label", t("logs.top_by"), " ", topBy), topBox),
		state,
		h("table.list.logs", h("thead", h("tr", ["hosts.at", "col.host", "logs.source", "logs.priority", "logs.message"]
			.map((k) => h("th", { scope: "col" }, t(k))))), body),
		more);
	search(true);
	// Endless scroll: the page goes on searching when its end comes into view.
	const seen = new IntersectionObserver((es) => {
		if (es.some((e) => e.isIntersecting) && !more.hidden)
			search(false);
	});
	seen.observe(more);
	return () => {
		left = true;
		tail?.stop();
		seen.disconnect();
		chartShown?.destroy();
	};
}

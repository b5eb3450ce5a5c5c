// SPDX-License-Identifier: Apache-2.0
// One problem: what it is, its labels, a timeline of everything that
// happened to it (the rule's changes, people's actions, each notification
// and whether it was delivered), and the actions on it.
import { api, withQuery } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { span, when } from "../time.js";
import { canAct, flags, labelChips, poll, readsLogs, severityBadge, stateBadge } from "./common.js";

const REFRESH_MS = 5000;

// The history (each delivery attempt is in it: notified, notify_retry, notify_failed) and the
// notifications still waiting to be sent, as one list, oldest first.
function timeline(a) {
	const events = (a.history || []).map((e) => ({ ts: e.ts, kind: "event", e }));
	for (const d of (a.deliveries || []).filter((d) => d.state === "queued"))
		events.push({ ts: d.created, kind: "delivery", d });
	events.sort((x, y) => x.ts - y.ts);
	return h("ol.timeline", { id: "timeline" }, events.map((x) => x.kind === "event" ?
		h("li.ev-" + x.e.action, h("time", when(x.ts)), h("b", t("ev." + x.e.action)), " ", h("span.actor", x.e.actor || ""),
			x.e.note ? h("p.note", x.e.note) : null) :
		h("li.delivery.d-" + x.d.state, h("time", when(x.ts)),
			h("b", t("delivery", { target: x.d.target, event: x.d.event, state: t("dstate." + x.d.state) })),
			x.d.attempts > 1 ? " " + t("delivery.attempts", { n: x.d.attempts }) : null,
			x.d.error ? h("p.note.error", x.d.error) : null)));
}

function facts(a) {
	const row = (k, v) => (v ? [h("dt", t(k)), h("dd", v)] : null);
	return h("dl.facts", { id: "facts" },
		row("col.state", stateBadge(a.state)), row("col.rule", a.rule), row("col.host", a.host),
		row("alert.value", a.value), row("col.started", `${when(a.started)}（${span(a.started, a.resolved || 0)}）`),
		row("alert.fired", when(a.fired)), row("alert.resolved_at", when(a.resolved)),
		row("col.ack", a.acked_by), row("col.assignee", a.assignee),
		row("alert.labels", h("span", labelChips(a.labels))));
}

function actions(a, run) {
	const note = h("input", { name: "note", placeholder: t("alert.note") });
	const to = h("input", { name: "to", placeholder: t("problems.assign_to"), value: a.assignee || "" });
	const sev = h("select", { name: "severity", ariaLabel: t("col.severity") },
		["info", "warning", "critical", "disaster"].map((s) => h("option", { value: s, selected: s === a.severity }, t("sev." + s))));
	const comment = h("textarea", { name: "comment", rows: 3, placeholder: t("alert.comment_note") });
	const withNote = (body) => (note.value ? { ...body, note: note.value } : body);
	const closed = a.state === "closed";
	const btn = (id, label, fn, cls) => h("button" + (cls || ""), { type: "button", id, disabled: closed, on: { click: fn } }, label);
	return h("section.actions", { id: "actions" },
		h("div.row", note,
			a.acked_by ? btn("unack", t("alert.unack"), () => run("unack", withNote({}))) :
				btn("ack", t("problems.ack"), () => run("ack", withNote({}))),
			btn("close", t("alert.close"), () => confirm(t("alert.close_confirm")) && run("close", withNote({})), ".danger")),
		h("div.row", to, btn("assign", t("alert.assign"), () => to.value.trim() && run("assign", withNote({ to: to.value.trim() })))),
		h("div.row", sev, btn("severity", t("alert.severity"), () => run("severity", { severity: sev.value }))),
		h("div.row", comment, h("button", { type: "button", id: "comment", on: { click: () => comment.value.trim() &&
			run("comment", { note: comment.value.trim() }) } }, t("alert.comment"))));
}

const AROUND_S = 300;

// What surrounds the problem, read once: its rule, its host's probes, and (for who may read logs) the host's lines around its start.
async function context(a, ctx, box) {
	const [rule, host, logs] = await Promise.all([
		api("GET", "/api/v1/rules/" + encodeURIComponent(a.rule)).catch(() => null),
		a.agent ? api("GET", "/api/v1/hosts/" + a.agent).catch(() => null) : null,
		a.agent && readsLogs(ctx.session) ?
			api("GET", withQuery("/api/v1/logs", { host: a.agent, kind: "log", order: "desc", limit: 50,
				since: Math.floor(a.started / 1e6) - AROUND_S, until: Math.floor(a.started / 1e6) + AROUND_S })).catch(() => null) : null]);
	fill(box,
		rule ? [h("h2", t("alert.rule")), h("p", { id: "rule" }, Object.entries(rule).filter(([k]) => !["author", "created", "updated"].includes(k))
			.map(([k, v]) => h("span.chip", `${k}=${v}`)))] : null,
		host?.probe_results?.length ? [h("h2", t("alert.host_probes")), h("table.list", { id: "host-probes" },
			h("tbody", host.probe_results.map((p) => h("tr", h("td", h("span.pc.pc-" + p.status, t("probe." + p.status))), h("td", p.name),
				h("td.msg", p.message || ""), h("td.ts", when(p.ts))))))] : null,
		logs ? [h("h2", t("alert.around", { m: AROUND_S / 60 })), logs.items.length ? h("table.list.logs", { id: "around" },
			h("tbody", logs.items.map((r) => h("tr", h("td.ts", when(r.ts)), h("td", r.source || ""), h("td.msg", r.message ?? ""))))) :
			h("p.hint", t("alert.no_lines"))] : null);
}

export function render(main, ctx) {
	const id = ctx.params[0];
	const head = h("div");
	const detail = h("div.detail");
	const tl = h("section", h("h2", t("alert.timeline")), h("div", { id: "timeline-box" }));
	const acts = h("div");
	let shownState = null;
	const around = h("div", { id: "context" });

	function draw(a) {
		if (!around.dataset.done) {
			around.dataset.done = "1";
			context(a, ctx, around);
		}
		fill(head, h("div.toolbar", h("h1", t("alert.title", { id: a.id })), severityBadge(a.severity), flags(a)),
			h("p.summary", { id: "summary" }, a.summary || a.rule));
		fill(detail, facts(a));
		fill(tl.lastChild, timeline(a));
		// The form only when what it offers changed: what someone is typing stays.
		const state = `${a.state}|${a.acked_by}|${a.assignee}|${a.severity}`;
		if (state !== shownState) {
			fill(acts, canAct(ctx.session) ? actions(a, run) : h("p.hint", t("alert.read_only")));
			shownState = state;
		}
	}

	async function run(action, body) {
		try {
			const a = await api("POST", `/api/v1/alerts/${id}/${action}`, body);
			shownState = null;
			draw(a);
			ctx.flash(t("ev." + action) + " ✓", "info");
		} catch (e) {
			ctx.flash(e.status === 403 ? t("err.forbidden", { reason: e.message }) : t("err.generic", { reason: e.message }), "error");
		}
	}

	async function refresh() {
		try {
			const a = await api("GET", `/api/v1/alerts/${id}`);
			if (poller.live)
				draw(a);
		} catch (e) {
			if (poller.live && e.status === 404) {
				fill(main, h("p", t("alert.not_found")), h("a", { href: "/alerts", data: { link: "" } }, t("alert.back")));
				poller.stop();
			}
		}
	}

	fill(main, h("a.back", { href: "/alerts", data: { link: "" } }, "← " + t("alert.back")), head, detail, acts, tl, around);
	const poller = poll(refresh, REFRESH_MS);
	return () => poller.stop();
}

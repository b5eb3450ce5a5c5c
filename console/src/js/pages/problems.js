// SPDX-License-Identifier: Apache-2.0
// Problems: the open alerts, newest first, filtered by what the address
// says (so a filtered view is a link to share), refreshed every 5 s, and
// acknowledged, assigned or closed several at a time.
import { api, withQuery } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { clock, span, when } from "../time.js";
import { canAct, severityBadge, stateBadge, flags, poll } from "./common.js";

const REFRESH_MS = 5000;
// How long typing pauses before the API is asked (what is loaded is filtered at once).
const TYPING_MS = 300;
const STATES = ["pending", "firing", "resolved", "closed"];
const SEVERITIES = ["disaster", "critical", "warning", "info"];

// The API's text, assignee and unacknowledged filters, applied at once to what is loaded while the API is asked.
function matches(a, f) {
	const s = f.q.toLowerCase();
	if (s && ![a.summary, a.rule, a.host, a.assignee, a.acked_by].some((v) => v && v.toLowerCase().includes(s)))
		return false;
	if (f.assignee && (f.assignee === "-" ? a.assignee : a.assignee !== f.assignee))
		return false;
	return !(f.unacked && a.acked_by);
}

// The query the API is asked for the filters.
const query = (f) => withQuery("/api/v1/alerts", { state: f.state, severity: f.severity, host: f.host, label: f.label,
	assignee: f.assignee, unacked: f.unacked, q: f.q });

function select(name, current, all, options, key) {
	return h("select", { name, ariaLabel: t(key) },
		h("option", { value: "" }, t(all)),
		options.map((o) => h("option", { value: o, selected: o === current }, t(name === "state" ? "state." + o : "sev." + o))));
}

export function render(main, ctx) {
	const q = ctx.query;
	const filters = { state: q.get("state") || "", severity: q.get("severity") || "", host: q.get("host") || "",
		label: q.get("label") || "", assignee: q.get("assignee") || "", unacked: q.get("unacked") === "1" ? "1" : "", q: q.get("q") || "" };
	const selected = new Set();
	const act = canAct(ctx.session);
	let items = [], total = 0, asked = null, typing = null;

	const stateSel = select("state", filters.state, "problems.all_states", STATES, "col.state");
	const sevSel = select("severity", filters.severity, "problems.all_severities", SEVERITIES, "col.severity");
	const hostIn = h("input", { name: "host", value: filters.host, placeholder: t("problems.host") });
	const search = h("input", { name: "q", type: "search", value: filters.q, placeholder: t("problems.search") });
	const labelIn = h("input", { name: "label", value: filters.label, placeholder: t("problems.label") });
	const assigneeIn = h("input", { name: "assignee", value: filters.assignee, placeholder: t("col.assignee") });
	const unackedBox = h("input", { type: "checkbox", name: "unacked", checked: !!filters.unacked });
	const sevCounts = h("div.sev-counts", { id: "sev-counts" });
	let seen = null;
	const status = h("span.status", { id: "updated" });
	const count = h("span.count", { id: "count" });
	const body = h("tbody", { id: "problems" });
	const allBox = h("input", { type: "checkbox", ariaLabel: t("problems.select_all"), on: { change: () => {
		for (const a of items.filter((a) => matches(a, filters)))
			allBox.checked ? selected.add(a.id) : selected.delete(a.id);
		draw();
	} } });
	const assignee = h("input", { name: "assign-to", placeholder: t("problems.assign_to") });
	const comment = h("input", { name: "comment", placeholder: t("alert.comment_note") });
	const selCount = h("span", { id: "selected" });
	const bar = h("div.bulk", { id: "bulk", hidden: !act },
		selCount,
		h("button", { type: "button", id: "bulk-ack", on: { click: () => bulk("ack", {}) } }, t("problems.ack")),
		assignee,
		h("button", { type: "button", id: "bulk-assign", on: { click: () => assignee.value && bulk("assign", { to: assignee.value }) } },
			t("alert.assign")),
		comment,
		h("button", { type: "button", id: "bulk-comment", on: { click: () => comment.value.trim() && bulk("comment", { note: comment.value.trim() }) } },
			t("alert.comment")),
		h("button.danger", { type: "button", id: "bulk-close", on: { click: () => confirm(t("alert.close_confirm")) && bulk("close", {}) } },
			t("problems.close")));

	// The filters into the address (replacing it: typing is not history) and into the next read.
	const read = () => Object.assign(filters, { state: stateSel.value, severity: sevSel.value, host: hostIn.value.trim(),
		label: labelIn.value.trim(), assignee: assigneeIn.value.trim(), unacked: unackedBox.checked ? "1" : "", q: search.value.trim() });
	// A choice asks the API at once; typing draws what is loaded at once and asks the API when it pauses.
	const apply = () => {
		read();
		clearTimeout(typing);
		history.replaceState(null, "", withQuery("/alerts", filters));
		poller.now();
	};
	const redraw = () => {
		read();
		history.replaceState(null, "", withQuery("/alerts", filters));
		draw();
		clearTimeout(typing);
		typing = setTimeout(apply, TYPING_MS);
	};
	for (const el of [stateSel, sevSel, hostIn, labelIn, unackedBox])
		el.addEventListener("change", apply);
	search.addEventListener("input", redraw);
	assigneeIn.addEventListener("input", redraw);

	function row(a) {
		const box = h("input", { type: "checkbox", checked: selected.has(a.id), ariaLabel: "#" + a.id,
			on: { change: () => { box.checked ? selected.add(a.id) : selected.delete(a.id); drawCount(); } } });
		return h("tr" + (seen && !seen.has(a.id) ? ".new" : ""), { data: { id: a.id, severity: a.severity } },
			act ? h("td", box) : null,
			h("td", severityBadge(a.severity)),
			h("td", stateBadge(a.state)),
			h("td.summary", h("a", { href: "/alerts/" + a.id, data: { link: "" } }, a.summary || a.rule), flags(a)),
			h("td", a.host || ""),
			h("td", { title: when(a.started) }, when(a.started)),
			h("td", span(a.started, a.state === "resolved" || a.state === "closed" ? a.resolved : 0)),
			h("td", a.acked_by || ""),
			h("td", a.assignee || ""));
	}

	function drawCount() {
		fill(selCount, t("problems.selected", { n: selected.size }));
		for (const b of bar.querySelectorAll("button"))
			b.disabled = selected.size === 0;
	}

	function draw() {
		const shown = items.filter((a) => matches(a, filters));
		const frag = document.createDocumentFragment();
		for (const a of shown)
			frag.appendChild(row(a));
		// The rows are drawn anew: one who moves through them by keyboard stays where they were.
		const focused = body.contains(document.activeElement) ? document.activeElement : null;
		const at = focused && { id: focused.closest("tr")?.dataset.id, box: focused.type === "checkbox" };
		fill(body, shown.length ? frag : h("tr", h("td.empty", { colSpan: 9 }, t("problems.none"))));
		if (at?.id)
			body.querySelector(`tr[data-id="${at.id}"] ${at.box ? "input" : "a"}`)?.focus();
		fill(count, asked !== query(filters) ? t("problems.count_matching", { n: shown.length, loaded: items.length }) :
			total > items.length ? t("problems.count_newest", { total, n: items.length }) : t("problems.count", { n: shown.length }));
		allBox.checked = shown.length > 0 && shown.every((a) => selected.has(a.id));
		drawCount();
	}

	async function refresh() {
		const q = query(filters);
		try {
			const r = await api("GET", q);
			if (!poller.live)
				return;
			// What was not in the last answer is new (nothing is, on the first, nor in another selection's).
			seen = asked === q ? new Set(items.map((a) => a.id)) : null;
			asked = q;
			items = r.items;
			total = r.total ?? items.length;
			fill(sevCounts, SEVERITIES.map((sv) => h("a.sev-count.sev-" + sv, { href: withQuery("/alerts", { ...filters, severity: sv }),
				data: { link: "", severity: sv } }, `${t("sev." + sv)} ${r.by_severity?.[sv] || 0}`)));
			const ids = new Set(items.map((a) => a.id));
			for (const id of selected)
				if (!ids.has(id))
					selected.delete(id);
			draw();
			fill(status, t("problems.updated", { time: clock(Date.now()) }));
			status.classList.remove("stale");
		} catch (e) {
			if (!poller.live)
				return;
			fill(status, t("problems.stale", { reason: e.message }));
			status.classList.add("stale");
		}
	}

	async function bulk(action, body) {
		let ok = 0, failed = 0;
		for (const id of [...selected]) {
			try {
				await api("POST", `/api/v1/alerts/${id}/${action}`, body);
				ok++;
			} catch (e) {
				failed++;
			}
		}
		selected.clear();
		ctx.flash(t("problems.bulk_done", { ok, failed }), failed ? "error" : "info");
		poller.now();
	}

	fill(main,
		h("div.toolbar", h("h1", t("problems.title")), count, h("span.spacer"), status),
		sevCounts,
		h("form.filters", { on: { submit: (ev) => { ev.preventDefault(); apply(); } } }, stateSel, sevSel, hostIn, labelIn, assigneeIn,
			h("label", unackedBox, " ", t("problems.unacked")), search),
		bar,
		h("table.list",
			h("thead", h("tr", act ? h("th", allBox) : null, ["col.severity", "col.state", "col.summary", "col.host",
				"col.started", "col.duration", "col.ack", "col.assignee"].map((k) => h("th", { scope: "col" }, t(k))))),
			body));
	const poller = poll(refresh, REFRESH_MS);
	return () => {
		poller.stop();
		clearTimeout(typing);
	};
}

// SPDX-License-Identifier: Apache-2.0
// The control center (采控), for operators and the system administrator:
// the fleet by agent version and by the state of its central
// configuration (in force, to be updated, refused, silent), and the config
// groups that make it, which the administrator defines, rolls out and
// promotes here. Hostnames, labels, errors and configurations come from
// hosts and users: text only (docs/control.md).
import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { span, when } from "../time.js";
import { labelChips, poll } from "./common.js";

const REFRESH_MS = 10000;
const STATES = ["current", "outdated", "error", "silent", "none"];

// Where a host's central configuration stands: what it runs against what its labels should give it.
export function configState(x) {
	const inv = x.inventory || {};
	if (x.status === "silent")
		return "silent";
	if (inv.config_error)
		return "error";
	if (!x.config_expected && !inv.config_version)
		return "none";
	return (inv.config_version || 0) === x.config_expected ? "current" : "outdated";
}

function summary(items) {
	const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
	const versions = {};
	for (const x of items) {
		counts[configState(x)]++;
		const v = x.inventory?.agent_version || t("control.unknown_version");
		versions[v] = (versions[v] || 0) + 1;
	}
	return h("div.cards", { id: "control-summary" },
		h("div.card", h("strong", t("control.hosts")), " ", h("span", { data: { count: "all" } }, String(items.length))),
		STATES.map((s) => h("div.card.cfg-" + s, h("strong", t("control.state." + s)), " ", h("span", { data: { count: s } }, String(counts[s])))),
		h("div.card", { id: "control-versions" }, h("strong", t("control.agent_versions")), " ",
			Object.entries(versions).sort().map(([v, n]) => h("span.chip", { data: { version: v } }, `${v} × ${n}`))));
}

function hostRow(x) {
	const inv = x.inventory || {}, state = configState(x);
	return h("tr", { data: { id: x.id, state } },
		h("td", h("a", { href: "/hosts/" + x.id, data: { link: "" } }, x.hostname)),
		h("td", labelChips(x.labels)),
		h("td", inv.agent_version || ""),
		h("td", inv.config_version ? String(inv.config_version) : "—"),
		h("td", x.config_expected ? String(x.config_expected) : "—"),
		h("td", h("span.state.cfg-" + state, t("control.state." + state))),
		h("td.error-text", inv.config_error || ""),
		h("td", inv.config_applied ? when(inv.config_applied) : "—"),
		h("td", { title: when(x.last_seen) }, span(x.last_seen)));
}

function rolloutText(g) {
	if (!g.rollout)
		return t("control.released");
	const parts = [];
	if (g.rollout.canary)
		parts.push(t("control.canary", { selector: g.rollout.canary }));
	if (g.rollout.percent)
		parts.push(t("control.percent", { n: g.rollout.percent }));
	return t("control.rolling", { version: g.version, to: parts.join("，") || t("control.nobody"),
		released: g.released ? g.released.version : "—" });
}

export function render(main, ctx) {
	const admin = ctx.session.role === "admin";
	const hostsBody = h("tbody", { id: "control-hosts" });
	const groupsBody = h("tbody", { id: "control-groups" });
	const summaryBox = h("div");
	const detail = h("div", { id: "control-detail" });
	const filter = h("select", { name: "state", ariaLabel: t("col.state") },
		["", ...STATES].map((s) => h("option", { value: s }, s ? t("control.state." + s) : t("hosts.all"))));
	const fail = (e) => ctx.flash(t("err.generic", { reason: e.message }), "error");
	let hosts = [];

	const drawHosts = () => {
		const xs = hosts.filter((x) => !filter.value || configState(x) === filter.value);
		fill(hostsBody, xs.length ? xs.map(hostRow) : h("tr", h("td.empty", { colSpan: 9 }, t("hosts.none"))));
	};
	filter.addEventListener("change", drawHosts);

	async function show(name) {
		try {
			const [g, v] = await Promise.all([api("GET", "/api/v1/config-groups/" + encodeURIComponent(name)),
				api("GET", `/api/v1/config-groups/${encodeURIComponent(name)}/versions`)]);
			fill(detail, h("div.card", h("h2", t("control.group", { name: g.name })),
				h("p", t("control.selector"), "：", g.selector || t("control.every_agent")),
				h("pre.config", { id: "control-config" }, g.config),
				h("table.list", h("thead", h("tr", ["control.version", "enroll.by", "hosts.at", "control.selector"].map((k) =>
					h("th", { scope: "col" }, t(k))))),
				h("tbody", { id: "control-versions-list" }, v.items.map((x) => h("tr", h("td", String(x.version)), h("td", x.author),
					h("td", when(x.updated)), h("td", x.selector || t("control.every_agent"))))))));
			// The administrator's next version starts from this one.
			if (admin) {
				form.name.value = g.name;
				form.selector.value = g.selector;
				form.order.value = g.order;
				form.config.value = g.config;
			}
		} catch (e) {
			fail(e);
		}
	}

	async function act(method, path, done) {
		try {
			await api(method, path);
			ctx.flash(done, "info");
			poller.now();
		} catch (e) {
			fail(e);
		}
	}

	function groupRow(g) {
		const name = encodeURIComponent(g.name);
		return h("tr", { data: { group: g.name } },
			h("td", h("button.link", { type: "button", on: { click: () => show(g.name) } }, g.name)),
			h("td", g.selector || t("control.every_agent")),
			h("td", String(g.order)), h("td", String(g.version)),
			h("td", { data: { rollout: g.rollout ? "yes" : "no" } }, rolloutText(g)),
			h("td", g.author), h("td", when(g.updated)),
			h("td", admin ? [g.rollout ? h("button", { type: "button", on: { click: () =>
				act("POST", `/api/v1/config-groups/${name}/promote`, t("control.promoted", { name: g.name })) } }, t("control.promote")) : null,
			h("button.danger", { type: "button", on: { click: () => confirm(t("control.delete_confirm", { name: g.name })) &&
				act("DELETE", "/api/v1/config-groups/" + name, t("control.deleted", { name: g.name })) } }, t("control.delete"))] : ""));
	}

	const form = {
		name: h("input", { name: "name", required: true, maxLength: 64, autocomplete: "off", ariaLabel: t("control.name") }),
		selector: h("input", { name: "selector", placeholder: "zone=gov-a role=web", autocomplete: "off", ariaLabel: t("control.selector") }),
		order: h("input", { name: "order", type: "number", min: 0, max: 1000, value: 50, ariaLabel: t("control.order") }),
		config: h("textarea.code", { name: "config", rows: 10, required: true, ariaLabel: t("control.config"),
			placeholder: "[tail \"nginx\"]\npath=/var/log/nginx/*.log" }),
		canary: h("input", { name: "canary", placeholder: "canary=yes", autocomplete: "off", ariaLabel: t("control.canary_label") }),
		percent: h("input", { name: "percent", type: "number", min: 0, max: 100, ariaLabel: t("control.percent_label") }),
	};
	const save = async (ev) => {
		ev.preventDefault();
		const body = { selector: form.selector.value.trim(), order: Number(form.order.value || 50), config: form.config.value };
		if (form.canary.value.trim() || form.percent.value !== "")
			body.rollout = Object.assign(form.canary.value.trim() ? { canary: form.canary.value.trim() } : {},
				form.percent.value !== "" ? { percent: Number(form.percent.value) } : {});
		try {
			const g = await api("PUT", "/api/v1/config-groups/" + encodeURIComponent(form.name.value.trim()), body);
			ctx.flash(t("control.saved", { name: g.name, version: g.version }), "info");
			poller.now();
		} catch (e) {
			fail(e);
		}
	};

	const load = async () => {
		try {
			const [hs, gs] = await Promise.all([api("GET", "/api/v1/hosts"), api("GET", "/api/v1/config-groups")]);
			if (!poller.live)
				return;
			hosts = hs.items;
			fill(summaryBox, summary(hosts));
			drawHosts();
			fill(groupsBody, gs.items.length ? gs.items.map(groupRow) : h("tr", h("td.empty", { colSpan: 8 }, t("control.no_groups"))));
		} catch (e) {
			fail(e);
		}
	};
	const head = (keys) => h("thead", h("tr", keys.map((k) => h("th", { scope: "col" }, k ? t(k) : ""))));

	fill(main, h("div.toolbar", h("h1", t("control.title"))), h("p.hint", t("control.intro")), summaryBox,
		h("h2", t("control.fleet")), h("form.filters", { on: { submit: (ev) => ev.preventDefault() } }, filter),
		h("table.list", head(["col.host", "alert.labels", "hosts.agent", "control.running", "control.expected", "col.state",
			"control.error", "control.applied", "hosts.last_seen"]), hostsBody),
		h("h2", t("control.groups")),
		h("table.list", head(["control.name", "control.selector", "control.order", "control.version", "control.rollout", "enroll.by",
			"hosts.at", ""]), groupsBody),
		detail,
		admin ? h("form.card.stack", { id: "control-form", on: { submit: save } }, h("strong", t("control.define")),
			h("label", t("control.name"), " ", form.name), h("label", t("control.selector"), " ", form.selector),
			h("label", t("control.order"), " ", form.order), h("label", t("control.config"), " ", form.config),
			h("label", t("control.canary_label"), " ", form.canary), h("label", t("control.percent_label"), " ", form.percent),
			h("p.hint", t("control.define_hint")), h("button.primary", { type: "submit" }, t("control.save"))) : null);
	const poller = poll(load, REFRESH_MS);
	return () => poller.stop();
}

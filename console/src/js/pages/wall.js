// SPDX-License-Identifier: Apache-2.0
// The wall screen (大屏): the firing problems by severity, the hosts not
// heard from, the dial tests' availability and the fleet's record rate,
// large, refreshed every 5 s, for a screen no one logs in at. It reads with a viewer token an admin made (the users page gives the
// link, /wall#token=…): the token comes in the address's fragment, which
// no server sees, is kept in this browser and taken out of the address.
import { api, setBearer } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { clock, span } from "../time.js";
import { poll, severityBadge } from "./common.js";

const KEY = "vigil.wall_token";
const REFRESH_MS = 5000;
const SEVERITIES = ["disaster", "critical", "warning", "info"];

// The token from the fragment (then kept) or from what this browser kept.
function token() {
	const m = /^#token=([A-Za-z0-9_.~-]+)$/.exec(location.hash);
	if (m) {
		localStorage.setItem(KEY, m[1]);
		history.replaceState(null, "", "/wall");
	}
	return localStorage.getItem(KEY);
}

export function render(root) {
	const tk = token();
	document.body.classList.add("wall-body");
	if (!tk) {
		fill(root, h("main.wall", h("h1", t("wall.title")), h("p", t("wall.no_token"))));
		return;
	}
	setBearer(tk);
	const counts = h("div.wall-counts", { id: "wall-counts" });
	const list = h("ol.wall-list", { id: "wall-list" });
	const hosts = h("div.wall-hosts", { id: "wall-hosts" });
	const status = h("span.status", { id: "wall-updated" });
	const dials = h("div.wall-dials", { id: "wall-dials" });
	let last = null;

	// Each dial test's availability over 24 h (at most 12), and the fleet's records per second between two refreshes.
	async function extras(hs) {
		const records = hs.items.reduce((n, x) => n + (x.records || 0), 0), now = Date.now();
		const rate = last && now > last.at ? Math.max(0, (records - last.records) * 1000 / (now - last.at)) : null;
		last = { records, at: now };
		const d = await api("GET", "/api/v1/dialtests").catch(() => ({ items: [] }));
		const sums = await Promise.all(d.items.slice(0, 12).map((x) => api("GET", `/api/v1/dialtests/${x.id}/summary`).catch(() => null)));
		fill(dials, h("span.wall-rate", { id: "wall-rate" }, t("wall.rate", { n: rate === null ? "—" : rate.toFixed(1) })),
			d.items.slice(0, 12).map((x, i) => h("span.wall-dial" + (sums[i]?.runs && sums[i].availability_pct < 100 ? ".bad" : ""),
				`${x.name} ${sums[i]?.runs ? sums[i].availability_pct + "%" : "—"}`)));
	}

	async function refresh() {
		try {
			const [a, hs] = await Promise.all([api("GET", "/api/v1/alerts?state=firing"), api("GET", "/api/v1/hosts")]);
			const by = Object.fromEntries(SEVERITIES.map((s) => [s, a.items.filter((x) => x.severity === s).length]));
			fill(counts, SEVERITIES.map((s) => h("div.wall-count.sev-" + s, { data: { severity: s } }, h("b", String(by[s])), t("sev." + s))));
			const order = (x) => SEVERITIES.indexOf(x.severity);
			fill(list, a.items.slice().sort((x, y) => order(x) - order(y) || y.fired - x.fired).slice(0, 30).map((x) =>
				h("li", severityBadge(x.severity), h("span.wall-summary", x.summary || x.rule), h("span.wall-since", span(x.fired)))));
			if (!a.items.length)
				fill(list, h("li.wall-ok", t("wall.all_clear")));
			const silent = hs.items.filter((x) => x.status === "silent");
			fill(hosts, t("wall.hosts", { up: hs.items.length - silent.length, silent: silent.length }),
				silent.length ? h("span.wall-silent", silent.slice(0, 20).map((x) => x.hostname).join("、")) : null);
			await extras(hs);
			fill(status, t("problems.updated", { time: clock(Date.now()) }));
			status.classList.remove("stale");
		} catch (e) {
			fill(status, e.status === 401 ? t("wall.bad_token") : t("problems.stale", { reason: e.message }));
			status.classList.add("stale");
		}
	}

	fill(root, h("main.wall", h("div.toolbar", h("h1", t("wall.title")), h("span.spacer"), status), counts, hosts, dials, list));
	const poller = poll(refresh, REFRESH_MS);
	return () => poller.stop();
}

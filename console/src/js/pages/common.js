// SPDX-License-Identifier: Apache-2.0
// What several pages show the same way: severities, states, an alert's flags.
import { h } from "../dom.js";
import { t } from "../i18n.js";

// Which roles the API lets read what (api/roles.h): the pages offer only that.
export const ROLES = { state: ["viewer", "operator", "admin"], logs: ["operator", "admin", "security"], audit: ["security", "auditor"] };

// The time ranges a page of charts offers, in seconds.
export const RANGES = { "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400 };

// Whether the session's role may change alerts and silences (the API says the same: operator, admin).
export function canAct(session) {
	return session.role === "operator" || session.role === "admin";
}

// Whether the session's role may read log lines.
export function readsLogs(session) {
	return ROLES.logs.includes(session.role);
}

export function severityBadge(sev) {
	return h("span.badge.sev-" + sev, { data: { severity: sev } }, t("sev." + sev));
}

export function stateBadge(state) {
	return h("span.state.state-" + state, t("state." + state));
}

export function flags(a) {
	return ["silenced", "flapping", "suppressed"].filter((f) => a[f]).map((f) => h("span.flag", t("flag." + f)));
}

export function labelChips(labels) {
	return Object.entries(labels || {}).map(([k, v]) => h("span.chip", `${k}=${v}`));
}

// Runs load at once and again ms after each run ends, until stop(); load may answer another delay for the
// next run. now(delay) runs it sooner (after the run under way, if one is). Once stopped, live is false:
// an answer that arrives after the page was left is not drawn.
export function poll(load, ms) {
	let timer = null, running = false, again = null;
	const p = {
		live: true,
		now(delay = 0) {
			clearTimeout(timer);
			if (running)
				again = delay;
			else if (p.live)
				timer = setTimeout(run, delay);
		},
		stop() {
			p.live = false;
			clearTimeout(timer);
		},
	};
	async function run() {
		let next = ms;
		running = true;
		try {
			const d = await load();
			if (typeof d === "number")
				next = d;
		} catch (e) {
			// load says what went wrong where it can; the next run tries again.
		}
		running = false;
		if (again !== null) {
			next = again;
			again = null;
		}
		if (p.live)
			timer = setTimeout(run, next);
	}
	p.now();
	return p;
}

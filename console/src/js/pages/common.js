// SPDX-License-Identifier: Apache-2.0
// What several pages show the same way: severities, states, an alert's flags.
import { h } from "../dom.js";
import { t } from "../i18n.js";

// Which roles the API lets read what (api/roles.h): the pages offer only that.
export const ROLES = { state: ["viewer", "operator", "admin"], logs: ["operator", "admin", "security"], audit: ["security", "auditor"] };

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

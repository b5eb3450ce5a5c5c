// SPDX-License-Identifier: Apache-2.0
// Times as ops staff read them: Beijing time (Asia/Shanghai) unless this
// browser was set to another zone, 24-hour, with the zone's offset shown
// (a time without its zone is a guess). The API gives microseconds since
// the epoch.
import { lang, t } from "./i18n.js";

const KEY = "vigil.tz";
// The zones offered: China's two in use, UTC, and the browser's own.
export const ZONES = ["Asia/Shanghai", "Asia/Urumqi", "UTC", Intl.DateTimeFormat().resolvedOptions().timeZone]
	.filter((z, i, all) => z && all.indexOf(z) === i);
const formats = new Map();

export function zone() {
	const z = localStorage.getItem(KEY);
	return ZONES.includes(z) ? z : "Asia/Shanghai";
}

export function setZone(z) {
	localStorage.setItem(KEY, ZONES.includes(z) ? z : "Asia/Shanghai");
}

function format(kind) {
	const key = lang() + zone() + kind;
	if (!formats.has(key)) {
		const opts = kind === "time" ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } :
			{ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
				timeZoneName: "shortOffset" };
		formats.set(key, new Intl.DateTimeFormat("en-US", { ...opts, timeZone: zone(), hourCycle: "h23" }));
	}
	return formats.get(key);
}

// "2026-12-01 22:53:07 UTC+8" in the zone; "" for 0 (never).
export function when(us) {
	if (!us)
		return "";
	const p = Object.fromEntries(format("full").formatToParts(new Date(us / 1000)).map((x) => [x.type, x.value]));
	// "GMT+8" as "UTC+8"; UTC itself ("GMT", or "GMT+0" in some ICU versions) as "UTC".
	const tz = p.timeZoneName.replace(/^GMT(\+0)?$/, "UTC").replace("GMT", "UTC");
	return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${tz}`;
}

export function clock(ms) {
	return format("time").format(new Date(ms));
}

// How long from us to now (or to end_us), in the largest unit: "5 分钟".
export function span(us, endUs) {
	const s = Math.max(0, Math.floor(((endUs || Date.now() * 1000) - us) / 1e6));
	if (s < 5)
		return t("ago.now");
	if (s < 60)
		return t("ago.s", { n: s });
	if (s < 3600)
		return t("ago.m", { n: Math.floor(s / 60) });
	if (s < 86400)
		return t("ago.h", { n: Math.floor(s / 3600) });
	return t("ago.d", { n: Math.floor(s / 86400) });
}

// A number of seconds as the largest whole unit: 604800 -> "7 天".
export function seconds(s) {
	return s % 86400 === 0 ? t("ago.d", { n: s / 86400 }) : s % 3600 === 0 ? t("ago.h", { n: s / 3600 }) : t("ago.m", { n: Math.round(s / 60) });
}

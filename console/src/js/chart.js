// SPDX-License-Identifier: Apache-2.0
// A metric's series as a uPlot chart (console/src/vendor: uPlot 1.6.32, MIT).
// Times on the axis and in the legend are Beijing time, as everywhere in the console.
import uPlot from "../vendor/uPlot.esm.js";
import { h } from "./dom.js";
import { when } from "./time.js";

const COLORS = ["#0b62c4", "#c62828", "#2e7d32", "#975a00", "#6a1b9a", "#00838f", "#5d4037", "#455a64"];

// The API's series ([{instance, points: [[us, avg, min, max]]}]) as uPlot's columns, on the union of their times.
export function columns(series) {
	const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
	const at = new Map(times.map((t, i) => [t, i]));
	const cols = series.map((s) => {
		const col = new Array(times.length).fill(null);
		for (const p of s.points)
			col[at.get(p[0])] = p[1];
		return col;
	});
	return [times.map((t) => t / 1e6), ...cols];
}

// 1234567 -> "1.2M": an axis has room for a few characters.
function compact(v) {
	const a = Math.abs(v);
	return a >= 1e9 ? (v / 1e9).toFixed(1) + "G" : a >= 1e6 ? (v / 1e6).toFixed(1) + "M" : a >= 1e4 ? (v / 1e3).toFixed(0) + "k" :
		String(Number(v.toPrecision(4)));
}

// "12-01 22:50" (over a day; "22:50" within one, "22:50:07" within 10 minutes) in Beijing time, for the time axis.
function tick(seconds, spanS) {
	const full = when(seconds * 1e6);
	return spanS > 86400 ? full.slice(5, 16) : spanS > 600 ? full.slice(11, 16) : full.slice(11, 19);
}

// Chart of series into a new element, width px wide; those named in marks are drawn as points only (failures).
// span ([first, last] in seconds) is the time axis: a lone point is then drawn where it is in the range asked,
// not on an axis of its own. The element, with the chart's destroy().
export function chart(title, series, width, unit, marks, span) {
	const el = h("figure.chart", { data: { metric: title } }, h("figcaption", title));
	const opts = {
		width, height: 180,
		legend: { show: series.length > 1 },
		scales: { x: span ? { time: true, range: () => span } : { time: true } },
		axes: [{ values: (u, vals) => vals.map((v) => tick(v, u.scales.x.max - u.scales.x.min)) },
			{ size: 64, values: (u, vals) => vals.map((v) => (v === null ? "" : compact(v) + (unit || ""))) }],
		series: [{ value: (u, v) => (v === null ? "--" : when(v * 1e6)) },
			...series.map((s, i) => (marks?.has(s.instance) ?
				{ label: s.instance, stroke: "#c62828", width: 0, paths: () => null, points: { show: true, size: 8, fill: "#c62828" } } :
				{ label: s.instance || s.host || title, stroke: COLORS[i % COLORS.length], width: 1.5 }))],
	};
	const plot = new uPlot(opts, columns(series), el);
	return { el, destroy: () => plot.destroy() };
}

// Counts per time bucket ([[start_us, n]]) as bars, width px wide; the element, with the chart's destroy().
export function bars(title, buckets, width) {
	const el = h("figure.chart.counts", { data: { metric: title } }, h("figcaption", title));
	const span = buckets.length > 1 ? (buckets[buckets.length - 1][0] - buckets[0][0]) / 1e6 : 60;
	const opts = {
		width, height: 120, legend: { show: false }, scales: { x: { time: true } },
		axes: [{ values: (u, vals) => vals.map((v) => tick(v, span)) }, { size: 56, values: (u, vals) => vals.map((v) => compact(v)) }],
		series: [{}, { label: title, fill: "#0b62c4", stroke: "#0b62c4", paths: uPlot.paths.bars({ size: [0.8, 40] }) }],
	};
	const plot = new uPlot(opts, [buckets.map((b) => b[0] / 1e6), buckets.map((b) => b[1])], el);
	return { el, destroy: () => plot.destroy() };
}

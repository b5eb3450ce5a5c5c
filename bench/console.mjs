// SPDX-License-Identifier: Apache-2.0
// The browser half of bench/console.sh: in Debian's Chromium (playwright-core),
// the time from opening the console's problem list to its 1000 rows drawn,
// the page's JS heap after, a filter applied by the page and one applied by
// the API, a bulk acknowledgement of 50 problems, the 1000 hosts drawn, and
// the log page to 1000 lines and a keyword search.
// (Debian's Alertmanager ships no web UI: its API is the peer.) Prints one
// JSON line. Environment: MODULES, VIGIL (the collector's base URL).
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(join(process.env.MODULES, "/"));
const { chromium } = require("playwright-core");

async function heapMb(cdp) {
	await cdp.send("HeapProfiler.collectGarbage");
	const m = (await cdp.send("Performance.getMetrics")).metrics.find((x) => x.name === "JSHeapUsedSize");
	return m ? m.value / 2 ** 20 : 0;
}

const profile = mkdtempSync(join(tmpdir(), "vigil-bench-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
	executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1360, height: 860 },
	args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync"],
});
const out = { vigil: {} };
try {
	const page = context.pages()[0] || await context.newPage();
	page.on("dialog", (d) => d.accept());
	const cdp = await context.newCDPSession(page);
	await cdp.send("Performance.enable");
	await page.goto(process.env.VIGIL + "/alerts");
	await page.fill("#login input[name=user]", "bench");
	await page.fill("#login input[name=password]", "Bench-console-2026");
	await page.click("#login button[type=submit]");
	await page.waitForSelector("#problems tr[data-id]", { timeout: 60000 });
	let t0 = Date.now();
	await page.reload();
	await page.waitForFunction(() => document.querySelectorAll("#problems tr[data-id]").length === 1000, null, { timeout: 60000 });
	out.vigil.load_ms = Date.now() - t0;
	out.vigil.heap_mb = await heapMb(cdp);
	// A filter the page applies itself (text), to the list redrawn and painted.
	out.vigil.text_filter_ms = await page.evaluate(async () => {
		const q = document.querySelector("input[name=q]"), t = performance.now();
		q.value = "svc-3 ";
		q.dispatchEvent(new Event("input"));
		await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
		return performance.now() - t;
	});
	await page.evaluate(() => {
		const q = document.querySelector("input[name=q]");
		q.value = "";
		q.dispatchEvent(new Event("input"));
	});
	// A filter the API applies (a host), from the change to the rows drawn.
	// (Timed in the page: the change event to the new rows painted.)
	out.vigil.host_filter_ms = await page.evaluate(() => new Promise((resolve) => {
		const body = document.getElementById("problems"), host = document.querySelector("input[name=host]"), t = performance.now();
		const done = () => [...body.querySelectorAll("tr[data-id]")].every((r) => r.textContent.includes("host-7")) &&
			body.querySelector("tr[data-id]");
		new MutationObserver((_, mo) => {
			if (done()) {
				mo.disconnect();
				requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t)));
			}
		}).observe(body, { childList: true });
		host.value = "host-7";
		host.dispatchEvent(new Event("change"));
	}));
	await page.goto(process.env.VIGIL + "/alerts");
	await page.waitForFunction(() => document.querySelectorAll("#problems tr[data-id]").length === 1000, null, { timeout: 60000 });
	// By locator: the 5 s refresh redraws the rows (the selection is kept), so each box is found again.
	const boxes = page.locator("#problems tr[data-id] input[type=checkbox]");
	for (let i = 0; i < 50; i++)
		await boxes.nth(i).check();
	t0 = Date.now();
	await page.click("#bulk-ack");
	await page.waitForSelector("#flash .info", { timeout: 60000 });
	out.vigil.bulk_ms = Date.now() - t0;
	t0 = Date.now();
	await page.goto(process.env.VIGIL + "/hosts");
	await page.waitForFunction(() => document.querySelectorAll("#hosts tr[data-id]").length >= 1000, null, { timeout: 60000 });
	out.vigil.hosts_ms = Date.now() - t0;
	// The log page: its first page of lines, then scrolled on (endless scroll) to 1000 lines on screen.
	const lines = () => document.querySelectorAll("#lines tr").length;
	t0 = Date.now();
	await page.goto(process.env.VIGIL + "/logs?since=1h");
	await page.waitForFunction((n) => document.querySelectorAll("#lines tr").length >= n, 200, { timeout: 60000 })
		.catch(async (e) => { throw new Error(`the log page: ${await page.textContent("main")}: ${e.message}`); });
	out.vigil.logs_first_ms = Date.now() - t0;
	t0 = Date.now();
	while (await page.evaluate(lines) < 1000) {
		const n = await page.evaluate(lines);
		await page.locator("#more").scrollIntoViewIfNeeded();
		await page.waitForFunction((k) => document.querySelectorAll("#lines tr").length > k, n, { timeout: 60000 });
	}
	out.vigil.logs_1000_ms = Date.now() - t0;
	out.vigil.logs_heap_mb = await heapMb(cdp);
	t0 = Date.now();
	await page.fill("#log-search input[name=q]", "status=502");
	await page.press("#log-search input[name=q]", "Enter");
	await page.waitForFunction(() => {
		const rows = [...document.querySelectorAll("#lines tr")];
		return rows.length >= 200 && rows.every((r) => r.textContent.includes("status=502"));
	}, null, { timeout: 60000 });
	out.vigil.logs_search_ms = Date.now() - t0;

} finally {
	await context.close();
	rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));

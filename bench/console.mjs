// SPDX-License-Identifier: Apache-2.0
// The browser half of bench/console.sh: in Debian's Chromium (playwright-core),
// the time from opening the console's problem list to its 1000 rows drawn,
// the page's JS heap after, and a bulk acknowledgement of 50 problems.
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
	const boxes = await page.$$("#problems tr[data-id] input[type=checkbox]");
	for (const b of boxes.slice(0, 50))
		await b.check();
	t0 = Date.now();
	await page.click("#bulk-ack");
	await page.waitForSelector("#flash .info", { timeout: 60000 });
	out.vigil.bulk_ms = Date.now() - t0;

} finally {
	await context.close();
	rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));

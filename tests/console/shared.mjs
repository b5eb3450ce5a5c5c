// SPDX-License-Identifier: Apache-2.0
// The console on a store several collectors share (pg-console.sh): an
// auditor logged in through one collector reads the audit log of both, each
// row naming the collector that recorded it, and the chain it is in.
//
// Environment: lib.mjs's, and USER and PASSWORD (the auditor's, made with
// --create-user), HOST (the collectors' host name), CHAINS (the two audit
// chains in the database, space-separated).
import { join } from "node:path";
import * as lib from "./lib.mjs";
import { check, run } from "./lib.mjs";

const URL = process.env.URL, OUT = process.env.OUT, CHAINS = process.env.CHAINS.split(" ");

await lib.browse(async (page) => {
	await run("the auditor's first login through A, with the second factor enrolled", async () => {
		await lib.login(page, process.env.USER, process.env.PASSWORD, "/audit");
		await lib.enrolTotp(page, process.env.PASSWORD);
		await page.click("#recovery button");
		await page.waitForSelector("#audit-search");
	});

	await run("the audit log names the collector of each row, rows of both collectors' chains among them", async () => {
		await page.goto(URL + "/audit?since=1h");
		await page.waitForSelector("#audit tr[data-id] td.collector");
		const heads = await page.$$eval("table.list th", (l) => l.filter((th) => !th.hidden).map((th) => th.textContent));
		check(heads[1] === "采集器", "the columns: " + heads.join(", "));
		const rows = await page.$$eval("#audit tr[data-id]", (l) => l.map((r) => {
			const c = r.querySelector("td.collector");
			return { id: r.dataset.id, collector: c && c.textContent, chain: c && c.title, cells: r.cells.length };
		}));
		check(rows.every((r) => r.collector === process.env.HOST && r.cells === 8), "rows: " + JSON.stringify(rows));
		for (const chain of CHAINS)
			check(rows.some((r) => r.chain === chain), `no row of chain ${chain}: ` + JSON.stringify(rows));
		check(new Set(rows.map((r) => r.id)).size === rows.length, "two rows with one id: " + JSON.stringify(rows));
		await lib.accessible(page, "audit");
		await page.screenshot({ path: join(OUT, "audit-shared-zh.png") });
	});
});

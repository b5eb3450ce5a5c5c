// SPDX-License-Identifier: Apache-2.0
// A dial test's vantage points in the browser (vantages-console.sh): the
// collector and the agents host-a and host-b side by side, each newest run
// by phase, host-b (cut off from the site) failing while the quorum
// ("2 of 3") holds; a vantage's run opens as its waterfall; the runs name
// their vantage; the list says where each test runs.
//
// Environment: lib.mjs's, USER and PASSWORD (an operator's), and ID (the
// dial test's id).
import { join } from "node:path";
import * as lib from "./lib.mjs";
import { check, run } from "./lib.mjs";

const OUT = process.env.OUT, ID = process.env.ID;

const vantageRows = (page) => page.$$eval("#vantages tr[data-vantage]", (l) => l.map((r) => ({
	vantage: r.dataset.vantage, ok: r.dataset.ok, name: r.cells[0].textContent, outcome: r.cells[1].textContent,
	connect: Number(r.cells[4].textContent), total: Number(r.cells[8].textContent), message: r.cells[10].textContent })));

await lib.browse(async (page) => {
	await run("the operator opens the dial test", async () => {
		await lib.login(page, process.env.USER, process.env.PASSWORD, "/dialtests/" + ID);
		await page.waitForSelector("#vantages tr[data-vantage]");
	});

	await run("the vantages side by side: host-b fails, the collector and host-a pass, the quorum holds", async () => {
		await page.waitForFunction(() => document.querySelectorAll("#vantages tr[data-vantage]").length === 3 &&
			document.querySelector("#vantages tr[data-vantage=host-b]")?.dataset.ok === "false", null, { timeout: 30000 });
		const rows = await vantageRows(page);
		const by = Object.fromEntries(rows.map((r) => [r.vantage, r]));
		check(by.collector?.name === "采集器" && by.collector.ok === "true", "the collector: " + JSON.stringify(rows));
		check(by["host-a"]?.ok === "true" && by["host-a"].total > 0 && by["host-a"].outcome === "成功", "host-a: " + JSON.stringify(rows));
		check(by["host-b"]?.outcome === "无法完成调用" && by["host-b"].message.includes("connect"), "host-b: " + JSON.stringify(rows));
		const state = await page.$eval("#vantage-state", (e) => ({ state: e.dataset.state, text: e.textContent }));
		check(state.state === "ok" && state.text.includes("正常") && state.text.includes("3 个拨测点上报，1 个失败") &&
			state.text.includes("2 of 3"), "the state: " + JSON.stringify(state));
		await lib.accessible(page, "vantages");
		await page.screenshot({ path: join(OUT, "dialtest-vantages-zh.png"), fullPage: true });
	});

	await run("host-b's run opens as its waterfall, which says where it failed", async () => {
		await page.click("#vantages tr[data-vantage=host-b] button.link");
		await page.waitForFunction(() => document.querySelector("#waterfall-box h2")?.textContent.startsWith("host-b "));
		const text = await page.textContent("#waterfall-box");
		check(text.includes("connect:"), "host-b's waterfall: " + text);
	});

	await run("the list says where each test runs", async () => {
		await page.goto(process.env.URL + "/dialtests");
		await page.waitForSelector(`#dialtests tr[data-id="${ID}"]`);
		const where = await page.textContent(`#dialtests tr[data-id="${ID}"] td.runs-on`);
		check(where === "采集器、zone=a、zone=b", "where portal runs: " + where);
		await page.goBack();
		await page.waitForSelector("#vantages tr[data-vantage]");
	});

	await run("the runs name their vantage", async () => {
		await page.waitForSelector("#runs tr[data-vantage=host-a]");
		const names = await page.$$eval("#runs tr[data-vantage]", (l) => [...new Set(l.map((r) => r.cells[1].textContent))].sort());
		check(names.join() === "host-a,host-b,采集器", "the runs' vantages: " + names.join());
	});
});

// SPDX-License-Identifier: Apache-2.0
// The control center (采控) in the browser (control-console.sh): the
// fleet by configuration state, the host that refused a group shown with
// why, the groups; the administrator defines one (a bad one refused with
// its group and line), rolls a version out to a canary label, promotes it.
// A group's text is shown as text, never markup.
//
// Environment: lib.mjs's, and USER and PASSWORD (an admin's, made with
// --create-user). The agents host-a (zone=gov-a, refusing group cmd's
// command probe) and host-b (zone=internet, running group web) report.
import { join } from "node:path";
import * as lib from "./lib.mjs";
import { check, run } from "./lib.mjs";

const URL = process.env.URL, OUT = process.env.OUT;

// The host rows as drawn: hostname, state, why.
const hostRows = (page) => page.$$eval("#control-hosts tr[data-id]", (l) => l.map((r) => ({
	host: r.cells[0].textContent, state: r.dataset.state, shown: r.cells[5].textContent, why: r.cells[6].textContent })));
const groupRow = (page, name) => page.$eval(`#control-groups tr[data-group="${name}"]`, (r) => ({
	version: r.cells[3].textContent, rollout: r.cells[4].dataset.rollout, text: r.cells[4].textContent }));

await lib.browse(async (page) => {
	await run("the administrator's first login, with the second factor enrolled, reaches 采控", async () => {
		await lib.login(page, process.env.USER, process.env.PASSWORD, "/control");
		await lib.enrolTotp(page, process.env.PASSWORD);
		await page.click("#recovery button");
		await page.waitForSelector("nav a[href='/control']");
		await page.click("nav a[href='/control']");
		await page.waitForSelector("#control-hosts tr[data-id]");
		check((await page.textContent("nav a[href='/control']")) === "采控", "the nav's word");
		check((await page.textContent("h1")) === "采控中心", "the title");
	});

	await run("the fleet by configuration state: host-a refused cmd and says why, host-b is up to date", async () => {
		await page.waitForFunction(() => document.querySelectorAll("#control-hosts tr[data-id]").length === 2);
		const rows = await hostRows(page);
		const a = rows.find((r) => r.host === "host-a"), b = rows.find((r) => r.host === "host-b");
		check(a && a.state === "error" && a.shown === "配置出错", "host-a: " + JSON.stringify(rows));
		check(/group cmd:2: \[probe "run"\] type=command: .*allow_commands=no/.test(a.why), "host-a's why: " + a.why);
		check(b && b.state === "current" && b.shown === "配置最新", "host-b: " + JSON.stringify(rows));
		check((await page.textContent("#control-summary [data-count=all]")) === "2", "the summary's hosts");
		check((await page.textContent("#control-summary [data-count=error]")) === "1", "the summary's refused");
		check((await page.textContent("#control-summary [data-count=current]")) === "1", "the summary's up to date");
		check(await page.$("#control-versions [data-version]"), "the agent versions");
		await page.selectOption("select[name=state]", "error");
		check((await hostRows(page)).map((r) => r.host).join() === "host-a", "the filter");
		await page.selectOption("select[name=state]", "");
		await lib.accessible(page, "control");
		await page.screenshot({ path: join(OUT, "control-zh.png"), fullPage: true });
	});

	await run("a group's text and versions, as text", async () => {
		await page.click("#control-groups tr[data-group=web] button.link");
		await page.waitForSelector("#control-config");
		check((await page.textContent("#control-config")).startsWith("# <img src=x onerror=alert(1)>"), "the text");
		check(!(await page.$("#control-detail img")), "the group's text became markup");
		check((await page.$$("#control-versions-list tr")).length === 1, "web's versions");
	});

	await run("a bad group is refused with its group and line", async () => {
		await page.fill("#control-form input[name=name]", "bad");
		await page.fill("#control-form input[name=selector]", "zone=gov-a");
		await page.fill("#control-form textarea[name=config]", "[tail \"t\"]\npathh=/var/log/x\n");
		await page.click("#control-form button[type=submit]");
		await page.waitForSelector("#flash .error");
		const text = await page.textContent("#flash .error");
		check(text.includes("group bad:2: [tail \"t\"]: unknown key 'pathh'"), "the error: " + text);
		check(!(await page.$("#control-groups tr[data-group=bad]")), "the bad group was stored");
	});

	await run("a new version of web for the canary label zone=gov-a, then promoted", async () => {
		await page.click("#control-groups tr[data-group=web] button.link");
		await page.waitForFunction(() => document.querySelector("#control-form input[name=name]").value === "web");
		const config = await page.inputValue("#control-form textarea[name=config]");
		await page.fill("#control-form textarea[name=config]", config.replace("[probe", "[metrics]\ninterval=30s\n[probe"));
		await page.fill("#control-form input[name=canary]", "zone=gov-a");
		await page.click("#control-form button[type=submit]");
		await page.waitForSelector("#flash .info");
		await page.waitForFunction(() => document.querySelector("#control-groups tr[data-group=web] td[data-rollout=yes]"));
		const g = await groupRow(page, "web");
		check(g.version === "2" && g.text.includes("灰度中") && g.text.includes("zone=gov-a") && g.text.includes("版本 1"),
			"web rolled out: " + JSON.stringify(g));
		await page.screenshot({ path: join(OUT, "control-rollout-zh.png"), fullPage: true });
		await page.click("#control-groups tr[data-group=web] button:not(.link):not(.danger)");
		await page.waitForFunction(() => document.querySelector("#control-groups tr[data-group=web] td[data-rollout=no]"));
		check((await groupRow(page, "web")).text === "已全量发布", "web promoted");
	});
});

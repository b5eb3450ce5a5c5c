// SPDX-License-Identifier: Apache-2.0
// The console in a real browser: Debian's Chromium driven by playwright-core,
// against a real collector that console-browser.sh started with real
// alerts. Each step says what it proves; the first failure ends the run
// with its name, and a screenshot of the page at that moment.
//
// Environment: URL, PASSWORD (the admin root's, made with --create-user),
// MODULES (a node_modules with playwright-core and axe-core), OUT (where
// screenshots go), LOGFILE (a file the agent follows), CA_FILE (the
// collector's CA, for its dial tests of its own HTTPS API), CHROMIUM
// (default /usr/bin/chromium).
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as lib from "./lib.mjs";
import { check, run, totp } from "./lib.mjs";

const URL = process.env.URL, OUT = process.env.OUT;
let page, context;
const api = (...a) => lib.api(page, ...a);
const accessible = (what) => lib.accessible(page, what);
const login = (...a) => lib.login(page, ...a);
const enrolTotp = (password) => lib.enrolTotp(page, password);
const changePassword = (old, fresh) => lib.changePassword(page, old, fresh);

async function flows() {
	let secret, recovery, ids;

	await run("the login page in Chinese; a wrong password is refused in Chinese", async () => {
		await page.goto(URL + "/alerts");
		await page.waitForSelector("#login");
		check(await page.textContent("h1") === "登录", "heading: " + await page.textContent("h1"));
		check(await page.getAttribute("html", "lang") === "zh-CN", "lang");
		await accessible("login");
		await login("root", "Wrong-password-1");
		await page.waitForSelector("#flash .error");
		check((await page.textContent("#flash")).includes("用户名、密码或动态口令错误"), await page.textContent("#flash"));
	});

	await run("an admin enrols TOTP before anything else: QR code, secret, code, ten recovery codes", async () => {
		await login("root", process.env.PASSWORD);
		await page.waitForSelector("#totp-begin");
		await page.fill("#totp-begin input[name=password]", process.env.PASSWORD);
		await page.click("#totp-begin button");
		await page.waitForSelector("#totp-qr");
		const dark = await page.evaluate(() => {
			const c = document.getElementById("totp-qr"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
			let n = 0;
			for (let i = 0; i < d.length; i += 4)
				n += d[i] === 0;
			return n / (d.length / 4);
		});
		check(dark > 0.2 && dark < 0.6, "the QR code has " + dark + " dark");
		secret = (await page.textContent("#totp-secret")).trim();
		check(/^[A-Z2-7]{32}$/.test(secret), "secret " + secret);
		await page.screenshot({ path: join(OUT, "totp-zh.png") });
		await page.fill("#totp-confirm input[name=code]", totp(secret));
		await page.click("#totp-confirm button[type=submit]");
		await page.waitForSelector("#recovery li");
		recovery = await page.$$eval("#recovery li", (l) => l.map((x) => x.textContent));
		check(recovery.length === 10, "recovery codes: " + recovery.length);
		await page.click("#recovery button");
		await page.waitForSelector("#problems");
	});

	await run("the admin makes users on the users page; the operator changes the given password first", async () => {
		await page.click("nav a[href='/users']");
		await page.waitForSelector("#users tr[data-name='root']");
		for (const [name, role] of [["li.na", "operator"], ["wall", "viewer"], ["sec.wang", "security"], ["audit.zhao", "auditor"]]) {
			await page.fill("#user-new input[name=name]", name);
			await page.selectOption("#user-new select[name=role]", role);
			await page.fill("#user-new input[name=password]", "Given-by-admin-1");
			await page.click("#user-new button[type=submit]");
			await page.waitForSelector(`#users tr[data-name='${name}']`);
		}
		const row = await page.textContent("#users tr[data-name='li.na']");
		check(row.includes("运维人员") && row.includes("须修改密码") && row.includes("未启用"), "li.na's row: " + row);
		check((await page.textContent("#users tr[data-name='root']")).includes("（您自己）"), "root may change root");
		await page.fill("#user-new input[name=name]", "weakling");
		await page.fill("#user-new input[name=password]", "short");
		await page.click("#user-new button[type=submit]");
		await page.waitForSelector("#flash .error");
		check((await page.textContent("#flash")).includes("12"), "the policy: " + await page.textContent("#flash"));
		await accessible("users");
		await page.click("#logout");
		await page.waitForSelector("#login");
		await login("li.na", "Given-by-admin-1");
		await page.waitForSelector("#password");
		await page.fill("#password input[name=old]", "Given-by-admin-1");
		await page.fill("#password input[name=new]", "weak");
		await page.fill("#password input[name=again]", "weak");
		await page.click("#password button");
		await page.waitForSelector("#flash .error");
		await page.fill("#password input[name=new]", "Li-na-own-pass-7");
		await page.fill("#password input[name=again]", "Li-na-own-pass-7");
		await page.click("#password button");
		await page.waitForSelector("#problems");
		check((await page.textContent("#who")).includes("li.na（运维人员）"), await page.textContent("#who"));
	});

	await run("problems: the firing alerts, in Beijing time with its zone whatever the browser's; another zone at a click", async () => {
		await page.waitForFunction(() => document.querySelectorAll("#problems tr[data-id]").length >= 2, null, { timeout: 30000 });
		const r = await api("GET", "/api/v1/alerts");
		ids = r.data.items.filter((a) => a.rule === "svc-down").map((a) => a.id);
		check(ids.length === 2, "two probe alerts: " + JSON.stringify(r.data.items.map((a) => a.rule)));
		const a = r.data.items.find((x) => x.id === ids[0]);
		const shown = await page.textContent(`#problems tr[data-id="${a.id}"] td:nth-child(6)`);
		const beijing = new Date(a.started / 1000 + 8 * 3600e3).toISOString().replace("T", " ").slice(0, 19) + " UTC+8";
		check(shown === beijing, `started shown as ${shown}, in Beijing ${beijing}`);
		// Another zone, kept in this browser; then back.
		await page.selectOption("#zone", "UTC");
		await page.waitForFunction(([id, want]) => document.querySelector(`#problems tr[data-id="${id}"] td:nth-child(6)`)?.textContent === want,
			[a.id, new Date(a.started / 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC"]);
		await page.selectOption("#zone", "Asia/Shanghai");
		await page.waitForFunction(([id, want]) => document.querySelector(`#problems tr[data-id="${id}"] td:nth-child(6)`)?.textContent === want,
			[a.id, beijing]);
		check((await page.textContent("#problems")).includes("告警中"), "the state in Chinese");
		await page.waitForFunction(() => document.querySelector("#sev-counts").textContent.includes("严重 2") &&
			document.querySelector("#sev-counts").textContent.includes("警告 1"));
		await accessible("problems");
		await page.screenshot({ path: join(OUT, "problems-zh.png") });
	});

	await run("what a host sends is text, never markup", async () => {
		await page.waitForFunction(() => [...document.querySelectorAll("#problems td.summary a")]
			.some((a) => a.textContent.includes("<script>window.vigilPwned=2</script><img src=x onerror=")), null, { timeout: 30000 });
		check(await page.evaluate(() => window.vigilPwned === undefined), "a log line's markup ran");
		check(await page.$("#problems td.summary img, #problems td.summary script") === null, "a log line became an element");
	});

	await run("filters live in the address: severity and a search survive a reload", async () => {
		await page.selectOption("select[name=severity]", "critical");
		await page.waitForFunction(() => location.search.includes("severity=critical"));
		await page.waitForFunction(() => ![...document.querySelectorAll("#problems tr[data-severity]")]
			.some((tr) => tr.dataset.severity !== "critical"));
		await page.fill("input[name=q]", "svc-a");
		await page.waitForFunction(() => location.search.includes("q=svc-a"));
		await page.reload();
		await page.waitForSelector("#problems tr[data-id]");
		check(await page.inputValue("select[name=severity]") === "critical", "severity after reload");
		check(await page.inputValue("input[name=q]") === "svc-a", "search after reload");
		const rows = await page.$$eval("#problems tr[data-id]", (l) => l.map((r) => r.textContent));
		check(rows.length === 1 && rows[0].includes("svc-a"), "rows: " + rows.join(" | "));
		await page.goto(URL + "/alerts?severity=critical");
	});

	await run("bulk: select all, acknowledge; the list shows it within one refresh", async () => {
		await page.waitForFunction(() => document.querySelectorAll("#problems tr[data-id]").length >= 2);
		await page.check("thead input[type=checkbox]");
		check((await page.textContent("#selected")).includes("已选 2 个"), await page.textContent("#selected"));
		await page.click("#bulk-ack");
		await page.waitForSelector("#flash .info");
		check((await page.textContent("#flash")).includes("2 个成功，0 个失败"), await page.textContent("#flash"));
		await page.waitForFunction(() => [...document.querySelectorAll("#problems tr[data-id] td:nth-child(8)")]
			.every((td) => td.textContent === "li.na"), null, { timeout: 10000 });
	});

	await run("a change without the session's CSRF token is refused, and changes nothing", async () => {
		const r = await page.evaluate(async (id) => {
			const res = await fetch(`/api/v1/alerts/${id}/close`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
			return { status: res.status, body: await res.json() };
		}, ids[0]);
		check(r.status === 403 && r.body.error === "csrf", "without the token: " + JSON.stringify(r));
		check((await api("GET", `/api/v1/alerts/${ids[0]}`)).data.state === "firing", "the alert was closed");
	});

	await run("a change made elsewhere shows within 5 s, without a reload", async () => {
		const r = await api("POST", `/api/v1/alerts/${ids[1]}/assign`, { to: "db-team" });
		check(r.status === 200, "assign: " + r.status);
		await page.waitForFunction((id) => document.querySelector(`#problems tr[data-id="${id}"] td:nth-child(9)`)?.textContent === "db-team",
			ids[1], { timeout: 7000 });
	});

	await run("the 5 s refresh draws the rows anew and keeps the keyboard's place in them", async () => {
		const box = `#problems tr[data-id="${ids[1]}"] input[type=checkbox]`;
		await page.focus(box);
		await page.$eval(`#problems tr[data-id="${ids[1]}"]`, (tr) => { tr.vigilOld = true; });
		await page.waitForFunction((id) => !document.querySelector(`#problems tr[data-id="${id}"]`).vigilOld, ids[1], { timeout: 8000 });
		check(await page.evaluate((id) => document.activeElement?.closest("tr")?.dataset.id === String(id) &&
			document.activeElement.type === "checkbox", ids[1]), "the focus is lost: " + await page.evaluate(() => document.activeElement?.outerHTML));
	});

	await run("the assignee and unacknowledged filters are the API's: it is asked, and the count is its count", async () => {
		const asked = page.waitForRequest((rq) => /\/api\/v1\/alerts\?.*assignee=db-team/.test(rq.url()), { timeout: 5000 });
		await page.fill("input[name=assignee]", "db-team");
		await asked;
		await page.waitForFunction((id) => [...document.querySelectorAll("#problems tr[data-id]")].map((r) => r.dataset.id).join() === String(id) &&
			document.querySelector("#count").textContent === "共 1 个", ids[1], { timeout: 5000 });
		await page.fill("input[name=assignee]", "-");
		await page.waitForFunction((id) => document.querySelectorAll("#problems tr[data-id]").length >= 1 &&
			!document.querySelector(`#problems tr[data-id="${id}"]`) && document.querySelector("#count").textContent.startsWith("共 "),
			ids[1], { timeout: 5000 });
		await page.fill("input[name=assignee]", "");
		const unacked = page.waitForRequest((rq) => /\/api\/v1\/alerts\?.*unacked=1/.test(rq.url()), { timeout: 5000 });
		await page.check("input[name=unacked]");
		await unacked;
		// Both were acknowledged in bulk.
		await page.waitForFunction((both) => {
			const rows = [...document.querySelectorAll("#problems tr[data-id]")];
			return rows.every((r) => !both.includes(Number(r.dataset.id)) && r.querySelector("td:nth-child(8)").textContent === "") &&
				document.querySelector("#count").textContent === `共 ${rows.length} 个`;
		}, [ids[0], ids[1]], { timeout: 5000 });
		await page.uncheck("input[name=unacked]");
		await page.waitForFunction(() => document.querySelectorAll("#problems tr[data-id]").length >= 2, null, { timeout: 5000 });
	});

	await run("a problem's page: facts, a timeline with people's actions and each notification's delivery", async () => {
		await page.click(`#problems tr[data-id="${ids[0]}"] td.summary a`);
		await page.waitForSelector("#timeline li");
		check(page.url().endsWith(`/alerts/${ids[0]}`), page.url());
		await page.waitForFunction(() => document.querySelector("#timeline").textContent.includes("已通知 vigilhook: delivered"),
			null, { timeout: 15000 });
		const tl = await page.textContent("#timeline");
		check(tl.includes("触发") && tl.includes("确认") && tl.includes("li.na"), "timeline: " + tl);
		await page.waitForFunction(() => document.querySelector("#timeline").textContent.includes("通知失败，将重试 vigildead:"),
			null, { timeout: 15000 });
		check((await page.textContent("#timeline")).includes("通知 dead（fired）：排队中，等待发送"), "the retried one waits");
		check(!/\bev\.|delivery\b/.test(await page.textContent("#timeline")), "an untranslated key: " + tl);
		await page.fill("textarea[name=comment]", "查看中，已联系机房");
		await page.click("#comment");
		await page.waitForFunction(() => document.querySelector("#timeline").textContent.includes("查看中，已联系机房"));
		await page.fill("#actions input[name=to]", "wang.wu");
		await page.click("#assign");
		await page.waitForFunction(() => document.querySelector("#facts").textContent.includes("wang.wu"));
		await page.selectOption("#actions select[name=severity]", "disaster");
		await page.click("#severity");
		await page.waitForFunction(() => document.querySelector(".toolbar .badge").textContent === "灾难");
		const r = await api("GET", `/api/v1/alerts/${ids[0]}`);
		check(r.data.assignee === "wang.wu" && r.data.severity === "disaster", JSON.stringify(r.data));
		check(r.data.history.some((e) => e.action === "comment" && e.actor === "li.na" && e.note === "查看中，已联系机房"),
			"the comment in the history");
		await page.waitForSelector("#rule");
		check((await page.textContent("#rule")).includes("type=probe"), "the rule: " + await page.textContent("#rule"));
		check((await page.textContent("#host-probes")).includes("svc-b"), "the host's probes");
		await page.waitForSelector("#around");
		check((await page.textContent("#around")).includes("<script>window.vigilPwned=2</script>"), "the lines around the start");
		await accessible("problem");
		await page.screenshot({ path: join(OUT, "problem-zh.png"), fullPage: true });
	});

	await run("silences: the preview names what a matcher would silence; made, listed, ended", async () => {
		await page.click("nav a[href='/silences']");
		await page.waitForSelector("#silence-new");
		await page.fill("#matchers .m-key", "probe");
		await page.fill("#matchers .m-value", "svc-b");
		await page.waitForFunction(() => document.querySelector("#preview").textContent.includes("当前会被静默的问题：1 个"));
		await page.fill("#silence-new input[name=comment]", "机房割接");
		await page.selectOption("#silence-new select[name=every]", "1d");
		await page.click("#silence-new button[type=submit]");
		await page.waitForSelector("#silences tr[data-id]");
		check((await page.textContent("#silences")).includes("机房割接"), await page.textContent("#silences"));
		check((await page.textContent("#silences")).includes("每 1 天 重复"), "the window's recurrence: " + await page.textContent("#silences"));
		check((await page.textContent("#silences")).includes("li.na"), "creator");
		await accessible("silences");
		await page.screenshot({ path: join(OUT, "silences-zh.png") });
		await page.click("#silences button.danger");
		await page.waitForSelector("#silences td.empty");
		const r = await api("GET", "/api/v1/silences?all=1");
		check(r.data.items.length === 1 && r.data.items[0].ends <= Date.now() * 1000, JSON.stringify(r.data));
	});

	await run("hosts: the host up with its probes; its page shows its inventory and charts its metrics", async () => {
		await page.click("nav a[href='/hosts']");
		await page.waitForSelector("#hosts tr[data-id]");
		const row = await page.textContent("#hosts tr[data-id]");
		check(row.includes("testhost") && row.includes("在线") && row.includes("严重 2"), "the host's row: " + row);
		await page.selectOption("form.filters select[name=status]", "silent");
		await page.waitForSelector("#hosts td.empty");
		check(page.url().includes("status=silent"), "the filter in the address");
		await page.selectOption("form.filters select[name=status]", "");
		await page.fill("form.filters input[name=q]", "TESTHOST");
		await page.waitForSelector("#hosts tr[data-id]");
		await page.click("#hosts tr[data-id] a");
		await page.waitForSelector("#inventory");
		check((await page.textContent("#inventory")).includes("x86_64") || (await page.textContent("#inventory")).includes("aarch64"),
			"inventory: " + await page.textContent("#inventory"));
		check((await page.textContent("#probes")).includes("svc-a"), "the probes");
		await page.waitForSelector("#probes tr[data-probe='svc-a'] .strip span.pc-critical");
		await page.waitForFunction(() => document.querySelector("#host-problems").textContent.includes("svc-a on testhost"));
		await page.waitForFunction(() => document.querySelector("#host-logs").textContent.includes("login failed"));
		await page.waitForSelector("figure.chart[data-metric='cpu.user_pct'] canvas", { timeout: 15000 });
		// A log metric ([logmetric "app_lines"]) is charted beside the host's own.
		await page.waitForSelector("figure.chart[data-metric='log.app_lines.rate'] canvas", { timeout: 15000 });
		await accessible("host");
		await page.screenshot({ path: join(OUT, "host-zh.png"), fullPage: true });
		await page.click("text=该主机的问题");
		await page.waitForFunction(() => location.pathname === "/alerts" && location.search === "?host=testhost");
		await page.waitForSelector("#problems tr[data-id]");
	});

	await run("English at a click, kept across a reload", async () => {
		await page.click("nav a[href='/alerts']");
		await page.click("#lang");
		await page.waitForFunction(() => document.querySelector("h1").textContent === "Problems");
		await page.reload();
		await page.waitForSelector("#problems tr[data-id]");
		check(await page.textContent("h1") === "Problems", "after reload");
		check(await page.getAttribute("html", "lang") === "en", "lang");
		check((await page.textContent("#problems")).includes("firing"), "the state in English");
		await page.screenshot({ path: join(OUT, "problems-en.png") });
		await page.click(`#problems tr[data-id="${ids[0]}"] td.summary a`);
		await page.waitForSelector("#timeline li");
		await page.screenshot({ path: join(OUT, "problem-en.png"), fullPage: true });
		await page.click("#lang");
	});

	await run("logs: a search finds the line, a click shows its fields, the export holds the whole query", async () => {
		await page.click("nav a[href='/logs']");
		await page.fill("#log-search input[name=q]", "login failed");
		await page.click("#log-search button[type=submit]");
		await page.waitForFunction(() => document.querySelector("#search-state").textContent.includes("已搜索全部数据：1 条"));
		await page.waitForSelector("#log-counts figure[data-total='1'] canvas");
		// What the index spared is said, as the API counts it for the same question (asked later: the agent
		// has sent more blocks since, which the index rules out too).
		const asked = (await api("GET", "/api/v1/logs?q=login+failed&kind=log&order=desc&limit=200&since=1h")).data.scanned;
		const said = /读取了 (\d+) 个数据块，(\d+) 个由索引排除/.exec(await page.textContent("#search-scanned"));
		check(said && +said[1] === asked.blocks && +said[2] > 0 && +said[2] <= asked.skipped,
			"scanned: " + await page.textContent("#search-scanned") + " / " + JSON.stringify(asked));
		check(await page.evaluate(() => window.vigilPwned === undefined), "a log line's markup ran");
		check((await page.textContent("#lines td.msg")).startsWith("<script>window.vigilPwned=2</script><img src=x"), "the line as text");
		check(page.url().includes("q=login+failed"), "the search in the address: " + page.url());
		await page.click("#lines tr[data-id]");
		check((await page.textContent("#lines tr.fields")).includes("VIGIL_SOURCE"), "its fields");
		const [nd] = await Promise.all([page.waitForEvent("download"), page.click("#export-ndjson")]);
		const lines = readFileSync(await nd.path(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
		check(lines.length === 1 && lines[0].message.includes("login failed"), "NDJSON: " + JSON.stringify(lines));
		const [csv] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
		const text = readFileSync(await csv.path(), "utf8");
		check(text.startsWith("\ufeffid,time,host,source,priority,message\r\n") &&
			text.includes(",testhost,app,,<script>window.vigilPwned=2</script><img src=x onerror=window.vigilPwned=1> login failed\r\n"), "CSV: " + text);
		// The top hosts of the matches; a click narrows the query to one.
		await page.selectOption("select[name=by]", "host");
		await page.waitForSelector("#log-top button.chip[data-value='testhost']");
		check((await page.textContent("#log-top")).includes("testhost · 1"), "top hosts: " + await page.textContent("#log-top"));
		check(page.url().includes("by=host"), "by= in the address: " + page.url());
		await page.click("#log-top button.chip[data-value='testhost']");
		await page.waitForFunction(() => document.querySelector("#log-search input[name=q]").value === 'login failed host:"testhost"');
		await page.waitForFunction(() => document.querySelector("#search-state").textContent.includes("已搜索全部数据：1 条"));
		await page.selectOption("select[name=by]", "");
		await page.fill("#log-search input[name=q]", "login failed");
		await page.selectOption("#log-search select[name=priority]", "3");
		await page.click("#log-search button[type=submit]");
		await page.waitForSelector("#lines td.empty");
		check(page.url().includes("priority=3"), "the priority in the address");
		await page.selectOption("#log-search select[name=priority]", "");
		await accessible("logs");
	});

	await run("logs: the live tail shows a new line within seconds, newest on top", async () => {
		await page.fill("#log-search input[name=q]", "");
		await page.click("#log-search button[type=submit]");
		await page.check("#tail");
		await page.waitForFunction(() => document.querySelector("#search-state").textContent.includes("实时跟踪中"));
		const marker = "tail-marker-" + Date.now();
		appendFileSync(process.env.LOGFILE, marker + "\n");
		await page.waitForFunction((m) => document.querySelector("#lines tr[data-id] td.msg")?.textContent === m, marker, { timeout: 15000 });
		await page.screenshot({ path: join(OUT, "logs-zh.png") });
		await page.uncheck("#tail");
	});

	await run("a viewer looks and cannot act: no selection, no actions", async () => {
		await page.click("#logout");
		await login("wall", "Given-by-admin-1");
		await changePassword("Given-by-admin-1", "Wall-screen-pass-8");
		await page.waitForSelector("#problems tr[data-id]");
		check(await page.isHidden("#bulk"), "the bulk bar shows");
		check(await page.$("#problems input[type=checkbox]") === null, "rows can be selected");
		await page.click(`#problems tr[data-id="${ids[0]}"] td.summary a`);
		await page.waitForSelector("#facts");
		check(await page.$("#ack, #unack, #close") === null, "actions offered");
		check((await page.textContent("main")).includes("您的角色只能查看"), "read-only not said");
		const r = await api("POST", `/api/v1/alerts/${ids[0]}/ack`, {});
		check(r.status === 403, "the API let a viewer ack: " + r.status);
		check(!(await page.$("nav a[href='/logs']")), "a viewer is offered the logs");
	});

	await run("five wrong passwords lock the user out, said in Chinese; the lockout is an alert", async () => {
		await page.click("#logout");
		for (let i = 0; i < 5; i++) {
			await login("wall", "Not-the-password-" + i);
			await page.waitForSelector("#flash .error");
		}
		check((await page.textContent("#flash")).includes("登录失败次数过多，账号已锁定至"), await page.textContent("#flash"));
		await login("wall", "Wall-screen-pass-8");
		await page.waitForSelector("#flash .error");
		check((await page.textContent("#flash")).includes("已锁定"), "the right password while locked: " + await page.textContent("#flash"));
		await login("li.na", "Li-na-own-pass-7");
		await page.waitForFunction(() => [...document.querySelectorAll("#problems td.summary a")]
			.some((a) => a.textContent.startsWith("console user wall locked out: 1 lockout in 3600 s")), null, { timeout: 15000 });
	});

	await run("the security administrator enrols TOTP, lands on the logs, and finds li.na's actions in the audit log", async () => {
		await page.click("#logout");
		await login("sec.wang", "Given-by-admin-1", "/");
		await changePassword("Given-by-admin-1", "Sec-wang-own-pass-9");
		await enrolTotp("Sec-wang-own-pass-9");
		await page.click("#recovery button");
		await page.waitForSelector("#log-search");
		check(page.url().endsWith("/logs"), "landed on " + page.url());
		check(!(await page.$("nav a[href='/alerts']")), "the security role is offered the problems");
		await page.click("nav a[href='/audit']");
		await page.fill("#audit-search input[name=user]", "li.na");
		await page.fill("#audit-search input[name=action]", "alert.action");
		await page.click("#audit-search button[type=submit]");
		await page.waitForSelector("#audit tr[data-id]");
		const rows = await page.$$eval("#audit tr[data-id]", (l) => l.map((r) => r.textContent));
		check(rows.length >= 5 && rows.every((r) => r.includes("li.na") && r.includes("alert.action")), "rows: " + rows.join(" | "));
		check(rows.some((r) => r.includes(`alert ${ids[0]}: comment, note '查看中，已联系机房'`)), "the comment's row");
		check(page.url().includes("user=li.na"), "the search in the address");
		await page.fill("#audit-search input[name=object]", `alert ${ids[0]}: comment`);
		await page.click("#audit-search button[type=submit]");
		await page.waitForFunction(() => document.querySelectorAll("#audit tr[data-id]").length === 1);
		check(!(await page.$("#audit td.collector")), "a collector column on one collector's own log");
		await accessible("audit");
		await page.screenshot({ path: join(OUT, "audit-zh.png") });
	});

	await run("an auditor sees the audit log and nothing else", async () => {
		await page.click("#logout");
		await login("audit.zhao", "Given-by-admin-1", "/");
		await changePassword("Given-by-admin-1", "Audit-zhao-own-pass-5");
		await enrolTotp("Audit-zhao-own-pass-5");
		await page.click("#recovery button");
		await page.waitForSelector("#audit-search");
		const nav = await page.$$eval("header nav a", (l) => l.map((a) => a.getAttribute("href")));
		check(nav.join() === "/audit", "offered: " + nav);
		await page.goto(URL + "/alerts");
		await page.waitForSelector("main p");
		check((await page.textContent("main")).includes("您的角色（审计管理员）不能使用这个页面"), await page.textContent("main"));
		for (const path of ["/api/v1/alerts", "/api/v1/logs", "/api/v1/hosts", "/api/v1/users"])
			check((await api("GET", path)).status === 403, "the API answered an auditor " + path);
		check((await api("GET", "/api/v1/audit?action=session.create")).status === 200, "the audit log");
	});

	await run("a link from a notification opens the problem after the login; a recovery code stands for the code", async () => {
		await page.click("#logout");
		await page.goto(`${URL}/alerts/${ids[0]}`);
		await page.fill("#login input[name=user]", "root");
		await page.fill("#login input[name=password]", process.env.PASSWORD);
		await page.click("#login button[type=submit]");
		await page.waitForSelector("#login input[name=totp]:visible");
		check((await page.textContent("#flash")).includes("双因素"), await page.textContent("#flash"));
		await page.click("#login button.link");
		await page.fill("#login input[name=recovery]", recovery[0]);
		await page.click("#login button[type=submit]");
		await page.waitForSelector("#facts");
		check(page.url().endsWith(`/alerts/${ids[0]}`), page.url());
	});

	await run("rules, targets and routes: the built-in lockout rule among them; a test message to a target is delivered", async () => {
		await page.click("nav a[href='/rules']");
		await page.waitForSelector("#rules tr[data-name='console-lockout']");
		check((await page.textContent("#rules")).includes("svc-down") && (await page.textContent("#rules")).includes("agent-id-conflict"), "rules");
		await page.waitForSelector("#targets tr[data-name='hook']");
		// The routes come by their own request, after the targets'.
		await page.waitForFunction(() => document.querySelector("#routes").textContent.includes("team=ops"));
		const before = (await api("GET", "/api/v1/notify/hook")).data.sent;
		await page.click("#targets tr[data-name='hook'] button");
		await page.waitForSelector("#flash .info");
		check((await page.textContent("#flash")).includes("已向 hook 发送测试消息"), await page.textContent("#flash"));
		await page.waitForFunction(async (n) => (await (await fetch("/api/v1/notify/hook")).json()).sent > n, before, { timeout: 15000 });
		await accessible("rules");
		await page.screenshot({ path: join(OUT, "rules-zh.png"), fullPage: true });
	});

	await run("business performance: each log metric over the fleet; an admin defines one, the API's reason shown, changes it, deletes it", async () => {
		await page.click("nav a[href='/perf']");
		await page.waitForSelector("section.logmetric[data-name='app_lines'] figure.chart[data-metric='log.app_lines.rate'] canvas",
			{ timeout: 15000 });
		check(!(await page.$("section.logmetric[data-name='app_lines'] button")), "the file's log metric has actions");
		await page.click("#lm-new");
		await page.fill("input[name=lm-name]", "app_errors");
		await page.fill("input[name=lm-query]", "source:app (");
		await page.click("#lm-save");
		await page.waitForSelector("#lm-error:not([hidden])");
		check((await page.textContent("#lm-error")).includes("query: "), await page.textContent("#lm-error"));
		await page.fill("input[name=lm-query]", "source:app error");
		await page.click("#lm-save");
		await page.waitForSelector("section.logmetric[data-name='app_errors']");
		check((await page.textContent("#flash")).includes("已保存日志指标 app_errors"), await page.textContent("#flash"));
		const made = await api("GET", "/api/v1/logmetrics/app_errors");
		check(made.status === 200 && made.data.defined_in === "api" && made.data.query === "source:app error", JSON.stringify(made));
		await page.click("section.logmetric[data-name='app_errors'] button[data-action=edit]");
		check(await page.getAttribute("input[name=lm-name]", "readonly") !== null, "the name can be changed");
		await page.fill("input[name=lm-query]", "source:app");
		await page.click("#lm-save");
		await page.waitForFunction(async () => (await (await fetch("/api/v1/logmetrics/app_errors")).json()).query === "source:app");
		await accessible("perf");
		await page.screenshot({ path: join(OUT, "perf-zh.png"), fullPage: true });
		await page.click("section.logmetric[data-name='app_errors'] button[data-action=delete]");
		check(await page.$("section.logmetric[data-name='app_errors']"), "deleted at the first click");
		await page.click("section.logmetric[data-name='app_errors'] button[data-action=delete]");
		await page.waitForSelector("section.logmetric[data-name='app_errors']", { state: "detached" });
		check(!(await api("GET", "/api/v1/logmetrics")).data.items.some((m) => m.name === "app_errors"), "still defined");
	});

	await run("dial tests: made in the editor, which says where a definition is wrong, by line or by JSON path", async () => {
		await page.click("nav a[href='/dialtests']");
		await page.waitForSelector("#dialtests td.empty");
		await page.click("#new-dialtest");
		const good = { name: "api-metrics", interval: "1h", timeout: "5s",
			steps: [{ name: "anonymous", url: URL + "/metrics", tls_ca: process.env.CA_FILE, assert: [{ type: "status", in: [401] }] },
				{ name: "page", url: URL + "/", tls_ca: process.env.CA_FILE, assert: [{ type: "status", in: [200] }] }] };
		await page.fill("#editor textarea", JSON.stringify(good, null, 2).replace('"interval"', '"interval",'));
		await page.click("#save");
		await page.waitForSelector("#editor-error:not([hidden])");
		check(/JSON 格式错误：第 3 行第 \d+ 列/.test(await page.textContent("#editor-error")), await page.textContent("#editor-error"));
		const bad = structuredClone(good);
		bad.steps[0].assert = [{ type: "json", path: "$.x", op: "~", value: 1 }];
		await page.fill("#editor textarea", JSON.stringify(bad, null, 2));
		await page.click("#save");
		await page.waitForFunction(() => document.querySelector("#editor-error").textContent.includes("steps[0].assert[0].op"));
		await page.fill("#editor textarea", JSON.stringify(good, null, 2));
		await page.click("#save");
		await page.waitForSelector("#run");
		check(/\/dialtests\/\d+$/.test(page.url()), "after saving: " + page.url());
	});

	await run("a dial test run now: its result, a waterfall of both steps' phases, and the availability", async () => {
		await page.click("#run");
		await page.waitForSelector("#runs tr[data-scheduled]", { timeout: 20000 });
		await page.waitForSelector("#waterfall .wf-row[data-step='page']");
		const rows = await page.$$eval("#waterfall .wf-row", (l) => l.map((r) => r.dataset.step));
		check(rows.join() === "anonymous,page", "steps: " + rows);
		check(await page.$$eval("#waterfall .wf-bar span", (l) => l.filter((s) => parseFloat(s.style.width) > 0).length) >= 2, "no phase drawn");
		check((await page.textContent("#runs")).includes("成功"), "the run's outcome: " + await page.textContent("#runs"));
		await page.waitForSelector("#trend figure canvas");
		await accessible("dialtest");
		await page.screenshot({ path: join(OUT, "dialtest-zh.png"), fullPage: true });
		await page.click("a.back");
		await page.waitForFunction(() => document.querySelector("#dialtests").textContent.includes("100%（1/1）") &&
			document.querySelector("#dialtests").textContent.includes("成功 20"), null, { timeout: 10000 });
	});

	await run("a wall screen: a viewer token made on the users page, its link opens the wall without a login", async () => {
		await page.click("nav a[href='/users']");
		await page.fill("#token-new input[name=token-name]", "wall-tv");
		await page.click("#token-new button[type=submit]");
		await page.waitForSelector("#wall-link");
		const token = (await page.textContent("#token-value")).trim();
		const link = (await page.textContent("#wall-link")).trim();
		check(link === `${URL}/wall#token=${token}`, "the link: " + link);
		const screen = await context.newPage();
		await screen.goto(link);
		// li.na made one of the two disaster.
		await screen.waitForFunction(() => document.querySelector("#wall-counts [data-severity=critical] b")?.textContent === "1" &&
			document.querySelector("#wall-counts [data-severity=disaster] b")?.textContent === "1", null, { timeout: 10000 });
		check(screen.url() === URL + "/wall", "the token left in the address: " + screen.url());
		check((await screen.textContent("#wall-hosts")).includes("1 台在线"), await screen.textContent("#wall-hosts"));
		await screen.waitForFunction(() => document.querySelector("#wall-dials").textContent.includes("api-metrics 100%"));
		await screen.waitForFunction(() => /上报速率：\d/.test(document.querySelector("#wall-rate").textContent), null, { timeout: 15000 });
		await screen.screenshot({ path: join(OUT, "wall-zh.png") });
		await screen.reload();
		await screen.waitForSelector("#wall-list li");
		check(!(await screen.textContent("main")).includes("还没有令牌"), "the token is not kept across a reload");
		const r = await api("GET", "/api/v1/audit?action=alerts.read");
		check(!JSON.stringify(r).includes(token), "the token reached the audit log");
		await page.click("#tokens tr[data-name='wall-tv'] button");
		await screen.waitForFunction(() => document.querySelector("#wall-updated").textContent.includes("令牌无效或已吊销"), null, { timeout: 10000 });
		await screen.close();
	});

	await run("enrollment: a token made on the 主机接入 page, shown once with the host's command, listed, revoked; the agent's certificate listed", async () => {
		await page.click("nav a[href='/enroll']");
		await page.waitForSelector("#enroll-certs tr[data-serial]");
		check((await page.textContent("#enroll-certs")).includes("testhost"), "the enrolled agent is not listed: " + await page.textContent("#enroll-certs"));
		const ca = (await page.textContent("#enroll-ca")).trim();
		check(/^[0-9a-f]{64}$/.test(ca), "the CA's fingerprint: " + ca);
		await page.fill("#enroll-new input[name=labels]", "zone=gov-a role=web");
		await page.selectOption("#enroll-new select[name=expires]", "7d");
		await page.fill("#enroll-new input[name=uses]", "50");
		await page.click("#enroll-new button[type=submit]");
		await page.waitForSelector("#enroll-token-value");
		const token = (await page.textContent("#enroll-token-value")).trim();
		check(token.startsWith("vgl1.") && token.endsWith("." + ca), "the token: " + token);
		check((await page.textContent("#enroll-command")).includes(`--enroll ${URL} --token ${token}`), await page.textContent("#enroll-command"));
		const id = token.split(".")[1];
		await page.waitForSelector(`#enroll-tokens tr[data-id='${id}']`);
		const row = await page.textContent(`#enroll-tokens tr[data-id='${id}']`);
		check(row.includes("zone=gov-a role=web") && row.includes("0 / 50") && row.includes("有效"), "the token's row: " + row);
		check(!row.includes(token.split(".")[2]), "the secret is listed");
		await page.screenshot({ path: join(OUT, "enroll-zh.png"), fullPage: true });
		await accessible("enroll");
		await page.click(`#enroll-tokens tr[data-id='${id}'] button`);
		await page.waitForFunction((id) => document.querySelector(`#enroll-tokens tr[data-id='${id}']`)?.textContent.includes("已吊销"), id);
		const r = await api("GET", "/api/v1/audit?action=enroll_token.create");
		check(!JSON.stringify(r).includes(token.split(".")[2]), "the token's secret reached the audit log");
	});

	await run("every page in English (screenshots)", async () => {
		await page.click("#lang");
		for (const [path, sel, name] of [["/alerts", "#problems tr[data-id]", "problems-en"], [`/alerts/${ids[0]}`, "#timeline li", "problem-en"],
			["/silences", "#silence-new", "silences-en"], ["/hosts", "#hosts tr[data-id]", "hosts-en"],
			["/dialtests", "#dialtests tr[data-id]", "dialtests-en"], ["/rules", "#rules tr", "rules-en"], ["/perf", "section.logmetric", "perf-en"], ["/users", "#users tr", "users-en"],
			["/enroll", "#enroll-tokens tr[data-id]", "enroll-en"], ["/logs", "#lines tr", "logs-en"]]) {
			await page.goto(URL + path);
			await page.waitForSelector(sel);
			check(await page.getAttribute("html", "lang") === "en", path + " not in English");
			await page.screenshot({ path: join(OUT, name + ".png"), fullPage: true });
		}
		await page.click("#lang");
		// The log page, drawn again in Chinese, asks for its lines and counts (under ASan, for seconds): the
		// next step's logout must come after, or an answer 401 shows the login before its click.
		await page.waitForFunction(() => document.querySelector("#search-state")?.textContent.includes("已搜索全部数据") &&
			document.querySelector("#log-counts figure"), null, { timeout: 30000 });
	});

	await run("the session's end: the page goes back to the login", async () => {
		const r = await api("DELETE", "/api/v1/session");
		check(r.status === 200, "logout " + r.status);
		await page.click("nav a[href='/silences']");
		await page.waitForSelector("#login", { timeout: 10000 });
	});
}

await lib.browse(async (p, c) => {
	page = p;
	context = c;
	await flows();
});

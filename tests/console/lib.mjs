// SPDX-License-Identifier: Apache-2.0
// What the console's browser tests share (flows.mjs, shared.mjs): Debian's
// Chromium driven by playwright-core, steps that stop at the first failure
// with its name and a screenshot, the login, the second factor's
// enrolment, the API as the page's own client, an accessibility check.
//
// Environment: URL, MODULES (a node_modules with playwright-core and
// axe-core), OUT (where screenshots go), CHROMIUM (default /usr/bin/chromium).
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(join(process.env.MODULES, "/"));
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const URL = process.env.URL, OUT = process.env.OUT;
const steps = [];
let step = "start";

export function check(cond, what) {
	if (!cond)
		throw new Error(what);
}

function base32(s) {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	let bits = "";
	for (const c of s.replace(/=+$/, ""))
		bits += abc.indexOf(c).toString(2).padStart(5, "0");
	return Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
}

export function totp(secret, at = Date.now()) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
	const mac = createHmac("sha1", base32(secret)).update(msg).digest();
	const o = mac[19] & 15;
	return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, "0");
}

// The API as the test's own client (a bearer token would do too; a session proves the cookie path).
export async function api(page, method, path, body) {
	return page.evaluate(async ([method, path, body]) => {
		const who = await (await fetch("/api/v1/session")).json();
		const res = await fetch(path, { method, headers: { "Content-Type": "application/json", "X-CSRF-Token": who.csrf || "" },
			body: body ? JSON.stringify(body) : undefined });
		return { status: res.status, data: await res.json() };
	}, [method, path, body]);
}

export async function run(name, fn) {
	step = name;
	const t0 = Date.now();
	await fn();
	steps.push(name);
	console.log(`# ok: ${name} (${Date.now() - t0} ms)`);
}

// No serious or critical axe-core finding on the page as it is.
export async function accessible(page, what) {
	await page.evaluate(axeSource);
	const r = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
		.filter((v) => v.impact === "serious" || v.impact === "critical")
		.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`));
	check(r.length === 0, `${what}: accessibility: ${r.join("; ")}`);
}

export async function login(page, user, password, path = "/alerts") {
	await page.goto(URL + path);
	await page.fill("#login input[name=user]", user);
	await page.fill("#login input[name=password]", password);
	await page.click("#login button[type=submit]");
}

// The enrolment a role with a second factor goes through at its first login; the secret.
export async function enrolTotp(page, password) {
	await page.waitForSelector("#totp-begin");
	await page.fill("#totp-begin input[name=password]", password);
	await page.click("#totp-begin button");
	await page.waitForSelector("#totp-qr");
	const secret = (await page.textContent("#totp-secret")).trim();
	await page.fill("#totp-confirm input[name=code]", totp(secret));
	await page.click("#totp-confirm button[type=submit]");
	await page.waitForSelector("#recovery li");
	return secret;
}

export async function changePassword(page, old, fresh) {
	await page.waitForSelector("#password");
	await page.fill("#password input[name=old]", old);
	await page.fill("#password input[name=new]", fresh);
	await page.fill("#password input[name=again]", fresh);
	await page.click("#password button");
}

// flows(page, context) in a fresh headless browser; the page's policy and its errors checked after; "# N steps passed".
export async function browse(flows) {
	const profile = mkdtempSync(join(tmpdir(), "vigil-chromium-"));
	const violations = [], errors = [];
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync"],
		// The collector serves HTTPS with a certificate of its own CA (enrollment), which this profile does not hold.
		ignoreHTTPSErrors: true,
		// Far from Beijing, so that a time shown in the browser's own zone is seen.
		timezoneId: "America/New_York", locale: "en-US", viewport: { width: 1360, height: 860 },
	});
	const page = context.pages()[0] || await context.newPage();
	page.on("console", (m) => {
		if (m.type() === "error" && !/status of 40[0139] /.test(m.text()))
			errors.push(m.text());
	});
	page.on("pageerror", (e) => errors.push(String(e)));
	await page.exposeFunction("vigilViolation", (v) => violations.push(v));
	await page.addInitScript(() => document.addEventListener("securitypolicyviolation",
		(e) => window.vigilViolation(`${e.violatedDirective} ${e.blockedURI}`)));
	page.on("dialog", (d) => d.accept());
	try {
		await flows(page, context);
		check(violations.length === 0, "the page broke its content security policy: " + violations.join("; "));
		check(errors.length === 0, "errors in the page: " + errors.join("; "));
	} catch (e) {
		console.log(`FAIL: ${step}: ${e.message}`);
		for (const x of [...errors, ...violations])
			console.log("# in the page: " + x);
		await page.screenshot({ path: join(OUT, "failure.png"), fullPage: true }).catch(() => {});
		process.exitCode = 1;
	} finally {
		await context.close();
		rmSync(profile, { recursive: true, force: true });
	}
	console.log(`# ${steps.length} steps passed`);
}

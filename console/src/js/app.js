// SPDX-License-Identifier: Apache-2.0
// The console's frame: who is logged in, the header, and which page the
// address shows. Pages are modules with render(main, ctx), which may give
// back a function that stops what the page left running (its polling).
import { api, setCsrf, whenSessionEnds } from "./api.js";
import { fill, h } from "./dom.js";
import { lang, setLang, t } from "./i18n.js";
import { setZone, zone, ZONES } from "./time.js";
import * as audit from "./pages/audit.js";
import { ROLES } from "./pages/common.js";
import * as control from "./pages/control.js";
import * as dialtests from "./pages/dialtests.js";
import * as enroll from "./pages/enroll.js";
import * as hosts from "./pages/hosts.js";
import * as login from "./pages/login.js";
import * as logs from "./pages/logs.js";
import * as perf from "./pages/perf.js";
import * as problem from "./pages/problem.js";
import * as problems from "./pages/problems.js";
import * as rules from "./pages/rules.js";
import * as silences from "./pages/silences.js";
import * as users from "./pages/users.js";
import * as wall from "./pages/wall.js";

// Who may see which page: the API's roles, so that a page is offered only to those it answers.
const { state: STATE, logs: LOGS, audit: AUDIT } = ROLES;
const routes = [
	{ path: /^\/alerts$/, page: problems, nav: "problems", roles: STATE },
	{ path: /^\/alerts\/(\d+)$/, page: problem, nav: "problems", roles: STATE },
	{ path: /^\/silences$/, page: silences, nav: "silences", roles: STATE },
	{ path: /^\/hosts$/, page: hosts, nav: "hosts", roles: STATE },
	{ path: /^\/hosts\/([^/]+)$/, page: hosts, nav: "hosts", roles: STATE },
	{ path: /^\/dialtests$/, page: dialtests, nav: "dialtests", roles: STATE },
	{ path: /^\/dialtests\/(new)$/, page: dialtests, nav: "dialtests", roles: ["admin"] },
	{ path: /^\/dialtests\/(\d+)$/, page: dialtests, nav: "dialtests", roles: STATE },
	{ path: /^\/perf$/, page: perf, nav: "perf", roles: STATE },
	{ path: /^\/logs$/, page: logs, nav: "logs", roles: LOGS },
	{ path: /^\/audit$/, page: audit, nav: "audit", roles: AUDIT },
	{ path: /^\/rules$/, page: rules, nav: "rules", roles: STATE },
	{ path: /^\/users$/, page: users, nav: "users", roles: ["admin"] },
	{ path: /^\/enroll$/, page: enroll, nav: "enroll", roles: ["admin"] },
	{ path: /^\/control$/, page: control, nav: "control", roles: ["operator", "admin"] },
];
const NAV = [["problems", "/alerts"], ["silences", "/silences"], ["hosts", "/hosts"], ["dialtests", "/dialtests"], ["perf", "/perf"], ["rules", "/rules"], ["logs", "/logs"], ["audit", "/audit"], ["users", "/users"], ["enroll", "/enroll"], ["control", "/control"]];

const allowed = (nav) => routes.some((r) => r.nav === nav && r.roles.includes(session.role));

const root = document.getElementById("app");
let session = null;
let stop = null;

function navigate(to, replace) {
	if (replace)
		history.replaceState(null, "", to);
	else
		history.pushState(null, "", to);
	show();
}

// The flash line under the header: what just happened, or went wrong.
function flash(text, kind) {
	const el = document.getElementById("flash");
	if (el)
		fill(el, text ? h("div." + (kind || "info"), { role: kind === "error" ? "alert" : "status" }, text) : null);
}

function header(active) {
	const link = ([key, href]) => h("a" + (active === key ? ".active" : ""),
		{ href, data: { link: "" }, "aria-current": active === key ? "page" : "false" }, t("nav." + key));
	return h("header.top",
		h("span.brand", "vigil"),
		h("nav", NAV.filter(([key]) => allowed(key)).map(link)),
		h("span.spacer"),
		h("span.who", { id: "who" }, `${session.user}（${t("role." + session.role)}）`),
		h("select.zone", { id: "zone", ariaLabel: t("nav.zone"), on: { change: (ev) => { setZone(ev.target.value); show(); } } },
			ZONES.map((z) => h("option", { value: z, selected: z === zone() }, t("tz." + z) === "tz." + z ? z : t("tz." + z)))),
		h("button.link", { type: "button", id: "lang", on: { click: () => { setLang(lang() === "en" ? "zh-CN" : "en"); show(); } } },
			t("nav.lang")),
		h("button.link", { type: "button", id: "logout", on: { click: logout } }, t("nav.logout")));
}

async function logout() {
	try {
		await api("DELETE", "/api/v1/session");
	} catch (e) {
		// The session may be over already; the login page follows either way.
	}
	session = null;
	show();
}

function signedIn(who) {
	session = who;
	setCsrf(who.csrf);
	show();
}

function show() {
	if (stop)
		stop();
	stop = null;
	document.documentElement.lang = lang();
	document.title = t("app.title");
	if (!session || session.must_change_password || session.must_enrol_totp) {
		fill(root, h("main.narrow", { id: "main" }, h("div", { id: "flash" })));
		login.render(document.getElementById("main"), { session, signedIn, flash });
		return;
	}
	const home = NAV.find(([key]) => allowed(key));
	if (location.pathname === "/" && home)
		history.replaceState(null, "", home[1]);
	const path = location.pathname;
	const route = routes.find((r) => r.path.test(path) && r.roles.includes(session.role)) ||
		routes.find((r) => r.path.test(path));
	const main = h("main", { id: "main" });
	fill(root, header(route?.nav), h("div.flash", { id: "flash" }), main);
	if (!route || !route.roles.includes(session.role)) {
		fill(main, h("p", route ? t("page.forbidden", { role: t("role." + session.role) }) : t("page.not_found")),
			home ? h("a", { href: home[1], data: { link: "" } }, t("nav." + home[0])) : null);
		return;
	}
	const params = route.path.exec(path).slice(1);
	stop = route.page.render(main, { session, params, query: new URLSearchParams(location.search), navigate, flash }) || null;
}

// The wall screen reads with its own token and has no login, header or router.
if (location.pathname === "/wall") {
	document.documentElement.lang = lang();
	document.title = t("wall.title");
	wall.render(root);
} else {
	start();
}

function start() {
	document.addEventListener("click", (ev) => {
		const a = ev.target.closest("a[data-link]");
		if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0)
			return;
		ev.preventDefault();
		navigate(a.getAttribute("href"));
	});
	window.addEventListener("popstate", show);
	whenSessionEnds(() => {
		session = null;
		show();
		flash(t("err.session"), "error");
	});

	api("GET", "/api/v1/session").then(signedIn, () => {
		session = null;
		show();
	});
}

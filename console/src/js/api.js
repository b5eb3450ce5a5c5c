// SPDX-License-Identifier: Apache-2.0
// The collector's API from the console: the session's cookie goes by
// itself (HttpOnly: this code never sees it); every change carries the
// session's CSRF token, which only a page of this origin can read.

export class ApiError extends Error {
	constructor(status, error, reason) {
		super(reason || error);
		this.status = status;
		this.error = error;
	}
}

let csrf = "";
let bearer = "";
let onSessionEnd = () => {};

export function setCsrf(token) {
	csrf = token || "";
}

// A token instead of the session (the wall screen's viewer token): sent as Authorization, never in a URL.
export function setBearer(token) {
	bearer = token || "";
}

// fn() when an answer says the session is gone (401): the app shows the login.
export function whenSessionEnds(fn) {
	onSessionEnd = fn;
}

// The answer's JSON, or an ApiError with the API's error and reason.
export async function api(method, path, body) {
	const headers = { Accept: "application/json" };
	if (bearer)
		headers.Authorization = "Bearer " + bearer;
	if (method !== "GET") {
		headers["X-CSRF-Token"] = csrf;
		headers["Content-Type"] = "application/json";
	}
	let res;
	try {
		res = await fetch(path, { method, headers, credentials: "same-origin", cache: "no-store",
			body: body === undefined ? undefined : JSON.stringify(body) });
	} catch (e) {
		throw new ApiError(0, "network", String(e));
	}
	let data = null;
	try {
		data = await res.json();
	} catch (e) {
		data = null;
	}
	if (!res.ok) {
		const err = new ApiError(res.status, data?.error || "http_" + res.status, data?.reason || res.statusText);
		if (res.status === 401 && path !== "/api/v1/session")
			onSessionEnd(err);
		throw err;
	}
	return data;
}

// "/api/v1/alerts?state=firing" from a path and the parameters that are set.
export function withQuery(path, params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null && v !== "")
			q.set(k, v);
	const s = q.toString();
	return s ? path + "?" + s : path;
}

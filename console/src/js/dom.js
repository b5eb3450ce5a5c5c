// SPDX-License-Identifier: Apache-2.0
// Building the page: elements from data, never markup. Everything a host,
// a log line or a user sent is a text node; no string ever becomes markup.

const PROPS = new Set(["value", "checked", "disabled", "selected", "type", "name", "placeholder", "id",
	"htmlFor", "title", "href", "autocomplete", "required", "min", "max", "rows", "colSpan", "inputMode",
	"maxLength", "hidden", "tabIndex", "ariaLabel", "role", "lang"]);

// h("tag.class1.class2", {props, on: {event: fn}, data: {k: v}}, ...children): an element.
// Children are nodes, strings (made text), arrays of them, or null/false (skipped).
export function h(spec, attrs, ...children) {
	const [tag, ...classes] = spec.split(".");
	const el = document.createElement(tag || "div");
	if (classes.length)
		el.className = classes.join(" ");
	if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
		children.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs || {})) {
		if (k === "on")
			for (const [ev, fn] of Object.entries(v))
				el.addEventListener(ev, fn);
		else if (k === "data")
			for (const [dk, dv] of Object.entries(v))
				el.dataset[dk] = dv;
		else if (k === "class")
			el.className += (el.className ? " " : "") + v;
		else if (k.startsWith("aria-") || k === "for" || k === "scope")
			el.setAttribute(k, v);
		else if (PROPS.has(k))
			el[k] = v;
		else
			throw new Error("dom: unknown attribute " + k);
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else
			el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

// Replaces what el holds with children.
export function fill(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

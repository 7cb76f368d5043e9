// Small DOM helpers shared by every page: elements, money, time, tables, errors.

export function h(tag, attrs, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked" && "checked" in el) el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

const EXPONENT_CACHE = new Map();

// Digits after the decimal point for a currency (JPY 0, KWD 3, EUR 2), as Intl knows them.
export function exponent(currency) {
  if (!EXPONENT_CACHE.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
        .maximumFractionDigits;
    } catch {
      /* unknown code: two decimals */
    }
    EXPONENT_CACHE.set(currency, digits);
  }
  return EXPONENT_CACHE.get(currency);
}

export function toMajor(minor, currency) {
  return Number(minor) / 10 ** exponent(currency);
}

export function toMinor(major, currency) {
  return Math.round(Number(major) * 10 ** exponent(currency));
}

// "1,234.50 SGD": major units, the currency's own number of decimals, the code after.
export function money(minor, currency) {
  if (minor === undefined || minor === null || !currency) return "—";
  const digits = exponent(currency);
  const text = toMajor(minor, currency).toLocaleString("en", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${text} ${currency}`;
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC" }) + " UTC";
}

export function ago(iso, now = Date.now()) {
  if (!iso) return "—";
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  const text =
    a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function badge(text, kind = "info") {
  return h("span", { class: `badge ${kind}` }, text);
}

export function spinner(label = "Loading…") {
  return h("div", { class: "spinner", role: "status", "data-testid": "spinner" }, h("span", { class: "dot" }), label);
}

// An ApiError (or any error) as a readable box: what went wrong, its code and field.
export function errorBox(err) {
  const e = err || {};
  return h(
    "div",
    { class: "error", role: "alert", "data-testid": "error", "data-code": e.code || "error" },
    h("strong", {}, e.message || String(err)),
    e.code || e.param
      ? h("div", { class: "muted small" }, [e.code ? `code ${e.code}` : null, e.param ? ` · field ${e.param}` : null])
      : null,
  );
}

// columns: [{key, label, render(row), class}]; rows: objects.
export function table(columns, rows, opts = {}) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.class }, c.label))));
  const body = h(
    "tbody",
    {},
    rows.map((row) =>
      h(
        "tr",
        { "data-testid": opts.rowTestid, "data-id": opts.rowId ? opts.rowId(row) : undefined, onclick: opts.onRow ? () => opts.onRow(row) : undefined, class: opts.onRow ? "clickable" : undefined },
        columns.map((c) => h("td", { class: c.class }, c.render ? c.render(row) : row[c.key] ?? "—")),
      ),
    ),
  );
  const t = h("table", { class: "table", "data-testid": opts.testid }, head, body);
  if (!rows.length && opts.empty) return h("div", {}, t, h("p", { class: "muted empty" }, opts.empty));
  return t;
}

export function field(label, input, opts = {}) {
  return h(
    "label",
    { class: ["field", opts.error ? "invalid" : null], "data-param": opts.param },
    h("span", { class: "label" }, label),
    input,
    opts.hint ? h("span", { class: "hint muted" }, opts.hint) : null,
    h("span", { class: "field-error", "data-testid": opts.param ? `error-${opts.param}` : undefined }, opts.error || ""),
  );
}

const loadedCss = new Set();

// Add a page's own stylesheet once (static/<path>).
export function useCss(path) {
  if (loadedCss.has(path)) return;
  loadedCss.add(path);
  document.head.append(h("link", { rel: "stylesheet", href: `/console/static/${path}` }));
}

// A panel that loads its own data: a failing panel shows its error, the page stays.
export async function panel(node, load) {
  clear(node).append(spinner());
  try {
    const content = await load();
    clear(node);
    if (content) node.append(content);
  } catch (err) {
    clear(node).append(errorBox(err));
  }
}

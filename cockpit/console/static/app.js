// The console shell: sign in with a key, a menu that follows the key's role, hash routing.
import { api, ApiError, session } from "./api.js";
import { h, clear, errorBox, spinner } from "./ui.js";

const PAGE_NAMES = ["dashboard", "chat", "approvals", "agents", "audit"];
const ROLE_TEXT = {
  admin: "Tenant admin",
  merchant: "Merchant",
  partner: "Partner",
  shopper: "Shopping agent",
};

const state = { me: null, pages: new Map(), current: null };
const main = () => document.getElementById("main");

export function toast(message, kind = "info") {
  const box = h("div", { class: `toast ${kind}`, role: "status", "data-testid": "toast" }, message);
  document.getElementById("toasts").append(box);
  setTimeout(() => box.remove(), kind === "bad" ? 8000 : 4000);
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function loadPages() {
  const loaded = await Promise.allSettled(PAGE_NAMES.map((n) => import(`./pages/${n}.js`)));
  loaded.forEach((result, i) => {
    if (result.status === "fulfilled" && result.value.page) state.pages.set(PAGE_NAMES[i], result.value.page);
    else console.warn(`console page ${PAGE_NAMES[i]} did not load`, result.reason);
  });
}

function allowed(page, me) {
  if (!page.roles.includes(me.role) && me.role !== "admin") return false;
  return page.allowed ? page.allowed(me) : true;
}

function visiblePages() {
  return [...state.pages.entries()].filter(([, p]) => allowed(p, state.me));
}

function renderChrome() {
  const nav = clear(document.getElementById("nav"));
  const who = clear(document.getElementById("who"));
  if (!state.me) return;
  for (const [name, page] of visiblePages()) {
    nav.append(h("a", { href: `#/${name}`, "data-testid": `nav-${name}`, "data-nav": name }, page.title));
  }
  const me = state.me;
  who.append(
    h("span", { class: "role", "data-testid": "who-role" }, ROLE_TEXT[me.role] || me.role),
    h("span", { class: "muted" }, me.merchant_id ? ` · ${me.merchant_id}` : ` · tenant ${me.tenant_id}`),
    h("button", { class: "btn small", "data-testid": "signout", onclick: signOut }, "Sign out"),
  );
}

function markActive(name) {
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.nav === name);
}

function signInView(error) {
  const input = h("input", {
    type: "password",
    name: "key",
    autocomplete: "off",
    placeholder: "ck_…",
    required: true,
    "data-testid": "signin-key",
    "aria-label": "API key",
  });
  const form = h(
    "form",
    { class: "card signin", "data-testid": "signin", onsubmit: (e) => (e.preventDefault(), signIn(input.value.trim())) },
    h("h1", {}, "Sign in to Cockpit"),
    h("p", { class: "muted" }, "Paste an API key. What you see follows the key's role: merchants see their business, partners build agents, admins see everything in their tenant. The key stays in this tab only."),
    input,
    h("button", { class: "btn primary", type: "submit", "data-testid": "signin-submit" }, "Sign in"),
    error ? errorBox(error) : null,
    h("p", { class: "muted small" }, "On a demo server the keys are in .cockpit/demo.key (tenant admin) and .cockpit/admin.key (platform admin)."),
  );
  clear(main()).append(form);
  input.focus();
}

async function whoAmI(key) {
  return api.get("/v1/me", undefined, { key });
}

async function signIn(key) {
  if (!key) return signInView(new ApiError(401, { message: "Enter an API key.", code: "missing_api_key" }));
  clear(main()).append(spinner("Checking the key…"));
  try {
    state.me = await whoAmI(key);
  } catch (err) {
    if (err.status === 401)
      err.message = `That key was refused (${err.code === "revoked_api_key" ? "revoked" : "unknown or invalid"}).`;
    return signInView(err);
  }
  session.set(key);
  renderChrome();
  if (!location.hash || location.hash === "#/" || location.hash === "#/signin") navigate(defaultHash());
  else route();
}

function signOut() {
  session.clear();
  state.me = null;
  disposeCurrent();
  renderChrome();
  history.replaceState(null, "", "#/signin");
  signInView();
}

function defaultHash() {
  const first = visiblePages()[0];
  return first ? `#/${first[0]}` : "#/none";
}

function disposeCurrent() {
  if (state.current && state.current.dispose) {
    try {
      state.current.dispose();
    } catch (e) {
      console.warn(e);
    }
  }
  state.current = null;
}

async function route() {
  if (!state.me) return signInView();
  const [name, ...params] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!name) return navigate(defaultHash());
  disposeCurrent();
  const page = state.pages.get(name);
  const root = h("section", { "data-page": name, class: "page" });
  clear(main()).append(root);
  markActive(name);
  if (!page || !allowed(page, state.me)) {
    const none = visiblePages().length === 0;
    root.append(
      h("div", { class: "card", "data-testid": "not-allowed" },
        h("h2", {}, none ? "Nothing here for this key" : "Not available"),
        h("p", { class: "muted" }, none
          ? "This key's role has no console pages: shopper keys are an agent platform's credentials for the commerce protocols (ACP, AP2, MCP)."
          : `A ${ROLE_TEXT[state.me.role] || state.me.role} key cannot open “${name}”.`)),
    );
    return;
  }
  document.title = `${page.title} · Cockpit`;
  state.current = page;
  root.append(h("h1", { class: "page-title" }, page.title));
  const body = h("div", { class: "page-body" });
  root.append(body);
  try {
    await page.render(body, { api, me: state.me, params, navigate, toast });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signOut();
    body.append(errorBox(err));
  }
}

async function start() {
  await loadPages();
  window.addEventListener("hashchange", route);
  const key = session.key();
  if (!key) return signInView();
  try {
    state.me = await whoAmI(key);
  } catch (err) {
    session.clear();
    return signInView(err.status === 401 ? undefined : err);
  }
  renderChrome();
  route();
}

start();

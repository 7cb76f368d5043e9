// Approvals: the inbox of pending decisions across threads (filters, four eyes, history), and
// the approval card the chat page shows inline when a run stops for a human.
import { h, clear, errorBox, spinner, money, badge, field, useCss, toMajor, exponent, when } from "../ui.js";

// ---- what an approval means, in words ------------------------------------------------------

const SAY = {
  payments_refund: (a, m) => `Refund ${m} to the shopper on payment ${a.payment_id}.`,
  payments_cancel: (a) => `Cancel payment ${a.payment_id}: the authorisation is released and nothing is captured.`,
  payments_accept_dispute: (a, m) => `Accept dispute ${a.dispute_id} without defending it: ${m} goes back to the buyer.`,
  payments_submit_dispute_response: (a) =>
    `Submit the defence for dispute ${a.dispute_id} with ${Object.keys(a.evidence || {}).length} piece(s) of evidence (it cannot be changed afterwards).`,
  block_entity: (a) => `Block ${a.kind} ${a.entity_id}: every later payment using it is declined. Reason: ${a.reason}.`,
  release_entity: (a) => `Release the block on ${a.kind} ${a.entity_id}.`,
  credit_deploy_strategy: (a) =>
    `Make credit strategy ${a.version_id} live${a.challenger_version_id ? `, with ${a.challenger_version_id} deciding ${Math.round((a.challenger_share || 0) * 100)}% of applicants` : ""}.`,
};

function amountText(a) {
  return a.amount !== null && a.amount !== undefined && a.currency ? money(a.amount, a.currency) : null;
}

export function describe(a) {
  const args = a.args || {};
  const m = amountText(a);
  const say = SAY[a.tool];
  if (say) {
    try {
      return say(args, m || "the amount");
    } catch {
      /* an unexpected argument shape: say it generically */
    }
  }
  const shown = Object.entries(args)
    .filter(([k, v]) => v !== null && k !== a.amount_field && k !== a.currency_field)
    .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(", ");
  return `Call ${a.tool}${m ? ` for ${m}` : ""}${shown ? ` (${shown})` : ""}.`;
}

// An interrupt value ({type: "approval_request", …}) in the inbox's row shape.
export function fromInterrupt(value) {
  const v = value || {};
  return {
    approval_id: v.approval_id,
    thread_id: v.thread_id,
    agent: v.agent,
    tool: v.tool,
    args: v.args || {},
    amount: v.amount,
    currency: v.currency,
    why: v.reason,
    requested_by: v.requested_by,
    requested_by_prefix: v.requested_by ? `ck_${v.requested_by}` : null,
    status: "pending",
  };
}

// The argument holding the amount: named by the server, else the one equal to the amount.
function amountField(a) {
  if (a.amount_field) return a.amount_field;
  if (a.amount === null || a.amount === undefined) return null;
  return Object.keys(a.args || {}).find((k) => a.args[k] === a.amount) || null;
}

function currencyField(a) {
  if (a.currency_field) return a.currency_field;
  return Object.keys(a.args || {}).find((k) => a.args[k] === a.currency) || null;
}

// "120.5" in SGD -> 12050; null with a message when it is not an amount of that currency.
export function parseMajor(text, currency) {
  const t = String(text).trim().replace(/,/g, "");
  const digits = exponent(currency);
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(t);
  if (!m) return { error: `enter an amount in ${currency}, e.g. ${(12.5).toFixed(digits)}` };
  const frac = m[2] || "";
  if (frac.length > digits)
    return { error: digits ? `${currency} has ${digits} decimals at most` : `${currency} has no decimals` };
  const minor = Number(m[1] + frac.padEnd(digits, "0"));
  if (minor <= 0) return { error: "the amount must be more than zero" };
  return { minor };
}

// ---- the approval card -----------------------------------------------------------------------

const OUTCOME = { approve: "approved", edit: "edited", reject: "rejected" };

/**
 * A decision card: the tool, what will happen, the amount in major units, the approval id, and
 * Approve / Edit / Reject with a reason. `decide({action, args?, reason?})` performs it (a resumed
 * stream in the chat, the decision route in the inbox) and resolves when it is done.
 */
export function approvalCard(a, { decide }) {
  useCss("pages/approvals.css");
  const blocked = a.may_decide === false ? a.blocked || { message: "this key may not decide it" } : null;
  const pane = h("div", { class: "approval-pane" });
  const outcome = h("div", { class: "approval-outcome" });
  const buttons = [];
  const btn = (label, kind, testid, onclick) => {
    const b = h("button", { class: `btn ${kind}`, type: "button", "data-testid": testid, onclick, disabled: Boolean(blocked), title: blocked ? blocked.message : undefined }, label);
    buttons.push(b);
    return b;
  };
  const setBusy = (busy) => buttons.forEach((b) => (b.disabled = busy || Boolean(blocked)));

  const card = h(
    "div",
    { class: "card approval-card", "data-testid": "approval-card", "data-approval-id": a.approval_id, "data-status": a.status || "pending" },
    h(
      "div",
      { class: "row approval-head" },
      !a.status || a.status === "pending" ? badge("Approval needed", "warn") : badge(a.status, STATUS_KIND[a.status] || "info"),
      h("span", { class: "mono", "data-testid": "approval-tool" }, a.tool),
      a.four_eyes ? h("span", { "data-testid": "four-eyes" }, badge("four eyes", "info")) : null,
      h("span", { class: "muted small approval-agent" }, a.agent ? `asked by agent ${a.agent}` : null),
    ),
    h("p", { class: "approval-what", "data-testid": "approval-what" }, describe(a)),
    amountText(a) ? h("div", { class: "approval-amount", "data-testid": "approval-amount" }, amountText(a)) : null,
    a.why ? h("p", { class: "muted small" }, `Why a human decides: ${a.why}.`) : null,
    h(
      "dl",
      { class: "approval-meta small" },
      h("dt", {}, "Approval"),
      h("dd", { class: "mono", "data-testid": "approval-id" }, a.approval_id),
      a.requested_by_prefix ? [h("dt", {}, "Requested by"), h("dd", { class: "mono" }, a.requested_by_prefix)] : null,
      a.merchant_id ? [h("dt", {}, "Merchant"), h("dd", { class: "mono" }, a.merchant_id)] : null,
    ),
    h("details", { class: "approval-args" }, h("summary", { class: "muted small" }, "Arguments"), h("pre", {}, JSON.stringify(a.args || {}, null, 2))),
    h(
      "div",
      { class: "row approval-actions" },
      btn("Approve", "primary", "approve", () => run({ action: "approve" })),
      btn("Edit…", "", "edit", () => clear(pane).append(editForm(a, run, () => clear(pane)))),
      btn("Reject…", "danger", "reject", () => clear(pane).append(rejectForm(run, () => clear(pane)))),
    ),
    blocked ? h("p", { class: "muted small approval-blocked", "data-testid": "approval-blocked", "data-code": blocked.code }, `You cannot decide this: ${blocked.message}`) : null,
    pane,
    outcome,
  );

  async function run(decision) {
    setBusy(true);
    clear(outcome).append(spinner(decision.action === "reject" ? "Rejecting…" : "Approving…"));
    try {
      await decide(decision);
      clear(pane);
      const status = OUTCOME[decision.action];
      card.dataset.status = status;
      clear(outcome).append(
        h("div", { class: "row", "data-testid": "approval-outcome", "data-outcome": status }, badge(status, decision.action === "reject" ? "bad" : "ok"), decision.reason ? h("span", { class: "muted" }, `reason: ${decision.reason}`) : null),
      );
      buttons.forEach((b) => (b.disabled = true));
    } catch (err) {
      clear(outcome).append(errorBox(err));
      setBusy(false);
    }
  }
  return card;
}

function rejectForm(run, cancel) {
  const reason = h("textarea", { rows: 2, placeholder: "Why not? (kept in the audit trail)", "data-testid": "reject-reason", maxlength: 500 });
  const err = h("span", { class: "field-error" });
  return h(
    "form",
    { class: "form approval-form", "data-testid": "reject-form", onsubmit: (e) => {
      e.preventDefault();
      const text = reason.value.trim();
      if (!text) return (err.textContent = "say why you reject it");
      run({ action: "reject", reason: text });
    } },
    h("label", { class: "field" }, h("span", { class: "label" }, "Reason"), reason, err),
    h("div", { class: "row" }, h("button", { class: "btn danger", type: "submit", "data-testid": "reject-submit" }, "Reject"), h("button", { class: "btn", type: "button", onclick: cancel }, "Cancel")),
  );
}

function editForm(a, run, cancel) {
  const amountKey = amountField(a);
  const currencyKey = currencyField(a);
  const inputs = [];
  const rows = Object.entries(a.args || {}).map(([key, value]) => {
    if (key === amountKey && a.currency) {
      const digits = exponent(a.currency);
      const input = h("input", { inputmode: "decimal", value: toMajor(value, a.currency).toFixed(digits), "data-testid": "edit-amount", "data-arg": key, size: 14 });
      inputs.push({ key, input, read: () => {
        const parsed = parseMajor(input.value, a.currency);
        if (parsed.error) throw { key, message: parsed.error };
        return parsed.minor;
      } });
      return field(`Amount (${a.currency}, major units)`, h("div", { class: "row" }, input, h("span", { class: "muted" }, a.currency)), { param: key, hint: `sent as ${a.currency} minor units (${digits} decimals)` });
    }
    if (key === currencyKey) return field("Currency", h("span", { class: "mono" }, String(value)), { hint: "the currency of the payment cannot change" });
    if (typeof value === "boolean") {
      const input = h("input", { type: "checkbox", checked: value, "data-arg": key });
      inputs.push({ key, input, read: () => input.checked });
      return field(key, input, { param: key });
    }
    if (value !== null && typeof value === "object") {
      const input = h("textarea", { rows: 3, "data-arg": key }, JSON.stringify(value, null, 2));
      inputs.push({ key, input, read: () => {
        try {
          return JSON.parse(input.value);
        } catch {
          throw { key, message: "not valid JSON" };
        }
      } });
      return field(key, input, { param: key });
    }
    const input = h("input", { value: value ?? "", "data-arg": key, type: typeof value === "number" ? "number" : "text", step: "any" });
    inputs.push({ key, input, read: () => {
      if (typeof value === "number") {
        if (input.value.trim() === "" || !Number.isFinite(Number(input.value))) throw { key, message: "a number" };
        return Number(input.value);
      }
      return value === null && input.value === "" ? null : input.value;
    } });
    return field(key, input, { param: key });
  });
  const reason = h("input", { placeholder: "optional: why the change", "data-testid": "edit-reason", maxlength: 500 });
  const note = h("div", {});
  const form = h(
    "form",
    { class: "form approval-form", "data-testid": "edit-form", onsubmit: (e) => {
      e.preventDefault();
      form.querySelectorAll(".field.invalid").forEach((f) => f.classList.remove("invalid"));
      form.querySelectorAll(".field-error").forEach((f) => (f.textContent = ""));
      clear(note);
      const args = {};
      try {
        for (const { key, read } of inputs) {
          const v = read();
          if (JSON.stringify(v) !== JSON.stringify(a.args[key])) args[key] = v;
        }
      } catch (bad) {
        const f = form.querySelector(`.field[data-param="${bad.key}"]`);
        if (f) {
          f.classList.add("invalid");
          f.querySelector(".field-error").textContent = bad.message;
        }
        return;
      }
      if (!Object.keys(args).length) return note.append(h("p", { class: "muted small" }, "Nothing changed: approve it as it is instead."));
      const text = reason.value.trim();
      run(text ? { action: "edit", args, reason: text } : { action: "edit", args });
    } },
    rows,
    field("Reason", reason),
    note,
    h("div", { class: "row" }, h("button", { class: "btn primary", type: "submit", "data-testid": "edit-submit" }, "Approve with changes"), h("button", { class: "btn", type: "button", onclick: cancel }, "Cancel")),
  );
  return form;
}

// ---- the inbox -------------------------------------------------------------------------------

function argsSummary(row) {
  const entries = Object.entries(row.args || {}).filter(([k, v]) => v !== null && k !== row.amount_field && k !== row.currency_field);
  return entries.map(([k, v]) => `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : v}`).join(" · ") || "—";
}

function age(seconds) {
  const s = Math.max(0, Number(seconds) || 0);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const STATUS_KIND = { approved: "ok", edited: "ok", rejected: "bad", pending: "warn" };

export const page = {
  title: "Approvals",
  roles: ["admin", "merchant", "partner"],

  async render(root, { api, me, toast }) {
    useCss("pages/approvals.css");
    const filters = { status: "pending", merchant_id: "", agent: "", currency: "", min: "", max: "", older_h: "" };
    const list = h("div", { class: "card approvals-list", "data-testid": "approvals-list" });
    const detail = h("div", { class: "approvals-detail", "data-testid": "approvals-detail" });
    const formError = h("div", {});

    const tabs = ["pending", "decided"].map((s) =>
      h("button", { class: ["btn", s === filters.status ? "primary" : null], type: "button", "data-testid": `tab-${s}`, onclick: () => {
        filters.status = s;
        tabs.forEach((t) => t.classList.toggle("primary", t.dataset.testid === `tab-${s}`));
        load();
      } }, s === "pending" ? "Pending" : "History"),
    );
    const input = (name, attrs) => h("input", { ...attrs, "data-testid": `filter-${name}`, "data-filter": name });
    const merchant = me.merchant_id ? null : input("merchant_id", { placeholder: "mer_…", size: 14 });
    const bar = h(
      "form",
      { class: "toolbar approvals-filters", "data-testid": "approvals-filters", onsubmit: (e) => (e.preventDefault(), load()) },
      h("div", { class: "row" }, tabs),
      merchant ? field("Merchant", merchant) : null,
      field("Agent", input("agent", { placeholder: "copilot", size: 10 })),
      field("Currency", input("currency", { placeholder: "SGD", size: 5, maxlength: 3 })),
      field("Min amount", input("min", { inputmode: "decimal", placeholder: "major units", size: 9 }), { param: "min_amount" }),
      field("Max amount", input("max", { inputmode: "decimal", placeholder: "major units", size: 9 }), { param: "max_amount" }),
      field("Older than (h)", input("older_h", { inputmode: "decimal", placeholder: "hours", size: 6 }), { param: "older_than_s" }),
      h("button", { class: "btn primary", type: "submit", "data-testid": "filter-apply" }, "Apply"),
      h("button", { class: "btn", type: "button", "data-testid": "filter-reset", onclick: () => {
        for (const k of ["merchant_id", "agent", "currency", "min", "max", "older_h"]) filters[k] = "";
        bar.querySelectorAll("input").forEach((i) => (i.value = ""));
        load();
      } }, "Reset"),
    );
    root.append(bar, formError, h("div", { class: "approvals-layout" }, list, detail));

    // Major units typed in the filter -> the API's minor units of the chosen currency.
    function query() {
      for (const box of bar.querySelectorAll("input[data-filter]")) filters[box.dataset.filter] = box.value.trim();
      const q = { status: filters.status, limit: 200, merchant_id: filters.merchant_id, agent: filters.agent };
      const currency = filters.currency.toUpperCase();
      if (currency) q.currency = currency;
      for (const [name, param] of [["min", "min_amount"], ["max", "max_amount"]]) {
        if (!filters[name]) continue;
        if (!currency) throw { message: "An amount filter needs a currency (amounts are compared in one currency).", code: "currency_required", param: "currency" };
        const parsed = parseMajor(filters[name], currency);
        if (parsed.error) throw { message: `${param}: ${parsed.error}`, code: "invalid_amount", param };
        q[param] = parsed.minor;
      }
      if (filters.older_h) {
        const hours = Number(filters.older_h);
        if (!Number.isFinite(hours) || hours < 0) throw { message: "Older than: a number of hours", code: "invalid_value", param: "older_than_s" };
        q.older_than_s = Math.round(hours * 3600);
      }
      return q;
    }

    // After a decision the card stays open (it shows the outcome); new filters close it.
    async function load({ keepDetail = false } = {}) {
      clear(formError);
      if (!keepDetail) clear(detail);
      let q;
      try {
        q = query();
      } catch (err) {
        formError.append(errorBox(err));
        return;
      }
      clear(list).append(spinner());
      try {
        const rows = await api.get("/v1/approvals", q);
        clear(list).append(rows.length ? rowsTable(rows) : h("p", { class: "muted empty", "data-testid": "approvals-empty" }, filters.status === "pending" ? "Nothing waits for a decision." : "No decisions match."));
      } catch (err) {
        clear(list).append(errorBox(err));
      }
    }

    function decideButtons(row) {
      if (row.status !== "pending") return null;
      const blocked = row.may_decide === false ? row.blocked : null;
      const open = () => showCard(row);
      return h(
        "div",
        { class: "row nowrap" },
        h("button", { class: "btn small primary", type: "button", "data-testid": "row-approve", disabled: Boolean(blocked), title: blocked ? blocked.message : undefined, onclick: (e) => (e.stopPropagation(), quick(row, { action: "approve" })) }, "Approve"),
        h("button", { class: "btn small", type: "button", "data-testid": "row-open", onclick: (e) => (e.stopPropagation(), open()) }, blocked ? "View" : "Edit / reject"),
        blocked ? h("div", { class: "muted small blocked", "data-testid": "row-blocked", "data-code": blocked.code }, blocked.message) : null,
      );
    }

    async function quick(row, decision) {
      try {
        await decideRow(row, decision);
        toast(`${row.approval_id} ${OUTCOME[decision.action]}`, "ok");
        load({ keepDetail: true });
      } catch (err) {
        clear(detail).append(errorBox(err));
      }
    }

    async function decideRow(row, decision) {
      const out = await api.post(`/v1/approvals/${encodeURIComponent(row.approval_id)}/decision`, decision);
      return out;
    }

    function showCard(row) {
      clear(detail).append(
        approvalCard(row, {
          decide: async (decision) => {
            await decideRow(row, decision);
            toast(`${row.approval_id} ${OUTCOME[decision.action]}`, "ok");
            load({ keepDetail: true });
          },
        }),
      );
      detail.scrollIntoView({ block: "nearest" });
    }

    function rowsTable(rows) {
      const history = filters.status !== "pending";
      const cols = [
        { label: "Agent", render: (r) => h("span", {}, r.agent) },
        { label: "Tool", render: (r) => h("span", { class: "mono" }, r.tool) },
        { label: "Arguments", render: (r) => h("span", { class: "small args" }, argsSummary(r)) },
        { label: "Amount", class: "num", render: (r) => h("span", { "data-testid": "row-amount" }, amountText(r) || "—") },
        me.merchant_id ? null : { label: "Merchant", render: (r) => h("span", { class: "mono small" }, r.merchant_id || "tenant") },
        { label: "Requested by", render: (r) => h("span", { class: "mono small" }, r.requested_by_prefix || "—") },
        { label: "Age", render: (r) => h("span", { title: when(r.created_at) }, age(r.age_s)) },
        { label: "", render: (r) => (r.four_eyes ? h("span", { "data-testid": "four-eyes" }, badge("four eyes", "info")) : null) },
        history
          ? { label: "Decision", render: (r) => h("div", { "data-testid": "row-decision" }, badge(r.status, STATUS_KIND[r.status] || "info"), h("div", { class: "small muted" }, `by ${r.decided_by_prefix || r.decided_by || "—"} · ${when(r.decided_at)}`), r.reason ? h("div", { class: "small", "data-testid": "row-reason" }, `“${r.reason}”`) : null, r.decision && r.decision.args ? h("div", { class: "small mono" }, `edited: ${JSON.stringify(r.decision.args)}`) : null) }
          : { label: "", render: decideButtons },
      ].filter(Boolean);
      return h(
        "table",
        { class: "table", "data-testid": "approvals-table" },
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", { class: c.class }, c.label)))),
        h(
          "tbody",
          {},
          rows.map((r) => h("tr", { "data-testid": "approval-row", "data-approval-id": r.approval_id, "data-status": r.status, class: "clickable", onclick: () => showCard(r) }, cols.map((c) => h("td", { class: c.class }, c.render(r))))),
        ),
      );
    }

    await load();
  },
};

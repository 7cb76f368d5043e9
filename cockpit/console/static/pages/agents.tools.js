// The tool picker: the registry's tools grouped READ / WRITE, and per picked tool the policy
// fields that apply to it (a money limit typed in major units and kept in minor units,
// approvals on writes, a rate limit).
import { h, clear, field, badge, toMajor, toMinor } from "../ui.js";

const APPROVAL_MODES = [
  ["never", "No approval"],
  ["always", "Every call"],
  ["above", "Above an amount"],
];

export function firstLine(text) {
  const line = String(text || "").trim().split("\n")[0];
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

function policyFields(tool) {
  if (!tool) return ["max_amount", "approval", "rate_limit"];
  if (Array.isArray(tool.policy_fields)) return tool.policy_fields;
  const out = ["rate_limit"];
  if (String(tool.kind).toUpperCase() === "WRITE") out.push("approval.always", "approval.four_eyes");
  if (tool.amount_field) out.push("max_amount", "approval.above");
  return out;
}

function allows(fields, name) {
  return fields.some((f) => f === name || f.startsWith(`${name}.`));
}

const isWrite = (tool) => tool && String(tool.kind).toUpperCase() === "WRITE";

// Amounts per currency, typed in major units, kept in the spec in minor units.
function amountEditor(prefix, value, onChange) {
  const rows = Object.entries(value || {}).map(([ccy, minor]) => ({ ccy, major: String(toMajor(minor, ccy)) }));
  if (!rows.length) rows.push({ ccy: "", major: "" });
  const box = h("div", { class: "amounts", "data-testid": `${prefix}-amounts` });
  const emit = () => {
    const out = {};
    for (const r of rows) {
      const ccy = r.ccy.trim().toUpperCase();
      if (!/^[A-Z]{3}$/.test(ccy) || r.major.trim() === "" || Number.isNaN(Number(r.major))) continue;
      out[ccy] = toMinor(r.major, ccy);
    }
    onChange(Object.keys(out).length ? out : null);
  };
  const draw = () => {
    clear(box);
    rows.forEach((r, j) => {
      const minor = h("span", { class: "muted small", "data-testid": `${prefix}-minor-${j}` });
      const showMinor = () => {
        const ccy = r.ccy.trim().toUpperCase();
        minor.textContent =
          /^[A-Z]{3}$/.test(ccy) && r.major.trim() !== "" && !Number.isNaN(Number(r.major))
            ? `= ${toMinor(r.major, ccy)} minor units`
            : "";
      };
      showMinor();
      box.append(
        h(
          "div",
          { class: "row amount-row" },
          h("input", {
            class: "ccy mono",
            value: r.ccy,
            maxlength: 3,
            placeholder: "SGD",
            "aria-label": "currency",
            "data-testid": `${prefix}-ccy-${j}`,
            oninput: (e) => ((r.ccy = e.target.value.toUpperCase()), (e.target.value = r.ccy), showMinor(), emit()),
          }),
          h("input", {
            class: "amount",
            type: "number",
            min: 0,
            step: "any",
            value: r.major,
            placeholder: "500.00",
            "aria-label": "amount in major units",
            "data-testid": `${prefix}-amount-${j}`,
            oninput: (e) => ((r.major = e.target.value), showMinor(), emit()),
          }),
          minor,
          h("button", {
            type: "button",
            class: "btn small",
            title: "Remove this currency",
            onclick: () => (rows.splice(j, 1), draw(), emit()),
          }, "×"),
        ),
      );
    });
    box.append(
      h("button", {
        type: "button",
        class: "btn small",
        "data-testid": `${prefix}-add`,
        onclick: () => (rows.push({ ccy: "", major: "" }), draw()),
      }, "+ currency"),
    );
  };
  draw();
  return box;
}


export function toolsSection(b) {
  const picked = new Set((b.draft.tools || []).map((t) => t.name));
  const visible = (b.catalog.tools || []).filter(
    (t) => !b.filter || `${t.name} ${t.description || ""}`.toLowerCase().includes(b.filter.toLowerCase()),
  );
  const group = (kind, title, hint) => {
    const tools = visible.filter((t) => String(t.kind).toUpperCase() === kind);
    return h(
      "div",
      { class: "tool-group", "data-testid": `tools-${kind.toLowerCase()}` },
      h("h4", {}, title, " ", h("span", { class: "muted small" }, hint)),
      tools.length ? null : h("p", { class: "muted small" }, "none"),
      tools.map((t) =>
        h(
          "label",
          { class: ["tool-pick", picked.has(t.name) ? "picked" : null], "data-testid": `tool-pick-${t.name}` },
          h("input", {
            type: "checkbox",
            checked: picked.has(t.name),
            onchange: (e) => (e.target.checked ? b.addTool(t.name) : b.removeTool(t.name)),
          }),
          h(
            "span",
            {},
            h("span", { class: "mono" }, t.name),
            t.amount_field ? h("span", { class: "muted small" }, " · moves money") : null,
            h("span", { class: "muted small", "data-testid": "tool-roles" }, ` · run by ${(t.roles || []).join(", ")} keys`),
            h("span", { class: "desc muted small" }, firstLine(t.description)),
          ),
        ),
      ),
    );
  };
  const filter = h("input", {
    type: "search",
    placeholder: "Filter tools",
    value: b.filter,
    "data-testid": "tool-filter",
    oninput: (e) => {
      b.filter = e.target.value;
      const at = e.target.selectionStart;
      b.draw();
      const again = b.body.querySelector('[data-testid="tool-filter"]');
      if (again) (again.focus(), again.setSelectionRange(at, at));
    },
  });
  const byName = h("input", {
    class: "mono",
    placeholder: "or add a tool by name",
    list: "tool-names",
    "data-testid": "tool-add-name",
  });
  const names = h("datalist", { id: "tool-names" }, (b.catalog.tools || []).map((t) => h("option", { value: t.name })));
  const add = () => {
    const name = byName.value.trim();
    if (name) b.addTool(name);
  };
  return h(
    "fieldset",
    { class: "tools", "data-param": "tools" },
    h("legend", {}, "Tools"),
    h("span", { class: "field-error" }),
    h(
      "div",
      { class: "tools-layout" },
      h(
        "div",
        { class: "tool-picker", "data-testid": "tool-picker" },
        h("div", { class: "row" }, filter),
        group("READ", "Read", "look things up, change nothing"),
        group("WRITE", "Write", "change state: policy and approvals apply"),
        h(
          "div",
          { class: "row" },
          byName,
          names,
          h("button", { type: "button", class: "btn small", "data-testid": "tool-add", onclick: add }, "Add"),
        ),
      ),
      h(
        "div",
        { class: "tool-selected", "data-testid": "tools-selected" },
        (b.draft.tools || []).length
          ? (b.draft.tools || []).map((p, i) => toolRow(b, p, i))
          : h("p", { class: "muted" }, "No tools yet: pick them on the left. The agent can call nothing else."),
      ),
    ),
  );
}

function toolRow(b, policy, i) {
  const def = b.toolDef(policy.name);
  const fields = policyFields(def);
  const prefix = `tool-${i}`;
  const set = (key, value) => {
    const next = { ...b.draft.tools[i] };
    if (value === null || value === undefined) delete next[key];
    else next[key] = value;
    b.draft.tools[i] = next;
  };
  const nameInput = h("input", {
    class: "mono",
    value: policy.name,
    "data-testid": `tool-name-${i}`,
    "aria-label": "tool name",
    onchange: (e) => ((b.draft.tools[i] = { ...b.draft.tools[i], name: e.target.value.trim() }), b.draw()),
  });
  const parts = [];
  if (allows(fields, "max_amount")) {
    parts.push(
      field(
        "Largest amount per call",
        amountEditor(`${prefix}-max`, policy.max_amount, (v) => set("max_amount", v)),
        { param: `tools.${i}.max_amount`, hint: "major units (500.00 SGD); other currencies are refused" },
      ),
    );
  }
  if (allows(fields, "approval") || policy.approval) parts.push(approvalField(b, policy, i, fields, set));
  const rate = allows(fields, "rate_limit") ? rateField(policy, i, set) : null;
  return h(
    "div",
    { class: "card tool-row", "data-testid": `tool-row-${i}`, "data-name": policy.name },
    h(
      "div",
      { class: "row" },
      field("", nameInput, { param: `tools.${i}.name` }),
      def ? badge(String(def.kind).toUpperCase(), isWrite(def) ? "warn" : "info") : h("span", { class: "badge warn", title: "not in this tenant's tool catalogue; the server checks the name when the spec is validated" }, "unknown tool"),
      h("div", { class: "grow" }),
      rate,
      h("button", {
        type: "button",
        class: "btn small danger",
        "data-testid": `tool-remove-${i}`,
        onclick: () => ((b.draft.tools = b.draft.tools.filter((_, j) => j !== i)), b.draw()),
      }, "Remove"),
    ),
    def ? h("p", { class: "muted small desc" }, firstLine(def.description)) : null,
    h(
      "div",
      { class: "policy", "data-param": `tools.${i}` },
      h("span", { class: "field-error" }),
      h("div", { class: "policy-fields" }, parts),
    ),
  );
}

function approvalField(b, policy, i, fields, set) {
  const a = policy.approval || null;
  const mode = !a ? "never" : a.above ? "above" : a.always ? "always" : "never";
  const canAbove = allows(fields, "max_amount") || Boolean(b.toolDef(policy.name)?.amount_field);
  const select = h(
    "select",
    {
      "data-testid": `tool-${i}-approval`,
      onchange: (e) => {
        const m = e.target.value;
        const fourEyes = Boolean(a && a.four_eyes);
        set("approval", m === "never" ? null : m === "always" ? { always: true, four_eyes: fourEyes } : { above: (a && a.above) || {}, four_eyes: fourEyes });
        b.draw();
      },
    },
    APPROVAL_MODES.filter(([v]) => v !== "above" || canAbove).map(([v, label]) => h("option", { value: v, selected: v === mode }, label)),
  );
  select.value = mode;
  const fourEyes = h("input", {
    type: "checkbox",
    checked: Boolean(a && a.four_eyes),
    disabled: mode === "never",
    "data-testid": `tool-${i}-four-eyes`,
    onchange: (e) => set("approval", { ...(policy.approval || {}), ...b.draft.tools[i].approval, four_eyes: e.target.checked }),
  });
  return field(
    "Human approval",
    h(
      "div",
      {},
      h("div", { class: "row" }, select, h("label", { class: "check" }, fourEyes, " four eyes (another key approves)")),
      mode === "above"
        ? amountEditor(`tool-${i}-above`, a.above, (v) =>
            set("approval", { ...b.draft.tools[i].approval, above: v || {} }),
          )
        : null,
    ),
    { param: `tools.${i}.approval` },
  );
}

function rateField(policy, i, set) {
  const r = policy.rate_limit || {};
  const calls = h("input", { type: "number", min: 1, value: r.calls ?? "", placeholder: "n", title: "per tenant and agent; empty for none", "data-testid": `tool-${i}-rate-calls` });
  const per = h("input", { type: "number", min: 1, value: r.per_seconds ?? "", placeholder: "sec", "data-testid": `tool-${i}-rate-seconds` });
  const emit = () => {
    if (calls.value === "" && per.value === "") return set("rate_limit", null);
    set("rate_limit", { calls: Number(calls.value), per_seconds: Number(per.value) });
  };
  calls.addEventListener("input", emit);
  per.addEventListener("input", emit);
  return field("at most", h("div", { class: "row rate" }, calls, h("span", { class: "muted" }, "calls /"), per, h("span", { class: "muted" }, "s")), {
    param: `tools.${i}.rate_limit`,
  });
}

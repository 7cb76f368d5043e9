// The spec builder: one draft spec edited in a form or as YAML, validated by the server.
//
// The server is the only judge of a spec: every switch between the tabs and every save goes
// through POST /v1/agents/validate, which answers the normalised spec and its YAML (so the two
// views cannot drift) or the errors, each naming its field (`tools.2.name`), shown next to it.
import { h, clear, field } from "../ui.js";
import { toolsSection } from "./agents.tools.js";

const ROLES = ["merchant", "partner", "shopper"];
const MODELS = ["local:planner", "openai:gpt-4o-mini", "fake:echo"];

export const BLANK_SPEC = {
  id: "",
  name: "",
  description: "",
  instructions: "",
  model: "local:planner",
  tools: [],
  knowledge: [],
  handoffs: [],
  guardrails: { redact_pii: true, injection_screen: true, max_tool_calls_per_turn: 8, max_steps_per_turn: 12 },
  evals: [],
  roles: ["merchant", "partner"],
};

const clone = (x) => JSON.parse(JSON.stringify(x));

// An ApiError or a validate answer → [{param, code, message}].
export function errorsOf(err) {
  if (err && Array.isArray(err.errors)) return err.errors;
  const listed = err && err.details && Array.isArray(err.details.errors) ? err.details.errors : null;
  if (listed && listed.length) return listed.map((e) => ({ code: err.code, ...e }));
  return [{ param: (err && err.param) || "", code: err && err.code, message: (err && err.message) || String(err) }];
}

// The name a "did you mean" in an error message suggests, if any.
export function suggestion(message) {
  const m = /did you mean:?\s*['"`]?([A-Za-z0-9_.\-]+)/i.exec(message || "");
  return m ? m[1] : null;
}

export class Builder {
  // catalog: {tools: [...], collections: [...], agents: [...]}; existing: the agent's id when
  // editing a saved agent (its id is then fixed); onSaved(agentId, version).
  constructor({ api, toast, catalog, spec, existing, readOnly, onSaved }) {
    this.api = api;
    this.toast = toast;
    this.catalog = catalog;
    this.draft = { ...clone(BLANK_SPEC), ...clone(spec || {}) };
    this.existing = existing || null;
    this.readOnly = Boolean(readOnly);
    this.onSaved = onSaved;
    this.tab = "form";
    this.yaml = "";
    this.errors = [];
    this.filter = "";
    this.validateMissing = false;
    this.el = h("div", { class: "builder", "data-testid": "builder" });
    this.status = h("span", { class: "muted small", "data-testid": "validate-status" });
    this.body = h("div", { class: "builder-body" });
  }

  render() {
    clear(this.el);
    const tabs = h(
      "div",
      { class: "tabs", role: "tablist" },
      this.tabButton("form", "Form"),
      this.tabButton("yaml", "YAML"),
    );
    const actions = this.readOnly
      ? null
      : h(
          "div",
          { class: "row" },
          this.status,
          h("button", { type: "button", class: "btn", "data-testid": "validate", onclick: () => this.check() }, "Validate"),
          h(
            "button",
            { type: "button", class: "btn primary", "data-testid": "save", onclick: () => this.save() },
            this.existing ? "Save as new version" : "Create agent",
          ),
        );
    this.el.append(h("div", { class: "toolbar builder-bar" }, tabs, h("div", { class: "grow" }), actions), this.body);
    this.draw();
    return this.el;
  }

  tabButton(name, label) {
    return h(
      "button",
      {
        type: "button",
        role: "tab",
        class: ["tab", this.tab === name ? "active" : null],
        "aria-selected": this.tab === name ? "true" : "false",
        "data-testid": `tab-${name}`,
        onclick: () => this.switchTo(name),
      },
      label,
    );
  }

  // -- the server's judgement --------------------------------------------------------------

  async validate(source) {
    const body = source === "yaml" ? this.yaml : this.draft;
    const opts = source === "yaml" ? { headers: { "content-type": "application/yaml" } } : undefined;
    if (this.validateMissing) return { valid: null };
    try {
      return await this.api.post("/v1/agents/validate", body, opts);
    } catch (err) {
      if (err.status === 404 || err.status === 405) {
        this.validateMissing = true; // an older server: saving still validates
        return { valid: null };
      }
      if (err.status === 422 || err.status === 400) return { valid: false, errors: errorsOf(err) };
      throw err;
    }
  }

  absorb(answer) {
    if (answer.valid) {
      this.draft = { ...clone(BLANK_SPEC), ...answer.spec };
      if (answer.yaml) this.yaml = answer.yaml;
      this.errors = [];
      this.status.textContent = `Valid${answer.content_hash ? ` · ${answer.content_hash.slice(0, 12)}` : ""}`;
      this.status.className = "muted small ok-text";
    } else if (answer.valid === false) {
      if (answer.spec && typeof answer.spec === "object") this.draft = { ...clone(BLANK_SPEC), ...answer.spec };
      this.errors = answer.errors || [];
      const n = this.errors.length;
      this.status.textContent = `${n} error${n === 1 ? "" : "s"}`;
      this.status.className = "small bad-text";
    }
  }

  async switchTo(tab) {
    if (tab === this.tab) return;
    if (this.readOnly) {
      this.tab = tab;
      return this.render();
    }
    if (tab === "yaml") {
      const answer = await this.guard(() => this.validate("form"));
      if (!answer) return;
      this.absorb(answer);
      if (!answer.valid) this.yaml = answer.yaml || JSON.stringify(this.draft, null, 2);
    } else {
      const answer = await this.guard(() => this.validate("yaml"));
      if (!answer) return;
      this.absorb(answer);
      if (answer.valid === false && !answer.spec && !this.parsedJson()) {
        this.toast("Fix the YAML first: the form shows a spec the server can read.", "bad");
        return this.draw();
      }
      if (answer.valid === null || (answer.valid === false && !answer.spec)) {
        const parsed = this.parsedJson();
        if (parsed) this.draft = { ...clone(BLANK_SPEC), ...parsed };
      }
    }
    this.tab = tab;
    this.render();
  }

  parsedJson() {
    try {
      const v = JSON.parse(this.yaml);
      return v && typeof v === "object" && !Array.isArray(v) ? v : null;
    } catch {
      return null;
    }
  }

  async guard(fn) {
    try {
      return await fn();
    } catch (err) {
      this.toast(err.message || String(err), "bad");
      return null;
    }
  }

  async check() {
    const answer = await this.guard(() => this.validate(this.tab));
    if (!answer) return;
    this.absorb(answer);
    if (answer.valid === null) this.status.textContent = "This server checks the spec when it is saved.";
    if (answer.valid && this.tab === "yaml") this.yaml = answer.yaml || this.yaml;
    this.draw();
    return answer;
  }

  async save() {
    const answer = await this.check();
    if (!answer || answer.valid === false) return;
    const body = answer.valid ? answer.spec : this.tab === "yaml" ? this.yaml : this.draft;
    const opts = typeof body === "string" ? { headers: { "content-type": "application/yaml" } } : undefined;
    try {
      const saved = await this.api.post("/v1/agents", body, opts);
      this.toast(`Saved ${saved.agent_id} v${saved.version}`, "ok");
      if (this.onSaved) this.onSaved(saved.agent_id, saved.version);
    } catch (err) {
      if (err.status !== 422) return this.toast(err.message, "bad");
      this.errors = errorsOf(err);
      this.status.textContent = `${this.errors.length} error(s)`;
      this.status.className = "small bad-text";
      this.draw();
    }
  }

  // -- drawing -----------------------------------------------------------------------------

  draw() {
    clear(this.body);
    if (this.tab === "yaml") return this.drawYaml();
    this.general = h("div", { "data-testid": "form-errors" });
    const form = this.readOnly ? this.drawReadOnly() : this.drawForm();
    this.body.append(this.general, form);
    this.placeErrors(form);
  }

  drawReadOnly() {
    return h(
      "div",
      { class: "form" },
      h("p", { class: "muted" }, "Read-only: only partner and admin keys change agents."),
      h("pre", { "data-testid": "spec-json" }, JSON.stringify(this.draft, null, 2)),
    );
  }

  drawYaml() {
    const area = h("textarea", {
      class: "yaml-editor mono",
      spellcheck: "false",
      rows: 30,
      "data-testid": "spec-yaml",
      "aria-label": "Agent spec as YAML",
      readonly: this.readOnly,
      oninput: (e) => {
        this.yaml = e.target.value;
        this.status.textContent = "edited";
        this.status.className = "muted small";
      },
    });
    area.value = this.yaml;
    const list = h(
      "ul",
      { class: "yaml-errors", "data-testid": "yaml-errors" },
      this.errors.map((e) =>
        h("li", { "data-param": e.param || "" }, h("code", {}, e.param || "spec"), " ", e.message),
      ),
    );
    this.body.append(
      this.errors.length ? h("div", { class: "error" }, h("strong", {}, "The server found problems:"), list) : null,
      area,
      h("p", { class: "muted small" }, "The server normalises the YAML: comments and key order are not kept, defaults are written out."),
    );
  }

  // Errors go next to the field their `param` names (the longest registered prefix);
  // the rest above the form.
  placeErrors(form) {
    const fields = [...form.querySelectorAll("[data-param]")];
    const params = fields.map((f) => f.dataset.param);
    const rest = [];
    for (const e of this.errors) {
      const p = e.param || "";
      const target = params
        .filter((q) => p === q || p.startsWith(`${q}.`))
        .sort((a, b) => b.length - a.length)[0];
      if (target === undefined) {
        rest.push(e);
        continue;
      }
      const holder = fields[params.indexOf(target)];
      holder.classList.add("invalid");
      const slot = holder.querySelector(":scope > .field-error") || holder.querySelector(".field-error");
      if (!slot) {
        rest.push(e);
        continue;
      }
      slot.append(h("span", { class: "msg" }, e.message));
      const name = suggestion(e.message);
      const m = /^tools\.(\d+)\.name$/.exec(p);
      if (name && m) {
        slot.append(
          " ",
          h("button", {
            type: "button",
            class: "btn small",
            "data-testid": `use-suggestion-${m[1]}`,
            onclick: () => {
              this.draft.tools[Number(m[1])].name = name;
              this.errors = this.errors.filter((x) => x !== e);
              this.draw();
            },
          }, `Use ${name}`),
        );
      }
    }
    if (rest.length) {
      this.general.append(
        h("div", { class: "error", role: "alert" }, rest.map((e) => h("div", { "data-param": e.param || "" }, h("code", {}, e.param || "spec"), " ", e.message))),
      );
    }
  }

  input(key, attrs = {}) {
    return h(attrs.multiline ? "textarea" : "input", {
      ...attrs,
      multiline: undefined,
      value: this.draft[key] ?? "",
      "data-testid": `spec-${key}`,
      oninput: (e) => (this.draft[key] = e.target.value),
    });
  }

  drawForm() {
    const d = this.draft;
    const idInput = this.input("id", { placeholder: "my-agent", class: "mono", readonly: Boolean(this.existing) });
    const models = h("datalist", { id: "agent-models" }, MODELS.map((m) => h("option", { value: m })));
    const extras = ["planner", "fallbacks", "tags"].filter((k) => {
      const v = d[k];
      return v && (!Array.isArray(v) || v.length);
    });
    return h(
      "form",
      { class: "form spec-form", "data-testid": "spec-form", onsubmit: (e) => e.preventDefault() },
      h(
        "div",
        { class: "grid two" },
        field("Id", idInput, { param: "id", hint: this.existing ? "An agent's id is fixed; save under another id to copy it." : "a–z, 0–9, '-' or '_'; also the assistant id" }),
        field("Name", this.input("name", { placeholder: "Refund helper" }), { param: "name" }),
      ),
      field("Description", this.input("description", { multiline: true, rows: 2 }), {
        param: "description",
        hint: "What the agent does; the supervisor routes on it (10 characters or more).",
      }),
      field("Instructions", this.input("instructions", { multiline: true, rows: 6, class: "mono" }), {
        param: "instructions",
        hint: "The system prompt.",
      }),
      h(
        "div",
        { class: "grid two" },
        field("Model", h("span", {}, this.input("model", { list: "agent-models", class: "mono" }), models), {
          param: "model",
          hint: "provider:model — local:planner, openai:<model>, fake:<script>",
        }),
        field("Who may run it", this.checks("roles", ROLES.map((r) => [r, r])), {
          param: "roles",
          hint: "Admins always may.",
        }),
      ),
      this.toolsSection(),
      h(
        "div",
        { class: "grid two" },
        field(
          "Knowledge collections",
          this.checks("knowledge", this.collectionChoices()),
          { param: "knowledge", hint: "Create collections and upload documents on the Knowledge tab." },
        ),
        field("Hand-offs", this.checks("handoffs", this.agentChoices()), {
          param: "handoffs",
          hint: "Agents this one may transfer the conversation to.",
        }),
      ),
      this.guardrailsSection(),
      this.evalsSection(),
      extras.length
        ? h("p", { class: "muted small", "data-testid": "spec-extras" },
            `Also in this spec: ${extras.join(", ")}${d.planner && d.planner.intents ? ` (${d.planner.intents.length} planner intents)` : ""} — kept as they are; edit them on the YAML tab.`)
        : null,
    );
  }

  collectionChoices() {
    const names = (this.catalog.collections || []).map((c) => [c.name, c.shared ? `${c.name} (shared)` : c.name]);
    for (const n of this.draft.knowledge || []) if (!names.some(([x]) => x === n)) names.push([n, `${n} (not found)`]);
    return names;
  }

  agentChoices() {
    const out = (this.catalog.agents || [])
      .filter((a) => a.assistant_id !== this.draft.id)
      .map((a) => [a.assistant_id, `${a.name} (${a.assistant_id})`]);
    for (const n of this.draft.handoffs || []) if (!out.some(([x]) => x === n)) out.push([n, n]);
    return out;
  }

  checks(key, choices) {
    const chosen = new Set(this.draft[key] || []);
    if (!choices.length) return h("span", { class: "muted small" }, "none available");
    return h(
      "div",
      { class: "checks", "data-testid": `spec-${key}` },
      choices.map(([value, label]) =>
        h(
          "label",
          { class: "check" },
          h("input", {
            type: "checkbox",
            checked: chosen.has(value),
            "data-testid": `${key}-${value}`,
            onchange: (e) => {
              const set = new Set(this.draft[key] || []);
              if (e.target.checked) set.add(value);
              else set.delete(value);
              this.draft[key] = choices.map(([v]) => v).filter((v) => set.has(v));
            },
          }),
          " ",
          label,
        ),
      ),
    );
  }

  // -- tools (agents.tools.js) ---------------------------------------------------------------

  toolDef(name) {
    return (this.catalog.tools || []).find((t) => t.name === name);
  }

  toolsSection() {
    return toolsSection(this);
  }

  addTool(name) {
    this.draft.tools = [...(this.draft.tools || []), { name }];
    this.draw();
  }

  removeTool(name) {
    this.draft.tools = (this.draft.tools || []).filter((t) => t.name !== name);
    this.draw();
  }

  // -- guardrails and evals ----------------------------------------------------------------

  guardrailsSection() {
    const g = (this.draft.guardrails = { ...BLANK_SPEC.guardrails, ...(this.draft.guardrails || {}) });
    const flag = (key, label) =>
      h("label", { class: "check", "data-param": `guardrails.${key}` },
        h("input", { type: "checkbox", checked: Boolean(g[key]), "data-testid": `guardrails-${key}`, onchange: (e) => (g[key] = e.target.checked) }),
        " ", label, h("span", { class: "field-error" }));
    const num = (key, label) =>
      field(label, h("input", { type: "number", min: 1, value: g[key], "data-testid": `guardrails-${key}`, oninput: (e) => (g[key] = Number(e.target.value)) }), {
        param: `guardrails.${key}`,
      });
    return h(
      "fieldset",
      { "data-param": "guardrails" },
      h("legend", {}, "Guardrails"),
      h("span", { class: "field-error" }),
      h("div", { class: "row" }, flag("redact_pii", "Mask card numbers and secrets"), flag("injection_screen", "Quarantine prompt injections")),
      h("div", { class: "grid two" }, num("max_tool_calls_per_turn", "Tool calls per turn"), num("max_steps_per_turn", "Model steps per turn")),
    );
  }

  evalsSection() {
    const gates = (this.draft.evals = (this.draft.evals || []).map((g) => (typeof g === "string" ? { suite: g } : g)));
    const set = (i, key, value) => (gates[i] = { ...gates[i], [key]: value });
    const rows = gates.map((g, i) =>
      h(
        "div",
        { class: "row eval-gate", "data-testid": `eval-gate-${i}` },
        field("Suite", h("input", { class: "mono", value: g.suite || "", "data-testid": `eval-${i}-suite`, oninput: (e) => set(i, "suite", e.target.value.trim()) }), { param: `evals.${i}.suite` }),
        field("min pass^1", h("input", { type: "number", min: 0, max: 1, step: 0.01, value: g.min_pass1 ?? 1, "data-testid": `eval-${i}-min-pass1`, oninput: (e) => set(i, "min_pass1", Number(e.target.value)) }), { param: `evals.${i}.min_pass1` }),
        field("min pass^k", h("input", { type: "number", min: 0, max: 1, step: 0.01, value: g.min_passk ?? 0, "data-testid": `eval-${i}-min-passk`, oninput: (e) => set(i, "min_passk", Number(e.target.value)) }), { param: `evals.${i}.min_passk` }),
        field("k", h("input", { type: "number", min: 1, max: 16, value: g.k ?? 1, "data-testid": `eval-${i}-k`, oninput: (e) => set(i, "k", Number(e.target.value)) }), { param: `evals.${i}.k` }),
        h("button", { type: "button", class: "btn small danger", "data-testid": `eval-remove-${i}`, onclick: () => (gates.splice(i, 1), this.draw()) }, "Remove"),
      ),
    );
    return h(
      "fieldset",
      { "data-param": "evals" },
      h("legend", {}, "Eval gate"),
      h("span", { class: "field-error" }),
      h("p", { class: "muted small" }, "Suites a version must pass before `live` may point at it: your own (sent on the Evals tab) or a built-in one. None: the agent publishes ungated."),
      rows,
      h("button", { type: "button", class: "btn small", "data-testid": "eval-add", onclick: () => (gates.push({ suite: "", min_pass1: 1, min_passk: 0, k: 1 }), this.draw()) }, "+ suite"),
    );
  }
}

// Publishing: move `canary` (ungated) or `live` (through the eval gate), and roll back.
import { h, clear, badge, errorBox, spinner, table, when } from "../ui.js";

const ALIASES = ["live", "canary"];

function gateText(gate) {
  if (!gate) return "";
  const d = gate.decision;
  if (d === "passed") return `gate passed${gate.reused ? " (a recent passing run reused)" : ""}${gate.run_id ? ` · ${gate.run_id}` : ""}`;
  if (d === "forced") return `forced by an admin: ${gate.reason || ""}`;
  if (d === "ungated") return "ungated (the spec names no eval suite)";
  if (d === "rollback") return `roll-back from v${gate.rolled_back_from}`;
  return d || "";
}

function scoresTable(result) {
  const scores = (result && result.scores) || [];
  if (!scores.length) return null;
  const ks = [...new Set(scores.flatMap((s) => Object.keys(s).filter((k) => k.startsWith("pass^"))))].sort();
  return table(
    [
      { label: "Suite", render: (s) => h("span", { class: "mono" }, s.suite) },
      { key: "tasks", label: "Tasks", class: "num" },
      ...ks.map((k) => ({ label: k, class: "num", render: (s) => (s[k] === null || s[k] === undefined ? "—" : Number(s[k]).toFixed(2)) })),
    ],
    scores,
    { testid: "gate-scores" },
  );
}

// The 409 eval_gate_failed answer, readable: the scores, each reason, the run behind them.
export function gateFailure(err, version) {
  const d = err.details || {};
  const reasons = d.reasons && d.reasons.length ? d.reasons : [err.message];
  return h(
    "div",
    { class: "error gate-failed", role: "alert", "data-testid": "gate-failed" },
    h("strong", {}, `The eval gate kept v${version} from live`),
    d.run_id ? h("div", { class: "muted small" }, `run ${d.run_id}${d.reused ? " (reused)" : ""} · ${d.status || ""}`) : null,
    h("ul", { "data-testid": "gate-reasons" }, reasons.map((r) => h("li", {}, r))),
    scoresTable(d.result),
    d.error ? h("div", { class: "mono small" }, d.error) : null,
  );
}

export class PublishPanel {
  constructor({ api, toast, me, agentId, versions, onChange }) {
    this.api = api;
    this.toast = toast;
    this.me = me;
    this.agentId = agentId;
    this.versions = versions;
    this.onChange = onChange;
    this.el = h("div", { class: "publish", "data-testid": "publish-panel" });
    this.outcome = h("div", { "data-testid": "publish-outcome" });
    this.aliasBox = h("div", { class: "grid two" });
  }

  render() {
    const admin = this.me.role === "admin";
    const version = h(
      "select",
      { "data-testid": "publish-version" },
      [...this.versions].reverse().map((v) => h("option", { value: v.version }, `v${v.version}`)),
    );
    const force = h("input", { type: "checkbox", "data-testid": "publish-force" });
    const reason = h("input", { placeholder: "reason (kept in the audit log)", class: "grow", "data-testid": "publish-reason" });
    const canary = h("button", { type: "button", class: "btn", "data-testid": "publish-canary" }, "Move canary");
    const live = h("button", { type: "button", class: "btn primary", "data-testid": "publish-live" }, "Publish to live");
    canary.addEventListener("click", () => this.move("canary", Number(version.value), {}, [canary, live]));
    live.addEventListener("click", () => {
      const extra = force.checked ? { force: true, reason: reason.value } : reason.value ? { reason: reason.value } : {};
      this.move("live", Number(version.value), extra, [canary, live]);
    });
    clear(this.el).append(
      h(
        "div",
        { class: "card form" },
        h("h3", {}, "Publish"),
        h("p", { class: "muted small" },
          "canary moves at once. live moves only through the eval gate: a passing run of this exact version (reused for 7 days), or the suites run now — that can take minutes."),
        h("div", { class: "row" }, h("span", {}, "Version"), version, canary, live),
        admin
          ? h("div", { class: "row" }, h("label", { class: "check" }, force, " force past the gate (admin)"), reason)
          : h("div", { class: "row" }, reason),
        this.outcome,
      ),
      this.aliasBox,
    );
    this.loadAliases();
    return this.el;
  }

  async move(alias, version, extra, buttons) {
    buttons.forEach((b) => (b.disabled = true));
    clear(this.outcome).append(
      spinner(alias === "live" ? `Publishing v${version} to live: running the eval gate…` : `Moving canary to v${version}…`),
    );
    try {
      const r = await this.api.put(`/v1/agents/${encodeURIComponent(this.agentId)}/aliases/${alias}`, { version, ...extra });
      clear(this.outcome).append(
        h("div", { class: "ok-box", "data-testid": "publish-ok" }, badge(alias, "ok"), ` now v${r.version}`, r.gate ? ` — ${gateText(r.gate)}` : ""),
      );
      this.toast(`${alias} → v${r.version}`, "ok");
      this.changed();
    } catch (err) {
      clear(this.outcome).append(err.code === "eval_gate_failed" ? gateFailure(err, version) : errorBox(err));
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  async rollback(alias, reasonInput, button) {
    button.disabled = true;
    try {
      const body = reasonInput.value.trim() ? { reason: reasonInput.value.trim() } : {};
      const r = await this.api.post(`/v1/agents/${encodeURIComponent(this.agentId)}/aliases/${alias}/rollback`, body);
      clear(this.outcome).append(
        h("div", { class: "ok-box", "data-testid": "rollback-ok" }, badge(alias, "warn"), ` rolled back to v${r.version}`),
      );
      this.toast(`${alias} rolled back to v${r.version}`, "ok");
      this.changed();
    } catch (err) {
      clear(this.outcome).append(errorBox(err));
      button.disabled = false;
    }
  }

  changed() {
    this.loadAliases();
    if (this.onChange) this.onChange();
  }

  async loadAliases() {
    let data;
    try {
      data = await this.api.get(`/v1/agents/${encodeURIComponent(this.agentId)}/aliases`);
    } catch (err) {
      clear(this.aliasBox).append(errorBox(err));
      return;
    }
    clear(this.aliasBox).append(...ALIASES.map((alias) => this.aliasCard(alias, data[alias] || { version: null, history: [] })));
  }

  aliasCard(alias, info) {
    const reason = h("input", { placeholder: "why roll back?", "data-testid": `rollback-reason-${alias}` });
    const button = h("button", { type: "button", class: "btn danger", "data-testid": `rollback-${alias}` }, "Roll back");
    button.addEventListener("click", () => this.rollback(alias, reason, button));
    const history = info.history || [];
    const canRoll = history.some((m) => m.kind !== "rollback" && !m.undone && m.previous !== null && m.previous !== undefined);
    button.disabled = !canRoll || info.version === null;
    return h(
      "div",
      { class: "card alias", "data-testid": `alias-${alias}` },
      h(
        "div",
        { class: "row" },
        h("h3", {}, alias),
        h("span", { class: "alias-version", "data-testid": `alias-${alias}-version`, "data-version": info.version ?? "" },
          info.version === null || info.version === undefined ? "not set" : `v${info.version}`),
        h("div", { class: "grow" }),
        reason,
        button,
      ),
      table(
        [
          { label: "When", render: (m) => when(m.at) },
          { label: "Move", render: (m) => h("span", {}, m.previous ? `v${m.previous} → ` : "", `v${m.version}`, " ", badge(m.kind, m.kind === "rollback" ? "warn" : "info"), m.undone ? h("span", { class: "muted small" }, " undone") : null) },
          { label: "Who", render: (m) => h("span", { class: "mono small" }, m.by || "—") },
          { label: "Gate / reason", render: (m) => h("span", { class: "small" }, [gateText(m.gate), m.reason ? ` — “${m.reason}”` : ""].filter(Boolean).join("")) },
        ],
        history,
        { testid: `alias-${alias}-history`, rowTestid: "alias-move", empty: "Never moved." },
      ),
    );
  }
}

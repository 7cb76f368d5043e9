// Eval runs of one agent version: start a run, follow it, read its report.
import { h, clear, badge, errorBox, spinner, table, when, ago } from "../ui.js";

const POLL_MS = 1500;
const CONTROLS = new Set(["oracle", "do-nothing", "do_nothing"]);

const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(Number(v) * 100)}%`);

function statusBadge(status) {
  const kind = { passed: "ok", failed: "bad", error: "bad", running: "info" }[status] || "info";
  return h("span", { class: `badge ${kind}`, "data-testid": "eval-run-status", "data-status": status }, status);
}

// The run's agent row in a task: the agent under test (never a control).
function agentRow(task, agentId) {
  const agents = task.agents || {};
  if (agents[agentId]) return [agentId, agents[agentId]];
  return Object.entries(agents).find(([label, a]) => !CONTROLS.has(label) && !a.control) || [agentId, null];
}

function failureReasons(row) {
  const out = [];
  for (const r of (row && row.results) || []) {
    if (r.passed || r.skipped) continue;
    for (const reason of r.reasons || []) if (!out.includes(reason)) out.push(reason);
  }
  return out;
}

export function renderReport(run) {
  const result = run.result || {};
  const scores = result.scores || [];
  const kKeys = [...new Set(scores.flatMap((s) => Object.keys(s).filter((k) => k.startsWith("pass^"))))].sort(
    (a, b) => Number(a.slice(5)) - Number(b.slice(5)),
  );
  const report = run.report || {};
  const tasks = report.tasks || [];
  const taskRows = tasks.map((t) => {
    const [label, row] = agentRow(t, run.agent_id);
    return { t, label, row, passed: row ? row.trials > 0 && row.successes === row.trials : false };
  });
  return h(
    "div",
    { class: "card eval-report", "data-testid": "eval-report", "data-run": run.run_id, "data-status": run.status },
    h(
      "div",
      { class: "row" },
      h("h3", {}, `Run ${run.run_id}`),
      statusBadge(run.status),
      run.gate ? badge("decides the gate", "info") : badge("does not decide the gate", "warn"),
      h("span", { class: "muted small" }, `v${run.version} · ${run.suites.join(", ")} · ${run.trials} trial(s) · split ${run.split} · ${when(run.created_at)}`),
    ),
    run.error ? errorBox({ message: run.error, code: "eval_run_error" }) : null,
    scores.length
      ? table(
          [
            { key: "suite", label: "Suite", render: (s) => h("span", { class: "mono" }, s.suite) },
            { key: "tasks", label: "Tasks", class: "num" },
            ...kKeys.map((k) => ({ label: k, class: "num", render: (s) => pct(s[k]) })),
          ],
          scores,
          { testid: "eval-scores", rowTestid: "eval-score", rowId: (s) => s.suite },
        )
      : null,
    (result.reasons || []).length
      ? h("div", { class: "error", "data-testid": "eval-reasons" }, h("strong", {}, "Below the gate:"), h("ul", {}, result.reasons.map((r) => h("li", {}, r))))
      : null,
    (result.broken || []).length
      ? h("div", { class: "error" }, h("strong", {}, "Broken tasks (the controls expose them):"), h("ul", {}, result.broken.map((b) => h("li", {}, typeof b === "string" ? b : JSON.stringify(b)))))
      : null,
    taskRows.length
      ? table(
          [
            { label: "Suite", render: (x) => h("span", { class: "mono" }, x.t.suite) },
            { label: "Task", render: (x) => h("span", { class: "mono" }, x.t.task) },
            { label: "Split", render: (x) => x.t.split },
            {
              label: "Result",
              render: (x) =>
                h("span", {}, badge(x.passed ? "pass" : "fail", x.passed ? "ok" : "bad"), " ", h("span", { class: "muted small" }, x.row ? `${x.row.successes}/${x.row.trials}` : "not run")),
            },
            {
              label: "Controls",
              render: (x) =>
                h("span", { class: "muted small" },
                  Object.entries(x.t.agents || {})
                    .filter(([label, a]) => a.control || CONTROLS.has(label))
                    .map(([label, a]) => `${label} ${a.successes}/${a.trials}`)
                    .join(" · ") || "—"),
            },
            {
              label: "Why it failed",
              render: (x) => {
                const reasons = failureReasons(x.row);
                return reasons.length ? h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, r))) : x.t.gold_error ? x.t.gold_error : "";
              },
            },
          ],
          taskRows,
          { testid: "eval-tasks", rowTestid: "eval-task", rowId: (x) => `${x.t.suite}/${x.t.task}` },
        )
      : run.status === "running"
        ? null
        : h("p", { class: "muted" }, "No task results in this report."),
  );
}

export class EvalsPanel {
  constructor({ api, toast, agentId, versions, spec }) {
    this.api = api;
    this.toast = toast;
    this.agentId = agentId;
    this.versions = versions;
    this.spec = spec;
    this.timer = null;
    this.el = h("div", { class: "evals", "data-testid": "evals-panel" });
    this.result = h("div", { "data-testid": "eval-result" });
    this.runs = h("div", {});
  }

  dispose() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  render() {
    const latest = this.versions.length ? this.versions[this.versions.length - 1].version : null;
    const version = h(
      "select",
      { "data-testid": "eval-version" },
      [...this.versions].reverse().map((v) => h("option", { value: v.version }, `v${v.version}`)),
    );
    if (latest) version.value = String(latest);
    const gates = (this.spec.evals || []).map((g) => (typeof g === "string" ? { suite: g } : g));
    const suiteBoxes = gates.map((g) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", checked: true, value: g.suite, "data-testid": `eval-suite-${g.suite}` }), " ", h("span", { class: "mono" }, g.suite),
        h("span", { class: "muted small" }, ` pass^1 ≥ ${g.min_pass1 ?? 1}${g.min_passk ? `, pass^${g.k} ≥ ${g.min_passk}` : ""}`)),
    );
    const more = h("input", { class: "mono", placeholder: "other suites, comma separated", "data-testid": "eval-more-suites" });
    const yaml = h("textarea", {
      class: "mono",
      rows: 10,
      spellcheck: "false",
      placeholder: "schema: cockpit.eval/v1\nsuite: my-suite\ntasks: …",
      "data-testid": "suite-yaml",
    });
    const file = h("input", {
      type: "file",
      accept: ".yaml,.yml,.json",
      "data-testid": "suite-file",
      onchange: async (e) => {
        const f = e.target.files[0];
        if (f) yaml.value = await f.text();
      },
    });
    const trials = h("input", { type: "number", min: 1, max: 16, placeholder: "gate's k", "data-testid": "eval-trials" });
    const run = h("button", { type: "button", class: "btn primary", "data-testid": "run-evals" }, "Run evals");
    run.addEventListener("click", async () => {
      const suites = [
        ...suiteBoxes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
        ...more.value.split(",").map((s) => s.trim()).filter(Boolean),
      ];
      const body = { agent: `${this.agentId}@${version.value}`, suites };
      if (yaml.value.trim()) body.suite_yaml = [yaml.value];
      if (trials.value) body.trials = Number(trials.value);
      run.disabled = true;
      try {
        const started = await this.api.post("/v1/evals/runs", body);
        this.follow(started);
      } catch (err) {
        clear(this.result).append(errorBox(err));
      } finally {
        run.disabled = false;
      }
    });
    clear(this.el).append(
      h(
        "div",
        { class: "card form" },
        h("h3", {}, "Run the eval suites"),
        latest
          ? null
          : h("p", { class: "muted" }, "Save a version first: runs judge a saved version (by its content hash)."),
        h("div", { class: "row" }, h("span", {}, "Version"), version, h("span", {}, "Trials"), trials),
        h("div", { class: "checks" }, suiteBoxes.length ? suiteBoxes : h("span", { class: "muted small" }, "The spec names no suites: name some below or paste one.")),
        more,
        h("details", { open: true }, h("summary", {}, "Your own suite (cockpit.eval/v1 YAML) — stored by its name, then run"), yaml, h("div", { class: "row" }, file)),
        h("div", { class: "row" }, run),
      ),
      this.result,
      h("h3", {}, "Recent runs"),
      this.runs,
    );
    this.loadRuns();
    return this.el;
  }

  async loadRuns() {
    try {
      const rows = await this.api.get("/v1/evals/runs", { agent_id: this.agentId, limit: 20 });
      clear(this.runs).append(
        table(
          [
            { label: "Run", render: (r) => h("span", { class: "mono" }, r.run_id) },
            { label: "Version", render: (r) => `v${r.version}` },
            { label: "Suites", render: (r) => r.suites.join(", ") },
            { label: "Status", render: (r) => badge(r.status, { passed: "ok", failed: "bad", error: "bad" }[r.status] || "info") },
            { label: "Gate", render: (r) => (r.gate ? "yes" : "no") },
            { label: "Started", render: (r) => ago(r.created_at) },
          ],
          rows,
          { testid: "eval-runs", rowTestid: "eval-run", rowId: (r) => r.run_id, onRow: (r) => this.follow(r), empty: "No runs yet." },
        ),
      );
    } catch (err) {
      clear(this.runs).append(errorBox(err));
    }
  }

  follow(run) {
    this.dispose();
    const started = Date.now();
    const tick = async () => {
      let current = run;
      try {
        current = await this.api.get(`/v1/evals/runs/${encodeURIComponent(run.run_id)}`);
      } catch (err) {
        clear(this.result).append(errorBox(err));
        return;
      }
      if (current.status === "running") {
        const secs = Math.round((Date.now() - started) / 1000);
        clear(this.result).append(
          h("div", { class: "card", "data-testid": "eval-running" },
            spinner(`Running ${current.suites.join(", ")} on v${current.version}… ${secs} s (each task runs in a fresh world)`)),
        );
        this.timer = setTimeout(tick, POLL_MS);
        return;
      }
      this.timer = null;
      clear(this.result).append(renderReport(current));
      this.loadRuns();
    };
    tick();
  }
}

// Agents: partners build a spec (form or YAML), attach knowledge, run its evals, publish it to
// canary / live through the eval gate and roll back. Merchants read the specs.
//
// Routes: #/agents (list), #/agents/new[/<template id>], #/agents/<id>.
import { h, clear, badge, errorBox, spinner, useCss, when } from "../ui.js";
import { Builder, BLANK_SPEC } from "./agents.builder.js";
import { EvalsPanel } from "./agents.evals.js";
import { KnowledgePanel } from "./agents.knowledge.js";
import { PublishPanel } from "./agents.publish.js";

const EDITORS = new Set(["partner", "admin"]);
let live = [];

function disposeAll() {
  for (const p of live) if (p && p.dispose) p.dispose();
  live = [];
}

async function catalog(api, me) {
  const [agents, tools, collections] = await Promise.all([
    api.get("/v1/agents", { unpublished: true }),
    EDITORS.has(me.role) ? api.get("/v1/tools").catch(() => []) : [],
    api.get("/v1/knowledge/collections").then((r) => r.data || []).catch(() => []),
  ]);
  return { agents, tools, collections };
}

function aliasBadges(names) {
  return (names || []).map((a) => badge(a, a === "live" ? "ok" : "warn"));
}

function agentList(cat, current, ctx) {
  const own = cat.agents.filter((a) => a.metadata && a.metadata.source === "tenant");
  const builtin = cat.agents.filter((a) => !(a.metadata && a.metadata.source === "tenant"));
  if (current && !cat.agents.some((a) => a.assistant_id === current)) {
    own.unshift({ assistant_id: current, name: current, metadata: { source: "tenant", aliases: [] }, version: null });
  }
  const item = (a) =>
    h(
      "a",
      {
        href: `#/agents/${encodeURIComponent(a.assistant_id)}`,
        class: ["agent-item", a.assistant_id === current ? "active" : null],
        "data-testid": `agent-item-${a.assistant_id}`,
      },
      h("div", { class: "row" }, h("strong", {}, a.name), h("div", { class: "grow" }), ...aliasBadges(a.metadata && a.metadata.aliases), a.live === false ? badge("not live", "info") : null),
      h("div", { class: "muted small mono" }, a.assistant_id, a.version ? ` · v${a.version}` : ""),
    );
  return h(
    "nav",
    { class: "card agent-list", "data-testid": "agent-list" },
    EDITORS.has(ctx.me.role)
      ? h("a", { class: "btn primary", href: "#/agents/new", "data-testid": "new-agent" }, "New agent")
      : null,
    h("h4", {}, "Your agents"),
    own.length ? own.map(item) : h("p", { class: "muted small" }, "None yet."),
    h("h4", {}, "Built-in"),
    builtin.map(item),
  );
}

function tabs(names, onPick) {
  const bar = h("div", { class: "tabs page-tabs", role: "tablist" });
  const buttons = names.map(([name, label]) =>
    h("button", { type: "button", role: "tab", class: "tab", "data-testid": `agent-tab-${name}`, onclick: () => pick(name) }, label),
  );
  const pick = (name) => {
    buttons.forEach((b, i) => b.classList.toggle("active", names[i][0] === name));
    onPick(name);
  };
  bar.append(...buttons);
  return { bar, pick };
}

// #/agents/new[/<template>]: a blank spec, or a copy of an agent to start from.
async function newAgent(main, ctx, cat, template) {
  let spec = { ...BLANK_SPEC };
  if (template) {
    const got = await ctx.api.get(`/v1/agents/${encodeURIComponent(template)}`);
    spec = { ...got.spec, id: `${got.spec.id}-copy`, name: `${got.spec.name} (copy)` };
  }
  const start = h(
    "select",
    {
      "data-testid": "start-from",
      onchange: (e) => ctx.navigate(e.target.value ? `#/agents/new/${encodeURIComponent(e.target.value)}` : "#/agents/new"),
    },
    h("option", { value: "" }, "a blank spec"),
    cat.agents.map((a) => h("option", { value: a.assistant_id }, `${a.name} (${a.assistant_id})`)),
  );
  start.value = template || "";
  const builder = new Builder({
    api: ctx.api,
    toast: ctx.toast,
    catalog: cat,
    spec,
    onSaved: (id) => ctx.navigate(`#/agents/${encodeURIComponent(id)}`),
  });
  clear(main).append(
    h(
      "div",
      { class: "card" },
      h("div", { class: "row" }, h("h2", {}, "New agent"), h("div", { class: "grow" }), h("label", { class: "row" }, "Start from ", start)),
      template
        ? h("p", { class: "muted small" }, `A copy of ${template}: give it its own id. Its planner and other fields come along.`)
        : null,
      builder.render(),
    ),
  );
}

async function agentDetail(main, ctx, cat, agentId, refreshList) {
  const api = ctx.api;
  const editor = EDITORS.has(ctx.me.role);
  let versions = [];
  try {
    versions = await api.get(`/v1/agents/${encodeURIComponent(agentId)}/versions`);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  const builtin = !versions.length;
  const latest = versions.length ? versions[versions.length - 1].version : null;
  const resolved = await api.get(`/v1/agents/${encodeURIComponent(builtin ? agentId : `${agentId}@v${latest}`)}`);
  const spec = resolved.spec;
  let aliases = {};
  if (!builtin) aliases = await api.get(`/v1/agents/${encodeURIComponent(agentId)}/aliases`).catch(() => ({}));
  const pointers = (v) =>
    Object.entries(aliases)
      .filter(([, info]) => info && info.version === v)
      .map(([name]) => name);
  const header = h(
    "div",
    {
      class: "card agent-head",
      "data-testid": "agent-head",
      "data-agent": agentId,
      "data-version": latest ?? 0,
      "data-knowledge": (spec.knowledge || []).join(","),
    },
    h("div", { class: "row" }, h("h2", {}, spec.name), h("span", { class: "mono muted" }, agentId), builtin ? badge("built-in", "info") : null),
    h("p", { class: "muted" }, spec.description),
    builtin
      ? h(
          "div",
          { class: "row" },
          h("span", { class: "muted small" }, "Built-in agents ship with the server; copy one to make it yours."),
          editor ? h("a", { class: "btn", href: `#/agents/new/${encodeURIComponent(agentId)}`, "data-testid": "copy-agent" }, "Copy into a new agent") : null,
        )
      : h(
          "div",
          { class: "row versions", "data-testid": "versions" },
          h("span", { class: "muted small" }, "Versions:"),
          [...versions].reverse().map((v) =>
            h("span", { class: "version-pill", "data-testid": `version-${v.version}`, title: `${v.hash.slice(0, 12)} · ${when(v.created_at)}` },
              `v${v.version}`, ...aliasBadges(pointers(v.version))),
          ),
        ),
  );
  const content = h("div", { class: "agent-content" });
  const panels = {};
  const make = {
    builder: () => {
      const b = new Builder({
        api,
        toast: ctx.toast,
        catalog: cat,
        spec,
        existing: builtin ? null : agentId,
        readOnly: !editor || builtin,
        onSaved: () => ctx.navigate(`#/agents/${encodeURIComponent(agentId)}`),
      });
      b.el.dataset.version = String(latest ?? 0);
      return { el: b.render(), builder: b };
    },
    knowledge: () => {
      const k = new KnowledgePanel({
        api,
        toast: ctx.toast,
        collections: cat.collections,
        onCollections: (list) => {
          cat.collections = list;
          if (panels.builder) panels.builder.builder.draw();
        },
      });
      return { el: k.render() };
    },
    evals: () => {
      const e = new EvalsPanel({ api, toast: ctx.toast, agentId, versions, spec });
      live.push(e);
      return { el: e.render() };
    },
    publish: () => {
      const p = new PublishPanel({ api, toast: ctx.toast, me: ctx.me, agentId, versions, onChange: refreshList });
      return { el: p.render() };
    },
  };
  const names = [["builder", editor && !builtin ? "Build" : "Spec"]];
  if (editor && !builtin) names.push(["knowledge", "Knowledge"], ["evals", "Evals"], ["publish", "Publish"]);
  const { bar, pick } = tabs(names, (name) => {
    if (!panels[name]) panels[name] = make[name]();
    clear(content).append(panels[name].el);
  });
  clear(main).append(header, bar, content);
  pick(ctx.params[1] && make[ctx.params[1]] ? ctx.params[1] : "builder");
}

export const page = {
  title: "Agents",
  // Merchants use agents (chat); building them is partner work, as by REST.
  roles: ["admin", "partner"],

  async render(root, ctx) {
    useCss("pages/agents.css");
    disposeAll();
    const [first, second] = ctx.params;
    const side = h("div", {});
    const main = h("div", { class: "agents-main" }, spinner());
    root.append(h("div", { class: "split agents-page", "data-testid": "agents-page" }, side, main));
    let cat;
    try {
      cat = await catalog(ctx.api, ctx.me);
    } catch (err) {
      clear(main).append(errorBox(err));
      return;
    }
    const current = first && first !== "new" ? first : null;
    side.append(agentList(cat, current, ctx));
    // Publishing changes which version each alias shows in the list.
    const refreshList = async () => {
      try {
        cat.agents = await ctx.api.get("/v1/agents", { unpublished: true });
        clear(side).append(agentList(cat, current, ctx));
      } catch {
        /* the list stays as it was; the panel shows its own errors */
      }
    };
    try {
      if (first === "new" && EDITORS.has(ctx.me.role)) await newAgent(main, ctx, cat, second);
      else if (current) await agentDetail(main, ctx, cat, current, refreshList);
      else
        clear(main).append(
          h(
            "div",
            { class: "card", "data-testid": "agents-intro" },
            h("h2", {}, "Agents"),
            h("p", {}, EDITORS.has(ctx.me.role)
              ? "Pick an agent to edit it, run its evals and publish it, or start a new one. Every save is a new immutable version; `live` moves only through the eval gate."
              : "The agents this tenant runs. Pick one to read its spec."),
          ),
        );
    } catch (err) {
      clear(main).append(errorBox(err));
    }
  },

  dispose() {
    disposeAll();
  },
};

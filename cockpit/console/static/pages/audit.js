// Audit: the tenant's hash chain, newest first — verify it, keep a signed head, export it.
import { h, clear, errorBox, spinner, table, when, badge, panel, useCss } from "../ui.js";

const PAGE = 100;

function summary(payload) {
  if (!payload || typeof payload !== "object") return "";
  const keys = ["role", "tool", "decision", "action", "status", "amount", "currency", "agent", "version", "alias", "reason"];
  const parts = keys.filter((k) => payload[k] !== undefined && payload[k] !== null).map((k) => `${k}=${typeof payload[k] === "object" ? JSON.stringify(payload[k]) : payload[k]}`);
  return parts.join(" · ") || JSON.stringify(payload).slice(0, 120);
}

function verdict(result, anchored) {
  const ok = result.ok;
  return h(
    "div",
    { class: ["card", "verdict", ok ? "ok" : "bad"], "data-testid": "audit-verdict", "data-ok": String(ok) },
    badge(ok ? "chain intact" : "chain broken", ok ? "ok" : "bad"),
    " ",
    ok
      ? `${result.records} records verified with the audit key${anchored ? ", and the saved head is still in the chain" : ""}.`
      : `At record ${result.at_seq ?? "?"}: ${result.problem || "the chain does not verify"}.`,
  );
}

export const page = {
  title: "Audit",
  roles: ["admin", "partner", "merchant"],
  // The chain holds every merchant's records: only tenant-wide keys may read it.
  allowed: (me) => me.merchant_id === null || me.merchant_id === undefined,

  async render(root, { api, toast }) {
    useCss("pages/audit.css");
    const state = { head: null, after: 0, kind: "", subject: "" };
    const result = h("div", { "data-testid": "audit-result" });
    const list = h("div", { class: "card", "data-testid": "audit-list" });
    const kindInput = h("input", { placeholder: "kind, e.g. tool_call", "data-testid": "audit-kind", size: 18 });
    const subjectInput = h("input", { placeholder: "subject id", "data-testid": "audit-subject", size: 22 });
    const anchorFile = h("input", { type: "file", accept: "application/json,.json", "data-testid": "audit-anchor-file", class: "hidden-file" });

    const verify = async () => {
      clear(result).append(spinner("Verifying the chain…"));
      try {
        clear(result).append(verdict(await api.get("/v1/audit/verify"), false));
      } catch (err) {
        clear(result).append(errorBox(err));
      }
    };
    const verifyAnchor = async () => {
      const file = anchorFile.files[0];
      if (!file) return;
      clear(result).append(spinner("Verifying against the saved head…"));
      try {
        const head = JSON.parse(await file.text());
        clear(result).append(verdict(await api.post("/v1/audit/verify", head), true));
      } catch (err) {
        clear(result).append(errorBox(err instanceof SyntaxError ? { message: `${file.name} is not JSON`, code: "invalid_json" } : err));
      } finally {
        anchorFile.value = "";
      }
    };
    anchorFile.addEventListener("change", verifyAnchor);

    const load = () =>
      panel(list, async () => {
        state.head = await api.get("/v1/audit/head");
        const newest = state.head.seq;
        const filtered = Boolean(state.kind || state.subject);
        const after = filtered ? 0 : Math.max(0, Math.min(state.after ?? newest, newest) - PAGE);
        const rows = await api.get("/v1/audit", { kind: state.kind, subject: state.subject, after_seq: after, limit: PAGE });
        rows.reverse();
        const body = h("div", {});
        body.append(
          h("div", { class: "row muted small" }, `Chain head: record ${newest}, signed with key ${state.head.kid}. Showing ${rows.length} record(s)${filtered ? " matching the filter" : ""}, newest first.`),
          table(
            [
              { label: "#", render: (r) => r.seq, class: "num" },
              { label: "when", render: (r) => when(r.ts) },
              { label: "kind", render: (r) => h("span", { class: "mono" }, r.kind) },
              { label: "actor", render: (r) => h("span", { class: "mono" }, r.actor || "—") },
              { label: "subject", render: (r) => h("span", { class: "mono" }, r.subject || "—") },
              { label: "what", render: (r) => h("details", {}, h("summary", {}, summary(r.payload)), h("pre", {}, JSON.stringify(r.payload, null, 2))) },
              { label: "hash", render: (r) => h("span", { class: "mono", title: `prev ${r.prev_hash}` }, `${r.hash.slice(0, 10)}…`) },
            ],
            rows,
            { testid: "audit-table", rowTestid: "audit-row", empty: "No records." },
          ),
        );
        if (!filtered) {
          const pager = h("div", { class: "row pager" });
          if (after > 0) pager.append(h("button", { class: "btn", "data-testid": "audit-older", onclick: () => ((state.after = after), load()) }, "Older"));
          if (after + PAGE < newest) pager.append(h("button", { class: "btn", onclick: () => ((state.after = newest), load()) }, "Newest"));
          body.append(pager);
        }
        return body;
      });

    root.append(
      h(
        "div",
        { class: "toolbar" },
        h("button", { class: "btn primary", "data-testid": "audit-verify", onclick: verify }, "Verify chain"),
        h("button", { class: "btn", "data-testid": "audit-head", onclick: async () => {
          try {
            await api.download("/v1/audit/head", "audit-head.json");
            toast("Signed head saved: keep it somewhere else, then verify against it later.", "ok");
          } catch (err) {
            toast(err.message, "bad");
          }
        } }, "Save signed head"),
        h("label", { class: "btn", "data-testid": "audit-anchor" }, "Verify against a saved head…", anchorFile),
        h("button", { class: "btn", "data-testid": "audit-export", onclick: async () => {
          try {
            await api.download("/v1/audit/export", "audit-chain.jsonl");
          } catch (err) {
            toast(err.message, "bad");
          }
        } }, "Export (JSON lines)"),
        h("span", { class: "spacer" }),
        kindInput,
        subjectInput,
        h("button", { class: "btn", "data-testid": "audit-filter", onclick: () => {
          state.kind = kindInput.value.trim();
          state.subject = subjectInput.value.trim();
          state.after = null;
          load();
        } }, "Filter"),
      ),
      result,
      list,
    );
    state.after = null;
    await load();
  },
};

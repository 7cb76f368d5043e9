// Knowledge for agents: the tenant's collections, a new one, documents uploaded with progress.
import { h, clear, badge, errorBox, table } from "../ui.js";

const fileBase64 = (file) =>
  new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });

export class KnowledgePanel {
  // onCollections(list): the builder's "attach" choices follow what exists.
  constructor({ api, toast, collections, onCollections }) {
    this.api = api;
    this.toast = toast;
    this.collections = collections || [];
    this.onCollections = onCollections;
    this.selected = (this.collections.find((c) => !c.shared) || {}).name || "";
    this.el = h("div", { class: "knowledge", "data-testid": "knowledge-panel" });
    this.docs = h("div", {});
    this.progress = h("div", { class: "uploads", "data-testid": "uploads" });
  }

  async refresh() {
    const answer = await this.api.get("/v1/knowledge/collections");
    this.collections = answer.data || [];
    if (this.onCollections) this.onCollections(this.collections);
  }

  render() {
    const own = this.collections.filter((c) => !c.shared);
    const name = h("input", { class: "mono", placeholder: "refund-policies", "data-testid": "kn-new-name" });
    const desc = h("input", { placeholder: "what is in it", "data-testid": "kn-new-desc" });
    const createError = h("div", {});
    const create = h("button", { type: "button", class: "btn", "data-testid": "kn-create" }, "Create collection");
    create.addEventListener("click", async () => {
      clear(createError);
      try {
        const c = await this.api.post("/v1/knowledge/collections", { name: name.value.trim(), description: desc.value });
        this.toast(`Collection ${c.name} created`, "ok");
        this.selected = c.name;
        await this.refresh();
        this.render();
      } catch (err) {
        createError.append(errorBox(err));
      }
    });
    const pick = h(
      "select",
      { "data-testid": "kn-collection", "data-selected": this.selected, onchange: (e) => ((this.selected = e.target.value), this.loadDocs()) },
      own.map((c) => h("option", { value: c.name }, c.name)),
    );
    pick.value = this.selected;
    pick.addEventListener("change", () => (pick.dataset.selected = pick.value));
    const files = h("input", { type: "file", multiple: true, accept: ".md,.txt,.json,.pdf", "data-testid": "kn-files" });
    const upload = h("button", { type: "button", class: "btn primary", "data-testid": "kn-upload" }, "Upload");
    upload.addEventListener("click", async () => {
      if (!this.selected) return this.toast("Create a collection first.", "bad");
      upload.disabled = true;
      try {
        await this.uploadAll([...files.files]);
        files.value = "";
      } finally {
        upload.disabled = false;
      }
    });
    clear(this.el).append(
      h(
        "div",
        { class: "grid two" },
        h(
          "div",
          { class: "card form" },
          h("h3", {}, "Collections"),
          table(
            [
              { label: "Name", render: (c) => h("span", { class: "mono" }, c.name) },
              { label: "", render: (c) => (c.shared ? badge("shared", "info") : badge("yours", "ok")) },
              { key: "chunks", label: "Chunks", class: "num" },
              { key: "description", label: "Description" },
            ],
            this.collections,
            {
              testid: "kn-collections",
              rowTestid: "kn-collection-row",
              rowId: (c) => c.name,
              onRow: (c) => (c.shared ? null : ((this.selected = c.name), this.render())),
              empty: "No collections yet.",
            },
          ),
          h("div", { class: "row" }, name, desc, create),
          createError,
        ),
        h(
          "div",
          { class: "card form" },
          h("h3", {}, "Upload documents"),
          own.length
            ? h("div", { class: "row" }, pick, files, upload)
            : h("p", { class: "muted" }, "Create a collection to upload into."),
          h("p", { class: "muted small" }, "Markdown, text, JSON or PDF; each file becomes one document (same file again: replaced when changed)."),
          this.progress,
          h("h4", {}, "Documents"),
          this.docs,
        ),
      ),
    );
    this.loadDocs();
    return this.el;
  }

  async uploadAll(list) {
    clear(this.progress);
    const rows = list.map((file) => {
      const bar = h("span", {});
      const state = h("span", { class: "muted small", "data-testid": "kn-upload-state" }, "waiting");
      const row = h("div", { class: "upload-row", "data-testid": "kn-progress", "data-file": file.name, "data-done": "false" },
        h("span", { class: "mono" }, file.name), h("div", { class: "progress" }, bar), state);
      this.progress.append(row);
      return { file, bar, state, row };
    });
    // One at a time: every upload embeds on the server's CPU.
    for (const r of rows) {
      try {
        const body = JSON.stringify({ filename: r.file.name, content_base64: await fileBase64(r.file) });
        r.state.textContent = "uploading";
        const answer = await this.api.upload(
          `/v1/knowledge/collections/${encodeURIComponent(this.selected)}/documents`,
          body,
          (p) => {
            r.bar.style.width = `${Math.round(p * 100)}%`;
            if (p >= 1 && r.state.textContent === "uploading") r.state.textContent = "indexing";
          },
          { headers: { "content-type": "application/json" } },
        );
        r.bar.style.width = "100%";
        r.state.textContent = `${answer.status} · ${answer.chunks} chunks`;
        r.row.dataset.done = "true";
      } catch (err) {
        r.row.dataset.done = "error";
        r.state.textContent = "";
        r.state.append(errorBox(err));
      }
    }
    await this.refresh().catch(() => null);
    this.loadDocs();
  }

  async loadDocs() {
    if (!this.selected) return clear(this.docs);
    try {
      const answer = await this.api.get(`/v1/knowledge/collections/${encodeURIComponent(this.selected)}/documents`);
      clear(this.docs).append(
        table(
          [
            { label: "Document", render: (d) => h("span", { class: "mono" }, d.document_id) },
            { key: "title", label: "Title" },
            { key: "doc_type", label: "Type" },
            { key: "chunks", label: "Chunks", class: "num" },
            { label: "", render: (d) => (d.untrusted_chunks ? badge(`${d.untrusted_chunks} quarantined`, "warn") : "") },
          ],
          answer.data || [],
          { testid: "kn-docs", rowTestid: "kn-doc", rowId: (d) => d.document_id, empty: "No documents in this collection." },
        ),
      );
    } catch (err) {
      clear(this.docs).append(errorBox(err));
    }
  }
}

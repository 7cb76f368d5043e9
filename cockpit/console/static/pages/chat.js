// Chat: talk to any assistant this key may run. Answers stream in, tool calls show compactly,
// a run that stops for a human shows an approval card inline; deciding resumes the run.
import { h, clear, errorBox, spinner, badge, useCss, when } from "../ui.js";
import { approvalCard, fromInterrupt } from "./approvals.js";

const PREFERRED = ["copilot", "cockpit"];
const HANDOFF = "transfer_to_";
const MODES = ["messages-tuple", "updates"];

// Message content as text: a string, or the text parts of a content list.
function text(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === "string" ? p : p && p.type === "text" ? p.text : "")).join("");
  return "";
}

function isChunk(msg) {
  return typeof msg.type === "string" && msg.type.endsWith("Chunk");
}

function kind(msg) {
  const t = String(msg.type || "").replace(/MessageChunk$|Message$/, "").toLowerCase();
  return t === "human" || t === "user" ? "human" : t === "ai" || t === "assistant" ? "ai" : t;
}

function short(value, max = 160) {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function threadTitle(t) {
  const meta = t.metadata || {};
  if (meta.title) return meta.title;
  const first = ((t.values && t.values.messages) || []).find((m) => kind(m) === "human");
  return first ? short(text(first.content), 60) : "(empty conversation)";
}

// One conversation's transcript: messages keyed by id, tool calls keyed by call id.
class Transcript {
  constructor(log) {
    this.log = log;
    this.bubbles = new Map();
    this.calls = new Map();
    this.cards = new Map();
    this.agent = null;
  }

  scroll() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  add(node) {
    this.log.append(node);
    this.scroll();
    return node;
  }

  user(content) {
    this.add(h("div", { class: "msg user", "data-testid": "msg-user" }, h("div", { class: "who" }, "you"), h("div", { class: "body" }, content)));
  }

  // A whole message (from state, or an `updates` event) or a streamed chunk of one.
  message(msg, { chunk = false, agent = null } = {}) {
    const k = kind(msg);
    if (k === "human") return this.user(text(msg.content));
    if (k === "tool") return this.toolResult(msg);
    if (k !== "ai") return;
    if (msg.name || agent) this.agent = msg.name || agent;
    const id = msg.id || `ai-${this.bubbles.size}`;
    const body = text(msg.content);
    let bubble = this.bubbles.get(id);
    if (!bubble && (body || chunk)) {
      const content = h("div", { class: "body", "data-testid": "msg-text" });
      const who = h("div", { class: "who" }, msg.name || this.agent || "assistant");
      bubble = { node: h("div", { class: "msg ai", "data-testid": "msg-ai", "data-message-id": id }, who, content), content, who, text: "" };
      this.bubbles.set(id, bubble);
      this.add(bubble.node);
    }
    if (bubble) {
      // A chunk adds to what arrived so far; a whole message is the final text.
      bubble.text = chunk ? bubble.text + body : body || bubble.text;
      bubble.content.textContent = bubble.text;
      if (msg.name) bubble.who.textContent = msg.name;
      bubble.node.classList.toggle("streaming", chunk);
      bubble.node.hidden = !bubble.text;
      this.scroll();
    }
    // A streamed chunk's tool calls are still partial (arguments arrive in pieces): the whole
    // message of the `updates` event shows them.
    if (!chunk) for (const call of msg.tool_calls || []) this.toolCall(call);
  }

  toolCall(call) {
    if (!call || !call.name || this.calls.has(call.id)) return;
    const result = h("div", { class: "tool-result-slot" });
    let node;
    if (call.name.startsWith(HANDOFF)) {
      const target = call.name.slice(HANDOFF.length).replace(/_/g, "-");
      node = h("div", { class: "handoff", "data-testid": "handoff", "data-target": target }, `⇢ handing over to ${target}`, result);
    } else {
      node = h(
        "div",
        { class: "tool-call", "data-testid": "tool-call", "data-tool": call.name, "data-call-id": call.id },
        h("span", { class: "mono" }, `→ ${call.name}(${short(call.args || {}, 400)})`),
        result,
      );
    }
    this.calls.set(call.id, { node, result, name: call.name });
    this.add(node);
  }

  toolResult(msg) {
    const call = this.calls.get(msg.tool_call_id);
    const raw = text(msg.content);
    let parsed = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      /* plain text result */
    }
    if (!call) return;
    if (call.done) return;
    call.done = true;
    if (call.name.startsWith(HANDOFF)) {
      const to = parsed && parsed.transferred_to;
      call.node.firstChild.textContent = to ? `⇢ handed over to ${to}` : `⇢ handoff refused`;
      if (to) this.agent = to;
      return;
    }
    const rejected = parsed && parsed.rejected;
    const status = rejected ? "rejected" : msg.status === "error" ? "error" : "ok";
    const kindOf = { ok: "ok", error: "bad", rejected: "bad" }[status];
    call.node.dataset.status = status;
    call.result.append(
      h(
        "details",
        { class: "tool-result", "data-testid": "tool-result" },
        h("summary", {}, badge(status === "ok" ? "done" : status, kindOf), " ", h("span", { class: "muted small" }, short(parsed, 120))),
        h("pre", {}, typeof parsed === "string" ? parsed : JSON.stringify(parsed, null, 2)),
      ),
    );
    // A human edited the call before it ran: say what actually ran.
    const ran = msg.additional_kwargs && msg.additional_kwargs.executed_args;
    if (ran) call.result.append(h("div", { class: "small muted", "data-testid": "tool-edited" }, `ran as edited: ${short(ran, 300)}`));
    this.scroll();
  }

  error(err) {
    this.add(h("div", { class: "msg-error" }, errorBox(err)));
  }
}

export const page = {
  title: "Chat",
  roles: ["admin", "merchant", "partner"],

  async render(root, { api, params }) {
    useCss("pages/chat.css");
    const st = { assistant: null, threadId: null, busy: false, controller: null, disposed: false };
    this._st = st;

    const picker = h("select", { "data-testid": "chat-assistant", "aria-label": "Assistant" });
    const threads = h("div", { class: "thread-list", "data-testid": "thread-list" });
    const log = h("div", { class: "chat-log", "data-testid": "chat-log", "aria-live": "polite" });
    const input = h("textarea", { rows: 2, placeholder: "Ask something, e.g. “refund 12 SGD on pay_…”", "data-testid": "chat-input", "aria-label": "Message" });
    // Enabled once the assistants are known: a message needs one to go to.
    const send = h("button", { class: "btn primary", type: "submit", "data-testid": "chat-send", disabled: true }, "Send");
    const status = h("div", { class: "chat-status muted small", "data-testid": "chat-status" });
    const heading = h("div", { class: "chat-heading muted small", "data-testid": "chat-thread" });
    let transcript = new Transcript(log);

    const composer = h(
      "form",
      { class: "composer", "data-testid": "chat-form", onsubmit: (e) => (e.preventDefault(), submit()) },
      input,
      send,
    );
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        submit();
      }
    });
    root.append(
      h(
        "div",
        { class: "split chat" },
        h(
          "aside",
          { class: "card chat-side" },
          h("label", { class: "field" }, h("span", { class: "label" }, "Assistant"), picker),
          h("button", { class: "btn", type: "button", "data-testid": "chat-new", onclick: () => newConversation() }, "New conversation"),
          h("h3", {}, "Conversations"),
          threads,
        ),
        h("div", { class: "card chat-main" }, heading, log, status, composer),
      ),
    );

    const setBusy = (busy, label) => {
      st.busy = busy;
      send.disabled = busy || !st.assistant;
      clear(status);
      if (busy) status.append(spinner(label || "Thinking…"));
    };

    // ---- assistants and threads ----------------------------------------------------------
    let assistants = [];
    try {
      assistants = await api.post("/assistants/search", { limit: 100 });
    } catch (err) {
      root.prepend(errorBox(err));
    }
    if (!assistants.length) clear(log).append(h("p", { class: "muted", "data-testid": "chat-empty" }, "This key may not run any assistant."));
    for (const a of assistants) picker.append(h("option", { value: a.assistant_id, title: a.description }, `${a.name || a.assistant_id} (${a.assistant_id})`));
    const ids = assistants.map((a) => a.assistant_id);
    st.assistant = PREFERRED.find((p) => ids.includes(p)) || ids[0] || null;
    if (st.assistant) picker.value = st.assistant;
    send.disabled = !st.assistant;
    picker.addEventListener("change", () => {
      st.assistant = picker.value;
      // Another assistant is another conversation.
      if (st.threadId) newConversation();
    });

    async function loadThreads() {
      try {
        const rows = await api.post("/threads/search", { limit: 30 });
        clear(threads);
        if (!rows.length) threads.append(h("p", { class: "muted small" }, "No conversations yet."));
        for (const t of rows) {
          const waiting = t.status === "interrupted";
          threads.append(
            h(
              "button",
              { type: "button", class: ["thread-item", t.thread_id === st.threadId ? "active" : null], "data-testid": "thread-item", "data-thread-id": t.thread_id, onclick: () => openThread(t.thread_id) },
              h("span", { class: "title" }, threadTitle(t)),
              h("span", { class: "muted small" }, when(t.updated_at), waiting ? " · " : null, waiting ? badge("waiting for approval", "warn") : null, t.status === "error" ? badge("error", "bad") : null),
            ),
          );
        }
      } catch (err) {
        clear(threads).append(errorBox(err));
      }
    }

    function setThread(id) {
      st.threadId = id;
      clear(heading);
      if (id) heading.append("Conversation ", h("span", { class: "mono" }, id), " with ", h("strong", {}, st.assistant));
      // Keep the address shareable without re-rendering the page (no hashchange).
      history.replaceState(null, "", id ? `#/chat/${encodeURIComponent(id)}` : "#/chat");
      for (const b of threads.querySelectorAll(".thread-item")) b.classList.toggle("active", b.dataset.threadId === id);
    }

    function newConversation() {
      if (st.controller) st.controller.abort();
      setBusy(false);
      clear(log);
      transcript = new Transcript(log);
      setThread(null);
      input.focus();
    }

    async function openThread(id) {
      if (st.controller) st.controller.abort();
      clear(log).append(spinner("Opening the conversation…"));
      transcript = new Transcript(log);
      try {
        const [thread, state] = await Promise.all([api.get(`/threads/${encodeURIComponent(id)}`), api.get(`/threads/${encodeURIComponent(id)}/state`)]);
        clear(log);
        const assistant = (thread.metadata || {}).assistant_id;
        if (assistant && ids.includes(assistant)) {
          st.assistant = assistant;
          picker.value = assistant;
        }
        setThread(id);
        for (const m of (state.values && state.values.messages) || []) transcript.message(m);
        await showInterrupts(state.interrupts || []);
      } catch (err) {
        clear(log).append(errorBox(err));
        setThread(null);
      }
    }

    // ---- running and resuming --------------------------------------------------------------
    async function showInterrupts(interrupts) {
      const approvals = interrupts.filter((i) => i && i.value && i.value.type === "approval_request");
      for (const i of approvals) {
        if (transcript.cards.has(i.value.approval_id)) continue;
        let row = fromInterrupt(i.value);
        try {
          // The server's view adds four eyes, who may decide, and which argument is the amount.
          row = { ...row, ...(await api.get(`/v1/approvals/${encodeURIComponent(row.approval_id)}`)) };
        } catch {
          /* the interrupt alone still says what is asked */
        }
        const decide = (decision) => {
          const resume = approvals.length > 1 ? { [i.id]: decision } : decision;
          return run({ assistant_id: st.assistant, command: { resume } }, "Resuming…");
        };
        const card = approvalCard(row, { decide });
        transcript.cards.set(row.approval_id, card);
        transcript.add(card);
      }
      for (const i of interrupts.filter((x) => !(x && x.value && x.value.type === "approval_request"))) {
        transcript.add(h("div", { class: "card muted" }, `The run is waiting: ${short(i.value)}`));
      }
    }

    // One streamed run; resolves when the stream ends, throws the ApiError that stopped it.
    async function run(body, label) {
      if (st.busy) throw { message: "A run is still streaming in this conversation.", code: "busy" };
      setBusy(true, label);
      const controller = new AbortController();
      st.controller = controller;
      const interrupts = [];
      let failure = null;
      try {
        await api.stream(
          `/threads/${encodeURIComponent(st.threadId)}/runs/stream`,
          { ...body, stream_mode: MODES },
          ({ event, data }) => {
            if (event === "messages" && Array.isArray(data)) {
              const [msg, meta] = data;
              if (msg) transcript.message(msg, { chunk: isChunk(msg), agent: meta && meta.cockpit_agent_id });
            } else if (event === "updates" && data && typeof data === "object") {
              for (const [node, update] of Object.entries(data)) {
                if (node === "__interrupt__") interrupts.push(...(Array.isArray(update) ? update : [update]));
                else if (update && Array.isArray(update.messages)) update.messages.forEach((m) => transcript.message(m));
              }
            } else if (event === "error") {
              failure = { message: (data && data.message) || "the run failed", code: (data && data.error) || "run_failed" };
            }
          },
          { signal: controller.signal },
        );
      } catch (err) {
        if (err && err.name === "AbortError") return;
        failure = err;
      } finally {
        if (st.controller === controller) st.controller = null;
        setBusy(false);
      }
      for (const b of transcript.bubbles.values()) b.node.classList.remove("streaming");
      if (st.disposed) return;
      if (failure) {
        transcript.error(failure);
        loadThreads();
        throw failure;
      }
      await showInterrupts(interrupts);
      loadThreads();
    }

    async function submit() {
      const content = input.value.trim();
      if (!content || st.busy || !st.assistant) return;
      input.value = "";
      try {
        if (!st.threadId) {
          const thread = await api.post("/threads", { metadata: { assistant_id: st.assistant, title: short(content, 60), source: "console" } });
          setThread(thread.thread_id);
        }
      } catch (err) {
        transcript.error(err);
        return;
      }
      transcript.user(content);
      try {
        await run({ assistant_id: st.assistant, input: { messages: [{ role: "user", content }] } }, "Thinking…");
      } catch {
        /* shown in the transcript */
      }
    }

    await loadThreads();
    if (params && params[0]) await openThread(params[0]);
    else input.focus();
  },

  dispose() {
    const st = this._st;
    if (!st) return;
    st.disposed = true;
    if (st.controller) st.controller.abort();
  },
};

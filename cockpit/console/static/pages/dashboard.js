// Merchant dashboard: success rate over time, declines by code and method, disputes by deadline,
// FX exposure with a forecast fan, balances — for the key's merchant, or one an admin/partner picks.
//
// Every panel loads on its own (ui.panel): a failing endpoint shows its error in its panel and
// the rest of the page stays. Amounts are shown in major units with their currency.
import { h, clear, errorBox, spinner, table, money, toMinor, badge, useCss, when } from "../ui.js";
import { lineChart, barChart, fanChart, color } from "../charts.js";

const DAY = 86_400_000;
const WINDOWS = [30, 90];
const URGENT_DAYS = 3;
const FX_HORIZON = 30;

const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const count = (v) => Number(v).toLocaleString("en");
const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const majorMoney = (major, ccy) => money(toMinor(major, ccy), ccy);
const rateText = (v) => (Number.isFinite(v) ? Number(v.toPrecision(5)).toString() : "—");

// A card whose body loads by itself; returns the body to fill.
function card(title, testid, ...extra) {
  const body = h("div", { class: "dash-body", "data-testid": `${testid}-body` });
  return { node: h("section", { class: "card dash-card", "data-testid": testid }, h("h2", {}, title, ...extra), body), body };
}

async function fill(node, promise, draw) {
  clear(node).append(spinner());
  try {
    const content = draw(await promise);
    clear(node);
    if (content) node.append(content);
  } catch (err) {
    clear(node).append(errorBox(err));
  }
}

function kpi(testid, label, value, sub, attrs = {}) {
  return h("div", { class: "kpi", "data-testid": testid, ...attrs }, h("span", { class: "label" }, label), h("span", { class: "value" }, value), sub ? h("span", { class: "muted small" }, sub) : null);
}

// {q5, q10, q50, q90, q95} → [{level, lo, hi}] widest first, from the pairs of quantiles.
export function bandsOf(point) {
  const qs = Object.keys(point)
    .map((k) => /^q(\d+(?:_\d+)?)$/.exec(k))
    .filter(Boolean)
    .map((m) => ({ key: m[0], q: Number(m[1].replace("_", ".")) / 100 }));
  const bands = [];
  for (const lo of qs.filter((x) => x.q < 0.5)) {
    const hi = qs.find((x) => Math.abs(x.q - (1 - lo.q)) < 1e-9);
    // Rounded: 0.95 − 0.05 is 0.8999999999999999 in floating point.
    if (hi) bands.push({ level: Math.round((hi.q - lo.q) * 1e6) / 1e6, lo: point[lo.key], hi: point[hi.key] });
  }
  return bands.sort((a, b) => b.level - a.level);
}

function fanData(fc) {
  return {
    history: (fc.history || []).map((p) => ({ date: p.date, value: p.value })),
    forecast: fc.points.map((p) => ({ date: p.date, median: p.q50 ?? p.mean, bands: bandsOf(p) })),
  };
}

// Rate over the trailing `n` buckets (days with no payments count as nothing, not as 0%).
export function trailing(points, n) {
  return points.map((p, i) => {
    const win = points.slice(Math.max(0, i - n + 1), i + 1);
    const attempts = win.reduce((acc, q) => acc + q.attempts, 0);
    const approved = win.reduce((acc, q) => acc + q.approved, 0);
    return { date: p.date, attempts, approved, rate: attempts ? approved / attempts : null };
  });
}

function daysLeft(dueIso, asOf) {
  return (new Date(dueIso).getTime() - asOf) / DAY;
}

function deadlineBadge(days) {
  if (days < 0) return badge("overdue", "bad");
  if (days < URGENT_DAYS) return badge(`${days < 1 ? "< 1" : Math.floor(days)} d left`, "bad");
  return badge(`${Math.floor(days)} d left`, days < 7 ? "warn" : "info");
}

export const page = {
  title: "Dashboard",
  roles: ["admin", "merchant", "partner"],

  async render(root, ctx) {
    useCss("pages/dashboard.css");
    this._gen = (this._gen || 0) + 1;
    const gen = this._gen;
    const { api, me } = ctx;
    const state = { days: WINDOWS[0], merchant: me.merchant_id || ctx.params[0] || null };

    const toolbar = h("div", { class: "toolbar dash-toolbar", "data-testid": "dash-toolbar" });
    const content = h("div", { class: "dash", "data-testid": "dashboard" });
    root.append(toolbar, content);

    let merchants = [];
    if (!me.merchant_id) {
      clear(content).append(spinner("Loading merchants…"));
      try {
        merchants = (await api.get("/v1/payments/merchants")).data;
      } catch (err) {
        clear(content).append(errorBox(err));
        return;
      }
      if (!merchants.length) {
        clear(content).append(h("div", { class: "card muted", "data-testid": "dash-no-merchants" }, "This tenant has no merchants yet."));
        return;
      }
      if (!merchants.some((m) => m.merchantId === state.merchant)) {
        state.merchant = (merchants.find((m) => m.canTransact) || merchants[0]).merchantId;
      }
      toolbar.append(
        h("label", { class: "field" }, h("span", { class: "label" }, "Merchant"),
          h("select", { "data-testid": "dash-merchant", onchange: (e) => ctx.navigate(`#/dashboard/${encodeURIComponent(e.target.value)}`) },
            merchants.map((m) => h("option", { value: m.merchantId, selected: m.merchantId === state.merchant },
              `${m.name} (${m.merchantId})${m.canTransact ? "" : ` · KYB ${m.kybState.toLowerCase().replace(/_/g, " ")}`}`)))),
      );
    }
    const daysSelect = h("select", { "data-testid": "dash-days", onchange: (e) => ((state.days = Number(e.target.value)), load()) },
      WINDOWS.map((d) => h("option", { value: d, selected: d === state.days }, `Last ${d} days`)));
    toolbar.append(h("label", { class: "field" }, h("span", { class: "label" }, "Window"), daysSelect));

    const load = () => {
      if (gen !== this._gen) return;
      const id = state.merchant;
      const q = { merchant_id: id, days: state.days };
      const get = (path, query) => api.get(path, query);
      const data = {
        merchant: get(`/v1/payments/merchants/${encodeURIComponent(id)}`),
        rate: get("/v1/payments/analytics/success-rate", { ...q, group_by: "method_type" }),
        series: get("/v1/payments/analytics/success-rate/series", { ...q, bucket: "day" }),
        declines: get("/v1/payments/analytics/declines", q),
        levers: get("/v1/payments/analytics/levers", q),
        disputes: get("/v1/payments/disputes", { merchant_id: id, status: "NEEDS_RESPONSE" }),
        allDisputes: get("/v1/payments/disputes", { merchant_id: id }),
        balances: get(`/v1/payments/balances/${encodeURIComponent(id)}`),
      };
      // Unhandled rejections are shown by the panels that await them.
      for (const p of Object.values(data)) p.catch(() => {});
      // Deadlines count from the server's clock (the series' end), not the browser's.
      const asOf = data.series.then((s) => new Date(s.end).getTime(), () => Date.now());
      const view = this.layout(data, asOf, state, api);
      clear(content).append(view);
    };
    load();
  },

  layout(data, asOf, state, api) {
    const kpis = h("div", { class: "dash-kpis", "data-testid": "dash-kpis" });
    const tiles = ["kpi-success-rate", "kpi-volume", "kpi-disputes", "kpi-deadline"].map((t) => h("div", { class: "card dash-kpi", "data-testid": `${t}-card` }));
    kpis.append(...tiles);
    const [tRate, tVolume, tDisputes, tDeadline] = tiles;
    const period = `last ${state.days} days`;

    fill(tRate, data.rate, (r) =>
      kpi("kpi-success-rate", "Success rate", pct(r.successRate), `${count(r.approved)} of ${count(r.attempts)} payments, ${period}`, { "data-value": r.successRate ?? "" }));
    fill(tVolume, Promise.all([data.series, data.merchant]), ([s, m]) => {
      const home = s.approvedVolume.find((v) => v.currency === m.settlementCurrency);
      const others = s.approvedVolume.filter((v) => v !== home);
      const main = home || others.shift();
      return kpi("kpi-volume", "Approved volume", main ? money(main.value, main.currency) : money(0, m.settlementCurrency),
        others.length ? `+ ${others.map((v) => money(v.value, v.currency)).join(", ")}` : period, { "data-currency": main ? main.currency : m.settlementCurrency });
    });
    fill(tDisputes, Promise.all([data.disputes, asOf]), ([d, now]) => {
      const urgent = d.data.filter((x) => daysLeft(x.defenseDueTime, now) < URGENT_DAYS).length;
      return kpi("kpi-disputes", "Disputes to answer", count(d.count), urgent ? `${urgent} due within ${URGENT_DAYS} days` : "none due within 3 days", { "data-value": d.count });
    });
    fill(tDeadline, Promise.all([data.disputes, asOf]), ([d, now]) => {
      const next = d.data[0];
      if (!next) return kpi("kpi-deadline", "Next deadline", "—", "nothing to answer");
      const left = daysLeft(next.defenseDueTime, now);
      return kpi("kpi-deadline", "Next deadline", left < 0 ? "overdue" : `${left.toFixed(1)} days`,
        h("span", {}, deadlineBadge(left), ` ${when(next.defenseDueTime)}`), { "data-value": next.disputeId });
    });

    const trend = card("Success rate over time", "panel-success");
    fill(trend.body, data.series, (s) =>
      h("div", {},
        lineChart({
          name: "success-rate",
          title: `Daily success rate, ${period}`,
          desc: `Approved share of payments with a final result per UTC day; ${count(s.approved)} of ${count(s.attempts)} approved (${pct(s.successRate)}). Days without payments are gaps.`,
          series: [
            { label: "daily", color: "#9aa4b1", points: s.data.map((p) => ({ x: p.date, y: p.rate, tip: `daily ${pct(p.rate)} (${p.approved} of ${p.attempts})` })) },
            { label: "trailing 7 days", color: "#1d4ed8", points: trailing(s.data, 7).map((p) => ({ x: p.date, y: p.rate, tip: `7 days ${pct(p.rate)} (${p.approved} of ${p.attempts})` })) },
          ],
          yFormat: (v) => `${Math.round(v * 100)}%`,
          yMax: 1,
        }),
        h("p", { class: "muted small" }, `Overall ${pct(s.successRate)} · ${count(s.attempts)} payments · UTC days`),
      ));

    const byCode = card("Declines by code", "panel-declines-code");
    fill(byCode.body, data.declines, (d) => {
      const rows = d.data;
      if (!rows.length) return h("p", { class: "muted empty", "data-testid": "declines-empty" }, `No declines in the ${period}.`);
      return barChart({
        name: "declines-by-code",
        title: `Declines by code, ${period}`,
        desc: `${rows.length} decline codes; soft declines may succeed on retry, hard ones will not.`,
        categories: rows.map((r) => `${r.code} · ${r.meaning}`),
        series: [
          { label: "soft", color: color(3), values: rows.map((r) => (r.type === "SOFT" ? r.count : 0)) },
          { label: "hard", color: color(1), values: rows.map((r) => (r.type === "HARD" ? r.count : 0)) },
        ],
        format: count,
        tips: (i) => `${rows[i].code} ${rows[i].meaning}\n${rows[i].count} declines (${pct(rows[i].share)}), ${rows[i].type.toLowerCase()}\nLever: ${rows[i].leverDescription || rows[i].lever}`,
      });
    });

    const byMethod = card("Declines by payment method", "panel-declines-method");
    fill(byMethod.body, Promise.all([data.rate, data.levers]), ([r, levers]) => {
      const segs = [...r.segments].sort((a, b) => b.attempts - a.attempts);
      if (!segs.length) return h("p", { class: "muted empty", "data-testid": "methods-empty" }, `No payments in the ${period}.`);
      const chart = barChart({
        name: "declines-by-method",
        title: `Payments by method, approved and declined, ${period}`,
        desc: segs.map((x) => `${x.value}: ${x.attempts - x.approved} declined of ${x.attempts} (${pct(x.successRate)} approved)`).join("; ") || "No payments.",
        categories: segs.map((x) => x.value),
        series: [
          { label: "approved", color: color(2), values: segs.map((x) => x.approved) },
          { label: "declined", color: color(1), values: segs.map((x) => x.attempts - x.approved) },
        ],
        format: count,
        tips: (i) => `${segs[i].value}: ${segs[i].attempts - segs[i].approved} declined of ${segs[i].attempts}, ${pct(segs[i].successRate)} approved`,
      });
      const top = levers.data.slice(0, 3);
      return h("div", {}, chart,
        top.length
          ? h("div", { class: "dash-levers", "data-testid": "levers" }, h("h3", {}, "Biggest levers"),
            h("ul", {}, top.map((l) => h("li", {}, h("strong", {}, `${l.dimension} ${l.value}`), `: ${pct(l.successRate)} vs ${pct(l.restSuccessRate)} elsewhere, ~${Math.round(l.lostApprovals)} approvals lost — `, l.leverDescription || l.lever))))
          : null);
    });

    const disputes = card("Disputes by deadline", "panel-disputes");
    const recent = h("div", { class: "dash-recent" });
    fill(disputes.body, Promise.all([data.disputes, asOf]), ([d, now]) => {
      const rows = [...d.data].sort((a, b) => new Date(a.defenseDueTime) - new Date(b.defenseDueTime));
      if (!rows.length) return h("div", {}, h("p", { class: "muted empty", "data-testid": "disputes-empty" }, "No dispute is waiting for your response."), recent);
      return h("div", {}, table(
        [
          { label: "Respond by", class: "nowrap", render: (x) => when(x.defenseDueTime) },
          { label: "Days left", class: "nowrap", render: (x) => deadlineBadge(daysLeft(x.defenseDueTime, now)) },
          { label: "Amount", class: "num nowrap", render: (x) => money(x.disputeAmount.value, x.disputeAmount.currency) },
          {
            label: "Dispute",
            render: (x) => h("span", {}, `${x.network} ${x.disputeReasonCode} · ${x.stage.toLowerCase().replace(/_/g, " ")}`,
              h("div", { class: "muted small" }, x.disputeReasonMsg || x.category || ""),
              h("div", { class: "muted small mono dash-id", title: x.disputeId }, x.disputeId)),
          },
        ],
        rows,
        { testid: "disputes-table", rowTestid: "dispute-row", rowId: (x) => x.disputeId },
      ), recent);
    });
    // Decided ones, newest first: what became of the last few (its own request; may fail alone).
    fill(recent, data.allDisputes, (d) => {
      const closed = d.data.filter((x) => x.closedTime).sort((a, b) => new Date(b.closedTime) - new Date(a.closedTime)).slice(0, 4);
      if (!closed.length) return null;
      return h("div", { "data-testid": "disputes-recent" }, h("h3", {}, "Recently decided"),
        table(
          [
            { label: "Decided", render: (x) => when(x.closedTime) },
            { label: "Outcome", render: (x) => badge(x.status.toLowerCase(), x.status === "WON" ? "ok" : x.status === "LOST" ? "bad" : "warn") },
            { label: "Amount", class: "num", render: (x) => money(x.disputeAmount.value, x.disputeAmount.currency) },
            { label: "Reason", render: (x) => `${x.network} ${x.disputeReasonCode}` },
          ],
          closed,
          { rowTestid: "dispute-recent-row", rowId: (x) => x.disputeId },
        ));
    });

    const balances = card("Balances", "panel-balances");
    fill(balances.body, data.balances, (b) => {
      const rows = Object.entries(b.balances).map(([currency, v]) => ({ currency, ...v }));
      if (!rows.length) return h("p", { class: "muted empty", "data-testid": "balances-empty" }, "No balances yet.");
      return table(
        [
          { label: "Currency", key: "currency" },
          { label: "Available", class: "num", render: (r) => money(r.available, r.currency) },
          { label: "Pending", class: "num", render: (r) => money(r.pending, r.currency) },
          { label: "Reserve", class: "num", render: (r) => money(r.reserve, r.currency) },
        ],
        rows,
        { testid: "balances-table", rowTestid: "balance-row", rowId: (r) => r.currency },
      );
    });

    const fx = card("FX exposure", "panel-fx");
    const exposure = data.merchant.then((m) =>
      api.post("/v1/fx/exposure", { merchant_id: m.merchantId, horizon: FX_HORIZON, history: 60 }).then(
        (e) => ({ m, e }),
        // Only home-currency volume: nothing to forecast is an answer, not a failure.
        (err) => {
          if (err.code === "no_exposure") return { m, e: { currencies: {} } };
          throw err;
        },
      ));
    exposure.catch(() => {});
    fill(fx.body, exposure, ({ m, e }) => this.fxPanel(m, e, api));

    return h("div", {},
      kpis,
      h("div", { class: "dash-grid" }, trend.node, disputes.node),
      h("div", { class: "dash-grid" }, byCode.node, byMethod.node),
      h("div", { class: "dash-grid" }, fx.node, balances.node),
    );
  },

  // Exposure per foreign currency, and the fan of the main one: its rate into the home currency
  // (the forecast's prediction intervals) or its daily net volume.
  fxPanel(merchant, exposure, api) {
    const home = merchant.settlementCurrency;
    const entries = Object.entries(exposure.currencies).map(([ccy, fc]) => ({
      ccy,
      fc,
      expected: fc.points.reduce((acc, p) => acc + (p.q50 ?? p.mean), 0),
    }));
    if (!entries.length) return h("p", { class: "muted empty", "data-testid": "fx-empty" }, `No captures or refunds in a currency other than ${home}: no FX exposure to forecast.`);
    entries.sort((a, b) => Math.abs(b.expected) - Math.abs(a.expected));
    const state = { ccy: entries[0].ccy, view: "rate" };
    const chartBox = h("div", { class: "dash-fan", "data-testid": "fx-fan-box" });
    const switcher = h("div", { class: "row dash-switch" });
    const rates = new Map();

    const draw = async () => {
      const entry = entries.find((x) => x.ccy === state.ccy);
      for (const b of switcher.querySelectorAll("button")) {
        const on = b.dataset.ccy === state.ccy || b.dataset.view === state.view;
        b.classList.toggle("primary", on);
        b.setAttribute("aria-pressed", String(on));
      }
      if (state.view === "volume") {
        clear(chartBox).append(fanChart({
          name: "fx-fan",
          title: `${entry.ccy} daily net volume and ${FX_HORIZON}-day forecast`,
          desc: `Net ${entry.ccy} receivables per day (captures minus refunds) with the median forecast and its prediction intervals; model ${entry.fc.model}.`,
          ...fanData(entry.fc),
          format: (v) => compact.format(v),
        }));
        return;
      }
      const pair = `${entry.ccy}/${home}`;
      clear(chartBox).append(spinner(`Forecasting ${pair}…`));
      try {
        if (!rates.has(pair)) rates.set(pair, api.post("/v1/fx/forecast", { pair, horizon: FX_HORIZON, history: 120 }));
        const fc = await rates.get(pair);
        if (state.ccy !== entry.ccy || state.view !== "rate") return;
        clear(chartBox).append(
          fanChart({
            name: "fx-fan",
            title: `${pair} rate: history and ${fc.horizon}-business-day forecast`,
            desc: `ECB reference rate of ${pair} (${home} per ${entry.ccy}) to ${fc.last_date}, then the median forecast with ${fc.calibration}-calibrated prediction intervals (model ${fc.model}).`,
            ...fanData(fc),
            format: rateText,
          }),
          h("p", { class: "muted small", "data-testid": "fx-value" },
            `Expected net ${entry.ccy} over the next ${FX_HORIZON} days: ${majorMoney(entry.expected, entry.ccy)} ≈ ${majorMoney(entry.expected * fc.last_value, home)} at ${rateText(fc.last_value)} (${fc.last_date}).`),
        );
      } catch (err) {
        rates.delete(pair);
        clear(chartBox).append(errorBox(err));
      }
    };

    switcher.append(
      ...entries.map((x) => h("button", { class: "btn small", "data-ccy": x.ccy, "data-testid": `fx-ccy-${x.ccy}`, onclick: () => ((state.ccy = x.ccy), draw()) }, x.ccy)),
      h("span", { class: "muted small" }, " · "),
      h("button", { class: "btn small", "data-view": "rate", "data-testid": "fx-view-rate", onclick: () => ((state.view = "rate"), draw()) }, "Rate"),
      h("button", { class: "btn small", "data-view": "volume", "data-testid": "fx-view-volume", onclick: () => ((state.view = "volume"), draw()) }, "Net volume"),
    );
    const summary = table(
      [
        { label: "Currency", key: "ccy" },
        { label: `Expected net, next ${FX_HORIZON} days`, class: "num", render: (x) => majorMoney(x.expected, x.ccy) },
        { label: "Last day", class: "num", render: (x) => (x.fc.last_date ? `${majorMoney(x.fc.last_value, x.ccy)} (${x.fc.last_date})` : "—") },
      ],
      entries,
      { testid: "fx-table", rowTestid: "fx-row", rowId: (x) => x.ccy },
    );
    draw();
    return h("div", {}, summary, switcher, chartBox);
  },

  dispose() {
    // Panels still loading finish into detached nodes; a new render starts a new generation.
    this._gen = (this._gen || 0) + 1;
  },
};

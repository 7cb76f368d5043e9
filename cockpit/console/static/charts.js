// Hand-written SVG charts: a line chart, horizontal stacked bars and a forecast fan.
//
// No library: each chart is one <svg> built with ui.h("svg:…"), scaled by its viewBox, with a
// <title>/<desc> for screen readers and a <title> on every mark as its tooltip. The root carries
// data-chart="<name>" and data-points="<n>" (the data it drew) so tests can tell a chart with
// data from an empty one.
import { h } from "./ui.js";

const PALETTE = ["#1d4ed8", "#b91c1c", "#15803d", "#b45309", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f"];
const DAY = 86_400_000;
let uid = 0;

// Inside every <svg>, so a chart looks the same on any page without a stylesheet of its own.
const STYLE = `
.chart { font: 11px system-ui, sans-serif; overflow: visible; }
.chart .grid { stroke: #e8ebef; }
.chart .axis { stroke: #9aa4b1; }
.chart .tick, .chart .legend, .chart .value { fill: #5f6b7a; }
.chart .legend { fill: #1b1f24; }
.chart .value { font-variant-numeric: tabular-nums; }
.chart .empty { fill: #5f6b7a; font-size: 13px; }
.chart .series { stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.chart .now { stroke: #9aa4b1; stroke-dasharray: 2 3; }
.chart .hover { fill: transparent; }
.chart .hover:hover { fill: rgba(29, 78, 216, 0.07); }
.chart .bar-row:hover .bar { filter: brightness(1.1); }
`;

const s = (tag, attrs, ...children) => h(`svg:${tag}`, attrs, ...children);
const tip = (text) => s("title", {}, text);

export function color(i) {
  return PALETTE[i % PALETTE.length];
}

// A round step (1, 2 or 5 × 10^k) giving about `count` ticks from lo to hi.
export function niceTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((m) => m >= raw) || raw;
  const first = Math.floor(lo / step) * step;
  const ticks = [];
  for (let v = first; v <= hi + step * 0.5; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

// ISO date (or Date) → ms since epoch at UTC midnight.
export function dayMs(value) {
  if (value instanceof Date) return value.getTime();
  const [y, m, d] = String(value).slice(0, 10).split("-").map(Number);
  return Date.UTC(y, m - 1, d);
}

export function shortDate(ms) {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}

function frame({ name, title, desc, width, height, points, extraClass }) {
  const id = `chart-${name}-${++uid}`;
  return s(
    "svg",
    {
      class: ["chart", extraClass],
      viewBox: `0 0 ${width} ${height}`,
      width: "100%",
      preserveAspectRatio: "xMidYMid meet",
      role: "img",
      "aria-labelledby": `${id}-t ${id}-d`,
      "data-chart": name,
      "data-points": String(points),
      "data-testid": `chart-${name}`,
    },
    s("title", { id: `${id}-t` }, title),
    s("desc", { id: `${id}-d` }, desc),
    s("style", {}, STYLE),
  );
}

// Cut a label to about `px` wide at 11px (capitals and digits are wider than lower case).
export function fit(text, px) {
  const width = (c) => (/[A-Z0-9_%]/.test(c) ? 8 : /[il.,:·' ]/.test(c) ? 3.4 : 6.2);
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    used += width(text[i]);
    if (used > px) return `${text.slice(0, Math.max(1, i - 1))}…`;
  }
  return text;
}

function scale(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

// Date ticks: about `count` evenly spaced days across [lo, hi], on whole days.
function dateTicks(lo, hi, count = 6) {
  const days = Math.max(1, Math.round((hi - lo) / DAY));
  const step = Math.max(1, Math.ceil(days / count));
  const out = [];
  for (let t = lo; t <= hi + 1; t += step * DAY) out.push(t);
  return out;
}

function yAxis(g, ticks, y, { left, right, format }) {
  for (const t of ticks) {
    const py = y(t);
    g.append(
      s("line", { class: "grid", x1: left, x2: right, y1: py, y2: py }),
      s("text", { class: "tick", x: left - 6, y: py + 4, "text-anchor": "end" }, format(t)),
    );
  }
}

function xAxis(g, ticks, x, { top, bottom, format }) {
  g.append(s("line", { class: "axis", x1: x(ticks[0]), x2: x(ticks[ticks.length - 1]), y1: bottom, y2: bottom }));
  for (const t of ticks) {
    const px = x(t);
    g.append(
      s("line", { class: "axis", x1: px, x2: px, y1: bottom, y2: bottom + 4 }),
      s("text", { class: "tick", x: px, y: bottom + 16, "text-anchor": "middle" }, format(t)),
    );
  }
  return top;
}

function legend(g, items, { x, y }) {
  let cx = x;
  for (const it of items) {
    const swatch = it.kind === "line"
      ? s("line", { x1: cx, x2: cx + 14, y1: y - 4, y2: y - 4, stroke: it.color, "stroke-width": 2, "stroke-dasharray": it.dash || null })
      : s("rect", { x: cx, y: y - 10, width: 12, height: 12, rx: 2, fill: it.color, "fill-opacity": it.opacity ?? 1 });
    g.append(swatch, s("text", { class: "legend", x: cx + 18, y }, it.label));
    cx += 26 + it.label.length * 6.4;
  }
}

// Line segments that skip null values (a day without data is a gap, not a zero).
function paths(points, x, y) {
  const out = [];
  let cur = "";
  for (const p of points) {
    if (p.y === null || p.y === undefined || !Number.isFinite(p.y)) {
      if (cur) out.push(cur);
      cur = "";
      continue;
    }
    cur += `${cur ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.y).toFixed(1)}`;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * A time-series line chart.
 * series: [{label, color?, points: [{x: "YYYY-MM-DD", y: number|null, tip?: string}]}]
 * yFormat(v) labels the axis; yMin/yMax pin the domain (e.g. 0..1 for rates).
 */
export function lineChart({ name, title, desc, series, yFormat = String, yMin, yMax, width = 640, height = 240 }) {
  const all = series.flatMap((sr) => sr.points.map((p) => ({ ...p, t: dayMs(p.x) })));
  const drawn = all.filter((p) => p.y !== null && p.y !== undefined && Number.isFinite(p.y));
  const svg = frame({ name, title, desc, width, height, points: drawn.length, extraClass: "line" });
  const m = { top: 24, right: 28, bottom: 28, left: 52 };
  if (!all.length) {
    svg.append(s("text", { class: "empty", x: width / 2, y: height / 2, "text-anchor": "middle" }, "No data in this window"));
    return svg;
  }
  const ys = drawn.map((p) => p.y);
  const lo = yMin ?? (ys.length ? Math.min(...ys) : 0);
  const hi = yMax ?? (ys.length ? Math.max(...ys) : 1);
  const ticks = niceTicks(lo, hi, 4);
  const ts = all.map((p) => p.t);
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts);
  const x = scale(t0, t1, m.left, width - m.right);
  const y = scale(ticks[0], ticks[ticks.length - 1], height - m.bottom, m.top);
  const g = s("g", {});
  yAxis(g, ticks, y, { left: m.left, right: width - m.right, format: yFormat });
  xAxis(g, dateTicks(t0, t1), x, { top: m.top, bottom: height - m.bottom, format: shortDate });
  series.forEach((sr, i) => {
    const c = sr.color || color(i);
    const pts = sr.points.map((p) => ({ ...p, t: dayMs(p.x) }));
    for (const d of paths(pts, x, y)) g.append(s("path", { class: "series", d, stroke: c, fill: "none" }));
    for (const p of pts) {
      if (p.y === null || p.y === undefined) continue;
      g.append(s("circle", { class: "dot", cx: x(p.t), cy: y(p.y), r: 2.5, fill: c }, tip(p.tip || `${shortDate(p.t)}: ${yFormat(p.y)}`)));
    }
  });
  // One hover strip per x value: the tooltip lists every series there, gaps included.
  const times = [...new Set(ts)].sort((a, b) => a - b);
  const half = times.length > 1 ? (x(times[1]) - x(times[0])) / 2 : 8;
  for (const t of times) {
    const lines = series.map((sr) => {
      const p = sr.points.find((q) => dayMs(q.x) === t);
      return p ? p.tip || `${sr.label}: ${p.y === null || p.y === undefined ? "no data" : yFormat(p.y)}` : null;
    });
    g.append(
      s("rect", { class: "hover", x: x(t) - half, y: m.top, width: half * 2, height: height - m.top - m.bottom, "data-x": new Date(t).toISOString().slice(0, 10) },
        tip([shortDate(t), ...lines.filter(Boolean)].join("\n"))),
    );
  }
  if (series.length > 1) legend(g, series.map((sr, i) => ({ label: sr.label, color: sr.color || color(i), kind: "line" })), { x: m.left, y: 14 });
  if (!drawn.length) g.append(s("text", { class: "empty", x: (m.left + width - m.right) / 2, y: height / 2, "text-anchor": "middle" }, "No data in this window"));
  svg.append(g);
  return svg;
}

/**
 * Horizontal bars, one row per category, stacked by series.
 * series: [{label, color?, values: [number per category]}]; tips(i) gives a row's tooltip.
 */
export function barChart({ name, title, desc, categories, series, format = String, tips, width = 640, rowHeight = 24 }) {
  const totals = categories.map((_, i) => series.reduce((acc, sr) => acc + (Number(sr.values[i]) || 0), 0));
  const shown = totals.filter((v) => v > 0).length;
  const m = { top: series.length > 1 ? 26 : 8, right: 56, bottom: 8, left: 190 };
  const height = m.top + m.bottom + Math.max(1, categories.length) * rowHeight;
  const svg = frame({ name, title, desc, width, height, points: shown, extraClass: "bars" });
  if (!categories.length) {
    svg.append(s("text", { class: "empty", x: width / 2, y: height / 2 + 4, "text-anchor": "middle" }, "Nothing to show"));
    return svg;
  }
  const max = Math.max(...totals, 1);
  const x = scale(0, max, m.left, width - m.right);
  const g = s("g", {});
  categories.forEach((cat, i) => {
    const top = m.top + i * rowHeight;
    const row = s("g", { class: "bar-row", "data-category": cat });
    row.append(s("text", { class: "tick", x: m.left - 8, y: top + rowHeight / 2 + 4, "text-anchor": "end" }, fit(cat, m.left - 12)));
    let at = 0;
    series.forEach((sr, j) => {
      const v = Number(sr.values[i]) || 0;
      if (v <= 0) return;
      row.append(
        s("rect", { class: "bar", x: x(at), y: top + 4, width: Math.max(1, x(at + v) - x(at)), height: rowHeight - 8, rx: 2, fill: sr.color || color(j) },
          tip(`${cat} · ${sr.label}: ${format(v)}`)),
      );
      at += v;
    });
    row.append(s("text", { class: "value", x: x(totals[i]) + 6, y: top + rowHeight / 2 + 4 }, format(totals[i])));
    // The whole row answers hover with its summary.
    row.append(s("rect", { class: "hover", x: 0, y: top, width, height: rowHeight }, tip(tips ? tips(i) : `${cat}: ${format(totals[i])}`)));
    g.append(row);
  });
  if (series.length > 1) legend(g, series.map((sr, i) => ({ label: sr.label, color: sr.color || color(i) })), { x: m.left, y: 16 });
  svg.append(g);
  return svg;
}

/**
 * A forecast fan: the history as a line, then the median with shaded prediction intervals.
 * history: [{date, value}]; forecast: [{date, median, bands: [{level, lo, hi}]}] (widest first).
 */
export function fanChart({ name, title, desc, history, forecast, format = String, width = 640, height = 260 }) {
  const svg = frame({ name, title, desc, width, height, points: history.length + forecast.length, extraClass: "fan" });
  const m = { top: 24, right: 28, bottom: 28, left: 64 };
  if (!history.length && !forecast.length) {
    svg.append(s("text", { class: "empty", x: width / 2, y: height / 2, "text-anchor": "middle" }, "No forecast"));
    return svg;
  }
  const hist = history.map((p) => ({ t: dayMs(p.date), y: p.value }));
  const fc = forecast.map((p) => ({ ...p, t: dayMs(p.date) }));
  const values = [...hist.map((p) => p.y), ...fc.flatMap((p) => [p.median, ...p.bands.flatMap((b) => [b.lo, b.hi])])].filter(Number.isFinite);
  const ticks = niceTicks(Math.min(...values), Math.max(...values), 4);
  const ts = [...hist.map((p) => p.t), ...fc.map((p) => p.t)];
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts);
  const x = scale(t0, t1, m.left, width - m.right);
  const y = scale(ticks[0], ticks[ticks.length - 1], height - m.bottom, m.top);
  const g = s("g", {});
  yAxis(g, ticks, y, { left: m.left, right: width - m.right, format });
  xAxis(g, dateTicks(t0, t1), x, { top: m.top, bottom: height - m.bottom, format: shortDate });
  const last = hist[hist.length - 1];
  const levels = fc.length ? fc[0].bands.map((b) => b.level) : [];
  levels.forEach((level, i) => {
    // Bands overlap, so the inner ones come out darker. Each leaves the last observation:
    // its width is zero where the forecast starts.
    const upper = fc.map((p) => [x(p.t), y(p.bands[i].hi)]);
    const lower = fc.map((p) => [x(p.t), y(p.bands[i].lo)]).reverse();
    if (last) {
      upper.unshift([x(last.t), y(last.y)]);
      lower.push([x(last.t), y(last.y)]);
    }
    const d = `M${[...upper, ...lower].map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join("L")}Z`;
    g.append(s("path", { class: "band", d, fill: color(0), "fill-opacity": 0.14, "data-level": level }, tip(`${Math.round(level * 100)}% prediction interval`)));
  });
  if (last) g.append(s("line", { class: "now", x1: x(last.t), x2: x(last.t), y1: m.top, y2: height - m.bottom }, tip(`last observation ${shortDate(last.t)}`)));
  for (const d of paths(hist, x, y)) g.append(s("path", { class: "series", d, stroke: "#1b1f24", fill: "none" }));
  const med = last ? [{ t: last.t, y: last.y }, ...fc.map((p) => ({ t: p.t, y: p.median }))] : fc.map((p) => ({ t: p.t, y: p.median }));
  for (const d of paths(med, x, y)) g.append(s("path", { class: "series median", d, stroke: color(0), fill: "none", "stroke-dasharray": "5 4" }));
  const half = fc.length > 1 ? (x(fc[1].t) - x(fc[0].t)) / 2 : 6;
  for (const p of fc) {
    const bands = p.bands.map((b) => `${Math.round(b.level * 100)}%: ${format(b.lo)} – ${format(b.hi)}`);
    g.append(s("rect", { class: "hover", x: x(p.t) - half, y: m.top, width: half * 2, height: height - m.top - m.bottom },
      tip([`${shortDate(p.t)} forecast`, `median ${format(p.median)}`, ...bands].join("\n"))));
  }
  const half2 = hist.length > 1 ? (x(hist[1].t) - x(hist[0].t)) / 2 : 3;
  for (const p of hist) {
    g.append(s("rect", { class: "hover", x: x(p.t) - half2, y: m.top, width: half2 * 2, height: height - m.top - m.bottom }, tip(`${shortDate(p.t)}: ${format(p.y)}`)));
  }
  legend(g, [
    { label: "history", color: "#1b1f24", kind: "line" },
    { label: "median forecast", color: color(0), kind: "line", dash: "5 4" },
    ...levels.map((level, i) => ({ label: `${Math.round(level * 100)}% interval`, color: color(0), opacity: 0.14 * (i + 1) })),
  ], { x: m.left, y: 14 });
  svg.append(g);
  return svg;
}

"""A self-contained HTML report: an inline SVG bar chart of pass^k, then failures with their
transcripts and state diffs. No scripts, no external assets, nothing fetched."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from evals.report.summary import failures

_COLOURS = ("#2f6fdf", "#e08a1e", "#3a9d5d", "#a04ad0")


def chart(report: dict[str, Any]) -> str:
    """Grouped horizontal bars: one group per (agent, suite) over all splits, one bar per k."""
    rows = [r for r in report["rows"] if r["split"] == "all"]
    ks = report["ks"]
    bar, gap, label_w, width = 14, 10, 220, 360
    height = len(rows) * (bar * len(ks) + gap) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + width + 60}" '
        f'height="{height}" role="img" aria-label="pass^k per agent and suite">'
    ]
    y = 10
    for r in rows:
        parts.append(
            f'<text x="0" y="{y + bar}" font-size="12">{escape(r["agent"])} · {escape(r["suite"])}</text>'
        )
        for i, k in enumerate(ks):
            v = r.get(f"pass^{k}")
            w = 0 if v is None else v * width
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="{_COLOURS[i % len(_COLOURS)]}"><title>pass^{k}</title></rect>'
            )
            text = "n/a" if v is None else f"{v:.2f}"
            parts.append(
                f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 3}" font-size="11">pass^{k} {text}</text>'
            )
            y += bar
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def html_page(report: dict[str, Any]) -> str:
    ks = report["ks"]
    head = "".join(f"<th>pass^{k}</th>" for k in ks)
    body = []
    for r in report["rows"]:
        cells = "".join(
            f"<td>{'—' if r[f'pass^{k}'] is None else format(r[f'pass^{k}'], '.2f')}</td>"
            for k in ks
        )
        body.append(
            f"<tr><td>{escape(r['agent'])}</td><td>{escape(r['suite'])}</td>"
            f"<td>{escape(r['split'])}</td><td>{r['tasks']}</td>{cells}</tr>"
        )
    checks = report["checks"]
    items = []
    for f in failures(report):
        convo = "\n".join(f"{m['role']}> {m['content']}" for m in f["transcript"]["messages"])
        reasons = "".join(f"<li>{escape(x)}</li>" for x in f["reasons"])
        diff = json.dumps(f["state_diff"], indent=1) if f["state_diff"] else "(none)"
        items.append(
            f"<details><summary>{escape(f['suite'])}/{escape(f['task'])} — {escape(f['agent'])} "
            f"trial {f['trial']}</summary><ul>{reasons}</ul><h4>Transcript</h4>"
            f"<pre>{escape(convo)}</pre><h4>State diff (gold vs agent)</h4><pre>{escape(diff)}</pre></details>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cockpit eval report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}
pre{{background:#f6f6f6;padding:8px;overflow:auto;max-height:400px}}</style></head>
<body><h1>Cockpit eval report</h1><p>Started {escape(report["started"])}; {report["trials"]} trials per task.</p>
{chart(report)}
<table><tr><th>agent</th><th>suite</th><th>split</th><th>tasks</th>{head}</tr>{"".join(body)}</table>
<h2>Controls</h2><ul>
<li>oracle failed: {escape(", ".join(checks["oracle_failed"]) or "none")}</li>
<li>do-nothing passed a write task: {escape(", ".join(checks["do_nothing_passed_write"]) or "none")}</li>
<li>gold replay errors: {escape("; ".join(checks["gold_errors"]) or "none")}</li></ul>
<h2>Failures ({len(items)})</h2>{"".join(items)}
</body></html>
"""


__all__ = ["chart", "html_page"]

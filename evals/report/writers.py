"""Report files: JSON (the record), Markdown (for a PR), JUnit XML (for CI); benchmark JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from evals.report.summary import failures


def write_json(report: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(report, indent=2, sort_keys=False, default=str), encoding="utf-8")
    return path


def emit(result: dict[str, Any], *, out: Path | None = None, indent: int = 2) -> str:
    """Print a benchmark's or run's JSON figures (and write them to ``out`` when given)."""
    text = json.dumps(result, indent=indent, default=str)
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    return text


def read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not an eval report")
    return data


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def markdown(report: dict[str, Any]) -> str:
    ks = report["ks"]
    head = "| agent | suite | split | tasks | " + " | ".join(f"pass^{k}" for k in ks) + " |"
    lines = [f"# Eval run {report['started']}", "", f"Trials per task: {report['trials']}.", ""]
    lines += [head, "|" + "---|" * (4 + len(ks))]
    for r in report["rows"]:
        cells = " | ".join(_fmt(r[f"pass^{k}"]) for k in ks)
        lines.append(f"| {r['agent']} | {r['suite']} | {r['split']} | {r['tasks']} | {cells} |")
    checks = report["checks"]
    lines += ["", "## Controls", ""]
    lines.append(f"- oracle failed: {', '.join(checks['oracle_failed']) or 'none'}")
    lines.append(
        f"- do-nothing passed a write task: {', '.join(checks['do_nothing_passed_write']) or 'none'}"
    )
    lines.append(f"- gold replay errors: {'; '.join(checks['gold_errors']) or 'none'}")
    lines.append(f"- gate tasks failed: {', '.join(checks.get('gate_failed', [])) or 'none'}")
    fails = failures(report)
    lines += ["", f"## Failures ({len(fails)})", ""]
    for f in fails:
        lines.append(f"### {f['suite']}/{f['task']} — {f['agent']} trial {f['trial']}")
        lines += [f"- {reason}" for reason in f["reasons"]]
        lines.append("")
        lines.append("```")
        lines += [f"{m['role']}> {m['content'][:400]}" for m in f["transcript"]["messages"]]
        lines.append("```")
        if f["state_diff"]:
            lines += [
                "",
                "State diff (gold vs agent):",
                "```json",
                json.dumps(f["state_diff"], indent=1)[:3000],
                "```",
            ]
        lines.append("")
    return "\n".join(lines) + "\n"


def junit(report: dict[str, Any]) -> str:
    """One testsuite per (suite, agent), one testcase per task; a control's case is named so."""
    suites: dict[tuple[str, str], ET.Element] = {}
    root = ET.Element("testsuites", name="cockpit-evals")
    for t in report["tasks"]:
        for label, a in t["agents"].items():
            key = (t["suite"], label)
            if key not in suites:
                suites[key] = ET.SubElement(root, "testsuite", name=f"{t['suite']}.{label}")
            case = ET.SubElement(
                suites[key], "testcase", classname=f"evals.{t['suite']}.{label}", name=t["task"]
            )
            expected_fail = label == "do-nothing"
            if a["trials"] == 0:
                reason = next((r["skipped"] for r in a["results"] if r["skipped"]), None)
                ET.SubElement(case, "skipped", message=reason or "not run")
                continue
            failed = [r for r in a["results"] if not r["passed"] and r["skipped"] is None]
            if expected_fail:
                if t["writes"] and a["successes"]:
                    ET.SubElement(case, "failure", message="do-nothing passed a write task")
                continue
            if failed:
                reasons = "; ".join(failed[0]["reasons"])
                el = ET.SubElement(
                    case,
                    "failure",
                    message=f"{len(failed)}/{a['trials']} trials failed: {reasons}"[:1000],
                )
                el.text = "\n".join(
                    f"{m['role']}> {m['content']}" for m in failed[0]["transcript"]["messages"]
                )
    for el in suites.values():
        cases = el.findall("testcase")
        el.set("tests", str(len(cases)))
        el.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        el.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def write_all(report: dict[str, Any], folder: Path) -> dict[str, Path]:
    """report.json, report.md, report.html and junit.xml in ``folder``."""
    from evals.report.html import html_page

    folder.mkdir(parents=True, exist_ok=True)
    out = {"json": write_json(report, folder / "report.json")}
    out["markdown"] = folder / "report.md"
    out["markdown"].write_text(markdown(report), encoding="utf-8")
    out["html"] = folder / "report.html"
    out["html"].write_text(html_page(report), encoding="utf-8")
    out["junit"] = folder / "junit.xml"
    out["junit"].write_text(junit(report), encoding="utf-8")
    return out


__all__ = ["emit", "junit", "markdown", "read_json", "write_all", "write_json"]

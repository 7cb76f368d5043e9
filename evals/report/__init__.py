"""Eval reports: a JSON-able summary, its writers (JSON, Markdown, HTML, JUnit) and the run diff."""

from evals.report.diff import compare
from evals.report.html import html_page
from evals.report.summary import (
    GATE_TAG,
    REPORT_SCHEMA,
    agent_figures,
    failures,
    gate_failures,
    summarise,
)
from evals.report.writers import emit, junit, markdown, read_json, write_all, write_json

__all__ = [
    "GATE_TAG",
    "REPORT_SCHEMA",
    "agent_figures",
    "compare",
    "emit",
    "failures",
    "gate_failures",
    "html_page",
    "junit",
    "markdown",
    "read_json",
    "summarise",
    "write_all",
    "write_json",
]

"""Eval reports: a JSON-able summary, its writers (JSON, Markdown, HTML, JUnit) and the run diff."""

from evals.report.diff import compare
from evals.report.html import html_page
from evals.report.summary import REPORT_SCHEMA, failures, summarise
from evals.report.writers import junit, markdown, read_json, write_all, write_json

__all__ = [
    "REPORT_SCHEMA",
    "compare",
    "failures",
    "html_page",
    "junit",
    "markdown",
    "read_json",
    "summarise",
    "write_all",
    "write_json",
]

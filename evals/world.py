"""Isolated worlds for eval tasks: a seeded template data dir, copied per task trial.

Seeding the demo world (payments, credit strategies, the knowledge corpus) takes seconds; copying
a data dir takes milliseconds. A template is built once per (seed, clock instant) and cached; each
trial gets its own copy, so no trial sees another's writes. This module never runs an agent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cockpit.clock import StartedClock, install
from cockpit.config import Settings
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.locks import file_lock
from cockpit.specs.models import AgentAlias, AgentVersion
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy.keys import KeyService
from cockpit.tenancy.principal import Role

TENANT = "demo"
"""Every eval world is the demo tenant of a fresh platform."""
_LAYOUT_VERSION = "2"


@dataclass(frozen=True, slots=True)
class Template:
    """A seeded data dir that worlds are copied from."""

    dir: Path
    seed: int
    clock: datetime
    merchants: dict[str, str]
    """Demo merchant ids by short key (``sg``, ``kr``, ``th``, ``de``…)."""

    @property
    def database(self) -> Path:
        return self.dir / "cockpit.db"


@dataclass(frozen=True, slots=True)
class World:
    """One trial's private copy of a template."""

    dir: Path
    template: Template
    key: str
    """The API key of the task's user (its role, bound to the task's merchant)."""
    merchant_id: str | None

    @property
    def database(self) -> Path:
        return self.dir / "cockpit.db"

    def settings(self, **overrides: object) -> Settings:
        return world_settings(self.dir, self.template.clock, **overrides)


def world_settings(data_dir: Path, clock: datetime, **overrides: object) -> Settings:
    """Settings of a world's app: its own data dir, no background seeding, its clock."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "demo": True,
        "warmup": False,
        "embeddings": "minilm",
        "clock_start": clock,
        "log_level": "WARNING",
        # No background monitor runs: a world changes only by its fixtures and the agent.
        "monitors_poll_s": 0,
    }
    values.update(overrides)
    return Settings.model_validate(values)


_SEEDING_SOURCES = ("tools", "knowledge")
"""Top-level packages whose code and data decide what a seeded world holds."""


@functools.cache
def _seeding_fingerprint() -> str:
    """A digest of the code and data that seed a world (planner vocabulary files excepted).

    A cached template is rebuilt when any of them changes: a change to how the demo world is
    seeded (a simulator draw, a strategy file) must not leave runs on a stale world.
    """
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in _SEEDING_SOURCES:
        for path in sorted((root / package).rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts or path.name.startswith("planner"):
                continue
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _template_key(seed: int, clock: datetime) -> str:
    from cockpit import __version__

    raw = json.dumps(
        [_LAYOUT_VERSION, __version__, _seeding_fingerprint(), seed, clock.isoformat()]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def build_template(cache: Path, *, seed: int, clock: datetime) -> Template:
    """The template for (seed, clock) under ``cache``, seeding it on first use."""
    data = cache / f"world-{seed}-{_template_key(seed, clock)}"
    meta = data / "eval-template.json"
    if not meta.exists():
        # Worker processes of one run may all miss the same template: one seeds it, the
        # others wait and read it, instead of seeding into each other's folder.
        with file_lock(cache / f"{data.name}.lock"):
            if not meta.exists():
                _seed_template(data, seed=seed, clock=clock)
    merchants = json.loads(meta.read_text())["merchants"]
    return Template(data, seed, clock, dict(merchants))


def _seed_template(data: Path, *, seed: int, clock: datetime) -> None:
    """Seed the world into ``<data>.building``, then move it to ``data`` whole."""
    from knowledge import open_store
    from tools.commerce.acp.seeding import seed_tenant_catalogues
    from tools.credit.service import service_for
    from tools.credit.startup import seed_examples
    from tools.payments.demo import seed_demo_world

    building = data.with_name(f"{data.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    previous = install(StartedClock(clock))
    settings = world_settings(building, clock)
    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    try:
        upgrade(db)
        KeyService(db).ensure_tenant(TENANT, name="Demo", demo=True)
        summary = seed_demo_world(db, TENANT, seed=seed, now=clock)
        seed_examples(service_for(db), TENANT)
        with db.tenant_session(TENANT) as session:
            # A world's app would seed them at start: in the template, each trial finds them.
            seed_tenant_catalogues(session, at=clock)
        open_store(settings)  # embeds the corpus into <data>/chroma once
    finally:
        db.dispose()
        install(previous)
    (building / "eval-template.json").write_text(
        json.dumps({"seed": seed, "clock": clock.isoformat(), "merchants": summary.merchant_ids})
    )
    shutil.rmtree(data, ignore_errors=True)
    building.rename(data)


def new_world(
    template: Template,
    into: Path,
    *,
    role: str,
    merchant: str | None,
    specs: Sequence[AgentSpec] = (),
) -> World:
    """Copy ``template`` into ``into`` and mint the user's key (``merchant``: a short key or id).

    ``specs`` (a partner's agent under test and its team) become version 1 of the world
    tenant's agents, ``live``, so their ids resolve to them exactly as on the partner's tenant.
    """
    from cockpit.discovery import merchant_lookup

    shutil.copytree(template.dir, into)
    merchant_id = template.merchants.get(merchant, merchant) if merchant else None
    db = Database(world_settings(into, template.clock).resolved_database_url)
    try:
        keys = KeyService(db, merchant_exists=merchant_lookup(db))
        issued = keys.create_key(TENANT, Role(role), name="eval user", merchant_id=merchant_id)
        if specs:
            with db.tenant_session(TENANT) as s:
                for spec in specs:
                    s.add(
                        AgentVersion(
                            agent_id=spec.id,
                            version=1,
                            spec=spec.model_dump(mode="json"),
                            spec_hash=spec.content_hash(),
                            created_by="eval",
                        )
                    )
                    s.add(AgentAlias(agent_id=spec.id, alias="live", version=1))
    finally:
        db.dispose()
    return World(into, template, issued.secret, merchant_id)


__all__ = ["TENANT", "Template", "World", "build_template", "new_world", "world_settings"]

"""The platform clock: one place reads the time, and tests and demos can start it anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.clock import FixedClock, StartedClock, current, install, utcnow
from cockpit.config import Settings
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database

SRC = Path(__file__).resolve().parents[2]


def test_started_clock_starts_at_its_instant_and_moves_forward() -> None:
    start = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
    clock = StartedClock(start)
    first, second = clock.now(), clock.now()
    assert start <= first <= second < start + timedelta(minutes=1)


def test_settings_install_the_clock_for_the_process(tmp_path: Path) -> None:
    previous = current()
    try:
        Settings(data_dir=tmp_path, clock_start="2030-01-01T00:00:00Z").install_clock()
        assert utcnow().date().isoformat() == "2030-01-01"
    finally:
        install(previous)


def test_the_demo_world_is_seeded_relative_to_the_clock(tmp_path: Path) -> None:
    from tools.payments.demo import seed_demo_world
    from tools.payments.models import Payment

    previous = install(FixedClock(datetime(2029, 6, 30, 12, tzinfo=UTC)))
    try:
        db = Database(f"sqlite:///{tmp_path / 'c.db'}")
        upgrade(db)
        from cockpit.tenancy.keys import KeyService

        KeyService(db).ensure_tenant("t_clock", name="clock")
        seed_demo_world(db, "t_clock", days=3)
        with db.tenant_session("t_clock") as s:
            created = [p.created_at for p in s.query(Payment).all()]
    finally:
        install(previous)
    assert created
    newest = max(c if c.tzinfo else c.replace(tzinfo=UTC) for c in created)
    assert datetime(2029, 6, 27, tzinfo=UTC) <= newest <= datetime(2029, 6, 30, 12, tzinfo=UTC)


def test_nothing_reads_the_wall_clock_but_the_clock_module() -> None:
    offenders = []
    for package in ("cockpit", "tools", "knowledge", "agents", "evals"):
        for path in (SRC / package).rglob("*.py"):
            if path.name == "clock.py" and path.parent.name == "cockpit":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("datetime.now(", "datetime.utcnow(", "date.today("):
                if needle in text:
                    offenders.append(f"{path.relative_to(SRC)}: {needle}")
    assert offenders == []

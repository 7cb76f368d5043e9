"""What the CLI draws: logs readable on a terminal and JSON otherwise (redacted both ways),
progress bars only on a terminal."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from cockpit.logging import JsonFormatter, RedactingFormatter, wants_json
from cockpit.progress import progress_bar, quiet

CARD = "4111 1111 1111 1111"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("cockpit.test", logging.INFO, __file__, 1, msg, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.mark.parametrize(
    ("setting", "stream", "expected"),
    [
        ("auto", Terminal(), False),
        ("auto", io.StringIO(), True),
        (True, Terminal(), True),
        (False, io.StringIO(), False),
    ],
)
def test_json_logs_unless_someone_reads_a_terminal(
    setting: bool | str, stream: io.StringIO, expected: bool
) -> None:
    assert wants_json(setting, stream) is expected  # type: ignore[arg-type]


def test_both_formats_redact_card_numbers_in_messages_and_fields() -> None:
    record = _record(f"paid with {CARD}", card=CARD, run_id="run_1")
    line = RedactingFormatter().format(record)
    assert "1111 1111 1111" not in line and "paid with" in line
    assert "run_id=run_1" in line and "\n" not in line
    payload = json.loads(JsonFormatter().format(_record(f"paid with {CARD}", card=CARD)))
    assert "1111 1111 1111" not in json.dumps(payload)


def test_the_log_json_setting_reads_auto_true_false(monkeypatch: pytest.MonkeyPatch) -> None:
    from cockpit.config import Settings

    monkeypatch.delenv("COCKPIT_LOG_JSON", raising=False)
    assert Settings().log_json == "auto"
    for raw, value in (("auto", "auto"), ("true", True), ("false", False)):
        monkeypatch.setenv("COCKPIT_LOG_JSON", raw)
        assert Settings().log_json == value


def test_progress_is_silent_off_a_terminal() -> None:
    stream = io.StringIO()
    with progress_bar("Training", stream=stream) as progress:
        assert progress is quiet
        progress(1, 2)
    assert stream.getvalue() == ""


def test_progress_draws_on_a_terminal() -> None:
    stream = Terminal()
    with progress_bar("Seeding demo world", stream=stream) as progress:
        for done in range(1, 4):
            progress(done, 3)
    assert "Seeding demo world" in stream.getvalue()


class Recorder:
    """A Progress that keeps what it heard."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int, note: str | None = None) -> None:
        self.calls.append((done, total))

    def finished(self) -> bool:
        done, total = self.calls[-1]
        steps = [d for d, _ in self.calls]
        return len(self.calls) > 2 and done == total > 0 and steps == sorted(steps)


def test_scorecard_training_and_backtests_report_progress() -> None:
    from tools.credit.backtest import backtest
    from tools.credit.catalog import portfolio, train_builtin_scorecard
    from tools.credit.strategy import CompiledStrategy, parse_spec

    trained = Recorder()
    card = train_builtin_scorecard("german_credit", progress=trained)
    assert trained.finished()
    spec = parse_spec(json.loads(_example("consumer_default")))
    tested = Recorder()
    backtest(CompiledStrategy("v1", spec, card), portfolio("german_credit"), progress=tested)
    assert tested.finished()


def test_demo_seeding_reports_each_day(tmp_path: Path) -> None:
    from cockpit.db.migrate import upgrade
    from cockpit.db.session import Database
    from tools.payments.demo import seed_demo_world

    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(db)
    seeded = Recorder()
    seed_demo_world(db, "demo", days=3, progress=seeded)
    assert seeded.finished() and seeded.calls[-1] == (3, 3)


def test_fraud_training_reports_boosting_rounds() -> None:
    from tools.fraud.simulator import SimConfig
    from tools.fraud.training import train_from_simulator

    rounds = Recorder()
    train_from_simulator(SimConfig(seed=3, n_customers=300, days=21), progress=rounds)
    assert len(rounds.calls) > 2 and all(0 < d <= t for d, t in rounds.calls)


def _example(name: str) -> str:
    from tools.credit import cli

    return (cli.EXAMPLES / f"{name}.json").read_text()

"""Shopping-agent suites: the file schema is strict, and the controls keep the tasks honest.

A run of two shipped tasks (a tampered token and a purchase) through the real runner: the
oracle's scripted protocol calls pass a tampered task (refused, nothing moved), do-nothing
fails both, and the report groups them under the ``shopper`` agent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evals import (
    SUITES_DIR,
    RunOptions,
    TaskFormatError,
    TaskRun,
    load_suites,
    run_tasks,
    select_tasks,
)
from evals.report import summarise
from evals.shopping import ShopTask, parse_shop_suite

SHOPPER_DIR = SUITES_DIR / "shopper"


def _suite(**task: Any) -> dict[str, Any]:
    base = {
        "id": "t1",
        "goal": {"want": "tent"},
        "gold": {"item": "alpen_tent_2p"},
        "assertions": [{"kind": "ledger_balanced"}],
    }
    return {"schema": "cockpit.shop-eval/v1", "suite": "s", "tasks": [{**base, **task}]}


def test_shipped_shopper_suites_validate_with_splits_tags_and_controls_in_mind() -> None:
    suites = load_suites(SHOPPER_DIR)
    tasks = [t for _s, t in select_tasks(suites)]
    assert tasks and all(isinstance(t, ShopTask) and t.agent == "shopper" for t in tasks)
    assert {t.split for t in tasks} == {"dev", "heldout"}
    quick = [t.id for t in tasks if "quick" in t.tags]
    assert 2 <= len(quick) <= 3
    for t in tasks:
        kinds = {a.kind for a in t.assertions}
        if t.tamper == "none":
            assert t.buys and "captured_equals_total" in kinds, t.id
        else:  # a tampered task proves the refusal and what (did not) move
            assert "outcome" in kinds and ({"nothing_moved", "order"} & kinds), t.id
    for path in SHOPPER_DIR.glob("*.yaml"):
        assert "never" in path.read_text(encoding="utf-8").split("schema:")[0].lower()


def test_the_quick_subset_includes_shopping_tasks() -> None:
    quick = select_tasks(load_suites(SUITES_DIR), tags=frozenset({"quick"}))
    assert any(isinstance(t, ShopTask) for _s, t in quick)
    assert any(not isinstance(t, ShopTask) for _s, t in quick)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "tasks.0.surprise"),
        ({"pay": "cash"}, "tasks.0.pay"),
        ({"tamper": "bribe"}, "tasks.0.tamper"),
        ({"assertions": []}, "tasks.0.assertions"),
        ({"assertions": [{"kind": "receipt_status", "equals": "ok"}]}, "tasks.0.assertions.0"),
        ({"goal": {"want": "x", "quantity": 0}}, "tasks.0.goal.quantity"),
    ],
)
def test_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(TaskFormatError) as info:
        parse_shop_suite(_suite(**change), source="s.yaml")
    assert info.value.param is not None and info.value.param.startswith(field)
    assert "s.yaml: " + field in info.value.message


def test_file_world_is_a_default() -> None:
    data = _suite()
    data["world"] = {"merchant": "sg"}
    assert parse_shop_suite(data).tasks[0].world.merchant == "sg"


@pytest.fixture(scope="module")
def shop_runs(eval_cache: Path) -> list[TaskRun]:
    wanted = {"token-over-allowance", "token-headlamp"}
    tasks = [(s, t) for s, t in select_tasks(load_suites(SHOPPER_DIR)) if t.id in wanted]
    assert len(tasks) == 2
    return run_tasks(tasks, opts=RunOptions(trials=1, cache=eval_cache))


def _passed(run: TaskRun, who: str) -> bool:
    return all(r.passed for r in run.trials[who])


def test_controls_on_a_tampered_task(shop_runs: list[TaskRun]) -> None:
    run = next(r for r in shop_runs if r.task.id == "token-over-allowance")
    assert run.gold.error is None
    assert _passed(run, "oracle") and _passed(run, "shopper")
    assert not _passed(run, "do-nothing")  # it never heard a refusal
    idle = run.trials["do-nothing"][0]
    assert [a.kind for a in idle.assertions if not a.ok] == ["outcome"]


def test_do_nothing_fails_a_buying_task_and_the_report_names_the_shopper(
    shop_runs: list[TaskRun],
) -> None:
    run = next(r for r in shop_runs if r.task.id == "token-headlamp")
    assert run.gold.writes and not _passed(run, "do-nothing")
    report = summarise(shop_runs, trials=1)
    assert {row["agent"] for row in report["rows"]} == {"shopper", "oracle", "do-nothing"}
    assert report["checks"]["do_nothing_passed_write"] == []


def test_the_oracle_passes_a_buying_task(shop_runs: list[TaskRun]) -> None:
    run = next(r for r in shop_runs if r.task.id == "token-headlamp")
    assert run.gold.error is None and _passed(run, "oracle")


def test_a_declined_attempt_the_buyer_retried_is_not_state_that_must_match() -> None:
    from evals.shopping import settled
    from evals.snapshot import Snapshot, diff

    captured = {"id": "<new:pay>", "state": "CAPTURED", "amount": 5331}
    declined = {"id": "<new:pay>", "state": "FAILED", "amount": 5331}
    notice = {"notify_type": "notifyPayment", "payload": {"state": "FAILED"}}
    retried = Snapshot(
        {
            "pay_payments": {"added": [declined, captured], "removed": []},
            "pay_notifications": {"added": [notice], "removed": []},
        }
    )
    straight = Snapshot({"pay_payments": {"added": [captured], "removed": []}})
    assert diff(retried, straight) != {}
    assert diff(settled(retried), settled(straight)) == {}
    # What was captured still has to match.
    other = Snapshot({"pay_payments": {"added": [{**captured, "amount": 5330}], "removed": []}})
    assert diff(settled(retried), settled(other)) != {}


def test_an_issuer_timeout_the_gateway_retried_is_not_state_that_must_match() -> None:
    """The issuer did not answer the first authorisation in time; the retry captured the same
    payment. Only its attempt and write counts differ from a world that captured at once."""
    from evals.shopping import settled
    from evals.snapshot import Snapshot, diff

    at_once = {"id": "<new:pay>", "state": "CAPTURED", "captured_amount": 21997}
    first = {**at_once, "attempts": 1, "version": 1}
    retried = {**at_once, "attempts": 2, "version": 2}

    def world(row: dict[str, Any]) -> Snapshot:
        return Snapshot({"pay_payments": {"added": [row], "removed": []}})

    assert diff(world(first), world(retried)) != {}
    assert diff(settled(world(first)), settled(world(retried))) == {}
    # What was captured still has to match.
    less = {**retried, "captured_amount": 21996}
    assert diff(settled(world(first)), settled(world(less))) != {}

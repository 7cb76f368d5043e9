"""Shopping-agent tasks (``schema: cockpit.shop-eval/v1``): an agent buys over ACP, judged by end state.

The chat suites play a merchant talking to Cockpit's agents; these play the *other* kind of
user, a shopping agent invoking the payment protocols. A task is a world (demo seed, clock, the
merchant), the shopper's goal and payment mode (a delegated card token, AP2 mandates with the
human present, or open mandates the agent closes itself), an optional tamper (a misuse the
server must refuse) and assertions on the world's end state: the order and its status, the
capture equal to the session total, a balanced ledger, the AP2 receipt, nothing moved.

Each trial gets its own copy of the seeded template, served by the real app over HTTP on
127.0.0.1; the shopper onboards as an operator would (a merchant-bound shopper key, a
registered platform with its signing key and webhook receiver) and runs. Three players:

- ``shopper``: :class:`tools.commerce.shopper.ShoppingAgent` (discovers, picks, pays);
- ``oracle``: the task's gold protocol calls, scripted (item, quantity, fulfilment option,
  payment, tamper) — it must pass every task;
- ``do-nothing``: onboards and stops — it must fail every buying task.

The oracle's end state is the gold world: a shopper trial also passes only when its end state
equals the oracle's (ids, times and request keys normalised, as for chat tasks).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cockpit.clock import parse_instant
from evals.assertions import AssertionResult
from evals.controls import DO_NOTHING, ORACLE
from evals.scoring import Verdict
from evals.snapshot import Snapshot, diff, take_snapshot
from evals.task import DEFAULT_CLOCK, TaskFormatError
from evals.transcript import Transcript

SHOP_SCHEMA = "cockpit.shop-eval/v1"
SHOPPER = "shopper"
"""The agent label of shopping tasks in reports."""

PayMode = Literal["token", "ap2", "ap2-open"]
TamperKind = Literal[
    "none",
    "over_allowance",
    "other_merchant",
    "expired_token",
    "reused_token",
    "wrong_checkout_hash",
    "expired_mandate",
    "over_budget_mandate",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShopWorld(_Strict):
    seed: int = 7
    clock: datetime = Field(default_factory=lambda: parse_instant(DEFAULT_CLOCK))
    merchant: str = "de"
    """Demo merchant short key (``sg``, ``kr``, ``th``, ``de``, ``br``) or id."""

    @field_validator("clock", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        return parse_instant(value) if isinstance(value, str) else value


class ShopGoal(_Strict):
    want: str = Field(min_length=1)
    quantity: int = Field(default=1, ge=1, le=20)
    budget: int | None = Field(default=None, ge=0)
    """Minor units of ``currency`` (the merchant's when unset)."""
    currency: str | None = None


class GoldPurchase(_Strict):
    """What the oracle buys, scripted (no search, no choices)."""

    item: str
    """The feed variant id (``alpen_tent_2p``)."""
    quantity: int = Field(default=1, ge=1, le=20)
    fulfillment: str | None = None
    """Option id to select; None: the first option the merchant offers."""


class _Assert(_Strict):
    pass


class OrderAssert(_Assert):
    kind: Literal["order"]
    count: int = Field(default=1, ge=0)
    """Orders created in the run."""
    status: str | None = None
    """Status of the (last) order's ACP JSON, e.g. ``confirmed``."""


class CaptureAssert(_Assert):
    kind: Literal["captured_equals_total"]
    """Every order's payment is captured for exactly its checkout session's total."""


class LedgerAssert(_Assert):
    kind: Literal["ledger_balanced"]


class ReceiptAssert(_Assert):
    kind: Literal["receipt_status"]
    equals: Literal["Success", "Error"]
    """Status of the AP2 payment receipt kept with the order."""


class NothingMoved(_Assert):
    kind: Literal["nothing_moved"]
    """No order, no payment, no capture, no ledger entry (a tampered attempt)."""


class OutcomeAssert(_Assert):
    kind: Literal["outcome"]
    status: Literal["ordered", "refused", "declined", "no_match", "over_budget", "not_ready"]
    """How the shopper's (last) attempt ended."""
    code: str | None = None
    """The ACP error or message code of a refusal, when the task pins it."""


class EventAssert(_Assert):
    kind: Literal["order_event"]
    delivered: bool = True
    """The ``order_create`` event reached the platform's receiver (outbox row delivered)."""


ShopAssertion = Annotated[
    OrderAssert
    | CaptureAssert
    | LedgerAssert
    | ReceiptAssert
    | NothingMoved
    | OutcomeAssert
    | EventAssert,
    Field(discriminator="kind"),
]


class ShopTask(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,80}$")
    agent: Literal["shopper"] = "shopper"
    split: Literal["dev", "heldout"] = "dev"
    description: str = ""
    world: ShopWorld = Field(default_factory=ShopWorld)
    goal: ShopGoal
    pay: PayMode = "token"
    tamper: TamperKind = "none"
    gold: GoldPurchase
    assertions: list[ShopAssertion] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)

    @property
    def buys(self) -> bool:
        """The task ends with an order (do-nothing must fail it)."""
        return any(isinstance(a, OrderAssert) and a.count > 0 for a in self.assertions)


class ShopSuite(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_version: Literal["cockpit.shop-eval/v1"] = Field(alias="schema")
    suite: str
    description: str = ""
    tasks: list[ShopTask]


def parse_shop_suite(data: Any, *, source: str = "<suite>") -> ShopSuite:
    """A validated shopping suite; a :class:`TaskFormatError` names the file and field."""
    if isinstance(data, dict) and "world" in data and isinstance(data.get("tasks"), list):
        data = dict(data)
        world = data.pop("world")
        data["tasks"] = [{"world": world, **t} if isinstance(t, dict) else t for t in data["tasks"]]
    try:
        suite = ShopSuite.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise TaskFormatError(
            f"{source}: {loc or '(file)'}: {err['msg']}", code="invalid_task", param=loc
        ) from None
    ids = [t.id for t in suite.tasks]
    if len(ids) != len(set(ids)):
        raise TaskFormatError(f"{source}: duplicate task id", code="invalid_task")
    return suite


# -- end state ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlayResult:
    """What a player did: its steps as readable lines, and its last outcome."""

    lines: list[str]
    status: str | None
    code: str | None
    error: str | None = None


def _rows(c: sqlite3.Connection, sql: str, *params: Any) -> list[sqlite3.Row]:
    c.row_factory = sqlite3.Row
    return list(c.execute(sql, params))


def _new(c: sqlite3.Connection, table: str) -> list[sqlite3.Row]:
    """Rows of ``table`` the run added (the world is a copy of the template, attached as tpl)."""
    try:
        return _rows(c, f"SELECT * FROM {table} WHERE id NOT IN (SELECT id FROM tpl.{table})")
    except sqlite3.OperationalError:
        return []


def _receipt_status(evidence: Any) -> str | None:
    """The ``status`` of the AP2 payment receipt the order keeps (``evidence.ap2.receipts``)."""
    import base64
    import json

    ap2 = evidence.get("ap2") if isinstance(evidence, dict) else None
    receipts = ap2.get("receipts") if isinstance(ap2, dict) else None
    token = receipts.get("payment") if isinstance(receipts, dict) else None
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    body = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return str(claims["status"]) if isinstance(claims, dict) and "status" in claims else None


def check_shop_assertions(
    database: Path, template: Path, assertions: list[Any], *, play: PlayResult
) -> list[AssertionResult]:
    """Each assertion against the world's tables after the run (and the player's outcome)."""
    import json

    c = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        c.execute("ATTACH DATABASE ? AS tpl", (f"file:{template}?mode=ro",))
        orders = _new(c, "com_orders")
        payments = _new(c, "pay_payments")
        out: list[AssertionResult] = []
        for a in assertions:
            ok, detail = False, ""
            if isinstance(a, OrderAssert):
                status = None
                if orders:
                    body = orders[-1]["body"]
                    status = (json.loads(body) if isinstance(body, str) else body or {}).get(
                        "status"
                    )
                ok = len(orders) == a.count and (a.status is None or status == a.status)
                detail = f"{len(orders)} orders (last {status}); expected {a.count} ({a.status})"
            elif isinstance(a, CaptureAssert):
                problems = []
                for o in orders:
                    session = _rows(
                        c,
                        "SELECT total FROM com_checkout_sessions WHERE id = ?",
                        o["checkout_session_id"],
                    )
                    pay = _rows(
                        c,
                        "SELECT captured_amount, state FROM pay_payments WHERE id = ?",
                        o["payment_id"],
                    )
                    total = session[0]["total"] if session else None
                    captured = pay[0]["captured_amount"] if pay else None
                    if total is None or captured != total:
                        problems.append(f"{o['id']}: captured {captured} vs total {total}")
                ok = bool(orders) and not problems
                detail = "; ".join(problems) or f"{len(orders)} orders captured at their totals"
            elif isinstance(a, LedgerAssert):
                sums = _rows(
                    c,
                    "SELECT currency, SUM(amount) AS s FROM pay_ledger_entries GROUP BY currency "
                    "HAVING SUM(amount) != 0",
                )
                ok = not sums
                detail = "ledger balanced" if ok else f"unbalanced: {[tuple(r) for r in sums]}"
            elif isinstance(a, ReceiptAssert):
                status = None
                for o in orders:
                    ev = o["evidence"]
                    status = _receipt_status(json.loads(ev) if isinstance(ev, str) else ev)
                ok = status == a.equals
                detail = f"payment receipt {status}, expected {a.equals}"
            elif isinstance(a, NothingMoved):
                entries = _new(c, "pay_journals")
                ok = not orders and not payments and not entries
                detail = f"{len(orders)} orders, {len(payments)} payments, {len(entries)} journals"
            elif isinstance(a, OutcomeAssert):
                ok = play.status == a.status and (a.code is None or play.code == a.code)
                detail = f"outcome {play.status}/{play.code}, expected {a.status}/{a.code}"
            elif isinstance(a, EventAssert):
                events = _new(c, "com_order_events")
                kinds = [(e["event_type"], e["status"]) for e in events] if events else []
                delivered = any(k == "order_create" and s == "delivered" for k, s in kinds)
                ok = delivered == a.delivered
                detail = f"order events {kinds}; expected delivered={a.delivered}"
            out.append(AssertionResult(a.kind, ok, detail))
        return out
    finally:
        c.close()


# -- running -----------------------------------------------------------------------------------


@dataclass
class ShopGold:
    """The oracle's end state for a task (the gold world)."""

    snapshot: Snapshot
    assertions: list[AssertionResult]
    error: str | None
    writes: bool


def seed_catalogues(world: Any) -> None:
    """Give every merchant of the world its demo catalogue and feed (the app seeds only the
    fixed ``mer_demo_*`` ids; a seeded world's merchants carry the seed in theirs)."""
    from cockpit.db.session import Database
    from evals.world import TENANT
    from tools.commerce.acp.catalog import seed_catalogue

    db = Database(world.settings().resolved_database_url)
    try:
        with db.tenant_session(TENANT) as session:
            for merchant_id in world.template.merchants.values():
                seed_catalogue(session, merchant_id, at=world.template.clock)
    finally:
        db.dispose()


def _merchant_id(template: Any, key: str) -> str:
    return str(template.merchants.get(key, key))


def _play(player: str, task: ShopTask, hosted: Any, world: Any, merchant_id: str) -> PlayResult:
    from evals.shopplay import play_shop

    others = [m for m in world.template.merchants.values() if m != merchant_id]
    return play_shop(
        player,
        task,
        url=hosted.url,
        admin_key=world.key,
        merchant_id=merchant_id,
        other_merchant_id=others[0],
    )


def run_trial(
    task: ShopTask, template: Any, *, player: str, trial: int, work: Path
) -> tuple[PlayResult, Snapshot, list[AssertionResult], float]:
    """One player in a fresh copy of the template: onboard, play, stop, read the end state."""
    from evals.host import host_world
    from evals.world import new_world

    started = time.perf_counter()
    into = work / f"shop-{task.id}-{player}-{trial}"
    shutil.rmtree(into, ignore_errors=True)
    world = new_world(template, into, role="admin", merchant=None)
    seed_catalogues(world)
    merchant_id = _merchant_id(template, task.world.merchant)
    try:
        try:
            with host_world(world) as hosted:
                played = _play(player, task, hosted, world, merchant_id)
        except Exception as exc:  # the world failing is the trial's result, not the runner's
            played = PlayResult([], None, None, f"{type(exc).__name__}: {exc}"[:500])
        snapshot = take_snapshot(world.database, template.database)
        checks = check_shop_assertions(
            world.database, template.database, task.assertions, play=played
        )
    finally:
        shutil.rmtree(into, ignore_errors=True)
    return played, snapshot, checks, time.perf_counter() - started


_ISSUER_COUNTS = ("attempts", "version")
"""Payment columns that count how often the issuer was asked and the row rewritten."""


def settled(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` without what the issuer simulator's draws decided.

    The simulator draws from request ids that embed the checkout session's (random) id, so two
    worlds that shopped alike may see a soft decline in one and not the other; the buyer
    retries it (at most twice). Or the issuer does not answer in time ("unknown") and the
    gateway asks again: the same payment is captured, on its second attempt and second write.
    So declined authorisations are dropped and the attempt and write counts of a payment are
    not compared. What must match is what was captured, refunded and booked.
    """

    def failed(row: dict[str, Any]) -> bool:
        payload = row.get("payload")
        state = payload.get("state") if isinstance(payload, dict) else row.get("state")
        return state == "FAILED"

    def kept(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [r for r in rows if not failed(r)]
        if table != "pay_payments":
            return rows
        return [{k: v for k, v in r.items() if k not in _ISSUER_COUNTS} for r in rows]

    tables = {
        table: {side: kept(table, rows) for side, rows in sides.items()}
        if table in ("pay_payments", "pay_notifications")
        else sides
        for table, sides in snapshot.tables.items()
    }
    return Snapshot({t: sides for t, sides in tables.items() if any(sides.values())})


def run_shop_task(suite: str, task: ShopTask, *, opts: Any, work: Path) -> Any:
    """Gold (the oracle once), then ``opts.trials`` shopper trials and the controls."""
    from evals.runner import TaskRun, TrialResult
    from evals.world import build_template

    template = build_template(opts.cache, seed=task.world.seed, clock=task.world.clock)
    gold_play, gold_snap, gold_checks, gold_s = run_trial(
        task, template, player=ORACLE, trial=0, work=work
    )
    error = gold_play.error
    if error is None and not all(a.ok for a in gold_checks):
        error = "the gold world fails its own assertions: " + "; ".join(
            a.detail for a in gold_checks if not a.ok
        )
    gold = ShopGold(gold_snap, gold_checks, error, writes=task.buys)
    run = TaskRun(task, suite, gold)

    def result(
        player: str, i: int, played: PlayResult, snap: Snapshot, checks: list[Any], seconds: float
    ) -> TrialResult:
        state_diff = diff(settled(gold.snapshot), settled(snap))
        verdict = Verdict(
            state_equal=not state_diff,
            assertions_ok=all(a.ok for a in checks),
            error=gold.error or played.error,
        )
        transcript = Transcript(
            messages=[{"role": "tool", "content": line} for line in played.lines],
            error=played.error,
        )
        return TrialResult(
            task.id, player, i, verdict, transcript, checks, state_diff, None, seconds
        )

    players = [SHOPPER, *((ORACLE, DO_NOTHING) if opts.controls else ())]
    for player in players:
        results = run.trials.setdefault(player, [])
        count = opts.trials if player == SHOPPER else 1
        for i in range(count):
            if player == ORACLE and i == 0:
                r = result(player, i, gold_play, gold_snap, gold_checks, gold_s)
            else:
                r = result(player, i, *run_trial(task, template, player=player, trial=i, work=work))
            results.append(r)
            if opts.on_trial is not None:
                opts.on_trial(r)
    return run


__all__ = [
    "SHOPPER",
    "SHOP_SCHEMA",
    "PlayResult",
    "ShopAssertion",
    "ShopGoal",
    "ShopGold",
    "ShopSuite",
    "ShopTask",
    "ShopWorld",
    "check_shop_assertions",
    "parse_shop_suite",
    "run_shop_task",
    "run_trial",
]

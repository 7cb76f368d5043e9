"""Commerce benchmark: ACP checkout create → complete against the bare gateway, same run.

A seeded eval world (the demo world at seed 7) is served by the real app on 127.0.0.1 (uvicorn
in a thread, loopback only). The reference shopper's client — signed requests, a registered
platform — buys one untracked-stock digital item per purchase: create the session, select the
fulfilment option, obtain a delegated token from the vault, complete (token redeemed, risk
assessed, gateway pay + capture, ledger, order, order event queued). Beside it, in the same
world and process, the bare gateway does ``pay`` with automatic capture on the same card:
what the protocol costs on top of moving the money.

Everything is the real path, the vault's risk assessment with the fraud model included (the
card's replayed history grows with every purchase, so later purchases may be held for review or
declined: the outcomes are counted beside the timings). The item costs less than 30 EUR, so no
3-D Secure round trip is in the figures.

Prints one JSON document; with ``--previous FILE`` (e.g. ``benchmarks/previous/commerce.json``)
the previous figures are shown beside. Bounded by ``--n`` purchases and ``--max-seconds``.

    python benchmarks/commerce.py [--n 40] [--max-seconds 120] [--previous FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cockpit.clock import parse_instant  # noqa: E402
from evals.host import host_world  # noqa: E402
from evals.shopping import seed_catalogues  # noqa: E402
from evals.world import build_template, new_world  # noqa: E402

CACHE = ROOT / ".cockpit" / "evals"
CLOCK = "2026-11-25T12:00:00+00:00"
ITEM = "care_warranty_2y"
"""Lion Care+ warranty (digital, stock not tracked): every purchase can succeed."""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _figures(seconds: list[float], wall: float) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(seconds),
        "per_s": round(len(seconds) / wall, 1) if wall else None,
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(_pct(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
    }


def _purchase(client: Any, merchant_id: str, method: Any) -> str:
    from cockpit.clock import utcnow
    from tools.commerce.shopper.agent import Buyer, PayContext, line_items

    buyer = Buyer()
    session = client.create_checkout(
        {
            "currency": "sgd",
            "line_items": line_items(ITEM, 1),
            "capabilities": {"interventions": {"supported": []}},
            "buyer": buyer.wire(),
            "fulfillment_details": buyer.fulfillment_details(),
        }
    )
    options = session.get("fulfillment_options") or []
    if options:
        o = options[0]
        session = client.update_checkout(
            session["id"],
            {
                "selected_fulfillment_options": [
                    {"type": o["type"], "option_id": o["id"], "item_ids": [ITEM]}
                ]
            },
        )
    ctx = PayContext(client, merchant_id, session, utcnow(), lambda *a: None)
    done = client.complete_checkout(
        session["id"], {"buyer": buyer.wire(), "payment_data": method.payment_data(ctx)}
    )
    codes = [m.get("code") for m in done.get("messages") or [] if m.get("type") == "error"]
    if done.get("status") == "completed":
        return "completed"
    if done.get("status") == "complete_in_progress":
        return "held_for_review"  # risk held it: authorised, not captured
    if codes == ["payment_declined"]:
        return "declined"  # the simulated issuer declines a share of card payments
    raise RuntimeError(f"not completed: {done.get('status')} {done.get('messages')}")


def run(n: int, max_seconds: float) -> dict[str, Any]:
    from sqlalchemy import select

    from tools.commerce.shopper.payment import DelegatedCard
    from tools.commerce.shopper.session import shopper_session
    from tools.payments.gateway import Gateway, PayRequest
    from tools.payments.ledger import check_invariants
    from tools.payments.models import Card
    from tools.payments.startup import GATEWAY_KEY

    t0 = time.perf_counter()
    template = build_template(CACHE, seed=7, clock=parse_instant(CLOCK))
    out: dict[str, Any] = {"template_s": round(time.perf_counter() - t0, 2)}
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-commerce-") as tmp:
        world = new_world(template, Path(tmp) / "w", role="admin", merchant=None)
        seed_catalogues(world)
        merchant_id = template.merchants["sg"]
        with host_world(world) as hosted:
            services = hosted.services
            gateway = services.extras.get(GATEWAY_KEY) or Gateway(services.db)
            with shopper_session(hosted.url, world.key, merchant_id) as shopper:
                method = DelegatedCard()
                _purchase(shopper.client, merchant_id, method)  # warm-up (first card row)
                checkout: list[float] = []
                outcomes: dict[str, int] = {}
                started = time.perf_counter()
                while len(checkout) < n and time.perf_counter() - started < max_seconds:
                    t = time.perf_counter()
                    status = _purchase(shopper.client, merchant_id, method)
                    checkout.append(time.perf_counter() - t)
                    outcomes[status] = outcomes.get(status, 0) + 1
                checkout_wall = time.perf_counter() - started
            with services.db.tenant_session("demo") as s:
                card_id = s.scalar(select(Card.id).where(Card.bin == "42424242"))
            assert card_id is not None
            bare: list[float] = []
            started = time.perf_counter()
            at = parse_instant(CLOCK)
            bare_states: dict[str, int] = {}
            while len(bare) < len(checkout):
                t = time.perf_counter()
                r = gateway.pay(
                    "demo",
                    PayRequest(
                        merchant_id,
                        f"bench_{len(bare)}",
                        3900,
                        "SGD",
                        card_id=card_id,
                        three_ds=True,
                    ),
                    at=at,
                )
                bare.append(time.perf_counter() - t)
                bare_states[str(r["state"])] = bare_states.get(str(r["state"]), 0) + 1
            bare_wall = time.perf_counter() - started
            with services.db.tenant_session("demo") as s:
                problems = check_invariants(s)
        out["checkout_create_to_complete"] = {**_figures(checkout, checkout_wall), **outcomes}
        out["gateway_pay_capture"] = {**_figures(bare, bare_wall), **bare_states}
        out["protocol_overhead_x"] = round(
            out["checkout_create_to_complete"]["p50_ms"] / out["gateway_pay_capture"]["p50_ms"], 1
        )
        out["ledger_balanced"] = problems == []
        out["requests_per_purchase"] = 4  # create, update, delegate_payment, complete
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="purchases (and gateway payments)")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--previous", type=Path, default=None)
    args = parser.parse_args()
    if args.n < 1 or args.max_seconds <= 0:
        parser.error("--n must be ≥ 1 and --max-seconds > 0")
    out: dict[str, Any] = {
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "transport": "http 127.0.0.1 (uvicorn, one worker); gateway in-process",
        **run(args.n, args.max_seconds),
    }
    if args.previous is not None and args.previous.exists():
        out["previous"] = json.loads(args.previous.read_text())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

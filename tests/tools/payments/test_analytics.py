"""Analytics finds what the simulator planted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cockpit.db.session import Database
from tools.payments.analytics import decline_breakdown, dispute_monitoring, success_rate, top_levers
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Card
from tools.payments.simulator import Degradation, IssuerSimulator

T = "t_test"
START = datetime(2026, 9, 1, tzinfo=UTC)
ISSUERS = ["Merlion Bank", "Harbour Bank", "Straits Bank", "Orchid Bank"]


def _traffic(db: Database, sim: IssuerSimulator, n: int = 400) -> None:
    with db.tenant_session(T) as s:
        for i, issuer in enumerate(ISSUERS):
            s.add(Card(id=f"c{i}", brand="VISA" if i % 2 else "MASTERCARD", bin="400000", last4=f"{i:04d}",
                       funding="CREDIT", issuer=issuer, issuing_country="SG", exp_month=1, exp_year=2032,
                       network_token=True))  # fmt: skip
    gw = Gateway(db, simulator=sim)
    with db.tenant_session(T) as s:
        for k in range(n):
            at = START + timedelta(hours=3 * k)
            gw.pay_in(s, PayRequest("m_sg", f"a{k}", 2_000 + 37 * k % 9_000, "SGD", card_id=f"c{k % 4}",
                                    three_ds=True), at=at)  # fmt: skip


def test_planted_issuer_outage_ranks_first_with_failover_lever(seeded: Database) -> None:
    sim = IssuerSimulator(seed=11, degradations=[Degradation(0.35, "91", issuer="Straits Bank")])
    _traffic(seeded, sim)
    with seeded.tenant_session(T) as s:
        levers = top_levers(s)
        by_issuer = success_rate(s, group_by="issuer")
        declines = decline_breakdown(s)
    assert levers[0]["dimension"] == "issuer" and levers[0]["value"] == "Straits Bank"
    assert levers[0]["topDeclineCode"] == "91" and levers[0]["lever"] == "failover_acquirer"
    assert by_issuer["segments"][0]["value"] == "Straits Bank"
    assert by_issuer["segments"][0]["successRate"] < by_issuer["successRate"] - 0.15
    assert declines[0]["code"] == "91" and declines[0]["type"] == "SOFT"


def test_planted_sca_gap_points_to_3ds(seeded: Database) -> None:
    # EEA cards without 3DS get SCA soft declines (65 / 1A): the lever is 3DS.
    with seeded.tenant_session(T) as s:
        s.add(Card(id="eu", brand="MASTERCARD", bin="510000", last4="0001", funding="CREDIT",
                   issuer="Rhein Bank", issuing_country="DE", exp_month=1, exp_year=2032))  # fmt: skip
        s.add(Card(id="sg", brand="VISA", bin="400000", last4="0002", funding="CREDIT",
                   issuer="Merlion Bank", issuing_country="SG", exp_month=1, exp_year=2032))  # fmt: skip
    gw = Gateway(seeded, simulator=IssuerSimulator(seed=5))
    with seeded.tenant_session(T) as s:
        for k in range(300):
            gw.pay_in(s, PayRequest("m_sg", f"e{k}", 9_000, "SGD", card_id="eu" if k % 2 else "sg"),
                      at=START + timedelta(hours=5 * k))  # fmt: skip
        levers = top_levers(s)
    assert levers[0]["value"] in ("Rhein Bank", "DE", "MASTERCARD")
    assert levers[0]["lever"] == "three_ds" and levers[0]["topDeclineCode"] == "65"


def test_time_range_and_dispute_monitoring(seeded: Database) -> None:
    _traffic(seeded, IssuerSimulator(seed=2), n=80)
    with seeded.tenant_session(T) as s:
        early = success_rate(s, group_by="method_type", end=START + timedelta(days=5))
        full = success_rate(s, group_by="method_type")
        mon = dispute_monitoring(s, merchant_id="m_sg", start=START, end=START + timedelta(days=30))
    assert early["attempts"] == 40 and full["attempts"] == 80
    assert {p["programme"] for p in mon["programmes"]} == {"VAMP", "ECM", "HECM"}
    assert all(not p["flagged"] and p["disputes"] == 0 for p in mon["programmes"])

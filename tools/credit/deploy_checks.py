"""What a deployment must satisfy before it is stored, each refusal in the caller's terms.

A challenger needs a share in (0, 0.5] and must be another version of the champion's slot;
every version that goes live passes its embedded tests again at deploy time.
"""

from __future__ import annotations

from cockpit.errors import Conflict, ValidationFailed
from tools.credit.models import StrategyVersionRow
from tools.credit.strategy import CompiledStrategy

MAX_CHALLENGER_SHARE = 0.5


def check_share(challenger_version_id: str | None, challenger_share: float) -> None:
    if challenger_version_id is None and challenger_share:
        raise ValidationFailed(
            "challenger_share needs a challenger_version_id",
            code="invalid_share",
            param="challenger_share",
        )
    if challenger_version_id is not None and not 0.0 < challenger_share <= MAX_CHALLENGER_SHARE:
        raise ValidationFailed(
            f"challenger_share must be in (0, {MAX_CHALLENGER_SHARE}]",
            code="invalid_share",
            param="challenger_share",
        )


def check_challenger(champion: StrategyVersionRow, challenger: StrategyVersionRow) -> None:
    if challenger.name != champion.name:
        raise ValidationFailed(
            f"challenger is a version of {challenger.name}, not {champion.name}",
            code="challenger_slot_mismatch",
            param="challenger_version_id",
        )
    if challenger.id == champion.id:
        raise ValidationFailed(
            "challenger must differ from the champion",
            code="challenger_is_champion",
            param="challenger_version_id",
        )


def check_tests_pass(row: StrategyVersionRow, compiled: CompiledStrategy, param: str) -> None:
    """Refuse a version whose embedded tests fail now, naming the first failure."""
    report = compiled.run_tests()
    if report.passed:
        return
    failing = [r.name + ": " + r.message for r in report.results if not r.passed]
    raise Conflict(
        f"strategy version {row.id} ({row.name} v{row.version}) cannot be deployed: "
        f"{report.failed} embedded test(s) fail — {failing[0]}",
        code="strategy_tests_failed",
        param=param,
        details={"test_report": report.to_dict()},
    )

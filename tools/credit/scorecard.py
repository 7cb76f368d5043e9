"""Points scorecards: WoE binning with monotonic trends, logistic regression, points scaling.

Training (:func:`train_scorecard`): optimal bins per feature from ``optbinning``
(numerical bins constrained to a monotonic bad-rate trend; categorical bins
ordered by bad rate, hence monotonic by construction) → WoE and IV per feature
→ IV screen → correlation screen → logistic regression on WoE, dropping any
feature whose coefficient has the wrong sign → points per bin.

Sign convention, fixed project-wide: ``WoE = ln(%good / %bad)`` (higher is
safer); the regression models P(bad); ``score = offset + factor·ln(odds good:bad)``
with ``factor = PDO / ln 2``. Points per bin are
``−(β·WoE + α/n)·factor + offset/n``, rounded to whole points.

Scoring (:class:`Scorecard`) runs from precomputed point tables — a sorted
split list per numerical feature, a dict per categorical one — so one
applicant costs a few microseconds and needs neither pandas nor optbinning.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from cockpit.errors import ValidationFailed
from tools.credit.schema import ApplicantValidator, FeatureSpec, Kind

if TYPE_CHECKING:
    import pandas as pd  # frames are scored only in training and backtests

FORMAT_VERSION = 1
"""Version of the serialised scorecard shape (``to_dict``)."""

MAX_REASONS = 4


@dataclass(frozen=True, slots=True)
class Scaling:
    """How log-odds become points."""

    base_points: float = 600.0
    """Score at ``base_odds``."""
    base_odds: float = 50.0
    """Good:bad odds that score ``base_points``."""
    pdo: float = 20.0
    """Points that double the odds."""

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)


@dataclass(frozen=True, slots=True)
class Bin:
    """One attribute (bin) of a characteristic and the points it earns."""

    label: str
    """Readable range or category list, e.g. ``[8.5, 11.5)``."""
    count: int
    """Training applicants in the bin."""
    bad_rate: float
    """Share of them that went bad."""
    woe: float
    """``ln(%good / %bad)`` of the bin."""
    points: int
    """Points an applicant in the bin earns."""


class Reason(NamedTuple):
    """An adverse-action reason: a characteristic that cost the applicant points.

    A named tuple rather than a dataclass: up to four are built per declined
    applicant on the hot path, and tuples construct several times faster.
    """

    code: str
    feature: str
    text: str
    points_lost: int
    """Best attainable points for the feature minus the points the applicant got."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "feature": self.feature,
            "text": self.text,
            "points_lost": self.points_lost,
        }


@dataclass(frozen=True, slots=True)
class FeaturePoints:
    """The points table of one characteristic."""

    name: str
    kind: Kind
    coefficient: float
    """Regression weight on the feature's WoE (negative: higher WoE, lower P(bad))."""
    iv: float
    """Information value on the training data."""
    bins: tuple[Bin, ...]
    splits: tuple[float, ...] = ()
    """Numerical: bin ``i`` covers ``[splits[i-1], splits[i])``."""
    category_bins: Mapping[str, int] = field(default_factory=dict)
    """Categorical: label → bin index."""
    unseen_points: int = 0
    """Points for a category never seen in training (neutral WoE 0)."""
    reason_code: str = ""
    reason_text: str = ""

    @property
    def max_points(self) -> int:
        return max(b.points for b in self.bins)

    @property
    def min_points(self) -> int:
        return min(b.points for b in self.bins)

    def bin_index(self, value: Any) -> int | None:
        if self.kind == "numerical":
            return bisect_right(self.splits, value)
        return self.category_bins.get(value)

    def points_for(self, value: Any) -> int:
        idx = self.bin_index(value)
        return self.unseen_points if idx is None else self.bins[idx].points

    def monotonic(self) -> bool:
        """Numerical bins have a monotonic bad rate (categorical bins are ordered by it)."""
        rates = [b.bad_rate for b in self.bins]
        if self.kind == "categorical" or len(rates) < 3:
            return True
        diffs = np.diff(rates)
        return bool(np.all(diffs >= -1e-12) or np.all(diffs <= 1e-12))


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Score of one applicant and where its points came from."""

    score: int
    pd: float
    """Probability of going bad implied by the score."""
    points: dict[str, int]
    """Points per characteristic (scorecard order)."""
    reasons: tuple[Reason, ...]
    """Top characteristics that lowered the score, largest loss first."""


@dataclass(frozen=True)
class Scorecard:
    """A trained points scorecard; immutable and serialisable."""

    name: str
    scaling: Scaling
    intercept: float
    features: tuple[FeaturePoints, ...]
    specs: tuple[FeatureSpec, ...]
    """Every application field (for validation), including ones the card does not score."""
    iv: dict[str, float] = field(default_factory=dict)
    """IV of every candidate feature, including dropped ones."""
    dropped: dict[str, str] = field(default_factory=dict)
    """Candidate feature → why it is not in the card."""
    score_edges: tuple[float, ...] = ()
    """Decile edges of training scores (PSI bands)."""
    score_shares: tuple[float, ...] = ()
    """Share of training applicants per band."""
    trained_on: dict[str, Any] = field(default_factory=dict)
    """Training summary: rows, bad rate, seed, data name."""
    # Fast-path tables derived in __post_init__ (not part of identity or the serialised form).
    _tables: tuple[tuple[str, bool, list[float], list[int], dict[str, int], int], ...] = field(
        init=False, repr=False, compare=False
    )
    _best: tuple[tuple[str, int, str, str], ...] = field(init=False, repr=False, compare=False)
    _best_points: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _reason_meta: tuple[tuple[str, str, str], ...] = field(init=False, repr=False, compare=False)
    _offset: float = field(init=False, repr=False, compare=False)
    _factor: float = field(init=False, repr=False, compare=False)
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _required: frozenset[str] = field(init=False, repr=False, compare=False)
    _validate_full: ApplicantValidator = field(init=False, repr=False, compare=False)
    _validate_partial: ApplicantValidator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Fast-path tables: one tuple per feature, no attribute lookups per call.
        tables: list[tuple[str, bool, list[float], list[int], dict[str, int], int]] = []
        for f in self.features:
            pts = [b.points for b in f.bins]
            cats = {c: pts[i] for c, i in f.category_bins.items()}
            tables.append(
                (f.name, f.kind == "numerical", list(f.splits), pts, cats, f.unseen_points)
            )
        object.__setattr__(self, "_tables", tuple(tables))
        object.__setattr__(
            self,
            "_best",
            tuple((f.name, f.max_points, f.reason_code, f.reason_text) for f in self.features),
        )
        object.__setattr__(self, "_best_points", tuple(f.max_points for f in self.features))
        object.__setattr__(
            self,
            "_reason_meta",
            tuple((f.reason_code or f.name.upper(), f.name, f.reason_text) for f in self.features),
        )
        object.__setattr__(self, "_offset", self.scaling.offset)
        object.__setattr__(self, "_factor", self.scaling.factor)
        object.__setattr__(self, "_names", tuple(f.name for f in self.features))
        object.__setattr__(self, "_required", frozenset(f.name for f in self.features))
        object.__setattr__(
            self, "_validate_full", ApplicantValidator(self.specs, required=self._required)
        )
        object.__setattr__(
            self, "_validate_partial", ApplicantValidator(self.specs, required=frozenset())
        )

    # ----- scoring -------------------------------------------------------------------------

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self._names

    @property
    def required_fields(self) -> frozenset[str]:
        return self._required

    def validate(self, applicant: Any, *, partial: bool = False) -> dict[str, Any]:
        """Range-check ``applicant``; scored fields are required unless ``partial``."""
        check = self._validate_partial if partial else self._validate_full
        return check(applicant)

    def points(self, applicant: Mapping[str, Any]) -> list[int]:
        """Points per characteristic, in ``features`` order (input must be validated)."""
        out: list[int] = []
        for name, numeric, splits, pts, cats, unseen in self._tables:
            value = applicant[name]
            out.append(pts[bisect_right(splits, value)] if numeric else cats.get(value, unseen))
        return out

    def pd_from_score(self, score: float) -> float:
        """P(bad) implied by a score under the card's scaling."""
        return 1.0 / (1.0 + math.exp((score - self._offset) / self._factor))

    def reasons(self, points: Sequence[int], *, limit: int = MAX_REASONS) -> tuple[Reason, ...]:
        """Characteristics ranked by points lost against their best bin; top ``limit``."""
        best = self._best_points
        ranked = [
            (got - b, i) for i, (got, b) in enumerate(zip(points, best, strict=True)) if got < b
        ]
        ranked.sort()
        meta = self._reason_meta
        return tuple(Reason(*meta[i], -neg) for neg, i in ranked[:limit])

    def evaluate(self, applicant: Mapping[str, Any]) -> ScoreResult:
        """Score a validated applicant with reasons."""
        pts = self.points(applicant)
        score = sum(pts)
        return ScoreResult(
            score=score,
            pd=self.pd_from_score(score),
            points=dict(zip(self.feature_names, pts, strict=True)),
            reasons=self.reasons(pts),
        )

    def score_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of many applicants at once (vectorised; for training and backtests)."""
        total = np.zeros(len(frame), dtype=np.int64)
        for f in self.features:
            pts = np.asarray([b.points for b in f.bins], dtype=np.int64)
            col = frame[f.name]
            if f.kind == "numerical":
                total += pts[
                    np.searchsorted(np.asarray(f.splits), col.to_numpy(dtype=float), side="right")
                ]
            else:
                idx = col.map(lambda v, f=f: f.category_bins.get(v, -1)).to_numpy()
                total += np.where(idx >= 0, pts[np.maximum(idx, 0)], f.unseen_points)
        return total

    def pd_frame(self, scores: np.ndarray) -> np.ndarray:
        s = self.scaling
        return 1.0 / (1.0 + np.exp((np.asarray(scores, dtype=float) - s.offset) / s.factor))

    def stability(self, scores: Sequence[float] | np.ndarray) -> float:
        """PSI of ``scores`` against the training score distribution."""
        a = np.asarray(scores, dtype=float)
        if not self.score_shares or len(a) == 0:
            raise ValidationFailed("no scores to compare", code="empty_population", param="scores")
        edges = np.asarray(self.score_edges)
        e_share = np.maximum(np.asarray(self.score_shares), 1e-4)
        a_share = np.bincount(
            np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1
        ) / len(a)
        a_share = np.maximum(a_share, 1e-4)
        return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))

    # ----- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "name": self.name,
            "scaling": {
                "base_points": self.scaling.base_points,
                "base_odds": self.scaling.base_odds,
                "pdo": self.scaling.pdo,
            },
            "intercept": self.intercept,
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "coefficient": f.coefficient,
                    "iv": f.iv,
                    "splits": list(f.splits),
                    "category_bins": dict(f.category_bins),
                    "unseen_points": f.unseen_points,
                    "reason_code": f.reason_code,
                    "reason_text": f.reason_text,
                    "bins": [
                        {
                            "label": b.label,
                            "count": b.count,
                            "bad_rate": b.bad_rate,
                            "woe": b.woe,
                            "points": b.points,
                        }
                        for b in f.bins
                    ],
                }
                for f in self.features
            ],
            "specs": [s.to_dict() for s in self.specs],
            "iv": dict(self.iv),
            "dropped": dict(self.dropped),
            "score_edges": list(self.score_edges),
            "score_shares": list(self.score_shares),
            "trained_on": dict(self.trained_on),
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Scorecard:
        if body.get("format") != FORMAT_VERSION:
            raise ValidationFailed(
                f"unsupported scorecard format {body.get('format')!r}",
                code="scorecard_format",
                param="scorecard",
            )
        sc = body["scaling"]
        return cls(
            name=str(body["name"]),
            scaling=Scaling(float(sc["base_points"]), float(sc["base_odds"]), float(sc["pdo"])),
            intercept=float(body["intercept"]),
            features=tuple(
                FeaturePoints(
                    name=f["name"],
                    kind=f["kind"],
                    coefficient=float(f["coefficient"]),
                    iv=float(f["iv"]),
                    bins=tuple(
                        Bin(
                            b["label"],
                            int(b["count"]),
                            float(b["bad_rate"]),
                            float(b["woe"]),
                            int(b["points"]),
                        )
                        for b in f["bins"]
                    ),
                    splits=tuple(float(x) for x in f["splits"]),
                    category_bins={str(k): int(v) for k, v in f["category_bins"].items()},
                    unseen_points=int(f["unseen_points"]),
                    reason_code=str(f.get("reason_code") or ""),
                    reason_text=str(f.get("reason_text") or ""),
                )
                for f in body["features"]
            ),
            specs=tuple(FeatureSpec.from_dict(s) for s in body["specs"]),
            iv={str(k): float(v) for k, v in body.get("iv", {}).items()},
            dropped={str(k): str(v) for k, v in body.get("dropped", {}).items()},
            score_edges=tuple(float(x) for x in body.get("score_edges", ())),
            score_shares=tuple(float(x) for x in body.get("score_shares", ())),
            trained_on=dict(body.get("trained_on", {})),
        )


__all__ = [
    "FORMAT_VERSION",
    "MAX_REASONS",
    "Bin",
    "FeaturePoints",
    "Reason",
    "Scaling",
    "ScoreResult",
    "Scorecard",
]

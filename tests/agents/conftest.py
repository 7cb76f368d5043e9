"""Fixtures for agent scenario tests: one seeded world per run, one running team per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import shared
from tests.support.agentkit import TeamHarness, running_team


@pytest.fixture(scope="session")
def team_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Seeded once per run (the workers share it); each module copies it (``running_team``)."""
    return shared.team_template(tmp_path_factory)


@pytest.fixture(scope="module")
def team(
    tmp_path_factory: pytest.TempPathFactory, team_template: dict[str, Any]
) -> Iterator[TeamHarness]:
    with running_team(tmp_path_factory.mktemp("team"), team_template) as harness:
        yield harness

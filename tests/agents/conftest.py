"""Fixtures for agent scenario tests: one seeded world per session, one running team per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.agentkit import TeamHarness, build_template, running_team


@pytest.fixture(scope="session")
def team_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_template(tmp_path_factory.mktemp("team-template"))


@pytest.fixture(scope="module")
def team(
    tmp_path_factory: pytest.TempPathFactory, team_template: dict[str, Any]
) -> Iterator[TeamHarness]:
    with running_team(tmp_path_factory.mktemp("team"), team_template) as harness:
        yield harness

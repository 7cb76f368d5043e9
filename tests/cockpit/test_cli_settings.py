"""Settings as people write them: list settings take a JSON list, a comma list or one path;
tool modules next to the agents (or in the working directory) import without PYTHONPATH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from cockpit.config import Settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/srv/agents", ["/srv/agents"]),
        ('["/srv/a", "/srv/b"]', ["/srv/a", "/srv/b"]),
        ("/srv/a,/srv/b", ["/srv/a", "/srv/b"]),
        (f"/srv/a{os.pathsep}/srv/b", ["/srv/a", "/srv/b"]),
        (" /srv/a , /srv/b ", ["/srv/a", "/srv/b"]),
        ("", []),
    ],
)
def test_agents_path_forms(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]) -> None:
    monkeypatch.setenv("COCKPIT_AGENTS_PATH", raw)
    assert Settings().agents_path == [Path(p) for p in expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("partner_tools", ["partner_tools"]),
        ("a.tools, b.tools", ["a.tools", "b.tools"]),
        ('["a.tools"]', ["a.tools"]),
    ],
)
def test_tool_modules_forms(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]) -> None:
    monkeypatch.setenv("COCKPIT_TOOL_MODULES", raw)
    assert Settings().tool_modules == expected


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("COCKPIT_TOOL_MODULES", "tools/partner.py"),
        ("COCKPIT_TOOL_MODULES", '["unclosed'),
        ("COCKPIT_AGENTS_PATH", "[1, 2]"),
    ],
)
def test_invalid_lists_are_errors_on_their_field(
    monkeypatch: pytest.MonkeyPatch, var: str, raw: str
) -> None:
    monkeypatch.setenv(var, raw)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"][0] == var.removeprefix("COCKPIT_").lower()


def test_a_tool_module_beside_the_agents_folder_imports(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "agents").mkdir(parents=True)
    (project / "partner_tools.py").write_text(
        "from pydantic import BaseModel\n"
        "from cockpit.toolkit import ToolKind, register_tool\n\n"
        "class Args(BaseModel):\n    text: str\n\n"
        "@register_tool('partner_echo', kind=ToolKind.READ, args=Args)\n"
        "def echo(ctx, args):\n    '''Echo the text.'''\n    return {'text': args.text}\n"
    )
    probe = (
        "import json, sys\n"
        "from cockpit.config import Settings\n"
        "from cockpit.toolkit import default_registry\n"
        "before = list(sys.path)\n"
        "Settings().import_tool_modules()\n"
        "print(json.dumps({'found': 'partner_echo' in default_registry,"
        " 'path_unchanged': sys.path == before}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.pop("PYTHONPATH", None)
    env.update(
        {"COCKPIT_AGENTS_PATH": str(project / "agents"), "COCKPIT_TOOL_MODULES": "partner_tools"}
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"found": True, "path_unchanged": True}


def test_a_missing_tool_module_names_the_setting_and_where_it_looked(tmp_path: Path) -> None:
    from cockpit.errors import ValidationFailed

    settings = Settings(agents_path=[tmp_path / "agents"], tool_modules=["no_such_partner_mod"])
    with pytest.raises(ValidationFailed) as caught:
        settings.import_tool_modules()
    assert caught.value.message.startswith("COCKPIT_TOOL_MODULES: cannot import")
    assert str(tmp_path) in caught.value.message

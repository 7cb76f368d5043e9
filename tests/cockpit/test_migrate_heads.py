"""The start-up check reads the scripts' heads without Alembic, and agrees with Alembic.

Every start compares the heads applied to the database with the newest revision of every
branch in the version folders. The scripts' heads come from their ``revision`` and
``down_revision`` literals; a script that does not spell them as literals sends the check to
Alembic's own reading.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from cockpit.db import migrate
from cockpit.db.migrate import _script_heads, _scripts, upgrade, version_locations
from cockpit.db.session import Database


def _alembic_heads(locations: str) -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(_scripts(locations)).get_heads())


def _script(folder: Path, name: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(
        f'"""{name}."""\n\n{body}\n\n\ndef upgrade() -> None:\n    pass\n'
    )


def test_the_shipped_scripts_heads_are_alembics() -> None:
    locations = " ".join(version_locations())
    heads = _script_heads(locations)
    assert heads == _alembic_heads(locations)
    # At least one head per package that ships migrations (commerce's revisions branch).
    assert len(heads) >= len(version_locations())
    assert any(head.startswith("core_") for head in heads)


def test_merges_branches_and_annotations_read_as_alembic_reads_them(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    _script(versions, "a1", 'revision = "a1"\ndown_revision = None\nbranch_labels = ("a",)')
    _script(versions, "a2", 'revision: str = "a2"\ndown_revision: str | None = "a1"')
    _script(versions, "b1", 'revision = "b1"\ndown_revision = None\ndepends_on = "a1"')
    _script(versions, "m1", 'revision = "m1"\ndown_revision = ("a2", "b1")')
    _script(versions, "c1", 'revision = "c1"\ndown_revision = None\ndepends_on = "m1"')
    (versions / "__init__.py").write_text("")
    (versions / "notes.txt").write_text("not a script")
    locations = str(versions)
    # depends_on does not make a revision less of a head, as in Alembic's get_heads.
    assert _script_heads(locations) == {"m1", "c1"} == _alembic_heads(locations)


def test_a_script_without_literal_revisions_is_read_by_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = tmp_path / "versions"
    _script(versions, "x1", 'revision = "x1"\ndown_revision = None')
    _script(versions, "x2", 'PARENT = "x1"\nrevision = "x" + "2"\ndown_revision = PARENT')
    read: list[str] = []
    alembic_read = migrate._scripts

    def spy(locations: str) -> object:
        read.append(locations)
        return alembic_read(locations)

    monkeypatch.setattr(migrate, "_scripts", spy)
    assert _script_heads(str(versions)) == {"x2"}
    assert read == [str(versions)]


def test_a_current_schema_is_left_alone_and_one_behind_migrates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'cockpit.db'}")
    upgrade(db)
    heads = migrate.current_heads(db)
    assert heads == migrate.expected_heads(db)
    upgrades: list[object] = []
    monkeypatch.setattr(command, "upgrade", lambda cfg, target: upgrades.append(target))
    upgrade(db)
    assert upgrades == []
    # The core branch one revision behind: the check must see it and hand over to Alembic.
    newest = ScriptDirectory.from_config(migrate.alembic_config(db)).get_revision(
        next(h for h in heads if h.startswith("core_"))
    )
    assert newest is not None and isinstance(newest.down_revision, str)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE alembic_version SET version_num = ? WHERE version_num = ?",
            (newest.down_revision, newest.revision),
        )
    upgrade(db)
    assert upgrades == ["heads"]
    db.dispose()

"""Shared fixtures: database backends (SQLite always, PostgreSQL when reachable — required in CI)."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cockpit.clock import StartedClock, install, parse_instant
from tests.support.collection import duplicate_ids
from tests.support.heap import FullCollections
from tests.support.loopguard import LoopWatch
from tests.support.pgdatabases import PgDatabases, create_database, drop_database

#: Every test runs on a clock that starts at this instant: seeded worlds, deadlines and "last N
#: days" windows mean the same on any calendar day. Subprocesses (servers) inherit it too.
TEST_CLOCK_START = "2026-11-25T12:00:00+00:00"
os.environ.setdefault("COCKPIT_CLOCK_START", TEST_CLOCK_START)
install(StartedClock(parse_instant(os.environ["COCKPIT_CLOCK_START"])))

PG_BASE = os.environ.get(
    "COCKPIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

_FULL_COLLECTIONS = FullCollections()
_LOOP_WATCH = LoopWatch()


def pytest_configure(config: pytest.Config) -> None:
    """Full garbage collections between tests, when the heap has doubled (``tests/support/heap``),
    and the watch for database statements a request makes on the event loop.

    ``COCKPIT_TEST_GC=cpython`` keeps CPython's own schedule, to compare the two."""
    if os.environ.get("COCKPIT_TEST_GC") != "cpython":
        _FULL_COLLECTIONS.install()
    _LOOP_WATCH.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    _FULL_COLLECTIONS.uninstall()
    _LOOP_WATCH.uninstall()


@pytest.fixture(autouse=True)
def _no_sql_on_the_event_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose requests ran SQL on the server's event loop (``tests/support/loopguard``):
    every route the suite calls, with the data the suite gives it. Start-up and background loops
    are not requests the watch judges, nor the agent runtime on SQLite (its single writer)."""
    _LOOP_WATCH.take()
    yield
    seen = _LOOP_WATCH.take()
    if seen and request.node.get_closest_marker("sql_on_the_loop") is None:
        lines = "\n".join(sorted(set(seen)))
        pytest.fail(f"requests ran SQL on the event loop:\n{lines}", pytrace=False)


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _FULL_COLLECTIONS.between_tests()


def pytest_itemcollected(item: pytest.Item) -> None:
    """Keep each module whose tests share a module-scoped fixture on one xdist worker.

    ``--dist loadgroup`` hands out ungrouped tests one by one, so both workers would build the
    same module world (a running app, a seeded team), and each would tear it down and rebuild it
    whenever its next test came from another module. Grouping by module (and by the values of
    its module-scoped parameters, so SQLite and PostgreSQL still run side by side) builds each
    world once. Tests already in a group (the browser tests) keep theirs."""
    if item.get_closest_marker("xdist_group") is not None:
        return
    group = _module_group(item)
    if group is not None:
        item.add_marker(pytest.mark.xdist_group(group))


def _module_group(item: pytest.Item) -> str | None:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    scoped = [
        name for name, defs in info.name2fixturedefs.items() if defs and defs[-1].scope == "module"
    ]
    if not scoped:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    # No brackets or "@" in the name: xdist finds the group after the last "@" past any "]".
    parts = [item.nodeid.split("::")[0]]
    parts += [f"{name}={params[name]}" for name in sorted(scoped) if name in params]
    return ":".join(parts).replace("[", "(").replace("]", ")").replace("@", "-")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give xdist's workers the ``@group`` node ids that ``--dist loadgroup`` schedules by.

    pytest-xdist 3.8 appends the group to ``item._nodeid``, which pytest 9 no longer reads (the
    id lives in ``item._id``), so no group reached the scheduler: the browser tests and every
    module world were spread over both workers. This sets the id pytest reads, once.

    First, every test must have an id of its own: xdist would run one of each shared id."""
    shared = duplicate_ids(item.nodeid for item in items)
    if shared:
        raise pytest.UsageError(
            f"{len(shared)} test id(s) name more than one test, and xdist runs only one of each: "
            + ", ".join(shared[:3])
        )
    if not getattr(config.option, "loadgroup", False):
        return
    items[:] = _scheduling_order(items)
    from _pytest.nodeid import coerce_node_id

    for item in items:
        group = _group_key(item)
        if group and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = coerce_node_id(f"{item.nodeid}@{group}")  # type: ignore[attr-defined]


def _scheduling_order(items: list[pytest.Item]) -> list[pytest.Item]:
    """The order ``--dist loadgroup`` hands work out in (``scripts/check.sh`` turns off xdist's
    own reordering, so collection order is the order).

    First the modules holding a ``slow`` test, each kept whole and in its own order: a long
    test handed out last keeps one worker busy for its whole length while the other has nothing
    left. xdist's reordering sorted every group by its number of tests, which sent the
    schemathesis module (two tests, over three minutes) out after every larger group. Then the
    other groups, largest first, then single tests, as xdist would order them."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    groups = Counter(_group_key(item) for item in items)

    def rank(item: pytest.Item) -> tuple[bool, int]:
        key = _group_key(item)
        return item.path not in slow, -groups[key] if key else 0

    return sorted(items, key=rank)


def _group_key(item: pytest.Item) -> str:
    return "_".join(sorted({_group_name(mark) for mark in item.iter_markers("xdist_group")}))


def _group_name(mark: pytest.Mark) -> str:
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


def _pg_admin_url() -> str:
    return PG_BASE.rsplit("/", 1)[0] + "/postgres"


@contextmanager
def _own_pg_database(prefix: str, *, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` if given); its URL, then it is dropped
    with whatever is still connected to it."""
    name = create_database(_pg_admin_url(), prefix, template)
    try:
        yield _pg_url(name)
    finally:
        drop_database(_pg_admin_url(), name)


def _pg_url(name: str) -> str:
    return PG_BASE.rsplit("/", 1)[0] + "/" + name


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_pg_admin_url(), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI but is not reachable at " + _pg_admin_url())
        pytest.skip("PostgreSQL not reachable (set COCKPIT_TEST_POSTGRES_URL); runs in CI")
    with _own_pg_database("cockpit_t") as url:
        yield url


@pytest.fixture(scope="session")
def pg_databases(pg_database: str) -> Iterator[PgDatabases]:
    """This worker's supply of per-test databases (made ahead, dropped behind, in a thread)."""
    databases = PgDatabases(_pg_admin_url(), _pg_url(""))
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def fresh_pg_url(pg_databases: PgDatabases) -> Iterator[str]:
    """A PostgreSQL database that is empty for this test (its own database)."""
    url = pg_databases.take("cockpit_f")
    yield url
    pg_databases.give_back(url)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """One app database per module and backend: None (the app's SQLite file) or a PostgreSQL
    database of this module's own (the session's is shared with other modules)."""
    if request.param == "sqlite":
        yield None
        return
    # Skips (or fails in CI) without PostgreSQL. A copy of the migrated template: these modules
    # test what runs on the schema, not the migrations, and an app on an empty database would
    # run every one of them on start.
    template: str = request.getfixturevalue("pg_migrated_template")
    with _own_pg_database("cockpit_m", template=template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def backend_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """The same test against SQLite and PostgreSQL (each test gets an empty database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cockpit.db"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


@pytest.fixture(scope="session")
def pg_migrated_template(pg_databases: PgDatabases) -> Iterator[str]:
    """A PostgreSQL database at the newest schema, migrated once per worker, to copy from.

    Running every migration took seconds per test on PostgreSQL; ``CREATE DATABASE … TEMPLATE``
    copies the migrated files instead. Nothing connects to it after the migration (a template
    with a connection cannot be copied)."""
    from cockpit.db.migrate import upgrade
    from cockpit.db.session import Database

    with _own_pg_database("cockpit_tpl") as url:
        database = Database(url)
        upgrade(database)
        database.dispose()
        name = url.rsplit("/", 1)[1]
        yield name
        pg_databases.forget(name)  # a copy still being made would keep it from being dropped


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_backend_url(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> Iterator[str]:
    """Like ``backend_url``, but the database of this test's own is already at the newest schema
    (a copy of one migrated once per worker), for tests whose subject is not the migrations."""
    if request.param == "sqlite":
        from tests.support.migrated import migrated_sqlite_file

        yield migrated_sqlite_file(Path(tmp_path) / "cockpit.db")
        return

    url: str = request.getfixturevalue("migrated_pg_url")
    yield url


@pytest.fixture
def migrated_pg_url(pg_databases: PgDatabases, pg_migrated_template: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own, already at the newest schema (a copy of the
    worker's migrated template): for tests on PostgreSQL whose subject is not the migrations."""
    url = pg_databases.take("cockpit_f", template=pg_migrated_template)
    yield url
    pg_databases.give_back(url)


def _unavailable(reason: str) -> None:
    """A missing service fails the run in CI (it must be tested there) and skips elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _chroma_answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url + "/api/v2/heartbeat", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server (the scaled-out knowledge store): ``COCKPIT_TEST_CHROMA_URL`` when set
    (.ci/run starts one), else ``chroma run`` from this venv on a free loopback port with its
    own temp dir, stopped after the session. Tests share it through their own databases
    (``fresh_chroma_url``), so parallel workers never see each other's collections."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    configured = os.environ.get("COCKPIT_TEST_CHROMA_URL", "").rstrip("/")
    if configured:
        if not _chroma_answers(configured):
            _unavailable(f"no Chroma server answers at COCKPIT_TEST_CHROMA_URL={configured}")
        yield configured
        return
    binary = Path(sys.executable).parent / "chroma"
    if not binary.exists():
        _unavailable(f"the chroma server command is not installed ({binary})")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    data = tmp_path_factory.mktemp("chroma-server")
    url = f"http://127.0.0.1:{port}"
    command = [str(binary), "run", "--path", str(data / "db")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with (data / "chroma.log").open("ab") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _chroma_answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (data / "chroma.log").read_text(errors="replace")[-2000:]
                _unavailable(f"chroma run did not start on {url}: {tail}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def fresh_chroma_url(chroma_server_url: str) -> Iterator[str]:
    """``COCKPIT_CHROMA_URL`` for an empty Chroma database of this test's own on the server."""
    from knowledge.store_client import drop_database, ensure_database, parse_chroma_url

    url = f"{chroma_server_url}/?database=cockpit-t-{uuid.uuid4().hex[:12]}"
    server = parse_chroma_url(url)
    ensure_database(server)
    yield url
    drop_database(server)

"""PostgreSQL databases of a test's own, made one ahead and dropped behind in a thread.

``CREATE DATABASE … TEMPLATE`` and ``DROP DATABASE`` each take a few tenths of a second on a busy
machine, and several hundred tests want a database of their own. The test still gets a new,
empty (or freshly copied) database; it just does not wait while PostgreSQL makes the next one or
removes the last one. One thread makes the spares and drops the used ones, in order.
"""

from __future__ import annotations

import uuid
from concurrent.futures import Future, ThreadPoolExecutor


class PgDatabases:
    """Databases on one server, named ``<prefix>_<random>``, as URLs under ``base_url``."""

    def __init__(self, admin_url: str, base_url: str) -> None:
        self._admin_url = admin_url
        self._base_url = base_url.rstrip("/")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-databases")
        self._spares: dict[tuple[str, str | None], Future[str]] = {}
        self._drops: list[Future[None]] = []

    def take(self, prefix: str, template: str | None = None) -> str:
        """The URL of a database nobody has used (a copy of ``template`` if given)."""
        spare = self._spares.pop((prefix, template), None)
        name = (
            spare.result()
            if spare is not None
            else create_database(self._admin_url, prefix, template)
        )
        self._spares[(prefix, template)] = self._thread.submit(
            create_database, self._admin_url, prefix, template
        )
        return f"{self._base_url}/{name}"

    def give_back(self, url: str) -> None:
        """Drop the database behind ``url`` (and whatever is still connected to it), later."""
        self._drops.append(
            self._thread.submit(drop_database, self._admin_url, url.rsplit("/", 1)[1])
        )

    def forget(self, template: str) -> None:
        """Drop the spare copies of ``template`` and wait: it can be dropped itself after this."""
        for key in [key for key in self._spares if key[1] == template]:
            name = self._spares.pop(key).result()
            self._thread.submit(drop_database, self._admin_url, name).result()

    def close(self) -> None:
        """Drop the spares; raise the first drop that failed."""
        for spare in self._spares.values():
            self._drops.append(self._thread.submit(drop_database, self._admin_url, spare.result()))
        self._spares.clear()
        self._thread.shutdown(wait=True)
        for drop in self._drops:
            drop.result()


def create_database(admin_url: str, prefix: str, template: str | None = None) -> str:
    """A new database named ``<prefix>_<random>`` (a copy of ``template`` if given); its name."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return name


def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` with whatever is still connected to it."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

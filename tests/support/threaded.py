"""Serve a stand-in ``http.server`` from a thread for the length of a ``with`` block."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import BaseServer

#: How often the serving loop looks at its stop flag. ``shutdown()`` waits for that look, and
#: the standard library's 0.5 s made every test that stopped such a server wait up to 0.5 s.
POLL_S = 0.05


@contextmanager
def served_in_thread(server: BaseServer) -> Iterator[BaseServer]:
    """Serve ``server`` until the block ends, then stop it and close its socket."""
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


__all__ = ["POLL_S", "served_in_thread"]

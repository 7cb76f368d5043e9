"""One TLS context for the process's outbound HTTP clients.

httpx builds a new ``SSLContext`` for every client it makes, and loading the CA bundle into it
costs ~20 ms of CPU: more than a loopback request, and paid by every client Cockpit makes for a
single call (a webhook batch, a tool-source request, an eval trial's API client). Those clients
pass ``verify=client_context()`` instead: the same verification httpx would configure (its CA
choice: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's bundle), built once.

The context is read-only once built; Python's ``SSLContext`` may be shared by threads and event
loops, as one httpx client already shares its own across connections.
"""

from __future__ import annotations

import os
import ssl
from functools import cache


@cache
def client_context() -> ssl.SSLContext:
    """The verifying client context every outbound client of this process shares."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


__all__ = ["client_context"]

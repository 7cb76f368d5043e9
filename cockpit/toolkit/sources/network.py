"""Where a tool source may live: loopback, or a host the operator listed.

A tool source is a URL a partner types in, and the server then fetches it: without a rule that
is a way to make the platform reach any host on its network. Only loopback addresses and the
hosts in ``COCKPIT_TOOL_SOURCE_HOSTS`` are allowed, checked when a source is registered and
again before every request (the setting may have narrowed since). Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import urlsplit

from cockpit.errors import ValidationFailed

HOSTS_SETTING = "COCKPIT_TOOL_SOURCE_HOSTS"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allowed_hosts: Collection[str], *, param: str = "url") -> str:
    """``url`` if it is http(s) on loopback or an allowed host, else a 422 naming ``param``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationFailed(
            f"{param}: {url!r} is not an http(s) URL", code="invalid_url", param=param
        )
    if parts.username or parts.password:
        raise ValidationFailed(
            f"{param}: credentials go in 'headers', not in the URL",
            code="invalid_url",
            param=param,
        )
    allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
    if not (is_loopback(host) or host in allowed):
        raise ValidationFailed(
            f"{param}: host {host!r} is not allowed for tool sources (loopback, or a host "
            f"listed in {HOSTS_SETTING})",
            code="tool_source_host_not_allowed",
            param=param,
        )
    return url


__all__ = ["HOSTS_SETTING", "check_url", "is_loopback"]

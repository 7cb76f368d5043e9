"""Where a webhook may go: public http(s) addresses, plus what the operator allows.

A webhook URL is chosen by a tenant, so without this check registering one would make the
platform POST to its own network (cloud metadata at 169.254.169.254, a database on
10.0.0.5, an admin port on localhost). The host is resolved and every address it resolves
to must be public: private, loopback, link-local, multicast, reserved and unspecified ranges
are refused unless ``COCKPIT_WEBHOOK_ALLOW_PRIVATE`` is set or the host is listed in
``COCKPIT_WEBHOOK_ALLOWED_HOSTS``. Checked at registration and again before every attempt
(DNS answers change); the short window between that check and the connection remains.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cockpit.errors import ValidationFailed

Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> addresses``; injectable so tests never ask a DNS server."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (blocking: call it off the loop)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(f"url: {message}", code="webhook_destination_refused", param="url")


def is_public(address: str) -> bool:
    """True when ``address`` is a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class DestinationPolicy:
    """What the operator allows besides public addresses."""

    allow_private: bool = False
    """Any address at all (a closed network where every receiver is internal)."""
    allowed_hosts: Sequence[str] = ()
    """Host names or addresses allowed even if they resolve to private ones."""
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, settings: Any) -> DestinationPolicy:
        """The operator's choice: ``COCKPIT_WEBHOOK_ALLOW_PRIVATE`` / ``_ALLOWED_HOSTS``."""
        return cls(
            allow_private=bool(settings.webhook_allow_private),
            allowed_hosts=tuple(settings.webhook_allowed_hosts),
        )

    def check(self, url: str) -> str:
        """``url`` when Cockpit may POST to it, else 422 ``webhook_destination_refused``."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise _refuse("not a valid URL") from None
        if parts.scheme not in ("http", "https"):
            raise _refuse("only http and https URLs")
        host = (parts.hostname or "").lower()
        if not host:
            raise _refuse("the URL names no host")
        if parts.username or parts.password:
            raise _refuse("credentials in the URL are not allowed (they would be logged)")
        allowed = {h.lower().strip("[]") for h in self.allowed_hosts}
        if self.allow_private or host in allowed:
            return url
        try:
            addresses = [str(ipaddress.ip_address(host))]  # a literal address: no lookup
        except ValueError:
            try:
                addresses = self.resolver(host, port or (443 if parts.scheme == "https" else 80))
            except OSError:
                raise _refuse(f"host {host!r} does not resolve") from None
        blocked = [a for a in addresses if not is_public(a)]
        if not addresses or blocked:
            where = blocked[0] if blocked else "nothing"
            raise _refuse(
                f"host {host!r} resolves to {where}, a private, loopback or reserved address; "
                "the operator may allow it with COCKPIT_WEBHOOK_ALLOWED_HOSTS"
            )
        return url


__all__ = ["DestinationPolicy", "Resolver", "is_public", "system_resolver"]

"""A merchant's view of the tenant's entity graph: its own entities named, the others counted.

The entity graph is one per tenant because fraud rings cross merchants, and the counts (how
many accounts share a device, how big the component is, whether it looks like a ring) are the
signal a merchant needs. Entity ids are not: a key bound to a merchant must never learn the
customers, cards, devices or IPs another merchant's payments carried. So this module records
which merchants' traffic carried each entity (:class:`Sightings`) and masks a neighbourhood
view (:func:`merchant_view`) to the ids its merchant saw, counting the rest under
``other_merchants``. It never changes a count: only ids are withheld.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_PLURAL = {"customer": "accounts", "card": "cards", "device": "devices", "ip": "ips"}


class Sightings:
    """Which merchants' payments carried each (kind, id). Not thread-safe: the caller locks."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], set[str]] = {}

    def add(self, merchant_id: str, keys: Iterable[tuple[str, str]]) -> None:
        for key in keys:
            self._seen.setdefault(key, set()).add(merchant_id)

    def seen_by(self, merchant_id: str, kind: str, entity_id: str) -> bool:
        return merchant_id in self._seen.get((kind, entity_id), ())


def merchant_view(
    view: dict[str, Any], *, merchant_id: str, sightings: Sightings
) -> dict[str, Any]:
    """``view`` (:meth:`EntityGraph.neighbourhood`, found) as ``merchant_id`` may see it.

    Nodes, links and shared devices / cards keep only entities seen in the merchant's own
    traffic (a link only when both ends are); ``other_merchants`` counts the withheld ones by
    kind. Every count and verdict of the whole view is unchanged.
    """

    def mine(kind: str, entity_id: str) -> bool:
        return sightings.seen_by(merchant_id, kind, entity_id)

    hidden = dict.fromkeys(_PLURAL.values(), 0)
    nodes = []
    for node in view["nodes"]:
        if mine(node["kind"], node["id"]):
            nodes.append(node)
        else:
            hidden[_PLURAL[node["kind"]]] += 1
    links = [
        link
        for link in view["links"]
        if mine("customer", link["account"]) and mine(link["kind"], link["entity"])
    ]
    shared = [s for s in view["shared_devices_or_cards"] if mine(s["kind"], s["id"])]
    hidden["shared_devices_or_cards"] = len(view["shared_devices_or_cards"]) - len(shared)
    return {
        **view,
        "nodes": nodes,
        "links": links,
        "shared_devices_or_cards": shared,
        "other_merchants": hidden,
    }


__all__ = ["Sightings", "merchant_view"]

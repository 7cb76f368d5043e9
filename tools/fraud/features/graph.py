"""The entity graph (accounts–devices–cards–IPs), kept up to date as transactions arrive.

Every transaction links its account to the card, device and IP it used.
Components are tracked with union-find over account–card and account–device
links only: IPs are shared by thousands of genuine users behind carrier NAT,
so letting them merge components would glue the whole population into one
blob. IPs still count as shared attributes for degree and neighbour features.

Fraud labels arrive late (chargebacks). :meth:`EntityGraph.mark_fraud` records
an account as known-fraud from the moment its label arrives; features only
ever see labels reported before the transaction being scored (leakage rule).

Graph features are computed *after* the transaction's own links are added:
its device / card / IP are known at authorisation time, its label is not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from typing import Any

GRAPH_FEATURES: tuple[str, ...] = (
    "graph_comp_accounts",
    "graph_comp_fraud",
    "graph_comp_fraud_share",
    "graph_device_accounts",
    "graph_card_accounts",
    "graph_ip_accounts",
    "graph_device_cards",
    "graph_customer_cards",
    "graph_customer_devices",
    "graph_device_new_for_customer",
    "graph_device_age_h",
    "graph_card_age_h",
    "graph_neigh_fraud_share",
    "graph_risk",
    "graph_customer_known_fraud",
)

ATTR_KINDS: tuple[str, ...] = ("card", "device", "ip")
_UNION_KINDS = ("card", "device")


@dataclass(slots=True)
class _Node:
    kind: str
    key: str
    first_ms: int
    links: set[int] = field(default_factory=set)
    """Accounts (for attributes) or attributes (for accounts) linked to this node."""
    cards: set[int] = field(default_factory=set)
    """For devices: cards used on it (card testing, triangulation)."""
    fraud_links: int = 0
    """For attributes: linked accounts currently known to be fraudulent."""
    n_cards: int = 0
    """For accounts: distinct cards linked."""
    n_devices: int = 0
    """For accounts: distinct devices linked."""


class EntityGraph:
    """Incremental entity graph with union-find components and late fraud labels."""

    def __init__(self) -> None:
        # One map per kind: a lookup hashes the key alone, with no (kind, key) tuple built.
        self._ids: dict[str, dict[str, int]] = {k: {} for k in ("customer", *ATTR_KINDS)}
        self._customers = self._ids["customer"]
        self._cards, self._devices, self._ips = (self._ids[k] for k in ATTR_KINDS)
        self._nodes: list[_Node] = []
        self._parent: list[int] = []
        self._comp_accounts: list[int] = []
        self._comp_fraud: list[int] = []
        self._fraud: set[int] = set()

    # ---- structure -------------------------------------------------------
    def _node(self, kind: str, key: str, ms: int) -> tuple[int, bool]:
        ids = self._ids[kind]
        idx = ids.get(key)
        if idx is not None:
            return idx, False
        idx = len(self._nodes)
        ids[key] = idx
        self._nodes.append(_Node(kind=kind, key=key, first_ms=ms))
        self._parent.append(idx)
        self._comp_accounts.append(1 if kind == "customer" else 0)
        self._comp_fraud.append(0)
        return idx, True

    def _find(self, i: int) -> int:
        parent = self._parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return root

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._merge(ra, rb)

    def _merge(self, ra: int, rb: int) -> int:
        """Join two different roots' components (the larger keeps its root); returns the root."""
        if self._comp_accounts[ra] < self._comp_accounts[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._comp_accounts[ra] += self._comp_accounts[rb]
        self._comp_fraud[ra] += self._comp_fraud[rb]
        return ra

    def _link(self, kind: str, key: str, acc: int, acc_node: _Node, ms: int) -> tuple[int, bool]:
        idx, _ = self._node(kind, key, ms)
        node = self._nodes[idx]
        if acc in node.links:
            return idx, False
        node.links.add(acc)
        acc_node.links.add(idx)
        if kind == "card":
            acc_node.n_cards += 1
        elif kind == "device":
            acc_node.n_devices += 1
        if acc in self._fraud:
            node.fraud_links += 1
        return idx, True

    def add(
        self, *, customer: str, card: str, device: str, ip: str, ms: int
    ) -> tuple[int, int, int, int, bool]:
        """Link the transaction's entities.

        Returns the account, card, device and IP node ids and whether the
        device was new to the account.
        """
        acc, _ = self._node("customer", customer, ms)
        acc_node = self._nodes[acc]
        card_i, _ = self._link("card", card, acc, acc_node, ms)
        dev_i, device_new = self._link("device", device, acc, acc_node, ms)
        ip_i, _ = self._link("ip", ip, acc, acc_node, ms)
        self._union(acc, card_i)
        self._union(acc, dev_i)
        self._nodes[dev_i].cards.add(card_i)
        return acc, card_i, dev_i, ip_i, device_new

    def mark_fraud(self, customer: str) -> bool:
        """Record that ``customer``'s fraud label has arrived. Returns False if already known."""
        idx = self._customers.get(customer)
        if idx is None:
            idx, _ = self._node("customer", customer, 0)
        if idx in self._fraud:
            return False
        self._fraud.add(idx)
        self._comp_fraud[self._find(idx)] += 1
        for attr in self._nodes[idx].links:
            self._nodes[attr].fraud_links += 1
        return True

    def is_known_fraud(self, customer: str) -> bool:
        idx = self._customers.get(customer)
        return idx is not None and idx in self._fraud

    # ---- features --------------------------------------------------------
    def features(
        self,
        *,
        customer: str,
        card: str,
        device: str,
        ip: str,
        ms: int,
        out: MutableSequence[float],
    ) -> None:
        """Add the transaction's links, then append its graph features to ``out``.

        The same links and numbers as :meth:`add` followed by reading the graph; written as one
        method because it runs for every payment scored (one call, no re-lookups).
        """
        nodes = self._nodes
        acc = self._customers.get(customer)
        if acc is None:
            acc, _ = self._node("customer", customer, ms)
        acc_node = nodes[acc]
        # Each attribute: the common case (known, already linked to this account) is one
        # lookup and one membership test, inline; anything else links it.
        card_i = self._cards.get(card)
        if card_i is None or acc not in nodes[card_i].links:
            card_i, _ = self._link("card", card, acc, acc_node, ms)
        dev_i = self._devices.get(device)
        if dev_i is not None and acc in nodes[dev_i].links:
            device_new = False
        else:
            dev_i, device_new = self._link("device", device, acc, acc_node, ms)
        ip_i = self._ips.get(ip)
        if ip_i is None or acc not in nodes[ip_i].links:
            ip_i, _ = self._link("ip", ip, acc, acc_node, ms)
        # Union the card's and the device's components into the account's, tracking the
        # account's root as it goes (the same unions, in the same order, as ``_union``).
        parent = self._parent
        root = parent[acc]
        if parent[root] != root:
            root = self._find(acc)
        for joined in (card_i, dev_i):
            other = parent[joined]
            if other != root:
                if parent[other] != other:
                    other = self._find(joined)
                if other != root:
                    root = self._merge(root, other)
        dev, crd, ipn = nodes[dev_i], nodes[card_i], nodes[ip_i]
        dev.cards.add(card_i)
        comp_acc = self._comp_accounts[root]
        comp_fraud = self._comp_fraud[root]
        self_fraud = 1 if self._fraud and acc in self._fraud else 0
        # One step of label propagation through the transaction's attributes (device, card,
        # IP, in that order), then a second through the component (2-hop and beyond). A
        # factor for an attribute without fraud is exactly 1.0: skipping it changes nothing.
        dev_n, crd_n, ip_n = len(dev.links), len(crd.links), len(ipn.links)
        dev_bad = dev.fraud_links - self_fraud
        crd_bad = crd.fraud_links - self_fraud
        ip_bad = ipn.fraud_links - self_fraud
        keep_clean = 1.0
        if dev_bad and dev_n > 1:
            keep_clean *= 1.0 - dev_bad / (dev_n - 1)
        if crd_bad and crd_n > 1:
            keep_clean *= 1.0 - crd_bad / (crd_n - 1)
        if ip_bad and ip_n > 1:
            keep_clean *= 1.0 - ip_bad / (ip_n - 1)
        neigh = dev_n + crd_n + ip_n - 3
        neigh_fraud = dev_bad + crd_bad + ip_bad
        comp_others = comp_acc - 1
        comp_share = (comp_fraud - self_fraud) / comp_others if comp_others > 0 else 0.0
        risk = 1.0 - keep_clean * (1.0 - comp_share)
        out.extend(
            (
                float(comp_acc),
                float(comp_fraud - self_fraud),
                comp_share,
                float(dev_n),
                float(crd_n),
                float(ip_n),
                float(len(dev.cards)),
                float(acc_node.n_cards),
                float(acc_node.n_devices),
                1.0 if device_new else 0.0,
                (ms - dev.first_ms) / 3_600_000.0,
                (ms - crd.first_ms) / 3_600_000.0,
                neigh_fraud / neigh if neigh > 0 else 0.0,
                risk,
                float(self_fraud),
            )
        )

    # ---- queries for tools -------------------------------------------------
    def has(self, kind: str, key: str) -> bool:
        return key in self._ids.get(kind, {})

    def neighbourhood(
        self, kind: str, key: str, *, hops: int = 2, limit: int = 200
    ) -> dict[str, Any]:
        """Nodes and links within ``hops`` of an entity, component stats and a ring verdict."""
        start = self._ids.get(kind, {}).get(key)
        if start is None:
            return {"found": False}
        seen = {start: 0}
        queue = deque([start])
        edges: list[tuple[int, int]] = []
        truncated = False
        while queue:
            cur = queue.popleft()
            depth = seen[cur]
            if depth >= hops:
                continue
            for nxt in sorted(self._nodes[cur].links):
                if self._nodes[cur].kind == "customer":
                    edges.append((cur, nxt))
                if nxt in seen:
                    continue
                if len(seen) >= limit:
                    truncated = True
                    break
                seen[nxt] = depth + 1
                queue.append(nxt)
        nodes = [
            {
                "kind": self._nodes[i].kind,
                "id": self._nodes[i].key,
                "hops": d,
                "degree": len(self._nodes[i].links),
                "known_fraud": i in self._fraud,
            }
            for i, d in seen.items()
        ]
        links = [
            {
                "account": self._nodes[a].key,
                "kind": self._nodes[b].kind,
                "entity": self._nodes[b].key,
            }
            for a, b in edges
            if b in seen
        ]
        accounts = [i for i in seen if self._nodes[i].kind == "customer"]
        shared = [
            i
            for i in seen
            if self._nodes[i].kind in _UNION_KINDS and len(self._nodes[i].links) >= 3
        ]
        root = self._find(start)
        comp_acc = self._comp_accounts[root]
        comp_fraud = self._comp_fraud[root]
        # A ring: several accounts glued together by devices / cards they share.
        ring = comp_acc >= 4 and bool(shared)
        return {
            "found": True,
            "nodes": nodes,
            "links": links,
            "truncated": truncated,
            "accounts_in_view": len(accounts),
            "component_accounts": comp_acc,
            "component_known_fraud": comp_fraud,
            "shared_devices_or_cards": [
                {
                    "kind": self._nodes[i].kind,
                    "id": self._nodes[i].key,
                    "accounts": len(self._nodes[i].links),
                }
                for i in shared
            ],
            "ring_suspected": ring,
        }

    @property
    def node_count(self) -> int:
        return len(self._nodes)


def naive_component_accounts(links: list[tuple[str, str, str]], customer: str) -> int:
    """Reference implementation for tests: accounts reachable over (account, kind, entity) links."""
    adj: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for acc, kind, ent in links:
        if kind not in _UNION_KINDS:
            continue
        a, e = ("customer", acc), (kind, ent)
        adj.setdefault(a, set()).add(e)
        adj.setdefault(e, set()).add(a)
    start = ("customer", customer)
    seen = {start}
    stack = [start]
    while stack:
        cur = stack.pop()
        for nxt in adj.get(cur, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return sum(1 for k, _ in seen if k == "customer")


__all__ = ["ATTR_KINDS", "GRAPH_FEATURES", "EntityGraph", "naive_component_accounts"]

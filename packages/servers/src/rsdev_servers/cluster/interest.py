"""Symbol interest across the cluster, sans-I/O: what to tell Redis, what to ask upstream.

- `SetSync` (every node): the set Redis holds for this node (its interest, the bus shards
  it is subscribed to) against the set it should hold; `diff` says what to add and
  remove, `applied` records what Redis accepted. A new Redis session starts from empty.
- `InterestTable` (the leader): each node's interest as last applied to the upstream
  manager, whose registry counts nodes the way it counts clients on a single restream —
  the first node to want a symbol subscribes it upstream, the last to drop it starts its
  linger, and a node that disappears is a client that disconnected.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from lib_common.core import RegistryChange

__all__ = ["InterestTable", "NodeManager", "SetSync"]

T = TypeVar("T", bound=Hashable)


@dataclass(slots=True)
class SetSync(Generic[T]):
    """A remote set kept equal to a local one by adds and removes."""

    remote: set[T] = field(default_factory=set)

    def diff(self, wanted: Collection[T]) -> tuple[list[T], list[T]]:
        """(to add, to remove) so that the remote set becomes `wanted`."""
        wanted_set = wanted if isinstance(wanted, set | frozenset) else set(wanted)
        add = [x for x in wanted if x not in self.remote]
        remove = [x for x in self.remote if x not in wanted_set]
        return add, remove

    def applied(self, add: Iterable[T], remove: Iterable[T]) -> None:
        """The remote side now has `add` and no longer has `remove`."""
        self.remote.update(add)
        self.remote.difference_update(remove)

    def reset(self) -> None:
        """The remote side was lost (new session): it holds nothing."""
        self.remote.clear()


class NodeManager(Protocol):
    """The upstream manager as the leader drives it, with node ids as clients."""

    def subscribe(self, client: str, symbols: Iterable[object]) -> RegistryChange: ...

    def unsubscribe(self, client: str, symbols: Iterable[object]) -> RegistryChange: ...

    def disconnect(self, client: str) -> RegistryChange: ...


@dataclass(slots=True)
class InterestTable:
    """Each node's interest as the leader's upstream manager holds it."""

    held: dict[str, set[str]] = field(default_factory=dict)
    refused: int = 0  # symbols the manager refused (its upstream limit), cumulative

    def apply(self, manager: NodeManager, node: str, wanted: Collection[str]) -> RegistryChange:
        """Bring `node`'s interest in the manager to `wanted`; returns the subscribe's change.

        Symbols refused (the upstream limit is full) are not recorded, so a later call
        tries them again.
        """
        mine = self.held.setdefault(node, set())
        add, remove = SetSync(mine).diff(wanted)
        if remove:
            manager.unsubscribe(node, remove)
            mine.difference_update(remove)
        change = RegistryChange()
        if add:
            change = manager.subscribe(node, add)
            mine.update(change.added)
            mine.update(change.unchanged)
            self.refused += len(change.rejected)
        if not mine:
            del self.held[node]
        return change

    def forget(self, manager: NodeManager, node: str) -> None:
        """`node` is gone: its symbols start lingering upstream."""
        if self.held.pop(node, None) is not None:
            manager.disconnect(node)

    def retain(self, manager: NodeManager, live: Collection[str]) -> list[str]:
        """Forget every node not in `live`; returns those forgotten."""
        gone = [node for node in self.held if node not in live]
        for node in gone:
            self.forget(manager, node)
        return gone

    def union(self) -> set[str]:
        """Every symbol some node holds."""
        out: set[str] = set()
        for symbols in self.held.values():
            out |= symbols
        return out

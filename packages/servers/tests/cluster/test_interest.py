"""Interest bookkeeping: sets kept in sync, and the leader's per-node table."""

from __future__ import annotations

from collections.abc import Iterable

from lib_common.core import RegistryChange, SymbolRegistry
from rsdev_servers.cluster.interest import InterestTable, SetSync


class RegistryManager:
    """The upstream manager's client API over a real registry (linger 10 s, limit 3)."""

    def __init__(self) -> None:
        self.registry = SymbolRegistry[str](linger=10.0, client_limit=3, global_limit=3)
        self.now = 0.0

    def subscribe(self, client: str, symbols: Iterable[object]) -> RegistryChange:
        return self.registry.subscribe(client, symbols, self.now)

    def unsubscribe(self, client: str, symbols: Iterable[object]) -> RegistryChange:
        return self.registry.unsubscribe(client, symbols, self.now)

    def disconnect(self, client: str) -> RegistryChange:
        return self.registry.disconnect(client, self.now)


def test_set_sync_says_what_to_add_and_remove() -> None:
    """The diff brings the remote set to the wanted one; a reset starts from nothing."""
    sync = SetSync[str]()
    add, remove = sync.diff({"A", "B"})
    assert (["A", "B"], []) == (sorted(add), remove)
    sync.applied(add, remove)
    add, remove = sync.diff({"B", "C"})
    assert (["C"], ["A"]) == (add, remove)
    sync.applied(add, remove)
    assert {"B", "C"} == sync.remote
    sync.reset()
    assert (["B"], []) == sync.diff(["B"])


def test_nodes_are_the_managers_clients() -> None:
    """Two nodes wanting a symbol make one upstream subscribe; one dropping it, none."""
    manager, table = RegistryManager(), InterestTable()
    first = table.apply(manager, "n1", {"AAPL"})
    second = table.apply(manager, "n2", {"AAPL", "MSFT"})
    assert ("AAPL",) == first.upstream_subscribe
    assert ("MSFT",) == second.upstream_subscribe
    table.apply(manager, "n2", {"MSFT"})
    assert 1 == manager.registry.refcount("AAPL")
    assert {"AAPL", "MSFT"} == table.union()


def test_a_node_that_left_lingers_its_symbols() -> None:
    """`retain` forgets nodes not live any more: their symbols linger upstream."""
    manager, table = RegistryManager(), InterestTable()
    table.apply(manager, "n1", {"AAPL"})
    table.apply(manager, "n2", {"MSFT"})
    assert ["n2"] == table.retain(manager, {"n1"})
    assert manager.registry.is_lingering("MSFT")
    assert {"AAPL"} == table.union()


def test_refused_symbols_are_retried_later() -> None:
    """Symbols over the upstream limit are not recorded, so the next apply tries again."""
    manager, table = RegistryManager(), InterestTable()
    table.apply(manager, "n1", {"A", "B", "C"})
    change = table.apply(manager, "n2", {"D"})
    assert 1 == len(change.rejected)
    assert 1 == table.refused
    table.apply(manager, "n1", set())  # A, B, C linger and give way to D
    assert ("D",) == table.apply(manager, "n2", {"D"}).upstream_subscribe

"""SymbolRegistry: refcounts, linger, limits, and its decisions under any interleaving."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from lib_common.core.registry import RegistryChange, SymbolRegistry


def make(**kwargs: object) -> SymbolRegistry[str]:
    return SymbolRegistry[str](**kwargs)  # type: ignore[arg-type]


def test_first_subscriber_subscribes_upstream_once() -> None:
    """Only the first client wanting a symbol causes an upstream subscribe."""
    reg = make()
    first = reg.subscribe("a", ["AAPL", "msft"], 0.0)
    second = reg.subscribe("b", ["AAPL"], 1.0)
    assert first.upstream_subscribe == ("AAPL", "MSFT")
    assert first.added == ("AAPL", "MSFT")
    assert second.upstream_subscribe == ()
    assert second.added == ("AAPL",)
    assert {"a", "b"} == set(reg.subscribers("AAPL"))
    assert reg.refcount("AAPL") == 2


def test_last_unsubscribe_lingers_then_expires_once() -> None:
    """Last unsubscribe starts a linger; expiry yields one upstream unsubscribe."""
    reg = make(linger=30.0)
    reg.subscribe("a", ["AAPL"], 0.0)
    change = reg.unsubscribe("a", ["AAPL"], 10.0)
    assert RegistryChange(linger_started=("AAPL",), removed=("AAPL",)) == change
    assert frozenset({"AAPL"}) == reg.upstream_symbols()
    assert reg.is_lingering("AAPL")
    assert reg.next_deadline() == 40.0
    assert reg.expire(39.999) == ()
    assert reg.expire(40.0) == ("AAPL",)
    assert reg.expire(100.0) == ()
    assert frozenset() == reg.upstream_symbols()
    assert reg.next_deadline() is None


def test_resubscribe_within_linger_cancels_without_upstream_traffic() -> None:
    """A client coming back before expiry cancels the linger; nothing goes upstream."""
    reg = make(linger=30.0)
    reg.subscribe("a", ["AAPL"], 0.0)
    reg.disconnect("a", 5.0)
    change = reg.subscribe("b", ["AAPL"], 20.0)
    assert change.upstream_subscribe == ()
    assert change.linger_cancelled == ("AAPL",)
    assert reg.expire(1000.0) == ()
    assert reg.stats().linger_cancels == 1


def test_zero_linger_unsubscribes_at_once() -> None:
    """With linger 0 the last unsubscribe is an immediate upstream unsubscribe."""
    reg = make(linger=0.0)
    reg.subscribe("a", ["AAPL"], 0.0)
    change = reg.unsubscribe("a", ["AAPL"], 1.0)
    assert change.upstream_unsubscribe == ("AAPL",)
    assert change.linger_started == ()
    assert frozenset() == reg.upstream_symbols()


def test_disconnect_lingers_only_symbols_nobody_else_holds() -> None:
    """A disconnect releases the client's symbols; shared ones stay active."""
    reg = make()
    reg.subscribe("a", ["AAPL", "MSFT"], 0.0)
    reg.subscribe("b", ["MSFT"], 0.0)
    change = reg.disconnect("a", 1.0)
    assert change.linger_started == ("AAPL",)
    assert {"AAPL", "MSFT"} == set(change.removed)
    assert frozenset() == reg.symbols_of("a")
    assert frozenset({"MSFT"}) == reg.symbols_of("b")
    assert RegistryChange() == reg.disconnect("a", 2.0)


def test_client_limit_accepts_up_to_the_limit_in_order() -> None:
    """Past the per-client limit the rest of the request is rejected `client_limit`."""
    reg = make(client_limit=2)
    change = reg.subscribe("a", ["A", "B", "C", "D"], 0.0)
    assert change.added == ("A", "B")
    assert [(r.symbol, r.reason) for r in change.rejected] == [
        ("C", "client_limit"),
        ("D", "client_limit"),
    ]
    assert "2" in change.rejected[0].message
    # Symbols already held do not count twice.
    again = reg.subscribe("a", ["A", "B"], 1.0)
    assert again.unchanged == ("A", "B")
    assert again.rejected == ()


def test_global_limit_rejects_new_symbols_but_not_shared_ones() -> None:
    """At the global limit new symbols are rejected; already-upstream ones still join."""
    reg = make(global_limit=2)
    reg.subscribe("a", ["A", "B"], 0.0)
    change = reg.subscribe("b", ["A", "C"], 1.0)
    assert change.added == ("A",)
    assert [(r.symbol, r.reason) for r in change.rejected] == [("C", "global_limit")]
    assert reg.stats().rejections == 1


def test_global_limit_reclaims_the_earliest_lingering_symbol() -> None:
    """A lingering symbol gives its upstream slot back when a new symbol needs it."""
    reg = make(global_limit=2, linger=30.0)
    reg.subscribe("a", ["A", "B"], 0.0)
    reg.unsubscribe("a", ["B"], 1.0)
    reg.unsubscribe("a", ["A"], 2.0)
    change = reg.subscribe("b", ["C"], 3.0)
    assert change.upstream_subscribe == ("C",)
    assert change.upstream_unsubscribe == ("B",)
    assert frozenset({"A", "C"}) == reg.upstream_symbols()
    assert reg.next_deadline() == 32.0


def test_invalid_symbols_are_rejected_with_reasons() -> None:
    """Bad names are rejected with their problem code; the valid ones still go through."""
    reg = make()
    change = reg.subscribe("a", ["AAPL", "no good", "@unknown"], 0.0)
    assert change.added == ("AAPL",)
    assert [r.reason for r in change.rejected] == ["bad_character", "unknown_indicator"]


def test_unsubscribe_of_unheld_symbol_is_rejected_not_subscribed() -> None:
    """Unsubscribing a symbol the client does not hold changes nothing and says so."""
    reg = make()
    reg.subscribe("a", ["AAPL"], 0.0)
    change = reg.unsubscribe("a", ["MSFT"], 1.0)
    assert [(r.symbol, r.reason) for r in change.rejected] == [("MSFT", "not_subscribed")]
    assert change.removed == ()
    assert frozenset({"AAPL"}) == reg.upstream_symbols()


def test_deadlines_come_out_in_order() -> None:
    """next_deadline is the earliest linger; expire releases them in deadline order."""
    reg = make(linger=10.0)
    reg.subscribe("a", ["A", "B", "C"], 0.0)
    reg.unsubscribe("a", ["B"], 1.0)
    reg.unsubscribe("a", ["A"], 2.0)
    reg.unsubscribe("a", ["C"], 3.0)
    assert reg.next_deadline() == 11.0
    assert reg.expire(12.5) == ("B", "A")
    assert reg.next_deadline() == 13.0


def test_stats_count_clients_symbols_and_traffic() -> None:
    """stats() reports current sizes and cumulative upstream traffic."""
    reg = make(linger=5.0)
    reg.subscribe("a", ["A", "B"], 0.0)
    reg.subscribe("b", ["B"], 0.0)
    reg.disconnect("a", 1.0)
    stats = reg.stats()
    assert (
        stats.clients,
        stats.active_symbols,
        stats.lingering_symbols,
        stats.subscriptions,
    ) == (1, 1, 1, 1)
    assert stats.upstream_subscribes == 2
    reg.expire(10.0)
    assert reg.stats().upstream_unsubscribes == 1


def test_invalid_configuration_is_refused() -> None:
    """Negative linger or limits below 1 are configuration errors."""
    with pytest.raises(ValueError):
        make(linger=-1.0)
    with pytest.raises(ValueError):
        make(client_limit=0)


UNIVERSE = ["A", "B", "C", "D", "E", "F"]
SYMBOLS = st.lists(st.sampled_from(UNIVERSE), min_size=1, max_size=4)
CLIENTS = st.sampled_from(["c1", "c2", "c3"])


class RegistryModel(RuleBasedStateMachine):
    """Any interleaving: the upstream set implied by the emitted decisions stays right."""

    def __init__(self) -> None:
        super().__init__()
        self.reg = SymbolRegistry[str](linger=10.0, client_limit=4, global_limit=5)
        self.now = 0.0
        self.upstream: set[str] = set()  # applying every emitted decision
        self.wants: dict[str, set[str]] = {}  # client → symbols, a plain model

    def apply(self, change: RegistryChange) -> None:
        for symbol in change.upstream_unsubscribe:
            assert symbol in self.upstream, f"unsubscribe of {symbol} not upstream"
            assert self.reg.refcount(symbol) == 0, f"unsubscribe of referenced {symbol}"
            self.upstream.discard(symbol)
        for symbol in change.upstream_subscribe:
            assert symbol not in self.upstream, f"duplicate upstream subscribe of {symbol}"
            self.upstream.add(symbol)

    def apply_expired(self, expired: tuple[str, ...]) -> None:
        for symbol in expired:
            assert symbol in self.upstream, f"expiry of {symbol} not upstream"
            assert self.reg.refcount(symbol) == 0, f"expiry of referenced {symbol}"
            self.upstream.discard(symbol)

    @rule(client=CLIENTS, symbols=SYMBOLS)
    def subscribe(self, client: str, symbols: list[str]) -> None:
        change = self.reg.subscribe(client, symbols, self.now)
        self.apply(change)
        self.wants.setdefault(client, set()).update(change.added)

    @rule(client=CLIENTS, symbols=SYMBOLS)
    def unsubscribe(self, client: str, symbols: list[str]) -> None:
        change = self.reg.unsubscribe(client, symbols, self.now)
        self.apply(change)
        self.wants.setdefault(client, set()).difference_update(change.removed)

    @rule(client=CLIENTS)
    def disconnect(self, client: str) -> None:
        self.apply(self.reg.disconnect(client, self.now))
        self.wants.pop(client, None)

    @rule(dt=st.sampled_from([0.5, 3.0, 9.99, 10.0, 25.0]))
    def advance_and_expire(self, dt: float) -> None:
        self.now += dt
        self.apply_expired(self.reg.expire(self.now))

    @precondition(lambda self: self.reg.next_deadline() is not None)
    @rule()
    def sleep_until_deadline(self) -> None:
        deadline = self.reg.next_deadline()
        assert deadline is not None
        assert deadline >= self.now
        self.now = deadline
        expired = self.reg.expire(self.now)
        assert expired, "a deadline passed but nothing expired"
        self.apply_expired(expired)

    @invariant()
    def upstream_matches_referenced_plus_lingering(self) -> None:
        referenced = {s for symbols in self.wants.values() for s in symbols}
        lingering = {s for s in UNIVERSE if self.reg.is_lingering(s)}
        assert set(self.reg.upstream_symbols()) == self.upstream
        assert referenced | lingering == self.upstream
        assert all(self.reg.refcount(s) > 0 for s in referenced)
        for client, symbols in self.wants.items():
            assert frozenset(symbols) == self.reg.symbols_of(client)

    @invariant()
    def limits_hold(self) -> None:
        assert len(self.upstream) <= 5
        assert all(len(s) <= 4 for s in self.wants.values())


RegistryModel.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
test_registry_state_machine = RegistryModel.TestCase

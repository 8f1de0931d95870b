"""Symbol reference counts across clients, with a linger before upstream unsubscribe.

Sans-I/O: every method takes `now` (monotonic seconds) and returns a decision; the I/O
layer applies it (sends the upstream subscribe/unsubscribe) and sleeps until
`next_deadline()` before calling `expire()`.

Rules:

- The first client to want a symbol → one upstream subscribe.
- The last client to drop it → the symbol *lingers* for `linger` seconds, still
  subscribed upstream; a resubscribe in that window cancels the linger with no upstream
  traffic; `expire()` after the window → one upstream unsubscribe. `linger=0` unsubscribes
  at once.
- Limits: `client_limit` symbols per client, `global_limit` symbols upstream. A subscribe
  that would pass a limit is accepted partially: symbols are taken in request order up to
  the limit and the rest are rejected with `client_limit` / `global_limit`. Lingering
  symbols hold an upstream slot but give it back on demand: when a new symbol needs a slot
  and the upstream set is full, the earliest-expiring lingering symbol is unsubscribed
  upstream at once to make room (never one the same request asks for). Apply a change's
  `upstream_unsubscribe` before its `upstream_subscribe` so the slot is free first.

`now` must not go backwards (a monotonic clock); an earlier value is treated as the latest
seen.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Set
from dataclasses import dataclass
from typing import Generic, TypeVar

from lib_common.core.symbols import KNOWN_INDICATORS, Rejection, check_symbols

ClientT = TypeVar("ClientT", bound=Hashable)

DEFAULT_LINGER = 30.0
DEFAULT_CLIENT_LIMIT = 200
DEFAULT_GLOBAL_LIMIT = 1000

CLIENT_LIMIT = "client_limit"
GLOBAL_LIMIT = "global_limit"
NOT_SUBSCRIBED = "not_subscribed"


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """What one registry call decided.

    - `upstream_subscribe`: subscribe these upstream now (nobody had them).
    - `upstream_unsubscribe`: unsubscribe these upstream now (linger 0, or a lingering
      symbol reclaimed to make room under `global_limit`).
    - `linger_started`: nobody wants these any more; still upstream until they expire.
    - `linger_cancelled`: lingering symbols wanted again; no upstream traffic needed.
    - `added` / `removed`: symbols this client gained / lost (normalised).
    - `unchanged`: symbols the client asked to subscribe that it already had.
    - `rejected`: symbols refused, each with a reason code and a message.
    """

    upstream_subscribe: tuple[str, ...] = ()
    upstream_unsubscribe: tuple[str, ...] = ()
    linger_started: tuple[str, ...] = ()
    linger_cancelled: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    rejected: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class RegistryStats:
    """Counts for metrics."""

    clients: int
    active_symbols: int
    lingering_symbols: int
    subscriptions: int
    upstream_subscribes: int
    upstream_unsubscribes: int
    linger_cancels: int
    rejections: int


class SymbolRegistry(Generic[ClientT]):
    """Which client wants which symbol, and what that means upstream."""

    def __init__(
        self,
        *,
        linger: float = DEFAULT_LINGER,
        client_limit: int = DEFAULT_CLIENT_LIMIT,
        global_limit: int = DEFAULT_GLOBAL_LIMIT,
        indicators: frozenset[str] = KNOWN_INDICATORS,
    ) -> None:
        if linger < 0 or client_limit < 1 or global_limit < 1:
            raise ValueError("linger must be >= 0 and limits >= 1")
        self._linger = linger
        self._client_limit = client_limit
        self._global_limit = global_limit
        self._indicators = indicators
        self._by_client: dict[ClientT, dict[str, None]] = {}
        self._by_symbol: dict[str, set[ClientT]] = {}
        # symbol → deadline. `linger` is constant and `now` never goes back, so insertion
        # order is deadline order: the first entry is always the next to expire.
        self._lingering: dict[str, float] = {}
        self._now = float("-inf")
        self._upstream_subscribes = 0
        self._upstream_unsubscribes = 0
        self._linger_cancels = 0
        self._rejections = 0

    # -- decisions ------------------------------------------------------------------

    def subscribe(self, client: ClientT, symbols: Iterable[object], now: float) -> RegistryChange:
        """Add `symbols` for `client` (raw names: validated and normalised here)."""
        now = self._advance(now)
        valid, rejected = check_symbols(symbols, indicators=self._indicators)
        mine = self._by_client.setdefault(client, {})
        wanted = frozenset(valid)
        up_sub: list[str] = []
        up_unsub: list[str] = []
        cancelled: list[str] = []
        added: list[str] = []
        unchanged: list[str] = []
        for symbol in valid:
            if symbol in mine:
                unchanged.append(symbol)
                continue
            if len(mine) >= self._client_limit:
                rejected.append(
                    Rejection(
                        symbol,
                        CLIENT_LIMIT,
                        f"client already has the maximum of {self._client_limit} symbols",
                    )
                )
                continue
            holders = self._by_symbol.get(symbol)
            if holders is None:
                if symbol in self._lingering:
                    del self._lingering[symbol]
                    cancelled.append(symbol)
                    self._linger_cancels += 1
                else:
                    if not self._make_room(up_unsub, wanted):
                        rejected.append(
                            Rejection(
                                symbol,
                                GLOBAL_LIMIT,
                                f"server already follows the maximum of {self._global_limit}"
                                " symbols",
                            )
                        )
                        continue
                    up_sub.append(symbol)
                    self._upstream_subscribes += 1
                holders = self._by_symbol[symbol] = set()
            holders.add(client)
            mine[symbol] = None
            added.append(symbol)
        if not mine:
            # A client that holds nothing is not tracked (keeps `clients` honest).
            del self._by_client[client]
        self._rejections += len(rejected)
        return RegistryChange(
            upstream_subscribe=tuple(up_sub),
            upstream_unsubscribe=tuple(up_unsub),
            linger_cancelled=tuple(cancelled),
            added=tuple(added),
            unchanged=tuple(unchanged),
            rejected=tuple(rejected),
        )

    def unsubscribe(self, client: ClientT, symbols: Iterable[object], now: float) -> RegistryChange:
        """Drop `symbols` for `client`; names it does not hold are rejected `not_subscribed`."""
        now = self._advance(now)
        valid, rejected = check_symbols(symbols, indicators=self._indicators)
        mine = self._by_client.get(client, {})
        present = []
        for symbol in valid:
            if symbol in mine:
                present.append(symbol)
            else:
                rejected.append(Rejection(symbol, NOT_SUBSCRIBED, "not subscribed"))
        change = self._drop(client, present, now)
        return RegistryChange(
            upstream_unsubscribe=change.upstream_unsubscribe,
            linger_started=change.linger_started,
            removed=change.removed,
            rejected=tuple(rejected),
        )

    def disconnect(self, client: ClientT, now: float) -> RegistryChange:
        """Forget `client` entirely (its connection is gone)."""
        now = self._advance(now)
        return self._drop(client, list(self._by_client.get(client, ())), now)

    def expire(self, now: float) -> tuple[str, ...]:
        """Symbols whose linger ran out by `now`: unsubscribe them upstream."""
        now = self._advance(now)
        expired: list[str] = []
        while self._lingering:
            symbol, deadline = next(iter(self._lingering.items()))
            if deadline > now:
                break
            del self._lingering[symbol]
            expired.append(symbol)
        self._upstream_unsubscribes += len(expired)
        return tuple(expired)

    def next_deadline(self) -> float | None:
        """When the next linger runs out (monotonic seconds), or None if nothing lingers."""
        return next(iter(self._lingering.values()), None)

    # -- queries --------------------------------------------------------------------

    def upstream_symbols(self) -> frozenset[str]:
        """Symbols that should be subscribed upstream: wanted by someone, or lingering."""
        return frozenset(self._by_symbol).union(self._lingering)

    def subscribers(self, symbol: str) -> Set[ClientT]:
        """Clients subscribed to `symbol` (normalised). A live read-only view: copy to keep."""
        holders = self._by_symbol.get(symbol)
        return holders if holders is not None else frozenset()

    def symbols_of(self, client: ClientT) -> frozenset[str]:
        """Symbols `client` is subscribed to."""
        return frozenset(self._by_client.get(client, ()))

    def refcount(self, symbol: str) -> int:
        """How many clients hold `symbol`."""
        return len(self._by_symbol.get(symbol, ()))

    def is_lingering(self, symbol: str) -> bool:
        """True while `symbol` is unreferenced but still upstream."""
        return symbol in self._lingering

    def stats(self) -> RegistryStats:
        """Counts for metrics."""
        return RegistryStats(
            clients=len(self._by_client),
            active_symbols=len(self._by_symbol),
            lingering_symbols=len(self._lingering),
            subscriptions=sum(len(s) for s in self._by_client.values()),
            upstream_subscribes=self._upstream_subscribes,
            upstream_unsubscribes=self._upstream_unsubscribes,
            linger_cancels=self._linger_cancels,
            rejections=self._rejections,
        )

    # -- internals ------------------------------------------------------------------

    def _advance(self, now: float) -> float:
        self._now = max(self._now, now)
        return self._now

    def _make_room(self, up_unsub: list[str], keep: Set[str]) -> bool:
        """Ensure one free upstream slot, reclaiming the earliest lingering symbol if needed.

        Symbols in `keep` (wanted by the same request) are never reclaimed: that would
        unsubscribe and resubscribe them in one decision.
        """
        if len(self._by_symbol) + len(self._lingering) < self._global_limit:
            return True
        symbol = next((s for s in self._lingering if s not in keep), None)
        if symbol is None:
            return False
        del self._lingering[symbol]
        up_unsub.append(symbol)
        self._upstream_unsubscribes += 1
        return True

    def _drop(self, client: ClientT, symbols: list[str], now: float) -> RegistryChange:
        mine = self._by_client.get(client)
        if mine is None:
            return RegistryChange()
        lingering: list[str] = []
        gone: list[str] = []
        for symbol in symbols:
            del mine[symbol]
            holders = self._by_symbol[symbol]
            holders.discard(client)
            if holders:
                continue
            del self._by_symbol[symbol]
            if self._linger > 0:
                self._lingering[symbol] = now + self._linger
                lingering.append(symbol)
            else:
                gone.append(symbol)
        if not mine:
            del self._by_client[client]
        self._upstream_unsubscribes += len(gone)
        return RegistryChange(
            upstream_unsubscribe=tuple(gone),
            linger_started=tuple(lingering),
            removed=tuple(symbols),
        )

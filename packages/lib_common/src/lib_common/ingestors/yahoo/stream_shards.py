"""Which upstream connection ("shard") carries which symbol (sans-I/O).

Yahoo silently drops symbols past a per-connection cap, so the stream client spreads its
symbols over several connections of at most `cap` symbols each. Rules:

- new symbols fill the existing shard with the lowest id that has room, and a new shard
  is opened only when all are full;
- removing a symbol never moves others (no rebalancing: moving a symbol means an
  unsubscribe on one socket and a subscribe on another, and a gap in its quotes);
- a shard left with no symbols stays in the plan (and may be refilled) until the client
  retires it after a short grace, which closes its connection;
- shard ids are never reused, so a retiring shard's task and a new one cannot be confused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PlanChange", "ShardPlan"]


@dataclass(frozen=True, slots=True)
class PlanChange:
    """What one call changed: symbols added/removed, shards touched and newly created."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    touched: tuple[int, ...] = ()
    created: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


class ShardPlan:
    """The symbol → shard assignment under a per-shard cap."""

    def __init__(self, cap: int) -> None:
        if cap < 1:
            raise ValueError("the per-connection symbol cap must be >= 1")
        self.cap = cap
        self._shards: dict[int, dict[str, None]] = {}  # id -> insertion-ordered symbol set
        self._where: dict[str, int] = {}
        self._next_id = 0

    # -- changes -------------------------------------------------------------------------

    def set_symbols(self, symbols: Iterable[str]) -> PlanChange:
        """Make the wanted set exactly `symbols`; only the difference changes."""
        desired = _unique(symbols)
        removed = [s for s in self._where if s not in desired]
        added = [s for s in desired if s not in self._where]
        return self._apply(added, removed)

    def add(self, symbols: Iterable[str]) -> PlanChange:
        """Also want `symbols` (ones already wanted are ignored)."""
        return self._apply([s for s in _unique(symbols) if s not in self._where], [])

    def remove(self, symbols: Iterable[str]) -> PlanChange:
        """No longer want `symbols` (ones not wanted are ignored)."""
        return self._apply([], [s for s in _unique(symbols) if s in self._where])

    def retire(self, shard: int) -> bool:
        """Drop `shard` if it is empty; False (and no change) if it holds symbols again."""
        symbols = self._shards.get(shard)
        if symbols is None:
            return True
        if symbols:
            return False
        del self._shards[shard]
        return True

    # -- queries -------------------------------------------------------------------------

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._where

    def __len__(self) -> int:
        return len(self._where)

    @property
    def symbols(self) -> frozenset[str]:
        """Every wanted symbol."""
        return frozenset(self._where)

    def shard_ids(self) -> tuple[int, ...]:
        """The shards in the plan, empty ones awaiting retirement included."""
        return tuple(self._shards)

    def has_shard(self, shard: int) -> bool:
        """True while `shard` is in the plan."""
        return shard in self._shards

    def symbols_of(self, shard: int) -> tuple[str, ...]:
        """The symbols `shard` carries, in the order they were added (empty if retired)."""
        return tuple(self._shards.get(shard, ()))

    def shard_of(self, symbol: str) -> int | None:
        """The shard carrying `symbol`, if it is wanted."""
        return self._where.get(symbol)

    # -- internals -----------------------------------------------------------------------

    def _apply(self, added: list[str], removed: list[str]) -> PlanChange:
        touched: dict[int, None] = {}
        created: list[int] = []
        for symbol in removed:
            shard = self._where.pop(symbol)
            del self._shards[shard][symbol]
            touched[shard] = None
        for symbol in added:
            room = self._shard_with_room()
            if room is None:
                room = self._next_id
                self._next_id += 1
                self._shards[room] = {}
                created.append(room)
            shard = room
            self._shards[shard][symbol] = None
            self._where[symbol] = shard
            touched[shard] = None
        return PlanChange(tuple(added), tuple(removed), tuple(touched), tuple(created))

    def _shard_with_room(self) -> int | None:
        for shard, symbols in self._shards.items():  # ids ascend: dicts keep insertion order
            if len(symbols) < self.cap:
                return shard
        return None


def _unique(symbols: Iterable[str]) -> dict[str, None]:
    if isinstance(symbols, str):
        raise TypeError("pass an iterable of symbols, not one string")
    out: dict[str, None] = {}
    for symbol in symbols:
        if not isinstance(symbol, str) or not symbol:
            raise ValueError(f"not a symbol: {symbol!r}")
        out[symbol] = None
    return out

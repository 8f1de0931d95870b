"""Seeded random-walk prices, one independent stream per symbol (sans-I/O).

Each symbol owns a `random.Random` seeded from `(seed, symbol)`, so the sequence of prices
a symbol goes through depends only on the seed and how many steps it took, never on which
other symbols are subscribed or on timing. Time comes from the injected clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from random import Random

from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType
from lib_common.sim.clock import Clock
from lib_common.sim.instruments import Instrument, classify, is_symbol

__all__ = ["Market", "SymbolState"]


@dataclass(slots=True)
class SymbolState:
    """The live state of one symbol's random walk."""

    instrument: Instrument
    rng: Random
    price: float
    previous_close: float
    open_price: float
    day_high: float
    day_low: float
    day_volume: int
    updated: float  # epoch seconds of the last step (creation time before the first)
    steps: int = 0

    @property
    def change(self) -> float:
        return self.price - self.previous_close

    @property
    def change_percent(self) -> float:
        return self.change / self.previous_close * 100.0


class Market:
    """All symbols' states; `step` advances one symbol, `quote` reads it."""

    def __init__(self, seed: int, clock: Clock, unknown_symbols: frozenset[str]) -> None:
        self.seed = seed
        self._clock = clock
        self._unknown = unknown_symbols
        self._states: dict[str, SymbolState] = {}

    def is_known(self, symbol: str) -> bool:
        """True when the simulator has data for `symbol` (shaped right, not marked unknown)."""
        return is_symbol(symbol) and symbol not in self._unknown

    def state(self, symbol: str) -> SymbolState:
        """The symbol's state, created (seeded) on first use."""
        state = self._states.get(symbol)
        if state is None:
            state = self._states[symbol] = self._new_state(symbol)
        return state

    def step(self, symbol: str) -> Quote:
        """Advance `symbol` one random-walk step, stamped with the clock; return its quote."""
        state = self.state(symbol)
        inst = state.instrument
        rng = state.rng
        price = state.price * math.exp(rng.gauss(0.0, inst.volatility))
        state.price = round(price, inst.price_hint) or state.price
        state.day_high = max(state.day_high, state.price)
        state.day_low = min(state.day_low, state.price)
        if inst.quote_type is not QuoteType.INDEX:
            state.day_volume += rng.randint(100, 5000) * (1000 if inst.is_crypto else 1)
        state.updated = self._clock()
        state.steps += 1
        return self.quote(symbol)

    def quote(self, symbol: str) -> Quote:
        """The symbol's current value as Yahoo would stream it (its snapshot)."""
        return _quote(self.state(symbol))

    def _new_state(self, symbol: str) -> SymbolState:
        inst = classify(symbol, self.seed)
        rng = Random(f"{self.seed}:walk:{symbol}")
        hint = inst.price_hint
        price = round(inst.base_price, hint)
        previous_close = round(price * (1.0 + rng.gauss(0.0, 0.01)), hint)
        open_price = round(previous_close * (1.0 + rng.gauss(0.0, 0.003)), hint)
        scale = 1_000_000 if inst.is_crypto else 1
        volume = 0 if inst.quote_type is QuoteType.INDEX else rng.randint(1_000_000, 20_000_000)
        return SymbolState(
            instrument=inst,
            rng=rng,
            price=price,
            previous_close=previous_close,
            open_price=open_price,
            day_high=max(price, open_price),
            day_low=min(price, open_price),
            day_volume=volume * scale // 100 if inst.is_crypto else volume,
            updated=self._clock(),
        )


def _quote(state: SymbolState) -> Quote:
    inst = state.instrument
    base = Quote(
        symbol=inst.symbol,
        price=state.price,
        ts_upstream=int(state.updated * 1000) * 1000,  # whole ms, like Yahoo's `time`
        ts_library_in=0,
        exchange=inst.exchange,
        quote_type=inst.quote_type,
        market_hours=MarketHours.REGULAR_MARKET,
        change_percent=state.change_percent,
        change=state.change,
        day_high=state.day_high,
        day_low=state.day_low,
        price_hint=inst.price_hint,
    )
    if inst.is_crypto:
        supply = inst.circulating_supply or 0.0
        return replace(
            base,
            currency="USD",
            day_volume=state.day_volume,
            open_price=state.open_price,
            last_size=state.day_volume,
            vol_24hr=state.day_volume,
            vol_all_currencies=state.day_volume,
            from_currency=inst.from_currency,
            circulating_supply=supply,
            market_cap=round(supply * state.price, -4),
        )
    if inst.quote_type is QuoteType.INDEX:
        return base
    # Equity frames carry no currency and no previous_close, as Yahoo's do.
    return replace(base, day_volume=state.day_volume)

"""The last value of every followed symbol, and which incoming quotes are worth forwarding.

Sans-I/O: quotes in, "forward it?" out. Rules:

- **Stream quotes** are forwarded whenever they arrive, in every mode (they are the
  freshest data there is), unless strictly older than the value already held (a
  reconnect's snapshot-on-subscribe can be older than a quote polled meanwhile).
- **Poll quotes** are forwarded unless they add nothing:
  - older than the second of the value held (REST times have whole-second resolution,
    stream times millisecond: a poll of the same tick must not lose to the stream by
    the truncation);
  - the same price and time as a *poll* value already held (nothing moved between polls).
  So the first poll after a failover is forwarded (clients see the switch to
  `source: "poll"`), repeats of an unchanged value are not.
- The indicator values (`@fear_greed`) are kept by name without the `@`.
"""

from __future__ import annotations

from collections.abc import Iterable

from lib_common.ingestors.cnn.model import FearGreed
from lib_common.ingestors.yahoo.quote import Quote

__all__ = ["LastValues"]

_SECOND_US = 1_000_000


class LastValues:
    """Last quote per symbol and last value per indicator."""

    __slots__ = ("_indicators", "_quotes")

    def __init__(self) -> None:
        self._quotes: dict[str, Quote] = {}
        self._indicators: dict[str, FearGreed] = {}

    def accept_stream(self, quote: Quote) -> bool:
        """Record a stream quote; False (not recorded) when it is older than the last."""
        last = self._quotes.get(quote.symbol)
        if last is not None and quote.ts_upstream < last.ts_upstream:
            return False
        self._quotes[quote.symbol] = quote
        return True

    def accept_poll(self, quote: Quote) -> bool:
        """Record a poll quote; False (not recorded) when it adds nothing (see module doc)."""
        last = self._quotes.get(quote.symbol)
        if last is not None:
            if quote.ts_upstream < last.ts_upstream // _SECOND_US * _SECOND_US:
                return False
            if (
                last.source == "poll"
                and quote.price == last.price
                and quote.ts_upstream == last.ts_upstream
            ):
                return False
        self._quotes[quote.symbol] = quote
        return True

    def quote(self, symbol: str) -> Quote | None:
        """The last quote of `symbol` (normalised), if any."""
        return self._quotes.get(symbol)

    def forget(self, symbols: Iterable[str]) -> None:
        """Drop the values of symbols no longer followed (keeps memory bounded)."""
        for symbol in symbols:
            self._quotes.pop(symbol, None)

    def __len__(self) -> int:
        return len(self._quotes)

    def set_indicator(self, name: str, value: FearGreed) -> None:
        """Record an indicator's latest value."""
        self._indicators[name.removeprefix("@")] = value

    def indicator(self, name: str) -> FearGreed | None:
        """An indicator's latest value, by name with or without the `@`."""
        return self._indicators.get(name.removeprefix("@"))

"""The typed, immutable quote every ingestor produces and every server consumes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

QuoteSource = Literal["stream", "poll"]


class QuoteType(enum.IntEnum):
    """Yahoo's QuoteType enum (pricing.proto). Unknown wire values stay plain ints."""

    NONE = 0
    ALTSYMBOL = 5
    HEARTBEAT = 7
    EQUITY = 8
    INDEX = 9
    MUTUALFUND = 11
    MONEYMARKET = 12
    OPTION = 13
    CURRENCY = 14
    WARRANT = 15
    BOND = 17
    FUTURE = 18
    ETF = 20
    COMMODITY = 23
    ECNQUOTE = 28
    CRYPTOCURRENCY = 41
    INDICATOR = 42
    INDUSTRY = 1000


class MarketHours(enum.IntEnum):
    """Yahoo's MarketHours enum. proto3 omits 0, so PRE_MARKET and "absent" look alike."""

    PRE_MARKET = 0
    REGULAR_MARKET = 1
    POST_MARKET = 2
    EXTENDED_HOURS_MARKET = 3


@dataclass(frozen=True, slots=True)
class Quote:
    """One PricingData snapshot of a symbol.

    `price` and the other float fields are the raw decoded values (float32 on the wire:
    232.35 arrives as 232.35000610351562); `display_price` rounds to `price_hint`.
    Timestamps are integer microseconds since the Unix epoch. `payload` keeps the
    upstream's PricingData bytes when the quote came from the stream, so a proxy can
    forward them byte-identical; it takes no part in equality.
    """

    symbol: str
    price: float
    ts_upstream: int
    ts_library_in: int
    source: QuoteSource = "stream"
    currency: str | None = None
    exchange: str | None = None
    quote_type: QuoteType | int | None = None
    market_hours: MarketHours | int | None = None
    change_percent: float | None = None
    day_volume: int | None = None
    day_high: float | None = None
    day_low: float | None = None
    change: float | None = None
    short_name: str | None = None
    expire_date: int | None = None
    open_price: float | None = None
    previous_close: float | None = None
    strike_price: float | None = None
    underlying_symbol: str | None = None
    open_interest: int | None = None
    options_type: int | None = None
    mini_option: int | None = None
    last_size: int | None = None
    bid: float | None = None
    bid_size: int | None = None
    ask: float | None = None
    ask_size: int | None = None
    price_hint: int | None = None
    vol_24hr: int | None = None
    vol_all_currencies: int | None = None
    from_currency: str | None = None
    last_market: str | None = None
    circulating_supply: float | None = None
    market_cap: float | None = None
    payload: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def display_price(self) -> float:
        """The price rounded to the upstream's `price_hint` decimals (2 when absent)."""
        return round(self.price, self.price_hint if self.price_hint is not None else 2)

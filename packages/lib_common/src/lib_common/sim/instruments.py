"""What kind of instrument a symbol is, and how Yahoo describes it.

Classification follows Yahoo's symbol conventions: `BTC-USD` is a cryptocurrency, `^GSPC`
an index, `EURUSD=X` a currency pair, `GC=F` a future, anything else an equity. Known
symbols get realistic exchanges and base prices; others get a price drawn from the seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from random import Random
from typing import Final

from lib_common.ingestors.yahoo.quote import QuoteType

__all__ = ["Instrument", "classify", "is_symbol"]

# The characters Yahoo symbols use (AAPL, BTC-USD, ^GSPC, EURUSD=X, GC=F, ITC.NS, INVE-B.ST).
_SYMBOL: Final = re.compile(r"[A-Z0-9.^=\-&]{1,32}")


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static facts about one symbol."""

    symbol: str
    quote_type: QuoteType
    exchange: str  # Yahoo's short exchange code (NMS, NYQ, CCC, SNP, ...)
    full_exchange: str
    currency: str
    timezone: str  # IANA name of the exchange's time zone
    price_hint: int
    base_price: float
    volatility: float  # standard deviation of one step's log return
    name: str
    from_currency: str | None = None  # crypto: the coin
    circulating_supply: float | None = None  # crypto only

    @property
    def instrument_type(self) -> str:
        """The REST `instrumentType` string."""
        return self.quote_type.name

    @property
    def is_crypto(self) -> bool:
        return self.quote_type is QuoteType.CRYPTOCURRENCY


_EQUITIES: Final[dict[str, tuple[str, float, str]]] = {
    "AAPL": ("NMS", 232.35, "Apple Inc."),
    "MSFT": ("NMS", 420.10, "Microsoft Corporation"),
    "TSLA": ("NMS", 250.40, "Tesla, Inc."),
    "NVDA": ("NMS", 135.20, "NVIDIA Corporation"),
    "AMZN": ("NMS", 198.70, "Amazon.com, Inc."),
    "GOOGL": ("NMS", 172.60, "Alphabet Inc."),
    "META": ("NMS", 585.30, "Meta Platforms, Inc."),
    "NFLX": ("NMS", 760.00, "Netflix, Inc."),
    "JPM": ("NYQ", 221.50, "JPMorgan Chase & Co."),
    "KO": ("NYQ", 62.30, "The Coca-Cola Company"),
    "IBM": ("NYQ", 210.40, "International Business Machines Corporation"),
    "XOM": ("NYQ", 116.80, "Exxon Mobil Corporation"),
    "BRK-B": ("NYQ", 458.20, "Berkshire Hathaway Inc."),
    "SPY": ("PCX", 580.10, "SPDR S&P 500 ETF Trust"),
}
_INDICES: Final[dict[str, tuple[str, str, float, str]]] = {
    "^GSPC": ("SNP", "SNP", 5950.0, "S&P 500"),
    "^DJI": ("DJI", "DJI", 43900.0, "Dow Jones Industrial Average"),
    "^IXIC": ("NIM", "Nasdaq GIDS", 19300.0, "NASDAQ Composite"),
    "^RUT": ("WCB", "Cboe Indices", 2350.0, "Russell 2000"),
    "^VIX": ("WCB", "Cboe Indices", 16.2, "CBOE Volatility Index"),
}
_COINS: Final[dict[str, tuple[float, float, str]]] = {
    "BTC": (110429.42, 19_941_792.0, "Bitcoin USD"),
    "ETH": (3890.15, 120_700_000.0, "Ethereum USD"),
    "SOL": (190.40, 545_000_000.0, "Solana USD"),
    "XRP": (2.51, 60_000_000_000.0, "XRP USD"),
    "DOGE": (0.1932, 151_000_000_000.0, "Dogecoin USD"),
}
_SUFFIX_EXCHANGES: Final[dict[str, tuple[str, str, str, str]]] = {
    ".NS": ("NSI", "NSE", "INR", "Asia/Kolkata"),
    ".ST": ("STO", "Stockholm", "SEK", "Europe/Stockholm"),
    ".L": ("LSE", "LSE", "GBp", "Europe/London"),
    ".DE": ("GER", "XETRA", "EUR", "Europe/Berlin"),
    ".TO": ("TOR", "Toronto", "CAD", "America/Toronto"),
}
_FULL_NAMES: Final = {"NMS": "NasdaqGS", "NYQ": "NYSE", "PCX": "NYSEArca"}
_NEW_YORK: Final = "America/New_York"


def is_symbol(text: str) -> bool:
    """True when `text` is shaped like a Yahoo symbol."""
    return _SYMBOL.fullmatch(text) is not None


def classify(symbol: str, seed: int) -> Instrument:
    """The instrument behind `symbol`; unknown symbols get a seeded, stable base price."""
    rng = Random(f"{seed}:instrument:{symbol}")
    drawn = round(10.0 + rng.random() * 490.0, 2)
    if symbol.endswith("-USD"):
        coin = symbol[:-4]
        price, supply, name = _COINS.get(coin, (drawn, 1e9 * (1 + rng.random()), f"{coin} USD"))
        return Instrument(
            symbol,
            QuoteType.CRYPTOCURRENCY,
            "CCC",
            "CCC",
            "USD",
            "UTC",
            2 if price >= 1 else 4,
            price,
            0.0008,
            name,
            from_currency=coin,
            circulating_supply=supply,
        )
    if symbol.startswith("^"):
        exchange, full, price, name = _INDICES.get(symbol, ("SNP", "SNP", drawn * 20, symbol))
        return Instrument(
            symbol, QuoteType.INDEX, exchange, full, "USD", _NEW_YORK, 2, price, 0.0003, name
        )
    if symbol.endswith("=X"):
        return Instrument(
            symbol,
            QuoteType.CURRENCY,
            "CCY",
            "CCY",
            symbol[3:6] or "USD",
            "Europe/London",
            4,
            round(0.8 + rng.random() * 0.6, 4),
            0.0002,
            symbol,
        )
    if symbol.endswith("=F"):
        return Instrument(
            symbol, QuoteType.FUTURE, "CMX", "COMEX", "USD", _NEW_YORK, 2, drawn * 5, 0.0005, symbol
        )
    for suffix, (exchange, full, currency, zone) in _SUFFIX_EXCHANGES.items():
        if symbol.endswith(suffix):
            return Instrument(
                symbol, QuoteType.EQUITY, exchange, full, currency, zone, 2, drawn, 0.0005, symbol
            )
    exchange, price, name = _EQUITIES.get(symbol, ("NMS", drawn, symbol))
    return Instrument(
        symbol,
        QuoteType.EQUITY,
        exchange,
        _FULL_NAMES.get(exchange, exchange),
        "USD",
        _NEW_YORK,
        2,
        price,
        0.0005,
        name,
    )

"""Symbol validation and normalisation: what a client may subscribe to.

Two kinds of name are subscribable:

- **Market symbols** as Yahoo spells them (`AAPL`, `BTC-USD`, `^GSPC`, `EURUSD=X`, `GC=F`,
  `ITC.NS`, `INVE-B.ST`, `M&M.NS`). Normalised by stripping surrounding whitespace and
  upper-casing. Allowed characters: `A–Z 0–9 . - ^ = &`; `^` only as the first character
  (index symbols); the first character is a letter, a digit or `^`; at least one letter or
  digit.
- **Indicators**: `@` + a lower-case name from a known set (`@fear_greed`). Normalised by
  lower-casing, because an indicator is a name we define, not an exchange ticker.

Length: 1–32 characters after normalisation (the longest real Yahoo symbols, option
contracts such as `AAPL250117C00150000`, are about 20).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

MAX_SYMBOL_LENGTH = 32
INDICATOR_PREFIX = "@"
#: Indicator names restream knows how to produce (without the `@`).
KNOWN_INDICATORS: frozenset[str] = frozenset({"fear_greed"})

_MARKET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-^=&")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_INDICATOR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class SymbolProblem(enum.Enum):
    """Why a name is not a subscribable symbol (the value is the wire code)."""

    NOT_A_STRING = "not_a_string"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    BAD_CHARACTER = "bad_character"
    BAD_START = "bad_start"
    NO_ALPHANUMERIC = "no_alphanumeric"
    UNKNOWN_INDICATOR = "unknown_indicator"


class SymbolError(ValueError):
    """A name that cannot be subscribed to; `problem` says why, `symbol` is the input."""

    def __init__(self, symbol: object, problem: SymbolProblem, message: str) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.problem = problem
        self.message = message


@dataclass(frozen=True, slots=True)
class Rejection:
    """A symbol the engine refused, with a stable machine code and a human message.

    `reason` is a `SymbolProblem` value for invalid names, or one of the registry's codes
    (`client_limit`, `global_limit`, `not_subscribed`).
    """

    symbol: str
    reason: str
    message: str


def is_indicator(symbol: str) -> bool:
    """True for a (normalised) indicator name such as `@fear_greed`."""
    return symbol.startswith(INDICATOR_PREFIX)


def normalize_symbol(raw: object, *, indicators: frozenset[str] = KNOWN_INDICATORS) -> str:
    """Return the canonical form of `raw`, or raise `SymbolError` saying what is wrong."""
    if not isinstance(raw, str):
        raise SymbolError(raw, SymbolProblem.NOT_A_STRING, "symbol must be a string")
    text = raw.strip()
    if not text:
        raise SymbolError(raw, SymbolProblem.EMPTY, "symbol is empty")
    if len(text) > MAX_SYMBOL_LENGTH:
        raise SymbolError(
            raw,
            SymbolProblem.TOO_LONG,
            f"symbol is longer than {MAX_SYMBOL_LENGTH} characters",
        )
    if text.startswith(INDICATOR_PREFIX):
        return _normalize_indicator(raw, text, indicators)
    return _normalize_market(raw, text)


def _normalize_indicator(raw: str, text: str, indicators: frozenset[str]) -> str:
    name = text[1:].lower()
    bad = sorted(set(name) - _INDICATOR_CHARS)
    if not name or bad:
        raise SymbolError(
            raw,
            SymbolProblem.BAD_CHARACTER,
            f"indicator name may hold only a-z 0-9 _ (got {''.join(bad) or 'nothing'})",
        )
    if name not in indicators:
        known = ", ".join(INDICATOR_PREFIX + n for n in sorted(indicators))
        raise SymbolError(
            raw, SymbolProblem.UNKNOWN_INDICATOR, f"unknown indicator (known: {known})"
        )
    return INDICATOR_PREFIX + name


def _normalize_market(raw: str, text: str) -> str:
    symbol = text.upper()
    bad = sorted(set(symbol) - _MARKET_CHARS)
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise SymbolError(
            raw,
            SymbolProblem.BAD_CHARACTER,
            f"symbol may hold only A-Z 0-9 . - ^ = & (got {shown})",
        )
    if symbol[0] not in _ALNUM and symbol[0] != "^":
        raise SymbolError(
            raw, SymbolProblem.BAD_START, "symbol must start with a letter, a digit or ^"
        )
    if "^" in symbol[1:]:
        raise SymbolError(
            raw, SymbolProblem.BAD_CHARACTER, "^ is allowed only as the first character"
        )
    if _ALNUM.isdisjoint(symbol):
        raise SymbolError(
            raw, SymbolProblem.NO_ALPHANUMERIC, "symbol must contain a letter or a digit"
        )
    return symbol


def check_symbols(
    raws: Iterable[object], *, indicators: frozenset[str] = KNOWN_INDICATORS
) -> tuple[list[str], list[Rejection]]:
    """Normalise many names: (valid symbols, first-seen order, deduplicated; rejections)."""
    valid: dict[str, None] = {}
    rejected: list[Rejection] = []
    for raw in raws:
        try:
            valid.setdefault(normalize_symbol(raw, indicators=indicators))
        except SymbolError as exc:
            rejected.append(Rejection(_printable(raw), exc.problem.value, exc.message))
    return list(valid), rejected


def _printable(raw: object) -> str:
    # Echo the offending input back to the client, bounded so a hostile name stays small.
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= 2 * MAX_SYMBOL_LENGTH else text[: 2 * MAX_SYMBOL_LENGTH] + "…"

"""Symbol validation and normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.core.symbols import (
    MAX_SYMBOL_LENGTH,
    Rejection,
    SymbolError,
    SymbolProblem,
    check_symbols,
    is_indicator,
    normalize_symbol,
)

REAL = ["AAPL", "BTC-USD", "^GSPC", "EURUSD=X", "GC=F", "ITC.NS", "INVE-B.ST", "M&M.NS", "BRK-B"]


@pytest.mark.parametrize("symbol", REAL)
def test_real_symbols_are_accepted_unchanged(symbol: str) -> None:
    """Real Yahoo symbols normalise to themselves."""
    assert symbol == normalize_symbol(symbol)


def test_market_symbols_are_upper_cased_and_stripped() -> None:
    """Case and surrounding whitespace do not matter."""
    assert normalize_symbol("  btc-usd\t") == "BTC-USD"
    assert normalize_symbol("inve-b.st") == "INVE-B.ST"


def test_indicator_is_lower_cased_and_must_be_known() -> None:
    """`@fear_greed` is the indicator name in any case; unknown names are refused."""
    assert normalize_symbol("@FEAR_GREED") == "@fear_greed"
    assert is_indicator("@fear_greed")
    assert not is_indicator("AAPL")
    with pytest.raises(SymbolError) as info:
        normalize_symbol("@vix_mood")
    assert info.value.problem == SymbolProblem.UNKNOWN_INDICATOR
    assert "@fear_greed" in info.value.message


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", SymbolProblem.EMPTY),
        ("   ", SymbolProblem.EMPTY),
        ("A" * (MAX_SYMBOL_LENGTH + 1), SymbolProblem.TOO_LONG),
        ("AA PL", SymbolProblem.BAD_CHARACTER),
        ("AAPL$", SymbolProblem.BAD_CHARACTER),
        ("EUR/USD", SymbolProblem.BAD_CHARACTER),
        ("ÄPPLE", SymbolProblem.BAD_CHARACTER),
        ("GS^PC", SymbolProblem.BAD_CHARACTER),
        (".NS", SymbolProblem.BAD_START),
        ("-USD", SymbolProblem.BAD_START),
        ("=X", SymbolProblem.BAD_START),
        ("^", SymbolProblem.NO_ALPHANUMERIC),
        ("^.-", SymbolProblem.NO_ALPHANUMERIC),
        ("@", SymbolProblem.BAD_CHARACTER),
        ("@fear-greed", SymbolProblem.BAD_CHARACTER),
        (42, SymbolProblem.NOT_A_STRING),
        (None, SymbolProblem.NOT_A_STRING),
    ],
)
def test_invalid_names_raise_with_a_reason(raw: object, problem: SymbolProblem) -> None:
    """Each kind of bad name is refused with its own problem code and a message."""
    with pytest.raises(SymbolError) as info:
        normalize_symbol(raw)
    assert problem == info.value.problem
    assert info.value.message


def test_length_limit_is_inclusive() -> None:
    """Exactly MAX_SYMBOL_LENGTH characters is still a valid symbol."""
    assert normalize_symbol("a" * MAX_SYMBOL_LENGTH) == "A" * MAX_SYMBOL_LENGTH


def test_check_symbols_dedupes_in_order_and_collects_rejections() -> None:
    """Valid names come back normalised, deduplicated, in first-seen order."""
    valid, rejected = check_symbols(["msft", "AAPL", "MSFT", "bad name", 7, "aapl"])
    assert valid == ["MSFT", "AAPL"]
    assert [
        Rejection("bad name", "bad_character", rejected[0].message),
        Rejection("7", "not_a_string", "symbol must be a string"),
    ] == rejected


def test_rejection_echo_is_bounded() -> None:
    """A huge hostile name is echoed back truncated, not whole."""
    _, rejected = check_symbols(["X" * 10_000])
    assert len(rejected[0].symbol) <= 2 * MAX_SYMBOL_LENGTH + 1


@given(st.text(max_size=40))
def test_normalisation_is_idempotent(raw: str) -> None:
    """Whatever is accepted normalises to a fixed point that is itself accepted."""
    try:
        once = normalize_symbol(raw)
    except SymbolError:
        return
    assert once == normalize_symbol(once)
    assert 1 <= len(once) <= MAX_SYMBOL_LENGTH

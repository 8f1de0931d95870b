"""Tests for lib_common.ingestors.yahoo.control: Yahoo client control messages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.ingestors.yahoo.control import (
    ControlError,
    Subscribe,
    Unsubscribe,
    parse_control,
    subscribe_message,
    unsubscribe_message,
)

SYMBOLS = st.lists(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.^=-", min_size=1, max_size=12),
    max_size=20,
)


def test_subscribe_and_unsubscribe_parse() -> None:
    """Yahoo's two control messages parse into Subscribe and Unsubscribe."""
    assert parse_control('{"subscribe":["AAPL","BTC-USD"]}') == Subscribe(("AAPL", "BTC-USD"))
    assert parse_control('{"unsubscribe":["BTC-USD"]}') == Unsubscribe(("BTC-USD",))


def test_real_world_symbols_are_accepted() -> None:
    """Index, FX, futures and foreign-exchange symbols are all valid."""
    symbols = ["AAPL", "BTC-USD", "^GSPC", "EURUSD=X", "GC=F", "ITC.NS", "INVE-B.ST", "M&M.NS"]
    assert parse_control(subscribe_message(symbols)) == Subscribe(tuple(symbols))


def test_builders_produce_yahoos_exact_text() -> None:
    """subscribe_message/unsubscribe_message match the frames Yahoo's clients send."""
    assert subscribe_message(["AAPL", "BTC-USD"]) == '{"subscribe":["AAPL","BTC-USD"]}'
    assert unsubscribe_message(("BTC-USD",)) == '{"unsubscribe":["BTC-USD"]}'


def test_builders_refuse_a_bare_string() -> None:
    """A lone string is a caller bug (it would iterate into letters): TypeError."""
    with pytest.raises(TypeError):
        subscribe_message("AAPL")


def test_duplicates_are_dropped_in_order_and_case_is_kept() -> None:
    """Repeated symbols appear once, first-seen order; case is not folded."""
    result = parse_control('{"subscribe":["MSFT","aapl","MSFT","AAPL"]}')
    assert result == Subscribe(("MSFT", "aapl", "AAPL"))


def test_implausible_symbols_are_rejected_not_fatal() -> None:
    """Entries that cannot be symbols are listed in `rejected`; the rest still count."""
    long = "X" * 33
    result = parse_control(subscribe_message(["AAPL", "", "A B", long, 'A"', "\u00e9"]))
    assert result == Subscribe(("AAPL",), ("", "A B", long, 'A"', "\u00e9"))


def test_extra_keys_are_ignored_and_bytes_are_accepted() -> None:
    """Unknown keys do not matter and a binary frame holding the JSON parses too."""
    assert parse_control(b'{"subscribe":["SPY"],"id":1}') == Subscribe(("SPY",))
    assert parse_control(bytearray(b'{"unsubscribe":[]}')) == Unsubscribe(())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"subscribe":["A"],"unsubscribe":["B"]}', "ambiguous"),
        ("", "json"),
        ("subscribe AAPL", "json"),
        ('{"subscribe":', "json"),
        ("[" * 100_000, "json"),
        ('["AAPL"]', "shape"),
        ("{}", "shape"),
        ('{"op":"subscribe"}', "shape"),
        ('{"subscribe":"AAPL"}', "shape"),
        ('{"subscribe":["AAPL",1]}', "shape"),
        ('{"unsubscribe":null}', "shape"),
        (b"\xff\xfe", "input"),
    ],
)
def test_garbage_is_a_control_error_of_the_right_kind(text: str | bytes, kind: str) -> None:
    """Malformed messages become ControlError values naming what was wrong."""
    result = parse_control(text)
    assert isinstance(result, ControlError), result
    assert result.kind == kind, result.reason


def test_wrong_input_type_is_a_control_error() -> None:
    """Untyped callers passing a non-text value get a ControlError, not an exception."""
    result = parse_control(None)  # type: ignore[arg-type]
    assert isinstance(result, ControlError)
    assert result.kind == "input"


@given(SYMBOLS)
def test_builders_round_trip(symbols: list[str]) -> None:
    """parse_control reads back what the builders write (deduplicated, in order)."""
    unique = tuple(dict.fromkeys(symbols))
    assert parse_control(subscribe_message(symbols)) == Subscribe(unique)
    assert parse_control(unsubscribe_message(symbols)) == Unsubscribe(unique)


@given(st.text() | st.binary())
def test_fuzz_garbage_never_raises(data: str | bytes) -> None:
    """Arbitrary text or bytes give one of the three result types."""
    assert isinstance(parse_control(data), Subscribe | Unsubscribe | ControlError)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["subscribe", "unsubscribe", "x"]), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_fuzz_json_shapes_never_raise(value: object) -> None:
    """Any JSON value, including near-miss control shapes, gives a result value."""
    assert isinstance(parse_control(json.dumps(value)), Subscribe | Unsubscribe | ControlError)

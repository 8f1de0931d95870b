"""The client → server parser: text in, one request or one error out, never an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsdev_servers.restream.protocol import (
    MAX_ID_LENGTH,
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    parse_request,
)


def parse(text: str | bytes) -> object:
    return parse_request(text, max_symbols=5)


def test_subscribe_unsubscribe_ping() -> None:
    """The three operations decode with their symbols and ids."""
    assert Subscribe(("AAPL", "btc-usd"), 1) == parse(
        '{"op":"subscribe","symbols":["AAPL","btc-usd"],"id":1}'
    )
    assert Unsubscribe(("AAPL",)) == parse('{"op":"unsubscribe","symbols":["AAPL"]}')
    assert Ping("x") == parse('{"op":"ping","id":"x"}')
    assert Ping(None) == parse('{"op":"ping"}')
    assert Ping(1.5) == parse('{"op":"ping","id":1.5,"extra":{"ignored":true}}')


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ("{", "bad_json"),
        ('{"op":"ping","id":NaN}', "bad_json"),
        ("[1,2]", "bad_request"),
        ('"ping"', "bad_request"),
        ("{}", "bad_request"),
        ('{"op":7}', "bad_request"),
        ('{"op":"subscribe"}', "bad_request"),
        ('{"op":"subscribe","symbols":"AAPL"}', "bad_request"),
        ('{"op":"subscribe","symbols":[]}', "bad_request"),
        ('{"op":"subscribe","symbols":["A","B","C","D","E","F"]}', "too_many_symbols"),
        ('{"op":"dance"}', "unknown_op"),
        ('{"op":"ping","id":true}', "bad_request"),
        ('{"op":"ping","id":{"a":1}}', "bad_request"),
        ('{"op":"ping","id":' + str(2**60) + "}", "bad_request"),
        ('{"op":"ping","id":"' + "x" * (MAX_ID_LENGTH + 1) + '"}', "bad_request"),
    ],
)
def test_errors_have_codes(text: str, code: str) -> None:
    """Each kind of bad request maps to its documented code."""
    result = parse(text)
    assert isinstance(result, ProtocolError)
    assert code == result.code


def test_binary_frames_are_refused() -> None:
    """Binary messages are not part of the protocol."""
    result = parse(b'{"op":"ping"}')
    assert isinstance(result, ProtocolError)
    assert result.code == "bad_json"


def test_error_keeps_a_valid_id() -> None:
    """An error to a request with a usable id echoes it."""
    result = parse('{"op":"dance","id":9}')
    assert isinstance(result, ProtocolError)
    assert result.id == 9


def test_pathological_inputs_do_not_raise() -> None:
    """Deep nesting and huge numbers are errors, not exceptions."""
    assert isinstance(parse("[" * 100_000 + "]" * 100_000), ProtocolError)
    assert isinstance(parse('{"op":"ping","id":' + "9" * 5000 + "}"), ProtocolError)
    long_op = parse('{"op":"' + "x" * 10_000 + '"}')
    assert isinstance(long_op, ProtocolError)
    assert len(long_op.message) < 200


@given(st.text(max_size=200))
def test_any_text_gives_a_result(text: str) -> None:
    """Whatever the text, the parser returns one of its result types."""
    assert isinstance(parse(text), Subscribe | Unsubscribe | Ping | ProtocolError)


@settings(max_examples=60)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_any_json_gives_a_result(doc: object) -> None:
    """Whatever the JSON document, the parser returns one of its result types."""
    assert isinstance(parse(json.dumps(doc)), Subscribe | Unsubscribe | Ping | ProtocolError)

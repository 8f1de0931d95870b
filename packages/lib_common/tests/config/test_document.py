"""Whole documents: strict JSON parsing and encrypt/decrypt_document."""

from __future__ import annotations

import pytest

from lib_common.config import NotJSONError, decrypt_document, encrypt_document
from lib_common.config.document import parse_json, parse_object


def test_document_round_trip(key: str) -> None:
    """A nested document with unicode survives encrypt_document → decrypt_document."""
    doc = {"db": {"hosts": ["a", "b"], "port": 5432, "ssl": True}, "note": "café ☕", "x": None}
    assert doc == decrypt_document(encrypt_document(doc, key), key, name="mem")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"a": 1,}', "line 1 column"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"a": NaN}', "NaN"),
        (b'{"a": "\xff"}', "not UTF-8"),
    ],
)
def test_invalid_json_is_not_json_error_with_position(text: str | bytes, fragment: str) -> None:
    """Syntax errors, duplicate keys, NaN and bad UTF-8 are NotJSONError naming the file."""
    with pytest.raises(NotJSONError) as info:
        parse_json(text, name="conf.json")
    assert "conf.json" in str(info.value)
    assert fragment in str(info.value)


def test_syntax_error_message_does_not_quote_the_document() -> None:
    """The error gives a position, not the (possibly secret) text around it."""
    with pytest.raises(NotJSONError) as info:
        parse_json('{"password": "hunter2" oops}', name="c.json")
    assert "hunter2" not in str(info.value)


def test_top_level_must_be_an_object() -> None:
    """A config document is a JSON object; an array at the top is refused."""
    with pytest.raises(NotJSONError, match="must be a JSON object"):
        parse_object("[1, 2]", name="c.json")


def test_utf8_bom_is_accepted() -> None:
    """A BOM written by some Windows editors does not break parsing."""
    assert parse_object(b'\xef\xbb\xbf{"a": 1}', name="c.json") == {"a": 1}


def test_unserialisable_object_is_refused(key: str) -> None:
    """encrypt_document refuses values JSON cannot represent."""
    with pytest.raises(NotJSONError):
        encrypt_document({"when": object()}, key)
    with pytest.raises(NotJSONError):
        encrypt_document({"x": float("nan")}, key)

"""Tests for ApiResponse: ok, text, JSON helpers, headers, raise_for_status."""

from __future__ import annotations

import pytest

from lib_common.ky_http import ApiResponse, KyDecodeError, KyError, KyStatusError


def test_ok_only_for_2xx() -> None:
    """ok is True for 200–299 only."""
    assert ApiResponse(status=204, url="http://x/").ok
    assert not ApiResponse(status=304, url="http://x/").ok
    assert not ApiResponse(status=503, url="http://x/").ok


def test_headers_are_case_insensitive_even_from_a_dict() -> None:
    """A response built from a plain dict (e.g. by a hook) still looks headers up by any case."""
    response = ApiResponse(status=200, url="http://x/", headers={"Retry-After": "2"})
    assert response.headers["retry-after"] == "2"


def test_text_and_json() -> None:
    """text decodes with the response encoding; json() parses the body."""
    response = ApiResponse(status=200, url="http://x/", content='{"a": "é"}'.encode())
    assert response.text == '{"a": "é"}'
    assert response.json() == {"a": "é"}
    assert response.json_as(dict) == {"a": "é"}


def test_json_errors_are_ky_decode_errors() -> None:
    """A non-JSON body or the wrong JSON type raises KyDecodeError."""
    with pytest.raises(KyDecodeError, match="not JSON"):
        ApiResponse(status=200, url="http://x/", content=b"<html>").json()
    with pytest.raises(KyDecodeError, match="expected list"):
        ApiResponse(status=200, url="http://x/", content=b"{}").json_as(list)


def test_raise_for_status() -> None:
    """2xx returns the response itself; otherwise KyStatusError carries the response."""
    good = ApiResponse(status=200, url="http://x/")
    assert good.raise_for_status() is good
    bad = ApiResponse(status=503, url="http://x/a", method="GET", attempts=3, reason="Busy")
    with pytest.raises(KyStatusError) as caught:
        bad.raise_for_status()
    assert isinstance(caught.value, KyError)
    assert caught.value.response is bad
    assert caught.value.status == 503
    assert caught.value.attempts == 3
    assert "HTTP 503 Busy (after 3 attempts)" in str(caught.value)

"""Tests for translating httpx exceptions into the KyError family."""

from __future__ import annotations

import ssl

import httpx
import pytest

from lib_common.ky_http import (
    KyError,
    KyRequestError,
    KyTimeoutError,
    KyTLSError,
    KyTransportError,
)
from lib_common.ky_http.errors import translate_httpx_error


def _tls_connect_error() -> httpx.ConnectError:
    try:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed")
        except ssl.SSLError as inner:
            raise httpx.ConnectError("handshake") from inner
    except httpx.ConnectError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ReadTimeout("slow"), KyTimeoutError),
        (httpx.ConnectTimeout("slow"), KyTimeoutError),
        (httpx.PoolTimeout("busy"), KyTimeoutError),
        (httpx.ConnectError("refused"), KyTransportError),
        (httpx.ReadError("reset"), KyTransportError),
        (httpx.RemoteProtocolError("peer closed"), KyTransportError),
        (httpx.UnsupportedProtocol("ftp"), KyRequestError),
        (httpx.LocalProtocolError("bad header"), KyRequestError),
        (httpx.InvalidURL("bad url"), KyRequestError),
        (_tls_connect_error(), KyTLSError),
    ],
)
def test_translation_by_blame(exc: httpx.HTTPError, expected: type[KyError]) -> None:
    """Each httpx exception maps to one KyError class and keeps request details and cause."""
    error = translate_httpx_error(exc, method="GET", url="http://127.0.0.1/x", attempts=2)
    assert type(error) is expected
    assert (error.method, error.url, error.attempts) == ("GET", "http://127.0.0.1/x", 2)
    assert error.cause is exc
    assert "after 2 attempts" in str(error)

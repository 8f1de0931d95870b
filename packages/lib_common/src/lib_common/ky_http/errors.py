"""The one error family of ky_http, and the translation from httpx's exceptions into it.

Split by blame, as h11 does: ``KyRequestError`` is the caller's mistake (never retried),
``KyTimeoutError``/``KyTransportError`` are the network's or the peer's (retried for
retriable methods), ``KyTLSError`` means the server could not be authenticated (never
retried), ``KyStatusError`` comes from ``raise_for_status()``.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from lib_common.ky_http.response import ApiResponse

__all__ = [
    "KyDecodeError",
    "KyError",
    "KyRequestError",
    "KyStatusError",
    "KyTLSError",
    "KyTimeoutError",
    "KyTransportError",
    "translate_httpx_error",
]


class KyError(Exception):
    """Base of every ky_http error: which request, after how many attempts, and why."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        attempts: int,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.attempts = attempts
        self.cause = cause


class KyTimeoutError(KyError):
    """No response within the timeout (connect, read, write, pool) or the total deadline."""


class KyTransportError(KyError):
    """The connection failed or broke: refused, reset, closed mid-response, protocol error."""


class KyTLSError(KyTransportError):
    """The TLS handshake failed (e.g. the certificate did not verify); retrying cannot help."""


class KyRequestError(KyError):
    """The request itself is unusable (bad URL, unsupported scheme); never retried."""


class KyStatusError(KyError):
    """Raised by ``ApiResponse.raise_for_status()`` for a status outside 200–299."""

    def __init__(self, message: str, *, response: ApiResponse) -> None:
        super().__init__(
            message, method=response.method, url=response.url, attempts=response.attempts
        )
        self.response = response
        self.status = response.status


class KyDecodeError(KyError):
    """The response body is not the JSON (or JSON type) the caller asked for."""


def _tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return True
        current = current.__cause__ or current.__context__
    return False


def translate_httpx_error(
    exc: httpx.HTTPError | httpx.InvalidURL, *, method: str, url: str, attempts: int
) -> KyError:
    """Map an httpx exception to the ky_http error that the caller sees."""
    detail = str(exc) or type(exc).__name__
    where = f"{method} {url}"
    kinds: tuple[type[KyError], str]
    if isinstance(exc, httpx.TimeoutException):
        kinds = KyTimeoutError, f"{type(exc).__name__} (no response in time)"
    elif isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError | httpx.InvalidURL):
        kinds = KyRequestError, f"invalid request: {detail}"
    elif isinstance(exc, httpx.ConnectError) and _tls_failure(exc):
        kinds = KyTLSError, f"TLS handshake failed: {detail}"
    else:
        kinds = KyTransportError, f"{type(exc).__name__}: {detail}"
    cls, message = kinds
    noun = "attempt" if attempts == 1 else "attempts"
    return cls(
        f"{where}: {message} (after {attempts} {noun})",
        method=method,
        url=url,
        attempts=attempts,
        cause=exc,
    )

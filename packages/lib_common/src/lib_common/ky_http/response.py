"""The immutable result of a ky_http call: status, headers, body, timings and attempts."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import httpx

from lib_common.ky_http.errors import KyDecodeError, KyStatusError

__all__ = ["ApiResponse"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One HTTP response as returned by ``AsyncKy``/``Ky`` (also after retries ran out).

    ``elapsed`` counts from the start of the first attempt, waits included;
    ``attempt_elapsed`` is this attempt alone. ``headers`` is case-insensitive.
    """

    status: int
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    encoding: str = "utf-8"
    reason: str = ""
    attempts: int = 1
    elapsed: float = 0.0
    attempt_elapsed: float = 0.0

    def __post_init__(self) -> None:
        # Case-insensitive lookups even for responses built by hooks from a plain dict.
        object.__setattr__(self, "headers", httpx.Headers(self.headers))

    @classmethod
    def from_httpx(
        cls, response: httpx.Response, *, attempts: int, elapsed: float, attempt_elapsed: float
    ) -> ApiResponse:
        """Copy what matters out of a fully read httpx response."""
        return cls(
            status=response.status_code,
            url=str(response.url),
            method=response.request.method,
            headers=response.headers,
            content=response.content,
            encoding=response.encoding or "utf-8",
            reason=response.reason_phrase,
            attempts=attempts,
            elapsed=elapsed,
            attempt_elapsed=attempt_elapsed,
        )

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body decoded with the response's charset (undecodable bytes replaced)."""
        return self.content.decode(self.encoding, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; ``KyDecodeError`` if it is not JSON."""
        try:
            return jsonlib.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._decode_error(f"body is not JSON: {exc}", exc) from exc

    def json_as(self, type_: type[T]) -> T:
        """The JSON body, checked to be an instance of ``type_`` (e.g. ``dict``, ``list``)."""
        value = self.json()
        if not isinstance(value, type_):
            found = type(value).__name__
            raise self._decode_error(f"JSON body is {found}, expected {type_.__name__}", None)
        return value

    def raise_for_status(self) -> Self:
        """Return self for a 2xx status, else raise ``KyStatusError`` carrying this response."""
        if self.ok:
            return self
        noun = "attempt" if self.attempts == 1 else "attempts"
        raise KyStatusError(
            f"{self.method} {self.url}: HTTP {self.status} {self.reason}".rstrip()
            + f" (after {self.attempts} {noun})",
            response=self,
        )

    def _decode_error(self, message: str, cause: BaseException | None) -> KyDecodeError:
        return KyDecodeError(
            f"{self.method} {self.url}: {message}",
            method=self.method,
            url=self.url,
            attempts=self.attempts,
            cause=cause,
        )

"""Plain HTTP requests and responses as the server's handlers see them.

The server parses requests with h11 and hands a complete `HttpRequest` (body read, size
checked) to `handle_http`; the handler returns an `HttpResponse`, which the server frames
(Content-Length, keep-alive) and writes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

from websockets.datastructures import Headers

__all__ = ["Headers", "HttpHandler", "HttpRequest", "HttpResponse", "not_found"]


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """Split a request target into its decoded path and its query (last value wins)."""
    path, _, query = target.partition("?")
    return unquote(path), dict(parse_qsl(query, keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One complete HTTP/1.x request: line, headers, body; `remote` is the peer address."""

    method: str
    target: str
    headers: Headers
    body: bytes = b""
    remote: tuple[str, int] | None = None
    http_version: str = "1.1"
    path: str = field(init=False)
    query: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        path, query = split_target(self.target)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "query", query)

    def json(self) -> Any:
        """The body decoded as JSON (raises `ValueError` when it is not)."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A response to send: status, extra headers, body. Content-Length is added by the server."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    close: bool = False  # close the connection after this response

    @classmethod
    def json(
        cls,
        data: Any,
        status: int = 200,
        headers: Iterable[tuple[str, str]] = (),
    ) -> HttpResponse:
        """A compact JSON body with `Content-Type: application/json`."""
        body = json.dumps(data, separators=(",", ":")).encode()
        return cls(status, (("Content-Type", "application/json"), *headers), body)

    @classmethod
    def text(
        cls,
        text: str,
        status: int = 200,
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "text/plain; charset=utf-8",
    ) -> HttpResponse:
        """A UTF-8 text body (plain by default; pass `text/html; charset=utf-8` for pages)."""
        return cls(status, (("Content-Type", content_type), *headers), text.encode())


HttpHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]


async def not_found(request: HttpRequest) -> HttpResponse:
    """The default HTTP handler: 404 for every request."""
    return HttpResponse.text(f"not found: {request.path}\n", status=404)


def error_response_bytes(status: int, detail: str = "") -> bytes:
    """A raw `Connection: close` error response for when the request could not be parsed."""
    phrase = HTTPStatus(status).phrase
    body = f"{status} {phrase}{': ' + detail if detail else ''}\n".encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body

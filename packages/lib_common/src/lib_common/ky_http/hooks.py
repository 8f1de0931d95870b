"""Hooks run around each attempt, as in ky: before the request, before a retry, after a response.

For ``AsyncKy`` a hook may be a plain function or a coroutine function; ``Ky`` takes plain
functions only. Hooks of one kind run in the order given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeAlias

import httpx

from lib_common.ky_http.errors import KyError
from lib_common.ky_http.response import ApiResponse

__all__ = ["AfterResponse", "BeforeRequest", "BeforeRetry", "Hooks"]

BeforeRequest: TypeAlias = Callable[[httpx.Request], Awaitable[None] | None]
"""Called with each attempt's request before it is sent; may change its headers."""

BeforeRetry: TypeAlias = Callable[
    [httpx.Request, KyError | ApiResponse, int, float], Awaitable[None] | None
]
"""Called before waiting for a retry: (failed request, its error or response, number of
the failed attempt, seconds about to be waited)."""

AfterResponse: TypeAlias = Callable[
    [httpx.Request, ApiResponse], Awaitable[ApiResponse | None] | ApiResponse | None
]
"""Called with every attempt's response before the retry decision; returning an
``ApiResponse`` replaces it (later hooks and the decision see the replacement)."""


@dataclass(frozen=True, slots=True)
class Hooks:
    """The hooks of a client; each field is a tuple run in order."""

    before_request: tuple[BeforeRequest, ...] = ()
    before_retry: tuple[BeforeRetry, ...] = ()
    after_response: tuple[AfterResponse, ...] = ()

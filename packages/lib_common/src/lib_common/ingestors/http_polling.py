"""What the two HTTP pollers (Yahoo REST, CNN Fear & Greed) share.

- `BROWSER_USER_AGENT`: both upstreams turn away clients that do not look like a browser
  (Yahoo answers some User-Agents with 429 at once, CNN with 418 "I'm a teapot").
- `SINGLE_ATTEMPT`: one attempt per request; the poller's own schedule is the retry, and a
  429 must reach that schedule instead of being retried underneath it.
- `HttpPoller`: the `AsyncKy` a poller either creates from a base URL (and closes) or
  borrows from its caller (who closes it), and the async context manager around it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, Self

from lib_common.ky_http import AsyncKy, RetryPolicy

__all__ = ["BROWSER_USER_AGENT", "SINGLE_ATTEMPT", "HttpPoller"]

BROWSER_USER_AGENT: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SINGLE_ATTEMPT: Final = RetryPolicy(limit=0, total_deadline=None)


class HttpPoller:
    """Base of a poller: `self._ky`, owned or borrowed; `async with poller:` closes what it owns."""

    def __init__(
        self,
        ky_or_base_url: AsyncKy | str,
        *,
        timeout: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        if isinstance(ky_or_base_url, AsyncKy):
            self._ky, self._owns_ky = ky_or_base_url, False
        else:
            self._ky = AsyncKy(ky_or_base_url, timeout=timeout, clock=clock, sleep=sleep)
            self._owns_ky = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if the poller created it."""
        if self._owns_ky:
            await self._ky.aclose()

"""The CNN Fear & Greed poller: fetch graphdata, parse it, emit changes, schedule itself.

`fetch_once()` is one request with browser-like headers (CNN answers a non-browser
User-Agent with 418) and raises `FearGreedError` for anything but a usable body. `run()`
loops forever: the delay after a success comes from `FearGreedSchedule` (score movement,
market open or closed), after a failure from its capped exponential backoff. No error is
fatal; each one is logged with what to do about it.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

import anyio
from loguru import logger

from lib_common.core.market_hours import is_open
from lib_common.ingestors.cnn.model import FearGreed, parse_fear_greed
from lib_common.ingestors.cnn.schedule import FearGreedSchedule
from lib_common.ingestors.http_polling import BROWSER_USER_AGENT, SINGLE_ATTEMPT, HttpPoller
from lib_common.ky_http import (
    ApiResponse,
    AsyncKy,
    KyDecodeError,
    KyError,
    KyTimeoutError,
    response_retry_after,
)
from lib_common.timeutil import utc_now

__all__ = [
    "BOT_REFUSAL",
    "CNN_HEADERS",
    "DEFAULT_BASE_URL",
    "GRAPHDATA_PATH",
    "FearGreedEmitter",
    "FearGreedError",
    "FearGreedErrorKind",
    "FearGreedPoller",
    "FearGreedStats",
]

DEFAULT_BASE_URL: Final = "https://production.dataviz.cnn.io"
GRAPHDATA_PATH: Final = "/index/fearandgreed/graphdata"
CNN_HEADERS: Final[Mapping[str, str]] = {
    "User-Agent": BROWSER_USER_AGENT,  # CNN answers 418 "I'm a teapot" to non-browsers
    "Referer": "https://www.cnn.com/markets/fear-and-greed",
    "Accept": "application/json",
}
BOT_REFUSAL: Final = "CNN refused the request as a bot (418): check the User-Agent"

FearGreedErrorKind = Literal[
    "blocked", "rate_limited", "server_error", "http_status", "timeout", "transport", "malformed"
]
FearGreedEmitter = Callable[[FearGreed], Awaitable[None] | None]


class FearGreedError(Exception):
    """A fetch that gave no usable value; `kind` classifies it, `retry_after` in seconds."""

    def __init__(
        self,
        kind: FearGreedErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass(slots=True)
class FearGreedStats:
    """Counters since the poller was created, plus the schedule's view now."""

    fetches: int = 0
    successes: int = 0
    emitted: int = 0
    unchanged: int = 0  # same score, rating and timestamp as the last emitted value
    errors: Counter[str] = field(default_factory=Counter)  # by FearGreedErrorKind
    last_delay: float | None = None
    movement: float = 0.0  # points per minute (the schedule's average)


class FearGreedPoller(HttpPoller):
    """Polls CNN's graphdata endpoint; use as an async context manager.

    `ky_or_base_url` is a base URL (the poller then owns its `AsyncKy`) or a caller-owned
    `AsyncKy`; every request carries `CNN_HEADERS` (overridable through `headers`).
    `market_open(wall_clock())` tells the schedule whether the US market trades now;
    `clock` is monotonic seconds for the schedule; `history=False` skips the daily series.
    """

    def __init__(
        self,
        ky_or_base_url: AsyncKy | str = DEFAULT_BASE_URL,
        *,
        schedule: FearGreedSchedule | None = None,
        market_open: Callable[[datetime], bool] = is_open,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        history: bool = True,
    ) -> None:
        super().__init__(ky_or_base_url, timeout=timeout, clock=clock, sleep=sleep)
        self.schedule = schedule or FearGreedSchedule()
        self._market_open = market_open
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._headers = {**CNN_HEADERS, **(headers or {})}
        self._history = history
        self._stats = FearGreedStats()
        self._last_key: tuple[object, ...] | None = None

    @property
    def stats(self) -> FearGreedStats:
        """A copy of the counters."""
        copy = dataclasses.replace(self._stats, errors=Counter(self._stats.errors))
        copy.movement = self.schedule.movement
        return copy

    async def fetch_once(self) -> FearGreed:
        """Fetch and parse the index once; `FearGreedError` when that gave no value."""
        self._stats.fetches += 1
        try:
            result = self._parse(await self._get())
        except FearGreedError as exc:
            self._stats.errors[exc.kind] += 1
            raise
        self._stats.successes += 1
        return result

    async def run(self, emit: FearGreedEmitter) -> None:
        """Poll until cancelled, calling `emit` with each changed value."""
        while True:
            try:
                value = await self.fetch_once()
            except FearGreedError as exc:
                delay = self.schedule.on_error(exc.retry_after)
                logger.error("{}; next try in {:.0f} s", exc, delay)
            else:
                if self.schedule.failures:
                    logger.info("CNN Fear & Greed: answering again")
                self.schedule.observe(value.score, self._clock())
                await self._emit_if_changed(value, emit)
                delay = self.schedule.next_delay(self._market_open(self._wall_clock()))
            self._stats.last_delay = delay
            await self._sleep(delay)

    async def _emit_if_changed(self, value: FearGreed, emit: FearGreedEmitter) -> None:
        key = (value.score, value.rating, value.timestamp)
        if key == self._last_key:
            self._stats.unchanged += 1
            return
        self._last_key = key
        self._stats.emitted += 1
        result = emit(value)
        if inspect.isawaitable(result):
            await result

    async def _get(self) -> ApiResponse:
        try:
            return await self._ky.get(GRAPHDATA_PATH, headers=self._headers, retry=SINGLE_ATTEMPT)
        except KyTimeoutError as exc:
            raise FearGreedError("timeout", f"CNN Fear & Greed: no answer in time: {exc}") from exc
        except KyError as exc:
            raise FearGreedError("transport", f"CNN Fear & Greed: request failed: {exc}") from exc

    def _parse(self, response: ApiResponse) -> FearGreed:
        status = response.status
        if status == 418:
            raise FearGreedError("blocked", BOT_REFUSAL, status=status)
        if status == 429:
            raise FearGreedError(
                "rate_limited",
                "CNN Fear & Greed: rate limited (429)",
                status=status,
                retry_after=self._retry_after(response),
            )
        if status >= 500:
            raise FearGreedError(
                "server_error",
                f"CNN Fear & Greed: server error (HTTP {status})",
                status=status,
                retry_after=self._retry_after(response),
            )
        if not response.ok:
            raise FearGreedError(
                "http_status", f"CNN Fear & Greed: unexpected HTTP {status}", status=status
            )
        try:
            doc = response.json()
        except KyDecodeError as exc:
            raise FearGreedError("malformed", "CNN Fear & Greed: body is not JSON") from exc
        value = parse_fear_greed(doc, history=self._history)
        if value is None:
            raise FearGreedError("malformed", "CNN Fear & Greed: body has no usable score")
        return value

    def _retry_after(self, response: ApiResponse) -> float | None:
        return response_retry_after(response.headers, self._wall_clock())

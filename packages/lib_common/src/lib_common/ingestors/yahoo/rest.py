"""The Yahoo REST poller: the streaming fallback, one v8 chart request per symbol per round.

Each round fetches `{base}/v8/finance/chart/{symbol}?interval=1m&range=1d` for every
symbol, at most `concurrency` at a time, maps `chart.result[0].meta` to
`Quote(source="poll")` (`rest_mapping`) and returns only quotes that changed since the
symbol's last one. `PollCadence` (sans-I/O) decides when the next round may start: a 429
stops the round, waits its Retry-After and slows the cadence; a "Will be right back" page
or a round where everything failed backs off. Nothing a response contains is fatal: bad
bodies and unknown symbols are logged (once per symbol until it recovers) and skipped.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal
from urllib.parse import quote as url_quote

import anyio
from loguru import logger

from lib_common.ingestors.http_polling import BROWSER_USER_AGENT, SINGLE_ATTEMPT, HttpPoller
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.rest_cadence import CadenceSettings, PollCadence
from lib_common.ingestors.yahoo.rest_mapping import ChartError, Malformed, is_down_page, map_chart
from lib_common.ky_http import (
    ApiResponse,
    AsyncKy,
    KyDecodeError,
    KyError,
    KyTimeoutError,
    response_retry_after,
)
from lib_common.timeutil import utc_now, wall_clock_us

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_HEADERS",
    "ErrorKind",
    "QuoteEmitter",
    "RestPollStats",
    "YahooRestPoller",
]

DEFAULT_BASE_URL: Final = "https://query1.finance.yahoo.com"
DEFAULT_MAX_INTERVAL: Final = 300.0  # a 429 slows polling down to at most every 5 min
CHART_PATH: Final = "/v8/finance/chart/{symbol}"
CHART_PARAMS: Final = {"interval": "1m", "range": "1d"}
DEFAULT_HEADERS: Final = {
    "User-Agent": BROWSER_USER_AGENT,  # Yahoo answers some non-browsers with 429 at once
    "Accept": "application/json",
}

ErrorKind = Literal[
    "chart_error", "malformed", "down_page", "server_error", "http_status", "timeout", "transport"
]
QuoteEmitter = Callable[[Quote], Awaitable[None] | None]
# Kinds that say "the upstream is unwell" rather than "this symbol is odd".
_OUTAGE_KINDS: Final = frozenset({"down_page", "server_error", "timeout", "transport"})


@dataclass(slots=True)
class RestPollStats:
    """Counters since the poller was created; `interval`/`factor` are the cadence's now."""

    rounds: int = 0
    requests: int = 0
    quotes: int = 0  # changed quotes returned/emitted
    unchanged: int = 0  # quotes equal to the symbol's previous one, suppressed
    deferred: int = 0  # requests not sent because a 429/outage stopped their round
    rate_limited: int = 0  # 429 responses
    outages: int = 0  # rounds that backed off
    errors: Counter[str] = field(default_factory=Counter)  # by ErrorKind
    interval: float = 0.0
    factor: float = 1.0


@dataclass(slots=True)
class _Round:
    """What one round saw; the cadence hears about it once, at the end."""

    sent: int = 0
    answered: int = 0  # Yahoo replied about the symbol (a quote, chart.error, a 4xx…)
    failures: int = 0  # outage-kind failures
    stopped: bool = False
    rate_limited_at: float | None = None
    retry_after: float | None = None
    down_page: bool = False
    outage_retry_after: float | None = None


class YahooRestPoller(HttpPoller):
    """Polls Yahoo's v8 chart endpoint; use as an async context manager.

    `ky_or_base_url` is a base URL (the poller then owns its `AsyncKy`) or an `AsyncKy`
    the caller owns (its base URL must be Yahoo's host; each request is sent with
    `SINGLE_ATTEMPT` and `DEFAULT_HEADERS` regardless of the client's defaults).
    `clock` is monotonic seconds (cadence), `now_us` wall-clock µs (`ts_library_in`),
    `wall_clock` an aware datetime (HTTP-date Retry-After without a Date header).
    """

    def __init__(
        self,
        ky_or_base_url: AsyncKy | str = DEFAULT_BASE_URL,
        *,
        interval: float = 10.0,
        concurrency: int = 4,
        cadence: CadenceSettings | None = None,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        now_us: Callable[[], int] = wall_clock_us,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        settings = cadence or CadenceSettings(
            interval=interval, max_interval=max(DEFAULT_MAX_INTERVAL, interval)
        )
        self.cadence = PollCadence(settings)
        super().__init__(ky_or_base_url, timeout=timeout, clock=clock, sleep=sleep)
        self._headers = {**DEFAULT_HEADERS, **(headers or {})}
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._clock = clock
        self._sleep = sleep
        self._now_us = now_us
        self._wall_clock = wall_clock
        self._stats = RestPollStats()
        self._last: dict[str, Quote] = {}  # per symbol, ts_library_in zeroed
        self._problems: dict[str, str] = {}  # per symbol, the last logged problem

    @property
    def stats(self) -> RestPollStats:
        """A copy of the counters, with the cadence's current interval and factor."""
        copy = dataclasses.replace(self._stats, errors=Counter(self._stats.errors))
        copy.interval = self.cadence.interval
        copy.factor = self.cadence.factor
        return copy

    async def run(self, symbols: Callable[[], Collection[str]], emit: QuoteEmitter) -> None:
        """Poll forever (until cancelled): each round asks `symbols()` what to fetch and
        calls `emit` with every changed quote."""
        while True:
            await self._sleep_until(self.cadence.next_poll_at())
            wanted = symbols()
            if not wanted:
                self._forget(set())
                await self._sleep(self.cadence.interval)
                continue
            for quote in await self.poll_once(wanted):
                result = emit(quote)
                if inspect.isawaitable(result):
                    await result

    async def poll_once(self, symbols: Iterable[str]) -> list[Quote]:
        """One round over `symbols`: the quotes that changed, in `symbols` order.

        Requests are not sent while the cadence holds (after a 429 or an outage page);
        such symbols are counted as deferred and tried next round.
        """
        wanted = list(dict.fromkeys(symbols))
        self._forget(set(wanted))
        round_ = _Round()
        results: dict[str, Quote] = {}
        async with anyio.create_task_group() as tg:
            for symbol in wanted:
                tg.start_soon(self._poll_symbol, symbol, round_, results)
        self._stats.rounds += 1
        self._finish_round(round_)
        return [results[s] for s in wanted if s in results]

    # -- one symbol -----------------------------------------------------------------------

    async def _poll_symbol(self, symbol: str, round_: _Round, results: dict[str, Quote]) -> None:
        async with self._limiter:
            if round_.stopped or not self.cadence.may_send(self._clock()):
                self._stats.deferred += 1
                return
            self._stats.requests += 1
            round_.sent += 1
            try:
                response = await self._ky.get(
                    CHART_PATH.format(symbol=url_quote(symbol, safe="")),
                    params=CHART_PARAMS,
                    headers=self._headers,
                    retry=SINGLE_ATTEMPT,
                )
            except KyTimeoutError as exc:
                self._failed(symbol, round_, "timeout", str(exc))
                return
            except KyError as exc:
                self._failed(symbol, round_, "transport", str(exc))
                return
            received_us, now = self._now_us(), self._clock()  # as it arrived
        self._handle(symbol, response, received_us, now, round_, results)

    def _handle(
        self,
        symbol: str,
        response: ApiResponse,
        received_us: int,
        now: float,
        round_: _Round,
        results: dict[str, Quote],
    ) -> None:
        if response.status == 429:
            self._rate_limited(response, now, round_)
            return
        try:
            doc = response.json()
        except KyDecodeError:
            if is_down_page(response.text):
                self._down_page(symbol, response, now, round_)
                return
            doc = None
        outcome = map_chart(doc, symbol=symbol, received_us=received_us)
        if response.status >= 500:
            detail = f"HTTP {response.status}"
            if isinstance(outcome, ChartError):
                detail = f"{detail}: {outcome.code} {outcome.description}".rstrip()
            self._failed(symbol, round_, "server_error", detail)
            return
        round_.answered += 1  # from here on the symbol, not the upstream, is the problem
        if isinstance(outcome, ChartError):
            self._problem(symbol, "chart_error", f"{outcome.code}: {outcome.description}")
        elif not response.ok:
            self._problem(symbol, "http_status", f"HTTP {response.status}")
        elif isinstance(outcome, Malformed):
            self._problem(symbol, "malformed", outcome.reason)
        else:
            self._accept(outcome, results)

    def _accept(self, quote: Quote, results: dict[str, Quote]) -> None:
        key = dataclasses.replace(quote, ts_library_in=0)
        if self._last.get(quote.symbol) == key:
            self._stats.unchanged += 1
        else:
            self._last[quote.symbol] = key
            self._stats.quotes += 1
            results[quote.symbol] = quote
        if self._problems.pop(quote.symbol, None) is not None:
            logger.info("Yahoo REST: {} answers again", quote.symbol)

    # -- 429 and outages ------------------------------------------------------------------

    def _rate_limited(self, response: ApiResponse, now: float, round_: _Round) -> None:
        self._stats.rate_limited += 1
        retry_after = self._retry_after(response)
        if round_.rate_limited_at is None or (retry_after or 0.0) > (round_.retry_after or 0.0):
            round_.rate_limited_at, round_.retry_after = now, retry_after
        self._stop_round(round_, now, retry_after or 0.0)

    def _down_page(self, symbol: str, response: ApiResponse, now: float, round_: _Round) -> None:
        round_.down_page = True
        round_.outage_retry_after = self._retry_after(response)
        self._stop_round(round_, now, self.cadence.settings.backoff_base)
        self._failed(symbol, round_, "down_page", f"HTTP {response.status} 'Will be right back'")

    def _stop_round(self, round_: _Round, now: float, hold: float) -> None:
        """Send nothing more this round, and nothing at all for `hold` seconds."""
        round_.stopped = True
        self.cadence.hold(now, hold)

    def _retry_after(self, response: ApiResponse) -> float | None:
        return response_retry_after(response.headers, self._wall_clock())

    def _finish_round(self, round_: _Round) -> None:
        now = self._clock()
        cadence = self.cadence
        if not round_.sent:
            return  # everything deferred: nothing learned about the upstream
        if round_.rate_limited_at is not None:
            cadence.on_rate_limited(round_.rate_limited_at, round_.retry_after)
            logger.warning(
                "Yahoo REST: rate limited (429); Retry-After {}; polling every {:.3g} s now",
                "absent" if round_.retry_after is None else f"{round_.retry_after:g} s",
                cadence.interval,
            )
        elif round_.down_page or (round_.failures and not round_.answered):
            cadence.on_outage(now, round_.outage_retry_after)
            self._stats.outages += 1
            logger.warning(
                "Yahoo REST: upstream unavailable ({}); next try in {:.3g} s",
                "'Will be right back' page" if round_.down_page else "every request failed",
                cadence.next_poll_at() - now,
            )
        else:
            slowed = cadence.factor > 1.0 or cadence.failures > 0
            cadence.on_success(now)
            if slowed and cadence.factor == 1.0:
                logger.info("Yahoo REST: recovered; polling every {:g} s", cadence.interval)

    # -- bookkeeping ----------------------------------------------------------------------

    def _failed(self, symbol: str, round_: _Round, kind: ErrorKind, detail: str) -> None:
        if kind in _OUTAGE_KINDS:
            round_.failures += 1
        self._problem(symbol, kind, detail)

    def _problem(self, symbol: str, kind: ErrorKind, detail: str) -> None:
        """Count an error; log it when it is new for this symbol (not every round)."""
        self._stats.errors[kind] += 1
        if self._problems.get(symbol) != kind:
            self._problems[symbol] = kind
            logger.warning("Yahoo REST: {} skipped ({}): {}", symbol, kind, detail)

    def _forget(self, keep: set[str]) -> None:
        """Drop state of symbols nobody asks for any more (bounded memory)."""
        for table in (self._last, self._problems):
            for symbol in [s for s in table if s not in keep]:
                del table[symbol]

    async def _sleep_until(self, deadline: float) -> None:
        # Loop: a sleep may return early (or a test's fake sleep may be coarse).
        while (delay := deadline - self._clock()) > 0:
            await self._sleep(delay)

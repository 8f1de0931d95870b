"""Fixtures for the REST poller tests: a loopback simulator, fake time, a log capture and a
chart document shaped like Yahoo's (docs/upstreams.md, "Yahoo REST")."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from loguru import logger

from lib_common.sim import ManualClock, SimConfig, Simulator, run_simulator

SIM_START = 1_761_840_000.0  # 2025-10-30 16:00 UTC (12:00 New York, regular session)


class FakeTime:
    """A monotonic clock that moves only when the poller sleeps; sleeps are recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()  # stay cancellable, let other tasks run


@pytest.fixture
def fake_time() -> FakeTime:
    """Fake monotonic time starting at 1000 s."""
    return FakeTime()


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator on 127.0.0.1 (free port) with a frozen clock and no streaming pump."""
    config = SimConfig(rate=0.0, clock=ManualClock(SIM_START))
    async with run_simulator(config) as simulator:
        yield simulator


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Messages loguru emits while the test runs, as "LEVEL message"."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(m.record["level"].name + " " + m.record["message"]))
    yield lines
    logger.remove(handler)


# A v8 chart body as Yahoo sends it (trimmed to the fields that matter plus a few others).
_CHART: dict[str, Any] = {
    "chart": {
        "result": [
            {
                "meta": {
                    "currency": "USD",
                    "symbol": "AAPL",
                    "exchangeName": "NMS",
                    "fullExchangeName": "NasdaqGS",
                    "instrumentType": "EQUITY",
                    "firstTradeDate": 345479400,
                    "regularMarketTime": 1761840000,
                    "hasPrePostMarketData": True,
                    "gmtoffset": -14400,
                    "timezone": "EDT",
                    "exchangeTimezoneName": "America/New_York",
                    "regularMarketPrice": 271.4,
                    "fiftyTwoWeekHigh": 277.32,
                    "fiftyTwoWeekLow": 169.21,
                    "regularMarketDayHigh": 272.56,
                    "regularMarketDayLow": 268.94,
                    "regularMarketVolume": 31_276_842,
                    "longName": "Apple Inc.",
                    "shortName": "Apple Inc.",
                    "chartPreviousClose": 269.7,
                    "previousClose": 269.7,
                    "scale": 3,
                    "priceHint": 2,
                    "currentTradingPeriod": {
                        "pre": {
                            "timezone": "EDT",
                            "start": 1761811200,
                            "end": 1761831000,
                            "gmtoffset": -14400,
                        },
                        "regular": {
                            "timezone": "EDT",
                            "start": 1761831000,
                            "end": 1761854400,
                            "gmtoffset": -14400,
                        },
                        "post": {
                            "timezone": "EDT",
                            "start": 1761854400,
                            "end": 1761868800,
                            "gmtoffset": -14400,
                        },
                    },
                    "dataGranularity": "1m",
                    "range": "1d",
                    "validRanges": ["1d", "5d", "1mo"],
                },
                "timestamp": [1761831000, 1761831060],
                "indicators": {
                    "quote": [
                        {
                            "open": [None, 270.11],
                            "high": [270.5, 270.9],
                            "low": [269.8, 270.0],
                            "close": [270.2, 270.6],
                            "volume": [812_345, 402_113],
                        }
                    ]
                },
            }
        ],
        "error": None,
    }
}


@pytest.fixture
def chart_doc() -> dict[str, Any]:
    """A fresh copy of the reference-shaped AAPL chart body (tests may edit it)."""
    return copy.deepcopy(_CHART)

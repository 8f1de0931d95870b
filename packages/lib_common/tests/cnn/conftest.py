"""Fixtures for the CNN Fear & Greed tests: a graphdata body shaped like CNN's (see
docs/upstreams.md, "CNN Fear & Greed"), a loopback simulator, fake time, a log capture."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from loguru import logger

from lib_common.sim import ManualClock, SimConfig, Simulator, run_simulator

_COMPONENTS = (
    ("market_momentum_sp500", 6712.45, 71.2, "greed"),
    ("market_momentum_sp125", 6501.2, 70.4, "greed"),
    ("stock_price_strength", 1.93, 38.0, "fear"),
    ("stock_price_breadth", 842.7, 22.1, "extreme fear"),
    ("put_call_options", 0.71, 76.5, "extreme greed"),
    ("market_volatility_vix", 16.9, 50.0, "neutral"),
    ("market_volatility_vix_50", 17.3, 50.0, "neutral"),
    ("junk_bond_demand", 1.71, 60.3, "greed"),
    ("safe_haven_demand", 3.04, 55.9, "greed"),
)
DAY_MS = 86_400_000
T0_MS = 1_761_696_000_000.0  # 2025-10-29 00:00 UTC


def _series(value: float, score: float, rating: str) -> dict[str, Any]:
    return {
        "timestamp": T0_MS + DAY_MS + 86_386_000,  # 2025-10-30 23:59:46 UTC
        "score": score,
        "rating": rating,
        "data": [
            {"x": T0_MS, "y": value * 0.99, "rating": rating},
            {"x": T0_MS + DAY_MS, "y": value, "rating": rating},
        ],
    }


_DOC: dict[str, Any] = {
    "fear_and_greed": {
        "score": 52.8571428571429,
        "rating": "neutral",
        "timestamp": "2025-10-30T23:59:46+00:00",
        "previous_close": 49.6285714285714,
        "previous_1_week": 36.0571428571429,
        "previous_1_month": 61.2,
        "previous_1_year": 70.3428571428571,
    },
    "fear_and_greed_historical": {
        "timestamp": 1_761_868_786_000.0,
        "score": 52.8571428571429,
        "rating": "neutral",
        "data": [
            {"x": T0_MS, "y": 49.6285714285714, "rating": "neutral"},
            {"x": T0_MS + DAY_MS, "y": 52.8571428571429, "rating": "neutral"},
        ],
    },
    **{name: _series(value, score, rating) for name, value, score, rating in _COMPONENTS},
}


@pytest.fixture
def graphdata() -> dict[str, Any]:
    """A fresh copy of the reference-shaped graphdata body (tests may edit it)."""
    return copy.deepcopy(_DOC)


class FakeTime:
    """A monotonic clock that moves only when the poller sleeps; sleeps are recorded.

    `stop_after` sleeps, the next sleep cancels `scope` (so `run()` ends without waiting).
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.stop_after: int | None = None
        self.done = anyio.Event()
        self.on_sleep: list[Any] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        for hook in self.on_sleep:
            hook(seconds)
        if self.stop_after is not None and len(self.sleeps) >= self.stop_after:
            self.done.set()
        await anyio.lowlevel.checkpoint()


@pytest.fixture
def fake_time() -> FakeTime:
    """Fake monotonic time starting at 1000 s."""
    return FakeTime()


@pytest.fixture
def sim_clock() -> ManualClock:
    """The simulator's clock (2025-10-30 16:00 UTC), moved only by the test."""
    return ManualClock()


@pytest.fixture
async def sim(sim_clock: ManualClock) -> AsyncIterator[Simulator]:
    """A simulator on 127.0.0.1 (free port) with a manual clock and no streaming pump."""
    async with run_simulator(SimConfig(rate=0.0, clock=sim_clock)) as simulator:
        yield simulator


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Messages loguru emits while the test runs, as "LEVEL message"."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(m.record["level"].name + " " + m.record["message"]))
    yield lines
    logger.remove(handler)

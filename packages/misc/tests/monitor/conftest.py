"""Fixtures for the shared monitor loop: a scripted in-process probe and a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from loguru import logger

from rsdev_misc.monitor import FailureKind, ProbeResult
from rsdev_misc.monitor.testing import FakeClock

GOOD = ProbeResult(ok=True, latency_ms=5.0)
BAD = ProbeResult(ok=False, error="connection refused", failure=FailureKind.NETWORK)


class ScriptedProbe:
    """A Probe whose results come from a list (the last one repeats); counts its calls."""

    def __init__(self, results: Iterable[ProbeResult], target: str = "svc.test:1") -> None:
        self.results = list(results)
        self._target = target
        self.calls = 0
        self.closed = False

    @property
    def target(self) -> str:
        return self._target

    async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        result = self.results[min(self.calls, len(self.results) - 1)]
        self.calls += 1
        return result

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def scripted() -> Callable[..., ScriptedProbe]:
    """Factory: scripted("ok", "fail", …) or scripted(ProbeResult, …)."""

    def make(*steps: str | ProbeResult, target: str = "svc.test:1") -> ScriptedProbe:
        table = {"ok": GOOD, "fail": BAD}
        return ScriptedProbe([table[s] if isinstance(s, str) else s for s in steps], target)

    return make


@pytest.fixture
def records() -> Iterable[list[dict[str, Any]]]:
    """Every loguru record logged during the test, as {level, message, extra}."""
    seen: list[dict[str, Any]] = []

    def sink(message: Any) -> None:
        r = message.record
        seen.append({"level": r["level"].name, "message": r["message"], "extra": dict(r["extra"])})

    handler = logger.add(sink, level=0)
    yield seen
    logger.remove(handler)

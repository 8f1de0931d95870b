"""`NetProbe`: one round of every check in parallel, classified online / degraded / offline.

- online: every target answered → a good result;
- degraded: some failed → still a good result for the UP/DOWN machine, marked
  ``degraded=True`` (``--once`` exits 1) with the failing targets in ``details["failed"]``;
- offline: all failed → a failed result (counts towards DOWN).
"""

from __future__ import annotations

import ssl
import statistics
from collections.abc import Sequence

import anyio

from rsdev_misc.monitor import FailureKind, ProbeResult
from rsdev_misc.monitor_net.checks import Check, CheckResult, run_check

__all__ = ["NetProbe"]


class NetProbe:
    """Implements the `Probe` protocol for a set of network checks."""

    def __init__(self, checks: Sequence[Check], *, tls: ssl.SSLContext | None = None) -> None:
        if not checks:
            raise ValueError("at least one target is needed")
        self.checks = tuple(checks)
        self._tls = tls
        self.last: tuple[CheckResult, ...] = ()  # the per-target results of the latest round

    @property
    def target(self) -> str:
        return "net[" + ", ".join(c.name for c in self.checks) + "]"

    async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        results: list[CheckResult | None] = [None] * len(self.checks)

        async def one(i: int, check: Check) -> None:
            results[i] = await run_check(check, timeout, self._tls)

        async with anyio.create_task_group() as tg:
            for i, check in enumerate(self.checks):
                tg.start_soon(one, i, check)
        done = tuple(r for r in results if r is not None)
        self.last = done
        return summarize(done)

    async def aclose(self) -> None:
        """Nothing is kept between rounds (each check opens a fresh connection)."""


def summarize(results: Sequence[CheckResult]) -> ProbeResult:
    """Fold per-target results into one `ProbeResult` (see the module docstring)."""
    good = [r for r in results if r.ok]
    bad = [r for r in results if not r.ok]
    failed = "; ".join(f"{r.check.name}: {r.error}" for r in bad)
    details: dict[str, float | str] = {"targets_ok": f"{len(good)}/{len(results)}"}
    if not good:
        kinds = {r.failure for r in bad}
        failure = kinds.pop() if len(kinds) == 1 else FailureKind.NETWORK
        return ProbeResult(
            ok=False,
            error=f"offline: all {len(bad)} targets failed: {failed}",
            failure=failure,
            details=details,
        )
    latencies = [r.latency_ms for r in good if r.latency_ms is not None]
    if bad:
        details["failed"] = failed
    return ProbeResult(
        ok=True,
        latency_ms=statistics.median(latencies) if latencies else None,
        details=details,
        degraded=bool(bad),
    )

"""One gateway's run: feeder, gateway and client workers up; measured windows; teardown.

A window: the feeder runs at the step's rate for `warmup` seconds, then the harness
announces [t0, t1) (feeder time, ms) to the feeder and the clients half a second ahead.
At t0 and t1 it reads the gateway's CPU time and run-queue wait from /proc (and samples
its RSS every quarter second in between). At t1 the feeder drops to an idle trickle, so a
gateway that fell behind can catch up: the harness waits at least `drain` seconds, then
until the reading clients hold every window message, or each of them has read a message
from after the window (gateways keep each client's order, so nothing of the window is
still coming), or `MAX_DRAIN` passed. A client's expected deliveries are the window's sends of
its symbols; a reading client that got fewer lost the rest (late ones count as latency).

Throughput is what the clients read between t0 and t1 (whatever the messages' times):
the same interval as the CPU reading, so a gateway running behind still gets an honest
CPU cost per delivery.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fanout_lib.control import Child, ChildError
from fanout_lib.gateways import BENCH_DIR, GatewaySpec, LaunchContext, wait_for_port
from fanout_lib.procs import Processes, ProcStats, proc_stats
from fanout_lib.stats import merge_histograms, percentile_ms
from fanout_lib.workload import ClientPlan, Workload, expected_per_client, union_symbols

__all__ = ["GatewayRun", "WindowResult"]

PYCACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rsdev-bench" / "pycache"
)
MAX_DRAIN = 60.0  # seconds after t1 to wait for a lagging gateway's window messages
IDLE_RATE = 20.0  # upstream msgs/s while clients connect: the stream is alive, not loaded
_ANNOUNCE = 0.5  # seconds between announcing a window and its start
_RSS_SAMPLE = 0.25


@dataclass(slots=True)
class WindowResult:
    """What one measured window gave for one gateway."""

    rate: float  # requested upstream messages/s
    achieved_rate: float  # what the feeder really sent in the window
    duration: float
    deliveries: int  # quotes the clients read between t0 and t1 (throughput)
    received: int  # window quotes the reading clients received (by t1 + drain)
    expected: int  # window quotes the reading clients should have received
    lost: int  # reading clients: expected − received, where positive
    extra: int  # reading clients: received − expected, where positive (duplicates)
    disconnected: int  # reading clients whose connection ended
    cpu_s: float  # the gateway process, t0 → t1
    cpu_wait_s: float  # its main thread's time runnable but waiting for a core
    drain_s: float  # how long after t1 the late deliveries were awaited
    client_cpu_s: float
    feeder_cpu_s: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    samples: int
    rss_start: int
    rss_peak: int  # highest VmRSS sampled during the window
    hwm: int  # VmHWM at t1
    slow_dropped: int = 0  # stalled clients whose connection the server ended
    slow_close_codes: dict[str, int] = field(default_factory=dict)  # code → dropped clients
    slow_received: int = 0

    @property
    def deliveries_per_s(self) -> float:
        return self.deliveries / self.duration

    @property
    def cpu_s_per_million(self) -> float | None:
        return self.cpu_s / self.deliveries * 1e6 if self.deliveries else None

    def figures(self) -> dict[str, Any]:
        """The issue's per-gateway object."""
        return {
            "deliveries_per_s": round(self.deliveries_per_s),
            "cpu_s_per_million": _round(self.cpu_s_per_million, 3),
            "p50_ms": _round(self.p50_ms, 3),
            "p99_ms": _round(self.p99_ms, 3),
            "max_ms": _round(self.max_ms, 3),
            "peak_rss_mb": round(self.hwm / 2**20, 1),
            "lost": self.lost,
        }

    def details(self) -> dict[str, Any]:
        """Everything else the window measured."""
        return {
            "rate": self.rate,
            "achieved_rate": round(self.achieved_rate, 1),
            "deliveries": self.deliveries,
            "received": self.received,
            "expected": self.expected,
            "extra": self.extra,
            "disconnected": self.disconnected,
            "cpu_s": round(self.cpu_s, 2),
            "cpu_wait_s": round(self.cpu_wait_s, 2),
            "drain_s": round(self.drain_s, 1),
            "client_cpu_s": round(self.client_cpu_s, 2),
            "feeder_cpu_s": round(self.feeder_cpu_s, 2),
            "latency_samples": self.samples,
            "rss_start_mb": round(self.rss_start / 2**20, 1),
            "rss_peak_window_mb": round(self.rss_peak / 2**20, 1),
            "slow_dropped": self.slow_dropped,
            "slow_close_codes": self.slow_close_codes,
            "slow_received": self.slow_received,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class GatewayRun:
    """Everything one gateway needs, started in `start()` and torn down in `stop()`."""

    def __init__(
        self,
        spec: GatewaySpec,
        workload: Workload,
        plans: Sequence[ClientPlan],
        make_ctx: Callable[[Mapping[str, str]], LaunchContext],
        log_dir: Path,
    ) -> None:
        self.spec = spec
        self.workload = workload
        self.plans = list(plans)
        self.make_ctx = make_ctx
        self.log_dir = log_dir
        self.procs = Processes()
        self.feeder: Child | None = None
        self.workers: list[Child] = []
        self.gateway: asyncio.subprocess.Process | None = None
        self.urls: dict[str, str] = {}
        self._logs: list[Any] = []
        self.timeline: list[tuple[str, float]] = []  # start-up phases, monotonic seconds

    def _log(self, name: str) -> Any:
        handle = (self.log_dir / f"{self.spec.name}.{name}.log").open("wb")
        self._logs.append(handle)
        return handle

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        # byte-code cache outside the source tree: with PYTHONDONTWRITEBYTECODE every
        # process would recompile all it imports (10 s of restream start-up here)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        return env

    async def _child(self, name: str, module: str) -> Child:
        proc = await self.procs.start(
            [sys.executable, "-m", module],
            env=self._env(),
            stderr=self._log(name).fileno(),
            pipes=True,
            limit=Child.line_limit(),
        )
        return Child(f"{self.spec.name}/{name}", proc)

    async def start(self) -> None:
        """Feeder, gateway, client workers; returns once every client is subscribed."""
        w = self.workload
        symbols = union_symbols(self.plans)
        # the feeder and the client workers import and start while each other boots
        self.feeder, *self.workers = await asyncio.gather(
            self._child("feeder", "fanout_lib.feeder"),
            *(self._child(f"clients{i}", "fanout_lib.clients") for i in range(w.workers)),
        )
        self.urls = await self.feeder.request(
            {"cmd": "setup", "symbols": symbols, "seed": w.seed, "rate": IDLE_RATE}, 60
        )
        ctx = self.make_ctx(self.urls)
        log = self._log("gateway")
        log_path = Path(log.name)
        self.gateway = await self.procs.start(
            self.spec.argv(ctx),
            env=self.spec.env(ctx, self._env()),
            stdout=log.fileno(),
            stderr=log.fileno(),
        )
        port = await wait_for_port(log_path, self.gateway)
        self.timeline.append(("gateway listening", time.monotonic()))
        shares: list[list[list[Any]]] = [[] for _ in self.workers]
        for plan in self.plans:
            shares[plan.cid % len(self.workers)].append([plan.cid, list(plan.symbols), plan.slow])
        connect_timeout = 30 + w.clients / 20
        answers = await asyncio.gather(
            *(
                worker.request(
                    {
                        "cmd": "connect",
                        "host": "127.0.0.1",
                        "port": port,
                        "path": "/ws",
                        "lat_key": self.spec.lat_key,
                        "clients": share,
                    },
                    connect_timeout,
                )
                for worker, share in zip(self.workers, shares, strict=True)
            )
        )
        failed = sum(a["failed"] for a in answers)
        if failed:
            errors = [e for a in answers for e in a["errors"]][:3]
            raise ChildError(f"{failed} of {w.clients} clients could not connect: {errors}")
        self.timeline.append(("clients connected", time.monotonic()))
        await self._wait_subscribed(len(symbols))
        self.timeline.append(("upstream subscribed", time.monotonic()))

    async def _wait_subscribed(self, symbols: int, limit_s: float = 30.0) -> None:
        assert self.feeder is not None
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            status = await self.feeder.request({"cmd": "status"}, 10)
            if self.spec.kind == "restream":
                if status["yahoo_subscribed"] >= symbols:
                    return
            elif status["json_consumers"] >= 1:
                return
            await asyncio.sleep(0.2)
        raise ChildError(f"{self.spec.name}: upstream not subscribed to all {symbols} symbols")

    def _stats(self, pid: int) -> ProcStats:
        try:
            return proc_stats(pid)
        except OSError:
            return ProcStats(0.0, 0, 0)

    async def window(
        self, rate: float, *, stall: bool = False, duration: float | None = None
    ) -> WindowResult:
        """Run the feeder at `rate`, measure one window (with `stall`: slow clients stop)."""
        assert self.feeder is not None
        assert self.gateway is not None
        w = self.workload
        await self.feeder.request({"cmd": "rate", "rate": rate}, 10)
        await asyncio.sleep(w.warmup)
        t0_ms = int(time.time() * 1000 + _ANNOUNCE * 1000)
        duration = duration or w.duration
        t1_ms = t0_ms + int(duration * 1000)
        announce = {"cmd": "window", "t0_ms": t0_ms, "t1_ms": t1_ms, "stall": stall}
        await asyncio.gather(
            self.feeder.request(announce, 10), *(c.request(announce, 10) for c in self.workers)
        )
        await _sleep_until(t0_ms / 1000)
        gw_pid = self.gateway.pid
        others = [self.feeder.proc.pid, *(c.proc.pid for c in self.workers)]
        g0 = self._stats(gw_pid)
        q0 = _run_queue_wait(gw_pid)
        o0 = [self._stats(pid).cpu_s for pid in others]
        rss_peak = g0.rss
        while (left := t1_ms / 1000 - time.time()) > 0:
            await asyncio.sleep(min(_RSS_SAMPLE, left))
            rss_peak = max(rss_peak, self._stats(gw_pid).rss)
        g1 = self._stats(gw_pid)
        q1 = _run_queue_wait(gw_pid)
        o1 = [self._stats(pid).cpu_s for pid in others]
        await self.feeder.request({"cmd": "rate", "rate": IDLE_RATE}, 10)
        if self.gateway.returncode is not None:
            raise ChildError(f"{self.spec.name} exited ({self.gateway.returncode}) in the window")
        feed = await self.feeder.request({"cmd": "report"}, 30)
        want = sum(
            n
            for cid, n in expected_per_client(self.plans, feed["counts"]).items()
            if not (stall and self.plans[cid].slow)
        )
        drain_s = await self._drain(t1_ms / 1000, want)
        if stall:
            await self._resume_stalled()
        reports = await asyncio.gather(*(c.request({"cmd": "report"}, 60) for c in self.workers))
        r = self._result(rate, duration, feed, reports, g0, g1, rss_peak, o0, o1)
        r.cpu_wait_s = q1 - q0
        r.drain_s = drain_s
        return r

    async def _resume_stalled(self, limit_s: float = 20.0) -> None:
        """Let the stalled clients read again until each is dropped or caught up."""
        await asyncio.gather(*(c.request({"cmd": "resume"}, 10) for c in self.workers))
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            answers = await asyncio.gather(
                *(c.request({"cmd": "progress"}, 30) for c in self.workers)
            )
            if not any(a["stalled_pending"] for a in answers):
                return
            await asyncio.sleep(0.5)

    async def _drain(self, t1: float, want: int) -> float:
        """Wait for the window's late deliveries; seconds waited after t1."""
        await _sleep_until(t1 + self.workload.drain)
        while time.time() - t1 < MAX_DRAIN:
            answers = await asyncio.gather(
                *(c.request({"cmd": "progress"}, 30) for c in self.workers)
            )
            if sum(a["in_window"] for a in answers) >= want:
                break
            if not any(a["behind"] for a in answers):
                break
            await asyncio.sleep(0.5)
        return time.time() - t1

    def _result(
        self,
        rate: float,
        duration: float,
        feed: dict[str, Any],
        reports: Sequence[dict[str, Any]],
        g0: ProcStats,
        g1: ProcStats,
        rss_peak: int,
        o0: Sequence[float],
        o1: Sequence[float],
    ) -> WindowResult:
        expected = expected_per_client(self.plans, feed["counts"])
        received: dict[int, int] = {}
        closed: dict[int, int | None] = {}
        stalled: set[int] = set()
        dropped: set[int] = set()
        for report in reports:
            received.update({int(k): v for k, v in report["counts"].items()})
            closed.update({int(k): v for k, v in report["closed"].items()})
            stalled.update(report["stalled"])
            dropped.update(report["dropped"])
        lost = extra = disconnected = exp_total = slow_received = slow_dropped = got_total = 0
        codes: Counter[str] = Counter()
        for plan in self.plans:
            got = received.get(plan.cid, 0)
            if plan.cid in stalled:
                slow_received += got
                if plan.cid in dropped:
                    slow_dropped += 1
                    codes[str(closed.get(plan.cid) or "no close frame")] += 1
                continue
            want = expected[plan.cid]
            exp_total += want
            got_total += got
            lost += max(0, want - got)
            extra += max(0, got - want)
            disconnected += plan.cid in closed or plan.cid in dropped
        hist = merge_histograms(r["hist"] for r in reports)
        worst = max((r["max_us"] for r in reports), default=0)
        samples = sum(r["n"] for r in reports)
        feeder_cpu = o1[0] - o0[0]
        client_cpu = sum(o1[1:]) - sum(o0[1:])
        return WindowResult(
            rate=rate,
            achieved_rate=feed["window_sent"] / duration,
            duration=duration,
            deliveries=sum(r["arrived"] for r in reports),
            received=got_total,
            expected=exp_total,
            lost=lost,
            extra=extra,
            disconnected=disconnected,
            cpu_s=g1.cpu_s - g0.cpu_s,
            cpu_wait_s=0.0,
            drain_s=0.0,
            client_cpu_s=client_cpu,
            feeder_cpu_s=feeder_cpu,
            p50_ms=percentile_ms(hist, 50),
            p99_ms=percentile_ms(hist, 99),
            max_ms=worst / 1000 if samples else None,
            samples=samples,
            rss_start=g0.rss,
            rss_peak=rss_peak,
            hwm=g1.hwm,
            slow_dropped=slow_dropped,
            slow_close_codes=dict(codes),
            slow_received=slow_received,
        )

    async def stop(self) -> None:
        """Stop every process of this run (process groups), close the logs."""
        await self.procs.stop_all()
        for handle in self._logs:
            handle.close()
        self._logs.clear()

    def kill_now(self) -> None:
        self.procs.kill_all_now()


def _run_queue_wait(pid: int) -> float:
    """Seconds the process's main thread spent runnable, waiting for a CPU (schedstat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


async def _sleep_until(wall: float) -> None:
    delay = wall - time.time()
    if delay > 0:
        await asyncio.sleep(delay)

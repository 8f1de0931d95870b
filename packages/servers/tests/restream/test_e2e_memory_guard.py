"""The memory guard under load, end to end: a real restream process, real sockets.

Issue 4's acceptance test. Budget 16 MiB; 50 clients that never read (25 `low`, 25
`normal` priority) and 51 that read (a reference client on every symbol, 40 plain
readers on a few symbols each, 10 slow conflating readers on every symbol); the
simulator streams 2,000 quotes/s for 20 s. Then:

- the process's peak RSS grew by less than budget + 32 MiB;
- every never-reader was evicted, every `low` one before any `normal` one (memory
  pressure evicts the lowest priority first), and no reading client was;
- every reading client got every quote of its symbols, in order: the reference's quotes
  are exactly the simulator's random walk, step by step (the walk is seeded, so a second
  `Market` replays it), and every plain reader's per-symbol stream is byte-identical to
  the reference's;
- conflating readers end with the latest value of each symbol;
- each quote was encoded once, not once per client.

A `stall` fault on the simulator brackets the load: nothing flows while the clients
connect, and after the window the final values are fixed and known. The simulator runs
in the test's event loop; on a loaded machine it produces fewer than 2,000 quotes/s, so
every count is checked against what it actually generated (printed with `-s`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lib_common.sim import Fault, SimConfig, run_simulator
from lib_common.sim.market import Market

from ..conftest import RestreamProcess
from .raw_clients import NeverReader, QuoteReader

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

T = TypeVar("T")

MiB = 1024 * 1024
SEED = 4
RATE = 2000  # quotes/s from the simulator, round-robin over all symbols
LOAD_SECONDS = 20.0
BUDGET = 16 * MiB
CLIENT_CAP = 2 * MiB  # 8 fit the budget: the last few never-readers pass their own cap
RSS_GROWTH_LIMIT = BUDGET + 32 * MiB
# Crypto trades around the clock: the test does not depend on the NYSE calendar.
SYMBOLS = [f"{coin}-USD" for coin in ("BTC", "ETH", "SOL", "XRP", "DOGE")] + [
    f"Z{i:02d}-USD" for i in range(15)
]
NEVER_READERS = 50  # alternating low / normal, each on every symbol (~1 MB/s of backlog)
READERS = 40  # plain readers, on SYMBOLS_PER_READER symbols each
SYMBOLS_PER_READER = 4
CONFLATERS = 10  # ?conflate=1 on every symbol, reading ~200 KB/s of ~1 MB/s during the load
SLOW_PACE = (4096, 0.02)  # bytes per read, seconds between reads
SLOW_RCVBUF = 16 * 1024  # a small window: the backlog stays on restream's side
SUBSCRIBERS_PER_QUOTE = 1 + READERS * SYMBOLS_PER_READER // len(SYMBOLS) + CONFLATERS
EVICTED = re.compile(r"client \d+ 127\.0\.0\.1:(\d+) dropped \((\w+), \d+ bytes buffered\)")


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak RSS) of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


async def _metrics(http: httpx.AsyncClient) -> dict[str, float]:
    """The restream_* samples of /metrics, keyed `name` or `name{label=value}`."""
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families((await http.get("/metrics")).text):
        for sample in family.samples:
            if sample.name.startswith("restream_"):
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def _evictions(log_path: Path) -> list[tuple[int, str, float]]:
    """(client port, reason, epoch seconds) of every eviction restream logged, in order."""
    evictions = []
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            match = EVICTED.fullmatch(record["message"])
            if match:
                evictions.append((int(match[1]), match[2], record["ts_us"] / 1e6))
    return evictions


def _walk(symbol: str, steps: int) -> list[tuple[int | None, float]]:
    """(day_volume, price) of the simulator's first `steps` quotes of `symbol`."""
    market = Market(SEED, time.time, frozenset())
    return [(q.day_volume, q.price) for q in (market.step(symbol) for _ in range(steps))]


def _reader_symbols(i: int) -> list[str]:
    """Plain reader i's symbols: consecutive, wrapping, so each symbol has 8 readers."""
    return [SYMBOLS[(i * SYMBOLS_PER_READER + k) % len(SYMBOLS)] for k in range(SYMBOLS_PER_READER)]


async def _gather(*openers: Callable[[], Awaitable[T]]) -> list[T]:
    """Run the openers concurrently, a few at a time; their results in order."""
    results: dict[int, T] = {}
    limit = anyio.CapacityLimiter(10)

    async def run(i: int, opener: Callable[[], Awaitable[T]]) -> None:
        async with limit:
            results[i] = await opener()

    async with anyio.create_task_group() as tg:
        for i, opener in enumerate(openers):
            tg.start_soon(run, i, opener)
    return [results[i] for i in range(len(openers))]


async def _poll(check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Wait for a condition only an HTTP poll or a stats call can see."""
    with anyio.fail_after(within):
        while True:
            if await check():
                return
            await anyio.sleep(0.05)


async def test_memory_guard_under_load(
    start_restream: Callable[..., RestreamProcess],
) -> None:
    """2,000 quotes/s for 20 s to 50 never-readers and 51 readers under a 16 MiB budget:
    bounded RSS, never-readers evicted low priority first, readers get every quote in
    order, conflating readers the latest values, one encode per quote."""
    t0 = time.monotonic()
    async with run_simulator(SimConfig(rate=RATE, seed=SEED)) as sim:
        sim.inject(Fault("stall"))  # nothing flows until every client is in place
        args = (
            "--upstream-ws", sim.ws_url,
            "--upstream-rest", sim.base_url,
            "--cnn-url", sim.base_url,
            "--memory-budget", str(BUDGET),
            "--max-client-buffer", str(CLIENT_CAP),
            "--inactivity-timeout", "0",  # the stalls are ours: no redial, no polling
            "--log-json",
        )  # fmt: skip
        restream = await anyio.to_thread.run_sync(lambda: start_restream(*args))
        port = restream.port
        async with (
            httpx.AsyncClient(base_url=restream.url, timeout=10) as http,
            AsyncExitStack() as sockets,
            anyio.create_task_group() as tg,
        ):
            reference, *readers = await _gather(
                partial(QuoteReader.open, port, SYMBOLS, name="reference", keep_payloads=True),
                *(
                    partial(QuoteReader.open, port, _reader_symbols(i), name=f"reader-{i}")
                    for i in range(READERS)
                ),
            )
            conflaters = await _gather(
                *(
                    partial(
                        QuoteReader.open,
                        port,
                        SYMBOLS,
                        name=f"conflater-{i}",
                        query="?conflate=1",
                        rcvbuf=SLOW_RCVBUF,
                        pace=SLOW_PACE,
                    )
                    for i in range(CONFLATERS)
                )
            )
            never = await _gather(
                *(
                    partial(NeverReader.open, port, SYMBOLS, priority=("low", "normal")[i % 2])
                    for i in range(NEVER_READERS)
                )
            )
            for client in never:
                sockets.push_async_callback(client.aclose)
            reading = [reference, *readers, *conflaters]
            for reader in reading:
                tg.start_soon(reader.run)

            async def all_subscribed() -> bool:
                held = (await http.get("/health")).json()["symbols"]["clients"]
                return bool(held == len(reading) + len(never))

            async def upstream_subscribed() -> bool:
                return set(sim.stats()["subscribed"]) == set(SYMBOLS)

            await _poll(all_subscribed, within=20)
            await _poll(upstream_subscribed, within=10)
            before = await _metrics(http)
            rss_before = _memory(restream.pid)["VmRSS"]
            setup = time.monotonic() - t0

            sim.clear_faults()
            started, started_wall = time.monotonic(), time.time()
            await anyio.sleep(LOAD_SECONDS)  # the load window: a duration, not a wait
            sim.inject(Fault("stall"))
            window = time.monotonic() - started
            generated = sim.stats()["quotes_generated"]
            final = {s: sim.market.state(s) for s in SYMBOLS}

            for reader in conflaters:  # the backlog in the kernel's buffers, at full speed
                reader.hurry()
            for reader in reading:  # everything sent is on its way: wait for it
                wanted = {s: final[s].day_volume for s in reader.subscribed}
                await reader.wait_for_volumes(wanted, within=20)
            dropped = [False] * len(never)

            async def watch(i: int) -> None:
                dropped[i] = await never[i].wait_dropped(within=10)

            async with anyio.create_task_group() as watchers:
                for i in range(len(never)):
                    watchers.start_soon(watch, i)
            after = await _metrics(http)
            clients = (await http.get("/health")).json()["clients"]["total"]
            peak = _memory(restream.pid)["VmHWM"]
            tg.cancel_scope.cancel()
        evictions = _evictions(restream.log_path)

    growth = peak - rss_before
    priority = {n.port: n.priority for n in never}
    order = [priority.get(port, "READER") for port, _, _ in evictions]
    evicted_at = [at - started_wall for _, _, at in evictions] or [float("nan")]
    quotes = after["restream_quotes_in_total{source=stream}"] - before.get(
        "restream_quotes_in_total{source=stream}", 0.0
    )
    encodes = after["restream_encodes_total"] - before["restream_encodes_total"]
    deliveries = after["restream_deliveries_total"] - before["restream_deliveries_total"]
    counts = [sum(log.count for log in r.symbols.values()) for r in reading]
    print(
        f"\nsetup {setup:.1f} s, window {window:.2f} s: {generated} quotes"
        f" ({generated / window:.0f}/s), {encodes:.0f} encodes, {deliveries:.0f} deliveries"
        f"\nRSS {rss_before / MiB:.1f} MiB before, peak {peak / MiB:.1f} MiB:"
        f" growth {growth / MiB:.1f} MiB (limit {RSS_GROWTH_LIMIT / MiB:.0f});"
        f" guarded peak {after['restream_guarded_bytes_peak'] / MiB:.1f} MiB"
        f"\nevictions in order, {evicted_at[0]:.1f}..{evicted_at[-1]:.1f} s into the load:"
        f" {' '.join(p[0] for p in order)}"
        f"\n  memory_pressure {after['restream_evictions_total{reason=memory_pressure}']:.0f},"
        f" slow_consumer {after['restream_evictions_total{reason=slow_consumer}']:.0f}"
        f"\nquotes received: reference {counts[0]}, readers {min(counts[1 : READERS + 1])}"
        f"..{max(counts[1 : READERS + 1])}, conflaters {min(counts[READERS + 1 :])}"
        f"..{max(counts[READERS + 1 :])} ({after['restream_conflated_total']:.0f} conflated)"
        f"\ntotal {time.monotonic() - t0:.1f} s"
    )

    # Memory: the peak RSS stayed within budget + 32 MiB of the RSS before the load.
    assert growth < RSS_GROWTH_LIMIT, (growth, rss_before, peak)

    # Every never-reader was evicted and its connection ended; no reader was evicted;
    # every low-priority one went (for memory pressure) before any normal one.
    assert sorted(priority) == sorted(port for port, _, _ in evictions), order
    assert all(dropped), f"{dropped.count(False)} never-readers still connected"
    assert max(i for i, p in enumerate(order) if p == "low") < order.index("normal"), order
    assert {"memory_pressure"} == {r for port, r, _ in evictions if priority[port] == "low"}
    assert len(reading) == clients
    assert [] == [m for r in reading for m in r.others if m["type"] == "error"]

    # The reference got exactly the simulator's walk, step by step, for every symbol.
    assert generated == quotes == sum(final[s].steps for s in SYMBOLS)
    for symbol in SYMBOLS:
        received = [json.loads(p) for p in reference.payloads[symbol]]
        assert _walk(symbol, final[symbol].steps) == [
            (q["day_volume"], q["price"]) for q in received
        ], symbol
        stamps = [q["ts_upstream"] for q in received]
        assert sorted(stamps) == stamps, symbol

    # Every plain reader got the same bytes, in the same order, as the reference.
    expected = reference.digests()
    for reader in readers:
        assert not reader.ended, reader.name
        assert {s: expected[s] for s in reader.subscribed} == reader.digests(), reader.name

    # Conflating readers: fewer quotes, in order, ending with the latest of each symbol.
    assert after["restream_conflated_total"] > 0
    for reader in conflaters:
        assert not reader.ended, reader.name
        for symbol in SYMBOLS:
            log = reader.symbols[symbol]
            assert 0 == log.out_of_order, (reader.name, symbol)
            assert log.count <= expected[symbol][0], (reader.name, symbol)
            assert reference.symbols[symbol].last == log.last, (reader.name, symbol)

    # One encode per quote, however many clients: deliveries are per client.
    assert quotes <= encodes <= quotes + 10, (quotes, encodes)
    assert deliveries >= SUBSCRIBERS_PER_QUOTE * quotes, (deliveries, quotes)

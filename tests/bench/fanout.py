"""Fan-out: restream against websockets.broadcast, node ws and a raw asyncio limit.

    uv run python tests/bench/fanout.py --quick                  # ~1 minute, all four
    uv run python tests/bench/fanout.py                          # the full workload
    uv run python tests/bench/fanout.py --gateways restream,raw_limit --json
    uv run python tests/bench/fanout.py --saturate [--quick]     # max sustainable rate
    uv run python tests/bench/fanout.py --storm [--quick]        # 20 % of clients stop reading

The same workload runs against each gateway in turn, every part in its own process on
127.0.0.1: a feeder (`fanout_lib.feeder`) sends `--rate` upstream messages per second
round-robin over the symbols the clients want — Yahoo-protocol frames to restream, JSON
quotes to the peers; `--clients` lean WebSocket clients spread over `--workers` processes
each subscribe to `--per-client` of `--symbols` symbols with restream's protocol. After a
warm-up, one window of `--duration` seconds is measured: deliveries per second, the
gateway process's own CPU seconds (utime + stime from /proc) per million deliveries,
latency percentiles (client receive time − `ts_library_in` for restream, − the feeder's
send time for the peers), the gateway's peak RSS (VmHWM) and messages lost by reading
clients (the feeder's per-symbol sends in the window vs what each client counted).

The peers are built here, not installed: `fanout_lib/gateway_broadcast.py`,
`fanout_lib/gateway_node_ws.js` (its `ws` package is npm-installed into a temporary folder
for the run) and `fanout_lib/gateway_raw.py`. Every process is started in its own process
group and killed on exit, error or Ctrl-C. Results: docs/benchmarks.md, "Fan-out".
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fanout_lib.control import ChildError
from fanout_lib.gateways import GATEWAYS, LaunchContext, install_node_ws
from fanout_lib.harness import GatewayRun, WindowResult
from fanout_lib.report import (
    SaturationStep,
    calm_json,
    calm_tables,
    saturation_json,
    saturation_table,
    storm_json,
    storm_table,
)
from fanout_lib.workload import Workload, default_workers, plan_clients

_RUNS: list[GatewayRun] = []


# Defaults per mode and size; every one can be overridden by its flag.
#   calm: the workload. saturate: starts low, the peers saturate early here.
#   storm: fewer clients with more symbols each, so that a stalled client is sent about
#   80 KB/s and overflows the ~3 MB the kernel buffers per socket within the window.
DEFAULTS: dict[tuple[str, bool], dict[str, float]] = {
    ("calm", False): {"clients": 1000, "per_client": 50, "rate": 2000, "duration": 20},
    ("calm", True): {"clients": 100, "per_client": 50, "rate": 500, "duration": 6},
    ("saturate", False): {"clients": 1000, "per_client": 50, "rate": 250, "duration": 10},
    ("saturate", True): {"clients": 100, "per_client": 50, "rate": 250, "duration": 6},
    ("storm", False): {"clients": 200, "per_client": 200, "rate": 500, "duration": 20},
    ("storm", True): {"clients": 100, "per_client": 200, "rate": 500, "duration": 6},
}
STORM_DURATION = {False: 60.0, True: 40.0}


def _mode(args: argparse.Namespace) -> str:
    return "saturate" if args.saturate else "storm" if args.storm else "calm"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Defaults per mode (full / --quick): calm 1000 / 100 clients × 50 of 500 "
        "symbols at 2000 / 500 msgs/s, 20 / 6 s; --saturate the same clients from 250 "
        "msgs/s up, 10 / 6 s steps; --storm 200 / 100 clients × 200 of 500 symbols at 500 "
        "msgs/s, calm 20 / 6 s then stalled 60 / 40 s. Details: docs/benchmarks.md.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--saturate",
        action="store_true",
        help="raise the upstream rate step by step (from --rate, × --step-factor) until "
        "p99 > --p99-limit-ms or a reading client misses a message; report the max "
        "sustainable rate of each gateway",
    )
    mode.add_argument(
        "--storm",
        action="store_true",
        help="a calm window, then a window where --slow-fraction of the clients "
        "stop reading: the server's RSS growth and the fast clients' p99",
    )
    p.add_argument("--quick", action="store_true", help="the small version of the mode")
    p.add_argument(
        "--gateways",
        default=",".join(GATEWAYS),
        help=f"comma-separated subset of: {', '.join(GATEWAYS)} (default: all)",
    )
    p.add_argument("--clients", type=int, help="WebSocket clients")
    p.add_argument("--symbols", type=int, default=500, help="symbols in the universe (500)")
    p.add_argument("--per-client", type=int, help="symbols each client subscribes to")
    p.add_argument(
        "--rate",
        type=float,
        help="upstream messages/s, all symbols together (--saturate: the first step)",
    )
    p.add_argument("--duration", type=float, help="measured window, seconds")
    p.add_argument("--warmup", type=float, help="seconds of traffic before a window (3; quick 1)")
    p.add_argument(
        "--drain",
        type=float,
        help="seconds to wait after a window at least (3; quick 2); a gateway that is "
        "behind gets up to 60 s to deliver the window's messages",
    )
    p.add_argument("--workers", type=int, help="client processes (default: 1 per 250 clients, 2–8)")
    p.add_argument("--seed", type=int, default=1, help="seeds subscriptions and prices (1)")
    p.add_argument(
        "--storm-duration",
        type=float,
        help="--storm: the stalled window, seconds (60; quick 40): a stalled socket's "
        "kernel buffers hold about 3 MB before the server has to buffer anything",
    )
    p.add_argument(
        "--slow-fraction",
        type=float,
        default=0.2,
        help="--storm: share of clients that stop reading (0.2)",
    )
    p.add_argument(
        "--memory-budget",
        default=None,
        metavar="BYTES",
        help="restream --memory-budget (default: restream's own, 64MiB)",
    )
    p.add_argument(
        "--max-client-buffer",
        default=None,
        metavar="BYTES",
        help="restream --max-client-buffer (default: restream's own, 8MiB)",
    )
    p.add_argument(
        "--p99-limit-ms",
        type=float,
        default=50.0,
        help="--saturate: a step holds while p99 stays at or under this (50)",
    )
    p.add_argument(
        "--step-factor", type=float, default=1.5, help="--saturate: rate multiplier per step (1.5)"
    )
    p.add_argument("--max-steps", type=int, default=10, help="--saturate: steps per gateway (10)")
    p.add_argument(
        "--log-dir",
        type=Path,
        help="keep every process's log here (default: a temporary folder, removed)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.gateways.split(",") if n.strip()]
    unknown = [n for n in names if n not in GATEWAYS]
    if unknown or not names:
        p.error(f"unknown gateway(s) {unknown}; choose from {', '.join(GATEWAYS)}")
    args.gateway_names = names
    if args.storm_duration is None:
        args.storm_duration = STORM_DURATION[args.quick]
    return args


def build_workload(args: argparse.Namespace) -> Workload:
    quick = args.quick
    d = DEFAULTS[_mode(args), quick]
    clients = args.clients or int(d["clients"])
    w = Workload(
        clients=clients,
        symbols=args.symbols,
        per_client=args.per_client or int(d["per_client"]),
        rate=float(args.rate or d["rate"]),
        duration=float(args.duration or d["duration"]),
        warmup=args.warmup if args.warmup is not None else (1.0 if quick else 3.0),
        drain=args.drain if args.drain is not None else (2.0 if quick else 3.0),
        workers=args.workers or default_workers(clients),
        seed=args.seed,
        slow_fraction=args.slow_fraction if args.storm else 0.0,
    )
    if not 0 < w.per_client <= w.symbols:
        raise SystemExit("--per-client must be between 1 and --symbols")
    return w


def machine() -> dict[str, Any]:
    node = "missing"
    if shutil.which("node"):
        node = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "node": node,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def progress(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


async def run_gateway(
    name: str, w: Workload, args: argparse.Namespace, log_dir: Path, node_modules: Path | None
) -> Any:
    """One gateway in the selected mode; returns its outcome (or raises ChildError)."""
    spec = GATEWAYS[name]
    plans = plan_clients(w)

    def make_ctx(urls: Mapping[str, str]) -> LaunchContext:
        return LaunchContext(urls, node_modules, args.memory_budget, args.max_client_buffer)

    run = GatewayRun(spec, w, plans, make_ctx, log_dir)
    _RUNS.append(run)
    quiet = args.json
    try:
        t = time.monotonic()
        await run.start()
        phases = ", ".join(f"{what} {at - t:.1f}s" for what, at in run.timeline)
        progress(quiet, f"  {name}: {phases}")
        if args.storm:
            calm = await run.window(w.rate)
            progress(quiet, f"  {name}: calm p99 {calm.p99_ms} ms; storm…")
            storm = await run.window(w.rate, stall=True, duration=args.storm_duration)
            return calm, storm
        if args.saturate:
            steps: list[SaturationStep] = []
            rate = w.rate
            for _ in range(args.max_steps):
                r = await run.window(rate)
                reason = verdict(r, args.p99_limit_ms)
                steps.append(SaturationStep(r, not reason, reason))
                progress(
                    quiet,
                    f"  {name}: {rate:,.0f} msgs/s → p99 {r.p99_ms} ms, lost "
                    f"{r.lost}, {reason or 'holds'}",
                )
                if reason:
                    break
                rate = round(rate * args.step_factor)
            return steps
        return await run.window(w.rate)
    finally:
        await run.stop()
        _RUNS.remove(run)


def one_line(text: str) -> str:
    """A failure for a table cell: the first line, and the last when there are more."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()] or ["?"]
    short = lines[0][:120]
    if len(lines) > 1:
        short += " … " + lines[-1][:160]
    return short.replace("|", "/")


def verdict(r: WindowResult, p99_limit: float) -> str:
    """Why a saturation step fails ('' when it holds)."""
    if r.disconnected:
        return f"{r.disconnected} clients disconnected"
    if r.lost:
        return f"{r.lost:,} messages lost"
    if r.p99_ms is None or r.p99_ms > p99_limit:
        return f"p99 {r.p99_ms} ms > {p99_limit:g} ms"
    if r.achieved_rate < 0.95 * r.rate:
        return f"feeder sent only {r.achieved_rate:,.0f} msgs/s"
    return ""


async def main(args: argparse.Namespace) -> int:
    w = build_workload(args)
    info = {**w.as_json(), "machine": machine()}
    quiet = args.json
    keep = args.log_dir is not None
    base = args.log_dir or Path(tempfile.mkdtemp(prefix="rsdev-fanout-"))
    base.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Any] = {}
    try:
        node_modules: Path | None = None
        if "node_ws" in args.gateway_names:
            try:
                node_modules = await install_node_ws(base / "node")
            except (OSError, RuntimeError) as exc:
                outcomes["node_ws"] = f"npm install failed: {exc}"
        for name in args.gateway_names:
            if name in outcomes:
                continue
            progress(quiet, f"{name}…")
            try:
                outcomes[name] = await run_gateway(name, w, args, base, node_modules)
            except (ChildError, OSError, RuntimeError) as exc:
                outcomes[name] = one_line(str(exc))
                progress(quiet, f"  {name} failed: {exc}\n  (logs: {base})")
                keep = True
        outcomes = {n: outcomes[n] for n in args.gateway_names}
        emit(args, info, outcomes)
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
        elif not quiet:
            print(f"logs: {base}", file=sys.stderr)
    return 0 if all(not isinstance(o, str) for o in outcomes.values()) else 1


def emit(args: argparse.Namespace, info: dict[str, Any], outcomes: dict[str, Any]) -> None:
    budget_mb = _mib(args.memory_budget) if args.memory_budget else 64.0
    if args.json:
        if args.saturate:
            obj = saturation_json(info, outcomes)
        elif args.storm:
            obj = storm_json(info, outcomes, budget_mb)
        else:
            obj = calm_json(info, outcomes)
        print(json.dumps(obj, indent=2))
        return
    m = info["machine"]
    print(
        f"\nworkload: {info['clients']} clients × {info['per_client']} of {info['symbols']} "
        f"symbols, {info['rate']:g} upstream msgs/s (≈{info['expected_deliveries_per_s']:,} "
        f"deliveries/s), {info['duration']:g} s windows, {info['workers']} client processes\n"
        f"machine: {m['cores']} cores, Python {m['python']}, node {m['node']}, "
        f"load average at start {m['loadavg_at_start']}\n"
    )
    if args.saturate:
        print(saturation_table(outcomes))
    elif args.storm:
        print(storm_table(outcomes, budget_mb if "restream" in outcomes else None))
    else:
        print(calm_tables(outcomes))


def _mib(text: str) -> float:
    units = {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "KB": 1e3, "MB": 1e6, "GB": 1e9}
    upper = text.strip().upper()
    for unit, size in units.items():
        if upper.endswith(unit):
            return float(upper[: -len(unit)]) * size / 2**20
    return float(upper) / 2**20


def _kill_everything() -> None:
    for run in _RUNS:
        run.kill_now()


def cli() -> int:
    args = parse_args()
    atexit.register(_kill_everything)

    async def guarded() -> int:
        task = asyncio.current_task()
        assert task is not None
        terminated: list[bool] = []

        def on_term() -> None:
            terminated.append(True)
            task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_term)
        try:
            return await main(args)
        except asyncio.CancelledError:
            if terminated:  # the processes were stopped on the way out
                print("terminated", file=sys.stderr)
                return 143
            raise

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(guarded())
    return 130


if __name__ == "__main__":
    sys.exit(cli())

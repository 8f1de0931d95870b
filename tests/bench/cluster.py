"""Cluster throughput: deliveries/s and latency through restream nodes sharing one upstream.

    uv run python tests/bench/cluster.py                     # 2 nodes vs 1 plain restream
    uv run python tests/bench/cluster.py --nodes 3 --rate 2000 --clients 400 --json

Everything runs on 127.0.0.1, each part in its own process: a throwaway redis-server
(no persistence), a `yahoo-sim` sending `--rate` quotes per second round-robin over the
symbols the clients want, `--nodes` restream processes joined with `--cluster`, and
`--workers` client processes holding `--clients` WebSocket clients spread evenly over the
nodes, each subscribed to `--per-client` of `--symbols` symbols. After `--warmup` seconds
one window of `--duration` seconds is measured: deliveries per second (quotes received by
all clients), latency percentiles end to end (client receive − `ts_library_in`, i.e. from
the leader reading the upstream frame), split into leader (`ts_bus − ts_library_in`), bus
hop and node dispatch (`ts_library_out − ts_bus`) and client side (receive −
`ts_library_out`), and the CPU seconds each process used per million deliveries (leader,
followers, Redis). `--single` (default on) measures the same workload against one plain
restream first, for the ratio. Results: docs/benchmarks.md, "Cluster".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PY = sys.executable
TICK = os.sysconf("SC_CLK_TCK")
SIM_MAIN = "import sys; from lib_common.sim.cli import main; sys.exit(main())"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=2, help="cluster nodes (2)")
    p.add_argument("--clients", type=int, default=200, help="WebSocket clients in all (200)")
    p.add_argument("--symbols", type=int, default=100, help="symbols in the universe (100)")
    p.add_argument("--per-client", type=int, default=10, help="symbols per client (10)")
    p.add_argument("--rate", type=float, default=1000, help="upstream quotes/s (1000)")
    p.add_argument("--duration", type=float, default=10, help="measured window, s (10)")
    p.add_argument("--warmup", type=float, default=4, help="traffic before the window, s (4)")
    p.add_argument("--workers", type=int, default=2, help="client processes (2)")
    p.add_argument("--ttl", type=float, default=5, help="--cluster-ttl of the nodes (5)")
    p.add_argument("--seed", type=int, default=1, help="seeds subscriptions and prices (1)")
    p.add_argument(
        "--no-single", action="store_true", help="skip the plain single-restream baseline"
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run as a client process
    return p.parse_args(argv)


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    url: str = ""

    def read_line(self, timeout: float = 60) -> str:
        assert self.popen.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.popen.stdout, selectors.EVENT_READ)
            line = b""
            deadline = time.monotonic() + timeout
            while not line.endswith(b"\n"):
                if not sel.select(max(0.0, deadline - time.monotonic())):
                    raise RuntimeError(f"{self.name}: no output in {timeout} s")
                chunk = os.read(self.popen.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"{self.name} exited ({self.popen.wait()})")
                line += chunk
        return line.decode().strip()


@dataclass
class Stack:
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], **kwargs: Any) -> Proc:
        """Start a process in its own process group (stopped with the whole group)."""
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=kwargs.pop("stderr", subprocess.DEVNULL),
            start_new_session=True,
            **kwargs,
        )
        proc = Proc(name, popen)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.popen.wait(8)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(8)
        self.procs.clear()


def start_redis(stack: Stack, base: Path) -> tuple[Proc, int]:
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = stack.start(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(base)],
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return proc, port
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)


def start_sim(stack: Stack, rate: float, seed: int) -> tuple[Proc, int]:
    port = free_port()
    proc = stack.start(
        "yahoo-sim",
        [PY, "-c", SIM_MAIN, "--port", str(port), "--rate", str(rate), "--seed", str(seed),
         "--symbol-cap", "1000", "--log-level", "WARNING"],
    )  # fmt: skip
    proc.read_line()  # "yahoo-sim listening on …"
    return proc, port


def start_restream(stack: Stack, name: str, sim_port: int, extra: list[str]) -> Proc:
    base = f"http://127.0.0.1:{sim_port}"
    return stack.start(
        name,
        [PY, "-m", "rsdev_servers.restream", "--port", "0", "--log-level", "WARNING",
         "--upstream-ws", f"ws://127.0.0.1:{sim_port}/?version=2", "--upstream-rest", base,
         "--cnn-url", base, "--max-clients", "100000", "--inactivity-timeout", "0", *extra],
        env={k: v for k, v in os.environ.items() if not k.startswith("RESTREAM_")},
    )  # fmt: skip


# -- the client workers ----------------------------------------------------------------------


def plan_subscriptions(args: argparse.Namespace) -> list[list[str]]:
    rng = random.Random(args.seed)
    universe = [f"S{i:04d}" for i in range(args.symbols)]
    return [rng.sample(universe, args.per_client) for _ in range(args.clients)]


async def worker_main(spec: dict[str, Any]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    start, end = spec["start"], spec["end"]
    totals: list[int] = []
    leader: list[int] = []
    bus: list[int] = []
    client_side: list[int] = []
    count = 0

    async def client(url: str, symbols: list[str]) -> None:
        nonlocal count
        async with connect(url, max_size=None, open_timeout=60, ping_interval=None) as ws:
            await ws.send(json.dumps({"op": "subscribe", "symbols": symbols}))
            async for raw in ws:
                now = time.time_ns() // 1000
                if now > end:
                    return
                if now < start or '"type":"quote"' not in raw[:20]:
                    continue
                m = json.loads(raw)
                count += 1
                totals.append(now - m["ts_library_in"])
                out = m["ts_library_out"]
                client_side.append(now - out)
                if "ts_bus" in m:
                    leader.append(m["ts_bus"] - m["ts_library_in"])
                    bus.append(out - m["ts_bus"])

    # Quiet clients would wait forever: the window's end stops them all.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(end / 1e6 - time.time() + 2), asyncio.TaskGroup() as tg:
            for url, symbols in spec["clients"]:
                tg.create_task(client(url, symbols))
    return {"count": count, "total": totals, "leader": leader, "bus": bus, "client": client_side}


# -- one run -----------------------------------------------------------------------------------


def percentiles(samples: list[int]) -> dict[str, float]:
    if not samples:
        return {}
    samples = sorted(samples)

    def at(q: float) -> float:
        return round(samples[min(len(samples) - 1, int(q * len(samples)))] / 1000, 3)

    return {"p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": at(1.0)}


def run_once(args: argparse.Namespace, nodes: int) -> dict[str, Any]:
    """nodes == 0: one plain restream; else `nodes` cluster nodes."""
    stack = Stack()
    base = Path(tempfile.mkdtemp(prefix="rsdev-bench-cluster-"))
    try:
        redis_port = 0
        redis = None
        if nodes:
            redis, redis_port = start_redis(stack, base)
        sim, sim_port = start_sim(stack, args.rate, args.seed)
        gateways = []
        for i in range(max(1, nodes)):
            extra = []
            if nodes:
                extra = ["--cluster", f"redis://127.0.0.1:{redis_port}", "--cluster-ttl",
                         str(args.ttl), "--cluster-name", "bench"]  # fmt: skip
            gateways.append(start_restream(stack, f"restream-{i}", sim_port, extra))
        urls = []
        for proc in gateways:
            proc.url = proc.read_line()
            urls.append(proc.url.replace("http", "ws", 1) + "ws")
        subscriptions = plan_subscriptions(args)
        start = time.time_ns() // 1000 + int((args.warmup + 2) * 1e6)
        end = start + int(args.duration * 1e6)
        per_worker: list[list[Any]] = [[] for _ in range(args.workers)]
        for i, symbols in enumerate(subscriptions):
            per_worker[i % args.workers].append((urls[i % len(urls)], symbols))
        workers = [
            stack.start(
                f"worker-{w}",
                stderr=None,
                argv=[
                    PY,
                    __file__,
                    "--worker",
                    json.dumps({"start": start, "end": end, "clients": clients}),
                ],
            )
            for w, clients in enumerate(per_worker)
        ]
        time.sleep(max(0.0, start / 1e6 - time.time()))
        watched = {p.name: p.popen.pid for p in [*gateways, sim] + ([redis] if redis else [])}
        cpu0 = {name: cpu_seconds(pid) for name, pid in watched.items()}
        time.sleep(args.duration)
        cpu1 = {name: cpu_seconds(pid) for name, pid in watched.items()}
        results = [json.loads(w.read_line(timeout=args.duration + 60)) for w in workers]
        roles = {}
        if nodes:
            import urllib.request

            for proc in gateways:
                with urllib.request.urlopen(proc.url + "health", timeout=5) as response:
                    roles[proc.name] = json.load(response)["cluster"]["role"]
    finally:
        stack.close()
        shutil.rmtree(base, ignore_errors=True)
    count = sum(r["count"] for r in results)
    merged = {k: [x for r in results for x in r[k]] for k in ("total", "leader", "bus", "client")}
    per_million = {
        f"{name} ({roles[name]})" if name in roles else name: round(
            (cpu1[name] - cpu0[name]) / max(count, 1) * 1e6, 2
        )
        for name in cpu0
    }
    return {
        "setup": "single restream" if not nodes else f"cluster of {nodes}",
        "deliveries_per_s": round(count / args.duration),
        "latency_end_to_end": percentiles(merged["total"]),
        "latency_leader": percentiles(merged["leader"]),
        "latency_bus_and_dispatch": percentiles(merged["bus"]),
        "latency_client_side": percentiles(merged["client"]),
        "cpu_s_per_million_deliveries": per_million,
        "cpu_share": {k: round((cpu1[k] - cpu0[k]) / args.duration, 3) for k in cpu0},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(asyncio.run(worker_main(json.loads(args.worker)))), flush=True)
        return 0
    runs = []
    if not args.no_single:
        runs.append(run_once(args, 0))
    runs.append(run_once(args, args.nodes))
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "workload": {k: getattr(args, k) for k in ("clients", "symbols", "per_client", "rate",
                                                   "duration", "workers", "nodes")},
        "runs": runs,
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(report["machine"], report["workload"])
        for run in runs:
            print(f"\n{run['setup']}: {run['deliveries_per_s']} deliveries/s")
            for key in ("latency_end_to_end", "latency_leader", "latency_bus_and_dispatch",
                        "latency_client_side"):  # fmt: skip
                if run[key]:
                    print(f"  {key:26} {run[key]}")
            print(f"  cpu s / 1M deliveries     {run['cpu_s_per_million_deliveries']}")
            print(f"  cpu share (cores)         {run['cpu_share']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

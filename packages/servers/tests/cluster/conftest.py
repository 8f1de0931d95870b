"""Fixtures for the cluster tests: a real redis-server, cluster nodes, and their upstream.

- `RedisServer`: `redis-server --port <free> --bind 127.0.0.1 --save '' --appendonly no`
  in a temporary directory; `stop()` (SIGTERM or SIGKILL) and `start()` again on the same
  port — an empty Redis, as after a crash without persistence. Missing binary: the tests
  skip, unless CI == "true", where they fail.
- `InProcessNode`: a `ClusterUpstream` in the test's event loop, its leader manager built
  from the real Yahoo stream client and REST poller pointed at an in-process simulator,
  its gateway side a recorder of what it relays.
- `NodeProcess`: `python -m rsdev_servers.restream --cluster …` as a real process; several
  start in parallel (`start_nodes`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import redis

from lib_common.core.calendar import ALWAYS_OPEN
from lib_common.core.upstream_manager import ManagerSettings, UpstreamManager, UpstreamStatus
from lib_common.ingestors.cnn import FearGreed
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.rest import YahooRestPoller
from lib_common.ingestors.yahoo.stream import StreamConfig, YahooStreamClient
from lib_common.sim import Simulator
from rsdev_servers.cluster import ClusterSettings, ClusterUpstream, RelayedQuote
from rsdev_servers.cluster.leader import LeaderManager

from ..conftest import clean_env

READY_TIMEOUT = 60.0  # several processes importing at once on a loaded 2-core machine
TTL = 1.0  # leadership lease of in-process nodes: takeovers take about a second
E2E_TTL = 2.0  # node processes: a loaded machine may stall a process for a few 100 ms


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_redis_server() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )
    if found:
        return found
    message = "redis-server not installed (Debian package redis-server)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class RedisServer:
    """A throwaway redis-server on 127.0.0.1 without persistence."""

    def __init__(self) -> None:
        self._binary = require_redis_server()
        self.base = Path(tempfile.mkdtemp(prefix="rsdev-cluster-redis-"))
        self.port = free_port()
        self.log = self.base / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        """Start (again, on the same port, empty); return once it answers PING."""
        if self.running:
            return
        argv = [
            self._binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.base),
            "--daemonize", "no",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("redis-server did not answer PING in time")
            time.sleep(0.02)  # readiness poll of a starting process

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._process is not None:
            self._process.send_signal(sig)
            self._process.wait(10)
        self._process = None

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()
            client.script_flush()

    def close(self) -> None:
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)

    def _answers(self) -> bool:
        with contextlib.suppress(redis.RedisError, OSError), self.client() as client:
            return bool(client.ping())
        return False


@pytest.fixture(scope="session")
def redis_session() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def redis_server(redis_session: RedisServer) -> Iterator[RedisServer]:
    """An empty redis-server for this test (shared by the session, flushed, restarted)."""
    redis_session.start()
    redis_session.flush()
    yield redis_session
    redis_session.start()


# -- in-process nodes ----------------------------------------------------------------------


@dataclass
class Recorder:
    """A node's gateway side: what it was handed, and an event per arrival."""

    relayed: list[RelayedQuote] = field(default_factory=list)
    statuses: list[UpstreamStatus] = field(default_factory=list)
    indicators: list[FearGreed] = field(default_factory=list)
    changed: anyio.Event = field(default_factory=anyio.Event)

    def on_relayed_quote(self, quote: RelayedQuote) -> None:
        self.relayed.append(quote)
        self._poke()

    def on_status(self, status: UpstreamStatus) -> None:
        self.statuses.append(status)
        self._poke()

    def on_indicator(self, value: FearGreed) -> None:
        self.indicators.append(value)
        self._poke()

    def _poke(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()

    async def wait_for(self, check: Callable[[], bool], within: float = 10.0) -> None:
        """Wait (with a deadline) until `check()` holds after some arrival."""
        with anyio.fail_after(within):
            while not check():
                await self.changed.wait()


def manager_factory(sim: Simulator, linger: float) -> Callable[..., LeaderManager]:
    """Leader managers on the simulator, as restream builds them (no Fear & Greed)."""

    def build(
        *,
        on_quote: Callable[[Quote], None],
        on_status: Callable[[UpstreamStatus], None],
        on_indicator: Callable[[FearGreed], None],
    ) -> LeaderManager:
        manager: UpstreamManager[str]
        stream = YahooStreamClient(
            StreamConfig(url=sim.ws_url, inactivity_timeout=0),
            is_trading=lambda symbol, now: manager.is_trading(symbol, now),
        )
        manager = UpstreamManager(
            stream=stream,
            poller=YahooRestPoller(sim.rest_url, interval=5.0),
            on_quote=on_quote,
            on_status=on_status,
            on_indicator=on_indicator,
            calendar=ALWAYS_OPEN,
            settings=ManagerSettings(linger=linger, client_limit=1000, idle_poll_interval=None),
        )
        return manager

    return build


@dataclass
class InProcessNode:
    """A `ClusterUpstream` running in the test's event loop; `stop()` cancels it."""

    node: ClusterUpstream
    recorder: Recorder
    scope: anyio.CancelScope

    @property
    def role(self) -> str:
        return self.node.stats().role.value

    def stop(self) -> None:
        self.scope.cancel()

    def quotes_of(self, symbol: str) -> list[RelayedQuote]:
        return [q for q in self.recorder.relayed if q.symbol == symbol]


@contextlib.asynccontextmanager
async def in_process_nodes(
    redis_url: str,
    sim: Simulator,
    count: int,
    *,
    ttl: float = TTL,
    linger: float = 30.0,
    name: str = "test",
) -> AsyncIterator[list[InProcessNode]]:
    """`count` nodes of one cluster, each in its own cancel scope."""
    nodes: list[InProcessNode] = []
    async with anyio.create_task_group() as tg:
        for i in range(count):
            recorder = Recorder()
            settings = ClusterSettings(url=redis_url, name=name, ttl=ttl, node_id=f"node{i}")
            node = ClusterUpstream(settings, recorder, manager_factory(sim, linger), linger=linger)
            scope = anyio.CancelScope()
            nodes.append(InProcessNode(node, recorder, scope))

            async def run(node: ClusterUpstream = node, scope: anyio.CancelScope = scope) -> None:
                with scope:
                    await node.run()

            tg.start_soon(run)
        try:
            yield nodes
        finally:
            tg.cancel_scope.cancel()


async def eventually(check: Callable[[], bool], within: float = 10.0, step: float = 0.01) -> None:
    """Poll `check()` until true, with a deadline: for state that changes without telling
    anyone (the simulator's counters, Redis expiring a key, another process)."""
    with anyio.fail_after(within):
        while True:
            if check():
                return
            await anyio.sleep(step)


def leaders(nodes: Sequence[InProcessNode]) -> list[InProcessNode]:
    return [n for n in nodes if n.role == "leader"]


# -- node processes ------------------------------------------------------------------------


class NodeProcess:
    """`restream --cluster URL …` as a process; its stdout's first line is its URL."""

    def __init__(self, args: Sequence[str], log_path: Path) -> None:
        self.args = [sys.executable, "-m", "rsdev_servers.restream", "--port", "0", *args]
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=clean_env(),
        )
        self.url = ""
        self.port = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def read_url(self, deadline: float) -> None:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            line = b""
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise AssertionError(f"node printed no URL in time:\n{self.logs()}")
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError(f"node exited before listening:\n{self.logs()}")
                line += chunk
        self.url = line.decode().strip()
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(self.url + "health")
        body = response.json()
        assert isinstance(body, dict)
        return body

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no release; the kernel closes its sockets."""
        self.proc.kill()
        self.proc.wait(10)

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-15000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(8)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


StartNodes = Callable[..., Any]


@pytest.fixture
def start_nodes(
    tmp_path: Path, request: pytest.FixtureRequest, redis_server: RedisServer
) -> Iterator[StartNodes]:
    """`await start_nodes(n, sim, *extra_args)`: n node processes, started in parallel."""
    started: list[NodeProcess] = []

    async def start(count: int, sim: Simulator, *extra: str) -> list[NodeProcess]:
        args = (
            "--cluster", redis_server.url,
            "--cluster-name", "e2e",
            "--cluster-ttl", str(E2E_TTL),
            "--upstream-ws", sim.ws_url,
            "--upstream-rest", sim.base_url,
            "--cnn-url", sim.base_url,
            *extra,
        )  # fmt: skip
        batch = [NodeProcess(args, tmp_path / f"node-{len(started) + i}.log") for i in range(count)]
        started.extend(batch)
        deadline = time.monotonic() + READY_TIMEOUT
        for node in batch:
            await anyio.to_thread.run_sync(node.read_url, deadline)
        return batch

    yield start
    report = getattr(request.node, "rep_call", None)
    for index, node in enumerate(started):
        node.stop()
        if report is not None and report.failed:
            print(f"--- node {index} (pid {node.pid}) log ---\n{node.logs()}")

"""Fixtures for the server-yahoo tests: real processes, in-process gateways, Yahoo clients.

- `start_server_yahoo(*args)`: a `server-yahoo` subprocess on a free loopback port (it
  reads the first stdout line `server-yahoo listening on http://127.0.0.1:PORT`), stopped
  with SIGTERM at the end of the test; its stderr goes to a file printed on failure.
- `running_gateway(sim, **settings)`: a `YahooGateway` in the test's own event loop on a
  simulator the test runs (always-open market), for behaviour that needs no process.
- `YahooClient`: a websockets client that speaks Yahoo's protocol and decodes frames with
  lib_common's codec, keeping the raw frames and payloads for byte comparisons.

Every upstream is a loopback simulator: `--demo`, or a `yahoo-sim` run in the test's loop.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from lib_common.core.calendar import ALWAYS_OPEN
from lib_common.ingestors.yahoo.codec import decode_frame
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import Simulator
from rsdev_servers.server_yahoo.cli import upstream_plan
from rsdev_servers.server_yahoo.gateway import YahooGateway
from rsdev_servers.server_yahoo.settings import YahooGatewaySettings

from ..conftest import GatewayProcess

STOP_TIMEOUT = 8.0
FIRST_LINE = "server-yahoo listening on http://"

# Short timers so failover and recovery take a second or two, not a minute.
FAST_UPSTREAM = (
    "--inactivity-timeout", "0.4",
    "--grace", "0.3",
    "--hysteresis", "0.3",
    "--poll-interval", "0.2",
    "--reconnect-max-delay", "0.3",
)  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any SERVER_YAHOO_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVER_YAHOO_")}
    env.update(extra)
    return env


def upstream_args(sim: Simulator) -> tuple[str, ...]:
    """Point a server-yahoo process at the test's simulator."""
    return ("--upstream-ws", sim.ws_url, "--upstream-rest", sim.rest_url)


class YahooProcess(GatewayProcess):
    """A server-yahoo subprocess; its banner starts with `FIRST_LINE` + host:port."""

    name = "server-yahoo"
    module = "rsdev_servers.server_yahoo"

    def __init__(
        self, args: Sequence[str], log_path: Path, *, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(args, log_path, env=env, stop_timeout=STOP_TIMEOUT)
        self.banner = self.startup_output
        assert self.banner.startswith(FIRST_LINE + "127.0.0.1:"), self.banner
        self.base_url = self.banner.splitlines()[0].removeprefix("server-yahoo listening on ")
        self.port = int(self.base_url.rsplit(":", 1)[1])
        self.ws_url = f"ws://127.0.0.1:{self.port}/?version=2"
        self.legacy_ws_url = f"ws://127.0.0.1:{self.port}/"

    def default_env(self) -> dict[str, str]:
        return clean_env()

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            return await http.get(path)

    async def health(self) -> dict[str, Any]:
        response = await self.get("/health")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    async def wait_health(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 15.0
    ) -> dict[str, Any]:
        """Poll /health until `predicate` holds (fails after `within` seconds)."""
        health: dict[str, Any] = await poll_until(self.health, predicate, within)
        return health


async def poll_until(
    read: Callable[[], Any], predicate: Callable[[Any], bool], within: float
) -> Any:
    """Call `read()` (sync or async) until `predicate(value)`; fail after `within` s.

    For state only observable by asking (the simulator's stats, /health): each miss yields
    for a few milliseconds so the servers can make progress.
    """
    with anyio.fail_after(within):
        while True:
            value = read()
            if hasattr(value, "__await__"):
                value = await value
            if predicate(value):
                return value
            await anyio.sleep(0.02)


@pytest.fixture
def start_server_yahoo(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., YahooProcess]]:
    """A factory of server-yahoo processes, each stopped (SIGTERM) at the end of the test."""
    started: list[YahooProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> YahooProcess:
        process = YahooProcess(args, tmp_path / f"server-yahoo-{len(started)}.log", env=env)
        started.append(process)
        return process

    yield start
    report = getattr(request.node, "rep_call", None)
    for process in started:
        process.stop()
        if report is not None and report.failed:
            print(f"--- server-yahoo log ({process.log_path}) ---\n{process.logs()}")


async def spawn(start: Callable[..., YahooProcess], *args: str) -> YahooProcess:
    """Start a process from async code (the banner is read in a worker thread)."""
    return await anyio.to_thread.run_sync(lambda: start(*args))


@asynccontextmanager
async def running_gateway(sim: Simulator, **overrides: Any) -> AsyncIterator[YahooGateway]:
    """A gateway in this event loop on `sim`, on a free port, always-open market."""
    settings = YahooGatewaySettings(port=0, **overrides)
    plan = upstream_plan(settings, sim.ws_url, sim.rest_url)
    gateway = YahooGateway(settings, upstream=plan, calendar=ALWAYS_OPEN)
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run, stop)
        try:
            yield gateway
        finally:
            stop.set()


def gateway_url(gateway: YahooGateway, *, legacy: bool = False) -> str:
    assert gateway.server is not None
    return f"ws://127.0.0.1:{gateway.server.port}/" + ("" if legacy else "?version=2")


# -- Yahoo-protocol clients ----------------------------------------------------------------


@dataclass(eq=False)
class YahooClient:
    """One client speaking Yahoo's streaming protocol; keeps everything it received."""

    ws: ClientConnection
    frames: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> YahooClient:
        kwargs.setdefault("open_timeout", 10)
        kwargs.setdefault("max_size", 4 * 1024 * 1024)
        # Tests read frames in bursts; an unbounded inbound queue keeps the socket read, so
        # closing a client with unread quotes is prompt (the close frame is not stuck
        # behind paused reading until the close timeout).
        kwargs.setdefault("max_queue", None)
        return cls(await connect(url, **kwargs))

    async def subscribe(self, symbols: Iterable[str]) -> None:
        await self.ws.send(json.dumps({"subscribe": list(symbols)}))

    async def unsubscribe(self, symbols: Iterable[str]) -> None:
        await self.ws.send(json.dumps({"unsubscribe": list(symbols)}))

    async def next_quote(self, within: float = 10.0) -> Quote:
        """The next frame, decoded (a frame that is not a quote fails the test)."""
        with anyio.fail_after(within):
            raw = await self.ws.recv()
        assert isinstance(raw, str), f"Yahoo frames are text, got {raw!r}"
        quote = decode_frame(raw, time.time_ns() // 1000)
        assert isinstance(quote, Quote), f"not a quote frame: {raw!r} → {quote!r}"
        self.frames.append(raw)
        self.quotes.append(quote)
        return quote

    async def quotes_until(self, predicate: Callable[[Quote], bool], within: float = 10.0) -> Quote:
        """Read quotes until one satisfies `predicate`."""
        with anyio.fail_after(within):
            while True:
                quote = await self.next_quote(within)
                if predicate(quote):
                    return quote

    async def see_all(self, symbols: Iterable[str], within: float = 10.0) -> None:
        """Read until a quote of every symbol in `symbols` arrived."""
        missing = set(symbols)
        with anyio.fail_after(within):
            while missing:
                missing.discard((await self.next_quote(within)).symbol)

    async def close_code(self, within: float = 10.0) -> int | None:
        """Read until the server closes; its close code (None: no close frame)."""
        with anyio.fail_after(within):
            try:
                while True:
                    await self.ws.recv()
            except ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd is not None else None

    async def aclose(self) -> None:
        await self.ws.close()


def payload_of(frame: str) -> bytes:
    """The PricingData bytes inside a Yahoo text frame of either format."""
    text = json.loads(frame)["message"] if frame.startswith("{") else frame
    return base64.b64decode(text)

"""The simulator: Yahoo's streamer, Yahoo's chart REST, CNN's Fear & Greed, and faults.

Everything is served by one `lib_common.net` server on one loopback port:

- `GET /?version=2` (WebSocket): JSON envelope frames; `GET /` (WebSocket): legacy bare
  base64 frames. Clients send `{"subscribe":[...]}` / `{"unsubscribe":[...]}`; no acks.
- `GET /v8/finance/chart/{symbol}`, `GET /index/fearandgreed/graphdata[/YYYY-MM-DD]`.
- `POST|GET|DELETE /_sim/fault`, `GET /_sim/stats`: the control API.

One pump task produces quotes at the configured total rate, round-robin over the union of
subscribed symbols; each quote is encoded once per frame format and the same frame bytes
go to every subscriber (`write_frames`), one write per connection per tick.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, Final

import anyio
from loguru import logger

from lib_common.ingestors.yahoo.codec import encode_pricing, envelope_frame, legacy_frame
from lib_common.ingestors.yahoo.control import ControlError, Subscribe, parse_control
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.net import (
    HttpRequest,
    HttpResponse,
    Server,
    ServerSettings,
    WsConnection,
    serve,
    text_frame,
)
from lib_common.sim.chart import chart_body, chart_not_found
from lib_common.sim.config import SimConfig
from lib_common.sim.faults import HTTP_KINDS, ActiveFault, Fault, FaultBook, Target
from lib_common.sim.fear_greed import FearGreed
from lib_common.sim.garbage import MIXED_ORDER, garbage_frame
from lib_common.sim.market import Market

__all__ = ["Simulator", "run_simulator"]

_STALL: Final = frozenset({"stall"})
_GARBAGE: Final = frozenset({"garbage"})
_SLOW: Final = frozenset({"slow"})
_DROP: Final = frozenset({"disconnect", "close"})
_CHART_PREFIX: Final = "/v8/finance/chart/"
_CNN_PATH: Final = "/index/fearandgreed/graphdata"
_MIN_TICK: Final = 0.005  # the pump wakes at most 200 times a second; faster rates batch
_MAX_BURST: Final = 0.25  # after a hiccup, catch up at most this many seconds of quotes
_DOWN_PAGE: Final = (
    "<!DOCTYPE html><html><head><title>Yahoo</title></head><body>"
    "<h1>Will be right back...</h1><p>Thank you for your patience.</p>"
    "<p>Our engineers are working quickly to resolve the issue.</p></body></html>"
)


class _Client:
    """One streamer WebSocket client: its format and its (capped) subscriptions."""

    __slots__ = ("conn", "legacy", "symbols")

    def __init__(self, conn: WsConnection, legacy: bool) -> None:
        self.conn = conn
        self.legacy = legacy
        self.symbols: dict[str, None] = {}  # insertion-ordered set


class Simulator:
    """A running simulator; get one from `run_simulator()`."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._clock = config.clock
        self.market = Market(config.seed, config.clock, config.unknown_symbols)
        self.fear_greed = FearGreed(config.seed, config.clock)
        self.faults = FaultBook()
        self._server: Server | None = None
        self._clients: set[_Client] = set()
        self._subscribers: dict[str, set[_Client]] = {}
        self._rotation: list[str] = []
        self._rotation_pos = 0
        self._mixed_pos = 0
        self._wake = anyio.Event()
        self._faults_cleared = anyio.Event()
        self._connections_total = 0
        self._subscribe_counts: Counter[str] = Counter()
        self._unsubscribe_counts: Counter[str] = Counter()
        self._control = Counter({"subscribe": 0, "unsubscribe": 0, "invalid": 0})
        self._frames = Counter({"valid": 0, "snapshot": 0, "garbage": 0})
        self._quotes_generated = 0
        self._requests = Counter({"chart": 0, "cnn": 0, "control": 0, "faulted": 0})

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "the simulator is not running"
        return self._server.port

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def base_url(self) -> str:
        """`http://host:port`, the root of every HTTP endpoint."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The current streamer URL (`?version=2`, JSON envelope frames)."""
        return f"ws://{self.host}:{self.port}/?version=2"

    @property
    def legacy_ws_url(self) -> str:
        """The legacy streamer URL (bare base64 frames)."""
        return f"ws://{self.host}:{self.port}/"

    @property
    def rest_url(self) -> str:
        """Stands in for `https://query1.finance.yahoo.com` (append `/v8/finance/chart/SYM`)."""
        return self.base_url

    @property
    def cnn_url(self) -> str:
        """The full Fear & Greed graphdata URL."""
        return self.base_url + _CNN_PATH

    def chart_url(self, symbol: str) -> str:
        """The chart URL for `symbol` with Yahoo's usual query."""
        return f"{self.base_url}{_CHART_PREFIX}{symbol}?interval=1m&range=1d"

    # -- faults --------------------------------------------------------------------------

    def inject(self, fault: Fault) -> dict[str, Any]:
        """Activate `fault` now; returns it as the control API shows it."""
        now = self._clock()
        active = self.faults.inject(fault, now)
        logger.info("sim fault injected: {}", active.to_json(now))
        if fault.kind in _DROP:
            for client in list(self._clients):
                if not active.live(now):
                    break
                self._drop(client, active)
            if fault.duration is None and fault.count is None:
                self.faults.remove(active)  # one-shot: the connections open right now
        self._wake.set()
        return active.to_json(now)

    def clear_faults(self) -> int:
        """End every fault at once (stalls resume, hung requests are answered)."""
        cleared = self.faults.clear()
        if cleared:
            logger.info("sim faults cleared: {}", cleared)
        self._faults_cleared.set()
        self._faults_cleared = anyio.Event()
        self._wake.set()
        return cleared

    def _drop(self, client: _Client, active: ActiveFault) -> None:
        active.hits += 1
        if active.remaining is not None:
            active.remaining -= 1
        if active.fault.kind == "disconnect":
            client.conn.abort()
        else:
            client.conn.close(active.fault.code, "simulated close")

    # -- stats ---------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters since start (the `GET /_sim/stats` body)."""
        now = self._clock()
        return {
            "connections": {"current": len(self._clients), "total": self._connections_total},
            "subscribed": {s: len(c) for s, c in sorted(self._subscribers.items())},
            "subscribe_counts": dict(sorted(self._subscribe_counts.items())),
            "unsubscribe_counts": dict(sorted(self._unsubscribe_counts.items())),
            "control_messages": dict(self._control),
            "frames": dict(self._frames),
            "quotes_generated": self._quotes_generated,
            "rest_requests": dict(self._requests),
            "faults_active": [a.to_json(now) for a in self.faults.active(now)],
            "rate": self.config.rate,
            "effective_rate": self._effective_rate(),
            "seed": self.config.seed,
        }

    # -- WebSocket -----------------------------------------------------------------------

    async def handle_ws(self, conn: WsConnection) -> None:
        """One streamer client: apply its control messages until it leaves."""
        client = _Client(conn, legacy=conn.query.get("version") != "2")
        self._connections_total += 1
        drop = self.faults.find(_DROP, "ws", self._clock())
        if drop is not None:
            self._drop(client, drop)
            return
        self._clients.add(client)
        try:
            async for message in conn:
                self._on_control(client, message)
        finally:
            self._clients.discard(client)
            self._forget(client, tuple(client.symbols))

    def _on_control(self, client: _Client, message: str | bytes) -> None:
        control = parse_control(message)
        if isinstance(control, ControlError):
            self._control["invalid"] += 1
            if self.config.close_on_bad_control:
                client.conn.close(None)
            return
        symbols = control.symbols
        if isinstance(control, Subscribe):
            self._control["subscribe"] += 1
            self._subscribe_counts.update(symbols)
            self._subscribe(client, symbols)
        else:
            self._control["unsubscribe"] += 1
            self._unsubscribe_counts.update(symbols)
            self._forget(client, [s for s in symbols if s in client.symbols])

    def _subscribe(self, client: _Client, symbols: tuple[str, ...]) -> None:
        room = self.config.symbol_cap - len(client.symbols)
        added = [s for s in symbols if s not in client.symbols][: max(room, 0)]  # silent cap
        snapshots: list[bytes] = []
        stalled = self.faults.find(_STALL, "ws", self._clock()) is not None
        for symbol in added:
            client.symbols[symbol] = None
            if not self.market.is_known(symbol):
                continue  # like Yahoo: no error, no data
            subscribers = self._subscribers.get(symbol)
            if subscribers is None:
                subscribers = self._subscribers[symbol] = set()
                self._rotation.append(symbol)
            subscribers.add(client)
            if not stalled:
                snapshots.append(self._frame(self.market.quote(symbol), client.legacy))
        if snapshots:
            client.conn.write_frames(snapshots)
            self._frames["valid"] += len(snapshots)
            self._frames["snapshot"] += len(snapshots)
        if added:
            self._wake.set()

    def _forget(self, client: _Client, symbols: tuple[str, ...] | list[str]) -> None:
        for symbol in symbols:
            client.symbols.pop(symbol, None)
            subscribers = self._subscribers.get(symbol)
            if subscribers is None:
                continue
            subscribers.discard(client)
            if not subscribers:
                del self._subscribers[symbol]
                self._rotation.remove(symbol)

    @staticmethod
    def _frame(quote: Quote, legacy: bool) -> bytes:
        payload = encode_pricing(quote)
        text = legacy_frame(payload) if legacy else envelope_frame(payload)
        return text_frame(text.encode())

    # -- the quote pump ------------------------------------------------------------------

    async def run_pump(self) -> None:
        """Produce quotes at the configured rate while anyone is subscribed (runs forever)."""
        credit = 0.0
        last = time.monotonic()
        while True:
            rate = self._effective_rate()
            if not self._rotation or rate <= 0:
                await self._sleep(None)
                credit, last = 0.0, time.monotonic()
                continue
            await self._sleep(max(_MIN_TICK, (1.0 - credit) / rate))
            now = time.monotonic()
            credit = min(credit + (now - last) * rate, max(1.0, rate * _MAX_BURST))
            last = now
            count = int(credit)
            if count:
                credit -= count
                self._emit(count)

    async def _sleep(self, seconds: float | None) -> None:
        """Sleep, but wake early when subscriptions or faults change."""
        self._wake = anyio.Event()
        with anyio.move_on_after(seconds if seconds is not None else float("inf")):
            await self._wake.wait()

    def _effective_rate(self) -> float:
        slow = self.faults.find(_SLOW, "ws", self._clock())
        if slow is None:
            return self.config.rate
        fault = slow.fault
        limit = fault.rate if fault.rate is not None else 1.0 / (fault.delay or 1.0)
        return min(self.config.rate, limit)

    def _emit(self, count: int) -> None:
        now = self._clock()
        faults = self.faults
        batches: dict[_Client, list[bytes]] = {}
        for _ in range(count):
            if not self._rotation:
                break
            if faults.take(_STALL, "ws", now) is not None:
                continue
            faults.take(_SLOW, "ws", now)  # counts slowed messages
            symbol = self._rotation[self._rotation_pos % len(self._rotation)]
            self._rotation_pos += 1
            quote = self.market.step(symbol)
            self._quotes_generated += 1
            garbage = faults.take(_GARBAGE, "ws", now)
            frames: dict[bool, bytes] = {}
            junk: dict[bool, bytes] = {}
            for client in self._subscribers[symbol]:
                legacy = client.legacy
                batch = batches.setdefault(client, [])
                if garbage is not None:
                    if legacy not in junk:
                        junk[legacy] = self._garbage(garbage, quote, legacy)
                    batch.append(junk[legacy])
                    self._frames["garbage"] += 1
                frame = frames.get(legacy)
                if frame is None:
                    frame = frames[legacy] = self._frame(quote, legacy)
                batch.append(frame)
                self._frames["valid"] += 1
        for client, batch in batches.items():
            client.conn.write_frames(batch)

    def _garbage(self, active: ActiveFault, quote: Quote, legacy: bool) -> bytes:
        variant = active.fault.variant
        if variant == "mixed":
            variant = MIXED_ORDER[self._mixed_pos % len(MIXED_ORDER)]
            self._mixed_pos += 1
        return garbage_frame(variant, quote, legacy=legacy)

    # -- HTTP ----------------------------------------------------------------------------

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        """Route a plain HTTP request: REST, CNN, the control API, or 404."""
        path = request.path
        if path.startswith("/_sim/"):
            self._requests["control"] += 1
            return self._control_api(request)
        if path.startswith(_CHART_PREFIX):
            self._requests["chart"] += 1
            return await self._faulted(request, "rest") or self._chart(request)
        if path == _CNN_PATH or path.startswith(_CNN_PATH + "/"):
            self._requests["cnn"] += 1
            return await self._faulted(request, "cnn") or self._cnn(request)
        if path == "/" and request.method == "GET":
            return HttpResponse.text(_INDEX.format(base=self.base_url))
        return HttpResponse.json({"error": f"no such endpoint: {path}"}, status=404)

    async def _faulted(self, request: HttpRequest, target: Target) -> HttpResponse | None:
        active = self.faults.take(HTTP_KINDS, target, self._clock())
        if active is None:
            return None
        self._requests["faulted"] += 1
        fault = active.fault
        if fault.kind == "hang":
            await self._faults_cleared.wait()  # until cleared, or the client gives up
            return None
        if fault.kind == "429":
            retry = fault.retry_after if fault.retry_after is not None else self.config.retry_after
            return HttpResponse.text(
                "Too Many Requests\r\n", status=429, headers=[("Retry-After", str(retry))]
            )
        if fault.kind == "500":
            if target == "rest":
                body = {"chart": {"result": None, "error": {"code": "Internal Server Error"}}}
                return HttpResponse.json(body, status=500)
            return HttpResponse.text("Internal Server Error", status=500)
        if fault.kind == "418":
            return HttpResponse.text("I'm a teapot", status=418)
        return HttpResponse.text(
            _DOWN_PAGE, status=fault.status or 503, content_type="text/html; charset=utf-8"
        )

    def _chart(self, request: HttpRequest) -> HttpResponse:
        symbol = request.path[len(_CHART_PREFIX) :]
        if not self.market.is_known(symbol):
            return HttpResponse.json(chart_not_found(symbol), status=404)
        state = self.market.state(symbol)
        body = chart_body(
            state,
            self._clock(),
            request.query.get("interval", "1m"),
            request.query.get("range", "1d"),
        )
        return HttpResponse.json(body, headers=[("Cache-Control", "max-age=10")])

    def _cnn(self, request: HttpRequest) -> HttpResponse:
        agent = request.headers.get("User-Agent", "")
        if self.config.cnn_require_browser_ua and "Mozilla/" not in agent:
            return HttpResponse.text("I'm a teapot. You're a bot.", status=418)
        since: date | None = None
        rest = request.path[len(_CNN_PATH) :].strip("/")
        if rest:
            try:
                since = date.fromisoformat(rest)
            except ValueError:
                return HttpResponse.json({"error": f"bad date {rest!r}"}, status=404)
        return HttpResponse.json(self.fear_greed.payload(since))

    def _control_api(self, request: HttpRequest) -> HttpResponse:
        path, method = request.path, request.method
        if path == "/_sim/stats" and method == "GET":
            return HttpResponse.json(self.stats())
        if path == "/_sim/fault":
            if method == "POST":
                try:
                    fault = Fault.from_json(json.loads(request.body or b"null"))
                except ValueError as exc:
                    return HttpResponse.json({"error": str(exc)}, status=400)
                return HttpResponse.json(self.inject(fault), status=201)
            if method == "DELETE":
                return HttpResponse.json({"cleared": self.clear_faults()})
            if method == "GET":
                now = self._clock()
                return HttpResponse.json([a.to_json(now) for a in self.faults.active(now)])
            return HttpResponse.json(
                {"error": "use POST, GET or DELETE"},
                status=405,
                headers=[("Allow", "GET, POST, DELETE")],
            )
        return HttpResponse.json({"error": f"no such control endpoint: {path}"}, status=404)


_INDEX: Final = """yahoo-sim: a loopback stand-in for Yahoo Finance and CNN Fear & Greed

WebSocket  {base}/?version=2          (JSON envelope frames; use ws://)
WebSocket  {base}/                    (legacy bare base64 frames; use ws://)
REST       {base}/v8/finance/chart/AAPL?interval=1m&range=1d
CNN        {base}/index/fearandgreed/graphdata  (browser-like User-Agent required)
Control    POST/GET/DELETE {base}/_sim/fault   GET {base}/_sim/stats
"""


@asynccontextmanager
async def run_simulator(config: SimConfig | None = None) -> AsyncIterator[Simulator]:
    """Run a simulator in the caller's event loop until the block exits.

    `config.port=0` picks a free port: read `sim.port` / `sim.ws_url`. On exit every
    WebSocket is closed with 1001 and hung requests are dropped.
    """
    config = config or SimConfig()
    sim = Simulator(config)
    settings = ServerSettings(
        ws_paths=frozenset({"/"}), close_timeout=1.0, shutdown_timeout=0.5, idle_timeout=30.0
    )
    async with serve(
        config.host,
        config.port,
        http_handler=sim.handle_http,
        ws_handler=sim.handle_ws,
        settings=settings,
    ) as server:
        sim._server = server
        async with anyio.create_task_group() as tg:
            tg.start_soon(sim.run_pump)
            try:
                yield sim
            finally:
                tg.cancel_scope.cancel()

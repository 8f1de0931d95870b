"""`restream --replay FILE [--speed X]`: a recording served as a Yahoo-protocol upstream.

`run_replay(path, speed=…)` starts a small loopback server (on `lib_common.net`, like the
simulator) that speaks Yahoo's streaming protocol: clients send `{"subscribe":[…]}` /
`{"unsubscribe":[…]}` and receive the recorded frames, verbatim, for the symbols they
subscribed. restream's upstream points at it, exactly as `--demo` points at the simulator.

- **Timing.** Playback starts at the first subscription (so nothing is played into the
  void) and keeps the recorded spacing divided by `speed`: 1 = as recorded, 10 = ten
  times faster, 0 = as fast as the connection takes them. Each run in the file (a header
  line) continues right after the previous one: the time between runs is not replayed.
  `Playback` is the sans-I/O schedule; the server only sleeps until each frame is due.
- **Routing.** Frames that decode to a quote go to the connections subscribed to its
  symbol; other frames (garbage, heartbeats) go to every subscribed connection, as the
  upstream sent them.
- **After the end**, and in any silence of `heartbeat` seconds, the server sends Yahoo
  heartbeat frames, so restream's stall watchdog does not fail over: the last values stay
  on display. The recording holds no REST or Fear & Greed data: those endpoints answer 404.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.lowlevel
import anyio.to_thread
from loguru import logger

from lib_common.ingestors.yahoo.codec import decode_frame, encode_pricing, envelope_frame
from lib_common.ingestors.yahoo.control import ControlError, Subscribe, parse_control
from lib_common.ingestors.yahoo.quote import Quote, QuoteType
from lib_common.net import (
    HttpRequest,
    HttpResponse,
    ServerSettings,
    WsConnection,
    binary_frame,
    serve,
    text_frame,
)
from rsdev_servers.restream.recording import RecordedFrame, RunStart, read_recording

__all__ = ["HEARTBEAT_INTERVAL", "Playback", "ReplayServer", "heartbeat_frame", "run_replay"]

HEARTBEAT_INTERVAL: Final = 5.0  # seconds of silence before a heartbeat frame
READ_BATCH: Final = 512  # items read from the file per worker-thread call
_CHART_PREFIX: Final = "/v8/finance/chart/"
_CNN_PATH: Final = "/index/fearandgreed/graphdata"


class Playback:
    """When each recorded frame is due, in seconds after playback started (sans-I/O).

    Within a run the recorded gaps are kept, divided by `speed`; a new run (`run_start`),
    or a receipt time that goes backwards (a wall-clock step while recording), continues
    from the previous frame's due time. `speed == 0`: every frame is due at once.
    """

    def __init__(self, speed: float) -> None:
        if not speed >= 0 or speed == float("inf"):
            raise ValueError("speed must be a finite number >= 0")
        self.speed = speed
        self._anchor_t: int | None = None  # receipt time (µs) that `_anchor_due` maps to
        self._anchor_due = 0.0
        self._last_t = 0
        self._last_due = 0.0

    def run_start(self) -> None:
        """The next frame begins a new run: it is due right after the previous one."""
        self._anchor_t = None

    def due(self, t: int) -> float:
        """Seconds after the start of playback at which the frame received at `t` is due."""
        if self.speed == 0:
            return 0.0
        if self._anchor_t is None or t < self._last_t:
            self._anchor_t, self._anchor_due = t, self._last_due
        self._last_t = t
        self._last_due = self._anchor_due + (t - self._anchor_t) / 1e6 / self.speed
        return self._last_due


def heartbeat_frame(now_us: int) -> str:
    """A Yahoo heartbeat (PricingData with quote type HEARTBEAT) in a `version=2` envelope."""
    quote = Quote(
        symbol="HEARTBEAT",
        price=0.0,
        ts_upstream=now_us,
        ts_library_in=0,
        quote_type=QuoteType.HEARTBEAT,
    )
    return envelope_frame(encode_pricing(quote))


class _Client:
    __slots__ = ("conn", "symbols")

    def __init__(self, conn: WsConnection) -> None:
        self.conn = conn
        self.symbols: set[str] = set()


def _take(items: Iterator[RunStart | RecordedFrame], count: int) -> list[RunStart | RecordedFrame]:
    return list(itertools.islice(items, count))


class ReplayServer:
    """Plays one recording to Yahoo-protocol clients; get one from `run_replay()`."""

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        heartbeat: float = HEARTBEAT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        wall_clock_us: Callable[[], int] = lambda: time.time_ns() // 1000,
    ) -> None:
        self.path = Path(path)
        self.playback = Playback(speed)
        self.heartbeat = heartbeat
        self._clock = clock
        self._sleep = sleep
        self._wall_clock_us = wall_clock_us
        self._clients: set[_Client] = set()
        self._subscribers: dict[str, set[_Client]] = {}
        self._subscribed = anyio.Event()
        self.finished = anyio.Event()
        self._last_sent = clock()
        self.port = 0
        self.host = "127.0.0.1"
        self.runs = 0
        self.frames_read = 0
        self.frames_sent = 0  # one per frame and connection
        self.heartbeats = 0
        self.position = 0  # receipt time (µs) of the last frame played

    # -- addresses -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/?version=2"

    def stats(self) -> dict[str, Any]:
        """Progress counters (also `GET /_replay/stats`)."""
        return {
            "file": str(self.path),
            "speed": self.playback.speed,
            "started": self._subscribed.is_set(),
            "finished": self.finished.is_set(),
            "runs": self.runs,
            "frames_read": self.frames_read,
            "frames_sent": self.frames_sent,
            "heartbeats": self.heartbeats,
            "position_us": self.position,
            "connections": len(self._clients),
        }

    # -- playback ------------------------------------------------------------------------

    async def run_playback(self) -> None:
        """Wait for the first subscription, then play the file once, frame by frame."""
        await self._subscribed.wait()
        speed = self.playback.speed
        logger.info("replay: playing {} at speed {:g}", self.path, speed)
        start = self._clock()
        items = read_recording(self.path)
        try:
            while batch := await anyio.to_thread.run_sync(_take, items, READ_BATCH):
                for item in batch:
                    if isinstance(item, RunStart):
                        self.runs += 1
                        self.playback.run_start()
                        continue
                    self.frames_read += 1
                    delay = start + self.playback.due(item.t) - self._clock()
                    if delay > 0:
                        await self._sleep(delay)
                    self.position = item.t
                    self._play(item.frame)
                await self._drain()
        finally:
            items.close()
        self.finished.set()
        logger.info(
            "replay finished: {} frames in {} runs ({:.1f} s); holding the last values",
            self.frames_read,
            self.runs,
            self._clock() - start,
        )

    def _play(self, frame: str | bytes) -> None:
        decoded = decode_frame(frame, 0)
        if isinstance(decoded, Quote):
            targets: set[_Client] | list[_Client] = self._subscribers.get(decoded.symbol, set())
        else:
            targets = [c for c in self._clients if c.symbols]
        if not targets:
            return
        wire = text_frame(frame.encode()) if isinstance(frame, str) else binary_frame(frame)
        for client in targets:
            client.conn.write_frames([wire])
        self.frames_sent += len(targets)
        self._last_sent = self._clock()

    async def _drain(self) -> None:
        """Let slow connections catch up (backpressure at `speed` 0), and yield."""
        for client in list(self._clients):
            if not client.conn.writable:
                await client.conn.drain()
        await anyio.lowlevel.checkpoint()

    async def run_keepalive(self) -> None:
        """Send a heartbeat to every connection after `heartbeat` s without a frame."""
        if self.heartbeat <= 0:
            return
        while True:
            quiet = self._clock() - self._last_sent
            if quiet < self.heartbeat:
                await self._sleep(self.heartbeat - quiet)
                continue
            if self._clients:
                wire = text_frame(heartbeat_frame(self._wall_clock_us()).encode())
                for client in self._clients:
                    client.conn.write_frames([wire])
                self.heartbeats += 1
            self._last_sent = self._clock()

    # -- WebSocket and HTTP --------------------------------------------------------------

    async def handle_ws(self, conn: WsConnection) -> None:
        """One upstream client (restream's stream client): apply its control messages."""
        client = _Client(conn)
        self._clients.add(client)
        try:
            async for message in conn:
                control = parse_control(message)
                if isinstance(control, ControlError):
                    continue  # like Yahoo: ignored
                if isinstance(control, Subscribe):
                    for symbol in control.symbols:
                        client.symbols.add(symbol)
                        self._subscribers.setdefault(symbol, set()).add(client)
                    if control.symbols:
                        self._subscribed.set()
                else:
                    self._forget(client, control.symbols)
        finally:
            self._clients.discard(client)
            self._forget(client, tuple(client.symbols))

    def _forget(self, client: _Client, symbols: tuple[str, ...]) -> None:
        for symbol in symbols:
            client.symbols.discard(symbol)
            subscribers = self._subscribers.get(symbol)
            if subscribers is not None:
                subscribers.discard(client)
                if not subscribers:
                    del self._subscribers[symbol]

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        """Stats, and 404s for the REST and CNN endpoints a recording has no data for."""
        path = request.path
        if path == "/_replay/stats":
            return HttpResponse.json(self.stats())
        if path.startswith(_CHART_PREFIX):
            error = {"code": "Not Found", "description": "a replayed recording has no REST data"}
            return HttpResponse.json({"chart": {"result": None, "error": error}}, status=404)
        if path.startswith(_CNN_PATH):
            return HttpResponse.json({"error": "a replayed recording has no CNN data"}, status=404)
        if path == "/":
            return HttpResponse.text(f"restream replay of {self.path}: stream at {self.ws_url}\n")
        return HttpResponse.json({"error": f"no such endpoint: {path}"}, status=404)


@asynccontextmanager
async def run_replay(
    path: str | Path,
    *,
    speed: float = 1.0,
    host: str = "127.0.0.1",
    port: int = 0,
    heartbeat: float = HEARTBEAT_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> AsyncIterator[ReplayServer]:
    """Serve `path` as a Yahoo-protocol upstream in the caller's event loop until the block
    exits (`replay.ws_url`, `replay.base_url`)."""
    replay = ReplayServer(path, speed=speed, heartbeat=heartbeat, clock=clock, sleep=sleep)
    settings = ServerSettings(
        ws_paths=frozenset({"/"}), close_timeout=1.0, shutdown_timeout=0.5, idle_timeout=30.0
    )
    async with serve(
        host, port, http_handler=replay.handle_http, ws_handler=replay.handle_ws, settings=settings
    ) as server:
        replay.host, replay.port = host, server.port
        async with anyio.create_task_group() as tg:
            tg.start_soon(replay.run_playback)
            tg.start_soon(replay.run_keepalive)
            try:
                yield replay
            finally:
                tg.cancel_scope.cancel()

"""The resilient Yahoo streaming client: sockets, timers and tasks around sans-I/O parts.

`YahooStreamClient` keeps the wanted symbols streaming over as many upstream WebSockets
("shards", at most `max_symbols_per_connection` symbols each) as it takes, whatever the
upstream does:

- subscriptions are diffs: the client remembers what each socket was told and sends only
  the difference when the wanted set changes; a new socket is told the whole set, so a
  reconnect replays every subscription without a call from the user;
- every `heartbeat_interval` s the whole list is re-sent (what Yahoo's own clients do),
  and websockets' protocol pings find dead TCP connections;
- a connection silent for `inactivity_timeout` s while one of its symbols should be
  trading (`is_trading`) is treated as dead: aborted and redialled (`Stalled` event);
  a closed market's silence is excused, so it causes no reconnect loop;
- every reconnect (after an error, a stall, or even a normal 1000 close) waits a capped,
  fully jittered exponential delay with a floor (`backoff.py`), reset only after a
  healthy connection — a new socket each time, never a tight loop;
- a shard left without symbols keeps its socket for `idle_grace` s, then closes it: no
  symbols, no upstream connection.

Frames are stamped (`clock_us`, µs) on receipt, before decoding. Quotes for wanted symbols
go to `quotes`, a bounded stream with **backpressure**: when it is full the reader waits
for the consumer (our own dispatcher, which must keep up) and stops reading the socket
meanwhile; such waits are counted (`quote_waits`) and do not count as silence. Or, after
`deliver_quotes_to(on_quote)`, they are handed to `on_quote` inside the socket's read
callback (`stream_connection.py`): no queue and no task switch per frame, for a consumer
that never blocks (the upstream manager feeding the dispatcher). Skips and decode errors
are counted (errors are logged, rate-limited), never delivered. Status events go to
`status`, bounded too, dropping the **oldest** event when nobody reads them.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Literal, Self

import anyio
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream
from loguru import logger
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.typing import Origin
from websockets.uri import parse_uri

from lib_common.ingestors.yahoo.backoff import Backoff, BackoffPolicy
from lib_common.ingestors.yahoo.codec import DecodeError, Skip, decode_frame
from lib_common.ingestors.yahoo.control import subscribe_message, unsubscribe_message
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.stream_connection import DirectTextConnection
from lib_common.ingestors.yahoo.stream_events import (
    Connected,
    Disconnected,
    Reconnecting,
    ShardClosed,
    Stalled,
    StreamCounters,
    StreamStats,
    StreamStatus,
)
from lib_common.ingestors.yahoo.stream_shards import PlanChange, ShardPlan
from lib_common.ingestors.yahoo.stream_watchdog import StallWatchdog
from lib_common.logging import TokenBucket
from lib_common.timeutil import utc_now, wall_clock_us
from lib_common.tls import TLSPolicy

__all__ = [
    "DEFAULT_STREAM_URL",
    "FrameTap",
    "QuoteSink",
    "StreamConfig",
    "TradingPredicate",
    "YahooStreamClient",
    "always_trading",
    "utc_now",
    "wall_clock_us",
]

DEFAULT_STREAM_URL: Final = "wss://streamer.finance.yahoo.com/?version=2"

TradingPredicate = Callable[[str, datetime], bool]
"""`is_trading(symbol, now)`: should `symbol` be producing quotes at `now` (aware UTC)?"""

FrameTap = Callable[[int, str | bytes], None]
"""`on_frame(received_us, frame)`: every raw upstream frame with its receipt stamp, before
decoding (garbage included). Called on the reader's hot path: it must not block or raise."""


QuoteSink = Callable[[Quote], None]
"""`on_quote(quote)`: takes one wanted quote on the reader's hot path; must not block."""


def always_trading(symbol: str, now: datetime) -> bool:
    """The default predicate: every symbol may trade at any time (all silence is suspect)."""
    return True


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """Settings of a `YahooStreamClient` (durations in seconds).

    url: the streamer (`ws://` or `wss://`); the default is Yahoo's — tests and demos pass
      a loopback simulator URL. max_symbols_per_connection: symbols per upstream socket.
    inactivity_timeout: silence (while symbols should trade) after which a connection is
      declared dead; 0 turns the watchdog off. heartbeat_interval: re-send the whole
      subscribe list this often; 0 turns it off. ping_interval/ping_timeout: websockets'
      protocol keepalive (None: off). open_timeout: handshake limit. close_timeout: how
      long a polite close may take before the socket is dropped. idle_grace: how long a
      shard with no symbols keeps its socket in case symbols come back.
    quote_buffer / status_buffer: bounds of the two output streams.
    origin: an `Origin` header to send (None: none; Yahoo needs none).
    proxy: websockets' proxy setting (True: from the environment; None: direct).
    tls: the TLS policy for `wss://` (None: `TLSPolicy()`, verifying with the system CAs).
    decode_error_log_interval: at most one decode-error log line per this many seconds
      after a burst of three.
    """

    url: str = DEFAULT_STREAM_URL
    max_symbols_per_connection: int = 100
    inactivity_timeout: float = 30.0
    heartbeat_interval: float = 15.0
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    idle_grace: float = 2.0
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    quote_buffer: int = 4096
    status_buffer: int = 256
    origin: str | None = None
    proxy: str | Literal[True] | None = True
    tls: TLSPolicy | None = None
    decode_error_log_interval: float = 10.0

    def __post_init__(self) -> None:
        try:
            parse_uri(self.url)
        except InvalidURI as exc:
            raise ValueError(f"not a WebSocket URL: {self.url!r} ({exc})") from exc
        if self.max_symbols_per_connection < 1:
            raise ValueError("max_symbols_per_connection must be >= 1")
        for name in ("inactivity_timeout", "heartbeat_interval", "idle_grace"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("open_timeout", "close_timeout", "decode_error_log_interval"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        if self.quote_buffer < 1 or self.status_buffer < 1:
            raise ValueError("quote_buffer and status_buffer must be >= 1")

    @property
    def secure(self) -> bool:
        """True for `wss://` URLs."""
        return parse_uri(self.url).secure


@dataclass(slots=True)
class _Ending:
    """Why one connection ended."""

    reason: str
    abort: bool = False  # drop the socket instead of a closing handshake (it is dead)
    idle: bool = False  # the shard was retired: do not redial


class _Shard:
    """The I/O side of one shard: its wake-up event and its backoff state."""

    __slots__ = ("backoff", "changed", "id")

    def __init__(self, shard_id: int, backoff: Backoff) -> None:
        self.id = shard_id
        self.backoff = backoff
        self.changed = anyio.Event()  # set when the plan changes this shard's symbols


class _Connection:
    """One open socket of a shard and what its tasks share."""

    __slots__ = ("busy", "failure", "frames", "opened", "watchdog", "ws")

    def __init__(self, ws: ClientConnection, opened: float, watchdog: StallWatchdog) -> None:
        self.ws = ws
        self.opened = opened
        self.watchdog = watchdog
        self.frames = 0
        self.busy = False  # the reader is waiting for the consumer, not for the socket
        self.failure: Exception | None = None  # raised by `on_quote` in a read callback


class YahooStreamClient:
    """Keeps the wanted symbols streaming from Yahoo; see the module docstring.

    Use as `async with YahooStreamClient(config) as client:` or `await tg.start(client.run)`.
    Read `client.quotes` (Quote) and `client.status` (StreamStatus); change the wanted set
    with `set_symbols` / `add` / `remove` at any time (before or while running). A client
    runs once; when it stops every socket is closed and both streams end.

    Injected for tests: `clock_us` (frame receipt stamp, µs), `wall_clock` (the `now` given
    to `is_trading`), `monotonic` (seconds: the stall watchdog's silences, connection
    lifetimes for the backoff), `rng`, and `sleep` (the reconnect delays and the watchdog's
    waits; a fake `sleep` must advance a fake `monotonic`). `on_frame` (optional) sees
    every raw frame before it is decoded, e.g. to record the upstream.
    """

    def __init__(
        self,
        config: StreamConfig | None = None,
        *,
        symbols: Iterable[str] = (),
        is_trading: TradingPredicate = always_trading,
        clock_us: Callable[[], int] = wall_clock_us,
        wall_clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        on_frame: FrameTap | None = None,
    ) -> None:
        self.config = config = config or StreamConfig()
        self._plan = ShardPlan(config.max_symbols_per_connection)
        self._plan.set_symbols(symbols)
        self._is_trading = is_trading
        self._clock_us = clock_us
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._rng = rng
        self._sleep = sleep
        self._on_frame = on_frame
        self._on_quote: QuoteSink | None = None
        self._quote_tx, self.quotes = anyio.create_memory_object_stream[Quote](config.quote_buffer)
        self._status_tx, self.status = anyio.create_memory_object_stream[StreamStatus](
            config.status_buffer
        )
        # Our own handle on the status buffer, to drop its oldest event when it is full.
        self._status_oldest: MemoryObjectReceiveStream[StreamStatus] = self.status.clone()
        self._counters = StreamCounters()
        self._shards: dict[int, _Shard] = {}
        self._connections = 0
        self._tg: TaskGroup | None = None
        self._outer: TaskGroup | None = None
        self._phase: Literal["new", "running", "done"] = "new"
        self._error_log = TokenBucket(config.decode_error_log_interval, burst=3)
        self._connect_kwargs = self._build_connect_kwargs()

    def deliver_quotes_to(self, on_quote: QuoteSink) -> None:
        """Hand every wanted quote to `on_quote` on the reader's hot path instead of
        queueing it on `quotes` (which then stays empty). Call before `run`. What
        `on_quote` raises stops the client, as an error of `run`."""
        if self._phase != "new":
            raise RuntimeError("deliver_quotes_to must be called before the client runs")
        self._on_quote = on_quote

    # -- the wanted symbols --------------------------------------------------------------

    @property
    def symbols(self) -> frozenset[str]:
        """The symbols wanted now."""
        return self._plan.symbols

    def set_symbols(self, symbols: Iterable[str]) -> None:
        """Want exactly `symbols`; only the difference is (un)subscribed upstream."""
        self._ensure_not_stopped()
        self._changed(self._plan.set_symbols(symbols))

    def add(self, symbols: Iterable[str]) -> None:
        """Also want `symbols`."""
        self._ensure_not_stopped()
        self._changed(self._plan.add(symbols))

    def remove(self, symbols: Iterable[str]) -> None:
        """Stop wanting `symbols`."""
        self._ensure_not_stopped()
        self._changed(self._plan.remove(symbols))

    def shard_of(self, symbol: str) -> int | None:
        """The shard (upstream connection slot) that carries `symbol`, if it is wanted."""
        return self._plan.shard_of(symbol)

    def stats(self) -> StreamStats:
        """A snapshot of the counters and gauges, for metrics."""
        return self._counters.snapshot(
            shards=len(self._plan.shard_ids()),
            connections=self._connections,
            symbols=len(self._plan),
        )

    def _ensure_not_stopped(self) -> None:
        if self._phase == "done":
            raise RuntimeError("the stream client has stopped")

    def _changed(self, change: PlanChange) -> None:
        for shard_id in change.touched:
            shard = self._shards.get(shard_id)
            if shard is not None:
                shard.changed.set()
            elif self._tg is not None:
                self._start_shard(shard_id)

    # -- lifetime ------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Stream until cancelled, then close every socket and end both streams."""
        if self._phase != "new":
            raise RuntimeError("a YahooStreamClient runs only once")
        self._phase = "running"
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                for shard_id in self._plan.shard_ids():
                    self._start_shard(shard_id)
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self._tg = None
            self._phase = "done"
            self._quote_tx.close()
            self._status_tx.close()
            self._status_oldest.close()

    async def __aenter__(self) -> Self:
        outer = anyio.create_task_group()
        await outer.__aenter__()
        try:
            await outer.start(self.run)
        except BaseException as exc:
            await outer.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        self._outer = outer
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        outer, self._outer = self._outer, None
        assert outer is not None, "__aexit__ without __aenter__"
        outer.cancel_scope.cancel()
        return await outer.__aexit__(exc_type, exc, tb)

    # -- one shard -----------------------------------------------------------------------

    def _start_shard(self, shard_id: int) -> None:
        assert self._tg is not None
        shard = _Shard(shard_id, Backoff(self.config.backoff, self._rng))
        self._shards[shard_id] = shard
        self._tg.start_soon(self._run_shard, shard, name=f"yahoo-stream shard {shard_id}")

    async def _run_shard(self, shard: _Shard) -> None:
        """Connect, serve, redial after a delay; until the shard is retired or shut down."""
        try:
            while True:
                if not await self._wait_for_symbols(shard):
                    self._emit(ShardClosed(shard.id, "idle"))
                    logger.info("yahoo stream shard {}: no symbols, closed", shard.id)
                    return
                ending = await self._connect_and_serve(shard)
                if ending.idle:
                    self._emit(ShardClosed(shard.id, "idle"))
                    return
                delay = shard.backoff.next_delay()
                self._counters.reconnects += 1
                self._emit(Reconnecting(shard.id, shard.backoff.attempt, delay, ending.reason))
                logger.warning(
                    "yahoo stream shard {}: {}; reconnecting in {:.2f} s (attempt {})",
                    shard.id,
                    ending.reason,
                    delay,
                    shard.backoff.attempt,
                )
                await self._sleep(delay)
        except anyio.get_cancelled_exc_class():
            self._emit(ShardClosed(shard.id, "shutdown"))
            raise
        finally:
            self._shards.pop(shard.id, None)

    async def _wait_for_symbols(self, shard: _Shard) -> bool:
        """True once the shard has symbols; False if it stayed empty for the grace (retired)."""
        with anyio.move_on_after(self.config.idle_grace):
            while True:
                shard.changed = anyio.Event()
                if self._plan.symbols_of(shard.id):
                    return True
                await shard.changed.wait()
        return not self._plan.retire(shard.id)

    async def _connect_and_serve(self, shard: _Shard) -> _Ending:
        url = self.config.url
        try:
            ws = await connect(url, create_connection=DirectTextConnection, **self._connect_kwargs)
        except (OSError, TimeoutError, WebSocketException) as exc:
            self._counters.connect_failures += 1
            return _Ending(f"connect failed: {_describe(exc)}")
        opened = self._monotonic()
        timeout = self.config.inactivity_timeout or math.inf
        conn = _Connection(ws, opened, StallWatchdog(timeout, opened))
        if self._on_quote is not None:
            assert isinstance(ws, DirectTextConnection)
            ws.on_text = lambda text: self._take_direct(shard, conn, text)
        self._connections += 1
        self._counters.connects += 1
        symbols = len(self._plan.symbols_of(shard.id))
        self._emit(Connected(shard.id, url, symbols, at_us=self._clock_us()))
        logger.info("yahoo stream shard {}: connected to {}", shard.id, url)
        ending = _Ending("cancelled")
        try:
            ending = await self._serve(shard, conn)
        finally:
            self._connections -= 1
            if isinstance(ws, DirectTextConnection):
                ws.on_text = None  # what still arrives while closing is discarded
            await self._close(ws, abort=ending.abort)
            shard.backoff.connection_ended(self._monotonic() - opened, conn.frames)
        # The upstream's close code, whoever started the close (None: no close frame came).
        received = ws.protocol.close_rcvd
        self._counters.disconnects += 1
        self._emit(Disconnected(shard.id, ending.reason, received.code if received else None))
        logger.info("yahoo stream shard {}: disconnected: {}", shard.id, ending.reason)
        return ending

    async def _serve(self, shard: _Shard, conn: _Connection) -> _Ending:
        """Run the reader, the writer and the watchdog until the first of them ends."""
        endings: list[_Ending] = []

        async with anyio.create_task_group() as tg:

            async def first_to_end(
                part: Callable[[_Shard, _Connection], Awaitable[_Ending]],
            ) -> None:
                try:
                    ending = await part(shard, conn)
                except ConnectionClosed as exc:
                    ending = _closed(exc)
                endings.append(ending)
                tg.cancel_scope.cancel()

            tg.start_soon(first_to_end, self._read)
            tg.start_soon(first_to_end, self._write)
            if self.config.inactivity_timeout > 0:
                tg.start_soon(first_to_end, self._watch)
        if conn.failure is not None:
            raise conn.failure
        return endings[0]

    async def _close(self, ws: ClientConnection, *, abort: bool) -> None:
        if abort:
            ws.transport.abort()
        # Shielded so that shutdown still closes politely; websockets bounds the handshake
        # by close_timeout and then drops the socket, the outer limit is a safety net.
        # Frames still arriving are discarded meanwhile: unread, they would fill websockets'
        # queue, pause the socket and hide the peer's close frame until the timeout.
        with anyio.move_on_after(self.config.close_timeout + 1.0, shield=True):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_discard, ws)
                await ws.close()

    # -- the three parts of a connection -------------------------------------------------

    async def _read(self, shard: _Shard, conn: _Connection) -> _Ending:
        """Stamp, decode and route every frame websockets queues, until the connection
        closes (with a direct consumer: the frames that skip the direct path)."""
        quote_tx = self._quote_tx
        counters = self._counters
        async for message in conn.ws:
            quote = self._accept(shard, conn, message)
            if quote is None:
                continue
            if self._on_quote is not None:
                self._take_quote(conn, quote)
                continue
            try:
                quote_tx.send_nowait(quote)
            except anyio.WouldBlock:
                counters.quote_waits += 1
                conn.busy = True
                try:
                    await quote_tx.send(quote)
                except anyio.BrokenResourceError:
                    counters.unwanted += 1  # the consumer closed `quotes`
                    continue
                finally:
                    conn.busy = False
                    conn.watchdog.activity(self._monotonic())
            except anyio.BrokenResourceError:
                counters.unwanted += 1
                continue
            counters.quotes += 1
        return _closed(conn.ws.close_exc)

    def _accept(self, shard: _Shard, conn: _Connection, message: str | bytes) -> Quote | None:
        """Stamp, count and decode one frame: the quote to deliver, if it is a wanted one."""
        received = self._clock_us()
        if self._on_frame is not None:
            self._on_frame(received, message)
        conn.watchdog.activity(self._monotonic())
        conn.frames += 1
        counters = self._counters
        counters.frames += 1
        result = decode_frame(message, received)
        if isinstance(result, Quote):
            if result.symbol in self._plan:
                return result
            counters.unwanted += 1
        elif isinstance(result, Skip):
            counters.skips[result.kind] += 1
        else:
            self._decode_error(shard, result)
        return None

    def _take_direct(self, shard: _Shard, conn: _Connection, message: str) -> None:
        """A frame on the direct path (inside the socket's read callback)."""
        if conn.failure is None:
            quote = self._accept(shard, conn, message)
            if quote is not None:
                self._take_quote(conn, quote)

    def _take_quote(self, conn: _Connection, quote: Quote) -> None:
        assert self._on_quote is not None
        try:
            self._on_quote(quote)
        except Exception as exc:
            # Not raised here (the event loop would only log it and drop the socket):
            # `_serve` raises it once the connection is down.
            conn.failure = exc
            conn.ws.transport.abort()
            return
        self._counters.quotes += 1

    async def _write(self, shard: _Shard, conn: _Connection) -> _Ending:
        """Send subscription diffs as the plan changes, and the periodic heartbeat."""
        ws = conn.ws
        interval = self.config.heartbeat_interval
        sent: dict[str, None] = {}  # what this socket was told, in order; empty when new
        # Heartbeats are timed by `move_on_after`, so they are measured on its clock (the
        # event loop's), not on the injectable `monotonic`.
        next_heartbeat = anyio.current_time() + interval if interval > 0 else math.inf
        while True:
            shard.changed = anyio.Event()
            wanted = self._plan.symbols_of(shard.id)
            await self._send_diff(ws, sent, wanted)
            if not wanted:
                with anyio.move_on_after(self.config.idle_grace):
                    await shard.changed.wait()
                    continue  # symbols came back within the grace: keep the socket
                if self._plan.retire(shard.id):
                    return _Ending("idle: no symbols", idle=True)
                continue
            now = anyio.current_time()
            if now >= next_heartbeat:
                await ws.send(subscribe_message(wanted))
                self._counters.heartbeats += 1
                self._counters.subscribe_messages += 1
                next_heartbeat = now + interval
            with anyio.move_on_after(next_heartbeat - now):
                await shard.changed.wait()

    async def _send_diff(
        self, ws: ClientConnection, sent: dict[str, None], wanted: tuple[str, ...]
    ) -> None:
        wanted_set = set(wanted)
        removed = [s for s in sent if s not in wanted_set]
        added = [s for s in wanted if s not in sent]
        if removed:
            for symbol in removed:
                del sent[symbol]
            await ws.send(unsubscribe_message(removed))
            self._counters.unsubscribe_messages += 1
        if added:
            sent.update(dict.fromkeys(added))
            await ws.send(subscribe_message(added))
            self._counters.subscribe_messages += 1

    async def _watch(self, shard: _Shard, conn: _Connection) -> _Ending:
        """End the connection once it has been silent too long while quotes were due."""
        watchdog = conn.watchdog
        while True:
            now = self._monotonic()
            if conn.busy:
                watchdog.activity(now)
            wait = watchdog.deadline() - now
            if wait > 0:
                await self._sleep(wait)
                continue
            silent = watchdog.check(now, expecting=self._quotes_due(shard.id))
            if silent is None:
                self._counters.excused_silences += 1
                continue
            self._counters.stalls += 1
            self._emit(Stalled(shard.id, silent))
            logger.warning(
                "yahoo stream shard {}: no frame for {:.2f} s while quotes were due: stalled",
                shard.id,
                silent,
            )
            return _Ending(f"stalled: no frame for {silent:.2f} s", abort=True)

    def _quotes_due(self, shard_id: int) -> bool:
        now = self._wall_clock()
        return any(self._is_trading(s, now) for s in self._plan.symbols_of(shard_id))

    # -- helpers -------------------------------------------------------------------------

    def _decode_error(self, shard: _Shard, error: DecodeError) -> None:
        errors = self._counters.decode_errors
        errors[error.kind] += 1
        if self._error_log.allow(self._monotonic()):
            logger.warning(
                "yahoo stream shard {}: undecodable frame ({}): {} ({} so far)",
                shard.id,
                error.kind,
                error.reason,
                errors.total(),
            )

    def _emit(self, event: StreamStatus) -> None:
        try:
            self._status_tx.send_nowait(event)
        except anyio.WouldBlock:
            # Nobody is reading: keep the newest events, drop the oldest.
            self._status_oldest.receive_nowait()
            self._counters.status_dropped += 1
            self._status_tx.send_nowait(event)
        except anyio.ClosedResourceError:
            pass  # stopped

    def _build_connect_kwargs(self) -> dict[str, Any]:
        config = self.config
        kwargs: dict[str, Any] = {
            "open_timeout": config.open_timeout,
            "close_timeout": config.close_timeout,
            "ping_interval": config.ping_interval,
            "ping_timeout": config.ping_timeout,
            "proxy": config.proxy,
        }
        if config.origin is not None:
            kwargs["origin"] = Origin(config.origin)
        if config.secure:
            policy = config.tls or TLSPolicy()
            kwargs["ssl"] = policy.ssl_context()
            if policy.server_hostname is not None:
                kwargs["server_hostname"] = policy.server_hostname
        return kwargs


def _closed(exc: ConnectionClosed) -> _Ending:
    """The ending of a connection that closed, from websockets' account of the close."""
    return _Ending(f"connection closed: {exc}")


async def _discard(ws: ClientConnection) -> None:
    """Read and drop frames until the connection is closed."""
    try:
        async for _ in ws:
            pass
    except ConnectionClosed:
        pass


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

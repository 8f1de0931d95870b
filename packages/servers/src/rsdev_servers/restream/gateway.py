"""The running restream: upstream manager → dispatcher → client sessions, and HTTP.

`RestreamGateway` wires the engine (lib_common.core) to the network (lib_common.net)
through the shared session plumbing (rsdev_servers.common):

- the `UpstreamManager` owns the Yahoo stream client, the REST poller, the CNN poller,
  the symbol registry and the last-value cache; its callbacks land here:
  `on_quote` → `Dispatcher.publish_quote` (encoded once, stamped `ts_library_out`, the
  same frame for every subscriber); `on_status` → one status frame broadcast to all;
  `on_indicator` → one indicator frame for `@fear_greed` subscribers;
- each WebSocket client is a session of the `SessionHub` (admission, rate limit, error
  budget); its requests are parsed by `protocol.parse_request` and applied synchronously;
- the HTTP endpoints read `health()`, `metrics_body()` and `snapshot()`.

The upstream side is anything with the manager's client-facing API (`GatewayUpstream`):
the `UpstreamManager` built here, or — given an `upstream` factory — a cluster node
(`rsdev_servers.cluster.ClusterUpstream`) whose quotes arrive already encoded from the
cluster's leader (`on_relayed_quote`: stamped and dispatched, never re-encoded).

`run(stop=…, announce=…)` listens, starts the manager, announces the URL and serves until
`stop` is set; then it writes what is queued, closes every client with 1001, and stops
the upstreams.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final, Protocol

import anyio
from anyio.abc import TaskStatus
from loguru import logger

from lib_common.core import (
    Dispatcher,
    MemoryGuard,
    RegistryChange,
    SymbolRegistry,
    UpstreamMode,
    Victim,
    check_symbols,
    encode_quote_message,
    is_indicator,
    wall_clock_us,
)
from lib_common.core.calendar import US_MARKETS, MarketCalendar
from lib_common.core.upstream_manager import UpstreamManager, UpstreamStatus
from lib_common.ingestors.cnn import FearGreed
from lib_common.ingestors.cnn import ScheduleSettings as FearGreedScheduleSettings
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.stream import FrameTap
from lib_common.net import WsConnection
from rsdev_servers.common.security import AccessPolicy, base_url
from rsdev_servers.common.serving import CLOSE_GOING_AWAY, serve_gateway
from rsdev_servers.common.sessions import ClientSession, SessionHub
from rsdev_servers.common.upstream import UpstreamPlan, UpstreamSources, build_manager
from rsdev_servers.restream.http_api import HttpApi, dashboard_root
from rsdev_servers.restream.messages import (
    encode_ack,
    encode_error,
    encode_indicator,
    encode_pong,
    encode_rejections,
    encode_status,
    indicator_json,
)
from rsdev_servers.restream.metrics import GatewaySnapshot, RestreamMetrics
from rsdev_servers.restream.protocol import (
    Ping,
    ProtocolError,
    RequestId,
    Subscribe,
    Unsubscribe,
    parse_request,
)
from rsdev_servers.restream.settings import RestreamSettings

__all__ = [
    "CLOSE_GOING_AWAY",
    "GatewayUpstream",
    "RelayedQuote",
    "RestreamGateway",
    "UpstreamCallbacks",
    "UpstreamFactory",
    "UpstreamSources",
    "Upstreams",
    "base_url",
]

WS_PATH: Final = "/ws"


@dataclass(frozen=True, slots=True)
class Upstreams:
    """Where the quotes come from: the Yahoo streamer, Yahoo REST base, CNN base.
    `frame_tap` sees every raw stream frame before decoding (`--record`)."""

    ws_url: str
    rest_url: str
    cnn_url: str
    fear_greed_schedule: FearGreedScheduleSettings | None = None
    frame_tap: FrameTap | None = None


class RelayedQuote(Protocol):
    """A quote another process encoded (cluster mode): `payload(ts_library_out)` is the
    complete client message, stamped with the dispatch time."""

    @property
    def symbol(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def ts_upstream(self) -> int: ...

    @property
    def ts_library_in(self) -> int: ...

    def payload(self, ts_library_out: int) -> bytes: ...


class HealthView(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


class GatewayUpstream(Protocol):
    """The upstream side as the gateway uses it: `UpstreamManager[int]`, or a cluster node."""

    @property
    def registry(self) -> SymbolRegistry[int]: ...

    @property
    def mode(self) -> UpstreamMode: ...

    def subscribe(self, client: int, symbols: Iterable[object]) -> RegistryChange: ...

    def unsubscribe(self, client: int, symbols: Iterable[object]) -> RegistryChange: ...

    def disconnect(self, client: int) -> RegistryChange: ...

    def subscribers(self, symbol: str) -> Collection[int]: ...

    def last_quote(self, symbol: str) -> Quote | None: ...

    def last_indicator(self, name: str) -> FearGreed | None: ...

    def status(self) -> UpstreamStatus: ...

    def health(self) -> HealthView: ...

    async def run(self, *, task_status: TaskStatus[None] = ...) -> None: ...


@dataclass(frozen=True, slots=True)
class UpstreamCallbacks:
    """Where the upstream side hands its values to the gateway."""

    on_quote: Callable[[Quote], None]
    on_status: Callable[[UpstreamStatus], None]
    on_indicator: Callable[[FearGreed], None]
    on_relayed_quote: Callable[[RelayedQuote], None]


UpstreamFactory = Callable[["RestreamGateway"], GatewayUpstream]
"""Builds the gateway's upstream side from the gateway (its `callbacks`, `new_manager`)."""


def _version() -> str:
    try:
        return metadata.version("rsdev-servers")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare tree
        return "unknown"


class RestreamGateway:
    """One restream process's engine, sessions and endpoints.

    The upstream sources are built from `upstreams` (URLs), or given ready-made as
    `sources`. `quote_taps`, `status_taps` and `indicator_taps` are called with every
    value the manager hands over, before the fan-out (recording hooks; keep them cheap).
    `upstream` replaces the upstream manager (cluster mode).
    """

    def __init__(
        self,
        settings: RestreamSettings,
        upstreams: Upstreams | UpstreamSources,
        *,
        calendar: MarketCalendar = US_MARKETS,
        demo: bool = False,
        upstream: UpstreamFactory | None = None,
    ) -> None:
        self.settings = settings
        self.demo = demo
        self._upstreams = upstreams
        self._calendar = calendar
        self._started = time.monotonic()
        self._version = _version()
        self.policy = AccessPolicy(token=settings.auth_token, allowed_origins=settings.allow_origin)
        self.quote_taps: list[Callable[[Quote], object]] = []
        self.status_taps: list[Callable[[UpstreamStatus], object]] = []
        self.indicator_taps: list[Callable[[FearGreed], object]] = []
        self.callbacks = UpstreamCallbacks(
            self._on_quote, self._on_status, self._on_indicator, self._on_relayed_quote
        )
        self.manager: GatewayUpstream
        if upstream is None:
            self.manager = self.new_manager(
                on_quote=self._on_quote, on_status=self._on_status, on_indicator=self._on_indicator
            )
        else:
            self.manager = upstream(self)
        self._last_out = 0
        self.dispatcher: Dispatcher[int] = Dispatcher(
            self.manager,
            guard=MemoryGuard(budget=settings.memory_budget, client_cap=settings.max_client_buffer),
            clock_us=self._stamp_out,
            on_evict=self._on_evict,
        )
        self.hub = SessionHub(
            self.dispatcher,
            self.policy,
            limits=settings.client_limits(),
            error_frame=self._error_frame,
        )
        self.metrics = RestreamMetrics(self._metrics_snapshot)
        self._status_frame = self._encode_status(self.manager.status())
        self._mode = self.manager.mode.value
        self._indicator_in: dict[str, int] = {}
        self.port: int | None = None

    def new_manager(
        self,
        *,
        on_quote: Callable[[Quote], None],
        on_status: Callable[[UpstreamStatus], None],
        on_indicator: Callable[[FearGreed], None],
        client_limit: int | None = None,
    ) -> UpstreamManager[Any]:
        """An upstream manager with this gateway's sources and settings. A cluster leader
        builds a fresh one per term, its clients being nodes (`client_limit`: symbols per
        node). Ready-made `UpstreamSources` run once: they make one manager only."""
        settings = self.settings
        upstreams = self._upstreams
        if isinstance(upstreams, Upstreams):
            upstream: UpstreamPlan | UpstreamSources = UpstreamPlan(
                stream_url=upstreams.ws_url,
                rest_url=upstreams.rest_url,
                cnn_url=upstreams.cnn_url,
                inactivity_timeout=settings.inactivity_timeout,
                poll_interval=settings.poll_interval,
                fear_greed_schedule=upstreams.fear_greed_schedule,
                fear_greed_always_open=self.demo,
                frame_tap=upstreams.frame_tap,
            )
        else:
            upstream = upstreams
        return build_manager(
            upstream,
            settings.manager_settings(client_limit),
            on_quote=on_quote,
            on_status=on_status,
            on_indicator=on_indicator,
            calendar=self._calendar,
        )

    # -- running ------------------------------------------------------------------------

    async def run(self, *, stop: anyio.Event, announce: Callable[[str], Any]) -> None:
        """Listen, start the upstreams, announce the URL, serve until `stop` is set."""
        settings = self.settings
        async with serve_gateway(
            app="restream",
            host=settings.host,
            port=settings.port,
            ws_path=WS_PATH,
            max_frame=settings.max_frame_bytes,
            hub=self.hub,
            http_handler=HttpApi(self, self.policy, dashboard=dashboard_root()),
            ws_handler=self._serve_client,
            upstream=self.manager.run,
        ) as server:
            self.port = server.port
            url = base_url(settings.host, server.port)
            logger.info(
                "restream listening: dashboard {} feed {}ws", url, url.replace("http", "ws", 1)
            )
            announce(url)
            await stop.wait()

    async def _serve_client(self, conn: WsConnection) -> None:
        await self.hub.serve(conn, self)

    # -- upstream callbacks (hot path) ----------------------------------------------------

    def _stamp_out(self) -> int:
        self._last_out = now = wall_clock_us()
        return now

    def _on_quote(self, quote: Quote) -> None:
        for tap in self.quote_taps:
            tap(quote)
        self.metrics.quote_in(quote.source, quote.ts_upstream, quote.ts_library_in)
        if self.dispatcher.publish_quote(quote):
            self.metrics.quote_out(quote.ts_library_in, self._last_out)

    def _on_relayed_quote(self, quote: RelayedQuote) -> None:
        self.metrics.quote_in(quote.source, quote.ts_upstream, quote.ts_library_in)
        ts_out = self._stamp_out()
        if self.dispatcher.publish(quote.symbol, self.dispatcher.encode(quote.payload(ts_out))):
            self.metrics.quote_out(quote.ts_library_in, ts_out)

    def _on_status(self, status: UpstreamStatus) -> None:
        for tap in self.status_taps:
            tap(status)
        self._status_frame = frame = self._encode_status(status)
        mode = status.mode.value
        if mode != self._mode:
            self._mode = mode
            self.metrics.status_changes.labels(mode).inc()
        self.dispatcher.broadcast(frame)

    def _encode_status(self, status: UpstreamStatus) -> bytes:
        payload = encode_status(
            status.mode.value,
            status.market.value,
            status.at_us,
            reason=status.reason,
            upstream=status.upstream.value,
        )
        return self.dispatcher.encode(payload)

    def _on_indicator(self, value: FearGreed) -> None:
        for tap in self.indicator_taps:
            tap(value)
        ts_in = wall_clock_us()
        self._indicator_in["fear_greed"] = ts_in
        self.metrics.indicators_in.labels("fear_greed").inc()
        symbol = "@fear_greed"
        if self.manager.subscribers(symbol):
            payload = encode_indicator(value, ts_library_in=ts_in, ts_library_out=wall_clock_us())
            self.dispatcher.publish(symbol, self.dispatcher.encode(payload))

    def _on_evict(self, victim: Victim[int]) -> None:
        session = self.hub.sessions.get(victim.client)
        remote = session.remote if session is not None else "?"
        logger.warning(
            "client {} {} dropped ({}, {} bytes buffered)",
            victim.client,
            remote,
            victim.reason.value,
            victim.buffered,
        )

    # -- sessions (SessionHandler) --------------------------------------------------------

    def _error_frame(self, code: str, message: str, extra: Mapping[str, Any]) -> bytes:
        return self.dispatcher.encode(encode_error(code, message, **extra))

    def on_open(self, session: ClientSession) -> None:
        session.send(self._status_frame)

    def on_close(self, session: ClientSession) -> None:
        self.manager.disconnect(session.id)

    def on_message(self, session: ClientSession, message: str | bytes) -> None:
        request = parse_request(message, max_symbols=self.settings.max_symbols_per_client)
        if isinstance(request, Ping):
            session.send(self.dispatcher.encode(encode_pong(request.id, wall_clock_us())))
        elif isinstance(request, Subscribe):
            self._subscribe(session, request)
        elif isinstance(request, Unsubscribe):
            self._unsubscribe(session, request)
        else:
            assert isinstance(request, ProtocolError)
            session.reject(request.code, request.message, **_id(request.id))

    def _subscribe(self, session: ClientSession, request: Subscribe) -> None:
        change = self.manager.subscribe(session.id, request.symbols)
        held = change.added + change.unchanged
        if held:
            session.send(self.dispatcher.encode(encode_ack("subscribed", held, request.id)))
        self._reject_symbols(session, change.rejected, request.id)
        encode = self.dispatcher.encode
        for symbol in held:
            if is_indicator(symbol):
                value = self.manager.last_indicator(symbol)
                if value is not None:
                    payload = encode_indicator(
                        value,
                        ts_library_in=self._indicator_in.get(symbol[1:], 0),
                        ts_library_out=wall_clock_us(),
                        snapshot=True,
                    )
                    session.send(encode(payload))
                continue
            quote = self.manager.last_quote(symbol)
            if quote is not None:
                payload = encode_quote_message(quote, wall_clock_us(), message_type="snapshot")
                session.send(encode(payload))

    def _unsubscribe(self, session: ClientSession, request: Unsubscribe) -> None:
        change = self.manager.unsubscribe(session.id, request.symbols)
        if change.removed:
            session.send(
                self.dispatcher.encode(encode_ack("unsubscribed", change.removed, request.id))
            )
        self._reject_symbols(session, change.rejected, request.id)

    def _reject_symbols(
        self, session: ClientSession, rejected: tuple[Any, ...], request_id: RequestId
    ) -> None:
        if not rejected:
            return
        for code, payload in encode_rejections(rejected, request_id):
            session.send_error(code, self.dispatcher.encode(payload))

    # -- HTTP views (GatewayView) ---------------------------------------------------------

    def health(self) -> Mapping[str, Any]:
        """The `/health` body."""
        upstream = self.manager.health()
        view = upstream.as_dict()
        mode = view["mode"]
        stream_state = view["upstream"]["state"]
        degraded = mode == "polling" or (
            mode == "streaming" and stream_state in ("stalled", "down")
        )
        guard = self.dispatcher.guard.stats()
        body = {
            "status": "degraded" if degraded else "ok",
            "mode": mode,
            "market": view["market"],
            "market_open": view["market_open"],
            "reason": view["reason"],
            "mode_age_s": view["mode_age_s"],
            "upstream": view["upstream"],
            "clients": {"total": len(self.hub.sessions), "by_priority": self.hub.by_priority()},
            "symbols": view["symbols"],
            "memory": {
                "guarded_bytes": guard.guarded_bytes,
                "peak_bytes": guard.peak_bytes,
                "budget_bytes": guard.budget,
            },
            "counts": view["counts"],
            "uptime_s": round(time.monotonic() - self._started, 3),
            "version": self._version,
            "demo": self.demo,
        }
        cluster = view.get("cluster")
        if cluster is not None:  # cluster mode: role, leader, Redis and bus lag
            body["cluster"] = cluster
            if not cluster.get("healthy", True):
                body["status"] = "degraded"
        return body

    def metrics_body(self) -> bytes:
        """The `/metrics` body."""
        return self.metrics.render()

    def snapshot(self, symbols: list[str] | None) -> Mapping[str, Any]:
        """The `/snapshot` body: last values of `symbols` (all followed symbols if None)."""
        names: Sequence[object] = (
            sorted(self.manager.registry.upstream_symbols()) if symbols is None else symbols
        )
        valid, rejected = check_symbols(names)
        now = wall_clock_us()
        quotes: dict[str, Any] = {}
        indicators: dict[str, Any] = {}
        missing: list[str] = []
        for symbol in valid:
            if is_indicator(symbol):
                value = self.manager.last_indicator(symbol)
                if value is None:
                    missing.append(symbol)
                else:
                    name = symbol[1:]
                    indicators[name] = indicator_json(
                        value, ts_library_in=self._indicator_in.get(name, 0), ts_library_out=now
                    )
                continue
            quote = self.manager.last_quote(symbol)
            if quote is None:
                missing.append(symbol)
            else:
                quotes[symbol] = json.loads(
                    encode_quote_message(quote, now, message_type="snapshot")
                )
        return {
            "quotes": quotes,
            "indicators": indicators,
            "missing": missing,
            "rejected": [
                {"symbol": r.symbol, "reason": r.reason, "message": r.message} for r in rejected
            ],
            "ts": now,
        }

    def _metrics_snapshot(self) -> GatewaySnapshot:
        registry = self.manager.registry.stats()
        return GatewaySnapshot(
            dispatcher=self.dispatcher.stats(),
            guard=self.dispatcher.guard.stats(),
            clients_by_priority=self.hub.by_priority(),
            mode=self.manager.mode.value,
            active_symbols=registry.active_symbols,
            lingering_symbols=registry.lingering_symbols,
            connections_total=self.hub.connections_total,
            refused=dict(self.hub.refused),
            client_errors=dict(self.hub.errors),
            client_messages=self.hub.messages_total,
            uptime=time.monotonic() - self._started,
        )


def _id(request_id: RequestId) -> dict[str, Any]:
    return {} if request_id is None else {"id": request_id}

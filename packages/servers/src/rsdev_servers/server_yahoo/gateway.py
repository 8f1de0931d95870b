"""server-yahoo assembled: the shared engine behind a Yahoo-protocol WebSocket endpoint.

```
Yahoo WSS / REST ─▶ UpstreamManager (registry + linger, modes, last values)
                        │ on_quote(quote)
                        ▼
                    QuoteFanout ── payload (upstream bytes, or encode_pricing when polled)
                        │           framed once per format that has subscribers
                        ▼
                    Dispatcher (topics "v2|SYM" / "legacy|SYM", memory guard, batching)
                        ▼
clients ◀── lib_common.net server ◀── SessionHub (auth gate, rate limit, error budget)
                                         └─ YahooSessionHandler (control messages → manager)
```

One port: WebSocket upgrades on `/` (the format from `?version=`), plain HTTP for
`/health`, `/metrics` and an index page. `YahooGateway.run(stop)` serves until `stop` is
set, then writes what is queued, closes clients with 1001, stops the upstream and returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import anyio
from anyio.abc import TaskStatus
from loguru import logger

from lib_common.core import Dispatcher, MemoryGuard, UpstreamMode, Victim
from lib_common.core.calendar import MarketCalendar
from lib_common.core.clock import SYSTEM_CLOCK, Clock
from lib_common.core.upstream_manager import UpstreamStatus
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.net import Server, WsConnection
from rsdev_servers.common.security import AccessPolicy
from rsdev_servers.common.serving import serve_gateway
from rsdev_servers.common.sessions import SessionHub
from rsdev_servers.common.upstream import UpstreamPlan, build_manager
from rsdev_servers.server_yahoo.fanout import QuoteFanout
from rsdev_servers.server_yahoo.handler import YahooSessionHandler
from rsdev_servers.server_yahoo.http_api import HttpApi
from rsdev_servers.server_yahoo.metrics import GatewaySnapshot, YahooMetrics
from rsdev_servers.server_yahoo.settings import YahooGatewaySettings
from rsdev_servers.server_yahoo.topics import FormatTopics

__all__ = ["YahooGateway"]

WS_PATH: Final = "/"  # Yahoo's streamer path; `?version=2` picks the format


class YahooGateway:
    """One server-yahoo instance: build it, then `await tg.start(gateway.run, stop)`."""

    def __init__(
        self,
        settings: YahooGatewaySettings,
        *,
        upstream: UpstreamPlan,
        calendar: MarketCalendar,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self.upstream = upstream
        self._clock = clock
        self._started = clock.monotonic()
        self.topics = FormatTopics()
        self.dispatcher = Dispatcher[int](
            self.topics,
            guard=MemoryGuard(budget=settings.memory_budget, client_cap=settings.max_client_buffer),
            on_evict=self._evicted,
            final_frames=None,  # Yahoo's protocol has no error message: the close alone
        )
        self.fanout = QuoteFanout(self.dispatcher, self.topics)
        self.manager = build_manager(
            upstream,
            settings.manager_settings(),
            on_quote=self._quote,
            on_status=self._status,
            calendar=calendar,
            clock=clock,
        )
        self.policy = AccessPolicy(token=settings.auth_token, allowed_origins=settings.allow_origin)
        self.hub = SessionHub(
            self.dispatcher,
            self.policy,
            limits=settings.client_limits(max_errors=settings.max_errors),
            clock=clock.monotonic,
        )
        self.handler = YahooSessionHandler(
            self.manager, self.topics, self.fanout, clock=clock.monotonic
        )
        self.metrics = YahooMetrics(self.snapshot)
        self.http = HttpApi(self, self.policy)
        self.server: Server | None = None

    # -- running ------------------------------------------------------------------------

    async def run(
        self,
        stop: anyio.Event,
        *,
        announce: Callable[[Server], object] | None = None,
        task_status: TaskStatus[Server] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen, run the upstream, serve clients until `stop` is set; then shut down.

        `announce(server)` is called once listening (the CLI prints the URLs). A failure
        to listen raises `BindError` (one line) before `task_status.started`.
        """
        settings = self.settings
        async with serve_gateway(
            app="server-yahoo",
            host=settings.host,
            port=settings.port,
            ws_path=WS_PATH,
            max_frame=settings.max_frame_bytes,
            hub=self.hub,
            http_handler=self.http,
            ws_handler=self._serve_client,
            upstream=self.manager.run,
        ) as server:
            self.server = server
            logger.info("server-yahoo listening on {}:{}", settings.host, server.port)
            if announce is not None:
                announce(server)
            task_status.started(server)
            await stop.wait()

    async def _serve_client(self, conn: WsConnection) -> None:
        await self.hub.serve(conn, self.handler)

    def _quote(self, quote: Quote) -> None:
        self.fanout.publish(quote)

    def _status(self, status: UpstreamStatus) -> None:
        # Yahoo's protocol has no status message: clients just keep receiving quotes.
        logger.debug("upstream status: {} ({})", status.mode.value, status.reason)

    def _evicted(self, victim: Victim[int]) -> None:
        session = self.hub.sessions.get(victim.client)
        logger.warning(
            "client {} {} dropped: {} ({} bytes buffered)",
            victim.client,
            session.remote if session is not None else "?",
            victim.reason.value,
            victim.buffered,
        )

    # -- views --------------------------------------------------------------------------

    def snapshot(self) -> GatewaySnapshot:
        """Every counter now (for /metrics)."""
        counters = self.handler.counters
        return GatewaySnapshot(
            dispatcher=self.dispatcher.stats(),
            guard=self.dispatcher.guard.stats(),
            upstream=self.manager.stats(),
            fanout=self.fanout.stats,
            clients_by_format={f.value: n for f, n in self.topics.clients_by_format().items()},
            control_messages=dict(counters.messages),
            invalid_control=dict(counters.invalid),
            ignored_symbols=dict(counters.ignored_symbols),
            resubscribed_symbols=counters.resubscribed,
            connections_total=self.hub.connections_total,
            refused=dict(self.hub.refused),
            client_errors=dict(self.hub.errors),
            mode=self.manager.mode.value,
            uptime=self._clock.monotonic() - self._started,
        )

    def metrics_body(self) -> bytes:
        return self.metrics.render()

    def health(self) -> Mapping[str, Any]:
        """The /health body: 'ok' while streaming or idle, 'degraded' while polling."""
        upstream = self.manager.health()
        clients = {f.value: n for f, n in self.topics.clients_by_format().items()}
        return {
            "status": "degraded" if upstream.mode is UpstreamMode.POLLING else "ok",
            "service": "server-yahoo",
            "uptime_s": round(self._clock.monotonic() - self._started, 3),
            "clients": {"total": sum(clients.values()), **clients},
            "upstream": upstream.as_dict(),
            "memory": {
                "guarded_bytes": self.dispatcher.guard.total,
                "budget_bytes": self.dispatcher.guard.budget,
            },
            "time": self._clock.time(),
        }

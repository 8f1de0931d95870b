"""One gateway's time on the network: listen, run the upstream, serve, stop in order.

`async with serve_gateway(…) as server:` opens the listening socket (WebSocket upgrades on
`ws_path`, refused by the hub's handshake gate before they are accepted; the rest is
plain HTTP), learns the bound port for the Origin check, starts the upstream task and the
hub's drain ticks, and yields the running `Server`. Leaving the block stops in order:
clients first (their queued frames written, then 1001), then the listening socket, then
the upstream. Both gateways use the same network timings below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Final

import anyio
from loguru import logger

from lib_common.net import HttpHandler, Server, ServerSettings, WsConnection
from rsdev_servers.common.lifecycle import open_server
from rsdev_servers.common.sessions import SessionHub

__all__ = ["CLOSE_GOING_AWAY", "serve_gateway"]

CLOSE_GOING_AWAY: Final = 1001
PING_INTERVAL: Final = 30.0  # keepalive: a client that answers no ping for 30 s is gone
CLOSE_TIMEOUT: Final = 2.0
SHUTDOWN_TIMEOUT: Final = 2.0
INBOUND_QUEUE: Final = 16  # client messages buffered before reading pauses


@asynccontextmanager
async def serve_gateway(
    *,
    app: str,
    host: str,
    port: int,
    ws_path: str,
    max_frame: int,
    hub: SessionHub,
    http_handler: HttpHandler,
    ws_handler: Callable[[WsConnection], Awaitable[None]],
    upstream: Callable[..., Coroutine[Any, Any, Any]],
) -> AsyncIterator[Server]:
    """Serve `app` on `host`:`port` for the duration of the block (module docstring).

    `upstream(task_status=…)` is started (and waited for) before the block runs; it is
    cancelled last on the way out.
    """
    policy = hub.policy
    net = ServerSettings(
        max_frame=max_frame,
        max_queue=INBOUND_QUEUE,
        ws_paths=frozenset({ws_path}),
        origins=policy.handshake_origins(),
        ws_gate=hub.handshake_gate(app),
        ping_interval=PING_INTERVAL,
        close_timeout=CLOSE_TIMEOUT,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    async with AsyncExitStack() as stack:
        server = await open_server(
            stack, host, port, http_handler=http_handler, ws_handler=ws_handler, settings=net
        )
        policy.listening_on(host, server.port)
        tg = await stack.enter_async_context(anyio.create_task_group())
        await tg.start(upstream)
        tg.start_soon(hub.run_drain_ticks)
        yield server
        logger.info("{} stopping: closing {} clients", app, len(hub.sessions))
        hub.close_all(CLOSE_GOING_AWAY, "server shutting down")
        await server.shutdown(CLOSE_GOING_AWAY, "server shutting down")
        tg.cancel_scope.cancel()  # the upstream manager closes its connections
    logger.info("{} stopped", app)

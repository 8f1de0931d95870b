"""The `server-yahoo` console script: settings, logging, the demo simulator, the process.

`main(argv)` returns the exit code (the console script passes it to `sys.exit`); the
process around the gateway (signals, the 5 s shutdown watchdog, one-line start-up errors)
is the shared `rsdev_servers.common.lifecycle.serve_until_stopped`:

| code | meaning |
|---|---|
| 0 | stopped cleanly (SIGINT/SIGTERM) |
| 1 | failed at run time, or a shutdown that had to be forced after 5 s |
| 2 | bad option, environment variable or config file; refused setting (e.g. a |
|   | non-loopback `--host` without an auth token) |
| 3 | cannot listen (address in use, no such address, permission) |

Once listening, server-yahoo prints its URLs on stdout; the first line is always
`server-yahoo listening on http://HOST:PORT`. Logs go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

import anyio

from rsdev_servers.common.lifecycle import run_console_script
from rsdev_servers.common.security import shown_host
from rsdev_servers.server_yahoo.settings import OPTIONS, YahooGatewaySettings, load_settings

if TYPE_CHECKING:
    from lib_common.net import Server
    from rsdev_servers.common.upstream import UpstreamPlan

__all__ = ["DEMO_RATE", "main", "shown_host", "upstream_plan"]

DEMO_RATE: Final = 20.0  # simulator quotes per second across the subscribed symbols


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run server-yahoo; returns the exit code (see the module docstring)."""
    return run_console_script(
        "server-yahoo", load=lambda: load_settings(argv, environ), options=OPTIONS, run=_run
    )


async def _run(settings: YahooGatewaySettings, stop: anyio.Event) -> None:
    # The engine is imported only now: a bad command line fails in a fraction of a second.
    from lib_common.core.calendar import ALWAYS_OPEN, US_MARKETS
    from lib_common.sim import SimConfig, run_simulator
    from rsdev_servers.server_yahoo.gateway import YahooGateway

    if not settings.demo:
        plan = upstream_plan(settings, settings.upstream_ws, settings.upstream_rest)
        gateway = YahooGateway(settings, upstream=plan, calendar=US_MARKETS)
        await gateway.run(stop, announce=lambda server: _announce(server, settings, plan, None))
        return
    async with run_simulator(SimConfig(host="127.0.0.1", port=0, rate=DEMO_RATE)) as sim:
        plan = upstream_plan(settings, sim.ws_url, sim.rest_url)
        gateway = YahooGateway(settings, upstream=plan, calendar=ALWAYS_OPEN)
        await gateway.run(
            stop, announce=lambda server: _announce(server, settings, plan, sim.base_url)
        )


def upstream_plan(settings: YahooGatewaySettings, stream_url: str, rest_url: str) -> UpstreamPlan:
    """Where `settings`' upstream is (these URLs) and its stream/poll timings."""
    from rsdev_servers.common.upstream import UpstreamPlan

    return UpstreamPlan(
        stream_url=stream_url,
        rest_url=rest_url,
        inactivity_timeout=settings.inactivity_timeout,
        poll_interval=settings.poll_interval,
        reconnect_max_delay=settings.reconnect_max_delay,
        heartbeat_interval=settings.upstream_heartbeat,
    )


def _announce(
    server: Server, settings: YahooGatewaySettings, plan: UpstreamPlan, demo_url: str | None
) -> None:
    where = f"{shown_host(settings.host)}:{server.port}"
    lines = [
        f"server-yahoo listening on http://{where}",
        f"  stream   ws://{where}/?version=2  (legacy frames: ws://{where}/)",
        f"  health   http://{where}/health   metrics http://{where}/metrics",
        f"  upstream {plan.stream_url}  (REST {plan.rest_url})",
    ]
    if demo_url is not None:
        lines.append(f"  demo     simulated Yahoo at {demo_url}, market always open")
        lines.append(
            f"  try      python -m websockets 'ws://{where}/?version=2'  and type "
            '{"subscribe":["AAPL","BTC-USD"]}'
        )
    if settings.auth_token:
        lines.append("  auth     token required: ?token=TOKEN or Authorization: Bearer TOKEN")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()

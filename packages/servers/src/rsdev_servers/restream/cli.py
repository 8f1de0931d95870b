"""The `restream` console script: settings, logging, the demo simulator, the process.

`main(argv)` returns the exit code (the console script passes it to `sys.exit`):

| code | meaning |
|---|---|
| 0 | stopped cleanly (SIGINT/SIGTERM) |
| 1 | failed at run time, or a shutdown that had to be forced after 5 s |
| 2 | bad option, environment variable or config file; refused setting (e.g. a |
|   | non-loopback `--host` without an auth token) |
| 3 | cannot listen (address in use, no such address, permission) |

Once listening, restream prints one line on stdout, its base URL
(`http://127.0.0.1:8765/`); everything else (logs) goes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Final

import anyio
from lib_common.logging import setup_logging_from_args
from loguru import logger

from rsdev_servers.common.lifecycle import DEFAULT_GRACE, serve_until_stopped
from rsdev_servers.common.settings import EXIT_CONFIG, SettingsError
from rsdev_servers.restream.settings import OPTIONS, RestreamSettings, load_settings

__all__ = ["DEMO_RATE", "main"]

DEMO_RATE: Final = 20.0  # simulator quotes per second across the subscribed symbols


def _announce(url: str) -> None:
    sys.stdout.write(url + "\n")
    sys.stdout.flush()


async def _run(settings: RestreamSettings, stop: anyio.Event) -> None:
    # The engine is imported only now: a bad command line fails in a fraction of a second.
    from lib_common.core.calendar import ALWAYS_OPEN
    from lib_common.ingestors.cnn import ScheduleSettings
    from lib_common.sim import SimConfig, run_simulator

    from rsdev_servers.restream.gateway import RestreamGateway, Upstreams

    if not settings.demo:
        upstreams = Upstreams(settings.upstream_ws, settings.upstream_rest, settings.cnn_base_url)
        await RestreamGateway(settings, upstreams).run(stop=stop, announce=_announce)
        return
    async with run_simulator(SimConfig(host="127.0.0.1", port=0, rate=DEMO_RATE)) as sim:

        def announce(url: str) -> None:
            logger.info("demo: simulated Yahoo and CNN at {} (market always open)", sim.base_url)
            logger.info(
                "demo: open {} in a browser, or connect to {}ws", url, url.replace("http", "ws", 1)
            )
            _announce(url)

        # The simulated index moves with time: poll it often enough for a lively demo.
        fear_greed = ScheduleSettings(min_interval=5.0, base=15.0, max_interval=60.0)
        upstreams = Upstreams(sim.ws_url, sim.rest_url, sim.base_url, fear_greed)
        gateway = RestreamGateway(settings, upstreams, calendar=ALWAYS_OPEN, demo=True)
        await gateway.run(stop=stop, announce=announce)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run restream; returns the exit code (see the module docstring)."""
    try:
        settings, args, resolved = load_settings(argv, environ)
    except SettingsError as exc:
        sys.stderr.write(f"restream: error: {exc}\n")
        return EXIT_CONFIG
    try:
        handle = setup_logging_from_args("restream", args)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"restream: error: logging: {exc}\n")
        return EXIT_CONFIG
    try:
        logger.debug("settings: {}", resolved.describe(OPTIONS))
        return serve_until_stopped(
            lambda stop: _run(settings, stop), app="restream", grace=DEFAULT_GRACE
        )
    finally:
        handle.close()

"""The `restream` console script: settings, logging, --demo, --record/--replay, --cluster,
the process.

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
from contextlib import AsyncExitStack
from typing import Final

import anyio
from loguru import logger

from rsdev_servers.common.lifecycle import run_console_script
from rsdev_servers.restream.settings import OPTIONS, RestreamSettings, load_settings

__all__ = ["DEMO_RATE", "main"]

DEMO_RATE: Final = 20.0  # simulator quotes per second across the subscribed symbols


def _announce(url: str) -> None:
    sys.stdout.write(url + "\n")
    sys.stdout.flush()


async def _run(settings: RestreamSettings, stop: anyio.Event) -> None:
    from rsdev_servers.restream.recording import check_record_path, check_recording, open_recorder

    # Before the heavy imports, so that a bad file fails fast.
    if settings.replay:
        check_recording(settings.replay)
    if settings.record:
        check_record_path(settings.record)
    # The engine is imported only now: a bad command line fails in a fraction of a second.
    from dataclasses import replace

    from lib_common.core.calendar import ALWAYS_OPEN, US_MARKETS, MarketCalendar
    from lib_common.ingestors.cnn import ScheduleSettings
    from lib_common.sim import SimConfig, run_simulator
    from rsdev_servers.restream.gateway import RestreamGateway, Upstreams
    from rsdev_servers.restream.replay import run_replay

    async with AsyncExitStack() as stack:
        notes: list[str] = []
        calendar: MarketCalendar = US_MARKETS
        if settings.replay:
            replay = await stack.enter_async_context(
                run_replay(settings.replay, speed=settings.speed)
            )
            upstreams = Upstreams(replay.ws_url, replay.base_url, replay.base_url)
            calendar = ALWAYS_OPEN
            notes.append(
                f"replay: {settings.replay} at speed {settings.speed:g} from {replay.base_url}, "
                "starting at the first subscription (market always open)"
            )
        elif settings.demo:
            sim = await stack.enter_async_context(
                run_simulator(SimConfig(host="127.0.0.1", port=0, rate=DEMO_RATE))
            )
            # The simulated index moves with time: poll it often enough for a lively demo.
            fear_greed = ScheduleSettings(min_interval=5.0, base=15.0, max_interval=60.0)
            upstreams = Upstreams(sim.ws_url, sim.rest_url, sim.base_url, fear_greed)
            calendar = ALWAYS_OPEN
            notes.append(f"demo: simulated Yahoo and CNN at {sim.base_url} (market always open)")
        else:
            upstreams = Upstreams(
                settings.upstream_ws, settings.upstream_rest, settings.cnn_base_url
            )
        if settings.record:
            recorder = await stack.enter_async_context(
                open_recorder(settings.record, upstream=upstreams.ws_url)
            )
            upstreams = replace(upstreams, frame_tap=recorder.tap)

        join = None
        if settings.cluster:  # a cluster node: the upstream comes through Redis
            from rsdev_servers.cluster.join import ClusterJoin

            join = ClusterJoin(settings, calendar=calendar)

        def announce(url: str) -> None:
            if join is not None:
                join.announced(url)
            for note in notes:
                logger.info("{}", note)
            if notes:
                feed = url.replace("http", "ws", 1) + "ws"
                logger.info("open {} in a browser, or connect to {}", url, feed)
            _announce(url)

        gateway = RestreamGateway(
            settings, upstreams, calendar=calendar, demo=settings.demo, upstream=join
        )
        if join is not None:
            join.attach(gateway)
        await gateway.run(stop=stop, announce=announce)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run restream; returns the exit code (see the module docstring)."""
    return run_console_script(
        "restream", load=lambda: load_settings(argv, environ), options=OPTIONS, run=_run
    )

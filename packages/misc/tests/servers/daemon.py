"""Drive the shared `MonitorLoop` against a real server in-process, with real short intervals.

`LoopRun` runs the loop in a task group, records every `Beat` and every log line, and lets a
test wait (with a deadline) for the beat it expects while it stops and starts the server in
a worker thread (server control blocks; the event loop must keep beating meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from loguru import logger

from rsdev_misc.monitor import (
    Beat,
    FailureKind,
    LoopObserver,
    MonitorLoop,
    MonitorSettings,
    Probe,
    State,
)


class _Recorder(LoopObserver):
    def __init__(self, send: MemoryObjectSendStream[Beat]) -> None:
        self.send = send
        self.beats: list[Beat] = []

    def on_beat(self, beat: Beat) -> None:
        self.beats.append(beat)
        self.send.send_nowait(beat)  # the buffer outlasts any test; WouldBlock = a bug


@dataclass
class LoopRun:
    """A running loop: its beats so far, its log lines, and `wait_for(predicate)`."""

    loop: MonitorLoop
    recorder: _Recorder
    receive: MemoryObjectReceiveStream[Beat]
    logs: list[str] = field(default_factory=list)

    @property
    def beats(self) -> list[Beat]:
        return self.recorder.beats

    def timeline(self, since: float = 0.0) -> str:
        """The beats as text (monotonic time relative to `since`), for assertion messages."""
        return "\n".join(
            f"{b.seq:3} {b.at.mono - since:8.3f} {b.step.state.value:8} "
            f"{'ok' if b.result.ok else b.result.failure} {b.result.error or ''}"
            for b in self.beats
        )

    async def wait_for(self, predicate: Callable[[Beat], bool], within: float = 10.0) -> Beat:
        """The next beat (from now on) satisfying `predicate`; TimeoutError after `within` s."""
        with anyio.fail_after(within):
            async for beat in self.receive:
                if predicate(beat):
                    return beat
        raise AssertionError("the loop stopped before the expected beat")


@asynccontextmanager
async def running_loop(
    probe: Probe, settings: MonitorSettings, tool: str = "monitor-test"
) -> AsyncIterator[LoopRun]:
    """Run `MonitorLoop(probe, settings)` until the block exits; capture beats and logs."""
    send, receive = anyio.create_memory_object_stream[Beat](10_000)
    recorder = _Recorder(send)
    loop = MonitorLoop(probe, settings, tool=tool, observers=[recorder])
    run = LoopRun(loop, recorder, receive)
    sink = logger.add(
        lambda message: run.logs.append(str(message)),
        level="TRACE",
        format="{level} {message} {extra}",
    )
    stop = anyio.Event()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(loop.run, stop)
            try:
                yield run
            finally:
                stop.set()
    finally:
        logger.remove(sink)
        await probe.aclose()
        send.close()
        receive.close()


async def check_outage_and_recovery(
    probe: Probe,
    settings: MonitorSettings,
    tool: str,
    *,
    stop_server: Callable[[], object],
    start_server: Callable[[], object],
    secret: str,
) -> None:
    """The outage scenario every service monitor must pass: stop the server → PENDING, DOWN
    after `fail_after` failures (NETWORK once the server is gone); start it → UP, with a
    logged downtime within one interval (plus slack) of the real one; `secret` in no log."""
    async with running_loop(probe, settings, tool) as run:
        await run.wait_for(lambda b: b.result.ok)
        before_stop = time.monotonic()
        await anyio.to_thread.run_sync(stop_server)
        stopped = time.monotonic()
        pending = await run.wait_for(lambda b: b.step.state is State.PENDING)
        down = await run.wait_for(lambda b: b.opened is not None)
        # A probe during the shutdown may meet "shutting down"; once it is gone: refused.
        gone = await run.wait_for(lambda b: b.at.mono > stopped)
        before_start = time.monotonic()
        await anyio.to_thread.run_sync(start_server)
        started = time.monotonic()
        up = await run.wait_for(lambda b: b.closed is not None)
    assert not pending.result.ok
    assert gone.result.failure is FailureKind.NETWORK
    assert down.step.state is State.DOWN
    assert down.opened is not None
    assert down.opened.failed_probes == settings.fail_after
    assert up.step.state is State.UP
    assert up.closed is not None
    # The server was really down for between (before_start - stopped) and
    # (started - before_stop); the monitor may be off by one interval either way, plus
    # scheduling slack on a loaded machine.
    slack = settings.interval + 0.25
    shortest, longest = before_start - stopped, started - before_stop
    timeline = run.timeline(since=before_stop)
    assert shortest - slack <= up.closed.duration_s <= longest + slack, (
        f"logged {up.closed.duration_s:.3f} s, real {shortest:.3f}..{longest:.3f} s\n{timeline}"
    )
    logs = "\n".join(run.logs)
    assert "is DOWN since" in logs
    assert "is UP again after" in logs
    assert secret not in logs

"""Drive the shared `MonitorLoop` against a real server in-process, with real short intervals.

`LoopRun` runs the loop in a task group, records every `Beat` and every log line, and lets a
test wait (with a deadline) for the beat it expects while it stops and starts the server in
a worker thread (server control blocks; the event loop must keep beating meanwhile).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from loguru import logger

from rsdev_misc.monitor import Beat, LoopObserver, MonitorLoop, MonitorSettings, Probe


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

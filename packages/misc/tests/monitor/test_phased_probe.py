"""PhasedProbe's skeleton: phases, timings, kept connections, deadline and failure mapping.

The service is an in-process stand-in (a subclass whose steps flip flags), so these run in
milliseconds; the real postgres and redis probes are tested against real servers.
"""

from __future__ import annotations

import itertools
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import pytest

from rsdev_misc.monitor import MASK, FailureKind, PhasedProbe

pytestmark = pytest.mark.anyio

SECRET = "Pw-PHASED-7"


@dataclass(frozen=True)
class Target:
    description: str = "svc://monitor@127.0.0.1:1"
    secrets: tuple[str, ...] = (SECRET,)


@dataclass
class Conn:
    closed: bool = False
    broken: bool = False


@dataclass
class Script:
    """What the stand-in service does: which step fails or hangs, and what it saw."""

    fail_in: str | None = None
    hang_in: str | None = None
    opened: list[Conn] = field(default_factory=list)
    beats: list[tuple[str, float]] = field(default_factory=list)

    async def step(self, name: str) -> None:
        if self.hang_in == name:
            await anyio.sleep_forever()
        if self.fail_in == name:
            raise (ConnectionRefusedError if name == "open" else RuntimeError)(f"{name} {SECRET}")


class ScriptedProbe(PhasedProbe[Target, Conn, str]):
    call_phase = "calling"
    call_key = "call_ms"

    def __init__(self, script: Script, *, keep: bool = False, heartbeat: str | None = None) -> None:
        ticks = itertools.count()
        # Each timer reading is 1.5 ms after the one before, so every step takes 1.5 ms.
        super().__init__(
            Target(), keep_connection=keep, heartbeat=heartbeat, timer=lambda: next(ticks) * 0.0015
        )
        self.script = script

    async def _open(self, deadline_s: float, connect_timer: AbstractContextManager[None]) -> Conn:
        with connect_timer:
            await self.script.step("open")
        conn = Conn()
        self.script.opened.append(conn)
        return conn

    def _usable(self, conn: Conn) -> bool:
        return not conn.broken

    async def _call(self, conn: Conn) -> None:
        await self.script.step("call")

    async def _beat(self, conn: Conn, heartbeat: str, call_ms: float) -> None:
        self.script.beats.append((heartbeat, call_ms))
        await self.script.step("beat")

    async def _close(self, conn: Conn) -> None:
        await anyio.lowlevel.checkpoint()  # raises if cancelled and not shielded
        if self.script.hang_in == "close":
            await anyio.sleep_forever()
        conn.closed = True

    def _classify(self, exc: Exception) -> FailureKind:
        if isinstance(exc, TimeoutError):
            return FailureKind.TIMEOUT
        return FailureKind.NETWORK if isinstance(exc, ConnectionError) else FailureKind.SERVER

    def _describe(self, exc: Exception) -> str:
        return f"<{exc}>"

    def _latency_ms(self, connect_ms: float | None, call_ms: float) -> float:
        return (connect_ms or 0.0) + call_ms


async def test_fresh_probe_times_each_phase_and_closes() -> None:
    """A fresh probe records connect, call and heartbeat times in order, then closes."""
    script = Script()
    result = await ScriptedProbe(script, heartbeat="hb").probe(1)
    assert result.ok, result.error
    expected = {"connect_ms": 1.5, "connection": "new", "call_ms": 1.5, "heartbeat_ms": 1.5}
    assert list(expected.items()) == list(result.details.items())
    assert 3.0 == result.latency_ms
    assert [("hb", 1.5)] == script.beats
    assert [True] == [conn.closed for conn in script.opened]


async def test_kept_connection_is_reused_until_unusable() -> None:
    """keep_connection reuses one connection, replaces a broken one, and aclose closes it."""
    script = Script()
    probe = ScriptedProbe(script, keep=True)
    assert "new" == (await probe.probe(1)).details["connection"]
    kept = await probe.probe(1)
    assert {"connection": "kept", "call_ms": 1.5} == kept.details
    assert 1.5 == kept.latency_ms
    assert [False] == [conn.closed for conn in script.opened]
    script.opened[0].broken = True
    assert "new" == (await probe.probe(1)).details["connection"]
    assert [True, False] == [conn.closed for conn in script.opened]
    await probe.aclose()
    assert [True, True] == [conn.closed for conn in script.opened]


@pytest.mark.parametrize(
    ("step", "kind", "error", "details"),
    [
        ("open", FailureKind.NETWORK, "connecting: <open ***>", {}),
        (
            "call",
            FailureKind.SERVER,
            "calling: <call ***>",
            {"connect_ms": 1.5, "connection": "new"},
        ),
        (
            "beat",
            FailureKind.SERVER,
            "writing the heartbeat: <beat ***>",
            {"connect_ms": 1.5, "connection": "new", "call_ms": 1.5},
        ),
    ],
)
async def test_failure_names_its_phase_redacted(
    step: str, kind: FailureKind, error: str, details: dict[str, float | str]
) -> None:
    """A failing step becomes a classified, redacted result naming the phase; never raises."""
    script = Script(fail_in=step)
    probe = ScriptedProbe(script, keep=True, heartbeat="hb")
    result = await probe.probe(1)
    assert (False, kind, error) == (result.ok, result.failure, result.error)
    assert MASK in error
    assert SECRET not in repr(result)
    assert details == result.details  # a failed step leaves no figure behind
    assert all(conn.closed for conn in script.opened)  # the kept connection was dropped


async def test_deadline_names_the_phase_and_still_closes() -> None:
    """A call that never answers fails as TIMEOUT at the deadline; the close still runs."""
    script = Script(hang_in="call")
    with anyio.fail_after(5):
        result = await ScriptedProbe(script).probe(0.05)
    assert FailureKind.TIMEOUT == result.failure
    assert "no answer within 0.05 s while calling" == result.error
    assert [True] == [conn.closed for conn in script.opened]


async def test_close_is_bounded_by_the_grace() -> None:
    """A close that hangs is given up after close_grace_s; the probe still succeeds."""

    class GraceProbe(ScriptedProbe):
        close_grace_s = 0.01

    with anyio.fail_after(5):
        result = await GraceProbe(Script(hang_in="close")).probe(1)
    assert result.ok, result.error

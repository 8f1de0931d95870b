"""MonitorLoop with a scripted probe and a fake clock: logs, alerts, state file, timeouts."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from rsdev_misc.monitor import (
    FailureKind,
    LoopObserver,
    MonitorLoop,
    MonitorSettings,
    ProbeResult,
    Severity,
    State,
)
from rsdev_misc.monitor.testing import FakeClock

pytestmark = pytest.mark.anyio


def alerts(records: list) -> list[str]:
    return [r["message"] for r in records if r["extra"].get("alert") is True]


async def test_transitions_are_logged_once_with_downtime(clock, scripted, records) -> None:
    """DOWN and UP are each alerted once; the UP alert carries the downtime and UTC times."""
    probe = scripted("ok", "fail", "fail", "fail", "fail", "fail", "ok", "ok", "ok")
    loop = MonitorLoop(probe, MonitorSettings(interval=10), clock=clock, sleep=clock.sleep)
    beats = []
    for _ in range(9):
        beats.append(await loop.step())
        clock.advance(10)
    said = alerts(records)
    assert len(said) == 2
    assert said[0].startswith("svc.test:1 is DOWN since ")
    assert "refused" in said[0]
    assert said[1].startswith("svc.test:1 is UP again after 50s down")
    up = next(r for r in records if r["extra"].get("state") == "UP" and r["extra"].get("alert"))
    assert (up["extra"]["duration_s"], up["extra"]["error_bound_s"]) == (50.0, 10.0)
    assert up["extra"]["start_utc"].endswith("Z")
    assert up["extra"]["end_utc"].endswith("Z")
    assert [b.seq - 1 for b in beats if b.opened or b.closed] == [3, 7]


async def test_pending_is_logged_but_not_alerted(clock, scripted, records) -> None:
    """A failure within the retry budget logs a warning and no alert."""
    loop = MonitorLoop(scripted("fail", "ok"), MonitorSettings(), clock=clock, sleep=clock.sleep)
    assert (await loop.step()).step.state == State.PENDING
    assert (await loop.step()).step.state == State.UP
    assert alerts(records) == []
    assert any(r["extra"].get("state") == "PENDING" for r in records)


async def test_reminders_while_down(clock, scripted, records) -> None:
    """A reminder alert every --remind-every while DOWN, none after recovery."""
    settings = MonitorSettings(interval=60, fail_after=1, remind_every=300)
    probe = scripted(*["fail"] * 16, "ok", "ok", *["ok"] * 10)
    loop = MonitorLoop(probe, settings, clock=clock, sleep=clock.sleep)
    for _ in range(28):
        await loop.step()
        clock.advance(60)
    reminders = [m for m in alerts(records) if "still DOWN" in m]
    assert [m.split(" (")[0].removeprefix("svc.test:1 ") for m in reminders] == [
        "still DOWN after 5m00s",
        "still DOWN after 10m00s",
        "still DOWN after 15m00s",
    ]


async def test_run_stops_on_event_and_saves(clock, scripted, tmp_path: Path) -> None:
    """run(stop) beats on the injected sleep and saves the state file when stopped."""
    state_file = tmp_path / "s.json"
    stop = anyio.Event()
    probe = scripted("fail")

    class StopAfter(LoopObserver):
        closed = False

        def on_beat(self, beat) -> None:
            if beat.seq == 5:
                stop.set()

        def close(self) -> None:
            StopAfter.closed = True

    settings = MonitorSettings(interval=2, state_file=state_file)
    loop = MonitorLoop(probe, settings, clock=clock, sleep=clock.sleep, observers=[StopAfter()])
    with anyio.fail_after(5):
        await loop.run(stop)
    assert probe.calls == 5
    assert clock.slept[:4] == [2.0] * 4
    assert StopAfter.closed
    assert json.loads(state_file.read_text())["state"] == "DOWN"


async def test_open_outage_survives_restart(scripted, tmp_path: Path) -> None:
    """Stopped while DOWN, a new loop on the same state file continues the outage."""
    state_file = tmp_path / "state.json"
    settings = MonitorSettings(interval=10, state_file=state_file)
    clock = FakeClock()
    first = MonitorLoop(scripted("ok", "fail"), settings, clock=clock, sleep=clock.sleep)
    stop = anyio.Event()

    class StopWhenDown(LoopObserver):
        def on_beat(self, beat) -> None:
            if beat.step.state is State.DOWN:
                stop.set()

    first.observers.append(StopWhenDown())
    with anyio.fail_after(5):
        await first.run(stop)
    assert first.tracker.outage is not None
    start_wall = first.tracker.outage.start.wall

    # the process is gone for 5 minutes; the new one has a different monotonic origin
    later = FakeClock(mono=50.0, wall=clock.wall + 300)
    second = MonitorLoop(scripted("ok"), settings, clock=later, sleep=later.sleep)
    assert second.state == State.DOWN
    assert second.restored is not None
    assert start_wall == second.restored.start.wall
    await second.step()
    later.advance(10)
    closed = (await second.step()).closed
    assert closed is not None
    assert closed.restored
    assert start_wall == closed.start_wall
    assert pytest.approx(later.wall - 10 - start_wall) == closed.duration_s


async def test_state_file_of_another_target_is_ignored(clock, scripted, tmp_path, records) -> None:
    """A state file written for another target does not make this one DOWN."""
    state_file = tmp_path / "s.json"
    settings = MonitorSettings(fail_after=1, state_file=state_file)
    await MonitorLoop(scripted("fail", target="a:1"), settings, clock=clock).step()
    other = MonitorLoop(scripted("ok", target="b:2"), settings, clock=clock)
    assert other.state == State.UP
    assert any("belongs to" in r["message"] for r in records)


async def test_corrupt_state_file_is_ignored_with_a_warning(clock, scripted, tmp_path, records):
    """A corrupt state file is reported and the loop starts fresh."""
    state_file = tmp_path / "s.json"
    state_file.write_text("{not json")
    loop = MonitorLoop(scripted("ok"), MonitorSettings(state_file=state_file), clock=clock)
    assert loop.state == State.UP
    assert any("ignoring state file" in r["message"] for r in records)


async def test_hanging_probe_times_out(clock) -> None:
    """A probe that never returns is abandoned and counts as a TIMEOUT failure."""

    class Hang:
        target = "hang:1"

        async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109
            await anyio.sleep_forever()
            raise AssertionError

        async def aclose(self) -> None:
            pass

    loop = MonitorLoop(Hang(), MonitorSettings(timeout=0.02), clock=clock)
    with anyio.fail_after(2):
        beat = await loop.step()
    assert (beat.result.ok, beat.result.failure) == (False, FailureKind.TIMEOUT)


async def test_raising_probe_is_a_failure_not_a_crash(clock) -> None:
    """A probe bug becomes a failed result with the exception named."""

    class Broken:
        target = "broken:1"

        async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109
            raise RuntimeError("postgresql://u:hunter22@h/db exploded")

        async def aclose(self) -> None:
            pass

    beat = await MonitorLoop(Broken(), MonitorSettings(), clock=clock).step()
    assert not beat.result.ok
    assert "RuntimeError" in (beat.result.error or "")
    assert "hunter22" not in (beat.result.error or "")


async def test_secrets_never_reach_the_logs(clock, scripted, records) -> None:
    """Target and errors with passwords are redacted in every record."""
    bad = ProbeResult(ok=False, error="auth failed for redis://:hunter22@127.0.0.1:1")
    probe = scripted(bad, target="redis://:hunter22@127.0.0.1:1/0")
    loop = MonitorLoop(probe, MonitorSettings(fail_after=2, remind_every=1), clock=clock)
    for _ in range(4):
        await loop.step()
        clock.advance(5)
    assert records
    assert all("hunter22" not in f"{r['message']} {r['extra']}" for r in records)


async def test_slow_probe_is_a_warning(clock, scripted) -> None:
    """A good probe slower than warn_ms has severity WARNING but keeps the target UP."""
    slow = ProbeResult(ok=True, latency_ms=250.0)
    loop = MonitorLoop(scripted(slow), MonitorSettings(warn_ms=100), clock=clock)
    beat = await loop.step()
    assert (beat.severity, beat.step.state) == (Severity.WARNING, State.UP)


async def test_unwritable_state_file_is_reported_once(clock, scripted, tmp_path, records) -> None:
    """A state file that cannot be written logs one error, not one per probe."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = MonitorSettings(fail_after=1, state_file=blocker / "state.json")
    loop = MonitorLoop(scripted("fail"), settings, clock=clock)
    for _ in range(4):
        await loop.step()
    errors = [r for r in records if "cannot write state file" in r["message"]]
    assert len(errors) == 1
    assert loop.state is State.DOWN

"""The shared monitor loop on a real Redis: PENDING, DOWN, UP and the measured downtime."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from rsdev_misc.monitor import FailureKind, MonitorSettings, State
from rsdev_misc.monitor_redis import RedisProbe, resolve_target

from ..servers import RedisServer, running_loop

pytestmark = pytest.mark.anyio

INTERVAL = 0.1


def settings(state_file: Path | None = None) -> MonitorSettings:
    return MonitorSettings(
        state_file=state_file,
        interval=INTERVAL,
        timeout=0.5,
        fail_after=3,
        recover_after=2,
        remind_every=None,
    )


async def test_outage_is_pending_then_down_then_up_with_its_duration(
    redis_server: RedisServer,
) -> None:
    """Stop → PENDING, DOWN after 3 failures; start → UP; logged downtime ≈ the real one."""
    probe = RedisProbe(resolve_target(redis_server.url()))
    async with running_loop(probe, settings(), "monitor-redis") as run:
        await run.wait_for(lambda b: b.result.ok)
        before_stop = time.monotonic()
        await anyio.to_thread.run_sync(redis_server.stop)
        stopped = time.monotonic()
        pending = await run.wait_for(lambda b: b.step.state is State.PENDING)
        down = await run.wait_for(lambda b: b.opened is not None)
        # A probe during the shutdown may meet "shutting down"; once it is gone: refused.
        gone = await run.wait_for(lambda b: b.at.mono > stopped)
        before_start = time.monotonic()
        await anyio.to_thread.run_sync(redis_server.start)
        started = time.monotonic()
        up = await run.wait_for(lambda b: b.closed is not None)
    assert not pending.result.ok
    assert gone.result.failure is FailureKind.NETWORK
    assert down.opened is not None
    assert down.opened.failed_probes == 3
    assert up.step.state is State.UP
    assert up.closed is not None
    # The server was really down for between (before_start - stopped) and
    # (started - before_stop); the monitor may be off by one interval either way, plus
    # scheduling slack on a loaded machine.
    slack = INTERVAL + 0.25
    shortest, longest = before_start - stopped, started - before_stop
    timeline = run.timeline(since=before_stop)
    assert shortest - slack <= up.closed.duration_s <= longest + slack, (
        f"logged {up.closed.duration_s:.3f} s, real {shortest:.3f}..{longest:.3f} s\n{timeline}"
    )
    logs = "\n".join(run.logs)
    assert "is DOWN since" in logs
    assert "is UP again after" in logs
    assert redis_server.password not in logs


async def test_wrong_password_goes_down_as_authentication(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """A wrong password is DOWN for authentication; no password in any log line or state file."""
    wrong = "Wrong-Pw-QUAGGA-91"
    probe = RedisProbe(resolve_target(redis_server.url(password=wrong)))
    async with running_loop(probe, settings(tmp_path / "state.json"), "monitor-redis") as run:
        down = await run.wait_for(lambda b: b.opened is not None)
    assert down.result.failure is FailureKind.AUTHENTICATION
    logs = "\n".join(run.logs)
    state = (tmp_path / "state.json").read_text()
    assert "authentication" in state
    assert wrong not in state
    assert "authentication" in logs
    assert wrong not in logs
    assert redis_server.password not in logs

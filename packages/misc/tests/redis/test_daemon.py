"""The shared monitor loop on a real Redis: PENDING, DOWN, UP and the measured downtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from rsdev_misc.monitor import FailureKind, MonitorSettings
from rsdev_misc.monitor_redis import RedisProbe, resolve_target

from ..servers import RedisServer, check_outage_and_recovery, running_loop

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
    await check_outage_and_recovery(
        RedisProbe(resolve_target(redis_server.url())),
        settings(),
        "monitor-redis",
        stop_server=redis_server.stop,
        start_server=redis_server.start,
        secret=redis_server.password,
    )


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

"""The shared monitor loop on a real PostgreSQL: PENDING, DOWN, UP and the measured downtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from rsdev_misc.monitor import FailureKind, MonitorSettings
from rsdev_misc.monitor_postgres import PostgresProbe, resolve_target

from ..servers import PostgresServer, check_outage_and_recovery, running_loop

pytestmark = pytest.mark.anyio

INTERVAL = 0.15


def settings(state_file: Path | None = None) -> MonitorSettings:
    return MonitorSettings(
        state_file=state_file,
        interval=INTERVAL,
        timeout=1.0,
        fail_after=3,
        recover_after=2,
        remind_every=None,
    )


async def test_outage_is_pending_then_down_then_up_with_its_duration(
    postgres: PostgresServer,
) -> None:
    """Stop → PENDING, DOWN after 3 failures; start → UP; logged downtime ≈ the real one."""
    target = resolve_target(postgres.dsn(), sslrootcert=str(postgres.ca.ca_file))
    await check_outage_and_recovery(
        PostgresProbe(target),
        settings(),
        "monitor-postgres",
        stop_server=postgres.stop,
        start_server=postgres.start,
        secret=postgres.password,
    )


async def test_wrong_password_goes_down_as_authentication(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """A wrong password is DOWN for authentication; no password in any log line or state file."""
    wrong = "Wrong-Pw-QUAGGA-91"
    target = resolve_target(postgres.dsn(password=wrong), sslrootcert=str(postgres.ca.ca_file))
    async with running_loop(
        PostgresProbe(target), settings(tmp_path / "state.json"), "monitor-postgres"
    ) as run:
        down = await run.wait_for(lambda b: b.opened is not None)
    assert down.result.failure is FailureKind.AUTHENTICATION
    logs = "\n".join(run.logs)
    state = (tmp_path / "state.json").read_text()
    assert "authentication" in state
    assert wrong not in state
    assert "authentication" in logs
    assert wrong not in logs
    assert postgres.password not in logs

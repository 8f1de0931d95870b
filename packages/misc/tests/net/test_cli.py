"""monitor-net --once through main(): exit codes and JSON with loopback targets."""

from __future__ import annotations

import json

import pytest

from rsdev_misc.monitor_net import main

pytestmark = pytest.mark.anyio


async def run_main(argv: list[str]) -> int:
    # main() runs its own event loop: call it from a worker thread of this test's loop.
    import anyio.to_thread

    return await anyio.to_thread.run_sync(main, argv)


async def test_once_online_offline_degraded(listeners, capsys) -> None:
    """All up: 0; one of two down: 1 (degraded); all down: 2."""
    a, b = await listeners(2)
    args = ["--once", "--target", a.address, "--target", b.address]
    assert await run_main(args) == 0
    await b.stop()
    assert await run_main(args) == 1
    await a.stop()
    assert await run_main(args) == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["OK", "WARNING", "CRITICAL"]
    assert "degraded" in lines[1]
    assert "offline: all 2 targets failed" in lines[2]


async def test_once_json_lists_failed_targets(listeners, http_server, capsys) -> None:
    """--json: degraded with the failing target named in details.failed."""
    (a,) = await listeners(1)
    await a.stop()
    url = f"http://{http_server.address}/generate_204"
    assert await run_main(["--once", "--json", "--target", a.address, "--http", url]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["status"], doc["degraded"], doc["details"]["targets_ok"]) == (
        "WARNING",
        True,
        "1/2",
    )
    assert doc["details"]["failed"] == f"tcp {a.address}: connection refused"


async def test_bad_target_exits_3(capsys) -> None:
    """An unparsable target is a configuration error: exit 3."""
    assert await run_main(["--once", "--target", "127.0.0.1"]) == 3
    assert "HOST:PORT" in capsys.readouterr().err


async def test_targets_from_environment(listeners, monkeypatch, capsys) -> None:
    """RSDEV_MONITOR_NET_TARGETS (comma-separated) is used when no --target is given."""
    a, b = await listeners(2)
    monkeypatch.setenv("RSDEV_MONITOR_NET_TARGETS", f"{a.address},{b.address}")
    assert await run_main(["--once"]) == 0
    assert f"tcp {a.address}, tcp {b.address}" in capsys.readouterr().out

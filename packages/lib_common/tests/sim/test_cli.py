"""The `yahoo-sim` console script: help, argument checks, a real process and its signals."""

from __future__ import annotations

import signal
import socket
import sys

import anyio
import httpx
import pytest

from lib_common.sim.cli import main


def test_help_documents_the_fault_api(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists the options, the endpoints and every fault kind."""
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    for needle in ("--rate", "--seed", "--symbol-cap", "/_sim/fault", "/_sim/stats", "curl"):
        assert needle in out
    for kind in ("stall", "disconnect", "close", "garbage", "slow", "429", "500", "418"):
        assert kind in out
    assert "down_page" in out
    assert "hang" in out


def test_non_loopback_host_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Binding a non-loopback address is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as exited:
        main(["--host", "0.0.0.0"])
    assert exited.value.code == 2
    assert "loopback" in capsys.readouterr().err


def test_bad_rate_is_refused() -> None:
    """A negative rate is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as exited:
        main(["--rate", "-1"])
    assert exited.value.code == 2


@pytest.mark.anyio
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_process_prints_url_serves_and_stops_on_signal(signum: int) -> None:
    """Port 0 prints the bound URL; the process serves it and exits 0 on SIGINT/SIGTERM."""
    command = [sys.executable, "-m", "lib_common.sim.cli", "--port", "0", "--rate", "0"]
    async with await anyio.open_process(command) as process:
        assert process.stdout is not None
        with anyio.fail_after(10):
            first = b""
            while b"\n" not in first:
                first += await process.stdout.receive()
            base = first.split(b"\n")[0].decode().rsplit(" ", 1)[-1]
            async with httpx.AsyncClient() as client:
                stats = (await client.get(base + "/_sim/stats")).json()
            process.send_signal(signum)
            code = await process.wait()
    assert base.startswith("http://127.0.0.1:")
    assert stats["connections"]["total"] == 0
    assert code == 0


def test_port_in_use_exits_1() -> None:
    """A port that cannot be bound is reported and exits 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port), "--log-level", "CRITICAL"]) == 1

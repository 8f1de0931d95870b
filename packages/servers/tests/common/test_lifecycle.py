"""Signals, the shutdown watchdog, listening errors and the process exit codes."""

from __future__ import annotations

import errno
import importlib.util
import os
import platform
import signal
import socket
import threading
from contextlib import AsyncExitStack

import anyio
import pytest

from rsdev_servers.common.lifecycle import (
    BindError,
    Shutdown,
    describe_bind_error,
    open_server,
    return_large_buffers_to_the_os,
    serve_until_stopped,
    use_uvloop,
)
from rsdev_servers.common.settings import (
    EXIT_BIND,
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_OK,
    SettingsError,
)


def test_watchdog_forces_exit_after_grace() -> None:
    """A stop that does not finish within the grace period ends the process (EXIT_ERROR)."""
    fired = threading.Event()
    codes: list[int] = []

    def force(code: int) -> None:
        codes.append(code)
        fired.set()

    shutdown = Shutdown(grace=0.05, force_exit=force)
    shutdown.request("test")
    assert shutdown.requested.is_set()
    assert fired.wait(5)
    assert codes == [EXIT_ERROR]


def test_finished_disarms_the_watchdog() -> None:
    """A stop that finishes in time cancels the watchdog; requests are idempotent."""
    shutdown = Shutdown(grace=30, force_exit=lambda code: pytest.fail("forced"))
    shutdown.request("first")
    shutdown.request("second")
    assert shutdown.reason == "first"
    assert shutdown.watchdog_armed
    shutdown.finished()
    assert not shutdown.watchdog_armed


@pytest.mark.anyio
async def test_signals_request_stop_duplicates_ignored_late_repeat_forces() -> None:
    """First signal → stop requested; a repeat within a second is the same stop; a repeat
    after that forces the exit."""
    forced = anyio.Event()
    codes: list[int] = []
    readings = iter([100.0, 100.5, 102.0])  # one clock reading per received signal

    def force(code: int) -> None:
        codes.append(code)
        forced.set()

    shutdown = Shutdown(grace=0, force_exit=force, clock=lambda: next(readings))
    async with anyio.create_task_group() as tg:
        await tg.start(shutdown.watch_signals)
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        with anyio.fail_after(5):
            await forced.wait()
        tg.cancel_scope.cancel()
    assert shutdown.requested.is_set()
    assert shutdown.reason == "SIGTERM"
    assert codes == [EXIT_ERROR]
    assert next(readings, None) is None, "the duplicate must not have forced the exit"


def test_describe_bind_error() -> None:
    """Each common listening failure reads as one line with the address."""
    in_use = OSError(errno.EADDRINUSE, "Address already in use")
    assert "already in use" in describe_bind_error("127.0.0.1", 80, in_use)
    assert "no such local address" in describe_bind_error(
        "10.9.9.9", 80, OSError(errno.EADDRNOTAVAIL, "x")
    )
    assert "permission denied" in describe_bind_error("127.0.0.1", 80, OSError(errno.EACCES, "x"))
    assert "127.0.0.1:80: boom" in describe_bind_error("127.0.0.1", 80, OSError(5, "boom"))


@pytest.mark.anyio
async def test_open_server_turns_a_taken_port_into_bind_error() -> None:
    """Listening on a port in use raises BindError naming it."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with AsyncExitStack() as stack:
            with pytest.raises(BindError, match=f"127.0.0.1:{port}"):
                await open_server(stack, "127.0.0.1", port)


def _exit_code_of(error: BaseException) -> tuple[int, list[str]]:
    lines: list[str] = []

    async def run(stop: anyio.Event) -> None:
        raise error

    return serve_until_stopped(run, app="gw", stderr=lines.append), lines


def test_serve_until_stopped_exit_codes() -> None:
    """Bind failure → 3, bad setting → 2 (one line each), anything else → 1."""
    assert _exit_code_of(BindError("cannot listen")) == (EXIT_BIND, ["gw: error: cannot listen"])
    assert _exit_code_of(SettingsError("bad")) == (EXIT_CONFIG, ["gw: error: bad"])
    code, lines = _exit_code_of(RuntimeError("bug"))
    assert (code, lines) == (EXIT_ERROR, [])


def test_serve_until_stopped_clean_stop_on_sigterm() -> None:
    """SIGTERM sets the stop event; `run` returns; the exit code is 0."""
    seen: list[bool] = []

    async def run(stop: anyio.Event) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        with anyio.fail_after(5):
            await stop.wait()
        seen.append(True)

    assert serve_until_stopped(run, app="gw", grace=5) == EXIT_OK
    assert seen == [True]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_large_buffers_are_set_to_return_to_the_os_on_glibc() -> None:
    """On glibc the fixed mmap threshold is accepted, so freed client buffers are unmapped."""
    assert True is return_large_buffers_to_the_os()


def test_event_loop_choice_follows_the_environment() -> None:
    """uvloop when importable unless RSDEV_EVENT_LOOP=asyncio; nonsense is an error."""
    available = importlib.util.find_spec("uvloop") is not None
    assert available == use_uvloop({})
    assert not use_uvloop({"RSDEV_EVENT_LOOP": "asyncio"})
    assert not use_uvloop({"RSDEV_EVENT_LOOP": " AsyncIO "})
    if available:
        assert use_uvloop({"RSDEV_EVENT_LOOP": "uvloop"})
    else:
        with pytest.raises(ValueError, match="not installed"):
            use_uvloop({"RSDEV_EVENT_LOOP": "uvloop"})
    with pytest.raises(ValueError, match="must be asyncio or uvloop"):
        use_uvloop({"RSDEV_EVENT_LOOP": "trio"})

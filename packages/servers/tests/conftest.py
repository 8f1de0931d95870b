"""Fixtures and helpers for the gateway tests: real restream processes, real clients.

`RestreamProcess` starts `python -m rsdev_servers.restream` with `--port 0`, reads the
one URL it prints on stdout (with a deadline), and stops it with SIGTERM. Its stderr goes
to a file that is printed when a test fails, so the logs are there when needed and never
fill a pipe. Every upstream is a loopback simulator: `--demo`, or a `yahoo-sim` the test
runs in its own event loop.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

STARTUP_TIMEOUT = 20.0  # imports on a loaded 2-core machine
STOP_TIMEOUT = 6.0


def now_us() -> int:
    return time.time_ns() // 1000


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any RESTREAM_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTREAM_")}
    env.update(extra)
    return env


class GatewayProcess:
    """A gateway subprocess on a free loopback port: reads its startup output (with a
    deadline), keeps its stderr in a file, and stops it with SIGTERM (kill as a last resort).
    """

    name = "gateway"
    module = ""

    def __init__(
        self,
        args: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.args = [sys.executable, "-m", self.module, "--port", "0", *args]
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env if env is not None else self.default_env(),
        )
        self.startup_output = self._read_startup_output()

    def default_env(self) -> dict[str, str]:
        return clean_env()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_startup_output(self) -> str:
        """Stdout up to its first line end (a banner may be several lines in one read)."""
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        line = b""
        try:
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    self.stop()
                    raise AssertionError(f"{self.name} printed no URL in time:\n{self.logs()}")
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    code = self.proc.wait(self.stop_timeout)
                    raise AssertionError(
                        f"{self.name} exited {code} before listening:\n{self.logs()}"
                    )
                line += chunk
        finally:
            selector.close()
        return line.decode()

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-20000:]

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(self.stop_timeout if timeout is None else timeout)

    def stop(self) -> int | None:
        """SIGTERM, wait (kill after the stop timeout); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(self.stop_timeout)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        return self.proc.returncode

    def rss_kib(self) -> int:
        """Resident set size of the process, from /proc/PID/status."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


class RestreamProcess(GatewayProcess):
    """A restream subprocess; it prints its base URL as the one stdout line."""

    name = "restream"
    module = "rsdev_servers.restream"

    def __init__(
        self, args: Sequence[str], log_path: Path, *, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(args, log_path, env=env)
        self.url = self.startup_output.strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"


@pytest.fixture
def start_restream(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., RestreamProcess]]:
    """A factory of restream processes, each stopped (SIGTERM) at the end of the test."""
    started: list[RestreamProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> RestreamProcess:
        process = RestreamProcess(args, tmp_path / f"restream-{len(started)}.log", env=env)
        started.append(process)
        return process

    yield start
    failed = getattr(request.node, "rep_call", None)
    for process in started:
        process.stop()
        if failed is not None and failed.failed:
            print(f"--- restream log ({process.log_path}) ---\n{process.logs()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, "rep_" + report.when, report)
    return report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestreamProcess]:
    """One `restream --demo` shared by a test module."""
    process = RestreamProcess(["--demo"], tmp_path_factory.mktemp("demo") / "restream.log")
    yield process
    process.stop()


# -- WebSocket client helpers ------------------------------------------------------------


async def open_client(url: str, **kwargs: Any) -> ClientConnection:
    """A websockets client with generous limits (it is the server's limits under test)."""
    kwargs.setdefault("max_size", 4 * 1024 * 1024)
    kwargs.setdefault("open_timeout", 10)
    return await connect(url, **kwargs)


async def send_json(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def next_json(ws: ClientConnection, within: float = 10.0) -> dict[str, Any]:
    """The next message as JSON (fails the test after `within` seconds)."""
    with anyio.fail_after(within):
        raw = await ws.recv()
    message = json.loads(raw)
    assert isinstance(message, dict)
    return message


async def wait_for(
    ws: ClientConnection,
    predicate: Callable[[dict[str, Any]], bool],
    within: float = 10.0,
) -> dict[str, Any]:
    """Read messages until one satisfies `predicate`; fail after `within` seconds."""
    with anyio.fail_after(within):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message  # type: ignore[no-any-return]


async def close_code(ws: ClientConnection, within: float = 10.0) -> int | None:
    """Read (and drop) messages until the server closes; its close code (None: no frame)."""
    with anyio.fail_after(within):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else None


def is_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    """A predicate: `type == kind` and every given field equal."""

    def check(message: dict[str, Any]) -> bool:
        return message.get("type") == kind and all(message.get(k) == v for k, v in fields.items())

    return check

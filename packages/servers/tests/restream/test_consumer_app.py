"""apps/consumer/print_quotes.py, the example consumer, against a real `restream --demo`."""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..conftest import RestreamProcess, clean_env

APP = Path(__file__).resolve().parents[4] / "apps" / "consumer" / "print_quotes.py"
DEADLINE = 20.0
LINE = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{3}  (?P<symbol>\S+) +[\d.]+ +[+-][\d.]+%  (?P<kind>stream|poll|snap)"
)


class Consumer:
    """print_quotes.py as a subprocess: stdout read line by line with a deadline."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.stderr_path = tmp_path / "consumer.err"
        with self.stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, str(APP), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=clean_env(),
            )
        self._buffer = b""

    def line(self, within: float = DEADLINE) -> str | None:
        """The next stdout line; None at end of output; fails after `within` seconds."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + within
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise AssertionError(f"no output in time; stderr:\n{self.stderr()}")
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def consumer(tmp_path: Path) -> Iterator[Callable[..., Consumer]]:
    started: list[Consumer] = []

    def start(*args: str) -> Consumer:
        started.append(Consumer(tmp_path, *args))
        return started[-1]

    yield start
    for app in started:
        app.stop()


def test_prints_count_quotes_with_latency_then_exits_0(
    demo: RestreamProcess, consumer: Callable[..., Consumer]
) -> None:
    """`--count 6 AAPL BTC-USD`: six quote lines of those symbols with both latencies, then
    exit 0."""
    app = consumer("--url", demo.ws_url, "--count", "6", "AAPL", "BTC-USD")
    lines = [app.line() for _ in range(6)]
    assert app.line() is None
    assert app.proc.wait(DEADLINE) == 0
    for line in lines:
        assert line is not None
        match = LINE.match(line)
        assert match, line
        assert match["symbol"] in ("AAPL", "BTC-USD")
        if match["kind"] == "stream":
            assert re.search(r"in→out \d+\.\d\d ms  out→here -?\d+\.\d\d ms$", line), line
    assert "connected to" in app.stderr()


def test_ctrl_c_closes_cleanly(demo: RestreamProcess, consumer: Callable[..., Consumer]) -> None:
    """SIGINT while streaming: exit 0 at once, `stopped` on stderr, no traceback."""
    app = consumer("--url", demo.ws_url, "AAPL")
    assert app.line() is not None
    app.proc.send_signal(signal.SIGINT)
    assert app.proc.wait(DEADLINE) == 0
    errors = app.stderr()
    assert "stopped" in errors
    assert "Traceback" not in errors


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_retries_with_backoff_until_restream_is_there(
    start_restream: Callable[..., RestreamProcess], consumer: Callable[..., Consumer]
) -> None:
    """Pointed at a port nobody listens on, it keeps retrying (with backoff, saying so on
    stderr) and starts printing once restream listens there."""
    port = _free_port()
    app = consumer("--url", f"ws://127.0.0.1:{port}/ws", "--max-backoff", "0.2", "BTC-USD")
    deadline = time.monotonic() + DEADLINE
    while app.stderr().count("reconnecting in") < 2:  # it logs each failed dial
        assert time.monotonic() < deadline, app.stderr()
        time.sleep(0.02)
    start_restream("--demo", "--port", str(port))
    line = app.line()
    assert line is not None
    assert LINE.match(line), line
    assert app.proc.poll() is None

"""The `server-yahoo` command: --help, exit codes, the console script."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from .conftest import clean_env

TIMEOUT = 30.0


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rsdev_servers.server_yahoo", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env if env is not None else clean_env(),
        check=False,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port that is already taken."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_help_explains_every_option() -> None:
    """--help exits 0 and names the formats, each option and its environment variable."""
    result = run("--help")
    assert 0 == result.returncode
    for text in ("?version=2", "--upstream-ws", "SERVER_YAHOO_LINGER", "--demo", "Exit codes"):
        assert text in result.stdout


def test_console_script_is_installed() -> None:
    """`server-yahoo` is on the venv's PATH and runs main()."""
    script = shutil.which("server-yahoo") or shutil.which(
        "server-yahoo", path=str(sys.prefix) + "/bin"
    )
    assert script is not None
    result = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert 0 == result.returncode
    assert result.stdout.startswith("usage: server-yahoo")


def test_bad_setting_is_one_line_and_exit_2() -> None:
    """A bad environment value: exit 2 and one line on stderr naming the variable."""
    result = run(env=clean_env(SERVER_YAHOO_LINGER="soon"))
    assert 2 == result.returncode
    assert ["server-yahoo: error: SERVER_YAHOO_LINGER: not a number of seconds: 'soon'"] == (
        result.stderr.strip().splitlines()
    )


def test_address_in_use_is_one_line_and_exit_3(busy_port: int) -> None:
    """Cannot listen: exit 3 and a one-line reason (upstreams on loopback, never used)."""
    result = run(
        "--port", str(busy_port),
        "--upstream-ws", "ws://127.0.0.1:9/?version=2",
        "--upstream-rest", "http://127.0.0.1:9",
    )  # fmt: skip
    assert 3 == result.returncode
    assert f"server-yahoo: error: cannot listen on 127.0.0.1:{busy_port}" in result.stderr
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr

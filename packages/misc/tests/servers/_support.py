"""Plumbing shared by the real-server fixtures: binaries, the service user, ports, waiting."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVICE_USER = "rsdev-pg"
# Generous: the first initdb on a busy 2-core machine takes a few seconds.
READY_TIMEOUT = float(os.environ.get("RSDEV_SERVER_READY_TIMEOUT", "30"))


def require_binary(name: str, *search: str) -> Path:
    """Return the binary's path; skip the test when it is missing, fail instead when CI=true."""
    for directory in search:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    message = f"{name} not installed (Debian package needed for real-server tests)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True, slots=True)
class ServiceUser:
    """Who runs a server that refuses root (PostgreSQL, PgBouncer): uid/gid, or None = us."""

    uid: int | None
    gid: int | None

    @property
    def extra_groups(self) -> list[int] | None:
        """Supplementary groups for Popen: none at all when dropping root, else unchanged."""
        return None if self.uid is None else []

    def make_dir(self, prefix: str) -> Path:
        """A fresh temp dir owned by this user and readable by everyone (for the client)."""
        path = Path(tempfile.mkdtemp(prefix=prefix))
        path.chmod(0o755)
        self.chown(path)
        return path

    def chown(self, path: Path) -> None:
        """Give a file or dir to this user (no-op when not root)."""
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


def service_user() -> ServiceUser:
    """The unprivileged user to run servers as when we are root (CI is), created if missing."""
    if os.geteuid() != 0:
        return ServiceUser(None, None)
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SERVICE_USER)
    return ServiceUser(entry.pw_uid, entry.pw_gid)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    timeout: float = READY_TIMEOUT,
) -> None:
    """Poll `ready()` until it is true; fail early if `process` died, late at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {tail(log)}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s: {tail(log)}")
        time.sleep(0.02)  # poll interval of a readiness check, not a wait for an event


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def tail(log: Path | None, lines: int = 20) -> str:
    """The end of a server's log, for error messages."""
    if log is None or not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop_process(process: subprocess.Popen[bytes], sig: int, timeout: float = 15) -> None:
    """Send `sig` and wait for the exit; kill if it does not come."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)

"""Fixtures for the monitor tests: real servers on 127.0.0.1 and throwaway CAs.

Servers are session-scoped (an initdb costs a second or two). The function-scoped names
(`postgres`, `pgbouncer`, `redis_server`, `redis_tls`) hand out the same server and put it
back up after a test that stopped it, so stop/start tests do not leak into the next test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .servers import (
    MONITOR_ENV,
    BlackHole,
    Outcome,
    PgBouncerServer,
    PostgresServer,
    RedisServer,
    RunMain,
    RunMonitor,
    TestCA,
)

# Distinctive, so a leak into any output is easy to grep for; URL-safe on purpose.
SECRET_PASSWORD = "Pw-7f3c1e9a-ZANZIBAR-secret"


@pytest.fixture(scope="session")
def secret_password() -> str:
    """The one password every test server uses (assert it never shows up in output)."""
    return SECRET_PASSWORD


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """The CA that signed every test server's certificate (for 127.0.0.1 and localhost)."""
    return TestCA.create(_shared_dir(tmp_path_factory, "ca"))


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """An unrelated CA: trusting it instead of `test_ca` must make verification fail."""
    return TestCA.create(_shared_dir(tmp_path_factory, "other-ca"))


@pytest.fixture(scope="session")
def postgres_session(test_ca: TestCA) -> Iterator[PostgresServer]:
    server = PostgresServer(test_ca, SECRET_PASSWORD)
    yield server
    server.close()


@pytest.fixture
def postgres(postgres_session: PostgresServer) -> Iterator[PostgresServer]:
    """PostgreSQL 15 with ssl=on on 127.0.0.1, role `rsdev_monitor` owning database `rsdev`."""
    postgres_session.ensure_running()
    yield postgres_session
    postgres_session.ensure_running()


@pytest.fixture(scope="session")
def pgbouncer_session(postgres_session: PostgresServer) -> Iterator[PgBouncerServer]:
    server = PgBouncerServer(postgres_session)
    yield server
    server.close()


@pytest.fixture
def pgbouncer(pgbouncer_session: PgBouncerServer) -> Iterator[PgBouncerServer]:
    """PgBouncer (pool_mode=transaction, plaintext) in front of `postgres`."""
    pgbouncer_session.ensure_running()
    yield pgbouncer_session
    pgbouncer_session.ensure_running()


@pytest.fixture(scope="session")
def redis_session() -> Iterator[RedisServer]:
    server = RedisServer(SECRET_PASSWORD)
    yield server
    server.close()


@pytest.fixture
def redis_server(redis_session: RedisServer) -> Iterator[RedisServer]:
    """redis-server on 127.0.0.1 with ACL user `monitor` (and `requirepass` for default)."""
    redis_session.ensure_running()
    yield redis_session
    redis_session.ensure_running()


@pytest.fixture(scope="session")
def redis_tls_session(test_ca: TestCA) -> Iterator[RedisServer]:
    server = RedisServer(SECRET_PASSWORD, tls=test_ca)
    yield server
    server.close()


@pytest.fixture
def redis_tls(redis_tls_session: RedisServer) -> Iterator[RedisServer]:
    """redis-server listening only with TLS (tls-port), certificate from `test_ca`."""
    redis_tls_session.ensure_running()
    yield redis_tls_session
    redis_tls_session.ensure_running()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    """A loopback port that accepts TCP connections and never answers."""
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.fixture
def run_main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> RunMain:
    """Call a monitor's `main(argv)` in this process (fast), with `env` set, output captured.

    `run_main(monitor_redis.main, "--once", env={"REDIS_URL": ...})`. Monitor variables of
    the outer environment are removed first; the state dir is private to the test.
    """

    def run(
        main: Callable[[list[str]], int], *argv: str, env: dict[str, str] | None = None
    ) -> Outcome:
        for name in list(os.environ):
            if name.startswith("RSDEV_") or name in MONITOR_ENV:
                monkeypatch.delenv(name)
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
        monkeypatch.setenv("NO_COLOR", "1")
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


@pytest.fixture
def run_monitor(tmp_path: Path) -> RunMonitor:
    """Run a monitor's console module (`python -m rsdev_misc.<name>`) and capture its output.

    `run_monitor("monitor_postgres", "--once", ..., env={"DATABASE_URL": ...})`. The child
    gets none of the monitors' variables from this environment, and a private state dir.
    """

    def run(
        module: str, *argv: str, env: dict[str, str] | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RSDEV_", "PG", "REDIS_")) and k != "DATABASE_URL"
        }
        clean |= {"XDG_STATE_HOME": str(tmp_path / "state"), "NO_COLOR": "1"}
        clean |= env or {}
        return subprocess.run(
            [sys.executable, "-m", f"rsdev_misc.{module}", *argv],
            env=clean,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def _shared_dir(factory: pytest.TempPathFactory, name: str) -> Path:
    # Under /tmp/pytest-of-<user> (mode 0700): fine for clients; servers copy what they need.
    return factory.mktemp(name)

"""The monitor-postgres command line against real servers (one run as a real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from rsdev_misc.monitor_postgres import main

from ..servers import PgBouncerServer, PostgresServer, RunMain, RunMonitor, TestCA

WRONG_PASSWORD = "Wrong-Pw-QUAGGA-91"


def test_console_script_once_ok_over_verified_tls(
    postgres: PostgresServer, run_monitor: RunMonitor
) -> None:
    """The real console module: `--once` exits 0, one OK line with connect and query times."""
    done = run_monitor(
        "monitor_postgres", "--once", "--dsn", postgres.dsn(),
        "--sslrootcert", str(postgres.ca.ca_file),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("monitor-postgres OK postgresql://rsdev_monitor@127.0.0.1:")
    assert "connect_ms=" in done.stdout
    assert "query_ms=" in done.stdout
    assert postgres.password not in done.stdout + done.stderr


def test_once_through_pgbouncer_from_database_url(
    pgbouncer: PgBouncerServer, run_main: RunMain
) -> None:
    """DATABASE_URL is read; plaintext to the local pooler only with --sslmode disable."""
    env = {"DATABASE_URL": pgbouncer.dsn()}
    done = run_main(main, "--once", "--sslmode", "disable", "--keep-connection", env=env)
    assert done.code == 0, done.output
    refused = run_main(main, "--once", "--sslmode", "prefer", env=env)
    assert refused.code == 3
    assert "sslmode=prefer is refused" in refused.stderr


def test_other_ca_is_critical_tls_without_fallback(
    postgres: PostgresServer, other_ca: TestCA, run_main: RunMain
) -> None:
    """Another CA: exit 2 (CRITICAL), failure kind tls, though the server also takes plaintext."""
    done = run_main(
        main, "--once", "--json", "--dsn", postgres.dsn(), "--sslrootcert", str(other_ca.ca_file)
    )
    assert done.code == 2, done.output
    report = json.loads(done.stdout)
    assert report["status"] == "CRITICAL"
    assert report["failure"] == "tls"
    assert "certificate verify failed" in report["error"]


def test_wrong_password_says_authentication_and_hides_it(
    postgres: PostgresServer, run_main: RunMain
) -> None:
    """Wrong password: CRITICAL naming authentication, not network; no password in any output."""
    dsn = postgres.dsn(password=WRONG_PASSWORD)
    for argv in (["--once"], ["--once", "--json"]):
        done = run_main(
            main, *argv, "--dsn", dsn, "--sslrootcert", str(postgres.ca.ca_file),
            "--log-level", "TRACE",
        )  # fmt: skip
        assert done.code == 2, done.output
        assert "authentication" in done.stdout
        assert "network" not in done.stdout
        assert WRONG_PASSWORD not in done.output
        assert postgres.password not in done.output


def test_heartbeat_table_from_the_command_line(postgres: PostgresServer, run_main: RunMain) -> None:
    """--heartbeat-table makes --once write the row too (heartbeat_ms in the details)."""
    done = run_main(
        main, "--once", "--dsn", postgres.dsn(), "--sslrootcert", str(postgres.ca.ca_file),
        "--heartbeat-table", "cli_heartbeat",
    )  # fmt: skip
    assert done.code == 0, done.output
    assert "heartbeat_ms=" in done.stdout


def test_configuration_errors_exit_3(run_main: RunMain, tmp_path: Path) -> None:
    """No DSN, or a CA file that does not exist: exit 3 (UNKNOWN) with a clear message."""
    done = run_main(main, "--once")
    assert done.code == 3
    assert "DATABASE_URL" in done.stderr
    missing = run_main(
        main, "--once", "--dsn", "postgresql://u:Pw-secret-1@127.0.0.1:1/db",
        "--sslrootcert", str(tmp_path / "nope.pem"),
    )  # fmt: skip
    assert missing.code == 3
    assert "nope.pem" in missing.stderr
    assert "Pw-secret-1" not in missing.output


def test_help_explains_tls(run_main: RunMain) -> None:
    """--help documents the TLS options and exits 0."""
    done = run_main(main, "--help")
    assert done.code == 0
    for option in ("--dsn", "--sslrootcert", "--sslmode", "--keep-connection", "--heartbeat-table"):
        assert option in done.stdout

"""The monitor-redis command line against real servers (one run as a real subprocess)."""

from __future__ import annotations

import json
import time

from rsdev_misc.monitor_redis import main

from ..servers import BlackHole, RedisServer, RunMain, RunMonitor, TestCA

WRONG_PASSWORD = "Wrong-Pw-QUAGGA-91"


def test_console_script_once_ok_with_password_from_the_environment(
    redis_server: RedisServer, run_monitor: RunMonitor
) -> None:
    """The real console module: REDIS_URL + REDIS_PASSWORD, exit 0, PING latency printed."""
    env = {
        "REDIS_URL": f"redis://monitor@127.0.0.1:{redis_server.port}/0",
        "REDIS_PASSWORD": redis_server.password,
    }
    done = run_monitor("monitor_redis", "--once", env=env)
    assert done.returncode == 0, done.stderr
    expected = f"monitor-redis OK redis://monitor@127.0.0.1:{redis_server.port}/0"
    assert done.stdout.startswith(expected)
    assert "ping_ms=" in done.stdout
    assert redis_server.password not in done.stdout + done.stderr


def test_heartbeat_key_written_with_ttl(redis_server: RedisServer, run_main: RunMain) -> None:
    """--heartbeat-key sets the key with EX = 3 intervals, at least 10 s."""
    key = "hb:monitor-redis:cli-test"
    done = run_main(
        main, "--once", "--url", redis_server.url(), "--heartbeat-key", key, "--interval", "5"
    )
    assert done.code == 0, done.output
    with redis_server.client() as client:
        ttl = client.ttl(key)
        payload = json.loads(client.get(key))  # type: ignore[arg-type]
    assert 0 < ttl <= 15
    assert set(payload) == {"ts", "host", "pid", "latency_ms"}


def test_tls_right_ca_ok_other_ca_critical(
    redis_tls: RedisServer, other_ca: TestCA, run_main: RunMain
) -> None:
    """rediss:// with the server's CA exits 0; with another CA exits 2 as tls."""
    assert redis_tls.tls is not None
    good = run_main(
        main, "--once", "--url", redis_tls.url(), "--ca-file", str(redis_tls.tls.ca_file)
    )
    assert good.code == 0, good.output
    bad = run_main(
        main, "--once", "--json", "--url", redis_tls.url(), "--ca-file", str(other_ca.ca_file)
    )
    assert bad.code == 2, bad.output
    report = json.loads(bad.stdout)
    assert (report["status"], report["failure"]) == ("CRITICAL", "tls")


def test_wrong_password_says_authentication_and_hides_it(
    redis_server: RedisServer, run_main: RunMain
) -> None:
    """Wrong password: CRITICAL naming authentication; no password in any output."""
    for argv in (["--once"], ["--once", "--json"]):
        done = run_main(
            main, *argv, "--url", redis_server.url(password=WRONG_PASSWORD), "--log-level", "TRACE"
        )
        assert done.code == 2, done.output
        assert "authentication" in done.stdout
        assert WRONG_PASSWORD not in done.output
        assert redis_server.password not in done.output


def test_black_hole_is_critical_within_the_timeout(
    black_hole: BlackHole, run_main: RunMain
) -> None:
    """A server that never answers: exit 2 (timeout) right after --timeout, not a minute."""
    started = time.monotonic()
    done = run_main(
        main, "--once", "--timeout", "0.5", "--url", f"redis://127.0.0.1:{black_hole.port}"
    )
    assert done.code == 2, done.output
    assert "timeout" in done.stdout
    assert time.monotonic() - started < 2


def test_configuration_errors_exit_3(run_main: RunMain) -> None:
    """No URL, or TLS options smuggled into the URL: exit 3 (UNKNOWN)."""
    assert run_main(main, "--once").code == 3
    done = run_main(
        main, "--once", "--url", "rediss://:Pw-secret-1@127.0.0.1:1/0?ssl_cert_reqs=none"
    )
    assert done.code == 3
    assert "TLS options in the URL" in done.stderr
    assert "Pw-secret-1" not in done.output

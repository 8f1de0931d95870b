"""The shared CLI: --once exit codes and JSON, config precedence, usage errors exit 3."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rsdev_misc.monitor import ProbeResult, UsageError, add_setting, build_parser, run_cli
from rsdev_misc.monitor.probe import FailureKind

GOOD = ProbeResult(ok=True, latency_ms=4.0, details={"connect_ms": 1.5})


class OneResult:
    """A probe that always answers `result`."""

    def __init__(self, target: str, result: ProbeResult) -> None:
        self.target = target
        self.result = result

    async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        return self.result

    async def aclose(self) -> None:
        pass


def tool(
    argv: list[str],
    result: ProbeResult = GOOD,
    env: dict[str, str] | None = None,
    seen: list | None = None,
    factory: Callable | None = None,
) -> int:
    """A minimal monitor built like the real ones."""
    parser = build_parser("monitor-test", "Watch a test service.", "RSDEV_MONITOR_TEST")
    add_setting(
        parser,
        "--target",
        env="TEST_TARGET",
        config_key="target",
        default="svc:1",
        help="what to watch",
    )
    args = parser.parse_args(argv)

    def make(a):
        if seen is not None:
            seen.append(a)
        return factory(a) if factory else OneResult(a.target, result)

    return run_cli(args, make, "monitor-test", env=env or {})


def test_once_ok_exit_0(capsys) -> None:
    """A good probe prints an OK line and exits 0."""
    assert tool(["--once"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("monitor-test OK svc:1 4.0 ms (connect_ms=1.5)")
    assert len(out.splitlines()) == 1


def test_once_slow_is_warning_exit_1(capsys) -> None:
    """Latency above --warn-ms exits 1 (WARNING)."""
    assert tool(["--once", "--warn-ms", "2"]) == 1
    assert "monitor-test WARNING svc:1" in capsys.readouterr().out


def test_once_degraded_is_warning_exit_1() -> None:
    """A degraded (partly failing) result exits 1."""
    assert tool(["--once"], ProbeResult(ok=True, latency_ms=1.0, degraded=True)) == 1


def test_once_failure_is_critical_exit_2(capsys) -> None:
    """A failed probe exits 2 with the failure kind and error on the line."""
    bad = ProbeResult(ok=False, error="connection refused", failure=FailureKind.NETWORK)
    assert tool(["--once"], bad) == 2
    assert "monitor-test CRITICAL svc:1: network: connection refused" in capsys.readouterr().out


def test_once_json_shape(capsys) -> None:
    """--json prints one object with the documented keys, secrets redacted."""
    bad = ProbeResult(
        ok=False, error="no route to redis://:hunter22@h:1", failure=FailureKind.NETWORK
    )
    assert tool(["--once", "--json", "--target", "redis://:hunter22@h:1/0"], bad) == 2
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert {
        "tool",
        "target",
        "time",
        "status",
        "exit_code",
        "ok",
        "degraded",
        "latency_ms",
        "failure",
        "error",
        "details",
    } == set(doc)
    assert (
        doc["status"],
        doc["exit_code"],
        doc["ok"],
        doc["failure"],
    ) == ("CRITICAL", 2, False, "network")
    assert doc["target"] == "redis://:***@h:1/0"
    assert "hunter22" not in out
    assert doc["time"].endswith("Z")


def test_usage_error_exits_3(capsys) -> None:
    """An unknown flag or an invalid value exits 3 (UNKNOWN), not argparse's 2."""
    with pytest.raises(SystemExit) as info:
        tool(["--once", "--no-such-flag"])
    assert info.value.code == 3
    with pytest.raises(SystemExit) as info:
        tool(["--once", "--interval", "-1"])
    assert info.value.code == 3


def test_bad_environment_value_exits_3(capsys) -> None:
    """An unparsable environment value names the variable and exits 3."""
    assert tool(["--once"], env={"RSDEV_MONITOR_TEST_INTERVAL": "soon"}) == 3
    assert "RSDEV_MONITOR_TEST_INTERVAL" in capsys.readouterr().err


def test_factory_usage_error_exits_3(capsys) -> None:
    """A probe factory rejecting its target exits 3 with the (redacted) message."""

    def reject(a):
        raise UsageError("cannot parse DSN postgresql://u:***@h")

    assert tool(["--once"], factory=reject) == 3
    assert "cannot parse DSN" in capsys.readouterr().err


def test_missing_config_file_exits_3(tmp_path: Path, capsys) -> None:
    """A --config file that cannot be read exits 3."""
    assert tool(["--once", "--config", str(tmp_path / "nope.json")]) == 3
    assert "nope.json" in capsys.readouterr().err


def test_precedence_flag_env_config_default(tmp_path: Path) -> None:
    """flag > environment > config file section > default, for common and tool settings."""
    config = tmp_path / "monitors.json"
    config.write_text(
        json.dumps(
            {
                "monitor-test": {"target": "cfg:1", "interval": 7, "timeout": 4, "remind_every": 9},
                "other-tool": {"fail_after": 99},
            }
        )
    )
    env = {
        "RSDEV_MONITOR_TEST_CONFIG": str(config),
        "RSDEV_MONITOR_TEST_INTERVAL": "5",
        "TEST_TARGET": "env:1",
        "RSDEV_MONITOR_TEST_REMIND_EVERY": "11",
    }
    seen: list = []
    assert tool(["--once", "--remind-every", "13"], env=env, seen=seen) == 0
    a = seen[0]
    assert (
        a.target,
        a.interval,
        a.timeout,
        a.remind_every,
        a.fail_after,
    ) == ("env:1", 5.0, 4.0, 13.0, 3)
    seen.clear()
    assert tool(["--once", "--target", "flag:1"], env=env, seen=seen) == 0
    assert seen[0].target == "flag:1"


def test_help_lists_environment_variables(capsys) -> None:
    """--help names the environment variables and the exit codes."""
    with pytest.raises(SystemExit) as info:
        tool(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in ("RSDEV_MONITOR_TEST_INTERVAL", "RSDEV_MONITOR_TEST_CONFIG", "TEST_TARGET"):
        assert name in out
    assert "3 UNKNOWN" in out


def test_a_tool_overrides_common_defaults_by_name(capsys) -> None:
    """`defaults` replaces each named common default (remind_every and warn_ms included),
    in the resolved settings and in --help; an unknown name is a programming error."""
    parser = build_parser(
        "monitor-test", "Watch.", "RSDEV_MONITOR_TEST", defaults={"remind_every": 5, "warn_ms": 250}
    )
    seen: list = []

    def make(a):
        seen.append(a)
        return OneResult("svc:1", GOOD)

    assert 0 == run_cli(parser.parse_args(["--once"]), make, "monitor-test", env={})
    assert (5, 250) == (seen[0].remind_every, seen[0].warn_ms)
    capsys.readouterr()
    parser.print_help()
    out = capsys.readouterr().out
    assert "while down (0: never) [default 5;" in " ".join(out.split())
    assert "milliseconds is a WARNING [default 250;" in " ".join(out.split())
    with pytest.raises(ValueError, match="no such common option"):
        build_parser("monitor-test", "Watch.", "RSDEV_MONITOR_TEST", defaults={"nope": 1})

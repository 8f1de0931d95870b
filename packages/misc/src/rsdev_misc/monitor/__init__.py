"""The monitor loop shared by monitor-postgres, monitor-redis and monitor-net.

A tool supplies a `Probe` (one check of one service, see `probe.py`) and reuses the rest:

    from rsdev_misc.monitor import UsageError, add_setting, build_parser, run_cli

    def main(argv: list[str] | None = None) -> int:
        parser = build_parser("monitor-redis", "Watch a Redis server.", "RSDEV_MONITOR_REDIS")
        add_setting(parser, "--url", env="REDIS_URL", config_key="url",
                    help="redis://, rediss:// or unix:// URL")
        args = parser.parse_args(argv)
        return run_cli(args, lambda a: RedisProbe(a.url), "monitor-redis")

- `build_parser(prog, description, env_prefix, *, epilog=None)`: an ArgumentParser with the
  common options (--once, --json, --config, --interval, --timeout, --fail-after,
  --recover-after, --remind-every, --warn-ms, --state-file, --no-state-file, --metrics-port,
  and lib_common.logging's --log-level/--log-dir/--log-json/--speak/--speak-to-dir); their
  environment variables are ``<env_prefix>_INTERVAL`` etc. Usage errors exit 3.
- `add_setting(parser, *flags, env, config_key=None, default=None, type=str, multiple=False,
  flag=False, help, metavar=None, group=None)`: a tool option with the same precedence:
  flag > environment > config file key > default.
- `run_cli(args, probe_factory, tool_name, *, observers=None, env=None) -> int`: resolves
  every setting, calls `probe_factory(args)` (raise `UsageError` for a bad target: exit 3),
  then runs `--once` (prints one line or JSON, returns the `Severity` exit code) or the
  daemon (metrics, state file, signals; returns 0 on SIGINT/SIGTERM). `observers(args,
  settings)` returns `LoopObserver`s that see every `Beat` (sounds, outage files).
- `MonitorLoop(probe, settings, *, tool, clock, sleep, observers, metrics)`: the daemon
  loop; `await step()` runs one probe + transition and returns the `Beat`; `await
  run(stop_event)` beats until the anyio Event is set, then saves the state.
- `PhasedProbe[Target, Conn, Heartbeat]`: the skeleton of a connection-based probe (connect or
  reuse, one timed call, optional heartbeat, close, under one deadline, failures classified
  and redacted); a subclass supplies `_open`, `_call`, `_beat`, `_close`, `_classify`,
  `_describe` and `_latency_ms`. Used by monitor-postgres and monitor-redis.
- `redact(text, extra_secrets=())`: masks passwords and tokens; use on every error message
  and target description.
- `Tracker` / `StateMachine` / `TABLE`: the sans-I/O state machine and outage bookkeeping.

See docs/monitors.md for the behaviour (states, thresholds, exit codes, state file, metrics).
"""

from rsdev_misc.monitor.cli import (
    EXIT_CONFIG,
    EXIT_OK,
    MonitorArgumentParser,
    UsageError,
    add_setting,
    build_parser,
    run_cli,
)
from rsdev_misc.monitor.clock import SYSTEM_CLOCK, Clock, Instant, Sleep, SystemClock, real_sleep
from rsdev_misc.monitor.loop import Beat, LoopObserver, MonitorLoop, utc
from rsdev_misc.monitor.metrics import MetricsServer, MonitorMetrics, serve_metrics
from rsdev_misc.monitor.phased_probe import PhasedProbe, ServiceTarget
from rsdev_misc.monitor.probe import FailureKind, Probe, ProbeResult, Severity
from rsdev_misc.monitor.redact import MASK, redact
from rsdev_misc.monitor.report import classify, human_line, result_dict
from rsdev_misc.monitor.settings import MonitorSettings
from rsdev_misc.monitor.statefile import (
    SavedState,
    StateFileError,
    default_state_path,
    load_state,
    save_state,
)
from rsdev_misc.monitor.states import TABLE, Signal, State, StateMachine, Step
from rsdev_misc.monitor.testing import FakeClock
from rsdev_misc.monitor.tracker import ClosedOutage, Observation, OpenOutage, Tracker

__all__ = [
    "EXIT_CONFIG",
    "EXIT_OK",
    "MASK",
    "SYSTEM_CLOCK",
    "TABLE",
    "Beat",
    "Clock",
    "ClosedOutage",
    "FailureKind",
    "FakeClock",
    "Instant",
    "LoopObserver",
    "MetricsServer",
    "MonitorArgumentParser",
    "MonitorLoop",
    "MonitorMetrics",
    "MonitorSettings",
    "Observation",
    "OpenOutage",
    "PhasedProbe",
    "Probe",
    "ProbeResult",
    "SavedState",
    "ServiceTarget",
    "Severity",
    "Signal",
    "Sleep",
    "State",
    "StateFileError",
    "StateMachine",
    "Step",
    "SystemClock",
    "Tracker",
    "UsageError",
    "add_setting",
    "build_parser",
    "classify",
    "default_state_path",
    "human_line",
    "load_state",
    "real_sleep",
    "redact",
    "result_dict",
    "run_cli",
    "save_state",
    "serve_metrics",
    "utc",
]

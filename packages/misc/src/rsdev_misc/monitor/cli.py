"""The command line every monitor shares: options, config precedence, --once, the daemon.

A tool builds its parser, adds its own settings, and hands the parsed args to `run_cli`::

    parser = build_parser("monitor-redis", "Watch a Redis server.", "RSDEV_MONITOR_REDIS")
    add_setting(parser, "--url", env="REDIS_URL", config_key="url", help="redis:// URL")
    args = parser.parse_args(argv)
    return run_cli(args, lambda a: RedisProbe(a.url), "monitor-redis")

Every setting (common or the tool's own) is resolved with one precedence: command-line flag
> environment variable > config file (``--config FILE``, encrypted or plain JSON, loaded with
`lib_common.config.load_config`; the keys of the section named after the tool, or of the top
level) > built-in default; the resolution and the conversions are the shared
`lib_common.config.resolve_settings`. Usage and configuration errors exit 3 (UNKNOWN), never 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import anyio
from anyio.abc import TaskStatus
from loguru import logger

from lib_common.config import Setting, SettingValueError, help_with_notes, resolve_settings
from rsdev_misc.monitor.clock import Instant
from rsdev_misc.monitor.loop import LoopObserver, MonitorLoop, utc
from rsdev_misc.monitor.metrics import MonitorMetrics, serve_metrics
from rsdev_misc.monitor.probe import Probe, Severity
from rsdev_misc.monitor.redact import redact
from rsdev_misc.monitor.report import classify, human_line, json_line
from rsdev_misc.monitor.settings import MonitorSettings
from rsdev_misc.monitor.statefile import default_state_path

__all__ = [
    "EXIT_CONFIG",
    "EXIT_OK",
    "MonitorArgumentParser",
    "UsageError",
    "add_setting",
    "build_parser",
    "run_cli",
]

EXIT_OK = 0
EXIT_CONFIG = int(Severity.UNKNOWN)  # bad flags, env, config file, or cannot start

_CONTEXT = "_rsdev_monitor_cli"


class UsageError(Exception):
    """A configuration problem the user must fix; `run_cli` prints it and exits 3.

    A `probe_factory` raises it for a bad target (e.g. an unparsable DSN); the message must
    already be redacted or contain no secret.
    """


class MonitorArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 3 (UNKNOWN), as monitoring plugins do."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message}\n")


@dataclass
class _Context:
    env_prefix: str
    settings: list[Setting] = field(default_factory=list)


def _context(parser: argparse.ArgumentParser) -> _Context:
    ctx = parser.get_default(_CONTEXT)
    if not isinstance(ctx, _Context):
        raise TypeError("not a parser made by build_parser()")
    return ctx


def add_setting(
    parser: argparse.ArgumentParser,
    *flags: str,
    env: str | None,
    config_key: str | None = None,
    default: Any = None,
    type: Callable[[str], Any] = str,
    multiple: bool = False,
    flag: bool = False,
    help: str,
    metavar: str | None = None,
    group: argparse._ArgumentGroup | None = None,
) -> None:
    """Add an option resolved as flag > `env` > config `config_key` > `default`.

    `multiple`: repeatable flag; the environment value is comma-separated, the config value
    a JSON list. `flag`: a boolean switch; the environment accepts 1/0, true/false, yes/no.
    The help text gets the default and the environment variable appended.
    """
    setting = Setting(
        name=flags[0].lstrip("-").replace("-", "_"),
        parse=type,
        default=default,
        repeatable=multiple,
        switch=flag,
        flag=flags[0],
        env=env,
        config_key=config_key,
    )
    _context(parser).settings.append(setting)
    shown = None if default in (None, False, [], ()) else str(default)
    text = help_with_notes(help, default=shown, env=env)
    target = group if group is not None else parser
    if flag:
        target.add_argument(*flags, dest=setting.name, action="store_true", default=None, help=text)
    elif multiple:
        target.add_argument(
            *flags,
            dest=setting.name,
            action="append",
            type=type,
            default=None,
            help=text,
            metavar=metavar,
        )
    else:
        target.add_argument(
            *flags, dest=setting.name, type=type, default=None, help=text, metavar=metavar
        )


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"{text} is not > 0")
    return value


_Common = tuple[str, Callable[[str], Any], str, str]  # flag, type, metavar, help
_PROBING: tuple[_Common, ...] = (
    ("--interval", _positive_float, "SECONDS", "seconds between probes"),
    ("--timeout", _positive_float, "SECONDS", "seconds one probe may take"),
    (
        "--fail-after",
        int,
        "N",
        "consecutive failed probes before DOWN (fewer: PENDING, no alert)",
    ),
    ("--recover-after", int, "M", "consecutive good probes before UP again"),
    (
        "--remind-every",
        float,
        "MINUTES",
        "repeat the DOWN alert every MINUTES while down (0: never)",
    ),
    ("--warn-ms", float, "MS", "a good probe slower than MS milliseconds is a WARNING"),
)
_OUTPUT: tuple[_Common, ...] = (
    (
        "--state-file",
        Path,
        "FILE",
        "where an open outage is kept across restarts "
        "(default $XDG_STATE_HOME/rsdev/<tool>-<target hash>.json)",
    ),
    ("--metrics-port", int, "PORT", "serve Prometheus metrics on http://127.0.0.1:PORT/metrics"),
)


def _add_common(
    parser: argparse.ArgumentParser,
    group: argparse._ArgumentGroup,
    prefix: str,
    options: tuple[_Common, ...],
    defaults: Mapping[str, Any],
) -> None:
    """The common options: env `<PREFIX>_<NAME>`, config key `<name>`, default by name."""
    for option, kind, metavar, text in options:
        name = option.removeprefix("--").replace("-", "_")
        add_setting(
            parser,
            option,
            env=f"{prefix}_{name.upper()}",
            config_key=name,
            default=defaults.get(name),
            type=kind,
            metavar=metavar,
            group=group,
            help=text,
        )


def build_parser(
    prog: str,
    description: str,
    env_prefix: str,
    *,
    epilog: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> MonitorArgumentParser:
    """A parser with the common monitor options; their env names are ``<env_prefix>_<NAME>``.

    `defaults` overrides built-in defaults of common options by name (``interval``,
    ``timeout``, ``fail_after``, ``recover_after``, ``remind_every`` in minutes, ``warn_ms``).
    """
    from lib_common.logging import add_logging_arguments

    p = env_prefix.rstrip("_")
    parser = MonitorArgumentParser(
        prog=prog,
        description=description,
        epilog=(epilog + "\n\n" if epilog else "") + _COMMON_EPILOG.format(prefix=p),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(**{_CONTEXT: _Context(p)})
    mode = parser.add_argument_group("mode")
    mode.add_argument(
        "--once",
        action="store_true",
        help="probe once, print one line, exit 0 OK / 1 WARNING / 2 CRITICAL / 3 UNKNOWN",
    )
    mode.add_argument(
        "--json",
        action="store_true",
        help="--once: print a JSON object instead of the line; daemon: JSON log lines",
    )
    mode.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help=f"encrypted (or plain JSON) config file; key from RSDEV_CONFIG_KEY[_FILE] "
        f"[env {p}_CONFIG]",
    )
    beat = parser.add_argument_group("probing and alerting")
    s = MonitorSettings()
    d: dict[str, Any] = {
        "interval": s.interval,
        "timeout": s.timeout,
        "fail_after": s.fail_after,
        "recover_after": s.recover_after,
        "remind_every": 30.0,
        "warn_ms": None,
    }
    unknown = set(defaults or {}) - set(d)
    if unknown:
        raise ValueError(f"no such common option: {sorted(unknown)}")
    d.update(defaults or {})
    _add_common(parser, beat, p, _PROBING, d)
    out = parser.add_argument_group("state and metrics")
    _add_common(parser, out, p, _OUTPUT[:1], d)
    out.add_argument(
        "--no-state-file",
        action="store_true",
        help="keep no state file (an outage open at exit is forgotten)",
    )
    _add_common(parser, out, p, _OUTPUT[1:], d)
    add_logging_arguments(parser)
    return parser


_COMMON_EPILOG = """\
states: UP → PENDING after a failed probe (no alert) → DOWN after --fail-after failures in a
row (alert) → UP after --recover-after good probes in a row (alert with the downtime).

precedence: flag > environment > --config file > default. Environment variables of the
common options: {prefix}_INTERVAL, {prefix}_TIMEOUT, {prefix}_FAIL_AFTER,
{prefix}_RECOVER_AFTER, {prefix}_REMIND_EVERY, {prefix}_WARN_MS, {prefix}_STATE_FILE,
{prefix}_METRICS_PORT, {prefix}_CONFIG.

exit codes: --once: 0 OK, 1 WARNING (slow or degraded), 2 CRITICAL (failed), 3 UNKNOWN (bad
configuration). Daemon: 0 after SIGINT/SIGTERM (state saved), 3 bad configuration or cannot
start (e.g. metrics port in use), 1 unexpected crash. Secrets are redacted in all output."""


# -- resolution ------------------------------------------------------------------------
def _resolve(
    args: argparse.Namespace, ctx: _Context, config: Mapping[str, Any], env: Mapping[str, str]
) -> None:
    """Fill every setting left unset by the flags, in place (raises UsageError).

    argparse already converted the flags (their errors exit 3 from the parser), so only the
    unset settings go to the shared resolution, which reads the environment, then the config.
    """
    unset = [s for s in ctx.settings if getattr(args, s.name, None) is None]
    try:
        resolved = resolve_settings(
            unset,
            {},
            environ=env,
            config=config,
            env_label=lambda name: f"environment {name}",
            config_label=lambda key: f"config key {key!r}",
        )
    except SettingValueError as exc:
        raise UsageError(f"{exc.where}: {redact(exc.reason)}") from None
    for setting in unset:
        value = resolved[setting.name]
        if setting.repeatable and isinstance(value, tuple):
            value = list(value)  # as argparse's "append" gives for flags
        setattr(args, setting.name, value)


def _load_config(path: str, tool: str) -> Mapping[str, Any]:
    from lib_common.config import ConfigError, load_config

    try:
        doc = load_config(path)
    except ConfigError as exc:
        raise UsageError(redact(exc)) from None
    section = doc.get(tool, doc)
    if not isinstance(section, dict):
        raise UsageError(f"{path}: the section {tool!r} must be a JSON object")
    return section


def _settings(args: argparse.Namespace, tool: str, target: str) -> MonitorSettings:
    state_file: Path | None = None
    if not args.no_state_file and not args.once:
        state_file = args.state_file or default_state_path(tool, target)
    try:
        return MonitorSettings(
            interval=args.interval,
            timeout=args.timeout,
            fail_after=args.fail_after,
            recover_after=args.recover_after,
            remind_every=args.remind_every * 60 if args.remind_every else None,
            warn_ms=args.warn_ms,
            state_file=state_file,
            metrics_port=args.metrics_port,
            speak=bool(args.speak or args.speak_to_dir),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# -- running ---------------------------------------------------------------------------
def run_cli(
    args: argparse.Namespace,
    probe_factory: Callable[[argparse.Namespace], Probe],
    tool_name: str,
    *,
    observers: Callable[[argparse.Namespace, MonitorSettings], Sequence[LoopObserver]]
    | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Resolve settings, build the probe, run `--once` or the daemon; return the exit code.

    `probe_factory(args)` gets the namespace with every setting resolved (flags > env >
    config > defaults) and returns the `Probe`; it raises `UsageError` for bad settings.
    `observers(args, settings)` (daemon only) returns the tool's `LoopObserver`s.
    """
    from lib_common.logging import setup_logging_from_args

    if args.json and not args.once:
        args.log_json = True
    handle = setup_logging_from_args(tool_name, args)
    try:
        environ = os.environ if env is None else env
        try:
            config_path = args.config or environ.get(f"{_context_of(args).env_prefix}_CONFIG")
            config = _load_config(config_path, tool_name) if config_path else {}
            _resolve(args, _context_of(args), config, environ)
            probe = probe_factory(args)
            settings = _settings(args, tool_name, redact(probe.target))
        except UsageError as exc:
            print(f"{tool_name}: configuration error: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        if args.once:
            return anyio.run(_once, probe, settings, tool_name, args.json)
        extra = list(observers(args, settings)) if observers is not None else []
        return anyio.run(_daemon, probe, settings, tool_name, extra)
    finally:
        handle.close()


def _context_of(args: argparse.Namespace) -> _Context:
    ctx = getattr(args, _CONTEXT, None)
    if not isinstance(ctx, _Context):
        raise TypeError("args were not parsed by a parser made by build_parser()")
    return ctx


async def _once(probe: Probe, settings: MonitorSettings, tool: str, as_json: bool) -> int:
    loop = MonitorLoop(probe, settings, tool=tool)
    try:
        at = Instant.now(loop.clock)
        result = await loop.probe_once()
    finally:
        await probe.aclose()
    severity = classify(result, settings.warn_ms)
    if as_json:
        print(json_line(tool, loop.target, result, severity, utc(at.wall)))
    else:
        print(human_line(tool, loop.target, result, severity))
    return int(severity)


async def _daemon(
    probe: Probe, settings: MonitorSettings, tool: str, observers: list[LoopObserver]
) -> int:
    target = redact(probe.target)
    metrics = MonitorMetrics(tool, target)
    server = None
    if settings.metrics_port is not None:
        try:
            server = serve_metrics(metrics, settings.metrics_port)
        except OSError as exc:
            logger.error("cannot serve metrics on 127.0.0.1:{}: {}", settings.metrics_port, exc)
            await probe.aclose()
            for observer in observers:
                observer.close()
            return EXIT_CONFIG
        logger.info("metrics on http://127.0.0.1:{}/metrics", server.port)
    loop = MonitorLoop(probe, settings, tool=tool, observers=observers, metrics=metrics)
    stop = anyio.Event()
    try:
        async with anyio.create_task_group() as tg:

            async def on_signal(*, task_status: TaskStatus[None]) -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    task_status.started()
                    async for signum in signals:
                        logger.info("{} received: stopping", signal.Signals(signum).name)
                        stop.set()
                        return

            await tg.start(on_signal)
            # Logged once signals are handled: from here SIGINT/SIGTERM stop cleanly.
            logger.bind(tool=tool, target=target).info(
                "watching {} every {:g}s (DOWN after {} failures, UP after {} successes){}",
                target,
                settings.interval,
                settings.fail_after,
                settings.recover_after,
                f"; state file {settings.state_file}" if settings.state_file else "",
            )
            await loop.run(stop)
            tg.cancel_scope.cancel()
    finally:
        await probe.aclose()
        if server is not None:
            server.close()
    logger.bind(tool=tool, target=target).info("stopped: {}", loop.summary())
    return EXIT_OK

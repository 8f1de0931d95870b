"""Gateway settings from one option table: command-line flag > environment > config file > default.

A gateway describes each setting once as an `Option` (name, help, parser, default); this
module turns the table into argparse flags, reads `PREFIX_NAME` environment variables and
the keys of an (encrypted) config file, and resolves each value by that precedence. Every
problem is a `SettingsError` with one line naming where the bad value came from (the flag,
the variable or the config key), never the value when the option is secret.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from lib_common.config import KEY_ENV, KEY_FILE_ENV, ConfigError, load_config

__all__ = [
    "EXIT_BIND",
    "EXIT_CONFIG",
    "EXIT_ERROR",
    "EXIT_OK",
    "GatewayArgumentParser",
    "Option",
    "Resolved",
    "SettingsError",
    "add_options",
    "load_config_section",
    "resolve_options",
]

EXIT_OK = 0  # clean shutdown (including on SIGINT/SIGTERM)
EXIT_ERROR = 1  # unexpected failure at run time, or a shutdown that had to be forced
EXIT_CONFIG = 2  # bad flag, environment variable, config file or refused setting
EXIT_BIND = 3  # cannot listen: address in use, not available, or not permitted

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ConfigError):
    """A setting the user must fix; the message is one line and holds no secret value."""

    exit_code = EXIT_CONFIG


@dataclass(frozen=True, slots=True)
class Option:
    """One setting of a gateway.

    `name` is the attribute of the result and the config-file key; the flag defaults to
    `--name-with-dashes` and the environment variable to `PREFIX` + `NAME`. `parse` turns
    text (a flag or a variable) into the value and raises `ValueError` with a short reason.
    `repeatable`: the flag may repeat, the variable is comma-separated, the config value a
    JSON list. `switch`: an on/off flag. `secret`: the value never appears in messages.
    `in_config=False` keeps an option off the config file (e.g. `--config` itself).
    `default` is the value itself (not text); `shown_default` is its spelling in --help.
    """

    name: str
    help: str
    default: Any = None
    parse: Callable[[str], Any] = str
    metavar: str | None = None
    repeatable: bool = False
    switch: bool = False
    secret: bool = False
    in_env: bool = True
    in_config: bool = True
    group: str | None = None
    flag: str = field(default="")
    shown_default: str | None = None  # how --help spells the default (e.g. "64MiB")

    @property
    def flag_name(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def env_name(self, prefix: str) -> str:
        return prefix + self.name.upper()


@dataclass(frozen=True, slots=True)
class Resolved:
    """Resolved values by option name, and where each came from (`flag`, `env`, `config`,
    `default`)."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def describe(self, options: Iterable[Option]) -> dict[str, str]:
        """`name → "value (source)"` for logging, with secrets shown as `***`."""
        out: dict[str, str] = {}
        for option in options:
            value = self.values[option.name]
            shown = "***" if option.secret and value else repr(value)
            out[option.name] = f"{shown} ({self.sources[option.name]})"
        return out


class GatewayArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr and exit `EXIT_CONFIG`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message} (see --help)\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def add_options(
    parser: argparse.ArgumentParser, options: Sequence[Option], *, env_prefix: str
) -> None:
    """Add one flag per option; unset flags stay None so the environment can fill them."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for option in options:
        target: Any = parser
        if option.group is not None:
            target = groups.get(option.group) or parser.add_argument_group(option.group)
            groups[option.group] = target
        notes = []
        if option.shown_default is not None:
            notes.append(f"default {option.shown_default}")
        elif option.default not in (None, False, (), []) and not option.secret:
            notes.append(f"default {_show_default(option.default)}")
        if option.in_env:
            notes.append(f"env {option.env_name(env_prefix)}")
        text = f"{option.help} [{'; '.join(notes)}]" if notes else option.help
        if option.switch:
            target.add_argument(
                option.flag_name, dest=option.name, action="store_true", default=None, help=text
            )
        else:
            target.add_argument(
                option.flag_name,
                dest=option.name,
                action="append" if option.repeatable else "store",
                default=None,
                metavar=option.metavar,
                help=text,
            )


def resolve_options(
    options: Sequence[Option],
    args: argparse.Namespace,
    *,
    env_prefix: str,
    environ: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
    config_name: str = "config file",
) -> Resolved:
    """Each option's value by precedence flag > environment > config > default."""
    known = {o.name for o in options if o.in_config}
    if config is not None:
        unknown = sorted(set(config) - known)
        if unknown:
            raise SettingsError(
                f"{config_name}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in options:
        given = getattr(args, option.name, None)
        env = option.env_name(env_prefix)
        if given is not None:
            values[option.name] = _from_flag(option, given)
            sources[option.name] = "flag"
        elif option.in_env and env in environ:
            values[option.name] = _from_env(option, env, environ[env])
            sources[option.name] = "env"
        elif config is not None and option.in_config and option.name in config:
            values[option.name] = _from_config(option, config[option.name], config_name)
            sources[option.name] = "config"
        else:
            values[option.name] = option.default
            sources[option.name] = "default"
    return Resolved(values, sources)


def load_config_section(
    path: str | Path, section: str, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Load an encrypted (or plain JSON) config file; use its `section` object if it has
    one, else the top level. The key comes from `environ` (`RSDEV_CONFIG_KEY`, then
    `RSDEV_CONFIG_KEY_FILE`; default: the process environment)."""
    env = os.environ if environ is None else environ
    try:
        document = load_config(
            str(path), key=env.get(KEY_ENV) or None, key_file=env.get(KEY_FILE_ENV) or None
        )
    except ConfigError as exc:
        raise SettingsError(str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise SettingsError(f"config file {path}: {exc.strerror or exc}") from None
    inner = document.get(section)
    if isinstance(inner, dict):
        return inner
    return document


# -- conversions -----------------------------------------------------------------------


def _fail(option: Option, where: str, reason: str) -> NoReturn:
    raise SettingsError(f"{where}: {reason}")


def _parse(option: Option, where: str, text: str) -> Any:
    try:
        return option.parse(text)
    except ValueError as exc:
        reason = str(exc) if not option.secret else "invalid value"
        _fail(option, where, reason or "invalid value")


def _from_flag(option: Option, given: Any) -> Any:
    if option.switch:
        return True
    if option.repeatable:
        return tuple(_parse(option, option.flag_name, item) for item in given)
    return _parse(option, option.flag_name, given)


def _from_env(option: Option, name: str, text: str) -> Any:
    if option.switch:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        _fail(option, name, "expected 1/0, true/false, yes/no or on/off")
    if option.repeatable:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return tuple(_parse(option, name, p) for p in parts)
    return _parse(option, name, text)


def _from_config(option: Option, value: Any, config_name: str) -> Any:
    where = f"{config_name} key {option.name!r}"
    if option.switch:
        if isinstance(value, bool):
            return value
        _fail(option, where, "must be true or false")
    if option.repeatable:
        items = value if isinstance(value, list) else [value]
        return tuple(_parse(option, where, _config_text(option, where, v)) for v in items)
    return _parse(option, where, _config_text(option, where, value))


def _config_text(option: Option, where: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        _fail(option, where, "must be a string or a number")
    return str(value)


def _show_default(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)

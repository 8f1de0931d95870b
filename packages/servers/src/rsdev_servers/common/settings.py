"""Gateway settings from one option table: command-line flag > environment > config file > default.

A gateway describes each setting once as an `Option` (name, help, parser, default); this
module turns the table into argparse flags and hands each option, as a shared
`lib_common.config.Setting` (env `PREFIX_NAME`, config key `name`), to
`lib_common.config.resolve_settings`, which owns the precedence and the conversions. Every
problem is a `SettingsError` with one line naming where the bad value came from (the flag,
the variable or the config key), never the value when the option is secret.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from lib_common.config import (
    KEY_ENV,
    KEY_FILE_ENV,
    ConfigError,
    Resolved,
    Setting,
    SettingValueError,
    help_with_notes,
    load_config,
    resolve_settings,
    unknown_config_keys,
)

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

    def setting(self, prefix: str) -> Setting:
        """This option as the shared `Setting` (its sources: flag, `prefix + NAME`, key)."""
        return Setting(
            name=self.name,
            parse=self.parse,
            default=self.default,
            repeatable=self.repeatable,
            switch=self.switch,
            secret=self.secret,
            flag=self.flag_name,
            env=self.env_name(prefix) if self.in_env else None,
            config_key=self.name if self.in_config else None,
        )


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
        shown = option.shown_default
        if shown is None and option.default not in (None, False, (), []) and not option.secret:
            shown = _show_default(option.default)
        env = option.env_name(env_prefix) if option.in_env else None
        text = help_with_notes(option.help, default=shown, env=env)
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
    settings = [option.setting(env_prefix) for option in options]
    if config is not None:
        unknown = unknown_config_keys(settings, config)
        if unknown:
            known = sorted(s.config_key for s in settings if s.config_key is not None)
            raise SettingsError(
                f"{config_name}: unknown key {unknown[0]!r} (known: {', '.join(known)})"
            )
    flags = {option.name: getattr(args, option.name, None) for option in options}
    try:
        return resolve_settings(
            settings,
            flags,
            environ=environ,
            config=config,
            config_label=lambda key: f"{config_name} key {key!r}",
        )
    except SettingValueError as exc:
        raise SettingsError(str(exc)) from None


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


def _show_default(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)

"""One setting's value by precedence: command-line flag > environment > config file > default.

Front ends (the gateways' `Option` tables, the monitors' `add_setting`) describe each setting
as a `Setting` and call `resolve_settings`; this module owns the precedence and every
conversion: a switch, a repeatable value or a typed value from flag text, environment text
or a config-file JSON value. A bad value raises `SettingValueError`, one line naming where it
came from (the flag, the variable, the config key) and never the value of a secret setting.

    port = Setting("port", parse=int, default=8765, flag="--port", env="GW_PORT", config_key="port")
    resolved = resolve_settings([port], {"port": None}, environ=os.environ, config={"port": 9000})
    resolved["port"], resolved.sources["port"]   # 9000, "config"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from lib_common.config.errors import ConfigError

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "Resolved",
    "Setting",
    "SettingValueError",
    "from_config",
    "from_env",
    "from_flag",
    "help_with_notes",
    "resolve_settings",
    "unknown_config_keys",
]

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class SettingValueError(ConfigError):
    """A bad setting value: `where` names its source, `reason` says why (no secret value)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Setting:
    """How one setting is read.

    `name` keys the result; `flag`, `env` and `config_key` name its sources (None: not read
    from there). `parse` turns text into the value and raises `ValueError` (or `TypeError`)
    with a short reason. `repeatable`: flag text is a list, the variable comma-separated, the
    config value a JSON list (or one scalar); the value is a tuple. `switch`: flag given means
    True, the variable is a yes/no word, the config value a JSON boolean. `secret`: a parse
    error says only "invalid value". `default` is the value itself, not text.
    """

    name: str
    parse: Callable[[str], Any] = str
    default: Any = None
    repeatable: bool = False
    switch: bool = False
    secret: bool = False
    flag: str = ""
    env: str | None = None
    config_key: str | None = None


class _Described(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def secret(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Resolved:
    """Resolved values by name, and where each came from (`flag`, `env`, `config`,
    `default`)."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def describe(self, settings: Iterable[_Described]) -> dict[str, str]:
        """`name → "value (source)"` for logging, with secrets shown as `***`."""
        out: dict[str, str] = {}
        for setting in settings:
            value = self.values[setting.name]
            shown = "***" if setting.secret and value else repr(value)
            out[setting.name] = f"{shown} ({self.sources[setting.name]})"
        return out


def _env_label(name: str) -> str:
    return name


def _config_label(key: str) -> str:
    return f"config file key {key!r}"


def resolve_settings(
    settings: Sequence[Setting],
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
    env_label: Callable[[str], str] = _env_label,
    config_label: Callable[[str], str] = _config_label,
) -> Resolved:
    """Each setting by precedence flag > environment > config > default.

    `flags` maps names to what argparse stored (None or absent: not given). `env_label` and
    `config_label` spell a variable / config key in error messages.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in settings:
        given = flags.get(setting.name)
        if given is not None:
            values[setting.name] = from_flag(setting, given)
            sources[setting.name] = "flag"
        elif setting.env is not None and setting.env in environ:
            text = environ[setting.env]
            values[setting.name] = from_env(setting, text, env_label(setting.env))
            sources[setting.name] = "env"
        elif config is not None and setting.config_key is not None and setting.config_key in config:
            where = config_label(setting.config_key)
            values[setting.name] = from_config(setting, config[setting.config_key], where)
            sources[setting.name] = "config"
        else:
            values[setting.name] = setting.default
            sources[setting.name] = "default"
    return Resolved(values, sources)


def unknown_config_keys(settings: Iterable[Setting], config: Mapping[str, Any]) -> list[str]:
    """The config keys no setting reads, sorted."""
    known = {s.config_key for s in settings if s.config_key is not None}
    return sorted(set(config) - known)


def help_with_notes(text: str, *, default: str | None = None, env: str | None = None) -> str:
    """`text [default D; env E]`, leaving out what is None (and the brackets if both are)."""
    notes = []
    if default is not None:
        notes.append(f"default {default}")
    if env:
        notes.append(f"env {env}")
    return f"{text} [{'; '.join(notes)}]" if notes else text


# -- conversions -----------------------------------------------------------------------


def _parse(setting: Setting, where: str, text: str) -> Any:
    try:
        return setting.parse(text)
    except (ValueError, TypeError) as exc:
        reason = "" if setting.secret else str(exc)
        raise SettingValueError(where, reason or "invalid value") from None


def from_flag(setting: Setting, given: Any) -> Any:
    """The value of a given flag: True for a switch, parsed text (a tuple if repeatable)."""
    if setting.switch:
        return True
    if setting.repeatable:
        return tuple(_parse(setting, setting.flag, item) for item in given)
    return _parse(setting, setting.flag, given)


def from_env(setting: Setting, text: str, where: str) -> Any:
    """The value of an environment variable's text (`where` names it in errors)."""
    if setting.switch:
        lowered = text.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise SettingValueError(where, "expected 1/0, true/false, yes/no or on/off")
    if setting.repeatable:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return tuple(_parse(setting, where, p) for p in parts)
    return _parse(setting, where, text)


def from_config(setting: Setting, value: Any, where: str) -> Any:
    """The value of a config-file JSON value (`where` names the key in errors)."""
    if setting.switch:
        if isinstance(value, bool):
            return value
        raise SettingValueError(where, "must be true or false")
    if setting.repeatable:
        items = value if isinstance(value, list) else [value]
        return tuple(_parse(setting, where, _config_text(where, v)) for v in items)
    return _parse(setting, where, _config_text(where, value))


def _config_text(where: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        _fail(where, "must be a string or a number")
    return str(value)


def _fail(where: str, reason: str) -> NoReturn:
    raise SettingValueError(where, reason)

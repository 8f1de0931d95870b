"""Shared setting resolution: flag > environment > config > default, and its conversions."""

from __future__ import annotations

from typing import Any

import pytest

import lib_common.config as config_pkg
from lib_common.config import (
    ConfigError,
    Resolved,
    Setting,
    SettingValueError,
    help_with_notes,
    resolve_settings,
    unknown_config_keys,
)


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise ValueError(f"{value} is not a port (1-65535)")
    return value


def _token(text: str) -> str:
    if len(text) < 16:
        raise ValueError(f"token {text!r} is too short")
    return text


PORT = Setting("port", parse=_port, default=8765, flag="--port", env="T_PORT", config_key="port")
TOKEN = Setting("token", parse=_token, secret=True, flag="--token", env="T_TOKEN", config_key="tok")
ORIGIN = Setting(
    "origin", repeatable=True, default=(), flag="--origin", env="T_ORIGIN", config_key="origin"
)
DEMO = Setting("demo", switch=True, flag="--demo", env="T_DEMO", config_key="demo")
SETTINGS = (PORT, TOKEN, ORIGIN, DEMO)


def _resolve(
    flags: dict[str, Any], env: dict[str, str], config: dict[str, Any] | None = None
) -> Resolved:
    return resolve_settings(SETTINGS, flags, environ=env, config=config)


def test_flag_beats_env_beats_config_beats_default() -> None:
    """Each source wins over the ones after it, and `sources` says which one did."""
    env = {"T_PORT": "2000"}
    config = {"port": 3000}
    assert _resolve({"port": "1000"}, env, config)["port"] == 1000
    assert _resolve({"port": None}, env, config)["port"] == 2000
    assert _resolve({}, {}, config)["port"] == 3000
    resolved = _resolve({}, {}, None)
    assert resolved["port"] == 8765
    assert resolved.sources == {
        "port": "default",
        "token": "default",
        "origin": "default",
        "demo": "default",
    }
    assert _resolve({"port": "1"}, env, config).sources["port"] == "flag"
    assert _resolve({}, env, config).sources["port"] == "env"
    assert _resolve({}, {}, config).sources["port"] == "config"


def test_a_setting_without_env_or_config_key_ignores_them() -> None:
    """env=None / config_key=None: the variable and the key are not read."""
    only_flag = Setting("port", parse=int, default=1, flag="--port")
    resolved = resolve_settings([only_flag], {}, environ={"PORT": "2"}, config={"port": 3})
    assert (resolved["port"], resolved.sources["port"]) == (1, "default")


def test_switch_from_each_source() -> None:
    """A switch: a given flag is True, env words yes/no/1/0/on/off, config JSON booleans."""
    assert _resolve({"demo": True}, {})["demo"] is True
    for word, expected in (("yes", True), ("ON", True), ("1", True), ("no", False), ("", False)):
        assert _resolve({}, {"T_DEMO": word})["demo"] is expected
    assert _resolve({}, {}, {"demo": False})["demo"] is False
    assert _resolve({}, {})["demo"] is None


def test_repeatable_from_each_source() -> None:
    """Repeatable: flag list, comma-separated variable, JSON list or one scalar; a tuple."""
    assert _resolve({"origin": ["a", "b"]}, {})["origin"] == ("a", "b")
    assert _resolve({}, {"T_ORIGIN": " a, ,b "})["origin"] == ("a", "b")
    assert _resolve({}, {}, {"origin": ["a", "c"]})["origin"] == ("a", "c")
    assert _resolve({}, {}, {"origin": "solo"})["origin"] == ("solo",)


def test_typed_values_parse_text_and_config_numbers() -> None:
    """`parse` gets text from flags and the environment, and a config number as text."""
    assert _resolve({"port": "80"}, {})["port"] == 80
    assert _resolve({}, {"T_PORT": "81"})["port"] == 81
    assert _resolve({}, {}, {"port": 82})["port"] == 82


@pytest.mark.parametrize(
    ("flags", "env", "config", "message"),
    [
        ({"port": "0"}, {}, None, "--port: 0 is not a port (1-65535)"),
        ({}, {"T_PORT": "x"}, None, "T_PORT: invalid literal for int() with base 10: 'x'"),
        ({}, {}, {"port": "99999"}, "config file key 'port': 99999 is not a port (1-65535)"),
        ({}, {"T_DEMO": "maybe"}, None, "T_DEMO: expected 1/0, true/false, yes/no or on/off"),
        ({}, {}, {"demo": "yes"}, "config file key 'demo': must be true or false"),
        ({}, {}, {"port": True}, "config file key 'port': must be a string or a number"),
        ({}, {}, {"origin": [{"a": 1}]}, "config file key 'origin': must be a string or a number"),
    ],
)
def test_errors_are_one_line_naming_the_source(
    flags: dict[str, Any], env: dict[str, str], config: dict[str, Any] | None, message: str
) -> None:
    """A bad value raises SettingValueError whose one line names the flag, variable or key."""
    with pytest.raises(SettingValueError) as info:
        _resolve(flags, env, config)
    assert str(info.value) == message
    assert isinstance(info.value, ConfigError)
    assert "\n" not in str(info.value)
    assert f"{info.value.where}: {info.value.reason}" == message


def test_labels_spell_the_variable_and_the_key() -> None:
    """`env_label` / `config_label` choose how messages name a variable and a config key."""
    with pytest.raises(SettingValueError, match=r"^environment T_PORT: "):
        resolve_settings(
            [PORT], {}, environ={"T_PORT": "x"}, env_label=lambda n: f"environment {n}"
        )
    with pytest.raises(SettingValueError, match=r"^/etc/x\.enc key 'port': "):
        resolve_settings(
            [PORT],
            {},
            environ={},
            config={"port": "x"},
            config_label=lambda k: f"/etc/x.enc key {k!r}",
        )


@pytest.mark.parametrize(
    ("flags", "env", "config", "where"),
    [
        ({"token": "short-secret"}, {}, None, "--token"),
        ({}, {"T_TOKEN": "short-secret"}, None, "T_TOKEN"),
        ({}, {}, {"tok": "short-secret"}, "config file key 'tok'"),
    ],
)
def test_secret_values_are_never_echoed(
    flags: dict[str, Any], env: dict[str, str], config: dict[str, Any] | None, where: str
) -> None:
    """A secret's parse error says only "invalid value", from every source."""
    with pytest.raises(SettingValueError) as info:
        _resolve(flags, env, config)
    assert str(info.value) == f"{where}: invalid value"
    assert "short-secret" not in str(info.value)


def test_describe_masks_secrets() -> None:
    """`describe` shows each value and its source, a secret as ***."""
    described = _resolve({"token": "s3cr3t-s3cr3t-s3cr3t"}, {"T_PORT": "9"}).describe(SETTINGS)
    assert described["token"] == "*** (flag)"
    assert described["port"] == "9 (env)"
    assert "s3cr3t" not in repr(described)


def test_unknown_config_keys() -> None:
    """Keys no setting reads are listed, sorted; settings without a key read none."""
    assert unknown_config_keys(SETTINGS, {"port": 1, "zeta": 2, "alpha": 3}) == ["alpha", "zeta"]
    assert unknown_config_keys(SETTINGS, {"tok": "x"}) == []


def test_help_with_notes() -> None:
    """The help text gets `[default D; env E]`, only the parts given."""
    assert (
        help_with_notes("port", default="8765", env="T_PORT") == "port [default 8765; env T_PORT]"
    )
    assert help_with_notes("port", env="T_PORT") == "port [env T_PORT]"
    assert help_with_notes("port", default="1") == "port [default 1]"
    assert help_with_notes("port") == "port"


def test_package_exports() -> None:
    """The resolution API is exported from lib_common.config."""
    for name in ("Setting", "Resolved", "SettingValueError", "resolve_settings"):
        assert name in config_pkg.__all__

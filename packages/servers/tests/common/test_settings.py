"""Option tables resolved flag > environment > config file > default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib_common.config import encrypt_document, generate_key
from rsdev_servers.common.parsers import parse_bytes, parse_port
from rsdev_servers.common.settings import (
    EXIT_CONFIG,
    GatewayArgumentParser,
    Option,
    SettingsError,
    add_options,
    load_config_section,
    resolve_options,
)

OPTIONS = (
    Option("port", "port", default=8765, parse=parse_port),
    Option("budget", "bytes", default=1024, parse=parse_bytes, shown_default="1KiB"),
    Option("token", "secret", secret=True),
    Option("origin", "origins", repeatable=True, default=()),
    Option("demo", "demo", switch=True),
)


def _resolve(argv: list[str], env: dict[str, str], config: dict[str, object] | None = None):
    parser = GatewayArgumentParser(prog="gw")
    add_options(parser, OPTIONS, env_prefix="GW_")
    args = parser.parse_args(argv)
    return resolve_options(OPTIONS, args, env_prefix="GW_", environ=env, config=config)


def test_precedence_flag_env_config_default() -> None:
    """Each setting comes from the first source that has it."""
    resolved = _resolve(
        ["--port", "1"],
        {"GW_PORT": "2", "GW_BUDGET": "2KiB"},
        {"port": 3, "budget": "3KiB", "token": "from-config-xxxxxxxx"},
    )
    assert resolved["port"] == 1
    assert resolved["budget"] == 2048
    assert resolved["token"] == "from-config-xxxxxxxx"
    assert resolved["origin"] == ()
    assert {k: resolved.sources[k] for k in ("port", "budget", "token", "origin")} == {
        "port": "flag",
        "budget": "env",
        "token": "config",
        "origin": "default",
    }


def test_repeatable_and_switch_from_each_source() -> None:
    """Repeatable: flags repeat, env is comma-separated, config is a list; switches parse."""
    assert _resolve(["--origin", "a", "--origin", "b"], {})["origin"] == ("a", "b")
    assert _resolve([], {"GW_ORIGIN": "a, b"})["origin"] == ("a", "b")
    assert _resolve([], {}, {"origin": ["a"]})["origin"] == ("a",)
    assert _resolve(["--demo"], {})["demo"] is True
    assert _resolve([], {"GW_DEMO": "no"})["demo"] is False
    assert _resolve([], {}, {"demo": True})["demo"] is True
    assert _resolve([], {})["demo"] is None


def test_errors_name_the_source_not_the_secret() -> None:
    """A bad value names where it came from; a secret's value is never echoed."""
    with pytest.raises(SettingsError, match="GW_PORT: a port is between"):
        _resolve([], {"GW_PORT": "70000"})
    with pytest.raises(SettingsError, match="config file key 'budget'"):
        _resolve([], {}, {"budget": "lots"})
    with pytest.raises(SettingsError, match="unknown key 'prot'"):
        _resolve([], {}, {"prot": 1})
    with pytest.raises(SettingsError, match="GW_DEMO"):
        _resolve([], {"GW_DEMO": "maybe"})
    secret = Option("token", "t", secret=True, parse=lambda t: int(t))
    parser = GatewayArgumentParser(prog="gw")
    add_options(parser, (secret,), env_prefix="GW_")
    with pytest.raises(SettingsError) as info:
        resolve_options(
            (secret,), parser.parse_args([]), env_prefix="GW_", environ={"GW_TOKEN": "hunter2"}
        )
    assert "hunter2" not in str(info.value)


def test_describe_hides_secrets() -> None:
    """The loggable description shows every value but the secret ones."""
    described = _resolve(["--token", "s3cr3t-s3cr3t-s3cr3t"], {}).describe(OPTIONS)
    assert "***" in described["token"]
    assert "s3cr3t" not in json.dumps(described)


def test_usage_error_is_one_line_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse errors exit EXIT_CONFIG with a single line on stderr."""
    parser = GatewayArgumentParser(prog="gw")
    add_options(parser, OPTIONS, env_prefix="GW_")
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--nope"])
    assert info.value.code == EXIT_CONFIG
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("gw: error: unrecognized arguments: --nope")


def test_help_shows_defaults_and_env(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists each option's default and environment variable."""
    parser = GatewayArgumentParser(prog="gw")
    add_options(parser, OPTIONS, env_prefix="GW_")
    parser.print_help()
    text = capsys.readouterr().out
    assert "default 1KiB" in text
    assert "env GW_PORT" in text


def test_load_config_section_encrypted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An encrypted file is decrypted with the environment's key; its section is used."""
    key = generate_key()
    path = tmp_path / "gw.enc"
    path.write_bytes(encrypt_document({"gw": {"port": 9}, "other": {}}, key))
    monkeypatch.setenv("RSDEV_CONFIG_KEY", key)
    assert load_config_section(path, "gw") == {"port": 9}
    plain = tmp_path / "plain.json"
    plain.write_text('{"port": 7}')
    assert load_config_section(plain, "gw") == {"port": 7}


def test_load_config_section_errors_are_one_line(tmp_path: Path) -> None:
    """A missing or broken file is a one-line SettingsError."""
    with pytest.raises(SettingsError) as info:
        load_config_section(tmp_path / "missing.enc", "gw")
    assert "\n" not in str(info.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(SettingsError):
        load_config_section(broken, "gw")


def test_package_exports_resolve() -> None:
    """Every name in the packages' `__all__` resolves (they are imported lazily)."""
    import rsdev_servers.common as common
    import rsdev_servers.restream as restream

    for package in (common, restream):
        for name in package.__all__:
            assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError):
        _ = common.nope  # type: ignore[attr-defined]

"""restream's settings: defaults, precedence, the config file, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_common.config import encrypt_document, generate_key
from rsdev_servers.common.settings import SettingsError
from rsdev_servers.restream.settings import (
    DEFAULT_PORT,
    DEFAULT_UPSTREAM_WS,
    RestreamSettings,
    load_settings,
)

TOKEN = "settings-token-0123456789"


def test_defaults() -> None:
    """No flags, no environment: loopback, the default port, real upstreams as defaults."""
    settings, _, resolved = load_settings([], {})
    assert (settings.host, settings.port) == ("127.0.0.1", DEFAULT_PORT)
    assert settings.upstream_ws == DEFAULT_UPSTREAM_WS
    assert (settings.memory_budget, settings.max_frame_bytes) == (64 * 1024 * 1024, 64 * 1024)
    assert settings.auth_token is None
    assert resolved.sources["port"] == "default"


def test_flag_beats_env_beats_config(tmp_path: Path) -> None:
    """Flags win over RESTREAM_* variables, which win over the encrypted config file."""
    key = generate_key()
    path = tmp_path / "restream.enc"
    document = {"restream": {"port": 3, "linger": 3, "max_clients": 3, "auth_token": TOKEN}}
    path.write_bytes(encrypt_document(document, key))
    env = {"RSDEV_CONFIG_KEY": key, "RESTREAM_PORT": "2", "RESTREAM_LINGER": "2"}
    settings, _, resolved = load_settings(["--config", str(path), "--port", "1"], env)
    assert (settings.port, settings.linger, settings.max_clients) == (1, 2.0, 3)
    assert settings.auth_token == TOKEN
    assert resolved.sources["auth_token"] == "config"
    assert (
        "***" in resolved.describe([o for o in _options() if o.name == "auth_token"])["auth_token"]
    )


def _options():  # type: ignore[no-untyped-def]
    from rsdev_servers.restream.settings import OPTIONS

    return OPTIONS


def test_config_path_from_environment(tmp_path: Path) -> None:
    """RESTREAM_CONFIG names the config file too; unknown keys are refused."""
    path = tmp_path / "plain.json"
    path.write_text('{"max_frame_bytes": "32KiB", "allow_origin": ["http://a.example"]}')
    settings, _, _ = load_settings([], {"RESTREAM_CONFIG": str(path)})
    assert settings.max_frame_bytes == 32 * 1024
    assert settings.allow_origin == ("http://a.example",)
    path.write_text('{"prot": 1}')
    with pytest.raises(SettingsError, match="unknown key 'prot'"):
        load_settings([], {"RESTREAM_CONFIG": str(path)})


def test_validation() -> None:
    """Non-loopback without token, short tokens and inconsistent limits are refused."""
    with pytest.raises(SettingsError, match="without an auth token"):
        RestreamSettings(host="0.0.0.0")
    assert RestreamSettings(host="0.0.0.0", auth_token=TOKEN).auth_token == TOKEN
    with pytest.raises(SettingsError, match="cannot exceed"):
        RestreamSettings(memory_budget=1024, max_client_buffer=2048)
    assert TOKEN not in repr(RestreamSettings(auth_token=TOKEN))


def test_demo_rejects_explicit_upstreams() -> None:
    """--demo with an explicit upstream URL (flag or environment) is a mistake."""
    with pytest.raises(SettingsError, match="--upstream-rest"):
        load_settings(["--demo"], {"RESTREAM_UPSTREAM_REST": "http://127.0.0.1:1"})
    settings, _, _ = load_settings([], {"RESTREAM_DEMO": "1"})
    assert settings.demo


def test_cnn_base_url() -> None:
    """A full graphdata URL is cut back to the base the poller wants."""
    full = "http://127.0.0.1:9/index/fearandgreed/graphdata"
    assert RestreamSettings(cnn_url=full).cnn_base_url == "http://127.0.0.1:9"
    assert RestreamSettings(cnn_url="http://127.0.0.1:9/").cnn_base_url == "http://127.0.0.1:9"

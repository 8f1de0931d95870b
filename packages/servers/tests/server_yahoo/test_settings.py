"""server-yahoo's settings: defaults, precedence (flag > env > config file > default),
validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_common.config import encrypt_document, generate_key
from lib_common.ingestors.yahoo.rest import DEFAULT_BASE_URL
from lib_common.ingestors.yahoo.stream import DEFAULT_STREAM_URL
from rsdev_servers.common.settings import SettingsError
from rsdev_servers.server_yahoo.settings import (
    DEFAULT_PORT,
    DEFAULT_UPSTREAM_REST,
    DEFAULT_UPSTREAM_WS,
    OPTIONS,
    load_settings,
)

TOKEN = "settings-token-0123456789"


def test_defaults_are_loopback_and_yahoos_own_upstream() -> None:
    """No flags, no environment: 127.0.0.1, the default port, the ingestors' Yahoo URLs."""
    settings, _, resolved = load_settings([], {})
    assert ("127.0.0.1", DEFAULT_PORT) == (settings.host, settings.port)
    assert (DEFAULT_STREAM_URL, DEFAULT_BASE_URL) == (DEFAULT_UPSTREAM_WS, DEFAULT_UPSTREAM_REST)
    assert DEFAULT_UPSTREAM_WS == settings.upstream_ws
    assert (30.0, 15.0, 200) == (
        settings.linger,
        settings.upstream_heartbeat,
        settings.max_symbols_per_client,
    )
    assert settings.auth_token is None
    assert "default" == resolved.sources["port"]


def test_flag_beats_env_beats_encrypted_config(tmp_path: Path) -> None:
    """Flags win over SERVER_YAHOO_* variables, which win over the config file's
    `server_yahoo` object; the token from the file is never shown."""
    key = generate_key()
    path = tmp_path / "gateway.enc"
    document = {
        "server_yahoo": {"port": 3, "linger": 3, "max_clients": 3, "auth_token": TOKEN},
        "restream": {"port": 9},
    }
    path.write_bytes(encrypt_document(document, key))
    env = {"RSDEV_CONFIG_KEY": key, "SERVER_YAHOO_PORT": "2", "SERVER_YAHOO_LINGER": "2"}
    settings, _, resolved = load_settings(["--config", str(path), "--port", "1"], env)
    assert (1, 2.0, 3) == (settings.port, settings.linger, settings.max_clients)
    assert TOKEN == settings.auth_token
    assert ("flag", "env", "config") == tuple(
        resolved.sources[n] for n in ("port", "linger", "max_clients")
    )
    assert TOKEN not in str(resolved.describe(OPTIONS))
    assert TOKEN not in repr(settings)


def test_config_path_from_environment_and_unknown_keys(tmp_path: Path) -> None:
    """SERVER_YAHOO_CONFIG names the file (plain JSON works too); unknown keys are refused."""
    path = tmp_path / "plain.json"
    path.write_text('{"max_frame_bytes": "32KiB", "allow_origin": ["http://a.example"]}')
    settings, _, _ = load_settings([], {"SERVER_YAHOO_CONFIG": str(path)})
    assert 32 * 1024 == settings.max_frame_bytes
    assert ("http://a.example",) == settings.allow_origin
    path.write_text('{"prot": 1}')
    with pytest.raises(SettingsError, match="unknown key 'prot'"):
        load_settings([], {"SERVER_YAHOO_CONFIG": str(path)})


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--host", "0.0.0.0"], {}, "without an auth token"),
        (["--host", "0.0.0.0", "--auth-token", "short"], {}, "at least 16"),
        (["--demo", "--upstream-ws", "ws://127.0.0.1:1/"], {}, "--demo runs its own"),
        ([], {"SERVER_YAHOO_PORT": "http"}, "SERVER_YAHOO_PORT: not a port"),
        (["--upstream-ws", "http://x/"], {}, "scheme must be ws or wss"),
        (["--poll-interval", "0"], {}, "greater than 0"),
        (["--max-client-buffer", "2MiB", "--memory-budget", "1MiB"], {}, "cannot exceed"),
    ],
)
def test_refused_settings(argv: list[str], env: dict[str, str], message: str) -> None:
    """Bad or unsafe values are one-line SettingsErrors naming where they came from."""
    with pytest.raises(SettingsError, match=message):
        load_settings(argv, env)


def test_non_loopback_bind_with_a_token_is_allowed() -> None:
    """A token makes listening on all interfaces acceptable (token from the environment)."""
    settings, _, resolved = load_settings(["--host", "0.0.0.0"], {"SERVER_YAHOO_AUTH_TOKEN": TOKEN})
    assert ("0.0.0.0", TOKEN, "env") == (
        settings.host,
        settings.auth_token,
        resolved.sources["auth_token"],
    )

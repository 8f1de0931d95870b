"""apps/restream: the example config loads (and its placeholder token is refused), the
documented encryption commands produce a file restream reads, the systemd unit verifies."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rsdev_servers.common.settings import SettingsError
from rsdev_servers.restream.settings import load_settings

APPS = Path(__file__).resolve().parents[4] / "apps" / "restream"
EXAMPLE = APPS / "restream.example.json"
UNIT = APPS / "restream.service"


def _with_token(tmp_path: Path) -> tuple[Path, str]:
    token = secrets.token_urlsafe(32)
    document = json.loads(EXAMPLE.read_text())
    document["restream"]["auth_token"] = token
    path = tmp_path / "restream.json"
    path.write_text(json.dumps(document))
    return path, token


def test_example_config_loads_once_it_has_a_real_token(tmp_path: Path) -> None:
    """Every key of the example is a restream option with a valid value; each one is
    taken from the file."""
    path, token = _with_token(tmp_path)
    settings, _, resolved = load_settings(["--config", str(path)], {})
    keys = set(json.loads(EXAMPLE.read_text())["restream"])
    assert {name for name, source in resolved.sources.items() if source == "config"} == keys
    assert settings.auth_token == token
    assert settings.memory_budget == 256 * 1024 * 1024


def test_example_placeholder_token_is_refused() -> None:
    """The shipped `CHANGE-ME` token is too short: restream will not start with it."""
    with pytest.raises(SettingsError, match="at least 16 characters"):
        load_settings(["--config", str(EXAMPLE)], {})


def test_documented_encryption_commands_give_a_file_restream_reads(tmp_path: Path) -> None:
    """`rsdev-config keygen` + `rsdev-config encrypt`, then restream with
    RSDEV_CONFIG_KEY_FILE reads the encrypted file."""
    plain, token = _with_token(tmp_path)
    key, encrypted = tmp_path / "restream.key", tmp_path / "restream.enc"
    cli = [sys.executable, "-c", "from lib_common.config.cli import main; raise SystemExit(main())"]
    subprocess.run([*cli, "keygen", "--out", str(key)], check=True, capture_output=True)
    subprocess.run(
        [*cli, "encrypt", "--key-file", str(key), str(plain), str(encrypted)],
        check=True,
        capture_output=True,
    )
    assert token.encode() not in encrypted.read_bytes()
    settings, _, _ = load_settings(
        ["--config", str(encrypted)], {"RSDEV_CONFIG_KEY_FILE": str(key)}
    )
    assert settings.auth_token == token


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit without a single complaint (the install
    path of restream replaced by an existing binary)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "restream.service"
    unit.write_text(UNIT.read_text().replace("/opt/rsdev/.venv/bin/restream", "/bin/true"))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    text = UNIT.read_text()
    for hardening in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes"):
        assert hardening in text
    assert "LoadCredential=config.key:" in text

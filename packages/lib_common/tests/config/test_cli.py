"""The rsdev-config CLI: subcommands in-process via main(argv), and one real subprocess run."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lib_common.config import decrypt_document, generate_key, save_encrypted
from lib_common.config.cli import main

DOC = {"db": {"password": "s3cret", "replicas": [{"host": "r0", "port": 6432}]}, "debug": False}


@pytest.fixture
def enc(tmp_path: Path, key: str) -> Path:
    """An encrypted config holding DOC."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    return path


@pytest.fixture
def with_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """The key in RSDEV_CONFIG_KEY."""
    monkeypatch.setenv("RSDEV_CONFIG_KEY", key)


def test_keygen_prints_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    """`keygen` prints one 44-character base64 key."""
    assert main(["keygen"]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out) == 44


def test_keygen_out_writes_0600_and_refuses_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`keygen --out` writes a 0600 file, keeps an existing one, and replaces it with --force."""
    target = tmp_path / "k"
    assert main(["keygen", "--out", str(target)]) == 0
    first = target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert first.strip() not in capsys.readouterr().out
    assert main(["keygen", "--out", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert first == target.read_text()
    assert main(["keygen", "--out", str(target), "--force"]) == 0
    assert first != target.read_text()


@pytest.mark.usefixtures("with_key")
def test_encrypt_then_decrypt_round_trip(
    tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`encrypt` keeps the user's exact text; `decrypt` prints it back."""
    plain = tmp_path / "app.json"
    plain.write_text('{"a":   [1, 2],\n "b": "é"}\n')
    out = tmp_path / "app.enc"
    assert main(["encrypt", str(plain), str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    capsys.readouterr()
    assert main(["decrypt", str(out)]) == 0
    assert plain.read_text() == capsys.readouterr().out


@pytest.mark.usefixtures("with_key")
def test_encrypt_refuses_existing_output_and_bad_input(
    tmp_path: Path, enc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`encrypt` keeps an existing OUT, and refuses invalid JSON or an encrypted IN (exit 2)."""
    plain = tmp_path / "p.json"
    plain.write_text('{"a": 1}')
    before = enc.read_bytes()
    assert main(["encrypt", str(plain), str(enc)]) == 2
    assert before == enc.read_bytes()
    plain.write_text('{"a": ')
    assert main(["encrypt", str(plain), str(tmp_path / "o.enc")]) == 2
    assert main(["encrypt", str(enc), str(tmp_path / "o2.enc")]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err
    assert "p.json: not valid JSON" in err
    assert "already an rsdev encrypted config" in err
    assert not (tmp_path / "o.enc").exists()


@pytest.mark.usefixtures("with_key")
def test_encrypt_from_stdin(tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`encrypt - OUT` reads the document from stdin."""
    read, write = os.pipe()
    os.write(write, b'{"from": "stdin"}')
    os.close(write)
    with os.fdopen(read, "rb") as stdin_bytes:
        monkeypatch.setattr(sys, "stdin", type("S", (), {"buffer": stdin_bytes})())
        assert main(["encrypt", "-", str(tmp_path / "s.enc")]) == 0
    assert decrypt_document((tmp_path / "s.enc").read_bytes(), key) == {"from": "stdin"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("db.password", "s3cret\n"),
        ("db.replicas.0.port", "6432\n"),
        ("debug", "false\n"),
        ("db.replicas.0", '{\n  "host": "r0",\n  "port": 6432\n}\n'),
    ],
)
@pytest.mark.usefixtures("with_key")
def test_get_prints_scalars_plain_and_objects_as_json(
    enc: Path, capsys: pytest.CaptureFixture[str], path: str, expected: str
) -> None:
    """`get` prints strings bare, other scalars and containers as JSON."""
    assert main(["get", str(enc), path]) == 0
    assert expected == capsys.readouterr().out


@pytest.mark.usefixtures("with_key")
def test_get_missing_path_exits_2(enc: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing dotted path is exit 2 with the file and the path in the message."""
    assert main(["get", str(enc), "db.replicas.3.host"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{enc}: no 'db.replicas.3.host'" in captured.err


def test_get_plain_json_needs_no_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`get` on plain JSON works without any key configured."""
    plain = tmp_path / "dev.json"
    plain.write_text('{"a": {"b": "c"}}')
    assert main(["get", str(plain), "a.b"]) == 0
    assert capsys.readouterr().out == "c\n"


def test_key_file_option(enc: Path, key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--key-file supplies the key; a group-readable key file is refused with chmod 600."""
    assert main(["decrypt", "--key-file", str(key_file), str(enc)]) == 0
    assert json.loads(capsys.readouterr().out) == DOC
    key_file.chmod(0o640)
    assert main(["decrypt", "--key-file", str(key_file), str(enc)]) == 2
    assert f"chmod 600 {key_file}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv_tail", "fragment"),
    [
        ([], "no config key"),
        (["--key-file", "/nonexistent/k"], "cannot read key file /nonexistent/k"),
    ],
)
def test_missing_key_exits_2(
    enc: Path, capsys: pytest.CaptureFixture[str], argv_tail: list[str], fragment: str
) -> None:
    """No key (or an unreadable key file) is exit 2 with a message saying what to do."""
    assert main(["decrypt", *argv_tail, str(enc)]) == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.usefixtures("with_key")
def test_tampered_body_exits_2_saying_tampered_or_wrong_key(
    enc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Flipping a byte of the nonce, ciphertext or tag: exit 2, file named, tampered/wrong key."""
    original = enc.read_bytes()
    header, nonce, _, _ = original.split(b"\n")
    body_start = len(header) + 1
    ct_start = body_start + len(nonce) + 1
    positions = {
        "nonce": body_start + 3,
        "ciphertext": ct_start + 5,
        "tag": len(original) - 4,
        "last base64 char": len(original) - 2,
    }
    for where, position in positions.items():
        damaged = bytearray(original)
        damaged[position] ^= 0x01
        enc.write_bytes(bytes(damaged))
        assert main(["decrypt", str(enc)]) == 2, where
        captured = capsys.readouterr()
        assert captured.out == ""
        assert str(enc) in captured.err
        assert "tampered with or the key is wrong" in captured.err, where


def test_wrong_key_exits_2(
    enc: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A different key gives the same tampered/wrong-key message and exit 2."""
    monkeypatch.setenv("RSDEV_CONFIG_KEY", generate_key())
    assert main(["get", str(enc), "db"]) == 2
    assert f"{enc}: cannot decrypt: the file was tampered with or the key is wrong" in (
        capsys.readouterr().err
    )


@pytest.mark.usefixtures("with_key")
def test_unknown_version_and_not_json_exit_2(
    tmp_path: Path, enc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A future format version and a non-JSON file are both exit 2 with clear messages."""
    enc.write_bytes(enc.read_bytes().replace(b"rsdev-config/1", b"rsdev-config/9", 1))
    assert main(["decrypt", str(enc)]) == 2
    assert "format version 9 is not supported" in capsys.readouterr().err
    junk = tmp_path / "junk"
    junk.write_text("hello")
    assert main(["get", str(junk), "a"]) == 2
    assert "junk: not valid JSON" in capsys.readouterr().err


@pytest.mark.usefixtures("with_key")
def test_edit_through_the_cli(
    enc: Path,
    key: str,
    make_editor: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`edit` saves a valid change (exit 0) and refuses invalid JSON (exit 2, file unchanged)."""
    monkeypatch.setenv("EDITOR", make_editor("path.write_text('{\"debug\": true}')\n"))
    assert main(["edit", str(enc)]) == 0
    assert decrypt_document(enc.read_bytes(), key) == {"debug": True}
    before = enc.read_bytes()
    monkeypatch.setenv("EDITOR", make_editor("path.write_text('{debug: true}')\n"))
    assert main(["edit", str(enc)]) == 2
    assert before == enc.read_bytes()
    assert "your changes were discarded" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["keygen", "encrypt", "decrypt", "edit", "get"])
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` on each subcommand exits 0 and explains it."""
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert f"rsdev-config {command}" in out
    if command != "keygen":
        assert "RSDEV_CONFIG_KEY" in out
        assert "exit codes" in out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand is an argparse usage error, exit 2."""
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_no_key_material_in_any_output(
    tmp_path: Path,
    enc: Path,
    key: str,
    key_file: Path,
    key_forms: list[str],
    make_editor: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Across successes and every failure, no form of the key appears on stdout or stderr."""
    plain = tmp_path / "p.json"
    plain.write_text('{"a": 1}')
    wrong_key = generate_key()
    bad = tmp_path / "bad.enc"
    bad.write_bytes(enc.read_bytes()[:-3] + b"AA\n")
    runs = [
        (["decrypt", "--key-file", str(key_file), str(enc)], {}),
        (["get", str(enc), "db"], {"RSDEV_CONFIG_KEY": key}),
        (["get", str(enc), "nope"], {"RSDEV_CONFIG_KEY": key}),
        (["encrypt", str(plain), str(tmp_path / "o.enc")], {"RSDEV_CONFIG_KEY": key}),
        (["decrypt", str(bad)], {"RSDEV_CONFIG_KEY": key}),
        (["decrypt", str(enc)], {"RSDEV_CONFIG_KEY": key[:-2]}),  # malformed key
        (["decrypt", str(enc)], {"RSDEV_CONFIG_KEY": wrong_key}),
        (["decrypt", str(enc)], {"RSDEV_CONFIG_KEY_FILE": str(key_file)}),
        (["edit", str(enc)], {"RSDEV_CONFIG_KEY": key, "EDITOR": make_editor("sys.exit(1)\n")}),
        (
            ["edit", str(enc)],
            {"RSDEV_CONFIG_KEY": key, "EDITOR": make_editor("path.write_text('x')\n")},
        ),
        (["keygen", "--out", str(tmp_path / "new.key")], {}),
    ]
    for argv, env in runs:
        with monkeypatch.context() as m:
            for name, value in env.items():
                m.setenv(name, value)
            main(argv)
    key_file.chmod(0o644)
    main(["decrypt", "--key-file", str(key_file), str(enc)])
    captured = capfd.readouterr()
    text = captured.out + captured.err
    assert "s3cret" in text  # the decrypt ran and printed the document
    for form in [*key_forms, wrong_key, wrong_key[:20]]:
        assert form not in text


def test_console_script_round_trip_in_a_subprocess(tmp_path: Path) -> None:
    """The installed `rsdev-config` script: keygen --out → encrypt → decrypt → get."""
    script = Path(sys.executable).with_name("rsdev-config")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "lib_common.config.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RSDEV_CONFIG_")}
    key_file, plain, enc = tmp_path / "k", tmp_path / "c.json", tmp_path / "c.enc"
    plain.write_text(json.dumps(DOC))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli, *args], capture_output=True, text=True, env=env, timeout=30, check=False
        )

    assert run("keygen", "--out", str(key_file)).returncode == 0
    assert run("encrypt", "--key-file", str(key_file), str(plain), str(enc)).returncode == 0
    decrypted = run("decrypt", "--key-file", str(key_file), str(enc))
    assert (decrypted.returncode, json.loads(decrypted.stdout)) == (0, DOC)
    missing = run("decrypt", str(enc))
    assert missing.returncode == 2
    assert "no config key" in missing.stderr
    assert key_file.read_text().strip() not in missing.stderr + decrypted.stderr

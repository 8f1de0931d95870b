"""Text → value converters for gateway settings."""

from __future__ import annotations

import pytest

from rsdev_servers.common.parsers import (
    parse_bytes,
    parse_count,
    parse_origin,
    parse_port,
    parse_seconds,
    parse_url,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("65536", 65536),
        ("64KiB", 64 * 1024),
        ("64kib", 64 * 1024),
        ("64k", 64_000),
        ("1.5MB", 1_500_000),
        ("64MiB", 64 * 1024 * 1024),
        ("64 MiB", 64 * 1024 * 1024),
        ("1GiB", 1 << 30),
        ("10b", 10),
    ],
)
def test_parse_bytes_accepts_suffixes(text: str, expected: int) -> None:
    """Binary (KiB) and decimal (kB) suffixes are both understood."""
    assert expected == parse_bytes(text)


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "12XB", "1e9"])
def test_parse_bytes_refuses_nonsense(text: str) -> None:
    """Anything but a positive size is a ValueError."""
    with pytest.raises(ValueError):
        parse_bytes(text)


def test_parse_seconds() -> None:
    """Seconds are non-negative finite numbers; an `s` suffix is fine."""
    assert parse_seconds("0.5") == 0.5
    assert parse_seconds("30s") == 30.0
    for bad in ("-1", "nan", "inf", "soon"):
        with pytest.raises(ValueError):
            parse_seconds(bad)


def test_parse_port_and_count() -> None:
    """Ports are 0..65535; counts have a minimum."""
    assert parse_port("0") == 0
    assert parse_port(" 8765 ") == 8765
    for bad in ("65536", "-1", "http"):
        with pytest.raises(ValueError):
            parse_port(bad)
    assert parse_count(1)("3") == 3
    with pytest.raises(ValueError, match="at least 1"):
        parse_count(1)("0")


def test_parse_url_checks_scheme_and_host() -> None:
    """URLs need an allowed scheme and a host."""
    ws = parse_url("ws", "wss")
    assert ws("ws://127.0.0.1:9/?version=2") == "ws://127.0.0.1:9/?version=2"
    with pytest.raises(ValueError, match="scheme"):
        ws("http://127.0.0.1/")
    with pytest.raises(ValueError, match="no host"):
        ws("ws:///path")
    with pytest.raises(ValueError):
        ws("ws://127.0.0.1:99999/")


def test_parse_origin() -> None:
    """Origins are scheme://host[:port], lower-cased; `*` and paths are refused."""
    assert parse_origin("HTTP://Dash.Example:8080/") == "http://dash.example:8080"
    for bad in ("*", "dash.example", "http://a/b", "ftp://a"):
        with pytest.raises(ValueError):
            parse_origin(bad)

"""Text → value converters for settings: sizes (`64MiB`), seconds, ports, URLs, origins.

Each raises `ValueError` with a short reason that the settings layer prefixes with where
the text came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = [
    "parse_bytes",
    "parse_count",
    "parse_origin",
    "parse_port",
    "parse_positive_seconds",
    "parse_seconds",
    "parse_url",
]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
}


def parse_bytes(text: str) -> int:
    """`65536`, `64KiB`, `64k`, `1.5MB`, `64MiB` → bytes (KiB = 1024, kB = 1000)."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (examples: 65536, 64KiB, 64MiB, 1GB)")
    number, unit = match.group(1), (match.group(2) or "").lower()
    if unit not in _UNITS:
        raise ValueError(f"unknown size unit in {text!r} (use B, KiB, MiB, GiB, kB, MB, GB)")
    value = int(float(number) * _UNITS[unit])
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def parse_seconds(text: str) -> float:
    """A non-negative number of seconds (`0.5`, `30`); an `s` suffix is accepted."""
    stripped = text.strip().lower().removesuffix("s")
    try:
        value = float(stripped)
    except ValueError:
        raise ValueError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a finite number of seconds >= 0")
    return value


def parse_positive_seconds(text: str) -> float:
    """Like `parse_seconds`, but 0 is refused (an interval, a rate)."""
    value = parse_seconds(text)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def parse_count(minimum: int = 1) -> Callable[[str], int]:
    """A converter for whole numbers >= `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value

    return parse


def parse_port(text: str) -> int:
    """A TCP port, 0–65535 (0: any free port)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise ValueError("a port is between 0 and 65535")
    return value


def parse_url(*schemes: str) -> Callable[[str], str]:
    """A converter for absolute URLs with one of `schemes` and a host."""

    def parse(text: str) -> str:
        url = text.strip()
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 — raises ValueError for a bad port
        except ValueError as exc:
            raise ValueError(f"not a URL: {exc}") from None
        if parts.scheme not in schemes:
            raise ValueError(f"URL scheme must be {' or '.join(schemes)}, not {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("URL has no host")
        return url

    return parse


def parse_origin(text: str) -> str:
    """A browser origin `scheme://host[:port]` (no path), lower-cased; `*` is refused."""
    origin = text.strip().rstrip("/").lower()
    if origin == "*":
        raise ValueError("'*' would let every web page read the feed; list origins explicitly")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an origin looks like http://host:port, not {text!r}")
    if parts.path or parts.query or parts.fragment:
        raise ValueError(f"an origin has no path or query: {text!r}")
    return origin

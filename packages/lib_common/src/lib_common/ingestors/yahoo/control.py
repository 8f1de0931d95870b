"""Yahoo streamer client control messages: `{"subscribe":[...]}` / `{"unsubscribe":[...]}`.

Sans-I/O: text in, a `Subscribe`/`Unsubscribe`/`ControlError` value out; never raises.
Yahoo's clients send exactly one of the two keys per message, so a message carrying both
is refused as ambiguous rather than guessed at (their order inside a JSON object says
nothing). Other keys are ignored. Symbols are kept as sent (no case folding: Yahoo's
symbols are already upper case, and changing them would hide the client's mistake);
duplicates are dropped in order. Entries that cannot be a symbol (not 1-32 printable
characters from the set Yahoo uses) go to `rejected` instead of failing the message,
much as Yahoo ignores unknown symbols; a non-string entry is a shape error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "ControlError",
    "ControlErrorKind",
    "Subscribe",
    "Unsubscribe",
    "parse_control",
    "subscribe_message",
    "unsubscribe_message",
]

ControlErrorKind = Literal["input", "json", "shape", "ambiguous"]

# Yahoo symbols: AAPL, BTC-USD, ^GSPC, EURUSD=X, GC=F, ITC.NS, INVE-B.ST, M&M.NS, BRK/B.
_SYMBOL: Final = re.compile(r"[A-Za-z0-9.^=\-_&/+:]{1,32}")


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Start streaming `symbols`; `rejected` lists entries that are not symbols."""

    symbols: tuple[str, ...]
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """Stop streaming `symbols`; `rejected` lists entries that are not symbols."""

    symbols: tuple[str, ...]
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ControlError:
    """A message that is not a control message.

    `kind`: "input" (not str/bytes, or not UTF-8), "json", "shape" (JSON, but not an object
    with one list of strings under "subscribe" or "unsubscribe"), "ambiguous" (both keys).
    """

    reason: str
    kind: ControlErrorKind


def parse_control(text: str | bytes) -> Subscribe | Unsubscribe | ControlError:
    """Parse one client → server text (or binary) frame. Never raises."""
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode()
        except UnicodeDecodeError:
            return ControlError("control message is not UTF-8", "input")
    if not isinstance(text, str):
        # Unreachable for typed callers; untyped ones get a value, not an exception.
        return ControlError(f"message of type {type(text).__name__}", "input")  # type: ignore[unreachable]
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return ControlError(f"invalid JSON: {exc}", "json")
    if not isinstance(message, dict):
        return ControlError("control message is not a JSON object", "shape")
    has_sub = "subscribe" in message
    has_unsub = "unsubscribe" in message
    if has_sub and has_unsub:
        return ControlError("both 'subscribe' and 'unsubscribe' in one message", "ambiguous")
    if not (has_sub or has_unsub):
        return ControlError("neither 'subscribe' nor 'unsubscribe' in the message", "shape")
    key = "subscribe" if has_sub else "unsubscribe"
    entries = message[key]
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        return ControlError(f"'{key}' is not a list of strings", "shape")
    symbols: dict[str, None] = {}  # insertion-ordered set
    rejected: dict[str, None] = {}
    for entry in entries:
        if _SYMBOL.fullmatch(entry):
            symbols[entry] = None
        else:
            rejected[entry[:64]] = None
    if has_sub:
        return Subscribe(tuple(symbols), tuple(rejected))
    return Unsubscribe(tuple(symbols), tuple(rejected))


def subscribe_message(symbols: Iterable[str]) -> str:
    """The text frame Yahoo's clients send to subscribe: `{"subscribe":["AAPL",...]}`."""
    return _message("subscribe", symbols)


def unsubscribe_message(symbols: Iterable[str]) -> str:
    """The text frame Yahoo's clients send to unsubscribe: `{"unsubscribe":["AAPL",...]}`."""
    return _message("unsubscribe", symbols)


def _message(key: str, symbols: Iterable[str]) -> str:
    if isinstance(symbols, str):  # list("AAPL") would subscribe to "A", "P" and "L"
        raise TypeError("pass an iterable of symbols, not one string")
    return json.dumps({key: list(symbols)}, separators=(",", ":"))

"""Record formats: the compact JSON line (files, journald) and the human line (terminals).

loguru calls a format *function* per record and then fills the template it returns from the
record. The documented recipe for a custom layout is to stash the rendered text in
``record["extra"]`` under a private key and return a template that prints that key; keys that
start with ``_`` are private and never rendered into ``extra``.
"""

from __future__ import annotations

import json
import pickle
import traceback
from typing import TYPE_CHECKING, Any

from lib_common.logging.timefmt import datetime_to_us, format_utc

if TYPE_CHECKING:
    from loguru import Record

__all__ = [
    "JSON_FIELDS",
    "STANDARD_EXTRA",
    "human_format",
    "json_format",
    "queued_json_format",
    "render_json",
]

# The fields of every JSON line, in order (documented in docs/logging.md).
JSON_FIELDS = (
    "ts",
    "ts_us",
    "level",
    "message",
    "app",
    "host",
    "pid",
    "logger",
    "function",
    "line",
    "extra",
    "exception",
    "alert",
)
# Bound keys that have their own top-level field, so they are left out of ``extra``.
STANDARD_EXTRA = frozenset({"app", "host", "alert"})

_PLAIN = (str, int, float, bool, type(None))
_JSON_KEY = "_rsdev_json"
_TS_KEY = "_rsdev_ts"
_CTX_KEY = "_rsdev_ctx"

_HUMAN_TEMPLATE = (
    f"<green>{{extra[{_TS_KEY}]}}</green> <level>{{level: <8}}</level> "
    "<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> - "
    f"<level>{{message}}</level>{{extra[{_CTX_KEY}]}}\n{{exception}}"
)
_JSON_TEMPLATE = f"{{extra[{_JSON_KEY}]}}\n"


def _context(record: Record) -> dict[str, Any]:
    """Bound values other than the standard ones and the private (``_``) keys."""
    return {
        key: value
        for key, value in record["extra"].items()
        if key not in STANDARD_EXTRA and not str(key).startswith("_")
    }


def _exception_text(record: Record) -> str | None:
    exc = record["exception"]
    if exc is None or exc.type is None:
        return None
    return "".join(traceback.format_exception(exc.type, exc.value, exc.traceback))


def _to_jsonable(value: object) -> str:
    """Fallback for values json cannot encode: their ``str`` (paths, datetimes, enums…)."""
    return str(value)


def render_json(record: Record) -> str:
    """The record as one compact JSON object (no trailing newline)."""
    ts_us = datetime_to_us(record["time"])
    extra = record["extra"]
    doc: dict[str, Any] = {
        "ts": format_utc(ts_us),
        "ts_us": ts_us,
        "level": record["level"].name,
        "message": record["message"],
        "app": extra.get("app"),
        "host": extra.get("host"),
        "pid": record["process"].id,
        "logger": record["name"],
        "function": record["function"],
        "line": record["line"],
        "extra": _context(record),
        "exception": _exception_text(record),
        "alert": extra.get("alert") is True,
    }
    try:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=_to_jsonable)
    except (TypeError, ValueError):
        # Non-string keys or cycles in bound values: keep the line, degrade the context.
        doc["extra"] = {str(key): repr(value) for key, value in doc["extra"].items()}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=_to_jsonable)


def json_format(record: Record) -> str:
    """loguru format function for JSON-lines sinks."""
    record["extra"][_JSON_KEY] = render_json(record)
    return _JSON_TEMPLATE


def queued_json_format(record: Record) -> str:
    """:func:`json_format` for sinks with ``enqueue=True``, which pickle the whole record.

    A bound value that cannot be pickled (a lock, a socket) would make loguru drop the line,
    so such values are replaced by their ``repr`` once this line has been rendered.
    """
    template = json_format(record)
    extra = record["extra"]
    for key, value in extra.items():
        if not isinstance(value, _PLAIN):
            try:
                pickle.dumps(value)
            except Exception:  # pickling can fail with almost anything
                extra[key] = repr(value)
    return template


def human_format(record: Record) -> str:
    """loguru format function for terminals: time, level, origin, message, ``key=value`` context."""
    extra = record["extra"]
    extra[_TS_KEY] = format_utc(datetime_to_us(record["time"]))
    context = _context(record)
    if extra.get("alert") is True:
        context = {"alert": True, **context}
    extra[_CTX_KEY] = "".join(f" {key}={value!r}" for key, value in context.items())
    return _HUMAN_TEMPLATE

"""JSON documents: strict parsing, serialisation, and encrypt/decrypt of whole documents.

Parsing is stricter than `json.loads`: duplicate object keys (which would silently drop a
setting) and the non-JSON constants NaN/Infinity are refused, and errors carry the file name
and position but never the offending text (it may be a secret).
"""

from __future__ import annotations

import json
from typing import Any

from lib_common.config.envelope import decrypt_bytes, encrypt_bytes
from lib_common.config.errors import NotJSONError
from lib_common.config.keys import KeyLike, as_key

__all__ = ["decrypt_document", "dump_json", "encrypt_document", "parse_json", "parse_object"]


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for k, v in pairs:
        if k in obj:
            raise _DuplicateKey(k)
        obj[k] = v
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(data: bytes | str, *, name: str) -> Any:
    """Parse UTF-8 JSON strictly; raise `NotJSONError` naming `name` and the position."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise NotJSONError(f"{name}: not valid JSON (not UTF-8 at byte {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise NotJSONError(
            f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except _DuplicateKey as exc:
        raise NotJSONError(
            f"{name}: not valid config JSON: duplicate key {exc.args[0]!r}"
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise NotJSONError(f"{name}: not valid JSON: {exc}") from None


def parse_object(data: bytes | str, *, name: str) -> dict[str, Any]:
    """Parse JSON whose top level must be an object (every config document is one)."""
    doc = parse_json(data, name=name)
    if not isinstance(doc, dict):
        raise NotJSONError(
            f"{name}: a config document must be a JSON object at the top level, "
            f"not {_json_type(doc)}"
        )
    return doc


def dump_json(obj: Any) -> bytes:
    """Serialise a document the way the tools write it: UTF-8, 2-space indent, final newline."""
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NotJSONError(f"document cannot be written as JSON: {exc}") from None
    return (text + "\n").encode("utf-8")


def encrypt_document(obj: Any, key: KeyLike) -> bytes:
    """Serialise `obj` as JSON and encrypt it into envelope bytes (fresh nonce each call)."""
    return encrypt_bytes(dump_json(obj), as_key(key))


def decrypt_document(blob: bytes, key: KeyLike, *, name: str = "<config>") -> Any:
    """Authenticate, decrypt and parse envelope bytes; `name` labels errors."""
    return parse_json(decrypt_bytes(blob, as_key(key), name=name), name=name)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"

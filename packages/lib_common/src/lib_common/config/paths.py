"""Dotted paths into a JSON document: `db.replicas.0.host`.

Each segment is an object key or, inside an array, a non-negative index. Keys that contain
a dot cannot be addressed. The empty path is the whole document.
"""

from __future__ import annotations

from typing import Any

from lib_common.config.errors import ConfigPathError

__all__ = ["lookup"]


def lookup(doc: Any, path: str, *, name: str = "<config>") -> Any:
    """Return the value at `path`, or raise `ConfigPathError` saying where the walk stopped."""
    if path == "":
        return doc
    node = doc
    walked: list[str] = []
    for segment in path.split("."):
        here = ".".join(walked) or "the top level"
        if isinstance(node, dict):
            if segment not in node:
                raise ConfigPathError(f"{name}: no {path!r}: key {segment!r} not found in {here}")
            node = node[segment]
        elif isinstance(node, list):
            if not (segment.isascii() and segment.isdigit()) or int(segment) >= len(node):
                raise ConfigPathError(
                    f"{name}: no {path!r}: {here} is an array of {len(node)} items, "
                    f"{segment!r} is not an index in it"
                )
            node = node[int(segment)]
        else:
            raise ConfigPathError(f"{name}: no {path!r}: {here} is a scalar, it has no {segment!r}")
        walked.append(segment)
    return node

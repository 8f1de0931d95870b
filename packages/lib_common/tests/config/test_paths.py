"""Dotted-path lookup."""

from __future__ import annotations

import pytest

from lib_common.config import ConfigPathError, lookup

DOC = {"db": {"replicas": [{"host": "r0"}, {"host": "r1"}], "port": 5432}, "flag": False}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("db.port", 5432),
        ("db.replicas.1.host", "r1"),
        ("db.replicas.0", {"host": "r0"}),
        ("flag", False),
        ("", DOC),
    ],
)
def test_lookup_finds_keys_and_indexes(path: str, value: object) -> None:
    """Keys and array indexes resolve; the empty path is the whole document."""
    assert value == lookup(DOC, path)


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("db.user", "key 'user' not found in db"),
        ("nope", "key 'nope' not found in the top level"),
        ("db.replicas.2.host", "array of 2 items, '2' is not an index"),
        ("db.replicas.x", "'x' is not an index"),
        ("db.replicas.-1", "'-1' is not an index"),
        ("db.port.x", "db.port is a scalar"),
    ],
)
def test_missing_path_says_where_the_walk_stopped(path: str, fragment: str) -> None:
    """A missing path raises ConfigPathError naming the file, the path and the stop point."""
    with pytest.raises(ConfigPathError) as info:
        lookup(DOC, path, name="app.enc")
    assert str(info.value).startswith(f"app.enc: no {path!r}")
    assert fragment in str(info.value)

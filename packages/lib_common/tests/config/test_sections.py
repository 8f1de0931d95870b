"""Typed sections: load_section builds dataclasses and reports mismatches by path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from lib_common.config import ConfigPathError, SectionError, load_section, save_encrypted


@dataclass
class Replica:
    host: str
    port: int = 5432


@dataclass
class Db:
    password: str
    replicas: list[Replica]
    timeout_s: float = 5.0
    mode: Literal["simple", "extended"] = "simple"
    labels: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    extra: Any = None


DOC: dict[str, Any] = {
    "db": {
        "password": "pw",
        "replicas": [{"host": "a"}, {"host": "b", "port": 6432}],
        "timeout_s": 2,
        "labels": {"env": "prod"},
    }
}


def test_section_builds_nested_dataclasses() -> None:
    """Nested dataclasses, lists, dicts, defaults and int→float all come out typed."""
    db = load_section(DOC, "db", Db)
    assert (
        Db(
            password="pw",
            replicas=[Replica("a"), Replica("b", 6432)],
            timeout_s=2.0,
            labels={"env": "prod"},
        )
        == db
    )
    assert isinstance(db.timeout_s, float)


def test_section_from_an_encrypted_file(tmp_path: Path, key: str) -> None:
    """load_section accepts a source and a key like load_config."""
    path = tmp_path / "c.enc"
    save_encrypted(path, DOC, key)
    assert load_section(path, "db.replicas.0", Replica, key=key).host == "a"


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"password": None}, "'db.password' is missing"),
        ({"port": 1}, "unknown field(s) 'port'"),
        ({"timeout_s": "5"}, "'db.timeout_s' must be float, got str"),
        ({"replicas": [{"host": 1}]}, "'db.replicas.0.host' must be str, got int"),
        ({"replicas": [{"host": "a", "port": True}]}, "'db.replicas.0.port' must be int, got bool"),
        ({"replicas": {"host": "a"}}, "'db.replicas' must be list[Replica], got object"),
        ({"mode": "fast"}, "'db.mode' must be one of 'simple', 'extended'"),
        ({"labels": {"env": 1}}, "'db.labels.env' must be str, got int"),
        ({"note": 3}, "'db.note' must be str | None, got int"),
    ],
)
def test_section_errors_name_the_field_path(patch: dict[str, Any], fragment: str) -> None:
    """Missing, unknown and wrongly typed fields raise SectionError with the dotted path."""
    section = {k: v for k, v in {**DOC["db"], **patch}.items() if v is not None}
    with pytest.raises(SectionError) as info:
        load_section({"db": section}, "db", Db)
    assert fragment in str(info.value)


def test_section_errors_do_not_echo_values() -> None:
    """A wrongly typed secret is reported by type, never by value."""
    with pytest.raises(SectionError) as info:
        load_section({"db": {**DOC["db"], "password": ["hunter2"]}}, "db", Db)
    assert "hunter2" not in str(info.value)


def test_section_path_must_exist() -> None:
    """A missing section path is a ConfigPathError."""
    with pytest.raises(ConfigPathError):
        load_section(DOC, "cache", Db)


def test_section_must_be_an_object() -> None:
    """A scalar where a dataclass is expected is a SectionError."""
    with pytest.raises(SectionError, match="must be an object for Db"):
        load_section({"db": 3}, "db", Db)

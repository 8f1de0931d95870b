"""Typed sections: build a dataclass from a part of a config document.

Supported field types: `str`, `int`, `float` (an int is accepted), `bool`, `Any`,
`X | None` and other unions, `Literal[...]`, `list[T]`, `tuple[T, ...]`, `dict[str, T]`
and nested dataclasses. Missing required fields, unknown fields and wrong types are
reported with the dotted path of the field and the type names — never the value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from lib_common.config.errors import SectionError

__all__ = ["build_section"]

T = TypeVar("T")


def build_section(cls: type[T], data: Any, *, path: str, name: str) -> T:
    """Build dataclass `cls` from `data`; `path` and `name` locate errors for the user."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass type")
    return typing.cast(T, _convert(cls, data, path, name))


def _where(path: str, name: str) -> str:
    return f"{name}: {path!r}" if path else f"{name}: the top level"


def _build(cls: type[Any], data: Any, path: str, name: str) -> Any:
    if not isinstance(data, Mapping):
        raise SectionError(
            f"{_where(path, name)} must be an object for {cls.__name__}, got {_type_name(data)}"
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SectionError(
            f"{_where(path, name)} has unknown field(s) {', '.join(map(repr, unknown))} "
            f"for {cls.__name__} (known: {', '.join(fields) or 'none'})"
        )
    kwargs: dict[str, Any] = {}
    for field_name, field in fields.items():
        sub = f"{path}.{field_name}" if path else field_name
        if field_name in data:
            kwargs[field_name] = _convert(hints[field_name], data[field_name], sub, name)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise SectionError(f"{_where(sub, name)} is missing (required by {cls.__name__})")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, path: str, name: str) -> Any:
    if tp is Any:
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, path, name)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _convert(option, value, path, name)
            except SectionError:
                continue
        return _mismatch(tp, value, path, name)
    if origin is typing.Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        allowed = ", ".join(repr(a) for a in args)
        raise SectionError(f"{_where(path, name)} must be one of {allowed}")
    if origin is list:
        if not isinstance(value, list):
            return _mismatch(tp, value, path, name)
        (item,) = args or (Any,)
        return [_convert(item, v, f"{path}.{i}", name) for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, list) or not (len(args) == 2 and args[1] is Ellipsis):
            return _mismatch(tp, value, path, name)
        return tuple(_convert(args[0], v, f"{path}.{i}", name) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            return _mismatch(tp, value, path, name)
        _, item = args or (str, Any)
        return {k: _convert(item, v, f"{path}.{k}", name) for k, v in value.items()}
    if tp is type(None):
        return value if value is None else _mismatch(tp, value, path, name)
    if tp is bool:
        return value if isinstance(value, bool) else _mismatch(tp, value, path, name)
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value if ok else _mismatch(tp, value, path, name)
    if tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _mismatch(tp, value, path, name)
    if tp is str:
        return value if isinstance(value, str) else _mismatch(tp, value, path, name)
    raise TypeError(f"unsupported field type {tp!r} at {path!r} in a config section")


def _mismatch(tp: Any, value: Any, path: str, name: str) -> Any:
    raise SectionError(f"{_where(path, name)} must be {_tp_name(tp)}, got {_type_name(value)}")


def _tp_name(tp: Any) -> str:
    """A readable type name: `list[Replica]`, `str | None`, `Literal['a', 'b']`."""
    if tp is type(None):
        return "None"
    if tp is Any:
        return "Any"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_tp_name(a) for a in args)
    if origin is typing.Literal:
        return f"one of {', '.join(map(repr, args))}"
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else _tp_name(a) for a in args)
        return f"{origin.__name__}[{inner}]"
    return getattr(tp, "__name__", repr(tp))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "object",
        list: "array",
        str: "str",
        bool: "bool",
        int: "int",
        float: "float",
    }.get(type(value), type(value).__name__)

"""Lazy package exports: a name is imported from its module on first use.

The gateways' packages re-export their public names through `__all__` but import a module
only when one of its names is first asked for, so `--help` and a bad command line fail in
a fraction of a second, before the engine and its dependencies load.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `where` maps a submodule to the names it holds.

    The first lookup imports `package.submodule` and caches the value on the package, so
    later lookups are plain attribute reads.
    """
    module_of = {name: module for module, names in where.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

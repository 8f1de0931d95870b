"""Lazy package exports: a name comes from its module on first use, then is cached."""

from __future__ import annotations

import sys
import types

import pytest

from rsdev_servers.common.lazy import lazy_exports


def test_a_name_is_imported_on_first_use_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first lookup imports package.module; the value then sits on the package."""
    package = types.ModuleType("lazy_pkg")
    module = types.ModuleType("lazy_pkg.parts")
    module.Thing = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lazy_pkg", package)
    monkeypatch.setitem(sys.modules, "lazy_pkg.parts", module)
    getter = lazy_exports("lazy_pkg", {"parts": ("Thing",)})
    assert "Thing" not in vars(package)
    assert module.Thing is getter("Thing")  # type: ignore[attr-defined]
    assert module.Thing is vars(package)["Thing"]  # type: ignore[attr-defined]


def test_an_unknown_name_is_an_attribute_error() -> None:
    """Names outside the table raise AttributeError naming the package."""
    getter = lazy_exports("lazy_pkg", {})
    with pytest.raises(AttributeError, match="lazy_pkg"):
        getter("Missing")

"""Refresh (or check) the exact pins in pyproject.toml from a resolved uv.lock.

uv.lock is git-ignored (it records the package index's host names), so the versions it
resolved are copied into `[tool.uv] constraint-dependencies` of the root pyproject.toml.

    uv lock && uv run python scripts/pin_constraints.py          # rewrite the pins
    uv run python scripts/pin_constraints.py --check             # exit 1 if stale
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(constraint-dependencies = \[\n)(.*?)(^\])", re.S | re.M)


def locked_pins(lock_path: Path) -> list[str]:
    """`name==version` for every package the lock took from a registry (not the workspace)."""
    lock = tomllib.loads(lock_path.read_text())
    pins = {
        f"{pkg['name']}=={pkg['version']}"
        for pkg in lock.get("package", [])
        if "registry" in pkg.get("source", {})
    }
    return sorted(pins, key=str.lower)


def render(pins: list[str]) -> str:
    return "".join(f'    "{pin}",\n' for pin in pins)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the pins are stale")
    args = parser.parse_args()
    lock_path = ROOT / "uv.lock"
    if not lock_path.exists():
        print("uv.lock not found: run `uv lock` first", file=sys.stderr)
        return 2
    pyproject = ROOT / "pyproject.toml"
    text = pyproject.read_text()
    match = BLOCK.search(text)
    if match is None:
        print("pyproject.toml has no constraint-dependencies block", file=sys.stderr)
        return 2
    wanted = render(locked_pins(lock_path))
    if match.group(2) == wanted:
        print(f"constraint-dependencies up to date ({wanted.count(chr(10))} pins)")
        return 0
    if args.check:
        print(
            "constraint-dependencies differ from uv.lock: run "
            "`uv run python scripts/pin_constraints.py` and commit pyproject.toml",
            file=sys.stderr,
        )
        return 1
    pyproject.write_text(text[: match.start(2)] + wanted + text[match.end(2) :])
    print(f"wrote {wanted.count(chr(10))} pins to pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())

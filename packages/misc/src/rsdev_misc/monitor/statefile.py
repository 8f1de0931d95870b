"""The state file: an open outage survives a restart (or a crash, or SIGKILL).

A small JSON document, replaced atomically (temp file, fsync, rename) whenever the state
changes and on every failed probe while DOWN, so at most one interval of knowledge is lost.
On startup an open outage found here continues: DOWN, with its original start.

Default location: ``$XDG_STATE_HOME/rsdev/<tool>-<hash>.json`` (``~/.local/state`` when
unset), where ``<hash>`` is derived from the redacted target, so each monitored target has
its own file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rsdev_misc.monitor.clock import Instant
from rsdev_misc.monitor.tracker import OpenOutage

__all__ = [
    "FORMAT",
    "SavedState",
    "StateFileError",
    "default_state_path",
    "load_state",
    "save_state",
]

FORMAT = 1


class StateFileError(Exception):
    """The state file cannot be read or written (the message names the file and why)."""


@dataclass(frozen=True, slots=True)
class SavedState:
    """What a state file holds."""

    tool: str
    target: str
    state: str
    saved_at: float
    outage: OpenOutage | None = None
    last_bad_wall: float | None = None


def default_state_path(tool: str, target: str, env: dict[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/rsdev/<tool>-<12 hex of sha256(target)>.json``."""
    environ = os.environ if env is None else env
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    digest = hashlib.sha256(target.encode()).hexdigest()[:12]
    return Path(base) / "rsdev" / f"{tool}-{digest}.json"


def _iso(wall: float) -> str:
    from lib_common.logging.timefmt import format_utc

    return format_utc(round(wall * 1_000_000))


def save_state(path: Path, saved: SavedState) -> None:
    """Write `saved` to `path` atomically (mode 0600), creating the directory."""
    from lib_common.config import ConfigFileError, atomic_write

    doc: dict[str, Any] = {
        "format": FORMAT,
        "tool": saved.tool,
        "target": saved.target,
        "state": saved.state,
        "saved_at": saved.saved_at,
        "saved_at_utc": _iso(saved.saved_at),
        "last_bad": saved.last_bad_wall,
        "outage": None,
    }
    if (o := saved.outage) is not None:
        doc["outage"] = {
            "start": o.start.wall,
            "start_utc": _iso(o.start.wall),
            "start_bound_s": o.start_bound_s,
            "declared": o.declared.wall,
            "failed_probes": o.failed_probes,
            "last_error": o.last_error,
            "failure": o.failure,
        }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(doc, indent=1) + "\n").encode())
    except (OSError, ConfigFileError) as exc:
        raise StateFileError(f"cannot write state file {path}: {exc}") from None


def load_state(path: Path) -> SavedState | None:
    """Read a state file; None when it does not exist. Raise `StateFileError` if unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read state file {path}: {exc.strerror}") from None
    try:
        doc = json.loads(raw)
        if doc.get("format") != FORMAT:
            raise StateFileError(f"state file {path}: unknown format {doc.get('format')!r}")
        outage = None
        if (o := doc.get("outage")) is not None:
            outage = OpenOutage(
                start=Instant(0.0, float(o["start"])),
                start_bound_s=None if o["start_bound_s"] is None else float(o["start_bound_s"]),
                declared=Instant(0.0, float(o["declared"])),
                failed_probes=int(o["failed_probes"]),
                last_error=o.get("last_error"),
                failure=o.get("failure"),
            )
        last_bad = doc.get("last_bad")
        return SavedState(
            tool=str(doc["tool"]),
            target=str(doc["target"]),
            state=str(doc["state"]),
            saved_at=float(doc["saved_at"]),
            outage=outage,
            last_bad_wall=None if last_bad is None else float(last_bad),
        )
    except StateFileError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StateFileError(f"state file {path} is not valid ({type(exc).__name__})") from None

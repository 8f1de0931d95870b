"""Faults the simulator can be told to inject, and the book of active ones (sans-I/O).

A fault has a kind, an optional target ("ws", "rest", "cnn") and a lifetime: `duration`
seconds on the simulator's clock, or `count` affected frames/requests, or (neither) until
cleared. The book answers "which fault applies to this frame/request now?" and consumes
counts; expiry is judged against the time passed in, so tests move a manual clock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

__all__ = [
    "HTTP_KINDS",
    "WS_KINDS",
    "ActiveFault",
    "Fault",
    "FaultBook",
    "FaultKind",
    "GarbageVariant",
    "Target",
]

FaultKind = Literal[
    "stall", "disconnect", "close", "garbage", "slow", "429", "500", "418", "down_page", "hang"
]
Target = Literal["ws", "rest", "cnn"]
GarbageVariant = Literal[
    "bad_json",
    "bad_base64",
    "bad_protobuf",
    "unknown_fields",
    "unknown_enum",
    "binary_frame",
    "mixed",
]
WS_KINDS: Final[frozenset[str]] = frozenset({"stall", "disconnect", "close", "garbage", "slow"})
HTTP_KINDS: Final[frozenset[str]] = frozenset({"429", "500", "418", "down_page", "hang"})
_KINDS: Final = frozenset(get_args(FaultKind))
_TARGETS: Final = frozenset(get_args(Target))
_VARIANTS: Final = frozenset(get_args(GarbageVariant))
_FIELDS: Final = frozenset(
    {
        "kind",
        "duration",
        "count",
        "target",
        "variant",
        "retry_after",
        "delay",
        "rate",
        "status",
        "code",
    }
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault to inject.

    kind: stall | disconnect | close | garbage | slow (WebSocket) or 429 | 500 | 418 |
      down_page | hang (HTTP).
    duration: seconds it stays active (simulator clock); count: frames/requests it affects.
    target: "ws", "rest" or "cnn"; default "ws" for WebSocket kinds, both HTTP targets for
      HTTP kinds.
    variant: garbage shape; retry_after: 429's Retry-After seconds (None: the configured
      default); delay/rate: slow's seconds per message or messages per second; status:
      down_page's HTTP status (default 503); code: close's WebSocket close code.
    """

    kind: FaultKind
    duration: float | None = None
    count: int | None = None
    target: Target | None = None
    variant: GarbageVariant = "mixed"
    retry_after: int | None = None
    delay: float | None = None
    rate: float | None = None
    status: int | None = None
    code: int = 1000

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {sorted(_KINDS)}")
        if self.target is not None and self.target not in _TARGETS:
            raise ValueError(f"unknown target {self.target!r}; one of {sorted(_TARGETS)}")
        if self.target is not None and (self.target == "ws") != (self.kind in WS_KINDS):
            raise ValueError(f"fault {self.kind!r} cannot target {self.target!r}")
        if self.variant not in _VARIANTS:
            raise ValueError(
                f"unknown garbage variant {self.variant!r}; one of {sorted(_VARIANTS)}"
            )
        if self.duration is not None and not self.duration > 0:
            raise ValueError("duration must be > 0 seconds")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1")
        if self.kind == "slow" and (self.delay is None) == (self.rate is None):
            raise ValueError("slow needs exactly one of delay (s per message) or rate (msg/s)")
        if (self.delay is not None and self.delay <= 0) or (
            self.rate is not None and self.rate <= 0
        ):
            raise ValueError("delay and rate must be > 0")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if not 1000 <= self.code <= 4999:
            raise ValueError("code must be a WebSocket close code (1000-4999)")

    @property
    def targets(self) -> frozenset[Target]:
        """Where this fault applies."""
        if self.target is not None:
            return frozenset({self.target})
        return frozenset({"ws"}) if self.kind in WS_KINDS else frozenset({"rest", "cnn"})

    @classmethod
    def from_json(cls, data: object) -> Fault:
        """Build a fault from the control API's JSON object; raises ValueError when invalid."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - _FIELDS
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        if "kind" not in data:
            raise ValueError("a fault needs a kind")
        try:
            return cls(
                kind=str(data["kind"]),  # type: ignore[arg-type]  # checked in __post_init__
                duration=_opt(data, "duration", float),
                count=_opt(data, "count", int),
                target=data.get("target"),
                variant=data.get("variant", "mixed"),
                retry_after=_opt(data, "retry_after", int),
                delay=_opt(data, "delay", float),
                rate=_opt(data, "rate", float),
                status=_opt(data, "status", int),
                code=int(data.get("code", 1000)),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from exc

    def to_json(self) -> dict[str, Any]:
        """The fault as the control API shows it (unset options left out)."""
        out: dict[str, Any] = {"kind": self.kind, "targets": sorted(self.targets)}
        for name in ("duration", "count", "retry_after", "delay", "rate", "status"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.kind == "garbage":
            out["variant"] = self.variant
        if self.kind == "close":
            out["code"] = self.code
        return out


def _opt(data: dict[str, Any], name: str, kind: type[float] | type[int]) -> Any:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return kind(value)


_ids = itertools.count(1)


@dataclass(slots=True)
class ActiveFault:
    """An injected fault with its expiry time and remaining count."""

    fault: Fault
    started: float
    expires: float | None
    remaining: int | None
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0  # frames/requests/connections it has affected

    def live(self, now: float) -> bool:
        """Still in force at `now`."""
        if self.expires is not None and now >= self.expires:
            return False
        return self.remaining is None or self.remaining > 0

    def to_json(self, now: float) -> dict[str, Any]:
        out = {"id": self.id, **self.fault.to_json(), "hits": self.hits}
        if self.expires is not None:
            out["expires_in"] = round(max(0.0, self.expires - now), 3)
        if self.remaining is not None:
            out["remaining"] = self.remaining
        return out


class FaultBook:
    """The active faults; lookups prune what has expired or run out."""

    def __init__(self) -> None:
        self._active: list[ActiveFault] = []

    def inject(self, fault: Fault, now: float) -> ActiveFault:
        """Make `fault` active from `now`."""
        expires = now + fault.duration if fault.duration is not None else None
        active = ActiveFault(fault, now, expires, fault.count)
        self._active.append(active)
        return active

    def clear(self) -> int:
        """Drop every fault; returns how many were active."""
        count = len(self._active)
        self._active.clear()
        return count

    def remove(self, active: ActiveFault) -> None:
        """Drop one fault (a one-shot that has done its work)."""
        if active in self._active:
            self._active.remove(active)

    def active(self, now: float) -> list[ActiveFault]:
        """The faults still in force at `now`."""
        self._active = [a for a in self._active if a.live(now)]
        return list(self._active)

    def find(self, kinds: frozenset[str], target: Target, now: float) -> ActiveFault | None:
        """The oldest live fault of one of `kinds` that applies to `target`, not consumed."""
        for active in self._active:
            fault = active.fault
            if fault.kind in kinds and target in fault.targets and active.live(now):
                return active
        return None

    def take(self, kinds: frozenset[str], target: Target, now: float) -> ActiveFault | None:
        """Like `find`, and count one hit against it (using up one of its `count`)."""
        active = self.find(kinds, target, now)
        if active is not None:
            active.hits += 1
            if active.remaining is not None:
                active.remaining -= 1
        return active

    def __len__(self) -> int:
        return len(self._active)

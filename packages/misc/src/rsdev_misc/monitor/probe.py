"""What a probe is: one check of one service, returning a classified, redacted result."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol


class Severity(enum.IntEnum):
    """Nagios-style outcome of one `--once` probe; the value is the process exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


class FailureKind(enum.StrEnum):
    """Who is to blame for a failed probe, so an operator knows where to look."""

    AUTHENTICATION = "authentication"
    NETWORK = "network"
    TIMEOUT = "timeout"
    TLS = "tls"
    SERVER = "server"
    CONFIG = "config"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe's outcome. `error` is already redacted (no passwords, no tokens)."""

    ok: bool
    latency_ms: float | None = None
    # Extra figures for the human line, --json and metrics, e.g. connect_ms, query_ms.
    details: dict[str, float | str] = field(default_factory=dict)
    error: str | None = None
    failure: FailureKind | None = None
    # ok but impaired: part of a multi-target check failed (monitor-net: some targets down).
    # The state machine treats it as a success; `--once` reports it as WARNING.
    degraded: bool = False


class Probe(Protocol):
    """A service check. `target` is a redacted description safe to print."""

    @property
    def target(self) -> str: ...

    # The timeout is passed on to the client library (connect_timeout, socket timeouts).
    async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        """Check once; never raise for service failures, return a failed result instead."""
        ...

    async def aclose(self) -> None:
        """Release anything kept between probes (e.g. a kept connection)."""
        ...

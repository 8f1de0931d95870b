"""One probe result as a verdict (`Severity`) and as text: a human line or a JSON object.

Used by `--once` (the line and the exit code) and by the daemon's per-probe debug log.
"""

from __future__ import annotations

import json
from typing import Any

from rsdev_misc.monitor.probe import ProbeResult, Severity
from rsdev_misc.monitor.redact import redact

__all__ = ["classify", "human_line", "json_line", "result_dict"]


def classify(result: ProbeResult, warn_ms: float | None) -> Severity:
    """CRITICAL if failed; WARNING if degraded or slower than `warn_ms`; else OK."""
    if not result.ok:
        return Severity.CRITICAL
    if result.degraded:
        return Severity.WARNING
    if warn_ms is not None and result.latency_ms is not None and result.latency_ms > warn_ms:
        return Severity.WARNING
    return Severity.OK


def _details(result: ProbeResult) -> str:
    parts = [
        f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={redact(v)}"
        for k, v in result.details.items()
    ]
    return f" ({', '.join(parts)})" if parts else ""


def human_line(tool: str, target: str, result: ProbeResult, severity: Severity) -> str:
    """E.g. ``monitor-net OK 127.0.0.1:53 12.3 ms`` or ``… CRITICAL …: network: refused``."""
    head = f"{tool} {severity.name} {redact(target)}"
    latency = f" {result.latency_ms:.1f} ms" if result.latency_ms is not None else ""
    if result.ok:
        slow = " degraded" if result.degraded else ""
        return f"{head}{latency}{slow}{_details(result)}"
    kind = f"{result.failure.value}: " if result.failure is not None else ""
    return f"{head}: {kind}{redact(result.error or 'failed')}{_details(result)}"


def result_dict(
    tool: str, target: str, result: ProbeResult, severity: Severity, at: str
) -> dict[str, Any]:
    """The `--json` object (stable keys; see docs/monitors.md)."""
    return {
        "tool": tool,
        "target": redact(target),
        "time": at,
        "status": severity.name,
        "exit_code": int(severity),
        "ok": result.ok,
        "degraded": result.degraded,
        "latency_ms": result.latency_ms,
        "failure": result.failure.value if result.failure is not None else None,
        "error": redact(result.error) if result.error is not None else None,
        "details": {k: v if isinstance(v, float) else redact(v) for k, v in result.details.items()},
    }


def json_line(tool: str, target: str, result: ProbeResult, severity: Severity, at: str) -> str:
    return json.dumps(result_dict(tool, target, result, severity, at), separators=(",", ":"))

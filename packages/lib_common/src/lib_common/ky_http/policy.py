"""When to retry an HTTP request and how long to wait first (sans-I/O: values in, decision out).

Modelled on the JS library *ky*: ``limit``, ``methods``, ``status_codes``,
``after_status_codes`` (honour ``Retry-After``, RFC 9110 §10.2.3) and a backoff cap, plus a
total time budget. Backoff is exponential with *full jitter* (delay uniform in
``[0, min(cap, base·2ⁿ)]``), which spreads synchronised clients best.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_AFTER_STATUS_CODES",
    "RETRY_STATUS_CODES",
    "Failure",
    "RetryDecision",
    "RetryPolicy",
    "parse_http_date",
    "parse_retry_after",
    "response_retry_after",
]

# RFC 9110 §9.2.2: repeating these has the same effect as sending them once.
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "HEAD", "DELETE", "OPTIONS", "TRACE"})
RETRY_STATUS_CODES = frozenset({408, 425, 429, 500, 502, 503, 504})
RETRY_AFTER_STATUS_CODES = frozenset({413, 429, 503})


class Failure(enum.Enum):
    """A request that produced no response, in the classes the policy may retry."""

    TIMEOUT = "timeout"
    TRANSPORT = "transport"  # connect/read/write error, connection closed mid-response


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Retry after ``delay`` seconds, or stop; ``reason`` says why, for logs."""

    retry: bool
    delay: float
    reason: str


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 9110 HTTP-date as an aware UTC datetime, or None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        when = parse_http_date(text)
        return None if when is None else max(0.0, (when - now).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def response_retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait from a response's ``Retry-After``, or None. An HTTP-date is measured
    against the server's own clock (its ``Date`` header) when it sent one, else ``now``."""
    reference = parse_http_date(headers.get("date")) or now
    return parse_retry_after(headers.get("retry-after"), reference)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries; the defaults retry idempotent requests twice (three attempts)."""

    limit: int = 2
    methods: frozenset[str] = IDEMPOTENT_METHODS
    status_codes: frozenset[int] = RETRY_STATUS_CODES
    after_status_codes: frozenset[int] = RETRY_AFTER_STATUS_CODES
    backoff_base: float = 0.3
    backoff_cap: float = 10.0
    max_retry_after: float = 60.0
    total_deadline: float | None = 60.0

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError("limit must be >= 0")
        if min(self.backoff_base, self.backoff_cap, self.max_retry_after) < 0:
            raise ValueError("backoff_base, backoff_cap and max_retry_after must be >= 0")
        if self.total_deadline is not None and self.total_deadline <= 0:
            raise ValueError("total_deadline must be > 0 or None")
        # Accept any iterable of names and any case; store the canonical frozenset.
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))
        object.__setattr__(self, "status_codes", frozenset(self.status_codes))
        object.__setattr__(self, "after_status_codes", frozenset(self.after_status_codes))

    def retries_method(self, method: str) -> bool:
        """True if requests with this method may be retried at all."""
        return self.limit > 0 and method.upper() in self.methods

    def backoff(self, retry_index: int, rng: Callable[[], float]) -> float:
        """Full-jitter delay before retry ``retry_index`` (0 = the first retry).

        ``rng`` returns a float in [0, 1), like ``random.random``.
        """
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** min(retry_index, 64))
        return ceiling * rng()

    def decide(
        self,
        *,
        method: str,
        attempt: int,
        elapsed: float,
        now: datetime,
        rng: Callable[[], float],
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        failure: Failure | None = None,
    ) -> RetryDecision:
        """Decide what follows attempt number ``attempt`` (1-based) of a call.

        Give ``status`` and ``headers`` for a response, or ``failure`` when there was none
        (neither: an error the policy never retries). ``elapsed`` is the time since the first
        attempt began; ``now`` is the wall clock, used for an HTTP-date ``Retry-After`` when
        the response carries no ``Date`` of its own.
        """
        if status is not None:
            if status not in self.status_codes:
                return RetryDecision(False, 0.0, f"status {status} is final")
            what = f"status {status}"
        elif failure is not None:
            what = f"{failure.value} error"
        else:
            return RetryDecision(False, 0.0, "this error is never retried")
        if not self.retries_method(method):
            return RetryDecision(False, 0.0, f"{method.upper()} is not retried by this policy")
        if attempt > self.limit:
            return RetryDecision(False, 0.0, f"retry limit {self.limit} reached")
        delay, source = self.backoff(attempt - 1, rng), "backoff"
        if status is not None and status in self.after_status_codes and headers is not None:
            retry_after = response_retry_after(headers, now)
            if retry_after is not None:
                if retry_after > self.max_retry_after:
                    cap = self.max_retry_after
                    reason = f"Retry-After {retry_after:g} s exceeds the {cap:g} s cap"
                    return RetryDecision(False, 0.0, reason)
                delay, source = retry_after, "Retry-After"
        if self.total_deadline is not None and elapsed + delay >= self.total_deadline:
            return RetryDecision(
                False,
                0.0,
                f"waiting {delay:.3g} s would overrun the {self.total_deadline:g} s deadline",
            )
        return RetryDecision(True, delay, f"{what}: retry {attempt}/{self.limit} ({source})")

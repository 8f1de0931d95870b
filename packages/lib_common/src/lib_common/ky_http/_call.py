"""One logical request across its attempts: options, timing, and the tenacity strategies.

Shared by ``AsyncKy`` and ``Ky``. tenacity runs the attempt loop and sleeps through the
client's injected ``sleep``; after each attempt its ``retry``/``wait`` strategies ask
``RetryPolicy.decide`` (pure) what to do and remember the answer for the hooks and logs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypedDict

import httpx
import tenacity
from loguru import logger

from lib_common.ky_http.errors import (
    KyError,
    KyRequestError,
    KyTimeoutError,
    KyTLSError,
    KyTransportError,
    translate_httpx_error,
)
from lib_common.ky_http.policy import Failure, RetryDecision, RetryPolicy
from lib_common.ky_http.response import ApiResponse

__all__ = ["Call", "RequestOptions", "as_timeout"]


class RequestOptions(TypedDict, total=False):
    """Per-call options accepted by ``request``/``get``/``post``/… of both clients."""

    params: Mapping[str, Any]
    headers: Mapping[str, str]
    json: Any
    content: bytes | str
    data: Mapping[str, Any]
    timeout: httpx.Timeout | float
    retry: RetryPolicy


def as_timeout(value: httpx.Timeout | float) -> httpx.Timeout:
    """A float means the same limit for connect, read, write and pool."""
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def _clip(limit: float | None, remaining: float) -> float:
    return remaining if limit is None else min(limit, remaining)


def failure_of(error: BaseException) -> Failure | None:
    """The retriable class of an attempt's exception, or None if it is never retried."""
    if isinstance(error, KyTimeoutError):
        return Failure.TIMEOUT
    if isinstance(error, KyTransportError) and not isinstance(error, KyTLSError):
        return Failure.TRANSPORT
    return None


class Call:
    """State of one call: attempt count, timings, the last request and retry decision."""

    def __init__(
        self,
        *,
        method: str,
        url: str,
        options: RequestOptions,
        timeout: httpx.Timeout,
        policy: RetryPolicy,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
        rng: Callable[[], float],
        extensions: Mapping[str, Any],
    ) -> None:
        self.method = method.upper()
        self.url = url
        self.options = options
        self.timeout = as_timeout(options["timeout"]) if "timeout" in options else timeout
        self.policy = policy
        self.extensions = dict(extensions)
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng
        self.started = clock()
        self.attempt_started = self.started
        self.attempts = 0
        self.request: httpx.Request | None = None
        self.decision: RetryDecision | None = None

    # -- timing ---------------------------------------------------------------------------

    def elapsed(self) -> float:
        return self._clock() - self.started

    def remaining(self) -> float | None:
        """Seconds left in the total deadline (None: no deadline)."""
        deadline = self.policy.total_deadline
        return None if deadline is None else max(0.0, deadline - self.elapsed())

    def attempt_timeout(self) -> httpx.Timeout:
        """The configured timeouts, each capped by what is left of the total deadline."""
        remaining = self.remaining()
        if remaining is None:
            return self.timeout
        t = self.timeout
        return httpx.Timeout(
            connect=_clip(t.connect, remaining),
            read=_clip(t.read, remaining),
            write=_clip(t.write, remaining),
            pool=_clip(t.pool, remaining),
        )

    # -- one attempt ----------------------------------------------------------------------

    def begin_attempt(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """Count the attempt and build its request (fresh each time, so hooks start clean)."""
        self.attempts += 1
        self.attempt_started = self._clock()
        o = self.options
        try:
            self.request = client.build_request(
                self.method,
                self.url,
                params=o.get("params"),
                headers=o.get("headers"),
                json=o.get("json"),
                content=o.get("content"),
                data=o.get("data"),
                timeout=self.attempt_timeout(),
                extensions=self.extensions or None,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self.error(exc) from exc
        self.url = str(self.request.url)
        return self.request

    def error(self, exc: httpx.HTTPError | httpx.InvalidURL) -> KyError:
        return translate_httpx_error(exc, method=self.method, url=self.url, attempts=self.attempts)

    def deadline_error(self, cause: BaseException) -> KyTimeoutError:
        return KyTimeoutError(
            f"{self.method} {self.url}: total deadline of {self.policy.total_deadline:g} s "
            f"reached during attempt {self.attempts}",
            method=self.method,
            url=self.url,
            attempts=self.attempts,
            cause=cause,
        )

    def response(self, response: httpx.Response) -> ApiResponse:
        now = self._clock()
        return ApiResponse.from_httpx(
            response,
            attempts=self.attempts,
            elapsed=now - self.started,
            attempt_elapsed=now - self.attempt_started,
        )

    # -- tenacity strategies --------------------------------------------------------------

    def should_retry(self, state: tenacity.RetryCallState) -> bool:
        """tenacity ``retry=``: ask the policy about this attempt's outcome."""
        outcome = state.outcome
        assert outcome is not None  # tenacity asks only after an attempt
        common: dict[str, Any] = {
            "method": self.method,
            "attempt": self.attempts,
            "elapsed": self.elapsed(),
            "now": self._wall_clock(),
            "rng": self._rng,
        }
        if outcome.failed:
            error = outcome.exception()
            if isinstance(error, KyRequestError) or not isinstance(error, KyError):
                return False  # the caller's mistake or a hook's exception: not ours to retry
            failure = failure_of(error)
            decision = self.policy.decide(failure=failure, **common)
            retriable = failure is not None
        else:
            result: ApiResponse = outcome.result()
            decision = self.policy.decide(status=result.status, headers=result.headers, **common)
            retriable = result.status in self.policy.status_codes
        self.decision = decision
        if retriable:  # a retry, or giving up on something that could have been retried
            logger.info("{} {}: {}", self.method, self.url, decision.reason)
        return decision.retry

    def wait(self, _state: tenacity.RetryCallState) -> float:
        """tenacity ``wait=``: the delay the policy just decided."""
        assert self.decision is not None
        return self.decision.delay

    def retry_hook_args(
        self, state: tenacity.RetryCallState
    ) -> tuple[httpx.Request, KyError | ApiResponse, int, float]:
        """Arguments for ``before_retry`` hooks: request, error or response, attempt, delay."""
        outcome = state.outcome
        assert outcome is not None
        assert self.request is not None
        error = outcome.exception()
        subject: KyError | ApiResponse = error if isinstance(error, KyError) else outcome.result()
        return self.request, subject, self.attempts, state.upcoming_sleep

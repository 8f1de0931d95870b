"""``Ky``: the blocking twin of ``AsyncKy`` (same policy, hooks, responses and errors).

For code that cannot await, such as the config loader fetching an https config URL.
"""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, Unpack

import httpx
import tenacity

from lib_common.ky_http._call import Call, RequestOptions, as_timeout
from lib_common.ky_http.hooks import Hooks
from lib_common.ky_http.policy import RetryPolicy
from lib_common.ky_http.response import ApiResponse
from lib_common.timeutil import utc_now
from lib_common.tls import TLSPolicy

__all__ = ["Ky"]


def _plain(value: Any) -> Any:
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()  # don't leave a never-awaited coroutine behind
        raise TypeError("Ky (sync) hooks must be plain functions; use AsyncKy for async hooks")
    return value


class Ky:
    """Retrying blocking HTTP client; see ``AsyncKy`` for the parameters."""

    def __init__(
        self,
        base_url: str = "",
        *,
        timeout: httpx.Timeout | float = 10.0,
        retry: RetryPolicy | None = None,
        hooks: Hooks | None = None,
        tls: TLSPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.hooks = hooks or Hooks()
        self.tls = tls or TLSPolicy()
        self._timeout = as_timeout(timeout)
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng
        self._extensions: dict[str, Any] = {}
        if self.tls.server_hostname:
            self._extensions["sni_hostname"] = self.tls.server_hostname
        self._client = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=self._timeout,
            verify=self.tls.ssl_context(),
            follow_redirects=follow_redirects,
            trust_env=False,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def request(self, method: str, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """Send ``method url``, retrying per the policy; the last response is returned."""
        call = Call(
            method=method,
            url=url,
            options=options,
            timeout=self._timeout,
            policy=options.get("retry", self.retry),
            clock=self._clock,
            wall_clock=self._wall_clock,
            rng=self._rng,
            extensions=self._extensions,
        )

        def before_retry(state: tenacity.RetryCallState) -> None:
            for hook in self.hooks.before_retry:
                _plain(hook(*call.retry_hook_args(state)))

        retrying = tenacity.Retrying(
            sleep=self._sleep,
            retry=call.should_retry,
            wait=call.wait,
            before_sleep=before_retry,
            reraise=True,
        )
        return retrying(self._attempt, call)

    def _attempt(self, call: Call) -> ApiResponse:
        request = call.begin_attempt(self._client)
        for before in self.hooks.before_request:
            _plain(before(request))
        try:
            response = self._client.send(request)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise call.error(exc) from exc
        result = call.response(response)
        for after in self.hooks.after_response:
            replacement = _plain(after(request, result))
            if isinstance(replacement, ApiResponse):
                result = replacement
        return result

    def get(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """GET ``url``."""
        return self.request("GET", url, **options)

    def head(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """HEAD ``url``."""
        return self.request("HEAD", url, **options)

    def post(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """POST ``url`` (not retried unless the policy lists POST)."""
        return self.request("POST", url, **options)

    def put(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """PUT ``url``."""
        return self.request("PUT", url, **options)

    def patch(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """PATCH ``url`` (not retried unless the policy lists PATCH)."""
        return self.request("PATCH", url, **options)

    def delete(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """DELETE ``url``."""
        return self.request("DELETE", url, **options)

"""``AsyncKy``: the retrying asyncio/anyio HTTP client on httpx."""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, Unpack, cast

import anyio
import httpx
import tenacity

from lib_common.ky_http._call import Call, RequestOptions, as_timeout
from lib_common.ky_http.hooks import Hooks
from lib_common.ky_http.policy import RetryPolicy
from lib_common.ky_http.response import ApiResponse
from lib_common.timeutil import utc_now
from lib_common.tls import TLSPolicy

__all__ = ["AsyncKy", "utc_now"]


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class AsyncKy:
    """Retrying async HTTP client: returns ``ApiResponse`` or raises a ``KyError``.

    ``sleep``, ``clock`` (monotonic seconds), ``wall_clock`` and ``rng`` are injectable so
    tests never wait. HTTPS is verified through ``tls`` (default: ``TLSPolicy()``).
    """

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
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
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
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=self._timeout,
            verify=self.tls.ssl_context(),
            follow_redirects=follow_redirects,
            trust_env=False,  # no surprise proxies from the environment
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def request(
        self, method: str, url: str, **options: Unpack[RequestOptions]
    ) -> ApiResponse:
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

        async def before_retry(state: tenacity.RetryCallState) -> None:
            for hook in self.hooks.before_retry:
                await _resolve(hook(*call.retry_hook_args(state)))

        retrying = tenacity.AsyncRetrying(
            sleep=self._sleep,
            retry=call.should_retry,
            wait=call.wait,
            before_sleep=before_retry,
            reraise=True,
        )
        return cast(ApiResponse, await retrying(self._attempt, call))

    async def _attempt(self, call: Call) -> ApiResponse:
        request = call.begin_attempt(self._client)
        for before in self.hooks.before_request:
            await _resolve(before(request))
        remaining = call.remaining()
        try:
            # The clipped httpx timeouts bound each I/O step; this bounds the whole attempt.
            with anyio.fail_after(remaining):
                response = await self._client.send(request)
        except TimeoutError as exc:
            raise call.deadline_error(exc) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise call.error(exc) from exc
        result = call.response(response)
        for after in self.hooks.after_response:
            replacement = await _resolve(after(request, result))
            if isinstance(replacement, ApiResponse):
                result = replacement
        return result

    async def get(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """GET ``url``."""
        return await self.request("GET", url, **options)

    async def head(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """HEAD ``url``."""
        return await self.request("HEAD", url, **options)

    async def post(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """POST ``url`` (not retried unless the policy lists POST)."""
        return await self.request("POST", url, **options)

    async def put(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """PUT ``url``."""
        return await self.request("PUT", url, **options)

    async def patch(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """PATCH ``url`` (not retried unless the policy lists PATCH)."""
        return await self.request("PATCH", url, **options)

    async def delete(self, url: str, **options: Unpack[RequestOptions]) -> ApiResponse:
        """DELETE ``url``."""
        return await self.request("DELETE", url, **options)

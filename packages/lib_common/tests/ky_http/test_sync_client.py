"""Ky, the blocking twin, against the same scripted server (which runs in its own thread)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from lib_common.ky_http import (
    ApiResponse,
    Hooks,
    Ky,
    KyTimeoutError,
    KyTransportError,
    RetryPolicy,
)

Server = Any
Actions = Any
FakeTime = Any


def make_client(server: Server, fake_time: FakeTime, **kwargs: Any) -> Ky:
    options: dict[str, Any] = {
        "timeout": 2.0,
        "sleep": fake_time.sleep_sync,
        "clock": fake_time.clock,
        "rng": lambda: 0.5,
    }
    return Ky(server.url, **(options | kwargs))


def test_retries_then_succeeds(server: Server, actions: Actions, fake_time: FakeTime) -> None:
    """503 then 200 through the sync client: ok after 2 attempts, one recorded wait."""
    server.play(actions.reply(503), actions.reply(200, body=b"{}"))
    with make_client(server, fake_time) as ky:
        response = ky.get("/config.json")
    assert (response.ok, response.attempts, response.json()) == (True, 2, {})
    assert fake_time.sleeps == pytest.approx([0.15])


def test_retry_after_is_recorded(server: Server, actions: Actions, fake_time: FakeTime) -> None:
    """Retry-After: 2 on a 429 becomes a recorded 2 s wait in the sync client too."""
    server.play(actions.reply(429, {"Retry-After": "2"}), actions.reply(200))
    with make_client(server, fake_time) as ky:
        assert ky.get("/").ok
    assert fake_time.sleeps == [2.0]


def test_post_not_retried(server: Server, actions: Actions, fake_time: FakeTime) -> None:
    """The sync client shares the policy: POST gets one attempt."""
    server.play(actions.reply(503))
    with make_client(server, fake_time) as ky:
        assert ky.post("/", content=b"x").status == 503
    assert len(server.requests) == 1


def test_timeout_raises_ky_timeout(server: Server, actions: Actions, fake_time: FakeTime) -> None:
    """A server that never answers gives KyTimeoutError after limit+1 short attempts."""
    server.play(actions.hang(), actions.hang())
    started = time.monotonic()
    retry = RetryPolicy(limit=1)
    with (
        make_client(server, fake_time, timeout=0.2, retry=retry) as ky,
        pytest.raises(KyTimeoutError) as caught,
    ):
        ky.get("/")
    assert caught.value.attempts == 2
    assert time.monotonic() - started < 2.0


def test_truncated_body_is_a_transport_error(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """A body cut short every time ends in KyTransportError with the attempts counted."""
    server.play(*[actions.truncate()] * 3)
    with make_client(server, fake_time) as ky, pytest.raises(KyTransportError) as caught:
        ky.get("/")
    assert caught.value.attempts == 3


def test_async_hook_is_refused(server: Server, actions: Actions, fake_time: FakeTime) -> None:
    """A coroutine hook cannot run in the sync client: a clear TypeError, not a silent skip."""

    async def hook(_request: httpx.Request, _response: ApiResponse) -> None:
        return None

    server.play(actions.reply(200))
    with (
        make_client(server, fake_time, hooks=Hooks(after_response=(hook,))) as ky,
        pytest.raises(TypeError, match="AsyncKy"),
    ):
        ky.get("/")

"""AsyncKy against a real scripted HTTP server on 127.0.0.1: retries, waits, errors, hooks."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import trustme

from lib_common.ky_http import (
    IDEMPOTENT_METHODS,
    ApiResponse,
    AsyncKy,
    Hooks,
    KyError,
    KyRequestError,
    KyTimeoutError,
    KyTLSError,
    KyTransportError,
    RetryPolicy,
)
from lib_common.tls import TLSPolicy

# Fixture types live in conftest.py, which test modules cannot import.
Server = Any
Actions = Any
FakeTime = Any

pytestmark = pytest.mark.anyio


def make_client(server: Server, fake_time: FakeTime, **kwargs: Any) -> AsyncKy:
    options: dict[str, Any] = {
        "timeout": 2.0,
        "sleep": fake_time.sleep,
        "clock": fake_time.clock,
        "rng": lambda: 0.5,
    }
    return AsyncKy(server.url, **(options | kwargs))


async def test_503_503_200_succeeds_on_the_third_attempt(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """Two 503s then 200: the call returns ok after 3 attempts and two backoff waits."""
    server.play(actions.reply(503), actions.reply(503), actions.reply(200, body=b"done"))
    async with make_client(server, fake_time) as ky:
        response = await ky.get("/quote")
    assert response.ok
    assert response.attempts == 3
    assert response.content == b"done"
    assert len(server.requests) == 3
    # full jitter with rng 0.5 and base 0.3: 0.5·0.3·2⁰, 0.5·0.3·2¹
    assert fake_time.sleeps == pytest.approx([0.15, 0.3])
    assert response.elapsed == pytest.approx(0.45)


async def test_retry_after_seconds_is_the_recorded_wait(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """429 with Retry-After: 2 makes the client wait exactly 2 s (recorded, not slept)."""
    server.play(actions.reply(429, {"Retry-After": "2"}), actions.reply(200))
    async with make_client(server, fake_time) as ky:
        started = time.monotonic()
        response = await ky.get("/")
        wall = time.monotonic() - started
    assert response.status == 200
    assert fake_time.sleeps == [2.0]
    assert wall < 1.0  # nothing actually waited


async def test_retry_after_http_date(server: Server, actions: Actions, fake_time: FakeTime) -> None:
    """A Retry-After HTTP-date is honoured relative to the response's Date."""
    date = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    headers = {
        "Date": format_datetime(date, usegmt=True),
        "Retry-After": format_datetime(date + timedelta(seconds=5), usegmt=True),
    }
    server.play(actions.reply(503, headers), actions.reply(200))
    async with make_client(server, fake_time) as ky:
        assert (await ky.get("/")).ok
    assert fake_time.sleeps == [5.0]


async def test_retry_after_beyond_the_cap_returns_the_response(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """A Retry-After above max_retry_after is not waited for: the 503 is returned at once."""
    server.play(actions.reply(503, {"Retry-After": "3600"}))
    async with make_client(server, fake_time) as ky:
        response = await ky.get("/")
    assert (response.status, response.attempts, fake_time.sleeps) == (503, 1, [])
    assert len(server.requests) == 1


async def test_post_is_not_retried_by_default(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """POST gets one attempt: the server sees exactly one request and the 503 comes back."""
    server.play(actions.reply(503), actions.reply(200))
    async with make_client(server, fake_time) as ky:
        response = await ky.post("/orders", json={"qty": 1})
    assert response.status == 503
    assert response.attempts == 1
    assert len(server.requests) == 1
    assert json.loads(server.requests[0].body) == {"qty": 1}


async def test_post_is_retried_when_opted_in(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """With POST in the policy's methods (here per call) the POST is retried and succeeds."""
    server.play(actions.reply(503), actions.reply(201))
    retry = RetryPolicy(methods=IDEMPOTENT_METHODS | {"POST"})
    async with make_client(server, fake_time) as ky:
        response = await ky.post("/orders", json={"qty": 1}, retry=retry)
    assert (response.status, response.attempts) == (201, 2)
    assert [r.body for r in server.requests] == [b'{"qty":1}', b'{"qty":1}']


async def test_exhausted_retries_return_the_last_response(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """When every attempt gets 502 the last 502 is returned with attempts == limit + 1."""
    server.play(*[actions.reply(502)] * 3)
    async with make_client(server, fake_time) as ky:
        response = await ky.get("/")
    assert (response.status, response.attempts, len(server.requests)) == (502, 3, 3)


async def test_non_retriable_status_is_returned_once(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """A 404 is returned, not raised and not retried."""
    server.play(actions.reply(404, body=b"no such symbol"))
    async with make_client(server, fake_time) as ky:
        response = await ky.get("/quote/NOPE")
    assert (response.status, response.ok, response.text) == (404, False, "no such symbol")
    assert len(server.requests) == 1


async def test_server_that_never_answers_times_out_within_the_deadline(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """Three hanging attempts of 0.2 s inside a 0.5 s budget end in KyTimeoutError by ~0.5 s."""
    server.play(actions.hang(), actions.hang(), actions.hang())
    retry = RetryPolicy(total_deadline=0.5)
    started = time.monotonic()
    async with AsyncKy(
        server.url, timeout=0.2, retry=retry, sleep=fake_time.sleep, rng=lambda: 0.0
    ) as ky:
        with anyio.fail_after(5), pytest.raises(KyTimeoutError) as caught:
            await ky.get("/stalled")
    wall = time.monotonic() - started
    assert caught.value.attempts == 3
    assert 0.45 <= wall < 1.5  # the 0.5 s budget plus scheduling slack on a busy machine
    assert isinstance(caught.value.cause, httpx.TimeoutException | TimeoutError)
    assert len(server.requests) == 3


async def test_timeout_is_retried(server: Server, actions: Actions, fake_time: FakeTime) -> None:
    """A timed-out GET is retried and the next answer is returned."""
    server.play(actions.hang(), actions.reply(200))
    async with make_client(server, fake_time, timeout=0.2) as ky:
        with anyio.fail_after(5):
            response = await ky.get("/")
    assert (response.status, response.attempts) == (200, 2)


async def test_connection_closed_mid_body_is_retried(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """A body cut short (Content-Length promised more) is a transport error and is retried."""
    server.play(actions.truncate(), actions.reply(200, body=b"whole"))
    async with make_client(server, fake_time) as ky:
        response = await ky.get("/")
    assert (response.content, response.attempts, len(server.requests)) == (b"whole", 2, 2)


async def test_connection_closed_mid_body_every_time_raises_transport_error(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """After the retry limit the transport error is raised as KyTransportError, not httpx's."""
    server.play(*[actions.truncate()] * 3)
    async with make_client(server, fake_time) as ky:
        with pytest.raises(KyTransportError) as caught:
            await ky.get("/broken")
    error = caught.value
    assert (error.method, error.attempts) == ("GET", 3)
    assert error.url == f"{server.url}/broken"
    assert isinstance(error.cause, httpx.RemoteProtocolError)
    assert len(server.requests) == 3


async def test_connection_refused_is_a_transport_error(fake_time: FakeTime) -> None:
    """Nobody listening: connect errors are retried, then raised as KyTransportError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AsyncKy(f"http://127.0.0.1:{port}", sleep=fake_time.sleep) as ky:
        with pytest.raises(KyTransportError) as caught:
            await ky.get("/")
    assert caught.value.attempts == 3


async def test_total_deadline_stops_retries(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """A second 4 s wait would pass the 5 s budget: the call stops after two attempts."""
    server.play(*[actions.reply(503, {"Retry-After": "4"})] * 3)
    retry = RetryPolicy(total_deadline=5.0, limit=5)
    async with make_client(server, fake_time, retry=retry) as ky:
        response = await ky.get("/")
    assert (response.status, response.attempts) == (503, 2)
    assert fake_time.sleeps == [4.0]
    assert len(server.requests) == 2


async def test_unsupported_scheme_is_a_request_error_and_not_retried(fake_time: FakeTime) -> None:
    """A URL the client cannot send is the caller's error, raised at once."""
    async with AsyncKy(sleep=fake_time.sleep) as ky:
        with pytest.raises(KyRequestError) as caught:
            await ky.get("ftp://127.0.0.1/file")
    assert caught.value.attempts == 1
    assert fake_time.sleeps == []


async def test_hooks_run_in_order_with_their_arguments(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """before_request, after_response, before_retry run per attempt, in ky's order."""
    events: list[tuple[Any, ...]] = []

    def add_token(request: httpx.Request) -> None:
        events.append(("before_request", request.url.path))
        request.headers["Authorization"] = "Bearer t"

    async def record_retry(
        request: httpx.Request, subject: KyError | ApiResponse, attempt: int, delay: float
    ) -> None:
        status = subject.status if isinstance(subject, ApiResponse) else type(subject)
        events.append(("before_retry", request.url.path, status, attempt, delay))

    def record_response(_request: httpx.Request, response: ApiResponse) -> None:
        events.append(("after_response", response.status, response.attempts))

    hooks = Hooks(
        before_request=(add_token,),
        before_retry=(record_retry,),
        after_response=(record_response,),
    )
    server.play(actions.reply(503, {"Retry-After": "1"}), actions.reply(200))
    async with make_client(server, fake_time, hooks=hooks) as ky:
        await ky.get("/h")
    assert events == [
        ("before_request", "/h"),
        ("after_response", 503, 1),
        ("before_retry", "/h", 503, 1, 1.0),
        ("before_request", "/h"),
        ("after_response", 200, 2),
    ]
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer t", "Bearer t"]


async def test_after_response_can_replace_the_response(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """A replacement from after_response is what the retry decision and the caller see."""

    async def soften(_request: httpx.Request, response: ApiResponse) -> ApiResponse | None:
        if response.status == 503:
            return ApiResponse(status=200, url=response.url, content=b"cached")
        return None

    server.play(actions.reply(503), actions.reply(200))
    async with make_client(server, fake_time, hooks=Hooks(after_response=(soften,))) as ky:
        response = await ky.get("/")
    assert (response.status, response.content) == (200, b"cached")
    assert len(server.requests) == 1


async def test_before_retry_sees_the_error(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """For a failed attempt before_retry receives the translated KyError."""
    seen: list[type[KyError | ApiResponse]] = []

    def record(_r: httpx.Request, subject: KyError | ApiResponse, _a: int, _d: float) -> None:
        seen.append(type(subject))

    server.play(actions.truncate(), actions.reply(200))
    async with make_client(server, fake_time, hooks=Hooks(before_retry=(record,))) as ky:
        assert (await ky.get("/")).ok
    assert seen == [KyTransportError]


async def test_params_headers_and_json_are_sent(
    server: Server, actions: Actions, fake_time: FakeTime
) -> None:
    """Client headers, per-call headers, params and the JSON body reach the server."""
    server.play(actions.reply(200, {"Content-Type": "application/json"}, b'{"ok": true}'))
    async with make_client(server, fake_time, headers={"User-Agent": "rsdev-test"}) as ky:
        response = await ky.put("/v1/x", params={"a": "1"}, headers={"X-Id": "7"}, json=[1, 2])
    seen = server.requests[0]
    assert (seen.method, seen.target) == ("PUT", "/v1/x?a=1")
    assert (seen.headers["user-agent"], seen.headers["x-id"]) == ("rsdev-test", "7")
    assert json.loads(seen.body) == [1, 2]
    assert response.json_as(dict) == {"ok": True}


async def test_https_verified_through_the_tls_policy(
    ca: trustme.CA, ca_file: Path, https_server_for: Any, actions: Actions, fake_time: FakeTime
) -> None:
    """HTTPS to a server signed by the policy's CA works."""
    server = https_server_for(ca)
    server.play(actions.reply(200, body=b"secure"))
    tls = TLSPolicy.from_options(ca_file=ca_file)
    async with AsyncKy(server.url, tls=tls, sleep=fake_time.sleep) as ky:
        assert (await ky.get("/")).content == b"secure"


async def test_https_untrusted_server_is_a_tls_error_not_retried(
    https_server_for: Any, ca_file: Path, fake_time: FakeTime
) -> None:
    """A certificate from another CA raises KyTLSError after one attempt."""
    server = https_server_for(trustme.CA())
    async with AsyncKy(server.url, tls=TLSPolicy(ca_file=ca_file), sleep=fake_time.sleep) as ky:
        with pytest.raises(KyTLSError) as caught:
            await ky.get("/")
    assert caught.value.attempts == 1
    assert fake_time.sleeps == []


async def test_https_server_hostname_override(
    ca: trustme.CA, ca_file: Path, https_server_for: Any, actions: Actions, fake_time: FakeTime
) -> None:
    """server_hostname is used for SNI and verification when connecting to an address."""
    server = https_server_for(ca, "api.internal.test")
    server.play(actions.reply(200))
    tls = TLSPolicy(ca_file=ca_file, server_hostname="api.internal.test")
    async with AsyncKy(server.url, tls=tls, sleep=fake_time.sleep) as ky:
        assert (await ky.get("/")).ok

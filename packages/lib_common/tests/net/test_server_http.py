"""The shared server's plain HTTP side over real loopback sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest

from lib_common.net import HttpRequest, HttpResponse, ServerSettings, serve

RawExchange = Callable[[int, bytes], Awaitable[bytes]]


async def echo(request: HttpRequest) -> HttpResponse:
    """Echo the request back as JSON."""
    if request.path == "/boom":
        raise RuntimeError("handler bug")
    return HttpResponse.json(
        {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "body": request.body.decode(),
            "remote_port": request.remote[1] if request.remote else None,
            "ua": request.headers.get("User-Agent"),
        },
        headers=[("X-Test", "yes")],
    )


@pytest.mark.anyio
async def test_get_and_post_with_body() -> None:
    """GET and POST reach the handler with path, query, headers and body intact."""
    async with serve(http_handler=echo) as server:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            got = await client.get("/a/b?x=1&y=two", headers={"User-Agent": "t/1"})
            posted = await client.post("/submit", content=b"hello body")
    assert got.status_code == 200
    assert got.headers["x-test"] == "yes"
    assert got.json()["query"] == {"x": "1", "y": "two"}
    assert got.json()["path"] == "/a/b"
    assert got.json()["ua"] == "t/1"
    assert (posted.json()["method"], posted.json()["body"]) == ("POST", "hello body")


@pytest.mark.anyio
async def test_keep_alive_reuses_connection() -> None:
    """Sequential requests from one client travel on one TCP connection."""
    async with (
        serve(http_handler=echo) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client,
    ):
        ports = {(await client.get(f"/{i}")).json()["remote_port"] for i in range(5)}
    assert len(ports) == 1


@pytest.mark.anyio
async def test_default_handler_is_404() -> None:
    """Without an HTTP handler every request gets 404."""
    async with serve() as server, httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{server.port}/nothing")
    assert response.status_code == 404


@pytest.mark.anyio
async def test_malformed_request_gets_400(raw_exchange: RawExchange) -> None:
    """A request line that is not HTTP gets 400 and the connection closes."""
    async with serve(http_handler=echo) as server:
        reply = await raw_exchange(server.port, b"THIS IS NOT HTTP\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ")


@pytest.mark.anyio
async def test_oversized_headers_get_431(raw_exchange: RawExchange) -> None:
    """Headers beyond `max_header` get 431."""
    settings = ServerSettings(max_header=1024)
    async with serve(http_handler=echo, settings=settings) as server:
        request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n"
        reply = await raw_exchange(server.port, request)
    assert reply.startswith(b"HTTP/1.1 431 ")


@pytest.mark.anyio
async def test_oversized_body_gets_413(raw_exchange: RawExchange) -> None:
    """A declared body beyond `max_body` gets 413 before the body is read."""
    settings = ServerSettings(max_body=100)
    async with serve(http_handler=echo, settings=settings) as server:
        request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 1000
        reply = await raw_exchange(server.port, request)
    assert reply.startswith(b"HTTP/1.1 413 ")


@pytest.mark.anyio
async def test_oversized_chunked_body_gets_413(raw_exchange: RawExchange) -> None:
    """A chunked body that grows beyond `max_body` gets 413."""
    settings = ServerSettings(max_body=100)
    async with serve(http_handler=echo, settings=settings) as server:
        chunk = b"c8\r\n" + b"a" * 200 + b"\r\n"
        request = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk
        reply = await raw_exchange(server.port, request)
    assert reply.startswith(b"HTTP/1.1 413 ")


@pytest.mark.anyio
async def test_handler_exception_gets_500_and_server_survives() -> None:
    """A raising handler answers 500 for that request; the next request still works."""
    async with serve(http_handler=echo) as server:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            failed = await client.get("/boom")
            ok = await client.get("/fine")
    assert failed.status_code == 500
    assert ok.status_code == 200


@pytest.mark.anyio
async def test_pipelined_requests_answered_in_order(raw_exchange: RawExchange) -> None:
    """Two pipelined requests are answered in order on one connection."""
    async with serve(http_handler=echo) as server:
        requests = (
            b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        reply = await raw_exchange(server.port, requests)
    assert reply.count(b"HTTP/1.1 200 ") == 2
    assert reply.index(b"/first") < reply.index(b"/second")


@pytest.mark.anyio
async def test_head_has_length_but_no_body(raw_exchange: RawExchange) -> None:
    """HEAD gets the GET headers (Content-Length included) and no body."""
    async with serve(http_handler=echo) as server:
        reply = await raw_exchange(
            server.port, b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"content-length: " in head.lower()
    assert body == b""


@pytest.mark.anyio
async def test_idle_keep_alive_connection_is_closed(raw_exchange: RawExchange) -> None:
    """A connection that sends nothing is closed after `idle_timeout`."""
    settings = ServerSettings(idle_timeout=0.05)
    async with serve(http_handler=echo, settings=settings) as server:
        assert await raw_exchange(server.port, b"") == b""


@pytest.mark.anyio
async def test_hanging_handler_is_cancelled_when_client_leaves() -> None:
    """A handler that never answers is cancelled once its client disconnects."""
    cancelled = anyio.Event()
    started = anyio.Event()

    async def hang(request: HttpRequest) -> HttpResponse:
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()
        raise AssertionError("unreachable")

    async with serve(http_handler=hang) as server:
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"http://127.0.0.1:{server.port}/", timeout=0.2)
        with anyio.fail_after(2):
            await started.wait()
            await cancelled.wait()


@pytest.mark.anyio
async def test_bind_error_is_a_plain_oserror() -> None:
    """A port in use raises OSError itself, not wrapped in an exception group."""
    async with serve() as server:
        with pytest.raises(OSError):
            async with serve(port=server.port):
                pass

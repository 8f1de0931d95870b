"""A scripted HTTP/1.1 server on 127.0.0.1 (real sockets, own thread) and a fake clock.

Each request the server reads consumes the next scripted action: reply, hang (read the
request and never answer), or truncate (promise a longer body than is sent, then close).
It runs its own event loop in a thread so that both ``AsyncKy`` and the blocking ``Ky``
can talk to it.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme


@dataclass(frozen=True)
class Reply:
    """Answer with this status, headers and body (keep-alive)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Hang:
    """Read the request and never answer (until the client gives up)."""


@dataclass(frozen=True)
class Truncate:
    """Send a Content-Length larger than the body, then close the connection."""

    declared: int = 100
    body: bytes = b"partial"


Action = Reply | Hang | Truncate


@dataclass(frozen=True)
class SeenRequest:
    """A request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


REASONS = {200: "OK", 404: "Not Found", 418: "I'm a teapot", 429: "Too Many Requests"}


class ScriptedServer:
    """HTTP server whose replies follow ``play(...)``; records every request it reads."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self._context = context
        self._script: deque[Action] = deque()
        self.requests: list[SeenRequest] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self._context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def play(self, *actions: Action) -> None:
        """Queue the actions for the next requests; when they run out the server sends 418."""
        self._script.extend(actions)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("scripted server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        handlers: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await self._serve_connection(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
                pass  # the client hung up or refused our certificate
            finally:
                handlers.discard(task)
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=self._context)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # keep-alive connection closed by the client
            request_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
            method, target, _version = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(SeenRequest(method, target, headers, body))
            action = self._script.popleft() if self._script else Reply(418, body=b"unscripted")
            if isinstance(action, Hang):
                await reader.read()  # until the client closes
                return
            if isinstance(action, Truncate):
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {action.declared}\r\n\r\n".encode()
                    + action.body
                )
                await writer.drain()
                return
            lines = [f"HTTP/1.1 {action.status} {REASONS.get(action.status, 'Status')}"]
            lines += [f"{k}: {v}" for k, v in action.headers.items()]
            lines.append(f"Content-Length: {len(action.body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + action.body)
            await writer.drain()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A plain-HTTP scripted server on 127.0.0.1."""
    srv = ScriptedServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway CA for HTTPS tests."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    """The CA certificate as a PEM file."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def https_server_for() -> Iterator[Callable[..., ScriptedServer]]:
    """Factory: ``https_server_for(ca, *names)`` starts an HTTPS scripted server."""
    started: list[ScriptedServer] = []

    def make(issuer: trustme.CA, *names: str) -> ScriptedServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        issuer.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
        srv = ScriptedServer(context)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


class FakeTime:
    """A monotonic clock that only moves when the client 'sleeps'; records every delay."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleep_sync(seconds)

    def sleep_sync(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    """Injected clock and sleeps: nothing waits, every wait is recorded."""
    return FakeTime()


@dataclass(frozen=True)
class Actions:
    """The script actions, handed to tests (test modules cannot import conftest)."""

    reply: Callable[..., Reply] = Reply
    hang: Callable[[], Hang] = Hang
    truncate: Callable[..., Truncate] = Truncate


@pytest.fixture
def actions() -> Actions:
    """Constructors for scripted actions: reply(status, headers, body), hang(), truncate()."""
    return Actions()

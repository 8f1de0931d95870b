"""Fixtures for the TLS tests: throwaway CAs (trustme) and a real loopback TLS server."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
import trustme
from loguru import logger

GREETING = b"hello over tls\n"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The CA the client is told to trust."""
    return trustme.CA()


@pytest.fixture(scope="session")
def other_ca() -> trustme.CA:
    """A CA the client does not trust."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    """The trusted CA's certificate as a PEM file."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(
    issuer: trustme.CA, *names: str, maximum: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    """A server context with a certificate for ``names`` signed by ``issuer``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    issuer.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
    if maximum is not None:
        context.maximum_version = maximum
    return context


@pytest.fixture
def make_server_context() -> Callable[..., ssl.SSLContext]:
    """Factory: ``make_server_context(ca, *names, maximum=None)``."""
    return server_context


TLSServer = Callable[[ssl.SSLContext], AbstractAsyncContextManager[int]]


@pytest.fixture
def tls_server() -> TLSServer:
    """Factory: ``async with tls_server(ctx) as port`` serves GREETING over TLS on 127.0.0.1."""

    @asynccontextmanager
    async def serve(context: ssl.SSLContext) -> AsyncIterator[int]:
        async def greet(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(GREETING)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=context)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            await server.wait_closed()

    return serve


@pytest.fixture
def warnings_logged() -> Iterator[list[str]]:
    """Messages loguru emitted at WARNING or above while the test ran."""
    messages: list[str] = []
    sink_id = logger.add(lambda message: messages.append(str(message)), level="WARNING")
    yield messages
    logger.remove(sink_id)

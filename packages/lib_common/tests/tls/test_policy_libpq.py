"""libpq_params() through psycopg's bundled libpq against a loopback TLS PostgreSQL front.

The front answers the SSLRequest, does the TLS handshake and records the startup packet
that libpq sends only once it has accepted the server's certificate. psycopg is not a
lib_common dependency, so these tests skip when it is absent.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import trustme

from lib_common.tls import TLSPolicy

psycopg = pytest.importorskip("psycopg")

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
MakeContext = Callable[..., ssl.SSLContext]


@asynccontextmanager
async def postgres_tls_front(context: ssl.SSLContext, startups: list[int]) -> AsyncIterator[int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                _length, code = struct.unpack("!II", await reader.readexactly(8))
                if code == GSSENC_REQUEST:
                    writer.write(b"N")  # no GSSAPI encryption; libpq then asks for SSL
                    continue
                assert code == SSL_REQUEST
                writer.write(b"S")
                await writer.drain()
                await writer.start_tls(context)
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                startups.append(length)
                return
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            return  # the client refused our certificate
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def connect(port: int, params: dict[str, str]) -> str:
    try:
        psycopg.connect(
            host="127.0.0.1", port=port, user="probe", dbname="probe", connect_timeout=3, **params
        )
    except psycopg.OperationalError as exc:
        return str(exc)
    raise AssertionError("the front never completes a login")


@pytest.mark.anyio
async def test_verify_full_accepts_server_from_policy_ca(
    ca: trustme.CA, ca_file: Path, make_server_context: MakeContext
) -> None:
    """libpq with the policy's params verifies the server and sends its startup packet."""
    startups: list[int] = []
    async with postgres_tls_front(make_server_context(ca), startups) as port:
        params = TLSPolicy.from_options(ca_file=ca_file).libpq_params()
        with anyio.fail_after(10):
            await anyio.to_thread.run_sync(connect, port, params)
    assert len(startups) == 1


@pytest.mark.anyio
async def test_verify_full_refuses_server_from_other_ca(
    other_ca: trustme.CA, ca_file: Path, make_server_context: MakeContext
) -> None:
    """libpq with the policy's params refuses a certificate from another CA."""
    startups: list[int] = []
    async with postgres_tls_front(make_server_context(other_ca), startups) as port:
        params = TLSPolicy(ca_file=ca_file).libpq_params()
        with anyio.fail_after(10):
            message = await anyio.to_thread.run_sync(connect, port, params)
    assert startups == []
    assert "certificate verify failed" in message

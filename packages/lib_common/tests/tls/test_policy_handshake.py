"""TLSPolicy contexts against real loopback TLS servers: trusted, untrusted, old protocol."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio
import pytest
import trustme

from lib_common.tls import TLSPolicy

GREETING = b"hello over tls\n"
MakeContext = Callable[..., ssl.SSLContext]
TLSServer = Callable[[ssl.SSLContext], AbstractAsyncContextManager[int]]


async def read_greeting(
    port: int, context: ssl.SSLContext, server_hostname: str | None = None
) -> bytes:
    with anyio.fail_after(5):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname=server_hostname
        )
        try:
            return await reader.readline()
        finally:
            writer.close()


@pytest.mark.anyio
async def test_trusted_server_connects(
    ca: trustme.CA, ca_file: Path, make_server_context: MakeContext, tls_server: TLSServer
) -> None:
    """A server whose certificate comes from the policy's CA is accepted."""
    async with tls_server(make_server_context(ca)) as port:
        policy = TLSPolicy.from_options(ca_file=ca_file)
        assert await read_greeting(port, policy.ssl_context()) == GREETING


@pytest.mark.anyio
async def test_server_from_another_ca_is_refused(
    other_ca: trustme.CA, ca_file: Path, make_server_context: MakeContext, tls_server: TLSServer
) -> None:
    """A certificate from a CA the policy does not trust fails verification."""
    async with tls_server(make_server_context(other_ca)) as port:
        context = TLSPolicy(ca_file=ca_file).ssl_context()
        with pytest.raises(ssl.SSLCertVerificationError):
            await read_greeting(port, context)


@pytest.mark.anyio
async def test_wrong_host_name_is_refused(
    ca: trustme.CA, ca_file: Path, make_server_context: MakeContext, tls_server: TLSServer
) -> None:
    """A valid certificate for another name fails the host-name check."""
    async with tls_server(make_server_context(ca, "db.internal.test")) as port:
        context = TLSPolicy(ca_file=ca_file).ssl_context()
        with pytest.raises(ssl.SSLCertVerificationError):
            await read_greeting(port, context)


@pytest.mark.anyio
async def test_server_hostname_override_verifies_that_name(
    ca: trustme.CA, ca_file: Path, make_server_context: MakeContext, tls_server: TLSServer
) -> None:
    """Connecting to an address while verifying server_hostname succeeds."""
    async with tls_server(make_server_context(ca, "db.internal.test")) as port:
        policy = TLSPolicy(ca_file=ca_file, server_hostname="db.internal.test")
        greeting = await read_greeting(port, policy.ssl_context(), policy.server_hostname)
        assert greeting == GREETING


@pytest.mark.anyio
async def test_insecure_connects_to_untrusted_server_and_warns(
    other_ca: trustme.CA,
    make_server_context: MakeContext,
    tls_server: TLSServer,
    warnings_logged: list[str],
) -> None:
    """insecure=True skips verification, and says so loudly."""
    async with tls_server(make_server_context(other_ca)) as port:
        context = TLSPolicy(verify=False, insecure=True).ssl_context()
        assert await read_greeting(port, context) == GREETING
    assert len(warnings_logged) == 1
    assert "TLS VERIFICATION DISABLED" in warnings_logged[0]


def _legacy_client_context(ca_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
async def test_server_capped_at_tls11_is_refused(
    ca: trustme.CA, ca_file: Path, make_server_context: MakeContext, tls_server: TLSServer
) -> None:
    """The TLS 1.2 minimum refuses a server that only speaks TLS 1.1."""
    try:
        server_ctx = make_server_context(ca, maximum=ssl.TLSVersion.TLSv1_1)
        server_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ssl.SSLError, ValueError) as exc:
        pytest.skip(f"this OpenSSL cannot make a TLS 1.1 server: {exc}")
    async with tls_server(server_ctx) as port:
        # Control: a client that allows TLS 1.1 gets through, so the server really speaks it.
        try:
            await read_greeting(port, _legacy_client_context(ca_file))
        except ssl.SSLError as exc:
            pytest.skip(f"this OpenSSL will not negotiate TLS 1.1 at all: {exc}")
        context = TLSPolicy(ca_file=ca_file).ssl_context()
        # The server aborts the handshake (an SSLError or a reset, depending on timing).
        with pytest.raises((ssl.SSLError, ConnectionError)) as refused:
            await read_greeting(port, context)
        assert not isinstance(refused.value, ssl.SSLCertVerificationError)

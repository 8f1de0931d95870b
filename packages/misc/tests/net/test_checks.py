"""Target syntax and the tcp/dns/http checks against real loopback peers."""

from __future__ import annotations

import pytest

from rsdev_misc.monitor import FailureKind
from rsdev_misc.monitor_net.checks import (
    parse_dns,
    parse_http,
    parse_tcp,
    run_check,
    split_host_port,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:53", ("127.0.0.1", 53)),
        ("[::1]:853", ("::1", 853)),
        ("localhost", ("localhost", 53)),
    ],
)
def test_split_host_port(text: str, expected: tuple[str, int]) -> None:
    """HOST:PORT, [v6]:PORT and a bare host with the default port."""
    assert split_host_port(text, 53) == expected


@pytest.mark.parametrize("text", ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:x", ":53", "[::1"])
def test_bad_tcp_targets(text: str) -> None:
    """A TCP target needs a host and a port in 1..65535."""
    with pytest.raises(ValueError):
        parse_tcp(text)


def test_dns_and_http_syntax() -> None:
    """NAME@SERVER[:PORT] defaults to port 53; http needs an http(s) URL."""
    assert parse_dns("a.test@127.0.0.1").name == "dns a.test@127.0.0.1:53"
    assert parse_http("http://127.0.0.1:8/g").port == 8
    with pytest.raises(ValueError):
        parse_dns("127.0.0.1:53")
    with pytest.raises(ValueError):
        parse_http("ftp://127.0.0.1/")


@pytest.mark.anyio
async def test_tcp_check_up_and_refused(listeners) -> None:
    """A listening port connects; a stopped one is 'connection refused' (network)."""
    (listener,) = await listeners(1)
    check = parse_tcp(listener.address)
    up = await run_check(check, 1.0)
    await listener.stop()
    down = await run_check(check, 1.0)
    assert up.ok
    assert (down.ok, down.failure, down.error) == (False, FailureKind.NETWORK, "connection refused")


@pytest.mark.anyio
async def test_dns_check(dns_server) -> None:
    """An answer with an address is good; NXDOMAIN and a silent server are failures."""
    check = parse_dns(f"probe.test@127.0.0.1:{dns_server.port}")
    assert (await run_check(check, 1.0)).ok
    dns_server.rcode = 3
    nx = await run_check(check, 1.0)
    assert (nx.ok, nx.failure, nx.error) == (
        False,
        FailureKind.SERVER,
        "resolver answered NXDOMAIN",
    )
    await dns_server.stop()
    gone = await run_check(check, 0.3)
    assert not gone.ok
    assert gone.failure in (FailureKind.NETWORK, FailureKind.TIMEOUT)


@pytest.mark.anyio
async def test_http_check_wants_204(http_server) -> None:
    """204 is good; a 200 (captive portal) is a failure naming the status."""
    check = parse_http(f"http://{http_server.address}/generate_204")
    assert (await run_check(check, 1.0)).ok
    http_server.reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
    portal = await run_check(check, 1.0)
    assert (portal.ok, portal.failure) == (False, FailureKind.SERVER)
    assert portal.error is not None
    assert portal.error.startswith("HTTP 200, expected 204")
    await http_server.stop()
    assert (await run_check(check, 1.0)).failure == FailureKind.NETWORK

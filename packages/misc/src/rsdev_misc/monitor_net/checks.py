"""The three kinds of network check and how a target is written on the command line.

- ``tcp``: a TCP connect to HOST:PORT (``[v6]:PORT`` for IPv6), closed at once;
- ``dns``: an A query for NAME sent over UDP to SERVER[:PORT] (port 53 by default), good
  when the server answers NOERROR with at least one address;
- ``http``: a GET of URL that must answer 204 No Content (anything else — a captive
  portal's login page, a proxy's error — is a failure). No proxies from the environment,
  no redirects, a fresh connection each time; https verifies with lib_common's TLS policy.

Every check returns a `CheckResult` and never raises for a network failure.
"""

from __future__ import annotations

import secrets
import ssl
import time
import urllib.parse
from dataclasses import dataclass

import anyio
import httpx

from rsdev_misc.monitor import FailureKind, redact
from rsdev_misc.monitor_net.dns import DnsError, build_query, parse_response

__all__ = [
    "Check",
    "CheckResult",
    "parse_dns",
    "parse_http",
    "parse_tcp",
    "run_check",
    "split_host_port",
]


@dataclass(frozen=True, slots=True)
class Check:
    """One configured target."""

    kind: str  # "tcp" | "dns" | "http"
    host: str
    port: int
    qname: str | None = None  # dns only
    url: str | None = None  # http only

    @property
    def name(self) -> str:
        """How the target is shown: ``tcp 127.0.0.1:53``, ``dns x.test@127.0.0.1:53``…"""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.kind == "dns":
            return f"dns {self.qname}@{host}:{self.port}"
        if self.kind == "http":
            return f"http {redact(self.url)}"
        return f"tcp {host}:{self.port}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    ok: bool
    latency_ms: float | None = None
    error: str | None = None
    failure: FailureKind | None = None


def split_host_port(text: str, default_port: int | None = None) -> tuple[str, int]:
    """``host:port``, ``[v6]:port``, or ``host`` with `default_port`; raise ValueError."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError(f"{text!r}: missing ']'")
        port_text = rest.removeprefix(":") if rest.startswith(":") else None
        if rest and port_text is None:
            raise ValueError(f"{text!r}: expected [HOST]:PORT")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, None
    if not host:
        raise ValueError(f"{text!r}: no host")
    if port_text is None:
        if default_port is None:
            raise ValueError(f"{text!r}: expected HOST:PORT")
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r}: port must be 1..65535")
    return host, int(port_text)


def parse_tcp(spec: str) -> Check:
    host, port = split_host_port(spec)
    return Check("tcp", host, port)


def parse_dns(spec: str) -> Check:
    """``NAME@SERVER[:PORT]``, e.g. ``example.com@127.0.0.1:53``."""
    qname, sep, server = spec.rpartition("@")
    if not sep or not qname:
        raise ValueError(f"{spec!r}: expected NAME@SERVER[:PORT]")
    host, port = split_host_port(server, 53)
    return Check("dns", host, port, qname=qname)


def parse_http(url: str) -> Check:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{redact(url)!r}: expected an http:// or https:// URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Check("http", parts.hostname, port, url=url)


def _os_error(check: Check, exc: OSError, started: float) -> CheckResult:
    # anyio's connect_tcp raises "All connection attempts failed" from the real cause
    cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
    text = cause.strerror or str(cause) or type(cause).__name__
    if isinstance(cause, ConnectionRefusedError):
        text = "connection refused"
    return CheckResult(check, False, _ms(started), redact(text), FailureKind.NETWORK)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def _tcp(check: Check) -> None:
    stream = await anyio.connect_tcp(check.host, check.port)
    await stream.aclose()


async def _dns(check: Check) -> str | None:
    """Query; returns an error text, or None when the answer is good."""
    assert check.qname is not None
    qid = secrets.randbelow(65536)
    query = build_query(check.qname, qid)
    async with await anyio.create_connected_udp_socket(check.host, check.port) as udp:
        await udp.send(query)
        while True:
            data = await udp.receive()
            try:
                answer = parse_response(data, qid)
            except DnsError:
                continue  # a stray or forged datagram: keep waiting for ours
            if answer.rcode != 0:
                return f"resolver answered {answer.rcode_name}"
            if not answer.addresses:
                return "resolver answered without an address"
            return None


async def _http(check: Check, tls: ssl.SSLContext | None) -> str | None:
    assert check.url is not None
    async with httpx.AsyncClient(
        verify=tls if tls is not None else True, trust_env=False, follow_redirects=False
    ) as client:
        response = await client.get(check.url, headers={"Connection": "close"})
    if response.status_code != 204:
        return f"HTTP {response.status_code}, expected 204 (a captive portal or proxy?)"
    return None


async def run_check(check: Check, timeout: float, tls: ssl.SSLContext | None = None) -> CheckResult:  # noqa: ASYNC109
    """Run one check bounded by `timeout` seconds."""
    started = time.perf_counter()
    error: str | None = None
    try:
        with anyio.fail_after(timeout):
            if check.kind == "tcp":
                await _tcp(check)
            elif check.kind == "dns":
                error = await _dns(check)
            else:
                error = await _http(check, tls)
    except TimeoutError:
        return CheckResult(
            check, False, _ms(started), f"no answer within {timeout:g}s", FailureKind.TIMEOUT
        )
    except httpx.TimeoutException:
        return CheckResult(
            check, False, _ms(started), f"no answer within {timeout:g}s", FailureKind.TIMEOUT
        )
    except httpx.HTTPError as exc:
        kind = FailureKind.TLS if isinstance(exc.__cause__, ssl.SSLError) else FailureKind.NETWORK
        text = "connection refused" if "refused" in str(exc).lower() else str(exc)
        return CheckResult(check, False, _ms(started), redact(text or type(exc).__name__), kind)
    except OSError as exc:  # refused, unreachable, reset; anyio wraps several in OSError
        return _os_error(check, exc, started)
    except DnsError as exc:
        return CheckResult(check, False, _ms(started), str(exc), FailureKind.CONFIG)
    if error is not None:
        return CheckResult(check, False, _ms(started), redact(error), FailureKind.SERVER)
    return CheckResult(check, True, _ms(started))

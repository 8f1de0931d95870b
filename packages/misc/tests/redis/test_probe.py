"""RedisProbe against a real redis-server (ACL user, TLS variant) and a black hole."""

from __future__ import annotations

import json
import time

import anyio
import pytest

from rsdev_misc.monitor import FailureKind
from rsdev_misc.monitor_redis import RedisHeartbeat, RedisProbe, resolve_target

from ..servers import BlackHole, RedisServer, TestCA

pytestmark = pytest.mark.anyio


async def test_ping_latency_reported(redis_server: RedisServer) -> None:
    """PING succeeds as the ACL user; latency is the PING round trip, connect time beside it."""
    probe = RedisProbe(resolve_target(redis_server.url()))
    result = await probe.probe(2)
    assert result.ok, result.error
    assert result.latency_ms == result.details["ping_ms"]
    assert isinstance(result.latency_ms, float)
    assert 0 < result.latency_ms < 1000
    assert isinstance(result.details["connect_ms"], float)
    assert result.details["connection"] == "new"
    assert probe.target == f"redis://monitor@127.0.0.1:{redis_server.port}/0"


async def test_credentials_from_flags(redis_server: RedisServer) -> None:
    """User and password given apart from the URL log in the same way."""
    target = resolve_target(
        f"redis://127.0.0.1:{redis_server.port}/0",
        username=redis_server.username,
        password=redis_server.password,
    )
    result = await RedisProbe(target).probe(2)
    assert result.ok, result.error


async def test_heartbeat_key_has_its_ttl(redis_server: RedisServer) -> None:
    """The heartbeat key holds the JSON payload and expires within the configured TTL."""
    beat = RedisHeartbeat(key="hb:monitor-redis:test", ttl_s=10, host="h1", pid=42)
    result = await RedisProbe(resolve_target(redis_server.url()), heartbeat=beat).probe(2)
    assert result.ok, result.error
    with redis_server.client() as client:
        ttl = client.ttl(beat.key)
        raw = client.get(beat.key)
    assert 0 < ttl <= 10
    assert isinstance(raw, bytes)
    payload = json.loads(raw)
    assert (payload["host"], payload["pid"]) == ("h1", 42)
    assert payload["latency_ms"] == result.latency_ms
    assert abs(payload["ts"] - time.time()) < 60


async def test_keep_connection_reuses_and_reconnects(redis_server: RedisServer) -> None:
    """--keep-connection reuses one connection and reconnects after the server comes back."""
    probe = RedisProbe(resolve_target(redis_server.url()), keep_connection=True)
    try:
        assert (await probe.probe(2)).details["connection"] == "new"
        assert (await probe.probe(2)).details["connection"] == "kept"
        await anyio.to_thread.run_sync(redis_server.stop)
        assert not (await probe.probe(1)).ok
        await anyio.to_thread.run_sync(redis_server.start)
        back = await probe.probe(2)
        assert back.ok, back.error
        assert back.details["connection"] == "new"
    finally:
        await probe.aclose()


async def test_wrong_password_is_authentication(redis_server: RedisServer) -> None:
    """A wrong password is AUTHENTICATION; neither password appears in the result."""
    wrong = "Wrong-Pw-QUAGGA-91"
    result = await RedisProbe(resolve_target(redis_server.url(password=wrong))).probe(2)
    assert not result.ok
    assert result.failure == FailureKind.AUTHENTICATION
    assert wrong not in repr(result)
    assert redis_server.password not in repr(result)


async def test_no_password_is_authentication(redis_server: RedisServer) -> None:
    """No credentials at all against a protected server is AUTHENTICATION too."""
    result = await RedisProbe(resolve_target(f"redis://127.0.0.1:{redis_server.port}")).probe(2)
    assert result.failure == FailureKind.AUTHENTICATION


async def test_stopped_server_is_network(redis_server: RedisServer) -> None:
    """Connection refused is NETWORK."""
    await anyio.to_thread.run_sync(redis_server.stop)
    result = await RedisProbe(resolve_target(redis_server.url())).probe(2)
    assert result.failure == FailureKind.NETWORK


async def test_black_hole_fails_within_the_timeout(black_hole: BlackHole) -> None:
    """A server that accepts and never answers is TIMEOUT after --timeout, with no retries."""
    probe = RedisProbe(resolve_target(f"redis://:Pw-hole-1@127.0.0.1:{black_hole.port}/0"))
    started = time.monotonic()
    result = await probe.probe(0.5)
    elapsed = time.monotonic() - started
    assert result.failure == FailureKind.TIMEOUT
    assert 0.4 < elapsed < 2
    assert "Pw-hole-1" not in repr(result)


async def test_tls_with_the_right_ca(redis_tls: RedisServer) -> None:
    """rediss:// with the CA that signed the server verifies and PINGs."""
    target = resolve_target(redis_tls.url(), ca_file=str(redis_tls.tls.ca_file))  # type: ignore[union-attr]
    result = await RedisProbe(target).probe(2)
    assert result.ok, result.error


async def test_tls_with_another_ca_fails_as_tls(redis_tls: RedisServer, other_ca: TestCA) -> None:
    """rediss:// against an unrelated CA fails as TLS."""
    target = resolve_target(redis_tls.url(), ca_file=str(other_ca.ca_file))
    result = await RedisProbe(target).probe(2)
    assert not result.ok
    assert result.failure == FailureKind.TLS
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")


async def test_tls_host_name_is_checked(
    redis_tls: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A certificate for other names fails the host-name check even from a trusted CA."""
    elsewhere = TestCA.create(tmp_path_factory.mktemp("elsewhere"), "cache.example")
    server = RedisServer(redis_tls.password, tls=elsewhere)
    try:
        target = resolve_target(server.url(), ca_file=str(elsewhere.ca_file))
        result = await RedisProbe(target).probe(2)
    finally:
        server.close()
    assert result.failure == FailureKind.TLS


async def test_tls_insecure_connects_without_a_trusted_ca(redis_tls: RedisServer) -> None:
    """--tls-insecure reaches a TLS-only server without trusting its CA (diagnosis only)."""
    result = await RedisProbe(resolve_target(redis_tls.url(), tls_insecure=True)).probe(2)
    assert result.ok, result.error

"""Bind rules, token checks and the Origin policy."""

from __future__ import annotations

import pytest
from websockets.datastructures import Headers

from rsdev_servers.common.security import (
    AccessPolicy,
    check_bind,
    is_loopback_host,
    own_origins,
)
from rsdev_servers.common.settings import SettingsError

TOKEN = "0123456789abcdef-token"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    """Only loopback literals and `localhost` count as loopback."""
    assert loopback == is_loopback_host(host)


def test_check_bind_requires_token_off_loopback() -> None:
    """A non-loopback bind without a token is refused; with one it passes."""
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", TOKEN)
    with pytest.raises(SettingsError, match=r"refusing to listen on 0\.0\.0\.0"):
        check_bind("0.0.0.0", None)
    with pytest.raises(SettingsError, match="at least 16"):
        check_bind("127.0.0.1", "short")


def test_own_origins() -> None:
    """The server's own origins: the loopback names, plus a named bind host."""
    assert {
        "http://127.0.0.1:80",
        "http://localhost:80",
        "http://[::1]:80",
    } == own_origins("0.0.0.0", 80)
    assert "http://10.1.2.3:80" in own_origins("10.1.2.3", 80)


def test_token_from_header_or_query() -> None:
    """The token is accepted as a Bearer header or a `token` query parameter."""
    policy = AccessPolicy(token=TOKEN)
    assert policy.token_ok(Headers({"Authorization": f"Bearer {TOKEN}"}), {})
    assert policy.token_ok(Headers({"authorization": f"bearer  {TOKEN}"}), {})
    assert policy.token_ok(Headers(), {"token": TOKEN})
    assert not policy.token_ok(Headers(), {})
    assert not policy.token_ok(Headers({"Authorization": "Bearer wrong"}), {})
    assert not policy.token_ok(Headers({"Authorization": f"Basic {TOKEN}"}), {})
    assert AccessPolicy().token_ok(Headers(), {})


def test_check_http_public_paths() -> None:
    """/health never needs the token; other paths answer 401 without it."""
    policy = AccessPolicy(token=TOKEN)
    assert policy.check_http("/health", Headers(), {}) is None
    denial = policy.check_http("/metrics", Headers(), {})
    assert denial is not None
    assert denial.status == 401


def test_check_upgrade_origin_then_token() -> None:
    """Foreign Origins get 403 before the token is looked at; no Origin is fine."""
    policy = AccessPolicy(token=TOKEN, allowed_origins=["http://dash.example:9000"])
    policy.listening_on("127.0.0.1", 8765)
    good = {"token": TOKEN}
    assert policy.check_upgrade(Headers(), good) is None
    assert policy.check_upgrade(Headers({"Origin": "http://localhost:8765"}), good) is None
    assert policy.check_upgrade(Headers({"Origin": "http://DASH.example:9000"}), good) is None
    evil = policy.check_upgrade(Headers({"Origin": "http://evil.example"}), good)
    assert evil is not None
    assert (evil.status, evil.code) == (403, "forbidden_origin")
    wrong_port = policy.check_upgrade(Headers({"Origin": "http://127.0.0.1:9999"}), good)
    assert wrong_port is not None
    missing = policy.check_upgrade(Headers({"Origin": "http://127.0.0.1:8765"}), {})
    assert missing is not None
    assert missing.status == 401
    two = Headers([("Origin", "http://127.0.0.1:8765"), ("Origin", "http://evil.example")])
    assert policy.check_upgrade(two, good) is not None


def test_handshake_origins_follow_the_bound_port() -> None:
    """The live sequence for the net layer reflects the port learnt after binding."""
    policy = AccessPolicy()
    live = policy.handshake_origins()
    assert list(live) == [None]
    policy.listening_on("127.0.0.1", 4321)
    assert None in list(live)
    assert "http://127.0.0.1:4321" in list(live)
    assert len(list(live)) == len(live)

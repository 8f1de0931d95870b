"""From a Redis URL, credentials and the TLS options to the client's exact settings.

TLS follows lib_common.tls: ``rediss://`` verifies the certificate and host name against
``--ca-file`` (or the located system bundle); ``--tls-insecure`` is the only, loud, way
around it. TLS options hidden in the URL's query (``?ssl_cert_reqs=none``) are refused,
because redis-py would let them override the policy silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lib_common.tls import TLSConfigError, TLSPolicy
from rsdev_misc.monitor import UsageError

__all__ = ["RedisTarget", "describe", "resolve_target"]

_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """What the client gets: `url` and `options` are secret-bearing, `description` is not."""

    url: str
    description: str
    options: Mapping[str, Any] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()

    @property
    def tls(self) -> bool:
        return self.url.startswith("rediss://")


def resolve_target(
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
    tls_insecure: bool = False,
) -> RedisTarget:
    """Check the URL, credentials and TLS choice; raise `UsageError` when they are unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid Redis URL: {exc}") from None
    if parts.scheme not in _SCHEMES:
        raise UsageError(
            f"Redis URL scheme {parts.scheme!r} not supported (use redis://, rediss://, unix://)"
        )
    query = dict(parse_qsl(parts.query))
    sneaky = sorted(k for k in query if k == "ssl" or k.startswith("ssl_"))
    if sneaky:
        raise UsageError(
            f"TLS options in the URL ({', '.join(sneaky)}) are refused: use rediss:// with "
            "--ca-file (or --tls-insecure)"
        )
    url_user = unquote(parts.username) if parts.username else query.get("username")
    url_password = unquote(parts.password) if parts.password else query.get("password")
    if password and url_password and password != url_password:
        raise UsageError(
            "two different passwords: one in the URL, one from --password/REDIS_PASSWORD"
        )
    if username and url_user and username != url_user:
        raise UsageError(f"two different users: {url_user!r} in the URL and {username!r}")
    options: dict[str, Any] = {}
    # redis-py lets the URL's userinfo win over these; they fill in what the URL lacks.
    if username and not url_user:
        options["username"] = username
    if password and not url_password:
        options["password"] = password
    if parts.scheme == "rediss":
        options |= _tls_options(ca_file, tls_insecure)
    elif ca_file or tls_insecure:
        flag = "--ca-file" if ca_file else "--tls-insecure"
        raise UsageError(f"{flag} needs a rediss:// URL; {parts.scheme}:// is not encrypted")
    secrets = tuple(s for s in (url_password, password) if s)
    description = describe(parts.scheme, url_user or username, parts.hostname, port, parts.path)
    return RedisTarget(url=url, description=description, options=options, secrets=secrets)


def describe(scheme: str, user: str | None, host: str | None, port: int | None, path: str) -> str:
    """``redis://user@host:port/db`` (or ``unix:///path``), without any password."""
    userinfo = f"{user}@" if user else ""
    if scheme == "unix":
        return f"unix://{userinfo}{path}"
    db = path.strip("/") or "0"
    return f"{scheme}://{userinfo}{host or 'localhost'}:{port or 6379}/{db}"


def _tls_options(ca_file: str | None, insecure: bool) -> dict[str, Any]:
    try:
        return TLSPolicy.from_options(ca_file=ca_file, insecure=insecure).redis_kwargs()
    except TLSConfigError as exc:
        raise UsageError(f"TLS: {exc}") from None

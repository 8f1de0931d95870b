"""Who may connect: bind rules, the shared auth token, and the browser Origin check.

Pure decisions (headers, query and addresses in; allow or a `Denial` out), used by both
gateways:

- **Bind.** Listening anywhere but loopback (127.0.0.0/8, ::1, `localhost`) requires an
  auth token (`check_bind`), so a gateway is never exposed unauthenticated by accident.
- **Token.** When a token is configured, every request but the public paths (`/health`)
  must carry it, as `Authorization: Bearer TOKEN` or `?token=TOKEN` (browsers cannot set
  headers on a WebSocket). Compared in constant time (`hmac.compare_digest`).
- **Origin.** A browser always sends `Origin` on a WebSocket handshake; a page from
  another site must not read the feed through the user's browser (cross-site WebSocket
  hijacking, DNS rebinding). Allowed: no Origin at all (not a browser: curl, Python
  clients), the server's own origins (`http://127.0.0.1:PORT`, `http://localhost:PORT`,
  `http://[::1]:PORT`, and `http://HOST:PORT` for a named bind host), and the configured
  extra origins. Comparison is exact after lower-casing.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rsdev_servers.common.settings import SettingsError

__all__ = [
    "MIN_TOKEN_LENGTH",
    "AccessPolicy",
    "Denial",
    "HeaderLookup",
    "LiveOrigins",
    "base_url",
    "check_bind",
    "is_loopback_host",
    "own_origins",
    "shown_host",
]

MIN_TOKEN_LENGTH = 16
CLOSE_POLICY = 1008


class HeaderLookup(Protocol):
    """Case-insensitive request headers (`websockets.datastructures.Headers` is one)."""

    def get_all(self, key: str) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Denial:
    """Why a request is refused: the HTTP status to answer (401/403) and a reason."""

    status: int
    code: str  # "unauthorized" | "forbidden_origin"
    reason: str


UNAUTHORIZED = Denial(401, "unauthorized", "missing or wrong auth token")


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP literals; False for wildcards and names."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def shown_host(host: str) -> str:
    """The bind host as a URL shows it: wildcard binds as 127.0.0.1, IPv6 in brackets."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        return "127.0.0.1"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def base_url(host: str, port: int) -> str:
    """The URL people open for a gateway bound to `host`:`port`."""
    return f"http://{shown_host(host)}:{port}/"


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind without a token, and any token too short to be secret."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise SettingsError(
            f"the auth token must be at least {MIN_TOKEN_LENGTH} characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    if not is_loopback_host(host) and token is None:
        raise SettingsError(
            f"refusing to listen on {host} without an auth token: set the token "
            "(environment variable preferred) or listen on 127.0.0.1"
        )


def own_origins(host: str, port: int) -> frozenset[str]:
    """The origins a page served by this server itself has."""
    origins = {f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://[::1]:{port}"}
    name = host.strip().lower()
    wildcard = name in ("", "0.0.0.0", "::", "[::]")
    if not wildcard and not is_loopback_host(name):
        shown = f"[{name}]" if ":" in name and not name.startswith("[") else name
        origins.add(f"http://{shown}:{port}")
    return frozenset(origins)


class AccessPolicy:
    """The token and Origin rules of one listening gateway."""

    def __init__(
        self,
        *,
        token: str | None = None,
        allowed_origins: Iterable[str] = (),
        public_paths: Iterable[str] = ("/health",),
    ) -> None:
        self._token = token.encode() if token is not None else None
        self._extra = frozenset(o.lower().rstrip("/") for o in allowed_origins)
        self._origins = self._extra
        self.public_paths = frozenset(public_paths)

    @property
    def requires_token(self) -> bool:
        return self._token is not None

    def listening_on(self, host: str, port: int) -> None:
        """Learn the bound address (known only after binding port 0): adds own origins."""
        self._origins = self._extra | own_origins(host, port)

    def allowed_origins(self) -> frozenset[str]:
        """Every Origin value accepted (besides no Origin at all)."""
        return self._origins

    def handshake_origins(self) -> LiveOrigins:
        """A live sequence for `ServerSettings.origins` (None = no Origin header), so the
        handshake itself answers 403 to a foreign Origin, with the port learnt later."""
        return LiveOrigins(self)

    def token_ok(self, headers: HeaderLookup, query: Mapping[str, str]) -> bool:
        """True without a configured token, or when the request carries the right one."""
        expected = self._token
        if expected is None:
            return True
        offered = _bearer(headers)
        if offered is None:
            offered = query.get("token")
        if offered is None:
            return False
        return hmac.compare_digest(offered.encode(), expected)

    def origin_ok(self, headers: HeaderLookup) -> bool:
        """No Origin (not a browser), or exactly one allowed Origin."""
        values = headers.get_all("Origin")
        if not values:
            return True
        if len(values) > 1:
            return False
        return values[0].strip().lower().rstrip("/") in self._origins

    def check_http(
        self, path: str, headers: HeaderLookup, query: Mapping[str, str]
    ) -> Denial | None:
        """A plain HTTP request: public paths pass, the rest need the token."""
        if path in self.public_paths or self.token_ok(headers, query):
            return None
        return UNAUTHORIZED

    def check_upgrade(self, headers: HeaderLookup, query: Mapping[str, str]) -> Denial | None:
        """A WebSocket handshake: the Origin first (403), then the token (401)."""
        if not self.origin_ok(headers):
            origin = ",".join(headers.get_all("Origin"))[:200]
            return Denial(403, "forbidden_origin", f"origin {origin} is not allowed")
        if not self.token_ok(headers, query):
            return UNAUTHORIZED
        return None


def _bearer(headers: HeaderLookup) -> str | None:
    for value in headers.get_all("Authorization"):
        scheme, _, credentials = value.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return None


class LiveOrigins(Sequence[str | None]):
    """The policy's current allowed origins plus None, read at each handshake."""

    def __init__(self, policy: AccessPolicy) -> None:
        self._policy = policy

    def _items(self) -> list[str | None]:
        return [None, *sorted(self._policy.allowed_origins())]

    def __len__(self) -> int:
        return len(self._items())

    def __getitem__(self, index: int) -> str | None:  # type: ignore[override]
        return self._items()[index]

    def __iter__(self) -> Iterator[str | None]:
        return iter(self._items())

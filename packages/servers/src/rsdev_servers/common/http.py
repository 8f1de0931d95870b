"""The plain-HTTP part every gateway answers the same way on its WebSocket port.

`GatewayHttp(gateway, policy, realm=…)` answers, before a gateway's own paths:

- anything but GET/HEAD → 405 with `Allow: GET, HEAD`;
- a request the `AccessPolicy` refuses (every path but the public ones, e.g. `/health`,
  without the token) → 401 JSON with `WWW-Authenticate: Bearer realm=REALM`, unless the
  path starts with one of `public_prefixes` (static code that holds no data);
- `GET /health` → the gateway's `health()` as JSON; `GET /metrics` → Prometheus text.

`answer(request)` returns None for every other path: the gateway's own routing follows.
`denial_response` is also the body of a refused WebSocket handshake (`SessionHub`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

from prometheus_client import CONTENT_TYPE_LATEST

from lib_common.net import HttpRequest, HttpResponse
from rsdev_servers.common.security import AccessPolicy, Denial

__all__ = ["NO_STORE", "GatewayHttp", "HealthAndMetrics", "denial_response", "not_found"]

NO_STORE: Final = ("Cache-Control", "no-store")


class HealthAndMetrics(Protocol):
    """What the shared endpoints read from the running gateway."""

    def health(self) -> Mapping[str, Any]: ...

    def metrics_body(self) -> bytes: ...


def denial_response(
    denial: Denial, realm: str, headers: Iterable[tuple[str, str]] = ()
) -> HttpResponse:
    """A refused request as JSON; a 401 carries the Bearer challenge of `realm`."""
    challenge = [("WWW-Authenticate", f'Bearer realm="{realm}"')] if denial.status == 401 else []
    return HttpResponse.json(
        {"error": denial.code, "message": denial.reason},
        status=denial.status,
        headers=[*challenge, *headers],
    )


def not_found(path: str) -> HttpResponse:
    """404 naming the path."""
    return HttpResponse.json({"error": f"no such endpoint: {path}"}, status=404)


class GatewayHttp:
    """Methods, the token, `/health` and `/metrics` (see the module docstring)."""

    def __init__(
        self,
        gateway: HealthAndMetrics,
        policy: AccessPolicy,
        *,
        realm: str,
        public_prefixes: tuple[str, ...] = (),
    ) -> None:
        self._gateway = gateway
        self._policy = policy
        self._realm = realm
        self._public_prefixes = public_prefixes

    def answer(self, request: HttpRequest) -> HttpResponse | None:
        """The shared answer to `request`, or None: a path for the gateway's own routes."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponse.json(
                {"error": "method not allowed"}, status=405, headers=[("Allow", "GET, HEAD")]
            )
        path = request.path
        denial = self._policy.check_http(path, request.headers, request.query)
        if denial is not None and not path.startswith(self._public_prefixes):
            return denial_response(denial, self._realm, [NO_STORE])
        if path == "/health":
            return HttpResponse.json(self._gateway.health(), headers=[NO_STORE])
        if path == "/metrics":
            return HttpResponse(
                200,
                (("Content-Type", CONTENT_TYPE_LATEST), NO_STORE),
                self._gateway.metrics_body(),
            )
        return None

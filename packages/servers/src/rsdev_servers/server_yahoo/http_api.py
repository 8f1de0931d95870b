"""server-yahoo's plain HTTP endpoints, on the WebSocket port.

| path | what |
|---|---|
| `GET /health` | JSON health; never needs the token (for monitors and load balancers) |
| `GET /metrics` | Prometheus text exposition |
| `GET /` (no upgrade) | a short text page naming the endpoints |

With an auth token configured every path but `/health` needs it (401). Only GET and HEAD
exist (405). WebSocket upgrades on `/` never reach this handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

from lib_common.net import HttpRequest, HttpResponse
from rsdev_servers.common.security import AccessPolicy
from rsdev_servers.server_yahoo.metrics import CONTENT_TYPE_LATEST

__all__ = ["GatewayView", "HttpApi"]

_NO_STORE: Final = ("Cache-Control", "no-store")
_INDEX: Final = """server-yahoo: a Yahoo Finance streaming endpoint
  ws://{host}/?version=2   JSON envelope frames {{"type":"pricing","message":"<base64>"}}
  ws://{host}/             legacy frames (bare base64)
  send {{"subscribe":["AAPL","BTC-USD"]}} / {{"unsubscribe":["AAPL"]}}; no replies
  GET /health  GET /metrics
"""


class GatewayView(Protocol):
    """What the endpoints read from the running gateway."""

    def health(self) -> Mapping[str, Any]: ...

    def metrics_body(self) -> bytes: ...


class HttpApi:
    """The `http_handler` of server-yahoo's server."""

    def __init__(self, gateway: GatewayView, policy: AccessPolicy) -> None:
        self._gateway = gateway
        self._policy = policy

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponse.json(
                {"error": "method not allowed"}, status=405, headers=[("Allow", "GET, HEAD")]
            )
        path = request.path
        denial = self._policy.check_http(path, request.headers, request.query)
        if denial is not None:
            return HttpResponse.json(
                {"error": denial.code, "message": denial.reason},
                status=denial.status,
                headers=[("WWW-Authenticate", 'Bearer realm="server-yahoo"'), _NO_STORE],
            )
        if path == "/health":
            return HttpResponse.json(self._gateway.health(), headers=[_NO_STORE])
        if path == "/metrics":
            return HttpResponse(
                200,
                (("Content-Type", CONTENT_TYPE_LATEST), _NO_STORE),
                self._gateway.metrics_body(),
            )
        if path == "/":
            host = request.headers.get("Host") or "HOST:PORT"
            return HttpResponse.text(_INDEX.format(host=host[:255]))
        return HttpResponse.json({"error": f"no such endpoint: {path}"}, status=404)

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

from typing import Final

from lib_common.net import HttpRequest, HttpResponse
from rsdev_servers.common.http import GatewayHttp, HealthAndMetrics, not_found
from rsdev_servers.common.security import AccessPolicy

__all__ = ["GatewayView", "HttpApi"]

_INDEX: Final = """server-yahoo: a Yahoo Finance streaming endpoint
  ws://{host}/?version=2   JSON envelope frames {{"type":"pricing","message":"<base64>"}}
  ws://{host}/             legacy frames (bare base64)
  send {{"subscribe":["AAPL","BTC-USD"]}} / {{"unsubscribe":["AAPL"]}}; no replies
  GET /health  GET /metrics
"""

GatewayView = HealthAndMetrics
"""What the endpoints read from the running gateway."""


class HttpApi:
    """The `http_handler` of server-yahoo's server."""

    def __init__(self, gateway: GatewayView, policy: AccessPolicy) -> None:
        self._shared = GatewayHttp(gateway, policy, realm="server-yahoo")

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        answer = self._shared.answer(request)
        if answer is not None:
            return answer
        if request.path == "/":
            host = request.headers.get("Host") or "HOST:PORT"
            return HttpResponse.text(_INDEX.format(host=host[:255]))
        return not_found(request.path)

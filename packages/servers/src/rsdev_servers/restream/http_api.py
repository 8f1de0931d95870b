"""restream's plain HTTP endpoints on the WebSocket port: routing, auth, static files.

| path | what |
|---|---|
| `GET /health` | JSON health; never needs the token (for load balancers and monitors) |
| `GET /metrics` | Prometheus text exposition |
| `GET /snapshot?symbols=A,B` | JSON last values (all followed symbols without `symbols`) |
| `GET /`, `GET /<file>` | the dashboard: `restream/dashboard/` package data, when installed |

Every path but `/health` and the dashboard's static code under `/assets/` (the same bytes
as in the wheel, no data; a page opened with `?token=` cannot pass the token on to its
scripts and styles) needs the auth token when one is configured (401 otherwise).
Dashboard files carry a strict Content-Security-Policy (same origin only, no inline code).
Only GET and HEAD exist (405 otherwise).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Final, Protocol

from lib_common.net import HttpRequest, HttpResponse
from rsdev_servers.common.http import NO_STORE, GatewayHttp, HealthAndMetrics, not_found
from rsdev_servers.common.security import AccessPolicy

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "DASHBOARD_PACKAGE",
    "PUBLIC_ASSETS",
    "GatewayView",
    "HttpApi",
    "dashboard_root",
]

DASHBOARD_PACKAGE: Final = "rsdev_servers.restream"
MAX_SNAPSHOT_SYMBOLS: Final = 1000
PUBLIC_ASSETS: Final = "/assets/"
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_STATIC_HEADERS: Final = (
    ("Cache-Control", "no-cache"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),  # the page URL may carry ?token=
)
_FALLBACK_PAGE: Final = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>restream</title></head>
<body><h1>restream</h1>
<p>The dashboard is not installed in this build. Endpoints on this port:</p>
<ul><li><code>ws://…/ws</code> — the quote feed (see docs/protocol.md)</li>
<li><a href="health">/health</a></li><li><a href="metrics">/metrics</a></li>
<li><a href="snapshot">/snapshot?symbols=AAPL,BTC-USD</a></li></ul></body></html>
"""


class GatewayView(HealthAndMetrics, Protocol):
    """What the HTTP endpoints read from the running gateway."""

    def snapshot(self, symbols: list[str] | None) -> Mapping[str, Any]: ...


def dashboard_root() -> Traversable | None:
    """The installed dashboard directory, if this build has one."""
    try:
        root = resources.files(DASHBOARD_PACKAGE) / "dashboard"
    except ModuleNotFoundError:
        return None
    return root if root.is_dir() else None


class HttpApi:
    """The `http_handler` of restream's server."""

    def __init__(
        self,
        gateway: GatewayView,
        policy: AccessPolicy,
        *,
        dashboard: Traversable | None = None,
    ) -> None:
        self._gateway = gateway
        self._dashboard = dashboard
        self._shared = GatewayHttp(
            gateway, policy, realm="restream", public_prefixes=(PUBLIC_ASSETS,)
        )

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        answer = self._shared.answer(request)
        if answer is not None:
            return answer
        path = request.path
        if path == "/snapshot":
            return self._snapshot(request)
        if path == "/ws":
            return HttpResponse.json(
                {"error": "this path is a WebSocket endpoint: connect with ws://"}, status=426,
                headers=[("Upgrade", "websocket")],
            )  # fmt: skip
        return self._static(path)

    def _snapshot(self, request: HttpRequest) -> HttpResponse:
        raw = request.query.get("symbols")
        symbols: list[str] | None = None
        if raw is not None:
            symbols = [s for s in (part.strip() for part in raw.split(",")) if s]
            if len(symbols) > MAX_SNAPSHOT_SYMBOLS:
                return HttpResponse.json(
                    {"error": f"at most {MAX_SNAPSHOT_SYMBOLS} symbols per request"}, status=400
                )
        return HttpResponse.json(self._gateway.snapshot(symbols), headers=[NO_STORE])

    def _static(self, path: str) -> HttpResponse:
        root = self._dashboard
        if root is None:
            if path == "/":
                return HttpResponse.text(_FALLBACK_PAGE, content_type="text/html; charset=utf-8")
            return not_found(path)
        relative = "index.html" if path == "/" else path.lstrip("/")
        parts = relative.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p for p in parts):
            return not_found(path)
        node: Traversable = root
        for part in parts:
            node = node / part
        if not node.is_file():
            return not_found(path)
        content_type = mimetypes.guess_type(parts[-1])[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript",):
            content_type += "; charset=utf-8"
        return HttpResponse(
            200, (("Content-Type", content_type), *_STATIC_HEADERS), node.read_bytes()
        )

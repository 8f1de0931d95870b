"""HTTP routing of restream: auth, methods, endpoints and the dashboard files hook."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from websockets.datastructures import Headers

from lib_common.net import HttpRequest
from rsdev_servers.common.security import AccessPolicy
from rsdev_servers.restream.http_api import HttpApi, dashboard_root

pytestmark = pytest.mark.anyio

TOKEN = "http-token-0123456789abc"


class View:
    def __init__(self) -> None:
        self.asked: list[list[str] | None] = []

    def health(self) -> Mapping[str, Any]:
        return {"status": "ok"}

    def metrics_body(self) -> bytes:
        return b"# metrics\n"

    def snapshot(self, symbols: list[str] | None) -> Mapping[str, Any]:
        self.asked.append(symbols)
        return {"quotes": {}}


def request(target: str, method: str = "GET", **headers: str) -> HttpRequest:
    return HttpRequest(method, target, Headers(headers))


async def test_endpoints_without_token() -> None:
    """Health, metrics, snapshot (symbols split and trimmed), 404, 405, 426 on /ws."""
    view = View()
    api = HttpApi(view, AccessPolicy())
    health = await api(request("/health"))
    assert (health.status, json.loads(health.body)) == (200, {"status": "ok"})
    metrics = await api(request("/metrics"))
    assert metrics.body == b"# metrics\n"
    assert dict(metrics.headers)["Content-Type"].startswith("text/plain")
    await api(request("/snapshot?symbols=AAPL,%20MSFT,,"))
    await api(request("/snapshot"))
    assert view.asked == [["AAPL", "MSFT"], None]
    too_many = await api(request("/snapshot?symbols=" + ",".join(["A"] * 1001)))
    assert too_many.status == 400
    assert (await api(request("/nope"))).status == 404
    assert (await api(request("/health", method="POST"))).status == 405
    assert (await api(request("/ws"))).status == 426


async def test_token_required_except_health() -> None:
    """With a token, every path but /health answers 401 unless the token comes along."""
    api = HttpApi(View(), AccessPolicy(token=TOKEN))
    assert (await api(request("/health"))).status == 200
    denied = await api(request("/metrics"))
    assert denied.status == 401
    assert "Bearer" in dict(denied.headers)["WWW-Authenticate"]
    assert (await api(request(f"/metrics?token={TOKEN}"))).status == 200
    assert (await api(request("/snapshot", Authorization=f"Bearer {TOKEN}"))).status == 200
    assert (await api(request("/"))).status == 401


async def test_fallback_page_without_dashboard() -> None:
    """Without an installed dashboard, / is a small page listing the endpoints."""
    page = await HttpApi(View(), AccessPolicy(), dashboard=None)(request("/"))
    assert page.status == 200
    assert b"/health" in page.body


async def test_dashboard_files(tmp_path: Path) -> None:
    """Files of the dashboard directory are served; index.html at /; no escaping it."""
    (tmp_path / "index.html").write_text("<h1>dash</h1>")
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.js").write_text("console.log(1)")
    (tmp_path / ".secret").write_text("no")
    (tmp_path.parent / "outside.txt").write_text("no")
    api = HttpApi(View(), AccessPolicy(), dashboard=tmp_path)
    index = await api(request("/"))
    assert (index.status, index.body) == (200, b"<h1>dash</h1>")
    assert dict(index.headers)["Content-Type"] == "text/html; charset=utf-8"
    script = await api(request("/js/app.js"))
    assert script.status == 200
    assert "javascript" in dict(script.headers)["Content-Type"]
    for path in ("/../outside.txt", "/js/../../outside.txt", "/.secret", "/js/", "/missing"):
        assert (await api(request(path))).status == 404, path


def test_dashboard_root_absent_in_this_build() -> None:
    """Until the dashboard package data exists, there is no dashboard root."""
    root = dashboard_root()
    assert root is None or root.is_dir()

"""The dashboard at `GET /`: its HTTP headers, and the page itself in headless Chromium.

Chromium is driven over the Chrome DevTools Protocol on its own WebSocket (the `websockets`
client, no extra dependency, no browser download): the test types a symbol into the
page's symbol box, presses Enter, and watches the page's own feed move its price. The
page may load nothing from anywhere but restream (its CSP says so; any violation, console
error or exception fails the test).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.abc import ByteReceiveStream, TaskGroup
from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import Headers

from lib_common.net import HttpRequest
from rsdev_servers.common.security import AccessPolicy
from rsdev_servers.restream.http_api import HttpApi, dashboard_root

from ..conftest import RestreamProcess, clean_env

pytestmark = pytest.mark.anyio

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--mute-audio",
    "--window-size=1280,860",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
DEVTOOLS_LINE = re.compile(rb"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)")
START_TIMEOUT = 30.0
PAGE_TIMEOUT = 20.0
TOKEN = "dashboard-token-0123456789"


def chromium_path() -> str:
    """The system Chromium; skipped locally when it is missing, a failure in CI."""
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI installs the Debian package)")
        pytest.skip("chromium is not installed")
    return path


# -- the HTTP side -------------------------------------------------------------------------


class _View:
    def health(self) -> dict[str, Any]:
        return {"status": "ok"}

    def metrics_body(self) -> bytes:
        return b""

    def snapshot(self, symbols: list[str] | None) -> dict[str, Any]:
        return {}


def _get(target: str) -> HttpRequest:
    return HttpRequest("GET", target, Headers())


async def test_dashboard_files_are_package_data_with_strict_headers() -> None:
    """The installed dashboard serves index.html at / and its assets with the right types,
    no-cache, a same-origin-only CSP, nosniff and no-referrer."""
    root = dashboard_root()
    assert root is not None, "the dashboard must ship inside the package"
    api = HttpApi(_View(), AccessPolicy(), dashboard=root)
    expected = {
        "/": "text/html; charset=utf-8",
        "/assets/app.js": "javascript",
        "/assets/style.css": "text/css; charset=utf-8",
        "/assets/favicon.svg": "image/svg+xml",
    }
    for path, content_type in expected.items():
        response = await api(_get(path))
        headers = dict(response.headers)
        assert response.status == 200, path
        assert content_type in headers["Content-Type"], path
        assert headers["Cache-Control"] == "no-cache"
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "connect-src 'self'" in csp
        assert "unsafe" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    page = (await api(_get("/"))).body.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "nothing may load from elsewhere"
    assert "<script>" not in page, "no inline script (CSP)"
    assert "style=" not in page, "no inline style (CSP)"


async def test_token_guards_the_page_but_not_its_static_assets() -> None:
    """With a token, / needs it (401 without); /assets/* (code, no data) does not, so a
    page opened with ?token= can load its scripts; a missing asset is still 404."""
    api = HttpApi(_View(), AccessPolicy(token=TOKEN), dashboard=dashboard_root())
    assert (await api(_get("/"))).status == 401
    assert (await api(_get(f"/?token={TOKEN}"))).status == 200
    assert (await api(_get("/assets/app.js"))).status == 200
    assert (await api(_get("/assets/nope.js"))).status == 404
    assert (await api(_get("/snapshot"))).status == 401


# -- Chromium over the DevTools Protocol -------------------------------------------------


class DevTools:
    """A minimal CDP client: commands with ids, one flattened page session, events kept."""

    def __init__(self, ws: ClientConnection, tg: TaskGroup) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, Any] = {}
        self.session: str | None = None
        self.problems: list[str] = []  # console errors, exceptions, CSP violations
        tg.start_soon(self._read)

    async def _read(self) -> None:
        async for raw in self._ws:
            message = json.loads(raw)
            if "id" in message:
                sender = self._waiting.pop(message["id"], None)
                if sender is not None:
                    sender.send_nowait(message)
                continue
            self._event(message.get("method", ""), message.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.problems.append(f"exception: {details.get('exception', {}).get('description')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.problems.append(f"console.error: {params.get('args')}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                self.problems.append(f"log: {entry.get('text')} {entry.get('url', '')}")

    async def send(self, method: str, page: bool = True, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if page and self.session is not None:
            message["sessionId"] = self.session
        sender, receiver = anyio.create_memory_object_stream[dict[str, Any]](1)
        self._waiting[number] = sender
        await self._ws.send(json.dumps(message))
        with anyio.fail_after(PAGE_TIMEOUT):
            reply = await receiver.receive()
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, expression: str, within: float = PAGE_TIMEOUT) -> Any:
        """Evaluate `expression` every 50 ms until it is truthy; its value."""
        with anyio.fail_after(within):
            while True:
                value = await self.evaluate(expression)
                if value:
                    return value
                await anyio.sleep(0.05)

    async def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                text="\r" if kind == "keyDown" else "",
            )


class ChromiumLog:
    """Chromium's stderr, drained into a file; `url` once it announces DevTools."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url: str | None = None
        self.announced = anyio.Event()

    async def drain(self, stream: ByteReceiveStream) -> None:
        seen = b""
        with self.path.open("wb") as file:
            async for chunk in stream:
                file.write(chunk)
                file.flush()
                if self.url is None:
                    seen += chunk
                    match = DEVTOOLS_LINE.search(seen)
                    if match:
                        self.url = match.group(1).decode()
                        self.announced.set()
        self.announced.set()  # exited without announcing


@asynccontextmanager
async def chromium(tmp_path: Path) -> AsyncIterator[DevTools]:
    """Headless Chromium with a fresh profile, attached to one blank page."""
    command = [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    log = ChromiumLog(tmp_path / "chromium.log")
    process = await anyio.open_process(
        [*command, "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        async with anyio.create_task_group() as tg:
            assert process.stderr is not None
            tg.start_soon(log.drain, process.stderr)
            with anyio.fail_after(START_TIMEOUT):
                await log.announced.wait()
            if log.url is None:
                raise AssertionError(f"chromium did not start:\n{log.path.read_text()[-3000:]}")
            async with connect(log.url, max_size=64 * 1024 * 1024) as ws:
                devtools = DevTools(ws, tg)
                target = await devtools.send("Target.createTarget", page=False, url="about:blank")
                attached = await devtools.send(
                    "Target.attachToTarget", page=False, targetId=target["targetId"], flatten=True
                )
                devtools.session = attached["sessionId"]
                for domain in ("Page", "Runtime", "Log"):
                    await devtools.send(f"{domain}.enable")
                try:
                    yield devtools
                finally:
                    with suppress(Exception):
                        await devtools.send("Browser.close", page=False)
                    tg.cancel_scope.cancel()
    finally:
        with anyio.move_on_after(10, shield=True):
            await process.wait()
        if process.returncode is None:
            process.kill()
        with anyio.CancelScope(shield=True):
            await process.aclose()  # waits, and closes the pipes and the transport


PRICE = "document.querySelector('tr[data-symbol=\"BTC-USD\"] td.price')?.textContent"


@pytest.mark.slow
async def test_page_subscribes_through_its_own_feed_and_shows_live_prices(
    tmp_path: Path, start_restream: Callable[..., RestreamProcess]
) -> None:
    """Headless Chromium on a restream with an auth token: the page opened with `?token=`
    loads its assets and connects (token passed on, origin accepted); the symbol typed into
    the box subscribes through the page's WebSocket and its price changes; the Fear & Greed
    gauge, the latency percentiles and the upstream card fill in; nothing is blocked by the
    CSP and nothing throws. A screenshot is kept in the test's tmp_path."""
    chromium_path()
    started: list[RestreamProcess] = []
    ready = anyio.Event()

    async def start() -> None:
        env = clean_env(RESTREAM_AUTH_TOKEN=TOKEN)
        started.append(await anyio.to_thread.run_sync(lambda: start_restream("--demo", env=env)))
        ready.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(start)  # restream starts while Chromium boots
        async with chromium(tmp_path) as page:
            with anyio.fail_after(PAGE_TIMEOUT):
                await ready.wait()
            await _exercise(page, started[0], tmp_path)


async def _exercise(page: DevTools, restream: RestreamProcess, tmp_path: Path) -> None:
    """The steps of the browser test, on a running page and restream."""
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(restream.url)).status_code == 401
    await page.send("Page.navigate", url=f"{restream.url}?token={TOKEN}")
    await page.until("document.querySelector('#conn-state')?.dataset.state === 'open'")
    await page.evaluate("document.querySelector('#symbol-input').focus()")
    await page.send("Input.insertText", text="btc-usd")
    await page.press_enter()
    assert await page.evaluate("document.querySelector('#symbol-input').value") == ""
    first = await page.until(f"{PRICE} !== '…' && {PRICE}")
    changed = await page.until(f"{PRICE} !== {json.dumps(first)} && {PRICE}")
    assert re.fullmatch(r"[\d,.]+", changed), changed
    direction = await page.evaluate(
        "document.querySelector('tr[data-symbol=\"BTC-USD\"]').dataset.dir"
    )
    assert direction in ("up", "down")
    score = await page.until(
        "/^\\d+$/.test(document.querySelector('#fg-score').textContent)"
        " && document.querySelector('#fg-score').textContent"
    )
    assert 0 <= int(score) <= 100
    assert await page.evaluate("document.querySelector('#fg-rating').textContent") != ""
    await page.until("document.querySelector('#lat-proc-p50').textContent !== '—'", 5)
    await page.until("document.querySelector('#health').dataset.status === 'ok'")
    async with httpx.AsyncClient(timeout=5) as http:
        health = (await http.get(restream.url + "health")).json()  # public
    assert health["clients"]["total"] >= 1
    assert await page.evaluate("document.querySelector('#mode b').textContent") == "streaming"
    shot = await page.send("Page.captureScreenshot", format="png")
    (tmp_path / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))
    assert page.problems == []

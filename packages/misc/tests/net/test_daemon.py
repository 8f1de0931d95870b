"""The real monitor-net console script: SIGKILL while DOWN, restart, the outage continues."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from anyio.abc import ByteReceiveStream, Process

pytestmark = pytest.mark.anyio

SCRIPT = str(Path(sys.executable).with_name("monitor-net"))
DEADLINE_S = 15.0  # per awaited log line; generous for a loaded 2-core machine


class JsonLines:
    """JSON log records from a process's stderr, awaited with a deadline."""

    def __init__(self, stream: ByteReceiveStream) -> None:
        self._stream = stream
        self._buf = b""
        self.seen: list[str] = []
        self.metrics_url = ""

    async def _line(self) -> str:
        while b"\n" not in self._buf:
            self._buf += await self._stream.receive()
        line, _, self._buf = self._buf.partition(b"\n")
        text = line.decode(errors="replace")
        self.seen.append(text)
        return text

    async def wait_for(self, pred: Callable[[dict[str, Any]], bool]) -> dict:
        with anyio.fail_after(DEADLINE_S):
            while True:
                try:
                    record = json.loads(await self._line())
                except ValueError:
                    continue
                if isinstance(record, dict) and pred(record):
                    return record


def alert(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: r.get("alert") is True and text in r["message"]


async def start(address: str, tmp_path: Path, *extra: str) -> tuple[Process, JsonLines]:
    argv = [
        SCRIPT, "--target", address, "--interval", "0.05", "--timeout", "0.5",
        "--fail-after", "2", "--recover-after", "2", "--no-sound", "--log-json",
        "--state-file", str(tmp_path / "state.json"),
        "--outage-log", str(tmp_path / "outages.jsonl"), *extra,
    ]  # fmt: skip
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "SDL_AUDIODRIVER": "dummy"}
    process = await anyio.open_process(argv, env=env)
    assert process.stderr is not None
    lines = JsonLines(process.stderr)
    if "--metrics-port" in extra:
        served = await lines.wait_for(lambda r: r["message"].startswith("metrics on "))
        lines.metrics_url = served["message"].removeprefix("metrics on ")
    await lines.wait_for(lambda r: r["message"].startswith("watching "))
    return process, lines


@pytest.mark.slow
async def test_sigkill_while_down_then_restart_continues_outage(listeners, tmp_path) -> None:
    """Killed while DOWN, the restarted daemon continues the outage from its original start."""
    (listener,) = await listeners(1)
    first, lines = await start(listener.address, tmp_path)
    try:
        await listener.stop()
        down = await lines.wait_for(alert("is DOWN since"))
        start_utc = down["extra"]["start_utc"]
    finally:
        first.kill()  # SIGKILL: no chance to save anything more
        await first.wait()
    saved = json.loads((tmp_path / "state.json").read_text())
    assert (saved["state"], saved["outage"]["start_utc"]) == ("DOWN", start_utc)

    second, lines = await start(listener.address, tmp_path)
    try:
        continued = await lines.wait_for(alert("continues after a restart"))
        assert continued["extra"]["start_utc"] == start_utc
        await listener.start()
        up = await lines.wait_for(alert("is UP again"))
        assert up["extra"]["start_utc"] == start_utc
        second.send_signal(signal.SIGTERM)
        stopped = await lines.wait_for(lambda r: r["message"].startswith("stopped:"))
        assert "1 outage(s)" in stopped["message"]
        with anyio.fail_after(10):
            assert await second.wait() == 0
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
    (entry,) = [json.loads(x) for x in (tmp_path / "outages.jsonl").read_text().splitlines()]
    assert (entry["kind"], entry["start"], entry["continued_after_restart"]) == (
        "offline",
        start_utc,
        True,
    )
    assert entry["duration_s"] == pytest.approx(up["extra"]["duration_s"], abs=0.01)
    assert json.loads((tmp_path / "state.json").read_text())["outage"] is None


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


@pytest.mark.slow
async def test_metrics_then_sigint_exits_0_with_summary(listeners, tmp_path) -> None:
    """The daemon serves its metrics; SIGINT stops it: exit 0, summary logged, state saved."""
    (listener,) = await listeners(1)
    process, lines = await start(listener.address, tmp_path, "--metrics-port", "0")
    try:
        port = int(lines.metrics_url.rsplit(":", 1)[1].split("/")[0])
        text = await anyio.to_thread.run_sync(scrape, port)
        assert (
            f'rsdev_monitor_up{{target="net[tcp {listener.address}]",tool="monitor-net"}} 1.0'
            in text
        )
        process.send_signal(signal.SIGINT)
        summary = await lines.wait_for(lambda r: r["message"].startswith("outage summary:"))
        assert summary["message"] == "outage summary: offline: none; degraded: none"
        with anyio.fail_after(10):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert json.loads((tmp_path / "state.json").read_text())["state"] == "UP"


@pytest.mark.slow
async def test_speak_to_dir_speaks_the_down_alert(listeners, tmp_path) -> None:
    """--speak-to-dir: the DOWN alert goes through the speech sink into a WAV file."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is missing (CI installs it)")
        pytest.skip("espeak-ng is not installed")
    (listener,) = await listeners(1)
    voice = tmp_path / "voice"
    process, lines = await start(listener.address, tmp_path, "--speak-to-dir", str(voice))
    try:
        await listener.stop()
        await lines.wait_for(alert("is DOWN since"))
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(DEADLINE_S):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    wavs = sorted(voice.glob("alert-*.wav"))
    assert wavs
    assert wavs[0].read_bytes()[:4] == b"RIFF"

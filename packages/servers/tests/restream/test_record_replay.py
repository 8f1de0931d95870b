"""`--record` / `--replay`: the file format, the recorder, the replay server, and the round
trip through real restream processes."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from websockets.asyncio.client import ClientConnection, connect

from lib_common.ingestors.yahoo.codec import Skip, decode_frame, encode_pricing, envelope_frame
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.common.settings import SettingsError
from rsdev_servers.restream.recording import (
    RecordedFrame,
    RecordingError,
    RunStart,
    check_record_path,
    check_recording,
    encode_frame_line,
    encode_header_line,
    open_recorder,
    parse_line,
    read_recording,
)
from rsdev_servers.restream.replay import Playback, run_replay

from ..conftest import RestreamProcess, clean_env, is_type, open_client, send_json, wait_for

pytestmark = pytest.mark.anyio

DEADLINE = 10.0


def pricing(symbol: str, price: float, ms: int) -> str:
    """A `version=2` envelope frame for one quote."""
    quote = Quote(symbol=symbol, price=price, ts_upstream=ms * 1000, ts_library_in=0)
    return envelope_frame(encode_pricing(quote))


def write_recording(path: Path, runs: list[list[tuple[int, str | bytes]]]) -> None:
    """A recording file as the recorder writes it: one gzip member per run."""
    with path.open("ab") as file:
        for run in runs:
            lines = encode_header_line(run[0][0] if run else 0, "ws://127.0.0.1:1/?version=2")
            lines += "".join(encode_frame_line(t, frame) for t, frame in run)
            file.write(gzip.compress(lines.encode()))


# -- the format ------------------------------------------------------------------------


def test_lines_round_trip_text_binary_and_header() -> None:
    """Text frames (quotes, escapes, non-ASCII) and binary frames come back identical."""
    for frame in ['{"type":"pricing","message":"CgRBQVBM"}', 'x"\\\n\u00e9', b"\x00\xff{"]:
        assert RecordedFrame(17, frame) == parse_line(encode_frame_line(17, frame))
    header = parse_line(encode_header_line(5, "wss://example.invalid/"))
    assert RunStart(5, "wss://example.invalid/") == header


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        '{"t": 1}',
        '{"t": "1", "text": "x"}',
        '{"t": 1, "binary": "***"}',
        '{"recording": "restream", "version": 99}',
        '{"something": "else"}',
    ],
)
def test_parse_line_refuses_what_is_not_a_recording_line(line: str) -> None:
    """Every malformed line is a RecordingError, never another exception."""
    with pytest.raises(RecordingError):
        parse_line(line)


async def test_recorder_appends_runs_that_read_back_in_order(tmp_path: Path) -> None:
    """Two runs appended to one file read back as header, frames, header, frames; the
    file is one valid gzip stream."""
    path = tmp_path / "rec.jsonl.gz"
    stamps = iter(range(100, 200))
    for frames in (["a", b"\x01\x02"], ["b"]):
        async with open_recorder(path, upstream="ws://up", clock_us=lambda: next(stamps)) as rec:
            for i, frame in enumerate(frames):
                rec.tap(1000 + i, frame)
        assert len(frames) == rec.frames
    items = list(read_recording(path))
    assert [
        RunStart(100, "ws://up"),
        RecordedFrame(1000, "a"),
        RecordedFrame(1001, b"\x01\x02"),
        RunStart(101, "ws://up"),
        RecordedFrame(1000, "b"),
    ] == items
    assert len(gzip.decompress(path.read_bytes()).splitlines()) == 5


async def test_recorder_flushes_while_running(tmp_path: Path) -> None:
    """Frames reach the file within the flush interval, as complete gzip members, while
    the recorder is still open (a crash loses at most one interval)."""
    path = tmp_path / "rec.gz"
    async with open_recorder(path, upstream="ws://up", flush_interval=0.01) as rec:
        rec.tap(1, "first")
        with anyio.fail_after(DEADLINE):
            while True:  # the flusher signals nothing: look every few ms
                await anyio.sleep(0.005)
                if rec.written_bytes:
                    break
        assert [RecordedFrame(1, "first")] == list(read_recording(path))[1:]


async def test_recorder_drops_frames_beyond_its_pending_bound(tmp_path: Path) -> None:
    """With `max_pending` bytes waiting, further frames are counted as dropped."""
    path = tmp_path / "rec.gz"
    async with open_recorder(path, upstream="ws://up", max_pending=300) as rec:
        for i in range(50):
            rec.tap(i, "x" * 20)
    assert rec.dropped > 0
    assert rec.frames + rec.dropped == 50
    assert rec.frames == len(list(read_recording(path))) - 1


def test_reader_stops_at_a_cut_off_member(tmp_path: Path) -> None:
    """A last member cut off mid-write (a crash) ends the reading after the whole ones."""
    path = tmp_path / "rec.gz"
    write_recording(path, [[(1, "a"), (2, "b")]])
    whole = path.stat().st_size
    write_recording(path, [[(3, "c" * 5000)]])
    with path.open("r+b") as file:
        file.truncate(whole + 40)
    assert [RecordedFrame(1, "a"), RecordedFrame(2, "b")] == list(read_recording(path))[1:]


def test_reader_skips_unreadable_lines(tmp_path: Path) -> None:
    """A bad line in the middle is skipped; the frames around it are read."""
    path = tmp_path / "rec.gz"
    body = encode_header_line(0, "u") + encode_frame_line(1, "a") + "junk\n"
    path.write_bytes(gzip.compress((body + encode_frame_line(2, "b")).encode()))
    assert [RecordedFrame(1, "a"), RecordedFrame(2, "b")] == list(read_recording(path))[1:]


def test_check_recording_names_the_problem(tmp_path: Path) -> None:
    """A missing file, a non-gzip file and a gzip of something else are SettingsErrors."""
    with pytest.raises(SettingsError, match="no such file"):
        check_recording(tmp_path / "missing.gz")
    (tmp_path / "plain").write_text("hello\n")
    with pytest.raises(SettingsError, match="cannot read"):
        check_recording(tmp_path / "plain")
    (tmp_path / "other.gz").write_bytes(gzip.compress(b'{"t": 1, "text": "x"}\n'))
    with pytest.raises(SettingsError, match="not a restream recording"):
        check_recording(tmp_path / "other.gz")
    write_recording(tmp_path / "ok.gz", [[(7, "a")]])
    assert check_recording(tmp_path / "ok.gz").started == 7


def test_check_record_path_refuses_directories_and_missing_parents(tmp_path: Path) -> None:
    """A directory or a path under a missing directory is refused; a new file is fine."""
    with pytest.raises(SettingsError, match="is a directory"):
        check_record_path(tmp_path)
    with pytest.raises(SettingsError, match="no such directory"):
        check_record_path(tmp_path / "missing" / "rec.gz")
    check_record_path(tmp_path / "rec.gz")
    assert not (tmp_path / "rec.gz").exists()


# -- playback schedule (sans-I/O) --------------------------------------------------------


def test_playback_keeps_gaps_divided_by_speed_and_joins_runs() -> None:
    """Gaps are divided by the speed; a new run or a backwards time step continues from
    the previous frame's due time; speed 0 makes everything due at once."""
    playback = Playback(2.0)
    assert [playback.due(t) for t in (10_000_000, 11_000_000, 13_000_000)] == [0.0, 0.5, 1.5]
    playback.run_start()
    assert [playback.due(t) for t in (90_000_000, 91_000_000)] == [1.5, 2.0]
    assert [playback.due(t) for t in (50_000_000, 50_500_000)] == [2.0, 2.25]
    fast = Playback(0)
    assert [fast.due(t) for t in (1, 9_000_000)] == [0.0, 0.0]
    with pytest.raises(ValueError):
        Playback(-1)


# -- the replay server -------------------------------------------------------------------


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
        await anyio.lowlevel.checkpoint()


async def _frames(ws: ClientConnection, count: int) -> list[str | bytes]:
    with anyio.fail_after(DEADLINE):
        return [await ws.recv() for _ in range(count)]


async def test_replay_serves_subscribed_symbols_in_order_with_recorded_spacing(
    tmp_path: Path,
) -> None:
    """Playback starts at the subscribe; the client gets its symbol's frames and the
    garbage verbatim and in order, not other symbols; waits follow the spacing / speed."""
    path = tmp_path / "rec.gz"
    aapl = [pricing("AAPL", 100.0 + i, 1_000 + i) for i in range(3)]
    frames: list[tuple[int, str | bytes]] = [
        (10_000_000, aapl[0]),
        (10_500_000, pricing("MSFT", 400.0, 1_000)),
        (11_000_000, "garbage{"),
        (12_000_000, aapl[1]),
    ]
    write_recording(path, [frames, [(99_000_000, b"\x00binary"), (99_400_000, aapl[2])]])
    fake = FakeTime()
    replay = run_replay(path, speed=2.0, heartbeat=0, clock=fake.clock, sleep=fake.sleep)
    async with replay as rp, connect(rp.ws_url) as ws:
        await ws.send(json.dumps({"subscribe": ["AAPL"]}))
        received = await _frames(ws, 5)
        with anyio.fail_after(DEADLINE):
            await rp.finished.wait()
    assert [aapl[0], "garbage{", aapl[1], b"\x00binary", aapl[2]] == received
    # due: 0, 0.25 (MSFT, not sent), 0.5, 1.0, then run 2 at 1.0 and 1.2
    assert fake.sleeps == [0.25, 0.25, 0.5, 0.2]
    assert {k: rp.stats()[k] for k in ("frames_read", "frames_sent", "runs")} == {
        "frames_read": 6,
        "frames_sent": 5,
        "runs": 2,
    }


async def test_replay_sends_heartbeats_when_silent(tmp_path: Path) -> None:
    """After the last frame the server keeps the connection alive with Yahoo heartbeats.
    (A silence while the file is opened may bring one before the quote too.)"""
    path = tmp_path / "rec.gz"
    write_recording(path, [[(1, pricing("AAPL", 1.0, 1))]])
    async with run_replay(path, speed=0, heartbeat=0.05) as rp, connect(rp.ws_url) as ws:
        await ws.send(json.dumps({"subscribe": ["AAPL"]}))
        decoded = [decode_frame(frame, 0) for frame in await _frames(ws, 1)]
        while not isinstance(decoded[-1], Quote) and len(decoded) < 20:
            decoded += [decode_frame(frame, 0) for frame in await _frames(ws, 1)]
        decoded += [decode_frame(frame, 0) for frame in await _frames(ws, 2)]
    *before, quote, after_1, after_2 = decoded
    assert isinstance(quote, Quote)
    for beat in (*before, after_1, after_2):
        assert isinstance(beat, Skip)
        assert beat.kind == "heartbeat"


async def test_replay_answers_404_for_rest_and_cnn(tmp_path: Path) -> None:
    """A recording has no REST or CNN data: those endpoints say so with 404."""
    import httpx

    path = tmp_path / "rec.gz"
    write_recording(path, [[(1, "x")]])
    async with run_replay(path) as rp, httpx.AsyncClient(base_url=rp.base_url) as http:
        chart = await http.get("/v8/finance/chart/AAPL")
        cnn = await http.get("/index/fearandgreed/graphdata")
        stats = await http.get("/_replay/stats")
    assert (chart.status_code, cnn.status_code, stats.status_code) == (404, 404, 200)
    assert chart.json()["chart"]["error"]["code"] == "Not Found"
    assert stats.json()["started"] is False


# -- the console script ------------------------------------------------------------------


def _restream(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rsdev_servers.restream", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(),
        check=False,
    )


def test_bad_record_and_replay_files_exit_2_with_one_line(tmp_path: Path) -> None:
    """An unwritable --record path and a missing --replay file: exit 2, one stderr line
    naming the file, nothing on stdout."""
    unwritable = _restream("--demo", "--record", str(tmp_path / "no" / "such" / "dir.gz"))
    missing = _restream("--replay", str(tmp_path / "missing.gz"))
    for result, needle in (
        (unwritable, "--record: cannot write"),
        (missing, "--replay: no such file"),
    ):
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        assert [f"restream: error: {needle}"] == [line[: len(needle) + 17] for line in errors]


SYMBOLS = ["AAPL", "BTC-USD", "^GSPC"]


async def _collect(url: str, count: int) -> list[tuple[str, Any, int]]:
    """Subscribe SYMBOLS and return the first `count` quotes as (symbol, price, ts_upstream)."""
    out: list[tuple[str, Any, int]] = []
    async with await open_client(url) as ws:
        await send_json(ws, {"op": "subscribe", "symbols": SYMBOLS})
        while len(out) < count:
            quote = await wait_for(ws, is_type("quote"))
            out.append((quote["symbol"], quote["price"], quote["ts_upstream"]))
    return out


@pytest.mark.slow
async def test_record_then_replay_reproduces_the_same_quotes(
    tmp_path: Path, start_restream: Callable[..., RestreamProcess]
) -> None:
    """`restream --demo --record f` then `restream --replay f --speed 0`: a client
    subscribing the same symbols receives the same (symbol, price, ts_upstream) in order."""
    path = tmp_path / "session.jsonl.gz"
    recording = start_restream("--demo", "--record", str(path))
    recorded = await _collect(recording.ws_url, 15)
    assert recording.stop() == 0
    assert set(SYMBOLS) == {symbol for symbol, _, _ in recorded}

    replaying = start_restream("--replay", str(path), "--speed", "0")
    replayed = await _collect(replaying.ws_url, 15)
    assert recorded == replayed
    assert replaying.stop() == 0

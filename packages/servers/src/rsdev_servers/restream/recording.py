"""Upstream recordings (`restream --record FILE`): the file format, the recorder, the reader.

A recording is a **gzip file of JSON lines**, one line per upstream frame in the order
received, and one header line at the start of every run:

```
{"recording":"restream","version":1,"started":1795619158000000,"upstream":"wss://…"}
{"t":1795619158501234,"text":"{\\"type\\":\\"pricing\\",\\"message\\":\\"CgRBQVBM…\\"}"}
{"t":1795619158502001,"binary":"CgRBQVBMFQAAaEM…"}
```

`t` is the receipt time (µs since the epoch, the frame's `ts_library_in`); `text` is a
text frame exactly as received, `binary` a binary frame in base64. Garbage frames are
recorded too: the recording is the upstream as it was.

The recorder writes a **complete gzip member** per flush (every second, and at shutdown).
Concatenated members are one valid gzip stream, so `zcat FILE` reads it, appending runs to
the same file keeps it readable, and a crash loses at most the last second: every member
before it is whole. The reader stops, with a warning, at a damaged or cut-off member.

The recorder sits on the stream client's hot path (`tap` appends one line to a list);
compressing and writing happen in a worker thread, one flush at a time. If the disk
cannot keep up and `max_pending` bytes are waiting, further frames are counted as
dropped (logged) rather than buffered without bound.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import os
import time
import zlib
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import anyio
import anyio.to_thread
from loguru import logger

from rsdev_servers.common.settings import SettingsError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "RecordedFrame",
    "Recorder",
    "RecordingError",
    "RunStart",
    "check_record_path",
    "check_recording",
    "encode_frame_line",
    "encode_header_line",
    "open_recorder",
    "parse_line",
    "read_recording",
]

FORMAT_NAME: Final = "restream"
FORMAT_VERSION: Final = 1
FLUSH_INTERVAL: Final = 1.0  # seconds of frames a crash may lose
MAX_PENDING: Final = 64 * 1024 * 1024  # bytes of unwritten lines before frames are dropped
COMPRESS_LEVEL: Final = 6


def wall_clock_us() -> int:
    """Microseconds since the Unix epoch (the header's `started`)."""
    return time.time_ns() // 1000


class RecordingError(ValueError):
    """A line or a file that is not a restream recording."""


@dataclass(frozen=True, slots=True)
class RunStart:
    """The header line of one run of `restream --record`."""

    started: int  # µs since the epoch
    upstream: str


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One upstream frame and when it was received (µs since the epoch)."""

    t: int
    frame: str | bytes


# -- lines (pure) -------------------------------------------------------------------------


def encode_header_line(started: int, upstream: str) -> str:
    """The first line of a run."""
    header = {
        "recording": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "started": started,
        "upstream": upstream,
    }
    return json.dumps(header, separators=(",", ":")) + "\n"


def encode_frame_line(t: int, frame: str | bytes) -> str:
    """One frame's line: text frames verbatim, binary frames in base64."""
    if isinstance(frame, str):
        return f'{{"t":{t},"text":{json.dumps(frame)}}}\n'
    return f'{{"t":{t},"binary":"{base64.b64encode(frame).decode("ascii")}"}}\n'


def parse_line(line: str | bytes) -> RunStart | RecordedFrame:
    """A line back into a `RunStart` or a `RecordedFrame`; `RecordingError` if it is neither."""
    try:
        item = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordingError(f"not a JSON line: {exc}") from None
    if not isinstance(item, dict):
        raise RecordingError("not a JSON object")
    t = item.get("t")
    if isinstance(t, int) and not isinstance(t, bool):
        text = item.get("text")
        if isinstance(text, str):
            return RecordedFrame(t, text)
        binary = item.get("binary")
        if isinstance(binary, str):
            try:
                return RecordedFrame(t, base64.b64decode(binary, validate=True))
            except binascii.Error as exc:
                raise RecordingError(f"bad base64 in a binary frame: {exc}") from None
        raise RecordingError("a frame line needs `text` or `binary`")
    if item.get("recording") == FORMAT_NAME:
        version = item.get("version")
        if version != FORMAT_VERSION:
            raise RecordingError(f"recording format version {version!r} is not supported")
        started = item.get("started")
        upstream = item.get("upstream")
        return RunStart(
            started if isinstance(started, int) else 0,
            upstream if isinstance(upstream, str) else "",
        )
    raise RecordingError("neither a frame nor a header line")


# -- reading ------------------------------------------------------------------------------


def read_recording(
    path: str | os.PathLike[str],
) -> Generator[RunStart | RecordedFrame, None, None]:
    """Every header and frame of a recording, in file order.

    Lines that cannot be parsed are skipped (logged, at most ten times). A damaged or
    cut-off gzip member (a crash while writing) ends the iteration with a warning.
    """
    bad = 0
    count = 0
    with gzip.open(path, "rb") as stream:
        try:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    item = parse_line(line)
                except RecordingError as exc:
                    bad += 1
                    if bad <= 10:
                        logger.warning("recording {} line {}: skipped: {}", path, number, exc)
                    continue
                count += 1
                yield item
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            logger.warning(
                "recording {} is cut off or damaged after {} items ({}): replaying what came "
                "before",
                path,
                count,
                exc,
            )
    if bad:
        logger.warning("recording {}: {} unreadable lines skipped", path, bad)


def check_recording(path: str | os.PathLike[str]) -> RunStart:
    """The first header of a recording; `SettingsError` (one line) if it cannot be replayed."""
    try:
        with gzip.open(path, "rb") as stream:
            first = stream.readline()
    except FileNotFoundError:
        raise SettingsError(f"--replay: no such file: {path}") from None
    except OSError as exc:  # includes BadGzipFile
        raise SettingsError(f"--replay: cannot read {path}: {exc}") from None
    except (EOFError, zlib.error) as exc:
        raise SettingsError(f"--replay: {path} is damaged: {exc}") from None
    try:
        item = parse_line(first)
    except RecordingError as exc:
        raise SettingsError(f"--replay: {path} is not a restream recording ({exc})") from None
    if not isinstance(item, RunStart):
        raise SettingsError(f"--replay: {path} is not a restream recording (no header)")
    return item


# -- writing ------------------------------------------------------------------------------


class Recorder:
    """Appends upstream frames to a recording; get one from `open_recorder()`.

    `tap(received_us, frame)` is the stream client's `on_frame` hook.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        upstream: str,
        clock_us: Callable[[], int] = wall_clock_us,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._file = file
        self._max_pending = max_pending
        self._lines: list[str] = [encode_header_line(clock_us(), upstream)]
        self._pending = len(self._lines[0])
        self.frames = 0  # recorded (buffered or written)
        self.dropped = 0  # refused because `max_pending` bytes were waiting
        self.written_bytes = 0  # compressed bytes appended to the file
        self._dropped_logged = 0

    def tap(self, received_us: int, frame: str | bytes) -> None:
        """Record one frame (the hot path: never blocks, never raises)."""
        if self._pending >= self._max_pending:
            self.dropped += 1
            return
        line = encode_frame_line(received_us, frame)
        self._lines.append(line)
        self._pending += len(line)
        self.frames += 1

    def write_block(self, block: bytes) -> None:
        """Append a member and push it to the OS (in a worker thread: it may block)."""
        self._file.write(block)
        self._file.flush()
        self.written_bytes += len(block)

    async def flush(self) -> None:
        """Compress and append what is waiting; one flush at a time (the caller's job)."""
        if self.dropped > self._dropped_logged:
            logger.warning(
                "recording: {} frames dropped: the disk does not keep up",
                self.dropped - self._dropped_logged,
            )
            self._dropped_logged = self.dropped
        lines, self._lines, self._pending = self._lines, [], 0
        if not lines:
            return

        def compress_and_write() -> None:
            self.write_block(gzip.compress("".join(lines).encode(), COMPRESS_LEVEL, mtime=0))

        await anyio.to_thread.run_sync(compress_and_write)

    async def run_flusher(self, interval: float) -> None:
        """Flush every `interval` seconds until cancelled."""
        while True:
            await anyio.sleep(interval)
            await self.flush()


def check_record_path(path: str | os.PathLike[str]) -> None:
    """Fail early (`SettingsError`) when `path` cannot be appended to."""
    target = Path(path)
    if target.is_dir():
        raise SettingsError(f"--record: {target} is a directory")
    if target.exists():
        writable = os.access(target, os.W_OK)
    else:
        parent = target.parent
        if not parent.is_dir():
            raise SettingsError(f"--record: cannot write {target}: no such directory {parent}")
        writable = os.access(parent, os.W_OK)
    if not writable:
        raise SettingsError(f"--record: cannot write {target}: permission denied")


def _open_append(path: Path) -> IO[bytes]:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SettingsError(f"--record: cannot write {path}: {reason}") from None
    return os.fdopen(fd, "ab")


@asynccontextmanager
async def open_recorder(
    path: str | os.PathLike[str],
    *,
    upstream: str,
    flush_interval: float = FLUSH_INTERVAL,
    clock_us: Callable[[], int] = wall_clock_us,
    max_pending: int = MAX_PENDING,
) -> AsyncIterator[Recorder]:
    """A `Recorder` appending to `path`, flushed every `flush_interval` s and on exit.

    An unwritable path is a `SettingsError` (restream exits 2).
    """
    file = _open_append(Path(path))
    recorder = Recorder(file, upstream=upstream, clock_us=clock_us, max_pending=max_pending)
    logger.info("recording upstream frames to {}", path)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(recorder.run_flusher, flush_interval)
            try:
                yield recorder
            finally:
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await recorder.flush()
        file.close()
        logger.info(
            "recording {} closed: {} frames, {} bytes written{}",
            path,
            recorder.frames,
            recorder.written_bytes,
            f", {recorder.dropped} dropped" if recorder.dropped else "",
        )

"""The spoken-alert sink: error and alert records are read aloud, rate-limited, off-loop.

The loguru sink itself only decides and enqueues (a token bucket and a bounded queue), so a
logging call never waits for speech. One worker thread synthesizes and plays. Whatever is
missing — the engine, pygame, a sound card — is reported once and then only counted.
"""

from __future__ import annotations

import contextlib
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

from lib_common.logging.ratelimit import TokenBucket
from lib_common.logging.speakers import (
    EspeakNG,
    Playback,
    PlaybackUnavailable,
    PygamePlayback,
    Speaker,
    SpeechEngineMissing,
    SpeechError,
)

if TYPE_CHECKING:
    from loguru import Message, Record

__all__ = ["SpeechConfig", "SpeechSink", "SpeechStats"]

# The sink never speaks records of this package: its own warnings must not feed back into it.
_OWN_LOGGERS = "lib_common.logging"


@dataclass(frozen=True)
class SpeechConfig:
    """What to speak and how often. The defaults suit an operator's desk."""

    level: str | int = "ERROR"  # records at or above this level are spoken; alerts always are
    interval: float = 30.0  # seconds to earn one more spoken alert
    burst: int = 1  # alerts that may be spoken back to back
    queue_size: int = 8  # alerts waiting to be spoken; more are dropped and counted
    max_chars: int = 200  # longer messages are cut: speech is for the headline
    wav_dir: Path | None = None  # write alert-NNNNNN.wav files here instead of playing
    speaker: Speaker = field(default_factory=EspeakNG)
    playback: Playback = field(default_factory=PygamePlayback)
    clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class SpeechStats:
    """Counters of what happened to the alerts the sink was offered."""

    spoken: int = 0  # played aloud, or written to ``wav_dir``
    synthesized_only: int = 0  # synthesized but there was no way to play them
    rate_limited: int = 0
    queue_full: int = 0
    engine_missing: int = 0
    failed: int = 0


class SpeechSink:
    """A loguru sink (``logger.add(sink, filter=sink.wants)``) that speaks through a worker."""

    def __init__(self, config: SpeechConfig, *, app: str) -> None:
        self._config = config
        self._app = app
        level = config.level
        self.levelno: int = logger.level(level).no if isinstance(level, str) else level
        self._bucket = TokenBucket(config.interval, config.burst)
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=config.queue_size)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._counts = dict.fromkeys(SpeechStats.__dataclass_fields__, 0)
        self._engine_missing = False
        self._can_play = True
        self._seq = 0
        self._thread = threading.Thread(target=self._run, name=f"speech-{app}", daemon=True)
        self._thread.start()

    # -- called by loguru, on the logging thread: decide and enqueue, never wait ----------
    def wants(self, record: Record) -> bool:
        """The sink's filter: records at the level, or marked ``alert=True``, not our own."""
        if (record["name"] or "").startswith(_OWN_LOGGERS):
            return False
        return record["level"].no >= self.levelno or record["extra"].get("alert") is True

    def __call__(self, message: Message) -> None:
        if not self._bucket.allow(self._config.clock()):
            self._count("rate_limited")
            return
        text = self._text(message.record)
        with self._lock:
            try:
                self._queue.put_nowait(text)
            except queue.Full:
                self._counts["queue_full"] += 1
                return
            self._pending += 1

    def _text(self, record: Record) -> str:
        text = f"{self._app}. {record['message']}"
        if len(text) > self._config.max_chars:
            text = text[: self._config.max_chars].rsplit(" ", 1)[0]
        return text

    # -- observation and shutdown ---------------------------------------------------------
    @property
    def stats(self) -> SpeechStats:
        """A snapshot of the counters."""
        with self._lock:
            return SpeechStats(**self._counts)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued alert has been handled; False if ``timeout`` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Finish the queued alerts (within ``timeout``) and stop the worker."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)

    # -- the worker thread ----------------------------------------------------------------
    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _run(self) -> None:
        while (text := self._queue.get()) is not None:
            try:
                self._count(self._announce(text))
            except Exception:  # the worker must outlive any engine bug
                logger.exception("spoken alert failed unexpectedly")
                self._count("failed")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _announce(self, text: str) -> str:
        """Speak one alert; returns the name of the counter it lands in."""
        if self._engine_missing:
            return "engine_missing"
        try:
            if self._config.wav_dir is not None:
                self._seq += 1
                self._config.wav_dir.mkdir(parents=True, exist_ok=True)
                path = self._config.wav_dir / f"alert-{self._seq:06d}.wav"
                self._config.speaker.synthesize_to_wav(text, path)
                return "spoken"
            with tempfile.TemporaryDirectory(prefix="rsdev-speech-") as tmp:
                wav = Path(tmp) / "alert.wav"
                self._config.speaker.synthesize_to_wav(text, wav)
                if not self._can_play:
                    return "synthesized_only"
                self._config.playback.play_wav(wav)
                return "spoken"
        except SpeechEngineMissing as exc:
            self._engine_missing = True
            logger.warning("spoken alerts are off: no speech engine ({})", exc)
            return "engine_missing"
        except PlaybackUnavailable as exc:
            self._can_play = False
            logger.warning("spoken alerts are synthesized but not played: {}", exc)
            return "synthesized_only"
        except SpeechError as exc:
            logger.warning("spoken alert failed: {}", exc)
            return "failed"
